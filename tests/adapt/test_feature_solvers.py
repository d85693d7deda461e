"""The exact solvers behind CORAL and Subspace Alignment agree with the textbook forms."""

import numpy as np
import pytest
from scipy.linalg import eigh
from sklearn.covariance import ledoit_wolf
from sklearn.decomposition import PCA

from transferkit.adapt import CORAL, SubspaceAlignment, pack
from transferkit.adapt.feature.coral import _power, covariance_eig
from transferkit.adapt.feature.subspace import pca_basis
from transferkit.errors import DataError


def _data(n, d, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + rng.normal(size=d)


def _sym_power(C, p):
    w, V = eigh(C)
    return (V * w**p) @ V.T


@pytest.mark.parametrize("n,d", [(40, 12), (9, 12)], ids=["n>=d", "n<d"])
def test_covariance_eig_matches_ledoit_wolf_and_cov(n, d):
    X = _data(n, d)
    assert np.allclose(_power(*covariance_eig(X, "auto"), 1.0), ledoit_wolf(X)[0])
    C = np.cov(X, rowvar=False) + 0.5 * np.eye(d)
    assert np.allclose(_power(*covariance_eig(X, 0.5), 1.0), C)
    assert np.allclose(_power(*covariance_eig(X, 0.5), -0.5), _sym_power(C, -0.5))


@pytest.mark.parametrize("ns,nt", [(50, 60), (8, 60), (50, 7)])
def test_coral_map_is_symmetric_whiten_then_colour(ns, nt):
    d = 10
    Xs, Xt = _data(ns, d, 1), _data(nt, d, 2) * 3.0
    X, y, sd = pack(Xs, Xt, np.zeros(ns, dtype=int))
    A = CORAL().fit(X, y, sd).A_
    Cs, Ct = ledoit_wolf(Xs)[0], ledoit_wolf(Xt)[0]
    assert np.allclose(A, _sym_power(Cs, -0.5) @ _sym_power(Ct, 0.5))
    assert np.allclose(A.T @ Cs @ A, Ct)  # the source covariance becomes the target's


@pytest.mark.parametrize("n,d", [(60, 15), (12, 40)], ids=["n>=d", "n<d"])
def test_sa_eigh_basis_is_the_exact_pca_subspace(n, d):
    X = _data(n, d, 3)
    mean, P = pca_basis(X, 5)
    ref = PCA(5, svd_solver="full").fit(X)
    assert np.allclose(mean, ref.mean_)
    assert np.allclose(P.T @ P, np.eye(5))
    Q = ref.components_.T
    assert np.allclose(P @ P.T, Q @ Q.T, atol=1e-8)  # same subspace (signs may differ)


def test_sa_solvers_agree_and_eigh_is_deterministic():
    Xs, Xt = _data(80, 12, 4), _data(70, 12, 5)
    X, y, sd = pack(Xs, Xt, np.zeros(80, dtype=int))
    a = SubspaceAlignment(n_components=4, random_state=0).fit_transform(X, y, sd)
    b = SubspaceAlignment(n_components=4, random_state=7).fit_transform(X, y, sd)
    assert np.array_equal(a, b)
    r = SubspaceAlignment(n_components=4, svd_solver="randomized").fit(X, y, sd)
    e = SubspaceAlignment(n_components=4).fit(X, y, sd)
    # same aligned geometry up to the sign of each target axis
    assert np.allclose(np.abs(r.target_map_.T @ e.target_map_), np.eye(4), atol=1e-6)
    with pytest.raises(DataError, match="svd_solver"):
        SubspaceAlignment(svd_solver="arpack").fit(X, y, sd)


def test_sa_eigh_keeps_finite_output_when_a_domain_has_fewer_samples_than_components():
    Xs, Xt = _data(6, 20, 6), _data(30, 20, 7)
    X, y, sd = pack(Xs, Xt, np.arange(6) % 2)
    Z = SubspaceAlignment(n_components=10).fit_transform(X, y, sd)
    assert Z.shape == (36, 6) and np.all(np.isfinite(Z))  # capped at 6; centred rank is 5
