"""MCC (Jin et al., 2020): minimum class confusion on the target predictions."""

from __future__ import annotations

import torch

from ._base import DALoss, entropy
from ._registry import register_loss


def class_confusion(logits: torch.Tensor, temperature: float = 2.5) -> torch.Tensor:
    """MCC loss of a batch of logits: off-diagonal mass of the row-normalised class
    correlation matrix, entropy-weighted, divided by the number of classes.

    About 0 for confident one-hot predictions spread over classes; larger when the
    predictions mix classes.
    """
    n, c = logits.shape
    y = (logits.float() / temperature).softmax(1)
    w = 1.0 + torch.exp(-entropy(y).detach())
    w = n * w / w.sum()
    conf = (y * w.unsqueeze(1)).t() @ y
    conf = conf / conf.sum(dim=1, keepdim=True).clamp_min(1e-12)
    return (conf.sum() - conf.trace()) / c


@register_loss("mcc")
class MCCLoss(DALoss):
    """Minimum class confusion on the target logits (temperature 2.5 as in the paper)."""

    def __init__(self, feature_dim, n_classes, temperature=2.5):
        super().__init__(feature_dim, n_classes)
        self.temperature = temperature

    def forward(self, f_s, logits_s, f_t, logits_t):
        return class_confusion(logits_t, self.temperature)
