"""``source_only``: no adaptation loss (the honest baseline through the same code path)."""

from __future__ import annotations

from ._base import DALoss
from ._registry import register_loss


@register_loss("source_only")
class SourceOnlyLoss(DALoss):
    """Always 0: training reduces to source cross-entropy on the same network and schedule."""

    def forward(self, f_s, logits_s, f_t, logits_t):
        return f_s.new_zeros(())
