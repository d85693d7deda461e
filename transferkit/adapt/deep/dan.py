"""DAN (Long et al., 2015): multi-kernel MMD between source and target features."""

from __future__ import annotations

import torch

from ._base import DALoss
from ._registry import register_loss


def mk_mmd(x: torch.Tensor, y: torch.Tensor, kernel_mul: float = 2.0, kernel_num: int = 5,
           bandwidth: float | None = None) -> torch.Tensor:
    """Squared multi-kernel MMD (biased V-statistic) with a family of Gaussian kernels.

    The bandwidths are ``base * kernel_mul**k`` for ``k = -(kernel_num // 2) ..``, ``base`` the
    mean pairwise squared distance over the joint batch (detached) unless ``bandwidth`` is
    given. The kernel is the mean of the Gaussian kernels. Exactly 0 for identical batches.
    """
    x, y = x.float(), y.float()
    z = torch.cat([x, y])
    d2 = torch.cdist(z, z).pow(2)
    n = len(z)
    if bandwidth is None:
        base = d2.detach().sum() / max(n * n - n, 1)
        base = base.clamp_min(1e-8)
    else:
        base = torch.as_tensor(float(bandwidth), device=z.device)
    start = -(kernel_num // 2)
    k = sum(torch.exp(-d2 / (base * kernel_mul ** (start + i))) for i in range(kernel_num))
    k = k / kernel_num
    ns = len(x)
    return k[:ns, :ns].mean() + k[ns:, ns:].mean() - 2 * k[:ns, ns:].mean()


@register_loss("dan")
class DANLoss(DALoss):
    """MK-MMD on the bottleneck features (and, with ``on_logits=True``, on the softmax too).

    Parameters
    ----------
    kernel_mul, kernel_num : the Gaussian bandwidth family (5 kernels, factor 2 apart).
    on_logits : add the MMD of the softmax outputs (DAN adapts several layers).
    """

    def __init__(self, feature_dim, n_classes, kernel_mul=2.0, kernel_num=5, on_logits=False):
        super().__init__(feature_dim, n_classes)
        self.kernel_mul = kernel_mul
        self.kernel_num = kernel_num
        self.on_logits = on_logits

    def forward(self, f_s, logits_s, f_t, logits_t):
        loss = mk_mmd(f_s, f_t, self.kernel_mul, self.kernel_num)
        if self.on_logits:
            loss = loss + mk_mmd(logits_s.float().softmax(1), logits_t.float().softmax(1),
                                 self.kernel_mul, self.kernel_num)
        return loss
