"""Shared base for reweighting adapters."""

from __future__ import annotations

import numpy as np

from .._base import BaseAdapter


class BaseReweighter(BaseAdapter):
    """Adapter that leaves features unchanged and sets ``sample_weight_`` on the fit samples.

    Subclasses implement ``_weights(Xs, Xt) -> weights for Xs`` (mean about 1).
    ``compute_weights(X)`` gives weights for new source samples where the method allows it.
    """

    reweights = True

    def _fit(self, X, y, sample_domain):
        src = sample_domain > 0
        w = np.zeros(X.shape[0])
        w[src] = self._weights(X[src], X[~src])
        self.sample_weight_ = w
        self.source_weights_ = w[src]
