"""One call for deep DA on arrays, and model-folder storage (safetensors + JSON)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ...errors import DataError
from ._registry import get_loss
from .estimator import DeepDA
from .selection import select_deep

WEIGHTS_FILE = "deep_da.safetensors"
CONFIG_FILE = "deep_da.json"


def adapt_deep(Xs, ys, Xt, method="dann", seed=0, select=None, grid=None, distances=True,
               **params):
    """Fit a deep DA model on labelled source and unlabelled target data.

    Parameters
    ----------
    Xs, ys : source inputs and labels; 2-D features (feature mode) or, with
        ``backbone=...`` in ``params``, 4-D images ``(n, C, H, W)`` (end-to-end mode).
    Xt : target inputs, no labels.
    method : 'source_only', 'dan', 'dann', 'cdan', 'cdan_e' or 'mcc'.
    seed : random_state of the network (reproducible predictions on the same machine).
    select : None (use ``params``' trade-off and epochs) or a label-free scorer 'dev' |
        'iwv' | 'snd' choosing among ``grid`` (default: trade_off in 0.1, 0.3, 1.0 x epochs
        E/2, E, 2E, see :func:`~transferkit.adapt.deep.selection.default_grid`).
    distances : add MMD / CORAL / proxy-A distances before and after adaptation (2-D only).
    params : further :class:`DeepDA` parameters (``epochs``, ``hidden``, ``lr``, ...).

    Returns
    -------
    (estimator, report): a fitted :class:`DeepDA` and a JSON-ready dict shaped like
    :func:`transferkit.adapt.adapt_features`' report (method, selection, candidate scores,
    ``target_labels_used: false``, fit seconds, distances).
    """
    get_loss(method)
    Xs, Xt = np.asarray(Xs, dtype=np.float32), np.asarray(Xt, dtype=np.float32)
    ys = np.asarray(ys)
    if Xs.shape[1:] != Xt.shape[1:]:
        raise DataError(f"inputs: source {Xs.shape} and target {Xt.shape} shapes differ")
    if len(ys) != len(Xs):
        raise DataError(f"labels: {len(ys)} labels for {len(Xs)} source samples")
    X = np.concatenate([Xs, Xt])
    y = np.r_[ys, -np.ones(len(Xt), dtype=ys.dtype if ys.dtype.kind in "iu" else int)]
    sd = np.r_[np.ones(len(Xs), dtype=int), -np.ones(len(Xt), dtype=int)]
    t0 = time.perf_counter()
    est = DeepDA(method=method, random_state=seed, **params)
    report = {"method_requested": method, "method": method, "seed": seed,
              "mode": "feature" if est.backbone is None else f"end-to-end ({est.backbone})",
              "target_labels_used": False}
    if select:
        est, info = select_deep(est, X, y, sd, scorer=select, grid=grid, seed=seed)
        report.update(selection=f"label-free ({select}), without target labels",
                      candidate_scores={_key(s["params"]): s["score"] for s in info["scores"]},
                      chosen_params=info["chosen"])
    else:
        est.fit(X, y, sd)
        report["selection"] = "fixed by the user"
    report["params"] = est.get_params()
    report["fit_seconds"] = round(time.perf_counter() - t0, 3)
    if distances and Xs.ndim == 2:
        from ..distances import distance_report

        report["distances_before"] = distance_report(Xs, Xt, seed=seed)
        report["distances_after"] = distance_report(est.transform(Xs), est.transform(Xt),
                                                    seed=seed)
    return est, report


def _key(params: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(params.items()))


def save_deep(estimator: DeepDA, folder) -> Path:
    """Write ``deep_da.safetensors`` + ``deep_da.json`` into ``folder`` (atomically)."""
    from ...io import save_tensors_atomic, write_json_atomic

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_tensors_atomic(folder / WEIGHTS_FILE, estimator.state_dict())
    write_json_atomic(folder / CONFIG_FILE, estimator.to_config())
    return folder


def rebuild_deep(config: dict, tensors: dict) -> DeepDA:
    """A fitted :class:`DeepDA` from its JSON config and tensors."""
    return DeepDA.from_state(config, tensors)


def load_deep(folder) -> DeepDA:
    """Read a model folder written by :func:`save_deep` (no pickle)."""
    from ...io import load_tensors, read_json

    folder = Path(folder)
    return rebuild_deep(read_json(folder / CONFIG_FILE), load_tensors(folder / WEIGHTS_FILE))
