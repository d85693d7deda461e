"""load_data dispatch, the bundled digits, and summarize."""

from __future__ import annotations

import json

import numpy as np
import pytest

from transferkit.data import Dataset, Skipped, load_data, load_digits_dataset, summarize
from transferkit.errors import DataError

from .conftest import make_image


def test_digits():
    ds = load_digits_dataset()
    assert ds.modality == "array" and ds.inputs.shape == (1797, 8, 8)
    assert ds.inputs.min() == 0 and ds.inputs.max() == 16
    assert ds.classes == [str(i) for i in range(10)]
    assert ds.class_counts.min() >= 170


def test_summarize_json_ready():
    ds = Dataset("array", np.zeros((5, 2)), np.array([0, 0, 1, 1, -1]), ["a", "b"], "mem",
                 split=np.array(["train"] * 3 + ["val"] * 2, dtype=object),
                 skipped=[Skipped("/x/bad.jpg", "zero-byte file")])
    s = summarize(ds)
    assert s["n"] == 5 and s["counts"] == {"a": 2, "b": 2} and s["n_unlabelled"] == 1
    assert s["smallest_class"] == {"class": "a", "count": 2}
    assert s["splits"] == {"train": 3, "val": 2}
    assert s["skipped"] == [{"path": "/x/bad.jpg", "reason": "zero-byte file"}]
    json.dumps(s)


def test_dispatch_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_data(tmp_path / "missing")
    img = make_image(tmp_path / "one.jpg")
    with pytest.raises(DataError, match="a single image"):
        load_data(img)
    (tmp_path / "f.xyz").write_text("x")
    with pytest.raises(DataError, match="unknown file type"):
        load_data(tmp_path / "f.xyz")
    with pytest.raises(DataError, match="modality"):
        load_data(tmp_path, modality="audio")
    with pytest.raises(DataError, match="cannot load a int"):
        load_data(3)
    with pytest.raises(DataError, match="no train.csv"):
        load_data(tmp_path, modality="text")


def test_dataset_passthrough():
    ds = load_digits_dataset()
    assert load_data(ds) is ds
