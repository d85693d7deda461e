"""Write deep features of the domain-adaptation sets as ``<domain>.npz`` (X, y) files.

Office-Caltech-10 images through ``efficientnet_lite0`` and the four Amazon review domains
through ``minilm_l6``, extracted with transferkit's feature cache (so a rerun is instant).
The files feed ``bench/da_shallow.py --features DIR`` and the deep-DA benchmark.

    python -m bench.deep_features [--out DIR] [--only office|amazon]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from bench.da_data import SHARED

DEFAULT_OUT = Path(os.environ.get("TRANSFERKIT_BENCH_FEATURES",
                                  Path.home() / ".cache/transferkit/bench_features"))
SETS = {
    "office_lite0": ("efficientnet_lite0", SHARED / "data/office_caltech10/images",
                     ["amazon", "caltech10", "dslr", "webcam"]),
    "amazon_minilm": ("minilm_l6", SHARED / "data/text/amazon_reviews",
                      ["books", "dvd", "electronics", "kitchen"]),
}


def build(name, out, progress=True):
    from transferkit.data import load_amazon_reviews, load_data
    from transferkit.features import extract_features

    backbone, root, domains = SETS[name]
    folder = Path(out) / name
    folder.mkdir(parents=True, exist_ok=True)
    classes = None
    for dom in domains:
        t0 = time.perf_counter()
        ds = load_amazon_reviews(root / dom) if name.startswith("amazon") else load_data(root / dom)
        if classes is None:
            classes = list(ds.classes)
        if list(ds.classes) != classes:
            raise SystemExit(f"{root / dom}: classes differ from the first domain")
        f = extract_features(ds, backbone, progress=progress)
        tmp = folder / f".{dom}.tmp.npz"
        np.savez(tmp, X=f.X.astype(np.float32), y=np.asarray(f.y, dtype=np.int64))
        os.replace(tmp, folder / f"{dom}.npz")
        print(f"{name}/{dom}: {f.X.shape} in {time.perf_counter() - t0:.1f} s", flush=True)
    return folder


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--only", choices=["office", "amazon"])
    args = ap.parse_args(argv)
    for name in SETS:
        if args.only is None or name.startswith(args.only):
            build(name, args.out)


if __name__ == "__main__":
    main()
