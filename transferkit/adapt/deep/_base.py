"""Shared pieces of the deep DA losses: the fixed signature, gradient reversal, discriminators.

Every loss is an ``nn.Module`` called as ``loss(f_s, logits_s, f_t, logits_t) -> scalar``
(features and logits of a source batch and a target batch). Losses with trainable parts
(domain discriminators) own them as sub-modules, so the optimiser that trains the network
also trains them. ``progress`` (0 -> 1 over training) is set by the training loop before each
step; schedules such as DANN's gradient-reversal coefficient read it.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def grl_coeff(progress: float, alpha: float = 10.0, high: float = 1.0) -> float:
    """The DANN schedule ``high * (2 / (1 + exp(-alpha p)) - 1)``: 0 at p=0, -> high at p=1."""
    return float(high * (2.0 / (1.0 + math.exp(-alpha * float(progress))) - 1.0))


class _ReverseGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, coeff):
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.coeff * grad, None


def grad_reverse(x: torch.Tensor, coeff: float = 1.0) -> torch.Tensor:
    """Identity in the forward pass; multiplies the gradient by ``-coeff`` in the backward."""
    return _ReverseGrad.apply(x, float(coeff))


class GradientReversal(nn.Module):
    """Gradient reversal layer (Ganin & Lempitsky, 2015) with a settable coefficient."""

    def __init__(self, coeff: float = 1.0):
        super().__init__()
        self.coeff = coeff

    def forward(self, x):
        return grad_reverse(x, self.coeff)


def discriminator(in_dim: int, hidden: int = 1024, dropout: float = 0.5) -> nn.Sequential:
    """The DANN/CDAN domain discriminator: two hidden ReLU layers, one logit (source = 1)."""
    return nn.Sequential(
        nn.Linear(in_dim, hidden), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden, 1),
    )


def entropy(p: torch.Tensor) -> torch.Tensor:
    """Per-row Shannon entropy of probability rows (natural log)."""
    return -(p * torch.log(p.clamp_min(1e-12))).sum(dim=1)


class DALoss(nn.Module):
    """Base class: ``forward(f_s, logits_s, f_t, logits_t) -> scalar``; ``progress`` in [0, 1]."""

    method_name = "base"
    #: whether the loss has trainable parameters (a discriminator)
    adversarial = False

    def __init__(self, feature_dim: int, n_classes: int):
        super().__init__()
        self.feature_dim = int(feature_dim)
        self.n_classes = int(n_classes)
        self.progress = 0.0

    def set_progress(self, p: float) -> None:
        self.progress = min(max(float(p), 0.0), 1.0)

    def forward(self, f_s, logits_s, f_t, logits_t):  # pragma: no cover - abstract
        raise NotImplementedError


def domain_bce(d_s: torch.Tensor, d_t: torch.Tensor, w_s=None, w_t=None) -> torch.Tensor:
    """Binary cross-entropy of discriminator logits, source labelled 1 and target 0.

    Optional per-sample weights are normalised within each domain (each domain counts half).
    """
    bce = nn.functional.binary_cross_entropy_with_logits
    ls = bce(d_s.squeeze(1).float(), torch.ones(len(d_s), device=d_s.device), reduction="none")
    lt = bce(d_t.squeeze(1).float(), torch.zeros(len(d_t), device=d_t.device), reduction="none")
    if w_s is None:
        return 0.5 * (ls.mean() + lt.mean())
    return 0.5 * ((w_s * ls).sum() / w_s.sum() + (w_t * lt).sum() / w_t.sum())
