"""Readers for the digit domain-adaptation benchmarks (MNIST test set and full USPS).

Both return ``(X, y)``: ``X`` float32 ``(n, 1, 28, 28)`` in [0, 1], ``y`` int64 labels 0..9.
USPS (16x16) is resized to 28x28 with bilinear interpolation (align_corners=False), as in the
usual MNIST<->USPS protocol. Data is read from ``/work/shared/data/digits`` (read-only) or from
the folder given by the environment variable ``TRANSFERKIT_DIGITS``.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

DEFAULT_ROOT = "/work/shared/data/digits"


def _root(root: str | os.PathLike | None) -> Path:
    return Path(root or os.environ.get("TRANSFERKIT_DIGITS", DEFAULT_ROOT))


def _read_idx(path: Path) -> np.ndarray:
    """Read a gzip IDX file (the MNIST format: magic, dims, big-endian sizes, uint8 data)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = data[3]
    dims = np.frombuffer(data, dtype=">u4", count=ndim, offset=4).astype(int)
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError(f"{path}: IDX size mismatch ({arr.size} vs {tuple(dims)})")
    return arr.reshape(tuple(dims))


def _resize28(x: np.ndarray) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    t = F.interpolate(t, size=(28, 28), mode="bilinear", align_corners=False)
    return t.clamp_(0.0, 1.0).numpy()


def load_mnist_test(root: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """MNIST test set: 10,000 images as float32 ``(n, 1, 28, 28)`` in [0, 1] and int64 labels."""
    d = _root(root) / "mnist"
    X = _read_idx(d / "t10k-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    y = _read_idx(d / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    return X[:, None, :, :], y


def load_usps(root: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Full USPS (7,291 train + 2,007 test = 9,298) resized to float32 ``(n, 1, 28, 28)``."""
    import h5py

    path = _root(root) / "usps" / "usps.h5"
    with h5py.File(path, "r") as f:
        X = np.concatenate([f["train/data"][:], f["test/data"][:]]).astype(np.float32)
        y = np.concatenate([f["train/target"][:], f["test/target"][:]]).astype(np.int64)
    X = _resize28(X.reshape(-1, 1, 16, 16))
    return X, y
