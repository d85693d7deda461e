"""Stratified, reproducible train/val/test splits and stratified k-fold indices."""

from __future__ import annotations

import math

import numpy as np

from ..errors import DataError
from .dataset import Dataset

SPLITS = ("train", "val", "test")


def _count(size: float | int | None, n: int, name: str) -> int:
    """A split size as a number of samples: a float in [0, 1) is a fraction of ``n``
    (rounded up, as scikit-learn does), an int >= 1 a count."""
    if size is None or size == 0:
        return 0
    if isinstance(size, bool) or size < 0:
        raise DataError(f"{name}={size!r}: must be a fraction in [0, 1) or a positive count")
    if isinstance(size, float | np.floating):
        if size >= 1:
            raise DataError(f"{name}={size!r}: a fraction must be below 1")
        return math.ceil(size * n)
    return int(size)


def _class_name(ds: Dataset, label: int) -> str:
    return "(unlabelled)" if label < 0 else ds.classes[label]


def _allocate(y: np.ndarray, n_take: int, seed: int) -> np.ndarray:
    """Deterministic proportional allocation (largest remainder), each class keeping >= 1."""
    labels, counts = np.unique(y, return_counts=True)
    quota = n_take * counts / counts.sum()
    take = np.minimum(np.floor(quota).astype(int), counts - 1)
    order = np.lexsort((labels, -(quota - np.floor(quota))))  # largest remainder first
    while take.sum() < n_take:
        progressed = False
        for i in order:
            if take.sum() >= n_take:
                break
            if take[i] < counts[i] - 1:
                take[i] += 1
                progressed = True
        if not progressed:
            break
    rng = np.random.default_rng(seed)
    chosen = []
    for lab, k in zip(labels, take, strict=True):
        members = np.flatnonzero(y == lab)
        chosen.append(rng.permutation(members)[:k])
    return np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)


def _take(ds: Dataset, idx: np.ndarray, n_take: int, seed: int, what: str):
    """Split ``idx`` into (rest, taken) with ``n_take`` taken, stratified by label."""
    idx = np.asarray(idx, dtype=np.int64)
    if n_take <= 0:
        return idx, np.zeros(0, dtype=np.int64)
    if n_take >= len(idx):
        raise DataError(
            f"{ds.source or 'dataset'}: cannot take {n_take} {what} samples out of {len(idx)}"
        )
    y = ds.y[idx]
    labels, counts = np.unique(y, return_counts=True)
    n_cls = len(labels)
    if counts.min() >= 2 and n_take >= n_cls and len(idx) - n_take >= n_cls:
        from sklearn.model_selection import train_test_split

        rest, taken = train_test_split(
            idx, test_size=n_take, stratify=y, random_state=seed, shuffle=True
        )
    else:  # too few samples for scikit-learn: deterministic proportional allocation
        taken = idx[_allocate(y, n_take, seed)]
        if len(taken) < n_take:  # every class must keep a training sample
            raise DataError(
                f"{ds.source or 'dataset'}: val_size + test_size leave no training samples for "
                f"some classes ({n_take} {what} samples asked, {len(taken)} possible)"
            )
        rest = np.setdiff1d(idx, taken)
    return np.sort(rest), np.sort(taken)


def split_dataset(
    ds: Dataset,
    val_size: float | int = 0.2,
    test_size: float | int = 0.0,
    seed: int = 0,
) -> dict[str, Dataset]:
    """Split ``ds`` into ``{'train', 'val', 'test'}`` stratified by class, reproducibly.

    Sizes are fractions of the whole data set (or counts). When the source defined its own
    split (``ds.split``, e.g. ``train/`` and ``val/`` folders) those are used as given, and a
    missing val or test part is carved out of train. Keys whose part is empty are left out;
    ``'train'`` is always present. Each part's ``split`` is set to its name.
    """
    n = len(ds)
    n_val = _count(val_size, n, "val_size")
    n_test = _count(test_size, n, "test_size")
    given: dict[str, np.ndarray] = {}
    if ds.split is not None:
        split = np.asarray(ds.split)
        for name in SPLITS:
            given[name] = np.flatnonzero(split == name)
        if len(given["train"]) == 0:
            raise DataError(f"{ds.source or 'dataset'}: has split folders but no 'train' part")
        train = given["train"]
    else:
        train = np.arange(n)
    needed = (0 if len(given.get("val", [])) else n_val) + (
        0 if len(given.get("test", [])) else n_test
    )
    if needed >= len(train):
        raise DataError(
            f"{ds.source or 'dataset'}: val_size + test_size leave no training samples "
            f"({needed} of {len(train)})"
        )
    if needed:
        labels, counts = np.unique(ds.y[train], return_counts=True)
        if (counts < 2).any():
            lab = int(labels[counts < 2][0])
            raise DataError(
                f"{ds.source or 'dataset'}: class '{_class_name(ds, lab)}' has only 1 "
                "training sample, so a stratified split is impossible; add samples or remove it"
            )
    parts: dict[str, np.ndarray] = {}
    if len(given.get("test", [])):
        test = given["test"]
    else:
        train, test = _take(ds, train, n_test, seed, "test")
    if len(given.get("val", [])):
        val = given["val"]
    else:
        train, val = _take(ds, train, n_val, seed, "val")
    parts["train"] = train
    if len(val):
        parts["val"] = val
    if len(test):
        parts["test"] = test
    out = {}
    for name, idx in parts.items():
        sub = ds.subset(idx)
        sub.split = np.full(len(idx), name, dtype=object)
        out[name] = sub
    return out


def kfold_indices(y, n_splits: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold ``(train_idx, test_idx)`` pairs, reproducible from ``seed``.

    Raises :class:`DataError` when a class has fewer samples than ``n_splits``.
    """
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y)
    if n_splits < 2:
        raise DataError(f"n_splits={n_splits}: needs at least 2 folds")
    labels, counts = np.unique(y, return_counts=True)
    small = labels[counts < n_splits]
    if len(small):
        k = int(counts[counts < n_splits][0])
        raise DataError(
            f"class {small[0].item()!r} has {k} sample(s), fewer than n_splits={n_splits}; "
            "use fewer folds"
        )
    skf = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return [(tr, te) for tr, te in skf.split(np.zeros(len(y)), y)]
