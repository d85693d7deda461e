"""Backbone registry (timm-style): ``register_backbone`` + ``create_backbone``."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import BackboneError
from .config import BackboneConfig

_ENTRYPOINTS: dict[str, Callable] = {}
_CONFIGS: dict[str, BackboneConfig] = {}


def register_backbone(cfg: BackboneConfig) -> Callable:
    """Decorator: register ``fn(pretrained: bool, weights: str | None, **kw) -> Backbone``."""

    def wrap(fn: Callable) -> Callable:
        _ENTRYPOINTS[cfg.name] = fn
        _CONFIGS[cfg.name] = cfg
        return fn

    return wrap


def _ensure_builtin() -> None:
    # Importing the model modules registers them (no other side effects).
    from . import builtin  # noqa: F401


def list_backbones(modality: str | None = None) -> list[str]:
    _ensure_builtin()
    return sorted(n for n, c in _CONFIGS.items() if modality is None or c.modality == modality)


def get_config(name: str) -> BackboneConfig:
    _ensure_builtin()
    if name in _CONFIGS:
        return _CONFIGS[name]
    if name.startswith(("timm/", "hf/")):
        from .external import external_config

        return external_config(name)
    raise BackboneError(
        f"unknown backbone {name!r}; available: {', '.join(list_backbones())}, "
        "or timm/<model-name>, hf/<model-id>"
    )


def create_backbone(name: str, pretrained: bool = True, weights: str | None = None, **kwargs):
    """Create a backbone by registered name, ``timm/<name>``, ``hf/<id>``.

    ``weights`` is an optional local weights file (or folder for ``hf/``) that replaces the
    built-in source. ``pretrained=False`` gives the architecture with random weights.
    """
    _ensure_builtin()
    if name in _ENTRYPOINTS:
        return _ENTRYPOINTS[name](pretrained=pretrained, weights=weights, **kwargs)
    if name.startswith(("timm/", "hf/")):
        from .external import create_external

        return create_external(name, pretrained=pretrained, weights=weights, **kwargs)
    get_config(name)  # raises the helpful error
    raise AssertionError("unreachable")
