"""Pool ``bench.advise_finetune`` runs that differ only in ``--seed`` (split and training seed).

Each seed's file already holds its own per-task regret and tau; this reads them, checks that
they share every other setting, and reports the spread over seeds: per task the advice and
regret of each seed, and per seed and over seeds the mean regret, the strategy matches and the
pooled tau of each score (image tasks; text tasks have one backbone, so tau is undefined).
It also measures the measurement: the test-retest tau between the runs, the ceiling it puts on
any score's tau, and each score's tau against the accuracy averaged over the runs.

Run:  .venv/bin/python -m bench.advise_seeds advise_finetune_e8 advise_finetune_e8_s1 ...
Writes bench/results/<--out-stem>.{json,md} (default advise_finetune_seeds).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.advise_finetune import RESUME_KEYS, summarise  # noqa: E402
from bench.advise_validation import SCORES, concordance  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def load(stems):
    """The runs of ``stems``; a clear error when a file is missing or its settings differ."""
    runs = []
    for stem in stems:
        path = RESULTS / f"{stem}.json"
        if not path.exists():
            raise SystemExit(f"{path}: no such results file")
        runs.append(json.loads(path.read_text()))
    ref = {k: runs[0]["config"].get(k) for k in RESUME_KEYS if k != "seed"}
    for stem, r in zip(stems, runs, strict=True):
        cfg = {k: r["config"].get(k) for k in RESUME_KEYS if k != "seed"}
        if cfg != ref:
            diff = ", ".join(f"{k}={cfg[k]} vs {ref[k]}" for k in ref if cfg[k] != ref[k])
            raise SystemExit(f"{RESULTS / (stem + '.json')}: other settings than "
                             f"{stems[0]} ({diff})")
    return runs


def _stats(v):
    v = [x for x in v if x is not None]
    if not v:
        return None
    return {"mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1)) if len(v) > 1 else 0.0,
            "min": float(min(v)), "max": float(max(v)), "n": len(v)}


def pool(runs) -> dict:
    """Per-seed summaries (only tasks complete in every run) and their spread over seeds."""
    seeds = [r["config"].get("seed", 0) for r in runs]
    names = [t["task"] for t in runs[0]["tasks"]]
    common = [n for n in names
              if all(any(t["task"] == n and t.get("complete") for t in r["tasks"]) for r in runs)]
    per_seed = []
    for r in runs:
        ts = [t for n in common for t in r["tasks"] if t["task"] == n]
        per_seed.append(summarise(ts))
    tasks = []
    for n in common:
        rows = [next(t for t in r["tasks"] if t["task"] == n) for r in runs]
        tasks.append({
            "task": n, "modality": rows[0]["modality"],
            "advice": [f"{t['advice']['backbone']} + {t['advice']['strategy']}" for t in rows],
            "best_pair": [" + ".join(t["best_pair"]) for t in rows],
            "regret": [t["regret_points"] for t in rows],
            "regret_stats": _stats([t["regret_points"] for t in rows])})
    over = {}
    for mod in ("image", "text"):
        ss = [s[mod] for s in per_seed if mod in s]
        if not ss:
            continue
        over[mod] = {"tasks": ss[0]["tasks"],
                     "regret_mean": _stats([s["regret_mean"] for s in ss]),
                     "regret_backbone_mean": _stats([s["regret_backbone_mean"] for s in ss]),
                     "regret_strategy_mean": _stats([s["regret_strategy_mean"] for s in ss]),
                     "strategy_matches": [s["strategy_matches"] for s in ss],
                     "tau_pooled": {sc: _stats([s["tau"].get(sc, {}).get("best_over_strategies_pooled")
                                                for s in ss]) for sc in SCORES},
                     "tau_mean": {sc: _stats([s["tau"].get(sc, {}).get("best_over_strategies_mean")
                                              for s in ss]) for sc in SCORES}}
    return {"seeds": seeds, "config": {k: runs[0]["config"].get(k) for k in RESUME_KEYS
                                       if k != "seed"},
            "tasks": tasks, "per_seed": per_seed, "over_seeds": over,
            "retest_tau": retest_tau(runs, common),
            "tau_vs_mean_of_runs": tau_vs_mean_of_runs(runs, common)}


def _backbone_rows(runs, names, idx):
    """Per image task, per backbone: ``(best, extract, scores)`` of the runs ``idx``, where
    ``best`` is each run's best accuracy over the strategies all those runs trained,
    ``extract`` each run's extract accuracy (None if a run lacks it) and ``scores`` each run's
    transferability scores."""
    for n in names:
        ts = [next(t for t in runs[i]["tasks"] if t["task"] == n) for i in idx]
        if ts[0]["modality"] == "text":
            continue
        rows = []
        for bb in ts[0]["accuracy"]:
            both = set.intersection(*(set(t["accuracy"].get(bb, {})) for t in ts))
            if not both:
                continue
            best = tuple(max(t["accuracy"][bb][s]["accuracy"] for s in both) for t in ts)
            ext = (tuple(t["accuracy"][bb]["extract"]["accuracy"] for t in ts)
                   if "extract" in both else None)
            rows.append((best, ext, [t["scores"].get(bb, {}) for t in ts]))
        yield rows


def retest_tau(runs, names) -> dict | None:
    """Kendall's tau (pooled over tasks) between two runs' own accuracies of the backbones, for
    each pair of runs: how well the measurement agrees with itself across seeds, the ceiling
    for any score's tau against one run. Accuracy: the best over the strategies both runs
    trained, and ``extract`` alone; image tasks only (text tasks have one backbone)."""
    if len(runs) < 2:
        return None
    best, extract = [], []
    for i in range(len(runs)):
        for j in range(i + 1, len(runs)):
            tasks = list(_backbone_rows(runs, names, (i, j)))
            best.append(concordance([[b for b, _, _ in rows] for rows in tasks]))
            extract.append(concordance([[e for _, e, _ in rows if e] for rows in tasks]))
    out = {"best_over_common_strategies": _stats(best), "extract": _stats(extract)}
    out["ceiling"] = {k: tau_ceiling(v["mean"]) if v else None for k, v in out.items()}
    out["ceiling_vs_mean_of_runs"] = {k: tau_ceiling(v["mean"], len(runs)) if v else None
                                      for k, v in list(out.items())[:2]}
    return out


def tau_vs_mean_of_runs(runs, names) -> dict | None:
    """Pooled tau of each score (its mean over the runs) against the backbones' accuracy
    averaged over the runs (best over the common strategies, and extract): the same
    measurement with less noise in the accuracies."""
    if len(runs) < 2:
        return None
    tasks = list(_backbone_rows(runs, names, tuple(range(len(runs)))))
    out = {}
    for sc in SCORES:
        groups = {"best": [], "extract": []}
        for rows in tasks:
            g = {"best": [], "extract": []}
            for best, ext, scores in rows:
                v = [s.get(sc) for s in scores]
                if any(x is None for x in v):
                    continue
                g["best"].append((float(np.mean(v)), float(np.mean(best))))
                if ext is not None:
                    g["extract"].append((float(np.mean(v)), float(np.mean(ext))))
            for k in g:
                groups[k].append(g[k])
        out[sc] = {k: concordance(v) for k, v in groups.items()}
    return out


def tau_ceiling(retest: float, runs: int = 1) -> float | None:
    """Expected tau of a perfect ranking against one run (or the mean of ``runs`` runs),
    given the runs' test-retest tau.

    With Gaussian noise, tau = 2/pi arcsin(r) (Greiner's relation) and two independent noisy
    runs correlate as r_rt = r^2, where r is each run's correlation with the truth; so
    r^2 = sin(pi tau_rt / 2). The mean of m runs correlates with the truth as
    sqrt(m r^2 / (1 + (m - 1) r^2)) (Spearman-Brown); the ceiling is 2/pi arcsin of that.
    """
    if retest is None or retest <= 0:
        return None
    r2 = np.sin(np.pi * retest / 2)
    return float(2 / np.pi * np.arcsin(np.sqrt(runs * r2 / (1 + (runs - 1) * r2))))


def _f(v, fmt="{:.2f}"):
    return "-" if v is None else fmt.format(v)


def _ms(s, fmt="{:.2f}"):
    if s is None:
        return "-"
    return (fmt.format(s["mean"]) + (f" ± {s['sd']:.2f}" if s["n"] > 1 else "")
            + f" ({fmt.format(s['min'])} to {fmt.format(s['max'])})")


def markdown(res, stems) -> str:
    cfg = res["config"]
    lines = ["# advise vs fine-tuning over seeds", "",
             f"Runs: {', '.join(f'`{s}`' for s in stems)} (seeds {res['seeds']}: held-out "
             f"split and training seed; the subsample is the same). Settings: {cfg['per_task']} "
             f"samples per task, {cfg['epochs']} epochs, image size {cfg['image_size']}, "
             f"backbones {', '.join(cfg['backbones'])}. Only tasks with every pair measured in "
             "every run.", "",
             "| task | advice per seed | best pair per seed | regret per seed (points) |",
             "|---|---|---|---|"]
    for t in res["tasks"]:
        lines.append(f"| {t['task']} | {'; '.join(t['advice'])} | {'; '.join(t['best_pair'])} "
                     f"| {', '.join(f'{r:.1f}' for r in t['regret'])} |")
    for mod, m in res["over_seeds"].items():
        lines += ["", f"## {mod} tasks ({m['tasks']}), over {len(res['seeds'])} seeds "
                  "(mean ± sd (min to max) of the per-seed figures)", "",
                  f"- mean regret: **{_ms(m['regret_mean'])}** points (backbone part "
                  f"{_ms(m['regret_backbone_mean'])}, strategy part "
                  f"{_ms(m['regret_strategy_mean'])})",
                  f"- advised strategy = best strategy of the advised backbone on "
                  f"{', '.join(map(str, m['strategy_matches']))} of {m['tasks']} tasks",
                  "", "| score | pooled tau | mean tau over tasks |", "|---|---|---|"]
        if all(v is None for v in m["tau_pooled"].values()):
            lines[-2:] = ["tau: undefined (one candidate backbone)"]
        for sc in (sc for sc in SCORES if m["tau_pooled"][sc] is not None):
            lines.append(f"| {sc} | {_ms(m['tau_pooled'][sc], '{:+.2f}')} | "
                         f"{_ms(m['tau_mean'][sc], '{:+.2f}')} |")
    rt = res.get("retest_tau")
    if rt:
        lines += ["", "Test-retest tau of the measurement itself (image tasks, pooled, one run "
                  "against another): the backbones' best accuracy over the strategies both runs "
                  f"trained {_ms(rt['best_over_common_strategies'], '{:+.2f}')}, their extract "
                  f"accuracy {_ms(rt['extract'], '{:+.2f}')}. With Gaussian noise (tau = "
                  "2/pi arcsin r, and two runs correlating as r^2) a score that ranked the "
                  "backbones perfectly would reach an expected tau of about "
                  f"{_f(rt['ceiling']['best_over_common_strategies'])} / "
                  f"{_f(rt['ceiling']['extract'])} against one run: the ceiling of what this "
                  "measurement can confirm."]
    tm = res.get("tau_vs_mean_of_runs")
    if tm and rt:
        cm = rt["ceiling_vs_mean_of_runs"]
        lines += ["", f"Against the accuracy averaged over the {len(res['seeds'])} runs (each "
                  "score averaged too; less noise, so a higher ceiling: "
                  f"{_f(cm['best_over_common_strategies'])} for the best over the common "
                  f"strategies, {_f(cm['extract'])} for extract):", "",
                  "| score | pooled tau, best over common strategies | pooled tau, extract |",
                  "|---|---|---|"]
        lines += [f"| {sc} | {_f(v['best'], '{:+.2f}')} | {_f(v['extract'], '{:+.2f}')} |"
                  for sc, v in tm.items() if v["best"] is not None or v["extract"] is not None]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("stems", nargs="+", help="result stems under bench/results (one per seed)")
    ap.add_argument("--out-stem", default="advise_finetune_seeds")
    a = ap.parse_args(sys.argv[1:] if argv is None else argv)
    res = pool(load(a.stems))
    res["runs"] = a.stems
    from bench._results import write_results

    write_results(a.out_stem, res, markdown(res, a.stems))
    print(markdown(res, a.stems))


if __name__ == "__main__":
    main()
