"""Transferability scores against hand-worked examples and independent naive implementations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.stats import multivariate_normal

from transferkit.advise import hscore, leep, logme, nce
from transferkit.errors import DataError

# --------------------------------------------------------------------------------------------
# LEEP / NCE: 3 samples, 2 classes, computed on paper
# --------------------------------------------------------------------------------------------
THETA = np.array([[0.8, 0.2], [0.6, 0.4], [0.1, 0.9]])
Y3 = np.array([0, 0, 1])


def test_leep_hand_example():
    # joint P(y,z) = 1/3 [[1.4, 0.6], [0.1, 0.9]], P(z) = [.5, .5]
    # P(y|z) = [[14/15, 6/15], [1/15, 9/15]]
    # EEP: 0.8*14/15 + 0.2*6/15 = 12.4/15; 10.8/15; 0.1/15 + 0.9*9/15 = 8.2/15
    expected = np.mean(np.log([12.4 / 15, 10.8 / 15, 8.2 / 15]))
    assert leep(THETA, Y3) == pytest.approx(expected, abs=1e-12)


def test_leep_label_values_do_not_matter():
    assert leep(THETA, np.array(["ant", "ant", "bee"])) == pytest.approx(leep(THETA, Y3))


def test_nce_hand_examples():
    assert nce(np.array([0, 0, 1]), Y3) == pytest.approx(0.0)  # Z determines Y
    # Z constant: H(Y|Z) = H(Y) = -(2/3 log 2/3 + 1/3 log 1/3)
    assert nce(np.array([5, 5, 5]), Y3) == pytest.approx(2 / 3 * np.log(2 / 3) + np.log(1 / 3) / 3)
    # joint (0,0),(0,1),(1,1) each 1/3; P(z=1) = 2/3: NCE = 2/3 log 1/2
    assert nce(np.array([0, 1, 1]), Y3) == pytest.approx(2 / 3 * np.log(0.5))
    # scores: argmax per row = [0, 0, 1]
    assert nce(THETA, Y3) == pytest.approx(0.0)


def test_leep_rejects_logits():
    with pytest.raises(DataError, match="softmax"):
        leep(np.array([[2.0, -1.0], [0.5, 0.3]]), [0, 1])


# --------------------------------------------------------------------------------------------
# H-score
# --------------------------------------------------------------------------------------------
def _naive_hscore(f, y):
    cov_f = np.cov(f, rowvar=False, bias=True).reshape(f.shape[1], f.shape[1])
    g = np.zeros_like(f)
    for c in np.unique(y):
        g[y == c] = f[y == c].mean(axis=0)
    cov_g = np.cov(g, rowvar=False, bias=True).reshape(f.shape[1], f.shape[1])
    return np.trace(np.linalg.pinv(cov_f) @ cov_g)


def test_hscore_hand_examples():
    y = np.array([0, 0, 1, 1])
    # f = [0, 0, 2, 2]: var f = 1, E[f|y] = f -> H = 1
    assert hscore(np.array([[0.0], [0], [2], [2]]), y, shrinkage=False) == pytest.approx(1.0)
    # f = [0, 1, 2, 3]: var = 1.25, E[f|y] = [.5, .5, 2.5, 2.5] with var 1 -> H = 0.8
    assert hscore(np.array([[0.0], [1], [2], [3]]), y, shrinkage=False) == pytest.approx(0.8)


def test_hscore_matches_naive_formula():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 40)
    f = rng.normal(size=(40, 5)) + y[:, None] * np.array([1.0, 0, 0.5, 0, 0])
    assert hscore(f, y, shrinkage=False) == pytest.approx(_naive_hscore(f, y), rel=1e-9)


def test_hscore_shrinkage_matches_ledoit_wolf_formula():
    from sklearn.covariance import ledoit_wolf

    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 30)
    f = rng.normal(size=(30, 50)) + y[:, None] * 0.3  # d > n: the plain version is unstable
    cov, a = ledoit_wolf(f)
    g = np.zeros_like(f)
    for c in np.unique(y):
        g[y == c] = f[y == c].mean(axis=0)
    cov_g = np.cov(g, rowvar=False, bias=True)
    expected = np.trace(np.linalg.inv(cov) @ ((1 - a) * cov_g))
    assert 0 < a < 1
    assert hscore(f, y) == pytest.approx(expected, rel=1e-8)


# --------------------------------------------------------------------------------------------
# LogME vs brute-force maximisation of the Gaussian marginal likelihood
# --------------------------------------------------------------------------------------------
def _log_evidence(f, t, log_alpha, log_beta):
    """log N(t | 0, I/beta + F F^T / alpha): the evidence written independently of LogME's SVD."""
    n = len(t)
    cov = np.eye(n) / np.exp(log_beta) + f @ f.T / np.exp(log_alpha)
    chol = np.linalg.cholesky(cov)
    z = np.linalg.solve(chol, t)
    return -0.5 * (n * np.log(2 * np.pi) + 2 * np.sum(np.log(np.diag(chol))) + z @ z)


def test_log_evidence_helper_matches_scipy():
    rng = np.random.default_rng(5)
    f, t = rng.normal(size=(5, 2)), rng.normal(size=5)
    cov = np.eye(5) / np.exp(0.3) + f @ f.T / np.exp(-0.7)
    expected = multivariate_normal(mean=np.zeros(5), cov=cov).logpdf(t)
    assert _log_evidence(f, t, -0.7, 0.3) == pytest.approx(expected, rel=1e-12)


def _brute_logme(f, y):
    grid = np.linspace(-8, 8, 17)
    out = []
    for c in np.unique(y):
        t = (y == c).astype(float)
        vals = [(_log_evidence(f, t, a, b), a, b) for a in grid for b in grid]
        best, a0, b0 = max(vals)
        res = minimize(lambda p, t=t: -_log_evidence(f, t, *p), [a0, b0], method="Nelder-Mead",
                       options={"xatol": 1e-8, "fatol": 1e-12, "maxiter": 4000})
        out.append(max(best, -res.fun) / len(t))
    return float(np.mean(out))


def _problem(n, d):
    rng = np.random.default_rng(n * 100 + d)
    y = np.arange(n) % 3
    return rng.normal(size=(n, d)) + 0.8 * np.eye(3)[y] @ rng.normal(size=(3, d)), y


@pytest.mark.parametrize("n,d", [(12, 3), (20, 6)])
def test_logme_equals_brute_force_evidence_maximum(n, d):
    f, y = _problem(n, d)
    assert logme(f, y) == pytest.approx(_brute_logme(f, y), abs=1e-6)


def test_logme_wide_features_close_to_supremum():
    """n < d: one-hot targets can be fitted exactly and the evidence of some classes grows as
    beta -> inf; LogME floors the residual (capping beta), so it sits just below the supremum
    that the unbounded brute-force search approaches."""
    f, y = _problem(6, 9)
    brute = _brute_logme(f, y)
    assert brute - 5e-3 <= logme(f, y) <= brute + 1e-9


@pytest.mark.parametrize("n,d,rank", [(200, 30, None), (40, 90, None), (150, 60, 8),
                                      (30, 80, 5), (64, 64, None)])
def test_logme_gram_spectrum_equals_svd(n, d, rank):
    """The Gram-matrix spectrum (tall, wide, square, rank-deficient) against an SVD."""
    from transferkit.advise.scores import _spectrum

    rng = np.random.default_rng(n + d)
    f = rng.normal(size=(n, d)) if rank is None else (rng.normal(size=(n, rank))
                                                      @ rng.normal(size=(rank, d)))
    Y = np.eye(4)[rng.integers(0, 4, n)]
    u, s, _ = np.linalg.svd(f, full_matrices=False)
    keep = s > s.max() * max(n, d) * np.finfo(float).eps
    sigma, proj = _spectrum(f, Y)
    assert len(sigma) == int(keep.sum()) == (rank or min(n, d))
    order = np.argsort(sigma)[::-1]
    np.testing.assert_allclose(sigma[order], s[keep] ** 2, rtol=1e-9)
    # coordinates are unique up to the sign of each singular vector: compare |U^T Y| and the
    # energy kept in the basis, which is what LogME uses (x and ||y||^2 - ||x||^2)
    np.testing.assert_allclose(np.abs(proj[order]), np.abs(u[:, keep].T @ Y), atol=1e-9)


def test_logme_features_orthogonal_to_labels_give_noise_only_evidence():
    """w = 0 (alpha -> inf): y ~ N(0, I / beta) with beta = n / ||y||^2 = 2 for both classes."""
    f = np.array([[1.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [-1.0, 0.0]])
    expected = -(np.log(2 * np.pi) - np.log(2) + 1) / 2
    assert logme(f, [0, 0, 1, 1]) == pytest.approx(expected, abs=1e-9)


# --------------------------------------------------------------------------------------------
# Sanity: informative features beat shuffled labels, for every score
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    n, d, c = 300, 20, 4
    y = rng.integers(0, c, n)
    centres = rng.normal(size=(c, d)) * 3
    f = centres[y] + rng.normal(size=(n, d))
    logits = f @ rng.normal(size=(d, 10))
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    return f, probs, y, rng.permutation(y)


# --------------------------------------------------------------------------------------------
# LogME on standardised features (the advisor's logme_z)
# --------------------------------------------------------------------------------------------
def test_logme_standardize_is_logme_of_the_zscored_features():
    rng = np.random.default_rng(5)
    f = rng.normal(size=(40, 6)) * [1, 10, 0.1, 3, 1, 50] + [0, 5, -2, 0, 100, 1]
    y = rng.integers(0, 3, 40)
    z = (f - f.mean(0)) / f.std(0)
    assert logme(f, y, standardize=True) == pytest.approx(logme(z, y), abs=1e-12)


def test_logme_standardize_ignores_each_features_scale_and_offset_and_constant_features():
    rng = np.random.default_rng(6)
    f = rng.normal(size=(60, 5))
    y = (f[:, 0] + 0.5 * rng.normal(size=60) > 0).astype(int)
    moved = f * [1e-3, 7, 1, 1, 300] + [4, 0, -9, 0, 0]
    ref = logme(f, y, standardize=True)
    assert logme(moved, y, standardize=True) == pytest.approx(ref, abs=1e-9)
    assert logme(np.c_[f, np.full(60, 3.0)], y, standardize=True) == pytest.approx(ref, abs=1e-12)
    # the raw score does depend on them (here the offsets act as a bias column)
    assert abs(logme(moved, y) - logme(f, y)) > 0.05


@pytest.mark.parametrize("name", ["logme", "logme_z", "hscore", "hscore_plain", "leep", "nce"])
def test_separable_beats_shuffled(blobs, name):
    f, probs, y, y_shuffled = blobs
    score = {
        "logme": lambda t: logme(f, t),
        "logme_z": lambda t: logme(f, t, standardize=True),
        "hscore": lambda t: hscore(f, t),
        "hscore_plain": lambda t: hscore(f, t, shrinkage=False),
        "leep": lambda t: leep(probs, t),
        "nce": lambda t: nce(probs.argmax(axis=1), t),
    }[name]
    assert score(y) > score(y_shuffled) + 0.1


def test_bounds():
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(5), size=50)
    y = rng.integers(0, 3, 50)
    assert leep(probs, y) <= 0
    assert nce(probs.argmax(1), y) <= 0
    f = rng.normal(size=(50, 4))
    assert 0 <= hscore(f, y, shrinkage=False) <= min(4, 3 - 1) + 1e-9


@pytest.mark.parametrize(
    "call",
    [
        lambda: logme(np.ones((3, 2)), [0, 1]),
        lambda: logme(np.array([[np.nan, 1.0]]), [0]),
        lambda: logme(np.ones((4, 3)), [0, 1, 0, 1], standardize=True),
        lambda: hscore(np.ones(5), [0, 1, 0, 1, 0]),
        lambda: nce([0, 1], [0, 1, 1]),
    ],
)
def test_bad_inputs_raise_data_error(call):
    with pytest.raises(DataError):
        call()
