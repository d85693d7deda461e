"""Registry of adaptation methods: each method module registers itself by name."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import TransferkitError

_METHODS: dict[str, type] = {}


class UnknownMethodError(TransferkitError):
    """An adaptation method name that is not registered."""


def register(name: str) -> Callable:
    """Class decorator: register an adapter (or DA classifier) under ``name``."""

    def wrap(cls):
        _METHODS[name] = cls
        return cls

    return wrap


def _ensure_builtin() -> None:
    from . import feature, instance  # noqa: F401  (importing registers the methods)


def list_methods() -> list[str]:
    """Names of the registered adaptation methods."""
    _ensure_builtin()
    return sorted(_METHODS)


def get_method(name: str) -> type:
    """The class registered as ``name``."""
    _ensure_builtin()
    if name not in _METHODS:
        raise UnknownMethodError(
            f"unknown adaptation method {name!r}; available: {', '.join(sorted(_METHODS))}"
        )
    return _METHODS[name]
