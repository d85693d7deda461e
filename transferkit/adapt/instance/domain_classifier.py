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
    cv : int or None, default=None
        None: one classifier, and the fit weights are its probabilities on the samples it was
        fitted on (the default classifier's strong L2 penalty keeps it from separating the
        domains by memorising them). An int: the fit weights use out-of-fold probabilities
        of ``cv`` classifiers, fitted besides the one kept for :meth:`compute_weights`.
    """

    def __init__(self, estimator=None, max_weight=10.0, cv=None):
        self.estimator = estimator
        self.max_weight = max_weight
        self.cv = cv

    def _weights_of(self, X, src):
        """Weights of the source rows ``X[src]``; the classifier sees the rows of X as they
        are (target = 1), so no source/target copies of X are made."""
        est = clone(self.estimator) if self.estimator is not None else LogisticRegression(
            C=0.01, max_iter=1000)
        d = (~src).astype(float)
        self.domain_estimator_ = clone(est).fit(X, d)
        if self.cv is None:
            p = self.domain_estimator_.predict_proba(X)[src, 1]
        else:
            k = int(max(2, min(self.cv, int(src.sum()), int((~src).sum()))))
            folds = StratifiedKFold(k, shuffle=True, random_state=0)
            p = cross_val_predict(est, X, d, cv=folds, method="predict_proba")[src, 1]
        self.prior_ratio_ = float(src.sum() / (~src).sum())
        return self._odds(p)

    def _odds(self, p):
        p = np.clip(p, 1e-6, 1 - 1e-6)
        w = np.minimum(p / (1 - p) * self.prior_ratio_, self.max_weight)
        return w / w.mean()

    def compute_weights(self, X):
        """Importance weights for (new) source samples ``X``."""
        return self._odds(self.domain_estimator_.predict_proba(np.asarray(X))[:, 1])
