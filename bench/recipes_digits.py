"""The article's "dissimilar" case: fine-tuning efficientnet_lite0 on scikit-learn's 8x8 digits.

Same protocol as the peers' figures in ../shared/notes/peers.md: 5-fold StratifiedKFold
(shuffle=True, random_state=0) over the 1,797 digits; each recipe trains on four folds (15% of
them held out for early stopping / model selection) and is scored on the fifth.
Peers here: majority 0.101, MLP on pixels 0.983, small CNN 0.986, Lite0 features + LR 0.949.
Goal: ``partial`` or ``full`` >= 0.99. Writes bench/results/recipes_digits.{json,md}.

    python -m bench.recipes_digits [--folds 5] [--only partial,full] [--epochs 8] [--image-size 64]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from bench._results import write_results

RESULTS = Path(__file__).resolve().parent / "results"
PEERS = {"majority": 0.101, "mlp_pixels": 0.983, "small_cnn": 0.986, "lite0_features_lr": 0.949}
RECIPES = {
    "extract_linear": {"strategy": "extract", "head": "linear"},
    "partial": {"strategy": "partial"},
    "full": {"strategy": "full"},
}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5, help="how many of the 5 folds to run")
    ap.add_argument("--only", default="full,partial,extract_linear")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--image-size", type=int, default=64)
    args = ap.parse_args(argv)

    from sklearn.model_selection import StratifiedKFold

    from transferkit.data import load_digits_dataset
    from transferkit.train import fit

    ds = load_digits_dataset()
    y = np.asarray(ds.y)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(len(y)), y))[: args.folds]
    out: dict = {"protocol": "5-fold StratifiedKFold(shuffle=True, random_state=0); 15% of the training folds "
                             "held out for early stopping/selection; score on the held-out fold",
                 "image_size": args.image_size, "epochs": args.epochs, "peers": PEERS, "methods": {},
                 "machine": {"cpus": os.cpu_count(), "platform": platform.platform()}}
    saved = RESULTS / "recipes_digits.json"
    if saved.exists():  # keep other methods measured with the same protocol
        prev = json.loads(saved.read_text())
        if (prev.get("image_size"), prev.get("epochs")) == (args.image_size, args.epochs):
            out["methods"].update(prev.get("methods", {}))
    for name in args.only.split(","):
        spec = dict(RECIPES[name])
        strategy = spec.pop("strategy")
        if strategy != "extract":
            spec["epochs"] = args.epochs
        accs, times = [], []
        for i, (tr, te) in enumerate(folds):
            t0 = time.perf_counter()
            res = fit(ds.subset(tr), None, backbone="efficientnet_lite0", strategy=strategy, seed=0,
                      progress=False, val_size=0.15, image_size=args.image_size, **spec)
            dt = time.perf_counter() - t0
            proba = res.predictor().predict_proba(np.asarray(ds.inputs)[te])
            acc = float((proba.argmax(1) == y[te]).mean())
            accs.append(acc)
            times.append(dt)
            print(f"  {name} fold {i}: accuracy {acc:.4f} in {dt:.0f} s", flush=True)
        out["methods"][name] = {"accuracy_mean": float(np.mean(accs)), "accuracy_std": float(np.std(accs)),
                                "per_fold": accs, "train_seconds_mean": float(np.mean(times)), "options": spec}
        if args.folds == 5:  # written after each method: an interrupted run keeps what finished
            _write(out)
    print(_markdown(out))
    return out


def _write(out: dict) -> None:
    write_results("recipes_digits", out, _markdown(out))


def _markdown(r: dict) -> str:
    lines = ["# Fine-tuning on scikit-learn's digits (the article's dissimilar case)", "",
             f"{r['protocol']}. efficientnet_lite0, digits upsampled to {r['image_size']} px, "
             f"{r['epochs']} epochs for partial/full.", "",
             "| method | accuracy (mean ± sd over folds) | train time per fold |", "|---|---|---|"]
    for k, v in r["methods"].items():
        lines.append(f"| transferkit {k} | {v['accuracy_mean']:.4f} ± {v['accuracy_std']:.4f} | "
                     f"{v['train_seconds_mean']:.0f} s |")
    for k, v in r["peers"].items():
        lines.append(f"| peer figure: {k} | {v:.3f} | |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
