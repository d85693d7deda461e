"""Stratified, reproducible splits and k-fold indices."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transferkit.data import Dataset, kfold_indices, load_digits_dataset, split_dataset
from transferkit.errors import DataError


def _ds(counts, split=None) -> Dataset:
    y = np.concatenate([np.full(c, i) for i, c in enumerate(counts)]).astype(np.int64)
    X = np.arange(len(y), dtype=np.float32)[:, None]
    classes = [f"c{i}" for i in range(len(counts))]
    return Dataset("array", X, y, classes, "mem", split=split)


def _ids(part: Dataset) -> list[int]:
    return part.inputs[:, 0].astype(int).tolist()


def test_sizes_and_reproducible():
    ds = load_digits_dataset()
    a = split_dataset(ds, val_size=0.2, test_size=0.1, seed=3)
    b = split_dataset(ds, val_size=0.2, test_size=0.1, seed=3)
    c = split_dataset(ds, val_size=0.2, test_size=0.1, seed=4)
    n = len(ds)
    assert list(a) == ["train", "val", "test"]
    assert len(a["test"]) == int(np.ceil(0.1 * n)) and len(a["val"]) == int(np.ceil(0.2 * n))
    assert sum(len(p) for p in a.values()) == n
    for k in a:
        np.testing.assert_array_equal(a[k].inputs, b[k].inputs)
        assert a[k].split.tolist() == [k] * len(a[k])
    assert not np.array_equal(a["val"].inputs, c["val"].inputs)


def test_stratified_proportions():
    ds = _ds([100, 50, 10])
    parts = split_dataset(ds, val_size=0.2, seed=0)
    assert parts["val"].class_counts.tolist() == [20, 10, 2]
    assert "test" not in parts
    assert sorted(_ids(parts["train"]) + _ids(parts["val"])) == list(range(160))


def test_respects_given_split_and_carves_test_from_train():
    split = np.array(["train"] * 20 + ["val"] * 6, dtype=object)
    y_counts = [13, 13]
    ds = _ds(y_counts)
    ds.y = np.array([0, 1] * 10 + [0, 1] * 3)
    ds.split = split
    parts = split_dataset(ds, val_size=0.5, test_size=0.2, seed=0)
    assert _ids(parts["val"]) == list(range(20, 26))  # the given val folder, untouched
    assert len(parts["test"]) == int(np.ceil(0.2 * 26))
    assert set(_ids(parts["test"])) <= set(range(20))
    assert len(parts["train"]) + len(parts["test"]) == 20
    only_given = split_dataset(ds, val_size=0.2, test_size=0.0)
    assert set(only_given) == {"train", "val"} and len(only_given["train"]) == 20


def test_given_split_without_train():
    ds = _ds([3, 3], split=np.array(["val"] * 6, dtype=object))
    with pytest.raises(DataError, match="no 'train'"):
        split_dataset(ds)


def test_singleton_class_is_named():
    ds = _ds([10, 1, 10])
    with pytest.raises(DataError, match="class 'c1' has only 1"):
        split_dataset(ds)
    assert len(split_dataset(ds, val_size=0)["train"]) == 21  # nothing to split: fine


def test_tiny_classes_fall_back_without_warnings():
    ds = _ds([2, 2, 2, 3])  # val 0.2 -> 2 samples < 4 classes: sklearn cannot stratify
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = split_dataset(ds, val_size=0.2, seed=1)
        b = split_dataset(ds, val_size=0.2, seed=1)
    assert len(a["val"]) == 2 and len(a["train"]) == 7
    assert _ids(a["val"]) == _ids(b["val"])
    assert (a["train"].class_counts >= 1).all()


def test_bad_sizes():
    ds = _ds([5, 5])
    with pytest.raises(DataError, match="leave no training"):
        split_dataset(ds, val_size=0.5, test_size=0.5)
    with pytest.raises(DataError, match="below 1"):
        split_dataset(ds, val_size=1.5)
    assert len(split_dataset(ds, val_size=2)["val"]) == 2  # an int is a count


def test_kfold():
    y = np.array([0] * 10 + [1] * 5)
    folds = kfold_indices(y, n_splits=5, seed=0)
    assert len(folds) == 5
    assert sorted(np.concatenate([te for _, te in folds]).tolist()) == list(range(15))
    for tr, te in folds:
        assert np.bincount(y[te]).tolist() == [2, 1]
        assert not set(tr) & set(te)
    again = kfold_indices(y, n_splits=5, seed=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))
    with pytest.raises(DataError, match="class 1 has 5 sample"):
        kfold_indices(y, n_splits=6)


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(2, 30), min_size=2, max_size=5),
    val=st.sampled_from([0.0, 0.1, 0.2, 0.3]),
    test=st.sampled_from([0.0, 0.1, 0.25]),
    seed=st.integers(0, 2**16),
)
def test_split_properties(counts, val, test, seed):
    ds = _ds(counts)
    n = len(ds)
    try:
        parts = split_dataset(ds, val_size=val, test_size=test, seed=seed)
    except DataError as exc:
        assert "leave no training" in str(exc)
        return
    ids = [i for p in parts.values() for i in _ids(p)]
    assert sorted(ids) == list(range(n))  # a partition: sizes add up, nothing repeated
    assert (parts["train"].class_counts >= 1).all()  # every class keeps training samples
    for name, size in (("val", val), ("test", test)):
        k = int(np.ceil(size * n)) if size else 0
        got = parts[name] if name in parts else None
        assert (0 if got is None else len(got)) == k
        if got is not None:  # stratified: each class near its share (within 1 of its share)
            share = k * np.asarray(counts) / n
            assert np.all(np.abs(got.class_counts - share) <= 1.0), (got.class_counts, share)
    again = split_dataset(ds, val_size=val, test_size=test, seed=seed)
    assert all(_ids(again[k]) == _ids(parts[k]) for k in parts)
