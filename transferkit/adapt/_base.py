"""Base classes and helpers for domain adaptation, following skada's ``sample_domain`` convention.

``sample_domain`` is one integer per sample: positive marks a source domain, negative a target
domain. Target labels are masked as ``-1``. When ``sample_domain`` is omitted:

* at fit time it is inferred from ``y`` (``y == -1`` marks target samples, the rest are source);
* at transform / predict time every sample is treated as target.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from ..errors import DataError

MASKED = -1


def check_X_domain(X, sample_domain=None, *, fit=False, y=None):
    """Validate ``X`` and return ``(X float array, sample_domain int array)``.

    At fit time a missing ``sample_domain`` is inferred from ``y`` (``-1`` = target); at
    transform time it defaults to all-target (``-1``).
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise DataError(f"X: expected a 2-D array, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise DataError("X: contains NaN or infinite values")
    n = X.shape[0]
    if sample_domain is None:
        if fit and y is not None:
            y = np.asarray(y)
            sample_domain = np.where(y == MASKED, -1, 1)
        else:
            sample_domain = -np.ones(n, dtype=int)
    sample_domain = np.asarray(sample_domain).astype(int).ravel()
    if sample_domain.shape[0] != n:
        raise DataError(f"sample_domain: length {sample_domain.shape[0]} != {n} samples in X")
    if np.any(sample_domain == 0):
        raise DataError("sample_domain: 0 is not a domain label (use >0 source, <0 target)")
    return X, sample_domain


def source_target_split(X, y=None, sample_domain=None):
    """Split into ``(Xs, Xt, ys, yt)`` by the sign of ``sample_domain`` (``yt`` may be ``-1``)."""
    X = np.asarray(X)
    src = np.asarray(sample_domain) > 0
    if y is None:
        return X[src], X[~src], None, None
    y = np.asarray(y)
    return X[src], X[~src], y[src], y[~src]


def check_source_target(X, y, sample_domain, *, need_target=True, need_labels=False):
    """Validate a fit call and return ``(X, y, sample_domain, source mask)``."""
    X, sample_domain = check_X_domain(X, sample_domain, fit=True, y=y)
    src = sample_domain > 0
    if not src.any():
        raise DataError("sample_domain: no source samples (positive domain labels)")
    if need_target and src.all():
        raise DataError("sample_domain: no target samples (negative domain labels)")
    if y is not None:
        y = np.asarray(y)
        if y.shape[0] != X.shape[0]:
            raise DataError(f"y: length {y.shape[0]} != {X.shape[0]} samples in X")
        if need_labels and np.any(y[src] == MASKED):
            raise DataError("y: source samples must be labelled (found -1)")
    elif need_labels:
        raise DataError("y: labels are required for this method")
    return X, y, sample_domain, src


def mark_target(y, sample_domain):
    """Return a copy of ``y`` with target labels masked as ``-1``."""
    y = np.array(y, copy=True)
    y[np.asarray(sample_domain) < 0] = MASKED
    return y


def pack(Xs, Xt, ys=None):
    """Stack source and target into ``(X, y, sample_domain)`` (target labels masked)."""
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(len(Xs), dtype=int), -np.ones(len(Xt), dtype=int)]
    y = None
    if ys is not None:
        y = np.r_[np.asarray(ys), np.full(len(Xt), MASKED, dtype=np.asarray(ys).dtype)]
    return X, y, sd


class BaseAdapter(TransformerMixin, BaseEstimator):
    """A transformer fitted on source + target that maps samples into a shared space.

    Subclasses implement ``_fit(X, y, sample_domain)`` and ``_transform(X, sample_domain)``.
    ``transform`` treats every sample as target when ``sample_domain`` is omitted.
    Reweighting adapters set ``reweights = True`` and, after ``fit``, ``sample_weight_`` (one
    weight per fit sample, 0 for target samples) that :class:`DAPipeline` passes on to the
    final estimator.
    """

    __metadata_request__fit = {"sample_domain": True}
    __metadata_request__transform = {"sample_domain": True}
    reweights = False
    needs_labels = False

    def fit(self, X, y=None, sample_domain=None):
        """Fit the adaptation on source (labelled) and target (unlabelled) samples."""
        X, y, sample_domain, _ = check_source_target(
            X, y, sample_domain, need_labels=self.needs_labels
        )
        self.n_features_in_ = X.shape[1]
        self._fit(X, y, sample_domain)
        return self

    def fit_transform(self, X, y=None, sample_domain=None):
        """Fit, then map the same samples (source samples mapped as source)."""
        X, sample_domain = check_X_domain(X, sample_domain, fit=True, y=y)
        return self.fit(X, y, sample_domain).transform(X, sample_domain)

    def transform(self, X, sample_domain=None):
        """Map samples; ``sample_domain=None`` treats them all as target."""
        check_is_fitted(self)
        X, sample_domain = check_X_domain(X, sample_domain)
        if X.shape[1] != self.n_features_in_:
            raise DataError(f"X: {X.shape[1]} features, the adapter was fitted on "
                            f"{self.n_features_in_}")
        if getattr(self, "target_only_", False) and np.any(sample_domain > 0):
            raise DataError(f"{type(self).__name__}: loaded from a model folder, it maps target "
                            "samples only")
        return self._transform(X, sample_domain)

    def _transform(self, X, sample_domain):
        return X

    def __sklearn_is_fitted__(self):
        return hasattr(self, "n_features_in_")

    # -- model files (no pickle): what mapping NEW target samples needs ---------------------
    def _export_state(self) -> tuple[dict, dict]:
        """``(arrays, meta)``: named numpy arrays and JSON-able values that ``transform`` needs
        for target samples. Reweighting adapters leave features unchanged: nothing to store.
        Subclasses that map target samples override :meth:`_target_state`."""
        check_is_fitted(self)
        return self._target_state()

    def _target_state(self) -> tuple[dict, dict]:
        if self.reweights:
            return {}, {}
        raise NotImplementedError(f"{type(self).__name__} cannot be written to a model folder")

    def _load_state(self, arrays: dict, meta: dict) -> None:
        """Inverse of :meth:`_target_state`: set the fitted attributes it saved."""

    @classmethod
    def _from_state(cls, arrays: dict, meta: dict, n_features_in: int):
        """Rebuild a fitted adapter from :meth:`_export_state`; it maps target samples only."""
        obj = cls()
        obj.n_features_in_ = int(n_features_in)
        obj.target_only_ = True
        obj._load_state(arrays, meta)
        return obj


class DAEstimator(ClassifierMixin, BaseEstimator):
    """Final step for a plain sklearn ``Pipeline``: drops target samples (``y == -1``) at fit.

    ``predict``/``predict_proba`` accept and ignore ``sample_domain``.
    """

    __metadata_request__fit = {"sample_domain": True}

    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, X, y, sample_domain=None, sample_weight=None):
        X = np.asarray(X)
        y = np.asarray(y)
        keep = y != MASKED
        if sample_domain is not None:
            keep &= np.asarray(sample_domain) > 0
        self.estimator_ = _fit_est(self.estimator, X[keep], y[keep],
                                   None if sample_weight is None
                                   else np.asarray(sample_weight)[keep])
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X, sample_domain=None):
        return self.estimator_.predict(X)

    def predict_proba(self, X, sample_domain=None):
        return self.estimator_.predict_proba(X)


def _default_estimator():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def _fit_est(estimator, X, y, sample_weight=None):
    est = clone(estimator) if estimator is not None else _default_estimator()
    if sample_weight is None:
        est.fit(X, y)
    elif not has_fit_parameter(est, "sample_weight"):
        raise DataError(f"estimator: {type(est).__name__} does not accept sample_weight, so it "
                        "cannot be used after a reweighting adapter")
    else:
        est.fit(X, y, sample_weight=sample_weight)
    return est


class DAPipeline(ClassifierMixin, BaseEstimator):
    """An adapter (or ``None`` for source-only) followed by a classifier trained on source.

    ``fit(X, y, sample_domain)``: fit the adapter on all samples, map them, then fit the
    estimator on the labelled source samples (weighted by ``adapter.sample_weight_`` for
    reweighting adapters). ``predict(X, sample_domain=None)`` maps samples (as target by
    default) and predicts. Nested parameters (``adapter__reg``, ``estimator__C``) work with
    ``GridSearchCV``; ``sample_domain`` passed to ``GridSearchCV.fit`` is split with the folds.
    """

    __metadata_request__fit = {"sample_domain": True}
    __metadata_request__predict = {"sample_domain": True}
    __metadata_request__predict_proba = {"sample_domain": True}
    __metadata_request__score = {"sample_domain": True}

    def __init__(self, adapter=None, estimator=None):
        self.adapter = adapter
        self.estimator = estimator

    def fit(self, X, y, sample_domain=None):
        """Fit adapter and final estimator (target labels must be masked as -1)."""
        X, y, sample_domain, src = check_source_target(X, y, sample_domain, need_target=False)
        y = np.asarray(y)
        weight = None
        if self.adapter is None:
            self.adapter_ = None
            Z = X
        else:
            self.adapter_ = clone(self.adapter)
            Z = self.adapter_.fit_transform(X, y, sample_domain)
            if getattr(self.adapter_, "reweights", False):
                weight = np.asarray(self.adapter_.sample_weight_)
        labelled = y != MASKED
        if not getattr(self.adapter_, "uses_target_labels", False):
            labelled &= src
        self.estimator_ = _fit_est(self.estimator, Z[labelled], y[labelled],
                                   None if weight is None else weight[labelled])
        self.classes_ = self.estimator_.classes_
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X, sample_domain=None):
        """Map samples into the adapted space (identity for source-only / reweighting)."""
        check_is_fitted(self)
        X, sample_domain = check_X_domain(X, sample_domain)
        if self.adapter_ is None:
            return X
        return self.adapter_.transform(X, sample_domain)

    def predict(self, X, sample_domain=None):
        return self.estimator_.predict(self.transform(X, sample_domain))

    def predict_proba(self, X, sample_domain=None):
        return self.estimator_.predict_proba(self.transform(X, sample_domain))

    def score(self, X, y, sample_domain=None):
        """Accuracy on the labelled samples of ``X`` (masked ``-1`` labels are ignored)."""
        y = np.asarray(y)
        keep = y != MASKED
        sd = None if sample_domain is None else np.asarray(sample_domain)[keep]
        return float(np.mean(self.predict(np.asarray(X)[keep], sd) == y[keep]))


def make_da_pipeline(adapter=None, estimator=None):
    """Build a :class:`DAPipeline` (``adapter=None`` = source-only; estimator default LR)."""
    return DAPipeline(adapter=adapter, estimator=estimator)
