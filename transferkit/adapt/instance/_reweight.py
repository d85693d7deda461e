"""Shared base for reweighting adapters."""

from __future__ import annotations

import numpy as np

from .._base import BaseAdapter


class BaseReweighter(BaseAdapter):
    """Adapter that leaves features unchanged and sets ``sample_weight_`` on the fit samples.

    Subclasses implement one of ``_weights(Xs, Xt) -> weights for Xs`` (mean about 1) and
    ``_weights_of(X, src)`` (weights for ``X[src]`` from all rows, without copying the
    source and target rows out of ``X``); each default calls the other.
    ``compute_weights(X)`` gives weights for new source samples where the method allows it.
    """

    reweights = True

    def _weights_of(self, X, src):
        return self._weights(X[src], X[~src])

    def _weights(self, Xs, Xt):
        src = np.r_[np.ones(len(Xs), dtype=bool), np.zeros(len(Xt), dtype=bool)]
        return self._weights_of(np.vstack([Xs, Xt]), src)

    def _fit(self, X, y, sample_domain):
        src = sample_domain > 0
        w = np.zeros(X.shape[0])
        w[src] = self._weights_of(X, src)
        self.sample_weight_ = w
        self.source_weights_ = w[src]
