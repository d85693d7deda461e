"""MEDA: the rank-2d GFK embedding against the closed form, and adaptation on a shifted task."""

import numpy as np
import pytest

from transferkit.adapt import MEDA, make_da_pipeline, pack
from transferkit.adapt.feature.meda import gfk_map
from transferkit.errors import DataError


def _gfk_dense(Xs, Xt, d):
    """Gong et al.'s closed form with the explicit null-space basis (D x D), for comparison."""
    from scipy.linalg import null_space
    from sklearn.decomposition import PCA

    Ps = PCA(d, svd_solver="full").fit(Xs).components_.T
    Pt = PCA(d, svd_solver="full").fit(Xt).components_.T
    Rs = null_space(Ps.T)
    U1, cos, Vt = np.linalg.svd(Ps.T @ Pt)
    theta = np.arccos(np.clip(cos, 0, 1))
    B = Rs.T @ Pt @ Vt.T                      # = -U2 diag(sin)
    U2 = -B / np.sin(theta)[None, :]
    l1 = 1 + np.sin(2 * theta) / (2 * theta)
    l2 = (np.cos(2 * theta) - 1) / (2 * theta)
    l3 = 1 - np.sin(2 * theta) / (2 * theta)
    W = np.hstack([Ps @ U1, Rs @ U2])
    Lam = np.block([[np.diag(l1), np.diag(l2)], [np.diag(l2), np.diag(l3)]])
    return W @ Lam @ W.T


def test_gfk_map_reproduces_the_dense_kernel():
    rng = np.random.default_rng(0)
    Xs = rng.normal(size=(60, 8))
    Xt = rng.normal(size=(50, 8)) @ rng.normal(size=(8, 8))
    m = gfk_map(Xs, Xt, 3)
    assert m.shape == (8, 6)
    np.testing.assert_allclose(m @ m.T, _gfk_dense(Xs, Xt, 3), atol=1e-8)


def test_meda_beats_source_only_on_a_rotated_target():
    rng = np.random.default_rng(1)
    n, d = 150, 6
    ys = rng.integers(0, 3, n)
    centers = rng.normal(scale=3.0, size=(3, d))
    Xs = centers[ys] + rng.normal(size=(n, d))
    yt = rng.integers(0, 3, n)
    R = np.linalg.qr(rng.normal(size=(d, d)))[0]
    rot = 0.6 * np.eye(d) + 0.4 * R
    Xt = (centers[yt] + rng.normal(size=(n, d))) @ rot + 1.5
    X, y, sd = pack(Xs, Xt, ys)
    base = make_da_pipeline(None).fit(X, y, sd).score(Xt, yt)
    pipe = make_da_pipeline(MEDA(n_components=4, n_iter=5)).fit(X, y, sd)
    assert pipe.score(Xt, yt) >= base
    assert pipe.score(Xt, yt) > 0.8
    assert pipe.transform(Xt).shape == (n, 3)


def test_meda_refuses_huge_problems():
    X, y, sd = pack(np.zeros((8, 3)) + np.arange(8)[:, None], np.ones((8, 3)), np.arange(8) % 2)
    with pytest.raises(DataError, match="max_samples"):
        MEDA(max_samples=10).fit(X, y, sd)
