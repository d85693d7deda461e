"""``full``: fine-tune every layer, the body at a lower learning rate than the head.

Discriminative learning rates (head ``lr``, body ``lr * body_lr_mult``) and, by default,
LP-FT: the head starts from a linear probe on the frozen features, then everything is
fine-tuned (``lp_init=False`` starts from a random head instead).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import register_strategy
from ._finetune import FinetuneConfig, FinetuneStrategy


@dataclass
class FullConfig(FinetuneConfig):
    k: int | None = 0
    lr: float = 1e-2
    body_lr_mult: float = 0.1
    optimizer: str = "sgd"
    epochs: int = 8
    lp_init: bool = True


@register_strategy("full")
class Full(FinetuneStrategy):
    """Fine-tune everything with discriminative learning rates (optionally LP-FT)."""

    Config = FullConfig
