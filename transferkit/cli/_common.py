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
    from rich import box
    from rich.table import Table

    # no vertical rules: the columns fit an 80-column terminal without truncated numbers
    t = Table(title=title, show_lines=False, box=box.SIMPLE_HEAD, pad_edge=False,
              collapse_padding=True)
    for i, c in enumerate(columns):
        t.add_column(c, no_wrap=(i == 0))
    for r in rows:
        t.add_row(*[("" if v is None else str(v)) for v in r])
    console().print(t)


def ladder_printer(json_out: bool):
    """A callback for ``compare``: one line per finished rung on stderr (silent with --json)."""
    c = console(stderr=True)

    def show(e: dict) -> None:
        if json_out:
            return
        if e["error"]:
            msg = "error: " + e["error"]
        else:
            msg = f"accuracy {e['accuracy']:.4f} in {e['train_seconds']:.1f} s"
        c.print(f"  {e['name']:<15} {msg}")

    return show


def print_compare(results: dict, out, json_out: bool) -> None:
    """The end of ``compare``/``demo``: JSON, or the table and where the report is."""
    from pathlib import Path

    from ..report import format_table

    if json_out:
        emit_json(results)
        return
    typer.echo(format_table(results))
    console().print(f"report: {Path(out) / 'report.html'} (also report.md, results.json)")
