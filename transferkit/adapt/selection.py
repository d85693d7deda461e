"""Domain-aware cross-validation and label-free selection among candidate estimators."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedShuffleSplit

from ._base import MASKED


class DomainAwareSplit:
    """CV splitter for unsupervised DA: source samples are split into train/validation,
    every target sample (``y == -1``) appears in both the train and the test indices.

    Use as ``GridSearchCV(..., cv=DomainAwareSplit())`` with target labels masked as -1.
    """

    def __init__(self, n_splits=3, test_size=0.3, random_state=0):
        self.n_splits = n_splits
        self.test_size = test_size
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits

    def split(self, X, y, groups=None):
        y = np.asarray(y)
        src, tgt = np.flatnonzero(y != MASKED), np.flatnonzero(y == MASKED)
        sss = StratifiedShuffleSplit(self.n_splits, test_size=self.test_size,
                                     random_state=self.random_state)
        for tr, te in sss.split(src, y[src]):
            yield np.r_[src[tr], tgt], np.r_[src[te], tgt]


def score_candidates(candidates, X, y, sample_domain, scorer, cv=None):
    """Mean CV score of each candidate ``{name: estimator}`` under label-free scorer(s).

    ``y`` must have target labels masked (-1). ``scorer`` is one scorer (returns
    ``{candidate: mean score}``) or a dict ``{scorer name: scorer}`` (returns
    ``{scorer name: {candidate: mean score}}``; each fold is fitted once for all scorers).
    """
    cv = cv or DomainAwareSplit()
    X, y, sd = np.asarray(X), np.asarray(y), np.asarray(sample_domain)
    single = not isinstance(scorer, dict)
    scorers = {"score": scorer} if single else scorer
    out = {k: {} for k in scorers}
    splits = list(cv.split(X, y))
    for name, est in candidates.items():
        vals = {k: [] for k in scorers}
        for tr, te in splits:
            fitted = clone(est).fit(X[tr], y[tr], sample_domain=sd[tr])
            for k, sc in scorers.items():
                vals[k].append(sc(fitted, X[te], y[te], sample_domain=sd[te]))
        for k in scorers:
            out[k][name] = float(np.mean(vals[k]))
    return out["score"] if single else out


def best_or_source_only(scores, margin=0.0):
    """The candidate with the highest score, or ``'none'`` (source-only) unless it beats
    source-only's score by more than ``margin``."""
    best = max(scores, key=scores.get)
    return best if scores[best] - scores["none"] > margin else "none"


def committee_agreement(predictions, reference="none", leave_one_out=False):
    """Label-free score of each candidate from the candidates' own target predictions.

    ``predictions`` maps candidate name -> predicted target labels (the same samples for
    all). The pseudo-label of a sample is the majority vote of all candidates, ties going to
    ``reference``'s label (source-only by default); a candidate's score is the share of
    samples where it agrees with the vote. Agreement with an ensemble's vote as a proxy of
    accuracy: Jiang et al. (2022), Chen et al. (2021). It needs no cluster structure in the
    target, only candidates whose errors are not all the same.

    ``leave_one_out=True`` scores each candidate against the vote of the *other* candidates
    (as an annotator is scored against the rest of a crowd), so its own vote does not count
    for it; where labels tie for the others' top vote, naming one of them scores
    1 / (number tied), so no candidate's label is favoured (``reference`` is then only
    checked to be present). Not the default: on held-out text sets it fell below source-only
    more often than the whole committee's vote (docs/adapt.md, ``bench/da_agreement_loo.py``).
    """
    names = list(predictions)
    if reference not in predictions:
        raise ValueError(f"reference {reference!r} is not among the candidates")
    P = np.stack([np.asarray(predictions[n]) for n in names])
    classes, codes = np.unique(P, return_inverse=True)
    codes = codes.reshape(P.shape)
    cols = np.arange(P.shape[1])
    counts = np.zeros((len(classes), P.shape[1]), dtype=int)
    for row in codes:
        counts[row, cols] += 1
    if leave_one_out:
        out = {}
        for i, n in enumerate(names):
            others = counts.copy()
            others[codes[i], cols] -= 1
            top = others.max(0)
            tied = (others == top).sum(0)
            out[n] = float(np.mean((others[codes[i], cols] == top) / tied))
        return out
    top = counts.max(0)
    ref = codes[names.index(reference)]
    # the reference's label wins a tie; otherwise the most voted label
    vote = np.where(counts[ref, cols] == top, ref, counts.argmax(0))
    return {n: float(np.mean(codes[i] == vote)) for i, n in enumerate(names)}
