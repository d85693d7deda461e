"""What ``partial``, ``full`` and ``scratch`` share: train backbone + new head end to end.

The model is ``head(backbone.embed(x))`` (see :mod:`transferkit.train.model`). The first
``k`` blocks of the backbone are frozen with ``Backbone.freeze_blocks(k)`` (their BatchNorm
layers stay in inference mode); the rest of the body trains at ``lr * body_lr_mult`` and the
head at ``lr`` (discriminative learning rates). With ``lp_init`` the head starts from a
linear probe on the frozen features (LP-FT: Kumar et al., 2022), so fine-tuning does not
start by pushing large gradients from a random head through the pretrained body. With
``precise_bn`` (the default) the BatchNorm layers that train get their running statistics
recomputed at the final weights (before each validation, or once at the end), see
:class:`transferkit.train.callbacks.PreciseBatchNorm`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from ...errors import TransferkitError
from . import FitContext, Strategy, StrategyResult


@dataclass
class FinetuneConfig:
    epochs: int = 8
    lr: float = 1e-3  # head learning rate
    body_lr_mult: float = 0.1  # body learning rate = lr * body_lr_mult
    k: int | None = 0  # frozen blocks (backbone block units); None = half of them
    optimizer: str = "sgd"  # 'sgd' | 'adamw'
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 1e-4
    batch_size: int = 16
    label_smoothing: float = 0.1
    lp_init: bool = True  # start the head from a linear probe (LP-FT)
    schedule: str = "cosine"  # 'cosine' | 'constant'
    warmup_epochs: float = 0.0
    patience: int | None = None  # early stopping on validation accuracy
    head_dropout: float = 0.0
    precision: str = "auto"  # 'auto' | 'fp32' | 'bf16' | 'fp16'
    num_workers: int | None = None
    image_size: int | None = None  # array data: side of the images fed to the backbone
    monitor: str = "accuracy"  # best epoch by validation 'accuracy' | 'macro_f1' | 'loss'
    precise_bn: bool = True  # recompute the training BatchNorm layers' statistics (callbacks)
    bn_init: bool = False  # before the probe: training BatchNorm layers take the data's statistics


def make_optimizer_factory(cfg: FinetuneConfig):
    import torch

    from ..model import param_groups

    def factory(model):
        groups = param_groups(model, cfg.lr, cfg.body_lr_mult, cfg.weight_decay)
        if not groups:
            raise TransferkitError("nothing to train: every parameter is frozen")
        if cfg.optimizer == "sgd":
            return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum,
                                   nesterov=cfg.nesterov and cfg.momentum > 0)
        if cfg.optimizer == "adamw":
            return torch.optim.AdamW(groups, lr=cfg.lr)
        raise TransferkitError(f"optimizer={cfg.optimizer!r}: use 'sgd' or 'adamw'")

    return factory


def make_scheduler_factory(cfg: FinetuneConfig, steps_per_epoch: int):
    if cfg.schedule not in ("cosine", "constant"):
        raise TransferkitError(f"schedule={cfg.schedule!r}: use 'cosine' or 'constant'")
    warm = int(round(cfg.warmup_epochs * steps_per_epoch))

    def factory(opt, total):
        import torch

        def f(step):
            if step < warm:
                return (step + 1) / warm
            if cfg.schedule == "constant":
                return 1.0
            t = (step - warm) / max(total - warm, 1)
            return 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))

        return torch.optim.lr_scheduler.LambdaLR(opt, f)

    return factory


class FinetuneStrategy(Strategy):
    """Base for end-to-end strategies; subclasses set ``Config`` and ``pretrained``."""

    pretrained = True

    def resolve_k(self, cfg, backbone) -> int:
        n = backbone.num_blocks
        return n // 2 if cfg.k is None else (cfg.k + n if cfg.k < 0 else cfg.k)

    def fit(self, ctx: FitContext) -> StrategyResult:
        import dataclasses

        import torch

        from ...zoo import create_backbone
        from ..callbacks import (
            CheckpointCallback,
            EarlyStopping,
            PreciseBatchNorm,
            ProgressCallback,
        )
        from ..data import make_loader, preprocessing_spec, torch_dataset
        from ..model import new_classifier
        from ..trainer import Trainer, seed_everything

        cfg = self.make_config()
        ds, vds = ctx.train_ds, ctx.val_ds
        n = len(ds.classes)
        seed_everything(ctx.seed)
        t0 = time.perf_counter()
        backbone = create_backbone(ctx.backbone, pretrained=self.pretrained,
                                   weights=ctx.weights if self.pretrained else None)
        spec = {"type": "linear", "in_features": int(backbone.cfg.feature_dim), "num_classes": n,
                "dropout": cfg.head_dropout}
        model = new_classifier(backbone, spec)
        k = self.resolve_k(cfg, backbone)
        info = {"k": k, "num_blocks": backbone.num_blocks}
        backbone.freeze_blocks(k)
        prep = preprocessing_spec(ds, backbone.cfg, cfg.image_size)
        mod = prep["modality"]
        if cfg.bn_init and self.pretrained:
            info["batchnorm_init_batches"] = self._batchnorm_from_data(model, ds, prep, cfg)
        if cfg.lp_init and self.pretrained:
            info["linear_probe"] = self._linear_probe(model, ctx, cfg, n,
                                                      "direct" if cfg.bn_init else "auto")
        t_lp = time.perf_counter() - t0
        train_loader = make_loader(torch_dataset(ds.inputs, ds.y, prep, backbone, train=True),
                                   cfg.batch_size, True, mod, backbone, cfg.num_workers,
                                   drop_last=True)
        val_loader = None
        if vds is not None and len(vds):
            val_loader = make_loader(torch_dataset(vds.inputs, vds.y, prep, backbone, False),
                                     max(cfg.batch_size, 32), False, mod, backbone, cfg.num_workers)
        cbs = []
        if ctx.progress:
            cbs.append(ProgressCallback(self.name))
        precise = PreciseBatchNorm() if cfg.precise_bn else None
        if precise is not None:
            cbs.append(precise)
        if cfg.patience and val_loader is not None:
            cbs.append(EarlyStopping(cfg.patience, "val_" + cfg.monitor))
        if ctx.checkpoint_dir:
            fp = {"strategy": self.name, "backbone": ctx.backbone, "seed": ctx.seed,
                  "n_train": len(ds), **dataclasses.asdict(cfg)}
            cbs.append(CheckpointCallback(ctx.checkpoint_dir, fp))
        trainer = Trainer(
            model,
            torch.nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing),
            make_optimizer_factory(cfg),
            callbacks=cbs,
            device=ctx.device,
            precision=cfg.precision,
            seed=ctx.seed,
            scheduler_factory=make_scheduler_factory(cfg, len(train_loader)),
            monitor=cfg.monitor,
        )
        trainer.fit(train_loader, val_loader, cfg.epochs, resume=ctx.resume)
        if precise is not None:
            info["batchnorm_recalibrated_batches"] = precise.batches_
        metrics = {}
        if val_loader is not None:
            metrics = trainer.evaluate(val_loader)
            metrics["best_epoch"] = trainer.state.best_epoch
        if trainer.state.history:
            metrics["train_accuracy"] = trainer.state.history[-1]["train_accuracy"]
        model.cpu().eval()
        model.to(memory_format=torch.contiguous_format)
        return StrategyResult(
            model=model,
            head_spec=spec,
            preprocessing=prep,
            history=trainer.state.history,
            metrics=metrics,
            trained_params=trainer.trainable_params(),
            timings={"linear_probe_s": round(t_lp, 3), **{k_: round(v, 3) for k_, v in
                                                          trainer.timings.items()}},
            info={**info, "config": dataclasses.asdict(cfg), "precision": trainer.precision_,
                  "device": str(trainer.device_)},
        )

    @staticmethod
    def _batchnorm_from_data(model, ds, prep, cfg) -> int:
        """The BatchNorm layers that will train (not the frozen blocks') take their running
        statistics from one fp32 pass over the training data (evaluation transform) at the
        pretrained weights, so the linear probe sees the features that the first steps in
        train mode (batch statistics) compute. Returns the batches used."""
        from ..batchnorm import reestimate_batchnorm_, training_batchnorm_layers
        from ..data import make_loader, torch_dataset

        backbone = model.backbone
        layers = training_batchnorm_layers(model)
        if not layers:
            return 0
        loader = make_loader(torch_dataset(ds.inputs, ds.y, prep, backbone, train=False),
                             max(cfg.batch_size, 32), False, prep["modality"], backbone, 0)
        return reestimate_batchnorm_(model, loader, layers=layers)

    def _linear_probe(self, model, ctx, cfg, n, how="auto") -> dict:
        from .extract import embed_dataset, fit_linear_probe, linear_head_from_probe

        backbone = model.backbone.eval()
        Xtr, ytr = embed_dataset(ctx.train_ds, backbone, ctx, how, cfg.image_size)
        Xva = yva = None
        mean, std, coef, icpt, classes, info = fit_linear_probe(Xtr, ytr, Xva, yva, seed=ctx.seed,
                                                              scale="global")
        linear_head_from_probe(model.head, mean, std, coef, icpt, classes, n)
        return {"C": info["C"]}
