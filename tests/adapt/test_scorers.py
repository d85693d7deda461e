"""Label-free scorers rank models sensibly on constructed examples."""

import numpy as np
import pytest

from transferkit.adapt import (
    DeepEmbeddedValidation,
    ImportanceWeightedScorer,
    NeighborhoodConsistency,
    ReverseValidation,
    SoftNeighborhoodDensity,
)
from transferkit.adapt.scorers import get_scorer
from transferkit.errors import TransferkitError


class Fixed:
    """Fake classifier: correct on one half-plane of x0, wrong on the other."""

    classes_ = np.array([0, 1])

    def __init__(self, good_side):
        self.good_side = good_side

    def predict_proba(self, X, sample_domain=None):
        truth = (X[:, 1] > 0).astype(int)
        right = (X[:, 0] > 0) == (self.good_side > 0)
        pred = np.where(right, truth, 1 - truth)
        P = np.full((len(X), 2), 0.1)
        P[np.arange(len(X)), pred] = 0.9
        return P

    def predict(self, X, sample_domain=None):
        return self.predict_proba(X).argmax(1)


def _covariate_shift(seed=0):
    rng = np.random.default_rng(seed)
    Xs = rng.normal(size=(600, 2)) + [-1.0, 0.0]  # mostly x0 < 0
    Xt = rng.normal(size=(600, 2)) * [0.5, 1.0] + [1.5, 0.0]  # x0 > 0
    X = np.vstack([Xs, Xt])
    y = np.r_[(Xs[:, 1] > 0).astype(int), -np.ones(len(Xt), dtype=int)]
    sd = np.r_[np.ones(len(Xs), dtype=int), -np.ones(len(Xt), dtype=int)]
    return X, y, sd


@pytest.mark.parametrize("scorer", [ImportanceWeightedScorer(),
                                    ImportanceWeightedScorer(metric="log_loss"),
                                    DeepEmbeddedValidation(),
                                    DeepEmbeddedValidation(space="input")],
                         ids=["iwv", "iwv_ll", "dev", "dev_input"])
def test_weighted_scorers_prefer_model_right_on_target_region(scorer):
    X, y, sd = _covariate_shift()
    good, bad = Fixed(+1), Fixed(-1)
    # plain source accuracy prefers the bad model (right where the source lives)
    src = sd > 0
    assert np.mean(bad.predict(X[src]) == y[src]) > np.mean(good.predict(X[src]) == y[src])
    assert scorer(good, X, y, sd) > scorer(bad, X, y, sd)
    # sample_domain inferred from the -1 labels gives the same score
    assert scorer(good, X, y) == pytest.approx(scorer(good, X, y, sd))


class Hider(Fixed):
    """The same predictions as Fixed(-1), and a transform that makes the domains identical."""

    def __init__(self):
        super().__init__(-1)

    def transform(self, X, sample_domain=None):
        return np.zeros((len(X), 2)) + np.random.default_rng(0).normal(size=(len(X), 2))


def test_dev_input_space_does_not_reward_hiding_the_shift():
    """DEV's paper form fits the density ratio on each model's own features: a model whose
    features hide the shift gets flat weights and looks better than the same predictions
    without that transform. In the input space both get the same weights, the same score."""
    X, y, sd = _covariate_shift()
    plain, hider = Fixed(-1), Hider()
    assert DeepEmbeddedValidation()(hider, X, y, sd) > DeepEmbeddedValidation()(plain, X, y, sd)
    fair = DeepEmbeddedValidation(space="input")
    assert fair(hider, X, y, sd) == pytest.approx(fair(plain, X, y, sd))
    assert fair(Fixed(+1), X, y, sd) > fair(hider, X, y, sd)
    with pytest.raises(ValueError, match="space="):
        DeepEmbeddedValidation(space="latent")(plain, X, y, sd)


class Probs:
    classes_ = np.array([0, 1, 2])

    def __init__(self, P):
        self.P = P

    def predict_proba(self, X, sample_domain=None):
        return self.P[: len(X)]


def test_snd_prefers_consistent_clusters():
    """SND is larger when each target sample has many confident neighbours that agree."""
    n = 90
    clustered = np.repeat(np.eye(3), n // 3, axis=0) * 0.9 + 0.1 / 3
    rng = np.random.default_rng(0)
    scattered = rng.dirichlet(np.ones(3) * 0.3, size=n)
    X = np.zeros((n, 2))
    sd = -np.ones(n, dtype=int)
    y = -np.ones(n, dtype=int)
    snd = SoftNeighborhoodDensity()
    a, b = snd(Probs(clustered), X, y, sd), snd(Probs(scattered), X, y, sd)
    assert np.isfinite(a) and np.isfinite(b) and a > b


def test_reverse_validation_scores_the_target_labelling():
    """RV trains a clone on the pseudo-labelled target and checks it on the source labels:
    a model that labels the target well scores high, a constant one 0; target labels unread."""
    from sklearn.linear_model import LogisticRegression

    from transferkit.adapt import CORAL, make_da_pipeline

    rng = np.random.default_rng(0)
    ys, yt = np.arange(200) % 2, np.arange(200) % 2
    Xs = rng.normal(size=(200, 2)) + np.c_[ys * 3.0, np.zeros(200)]
    Xt = rng.normal(size=(200, 2)) + np.c_[yt * 3.0, np.zeros(200)] + [0.5, 1.0]
    X = np.vstack([Xs, Xt])
    y = np.r_[ys, -np.ones(200, dtype=int)]
    sd = np.r_[np.ones(200, dtype=int), -np.ones(200, dtype=int)]
    rv = ReverseValidation()
    good = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, y, sd)
    y_skewed = np.r_[np.zeros(199, dtype=int), 1, -np.ones(200, dtype=int)]  # 199 zeros, one 1
    const = make_da_pipeline(CORAL(), LogisticRegression(C=1e-9)).fit(X, y_skewed, sd)
    a = rv(good, X, y, sd)
    assert 0.9 < a <= 1.0
    assert rv(const, X, y, sd) == 0.0  # one predicted class: no reverse model
    leaked = np.r_[ys, yt]  # target labels present but sample_domain marks them target
    assert rv(good, X, leaked, sd) == a
    assert isinstance(get_scorer("rv"), ReverseValidation)


class Rule:
    """Fake classifier predicting from a fixed rule of X."""

    def __init__(self, rule):
        self.rule = rule

    def predict(self, X, sample_domain=None):
        return self.rule(X)


def test_neighborhood_consistency_worked_example():
    """Two target clusters: labelling by cluster scores kappa 1; a split across both clusters
    is smooth too but scores less; random labels score about 0 (chance), a constant labelling
    exactly 0; source rows are not used."""
    rng = np.random.default_rng(0)
    Xt = np.r_[rng.normal(size=(50, 2)) * 0.3 + [-3, 0], rng.normal(size=(50, 2)) * 0.3 + [3, 0]]
    Xs = rng.normal(size=(20, 2)) * 10  # source rows are ignored
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(20, dtype=int), -np.ones(100, dtype=int)]
    y = np.r_[np.arange(20) % 2, -np.ones(100, dtype=int)]
    nc = NeighborhoodConsistency(n_neighbors=5)
    assert nc(Rule(lambda Z: (Z[:, 0] > 0).astype(int)), X, y, sd) == pytest.approx(1.0)
    orth = nc(Rule(lambda Z: (Z[:, 1] > 0).astype(int)), X, y, sd)
    assert orth < 0.9
    noise = np.random.default_rng(1).integers(0, 2, 200)
    assert abs(nc(Rule(lambda Z: noise[: len(Z)]), X, y, sd)) < 0.2
    assert nc(Rule(lambda Z: np.zeros(len(Z), dtype=int)), X, y, sd) == 0.0
    # hand count: 4 points on a line, labels a a b b, 1 neighbour each -> agree 1, chance 1/2
    X4 = np.array([[0.0], [1.0], [10.0], [11.0]])
    sd4 = -np.ones(4, dtype=int)
    k1 = NeighborhoodConsistency(n_neighbors=1)
    assert k1(Rule(lambda Z: (Z[:, 0] > 5).astype(int)), X4, None, sd4) == pytest.approx(1.0)
    # labels a b a b: every neighbour disagrees -> agree 0, chance 1/2 -> kappa -1
    assert k1(Rule(lambda Z: (Z[:, 0] % 10).astype(int)), X4, None, sd4) == pytest.approx(-1.0)
    assert isinstance(get_scorer("nc"), NeighborhoodConsistency)


def test_neighborhood_consistency_graph_cache_follows_the_target():
    """One scorer instance reused on another target gives what a fresh instance gives."""
    rng = np.random.default_rng(3)
    rule = Rule(lambda Z: (Z[:, 0] > 0).astype(int))
    sd = -np.ones(60, dtype=int)
    A, B = rng.normal(size=(60, 2)), rng.normal(size=(60, 2)) * [0.1, 3.0]
    nc = NeighborhoodConsistency(n_neighbors=4)
    first = nc(rule, A, None, sd)
    assert nc(rule, B, None, sd) == NeighborhoodConsistency(n_neighbors=4)(rule, B, None, sd)
    assert nc(rule, A, None, sd) == first


def test_get_scorer():
    assert isinstance(get_scorer("dev"), DeepEmbeddedValidation)
    with pytest.raises(TransferkitError, match="unknown scorer"):
        get_scorer("nope")


def test_nc_win_probability_from_saved_predictions_equals_the_fitted_one():
    class Noisy:  # labels that ignore the neighbourhoods: low consistency
        def predict(self, X, sample_domain=None):
            return (np.floor(np.abs(X[:, 0]) * 1000) % 2).astype(int)

    rng = np.random.default_rng(0)
    Xs, Xt = rng.normal(size=(80, 2)), rng.normal(size=(500, 2))
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(80, dtype=int), -np.ones(500, dtype=int)]
    good, noisy = Fixed(1), Noisy()
    # a target subsample (max_samples) so the saved labels must be aligned to the graph's rows
    nc = NeighborhoodConsistency(max_samples=300, seed=4)
    for a, b in ((good, noisy), (noisy, good)):
        want = nc.win_probability(a, b, X, sd, n_boot=50)
        got = nc.win_probability_from_predictions(a.predict(Xt), b.predict(Xt), X, sd,
                                                  n_boot=50)
        assert got == want
    assert nc.win_probability(good, noisy, X, sd, n_boot=50) == 1.0
    assert nc.win_probability(noisy, good, X, sd, n_boot=50) == 0.0
    # misaligned labels (another order than the target rows) give another answer
    shuffled = good.predict(Xt)[rng.permutation(500)]
    assert nc.win_probability_from_predictions(shuffled, noisy.predict(Xt), X, sd, n_boot=50) < 1
