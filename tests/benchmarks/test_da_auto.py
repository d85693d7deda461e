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
