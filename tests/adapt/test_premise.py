"""cluster_premise: NC's cluster assumption checked on both domains, and auto's switch to SND."""

import numpy as np

from transferkit.adapt import adapt_features
from transferkit.adapt.api import FALLBACK_SCORER
from transferkit.adapt.premise import PREMISE_THRESHOLD, cluster_premise

from .conftest import make_shift


def topic_data(n=300, seed=0, offset=0.0):
    """Two far-apart 'topics' (dimension 0) that say nothing of the label (sign of dim 1)."""
    rng = np.random.default_rng(seed)
    topic = rng.integers(0, 2, n)
    X = rng.normal(size=(n, 4))
    X[:, 0] += 8.0 * topic
    X[:, 2] += offset
    return X, (X[:, 1] > 0).astype(int)


def test_premise_holds_when_classes_are_the_clusters():
    Xs, ys, Xt, yt = make_shift(shift="offset", seed=0)
    got = cluster_premise(Xs, ys, Xt, yt)
    assert got["holds"] and got["n_clusters"] == 3 and got["threshold"] == PREMISE_THRESHOLD
    assert min(got["source_ami"], got["target_ami"]) > 0.5


def test_premise_fails_when_the_clusters_are_topics():
    Xs, ys = topic_data(seed=0)
    Xt, yt = topic_data(seed=1, offset=1.0)
    got = cluster_premise(Xs, ys, Xt, yt)
    assert not got["holds"]
    assert abs(got["source_ami"]) < 0.05 and abs(got["target_ami"]) < 0.05
    # the same check, one domain at a time: clustered target labels alone are not enough
    clustered = (Xt[:, 0] > 4).astype(int)
    assert cluster_premise(Xs, ys, Xt, clustered)["target_ami"] > 0.9
    assert not cluster_premise(Xs, ys, Xt, clustered)["holds"]


def test_premise_subsamples_deterministically():
    Xs, ys, Xt, yt = make_shift(n_s=400, n_t=400, shift="offset", seed=3)
    a = cluster_premise(Xs, ys, Xt, yt, max_samples=120, seed=5)
    assert a == cluster_premise(Xs, ys, Xt, yt, max_samples=120, seed=5)
    assert a["holds"]


def test_premise_one_predicted_class_scores_zero():
    Xs, ys, Xt, _ = make_shift(shift="offset", seed=0)
    got = cluster_premise(Xs, ys, Xt, np.zeros(len(Xt), dtype=int))
    assert got["target_ami"] == 0.0 and not got["holds"]


def test_auto_scorer_uses_nc_where_the_premise_holds():
    Xs, ys, Xt, _ = make_shift(shift="offset", seed=2)
    _, rep = adapt_features(Xs, ys, Xt, candidates=("none", "coral", "tca"))
    assert rep["scorer_requested"] == "auto" and rep["scorer"] == "nc"
    assert rep["nc_premise"]["holds"] and "premise holds" in rep["selection"]


def test_auto_scorer_falls_back_to_agreement_where_the_premise_fails():
    Xs, ys = topic_data(seed=0)
    Xt, yt = topic_data(seed=1, offset=1.0)
    _, rep = adapt_features(Xs, ys, Xt, candidates=("none", "coral", "tca"))
    assert rep["scorer"] == FALLBACK_SCORER == "agreement" and not rep["nc_premise"]["holds"]
    assert "premise fails" in rep["selection"] and "without target labels" in rep["selection"]
    assert "win_probability_over_source_only" not in rep  # no bootstrap check there
    assert set(rep["candidate_scores"]) == {"none", "coral", "tca"}
    # a scorer named by the user is used as given, without the check
    _, rep = adapt_features(Xs, ys, Xt, scorer="nc", candidates=("none", "coral", "tca"))
    assert rep["scorer"] == "nc" and "nc_premise" not in rep


def test_nc_tca_scores_only_source_only_and_tca_with_the_bootstrap_check():
    from transferkit.adapt.api import TCA_FALLBACK

    Xs, ys = topic_data(seed=0)
    Xt, yt = topic_data(seed=1, offset=1.0)
    _, rep = adapt_features(Xs, ys, Xt, scorer=TCA_FALLBACK,
                            candidates=("none", "coral", "tca", "jda"))
    assert rep["scorer"] == "nc_tca" and set(rep["candidate_scores"]) == {"none", "tca"}
    assert rep["method"] in ("none", "tca")
    if max(rep["candidate_scores"], key=rep["candidate_scores"].get) == "tca":
        assert "win_probability_over_source_only" in rep
