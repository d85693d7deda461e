"""SHOT (Liang et al., 2020, "Do we really need to access the source data?").

Source-free domain adaptation of a trained transferkit model folder: the classifier (the
"hypothesis", here the model's head) is frozen, and the feature extractor (the backbone) is
trained on unlabelled target data only, with information maximisation (confident and
diverse predictions) plus ``beta`` x cross-entropy on self-supervised pseudo-labels that
are recomputed from weighted cosine centroids at the start of every epoch (see
:mod:`transferkit.adapt.sourcefree.losses`). Training runs through the one
:class:`~transferkit.train.trainer.Trainer`: the pseudo-labels are the targets of a
target-only loader, refreshed by a callback in ``before_epoch``.

Defaults follow the paper's code: ``beta = 0.3``, batch 64, SGD momentum 0.9 (Nesterov),
weight decay 1e-3, learning rate decayed as ``(1 + 10 p)^-0.75``; lr 1e-2 for a model trained
from scratch (as the digit experiments' LeNet) and 1e-3 for a pretrained backbone (the
paper's backbone rate). ``k`` freezes the first ``k`` backbone blocks (their BatchNorm stays
in inference mode) to bound the cost on CPU; the paper trains the whole extractor (``k=0``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ...errors import TransferkitError
from ...train.trainer import Callback
from ..tta import _common as C
from .losses import pseudo_labels, shot_loss

_MANAGED = {"format", "format_version", "backbone", "backbone_config", "head", "preprocessing",
            "classes", "strategy", "options", "metrics", "history", "versions", "created",
            "weights", "tensors"}


@dataclass
class ShotResult:
    """What :func:`shot` returns: the new model folder, per-epoch history and timings."""

    out: str
    source: str
    history: list
    timings: dict
    adaptation: dict
    model: object = None
    classes: list = field(default_factory=list)
    preprocessing: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)

    def predictor(self):
        from ...train.modelfile import Predictor

        return Predictor(self.model, self.classes, self.preprocessing, config=self.config)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("out", "source", "history", "timings", "adaptation")}


@torch.no_grad()
def embed_target(model, loader, device, channels_last=False):
    """Head-input features (after the head's fixed standardisation) and softmax outputs."""
    from ...train.model import Standardize
    from ...train.trainer import to_device

    was = model.training
    model.eval()
    feats, probs = [], []
    std = model.head[0] if isinstance(model.head[0], Standardize) else None
    for xb, _ in loader:
        e = model.backbone.embed(to_device(xb, device, channels_last)).float()
        probs.append(torch.softmax(model.head(e).float(), 1).cpu())
        feats.append((std(e) if std is not None else e).cpu())
    model.train(was)
    return torch.cat(feats).numpy(), torch.cat(probs).numpy()


class PseudoLabels(Callback):
    """Before every epoch: SHOT pseudo-labels for all target samples become the targets of
    the training loader; optional reference labels are used only to report accuracies."""

    order = -10

    def __init__(self, model, eval_loader, train_ds, rounds=1, reference=None):
        self.model, self.eval_loader, self.train_ds = model, eval_loader, train_ds
        self.rounds, self.reference = rounds, reference

    def before_epoch(self):
        t = self.trainer
        f, p = embed_target(self.model, self.eval_loader, t.device_, t.channels_last_)
        labels, info = pseudo_labels(f, p, self.rounds)
        self.train_ds.y[:] = labels
        m = t.state.metrics
        m["pseudo_vs_prediction"] = float((labels == p.argmax(1)).mean())
        m["mean_entropy"] = float(-(p * np.log(p + 1e-5)).sum(1).mean())
        if self.reference is not None:
            ok = self.reference >= 0
            m["target_accuracy"] = float((p.argmax(1) == self.reference)[ok].mean())
            m["pseudo_label_accuracy"] = float((labels == self.reference)[ok].mean())


def _reference(target_data, classes):
    """``(data, labels)``: a labelled target Dataset (a path is loaded) and its labels in the
    model's class order (-1 unknown), for reporting only; ``(target_data, None)`` otherwise."""
    from ...data.dataset import Dataset

    ds = target_data
    if isinstance(ds, str | os.PathLike):
        try:
            from ...data import load_data

            ds = load_data(ds)
        except TransferkitError:
            return target_data, None
    if not isinstance(ds, Dataset) or np.all(np.asarray(ds.y) < 0):
        return target_data, None
    index = {c: i for i, c in enumerate(classes)}
    return ds, np.asarray([index.get(ds.classes[k], -1) if k >= 0 else -1 for k in ds.y])


def shot(model_dir, target_data, out, *, epochs: int = 10, beta: float = 0.3,
         lr: float | None = None, k: int = 0, batch_size: int = 64, augment: bool = True,
         rounds: int = 1, seed: int = 0, device: str = "cpu", precision: str = "fp32",
         report_labels: bool = False, progress: bool = True) -> ShotResult:
    """Adapt the model folder ``model_dir`` to unlabelled ``target_data`` without source data,
    and write the adapted model to the NEW folder ``out`` (same format; the input folder is
    never modified; its ``config.json`` gains ``adaptation: {method: 'shot', ...}``).

    ``target_data``: a path (image folder/files, ``.npz``/``.npy``, CSV of texts), a
    Dataset, or an array / list of inputs in the model's modality; labels, if any, are not
    used, unless ``report_labels=True`` adds target accuracies to the history (monitoring).
    """
    from ...train.callbacks import ProgressCallback
    from ...train.modelfile import check_out, load_model, save_model
    from ...train.trainer import Trainer

    t0 = time.perf_counter()
    src, dst = Path(model_dir).absolute(), Path(out).absolute()
    if src.resolve() == dst.resolve():
        raise TransferkitError(f"{out}: is the input model folder; shot writes a new folder")
    check_out(dst)
    predictor = load_model(src, device=device)
    cfg = predictor.config
    model = predictor.model
    reference = None
    if report_labels:  # the same Dataset gives the inputs and their (report-only) labels
        target_data, reference = _reference(target_data, predictor.classes)
    x = C.target_inputs(predictor, target_data)
    if lr is None:
        lr = 1e-2 if cfg.get("strategy") == "scratch" else 1e-3
    for p in model.head.parameters():
        p.requires_grad_(False)
    model.backbone.freeze_blocks(k)
    params = [p for p in model.backbone.parameters() if p.requires_grad]
    if not params:
        raise TransferkitError(f"{src}: k={k} freezes the whole backbone; nothing to adapt")
    train_ds = C.torch_target(predictor, x, train=augment)
    eval_ds = C.torch_target(predictor, x, train=False)
    eval_loader = C.loader(predictor, eval_ds, max(batch_size, 64))
    train_loader = C.loader(predictor, train_ds, batch_size, shuffle=True, drop_last=True)
    cbs = [PseudoLabels(model, eval_loader, train_ds, rounds, reference)] if beta else []
    if progress:
        cbs.append(ProgressCallback("shot"))

    def optimizer(_m):
        return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=1e-3)

    def scheduler(opt, total):
        return torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: (1 + 10 * step / max(total, 1)) ** -0.75)

    trainer = Trainer(C.ModeWrapper(model, [model.backbone]), lambda o, y: shot_loss(o, y, beta),
                      optimizer, callbacks=cbs, device=device, precision=precision, seed=seed,
                      scheduler_factory=scheduler, keep_best=False)
    trainer.fit(train_loader, None, epochs=epochs)
    C.restore_layout(model)
    for p in model.parameters():
        p.requires_grad_(True)
    timings = {"train_s": round(trainer.timings["train_s"], 3),
               "total_s": round(time.perf_counter() - t0, 3)}
    adaptation = {"method": "shot", "source_model": str(src), "n_target": len(x),
                  "epochs": epochs, "beta": beta, "lr": lr, "k": k, "batch_size": batch_size,
                  "augment": augment, "rounds": rounds, "seed": seed,
                  "trained_params": sum(p.numel() for p in params), "timings": timings}
    extra = {key: v for key, v in cfg.items() if key not in _MANAGED}
    extra["adaptation"] = adaptation
    path = save_model(dst, model, backbone=cfg["backbone"], backbone_config=cfg["backbone_config"],
                      head_spec=cfg["head"], preprocessing=cfg["preprocessing"],
                      classes=cfg["classes"], strategy=cfg["strategy"], options=cfg["options"],
                      metrics=cfg.get("metrics", {}), history=cfg.get("history", []), extra=extra)
    new_cfg = {**cfg, "adaptation": adaptation}
    return ShotResult(out=str(path), source=str(src), history=trainer.state.history,
                      timings=timings, adaptation=adaptation, model=model,
                      classes=list(cfg["classes"]), preprocessing=cfg["preprocessing"],
                      config=new_cfg)
