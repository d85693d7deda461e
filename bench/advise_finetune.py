"""Validate ``transferkit.advise`` against trained accuracy over (backbone x strategy) pairs.

For each task, a stratified subsample of ``--per-task`` samples is split once (stratified,
seed 0) into a training part and a held-out part (``--test-size``), the same for every pair.
The advisor runs on the training part only, as ``fit --strategy auto`` does. Then every
candidate backbone is trained with every strategy on the training part through
:func:`transferkit.train.fit`:

* ``extract``: frozen features + logistic regression (the recipe's C by CV);
* ``partial``: the first k blocks frozen, k = the advisor's (half the blocks) or ``--partial-k``;
* ``full``: everything fine-tuned (LP-FT start, body at 0.1x the head's rate);
* ``scratch``: the architecture from random weights;

with the advisor's (= the recipes' default) learning rate of each strategy and one fixed budget
for the three trained ones: ``--epochs`` epochs, batch 16, no validation (the last epoch is
kept), so the held-out labels never pick anything. Accuracy is measured on the held-out part
(with ``--extra-test N``, also on up to N samples from outside the subsample: less noise).

Reported per task: the accuracy table, the advised pair and its regret over all pairs (best
accuracy minus the advised pair's, points), whether the advised strategy is the measured best
one, and Kendall's tau over backbones between each score and (a) the best accuracy of the
backbone over strategies, (b) its ``extract`` accuracy; then the means over tasks.

``--image-size N`` (> 0) decodes image folders once into N x N arrays (resize the short side to
N / 0.875, centre crop) and trains every pair on those arrays at N px (the recipes' array path:
mild random resized crop, no flip); digit arrays are resized to N. ``--image-size 0`` keeps the
recipes' own input (image files at the backbone's input size, its augmentation; digits at the
backbone's input size). The advisor sees the task's data as given (image files), or with
``--advise-size`` the training part as trained (N px arrays, ``advise(image_size=N)``; the
similarity still at the backbone's input size).

CPU (reduced): ``nice -n 15 .venv/bin/python -m bench.advise_finetune --per-task 200
--epochs 3 --image-size 128 --backbones efficientnet_lite0,mobilenet_v2,efficientnet_lite1``.
GPU (full): see docs/advise.md ("Validation against fine-tuning").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.advise_validation import SCORES, concordance, image_tasks, kendall, text_tasks  # noqa: E402

STRATEGIES = ("extract", "partial", "full", "scratch")
IMAGE_TASKS = ("hymenoptera", "office_amazon", "office_caltech10", "office_dslr",
               "office_webcam", "digits_sklearn", "usps", "mnist")
TEXT_TASKS = ("amazon_books", "amazon_dvd", "amazon_electronics", "amazon_kitchen", "sst2")
ALL_IMAGE_BACKBONES = ("efficientnet_lite0", "mobilenet_v2", "efficientnet_lite1",
                       "efficientnet_lite2")
STEM = "advise_finetune"


# --- data ------------------------------------------------------------------------------------
def load_tasks(names, per_task, per_task_text):
    """(name, Dataset) for the requested tasks, each a stratified subsample (split removed)."""
    want = set(names)
    if want & set(IMAGE_TASKS):
        yield from image_tasks(per_task, want)
    text = [n for n in TEXT_TASKS if n in want]
    if text:
        doms = [n.split("_", 1)[1] for n in text if n.startswith("amazon_")]
        for name, ds in text_tasks(per_task_text, doms):
            if name in want:
                yield name, ds


def holdout(ds, test_size: float, seed: int = 0):
    """Stratified (train, test) parts of ``ds``; ``split`` cleared so ``fit`` uses them as is."""
    import dataclasses

    from transferkit.data import split_dataset

    parts = split_dataset(dataclasses.replace(ds, split=None), val_size=0, test_size=test_size,
                          seed=seed)
    return (dataclasses.replace(parts["train"], split=None),
            dataclasses.replace(parts["test"], split=None))


def decode_to_arrays(ds, size: int):
    """Image-file Dataset -> ``'array'`` Dataset of uint8-valued (n, size, size, 3) images,
    prepared like the zoo's evaluation transform (short side to size / 0.875, centre crop)."""
    from PIL import Image

    from transferkit.data import from_arrays, read_image

    short = int(round(size / 0.875))
    out = np.empty((len(ds), size, size, 3), np.float32)
    for i, path in enumerate(ds.inputs):
        img = read_image(path, draft=(short, short))
        w, h = img.size
        s = short / min(w, h)
        img = img.resize((max(size, round(w * s)), max(size, round(h * s))),
                         Image.Resampling.BILINEAR)
        w, h = img.size
        left, top = (w - size) // 2, (h - size) // 2
        out[i] = np.asarray(img.crop((left, top, left + size, top + size)), np.float32)
    return from_arrays(out, np.asarray(ds.y), classes=list(ds.classes), source=ds.source)


# --- one pair ----------------------------------------------------------------------------------
def strategy_options(strategy: str, num_blocks: int, epochs: int, image_size: int | None,
                     k: int | None = None):
    """The advisor's settings for ``strategy`` with the run's fixed budget; ``partial`` at ``k``
    (``--partial-k``) when given and below ``num_blocks``, else at the advisor's half."""
    from transferkit.advise.advisor import STRATEGY_SETTINGS, choose_strategy

    opts = dict(STRATEGY_SETTINGS[strategy])
    if strategy == "partial":
        opts["k"] = int(k) if k is not None and k < num_blocks else choose_strategy(
            False, False, num_blocks)["k"]
    if strategy != "extract":
        opts["epochs"] = int(epochs)
        opts["batch_size"] = 16
    if image_size:
        opts["image_size"] = int(image_size)
    return opts


def extra_test_set(name, per_task, n_extra, seed):
    """Up to ``n_extra`` samples of task ``name`` outside its ``per_task`` subsample
    (stratified, ``seed``): more test data for the same training part (``--extra-test``)."""
    import dataclasses

    from bench.advise_validation import full_image_task
    from transferkit.advise.advisor import stratified_subsample

    full = full_image_task(name)
    rest = np.setdiff1d(np.arange(len(full)), stratified_subsample(full.y, per_task, 0))
    if not len(rest):
        return None
    pick = rest[stratified_subsample(np.asarray(full.y)[rest], n_extra, seed)]
    return dataclasses.replace(full.subset(pick), split=None)


def train_and_score(train, test, backbone, strategy, opts, device, cache_dir, seed=0,
                    extra=None, record=False) -> dict:
    """Train one (backbone, strategy) pair on ``train``; accuracy on ``test`` (+ ``extra``),
    with ``extra`` or ``record`` also ``accuracy_heldout`` and ``correct`` (0/1 per sample)."""
    from transferkit.train import fit
    from transferkit.train.modelfile import Predictor
    from transferkit.train.trainer import resolve_device

    t0 = time.perf_counter()
    res = fit(train, None, backbone=backbone, strategy=strategy, progress=False, device=device,
              cache_dir=cache_dir, seed=seed, **opts)
    t_fit = time.perf_counter() - t0
    dev = str(resolve_device(device))
    pred = Predictor(res.model.to(dev).eval(), res.classes, res.preprocessing, device=dev,
                     batch_size=64)
    hits = [pred.predict_proba(part).argmax(1) == np.asarray(part.y)
            for part in ([test] if extra is None else [test, extra])]
    acc = float(np.concatenate(hits).mean())
    more = {} if extra is None and not record else {
        "accuracy_heldout": float(hits[0].mean()),
        "correct": "".join("1" if h else "0" for h in np.concatenate(hits))}
    return {"accuracy": acc, **more, "fit_s": round(t_fit, 2),
            "eval_s": round(time.perf_counter() - t0 - t_fit, 2),
            "trained_params": res.trained_params, "options": opts, "timings": res.timings,
            "train_accuracy": res.metrics.get("train_accuracy")}


# --- one task ----------------------------------------------------------------------------------
def _advise(train, backbones, cache_dir, size=None) -> dict:
    """The advice on the training part, as a JSON-able record (with ``size``: on the part as
    trained, ``size`` px arrays, through ``advise(image_size=size)``)."""
    from transferkit.advise import advise

    if size and train.modality == "image":
        train = decode_to_arrays(train, size)
    adv = advise(train, backbones=backbones, cache_dir=cache_dir, max_samples=None,
                 progress=False, image_size=size or None)
    return {"advice": {"backbone": adv.backbone, "strategy": adv.strategy, "k": adv.k,
                       "scenario": adv.scenario, "size": adv.size.label,
                       "similarity": adv.similarity.label,
                       "similarity_value": round(float(adv.similarity.value), 4),
                       "class_ami": adv.report.class_ami},
            "scores": {r.backbone: r.scores for r in adv.reports},
            "num_blocks": {r.backbone: r.num_blocks for r in adv.reports},
            "block_params": {r.backbone: r.block_params for r in adv.reports},
            "similarity": {r.backbone: r.similarity.to_dict() for r in adv.reports}}


def run_task(name, ds, backbones, args, cache_dir, prev=None, save_fn=None) -> dict:
    """Advice (or the saved one in ``prev``) and every missing (backbone, strategy) pair."""
    t0 = time.perf_counter()
    train, test = holdout(ds, args.test_size, seed=args.seed)
    out = dict(prev) if prev else {}
    if "advice" not in out or args.re_advise:
        advise_at = args.image_size if args.advise_size and ds.modality != "text" else None
        out.update(_advise(train, backbones, cache_dir, advise_at))
    for b, row in out.get("accuracy", {}).items():  # a partial pair trained at another k
        want = strategy_options("partial", out["num_blocks"][b], args.epochs, None,
                                args.partial_k)["k"]
        if "partial" in row and row["partial"]["options"].get("k") != want:
            del row["partial"]
    extra = (extra_test_set(name, args.per_task, args.extra_test, args.seed)
             if args.extra_test and ds.modality != "text" else None)
    out.update({"task": name, "modality": ds.modality, "n_train": len(train),
                "n_test": len(test) + (0 if extra is None else len(extra)),
                "n_test_heldout": len(test)})
    table = out.setdefault("accuracy", {})
    size = args.image_size if ds.modality != "text" else 0
    todo = [] if args.advice_only else [
        (b, s) for b in backbones if ds.modality == "text" or b in args.train_backbones
        for s in args.strategies if s not in table.get(b, {})]
    tr_m, te_m = train, test
    if todo and size and ds.modality == "image":
        tr_m, te_m = decode_to_arrays(train, size), decode_to_arrays(test, size)
        extra = None if extra is None else decode_to_arrays(extra, size)
    for b, strategy in todo:
        opts = strategy_options(strategy, out["num_blocks"][b], args.epochs,
                                size if ds.modality != "text" else None, args.partial_k)
        r = train_and_score(tr_m, te_m, b, strategy, opts, args.device, cache_dir,
                            seed=args.seed, extra=extra, record=bool(args.extra_test))
        table.setdefault(b, {})[strategy] = r
        print(json.dumps({"task": name, "backbone": b, "strategy": strategy,
                          "accuracy": round(r["accuracy"], 4), "fit_s": r["fit_s"]}), flush=True)
        out["seconds"] = round(out.get("seconds", 0) + time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        out.update(task_summary(out))
        if save_fn is not None:
            save_fn(out)
    out["seconds"] = round(out.get("seconds", 0) + time.perf_counter() - t0, 1)
    out.update(task_summary(out))
    return out


def _acc(task, b, s):
    return task["accuracy"][b][s]["accuracy"]


def task_summary(task) -> dict:
    """Regret of the advised pair, best strategies, and tau of each score (a) and (b).

    Only backbones with every measured strategy count (a partial run reports on those);
    ``complete`` says whether every candidate backbone has every strategy."""
    full = task.get("accuracy", {})
    strategies = [s for s in STRATEGIES if any(s in r for r in full.values())]
    acc = {b: r for b, r in full.items() if all(s in r for s in strategies)}
    out = {"complete": bool(acc) and set(acc) == set(task["scores"]), "best_pair": None,
           "best_accuracy": None, "best_strategy_per_backbone": {}, "advised_accuracy": None,
           "regret_points": None, "regret_backbone_points": None,
           "regret_strategy_points": None, "advised_strategy_is_best_for_its_backbone": None,
           "advised_strategy_is_best_pairs_strategy": None, "tau": {}}
    if not acc:
        return out
    pairs = [(b, s) for b in acc for s in acc[b]]
    best_b, best_s = max(pairs, key=lambda p: _acc(task, *p))
    best = _acc(task, best_b, best_s)
    adv = task["advice"]
    out.update(best_pair=[best_b, best_s], best_accuracy=best,
               best_strategy_per_backbone={b: max(acc[b], key=lambda s: acc[b][s]["accuracy"])
                                           for b in acc},
               advised_strategy_is_best_pairs_strategy=adv["strategy"] == best_s)
    advised = acc.get(adv["backbone"], {}).get(adv["strategy"])
    if advised is not None:
        bb_best = max(r["accuracy"] for r in acc[adv["backbone"]].values())
        out.update(advised_accuracy=advised["accuracy"],
                   regret_points=100 * (best - advised["accuracy"]),
                   regret_backbone_points=100 * (best - bb_best),
                   regret_strategy_points=100 * (bb_best - advised["accuracy"]),
                   advised_strategy_is_best_for_its_backbone=advised["accuracy"] >= bb_best)
    for sc in SCORES:
        bs = [b for b in acc if task["scores"][b].get(sc) is not None]
        vals = [task["scores"][b][sc] for b in bs]
        out["tau"][sc] = {
            "best_over_strategies": kendall(vals, [max(r["accuracy"] for r in acc[b].values())
                                                   for b in bs]),
            "extract": kendall(vals, [acc[b]["extract"]["accuracy"] for b in bs])
            if "extract" in strategies else None}
    return out


def pooled_tau(tasks, score, strategy=None):
    """:func:`concordance` over all within-task pairs of backbones; accuracy = the backbone's
    best over strategies, or that of ``strategy``."""
    groups = []
    for t in tasks:
        rows = [(t["scores"][b].get(score),
                 max(r["accuracy"] for r in t["accuracy"][b].values()) if strategy is None
                 else t["accuracy"][b][strategy]["accuracy"])
                for b in t["best_strategy_per_backbone"]
                if strategy is None or strategy in t["accuracy"][b]]
        groups.append([r for r in rows if r[0] is not None])
    return concordance(groups)


def summarise(tasks) -> dict:
    def mean(v):
        v = [x for x in v if x is not None]
        return float(np.mean(v)) if v else None

    s = {"tasks": len(tasks)}
    for mod in ("image", "text"):
        ts = [t for t in tasks if (t["modality"] == "text") == (mod == "text")
              and t.get("best_pair")]
        if not ts:
            continue
        m = {"regret_mean": mean([t["regret_points"] for t in ts]),
             "regret_max": max((t["regret_points"] for t in ts if t["regret_points"] is not None),
                               default=None),
             "regret_backbone_mean": mean([t.get("regret_backbone_points") for t in ts]),
             "regret_strategy_mean": mean([t.get("regret_strategy_points") for t in ts]),
             "strategy_matches": sum(bool(t["advised_strategy_is_best_for_its_backbone"])
                                     for t in ts),
             "tasks": len(ts), "tau": {}}
        for sc in SCORES:
            a = [t["tau"].get(sc, {}).get("best_over_strategies") for t in ts]
            b = [t["tau"].get(sc, {}).get("extract") for t in ts]
            m["tau"][sc] = {"best_over_strategies_mean": mean(a), "extract_mean": mean(b),
                            "best_over_strategies_pooled": pooled_tau(ts, sc, None),
                            "extract_pooled": pooled_tau(ts, sc, "extract"),
                            "defined_tasks": sum(x is not None for x in a)}
        # mean accuracy of each strategy over tasks and backbones
        m["strategy_mean_accuracy"] = {
            st: mean([r[st]["accuracy"] for t in ts for r in t["accuracy"].values() if st in r])
            for st in STRATEGIES}
        s[mod] = m
    return s


# --- report ------------------------------------------------------------------------------------
def _f(v, fmt="{:+.2f}"):
    return "-" if v is None else fmt.format(v)


def markdown(res) -> str:
    cfg = res["config"]
    lines = ["# advise vs fine-tuning: (backbone x strategy) accuracy", "",
             f"Machine: {res['machine']}. Per task {cfg['per_task']} images / "
             f"{cfg['per_task_text']} texts (stratified), held-out {cfg['test_size']:.0%} "
             f"(same split for every pair, seed {cfg.get('seed', 0)})"
             + (f", image tasks also tested on up to {cfg['extra_test']} samples outside the "
                "subsample (the accuracies are over both)" if cfg.get("extra_test") else "")
             + f"; trained strategies {cfg['epochs']} epochs, "
             f"batch 16, no validation (last epoch); image size "
             f"{cfg['image_size'] or 'native (the recipes own input)'}; devices "
             f"{', '.join(sorted({r['device'] for r in res.get('runs', [])}))}. "
             "The advisor ran on the training part only"
             + (f", at {cfg['image_size']} px (--advise-size)" if cfg.get("advise_size") else "")
             + ". Bold: the best pair. partial at k = "
             + (f"{cfg['partial_k']} (--partial-k)" if cfg.get("partial_k") is not None else
                "the advisor's (half the blocks)") + ".", ""]
    for t in res["tasks"]:
        if "advice" not in t:  # kept from an earlier run, its advice not computed again yet
            continue
        adv = t["advice"]
        strategies = [s for s in STRATEGIES if any(s in r for r in t["accuracy"].values())]
        ks = sorted({r["partial"]["options"].get("k") for r in t["accuracy"].values()
                     if "partial" in r} - {None})
        head = (f"Advice: **{adv['backbone']} + {adv['strategy']}**"
                + (f" (k={adv['k']})" if adv["k"] else "")
                + f", scenario {adv['scenario']} ({adv['size']}, {adv['similarity']} "
                f"{adv['similarity_value']}"
                + (f", class AMI {adv['class_ami']:.3f}" if adv.get("class_ami") is not None
                   else "") + ")")
        if t.get("best_pair"):
            head += (f"; best measured {t['best_pair'][0]} + {t['best_pair'][1]} "
                     f"{100 * t['best_accuracy']:.1f}; **regret "
                     f"{_f(t['regret_points'], '{:.1f}')} points** (backbone "
                     f"{_f(t.get('regret_backbone_points'), '{:.1f}')}, strategy "
                     f"{_f(t.get('regret_strategy_points'), '{:.1f}')})"
                     + ("" if t.get("complete") else "; not every pair measured"))
        held = t.get("n_test_heldout", t["n_test"])
        lines += [f"## {t['task']} (train {t['n_train']} / test {t['n_test']}"
                  + (f" = {held} held out + {t['n_test'] - held} more" if held != t["n_test"]
                     else "") + "; "
                  f"{t.get('seconds', 0):.0f} s)", "", head + ".", "",
                  "| backbone | " + " | ".join(
                      f"partial (k={'/'.join(map(str, ks))})" if s == "partial" and ks else s
                      for s in strategies) + " | LogME | LEEP | NCE | H-score | LogME (z) |",
                  "|---|" + "---|" * (len(strategies) + 5)]
        for b, sc in t["scores"].items():
            row = t["accuracy"].get(b, {})
            cells = []
            for s in strategies:
                v = f"{100 * row[s]['accuracy']:.1f}" if s in row else "-"
                if [b, s] == t["best_pair"]:
                    v = f"**{v}**"
                if b == adv["backbone"] and s == adv["strategy"]:
                    v += " (advised)"
                cells.append(v)
            lines.append(f"| {b} | " + " | ".join(cells) + " | "
                         + " | ".join(_f(sc.get(k), "{:.3f}") for k in SCORES) + " |")
        lines += ["", "tau (score vs best-over-strategies / vs extract): " + ", ".join(
            f"{k} {_f(v['best_over_strategies'])} / {_f(v['extract'])}"
            for k, v in t["tau"].items()) if t["tau"] else "tau: -", ""]
    for mod, m in ((k, res["summary"][k]) for k in ("image", "text") if k in res["summary"]):
        lines += [f"## Summary, {mod} tasks ({m['tasks']})", "",
                  f"- regret of the advised pair: mean **{_f(m['regret_mean'], '{:.2f}')}** "
                  f"points, max {_f(m['regret_max'], '{:.1f}')} (backbone part "
                  f"{_f(m['regret_backbone_mean'], '{:.2f}')}, strategy part "
                  f"{_f(m['regret_strategy_mean'], '{:.2f}')})",
                  f"- advised strategy = best strategy of the advised backbone on "
                  f"{m['strategy_matches']} of {m['tasks']} tasks",
                  "- mean accuracy per strategy: " + ", ".join(
                      f"{s} {_f(v, '{:.3f}')}" for s, v in m["strategy_mean_accuracy"].items()),
                  "", "| score | tau vs best over strategies: mean / pooled | tau vs extract: "
                  "mean / pooled | tasks with tau defined |", "|---|---|---|---|"]
        for sc, v in m["tau"].items():
            lines.append(f"| {sc} | {_f(v['best_over_strategies_mean'])} / "
                         f"{_f(v['best_over_strategies_pooled'])} | {_f(v['extract_mean'])} / "
                         f"{_f(v['extract_pooled'])} | {v['defined_tasks']} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def save(res, stem):
    from bench._results import write_results

    res["summary"] = summarise(res["tasks"])
    write_results(stem, res, markdown(res))


# --- main --------------------------------------------------------------------------------------
def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-task", type=int, default=200, help="images per task (stratified)")
    ap.add_argument("--per-task-text", type=int, default=200, help="texts per text task")
    ap.add_argument("--test-size", type=float, default=0.4, help="held-out fraction")
    ap.add_argument("--epochs", type=int, default=3, help="epochs of partial/full/scratch")
    ap.add_argument("--seed", type=int, default=0,
                    help="seed of the held-out split and of training (the subsample is fixed)")
    ap.add_argument("--image-size", type=int, default=128,
                    help="train at N px on pre-decoded arrays; 0 = the recipes' own input")
    ap.add_argument("--backbones", default=",".join(ALL_IMAGE_BACKBONES[:3]),
                    help="candidate image backbones of the advice ('all' = the four zoo "
                         "ImageNet backbones)")
    ap.add_argument("--train-backbones", default=None,
                    help="train only these (default: every candidate); with --resume, runs "
                         "split by backbone fill one results file")
    ap.add_argument("--tasks", default=",".join(IMAGE_TASKS),
                    help="comma-separated; 'all' = images and texts; names: "
                    + ", ".join(IMAGE_TASKS + TEXT_TASKS))
    ap.add_argument("--strategies", default=",".join(STRATEGIES))
    ap.add_argument("--device", default="cpu", help="'cpu', 'cuda' or 'auto'")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--cache-dir", default=None, help="feature cache (default: transferkit's)")
    ap.add_argument("--out-stem", default=STEM, help="bench/results/<stem>.json and .md")
    ap.add_argument("--resume", action="store_true",
                    help="keep the advice and pairs already in the results file (same settings) "
                         "and run only the missing pairs")
    ap.add_argument("--extra-test", type=int, default=0, metavar="N",
                    help="image tasks: also test on up to N samples outside the subsample "
                         "(same training part; a larger test set, less noise in the accuracy)")
    ap.add_argument("--partial-k", type=int, default=None,
                    help="train partial at this k instead of the advisor's")
    ap.add_argument("--re-advise", action="store_true",
                    help="with --resume: compute the advice again (the advisor changed) and "
                         "keep the trained pairs")
    ap.add_argument("--advise-size", action="store_true",
                    help="advise on the training part as trained: --image-size px arrays, "
                         "advise(image_size=N); default: the data as given, native size")
    ap.add_argument("--advice-only", action="store_true",
                    help="compute and save the advice per task, train nothing")
    ap.add_argument("--pack", default=None, metavar="DIR",
                    help="write the image tasks' subsamples (shared-data layout) to DIR and exit")
    a = ap.parse_args(argv)
    a.backbones = list(ALL_IMAGE_BACKBONES) if a.backbones == "all" else [
        b.strip() for b in a.backbones.split(",") if b.strip()]
    a.train_backbones = a.backbones if a.train_backbones is None else [
        b.strip() for b in a.train_backbones.split(",") if b.strip()]
    if set(a.train_backbones) - set(a.backbones):
        ap.error("--train-backbones must be among --backbones")
    a.tasks = list(IMAGE_TASKS + TEXT_TASKS) if a.tasks == "all" else [
        t.strip() for t in a.tasks.split(",") if t.strip()]
    unknown = sorted(set(a.tasks) - set(IMAGE_TASKS + TEXT_TASKS))
    if unknown:
        ap.error(f"unknown task(s): {', '.join(unknown)}")
    a.strategies = [s.strip() for s in a.strategies.split(",") if s.strip()]
    if set(a.strategies) - set(STRATEGIES):
        ap.error(f"strategies: choose from {', '.join(STRATEGIES)}")
    return a


RESUME_KEYS = ("per_task", "per_task_text", "test_size", "epochs", "image_size", "seed",
               "backbones", "extra_test")


def resumable(old: dict, config: dict) -> dict:
    """The tasks of ``old`` a run with ``config`` may keep: all of them when the settings are
    the same; when only the candidate backbones differ, the trained pairs of the backbones still
    wanted, without the advice (it depends on the candidates and is computed again)."""
    def settings(cfg):  # keys added later (seed, extra_test) default to what runs had before
        return {k: cfg.get(k, 0 if k in ("seed", "extra_test") else None) for k in RESUME_KEYS}

    oc, config = settings(old.get("config", {})), settings(config)
    if oc == config:
        return {t["task"]: t for t in old["tasks"]}
    if any(oc[k] != config[k] for k in RESUME_KEYS if k != "backbones"):
        return {}
    keep = {}
    for t in old["tasks"]:
        if t["modality"] == "text":
            keep[t["task"]] = t  # text tasks have one backbone whatever the image candidates
        else:
            keep[t["task"]] = {"task": t["task"], "modality": t["modality"], "accuracy": {
                b: r for b, r in t.get("accuracy", {}).items() if b in config["backbones"]}}
    return keep


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.pack:
        from bench.advise_pack import pack

        print(json.dumps(pack(args.tasks, args.per_task, args.pack)))
        return
    import torch

    torch.set_num_threads(args.threads)
    config = {k: getattr(args, k) for k in RESUME_KEYS}
    if args.partial_k is not None:
        config["partial_k"] = args.partial_k
    if args.advise_size:
        config["advise_size"] = True
    machine = (f"{os.cpu_count()} CPUs, torch {torch.__version__}, {platform.python_version()}"
               + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""))
    res = {"config": config, "tasks": [], "machine": machine, "runs": []}
    done = {}
    path = ROOT / "bench" / "results" / f"{args.out_stem}.json"
    if args.resume and path.exists():
        old = json.loads(path.read_text())
        done = resumable(old, config)
        if done:
            res["runs"] = old.get("runs", [])
            if bool(old["config"].get("advise_size")) != args.advise_size:
                args.re_advise = True  # advice made the other way is made again
        else:
            print(f"{path}: other settings, starting afresh", flush=True)
    run = {"device": args.device, "machine": machine, "train_backbones": args.train_backbones,
           "tasks": args.tasks, "strategies": args.strategies, "advice_only": args.advice_only}
    res["runs"].append(run)
    t0 = time.perf_counter()
    names = [n for n in IMAGE_TASKS + TEXT_TASKS if n in args.tasks]
    res["tasks"] = [done[n] for n in done if n not in names]  # other tasks of the file stay
    # tasks of this run not reached yet stay in every save, so an interrupted run loses nothing
    pending = {n: done[n] for n in names if n in done}
    for name, ds in load_tasks(args.tasks, args.per_task, args.per_task_text):
        backbones = ["minilm_l6"] if ds.modality == "text" else args.backbones
        prev = pending.pop(name, None)

        def save_partial(entry, _n=len(res["tasks"])):
            run["wall_s"] = round(time.perf_counter() - t0, 1)
            save({**res, "tasks": res["tasks"][:_n] + [entry] + list(pending.values())},
                 args.out_stem)

        res["tasks"].append(run_task(name, ds, backbones, args, args.cache_dir, prev=prev,
                                     save_fn=save_partial))
        run["wall_s"] = round(time.perf_counter() - t0, 1)
        save({**res, "tasks": res["tasks"] + list(pending.values())}, args.out_stem)
    res["tasks"] += list(pending.values())
    save(res, args.out_stem)
    print(json.dumps(res["summary"], indent=1))


if __name__ == "__main__":
    main()
