"""The in-memory description of a labelled data set, whatever its modality."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np


@dataclass
class Skipped:
    """A file that was not used, and why (listed in summaries, never silently dropped)."""

    path: str
    reason: str


@dataclass
class Dataset:
    """A labelled data set.

    ``inputs`` holds absolute image file paths (``modality='image'``), texts (``'text'``) or a
    2-D+ float array (``'array'``). ``y`` holds integer labels indexing ``classes`` (-1 when
    unknown). ``split`` is None, or an array of ``'train'``/``'val'``/``'test'`` per sample
    when the source defined its own split (e.g. ``train/`` and ``val/`` folders).
    """

    modality: Literal["image", "text", "array"]
    inputs: list | np.ndarray
    y: np.ndarray
    classes: list[str]
    source: str = ""
    split: np.ndarray | None = None
    skipped: list[Skipped] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, idx) -> Dataset:
        idx = np.asarray(idx)
        if isinstance(self.inputs, np.ndarray):
            inputs = self.inputs[idx]
        else:
            inputs = [self.inputs[i] for i in idx]
        split = None if self.split is None else self.split[idx]
        return replace(self, inputs=inputs, y=self.y[idx], split=split)

    @property
    def class_counts(self) -> np.ndarray:
        return np.bincount(self.y[self.y >= 0], minlength=len(self.classes))
