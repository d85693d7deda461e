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

from ...errors import TransferkitError
from ...train.batchnorm import reestimate_batchnorm_  # noqa: F401  (re-exported)
from . import _common as C


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
