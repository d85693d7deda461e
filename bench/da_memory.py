"""Peak memory of the kernel methods on 50,000 x 256 synthetic samples (bounded, no n x n).

Run: .venv/bin/python -m bench.da_memory  -> bench/results/da_memory.json/.md
Peak is measured with tracemalloc (NumPy allocations are traced) around ``fit`` + ``transform``;
the input arrays themselves (2 x 50,000 x 256 float64 = 102 MB) are allocated before.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import json  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from transferkit.adapt import JDA, KMM, TCA, pack  # noqa: E402


def synthetic(n=50_000, d=256, seed=0):
    rng = np.random.default_rng(seed)
    ys = rng.integers(0, 10, n // 2)
    yt = rng.integers(0, 10, n - n // 2)
    means = rng.normal(size=(10, d))
    Xs = means[ys] + rng.normal(size=(len(ys), d))
    Xt = 1.5 * (means[yt] + rng.normal(size=(len(yt), d))) + 0.5
    return pack(Xs, Xt, ys), yt


def measure(adapter, X, y, sd):
    tracemalloc.start()
    t0 = time.perf_counter()
    Z = adapter.fit(X, y, sd).transform(X, sd)
    secs = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"peak_mb": round(peak / 2**20, 1), "seconds": round(secs, 1),
            "out_shape": list(np.shape(Z))}


def main(n=50_000, d=256):
    (X, y, sd), _ = synthetic(n, d)
    cases = {
        "tca_rbf_nystroem500": TCA(kernel="rbf", n_kernel_components=500, n_components=50),
        "tca_rbf_rff500": TCA(kernel="rbf", approx="rff", n_kernel_components=500,
                              n_components=50),
        "jda_rbf_nystroem500": JDA(kernel="rbf", n_kernel_components=500, n_components=50,
                                   n_iter=3),
        "kmm_nystroem500": KMM(),
    }
    out = {"n_samples": n, "n_features": d, "input_mb": round(X.nbytes / 2**20, 1),
           "dense_kernel_would_be_gb": round(n * n * 8 / 2**30, 1), "methods": {}}
    for name, a in cases.items():
        out["methods"][name] = measure(a, X, y, sd)
        print(name, out["methods"][name], flush=True)
    res = Path(__file__).resolve().parent / "results"
    res.mkdir(exist_ok=True)
    (res / "da_memory.json").write_text(json.dumps(out, indent=1))
    lines = [f"# Peak memory, {n:,} x {d} samples (half source, half target)", "",
             f"Input X: {out['input_mb']} MB; a dense n x n kernel would need "
             f"{out['dense_kernel_would_be_gb']} GB.", "",
             "| method | peak traced memory (MB) | fit+transform (s) |", "|---|---|---|"]
    lines += [f"| {k} | {v['peak_mb']} | {v['seconds']} |" for k, v in out["methods"].items()]
    (res / "da_memory.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
