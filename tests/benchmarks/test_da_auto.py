"""bench.da_auto measures what `adapt_features(method='auto')` does, on the product's path."""

import numpy as np

from bench.da_auto import AUTO, RULES, run_pair, summarize
from transferkit.adapt import adapt_features


def _domains(seed=0, n=120):
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=3.0, size=(3, 4))
    ys, yt = rng.integers(0, 3, n), rng.integers(0, 3, n)
    Xs = means[ys] + rng.normal(size=(n, 4))
    Xt = (means[yt] + rng.normal(size=(n, 4))) * 1.5 + 2.0
    return Xs, ys, Xt, yt


def test_the_auto_rule_is_the_products_choice():
    Xs, ys, Xt, yt = _domains()
    res = run_pair(Xs, ys, Xt, yt)
    _, rep = adapt_features(Xs, ys, Xt)
    assert res["picks"][AUTO] == rep["method"]
    assert res["premise"] == rep["nc_premise"]
    assert set(res["picks"]) == set(RULES) and "none" in res["target_acc"]
    s = summarize({"p": res})
    assert s["premise_holds"] == int(res["premise"]["holds"])
    assert s["oracle"]["acc"] >= s[AUTO]["acc"] and 0 <= s[AUTO]["below_source_only"] <= 1


def test_the_tca_fallback_rule_is_the_products_nc_tca_scorer():
    from bench.da_auto import checked_pick
    from tests.adapt.test_premise import topic_data

    Xs, ys = topic_data(n=160, seed=0)
    Xt, yt = topic_data(n=160, seed=1, offset=1.0)
    res = run_pair(Xs, ys, Xt, yt)
    assert not res["premise"]["holds"]
    _, rep = adapt_features(Xs, ys, Xt, scorer="nc_tca")
    assert res["nc_tca"]["pick"] == rep["method"] == res["picks"]["nc, else nc(none|tca)"]
    assert rep["candidate_scores"] == {n: res["scores"]["nc"][n] for n in ("none", "tca")}
    # the bootstrap check: TCA only with a win probability of at least 0.9
    assert checked_pick({"none": 0.1, "tca": 0.2}, lambda n: 0.95) == ("tca", 0.95)
    assert checked_pick({"none": 0.1, "tca": 0.2}, lambda n: 0.5) == ("none", 0.5)
    assert checked_pick({"none": 0.3, "tca": 0.2, "meda": 0.9}, lambda n: 1.0) == ("none", None)


def test_the_gated_rule_is_the_products_gated_scorer():
    from bench.da_auto import pick
    from tests.adapt.test_premise import topic_data

    Xs, ys = topic_data(n=160, seed=0)
    Xt, yt = topic_data(n=160, seed=1, offset=1.0)
    res = run_pair(Xs, ys, Xt, yt)
    _, rep = adapt_features(Xs, ys, Xt, scorer="gated")
    assert res["tca_variance_share"] == rep["tca_variance_share"]["value"] == 1.0  # 4 dims
    assert res["picks"]["nc, else gated nc(none|tca)"] == rep["method"] == res["nc_tca"]["pick"]
    # below the threshold the rule takes agreement's pick; where the premise holds, NC's
    scores = {"agreement": {"none": 0.8, "coral": 0.9, "tca": 0.7}}
    fails, holds = {"holds": False}, {"holds": True}
    rule = "nc, else gated nc(none|tca)"
    assert pick(rule, scores, fails, "meda", "tca", share=0.5) == "coral"
    assert pick(rule, scores, fails, "meda", "tca", share=0.7) == "tca"
    assert pick(rule, scores, holds, "meda", "tca", share=0.5) == "meda"
    assert pick(rule, scores, fails, "meda", "tca", share=None) is None
