"""Transferability scores: how well will a pretrained model transfer to a labelled target set?

All four are computed without training, from the target samples passed once through the
pretrained model. Higher means "more transferable"; the scale differs per score, so compare
candidate models with the same score on the same data, never scores across methods.

* :func:`logme` - LogME (You et al., ICML 2021), on penultimate features; with
  ``standardize=True`` (the advisor's ``logme_z``) on the features z-scored as the ``extract``
  head sees them.
* :func:`leep` - LEEP (Nguyen et al., ICML 2020), on the source head's softmax outputs.
* :func:`nce` - NCE (Tran et al., ICCV 2019), on the source head's predicted labels.
* :func:`hscore` - H-score (Bao et al., ICIP 2019), with the Ledoit-Wolf shrinkage of
  Ibrahim et al. (2022, "Newer is not always better") by default.
"""

from __future__ import annotations

import numpy as np

from transferkit.errors import DataError

__all__ = ["hscore", "leep", "logme", "nce", "standardized"]


def _labels(y, n: int, what: str = "labels") -> tuple[np.ndarray, int]:
    """Encode ``y`` as 0..C-1; check its length against ``n``."""
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise DataError(f"{what}: expected a 1-D array of {n} labels, got shape {y.shape}")
    if n == 0:
        raise DataError(f"{what}: no samples")
    _, idx = np.unique(y, return_inverse=True)
    return idx.ravel(), int(idx.max()) + 1


def _matrix(a, what: str) -> np.ndarray:
    try:
        a = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what}: not a numeric array ({exc})") from exc
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise DataError(f"{what}: expected a non-empty 2-D array (n, d), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise DataError(f"{what}: contains NaN or infinite values")
    return a


# --------------------------------------------------------------------------------------------
# LogME
# --------------------------------------------------------------------------------------------
# Floor on the residual sum of squares of a one-hot target (which has unit scale): when the
# features fit the labels exactly (typically n <= d), the evidence can keep growing as the noise
# precision beta -> infinity; the floor keeps beta finite (the reference code adds 1e-5 too).
_RES_FLOOR = 1e-5


def _logme_one(x, res_x2, sigma, n, d, max_iter, tol):
    """Maximise the evidence of one target vector; return (evidence / n, alpha, beta).

    ``x = U^T y`` in the left singular basis of the features, ``res_x2`` the part of
    ``||y||^2`` outside that basis, ``sigma`` the squared singular values (k of them).
    """
    k = len(sigma)
    x2 = x * x
    tiny = np.finfo(np.float64).tiny
    t_max = 1e12 * (float(sigma.max()) if k else 1.0)
    alpha, beta = 1.0, 1.0
    for _ in range(max_iter):
        t = alpha / beta
        gamma = float(np.sum(sigma / (sigma + t)))
        m2 = float(np.sum(sigma * x2 / (sigma + t) ** 2))  # ||m||^2
        res2 = float(np.sum((t / (sigma + t)) ** 2 * x2)) + res_x2  # ||y - F m||^2
        beta = max(n - gamma, tiny) / max(res2, _RES_FLOOR)
        # alpha -> inf (w = 0) when the target is orthogonal to the features: stop at a
        # ratio alpha / beta far above every sigma, where the evidence has reached its limit
        alpha = min(gamma / max(m2, tiny), t_max * beta) if gamma > 0 else t_max * beta
        new_t = alpha / beta
        if abs(new_t - t) <= tol * t:
            break
    t = alpha / beta
    m2 = float(np.sum(sigma * x2 / (sigma + t) ** 2))
    res2 = float(np.sum((t / (sigma + t)) ** 2 * x2)) + res_x2
    # log|A| for A = alpha I_d + beta F^T F: d - k eigenvalues of F^T F are zero
    logdet = float(np.sum(np.log(alpha + beta * sigma))) + (d - k) * np.log(alpha)
    evidence = (
        d / 2.0 * np.log(alpha)
        + n / 2.0 * np.log(beta)
        - 0.5 * logdet
        - beta / 2.0 * res2
        - alpha / 2.0 * m2
        - n / 2.0 * np.log(2 * np.pi)
    )
    return evidence / n, alpha, beta


def standardized(features) -> np.ndarray:
    """Each feature centred and divided by its standard deviation over the rows (1/n);
    constant features, which carry nothing, are dropped. What the ``extract`` strategy's
    linear probe fits on (``fit_linear_probe`` with its default ``scale='feature'``)."""
    f = _matrix(features, "features")
    sd = f.std(axis=0)
    keep = sd > 1e-12 * max(float(np.abs(f).max()), 1.0)
    if not keep.any():
        raise DataError("features: every feature is constant over the samples")
    f = f[:, keep]
    return (f - f.mean(axis=0)) / sd[keep]


def logme(features, y, max_iter: int = 100, tol: float = 1e-6,
          standardize: bool = False) -> float:
    """LogME: mean over classes of the maximised log evidence per sample.

    For each class c, the one-hot target ``y_c`` is modelled by Bayesian linear regression on
    the features, ``y_c = F w + noise`` with ``w ~ N(0, alpha^-1 I)`` and noise
    ``N(0, beta^-1 I)``; alpha and beta maximise the marginal likelihood (evidence) by
    MacKay's fixed-point iteration, made cheap by one SVD of F shared by all classes.

    Parameters
    ----------
    features : array (n, d)
        Features of the target samples (e.g. a backbone's pooled penultimate layer), used as
        given (no centring, no bias column), as in the reference implementation.
    y : array (n,)
        Target labels (any hashable values).
    max_iter, tol :
        Fixed-point iterations and relative tolerance on alpha/beta.
    standardize : bool
        Score the features z-scored over the rows (:func:`standardized`) instead of as given.
        The prior on the weights is isotropic, so on raw features a feature's scale sets how
        cheap it is to use; z-scored, every feature starts equal, as in the ``extract`` head,
        and the centring stands in for the missing bias column. The advisor reports it as
        ``logme_z`` and selects by it (docs/advise.md, "LogME on standardised features").

    Returns
    -------
    float - typically in about [-2, 2]; higher is better.

    When the features can fit a one-hot target exactly (e.g. n <= d with generic features),
    the evidence may have no finite maximiser (it can keep growing as the noise vanishes);
    the residual sum of squares is floored at 1e-5, which caps beta, as the reference
    implementation does (the score then sits slightly, ~1e-3, below the supremum).

    Unlike the reference implementation's fixed-point version, the d - k zero singular
    values when n < d enter log|A| (they add ``(d - k) log alpha``), so the value is exactly
    the maximised evidence also for wide features.
    """
    f = standardized(features) if standardize else _matrix(features, "features")
    n, d = f.shape
    y_idx, n_classes = _labels(y, n)
    onehot = (y_idx[:, None] == np.arange(n_classes)[None, :]).astype(np.float64)
    sigma, proj = _spectrum(f, onehot)
    evidences = []
    for c in range(n_classes):
        x = proj[:, c]
        res_x2 = max(float(onehot[:, c].sum() - x @ x), 0.0)  # ||y_c||^2 = class count
        evidences.append(_logme_one(x, res_x2, sigma, n, d, max_iter, tol)[0])
    return float(np.mean(evidences))


def _spectrum(f, Y):
    """``(sigma, U^T Y)``: the squared non-zero singular values of ``f`` (its numerical rank)
    and the targets' coordinates in its left singular basis, from the eigendecomposition of
    the smaller Gram matrix instead of an SVD (about 3x faster: LogME on 2,000 x 1,280 features
    0.34 s instead of 0.99 s on one of this project's CPU machines; the same values to 1e-9 in
    the tests).

    Wide ``f``: ``f f^T = U S^2 U^T`` gives U itself. Tall ``f``: ``f^T f = V S^2 V^T`` and
    ``U^T Y = S^-1 V^T (f^T Y)``. The rank cut is the eigenvalue floor
    ``max(n, d) * eps * largest``: the squared form cannot resolve singular values much below
    the square root of that, and directions that weak carry no evidence."""
    n, d = f.shape
    eps = np.finfo(np.float64).eps
    w, V = np.linalg.eigh(f @ f.T if n < d else f.T @ f)
    keep = w > w.max() * max(n, d) * eps
    w, V = w[keep], V[:, keep]
    if n < d:
        return w, V.T @ Y
    return w, (V.T @ (f.T @ Y)) / np.sqrt(w)[:, None]


# --------------------------------------------------------------------------------------------
# LEEP and NCE
# --------------------------------------------------------------------------------------------
def leep(source_probs, y) -> float:
    """LEEP: log expected empirical prediction of the source head re-mapped to target labels.

    With ``theta_i`` the source head's probabilities over its Z labels for sample i, the
    empirical joint is ``P(y, z) = 1/n sum_{i: y_i = y} theta_iz``; then
    ``LEEP = 1/n sum_i log sum_z P(y_i | z) theta_iz``. Always <= 0; higher is better.

    Parameters
    ----------
    source_probs : array (n, Z)
        Softmax outputs of the pretrained classifier (rows must sum to 1: apply softmax to
        logits first).
    y : array (n,)
        Target labels.
    """
    theta = _matrix(source_probs, "source_probs")
    n = theta.shape[0]
    if theta.min() < 0 or not np.allclose(theta.sum(axis=1), 1.0, atol=1e-3):
        raise DataError(
            "source_probs: rows must be probabilities summing to 1 (apply softmax to logits)"
        )
    y_idx, n_classes = _labels(y, n)
    onehot = np.eye(n_classes)[y_idx]
    joint = onehot.T @ theta / n  # (C, Z)
    pz = joint.sum(axis=0)
    cond = np.divide(joint, pz, out=np.zeros_like(joint), where=pz > 0)  # P(y | z)
    eep = np.sum(cond[y_idx] * theta, axis=1)
    return float(np.mean(np.log(np.maximum(eep, np.finfo(np.float64).tiny))))


def nce(source_labels, y) -> float:
    """NCE: negative conditional entropy ``-H(Y | Z)`` of target labels given source labels.

    ``Z`` is the source head's predicted label per sample (pass integer labels, or an (n, Z)
    array of scores whose row-wise argmax is taken). Always <= 0; 0 means Z determines Y.
    """
    z = np.asarray(source_labels)
    if z.ndim == 2:
        z = _matrix(z, "source_labels").argmax(axis=1)
    n = len(z) if z.ndim == 1 else -1
    if n < 0:
        raise DataError(f"source_labels: expected (n,) labels or (n, Z) scores, got {z.shape}")
    y_idx, n_classes = _labels(y, n)
    z_idx, n_z = _labels(z, n, "source_labels")
    joint = np.zeros((n_classes, n_z))
    np.add.at(joint, (y_idx, z_idx), 1.0)
    joint /= n
    pz = joint.sum(axis=0, keepdims=True)
    nz = joint > 0
    return float(np.sum(joint[nz] * np.log((joint / pz)[nz])))


# --------------------------------------------------------------------------------------------
# H-score
# --------------------------------------------------------------------------------------------
def hscore(features, y, shrinkage: bool = True) -> float:
    """H-score ``tr(cov(f)^-1 cov(E[f | y]))``, optionally with a shrunk ``cov(f)``.

    Covariances are the 1/n (maximum-likelihood) ones. Without shrinkage, ``cov(f)^-1`` is
    the pseudo-inverse (Bao et al. 2019), which is unstable when d is large relative to n.
    With ``shrinkage=True`` (Ibrahim et al. 2022), ``cov(f)`` is replaced by the Ledoit-Wolf
    estimate ``(1 - a) cov(f) + a mu I`` and the between-class covariance is scaled by
    ``(1 - a)``: ``tr(cov_a(f)^-1 (1 - a) cov(E[f | y]))``. Higher is better; at most
    min(d, C - 1) without shrinkage.
    """
    f = _matrix(features, "features")
    n = f.shape[0]
    y_idx, n_classes = _labels(y, n)
    f = f - f.mean(axis=0)
    counts = np.bincount(y_idx, minlength=n_classes).astype(np.float64)
    means = np.zeros((n_classes, f.shape[1]))
    np.add.at(means, y_idx, f)
    means /= counts[:, None]
    cov_g = (means * (counts / n)[:, None]).T @ means  # covariance of E[f | y] over samples
    if not shrinkage:
        cov_f = f.T @ f / n
        return float(np.trace(np.linalg.pinv(cov_f, hermitian=True) @ cov_g))
    from sklearn.covariance import LedoitWolf

    lw = LedoitWolf(assume_centered=True).fit(f)
    a = float(lw.shrinkage_)
    cov_a = lw.covariance_
    try:
        sol = np.linalg.solve(cov_a, (1.0 - a) * cov_g)
    except np.linalg.LinAlgError:
        sol = np.linalg.pinv(cov_a, hermitian=True) @ ((1.0 - a) * cov_g)
    return float(np.trace(sol))
