"""The trained model: a backbone's pooled features followed by a new head.

The backbone's own classifier is removed (``reset_classifier(0)``) and the head is built
from a JSON-able ``head_spec`` (saved in the model folder), so every strategy produces the
same kind of model and the model folder is rebuilt without running any stored code::

    {"type": "linear", "in_features": 1280, "num_classes": 2, "dropout": 0.0}
    {"type": "mlp", "in_features": 1280, "num_classes": 2, "hidden": [1000, 500, 150],
     "dropout": 0.5}

Both heads start with a fixed :class:`Standardize` layer (feature mean/std buffers; identity
until set), so the weights of a scikit-learn linear probe on standardised features map
one-to-one onto the head.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..errors import TransferkitError


class Standardize(nn.Module):
    """(x - mean) / std with fixed buffers."""

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def set(self, mean, std) -> None:
        self.mean.copy_(torch.as_tensor(np.asarray(mean), dtype=torch.float32))
        std = torch.as_tensor(np.asarray(std), dtype=torch.float32)
        self.std.copy_(torch.where(std > 0, std, torch.ones_like(std)))

    def forward(self, x):
        return (x - self.mean) / self.std


def build_head(spec: dict) -> nn.Sequential:
    """A head module from its spec (see the module docstring)."""
    kind = spec.get("type")
    d, n = int(spec["in_features"]), int(spec["num_classes"])
    p = float(spec.get("dropout", 0.0))
    layers: list[nn.Module] = [Standardize(d)]
    if kind == "linear":
        if p:
            layers.append(nn.Dropout(p))
        layers.append(nn.Linear(d, n))
    elif kind == "mlp":
        prev = d
        for h in spec.get("hidden", [1000, 500, 150]):
            layers += [nn.Linear(prev, int(h)), nn.ReLU(inplace=True), nn.Dropout(p)]
            prev = int(h)
        layers.append(nn.Linear(prev, n))
    else:
        raise TransferkitError(f"head type {kind!r}: use 'linear' or 'mlp'")
    return nn.Sequential(*layers)


def set_linear_from_sklearn(head: nn.Sequential, mean, std, coef, intercept) -> None:
    """Set a linear head: standardisation ``mean``/``std``, weights ``coef`` (n, d), ``intercept``."""
    lin = head[-1]
    head[0].set(mean, std)
    with torch.no_grad():
        lin.weight.copy_(torch.as_tensor(np.asarray(coef, np.float32)))
        lin.bias.copy_(torch.as_tensor(np.asarray(intercept, np.float32)))


class Classifier(nn.Module):
    """``head(backbone.embed(x))``: logits for the user's classes."""

    def __init__(self, backbone: nn.Module, head: nn.Module):
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, x):
        return self.head(self.backbone.embed(x))


def new_classifier(backbone, head_spec: dict) -> Classifier:
    backbone.reset_classifier(0)
    return Classifier(backbone, build_head(head_spec))


def param_groups(model: Classifier, lr: float, body_lr_mult: float, weight_decay: float) -> list:
    """Discriminative learning rates: trainable body at ``lr * body_lr_mult``, head at ``lr``.

    Biases and normalisation weights (1-d tensors) get no weight decay.
    """
    groups = []
    for name, mod, mult in (("body", model.backbone, body_lr_mult), ("head", model.head, 1.0)):
        params = [p for p in mod.parameters() if p.requires_grad]
        if not params or mult == 0:
            continue
        decay = [p for p in params if p.dim() > 1]
        no_decay = [p for p in params if p.dim() <= 1]
        for suffix, ps, wd in (("", decay, weight_decay), ("_no_decay", no_decay, 0.0)):
            if ps:
                groups.append({"params": ps, "lr": lr * mult, "weight_decay": wd,
                               "name": name + suffix})
    return groups
