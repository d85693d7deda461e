"""The leave-one-out agreement bench: picks and summaries from cached predictions."""

import numpy as np

from bench.da_agreement_loo import RULES, evaluate


def test_evaluate_scores_both_rules_and_counts_pairs_below_source_only():
    yt = np.array([0, 0, 1, 1])
    names = ["none", "a", "b", "c"]
    # 2-2 ties on samples 0 and 1: the whole committee gives both to source-only, so its vote
    # is source-only's prediction and source-only is kept
    P = np.array([[1, 0, 1, 1], [1, 1, 1, 1], [0, 0, 1, 1], [0, 1, 1, 1]])
    res = evaluate([("s->t", names, P, yt)])
    pair = res["pairs"]["s->t"]
    assert pair["target_acc"] == {"none": 0.75, "a": 0.5, "b": 1.0, "c": 0.75}
    whole, loo = RULES
    assert pair["picks"][whole] == "none"
    s = res["summary"]
    assert s["source_only"] == 75.0 and s["oracle"] == 100.0
    assert s[whole] == {"mean": 75.0, "below_source_only": 0}
    assert s[loo]["mean"] == 100 * pair["target_acc"][pair["picks"][loo]]
