"""DANN (Ganin et al., 2016): a domain discriminator behind a gradient reversal layer."""

from __future__ import annotations

import torch

from ._base import DALoss, discriminator, domain_bce, grad_reverse, grl_coeff
from ._registry import register_loss


@register_loss("dann")
class DANNLoss(DALoss):
    """Domain-adversarial loss on the features.

    The discriminator minimises the domain cross-entropy; the gradient reversal layer makes
    the feature extractor maximise it, scaled by ``2 / (1 + exp(-alpha p)) - 1`` (p = training
    progress). The returned value is the discriminator's loss (about ``log 2`` when the
    domains are indistinguishable).

    Parameters
    ----------
    hidden : discriminator width (1024 in the papers).
    alpha : steepness of the reversal schedule (10).
    """

    adversarial = True

    def __init__(self, feature_dim, n_classes, hidden=1024, alpha=10.0, dropout=0.5):
        super().__init__(feature_dim, n_classes)
        self.alpha = alpha
        self.disc = discriminator(feature_dim, hidden, dropout)

    @property
    def coeff(self) -> float:
        return grl_coeff(self.progress, self.alpha)

    def forward(self, f_s, logits_s, f_t, logits_t):
        z = grad_reverse(torch.cat([f_s, f_t]).float(), self.coeff)
        d = self.disc(z)
        return domain_bce(d[: len(f_s)], d[len(f_s):])
