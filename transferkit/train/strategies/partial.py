"""``partial``: freeze the first ``k`` blocks, retrain the rest and a new head.

The article's setting: SGD, learning rate 1e-3, momentum 0.9, Nesterov, for the unfrozen
blocks and the head alike (``body_lr_mult=1``). ``k`` counts the backbone's block units
(``Backbone.block_groups()``; EfficientNet-Lite has 9: stem, 7 stages, head conv); the
default ``k=None`` freezes half of them, a negative ``k`` counts from the end.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import register_strategy
from ._finetune import FinetuneConfig, FinetuneStrategy


@dataclass
class PartialConfig(FinetuneConfig):
    k: int | None = None
    lr: float = 1e-3
    body_lr_mult: float = 1.0
    optimizer: str = "sgd"
    epochs: int = 8


@register_strategy("partial")
class Partial(FinetuneStrategy):
    """Freeze the first k blocks; fine-tune the rest (frozen BatchNorm stays in eval mode)."""

    Config = PartialConfig
