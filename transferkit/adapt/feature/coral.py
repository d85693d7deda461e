"""CORAL: correlation alignment (Sun, Feng & Saenko, 2016).

Source samples are whitened with the source covariance and re-coloured with the target
covariance, ``Xs' = Xs Cs^{-1/2} Ct^{1/2}`` with ``C = cov + reg I``. Target samples are left
unchanged. Memory O(d^2); no n x n matrix.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh

from .._base import BaseAdapter
from .._registry import register


def _sqrtm(C, inverse=False):
    w, V = eigh(C, driver="evd")  # divide and conquer: ~3x faster than the default 'evr'
    w = np.maximum(w, 1e-12)
    p = -0.5 if inverse else 0.5
    return (V * w**p) @ V.T


def covariance(X, reg):
    """Covariance of X plus ``reg`` times the identity (``reg='auto'``: Ledoit-Wolf shrinkage)."""
    if reg == "auto":
        from sklearn.covariance import ledoit_wolf

        C, _ = ledoit_wolf(X)
        return C
    return np.cov(X, rowvar=False) + float(reg) * np.eye(X.shape[1])


@register("coral")
class CORAL(BaseAdapter):
    """Correlation alignment of the source to the target covariance.

    Parameters
    ----------
    reg : float or 'auto', default='auto'
        ``'auto'`` uses Ledoit-Wolf shrinkage; a float is added to both covariance diagonals
        (1.0 in the original paper).
    """

    def __init__(self, reg="auto"):
        self.reg = reg

    def _fit(self, X, y, sample_domain):
        Xs, Xt = X[sample_domain > 0], X[sample_domain < 0]
        Cs, Ct = covariance(Xs, self.reg), covariance(Xt, self.reg)
        self.A_ = _sqrtm(Cs, inverse=True) @ _sqrtm(Ct)

    def _transform(self, X, sample_domain):
        out = X.copy()
        src = sample_domain > 0
        if src.any():
            out[src] = X[src] @ self.A_
        return out

    def _target_state(self):
        return {}, {}  # target samples are left unchanged: nothing to store
