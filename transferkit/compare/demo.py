"""The main job on embedded data: the article's handwritten-digit experiment.

scikit-learn ships 1,797 real 8x8 handwritten digits. The demo runs the whole ladder on them —
majority class, MLP on pixels, the article's small CNN, then ``efficientnet_lite0`` from
scratch, as a frozen feature extractor, partially frozen and fully fine-tuned — on one
stratified split, and writes the report. Digits are upsampled to ``image_size`` pixels for the
backbone (ImageNet features are made for photos; 8x8 digits are the article's "dissimilar" case).
"""

from __future__ import annotations

import os

DEMO_SETTINGS = {
    "backbone": "efficientnet_lite0",
    "image_size": 64,
    "epochs": 6,
    "baseline_epochs": 30,
    "val_size": 0.15,
    "test_size": 0.2,
    "seed": 0,
}


def run_demo(out: str | os.PathLike = "demo-report", progress: bool = True, on_result=None, **overrides) -> dict:
    from ..data import load_digits_dataset
    from .run import compare

    settings = {**DEMO_SETTINGS, **overrides}
    ds = load_digits_dataset()
    return compare(ds, out=out, progress=progress, on_result=on_result, **settings)
