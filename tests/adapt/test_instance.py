"""Instance-based adapters: solver equivalences and the defaults' behaviour (issue #5)."""

import numpy as np
import pytest

from transferkit.adapt import KLIEP, KMM, DomainClassifierWeights
from transferkit.adapt._kernels import KernelMap
from transferkit.adapt.instance.kliep import _fit_alpha, _fit_beta
from transferkit.adapt.instance.kmm import _nystroem32, project_box_sum

from .conftest import packed


def _plain_em(At, bs, n_iter):
    R = At / bs
    beta = np.full(R.shape[1], 1.0 / R.shape[1])
    for _ in range(n_iter):
        beta = beta * (R.T @ (1.0 / (R @ beta))) / R.shape[0]
        beta /= beta.sum()
    return beta / bs


def _kliep_problem(seed=0, n=200, m=15):
    rng = np.random.default_rng(seed)
    Xt, Xs = rng.normal(size=(n, 3)) + 0.7, rng.normal(size=(n, 3))
    C = Xt[:m]
    k = lambda A: np.exp(-0.5 * ((A[:, None] - C[None]) ** 2).sum(-1))  # noqa: E731
    return k(Xt), k(Xs).mean(0)


def test_squarem_reaches_the_em_optimum_with_the_constraint():
    At, bs = _kliep_problem()
    a = _fit_alpha(At, bs, max_iter=500, tol=1e-12)
    ref = _plain_em(At, bs, 20000)
    assert np.all(a >= 0) and bs @ a == pytest.approx(1.0, rel=1e-9)
    ll = np.mean(np.log(At @ a))
    assert ll >= np.mean(np.log(At @ ref)) - 1e-7
    # more than plain EM gets in the same number of (accelerated) steps
    assert ll > np.mean(np.log(At @ _plain_em(At, bs, 30))) + 1e-6


def test_lcv_folds_solved_together_equal_separate_fits():
    At, bs = _kliep_problem(1)
    R = At / bs
    folds = np.arange(len(R)) % 3
    M = (folds[:, None] != np.arange(3)).astype(float)
    M /= M.sum(0)
    together = _fit_beta(R, M, 500, 1e-12)
    for k in range(3):
        alone = _fit_beta(R[folds != k], np.full((int((folds != k).sum()), 1),
                                                 1.0 / (folds != k).sum()), 500, 1e-12)
        np.testing.assert_allclose(together[:, k], alone[:, 0], atol=1e-5)


def test_kliep_keeps_uniform_weights_without_a_shift():
    """The LCV includes gamma -> 0 (w = 1, held-out log-likelihood 0): with source and target
    drawn from one distribution no kernel beats it; under selection bias one does."""
    rng = np.random.default_rng(0)
    Xs, Xt = rng.normal(size=(300, 4)), rng.normal(size=(300, 4))
    k = KLIEP().fit(*packed(Xs, np.zeros(300, int), Xt))
    assert k.gamma_ == 0.0 and k.lcv_scores_[0.0] == 0.0
    assert max(v for g, v in k.lcv_scores_.items() if g > 0) < 0
    np.testing.assert_array_equal(k.source_weights_, np.ones(300))
    np.testing.assert_allclose(k.compute_weights(Xs[:5]), 1.0, rtol=1e-12)
    Xt2 = rng.normal(size=(300, 4)) * 0.4 + [1.5, 0, 0, 0]
    k2 = KLIEP().fit(*packed(Xs, np.zeros(300, int), Xt2))
    assert k2.gamma_ > 0 and k2.lcv_scores_[k2.gamma_] > 0


def test_kmm_float32_nystroem_matches_the_float64_kernel_map():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 20))
    P, g = _nystroem32(X, 120, "median", seed=0)
    km = KernelMap("rbf", 120, "median", "nystroem", 0).fit(X)
    assert g == pytest.approx(km.gamma_, rel=1e-5)
    Q = km.transform(X)
    G, Gref = P.astype(float) @ P.T.astype(float), Q @ Q.T
    assert np.abs(G - Gref).max() < 1e-4
    # a 2-d problem: the landmark kernel is numerically low-rank (eigendecomposition route)
    X2 = rng.normal(size=(400, 2))
    P2, g2 = _nystroem32(X2, 300, "median", seed=0)
    K2 = np.exp(-g2 * ((X2[:50, None] - X2[None, :50]) ** 2).sum(-1))
    assert np.abs(P2[:50].astype(float) @ P2[:50].T - K2).max() < 1e-3


def test_kmm_source_first_layout_and_projection_shortcut():
    """Source and target rows interleaved give the weights of the source-first layout (the
    copy into that layout is skipped only when X already has it); with B >= the sum bound
    the box needs no upper clip."""
    rng = np.random.default_rng(0)
    Xs, Xt = rng.normal(size=(80, 3)), rng.normal(size=(60, 3)) + 0.5
    X, y, sd = packed(Xs, np.zeros(80, int), Xt)
    # interleave, keeping the order within each domain
    is_src = np.zeros(len(X), bool)
    is_src[rng.choice(len(X), 80, replace=False)] = True
    order = np.empty(len(X), int)
    order[is_src], order[~is_src] = np.arange(80), 80 + np.arange(60)
    a = KMM(n_kernel_components=50).fit(X, y, sd).sample_weight_
    b = KMM(n_kernel_components=50).fit(X[order], y[order], sd[order]).sample_weight_
    # (float32 BLAS rounding may differ with memory alignment: equal to float32 precision)
    np.testing.assert_allclose(b, a[order], rtol=1e-3, atol=1e-4)
    v = rng.normal(size=200) * 3
    for lo, hi in ((150.0, 160.0), (20.0, 30.0), (0.0, 1e4)):
        fast = project_box_sum(v, 1e6, lo, hi)
        ref = project_box_sum(v, hi - 1e-9, lo, hi)  # same set, clipped route
        np.testing.assert_allclose(fast, ref, atol=1e-6)


def test_domain_classifier_default_fits_one_classifier_in_sample():
    rng = np.random.default_rng(0)
    Xs = rng.normal(size=(200, 3))
    Xt = rng.normal(size=(150, 3)) + [1.0, 0, 0]
    X, y, sd = packed(Xs, np.zeros(200, int), Xt)
    dc = DomainClassifierWeights().fit(X, y, sd)
    # in-sample: the fit weights are the kept classifier's own weights on the source rows
    np.testing.assert_allclose(dc.source_weights_, dc.compute_weights(Xs), rtol=1e-12)
    assert dc.source_weights_[Xs[:, 0] > 1].mean() > dc.source_weights_[Xs[:, 0] < -1].mean()
    cf = DomainClassifierWeights(cv=3).fit(X, y, sd)
    assert not np.allclose(cf.source_weights_, cf.compute_weights(Xs))
    assert np.corrcoef(cf.source_weights_, dc.source_weights_)[0, 1] > 0.9


def test_lcv_fold_models_leave_out_their_held_out_centres():
    """A zero in the start stays zero: the fold's model is the fit on the other centres."""
    At, bs = _kliep_problem(2)
    R = At / bs
    M = np.full((len(R), 1), 1.0 / len(R))
    B0 = np.ones((R.shape[1], 1))
    B0[:5] = 0.0
    B0 /= B0.sum()
    got = _fit_beta(R, M, 500, 1e-12, B0)
    np.testing.assert_array_equal(got[:5, 0], 0.0)
    np.testing.assert_allclose(got[5:, 0], _fit_beta(R[:, 5:], M, 500, 1e-12)[:, 0], atol=1e-5)
