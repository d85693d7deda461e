"""Accuracy and wall time of the four strategies on hymenoptera (train 245 -> val 153).

Run: ``.venv/bin/python -m bench.recipes_hymenoptera [--epochs N] [--only extract-linear,...]``
Writes ``bench/results/recipes_hymenoptera.json``. Data: ``../shared/data/images/hymenoptera``
beside the checkout (or ``TRANSFERKIT_DATA``). CPU threads: all available (2 here).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

RECIPES = {
    "extract-linear": ("extract", {"head": "linear"}),
    "extract-mlp": ("extract", {"head": "mlp"}),
    "partial": ("partial", {}),
    "full": ("full", {}),
    "scratch": ("scratch", {}),
    "auto": ("auto", {}),  # what `transferkit advise` recommends (run with --backbone auto)
}


def data_root() -> Path:
    env = os.environ.get("TRANSFERKIT_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return base / "images" / "hymenoptera"


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default=",".join(RECIPES))
    ap.add_argument("--epochs", type=int, default=None, help="override epochs of trained recipes")
    ap.add_argument("--scratch-epochs", type=int, default=None)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "recipes_hymenoptera.json"))
    ap.add_argument("--precision", default=None)
    ap.add_argument("--backbone", default="efficientnet_lite0",
                    help="runs of another backbone are stored as <recipe>@<backbone>")
    args = ap.parse_args(argv)

    import torch

    from transferkit.data import load_data
    from transferkit.io import write_text_atomic
    from transferkit.train import fit

    ds = load_data(data_root())
    out_path = Path(args.out)
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    results.setdefault("runs", {})
    results.update({
        "data": "hymenoptera train -> val",
        "backbone": "efficientnet_lite0 (runs named <recipe>@<backbone> use another)",
        "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "python": platform.python_version(), "torch": torch.__version__},
    })
    for name in args.only.split(","):
        strategy, opts = RECIPES[name]
        opts = dict(opts)
        if args.epochs and strategy in ("partial", "full"):
            opts["epochs"] = args.epochs
        if args.scratch_epochs and strategy == "scratch":
            opts["epochs"] = args.scratch_epochs
        if args.precision and strategy != "extract":
            opts["precision"] = args.precision
        t0 = time.perf_counter()
        res = fit(ds, backbone=args.backbone, strategy=strategy, progress=False, seed=0, **opts)
        wall = time.perf_counter() - t0
        key = name if not args.precision else f"{name}-{args.precision}"
        if args.backbone != "efficientnet_lite0":
            key = f"{key}@{args.backbone}"
        results["runs"][key] = {
            "backbone": res.backbone,
            "strategy": res.strategy,
            "advice": res.info.get("advice", {}).get("reason") if strategy == "auto" else None,
            "options": res.options,
            "val_accuracy": res.metrics.get("accuracy"),
            "val_macro_f1": res.metrics.get("macro_f1"),
            "best_epoch": res.metrics.get("best_epoch"),
            "last_epoch_val_accuracy": res.history[-1].get("val_accuracy") if res.history else None,
            "history_val_accuracy": [h.get("val_accuracy") for h in res.history],
            "wall_s": round(wall, 1),
            "timings": res.timings,
            "trained_params": res.trained_params,
            "info": {k: v for k, v in res.info.items() if k != "advice"},
        }
        print(name, json.dumps(results["runs"][key]["val_accuracy"]), f"{wall:.0f}s", flush=True)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out_path, json.dumps(results, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
