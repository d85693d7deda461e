"""Registry of deep DA losses: each method module registers its loss class by name."""

from __future__ import annotations

from collections.abc import Callable

from .._registry import UnknownMethodError

_LOSSES: dict[str, type] = {}


def register_loss(name: str) -> Callable:
    """Class decorator: register a DA loss module (a :class:`DALoss` subclass) as ``name``."""

    def wrap(cls):
        _LOSSES[name] = cls
        cls.method_name = name
        return cls

    return wrap


def _ensure_builtin() -> None:
    from . import cdan, dan, dann, mcc, source_only  # noqa: F401  (importing registers them)


def list_deep_methods() -> list[str]:
    """Names of the registered deep DA methods (``'source_only'`` included)."""
    _ensure_builtin()
    return sorted(_LOSSES)


def get_loss(name: str) -> type:
    """The DA loss class registered as ``name``."""
    _ensure_builtin()
    if name not in _LOSSES:
        raise UnknownMethodError(
            f"unknown deep adaptation method {name!r}; available: {', '.join(sorted(_LOSSES))}"
        )
    return _LOSSES[name]


def make_loss(name: str, feature_dim: int, n_classes: int, **kwargs):
    """Instantiate the loss ``name`` for ``feature_dim``-d features and ``n_classes`` classes."""
    return get_loss(name)(feature_dim, n_classes, **kwargs)
