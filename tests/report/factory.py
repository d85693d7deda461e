"""A small factory of ``transferkit.compare/1`` results dicts for the report tests."""

from __future__ import annotations

import copy
import math

CLASSES = ["cat", "dog", "fox", "owl"]

# name, family, backbone, strategy, accuracy, macro_f1, train s, items/s, trained, total, epochs
LADDER = [
    ("majority class", "baseline", None, None, 0.25, 0.10, 0.002, 250000.0, 0, 0, 0),
    ("MLP on pixels", "baseline", None, None, 0.41, 0.39, 3.1, 9000.0, 1_573_124, 1_573_124, 6),
    ("small CNN", "baseline", None, None, 0.55, 0.53, 21.4, 1500.0, 94_244, 94_244, 6),
    ("scratch", "pretrained", "efficientnet_lite0", "scratch", 0.47, 0.45, 95.0, 210.0,
     3_376_168, 3_376_168, 6),
    ("extract (linear)", "pretrained", "efficientnet_lite0", "extract", 0.86, 0.85, 8.2, 230.0,
     5_124, 3_376_168, 0),
    ("extract (mlp)", "pretrained", "efficientnet_lite0", "extract", 0.88, 0.87, 9.5, 228.0,
     328_196, 3_376_168, 6),
    ("partial", "pretrained", "efficientnet_lite0", "partial", 0.91, 0.905, 40.0, 215.0,
     1_200_000, 3_376_168, 6),
    ("full", "pretrained", "efficientnet_lite0", "full", 0.90, 0.899, 130.5, 212.0,
     3_376_168, 3_376_168, 6),
]


def _history(epochs: int, final_acc: float) -> list[dict]:
    out = []
    for ep in range(1, epochs + 1):
        frac = 1 - math.exp(-ep / 2)
        floor = 1.2 * (1 - final_acc)
        out.append({"epoch": ep, "train_loss": round(1.4 * math.exp(-ep / 3) + floor, 4),
                    "val_loss": round(1.3 * math.exp(-ep / 3.5) + 0.2, 4),
                    "val_accuracy": round(0.25 + (final_acc - 0.25) * frac, 4)})
    return out


def _confusion(acc: float, classes: list[str], per_class: int = 25) -> list[list[int]]:
    n = len(classes)
    cm = []
    for r in range(n):
        right = round(per_class * acc)
        row = [0] * n
        row[r] = right
        for k in range(per_class - right):
            row[(r + 1 + k) % n if n > 1 else r] += 1
        cm.append(row)
    return cm


def make_method(name="full", family="pretrained", backbone="efficientnet_lite0", strategy="full",
                accuracy=0.9, macro_f1=0.89, train_seconds=10.0, items_per_s=200.0,
                trained=1000, total=2000, epochs=3, classes=CLASSES, **overrides) -> dict:
    m = {"name": name, "family": family, "backbone": backbone, "strategy": strategy,
         "accuracy": accuracy, "macro_f1": macro_f1, "train_seconds": train_seconds,
         "predict_items_per_s": items_per_s, "trained_params": trained, "total_params": total,
         "history": _history(epochs, accuracy or 0.5),
         "confusion": _confusion(accuracy, classes) if accuracy is not None else None,
         "options": {"epochs": epochs}, "error": None, "notes": None}
    m.update(overrides)
    return m


def make_results(classes=None, methods=None, **overrides) -> dict:
    """A complete, valid results dict of the article's ladder (8 methods, 4 classes)."""
    classes = list(classes or CLASSES)
    if methods is None:
        methods = [make_method(n, f, b, s, a, f1, t, r, tr, to, ep, classes=classes)
                   for n, f, b, s, a, f1, t, r, tr, to, ep in LADDER]
    d = {
        "format": "transferkit.compare/1",
        "title": "Pets: pretrained vs baselines",
        "created": "2025-05-01T12:30:00+00:00",
        "transferkit_version": "0.1.0",
        "dataset": {"source": "/data/pets", "modality": "image", "classes": classes,
                    "n_train": 400, "n_val": 100, "n_test": 25 * len(classes),
                    "eval_split": "test"},
        "split": {"seed": 0, "val_size": 0.15, "test_size": 0.15,
                  "protocol": "stratified random split"},
        "advice": {"reason": "Small data set similar to ImageNet: fine-tune the top blocks.",
                   "strategy": "partial"},
        "methods": methods,
        "best": None,
        "environment": {"device": "cpu", "precision": "float32", "cpu_count": 2,
                        "torch": "2.14.1", "python": "3.11.2"},
    }
    d.update(overrides)
    return copy.deepcopy(d)
