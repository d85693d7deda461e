"""Per-domain standardisation (z-score each domain with its own mean and deviation)."""

from __future__ import annotations

import numpy as np

from .._base import BaseAdapter


class DomainStandardScaler(BaseAdapter):
    """Z-score every domain with its own statistics (the classic SURF protocol step).

    At transform time each domain label seen at fit uses its own mean/std; unseen labels
    (or ``sample_domain=None``) use the target statistics of the first target domain.
    """

    def __init__(self, eps=1e-8):
        self.eps = eps

    def _fit(self, X, y, sample_domain):
        self.stats_ = {}
        for d in np.unique(sample_domain):
            Xd = X[sample_domain == d]
            self.stats_[int(d)] = (Xd.mean(0), Xd.std(0) + self.eps)
        self.default_domain_ = int(min(self.stats_))

    def _transform(self, X, sample_domain):
        out = np.empty_like(X)
        for d in np.unique(sample_domain):
            m = sample_domain == d
            key = int(d) if int(d) in self.stats_ else self.default_domain_
            mean, std = self.stats_[key]
            out[m] = (X[m] - mean) / std
        return out
