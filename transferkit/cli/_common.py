"""Shared CLI helpers: JSON output, tables, user-error handling."""

from __future__ import annotations

import json
import sys

import typer

JsonOpt = typer.Option(False, "--json", help="Print machine-readable JSON on stdout instead of text.")


def emit_json(obj) -> None:
    from ..io import _json_default

    sys.stdout.write(json.dumps(obj, indent=2, default=_json_default) + "\n")


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def table(title: str | None, columns: list[str], rows: list[list]) -> None:
    from rich.table import Table

    t = Table(title=title, show_lines=False)
    for i, c in enumerate(columns):
        t.add_column(c, no_wrap=(i == 0))
    for r in rows:
        t.add_row(*[("" if v is None else str(v)) for v in r])
    console().print(t)
