"""Manifold Embedded Distribution Alignment (MEDA; Wang et al., ACM MM 2018).

Three steps, as in the paper and its reference code:

1. **Manifold feature learning**: the geodesic flow kernel (GFK; Gong et al., 2012) between
   the ``d``-dimensional PCA subspaces of source and target. ``G = W Lambda W^T`` has rank
   ``2d`` (``W = [Ps U1, Rs U2]``, orthonormal columns), so samples are embedded as
   ``x W Lambda^{1/2}`` (2d values, same inner products as ``x G x'``) and never build the
   D x D matrix; then each embedded sample is scaled to unit norm.
2. **Dynamic distribution alignment**: the MMD matrix ``M = (1 - mu) M0 + mu sum_c Mc`` of
   marginal and class-conditional (target pseudo-label) means, normalised; ``mu='auto'``
   estimates it from proxy A-distances (BDA's rule) at every round.
3. **Adaptive regularised least squares** in an RBF kernel space with a target-graph Laplacian:
   ``alpha = ((E + lam M + rho L) K + eta I)^{-1} E Y``, ``f = K alpha``; target
   pseudo-labels are refreshed from ``f`` over ``n_iter`` rounds (the first from 1-NN).

Defaults are the paper's (d=20, n_iter=10, lam=10, eta=0.1, rho=1, p=10, mu=0.5 fixed when
not estimated). ``transform`` returns the kernel classifier's class scores ``f(x)`` (one column
per class, in ``classes_`` order); the pipeline's final estimator learns their read-out on the
source rows. Memory is O(n^2) in the total number of samples: ``max_samples`` (10,000) guards
it; for more, use TCA/JDA (Nystroem).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

from ...errors import DataError
from .._base import BaseAdapter
from .._registry import register


def gfk_map(Xs, Xt, d):
    """(D, 2d) matrix ``W Lambda^{1/2}`` of the geodesic flow kernel between PCA subspaces."""
    Ps = PCA(d, svd_solver="full").fit(Xs).components_.T
    Pt = PCA(d, svd_solver="full").fit(Xt).components_.T
    A = Ps.T @ Pt
    U1, cos, Vt = np.linalg.svd(A)
    theta = np.arccos(np.clip(cos, 0.0, 1.0))
    sin = np.sin(theta)
    V = Vt.T
    # Rs U2 without the null-space basis Rs: the part of Pt V orthogonal to span(Ps)
    small = sin <= 1e-10
    W2 = -(Pt @ V - Ps @ (A @ V)) / np.where(small, 1.0, sin)[None, :]
    W2[:, small] = 0.0
    th = np.where(theta > 1e-10, theta, 1e-10)
    l1 = 1 + np.sin(2 * th) / (2 * th)
    l2 = (np.cos(2 * th) - 1) / (2 * th)
    l3 = 1 - np.sin(2 * th) / (2 * th)
    lam = np.block([[np.diag(l1), np.diag(l2)], [np.diag(l2), np.diag(l3)]])
    w, Q = np.linalg.eigh(lam)
    root = (Q * np.sqrt(np.maximum(w, 0.0))) @ Q.T
    return np.hstack([Ps @ U1, W2]) @ root


def _unit(Z):
    return Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)


def _rbf(A, B, sigma2):
    d2 = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2 * A @ B.T
    return np.exp(-np.maximum(d2, 0.0) / (2 * sigma2))


def _laplacian(Z, k):
    """Normalised Laplacian of the symmetric cosine k-NN graph (Z rows have unit norm)."""
    n = len(Z)
    k = min(k, n - 1)
    idx = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z, return_distance=False)[:, 1:]
    W = np.zeros((n, n))
    rows = np.repeat(np.arange(n), k)
    W[rows, idx.ravel()] = np.maximum(np.einsum("ij,ij->i", Z[rows], Z[idx.ravel()]), 0.0)
    W = np.maximum(W, W.T)
    dd = 1.0 / np.sqrt(np.maximum(W.sum(1), 1e-12))
    return np.eye(n) - dd[:, None] * W * dd[None, :]


@register("meda")
class MEDA(BaseAdapter):
    """Manifold Embedded Distribution Alignment (GFK + dynamic MMD + Laplacian-regularised
    kernel least squares). ``transform`` gives class scores; see the module docstring.

    Parameters
    ----------
    n_components : int, default=20 -- GFK subspace dimension ``d``.
    n_iter : int, default=10 -- pseudo-label rounds.
    lam, eta, rho : float -- MMD, ridge and manifold weights (10, 0.1, 1).
    n_neighbors : int, default=10 -- k of the Laplacian graph.
    mu : float or 'auto', default=0.5 -- conditional vs marginal balance.
    max_samples : int, default=10000 -- refuse larger problems (O(n^2) memory).
    random_state : int -- seed of the proxy A-distance (``mu='auto'``).
    """

    needs_labels = True

    def __init__(self, n_components=20, n_iter=10, lam=10.0, eta=0.1, rho=1.0, n_neighbors=10,
                 mu=0.5, max_samples=10000, random_state=0):
        self.n_components = n_components
        self.n_iter = n_iter
        self.lam = lam
        self.eta = eta
        self.rho = rho
        self.n_neighbors = n_neighbors
        self.mu = mu
        self.max_samples = max_samples
        self.random_state = random_state

    def _fit(self, X, y, sample_domain):
        s, t = sample_domain > 0, sample_domain < 0
        n = int(s.sum() + t.sum())
        if n > self.max_samples:
            raise DataError(f"meda: {n} samples exceed max_samples={self.max_samples} (it builds "
                            "an n x n kernel); use tca or jda, which scale with Nystroem")
        Xs, Xt, ys = X[s], X[t], np.asarray(y)[s]
        d = int(min(self.n_components, X.shape[1], len(Xs) - 1, len(Xt) - 1))
        self.map_ = gfk_map(Xs, Xt, d)
        Z = _unit(np.vstack([Xs, Xt]) @ self.map_)
        ns, nt = len(Xs), len(Xt)
        self.classes_ = classes = np.unique(ys)
        self.sigma2_ = float(np.mean(np.linalg.norm(Z, axis=1)))  # the reference code's width
        K = _rbf(Z, Z, self.sigma2_)
        Y = np.zeros((ns + nt, len(classes)))
        Y[np.arange(ns), np.searchsorted(classes, ys)] = 1.0
        n = ns + nt
        # constant across rounds: E K + rho L K + eta I (E selects the source rows)
        base = self.rho * (_laplacian(Z, self.n_neighbors) @ K)
        base[:ns] += K[:ns]
        base[np.diag_indices(n)] += self.eta
        # the MMD matrix is low rank, M = V diag(w) V^T with V = [e0, e_1..e_C]: M K costs
        # O(C n^2) instead of O(n^3), and no n x n matrix M is ever formed
        e0 = np.r_[np.full(ns, 1.0 / ns), np.full(nt, -1.0 / nt)]
        yt = KNeighborsClassifier(1).fit(Z[:ns], ys).predict(Z[ns:])
        margin = np.zeros(nt)
        self.mu_history_ = []
        for it in range(int(self.n_iter)):
            keep = self._pseudo_label_mask(it, yt, margin)
            V = np.zeros((n, len(classes) + 1))
            V[:, 0] = e0
            for j, c in enumerate(classes, start=1):
                a, b = ys == c, (yt == c) & keep
                if self._skip_unlabelled_classes and not b.any():
                    continue
                if a.any():
                    V[:ns][a, j] = 1.0 / a.sum()
                if b.any():
                    V[ns:][b, j] = -1.0 / b.sum()
            mu = self._mu(Z, ns, ys, yt)
            self.mu_history_.append(mu)
            w = np.r_[(1 - mu) * len(classes), np.full(len(classes), mu)]
            G = V.T @ V
            norm = np.sqrt(max(np.sum(np.outer(w, w) * G * G), 0.0))  # = ||V diag(w) V^T||_F
            MK = (V * (w / max(norm, 1e-12))) @ (V.T @ K)
            alpha = solve(base + self.lam * MK, Y, check_finite=False)
            Ft = K[ns:] @ alpha
            yt = classes[Ft.argmax(1)]
            srt = np.sort(Ft, axis=1)
            margin = srt[:, -1] - srt[:, -2] if Ft.shape[1] > 1 else np.zeros(nt)
        self.support_, self.alpha_ = Z, alpha

    # MEDA uses every target pseudo-label in every round; SelectiveMEDA overrides these two
    _skip_unlabelled_classes = False

    def _pseudo_label_mask(self, it, yt, margin):
        """Which target pseudo-labels enter the class-conditional MMD in round ``it``."""
        return np.ones(len(yt), dtype=bool)

    def _mu(self, Z, ns, ys, yt):
        if self.mu != "auto":
            return float(self.mu)
        from .jda import _balance_factor

        idx = np.arange(len(Z))
        return _balance_factor(Z, idx[:ns], idx[ns:], ys, yt, self.random_state)

    def _transform(self, X, sample_domain):
        Z = _unit(X @ self.map_)
        return _rbf(Z, self.support_, self.sigma2_) @ self.alpha_

    # -- model files: the embedding, the kernel support points and the coefficients -----
    def _target_state(self):
        return ({"map": self.map_, "support": self.support_, "alpha": self.alpha_,
                 "classes": np.asarray(self.classes_)}, {"sigma2": self.sigma2_})

    def _load_state(self, arrays, meta):
        self.map_, self.support_ = arrays["map"], arrays["support"]
        self.alpha_, self.classes_ = arrays["alpha"], arrays["classes"]
        self.sigma2_ = float(meta["sigma2"])
