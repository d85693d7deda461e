"""A small progress bar on top of rich, with items per second; silent when disabled."""

from __future__ import annotations

import sys
import time


class Progress:
    """``with Progress(total, "extract", unit="img") as p: p.advance(n)``."""

    def __init__(self, total: int, description: str, unit: str = "it", enabled: bool = True):
        self.total = total
        self.description = description
        self.unit = unit
        self.enabled = enabled and total > 0
        self.done = 0
        self._t0 = time.perf_counter()
        self._bar = None

    def __enter__(self) -> Progress:
        self._t0 = time.perf_counter()
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=Console(file=sys.stderr),
                transient=False,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.description, total=self.total, rate="")
        return self

    @property
    def rate(self) -> float:
        dt = time.perf_counter() - self._t0
        return self.done / dt if dt > 0 else 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(self._task, advance=n, rate=f"{self.rate:.1f} {self.unit}/s")

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
