"""Source-free domain adaptation of a trained model folder: SHOT (Liang et al., 2020).

``shot(model_dir, target_data, out=..., epochs=..., seed=...) -> ShotResult`` writes a new
model folder adapted to unlabelled target data, without the source data. The loss pieces
live in :mod:`.losses`. Names are imported lazily (torch is heavy). See
docs/adapt_sourcefree.md.
"""

from __future__ import annotations

import importlib

_NAMES = {"shot": "_shot", "ShotResult": "_shot", "PseudoLabels": "_shot", "shot_loss": "losses",
          "pseudo_labels": "losses", "entropy": "losses", "diversity": "losses",
          "information_maximisation": "losses"}

__all__ = sorted(_NAMES)


def __getattr__(name: str):
    if name in _NAMES:
        return getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
