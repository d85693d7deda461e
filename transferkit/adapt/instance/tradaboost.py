"""TrAdaBoost (Dai et al., 2007): boosting for transfer when a few target labels exist.

Source and labelled target samples are fitted together; each round, misclassified source
samples lose weight (they look unlike the target) and misclassified target samples gain
weight (AdaBoost). The prediction is the weighted vote of the second half of the rounds.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression

from ...errors import DataError
from .._base import MASKED, check_source_target
from .._registry import register


@register("tradaboost")
class TrAdaBoost(ClassifierMixin, BaseEstimator):
    """TrAdaBoost classifier; target samples with labels (``y != -1``) are required.

    Parameters
    ----------
    estimator : classifier accepting sample_weight, default=LogisticRegression
    n_estimators : int, default=20
    random_state : int, default=0 (passed to the estimator when it has one)
    """

    __metadata_request__fit = {"sample_domain": True}
    __metadata_request__predict = {"sample_domain": True}
    needs_target_labels = True

    def __init__(self, estimator=None, n_estimators=20, random_state=0):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.random_state = random_state

    def fit(self, X, y, sample_domain=None):
        X, y, sample_domain, src = check_source_target(X, y, sample_domain, need_labels=True)
        tgt = (~src) & (y != MASKED)
        if not tgt.any():
            raise DataError("TrAdaBoost: needs some labelled target samples (y != -1 where "
                            "sample_domain < 0)")
        keep = src | tgt
        X, y, is_src = X[keep], y[keep], src[keep]
        n = int(is_src.sum())
        N = int(self.n_estimators)
        beta = 1.0 / (1.0 + np.sqrt(2.0 * np.log(max(n, 2)) / N))
        w = np.ones(len(y))
        self.classes_ = np.unique(y)
        ests, alphas = [], []
        for _ in range(N):
            p = w / w.sum()
            est = clone(self.estimator) if self.estimator is not None else LogisticRegression(
                max_iter=1000)
            if "random_state" in est.get_params():
                est.set_params(random_state=self.random_state)
            est.fit(X, y, sample_weight=p * len(p))
            wrong = est.predict(X) != y
            err = float(np.sum(p[~is_src] * wrong[~is_src]) / np.sum(p[~is_src]))
            err = min(max(err, 1e-10), 0.499)
            beta_t = err / (1 - err)
            w[is_src] *= beta ** wrong[is_src]
            w[~is_src] *= beta_t ** (-wrong[~is_src].astype(float))
            ests.append(est)
            alphas.append(np.log(1.0 / beta_t))
        half = N // 2
        self.estimators_, self.estimator_weights_ = ests[half:], np.array(alphas[half:])
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X, sample_domain=None):
        X = np.asarray(X, dtype=float)
        P = np.zeros((X.shape[0], len(self.classes_)))
        for est, a in zip(self.estimators_, self.estimator_weights_, strict=True):
            cols = np.searchsorted(self.classes_, est.classes_)
            P[:, cols] += a * est.predict_proba(X)
        return P / max(self.estimator_weights_.sum(), 1e-12)

    def predict(self, X, sample_domain=None):
        return self.classes_[np.argmax(self.predict_proba(X), 1)]

    # -- model files (no pickle) ------------------------------------------------------------
    def _export_state(self) -> tuple[dict, dict]:
        """``(arrays, meta)``: the vote weights and every kept round's logistic regression."""
        from ..modelfile import export_classifier

        arrays = {"classes": np.asarray(self.classes_),
                  "estimator_weights": np.asarray(self.estimator_weights_, dtype=np.float64)}
        metas = []
        for i, est in enumerate(self.estimators_):
            a, m = export_classifier(est)
            arrays.update({f"round{i}.{k}": v for k, v in a.items()})
            metas.append(m)
        return arrays, {"rounds": metas, "n_features_in": int(self.n_features_in_)}

    @classmethod
    def _from_state(cls, arrays: dict, meta: dict, n_features_in: int | None = None):
        """Rebuild a fitted TrAdaBoost from :meth:`_export_state`."""
        from ..modelfile import rebuild_classifier

        obj = cls()
        obj.classes_ = arrays["classes"]
        obj.estimator_weights_ = arrays["estimator_weights"]
        obj.estimators_ = []
        for i, m in enumerate(meta["rounds"]):
            pre = f"round{i}."
            obj.estimators_.append(rebuild_classifier(
                {k[len(pre):]: v for k, v in arrays.items() if k.startswith(pre)}, m))
        obj.n_features_in_ = int(meta["n_features_in"])
        return obj
