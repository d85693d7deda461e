"""``compare``: the whole ladder on one split, evaluated on one held-out set, with a report."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import time
from pathlib import Path

import numpy as np

from ..errors import DataError, TransferkitError
from .ladder import Rung, select_rungs


def _as_dataset(data):
    from ..data import load_data
    from ..data.dataset import Dataset

    return data if isinstance(data, Dataset) else load_data(data)


def three_way_split(ds, *, val_size: float, test_size: float, seed: int) -> tuple:
    """(train, val, test, protocol). The test set is never used for training or selection.

    * the data has its own ``test`` split: used as is (``val`` from the data, or carved from train);
    * it has ``train``/``val`` only (e.g. hymenoptera): ``val`` is the test set, as in the PyTorch
      tutorial, and a fresh validation set for early stopping is carved from ``train``;
    * no split: stratified ``train``/``val``/``test`` with the given fractions.
    """
    from ..data import split_dataset

    if ds.split is not None:
        split = np.asarray(ds.split).astype(str)
        has = {s: np.flatnonzero(split == s) for s in ("train", "val", "test")}
        if len(has["test"]) and len(has["train"]):
            test = ds.subset(has["test"])
            if len(has["val"]):
                return ds.subset(has["train"]), ds.subset(has["val"]), test, "given train/val/test folders"
            tr = ds.subset(has["train"])
            tr.split = None
            parts = split_dataset(tr, val_size=val_size, seed=seed)
            return parts["train"], parts["val"], test, f"given test folder; val = {val_size:.0%} of train"
        if len(has["val"]) and len(has["train"]):
            tr = ds.subset(has["train"])
            tr.split = None
            parts = split_dataset(tr, val_size=val_size, seed=seed)
            return (parts["train"], parts["val"], ds.subset(has["val"]),
                    f"given val folder used as the test set; val = {val_size:.0%} of train")
    flat = ds.subset(np.arange(len(ds)))
    flat.split = None
    parts = split_dataset(flat, val_size=val_size, test_size=test_size, seed=seed)
    if "test" not in parts:
        raise DataError(f"{ds.source or 'data'}: too small for a held-out test set")
    return (parts["train"], parts["val"], parts["test"],
            f"stratified {1 - val_size - test_size:.0%}/{val_size:.0%}/{test_size:.0%} split, seed {seed}")


def _metrics(y_true, proba, n_classes) -> dict:
    from sklearn.metrics import confusion_matrix, f1_score

    pred = np.asarray(proba).argmax(1)
    return {
        "accuracy": float((pred == y_true).mean()),
        "macro_f1": float(f1_score(y_true, pred, average="macro", labels=np.arange(n_classes), zero_division=0)),
        "confusion": confusion_matrix(y_true, pred, labels=np.arange(n_classes)).tolist(),
    }


def _baseline_inputs(ds):
    if ds.modality == "array":
        return np.asarray(ds.inputs)
    return list(ds.inputs)


def _run_baseline(rung: Rung, train, test, *, seed, baseline_epochs, image_size) -> dict:
    est = rung.make_baseline(epochs=baseline_epochs, seed=seed, image_size=image_size)
    t0 = time.perf_counter()
    est.fit(_baseline_inputs(train), np.asarray(train.y))
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    proba_cols = est.predict_proba(_baseline_inputs(test))
    pred_s = time.perf_counter() - t0
    proba = np.zeros((len(test), len(train.classes)))
    proba[:, np.asarray(est.classes_, dtype=int)] = proba_cols
    n_params = getattr(est, "n_trainable_params_", 0)
    return {"proba": proba, "train_seconds": train_s, "predict_seconds": pred_s,
            "trained_params": int(n_params), "total_params": int(n_params), "history": [],
            "options": {k: v for k, v in est.get_params().items() if isinstance(v, int | float | str | bool | tuple)}}


def _history(hist: list) -> list[dict]:
    out = []
    for i, h in enumerate(hist or []):
        out.append({
            "epoch": int(h.get("epoch", i + 1)),
            "train_loss": h.get("train_loss", h.get("loss")),
            "val_loss": h.get("val_loss"),
            "val_accuracy": h.get("val_accuracy", h.get("accuracy")),
        })
    return out


def _run_recipe(rung: Rung, train, val, test, *, backbone, seed, progress, device, cache_dir, options) -> dict:
    from ..train import fit

    opts = {**rung.options, **options}
    t0 = time.perf_counter()
    res = fit(train, val, backbone=backbone, strategy=rung.strategy, seed=seed, progress=progress,
              device=device, cache_dir=cache_dir, **opts)
    train_s = time.perf_counter() - t0
    predictor = res.predictor()
    t0 = time.perf_counter()
    proba = predictor.predict_proba(test)
    pred_s = time.perf_counter() - t0
    return {"proba": proba, "train_seconds": train_s, "predict_seconds": pred_s,
            "trained_params": res.trained_params, "total_params": res.total_params,
            "history": _history(res.history), "options": res.options, "predictor": predictor}


def compare(
    data,
    *,
    backbone: str = "efficientnet_lite0",
    methods: list[str] | None = None,
    out: str | os.PathLike | None = "transferkit-report",
    val_size: float = 0.15,
    test_size: float = 0.2,
    seed: int = 0,
    epochs: int | None = None,
    baseline_epochs: int = 30,
    image_size: int | None = None,
    device: str | None = "auto",
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
    strategy_options: dict[str, dict] | None = None,
    on_result=None,
    advise: bool = False,
) -> dict:
    """Run the ladder (majority, MLP, small CNN / TF-IDF, scratch, extract, partial, full).

    Every method trains on the same ``train`` split, may use ``val`` for early stopping and
    regularisation, and is scored on the same untouched ``test`` set. A method that fails is
    reported with its error and the others go on. Returns the results dict (schema in
    :mod:`transferkit.report.schema`) and, with ``out``, writes ``report.md``, ``report.html``
    and ``results.json`` there. ``epochs`` overrides every recipe's epochs; ``image_size``
    sets the side of array images fed to the backbone (e.g. 8x8 digits upsampled). With
    ``advise=True`` the advisor's recommendation for ``backbone`` is computed first and shown
    in the report beside the measured ladder.
    """
    ds = _as_dataset(data)
    advice = None
    if advise:
        from ..advise import advise as advise_api

        advice = advise_api(ds, backbones=[backbone], cache_dir=cache_dir, progress=progress).summary()
    train, val, test, protocol = three_way_split(ds, val_size=val_size, test_size=test_size, seed=seed)
    rungs = select_rungs(ds.modality, methods)
    if not rungs:
        raise TransferkitError(f"no method of the ladder applies to {ds.modality} data")
    n_classes = len(ds.classes)
    y_test = np.asarray(test.y)
    base_size = image_size or 64
    results = []
    best_predictor = None
    for rung in rungs:
        entry = {"name": rung.name, "family": rung.family, "description": rung.description,
                 "backbone": backbone if rung.family == "pretrained" else None,
                 "strategy": rung.strategy, "accuracy": None, "macro_f1": None, "train_seconds": None,
                 "predict_items_per_s": None, "trained_params": None, "total_params": None,
                 "history": [], "confusion": None, "options": {}, "error": None, "notes": None}
        try:
            if rung.family == "baseline":
                r = _run_baseline(rung, train, test, seed=seed, baseline_epochs=baseline_epochs,
                                  image_size=base_size)
            else:
                opts = dict((strategy_options or {}).get(rung.name, {}))
                if epochs is not None and rung.strategy != "extract":
                    opts.setdefault("epochs", epochs)
                if image_size is not None and ds.modality == "array":
                    opts.setdefault("image_size", image_size)
                r = _run_recipe(rung, train, val, test, backbone=backbone, seed=seed, progress=progress,
                                device=device, cache_dir=cache_dir, options=opts)
            m = _metrics(y_test, r["proba"], n_classes)
            entry.update(
                accuracy=m["accuracy"], macro_f1=m["macro_f1"], confusion=m["confusion"],
                train_seconds=round(r["train_seconds"], 3),
                predict_items_per_s=round(len(test) / r["predict_seconds"], 1) if r["predict_seconds"] > 0 else None,
                trained_params=r["trained_params"], total_params=r["total_params"],
                history=r["history"], options=_jsonable(r["options"]),
            )
            if r.get("predictor") is not None and (best_predictor is None or m["accuracy"] > best_predictor[0]):
                best_predictor = (m["accuracy"], rung.name, r["predictor"])
        except TransferkitError as exc:
            entry["error"] = str(exc)
        except (RuntimeError, ValueError, MemoryError) as exc:  # one rung failing must not lose the others
            entry["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        results.append(entry)
        if on_result is not None:
            on_result(entry)
    scored = [e for e in results if e["accuracy"] is not None]
    best = max(scored, key=lambda e: e["accuracy"])["name"] if scored else None
    out_dict = {
        "format": "transferkit.compare/1",
        "title": f"transferkit compare: {Path(str(ds.source)).name or 'data'}",
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "transferkit_version": _version(),
        "dataset": {"source": str(ds.source), "modality": ds.modality, "classes": list(ds.classes),
                    "n_train": len(train), "n_val": len(val), "n_test": len(test), "eval_split": "test",
                    "skipped": len(ds.skipped)},
        "split": {"seed": seed, "val_size": val_size, "test_size": test_size, "protocol": protocol},
        "advice": advice,
        "methods": results,
        "best": best,
        "environment": _environment(device),
    }
    if out is not None:
        from ..report import write_report

        write_report(out_dict, out)
    return out_dict


def _jsonable(d: dict) -> dict:
    out = {}
    for k, v in (d or {}).items():
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, tuple):
            v = list(v)
        if v is None or isinstance(v, int | float | str | bool | list | dict):
            out[k] = v
        else:
            out[k] = str(v)
    return out


def _version() -> str:
    from .. import __version__

    return __version__


def _environment(device) -> dict:
    import torch

    from .._runtime import pick_device

    dev = pick_device(device)
    return {"device": str(dev), "precision": "bf16 autocast (fast path)" if dev.type == "cpu" else "autocast",
            "cpu_count": os.cpu_count(), "torch": torch.__version__, "python": platform.python_version(),
            "platform": platform.platform()}
