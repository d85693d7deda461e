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


def _rbf(A, B, gamma):
    return np.exp(-gamma * ((A[:, None] - B[None]) ** 2).sum(-1))


def test_kmm_diag_correction_moves_the_low_rank_solution_to_the_exact_qp():
    """In 40 dimensions a 40-landmark Nystroem map loses most of the kernel's diagonal, and
    with it the penalty on concentrated weights; the correction restores it: the weights'
    exact-kernel objective and spread come closer to the exact solution (all samples as
    landmarks, where the correction is zero)."""
    rng = np.random.default_rng(0)
    Xs = rng.normal(size=(240, 40))
    Xt = rng.normal(size=(160, 40)) * 0.8 + 0.3
    X, y, sd = packed(Xs, np.zeros(240, int), Xt)

    def exact_objective(b, g):
        return 0.5 * b @ _rbf(Xs, Xs, g) @ b / 240**2 - b @ _rbf(Xs, Xt, g).mean(1) / 240

    def ess(b):
        return b.sum() ** 2 / (b @ b) / len(b)

    ref = KMM(n_kernel_components=400, tol=1e-8, max_iter=5000).fit(X, y, sd)
    same = KMM(n_kernel_components=400, tol=1e-8, max_iter=5000,
               diag_correction=True).fit(X, y, sd)
    np.testing.assert_allclose(same.source_weights_, ref.source_weights_, atol=1e-2)
    g = ref.gamma_
    f_ref = exact_objective(ref.source_weights_, g)
    low = KMM(n_kernel_components=40, tol=1e-8, max_iter=5000).fit(X, y, sd)
    fixed = KMM(n_kernel_components=40, tol=1e-8, max_iter=5000,
                diag_correction=True).fit(X, y, sd)
    f_low, f_fixed = (exact_objective(m.source_weights_, g) for m in (low, fixed))
    assert f_ref <= f_fixed < f_low
    assert abs(ess(fixed.source_weights_) - ess(ref.source_weights_)) < abs(
        ess(low.source_weights_) - ess(ref.source_weights_))
    assert ess(fixed.source_weights_) > 1.5 * ess(low.source_weights_)
    # and it solves the corrected problem (plain projected gradient in float64 as reference;
    # the problem is ill-conditioned, so the objectives are compared, not the weights)
    src = sd > 0
    Ps, mt, dg = fixed._features(X, src)
    Ps, dg = Ps.astype(float), dg.astype(float)
    eps = (np.sqrt(240) - 1) / np.sqrt(240)
    H = (Ps @ Ps.T + np.diag(dg)) / 240**2
    c = Ps @ mt / 240
    step, b = 1.0 / np.linalg.eigvalsh(H)[-1], np.ones(240)
    for _ in range(5000):
        b = project_box_sum(b - step * (H @ b - c), 1000.0, 240 * (1 - eps), 240 * (1 + eps))

    def corrected(w):
        return 0.5 * w @ H @ w - c @ w

    f_star = corrected(b)
    assert corrected(fixed.source_weights_) - f_star < 0.01 * (
        corrected(low.source_weights_) - f_star)


def test_kmm_max_size_matches_each_chunk_to_the_target_separately():
    """With an exact (linear) map, a chunk's weights are those of KMM on that chunk alone."""
    rng = np.random.default_rng(1)
    Xs, Xt = rng.normal(size=(250, 5)), rng.normal(size=(120, 5)) + 0.4
    X, y, sd = packed(Xs, np.zeros(250, int), Xt)
    kw = dict(kernel="linear", eps=0.1, tol=1e-9, max_iter=5000)
    ens = KMM(max_size=100, **kw).fit(X, y, sd)
    chunks = ens._chunks(250)
    assert len(chunks) == 3 and sorted(np.concatenate(chunks)) == list(range(250))
    for c in chunks:
        alone = KMM(**kw).fit(*packed(Xs[c], np.zeros(len(c), int), Xt)).source_weights_
        np.testing.assert_allclose(ens.source_weights_[c], alone, rtol=1e-3, atol=1e-3)
        assert abs(ens.source_weights_[c].mean() - 1) <= 0.1 + 1e-6
    whole = KMM(**kw).fit(X, y, sd).source_weights_
    assert not np.allclose(whole, ens.source_weights_, atol=1e-2)
    # a bound at or above ns is one problem
    np.testing.assert_array_equal(KMM(max_size=250, **kw).fit(X, y, sd).source_weights_, whole)
    # and refits are identical (a seeded Lanczos start for the step size)
    a, b = (KMM(n_kernel_components=50).fit(X, y, sd).source_weights_ for _ in range(2))
    np.testing.assert_array_equal(a, b)


def _lcv_float64(Dt, Ds, g0, folds, idx, k, grid):
    """The LCV scores computed plainly in float64 (the reference for the float32 route)."""
    test = folds[:, None] == np.arange(k)[None, :]
    M = np.where(test, 0.0, 1.0)
    M /= M.sum(0)
    B0 = (~test[idx]).astype(float)
    B0 /= B0.sum(0)
    out = {}
    for g in (g0 * f for f in grid):
        bs = np.exp(-g * Ds).mean(0)
        R = np.exp(-g * Dt) / bs
        Q = np.maximum(R @ _fit_beta(R, M, 2000, 1e-10, B0.copy()), 1e-300)
        out[g] = float(np.mean((np.log(Q) * test).sum(0) / test.sum(0)))
    return out


def test_lcv_in_float32_scores_like_float64_even_where_kernels_underflow():
    """Far target outliers under the narrowest kernel (exp(-gamma d) < 1e-38, zero in
    float32): the row scaling keeps their held-out log-likelihood exact."""
    from transferkit.adapt.instance.kliep import GRID, _center_sqdist

    rng = np.random.default_rng(3)
    Xs = rng.normal(size=(300, 6))
    Xt = np.vstack([rng.normal(size=(190, 6)) * 0.7 + 0.5, rng.normal(size=(10, 6)) + 9.0])
    idx = rng.choice(190, size=60, replace=False)  # no outlier among the centres
    D = _center_sqdist(np.vstack([Xs, Xt]), Xt[idx])
    Ds, Dt = D[:300], D[300:]
    g0 = 1.0 / np.median(Ds)
    assert np.exp(np.float32(-g0 * GRID[-1]) * Dt.astype(np.float32)).sum(1).min() == 0
    km = KLIEP(cv=3, tol=1e-10, max_iter=2000)
    got = km._lcv(Dt, Ds, g0, np.random.default_rng(7), idx)
    folds = np.random.default_rng(7).permutation(200) % 3
    ref = _lcv_float64(Dt, Ds, g0, folds, idx, 3, GRID)
    assert got.pop(0.0) == 0.0
    for g, v in ref.items():
        assert got[g] == pytest.approx(v, abs=2e-3 * max(1.0, abs(v)))
    assert max(got, key=got.get) == max(ref, key=ref.get)
