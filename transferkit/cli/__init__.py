"""The ``transferkit`` command line: a thin layer over the Python API.

Every command has ``--help``; commands that report results take ``--json``. User errors
(bad paths, bad files, unknown names) print one line ``error: ...`` and exit with status 2.
"""

from __future__ import annotations

import sys

import typer

app = typer.Typer(
    name="transferkit",
    help="Turn a pretrained network into a good model for your own data; adapt models across domains.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from . import backbones, extract

    for mod in (backbones, extract):
        mod.register(app)
    for name in ("recipes", "advise", "adapt", "demo"):
        try:
            mod = __import__(f"{__name__}.{name}", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        mod.register(app)


def main(argv: list[str] | None = None) -> None:
    from ..errors import TransferkitError

    _register()
    try:
        app(args=argv, prog_name="transferkit")
    except TransferkitError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: finished work is kept; run the same command again to resume\n")
        sys.exit(130)
