"""adapt_features: the function the CLI calls."""

import json

import numpy as np
import pytest

from transferkit.adapt import adapt_features, list_methods, predict_target
from transferkit.errors import TransferkitError

from .conftest import make_shift


def test_fixed_method_report():
    Xs, ys, Xt, yt = make_shift(shift="offset", seed=0)
    model, rep = adapt_features(Xs, ys, Xt, method="coral", seed=0)
    assert rep["method"] == "coral" and rep["target_labels_used"] is False
    for k in ("distances_before", "distances_after"):
        assert set(rep[k]) >= {"mmd_linear", "mmd_rbf", "coral", "proxy_a"}
    json.dumps(rep)  # JSON-ready
    assert predict_target(model, Xt).shape == yt.shape


def test_auto_is_label_free_and_not_worse_than_source_only():
    Xs, ys, Xt, yt = make_shift(shift="offset", seed=2)
    model, rep = adapt_features(Xs, ys, Xt, method="auto", seed=0,
                                candidates=("none", "coral", "sa", "tca"))
    assert "without target labels" in rep["selection"]
    assert set(rep["candidate_scores"]) == {"none", "coral", "sa", "tca"}
    base, _ = adapt_features(Xs, ys, Xt, method="none")
    acc = np.mean(predict_target(model, Xt) == yt)
    assert acc >= np.mean(predict_target(base, Xt) == yt) - 0.02


def test_auto_nc_bootstrap_check_keeps_source_only_when_unsure():
    """With 'nc', the chosen method must beat source-only in >= `confidence` of bootstrap
    resamples; at confidence 1.01 nothing can, so source-only is kept (and reported)."""
    Xs, ys, Xt, _ = make_shift(shift="offset", seed=2)
    cands = ("none", "coral", "sa", "tca")
    _, rep = adapt_features(Xs, ys, Xt, method="auto", seed=0, candidates=cands,
                            confidence=0.0)
    assert rep["scorer"] == "nc" and "win_probability_over_source_only" not in rep
    chosen = rep["method"]
    if chosen == "none":
        pytest.skip("nc chose source-only outright on this draw")
    model, rep = adapt_features(Xs, ys, Xt, method="auto", seed=0, candidates=cands)
    w = rep["win_probability_over_source_only"]
    assert w["method"] == chosen and 0.0 <= w["value"] <= 1.0 and w["confidence"] == 0.9
    assert rep["method"] == (chosen if w["value"] >= 0.9 else "none")
    model, rep = adapt_features(Xs, ys, Xt, method="auto", seed=0, candidates=cands,
                                confidence=1.01)
    assert rep["method"] == "none" and model.adapter_ is None


def test_reweighting_report_and_errors():
    Xs, ys, Xt, _ = make_shift(shift="offset", seed=1)
    _, rep = adapt_features(Xs, ys, Xt, method="domain_classifier")
    assert "note" in rep["distances_after"]
    with pytest.raises(TransferkitError, match="unknown adaptation method"):
        adapt_features(Xs, ys, Xt, method="nope")
    with pytest.raises(TransferkitError, match="same number of columns"):
        adapt_features(Xs, ys, Xt[:, :2])
    assert {"coral", "sa", "tca", "jda", "bda", "kmm", "kliep"} <= set(list_methods())


def test_best_or_source_only_keeps_source_only_unless_beaten_by_the_margin():
    from transferkit.adapt.selection import best_or_source_only

    assert best_or_source_only({"none": 0.5, "a": 0.7, "b": 0.6}) == "a"
    assert best_or_source_only({"none": 0.5, "a": 0.5}) == "none"  # a tie keeps source-only
    assert best_or_source_only({"none": 0.5, "a": 0.7}, margin=0.2) == "none"
    assert best_or_source_only({"none": 0.9, "a": 0.7}) == "none"


def test_auto_with_agreement_scores_every_candidate_against_the_vote():
    from sklearn.base import clone

    from transferkit.adapt.api import _candidates, _estimator
    from transferkit.adapt.selection import committee_agreement

    Xs, ys, Xt, yt = make_shift(shift="offset", seed=2)
    cands = ("none", "coral", "sa", "tca")
    model, rep = adapt_features(Xs, ys, Xt, method="auto", seed=0, candidates=cands,
                                scorer="agreement")
    assert rep["scorer"] == "agreement" and "win_probability_over_source_only" not in rep
    # the same scores by hand: each default candidate fitted on the z-scored pooled data
    from sklearn.preprocessing import StandardScaler

    from transferkit.adapt import pack
    sc = StandardScaler().fit(np.vstack([Xs, Xt]))
    X, y, sd = pack(sc.transform(Xs), sc.transform(Xt), ys)
    pipes = _candidates(cands, _estimator(0), 0, len(X))
    preds = {n: clone(p).fit(X, y, sd).predict(X[sd < 0], sd[sd < 0]) for n, p in pipes.items()}
    assert rep["candidate_scores"] == committee_agreement(preds)
    best = max(rep["candidate_scores"], key=rep["candidate_scores"].get)
    expect = best if rep["candidate_scores"][best] > rep["candidate_scores"]["none"] else "none"
    assert rep["method"] == expect
    assert np.array_equal(predict_target(model, Xt), preds[expect])
