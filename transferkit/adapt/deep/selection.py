"""Label-free choice of the trade-off weight and the epochs of a deep DA method.

The source is split once into train / held-out validation (stratified); every target sample
is in both. Each grid point is fitted on the training part and scored by a label-free scorer
of :mod:`transferkit.adapt.scorers` (DEV by default; IWV, SND) on the held-out source plus
the target. Target labels are never read: they are not even passed in.
"""

from __future__ import annotations

import itertools

import numpy as np

from ...errors import DataError
from ..scorers import get_scorer
from ..selection import DomainAwareSplit

DEFAULT_TRADE_OFFS = (0.1, 0.3, 1.0)


def default_grid(epochs: int) -> dict:
    """The grid used when none is given: the loss weight and the training length.

    ``trade_off in (0.1, 0.3, 1.0)`` x ``epochs in (E/2, E, 2E)`` around the estimator's
    ``epochs = E``: adversarial and entropy-based losses drift with training (the target
    accuracy can peak, then fall), so the number of epochs is chosen label-free as well.
    """
    e = max(int(epochs), 1)
    return {"trade_off": DEFAULT_TRADE_OFFS,
            "epochs": tuple(sorted({max(e // 2, 1), e, 2 * e}))}


def _grid_points(grid: dict) -> list[dict]:
    keys = sorted(grid)
    return [dict(zip(keys, vals, strict=True)) for vals in itertools.product(*(grid[k] for k in keys))]


def select_deep(estimator, X, y, sample_domain, scorer="dev", grid=None, seed=0,
                test_size=0.3, refit=True):
    """Fit ``estimator`` (a :class:`DeepDA`) at each point of ``grid``; keep the best by
    ``scorer``; refit it on all data.

    Parameters
    ----------
    estimator : unfitted DeepDA carrying the fixed parameters.
    X, y, sample_domain : skada convention; target labels must be masked (-1).
    scorer : 'dev' | 'iwv' | 'snd' | 'rv' | 'nc' (IWV and NC need 2-D inputs: feature mode only).
    grid : ``{param: values}`` over any DeepDA parameter; default :func:`default_grid`
        (trade-off 0.1 / 0.3 / 1.0 x epochs E/2 / E / 2E, 9 fits).

    Returns
    -------
    (fitted estimator, info) with ``info = {'scorer', 'grid', 'scores', 'chosen',
    'target_labels_used': False}``; ``scores`` lists ``{'params', 'score'}`` per grid point.
    """
    from sklearn.base import clone

    X = np.asarray(X)
    y = np.asarray(y).copy()
    sd = np.asarray(sample_domain).astype(int)
    y[sd < 0] = -1  # never look at target labels, even if given
    if scorer in ("iwv", "nc") and X.ndim != 2:
        raise DataError(f"scorer: {scorer!r} needs 2-D features; use 'dev' or 'snd' end-to-end")
    grid = dict(grid or default_grid(estimator.epochs))
    points = _grid_points(grid)
    if not points:
        raise DataError("grid: empty")
    sc = get_scorer(scorer)
    tr, te = next(DomainAwareSplit(1, test_size=test_size, random_state=seed).split(X, y))
    scores = []
    for params in points:
        est = clone(estimator).set_params(**params).fit(X[tr], y[tr], sd[tr])
        val = sc(est, X[te], y[te], sample_domain=sd[te])
        scores.append({"params": params, "score": float(val) if np.isfinite(val) else -np.inf})
    best = max(range(len(points)), key=lambda i: scores[i]["score"])
    chosen = points[best]
    info = {"scorer": scorer, "grid": {k: list(v) for k, v in grid.items()}, "scores": scores,
            "chosen": chosen, "target_labels_used": False}
    final = clone(estimator).set_params(**chosen)
    if refit:
        final.fit(X, y, sd)
    return final, info
