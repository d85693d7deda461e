"""Importance weights from a domain classifier: ``w(x) = p(t|x) / p(s|x) * ns / nt``."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from .._registry import register
from ._reweight import BaseReweighter


@register("domain_classifier")
class DomainClassifierWeights(BaseReweighter):
    """Reweight source samples by the odds of a probabilistic source-vs-target classifier.

    Parameters
    ----------
    estimator : classifier with predict_proba, default=LogisticRegression(C=0.01)
    max_weight : float, default=10.0
        Weights are clipped to this value (then rescaled to mean 1) to bound the variance.
    cv : int, default=3
        The fit weights use out-of-fold probabilities (a classifier that separates the
        domains perfectly on its own training data would give flat, useless weights).
    """

    def __init__(self, estimator=None, max_weight=10.0, cv=3):
        self.estimator = estimator
        self.max_weight = max_weight
        self.cv = cv

    def _weights(self, Xs, Xt):
        est = clone(self.estimator) if self.estimator is not None else LogisticRegression(
            C=0.01, max_iter=1000)
        Z = np.vstack([Xs, Xt])
        d = np.r_[np.zeros(len(Xs)), np.ones(len(Xt))]
        k = int(max(2, min(self.cv, len(Xs), len(Xt))))
        folds = StratifiedKFold(k, shuffle=True, random_state=0)
        p = cross_val_predict(est, Z, d, cv=folds, method="predict_proba")[: len(Xs), 1]
        self.domain_estimator_ = clone(est).fit(Z, d)
        self.prior_ratio_ = len(Xs) / len(Xt)
        return self._odds(p)

    def _odds(self, p):
        p = np.clip(p, 1e-6, 1 - 1e-6)
        w = np.minimum(p / (1 - p) * self.prior_ratio_, self.max_weight)
        return w / w.mean()

    def compute_weights(self, X):
        """Importance weights for (new) source samples ``X``."""
        return self._odds(self.domain_estimator_.predict_proba(np.asarray(X))[:, 1])
