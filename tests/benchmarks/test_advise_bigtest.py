"""The larger-test-set analysis: per-sample results, bootstrap taus, reproduction checks."""

import numpy as np
import pytest

from bench.advise_bigtest import bootstrap, reproduction, task_hits


def _task(name, correct, scores, heldout=None):
    acc = {b: {"extract": {"accuracy": float(np.mean([c == "1" for c in s])), "correct": s,
                           **({"accuracy_heldout": heldout[b]} if heldout else {})}}
           for b, s in correct.items()}
    return {"task": name, "modality": "image", "complete": True, "accuracy": acc,
            "scores": {b: {"logme": v, "leep": v, "nce": v, "hscore": v}
                       for b, v in scores.items()}}


def test_task_hits_reads_the_correctness_strings():
    t = _task("t", {"a": "1101", "b": "0001"}, {"a": 1.0, "b": 0.0})
    h = task_hits(t)
    assert h["a"]["extract"].tolist() == [1, 1, 0, 1] and h["b"]["extract"].sum() == 1
    del t["accuracy"]["b"]["extract"]["correct"]
    assert task_hits(t) is None  # a pair without per-sample results: no bootstrap


def test_bootstrap_of_a_score_that_ranks_clearly_separated_backbones():
    rng = np.random.default_rng(0)
    tasks, hits = [], []
    for k in range(3):  # accuracies 0.9 / 0.6 / 0.3 on 400 samples: the ranking is certain
        correct = {b: "".join("1" if x else "0" for x in rng.random(400) < p)
                   for b, p in (("a", 0.9), ("b", 0.6), ("c", 0.3))}
        t = _task(f"t{k}", correct, {"a": 3.0, "b": 2.0, "c": 1.0})
        tasks.append(t)
        hits.append(task_hits(t))
    res = bootstrap(tasks, hits, n_boot=30)["extract"]
    assert res["tau"]["logme"] == pytest.approx(1.0)
    assert res["tau_interval_90"]["logme"] == [pytest.approx(1.0), pytest.approx(1.0)]
    assert res["test_retest_tau"] == pytest.approx(1.0) and res["ceiling"] == pytest.approx(1.0)
    # a score ranking them backwards
    for t in tasks:
        t["scores"] = {b: {s: -v for s, v in sc.items()} for b, sc in t["scores"].items()}
    assert bootstrap(tasks, hits, n_boot=5)["extract"]["tau"]["logme"] == pytest.approx(-1.0)


def test_reproduction_counts_equal_pairs_per_strategy():
    run = {"tasks": [_task("t", {"a": "11", "b": "10"}, {"a": 1, "b": 0},
                           heldout={"a": 1.0, "b": 0.5})]}
    ref = {"tasks": [{"task": "t", "accuracy": {"a": {"extract": {"accuracy": 1.0}},
                                                "b": {"extract": {"accuracy": 0.25}}}}]}
    assert reproduction(run, ref) == {"extract": {"pairs": 2, "equal": 1,
                                                  "max_abs_diff_points": 25.0}}
