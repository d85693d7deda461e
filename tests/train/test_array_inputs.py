"""Array data at the backbone's own input size: one rendering for fitting, caching and serving."""

from __future__ import annotations

import numpy as np
import torch

from transferkit.data import from_arrays
from transferkit.features import extract_features
from transferkit.train import fit, load_model

from .helpers import TINY


def _digits_like(n=48, seed=0):
    """8 x 8 'digits' in 0..16 whose class is where the bright stroke sits (edge columns too,
    which a centre crop would cut)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.uniform(0, 3, size=(n, 8, 8)).astype(np.float32)
    X[y == 0, :, 0] = 16.0  # left edge
    X[y == 1, :, 7] = 16.0  # right edge
    return from_arrays(X, y, classes=["left", "right"])


def test_extract_on_arrays_serves_what_it_was_fitted_on(tmp_path):
    ds = _digits_like()
    res = fit(ds, None, backbone=TINY, strategy="extract", progress=False, device="cpu",
              cache_dir=tmp_path / "cache", out=tmp_path / "m")
    feats = extract_features(ds, TINY, cache_dir=tmp_path / "cache", progress=False)
    with torch.no_grad():
        want = torch.softmax(res.model.head(torch.from_numpy(feats.X)), 1).numpy()
    for pred in (res.predictor(), load_model(tmp_path / "m")):
        got = pred.predict_proba(ds.inputs)
        np.testing.assert_allclose(got, want, atol=2e-2)
        acc = float(np.mean(got.argmax(1) == ds.y))
        assert abs(acc - res.metrics["train_accuracy"]) < 1e-9


def test_array_features_equal_the_trainers_evaluation_input(tmp_path):
    from transferkit.train.data import preprocessing_spec, torch_dataset
    from transferkit.zoo import create_backbone

    ds = _digits_like(n=6)
    bb = create_backbone(TINY, pretrained=True).eval()
    spec = preprocessing_spec(ds, bb.cfg)
    x = torch.stack([torch_dataset(ds.inputs, ds.y, spec, bb, train=False)[i][0]
                     for i in range(len(ds))])
    with torch.no_grad():
        direct = bb.embed(x).numpy()
    cached = extract_features(ds, TINY, model=bb, cache_dir=tmp_path, progress=False,
                              fast=False).X
    np.testing.assert_allclose(cached, direct, atol=1e-4)
    # another value range is another input (and another cache entry)
    other = extract_features(ds, TINY, model=bb, cache_dir=tmp_path, progress=False,
                             fast=False, array_scale=(0.0, 32.0)).X
    assert np.abs(other - cached).max() > 1e-3
