"""Data loading: image folders, CSV/TSV texts, NumPy/MATLAB arrays, stratified splits.

The entry point is :func:`load_data`, which looks at what a path is and returns a
:class:`Dataset`; :func:`split_dataset` makes stratified train/val/test parts; :func:`read_image`
decodes one image safely to RGB. See ``docs/data.md``.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import DataError
from .arrays import find_label_file, from_arrays, load_array_file, load_mat, load_npy_pair, load_npz
from .dataset import Dataset, Skipped
from .images import IMAGE_EXTENSIONS, check_image, read_image, scan_image_folder
from .split import kfold_indices, split_dataset
from .text import (
    TEXT_EXTENSIONS,
    find_split_files,
    load_amazon_reviews,
    load_text_file,
    load_text_folder,
)

__all__ = [
    "Dataset",
    "Skipped",
    "check_image",
    "from_arrays",
    "kfold_indices",
    "load_amazon_reviews",
    "load_array_file",
    "load_data",
    "load_digits_dataset",
    "load_mat",
    "load_npy_pair",
    "load_npz",
    "load_text_file",
    "load_text_folder",
    "read_image",
    "scan_image_folder",
    "split_dataset",
    "summarize",
]

_ARRAY_EXTENSIONS = (".npz", ".npy", ".mat")
_MODALITIES = (None, "image", "text", "array")


def _is_amazon_domain(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "positive.review")) and os.path.isfile(
        os.path.join(path, "negative.review")
    )


def _npy_in_folder(path: str) -> bool:
    for name in ("X.npy", "x.npy", "features.npy", "fts.npy", "data.npy"):
        fpath = os.path.join(path, name)
        if os.path.isfile(fpath) and find_label_file(fpath):
            return True
    return False


def load_data(
    path_or_arrays,
    *,
    modality: str | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    strict: bool = False,
    max_pixels: int | None = None,
    x_key: str | None = None,
    y_key: str | None = None,
) -> Dataset:
    """Load a labelled data set from a path or from in-memory ``(X, y)``.

    What a path is decides how it is read (``modality`` forces one of 'image', 'text',
    'array'):

    * a ``.csv``/``.tsv`` file -> texts (``text_column``/``label_column``, or auto-detected);
    * a ``.npz``, ``.npy`` (beside its labels file) or ``.mat`` file -> arrays
      (``x_key``/``y_key`` or auto-detected);
    * a folder with ``positive.review`` and ``negative.review`` -> Amazon reviews;
    * a folder with ``train.tsv``/``dev.tsv``/``test.tsv`` (or ``.csv``) -> texts with splits;
    * a folder with ``X.npy`` and ``y.npy`` -> arrays;
    * any other folder -> images, one sub-folder per class (optionally inside ``train/``,
      ``val/``, ``test/``); ``strict`` turns skipped bad files into errors and ``max_pixels``
      sets the decompression-bomb limit.

    Raises :class:`~transferkit.errors.DataError` with a one-line message on bad input.
    """
    if modality not in _MODALITIES:
        raise DataError(f"modality={modality!r}: expected one of 'image', 'text', 'array'")
    if isinstance(path_or_arrays, Dataset):
        return path_or_arrays
    if isinstance(path_or_arrays, tuple | list) and len(path_or_arrays) == 2 and not isinstance(
        path_or_arrays[0], str | os.PathLike
    ):
        X, y = path_or_arrays
        return from_arrays(X, y)
    if not isinstance(path_or_arrays, str | os.PathLike):
        raise DataError(
            f"cannot load a {type(path_or_arrays).__name__}: give a path or an (X, y) pair"
        )
    path = os.path.abspath(os.path.expanduser(os.fspath(path_or_arrays)))
    if not os.path.exists(path):
        raise DataError(f"{path}: path does not exist")
    ext = os.path.splitext(path)[1].lower()
    if os.path.isfile(path):
        if modality == "image" or ext in IMAGE_EXTENSIONS:
            raise DataError(f"{path}: a single image; give the folder that holds one sub-folder "
                            "per class")
        if modality == "text" or (modality is None and ext in TEXT_EXTENSIONS):
            return load_text_file(path, text_column, label_column, strict=strict)
        if modality == "array" or ext in _ARRAY_EXTENSIONS:
            return load_array_file(path, x_key, y_key)
        raise DataError(f"{path}: unknown file type '{ext or '(none)'}' (expected .csv, .tsv, "
                        ".npz, .npy, .mat, or a folder)")
    if not os.path.isdir(path):
        raise DataError(f"{path}: neither a file nor a folder")
    if modality in (None, "text") and _is_amazon_domain(path):
        return load_amazon_reviews(path)
    if modality in (None, "text") and find_split_files(path):
        return load_text_folder(path, text_column, label_column, strict=strict)
    if modality == "text":
        raise DataError(f"{path}: no train.csv/train.tsv or *.review files found")
    if modality in (None, "array") and _npy_in_folder(path):
        return load_npy_pair(path)
    if modality == "array":
        raise DataError(f"{path}: no X.npy + y.npy pair found")
    return scan_image_folder(path, strict=strict, max_pixels=max_pixels)


def load_digits_dataset() -> Dataset:
    """scikit-learn's bundled 8x8 digits (1,797 images, no download) as an ``'array'``
    Dataset: ``X`` (n, 8, 8) float32 in [0, 16], classes ``'0'``..``'9'``."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return Dataset(
        modality="array",
        inputs=d.images.astype(np.float32),
        y=d.target.astype(np.int64),
        classes=[str(i) for i in range(10)],
        source="sklearn:digits",
    )


def summarize(ds: Dataset) -> dict:
    """A JSON-ready summary: size, classes, per-class counts, smallest class, splits, skipped."""
    counts = ds.class_counts
    per_class = {c: int(k) for c, k in zip(ds.classes, counts, strict=True)}
    smallest = None
    if len(ds.classes):
        i = int(np.argmin(counts))
        smallest = {"class": ds.classes[i], "count": int(counts[i])}
    out = {
        "n": len(ds),
        "modality": ds.modality,
        "source": ds.source,
        "classes": list(ds.classes),
        "counts": per_class,
        "smallest_class": smallest,
        "n_unlabelled": int((np.asarray(ds.y) < 0).sum()),
        "skipped": [{"path": s.path, "reason": s.reason} for s in ds.skipped],
    }
    if ds.split is not None:
        names, k = np.unique(np.asarray(ds.split, dtype=str), return_counts=True)
        out["splits"] = {str(a): int(b) for a, b in zip(names, k, strict=True)}
    return out
