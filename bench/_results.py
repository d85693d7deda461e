"""Writing benchmark results: ``bench/results/<stem>.json`` and ``.md``, each atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(stem: str, data: dict, markdown: str) -> None:
    """Write ``<stem>.json`` (indented) and ``<stem>.md``; a reader never sees half a file."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name, text in ((f"{stem}.json", json.dumps(data, indent=2) + "\n"), (f"{stem}.md", markdown)):
        tmp = RESULTS / f".{name}.tmp"
        tmp.write_text(text)
        os.replace(tmp, RESULTS / name)
