"""Low-rank kernel feature maps so kernel methods never build an n x n matrix.

``KernelMap(kernel, n_components, gamma, approx, seed)`` maps X to Phi (n x m) with
``Phi @ Phi.T ~ K``: ``'linear'`` returns X itself, ``'rbf'`` uses Nystroem (m landmarks drawn
from all samples) or random Fourier features (``approx='rff'``). Memory is O(n m + m^2),
and the map is applied in chunks.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh

from ..errors import DataError

_CHUNK = 8192


def median_gamma(X, max_samples=500, seed=0):
    """RBF ``gamma = 1 / median(squared pairwise distance)`` on a subsample of X."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(X), size=min(len(X), max_samples), replace=False)
    S = X[idx]
    sq = (S * S).sum(1)
    D = np.maximum(sq[:, None] + sq[None, :] - 2 * S @ S.T, 0)
    med = np.median(D[np.triu_indices(len(S), 1)]) if len(S) > 1 else 1.0
    return 1.0 / med if med > 0 else 1.0


def resolve_gamma(X, gamma, seed=0) -> float:
    """The RBF ``gamma`` a kernel map uses: a number as given, ``None``/``'median'`` by
    :func:`median_gamma`, ``'scale'`` as ``1 / (d * var(X))``."""
    if gamma is None or gamma == "median":
        return median_gamma(X, seed=seed)
    if gamma == "scale":
        return 1.0 / (X.shape[1] * X.var())
    return float(gamma)


def _sqdist(A, B):
    return np.maximum((A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2 * A @ B.T, 0)


class KernelMap:
    """Explicit feature map for a kernel (not an estimator: an internal helper)."""

    def __init__(self, kernel="rbf", n_components=500, gamma=None, approx="nystroem", seed=0):
        self.kernel = kernel
        self.n_components = n_components
        self.gamma = gamma
        self.approx = approx
        self.seed = seed

    def fit(self, X):
        X = np.asarray(X, dtype=np.float64)
        if self.kernel == "linear":
            self.dim_ = X.shape[1]
            return self
        if self.kernel != "rbf":
            raise DataError(f"kernel: unknown kernel {self.kernel!r} (use 'linear' or 'rbf')")
        self.gamma_ = float(resolve_gamma(X, self.gamma, self.seed))
        rng = np.random.default_rng(self.seed)
        m = int(min(self.n_components, X.shape[0]))
        if self.approx == "rff":
            self.W_ = rng.normal(scale=np.sqrt(2 * self.gamma_), size=(X.shape[1], m))
            self.b_ = rng.uniform(0, 2 * np.pi, size=m)
        elif self.approx == "nystroem":
            idx = np.sort(rng.choice(X.shape[0], size=m, replace=False))
            self.landmarks_ = X[idx].copy()
            Kmm = np.exp(-self.gamma_ * _sqdist(self.landmarks_, self.landmarks_))
            w, V = eigh(Kmm, driver="evd")
            keep = w > max(w.max(), 1e-12) * 1e-10
            self.proj_ = V[:, keep] / np.sqrt(w[keep])
        else:
            raise DataError(f"approx: unknown approximation {self.approx!r} "
                            "(use 'nystroem' or 'rff')")
        self.dim_ = m if self.approx == "rff" else self.proj_.shape[1]
        return self

    _ARRAYS = ("W_", "b_", "landmarks_", "proj_")

    def export_state(self) -> tuple[dict, dict]:
        """``(arrays, meta)`` of the fitted map (see :meth:`from_state`)."""
        arrays = {k.rstrip("_"): getattr(self, k) for k in self._ARRAYS if hasattr(self, k)}
        meta = {"kernel": self.kernel, "approx": self.approx, "dim": int(self.dim_)}
        if hasattr(self, "gamma_"):
            meta["gamma"] = float(self.gamma_)
        return arrays, meta

    @classmethod
    def from_state(cls, arrays: dict, meta: dict) -> KernelMap:
        """Rebuild a fitted map from :meth:`export_state`."""
        obj = cls(kernel=meta["kernel"], approx=meta["approx"])
        obj.dim_ = int(meta["dim"])
        if "gamma" in meta:
            obj.gamma_ = float(meta["gamma"])
        for k in cls._ARRAYS:
            if k.rstrip("_") in arrays:
                setattr(obj, k, arrays[k.rstrip("_")])
        return obj

    def transform(self, X):
        X = np.asarray(X, dtype=np.float64)
        if self.kernel == "linear":
            return X
        out = np.empty((X.shape[0], self.dim_))
        for s in range(0, X.shape[0], _CHUNK):
            B = X[s:s + _CHUNK]
            if self.approx == "rff":
                out[s:s + _CHUNK] = np.sqrt(2.0 / self.dim_) * np.cos(B @ self.W_ + self.b_)
            else:
                out[s:s + _CHUNK] = np.exp(-self.gamma_ * _sqdist(B, self.landmarks_)) @ self.proj_
        return out
