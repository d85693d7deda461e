"""Distances between a source and a target sample: MMD, CORAL distance, proxy A-distance."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from ._kernels import _sqdist, median_gamma


def _weights(w, n):
    w = np.ones(n) if w is None else np.asarray(w, float)
    return w / w.sum()


def _subsample(X, w, max_samples, rng):
    if len(X) <= max_samples:
        return X, w
    idx = rng.choice(len(X), size=max_samples, replace=False)
    return X[idx], None if w is None else np.asarray(w)[idx]


def mmd(Xs, Xt, kernel="rbf", gamma="median", sample_weight=None, max_samples=2000, seed=0):
    """Squared maximum mean discrepancy (biased V-statistic).

    ``kernel='linear'``: ``||mean(Xs) - mean(Xt)||^2``. ``kernel='rbf'``: Gaussian kernel with
    ``gamma='median'`` (1 / median squared distance of the pooled sample) or a float; each
    domain is subsampled to ``max_samples`` so memory stays bounded. ``sample_weight``
    weighs the source samples (to measure reweighting methods).
    """
    Xs, Xt = np.asarray(Xs, float), np.asarray(Xt, float)
    if kernel == "linear":
        ws = _weights(sample_weight, len(Xs))
        d = ws @ Xs - Xt.mean(0)
        return float(d @ d)
    rng = np.random.default_rng(seed)
    Xs, sw = _subsample(Xs, sample_weight, max_samples, rng)
    Xt, _ = _subsample(Xt, None, max_samples, rng)
    g = median_gamma(np.vstack([Xs, Xt]), seed=seed) if gamma == "median" else float(gamma)
    ws, wt = _weights(sw, len(Xs)), _weights(None, len(Xt))
    kss = ws @ np.exp(-g * _sqdist(Xs, Xs)) @ ws
    ktt = wt @ np.exp(-g * _sqdist(Xt, Xt)) @ wt
    kst = ws @ np.exp(-g * _sqdist(Xs, Xt)) @ wt
    return float(max(kss + ktt - 2 * kst, 0.0))


def coral_distance(Xs, Xt):
    """CORAL loss ``||Cs - Ct||_F^2 / (4 d^2)`` between the two covariance matrices."""
    Xs, Xt = np.asarray(Xs, float), np.asarray(Xt, float)
    d = Xs.shape[1]
    D = np.cov(Xs, rowvar=False) - np.cov(Xt, rowvar=False)
    return float(np.sum(D * D) / (4.0 * d * d))


def proxy_a_distance(Xs, Xt, cv=5, C=1.0, max_samples=2000, seed=0):
    """Proxy A-distance ``2 (1 - 2 err)`` of a linear source-vs-target classifier.

    ``err`` is the cross-validated error (balanced classes by subsampling to the smaller
    domain, at most ``max_samples`` each). 0 = indistinguishable, 2 = fully separable.
    """
    rng = np.random.default_rng(seed)
    n = min(len(Xs), len(Xt), max_samples)
    Xs = np.asarray(Xs, float)[rng.choice(len(Xs), n, replace=False)]
    Xt = np.asarray(Xt, float)[rng.choice(len(Xt), n, replace=False)]
    X = np.vstack([Xs, Xt])
    d = np.r_[np.zeros(n), np.ones(n)]
    folds = StratifiedKFold(n_splits=max(2, min(cv, n)), shuffle=True, random_state=seed)
    pred = cross_val_predict(LogisticRegression(C=C, max_iter=500), X, d, cv=folds)
    err = float(np.mean(pred != d))
    return 2.0 * (1.0 - 2.0 * err)


def distance_report(Xs, Xt, sample_weight=None, seed=0):
    """MMD (linear, rbf), CORAL distance and proxy A-distance in one dict."""
    out = {
        "mmd_linear": mmd(Xs, Xt, "linear", sample_weight=sample_weight),
        "mmd_rbf": mmd(Xs, Xt, "rbf", sample_weight=sample_weight, seed=seed),
        "coral": coral_distance(Xs, Xt),
        "proxy_a": proxy_a_distance(Xs, Xt, seed=seed),
    }
    if sample_weight is not None:
        out["note"] = "mmd weighted by the source importance weights; coral/proxy_a unweighted"
    return out
