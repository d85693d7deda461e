"""KLIEP: Kullback-Leibler importance estimation (Sugiyama et al., 2008).

The weight model is ``w(x) = sum_l alpha_l k(x, c_l)`` with centres ``c_l`` drawn from the
target. Maximising the target log-likelihood ``mean_t log w(x)`` under ``mean_s w(x) = 1``,
``alpha >= 0`` is a mixture-weight problem after the change of variable
``beta_l = alpha_l mean_s k(x, c_l)``; it is solved by monotone EM updates on the simplex.
The RBF bandwidth is chosen by likelihood cross-validation (LCV) on the target when
``gamma='auto'``. Memory O(n x n_centers).
"""

from __future__ import annotations

import numpy as np

from .._kernels import _sqdist
from .._registry import register
from ._reweight import BaseReweighter


def _fit_alpha(At, bs, max_iter, tol):
    """EM on the simplex: returns alpha with ``bs @ alpha = 1``."""
    bs = np.maximum(bs, 1e-300)
    R = At / bs
    beta = np.full(R.shape[1], 1.0 / R.shape[1])
    last = -np.inf
    for _ in range(int(max_iter)):
        q = R @ beta
        ll = float(np.mean(np.log(np.maximum(q, 1e-300))))
        if ll - last < tol:
            break
        last = ll
        beta = beta * (R.T @ (1.0 / np.maximum(q, 1e-300))) / R.shape[0]
        beta /= beta.sum()
    return beta / bs


@register("kliep")
class KLIEP(BaseReweighter):
    """KLIEP importance weights with an RBF kernel on target centres.

    Parameters
    ----------
    gamma : float, 'scale', 'median' or 'auto', default='auto'
        RBF bandwidth; ``'median'`` is 1 / the median squared distance between the samples
        and the centres; ``'auto'`` picks among multiples of it (0.1-10) by LCV.
    n_centers : int, default=100
    cv : int, default=3  (LCV folds)
    max_iter, tol : EM iterations and log-likelihood tolerance.
    random_state : int, default=0
    """

    def __init__(self, gamma="auto", n_centers=100, cv=3, max_iter=500, tol=1e-6,
                 random_state=0):
        self.gamma = gamma
        self.n_centers = n_centers
        self.cv = cv
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _fit_one(self, Dt, Ds, gamma):
        """alpha from squared distances to the centres (target rows ``Dt``, source ``Ds``)."""
        return _fit_alpha(np.exp(-gamma * Dt), np.exp(-gamma * Ds).mean(0), self.max_iter,
                          self.tol)

    def _weights(self, Xs, Xt):
        rng = np.random.default_rng(self.random_state)
        idx = rng.choice(len(Xt), size=min(self.n_centers, len(Xt)), replace=False)
        centers = Xt[idx]
        # every kernel value below is exp(-gamma * D) of these two matrices, computed once
        Ds, Dt = _sqdist(Xs, centers), _sqdist(Xt, centers)
        if self.gamma in ("auto", "median"):
            # median heuristic on the sample-to-centre distances (the centres' own zeros out)
            D = np.concatenate([Ds.ravel(), Dt.ravel()])
            D = D[D > 1e-12 * max(D.max(), 1e-300)]  # rounding leaves ~1e-15, not 0, on the centres
            g0 = 1.0 / np.median(D) if len(D) else 1.0
        if self.gamma == "auto":
            grid = [g0 * f for f in (0.1, 0.3, 1.0, 3.0, 10.0)]
            folds = rng.permutation(len(Xt)) % max(2, int(self.cv))
            scores = []
            for g in grid:
                ll = []
                for k in np.unique(folds):
                    a = self._fit_one(Dt[folds != k], Ds, g)
                    w = np.exp(-g * Dt[folds == k]) @ a
                    ll.append(np.mean(np.log(np.maximum(w, 1e-300))))
                scores.append(np.mean(ll))
            self.lcv_scores_ = dict(zip(grid, scores, strict=True))
            gamma = grid[int(np.argmax(scores))]
        elif self.gamma == "median":
            gamma = g0
        elif self.gamma == "scale":
            X = np.vstack([Xs, Xt])
            gamma = 1.0 / (X.shape[1] * X.var())
        else:
            gamma = float(self.gamma)
        self.gamma_, self.centers_ = float(gamma), centers
        self.alpha_ = self._fit_one(Dt, Ds, self.gamma_)
        return np.exp(-self.gamma_ * Ds) @ self.alpha_

    def compute_weights(self, X):
        """Importance weights for (new) source samples ``X``."""
        return np.exp(-self.gamma_ * _sqdist(np.asarray(X, float), self.centers_)) @ self.alpha_
