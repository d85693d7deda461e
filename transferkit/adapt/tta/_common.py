"""What AdaBN, TENT and SHOT share: target loaders for a loaded model, normalisation layers,
a mode wrapper for the one Trainer, and copies of predictors."""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from ...errors import TransferkitError
from ...train.batchnorm import batchnorm_layers  # noqa: F401  (used by AdaBN and TENT)

BN_TYPES = (nn.modules.batchnorm._BatchNorm,)
OTHER_NORM_TYPES = (nn.LayerNorm, nn.GroupNorm)


def affine_norm_layers(model: nn.Module) -> tuple[str, list[nn.Module]]:
    """``('batchnorm', layers)`` with affine parameters, else ``('layernorm', layers)``
    (LayerNorm/GroupNorm with affine parameters), else ``('none', [])``."""
    bn = [m for m in model.modules() if isinstance(m, BN_TYPES) and m.weight is not None]
    if bn:
        return "batchnorm", bn
    other = [m for m in model.modules() if isinstance(m, OTHER_NORM_TYPES)
             and getattr(m, "weight", None) is not None]
    return ("layernorm", other) if other else ("none", [])


def model_name(predictor) -> str:
    cfg = predictor.config or {}
    return str(cfg.get("backbone") or type(predictor.model).__name__)


def target_inputs(predictor, inputs):
    """Model inputs from a Dataset, an array, image paths/folders, texts or a data path."""
    import os
    from pathlib import Path

    from ...data.dataset import Dataset

    mod = predictor.preprocessing["modality"]
    if isinstance(inputs, str | os.PathLike) and Path(inputs).exists():
        from ...inference import collect_inputs

        inputs, _ = collect_inputs([inputs], mod)
    elif isinstance(inputs, Dataset):
        inputs = inputs.inputs
    x = predictor._inputs(inputs)
    if mod == "image":
        for p in x:
            if not Path(p).is_file():
                raise TransferkitError(f"{p}: image file not found")
    if len(x) < 2:
        raise TransferkitError(f"target data: {len(x)} sample(s); adaptation needs at least 2")
    return x


def torch_target(predictor, x, train: bool = False):
    from ...train.data import torch_dataset

    return torch_dataset(x, None, predictor.preprocessing, predictor.model.backbone, train=train)


def loader(predictor, ds_torch, batch_size: int, order=None, shuffle: bool = False,
           drop_last: bool = False):
    """A DataLoader over ``ds_torch`` (optionally in the fixed ``order``), no worker processes."""
    from ...train.data import make_loader

    if order is not None:
        ds_torch = torch.utils.data.Subset(ds_torch, [int(i) for i in order])
    return make_loader(ds_torch, batch_size, shuffle, predictor.preprocessing["modality"],
                       predictor.model.backbone, num_workers=0, drop_last=drop_last)


def permutation(n: int, seed: int) -> np.ndarray:
    """A seeded order of the target samples: class-sorted folders must not give one-class
    batches (batch statistics and the entropy objective assume mixed batches)."""
    return np.random.default_rng(seed).permutation(n)


class ModeWrapper(nn.Module):
    """Runs ``model``; ``train(True)`` puts only the ``active`` modules in training mode
    (everything else, e.g. dropout and frozen heads, stays in inference mode)."""

    def __init__(self, model: nn.Module, active):
        super().__init__()
        self.inner = model
        self._active = list(active)

    def forward(self, x):
        return self.inner(x)

    def train(self, mode: bool = True):
        self.training = mode
        self.inner.eval()
        if mode:
            for m in self._active:
                m.train()
        return self


def copy_predictor(predictor, model, adaptation: dict):
    """A new Predictor around ``model`` whose config records ``adaptation``."""
    from ...train.modelfile import Predictor

    cfg = copy.deepcopy(predictor.config or {})
    cfg["adaptation"] = adaptation
    return Predictor(model, predictor.classes, copy.deepcopy(predictor.preprocessing), config=cfg,
                     device=predictor.device, batch_size=predictor.batch_size)


def restore_layout(model: nn.Module) -> nn.Module:
    """Back to the default memory layout after the Trainer's channels_last fast path."""
    model.cpu().eval()
    return model.to(memory_format=torch.contiguous_format)


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Shannon entropy (nats) of the softmax of each row."""
    logp = torch.log_softmax(logits.float(), 1)
    return -(logp.exp() * logp).sum(1)


def extract_note(predictor) -> str | None:
    """A warning for models whose backbone BatchNorm statistics are not the source's."""
    if (predictor.config or {}).get("strategy") != "extract":
        return None
    return ("this is an 'extract' model: its head was fit on features under the backbone's "
            "pretraining BatchNorm statistics, so changing them can hurt (measured: "
            "docs/adapt_sourcefree.md); compare with plain predictions")
