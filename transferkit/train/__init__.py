"""Training: one engine with named callback events, and four ways to reuse a pretrained model.

``fit(train_ds, val_ds, backbone=..., strategy='extract'|'partial'|'full'|'scratch', out=...)``
trains and writes a model folder; ``load_model(folder)`` returns a predictor. The engine is
:class:`~transferkit.train.trainer.Trainer` with the callbacks in
:mod:`transferkit.train.callbacks`. Names are imported lazily (torch is heavy), so importing
this package has no cost for the CLI's start-up.
"""

from __future__ import annotations

import importlib

_NAMES = {
    "fit": "api",
    "FitResult": "api",
    "load_model": "modelfile",
    "save_model": "modelfile",
    "Predictor": "modelfile",
    "read_model_config": "modelfile",
    "Trainer": "trainer",
    "TrainState": "trainer",
    "Callback": "trainer",
    "CancelFit": "trainer",
    "EVENTS": "trainer",
    "ProgressCallback": "callbacks",
    "EarlyStopping": "callbacks",
    "CheckpointCallback": "callbacks",
    "get_strategy": "strategies",
    "list_strategies": "strategies",
    "register_strategy": "strategies",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str):
    if name in _NAMES:
        mod = importlib.import_module(f".{_NAMES[name]}", __name__)
        return getattr(mod, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
