"""The scorer-combination re-read: mean-rank pick and the keep-source-only guards."""

from bench.da_scorer_ensembles import evaluate, pick

SCORES = {"nc": {"none": 0.1, "a": 0.5, "b": 0.3},
          "snd": {"none": 2.0, "a": 1.0, "b": 3.0},
          "dev": {"none": -1.0, "a": -2.0, "b": -0.5}}


def test_pick_by_mean_rank_and_guards():
    assert pick(SCORES, ("nc",), "none") == "a"
    assert pick(SCORES, ("nc", "snd", "dev"), "none") == "b"  # ranks: none 5, a 5, b 8
    assert pick(SCORES, ("nc", "snd", "dev"), "all") == "b"  # b beats none on all three
    assert pick(SCORES, ("nc", "snd"), "all") == "b"
    assert pick({**SCORES, "nc": {"none": 0.4, "a": 0.5, "b": 0.3}}, ("nc", "snd", "dev"),
                "all") == "none"  # b loses to none on nc
    assert pick(SCORES, ("snd", "dev"), "majority") == "b"


def test_evaluate_counts_pairs_below_source_only():
    pair = {"selection": {"scores": SCORES, "target_acc": {"none": 0.6, "a": 0.5, "b": 0.7}}}
    res = evaluate({"t": {"pairs": {"p1": pair, "p2": pair}}}, ("nc",), "none")["t"]
    assert res["acc"] == 0.5 and res["below_source_only"] == 2
    assert abs(res["below_oracle"] - 0.2) < 1e-12
