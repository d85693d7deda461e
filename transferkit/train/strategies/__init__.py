"""The four ways to reuse a pretrained model, as strategies over one training engine.

* ``extract``: frozen backbone as a feature extractor + a new ``linear`` or ``mlp`` head
* ``partial``: freeze the first ``k`` blocks, retrain the rest and a new head
* ``full``: fine-tune everything, body at a lower learning rate (optionally LP-FT)
* ``scratch``: the same architecture with random weights, trained on the data alone

Each strategy module registers itself with :func:`register_strategy`; a strategy is a class
with a ``Config`` dataclass (its options and their defaults) and ``fit(ctx) -> StrategyResult``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ...errors import TransferkitError

_STRATEGIES: dict[str, type] = {}


def register_strategy(name: str):
    """Class decorator: register a strategy under ``name``."""

    def wrap(cls):
        cls.name = name
        _STRATEGIES[name] = cls
        return cls

    return wrap


def _ensure_builtin() -> None:
    from . import extract, full, partial, scratch  # noqa: F401


def list_strategies() -> list[str]:
    _ensure_builtin()
    return sorted(_STRATEGIES)


def get_strategy(name: str) -> type:
    """The strategy class registered as ``name``."""
    _ensure_builtin()
    if name not in _STRATEGIES:
        raise TransferkitError(
            f"unknown strategy {name!r}; available: {', '.join(sorted(_STRATEGIES))}"
        )
    return _STRATEGIES[name]


@dataclass
class FitContext:
    """What every strategy gets: data, backbone name and the run settings."""

    train_ds: object
    val_ds: object | None
    backbone: str
    seed: int = 0
    progress: bool = True
    device: str | None = "auto"
    checkpoint_dir: str | None = None
    resume: bool = False
    cache_dir: str | None = None
    weights: str | None = None


@dataclass
class StrategyResult:
    """A trained model and how it was trained."""

    model: object  # transferkit.train.model.Classifier
    head_spec: dict
    preprocessing: dict
    history: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    trained_params: int = 0
    timings: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)


class Strategy:
    """Base class: ``Strategy(**options)`` validates the options against ``Config``."""

    name = "base"
    Config: type = object

    def __init__(self, **options):
        self.options = options

    def make_config(self):
        names = [f.name for f in dataclasses.fields(self.Config)]
        unknown = sorted(set(self.options) - set(names))
        if unknown:
            raise TransferkitError(
                f"strategy {self.name!r}: unknown option(s) {', '.join(unknown)}; "
                f"options are {', '.join(names)}"
            )
        try:
            cfg = self.Config(**self.options)
        except (TypeError, ValueError) as exc:
            raise TransferkitError(f"strategy {self.name!r}: {exc}") from None
        for f in dataclasses.fields(cfg):
            if f.name in self.options:
                _check_option(self.name, f, getattr(cfg, f.name))
        return cfg

    def fit(self, ctx: FitContext) -> StrategyResult:  # pragma: no cover - abstract
        raise NotImplementedError


_POSITIVE = ("epochs", "batch_size", "lr")


def _check_option(strategy: str, f: dataclasses.Field, v) -> None:
    """An option given by the user must have its default's type (an int where a float is
    expected is fine) and ``epochs``/``batch_size``/``lr`` must be positive."""
    import math

    default = f.default
    if default is dataclasses.MISSING and f.default_factory is not dataclasses.MISSING:
        default = f.default_factory()
    number = isinstance(v, int | float) and not isinstance(v, bool)
    if isinstance(default, bool):
        ok = isinstance(v, bool)
    elif isinstance(default, int):
        ok = number and float(v).is_integer()
    elif isinstance(default, float):
        ok = number and math.isfinite(v)
    elif isinstance(default, str):
        ok = isinstance(v, str)
    elif isinstance(default, tuple | list):
        ok = isinstance(v, tuple | list)
    else:
        ok = True
    if ok and f.name in _POSITIVE and number:
        ok = v > 0
    if not ok:
        want = "a positive number" if f.name in _POSITIVE else f"a {type(default).__name__}"
        raise TransferkitError(f"strategy {strategy!r}: option {f.name}={v!r}: expected {want}")


__all__ = [
    "FitContext",
    "Strategy",
    "StrategyResult",
    "get_strategy",
    "list_strategies",
    "register_strategy",
]
