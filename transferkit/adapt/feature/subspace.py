"""Subspace Alignment (Fernando et al., 2013).

PCA bases ``Ps`` and ``Pt`` (d components) of each domain; source samples are projected on
``Ps`` and aligned with ``M = Ps^T Pt``; target samples are projected on ``Pt``.

The default solver is exact and deterministic: the top eigenvectors of the smaller of the
centred scatter matrix ``Xc^T Xc`` (d x d) and the Gram matrix ``Xc Xc^T`` (n x n), found
with ``scipy.linalg.eigh`` (``subset_by_index`` above 500 rows, a full divide-and-conquer
solve below, which is faster there). ``svd_solver='randomized'`` always uses scikit-learn's
randomized PCA; ``svd_solver='auto'`` leaves the choice to scikit-learn's ``PCA`` (randomized
above 500 x 500 when fewer than 80% of the components are kept), which is what skada and ADAPT
run. Both randomised solvers draw the source basis and then the target basis from one
``RandomState(random_state)``, as skada does, so ``'auto'`` with skada's ``random_state`` gives
skada's subspaces exactly.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh
from sklearn.decomposition import PCA

from ...errors import DataError
from .._base import BaseAdapter
from .._registry import register

_EVD_MAX = 500  # below this size a full divide-and-conquer eigh beats the subset solver here


def _top_eigh(S, k):
    """Top-``k`` eigenpairs of a symmetric matrix, largest first."""
    m = len(S)
    if m <= _EVD_MAX:
        w, V = eigh(S, driver="evd")
        w, V = w[m - k:], V[:, m - k:]
    else:
        w, V = eigh(S, subset_by_index=[m - k, m - 1])
    return w[::-1], V[:, ::-1]


def pca_basis(X, k):
    """``(mean, P)``: the mean of X and its top-``k`` principal axes (d x k, orthonormal),
    by decreasing variance."""
    n, d = X.shape
    mean = X.mean(0)
    Xc = X - mean
    if n >= d:
        return mean, _top_eigh(Xc.T @ Xc, k)[1]
    lam, U = _top_eigh(Xc @ Xc.T, k)
    # axes through the Gram matrix: Xc^T u / ||Xc^T u||; a zero eigenvalue (rank < k) keeps a
    # zero axis, which maps every sample to 0 on it
    return mean, (Xc.T @ U) / np.sqrt(np.where(lam > 0, lam, np.inf))


@register("sa")
class SubspaceAlignment(BaseAdapter):
    """Align the source PCA subspace to the target one.

    Parameters
    ----------
    n_components : int, default=80
        Subspace dimension, capped at the smaller domain's size and the feature count.
    svd_solver : {'eigh', 'randomized', 'auto'}, default='eigh'
        ``'eigh'``: exact, deterministic PCA (see the module notes); ``'randomized'``:
        scikit-learn's randomized PCA, seeded by ``random_state``; ``'auto'``: scikit-learn
        ``PCA``'s own choice of solver (the peers' setting).
    random_state : int, default=0
        Seed for the randomized solver (unused by ``'eigh'``).
    """

    def __init__(self, n_components=80, svd_solver="eigh", random_state=0):
        self.n_components = n_components
        self.svd_solver = svd_solver
        self.random_state = random_state

    def _basis(self, X, k, rng):
        if self.svd_solver == "eigh":
            return pca_basis(X, k)
        if self.svd_solver in ("randomized", "auto"):
            p = PCA(k, svd_solver=self.svd_solver, random_state=rng).fit(X)
            return p.mean_, p.components_.T
        raise DataError(f"svd_solver: unknown solver {self.svd_solver!r} "
                        "(use 'eigh', 'randomized' or 'auto')")

    def _fit(self, X, y, sample_domain):
        Xs, Xt = X[sample_domain > 0], X[sample_domain < 0]
        k = int(min(self.n_components, X.shape[1], len(Xs), len(Xt)))
        rng = np.random.RandomState(self.random_state)  # one stream for both bases
        self.mean_source_, Ps = self._basis(Xs, k, rng)
        self.mean_target_, Pt = self._basis(Xt, k, rng)
        self.source_map_ = Ps @ (Ps.T @ Pt)
        self.target_map_ = Pt
        self.n_components_ = k

    def _transform(self, X, sample_domain):
        out = np.empty((X.shape[0], self.n_components_))
        src = sample_domain > 0
        if src.any():
            out[src] = (X[src] - self.mean_source_) @ self.source_map_
        out[~src] = (X[~src] - self.mean_target_) @ self.target_map_
        return out

    def _target_state(self):
        # target samples only need the target PCA mean and basis
        return ({"mean_target": self.mean_target_, "target_map": self.target_map_},
                {"n_components": int(self.n_components_)})

    def _load_state(self, arrays, meta):
        self.mean_target_ = arrays["mean_target"]
        self.target_map_ = arrays["target_map"]
        self.n_components_ = int(meta["n_components"])
