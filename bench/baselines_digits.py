"""The article's baselines on scikit-learn's digits (1,797 8x8 grey images, 10 classes).

Same protocol as the peers' figures in /work/shared/notes/peers.md: 5-fold
``StratifiedKFold(shuffle=True, random_state=0)``, accuracy on each held-out fold, mean over
the folds; training time per fold (wall clock of ``fit``). Models at their defaults:

* majority      - MajorityClassifier
* mlp           - PixelMLPClassifier (3 x 500, 30 epochs Adam, torch)
* cnn           - SmallCNNClassifier (native 8x8, 2x2 pooling per block, 30 epochs)
* cnn_up64      - SmallCNNClassifier(input_size=64): 8x8 upsampled to 64x64 so the article's
                  4x4 pooling applies (about 60x the compute; only with --upsample)
* sklearn_mlp   - sklearn MLPClassifier((500, 500, 500)) on pixels / 16, the alternative the
                  torch MLP was chosen over (only with --sklearn-mlp; slow on CPU)

Writes bench/results/baselines_digits.json (merging with models already there, so a model can be
rerun alone), with the machine's load average, since the machine may be shared.

    python -m bench.baselines_digits [--models majority mlp cnn] [--folds 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "baselines_digits.json"


def _make(name: str):
    from sklearn.neural_network import MLPClassifier

    from transferkit.baselines import MajorityClassifier, PixelMLPClassifier, SmallCNNClassifier

    return {
        "majority": MajorityClassifier,
        "mlp": PixelMLPClassifier,
        "cnn": SmallCNNClassifier,
        "cnn_up64": lambda: SmallCNNClassifier(input_size=64),
        "sklearn_mlp": lambda: MLPClassifier((500, 500, 500), random_state=0),
    }[name]()


def run(models, n_folds_run: int, threads: int) -> dict:
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import StratifiedKFold

    torch.set_num_threads(threads)
    digits = load_digits()
    X, y = digits.images, digits.target
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))[:n_folds_run]
    results = {}
    for name in models:
        accs, times = [], []
        for i, (tr, te) in enumerate(folds):
            Xm = X.reshape(len(X), -1) / 16.0 if name == "sklearn_mlp" else X
            model = _make(name)
            t0 = time.perf_counter()
            model.fit(Xm[tr], y[tr])
            times.append(time.perf_counter() - t0)
            accs.append(float(np.mean(model.predict(Xm[te]) == y[te])))
            print(f"{name} fold {i}: acc {accs[-1]:.4f}  fit {times[-1]:.1f}s", flush=True)
        n_params = getattr(model, "n_trainable_params_", None)
        if n_params is None and hasattr(model, "coefs_"):
            n_params = sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_)
            n_params = int(n_params)
        results[name] = {
            "accuracy_mean": float(np.mean(accs)),
            "accuracy_std": float(np.std(accs)),
            "accuracy_per_fold": accs,
            "fit_seconds_mean": float(np.mean(times)),
            "fit_seconds_per_fold": times,
            "folds_run": len(folds),
            "n_trainable_params": n_params,
            "params": {k: repr(v) for k, v in model.get_params().items()},
        }
    return results


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["majority", "mlp", "cnn"])
    ap.add_argument("--upsample", action="store_true", help="also run cnn_up64")
    ap.add_argument("--sklearn-mlp", action="store_true", help="also run sklearn_mlp")
    ap.add_argument("--folds", type=int, default=5, help="run only the first N of the 5 folds")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    args = ap.parse_args(argv)
    models = list(args.models)
    models += ["cnn_up64"] if args.upsample else []
    models += ["sklearn_mlp"] if args.sklearn_mlp else []
    load_before = os.getloadavg()
    res = run(models, args.folds, args.threads)
    meta = {
        "protocol": "sklearn digits, StratifiedKFold(5, shuffle=True, random_state=0), "
        "accuracy on held-out folds; fit time is wall clock of fit()",
        "torch_threads": args.threads,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "malloc_env": {
            k: os.environ.get(k) for k in ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_")
        },
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "peers_figures": {"majority": 0.101, "mlp": 0.983, "cnn": 0.986},
    }
    old = json.loads(OUT.read_text()) if OUT.exists() else {}
    models_out = dict(old.get("models", {}))
    runs = dict(old.get("runs", {}))
    for name, r in res.items():
        models_out[name] = r
        runs[name] = meta
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"models": models_out, "runs": runs}, indent=2) + "\n")
    tmp.replace(OUT)
    for name, r in res.items():
        print(f"{name:12s} acc {r['accuracy_mean']:.4f} +- {r['accuracy_std']:.4f}  "
              f"fit {r['fit_seconds_mean']:.1f}s/fold  ({r['folds_run']} folds)")


if __name__ == "__main__":
    main()
