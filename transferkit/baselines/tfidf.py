"""The text baseline: TF-IDF of word 1-2-grams (sublinear tf) + logistic regression, C by CV."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from transferkit.baselines._inputs import InputError


def _check_texts(X) -> list[str]:
    if isinstance(X, str) or not hasattr(X, "__len__"):
        raise InputError("texts: expected a list of strings, got a single value")
    texts = list(X)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise InputError(f"texts: item {bad[0]} is {type(texts[bad[0]]).__name__}, not a string")
    if not texts:
        raise InputError("texts: no samples")
    return texts


class TfidfLogRegClassifier(ClassifierMixin, BaseEstimator):
    """``Pipeline(TfidfVectorizer, LogisticRegression)`` with C picked by stratified CV.

    Parameters
    ----------
    ngram_range : (int, int)
        Word n-grams for the vectoriser (default unigrams + bigrams).
    sublinear_tf : bool
        Use 1 + log(tf).
    min_df : int or float
        Passed to :class:`~sklearn.feature_extraction.text.TfidfVectorizer`.
    Cs : sequence of float
        Candidate inverse regularisation strengths.
    cv : int
        Folds of the stratified, shuffled CV that picks C (the vectoriser is refitted inside
        each fold, so no information leaks). Reduced to the smallest class count when that is
        smaller; below 2, no CV is run and ``C=default_C`` is used.
    default_C : float
        C used when there are too few samples per class to cross-validate.
    max_iter : int
        Iterations of the LBFGS solver.
    seed : int
        Shuffles the CV folds.

    Fitted attributes: ``classes_``, ``pipeline_`` (the refitted best pipeline), ``C_``,
    ``cv_results_`` (None when no CV ran), ``n_trainable_params_`` (coefficients + intercepts).
    """

    def __init__(
        self,
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=1,
        Cs=(0.1, 1.0, 10.0, 100.0),
        cv=5,
        default_C=10.0,
        max_iter=2000,
        seed=0,
    ):
        self.ngram_range = ngram_range
        self.sublinear_tf = sublinear_tf
        self.min_df = min_df
        self.Cs = Cs
        self.cv = cv
        self.default_C = default_C
        self.max_iter = max_iter
        self.seed = seed

    def _pipeline(self, C):
        return Pipeline(
            [
                (
                    "tfidf",
                    TfidfVectorizer(
                        ngram_range=tuple(self.ngram_range),
                        sublinear_tf=self.sublinear_tf,
                        min_df=self.min_df,
                    ),
                ),
                ("clf", LogisticRegression(C=C, max_iter=self.max_iter)),
            ]
        )

    def fit(self, X, y):
        """Fit on a list of texts ``X`` and labels ``y``; returns self."""
        texts = _check_texts(X)
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(texts):
            raise InputError(f"labels: expected {len(texts)} labels in a 1-D array, got {y.shape}")
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            raise InputError(f"labels: need at least 2 classes, got {len(classes)}")
        n_folds = min(int(self.cv), int(counts.min()))
        if n_folds >= 2 and len(self.Cs) > 1:
            folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=self.seed)
            search = GridSearchCV(
                self._pipeline(self.default_C),
                {"clf__C": list(self.Cs)},
                cv=folds,
                scoring="accuracy",
            ).fit(texts, y)
            self.pipeline_ = search.best_estimator_
            self.C_ = float(search.best_params_["clf__C"])
            self.cv_results_ = search.cv_results_
        else:
            self.C_ = float(self.Cs[0] if len(self.Cs) == 1 else self.default_C)
            self.pipeline_ = self._pipeline(self.C_).fit(texts, y)
            self.cv_results_ = None
        self.classes_ = self.pipeline_.classes_
        clf = self.pipeline_.named_steps["clf"]
        self.n_trainable_params_ = int(clf.coef_.size + clf.intercept_.size)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_proba(_check_texts(X))

    def predict(self, X) -> np.ndarray:
        """Predicted labels."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict(_check_texts(X))
