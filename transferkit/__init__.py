"""transferkit: turn a pretrained network into a good model for your own data.

The public API is imported lazily, so ``import transferkit`` is fast and has no side effects.
"""

from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "list_backbones": ("transferkit.zoo", "list_backbones"),
    "create_backbone": ("transferkit.zoo", "create_backbone"),
    "get_config": ("transferkit.zoo", "get_config"),
    "register_backbone": ("transferkit.zoo", "register_backbone"),
    "load_data": ("transferkit.data", "load_data"),
    "split_dataset": ("transferkit.data", "split_dataset"),
    "extract_features": ("transferkit.features", "extract_features"),
    "Features": ("transferkit.features", "Features"),
    "TransferkitError": ("transferkit.errors", "TransferkitError"),
    "fit": ("transferkit.train", "fit"),
    "load": ("transferkit.inference", "load"),
    "evaluate": ("transferkit.inference", "evaluate"),
    "compare": ("transferkit.compare", "compare"),
    "export_onnx": ("transferkit.export", "export_onnx"),
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        value = getattr(importlib.import_module(mod), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'transferkit' has no attribute {name!r}")


def __dir__():
    return __all__
