"""Writing benchmark results: ``bench/results/<stem>.json`` and ``.md``, each atomically."""

from __future__ import annotations

import json
from pathlib import Path

from transferkit.io import write_text_atomic

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(stem: str, data: dict, markdown: str) -> None:
    """Write ``<stem>.json`` (indented) and ``<stem>.md``; a reader never sees half a file."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_text_atomic(RESULTS / f"{stem}.json", json.dumps(data, indent=2) + "\n")
    write_text_atomic(RESULTS / f"{stem}.md", markdown)
