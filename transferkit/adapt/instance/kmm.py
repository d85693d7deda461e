"""Kernel Mean Matching (Huang et al., 2007) in a low-rank kernel.

With ``K ~ Phi Phi^T`` (Nystroem or random features, m columns) the KMM quadratic programme
``min 1/2 b^T Kss b - kappa^T b`` becomes ``min 1/2 ||Phi_s^T b / ns - mean(Phi_t)||^2``
subject to ``0 <= b <= B`` and ``|mean(b) - 1| <= eps``. It is solved by accelerated projected
gradient (FISTA); the projection onto box + sum constraints is a bisection on a shift.
Memory O(n m); no n x n matrix.

The default RBF Nystroem map is built in float32 (distances after centring, landmark
whitening by a Cholesky factor instead of an eigendecomposition: the objective depends on
``Phi Phi^T`` only, so any square root of the landmark kernel gives the same iterates), and
the gradient's step size comes from a few Lanczos products instead of the m x m Gram matrix.

Two options bring the solution closer to the exact QP the peers solve (both off by default):
``diag_correction=True`` keeps the kernel exact on its diagonal, ``K ~ Phi Phi^T + D`` with
``D = diag(k(x, x) - ||phi(x)||^2)`` (the FITC correction of sparse Gaussian processes,
Snelson & Ghahramani 2006): without it the self-similarity term ``sum_i b_i^2 k(x_i, x_i)``
that penalises concentrated weights is mostly lost in high dimension, where the RBF kernel is
far from low-rank. ``max_size=N`` matches disjoint random chunks of at most N source samples
to the target separately (ensemble KMM, Miao et al. 2015; ADAPT's ``max_size=1000``).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, eigh, solve_triangular
from scipy.sparse.linalg import LinearOperator, eigsh

from .._kernels import KernelMap, _sqdist, resolve_gamma
from .._registry import register
from ._reweight import BaseReweighter


def project_box_sum(v, upper, lo, hi):
    """Euclidean projection of v onto {0 <= b <= upper, lo <= sum(b) <= hi}."""
    # with upper >= hi the box's upper side is implied by sum(b) <= hi and b >= 0
    cap = upper if upper < hi else np.inf
    b = np.maximum(v, 0)
    if cap < np.inf and b.max() > cap:
        np.minimum(b, cap, out=b)
    s = b.sum()
    if lo <= s <= hi:
        return b
    target = lo if s < lo else hi
    a, z = v.min() - min(upper, hi), v.max()
    for _ in range(100):
        tau = 0.5 * (a + z)
        if np.clip(v - tau, 0, cap).sum() > target:
            a = tau
        else:
            z = tau
    return np.clip(v - 0.5 * (a + z), 0, cap)


def _sqdist32(A, B, shift):
    """Squared distances in float32 after subtracting ``shift`` (keeps the norms small)."""
    return _sqdist((A - shift).astype(np.float32), (B - shift).astype(np.float32))


def _nystroem32(X, n_components, gamma, seed):
    """float32 RBF Nystroem features of X (n x m) and the gamma used.

    gamma and the landmarks are chosen exactly as :class:`KernelMap` chooses them for the
    same seed (:func:`resolve_gamma`).
    """
    shift = X.mean(0)
    gamma = float(resolve_gamma(X, gamma, seed))
    rng = np.random.default_rng(seed)
    m = int(min(n_components, X.shape[0]))
    L = X[np.sort(rng.choice(X.shape[0], size=m, replace=False))]
    Kmm = np.exp(-gamma * _sqdist32(L, L, shift).astype(np.float64))
    Knm = np.exp(np.float32(-gamma) * _sqdist32(X, L, shift))
    # float32 distances carry ~1e-7 relative error and whitening amplifies it by
    # 1 / sqrt(eigenvalue): directions of the landmark kernel (unit diagonal) below 1e-6 are
    # damped by a jitter (Cholesky) or, where that fails (low-rank kernels), dropped
    try:
        c, _ = cho_factor(Kmm + 1e-6 * np.eye(m), lower=True)
    except np.linalg.LinAlgError:
        w, V = eigh(Kmm, driver="evd")
        keep = w > 1e-6
        return Knm @ (V[:, keep] / np.sqrt(w[keep])).astype(np.float32), gamma
    Phi = solve_triangular(c.astype(np.float32), Knm.T, lower=True).T
    return np.ascontiguousarray(Phi, dtype=np.float32), gamma


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
    max_size : int or None, default=None
        None: one problem. An int: the source is split at random into
        ``ceil(ns / max_size)`` near-equal chunks, each matched to the whole target (with its
        own bound on the mean weight); ADAPT's default is 1000.
    diag_correction : bool, default=False
        Add the low-rank map's residual on the kernel's diagonal (RBF kernels) to the
        objective, so that it equals the exact KMM objective on the diagonal.
    random_state : int, default=0
        Seeds the landmarks and the chunks.
    """

    def __init__(self, B=1000.0, eps=None, kernel="rbf", gamma="median",
                 n_kernel_components=500, approx="nystroem", max_iter=1000, tol=1e-5,
                 max_size=None, diag_correction=False, random_state=0):
        self.B = B
        self.eps = eps
        self.kernel = kernel
        self.gamma = gamma
        self.n_kernel_components = n_kernel_components
        self.approx = approx
        self.max_iter = max_iter
        self.tol = tol
        self.max_size = max_size
        self.diag_correction = diag_correction
        self.random_state = random_state

    def _features(self, X, src):
        """Source features and the target mean, from the rows ordered source first (X itself
        when it already is, as ``pack`` lays it out: no copy)."""
        ns = int(src.sum())
        if not (src[:ns].all() and not src[ns:].any()):
            X = np.vstack([X[src], X[~src]])
        if self.kernel == "rbf" and self.approx == "nystroem":
            P, self.gamma_ = _nystroem32(X, self.n_kernel_components, self.gamma,
                                         self.random_state)
        else:
            km = KernelMap(self.kernel, self.n_kernel_components, self.gamma, self.approx,
                           self.random_state).fit(X)
            P = km.transform(X).astype(np.float32)
            self.gamma_ = getattr(km, "gamma_", None)
        Ps = P[:ns]
        if self.kernel == "linear" or not self.diag_correction:
            return Ps, P[ns:].mean(0, dtype=np.float64), None
        # the map's residual on the diagonal: k(x, x) = 1 for the RBF kernel
        return Ps, P[ns:].mean(0, dtype=np.float64), np.maximum(
            1.0 - np.einsum("ij,ij->i", Ps, Ps, dtype=np.float64), 0.0).astype(np.float32)

    def _weights_of(self, X, src):
        Ps, mt, dg = self._features(X, src)
        ns = len(Ps)
        if self.max_size is None or ns <= self.max_size:
            b, self.n_iter_, self.objective_ = self._solve(Ps, mt, dg)
            return b.astype(np.float64)
        # ensemble KMM: disjoint random chunks of the source, each matched to the target;
        # n_iter_ is the chunks' largest count, objective_ their mean
        b, its, objs = np.empty(ns), [], []
        for chunk in self._chunks(ns):
            b[chunk], it, obj = self._solve(np.ascontiguousarray(Ps[chunk]), mt,
                                            None if dg is None else dg[chunk])
            its.append(it)
            objs.append(obj)
        self.n_iter_, self.objective_ = max(its), float(np.mean(objs))
        return b

    def _chunks(self, ns):
        """The source rows of each chunk (``max_size`` set and below ns)."""
        k = int(np.ceil(ns / float(self.max_size)))
        return np.array_split(np.random.default_rng(self.random_state).permutation(ns), k)

    def _solve(self, Ps, mt, dg=None):
        """KMM weights of the source rows ``Ps`` against the target mean ``mt``: the
        weights, the number of iterations and the final objective."""
        ns = len(Ps)
        eps = (np.sqrt(ns) - 1) / np.sqrt(ns) if self.eps is None else float(self.eps)
        lo, hi = ns * max(1 - eps, 0), ns * (1 + eps)
        # Lipschitz constant of the gradient: the top eigenvalue of Ps^T Ps / ns^2 (Lanczos)
        op = LinearOperator((Ps.shape[1],) * 2, dtype=np.float64,
                            matvec=lambda v: Ps.T @ (Ps @ v.astype(np.float32)))
        # a seeded start vector: ARPACK's own start changes from call to call
        v0 = np.random.default_rng(self.random_state).standard_normal(Ps.shape[1])
        top = eigsh(op, k=1, which="LA", tol=1e-5, v0=v0, return_eigenvectors=False)[0]
        if dg is not None:
            top += float(dg.max())
        step = 1.0 / max(1.01 * top / ns**2, 1e-12)
        mt32 = mt.astype(np.float32)

        def objective(b):
            f = 0.5 * float(np.sum(((Ps.T @ b) / ns - mt) ** 2))
            return f if dg is None else f + 0.5 * float(dg @ (b * b)) / ns**2

        b = np.ones(ns, dtype=np.float32)
        z, t, it = b.copy(), 1.0, 0
        f0 = last = objective(b)
        for it in range(int(self.max_iter)):  # noqa: B007
            grad = Ps @ ((Ps.T @ z) / ns - mt32) / ns
            if dg is not None:
                grad += dg * z / np.float32(ns * ns)
            b_new = project_box_sum(z - np.float32(step) * grad, self.B, lo, hi)
            t_new = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
            d = b_new - b
            z = b_new + np.float32((t - 1) / t_new) * d
            delta = np.sqrt(float(d @ d) / max(float(b @ b), 1e-24))
            b, t = b_new, t_new
            if delta < self.tol:
                break
            if it % 10 == 9:  # objective progress over 10 steps, relative to the start
                f = objective(b)
                if last - f <= self.tol * f0:
                    break
                last = f
        return b, it + 1, objective(b)
