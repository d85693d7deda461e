"""cluster_premise: NC's cluster assumption checked on both domains, and auto's switch to SND."""

import numpy as np
import pytest

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


def test_auto_scorer_falls_back_to_the_gate_where_the_premise_fails():
    Xs, ys = topic_data(seed=0)
    Xt, yt = topic_data(seed=1, offset=1.0)
    _, rep = adapt_features(Xs, ys, Xt, candidates=("none", "coral", "tca"))
    assert FALLBACK_SCORER == "gated" and not rep["nc_premise"]["holds"]
    # 4 dimensions: TCA's 100 components keep all of the variance, so nc between none and tca
    assert rep["tca_variance_share"]["value"] == 1.0 and rep["scorer"] == "nc_tca"
    assert "premise fails" in rep["selection"] and "without target labels" in rep["selection"]
    assert set(rep["candidate_scores"]) == {"none", "tca"}
    # a scorer named by the user is used as given, without the premise check
    _, rep = adapt_features(Xs, ys, Xt, scorer="nc", candidates=("none", "coral", "tca"))
    assert rep["scorer"] == "nc" and "nc_premise" not in rep


def test_auto_scorer_uses_agreement_where_the_premise_fails_and_tca_would_lose_variance():
    Xs, ys = _wide(0, low_rank=False)
    Xt, _ = _wide(1, low_rank=False, offset=1.0)
    _, rep = adapt_features(Xs, ys, Xt, candidates=("none", "coral", "tca"))
    assert not rep["nc_premise"]["holds"] and rep["scorer"] == "agreement"
    assert rep["tca_variance_share"]["value"] < rep["tca_variance_share"]["threshold"]
    assert "premise fails" in rep["selection"] and "of the variance, <" in rep["selection"]
    assert "win_probability_over_source_only" not in rep  # no bootstrap check there
    assert set(rep["candidate_scores"]) == {"none", "coral", "tca"}


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


def test_subspace_variance_share_isotropic_against_low_rank():
    from transferkit.adapt.premise import subspace_variance_share

    rng = np.random.default_rng(0)
    iso = rng.normal(size=(3000, 300))
    low = rng.normal(size=(3000, 8)) @ rng.normal(size=(8, 300)) + 0.05 * iso
    a, b = subspace_variance_share(iso, 100), subspace_variance_share(low, 100)
    assert 100 / 300 < a < 0.5 and b > 0.95
    # few samples for their dimension inflate it (sampling spread of the eigenvalues)
    assert subspace_variance_share(iso[:600], 100) > a + 0.1
    # every direction kept: all of the variance; n < d goes through the Gram matrix, same value
    assert subspace_variance_share(iso, 300) == pytest.approx(1.0)
    wide = iso[:150]
    Xc = wide / np.linalg.norm(wide, axis=1, keepdims=True)
    Xc = Xc - Xc.mean(0)
    ev = np.sort(np.linalg.eigvalsh(Xc.T @ Xc))[::-1]
    assert subspace_variance_share(wide, 20) == pytest.approx(ev[:20].sum() / ev.sum())
    # rows are L2-normalised first unless told otherwise: a row's scale does not count
    scaled = iso * rng.uniform(0.1, 10, size=(3000, 1))
    assert subspace_variance_share(scaled, 100) == pytest.approx(a, abs=0.02)
    assert subspace_variance_share(np.zeros((5, 3)), 2) == 1.0


def _wide(seed, low_rank, n=800, d=300, offset=0.0):
    """Two classes in d dimensions: isotropic noise, or a rank-10 signal with little noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    if low_rank:
        B = np.random.default_rng(99).normal(size=(10, d))
        X = (rng.normal(size=(n, 10)) + 1.5 * y[:, None] * np.eye(10)[0]) @ B
        X += 0.1 * rng.normal(size=(n, d))
    else:
        X = rng.normal(size=(n, d))
        X[:, 0] += 2.0 * y
    X[:, 1] += offset
    return X, y


@pytest.mark.parametrize("low_rank, then", [(True, "nc_tca"), (False, "agreement")])
def test_gated_fallback_asks_nc_tca_only_where_tca_keeps_the_variance(low_rank, then):
    from transferkit.adapt.api import GATED_FALLBACK
    from transferkit.adapt.premise import TCA_VARIANCE_THRESHOLD

    Xs, ys = _wide(0, low_rank)
    Xt, _ = _wide(1, low_rank, offset=1.0)
    cands = ("none", "coral", "tca")
    _, rep = adapt_features(Xs, ys, Xt, scorer=GATED_FALLBACK, candidates=cands)
    gate = rep["tca_variance_share"]
    assert gate["then"] == rep["scorer"] == then and gate["threshold"] == TCA_VARIANCE_THRESHOLD
    assert (gate["value"] >= TCA_VARIANCE_THRESHOLD) == (then == "nc_tca")
    assert "of the variance" in rep["selection"] and rep["scorer_requested"] == "gated"
    want = {"none", "tca"} if then == "nc_tca" else set(cands)
    assert set(rep["candidate_scores"]) == want
    # without a TCA candidate there is nothing to gate: agreement
    _, rep = adapt_features(Xs, ys, Xt, scorer=GATED_FALLBACK, candidates=("none", "coral"))
    assert rep["scorer"] == "agreement" and rep["tca_variance_share"]["value"] is None
