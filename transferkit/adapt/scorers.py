"""Label-free model selection scorers (no target labels), usable as sklearn ``scoring=``.

Each scorer is called as ``scorer(estimator, X, y, sample_domain=None)``; target samples are
those with ``sample_domain < 0`` (or, when ``sample_domain`` is not routed, ``y == -1``).
Source samples in ``X`` must be held out from the estimator's training (use
:class:`~transferkit.adapt.selection.DomainAwareSplit` as the ``cv``). Greater is better.

* :class:`ImportanceWeightedScorer` -- importance-weighted validation (Sugiyama et al., 2007):
  source validation accuracy weighted by domain-classifier density ratios.
* :class:`DeepEmbeddedValidation` -- DEV (You et al., 2019): importance-weighted source loss
  in the adapted feature space, with the control-variate correction.
* :class:`SoftNeighborhoodDensity` -- SND (Saito et al., 2021): entropy of the soft
  neighbourhood of target predictions.
* :class:`ReverseValidation` -- RV (Zhong et al., 2010): a reverse model trained on the
  pseudo-labelled target, scored on held-out source labels.
* :class:`NeighborhoodConsistency` -- NC: how well target predictions follow the target's own
  k-nearest-neighbour graph (the cluster assumption), as Cohen's kappa against chance.
"""

from __future__ import annotations

import hashlib

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils.metadata_routing import _MetadataRequester

from ._base import MASKED, pack

_EPS = 1e-12


def _domains(X, y, sample_domain):
    X = np.asarray(X, dtype=float)
    y = None if y is None else np.asarray(y)
    if sample_domain is None:
        if y is None:
            raise ValueError("scorer: need sample_domain or y with -1 marking target samples")
        sample_domain = np.where(y == MASKED, -1, 1)
    sample_domain = np.asarray(sample_domain).astype(int)
    src = sample_domain > 0
    if y is not None:
        src &= y != MASKED
    return X, y, sample_domain, src


def domain_odds(Zs, Zt, C=1.0, seed=0, max_weight=20.0):
    """Cross-fitted density ratio ``p(t|z)/p(s|z) * ns/nt`` for the source rows ``Zs``."""
    Z = np.vstack([Zs, Zt])
    d = np.r_[np.zeros(len(Zs)), np.ones(len(Zt))]
    n_splits = int(min(3, len(Zs), len(Zt)))
    folds = StratifiedKFold(n_splits=max(n_splits, 2), shuffle=True, random_state=seed)
    p = cross_val_predict(LogisticRegression(C=C, max_iter=500), Z, d, cv=folds,
                          method="predict_proba")[: len(Zs), 1]
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.minimum(p / (1 - p) * len(Zs) / len(Zt), max_weight)


def _features(estimator, X, sample_domain):
    if hasattr(estimator, "transform"):
        return np.asarray(estimator.transform(X, sample_domain=sample_domain), dtype=float)
    return X


def _proba(estimator, X, sample_domain):
    try:
        return estimator.predict_proba(X, sample_domain=sample_domain)
    except TypeError:
        return estimator.predict_proba(X)


def _predict(estimator, X, sample_domain):
    try:
        return estimator.predict(X, sample_domain=sample_domain)
    except TypeError:
        return estimator.predict(X)


class _DomainScorer(_MetadataRequester):
    __metadata_request__score = {"sample_domain": True}
    needs_target_labels = False

    def __call__(self, estimator, X, y=None, sample_domain=None, **kwargs):
        return float(self._score(estimator, *_domains(X, y, sample_domain)))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class ImportanceWeightedScorer(_DomainScorer):
    """Importance-weighted validation accuracy (or negative log-loss) on source samples.

    Parameters
    ----------
    metric : {'accuracy', 'log_loss'}, default='accuracy'
    C : float, default=1.0  (domain classifier regularisation)
    seed : int, default=0
    """

    def __init__(self, metric="accuracy", C=1.0, seed=0):
        self.metric = metric
        self.C = C
        self.seed = seed

    def _score(self, estimator, X, y, sd, src):
        tgt = sd < 0
        w = domain_odds(X[src], X[tgt], self.C, self.seed)
        if self.metric == "log_loss":
            P = _proba(estimator, X[src], sd[src])
            idx = np.searchsorted(estimator.classes_, y[src])
            loss = -np.log(np.clip(P[np.arange(len(idx)), idx], _EPS, 1))
            return -float(np.sum(w * loss) / np.sum(w))
        ok = _predict(estimator, X[src], sd[src]) == y[src]
        return float(np.sum(w * ok) / np.sum(w))


class DeepEmbeddedValidation(_DomainScorer):
    """DEV: weighted source log-loss, variance-reduced by a control variate.

    The density ratio is estimated by a cross-fitted logistic domain classifier. With
    ``space='features'`` (the paper's form) it is fitted on each estimator's own features
    (``estimator.transform``, or X); with ``space='input'`` on the input X, so every candidate
    of a selection is weighed by the same ratio. The paper's form favours any method that
    makes the domains hard to tell apart: its weights flatten and its risk drops, whether or
    not its predictions improve (CORAL on Amazon reviews, docs/adapt.md). Returns ``-risk``.
    """

    def __init__(self, C=1.0, seed=0, space="features"):
        self.C = C
        self.seed = seed
        self.space = space

    def _score(self, estimator, X, y, sd, src):
        tgt = sd < 0
        if self.space == "input":
            Zs, Zt = X[src], X[tgt]
        elif self.space == "features":
            Zs = _features(estimator, X[src], sd[src])
            Zt = _features(estimator, X[tgt], sd[tgt])
        else:
            raise ValueError(f"space={self.space!r}: expected 'features' or 'input'")
        w = domain_odds(Zs, Zt, self.C, self.seed)
        P = _proba(estimator, X[src], sd[src])
        idx = np.searchsorted(estimator.classes_, y[src])
        loss = -np.log(np.clip(P[np.arange(len(idx)), idx], _EPS, 1))
        wl = w * loss
        var = np.var(w)
        eta = -np.cov(wl, w)[0, 1] / var if var > _EPS else 0.0
        risk = np.mean(wl) + eta * np.mean(w) - eta
        return -float(risk)


class SoftNeighborhoodDensity(_DomainScorer):
    """SND: mean entropy of the softmax similarity between target prediction vectors.

    Parameters
    ----------
    T : float, default=0.05  (temperature)
    max_samples : int, default=1000  (target subsample; memory O(max_samples^2))
    seed : int, default=0
    """

    def __init__(self, T=0.05, max_samples=1000, seed=0):
        self.T = T
        self.max_samples = max_samples
        self.seed = seed

    def _score(self, estimator, X, y, sd, src):
        tgt = np.flatnonzero(sd < 0)
        rng = np.random.default_rng(self.seed)
        if len(tgt) > self.max_samples:
            tgt = rng.choice(tgt, self.max_samples, replace=False)
        P = _proba(estimator, X[tgt], sd[tgt])
        P = P / np.maximum(np.linalg.norm(P, axis=1, keepdims=True), _EPS)
        S = P @ P.T / self.T
        np.fill_diagonal(S, -np.inf)
        S -= S.max(1, keepdims=True)
        E = np.exp(S)
        E /= E.sum(1, keepdims=True)
        return float(np.mean(-np.sum(E * np.log(np.maximum(E, 1e-300)), axis=1)))


class ReverseValidation(_DomainScorer):
    """Reverse validation (Zhong et al., 2010): label the target with the fitted estimator,
    fit a clone of it in the reverse direction (the pseudo-labelled target as source, the
    held-out source samples as unlabelled target) and return its accuracy on those source
    samples' true labels.

    Unlike IWV and DEV, which score the estimator on source samples, this sees what a
    transductive method (JDA, MEDA) does on the target: wrong target labels train a reverse
    model that fails on the source. It costs one more fit per candidate.

    Parameters
    ----------
    seed : int, default=0  (unused; kept for a uniform scorer signature)
    """

    def __init__(self, seed=0):
        self.seed = seed

    def _score(self, estimator, X, y, sd, src):
        tgt = sd < 0
        if not src.any() or not tgt.any():
            return -np.inf
        pseudo = np.asarray(_predict(estimator, X[tgt], sd[tgt]))
        if len(np.unique(pseudo)) < 2:
            return 0.0  # one predicted class: the reverse model cannot be trained
        Xr, yr, sdr = pack(X[tgt], X[src], pseudo)  # the pseudo-labelled target as source
        rev = clone(estimator)
        try:
            rev.fit(Xr, yr, sample_domain=sdr)
        except TypeError:
            rev.fit(Xr, yr, sdr)
        back = _predict(rev, X[src], sdr[sdr < 0])
        return float(np.mean(np.asarray(back) == y[src]))


class NeighborhoodConsistency(_DomainScorer):
    """Neighbourhood consistency of the target predictions (the cluster assumption).

    The k nearest neighbours of each target sample are found among the target samples in the
    *input* space ``X`` (the same graph for every candidate, so scores are comparable). The
    score is the agreement between each sample's predicted label and its neighbours',
    corrected for chance as Cohen's kappa: ``(agree - sum_c pi_c^2) / (1 - sum_c pi_c^2)``
    with ``pi`` the predicted class shares. A constant prediction scores 0, predictions that
    follow the target's clusters score near 1.

    Unlike IWV and DEV, which look at source samples only, it sees what a transductive method
    does on the target. Its bias: it rewards smooth predictions on the target graph, which is
    what MEDA's Laplacian term optimises; on SURF and EfficientNet features it chose MEDA or
    JDA, the best methods there (see docs/adapt.md), but on features whose neighbourhoods do
    not follow the classes it favours any smooth labelling.

    Parameters
    ----------
    n_neighbors : int, default=10
    max_samples : int, default=3000  (target subsample for the k-NN graph)
    seed : int, default=0
    """

    def __init__(self, n_neighbors=10, max_samples=3000, seed=0):
        self.n_neighbors = n_neighbors
        self.max_samples = max_samples
        self.seed = seed

    def _graph(self, X, sd):
        """Target rows (subsampled) and their k-NN indices among themselves, or None.

        The graph depends on the target rows only, which are the same for every candidate
        and every fold of a selection: the last one is kept, keyed by their content.
        """
        from sklearn.neighbors import NearestNeighbors

        tgt = np.flatnonzero(sd < 0)
        if len(tgt) > self.max_samples:
            tgt = np.sort(np.random.default_rng(self.seed).choice(tgt, self.max_samples,
                                                                  replace=False))
        Xt = np.ascontiguousarray(X[tgt])
        key = (Xt.shape, int(self.n_neighbors),
               hashlib.blake2b(Xt.view(np.uint8), digest_size=16).digest())
        cached = getattr(self, "_graph_cache", None)
        if cached is not None and cached[0] == key:
            return tgt, cached[1]
        k = int(min(self.n_neighbors, len(tgt) - 1))
        idx = None
        if k >= 1:
            idx = NearestNeighbors(n_neighbors=k + 1).fit(Xt).kneighbors(
                Xt, return_distance=False)[:, 1:]  # drop the sample itself
        self._graph_cache = (key, idx)
        return tgt, idx

    @staticmethod
    def _labels(estimator, X, sd, tgt):
        _, p = np.unique(np.asarray(_predict(estimator, X[tgt], sd[tgt])), return_inverse=True)
        return p

    @staticmethod
    def _kappa(p, idx, rows):
        agree = float(np.mean(p[idx[rows]] == p[rows][:, None]))
        pi = np.bincount(p[rows]) / len(rows)
        chance = float(np.sum(pi**2))
        return 0.0 if chance >= 1 - 1e-12 else (agree - chance) / (1 - chance)

    def _score(self, estimator, X, y, sd, src):
        tgt, idx = self._graph(X, sd)
        if idx is None:
            return 0.0
        p = self._labels(estimator, X, sd, tgt)
        return self._kappa(p, idx, np.arange(len(tgt)))

    def win_probability(self, estimator, reference, X, sample_domain, n_boot=200):
        """Bootstrap probability, over target samples, that ``estimator`` scores higher than
        ``reference`` (both fitted; the same resamples for both). ``adapt_features`` keeps
        source-only unless the chosen method wins with at least its ``confidence``."""
        X, _, sd, _ = _domains(X, None, sample_domain)
        tgt, idx = self._graph(X, sd)
        if idx is None:
            return 0.0
        pa, pb = self._labels(estimator, X, sd, tgt), self._labels(reference, X, sd, tgt)
        return self._win(pa, pb, idx, n_boot)

    def win_probability_from_predictions(self, pred, reference_pred, X, sample_domain,
                                         n_boot=200):
        """:meth:`win_probability` from saved target predictions (one label per target row of
        ``X``, in order) instead of fitted estimators; the same value for the same labels."""
        X, _, sd, _ = _domains(X, None, sample_domain)
        tgt, idx = self._graph(X, sd)
        if idx is None:
            return 0.0
        pos = np.searchsorted(np.flatnonzero(sd < 0), tgt)
        pa, pb = (np.unique(np.asarray(p)[pos], return_inverse=True)[1]
                  for p in (pred, reference_pred))
        return self._win(pa, pb, idx, n_boot)

    def _win(self, pa, pb, idx, n_boot):
        rng = np.random.default_rng(self.seed)
        wins = 0
        for _ in range(int(n_boot)):
            rows = rng.integers(0, len(idx), len(idx))
            wins += self._kappa(pa, idx, rows) > self._kappa(pb, idx, rows)
        return wins / int(n_boot)


SCORERS = {
    "iwv": ImportanceWeightedScorer,
    "dev": DeepEmbeddedValidation,
    "snd": SoftNeighborhoodDensity,
    "rv": ReverseValidation,
    "nc": NeighborhoodConsistency,
}


def get_scorer(name):
    """A label-free scorer by name: 'iwv', 'dev', 'snd', 'rv' or 'nc'."""
    from ._registry import UnknownMethodError

    if name not in SCORERS:
        raise UnknownMethodError(f"unknown scorer {name!r}; available: {', '.join(SCORERS)}")
    return SCORERS[name]()
