"""The one feature API every backbone offers (timm-style).

* ``forward_features(x)`` -> unpooled features (B, C, H, W) for images, token states for text
* ``forward_head(f, pre_logits=False)`` -> logits of the current head, or with
  ``pre_logits=True`` the pooled penultimate features (B, feature_dim)
* ``embed(x)`` = ``forward_head(forward_features(x), pre_logits=True)``
* ``reset_classifier(num_classes)`` -> new, randomly initialised head (0 = identity)
* ``block_groups()`` -> the freezable blocks, input side first; ``len == cfg.num_blocks``
* ``freeze_blocks(k)`` -> freeze the first k blocks; their BatchNorm layers stay in eval mode
* ``forward_blocks(x, start, end)`` / ``blocks_compose()`` -> run a slice of the blocks, and
  whether the blocks in order are the whole feature path (checked numerically)
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

    def forward_blocks(self, x, start: int = 0, end: int | None = None):
        """Run the block groups ``start .. end-1`` in order (a ModuleList group: each module).

        Equals a slice of ``forward_features`` only when :meth:`blocks_compose` is True.
        """
        for g in self.block_groups()[start:end]:
            for m in (g if isinstance(g, nn.ModuleList) else (g,)):
                x = m(x)
        return x

    def blocks_compose(self) -> bool:
        """Whether ``forward_features(x) == forward_blocks(x)`` (the blocks, run in order, are
        the whole feature path), so that the output of frozen blocks can be computed once.

        Checked numerically once per instance, in eval mode on a small random input; image
        backbones only. False whenever ``forward_features`` does more than run the blocks
        (input resizing, position embeddings, ...).
        """
        if "_composes" not in self.__dict__:
            self.__dict__["_composes"] = self._check_blocks_compose()
        return self.__dict__["_composes"]

    def _check_blocks_compose(self) -> bool:
        if self.cfg.modality != "image":
            return False
        size = int(self.cfg.crop_size)
        x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(0))
        was = self.training
        self.eval()
        try:
            with torch.no_grad():
                p = next(self.parameters(), None)
                x = x.to(p.device) if p is not None else x
                a, b = self.forward_features(x), self.forward_blocks(x)
            return (a.shape == b.shape
                    and bool(torch.allclose(a, b, rtol=1e-4, atol=1e-5 * float(a.abs().max()))))
        except Exception:  # noqa: BLE001 - a group that cannot run alone: not composable
            return False
        finally:
            self.train(was)

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
