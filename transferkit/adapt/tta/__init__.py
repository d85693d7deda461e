"""Test-time adaptation of a loaded model: AdaBN and TENT.

``adapt_predictor(predictor, inputs, method='tent'|'adabn', **options)`` returns an adapted
copy of a :class:`~transferkit.train.modelfile.Predictor` (the given one is unchanged);
its ``config['adaptation']`` records what was done. See docs/adapt_sourcefree.md.
Names are imported lazily (torch is heavy).
"""

from __future__ import annotations

import importlib

METHODS = ("adabn", "tent")
_NAMES = {"adabn": "_adabn", "tent": "_tent", "EpisodicTent": "_tent",
          "reestimate_batchnorm_": "_adabn"}

__all__ = ["METHODS", "adapt_predictor", *sorted(_NAMES)]


def adapt_predictor(predictor, inputs, method: str = "tent", **options):
    """An adapted copy of ``predictor`` for the target ``inputs`` (no labels needed).

    ``method``: 'adabn' (re-estimate BatchNorm statistics) or 'tent' (entropy minimisation
    of the normalisation affine parameters). ``options`` go to :func:`adabn` / :func:`tent`.
    """
    from ...errors import TransferkitError

    if method not in METHODS:
        raise TransferkitError(f"--adapt {method}: unknown test-time adaptation; use "
                               f"{' or '.join(METHODS)}")
    fn = getattr(importlib.import_module(f"._{method}", __name__), method)
    return fn(predictor, inputs, **options)


def __getattr__(name: str):
    if name in _NAMES:
        return getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
