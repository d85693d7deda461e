"""TENT (Wang et al., 2021): test-time entropy minimisation of the normalisation layers.

Only the affine parameters (scale and shift) of the BatchNorm layers train; BatchNorm
normalises with the statistics of the current target batch; the loss is the mean entropy
of the model's predictions on that batch. Defaults follow the paper: one pass over the
target data, Adam at lr 1e-3 (its CIFAR setting; ``optimizer='sgd'`` uses its ImageNet
setting, SGD momentum 0.9 at lr 2.5e-4), batches in a seeded random order. The pass runs
through the one :class:`~transferkit.train.trainer.Trainer`.

After the pass (``stats='target'``, the default) every BatchNorm layer gets the target's
running statistics (as AdaBN), so the returned predictor predicts one sample the same way
in any batch and can be saved; ``stats='batch'`` keeps TENT's batch statistics at
prediction time (predictions then depend on what else is in the batch).
``episodic=True`` is the paper's episodic mode: the returned predictor resets to the
source weights before every batch it predicts, adapts ``steps`` times on that batch and
predicts it with its batch statistics.

Models without BatchNorm (e.g. MiniLM): the LayerNorm/GroupNorm affine parameters are
adapted instead (recorded as ``norm: 'layernorm'`` in the adaptation record).
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch

from ...errors import TransferkitError
from ...train.modelfile import Predictor
from . import _common as C
from ._adabn import reestimate_batchnorm_

DEFAULT_LR = {"adam": 1e-3, "sgd": 2.5e-4}


def _prepare(model, name):
    """Freeze everything but the normalisation affine parameters; return (kind, layers, params)."""
    kind, layers = C.affine_norm_layers(model)
    if kind == "none":
        raise TransferkitError(f"{name}: tent needs BatchNorm or LayerNorm layers with affine "
                               "parameters and this model has none")
    for p in model.parameters():
        p.requires_grad_(False)
    params = []
    for m in layers:
        for p in (m.weight, m.bias):
            if p is not None:
                p.requires_grad_(True)
                params.append(p)
    return kind, layers, params


def _optimizer(params, optimizer: str, lr: float):
    if optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), weight_decay=0.0)
    if optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    raise TransferkitError(f"optimizer={optimizer!r}: use 'adam' or 'sgd'")


def _entropy_loss(logits, _targets):
    return C.entropy(logits).mean()


def use_batch_statistics_(layers) -> None:
    """BatchNorm layers normalise with the current batch's statistics, also in eval mode."""
    for m in layers:
        m.track_running_stats = False
        m.running_mean = None
        m.running_var = None
        m.num_batches_tracked = None


def tent(predictor, inputs, *, epochs: int = 1, lr: float | None = None,
         optimizer: str = "adam", batch_size: int = 64, stats: str = "target",
         episodic: bool = False, steps: int = 1, seed: int = 0, precision: str = "fp32",
         progress: bool = False):
    """A copy of ``predictor`` adapted to ``inputs`` by TENT (see the module docstring)."""
    from ...train.callbacks import ProgressCallback
    from ...train.trainer import Trainer

    if stats not in ("target", "batch"):
        raise TransferkitError(f"stats={stats!r}: use 'target' or 'batch'")
    if optimizer not in DEFAULT_LR:
        raise TransferkitError(f"optimizer={optimizer!r}: use 'adam' or 'sgd'")
    lr = DEFAULT_LR[optimizer] if lr is None else float(lr)
    name = C.model_name(predictor)
    model = copy.deepcopy(predictor.model)
    kind, layers, params = _prepare(model, name)
    info = {"method": "tent", "norm": kind, "optimizer": optimizer, "lr": lr,
            "batch_size": batch_size, "seed": seed, "params_adapted": sum(p.numel() for p in params)}
    if kind != "batchnorm":
        info["note"] = (f"{name} has no BatchNorm: tent adapts its {len(layers)} LayerNorm/"
                        "GroupNorm affine parameter sets instead")
    elif note := C.extract_note(predictor):
        info["note"] = note
    if episodic:
        info.update(episodic=True, steps=steps, stats="batch")
        if kind == "batchnorm":
            use_batch_statistics_(layers)
        return EpisodicTent(predictor, model, layers, params, info)
    t0 = time.perf_counter()
    x = C.target_inputs(predictor, inputs)
    ds = C.torch_target(predictor, x, train=False)
    # BatchNorm layers train (batch statistics); dropout and the rest stay in inference mode.
    wrapper = C.ModeWrapper(model, layers if kind == "batchnorm" else [])
    trainer = Trainer(wrapper, _entropy_loss, lambda _m: _optimizer(params, optimizer, lr),
                      callbacks=[ProgressCallback("tent")] if progress else [],
                      device=predictor.device, precision=precision, seed=seed, keep_best=False)
    trainer.fit(C.loader(predictor, ds, batch_size, shuffle=True, drop_last=True), None,
                epochs=epochs)
    C.restore_layout(model)
    if kind == "batchnorm":
        if stats == "target":
            reestimate_batchnorm_(model, C.loader(predictor, ds, batch_size,
                                                  order=C.permutation(len(x), seed)),
                                  predictor.device)
        else:
            use_batch_statistics_(layers)
    for p in model.parameters():
        p.requires_grad_(True)
    info.update(epochs=epochs, stats=stats if kind == "batchnorm" else "n/a", n_target=len(x),
                mean_entropy=[round(h["train_loss"], 6) for h in trainer.state.history],
                time_s=round(time.perf_counter() - t0, 3))
    return C.copy_predictor(predictor, model, info)


class EpisodicTent(Predictor):
    """TENT's episodic mode: every predicted batch starts from the source weights."""

    def __init__(self, base, model, layers, params, info):
        cfg = copy.deepcopy(base.config or {})
        cfg["adaptation"] = info
        super().__init__(model, base.classes, copy.deepcopy(base.preprocessing), config=cfg,
                         device=base.device, batch_size=base.batch_size)
        self._params = params
        self._state0 = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self._info = info

    def predict_proba(self, inputs) -> np.ndarray:
        from ...train.trainer import to_device

        x = C.target_inputs(self, inputs)
        ds = C.torch_target(self, x, train=False)
        lr, opt_name = self._info["lr"], self._info["optimizer"]
        out = []
        for xb, _ in C.loader(self, ds, self.batch_size):
            xb = to_device(xb, torch.device(self.device))
            self.model.load_state_dict(self._state0)
            opt = _optimizer(self._params, opt_name, lr)
            self.model.eval()
            with torch.enable_grad():
                for _ in range(self._info["steps"]):
                    loss = C.entropy(self.model(xb)).mean()
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
            with torch.no_grad():
                out.append(torch.softmax(self.model(xb).float(), 1).cpu())
        self.model.load_state_dict(self._state0)
        return torch.cat(out).numpy()
