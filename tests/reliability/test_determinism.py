"""Determinism: the same seed gives the same features and the same metrics, for extraction and
each recipe, on small data (24 tiny array images fed to the backbone at 32x32 pixels).

Every recipe is run twice in the same process with the same seed (fresh caches); the metrics
must be equal and the weights identical. The kill tests (test_kill_resume.py) check the same
across processes, with an interruption in between.
"""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def arrays():
    from transferkit.data import from_arrays

    rng = np.random.default_rng(0)
    y = np.arange(24) % 2
    X = rng.normal(0, 1, (24, 8, 8)).astype(np.float32)
    X[y == 1, :4] += 2.0  # class 1: bright top half
    return from_arrays(X, y)


def test_extraction_is_deterministic(tmp_path):
    from transferkit.data import load_data
    from transferkit.features import extract_features

    from .conftest import make_folder

    ds = load_data(make_folder(tmp_path / "p"))
    a = extract_features(ds, "efficientnet_lite0", cache_dir=tmp_path / "c1", progress=False)
    b = extract_features(ds, "efficientnet_lite0", cache_dir=tmp_path / "c2", progress=False)
    assert b.stats["computed"] == len(ds)  # not from the first cache
    assert np.array_equal(a.X, b.X)


def _fit_twice(ds, tmp_path, strategy, **opts):
    import torch

    from transferkit.train import fit

    runs = []
    for i in range(2):
        r = fit(ds, None, backbone="efficientnet_lite0", strategy=strategy, seed=7, progress=False,
                device="cpu", cache_dir=tmp_path / f"c{i}", val_size=0.25, image_size=32, **opts)
        runs.append((r.metrics, {k: v.detach().clone() for k, v in r.model.state_dict().items()}))
    (m1, w1), (m2, w2) = runs
    assert m1 == m2
    assert w1.keys() == w2.keys()
    assert all(torch.equal(w1[k], w2[k]) for k in w1), [k for k in w1 if not torch.equal(w1[k], w2[k])][:3]
    return m1


def test_extract_linear_is_deterministic(arrays, tmp_path):
    _fit_twice(arrays, tmp_path, "extract")


def test_extract_mlp_is_deterministic(arrays, tmp_path):
    _fit_twice(arrays, tmp_path, "extract", head="mlp", epochs=3, batch_size=8)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["partial", "full", "scratch"])
def test_finetune_recipes_are_deterministic(arrays, tmp_path, strategy):
    _fit_twice(arrays, tmp_path, strategy, epochs=1, batch_size=8)
