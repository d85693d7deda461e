"""The comparison report of ``transferkit compare``: results.json, report.md, report.html.

``write_report(results, out_dir)`` writes the folder, ``format_table(results)`` gives the
terminal table, ``validate_results(d)`` checks the ``transferkit.compare/1`` dict.
Importing this package is cheap: matplotlib is imported only when a report is written.
"""

from __future__ import annotations

from .formatting import format_table
from .schema import FORMAT, CompareResults, ResultsError, best_method, validate_results
from .writer import load_results, write_report

__all__ = ["FORMAT", "CompareResults", "ResultsError", "best_method", "format_table",
           "load_results", "validate_results", "write_report"]
