"""Loading the real shared data sets (skipped when ../shared/data is absent)."""

from __future__ import annotations

import numpy as np
import pytest

from transferkit.data import load_data, read_image, split_dataset, summarize

pytestmark = pytest.mark.slow


def test_hymenoptera(shared_data):
    ds = load_data(shared_data / "images" / "hymenoptera")
    s = summarize(ds)
    assert ds.classes == ["ants", "bees"]
    assert s["splits"] == {"train": 245, "val": 153}
    assert s["counts"] == {"ants": 194, "bees": 204}
    assert ds.skipped == []
    parts = split_dataset(ds, val_size=0.2)
    assert len(parts["train"]) == 245 and len(parts["val"]) == 153
    im = read_image(ds.inputs[0], draft=(224, 224))
    assert im.mode == "RGB" and min(im.size) >= 224


def test_sst2_dev(shared_data):
    ds = load_data(shared_data / "text" / "sst2" / "dev.tsv")
    assert len(ds) == 6735 and ds.classes == ["0", "1"] and ds.skipped == []
    assert all(isinstance(t, str) and t.strip() for t in ds.inputs)


def test_amazon_domain(shared_data):
    ds = load_data(shared_data / "text" / "amazon_reviews" / "books")
    assert len(ds) == 2000 and ds.classes == ["negative", "positive"]
    assert ds.class_counts.tolist() == [1000, 1000]
    assert not any("&quot;" in t for t in ds.inputs)


def test_surf_mat(shared_data):
    ds = load_data(shared_data / "office_caltech10" / "surf" / "data" / "Office"
                   / "amazon_SURF_L10.mat")
    assert ds.inputs.shape == (958, 800) and ds.inputs.dtype == np.float32
    assert ds.classes == [str(i) for i in range(1, 11)]


def test_mnist_usps_v73(shared_data):
    ds = load_data(shared_data / "digits" / "mnist_usps_jda" / "data" / "MNIST_vs_USPS.mat",
                   x_key="Xs", y_key="Ys")
    assert ds.inputs.shape == (2000, 256) and len(ds.classes) == 10
