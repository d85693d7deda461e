"""Subspace Alignment (Fernando et al., 2013).

PCA bases ``Ps`` and ``Pt`` (d components) of each domain; source samples are projected on
``Ps`` and aligned with ``M = Ps^T Pt``; target samples are projected on ``Pt``.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

from .._base import BaseAdapter
from .._registry import register


@register("sa")
class SubspaceAlignment(BaseAdapter):
    """Align the source PCA subspace to the target one.

    Parameters
    ----------
    n_components : int, default=80
        Subspace dimension, capped at the smaller domain's size and the feature count.
    random_state : int, default=0
        Seed for the randomized PCA solver.
    """

    def __init__(self, n_components=80, random_state=0):
        self.n_components = n_components
        self.random_state = random_state

    def _fit(self, X, y, sample_domain):
        Xs, Xt = X[sample_domain > 0], X[sample_domain < 0]
        k = int(min(self.n_components, X.shape[1], len(Xs), len(Xt)))
        ps = PCA(k, svd_solver="randomized", random_state=self.random_state).fit(Xs)
        pt = PCA(k, svd_solver="randomized", random_state=self.random_state).fit(Xt)
        self.mean_source_, self.mean_target_ = ps.mean_, pt.mean_
        Ps, Pt = ps.components_.T, pt.components_.T
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
