"""``transferkit demo``: the article's digit experiment on scikit-learn's bundled digits."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import JsonOpt, console, emit_json


def demo(
    out: Path = typer.Option(Path("demo-report"), "--out", "-o", help="Report folder."),
    epochs: int = typer.Option(None, "--epochs", help="Override the recipes' epochs (default 6)."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
    json_out: bool = JsonOpt,
) -> None:
    """Compare majority, MLP, small CNN and the four recipes on 1,797 handwritten digits (a few minutes on CPU)."""
    from ..compare.demo import DEMO_SETTINGS, run_demo
    from ..report import format_table

    c = console(stderr=True)
    if not json_out:
        c.print("[bold]transferkit demo[/]: the founding article's digit experiment on scikit-learn's 1,797 "
                f"8x8 digits, {DEMO_SETTINGS['backbone']} at {DEMO_SETTINGS['image_size']} px")

    def show(e):
        if not json_out:
            msg = "error: " + e["error"] if e["error"] else f"accuracy {e['accuracy']:.4f} in {e['train_seconds']:.1f} s"
            c.print(f"  {e['name']:<15} {msg}")

    overrides = {} if epochs is None else {"epochs": epochs}
    r = run_demo(out, progress=progress and not json_out, on_result=show, **overrides)
    if json_out:
        emit_json(r)
        return
    typer.echo(format_table(r))
    console().print(f"report: {Path(out) / 'report.html'} (also report.md, results.json)")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
