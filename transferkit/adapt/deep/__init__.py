"""Deep unsupervised domain adaptation (DAN, DANN, CDAN, CDAN+E, MCC; source-only baseline).

One DA-loss signature, ``loss(f_s, logits_s, f_t, logits_t) -> scalar``; one trainer
(:class:`transferkit.train.trainer.Trainer`, via its ``compute_loss`` hook); two modes
(cached features or an end-to-end zoo backbone). See docs/adapt_deep.md.

Names are imported lazily (torch is loaded on first use, not when the package is imported).
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "DALoss": "._base", "GradientReversal": "._base", "grad_reverse": "._base",
    "grl_coeff": "._base",
    "get_loss": "._registry", "list_deep_methods": "._registry", "make_loss": "._registry",
    "register_loss": "._registry",
    "adapt_deep": ".api", "load_deep": ".api", "rebuild_deep": ".api", "save_deep": ".api",
    "DeepDA": ".estimator",
    "select_deep": ".selection", "default_grid": ".selection",
    "run_deep_job": ".runner", "DEEP_CLI_METHODS": ".runner",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)


def __dir__():
    return __all__
