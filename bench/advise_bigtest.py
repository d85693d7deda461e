"""How far a larger test set takes the advisor's tau: reads ``bench.advise_finetune`` runs made
with ``--extra-test N`` (their per-sample correctness is saved) and reports, for image tasks:

* each score's pooled Kendall tau against the backbones' best accuracy over the strategies and
  against ``extract`` (as the run's own summary), with a bootstrap interval over test samples;
* the test-sampling retest tau: the tau between the backbone accuracies of two independent
  bootstrap resamples of each task's test set (the same trained pairs), and the ceiling it
  implies for any score (:func:`bench.advise_seeds.tau_ceiling`). It covers the test-sampling
  noise only, not the training seed's;
* with ``--reference STEM`` (a run without ``--extra-test`` on the same training parts), whether
  the held-out part's accuracies reproduce it pair by pair.

Run:  .venv/bin/python -m bench.advise_bigtest advise_finetune_e8_bigtest --reference advise_finetune_e8
Writes bench/results/<--out-stem>.{json,md} (default advise_bigtest).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.advise_seeds import RESULTS, load, tau_ceiling  # noqa: E402
from bench.advise_validation import SCORES, concordance  # noqa: E402


def task_hits(task):
    """``{backbone: {strategy: 0/1 array}}`` of a task, or None when a pair lacks them."""
    out = {}
    for b, row in task.get("accuracy", {}).items():
        out[b] = {}
        for s, r in row.items():
            if "correct" not in r:
                return None
            out[b][s] = np.frombuffer(r["correct"].encode(), np.uint8) - ord("0")
    return out


def image_tasks(run):
    """The complete image tasks of ``run`` with their per-sample correctness."""
    for t in run["tasks"]:
        if t.get("modality") != "text" and t.get("complete"):
            hits = task_hits(t)
            if hits is not None:
                yield t, hits


def _acc(hits, idx, strategy):
    """Per backbone: the accuracy on test samples ``idx`` (best over strategies or one)."""
    if strategy is None:
        return {b: max(float(h[idx].mean()) for h in row.values()) for b, row in hits.items()}
    return {b: float(row[strategy][idx].mean()) for b, row in hits.items()}


def pooled(tasks, accs, score):
    """Pooled tau of ``score`` against per-task accuracies ``accs`` (list of dicts)."""
    return concordance([[(t["scores"][b][score], a[b]) for b in a
                         if t["scores"][b].get(score) is not None]
                        for t, a in zip(tasks, accs, strict=True)])


def bootstrap(tasks, hits, n_boot=500, seed=0) -> dict:
    """Bootstrap over each task's test samples: score taus (intervals) and the retest tau."""
    rng = np.random.default_rng(seed)
    n = [len(next(iter(next(iter(h.values())).values()))) for h in hits]  # test samples (any pair)
    out = {}
    for name, strategy in (("best_over_strategies", None), ("extract", "extract")):
        full = [_acc(h, np.arange(m), strategy) for h, m in zip(hits, n, strict=True)]
        taus = {sc: [] for sc in SCORES}
        retest = []
        for _ in range(n_boot):
            a = [_acc(h, rng.integers(0, m, m), strategy) for h, m in zip(hits, n, strict=True)]
            b = [_acc(h, rng.integers(0, m, m), strategy) for h, m in zip(hits, n, strict=True)]
            for sc in SCORES:
                v = pooled(tasks, a, sc)
                if v is not None:
                    taus[sc].append(v)
            retest.append(concordance([[(x[k], y[k]) for k in x] for x, y in
                                       zip(a, b, strict=True)]))
        rt = float(np.mean([r for r in retest if r is not None]))
        out[name] = {
            "tau": {sc: pooled(tasks, full, sc) for sc in SCORES},
            "tau_interval_90": {sc: [float(np.percentile(v, 5)), float(np.percentile(v, 95))]
                                if v else None for sc, v in taus.items()},
            "test_retest_tau": rt, "ceiling": tau_ceiling(rt)}
    return out


def reproduction(run, ref) -> dict:
    """Held-out part of ``run`` against ``ref``'s accuracies, pair by pair, per strategy."""
    refs = {t["task"]: t for t in ref["tasks"]}
    out = {}
    for t in run["tasks"]:
        r = refs.get(t["task"])
        if r is None or not t.get("complete"):
            continue
        for b, row in t.get("accuracy", {}).items():
            for s, x in row.items():
                y = r.get("accuracy", {}).get(b, {}).get(s)
                if y is None or "accuracy_heldout" not in x:
                    continue
                d = out.setdefault(s, {"pairs": 0, "equal": 0, "max_abs_diff_points": 0.0})
                diff = abs(x["accuracy_heldout"] - y["accuracy"]) * 100
                d["pairs"] += 1
                d["equal"] += int(diff < 1e-9)
                d["max_abs_diff_points"] = max(d["max_abs_diff_points"], round(diff, 2))
    return out


def certainty(run, tasks) -> dict:
    """The advice's bootstrap certainty (``advise(..., bootstrap=20)``) re-computed on each
    task's training part, beside the measured best backbone and the regret."""
    from bench.advise_finetune import holdout, load_tasks
    from transferkit.advise import advise

    cfg, want = run["config"], {t["task"]: t for t in tasks}
    out = {}
    for name, ds in load_tasks(list(want), cfg["per_task"], cfg["per_task_text"]):
        train, _ = holdout(ds, cfg["test_size"], seed=cfg.get("seed", 0))
        adv = advise(train, backbones=cfg["backbones"], max_samples=None, progress=False,
                     bootstrap=20)
        t = want[name]
        best_b = {b: max(r["accuracy"] for r in row.values()) for b, row in t["accuracy"].items()}
        out[name] = {"pick": adv.backbone, "same_pick_as_run": adv.backbone == t["advice"]["backbone"],
                     "share_first": adv.selection_certainty["share_first"],
                     "pick_share": adv.selection_certainty["pick_share"],
                     "measured_best_backbone": max(best_b, key=best_b.get),
                     "regret_backbone_points": t.get("regret_backbone_points")}
    return out


def _f(v, fmt="{:+.2f}"):
    return "-" if v is None else fmt.format(v)


def markdown(res) -> str:
    lines = ["# The advisor's tau on larger test sets", "",
             f"Runs: {', '.join('`' + s + '`' for s in res['runs'])}. Image tasks with every "
             "pair measured; the same training parts as the reference run, tested on the "
             "held-out part plus samples from outside the subsample. Bootstrap: "
             f"{res['n_boot']} resamples of each task's test samples (intervals: 5th-95th "
             "percentile).", ""]
    for stem, r in res["per_run"].items():
        lines += [f"## {stem}", "", "| task | train | test (held out + more) |", "|---|---|---|"]
        lines += [f"| {t} | {n[0]} | {n[1]} ({n[2]} + {n[1] - n[2]}) |"
                  for t, n in r["sizes"].items()]
        lines += ["", "| score | tau vs best over strategies [90% interval] | tau vs extract "
                  "[90% interval] |", "|---|---|---|"]
        b = r["bootstrap"]
        for sc in SCORES:
            cells = []
            for k in ("best_over_strategies", "extract"):
                iv = b[k]["tau_interval_90"][sc]
                cells.append(f"{_f(b[k]['tau'][sc])} [{_f(iv[0]) if iv else '-'}, "
                             f"{_f(iv[1]) if iv else '-'}]")
            lines.append(f"| {sc} | " + " | ".join(cells) + " |")
        lines += ["", "Test-sampling retest tau (two bootstrap resamples against each other) "
                  f"{b['best_over_strategies']['test_retest_tau']:.2f} for the best over "
                  f"strategies and {b['extract']['test_retest_tau']:.2f} for `extract`; the "
                  "ceiling it puts on any score's tau: "
                  f"{_f(b['best_over_strategies']['ceiling'], '{:.2f}')} / "
                  f"{_f(b['extract']['ceiling'], '{:.2f}')} (test sampling only; the training "
                  "seed's noise comes on top).", "",
                  f"Advice: mean regret {_f(r['regret_mean'], '{:.2f}')} points over "
                  f"{len(r['sizes'])} tasks.", ""]
        if r.get("certainty"):
            lines += ["The advice's bootstrap certainty on each training part (share of 20 "
                      "paired resamples in which the advised backbone has the best LogME; below "
                      "90 % the advice calls it a near-tie):", "",
                      "| task | advised | share first | near-tie | measured best backbone | "
                      "backbone regret (points) |", "|---|---|---|---|---|---|"]
            lines += [f"| {k} | {c['pick']} | {c['pick_share']:.0%} | "
                      f"{'yes' if c['pick_share'] < 0.9 else 'no'} | "
                      f"{c['measured_best_backbone']} | {_f(c['regret_backbone_points'], '{:.1f}')} |"
                      for k, c in r["certainty"].items()]
            lines.append("")
        if r.get("reproduction"):
            lines += ["Held-out part against the reference run "
                      f"(`{res['reference']}`), pairs equal / pairs (largest difference, "
                      "points): " + ", ".join(
                          f"{s} {v['equal']} / {v['pairs']} ({v['max_abs_diff_points']:.1f})"
                          for s, v in r["reproduction"].items()), ""]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("stems", nargs="+", help="advise_finetune result stems (with --extra-test)")
    ap.add_argument("--reference", default=None,
                    help="a run on the same training parts without --extra-test")
    ap.add_argument("--n-boot", type=int, default=500)
    ap.add_argument("--out-stem", default="advise_bigtest")
    ap.add_argument("--certainty", action="store_true",
                    help="also re-advise each training part with the bootstrap certainty")
    a = ap.parse_args(argv)
    ref = load([a.reference])[0] if a.reference else None
    res = {"runs": a.stems, "reference": a.reference, "n_boot": a.n_boot, "per_run": {}}
    for stem, run in zip(a.stems, load(a.stems), strict=True):  # same settings but the seed
        pairs = list(image_tasks(run))
        if not pairs:
            raise SystemExit(f"{RESULTS / (stem + '.json')}: no complete image task with "
                             "per-sample results (run advise_finetune with --extra-test)")
        tasks, hits = [p[0] for p in pairs], [p[1] for p in pairs]
        regrets = [t["regret_points"] for t in tasks if t.get("regret_points") is not None]
        res["per_run"][stem] = {
            "sizes": {t["task"]: [t["n_train"], t["n_test"], t.get("n_test_heldout", t["n_test"])]
                      for t in tasks},
            "bootstrap": bootstrap(tasks, hits, a.n_boot),
            "regret_mean": float(np.mean(regrets)) if regrets else None,
            "reproduction": reproduction(run, ref) if ref else None,
            "certainty": certainty(run, tasks) if a.certainty else None}
    from bench._results import write_results

    write_results(a.out_stem, res, markdown(res))
    print(markdown(res))


if __name__ == "__main__":
    main()
