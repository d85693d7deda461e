"""``transferkit demo``: the article's digit experiment on scikit-learn's bundled digits."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import JsonOpt, console, ladder_printer, print_compare


def demo(
    out: Path = typer.Option(Path("demo-report"), "--out", "-o", help="Report folder."),
    epochs: int = typer.Option(None, "--epochs", help="Override the recipes' epochs (default 6)."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
    json_out: bool = JsonOpt,
) -> None:
    """Compare majority, MLP, small CNN and the four recipes on 1,797 handwritten digits (a few minutes on CPU)."""
    from ..compare.demo import DEMO_SETTINGS, run_demo

    if not json_out:
        console(stderr=True).print(
            "[bold]transferkit demo[/]: the founding article's digit experiment on scikit-learn's 1,797 "
            f"8x8 digits, {DEMO_SETTINGS['backbone']} at {DEMO_SETTINGS['image_size']} px")
    overrides = {} if epochs is None else {"epochs": epochs}
    r = run_demo(out, progress=progress and not json_out, on_result=ladder_printer(json_out), **overrides)
    print_compare(r, out, json_out)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
