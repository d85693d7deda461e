"""The standard callbacks: progress bar, early stopping, precise BatchNorm statistics,
per-epoch checkpoints with resume."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from pathlib import Path

from ..errors import ModelFileError
from ..io import load_tensors, read_json, save_tensors_atomic, write_json_atomic
from . import state_io
from .trainer import Callback, CancelFit

CHECKPOINT_FORMAT = 1


class ProgressCallback(Callback):
    """A tqdm progress bar per epoch with items/s and the running loss; one line per epoch."""

    order = 50

    def __init__(self, desc: str = "train", leave: bool = False):
        self.desc = desc
        self.leave = leave

    def before_epoch(self):
        from tqdm.auto import tqdm

        t = self.trainer
        n = len(getattr(t.train_loader, "dataset", []))
        self.bar = tqdm(
            total=n or None,
            desc=f"{self.desc} {t.state.metrics['epoch']}/{t.state.epochs}",
            unit="it",
            leave=self.leave,
            dynamic_ncols=True,
        )
        self.t0 = time.perf_counter()

    def after_batch(self):
        from .trainer import _batch_size

        self.bar.update(_batch_size(self.trainer.state.yb))
        loss = self.trainer.state.loss
        loss = loss.detach() if hasattr(loss, "detach") else loss
        self.bar.set_postfix(loss=f"{float(loss):.3f}", refresh=False)

    def after_epoch(self):
        m = self.trainer.state.metrics
        self.bar.close()
        parts = [f"{k}={v:.4f}" for k, v in m.items() if k != "epoch" and isinstance(v, float)]
        self.bar.write(f"epoch {m['epoch']}/{self.trainer.state.epochs} " + " ".join(parts))

    def after_fit(self):
        bar = getattr(self, "bar", None)
        if bar is not None:
            bar.close()


class EarlyStopping(Callback):
    """Stop when the monitored validation metric has not improved for ``patience`` epochs.

    ``monitor`` is a key of the epoch metrics (``'val_accuracy'``, ``'val_loss'``, ...);
    ``mode`` 'max' or 'min' (default: 'min' for losses, 'max' otherwise).
    """

    order = 20

    def __init__(self, patience: int = 3, monitor: str = "val_accuracy", mode: str | None = None,
                 min_delta: float = 0.0):
        self.patience = patience
        self.monitor = monitor
        self.mode = mode
        self.min_delta = min_delta

    def before_fit(self):
        self.mode_ = self.mode or ("min" if "loss" in self.monitor else "max")
        self.best_, self.wait_ = None, 0
        # on resume, replay the history so patience counts continue where they stopped
        for m in self.trainer.state.history:
            self._update(m)

    def _update(self, m: dict) -> bool:
        if self.monitor not in m:
            return False
        v = m[self.monitor] if self.mode_ == "max" else -m[self.monitor]
        if self.best_ is None or v > self.best_ + self.min_delta:
            self.best_, self.wait_ = v, 0
        else:
            self.wait_ += 1
        return self.wait_ >= self.patience

    def after_epoch(self):
        if self._update(self.trainer.state.metrics):
            self.stopped_epoch_ = self.trainer.state.epoch
            raise CancelFit


class PreciseBatchNorm(Callback):
    """Precise BatchNorm (Wu & Johnson, 2021) for the layers that train: their running
    statistics are recomputed at the current weights over one pass of the training loader
    before every validation (so the score that picks the best epoch, and the snapshot of
    it, use them) and, when there is no validation set, once after the last epoch.

    Why: the running statistics are a moving average over steps taken at older weights.
    After a short fine-tuning run on data far from the pretraining data they no longer
    describe the final network, and eval mode drops far below train mode (efficientnet_lite0,
    ``partial`` at 224 px on 117 of scikit-learn's 8x8 digits: 40 % held out, 62 % on its own
    training images; 65 % and 99 % after the pass). Frozen blocks keep their statistics.
    ``batches_`` counts the batches of the last pass."""

    order = 5  # before the checkpoint and any callback that reads the validation score

    def before_fit(self):
        self.batches_ = 0

    def before_validate(self):
        self.batches_ = self.trainer.recalibrate_batchnorm(self.trainer.train_loader)

    def after_fit(self):
        if self.trainer.val_loader is None and self.trainer.state.epoch > 0:
            self.batches_ = self.trainer.recalibrate_batchnorm(self.trainer.train_loader)


class CheckpointCallback(Callback):
    """Write a checkpoint at the end of every epoch; restore it at ``before_fit`` on resume.

    Files in ``dir``: ``epoch-NNNN.safetensors`` (model, best model, optimiser tensors, RNG
    states) and ``checkpoint.json`` (run state, history, optimiser hyper-parameters,
    scheduler, RNG positions, and a ``fingerprint`` of the settings). The tensor file is
    written first, then the JSON that names it, each atomically, so an interruption at any
    moment leaves the previous complete checkpoint. ``fingerprint`` (any JSON-able dict) must
    match on resume, so a checkpoint is never continued with different settings.
    """

    order = 10  # before callbacks that may cancel the run at after_epoch

    def __init__(self, dir: str | os.PathLike, fingerprint: dict | None = None):
        self.dir = dir
        self.fingerprint = fingerprint

    @property
    def json_path(self) -> Path:
        return Path(self.dir) / "checkpoint.json"

    def before_fit(self):
        self.resumed_from_ = None
        if self.trainer.resume and self.json_path.exists():
            self.load()

    def after_epoch(self):
        self.save()

    def save(self) -> None:
        t = self.trainer
        d = Path(self.dir)
        d.mkdir(parents=True, exist_ok=True)
        tensors = state_io.model_to_parts("model", t.model.state_dict())
        if t.best_state is not None:
            tensors.update(state_io.model_to_parts("best", t.best_state))
        opt_t, opt_meta = state_io.optimizer_to_parts(t.optimizer)
        rng_t, rng_meta = state_io.rng_to_parts()
        tensors.update(opt_t)
        tensors.update(rng_t)
        token = uuid.uuid4().hex
        name = f"epoch-{t.state.epoch:04d}.safetensors"
        save_tensors_atomic(d / name, tensors, metadata={"token": token})
        old = read_json(self.json_path).get("tensors") if self.json_path.exists() else None
        write_json_atomic(
            self.json_path,
            {
                "format": "transferkit-checkpoint",
                "format_version": CHECKPOINT_FORMAT,
                "tensors": name,
                "token": token,
                "fingerprint": self.fingerprint,
                "state": t.state.to_json(),
                "optimizer": opt_meta,
                "scheduler": t.scheduler.state_dict() if t.scheduler is not None else None,
                "scaler": t.scaler.state_dict() if t.scaler.is_enabled() else None,
                "rng": rng_meta,
                "timings": t.timings,
            },
        )
        if old and old != name:
            with contextlib.suppress(FileNotFoundError):
                (d / old).unlink()

    def load(self) -> None:
        t = self.trainer
        meta = read_json(self.json_path)
        where = self.json_path
        if meta.get("format") != "transferkit-checkpoint" or meta.get("format_version") != CHECKPOINT_FORMAT:
            raise ModelFileError(f"{where}: not a transferkit checkpoint of format {CHECKPOINT_FORMAT}")
        if self.fingerprint is not None and meta.get("fingerprint") != self.fingerprint:
            raise ModelFileError(
                f"{where}: checkpoint was made with other settings; start without resume "
                "or use the same options"
            )
        tensors = load_tensors(Path(self.dir) / meta["tensors"])
        model_sd = state_io.model_from_parts("model", tensors)
        try:
            t.model.load_state_dict(model_sd)
        except RuntimeError:
            raise ModelFileError(f"{where}: checkpoint weights do not fit this model") from None
        best = state_io.model_from_parts("best", tensors)
        t.best_state = best or None
        state_io.optimizer_from_parts(t.optimizer, tensors, meta["optimizer"])
        if t.scheduler is not None and meta["scheduler"] is not None:
            t.scheduler.load_state_dict(meta["scheduler"])
        if meta.get("scaler") and t.scaler.is_enabled():
            t.scaler.load_state_dict(meta["scaler"])
        state_io.rng_from_parts(tensors, meta["rng"])
        st = meta["state"]
        s = t.state
        if st["epochs"] != s.epochs:
            raise ModelFileError(
                f"{where}: checkpoint planned {st['epochs']} epochs, this run {s.epochs}"
            )
        s.epoch, s.step, s.history = st["epoch"], st["step"], st["history"]
        s.best_score, s.best_loss, s.best_epoch = st["best_score"], st["best_loss"], st["best_epoch"]
        t.timings.update(meta.get("timings") or {})
        self.resumed_from_ = s.epoch
