"""``write_report``: the report folder of ``transferkit compare`` (results.json, report.md,
report.html), each file written atomically."""

from __future__ import annotations

import copy
import math
import numbers
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..io import read_json, write_json_atomic, write_text_atomic
from .formatting import format_table, render_markdown
from .schema import CompareResults, best_method, validate_results

__all__ = ["write_report", "format_table", "load_results"]

FILES = {"json": "results.json", "markdown": "report.md", "html": "report.html"}


def write_report(results: Mapping[str, Any], out_dir: str | os.PathLike) -> dict[str, Path]:
    """Validate ``results`` (format ``transferkit.compare/1``) and write the report folder.

    Writes ``results.json`` (the results with ``best`` filled in and non-finite numbers stored
    as null), ``report.md`` and ``report.html`` (self-contained: inline CSS, figures embedded
    as base64 PNGs), each atomically. Returns their paths keyed ``json``, ``markdown``,
    ``html``. Raises :class:`transferkit.report.schema.ResultsError` naming the bad field.
    """
    from .page import render_html
    from .plots import render_plots

    validate_results(results)
    data = _finite_or_null(copy.deepcopy(dict(results)))
    data["best"] = best_method(data)
    data.setdefault("advice", None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {key: out / name for key, name in FILES.items()}
    write_json_atomic(paths["json"], data)
    write_text_atomic(paths["markdown"], render_markdown(data))
    write_text_atomic(paths["html"], render_html(data, render_plots(data)))
    return paths


def load_results(path: str | os.PathLike) -> CompareResults:
    """Read and validate a results.json written by :func:`write_report` (or by hand)."""
    return validate_results(read_json(path), where=str(path))


def _finite_or_null(obj: Any) -> Any:
    """Replace NaN/inf (e.g. the loss of a diverged epoch) by None, so the JSON is standard."""
    if isinstance(obj, numbers.Real) and not isinstance(obj, numbers.Integral):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite_or_null(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite_or_null(v) for v in obj]
    return obj
