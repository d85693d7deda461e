"""Re-estimating BatchNorm running statistics in one pass without gradients.

Used by the fine-tuning strategies (precise BN, Wu & Johnson 2021: the running statistics
at the final weights; ``bn_init``: the data's statistics before the LP-FT probe) and by
AdaBN/TENT (the target's statistics)."""

from __future__ import annotations

import contextlib

import torch
from torch import nn


def batchnorm_layers(model: nn.Module) -> list[nn.Module]:
    """The BatchNorm layers of ``model`` that keep running statistics."""
    return [m for m in model.modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]


def training_batchnorm_layers(model: nn.Module) -> list[nn.Module]:
    """The BatchNorm layers of ``model`` that train: those in train mode under
    ``model.train()`` (a backbone keeps its frozen blocks' layers in eval mode). Leaves
    ``model`` in eval mode."""
    model.train()
    layers = [m for m in batchnorm_layers(model) if m.training]
    model.eval()
    return layers


def reestimate_batchnorm_(model: nn.Module, batches, device="cpu", layers=None,
                          context=None, channels_last: bool = False) -> int:
    """Replace the running statistics of ``layers`` (default: every BatchNorm layer of
    ``model``), in place, by their cumulative average over ``batches`` (iterable of
    ``(x, _)``; batches of one sample are skipped). The rest of the model runs in eval mode;
    ``context`` (e.g. an autocast) wraps the forward passes. Returns the batches used."""
    from .trainer import _batch_size, to_device

    bns = batchnorm_layers(model) if layers is None else list(layers)
    momenta = [m.momentum for m in bns]
    model.eval()  # dropout off
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
        m.train()
    device = torch.device(device)
    used = 0
    try:
        with torch.no_grad(), context or contextlib.nullcontext():
            for xb, _ in batches:
                if _batch_size(xb) < 2:  # a batch of one has no variance
                    continue
                model(to_device(xb, device, channels_last))
                used += 1
    finally:
        for m, mom in zip(bns, momenta, strict=True):
            m.momentum = mom
        model.eval()
    return used
