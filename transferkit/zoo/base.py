"""The one feature API every backbone offers (timm-style).

* ``forward_features(x)`` -> unpooled features (B, C, H, W) for images, token states for text
* ``forward_head(f, pre_logits=False)`` -> logits of the current head, or with
  ``pre_logits=True`` the pooled penultimate features (B, feature_dim)
* ``embed(x)`` = ``forward_head(forward_features(x), pre_logits=True)``
* ``reset_classifier(num_classes)`` -> new, randomly initialised head (0 = identity)
* ``block_groups()`` -> the freezable blocks, input side first; ``len == cfg.num_blocks``
* ``freeze_blocks(k)`` -> freeze the first k blocks; their BatchNorm layers stay in eval mode
* ``param_groups(lr, lr_mult)`` -> parameter groups for discriminative learning rates
"""

from __future__ import annotations

import torch
from torch import nn

from .config import BackboneConfig


class Backbone(nn.Module):
    cfg: BackboneConfig

    def __init__(self, cfg: BackboneConfig):
        super().__init__()
        self.cfg = cfg
        self._frozen_blocks = 0

    # --- the feature API (subclasses implement these) ---------------------------------
    def forward_features(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def forward_head(self, x, pre_logits: bool = False):  # pragma: no cover - abstract
        raise NotImplementedError

    def reset_classifier(self, num_classes: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def block_groups(self) -> list[nn.Module]:  # pragma: no cover - abstract
        raise NotImplementedError

    def head_modules(self) -> list[nn.Module]:
        """Modules that form the (new) head; trained at the head learning rate."""
        return [self.get_classifier()]

    def get_classifier(self) -> nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError

    # --- shared behaviour ----------------------------------------------------------------
    def forward(self, x):
        return self.forward_head(self.forward_features(x))

    def embed(self, x) -> torch.Tensor:
        return self.forward_head(self.forward_features(x), pre_logits=True)

    @property
    def num_blocks(self) -> int:
        return len(self.block_groups())

    def freeze_blocks(self, k: int) -> Backbone:
        """Freeze the first ``k`` blocks (0 = nothing frozen, ``num_blocks`` = whole body)."""
        n = self.num_blocks
        if not 0 <= k <= n:
            from ..errors import BackboneError

            raise BackboneError(f"{self.cfg.name}: k={k} is out of range, it has {n} blocks (0..{n})")
        for p in self.parameters():
            p.requires_grad_(True)
        for block in self.block_groups()[:k]:
            for p in block.parameters():
                p.requires_grad_(False)
        self._frozen_blocks = k
        self.train(self.training)
        return self

    def freeze_body(self) -> Backbone:
        return self.freeze_blocks(self.num_blocks)

    def train(self, mode: bool = True):
        super().train(mode)
        # Frozen BatchNorm layers keep using their running statistics.
        for block in self.block_groups()[: self._frozen_blocks]:
            for m in block.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    def param_groups(self, lr: float, body_lr_mult: float = 0.1) -> list[dict]:
        """Head at ``lr``; trainable body parameters at ``lr * body_lr_mult``."""
        head_ids = {id(p) for m in self.head_modules() for p in m.parameters()}
        head = [p for p in self.parameters() if id(p) in head_ids and p.requires_grad]
        body = [p for p in self.parameters() if id(p) not in head_ids and p.requires_grad]
        groups = []
        if body:
            groups.append({"params": body, "lr": lr * body_lr_mult, "name": "body"})
        if head:
            groups.append({"params": head, "lr": lr, "name": "head"})
        return groups
