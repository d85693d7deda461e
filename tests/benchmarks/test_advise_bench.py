"""The advise bench's bookkeeping: resuming with other candidates, and pooling seeds."""

import pytest

from bench.advise_finetune import resumable, task_summary
from bench.advise_seeds import pool

BASE = {"per_task": 200, "per_task_text": 200, "test_size": 0.4, "epochs": 8,
        "image_size": 128, "seed": 0}


def _task(name, accs, advice=("a", "extract"), scores=None):
    t = {"task": name, "modality": "image",
         "advice": {"backbone": advice[0], "strategy": advice[1], "k": None},
         "scores": scores or {b: {"logme": i} for i, b in enumerate(accs)},
         "accuracy": {b: {s: {"accuracy": v} for s, v in r.items()} for b, r in accs.items()}}
    t.update(task_summary(t))
    return t


def test_resumable_keeps_pairs_but_not_advice_when_candidates_change():
    old = {"config": {**BASE, "backbones": ["a", "b"]},
           "tasks": [_task("t", {"a": {"extract": 0.9}, "b": {"extract": 0.8}})]}
    same = resumable(old, {**BASE, "backbones": ["a", "b"]})
    assert "advice" in same["t"]
    more = resumable(old, {**BASE, "backbones": ["a", "c"]})
    assert "advice" not in more["t"] and set(more["t"]["accuracy"]) == {"a"}
    assert resumable(old, {**BASE, "epochs": 3, "backbones": ["a", "b"]}) == {}
    # files written before --seed existed count as seed 0
    legacy = {**old, "config": {k: v for k, v in old["config"].items() if k != "seed"}}
    assert "advice" in resumable(legacy, {**BASE, "backbones": ["a", "b"]})["t"]
    assert resumable(legacy, {**BASE, "seed": 1, "backbones": ["a", "b"]}) == {}


def test_pool_spreads_regret_over_seeds():
    def run(seed, acc_b):
        return {"config": {**BASE, "seed": seed, "backbones": ["a", "b"]},
                "tasks": [_task("t", {"a": {"extract": 0.9, "full": 0.8},
                                      "b": {"extract": acc_b, "full": 0.5}})]}

    res = pool([run(0, 0.7), run(1, 0.95)])
    assert res["seeds"] == [0, 1]
    assert res["tasks"][0]["regret"] == pytest.approx([0.0, 5.0])
    m = res["over_seeds"]["image"]["regret_mean"]
    assert m["mean"] == pytest.approx(2.5) and m["max"] == pytest.approx(5.0)
    # logme ranks b above a: right when b wins (seed 1), wrong otherwise
    tau = res["over_seeds"]["image"]["tau_pooled"]["logme"]
    assert tau["min"] == pytest.approx(-1.0) and tau["max"] == pytest.approx(1.0)


def test_pooled_report_leaves_out_a_score_the_runs_lack():
    """Runs scored only by raw LogME (made before logme_z): no empty logme_z rows."""
    from bench.advise_seeds import markdown

    def run(seed, acc_b):
        return {"config": {**BASE, "seed": seed, "backbones": ["a", "b"]},
                "tasks": [_task("t", {"a": {"extract": 0.9}, "b": {"extract": acc_b}})]}

    res = pool([run(0, 0.7), run(1, 0.95)])
    assert res["tau_vs_mean_of_runs"]["logme_z"] == {"best": None, "extract": None}
    md = markdown(res, ["s0", "s1"])
    assert "| logme |" in md and "logme_z" not in md


def test_retest_tau_compares_runs_with_each_other_and_bounds_a_perfect_score():
    import math

    from bench.advise_seeds import retest_tau, tau_ceiling

    def run(accs):
        return {"tasks": [_task("t", {b: {"extract": v, "full": v - 0.1}
                                      for b, v in accs.items()})]}

    same = retest_tau([run({"a": 0.9, "b": 0.8, "c": 0.7}),
                       run({"a": 0.95, "b": 0.85, "c": 0.6})], ["t"])
    assert same["extract"]["mean"] == pytest.approx(1.0)
    flipped = retest_tau([run({"a": 0.9, "b": 0.8, "c": 0.7}),
                          run({"a": 0.7, "b": 0.8, "c": 0.9})], ["t"])
    assert flipped["best_over_common_strategies"]["mean"] == pytest.approx(-1.0)
    assert tau_ceiling(1.0) == pytest.approx(1.0) and tau_ceiling(-0.2) is None
    # r_rt = sin(pi/2 * 0.38) = 0.562 -> r = 0.750 -> ceiling 2/pi asin(0.750) = 0.540
    assert tau_ceiling(0.38) == pytest.approx(2 / math.pi * math.asin(0.5621 ** 0.5), abs=1e-3)
    assert retest_tau([run({"a": 0.9, "b": 0.8})], ["t"]) is None
    # the mean of m runs: r^2 -> m r^2 / (1 + (m - 1) r^2) (Spearman-Brown)
    assert tau_ceiling(0.38, 2) == pytest.approx(
        2 / math.pi * math.asin((2 * 0.5621 / 1.5621) ** 0.5), abs=1e-3)
    assert tau_ceiling(0.38, 2) > tau_ceiling(0.38)


def test_tau_against_the_mean_of_runs_averages_scores_and_accuracies():
    from bench.advise_seeds import tau_vs_mean_of_runs

    def run(accs, scores):
        return {"tasks": [_task("t", {b: {"extract": v, "full": v - 0.1} for b, v in accs.items()},
                                scores={b: {"logme": s} for b, s in scores.items()})]}

    # run 1 ranks a > b > c, run 2 c > b > a by a smaller margin: the mean ranks a > b > c;
    # the scores' mean ranks a > c > b
    runs = [run({"a": 0.9, "b": 0.8, "c": 0.7}, {"a": 3, "b": 1, "c": 2}),
            run({"a": 0.72, "b": 0.74, "c": 0.76}, {"a": 3, "b": 2, "c": 2.5})]
    got = tau_vs_mean_of_runs(runs, ["t"])["logme"]
    # pairs (a,b) +, (a,c) +, (b,c) -: tau = 1/3, for best and extract alike
    assert got["best"] == pytest.approx(1 / 3) and got["extract"] == pytest.approx(1 / 3)
    assert tau_vs_mean_of_runs(runs[:1], ["t"]) is None


def test_partial_is_trained_at_the_given_k_below_num_blocks_else_at_half():
    from bench.advise_finetune import strategy_options

    assert strategy_options("partial", 9, 8, 128, k=7)["k"] == 7
    assert strategy_options("partial", 9, 8, 128, k=9)["k"] == 4  # k = all blocks: the half
    assert strategy_options("partial", 9, 8, None)["k"] == 4
    opts = strategy_options("extract", 9, 8, 128, k=7)
    assert "k" not in opts and "epochs" not in opts and opts["image_size"] == 128


def test_resumable_ignores_settings_outside_the_resume_keys():
    old = {"config": {**BASE, "backbones": ["a"]}, "tasks": [{"task": "t", "modality": "image",
                                                            "advice": {}, "accuracy": {}}]}
    assert "advice" in resumable(old, {**BASE, "backbones": ["a"], "partial_k": 4})["t"]


def test_advise_size_advises_on_the_training_part_as_trained(monkeypatch, tmp_path):
    """--advise-size: image files are decoded to the training size and advised at that size."""
    import numpy as np
    from PIL import Image

    import bench.advise_finetune as af
    import transferkit.advise
    from transferkit.data import load_data

    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for i in range(2):
            img = rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)
            Image.fromarray(img).save(tmp_path / cls / f"{i}.png")
    seen = {}

    class Stop(Exception):
        pass

    def fake(data, **kw):
        seen.update(kw, modality=data.modality, shape=np.asarray(data.inputs).shape)
        raise Stop

    monkeypatch.setattr(transferkit.advise, "advise", fake)
    ds = load_data(tmp_path)
    with pytest.raises(Stop):
        af._advise(ds, ["efficientnet_lite0"], None, size=32)
    assert seen["image_size"] == 32 and seen["modality"] == "array"
    assert seen["shape"] == (4, 32, 32, 3)
    with pytest.raises(Stop):
        af._advise(ds, ["efficientnet_lite0"], None)
    assert seen["image_size"] is None and seen["modality"] == "image"
    assert af.parse(["--advise-size"]).advise_size and not af.parse([]).advise_size
