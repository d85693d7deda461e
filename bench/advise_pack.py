"""Pack the image tasks of ``bench.advise_finetune`` for a machine without the shared data.

``python -m bench.advise_finetune --pack DIR`` calls :func:`pack`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.advise_validation import image_tasks  # noqa: E402


def pack(names, per_task, out_dir, short_side: int = 256) -> dict:
    """Write the image tasks' subsamples in the shared-data layout under ``out_dir`` (JPEGs
    re-encoded with the short side at most ``short_side``; USPS as a small HDF5), so a machine
    without the shared data runs the same tasks with ``TRANSFERKIT_SHARED_DATA=out_dir``."""
    import h5py
    from PIL import Image

    from bench.advise_validation import DATA
    from transferkit.data import read_image

    out_dir = Path(out_dir)
    counts = {}
    for name, ds in image_tasks(per_task, set(names)):
        if name == "digits_sklearn":  # embedded in scikit-learn
            continue
        if len(ds) > per_task:  # the 2-per-class floor: a rerun would subsample again
            print(f"warning: {name}: {len(ds)} > --per-task {per_task} samples packed",
                  file=sys.stderr)
        if name == "mnist":  # the two test-set IDX files as they are (1.6 MB)
            import shutil

            dst = out_dir / "digits" / "mnist"
            dst.mkdir(parents=True, exist_ok=True)
            for f in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
                shutil.copyfile(DATA / "digits" / "mnist" / f, dst / f)
            counts[name] = len(ds)
            continue
        if name == "usps":
            dst = out_dir / "digits" / "usps" / "usps.h5"
            dst.parent.mkdir(parents=True, exist_ok=True)
            with h5py.File(dst, "w") as f:
                f["train/data"] = np.asarray(ds.inputs, np.float32).reshape(len(ds), -1)
                f["train/target"] = np.asarray(ds.y, np.int64)
            counts[name] = len(ds)
            continue
        for path in ds.inputs:
            dst = out_dir / Path(path).relative_to(DATA)
            dst.parent.mkdir(parents=True, exist_ok=True)
            img = read_image(path)
            s = short_side / min(img.size)
            if s < 1:
                img = img.resize((round(img.size[0] * s), round(img.size[1] * s)),
                                 Image.Resampling.BICUBIC)
            img.save(dst.with_suffix(".jpg"), quality=90)
        counts[name] = len(ds)
    return counts
