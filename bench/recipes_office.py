"""The article's ladder on each Office-Caltech-10 domain (stratified 70/30 split).

For each domain of ``../shared/data/office_caltech10/images`` this runs ``transferkit.compare``
(majority, MLP on pixels, small CNN, scratch, extract-linear, extract-mlp, partial, full) with
``test_size=0.3`` (the 30% test part is never used for training or selection; 15% of the data
is carved from the 70% for early stopping) and writes ``bench/results/recipes_office.{json,md}``
after every domain, atomically, so a run cut short keeps the finished domains.

    python -m bench.recipes_office [--domains dslr,webcam,amazon,caltech10] [--epochs 3]
    python -m bench.recipes_office --data ../shared/data/images/hymenoptera --name recipes_ladder_hymenoptera
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from bench._results import write_results
from bench.da_data import SHARED

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = SHARED / "data/office_caltech10/images"


def _write(out: dict, stem: str = "recipes_office") -> None:
    write_results(stem, out, _markdown(out))


def _markdown(out: dict) -> str:
    doms = list(out["domains"])
    names = []
    for d in doms:
        for m in out["domains"][d]["methods"]:
            if m["name"] not in names:
                names.append(m["name"])
    lines = [f"# {out.get('title', 'The ladder per Office-Caltech-10 domain')}", "",
             f"{out['protocol']}. Backbone {out['backbone']}; fine-tuned rungs {out['epochs']} "
             f"epochs; baselines {out['baseline_epochs']} epochs. {out['machine']}.", "",
             "Test accuracy (train seconds):", "",
             "| method | " + " | ".join(doms) + " |", "|---|" + "---|" * len(doms)]
    for n in names:
        cells = []
        for d in doms:
            m = next((x for x in out["domains"][d]["methods"] if x["name"] == n), None)
            if m is None or m["accuracy"] is None:
                cells.append("error" if m else "—")
            else:
                cells.append(f"{m['accuracy']:.3f} ({m['train_seconds']:.0f} s)")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    lines.append("| n (train+val / test) | " + " | ".join(
        f"{out['domains'][d]['n_trainval']} / {out['domains'][d]['n_test']}" for d in doms) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--domains", default="dslr,webcam,amazon,caltech10")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--baseline-epochs", type=int, default=30)
    ap.add_argument("--data", default=None,
                    help="one data folder instead of the Office domains (its own train/val "
                         "split is kept: val becomes the test set), e.g. hymenoptera")
    ap.add_argument("--name", default="recipes_office", help="result file stem")
    args = ap.parse_args(argv)

    import torch

    from transferkit.compare import compare
    from transferkit.data import load_data

    out = {"protocol": "stratified split, 30% test (seed 0), 15% of all for validation",
           "backbone": "efficientnet_lite0", "epochs": args.epochs,
           "baseline_epochs": args.baseline_epochs,
           "machine": f"{os.cpu_count()} CPUs (shared), torch {torch.__version__} "
                      f"({torch.get_num_threads()} threads), {platform.python_version()}",
           "domains": {}}
    folders = ([Path(args.data)] if args.data else [ROOT / d for d in args.domains.split(",")])
    for folder in folders:
        dom = folder.name
        ds = load_data(folder)
        t0 = time.perf_counter()
        res = compare(ds, out=None, test_size=0.3, val_size=0.15, epochs=args.epochs,
                      baseline_epochs=args.baseline_epochs, progress=False)
        keep = ("name", "accuracy", "macro_f1", "train_seconds", "predict_items_per_s",
                "trained_params", "error")
        n_test = int(sum(sum(r) for r in next(
            m["confusion"] for m in res["methods"] if m["confusion"] is not None)))
        out["domains"][dom] = {"methods": [{k: m.get(k) for k in keep} for m in res["methods"]],
                               "n_trainval": len(ds) - n_test, "n_test": n_test,
                               "wall_s": round(time.perf_counter() - t0, 1)}
        if args.data:
            out["protocol"] = res["split"]["protocol"]
            out["title"] = f"The ladder on {dom}"
        _write(out, args.name)
        print(_markdown(out), flush=True)
    return out


if __name__ == "__main__":
    main()
