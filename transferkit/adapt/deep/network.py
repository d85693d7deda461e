"""The network a deep DA method trains, the two-domain batches, and the Trainer hooks.

:class:`DAModel` = feature extractor -> classifier, plus the DA loss module (so the
discriminator, if any, is trained by the same optimiser). ``model(x)`` returns logits (what
:class:`~transferkit.train.trainer.Trainer` evaluates); :func:`da_compute_loss` is the
Trainer's ``compute_loss`` hook for a ``(x_source, x_target)`` batch.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ...train.trainer import Callback


class MLPExtractor(nn.Module):
    """Feature mode adaptor: standardisation (fixed statistics) -> Linear -> BN -> ReLU -> Dropout."""

    def __init__(self, in_dim: int, hidden: int = 256, dropout: float = 0.5):
        super().__init__()
        self.register_buffer("mean", torch.zeros(in_dim))
        self.register_buffer("scale", torch.ones(in_dim))
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                                 nn.Dropout(dropout))
        self.out_dim = hidden

    def forward(self, x):
        return self.net((x - self.mean) / self.scale)


class BackboneExtractor(nn.Module):
    """End-to-end mode: a zoo backbone's pooled pre-logit features (its classifier removed)."""

    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone
        self.out_dim = int(backbone.cfg.feature_dim)
        # > 0 while training on cached outputs of the frozen first blocks: inputs are then
        # those outputs, and only blocks ``start_block ..`` run (see DeepDA.cache_frozen).
        self.start_block = 0

    def forward(self, x):
        b = self.backbone
        f = b.forward_blocks(x, self.start_block) if self.start_block else b.forward_features(x)
        return b.forward_head(f, pre_logits=True)


@torch.no_grad()
def frozen_outputs(backbone, X: torch.Tensor, k: int, device, channels_last: bool = False,
                   batch_size: int = 64) -> torch.Tensor:
    """Outputs of the first ``k`` (frozen) blocks for every row of ``X``, in eval mode, on CPU."""
    was = backbone.training
    backbone.eval().to(device)
    out = []
    try:
        for i in range(0, len(X), batch_size):
            xb = X[i:i + batch_size].to(device)
            if channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            out.append(backbone.forward_blocks(xb, 0, k).float().cpu().contiguous())
    finally:
        backbone.train(was)
    return torch.cat(out)


class DAModel(nn.Module):
    """``extractor`` -> ``classifier`` with the DA loss ``da`` attached.

    ``forward(x)`` gives logits; ``features(x)`` the adapted features;
    ``forward_both(xs, xt)`` runs one joint pass (BatchNorm sees both domains, as in DANN/CDAN
    reference code) and returns ``(f_s, logits_s, f_t, logits_t)``.
    """

    def __init__(self, extractor: nn.Module, n_classes: int, da: nn.Module):
        super().__init__()
        self.extractor = extractor
        self.classifier = nn.Linear(extractor.out_dim, n_classes)
        self.da = da

    def features(self, x):
        return self.extractor(x)

    def forward(self, x):
        return self.classifier(self.extractor(x))

    def forward_both(self, xs, xt):
        f = self.extractor(torch.cat([xs, xt]))
        logits = self.classifier(f)
        ns = len(xs)
        return f[:ns], logits[:ns], f[ns:], logits[ns:]


def make_compute_loss(trade_off: float):
    """The Trainer hook: ``CE(logits_s, y_s) + trade_off * da(f_s, logits_s, f_t, logits_t)``."""

    def compute_loss(model, xb, yb):
        xs, xt = xb
        f_s, l_s, f_t, l_t = model.forward_both(xs, xt)
        loss = nn.functional.cross_entropy(l_s.float(), yb)
        if trade_off:
            with torch.autocast(f_s.device.type, enabled=False):
                loss = loss + trade_off * model.da(f_s.float(), l_s.float(), f_t.float(),
                                                   l_t.float())
        return l_s, loss

    return compute_loss


class DAProgress(Callback):
    """Sets the DA loss's training progress (0 -> 1) before each step (DANN/CDAN schedules)."""

    def before_batch(self):
        t = self.trainer
        total = max(len(t.train_loader) * t.state.epochs, 1)
        t.model.da.set_progress(t.state.step / total)


class TwoDomainLoader:
    """Batches ``((x_source, x_target), y_source)``; both domains reshuffled and cycled.

    An epoch has ``ceil(max(n_s, n_t) / batch_size)`` batches (or ``iters_per_epoch``); each
    batch holds ``batch_size`` samples of each domain (full batches, so BatchNorm never sees
    one sample). Shuffling uses torch's global generator, which the Trainer re-seeds every
    epoch, so a run is reproducible from its seed.
    """

    def __init__(self, Xs, ys, Xt, batch_size: int = 32, iters_per_epoch: int | None = None):
        self.Xs, self.ys, self.Xt = Xs, ys, Xt
        self.batch_size = int(batch_size)
        self.iters_per_epoch = iters_per_epoch

    def __len__(self) -> int:
        if self.iters_per_epoch:
            return int(self.iters_per_epoch)
        return max(1, math.ceil(max(len(self.Xs), len(self.Xt)) / self.batch_size))

    def _stream(self, n: int, need: int) -> torch.Tensor:
        reps = math.ceil(need / n)
        return torch.cat([torch.randperm(n) for _ in range(reps)])[:need]

    def __iter__(self):
        bs, k = self.batch_size, len(self)
        i_s = self._stream(len(self.Xs), bs * k).view(k, bs)
        i_t = self._stream(len(self.Xt), bs * k).view(k, bs)
        for a, b in zip(i_s, i_t, strict=True):
            yield (self.Xs[a], self.Xt[b]), self.ys[a]


class ArrayLoader:
    """Plain ``(x, y)`` batches in order (evaluation / prediction)."""

    def __init__(self, X, y=None, batch_size: int = 512):
        self.X = X
        self.y = y if y is not None else torch.zeros(len(X), dtype=torch.long)
        self.batch_size = batch_size

    def __len__(self) -> int:
        return math.ceil(len(self.X) / self.batch_size)

    def __iter__(self):
        for i in range(0, len(self.X), self.batch_size):
            yield self.X[i:i + self.batch_size], self.y[i:i + self.batch_size]
