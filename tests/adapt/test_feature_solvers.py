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


def test_sa_auto_solver_is_sklearns_pca_choice():
    # 600 x 520 with 20 components: scikit-learn's PCA picks its randomized solver
    Xs, Xt = _data(600, 520, 8), _data(550, 520, 9)
    X, y, sd = pack(Xs, Xt, np.zeros(600, dtype=int))
    a = SubspaceAlignment(n_components=20, svd_solver="auto", random_state=3).fit(X, y, sd)
    rng = np.random.RandomState(3)  # skada: one stream, source basis first
    PCA(20, random_state=rng).fit(Xs)
    ref = PCA(20, random_state=rng).fit(Xt)
    assert ref._fit_svd_solver == "randomized"
    assert np.array_equal(a.target_map_, ref.components_.T)


def test_sa_eigh_keeps_finite_output_when_a_domain_has_fewer_samples_than_components():
    Xs, Xt = _data(6, 20, 6), _data(30, 20, 7)
    X, y, sd = pack(Xs, Xt, np.arange(6) % 2)
    Z = SubspaceAlignment(n_components=10).fit_transform(X, y, sd)
    assert Z.shape == (36, 6) and np.all(np.isfinite(Z))  # capped at 6; centred rank is 5


def _dense_kernel_tca(K, ns, mu, k):
    """Pan et al.'s kernel TCA on a dense kernel (the reference code's kernel mode):
    ``K H K W = lam (K M K + mu I) W``, M the Frobenius-normalised MMD matrix; top-k W."""
    n = len(K)
    e = np.r_[np.full(ns, 1 / ns), -np.full(n - ns, 1 / (n - ns))]
    M = np.outer(e, e) / np.linalg.norm(np.outer(e, e))
    H = np.eye(n) - 1 / n
    _, W = eigh(K @ H @ K, K @ M @ K + mu * np.eye(n))
    return W[:, ::-1][:, :k]


@pytest.mark.parametrize("d,kernel", [(6, "linear"), (50, "linear"), (6, "rbf")],
                         ids=["linear m<=n", "linear m>n", "rbf exact nystroem"])
def test_tca_kernel_form_is_pan_kernel_tca(d, kernel):
    from transferkit.adapt import TCA

    Xs, Xt, Xnew = _data(20, d, 8), _data(16, d, 9) + 1.0, _data(5, d, 10)
    X, y, sd = pack(Xs, Xt, np.arange(20) % 2)
    # n_kernel_components >= n: every sample is a landmark, so Phi Phi^T is the exact kernel
    tca = TCA(n_components=3, mu=0.5, kernel=kernel, gamma=0.05, n_kernel_components=36,
              normalize=False, form="kernel").fit(X, y, sd)
    Phi = tca.kmap_.transform(np.vstack([X, Xnew]))
    K = Phi @ Phi[:36].T  # rows: the 36 fitted samples, then the 5 new ones
    W = _dense_kernel_tca(K[:36], 20, 0.5, 3)
    Z = tca.transform(np.vstack([X, Xnew]), np.r_[sd, -np.ones(5, dtype=int)])
    ref = K @ W
    signs = np.sign(np.sum(Z * ref, 0))
    assert np.allclose(Z * signs, ref, atol=1e-6 * np.abs(ref).max())
    primal = TCA(n_components=3, mu=0.5, kernel=kernel, gamma=0.05, n_kernel_components=36,
                 normalize=False).fit(X, y, sd).transform(X, sd)
    assert not np.allclose(np.abs(primal), np.abs(Z[:36]), atol=1e-3)  # a different objective
    with pytest.raises(DataError, match="form"):
        TCA(form="dual").fit(X, y, sd)


@pytest.mark.parametrize("case", ["full rank", "singular", "m>n"])
def test_kernel_form_basis_gives_the_squared_kernel(case):
    from transferkit.adapt.feature.tca import kernel_form_basis

    Phi = _data(30, 8, 11) if case != "m>n" else _data(6, 8, 11)
    if case == "singular":
        Phi[:, 3] = 0.0  # Phi^T Phi is singular: Cholesky fails, the eigh fallback is used
    P = Phi @ kernel_form_basis(Phi)
    K = Phi @ Phi.T
    assert np.allclose(P @ P.T, K @ K, rtol=1e-9, atol=1e-9 * np.abs(K @ K).max())


@pytest.mark.parametrize("form", ["primal", "kernel"])
def test_jda_without_pseudo_label_rounds_is_tca(form):
    from transferkit.adapt import JDA, TCA

    Xs, Xt = _data(25, 6, 12), _data(20, 6, 13) + 0.5
    X, y, sd = pack(Xs, Xt, np.arange(25) % 3)
    kw = {"n_components": 3, "mu": 0.5, "kernel": "rbf", "n_kernel_components": 30, "form": form}
    a = TCA(**kw).fit(X, y, sd).transform(X, sd)
    b = JDA(n_iter=0, **kw).fit(X, y, sd).transform(X, sd)
    assert np.allclose(a, b)
