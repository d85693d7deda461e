"""Torch datasets and loaders over a :class:`transferkit.data.Dataset`, for a given backbone.

* images: file paths decoded with ``transferkit.data.read_image`` and preprocessed with the
  backbone's ``image_transform(cfg, train)`` (train: random resized crop + horizontal flip;
  eval: resize + centre crop), normalised as the weights expect.
* arrays (e.g. 8x8 digits, shape ``(n, h*w)``, ``(n, h, w)`` or ``(n, h, w, c)``): values are
  scaled to [0, 1] with the training data's min/max, grey images are repeated to 3 channels,
  resized (bilinear) to ``image_size`` (default: the backbone's input size) and normalised
  with the backbone's mean/std. Training augmentation for arrays is a mild random resized crop
  (scale 0.85-1, no flip, as flips change the meaning of digits and letters).
* texts: batches of strings tokenised by the backbone's ``tokenize``.

The preprocessing is described by a JSON-able dict (:func:`preprocessing_spec`) that is saved
in the model folder, so a loaded model preprocesses new inputs exactly as in training.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..errors import DataError
from ..zoo.transforms import array_eval_input, arrays_to_nchw


def preprocessing_spec(ds, cfg, image_size: int | None = None) -> dict:
    """The JSON-able preprocessing of ``ds`` for a backbone with config ``cfg``."""
    if ds.modality == "image":
        return {"modality": "image", "transform": "transferkit.zoo.transforms.image_transform"}
    if ds.modality == "text":
        return {"modality": "text", "max_length": cfg.max_length}
    x = np.asarray(ds.inputs, dtype=np.float32)
    shape = _image_shape(x)
    return {
        "modality": "array",
        "shape": list(shape),
        "lo": float(x.min()),
        "hi": float(x.max()),
        "image_size": int(image_size or cfg.crop_size),
    }


def _image_shape(x: np.ndarray) -> tuple[int, ...]:
    """(h, w) or (h, w, c) of one sample of an array data set."""
    if x.ndim == 2:
        side = int(round(math.sqrt(x.shape[1])))
        if side * side != x.shape[1]:
            raise DataError(
                f"array data: {x.shape[1]} values per sample is not a square image; "
                "give arrays of shape (n, h, w) or (n, h, w, c)"
            )
        return (side, side)
    if x.ndim in (3, 4):
        return tuple(x.shape[1:])
    raise DataError(f"array data: cannot read shape {x.shape} as images")


def image_transform(cfg, train: bool):
    """The zoo's image transform for ``cfg`` (training augmentation or evaluation)."""
    from ..zoo.transforms import image_transform as zoo_transform

    return zoo_transform(cfg, train=train)


def _read_image(path):
    from ..data import read_image

    return read_image(path)


class ImagePaths(torch.utils.data.Dataset):
    """Image files -> (tensor, label)."""

    def __init__(self, paths, y, transform):
        self.paths, self.y, self.transform = list(paths), np.asarray(y), transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        return self.transform(_read_image(self.paths[i])), int(self.y[i])


class ArrayImages(torch.utils.data.Dataset):
    """Array samples -> 3-channel normalised image tensors at ``image_size``."""

    def __init__(self, x, y, spec: dict, cfg, train: bool):
        x = arrays_to_nchw(np.asarray(x, dtype=np.float32).reshape(len(x), *spec["shape"]))
        scale = (spec["hi"] - spec["lo"]) or 1.0
        self.x = torch.from_numpy(np.ascontiguousarray((x - spec["lo"]) / scale))
        self.y = np.asarray(y)
        self.size = spec["image_size"]
        self.mean = torch.tensor(cfg.mean).view(3, 1, 1)
        self.std = torch.tensor(cfg.std).view(3, 1, 1)
        self.crop = None
        if train:
            from torchvision import transforms as T

            self.crop = T.RandomResizedCrop(self.size, scale=(0.85, 1.0), ratio=(0.9, 1.1),
                                            antialias=True)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        img = self.x[i]
        if self.crop is None:  # evaluation: the same input as the feature cache's
            return array_eval_input(img, self.size, self.mean, self.std), int(self.y[i])
        if img.shape[0] == 1:
            img = img.expand(3, -1, -1)
        return (self.crop(img) - self.mean) / self.std, int(self.y[i])


class Texts(torch.utils.data.Dataset):
    def __init__(self, texts, y):
        self.texts, self.y = list(texts), np.asarray(y)

    def __len__(self):
        return len(self.texts)

    def __getitem__(self, i):
        return self.texts[i], int(self.y[i])


def torch_dataset(inputs, y, spec: dict, backbone, train: bool):
    """A torch Dataset for ``inputs`` preprocessed as ``spec`` says."""
    y = np.zeros(len(inputs), dtype=np.int64) if y is None else np.asarray(y)
    mod = spec["modality"]
    if mod == "image":
        return ImagePaths(inputs, y, image_transform(backbone.cfg, train))
    if mod == "array":
        return ArrayImages(inputs, y, spec, backbone.cfg, train)
    return Texts(inputs, y)


def default_num_workers(modality: str) -> int:
    """Worker processes for image decoding: 0 on <= 2 cores (workers would compete with the model for the cores; not yet measured), else 2-4."""
    import os

    if modality != "image":
        return 0
    n = os.cpu_count() or 1
    return 0 if n <= 2 else min(4, n // 2)


def make_loader(ds_torch, batch_size: int, shuffle: bool, modality: str, backbone=None,
                num_workers: int | None = None, drop_last: bool = False):
    """A DataLoader; text batches are tokenised by ``backbone.tokenize`` in ``collate_fn``."""
    nw = default_num_workers(modality) if num_workers is None else num_workers
    collate = None
    if modality == "text":
        def collate(batch):
            texts, ys = zip(*batch, strict=True)
            return backbone.tokenize(list(texts)), torch.tensor(ys)
    return torch.utils.data.DataLoader(
        ds_torch,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=nw,
        collate_fn=collate,
        drop_last=drop_last and len(ds_torch) > batch_size,
        persistent_workers=nw > 0,
    )
