"""KLIEP: Kullback-Leibler importance estimation (Sugiyama et al., 2008).

The weight model is ``w(x) = sum_l alpha_l k(x, c_l)`` with centres ``c_l`` drawn from the
target. Maximising the target log-likelihood ``mean_t log w(x)`` under ``mean_s w(x) = 1``,
``alpha >= 0`` is a mixture-weight problem after the change of variable
``beta_l = alpha_l mean_s k(x, c_l)``; it is solved by monotone EM updates on the simplex,
accelerated by SQUAREM (Varadhan & Roland, 2008) with a fall-back to the plain EM step.

With ``gamma='auto'`` the RBF bandwidth is chosen by likelihood cross-validation (LCV) on the
target among multiples of the median heuristic, and the limit ``gamma -> 0`` (uniform
weights, held-out log-likelihood exactly 0) is a candidate too: when no kernel predicts the
held-out target better than ``w = 1``, the weights stay uniform. The folds of one bandwidth
share their kernel matrix and are solved together; a fold's model leaves out the centres
among its held-out rows. Distances are computed once, in float32, and the LCV's EM runs in
float32 too, each row of the kernel matrix scaled by its largest usable entry so that nothing
underflows (the EM is invariant to that scaling; the scale is added back to the scores; the
final fit stays in float64). Memory O(n x n_centers).
"""

from __future__ import annotations

import numpy as np

from .._kernels import _sqdist
from .._registry import register
from ._reweight import BaseReweighter

#: LCV candidates, multiples of the median-heuristic gamma (the uniform limit 0 comes first)
GRID = (0.1, 0.3, 1.0, 3.0, 10.0)
#: the LCV fits are only compared: their scores move by < 0.001 from 1e-6 to 1e-4 on the
#: SURF and digits benchmarks, far below the gaps between candidates (> 0.003 there)
LCV_TOL = 1e-4


def _center_sqdist(X, centers):
    """Squared distances to the centres in float32 (half the time of float64), after
    shifting both by the centres' mean so the norms that cancel in the expansion stay small."""
    m = centers.mean(0)
    A = (np.asarray(X, dtype=np.float64) - m).astype(np.float32)
    return _sqdist(A, (centers - m).astype(np.float32)).astype(np.float64)


def _floor(dtype):
    """The smallest mixture density kept (before its log): 1e-300, or float32's tiny."""
    return 1e-300 if dtype == np.float64 else float(np.finfo(dtype).tiny)


def _q(R, B):
    return np.maximum(R @ B, _floor(R.dtype))


def _loglik(Q, M):
    """Per column k: ``sum_i M[i, k] log Q[i, k]``."""
    return np.einsum("ik,ik->k", M, np.log(Q))


def _em_step(R, B, Q, M):
    B = B * (R.T @ (M / Q))
    return B / B.sum(0)


def _fit_beta(R, M, max_iter, tol, B0=None):
    """Mixture weights on the simplex for each column of the row weights ``M`` (n x K).

    Column k maximises ``sum_i M[i, k] log (R beta)_i``: K problems that share ``R`` (the
    LCV folds of one bandwidth) are solved together. EM, accelerated by SQUAREM: each step
    extrapolates two EM steps, is clipped back to the simplex and stabilised by one more EM
    step, and is kept only where the log-likelihood did not fall (else the plain second EM
    step is kept), so every column stays monotone like EM. ``B0`` (m x K, columns on the
    simplex) is the start, uniform by default; its zeros stay zero (multiplicative updates),
    which leaves those centres out of that column's model.
    """
    B = np.full((R.shape[1], M.shape[1]), 1.0 / R.shape[1], dtype=R.dtype) if B0 is None else B0
    tiny = _floor(R.dtype)
    Q = _q(R, B)
    ll = _loglik(Q, M)
    for _ in range(int(max_iter)):
        B1 = _em_step(R, B, Q, M)
        B2 = _em_step(R, B1, _q(R, B1), M)
        Q2 = _q(R, B2)
        ll2 = _loglik(Q2, M)
        r, v = B1 - B, B2 - 2 * B1 + B
        nv = np.linalg.norm(v, axis=0)
        a = np.minimum(-np.linalg.norm(r, axis=0) / np.maximum(nv, tiny), -1.0).astype(B.dtype)
        ext = np.maximum(B - 2 * a * r + a * a * v, 0)
        ext /= np.maximum(ext.sum(0), tiny)
        B3 = _em_step(R, ext, _q(R, ext), M)
        Q3 = _q(R, B3)
        ll3 = _loglik(Q3, M)
        ok = (ll3 >= ll2) & (nv > 0) & np.isfinite(ll3)
        new = np.where(ok, B3, B2)
        ll_new, Q = np.where(ok, ll3, ll2), np.where(ok, Q3, Q2)
        done = np.all(ll_new - ll < tol)
        B, ll = new, ll_new
        if done:
            break
    return B


def _fit_alpha(At, bs, max_iter, tol):
    """alpha >= 0 maximising ``mean log(At alpha)`` with ``bs @ alpha = 1``."""
    bs = np.maximum(bs, 1e-300)
    M = np.full((At.shape[0], 1), 1.0 / At.shape[0])
    return _fit_beta(At / bs, M, max_iter, tol)[:, 0] / bs


@register("kliep")
class KLIEP(BaseReweighter):
    """KLIEP importance weights with an RBF kernel on target centres.

    Parameters
    ----------
    gamma : float, 'scale', 'median' or 'auto', default='auto'
        RBF bandwidth; ``'median'`` is 1 / the median squared distance between the samples
        and the centres; ``'auto'`` picks 0 (uniform weights) or a multiple of it (0.1-10)
        by LCV.
    n_centers : int, default=100
    cv : int, default=3  (LCV folds)
    max_iter, tol : accelerated EM iterations and log-likelihood tolerance.
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

    def _lcv(self, Dt, Ds, g0, rng, idx):
        """Held-out target log-likelihood of each candidate (the folds solved together).

        A fold's model uses only the centres outside its held-out rows (``idx``: the centres'
        target rows): a held-out sample that is itself a centre would score its own kernel
        peak and favour narrow kernels, most where the target is small and most of it are
        centres (157 DSLR images, 100 centres)."""
        k = max(2, int(self.cv))
        folds = rng.permutation(len(Dt)) % k
        test = folds[:, None] == np.arange(k)[None, :]
        # float32 (half the memory traffic of the EM) made safe from underflow: row i of R
        # is scaled by exp(g m_i), m_i its nearest usable centre's distance, which leaves the
        # EM iterates unchanged (R_il / (R beta)_i is scale-free) and is added back to log w
        f32 = np.float32
        M = np.where(test, 0.0, 1.0)
        M = (M / M.sum(0)).astype(f32)
        B0 = (~test[idx]).astype(float)  # centre l is usable in fold j if not held out there
        B0[:, B0.sum(0) == 0] = 1.0
        B0 /= B0.sum(0)
        usable = B0[:, folds].T > 0  # (row i, centre l): l is in the model that scores row i
        m = np.where(usable, Dt, np.inf).min(1, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        Dt32, B0 = (Dt - m).astype(f32), B0.astype(f32)
        test_mean = test / test.sum(0)
        scores = {0.0: 0.0}  # w = 1: log 1 = 0 on every held-out sample, nothing to fit
        for g in (g0 * f for f in GRID):
            bs = np.maximum(np.exp(-g * Ds).mean(0), 1e-300)
            if bs.min() < 1e-30:  # 1 / bs would leave float32's range
                R, sub = np.exp(-g * Dt) / bs, 0.0
            else:
                R, sub = np.exp(f32(-g) * Dt32) * (1.0 / bs).astype(f32), g * m
            B = _fit_beta(R, M.astype(R.dtype), self.max_iter, max(self.tol, LCV_TOL),
                          B0.astype(R.dtype))
            logw = np.log(_q(R, B)).astype(np.float64) - sub
            # mean over folds of the mean held-out log w, w = R beta on the fold's test rows
            scores[g] = float(np.mean((logw * test_mean).sum(0)))
        return scores

    def _weights_of(self, X, src):
        rng = np.random.default_rng(self.random_state)
        tgt = np.flatnonzero(~src)
        idx = rng.choice(len(tgt), size=min(self.n_centers, len(tgt)), replace=False)
        centers = X[tgt[idx]]
        # every kernel value below is exp(-gamma * D) of these two matrices, computed once
        D = _center_sqdist(X, centers)
        Ds, Dt = D[src], D[tgt]
        if self.gamma in ("auto", "median"):
            # median heuristic on the sample-to-centre distances (the centres' own zeros out)
            own = np.zeros(Dt.shape, dtype=bool)
            own[idx, np.arange(len(idx))] = True  # a centre's distance to itself
            D = np.concatenate([Ds.ravel(), Dt[~own]])
            med = np.median(D) if len(D) else 0.0
            g0 = 1.0 / med if med > 0 else 1.0
        if self.gamma == "auto":
            self.lcv_scores_ = self._lcv(Dt, Ds, g0, rng, idx)
            gamma = max(self.lcv_scores_, key=self.lcv_scores_.get)
        elif self.gamma == "median":
            gamma = g0
        elif self.gamma == "scale":
            gamma = 1.0 / (X.shape[1] * X.var())
        else:
            gamma = float(self.gamma)
        self.gamma_, self.centers_ = float(gamma), centers
        if self.gamma_ == 0.0:  # uniform: w = 1 everywhere, exactly the limit gamma -> 0
            self.alpha_ = np.full(len(centers), 1.0 / len(centers))
            return np.ones(len(Ds))
        self.alpha_ = self._fit_one(Dt, Ds, self.gamma_)
        return np.exp(-self.gamma_ * Ds) @ self.alpha_

    def compute_weights(self, X):
        """Importance weights for (new) source samples ``X``."""
        return np.exp(-self.gamma_ * _center_sqdist(X, self.centers_)) @ self.alpha_
