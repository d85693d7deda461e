"""Turn what users hand to the image baselines into one float32 array of shape (n, C, H, W).

Accepted inputs:

* an array ``(n, H, W)`` (grey images), ``(n, H, W, C)`` (channels last) or ``(n, C, H, W)``
  (channels first), any real dtype. The channel axis is recognised as an axis of length
  1, 3 or 4; when both axis 1 and the last axis could be channels (e.g. ``(n, 3, 8, 3)``),
  channels last is assumed, as numpy/PIL images are.
* a list (or tuple / 1-D object array) of image file paths, decoded as RGB and resized to
  ``image_size`` x ``image_size`` (values scaled to [0, 1]).

For the pixel MLP, ``(n, d)`` feature arrays are accepted too (one "image" of shape (1, 1, d)).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from transferkit.errors import DataError

_CHANNELS = (1, 3, 4)


class InputError(DataError, ValueError):
    """Unusable inputs or labels: a :class:`DataError` that is also a ``ValueError``, as
    scikit-learn's conventions (and ``check_estimator``) expect."""


class InputTypeError(DataError, TypeError):
    """Inputs of a type that cannot be made numeric (a :class:`DataError` and ``TypeError``)."""


def _is_path_list(X) -> bool:
    if isinstance(X, (str, os.PathLike)):
        return False
    if isinstance(X, np.ndarray):
        if X.dtype.kind in "US":
            return True
        return (
            X.dtype == object and X.ndim == 1 and len(X) > 0
            and isinstance(X[0], (str, os.PathLike))
        )
    if isinstance(X, Sequence) and len(X) > 0:
        return isinstance(X[0], (str, os.PathLike))
    return False


def _read_rgb(path, image_size: int) -> np.ndarray:
    """Decode one image as RGB, resized to a square of ``image_size``, values in [0, 1]."""
    from transferkit.data import read_image  # the package's safe decoder (DataError on bad files)

    try:
        img = read_image(path)
        img = img.convert("RGB").resize((image_size, image_size), resample=2)  # bilinear
    except DataError:
        raise  # already one line naming the file and the problem
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read image ({exc.__class__.__name__})") from exc
    return np.asarray(img, dtype=np.float32) / 255.0


def load_paths(paths, image_size: int) -> np.ndarray:
    """Read image files into an (n, 3, image_size, image_size) float32 array."""
    if image_size is None or int(image_size) < 1:
        raise InputError(f"image_size={image_size!r}: image paths need a positive image_size")
    out = np.stack([_read_rgb(p, int(image_size)) for p in paths])
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


def to_nchw(X, image_size: int | None = 64, allow_flat: bool = False) -> np.ndarray:
    """Return ``X`` as a float32 (n, C, H, W) array (see the module docstring for the rules).

    ``allow_flat`` accepts (n, d) arrays, returned as (n, 1, 1, d).
    """
    if _is_path_list(X):
        return load_paths(list(X), image_size)
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise InputError("inputs: sparse matrices are not supported, pass a dense array")
    try:
        arr = np.asarray(X, dtype=np.float32)
    except TypeError as exc:
        raise InputTypeError(f"inputs: not a numeric array nor image paths ({exc})") from exc
    except ValueError as exc:
        raise InputError(f"inputs: not a numeric array nor image paths ({exc})") from exc
    if arr.ndim >= 2 and 0 in arr.shape[1:]:
        raise InputError(
            f"inputs: 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required."
        )
    if arr.ndim == 1:
        raise InputError(
            f"inputs of shape {arr.shape}: expected one row per sample; Reshape your data "
            "(a single sample x is x[None])"
        )
    if arr.ndim == 2 and allow_flat:
        return arr[:, None, None, :]
    if arr.ndim == 3:
        return arr[:, None]
    if arr.ndim == 4:
        first, last = arr.shape[1] in _CHANNELS, arr.shape[3] in _CHANNELS
        if last:
            return np.ascontiguousarray(arr.transpose(0, 3, 1, 2))
        if first:
            return arr
        raise InputError(
            f"inputs of shape {arr.shape}: no channel axis of length 1, 3 or 4 found "
            "(expected (n, H, W), (n, H, W, C) or (n, C, H, W))"
        )
    want = "(n, d), " if allow_flat else ""
    raise InputError(
        f"inputs of shape {arr.shape}: expected {want}(n, H, W), (n, H, W, C), (n, C, H, W) "
        "or a list of image paths"
    )
