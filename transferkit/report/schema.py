"""The results dict of ``transferkit compare`` (format ``transferkit.compare/1``) and its validator.

``transferkit compare`` runs the founding article's ladder (majority class, MLP on pixels, small
CNN, then the pretrained recipes) and hands the report writer one plain, JSON-compatible dict.
:class:`CompareResults` documents it for type checkers, :data:`RESULTS_JSON_SCHEMA` as a JSON
Schema (draft 2020-12) for other tools, and :func:`validate_results` checks it at run time,
raising :class:`ResultsError` (a :class:`~transferkit.errors.TransferkitError`) whose one-line
message names the missing or bad field, e.g. ``results: methods[2].accuracy must be ...``.

``methods`` is in the order the ladder was run; the report keeps that order. Numbers may be
Python or NumPy scalars. Losses in ``history`` may be NaN/inf (a diverged run is a real result);
the writer stores them as ``null`` in ``results.json``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, TypedDict

from ..errors import TransferkitError

FORMAT = "transferkit.compare/1"
MODALITIES = ("image", "text", "array")
EVAL_SPLITS = ("test", "val")
FAMILIES = ("baseline", "pretrained")


class ResultsError(TransferkitError):
    """A comparison results dict (or results.json) that does not follow ``transferkit.compare/1``."""


class DatasetInfo(TypedDict):
    source: str
    modality: Literal["image", "text", "array"]
    classes: list[str]
    n_train: int
    n_val: int
    n_test: int
    eval_split: Literal["test", "val"]


class SplitInfo(TypedDict):
    seed: int
    val_size: float
    test_size: float
    protocol: str


class HistoryEntry(TypedDict):
    epoch: int
    train_loss: float
    val_loss: float | None
    val_accuracy: float | None


class MethodResult(TypedDict):
    name: str
    family: Literal["baseline", "pretrained"]
    backbone: str | None
    strategy: str | None
    accuracy: float | None
    macro_f1: float | None
    train_seconds: float | None
    predict_items_per_s: float | None
    trained_params: int | None
    total_params: int | None
    history: list[HistoryEntry]
    confusion: list[list[int]] | None
    options: dict[str, Any]
    error: str | None
    notes: str | None


class Environment(TypedDict, total=False):
    device: str  # required
    precision: str  # required
    cpu_count: int  # required
    torch: str  # required; any further JSON keys are allowed


class CompareResults(TypedDict):
    format: Literal["transferkit.compare/1"]
    title: str
    created: str
    transferkit_version: str
    dataset: DatasetInfo
    split: SplitInfo
    advice: dict[str, Any] | None  # optional key; shown as a paragraph from advice["reason"]
    methods: list[MethodResult]
    best: str | None  # computed from accuracy when null
    environment: Environment


def _t(kind: str, **extra: Any) -> dict:
    return {"type": kind, **extra}


def _nullable(kind: str, **extra: Any) -> dict:
    return {"type": [kind, "null"], **extra}


_PROB = {"minimum": 0, "maximum": 1}
_NUM_OR_NULL = {"anyOf": [{"type": "number"}, {"type": "null"}]}

RESULTS_JSON_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "transferkit.compare/1",
    "title": "transferkit compare results",
    "type": "object",
    "required": ["format", "title", "created", "transferkit_version", "dataset", "split",
                 "methods", "environment"],
    "properties": {
        "format": {"const": FORMAT},
        "title": _t("string"),
        "created": _t("string", format="date-time"),
        "transferkit_version": _t("string"),
        "dataset": {
            "type": "object",
            "required": ["source", "modality", "classes", "n_train", "n_val", "n_test",
                         "eval_split"],
            "properties": {
                "source": _t("string"),
                "modality": {"enum": list(MODALITIES)},
                "classes": _t("array", items=_t("string"), minItems=1),
                "n_train": _t("integer", minimum=0),
                "n_val": _t("integer", minimum=0),
                "n_test": _t("integer", minimum=0),
                "eval_split": {"enum": list(EVAL_SPLITS)},
            },
        },
        "split": {
            "type": "object",
            "required": ["seed", "val_size", "test_size", "protocol"],
            "properties": {
                "seed": _t("integer"),
                "val_size": _t("number", minimum=0, maximum=1),
                "test_size": _t("number", minimum=0, maximum=1),
                "protocol": _t("string"),
            },
        },
        "advice": {"anyOf": [{"type": "null"}, {
            "type": "object", "properties": {"reason": _t("string")}}]},
        "methods": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["name", "family", "backbone", "strategy", "accuracy", "macro_f1",
                         "train_seconds", "predict_items_per_s", "trained_params",
                         "total_params", "history", "confusion", "options", "error", "notes"],
            "properties": {
                "name": _t("string", minLength=1),
                "family": {"enum": list(FAMILIES)},
                "backbone": _nullable("string"),
                "strategy": _nullable("string"),
                "accuracy": _nullable("number", **_PROB),
                "macro_f1": _nullable("number", **_PROB),
                "train_seconds": _nullable("number", minimum=0),
                "predict_items_per_s": _nullable("number", minimum=0),
                "trained_params": _nullable("integer", minimum=0),
                "total_params": _nullable("integer", minimum=0),
                "history": _t("array", items={
                    "type": "object",
                    "required": ["epoch", "train_loss", "val_loss", "val_accuracy"],
                    "properties": {
                        "epoch": _t("integer", minimum=0),
                        "train_loss": _NUM_OR_NULL,
                        "val_loss": _NUM_OR_NULL,
                        "val_accuracy": _nullable("number", **_PROB),
                    },
                }),
                "confusion": {"anyOf": [{"type": "null"}, _t(
                    "array", items=_t("array", items=_t("integer", minimum=0)))]},
                "options": _t("object"),
                "error": _nullable("string"),
                "notes": _nullable("string"),
            },
        }},
        "best": _nullable("string"),
        "environment": {
            "type": "object",
            "required": ["device", "precision", "cpu_count", "torch"],
            "properties": {
                "device": _t("string"),
                "precision": _t("string"),
                "cpu_count": _t("integer", minimum=1),
                "torch": _t("string"),
            },
        },
    },
}


# --------------------------------------------------------------------------- validation

class _Checker:
    def __init__(self, where: str):
        self.where = where

    def fail(self, field: str, problem: str) -> None:
        raise ResultsError(f"{self.where}: {field} {problem}")

    def get(self, obj: Mapping, key: str, path: str) -> Any:
        if key not in obj:
            self.fail(_join(path, key), "is missing")
        return obj[key]

    def mapping(self, obj: Any, path: str) -> Mapping:
        if not isinstance(obj, Mapping):
            self.fail(path, f"must be an object, got {_show(obj)}")
        return obj

    def string(self, obj: Mapping, key: str, path: str, *, nullable: bool = False,
               choices: tuple[str, ...] | None = None, nonempty: bool = False) -> None:
        v = self.get(obj, key, path)
        field = _join(path, key)
        if v is None and nullable:
            return
        if not isinstance(v, str):
            self.fail(field, f"must be a string{' or null' if nullable else ''}, got {_show(v)}")
        if choices is not None and v not in choices:
            self.fail(field, f"must be one of {', '.join(map(repr, choices))}, got {v!r}")
        if nonempty and not v.strip():
            self.fail(field, "must not be empty")

    def integer(self, obj: Mapping, key: str, path: str, *, nullable: bool = False,
                minimum: int | None = None) -> None:
        v = self.get(obj, key, path)
        if v is None and nullable:
            return
        if not _is_int(v) or (minimum is not None and v < minimum):
            lim = f" >= {minimum}" if minimum is not None else ""
            self.fail(_join(path, key),
                      f"must be an integer{lim}{' or null' if nullable else ''}, got {_show(v)}")

    def number(self, obj: Mapping, key: str, path: str, *, nullable: bool = False,
               lo: float | None = None, hi: float | None = None, finite: bool = True) -> None:
        v = self.get(obj, key, path)
        if v is None and nullable:
            return
        ok = _is_num(v)
        if ok and math.isfinite(v):
            ok = (lo is None or v >= lo) and (hi is None or v <= hi)
        elif ok:
            ok = not finite
        if not ok:
            rng = f" in [{lo:g}, {hi:g}]" if lo is not None and hi is not None else (
                f" >= {lo:g}" if lo is not None else "")
            kind = "a finite number" if finite else "a number"
            self.fail(_join(path, key),
                      f"must be {kind}{rng}{' or null' if nullable else ''}, got {_show(v)}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def validate_results(d: Any, where: str = "results") -> CompareResults:
    """Check that ``d`` follows ``transferkit.compare/1``; return it unchanged.

    Raises :class:`ResultsError` naming the first missing or bad field, e.g.
    ``results: methods[1].family must be one of 'baseline', 'pretrained', got 'x'``.
    ``where`` names the source in the message (a file path when read from disk).
    """
    c = _Checker(where)
    d = c.mapping(d, "the results")
    fmt = c.get(d, "format", "")
    if fmt != FORMAT:
        c.fail("format", f"must be {FORMAT!r}, got {_show(fmt)}")
    for key in ("title", "transferkit_version"):
        c.string(d, key, "")
    c.string(d, "created", "")
    try:
        datetime.fromisoformat(d["created"])
    except ValueError:
        c.fail("created", f"must be an ISO 8601 time, got {_show(d['created'])}")

    ds = c.mapping(c.get(d, "dataset", ""), "dataset")
    c.string(ds, "source", "dataset")
    c.string(ds, "modality", "dataset", choices=MODALITIES)
    classes = c.get(ds, "classes", "dataset")
    if not isinstance(classes, list | tuple) or not classes:
        c.fail("dataset.classes", f"must be a non-empty list of strings, got {_show(classes)}")
    for i, name in enumerate(classes):
        if not isinstance(name, str):
            c.fail(f"dataset.classes[{i}]", f"must be a string, got {_show(name)}")
    for key in ("n_train", "n_val", "n_test"):
        c.integer(ds, key, "dataset", minimum=0)
    c.string(ds, "eval_split", "dataset", choices=EVAL_SPLITS)

    sp = c.mapping(c.get(d, "split", ""), "split")
    c.integer(sp, "seed", "split")
    c.number(sp, "val_size", "split", lo=0, hi=1)
    c.number(sp, "test_size", "split", lo=0, hi=1)
    c.string(sp, "protocol", "split")

    advice = d.get("advice")
    if advice is not None:
        c.mapping(advice, "advice")
        if "reason" in advice:
            c.string(advice, "reason", "advice", nullable=True)

    methods = c.get(d, "methods", "")
    if not isinstance(methods, list | tuple) or not methods:
        c.fail("methods", f"must be a non-empty list, got {_show(methods)}")
    seen: set[str] = set()
    for i, m in enumerate(methods):
        _validate_method(c, m, f"methods[{i}]", len(classes))
        if m["name"] in seen:
            c.fail(f"methods[{i}].name", f"{m['name']!r} is used by two methods")
        seen.add(m["name"])

    best = d.get("best")
    if best is not None:
        if not isinstance(best, str):
            c.fail("best", f"must be a method name or null, got {_show(best)}")
        if best not in seen:
            c.fail("best", f"names no method: {best!r}")

    env = c.mapping(c.get(d, "environment", ""), "environment")
    c.string(env, "device", "environment")
    c.string(env, "precision", "environment")
    c.integer(env, "cpu_count", "environment", minimum=1)
    c.string(env, "torch", "environment")
    return d  # type: ignore[return-value]


def _validate_method(c: _Checker, m: Any, p: str, n_classes: int) -> None:
    m = c.mapping(m, p)
    c.string(m, "name", p, nonempty=True)
    c.string(m, "family", p, choices=FAMILIES)
    c.string(m, "backbone", p, nullable=True)
    c.string(m, "strategy", p, nullable=True)
    c.number(m, "accuracy", p, nullable=True, lo=0, hi=1)
    c.number(m, "macro_f1", p, nullable=True, lo=0, hi=1)
    c.number(m, "train_seconds", p, nullable=True, lo=0)
    c.number(m, "predict_items_per_s", p, nullable=True, lo=0)
    c.integer(m, "trained_params", p, nullable=True, minimum=0)
    c.integer(m, "total_params", p, nullable=True, minimum=0)
    c.string(m, "error", p, nullable=True)
    c.string(m, "notes", p, nullable=True)
    if not isinstance(c.get(m, "options", p), Mapping):
        c.fail(f"{p}.options", f"must be an object, got {_show(m['options'])}")

    history = c.get(m, "history", p)
    if not isinstance(history, list | tuple):
        c.fail(f"{p}.history", f"must be a list (empty when none), got {_show(history)}")
    for j, h in enumerate(history):
        hp = f"{p}.history[{j}]"
        c.mapping(h, hp)
        c.integer(h, "epoch", hp, minimum=0)
        c.number(h, "train_loss", hp, nullable=True, finite=False)
        c.number(h, "val_loss", hp, nullable=True, finite=False)
        c.number(h, "val_accuracy", hp, nullable=True, lo=0, hi=1)

    cm = c.get(m, "confusion", p)
    if cm is None:
        return
    shape_msg = f"must be a {n_classes}x{n_classes} list of lists of counts (one per class) or null"
    if not isinstance(cm, list | tuple) or len(cm) != n_classes:
        c.fail(f"{p}.confusion", shape_msg)
    for r, row in enumerate(cm):
        if not isinstance(row, list | tuple) or len(row) != n_classes:
            c.fail(f"{p}.confusion", shape_msg)
        for k, v in enumerate(row):
            if not _is_int(v) or v < 0:
                c.fail(f"{p}.confusion[{r}][{k}]", f"must be a count >= 0, got {_show(v)}")


def best_method(results: Mapping) -> str | None:
    """Name of the best method: ``results["best"]`` if set, else the highest accuracy.

    Methods with an error or without accuracy are not candidates; ties go to the method run
    first. Returns None when no method has an accuracy.
    """
    if results.get("best") is not None:
        return results["best"]
    best, best_acc = None, -1.0
    for m in results["methods"]:
        acc = m.get("accuracy")
        if m.get("error") is None and acc is not None and math.isfinite(acc) and acc > best_acc:
            best, best_acc = m["name"], float(acc)
    return best
