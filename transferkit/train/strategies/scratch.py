"""``scratch``: the backbone's architecture with random weights, trained on the data alone.

The article's baseline for "large and dissimilar" data: nothing is reused but the design.
AdamW at a higher learning rate and more epochs than fine-tuning; no linear probe.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import register_strategy
from ._finetune import FinetuneConfig, FinetuneStrategy


@dataclass
class ScratchConfig(FinetuneConfig):
    k: int | None = 0
    lr: float = 2e-3
    body_lr_mult: float = 1.0
    optimizer: str = "adamw"
    weight_decay: float = 0.05
    epochs: int = 30
    lp_init: bool = False
    warmup_epochs: float = 1.0


@register_strategy("scratch")
class Scratch(FinetuneStrategy):
    """Random initialisation, every layer trained."""

    Config = ScratchConfig
    pretrained = False
