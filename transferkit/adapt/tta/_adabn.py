"""AdaBN (Li et al., 2016): re-estimate every BatchNorm layer's statistics on target data.

Nothing is trained. Each BatchNorm layer forgets its source mean/variance and takes the
cumulative average of the target batch statistics instead (``momentum=None``), in one pass
without gradients; the affine parameters and every other weight are unchanged. Batches are
drawn in a seeded random order, so class-sorted inputs (image folders) do not make
one-class batches whose within-batch variance would understate the target's.
"""

from __future__ import annotations

import copy
import time

import torch

from ...errors import TransferkitError
from . import _common as C


def reestimate_batchnorm_(model: torch.nn.Module, batches, device="cpu") -> int:
    """Replace the running statistics of every BatchNorm layer in ``model`` (in place) by the
    cumulative average over ``batches`` (iterable of ``(x, _)``). Returns the batches used."""
    from ...train.trainer import to_device

    bns = C.batchnorm_layers(model)
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.eval()
    for m in bns:
        m.train()
    used = 0
    try:
        with torch.no_grad():
            for xb, _ in batches:
                if C.batch_len(xb) < 2:  # a batch of one has no variance
                    continue
                model(to_device(xb, torch.device(device)))
                used += 1
    finally:
        for m, mom in zip(bns, momenta, strict=True):
            m.momentum = mom
        model.eval()
    return used


def adabn(predictor, inputs, *, batch_size: int = 64, seed: int = 0):
    """A copy of ``predictor`` whose BatchNorm statistics are those of ``inputs``.

    ``inputs``: a Dataset, an array, image paths, texts, or a path (file or folder) in the
    model's modality. The given predictor is not changed.
    """
    name = C.model_name(predictor)
    if not C.batchnorm_layers(predictor.model):
        raise TransferkitError(f"{name}: adabn needs BatchNorm layers and this model has none "
                               "(use tent, which adapts LayerNorm affine parameters)")
    t0 = time.perf_counter()
    x = C.target_inputs(predictor, inputs)
    model = copy.deepcopy(predictor.model)
    ds = C.torch_target(predictor, x, train=False)
    order = C.permutation(len(x), seed)
    used = reestimate_batchnorm_(model, C.loader(predictor, ds, batch_size, order=order),
                                 predictor.device)
    if used == 0:
        raise TransferkitError(f"{name}: adabn got no batch of 2 or more target samples")
    info = {"method": "adabn", "n_target": len(x), "batch_size": batch_size, "seed": seed,
            "batchnorm_layers": len(C.batchnorm_layers(model)), "batches": used,
            "time_s": round(time.perf_counter() - t0, 3)}
    note = C.extract_note(predictor)
    if note:
        info["note"] = note
    return C.copy_predictor(predictor, model, info)
