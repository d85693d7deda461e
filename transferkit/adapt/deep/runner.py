"""The ``transferkit adapt --method dann|dan|cdan|cdan_e|mcc`` runner (feature mode).

Same contract as :func:`transferkit.adapt.cli_api._run_shallow`: ``job -> dict(model,
report, Xt, target_index, skipped, n_source)``. Features come from the job's backbone (cached);
the deep method trains a small adaptor on them (:class:`~transferkit.adapt.deep.DeepDA`).
"""

from __future__ import annotations

import numpy as np

DEEP_CLI_METHODS = ("dan", "dann", "cdan", "cdan_e", "mcc")


def run_deep_job(job) -> dict:
    """Fit ``job.method`` with :func:`~transferkit.adapt.deep.adapt_deep` on cached features.

    The trade-off and the number of epochs are chosen without target labels by
    ``job.scorer`` ('dev', 'snd' or 'iwv': features are 2-D) over
    :func:`~transferkit.adapt.deep.selection.default_grid` (trade-off 0.1 / 0.3 / 1.0 x
    epochs 10 / 20 / 40).
    """
    from ...errors import DataError
    from ..cli_api import _features
    from .api import adapt_deep

    Xs, ks, sk_s = _features(job.source, job.backbone, job.cache_dir, job.progress)
    Xt, kt, sk_t = _features(job.target, job.backbone, job.cache_dir, job.progress)
    if len(Xt) == 0:
        raise DataError(f"{job.target.source or 'target'}: no usable target samples")
    ys = np.asarray(job.source.y)[ks]
    select = getattr(job, "scorer", None) or "dev"
    if select == "auto":  # the shallow 'auto' (nc, else gated) has no deep counterpart: dev
        select = "dev"
    model, report = adapt_deep(Xs, ys, Xt, method=job.method, seed=job.seed, select=select)
    return {"model": model, "report": report, "Xt": Xt, "target_index": kt,
            "skipped": sk_s + sk_t, "n_source": len(Xs)}
