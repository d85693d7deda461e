"""The config record of one pretrained weight (timm's ``PretrainedCfg``, for transferkit)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal


@dataclass(frozen=True)
class BackboneConfig:
    """Everything needed to load a backbone and feed it data the way it was trained.

    ``num_blocks`` is the number of freezable block units (``partial`` freezes the first
    ``k`` of them, see :meth:`transferkit.zoo.Backbone.freeze_blocks`).
    """

    name: str
    architecture: str
    modality: Literal["image", "text"]
    source: str
    license: str
    feature_dim: int
    num_blocks: int
    pretrained_dataset: str = "imagenet-1k"
    num_classes: int = 1000
    # image preprocessing
    input_size: tuple[int, int, int] = (3, 224, 224)
    resize_size: int = 256
    interpolation: str = "bicubic"
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    # text preprocessing
    max_length: int = 256
    description: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def crop_size(self) -> int:
        return self.input_size[-1]

    def to_dict(self) -> dict:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, tuple):
                d[k] = list(v)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> BackboneConfig:
        known = {f for f in cls.__dataclass_fields__}
        kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in known}
        return cls(**kw)
