"""Source-free and test-time adaptation: source-only vs AdaBN vs TENT vs SHOT.

Run:  .venv/bin/python -m bench.da_sourcefree [--part digits|office|all] [--seeds 3] [--quick]
Writes bench/results/da_sourcefree.json and .md (atomically).

Protocols (target labels are used only to score; adaptation and scoring both use the whole
unlabelled target domain, the transductive protocol of the SHOT paper):

* digits, MNIST->USPS and USPS->MNIST, ``lenet`` trained from scratch. Only the MNIST *test*
  set (10,000) is available here, so it is the MNIST domain both as source and as target;
  USPS is the full 9,298 (train + test, 16x16 resized to 28x28). The source model is written
  by ``transferkit.train.fit(..., strategy='scratch')`` (arrays, 10% of the source held out to
  pick the epoch); AdaBN/TENT run on the loaded predictor, SHOT writes a new model folder
  which is loaded back to score. Seeds 0..n-1 (source training and adaptation), mean and
  min-max over seeds.
* Office-Caltech-10, amazon -> webcam and amazon -> dslr, ``efficientnet_lite0``: source model
  = ``extract`` (frozen ImageNet backbone + linear head on cached features) fit on amazon;
  SHOT trains only the last ``--office-train-blocks`` backbone blocks (partial freezing, to
  bound the CPU time). One seed.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
OFFICE = Path("/work/shared/data/office_caltech10/images")


def _load_digits():
    try:
        from bench.digits_data import load_mnist_test, load_usps
    except ImportError:  # pragma: no cover - the shared reader is absent
        raise SystemExit("bench/digits_data.py (load_usps, load_mnist_test) is required") from None
    return {"mnist": load_mnist_test(), "usps": load_usps()}


def _acc(predictor, x, y) -> float:
    return float((predictor.predict_proba(x).argmax(1) == y).mean())


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - t0, 2)


def run_methods(src_dir, xt, yt, seed, shot_opts, tmp):
    """source-only, AdaBN, TENT, SHOT on one target; returns {method: {accuracy, time_s}}."""
    import transferkit.inference as inf
    from transferkit.adapt.sourcefree import shot
    from transferkit.adapt.tta import adapt_predictor

    pred = inf.load(src_dir)
    res = {}
    acc, t = _timed(lambda: _acc(pred, xt, yt))
    res["source_only"] = {"accuracy": acc, "time_s": t}
    for m in ("adabn", "tent"):
        ad, t = _timed(lambda m=m: adapt_predictor(pred, xt, method=m, seed=seed))
        res[m] = {"accuracy": _acc(ad, xt, yt), "time_s": t}
    out = Path(tmp) / f"shot-{seed}"
    r, t = _timed(lambda: shot(src_dir, xt, out=out, seed=seed, progress=False, **shot_opts))
    res["shot"] = {"accuracy": _acc(inf.load(out), xt, yt), "time_s": t,
                   "train_s": r.timings["train_s"]}
    return res


def _subset(x, y, n, seed=12345):
    """A fixed class-stratified-by-chance random subset (the same for every run)."""
    if not n or n >= len(y):
        return x, y
    idx = np.sort(np.random.default_rng(seed).choice(len(y), n, replace=False))
    return x[idx], y[idx]


def digits(seeds, src_epochs, shot_epochs, n_source, n_target, log):
    from transferkit.data.dataset import Dataset
    from transferkit.train import fit

    data = _load_digits()
    classes = [str(i) for i in range(10)]
    pairs = {}
    for src, tgt in (("mnist", "usps"), ("usps", "mnist")):
        (xs, ys), (xt, yt) = _subset(*data[src], n_source), _subset(*data[tgt], n_target)
        runs = []
        for seed in range(seeds):
            with tempfile.TemporaryDirectory(prefix="tk-sf-") as tmp:
                ds = Dataset("array", xs, ys, classes, source=src)
                fr, t_fit = _timed(lambda ds=ds, tmp=tmp, seed=seed: fit(
                    ds, backbone="lenet", strategy="scratch", out=str(Path(tmp) / "src"),
                    seed=seed, progress=False, val_size=0.1, epochs=src_epochs, batch_size=64,
                    device="cpu"))
                res = run_methods(fr.out, xt, yt, seed, {"epochs": shot_epochs}, tmp)
                res["source_fit"] = {"time_s": t_fit, "val_accuracy": fr.metrics.get("accuracy")}
                runs.append(res)
                log(f"{src}->{tgt} seed {seed}: " + ", ".join(
                    f"{k} {v['accuracy']:.4f} ({v['time_s']:.0f}s)" for k, v in res.items()
                    if "accuracy" in v) + f"; source fit {t_fit:.0f}s")
        pairs[f"{src}->{tgt}"] = {"n_source": len(ys), "n_target": len(yt), "runs": runs,
                                  "summary": summarise(runs)}
    return pairs


def office(train_blocks, shot_epochs, log):
    from transferkit.train import fit

    with tempfile.TemporaryDirectory(prefix="tk-sf-office-") as tmp:
        fr, t_fit = _timed(lambda: fit(str(OFFICE / "amazon"), backbone="efficientnet_lite0",
                                       strategy="extract", out=str(Path(tmp) / "src"), seed=0,
                                       progress=False, device="cpu",
                                       cache_dir=str(Path(tmp) / "cache")))
        log(f"office source (extract on amazon): {t_fit:.0f}s")
        from transferkit.data import load_data
        from transferkit.inference import load
        from transferkit.train import read_model_config

        n_blocks = load(fr.out).model.backbone.num_blocks
        k = max(n_blocks - train_blocks, 0)
        pairs = {}
        for tgt in ("webcam", "dslr"):
            ds = load_data(str(OFFICE / tgt))
            classes = load(fr.out).classes
            yt = np.asarray([classes.index(ds.classes[c]) for c in ds.y])
            res = run_methods(fr.out, list(ds.inputs), yt, 0,
                              {"epochs": shot_epochs, "k": k, "batch_size": 32}, tmp)
            log(f"amazon->{tgt}: " + ", ".join(f"{m} {v['accuracy']:.4f} ({v['time_s']:.0f}s)"
                                               for m, v in res.items()))
            pairs[f"amazon->{tgt}"] = {"n_source": read_model_config(fr.out).get("n_train"),
                                       "n_target": len(yt), "runs": [res],
                                       "summary": summarise([res])}
        return {"source_fit_s": t_fit, "shot_k": k, "num_blocks": n_blocks, "pairs": pairs}


def summarise(runs):
    out = {}
    for m in ("source_only", "adabn", "tent", "shot"):
        a = np.array([r[m]["accuracy"] for r in runs])
        t = np.array([r[m]["time_s"] for r in runs])
        out[m] = {"mean": round(float(a.mean()), 4), "min": round(float(a.min()), 4),
                  "max": round(float(a.max()), 4), "time_s_mean": round(float(t.mean()), 1)}
    return out


def markdown(res) -> str:
    lines = ["# Source-free and test-time adaptation (bench/da_sourcefree.py)", "",
             f"{res['machine']}; torch threads {res['threads']}; wall seconds per part "
             f"{res.get('part_s')} (parts may have run side by side on a shared machine).",
             "Accuracy on the whole target domain, mean (min-max) over seeds; time = wall "
             "seconds of that step (adaptation, or prediction for source-only).", ""]
    for part, title in (("digits", "Digits, lenet from scratch"),
                        ("office", "Office-Caltech-10, efficientnet_lite0 extract")):
        if part not in res:
            continue
        pairs = res[part]["pairs"] if part == "office" else res[part]
        lines += [f"## {title}", "", f"settings: {res['settings'][part]}", "",
                  "| pair | source-only | AdaBN | TENT | SHOT |", "|---|---|---|---|---|"]
        for name, p in pairs.items():
            s = p["summary"]
            cells = [f"{s[m]['mean']:.4f} ({s[m]['min']:.4f}-{s[m]['max']:.4f}); "
                     f"{s[m]['time_s_mean']:.0f} s" for m in ("source_only", "adabn", "tent", "shot")]
            lines.append(f"| {name} (n_t={p['n_target']}) | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["digits", "office", "all"], default="all")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--src-epochs", type=int, default=3)
    ap.add_argument("--shot-epochs", type=int, default=4)
    ap.add_argument("--n-source", type=int, default=4000, help="source subset (0 = all)")
    ap.add_argument("--n-target", type=int, default=2000, help="target subset (0 = all)")
    ap.add_argument("--office-shot-epochs", type=int, default=2)
    ap.add_argument("--office-train-blocks", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="1 seed, 1 epoch each (smoke run)")
    ap.add_argument("--name", default="da_sourcefree")
    args = ap.parse_args(argv)
    import torch

    from transferkit.io import write_json_atomic, write_text_atomic

    torch.set_num_threads(2)
    if args.quick:
        args.seeds, args.src_epochs, args.shot_epochs, args.office_shot_epochs = 1, 1, 1, 1

    def log(msg):
        print(msg, flush=True)

    t0 = time.perf_counter()
    res = {"machine": f"{platform.processor() or platform.machine()}, {platform.system()}",
           "threads": torch.get_num_threads(), "settings": {}}
    if args.part in ("digits", "all"):
        res["settings"]["digits"] = (f"{args.seeds} seeds; fixed random subsets: source "
                                     f"{args.n_source or 'all'}, target {args.n_target or 'all'}; "
                                     f"source: scratch, {args.src_epochs} "
                                     "epochs, batch 64, AdamW 2e-3, 10% val; AdaBN batch 64; TENT "
                                     "Adam 1e-3, batch 64, 1 pass; SHOT beta 0.3, "
                                     f"{args.shot_epochs} epochs, batch 64, SGD 1e-2")
        res["digits"] = digits(args.seeds, args.src_epochs, args.shot_epochs, args.n_source,
                               args.n_target, log)
    if args.part in ("office", "all"):
        res["settings"]["office"] = (f"1 seed; source: extract (linear head); TENT Adam 1e-3, "
                                     f"batch 64, 1 pass; SHOT beta 0.3, {args.office_shot_epochs} "
                                     f"epochs, batch 32, SGD 1e-3, last {args.office_train_blocks} "
                                     "blocks trained")
        res["office"] = office(args.office_train_blocks, args.office_shot_epochs, log)
    res["total_s"] = round(time.perf_counter() - t0, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    res["part_s"] = {args.part: res["total_s"]}
    old = RESULTS / f"{args.name}.json"
    if args.part != "all" and old.is_file():  # a part run keeps the other part's results
        from transferkit.io import read_json

        prev = read_json(old)
        other = "office" if args.part == "digits" else "digits"
        if other in prev:
            res[other] = prev[other]
            res["settings"][other] = prev["settings"][other]
            res["total_s"] = round(res["total_s"] + prev.get("part_s", {}).get(other, 0), 1)
        res["part_s"] = {**prev.get("part_s", {}), **res["part_s"]}
    write_json_atomic(RESULTS / f"{args.name}.json", res)
    write_text_atomic(RESULTS / f"{args.name}.md", markdown(res))
    log(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
