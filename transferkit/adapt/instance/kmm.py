"""Kernel Mean Matching (Huang et al., 2007) in a low-rank kernel.

With ``K ~ Phi Phi^T`` (Nystroem or random features, m columns) the KMM quadratic programme
``min 1/2 b^T Kss b - kappa^T b`` becomes ``min 1/2 ||Phi_s^T b / ns - mean(Phi_t)||^2``
subject to ``0 <= b <= B`` and ``|mean(b) - 1| <= eps``. It is solved by accelerated projected
gradient (FISTA); the projection onto box + sum constraints is a bisection on a shift.
Memory O(n m); no n x n matrix.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import eigsh

from .._kernels import KernelMap
from .._registry import register
from ._reweight import BaseReweighter


def project_box_sum(v, upper, lo, hi):
    """Euclidean projection of v onto {0 <= b <= upper, lo <= sum(b) <= hi}."""
    b = np.clip(v, 0, upper)
    s = b.sum()
    if lo <= s <= hi:
        return b
    target = lo if s < lo else hi
    a, z = v.min() - upper, v.max()
    for _ in range(100):
        tau = 0.5 * (a + z)
        if np.clip(v - tau, 0, upper).sum() > target:
            a = tau
        else:
            z = tau
    return np.clip(v - 0.5 * (a + z), 0, upper)


@register("kmm")
class KMM(BaseReweighter):
    """Kernel Mean Matching weights with a low-rank RBF kernel.

    Parameters
    ----------
    B : float, default=1000.0
        Upper bound of each weight.
    eps : float or None, default=None
        Tolerance on ``mean(b) = 1``; None gives ``(sqrt(ns) - 1) / sqrt(ns)``.
    kernel, gamma, n_kernel_components, approx : the kernel (RBF, median heuristic,
        500 Nystroem landmarks by default).
    max_iter, tol : projected-gradient iterations; stop when the relative step, or the
        objective's decrease over 10 steps relative to its value at ``b = 1``, is below tol.
    random_state : int, default=0
    """

    def __init__(self, B=1000.0, eps=None, kernel="rbf", gamma="median",
                 n_kernel_components=500, approx="nystroem", max_iter=1000, tol=1e-5,
                 random_state=0):
        self.B = B
        self.eps = eps
        self.kernel = kernel
        self.gamma = gamma
        self.n_kernel_components = n_kernel_components
        self.approx = approx
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _weights(self, Xs, Xt):
        km = KernelMap(self.kernel, self.n_kernel_components, self.gamma, self.approx,
                       self.random_state).fit(np.vstack([Xs, Xt]))
        Ps, mt = km.transform(Xs), km.transform(Xt).mean(0)
        ns = len(Xs)
        eps = (np.sqrt(ns) - 1) / np.sqrt(ns) if self.eps is None else float(self.eps)
        lo, hi = ns * max(1 - eps, 0), ns * (1 + eps)
        # Lipschitz constant of the gradient: the top eigenvalue of Ps^T Ps / ns^2 (Lanczos)
        top = eigsh(Ps.T @ Ps, k=1, which="LA", tol=1e-6, return_eigenvectors=False)[0]
        step = 1.0 / max(1.01 * top / ns**2, 1e-12)

        def objective(b):
            return 0.5 * float(np.sum(((Ps.T @ b) / ns - mt) ** 2))

        b = np.ones(ns)
        z, t, it = b.copy(), 1.0, 0
        f0 = last = objective(b)
        for it in range(int(self.max_iter)):  # noqa: B007
            grad = Ps @ ((Ps.T @ z) / ns - mt) / ns
            b_new = project_box_sum(z - step * grad, self.B, lo, hi)
            t_new = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
            z = b_new + ((t - 1) / t_new) * (b_new - b)
            delta = np.linalg.norm(b_new - b) / max(np.linalg.norm(b), 1e-12)
            b, t = b_new, t_new
            if delta < self.tol:
                break
            if it % 10 == 9:  # objective progress over 10 steps, relative to the start
                f = objective(b)
                if last - f <= self.tol * f0:
                    break
                last = f
        self.n_iter_ = it + 1
        self.objective_ = objective(b)
        return b
