"""``fit``: train a model on a data set with one of the four strategies; model folders.

>>> from transferkit.train import fit, load_model
>>> res = fit("data/hymenoptera", strategy="partial", out="ants_bees")   # doctest: +SKIP
>>> load_model("ants_bees").predict(["some/ant.jpg"])                      # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError
from .modelfile import Predictor, check_out, load_model, save_model
from .strategies import FitContext, get_strategy


@dataclass
class FitResult:
    """What ``fit`` returns: validation metrics, per-epoch history, timings and the model."""

    strategy: str
    backbone: str
    metrics: dict
    history: list
    timings: dict
    trained_params: int
    total_params: int
    classes: list
    options: dict
    info: dict = field(default_factory=dict)
    out: str | None = None
    model: object = None
    preprocessing: dict = field(default_factory=dict)

    def predictor(self) -> Predictor:
        return Predictor(self.model, self.classes, self.preprocessing)

    def to_dict(self) -> dict:
        keys = ("strategy", "backbone", "metrics", "history", "timings", "trained_params",
                "total_params", "classes", "options", "info", "out")
        return {k: getattr(self, k) for k in keys}


def _split_train_val(train_ds, val_ds, val_size, seed):
    from ..data import load_data

    ds = load_data(train_ds) if not hasattr(train_ds, "modality") else train_ds
    if val_ds is not None:
        vds = load_data(val_ds) if not hasattr(val_ds, "modality") else val_ds
        if list(vds.classes) != list(ds.classes):
            raise DataError(f"{vds.source or 'validation data'}: classes {vds.classes} differ "
                            f"from the training classes {ds.classes}")
        return ds, vds
    if ds.split is not None:
        split = np.asarray(ds.split).astype(str)
        tr = np.flatnonzero(split == "train")
        va = np.flatnonzero(split == "val")
        if len(tr) and len(va):
            return ds.subset(tr), ds.subset(va)
    if val_size:
        from ..data import split_dataset

        parts = split_dataset(ds, val_size=val_size, seed=seed)
        return parts["train"], parts["val"]
    return ds, None


def _labelled(ds, what):
    if ds is None:
        return None
    keep = np.flatnonzero(np.asarray(ds.y) >= 0)
    if len(keep) == 0:
        raise DataError(f"{ds.source or what}: no labelled samples")
    return ds if len(keep) == len(ds) else ds.subset(keep)


def _follow_advice(ds, backbone, strategy, options, cache_dir, progress):
    """Resolve ``backbone='auto'`` / ``strategy='auto'`` with :func:`transferkit.advise` on the
    training part only (validation labels never inform the choice); explicit options win.
    An ``image_size`` option is not passed on: the advice scored at the training size ranked
    the backbones worse (docs/advise.md, "Advice at the training size")."""
    from ..advise import advise

    adv = advise(ds, backbones=None if backbone == "auto" else [backbone], cache_dir=cache_dir,
                 progress=progress)
    options, summary = dict(options), adv.summary()
    if strategy == "auto":
        strategy = adv.strategy
        # options for a strategy the advice did not pick (epochs when it says 'extract') are
        # dropped and recorded, not an error: the user could not know which one it would pick
        known = {f.name for f in dataclasses.fields(get_strategy(strategy).Config)}
        ignored = sorted(set(options) - known)
        for key in ignored:
            options.pop(key)
        if ignored:
            summary["ignored_options"] = ignored
        for key, value in adv.options.items():
            options.setdefault(key, value)
    return adv.backbone, strategy, options, summary


def fit(train_ds, val_ds=None, backbone: str = "efficientnet_lite0", strategy: str = "extract",
        out=None, resume: bool = False, seed: int = 0, progress: bool = True,
        device: str | None = "auto", cache_dir=None, checkpoint_dir=None,
        val_size: float | None = None, weights: str | None = None, advice: dict | None = None,
        **strategy_options) -> FitResult:
    """Train ``backbone`` on ``train_ds`` with ``strategy`` and (optionally) write a model folder.

    ``train_ds``/``val_ds`` are :class:`~transferkit.data.Dataset` records or paths for
    :func:`~transferkit.data.load_data`. Without ``val_ds`` the data's own ``val`` split is
    used, else a stratified ``val_size`` split, else no validation (then the last epoch is
    kept). ``strategy_options`` go to the strategy's config (see ``docs/recipes.md``).
    ``backbone='auto'`` and/or ``strategy='auto'`` follow :func:`transferkit.advise` run on the
    training part (the advice is recorded in the result's ``info`` and the model's config).
    With ``out``, checkpoints go to ``<out>.checkpoint/`` (or ``checkpoint_dir``) each epoch
    and are removed once the model folder is written; ``resume=True`` continues from them.
    """
    t0 = time.perf_counter()
    auto = strategy == "auto" or backbone == "auto"
    strat = None
    if not auto:
        strat = get_strategy(strategy)(**strategy_options)
        strat.make_config()  # fail fast on bad options
    ds, vds = _split_train_val(train_ds, val_ds, val_size, seed)
    ds, vds = _labelled(ds, "training data"), _labelled(vds, "validation data")
    if len(np.unique(ds.y)) < 2:
        raise DataError(f"{ds.source or 'training data'}: needs at least 2 classes")
    if auto:
        backbone, strategy, strategy_options, advice = _follow_advice(
            ds, backbone, strategy, strategy_options, cache_dir, progress)
        strat = get_strategy(strategy)(**strategy_options)
        strat.make_config()
    if out is not None:
        check_out(out)  # fail before training, not after
    if checkpoint_dir is None and out is not None:
        checkpoint_dir = str(Path(out).absolute()) + ".checkpoint"
    from .._runtime import tune_allocator

    tune_allocator()
    ctx = FitContext(train_ds=ds, val_ds=vds, backbone=backbone, seed=seed, progress=progress,
                     device=device, checkpoint_dir=checkpoint_dir, resume=resume,
                     cache_dir=None if cache_dir is None else os.fspath(cache_dir),
                     weights=weights)
    res = strat.fit(ctx)
    model = res.model
    total = sum(p.numel() for p in model.parameters())
    timings = {**res.timings, "total_s": round(time.perf_counter() - t0, 3)}
    options = res.info.get("config", dict(strategy_options))
    result = FitResult(
        strategy=strategy, backbone=backbone, metrics=res.metrics, history=res.history,
        timings=timings, trained_params=int(res.trained_params), total_params=int(total),
        classes=list(ds.classes), options=options,
        info={**{k: v for k, v in res.info.items() if k != "config"}, **({"advice": advice} if advice else {})},
        model=model, preprocessing=res.preprocessing,
    )
    if out is not None:
        path = save_model(
            out, model, backbone=backbone, backbone_config=model.backbone.cfg.to_dict(),
            head_spec=res.head_spec, preprocessing=res.preprocessing, classes=ds.classes,
            strategy=strategy, options=options, metrics=res.metrics, history=res.history,
            extra={"advice": advice, "seed": seed, "n_train": len(ds), "n_val": 0 if vds is None else len(vds),
                   "trained_params": result.trained_params, "timings": timings},
        )
        result.out = str(path)
        if checkpoint_dir and Path(checkpoint_dir).is_dir():
            shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return result


__all__ = ["FitResult", "fit", "load_model", "save_model"]
