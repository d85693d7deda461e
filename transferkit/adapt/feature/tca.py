"""Transfer Component Analysis (Pan et al., 2011), scalable form.

The kernel is replaced by an explicit low-rank map ``Phi`` (linear, Nystroem or random Fourier
features, m columns), and TCA is solved as the m x m generalized eigenproblem

    Phi^T H Phi w = lambda (Phi^T M Phi + mu I) w,

where ``M = e e^T`` (``e = 1/ns`` on source, ``-1/nt`` on target) is the MMD matrix and ``H``
the centring matrix. ``Phi^T M Phi`` is a rank-one product of mean differences, so memory is
O(n m + m^2) instead of O(n^2).

Two forms of the objective (``form``). ``'primal'`` projects ``phi(x)`` itself and penalises
the direction's norm ``mu ||w||^2`` (the reference code's ``'primal'`` mode). ``'kernel'`` is
Pan et al.'s kernel TCA, as in the reference code's kernel modes and in skada / ADAPT: it
projects the empirical kernel map ``k(x, X) = Phi phi(x)`` with coefficients ``W`` (n x k) and
penalises ``mu ||W||_F^2``. With ``K = Phi Phi^T`` that problem is the primal one on
``Phi R`` for any ``R`` with ``(Phi R)(Phi R)^T = K^2``: ``R = Phi^T`` (the kernel rows
themselves, when m > n) or the Cholesky factor of ``Phi^T Phi`` (m <= n; ``R = V S`` from its
eigendecomposition if it is singular). Every projection ``Phi R w`` is then ``K W`` for a
``W`` with ``||W|| = ||w||``, so the problem is unchanged; the kernel form costs one m x m
Cholesky factorisation at most, and its eigenproblem is min(n, m)-sized. Its features are
those of ``K^2``: the kernel's spectrum squared, so a fast-decaying spectrum (an RBF kernel)
leaves most components tiny after the output L2 normalisation, where a linear read-out such
as logistic regression barely uses them (1-NN much less so); it suits the linear kernel.
"""

from __future__ import annotations

import numpy as np
from numpy.linalg import LinAlgError
from scipy.linalg import cholesky, eigh

from ...errors import DataError
from .._base import BaseAdapter
from .._kernels import KernelMap
from .._registry import register


def l2_rows(X):
    """Divide each row by its L2 norm (zero rows kept)."""
    n = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(n > 0, n, 1.0)


def mmd_directions(Phi, groups):
    """Stack the vectors ``Phi^T e_k`` for index groups ``(source idx, target idx)``.

    Returns ``(D, G)``: ``D`` (m x K) and the Gram matrix ``G = E^T E`` of the e-vectors, used
    to normalise ``M = sum_k e_k e_k^T`` by its Frobenius norm without forming it.
    """
    cols, sizes = [], []
    for s_idx, t_idx in groups:
        cols.append(Phi[s_idx].mean(0) - Phi[t_idx].mean(0))
        sizes.append((s_idx, t_idx))
    D = np.stack(cols, 1)
    K = len(groups)
    G = np.zeros((K, K))
    for a in range(K):
        for b in range(a, K):
            sa, ta = sizes[a]
            sb, tb = sizes[b]
            v = (np.intersect1d(sa, sb).size / (sa.size * sb.size)
                 + np.intersect1d(ta, tb).size / (ta.size * tb.size))
            G[a, b] = G[b, a] = v
    return D, G


def kernel_form_basis(Phi, tol=1e-10):
    """``R`` with ``(Phi R)(Phi R)^T = (Phi Phi^T)^2``: the empirical kernel map up to an
    orthogonal change of basis (module notes)."""
    n, m = Phi.shape
    if m > n:
        return Phi.T
    C = Phi.T @ Phi
    try:
        return cholesky(C, lower=True)
    except LinAlgError:  # singular Phi^T Phi: its square root on the rank-r part
        w, V = eigh(C)
        keep = w > max(w.max(), 1e-300) * tol
        return V[:, keep] * np.sqrt(w[keep])


def solve_components(Phi, D, weights, G, mu, n_components):
    """Largest generalized eigenvectors of ``Phi^T H Phi`` vs ``Phi^T M Phi + mu I``."""
    mean = Phi.mean(0)
    A = Phi.T @ Phi - len(Phi) * np.outer(mean, mean)  # Phi^T H Phi without a centred copy
    w = np.asarray(weights, dtype=float)
    fro = np.sqrt(max(float(w @ (G**2) @ w), 1e-300))
    L = (D * (w / fro)) @ D.T
    B = L + mu * np.eye(A.shape[0])
    k = int(min(n_components, A.shape[0]))
    _, V = eigh(A, B, subset_by_index=[A.shape[0] - k, A.shape[0] - 1])
    return V[:, ::-1]


@register("tca")
class TCA(BaseAdapter):
    """Transfer Component Analysis with a linear, Nystroem or random-features kernel.

    Parameters
    ----------
    n_components : int, default=100
        Dimension of the shared space.
    mu : float, default=1.0
        Regularisation of the projection (the eigenproblem's ``mu I``).
    kernel : {'linear', 'rbf'}, default='linear'
    gamma : float, 'median' or 'scale', default='median'
        RBF bandwidth (``'median'``: median heuristic).
    n_kernel_components : int, default=500
        Landmarks (Nystroem) or random features for the RBF kernel; memory is O(n m).
    approx : {'nystroem', 'rff'}, default='nystroem'
    normalize : bool, default=True
        L2-normalise input rows and output rows (as in the reference code).
    random_state : int, default=0
    form : {'primal', 'kernel'}, default='primal'
        ``'primal'``: project the (mapped) features, penalising the direction's norm;
        ``'kernel'``: Pan et al.'s kernel TCA (as in skada / ADAPT), projecting the empirical
        kernel map and penalising the coefficients' norm (module notes).
    """

    def __init__(self, n_components=100, mu=1.0, kernel="linear", gamma="median",
                 n_kernel_components=500, approx="nystroem", normalize=True, random_state=0,
                 form="primal"):
        self.n_components = n_components
        self.mu = mu
        self.kernel = kernel
        self.gamma = gamma
        self.n_kernel_components = n_kernel_components
        self.approx = approx
        self.normalize = normalize
        self.random_state = random_state
        self.form = form

    def _map(self, X):
        return self.kmap_.transform(l2_rows(X) if self.normalize else X)

    def _fit_map(self, X):
        """``(Phi, R)``: the samples in the space the eigenproblem is solved in, and the basis
        that maps ``self._map`` there (``None`` for the primal form); the fitted
        ``components_`` are ``R @ w``, so the transform is ``self._map(X) @ components_``."""
        if self.form not in ("primal", "kernel"):
            raise DataError(f"form: unknown form {self.form!r} (use 'primal' or 'kernel')")
        self.kmap_ = KernelMap(self.kernel, self.n_kernel_components, self.gamma, self.approx,
                               self.random_state).fit(l2_rows(X) if self.normalize else X)
        Phi = self._map(X)
        if self.form == "primal":
            return Phi, None
        R = kernel_form_basis(Phi)
        return Phi @ R, R

    def _fit(self, X, y, sample_domain):
        Phi, R = self._fit_map(X)
        s, t = np.flatnonzero(sample_domain > 0), np.flatnonzero(sample_domain < 0)
        D, G = mmd_directions(Phi, [(s, t)])
        W = solve_components(Phi, D, [1.0], G, self.mu, self.n_components)
        self.components_ = W if R is None else R @ W

    def _transform(self, X, sample_domain):
        Z = self._map(X) @ self.components_
        return l2_rows(Z) if self.normalize else Z

    def _target_state(self):
        arrays, meta = self.kmap_.export_state()
        arrays = {f"kmap.{k}": v for k, v in arrays.items()}
        arrays["components"] = self.components_
        return arrays, {"kmap": meta, "normalize": bool(self.normalize)}

    def _load_state(self, arrays, meta):
        self.normalize = bool(meta["normalize"])
        self.kmap_ = KernelMap.from_state(
            {k[5:]: v for k, v in arrays.items() if k.startswith("kmap.")}, meta["kmap"])
        self.components_ = arrays["components"]
