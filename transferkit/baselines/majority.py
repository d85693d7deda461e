"""The majority-class baseline: scikit-learn's ``DummyClassifier(strategy='most_frequent')``."""

from __future__ import annotations

from sklearn.dummy import DummyClassifier


class MajorityClassifier(DummyClassifier):
    """Always predicts the most frequent training class (ties: the smallest label).

    A thin subclass of :class:`sklearn.dummy.DummyClassifier` whose default strategy is
    ``'most_frequent'``; it only adds ``n_trainable_params_ = 0`` so every baseline reports
    its size the same way. ``X`` may be anything with a length (arrays of any shape, lists
    of paths or texts): it is never looked at.
    """

    def __init__(self, *, strategy="most_frequent", random_state=None, constant=None):
        super().__init__(strategy=strategy, random_state=random_state, constant=constant)

    def fit(self, X, y, sample_weight=None):
        """Record the class frequencies of ``y``; returns self."""
        super().fit(X, y, sample_weight=sample_weight)
        self.n_trainable_params_ = 0
        return self
