"""CDAN and CDAN+E (Long et al., 2018): a discriminator conditioned on the predictions.

The discriminator sees the multilinear map ``f (x) g`` (outer product of the features and the
softmax predictions, flattened); when ``feature_dim * n_classes`` exceeds ``max_dim`` it sees
the randomized multilinear map ``(f R_f) * (g R_g) / sqrt(d)`` with fixed Gaussian matrices.
CDAN+E weights each sample by ``1 + exp(-entropy(g))`` (confident predictions count more).
"""

from __future__ import annotations

import math

import torch

from ._base import DALoss, discriminator, domain_bce, entropy, grad_reverse, grl_coeff
from ._registry import register_loss


@register_loss("cdan")
class CDANLoss(DALoss):
    """Conditional adversarial loss.

    Parameters
    ----------
    hidden : discriminator width.
    entropy_weight : CDAN+E entropy conditioning (``'cdan_e'`` sets it).
    max_dim : use the randomized map when ``feature_dim * n_classes > max_dim``.
    random_dim : output size of the randomized map (1024).
    """

    adversarial = True
    default_entropy = False

    def __init__(self, feature_dim, n_classes, hidden=1024, alpha=10.0, dropout=0.5,
                 entropy_weight=None, max_dim=4096, random_dim=1024):
        super().__init__(feature_dim, n_classes)
        self.alpha = alpha
        self.entropy_weight = self.default_entropy if entropy_weight is None else entropy_weight
        self.randomized = feature_dim * n_classes > max_dim
        if self.randomized:
            # fixed (not trained) random projections; buffers, so they are saved with the model
            self.register_buffer("rf", torch.randn(feature_dim, random_dim))
            self.register_buffer("rg", torch.randn(n_classes, random_dim))
            in_dim = random_dim
        else:
            in_dim = feature_dim * n_classes
        self.disc = discriminator(in_dim, hidden, dropout)

    @property
    def coeff(self) -> float:
        return grl_coeff(self.progress, self.alpha)

    def multilinear(self, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """``f (x) g`` flattened, or its randomized approximation."""
        if self.randomized:
            return (f @ self.rf) * (g @ self.rg) / math.sqrt(self.rf.shape[1])
        return torch.bmm(g.unsqueeze(2), f.unsqueeze(1)).flatten(1)

    def forward(self, f_s, logits_s, f_t, logits_t):
        f = torch.cat([f_s, f_t]).float()
        g = torch.cat([logits_s, logits_t]).float().softmax(1).detach()
        z = grad_reverse(self.multilinear(f, g), self.coeff)
        d = self.disc(z)
        ns = len(f_s)
        if not self.entropy_weight:
            return domain_bce(d[:ns], d[ns:])
        w = 1.0 + torch.exp(-entropy(g))
        return domain_bce(d[:ns], d[ns:], w[:ns], w[ns:])


@register_loss("cdan_e")
class CDANELoss(CDANLoss):
    """CDAN+E: CDAN with entropy conditioning."""

    default_entropy = True
