"""Number formatting shared by the terminal table, report.md and report.html; the first two here."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from .schema import best_method

DASH = "—"
COLUMNS = ("Method", "Accuracy", "Macro-F1", "Train time", "Predict speed", "Trained params")


def fmt_accuracy(v: float | None) -> str:
    """0.8734 -> '87.3%'."""
    return DASH if v is None or not math.isfinite(v) else f"{100 * v:.1f}%"


def fmt_f1(v: float | None) -> str:
    """0.8612 -> '0.861'."""
    return DASH if v is None or not math.isfinite(v) else f"{v:.3f}"


def fmt_seconds(v: float | None) -> str:
    """Durations: '0.004 s', '3.21 s', '42.0 s', '2 min 05 s', '1 h 02 min'."""
    if v is None or not math.isfinite(v):
        return DASH
    if v < 0.01:
        return f"{v:.3f} s"
    if v < 10:
        return f"{v:.2f} s"
    if v < 60:
        return f"{v:.1f} s"
    if v < 3600:
        m, s = divmod(round(v), 60)
        return f"{m} min {s:02d} s"
    h, m = divmod(round(v / 60), 60)
    return f"{h} h {m:02d} min"


def fmt_rate(v: float | None) -> str:
    """Items per second: '0.52/s', '12.3/s', '1,235/s'."""
    if v is None or not math.isfinite(v):
        return DASH
    if v < 10:
        return f"{v:.2f}/s"
    if v < 100:
        return f"{v:.1f}/s"
    return f"{v:,.0f}/s"


def fmt_count(v: int | None) -> str:
    """Parameter counts: '850', '12.8 k', '3.40 M', '1.20 G'."""
    if v is None:
        return DASH
    v = int(v)
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            x = v / div
            return f"{x:.2f} {unit}" if x < 10 else f"{x:.1f} {unit}" if x < 100 else (
                f"{x:.0f} {unit}")
    return str(v)


def fmt_params(trained: int | None, total: int | None) -> str:
    """'12.8 k of 3.40 M' when only part of the network was trained, else the one count."""
    if trained is None:
        return DASH if total is None else f"? of {fmt_count(total)}"
    if total is None or int(total) == int(trained):
        return fmt_count(trained)
    return f"{fmt_count(trained)} of {fmt_count(total)}"


def method_cells(m: Mapping) -> list[str]:
    """The numeric cells of a method row (without the name), for a method that ran."""
    return [fmt_accuracy(m.get("accuracy")), fmt_f1(m.get("macro_f1")),
            fmt_seconds(m.get("train_seconds")), fmt_rate(m.get("predict_items_per_s")),
            fmt_params(m.get("trained_params"), m.get("total_params"))]


def short(text: str, limit: int) -> str:
    """One line, at most ``limit`` characters (an ellipsis marks a cut)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_method(m: Mapping) -> str:
    """'pretrained · efficientnet_lite0 · extract' — what the method is, for subtitles."""
    parts = [m["family"]] + [str(m[k]) for k in ("backbone", "strategy") if m.get(k)]
    return " · ".join(parts)


def scalar_text(v: Any) -> str:
    """An environment/advice value as one line of text."""
    if isinstance(v, str):
        return v
    if v is None:
        return DASH
    if isinstance(v, bool | int | float):
        return str(v)
    return json.dumps(v, sort_keys=True, default=str)


# --------------------------------------------------------------------------- terminal

def format_table(results: Mapping) -> str:
    """The comparison as a plain-text table for the terminal, methods in ladder order.

    The best method (by accuracy, see :func:`transferkit.report.schema.best_method`) is marked
    with ``*``; a method that failed shows ``error: <message>`` instead of its numbers.
    """
    best = best_method(results)
    rows: list[list[str]] = []
    errors: list[tuple[int, str]] = []
    for m in results["methods"]:
        name = ("* " if m["name"] == best else "  ") + m["name"]
        if m.get("error"):
            errors.append((len(rows), "error: " + short(m["error"], 70)))
            rows.append([name] + [""] * (len(COLUMNS) - 1))
        else:
            rows.append([name] + method_cells(m))
    header = ["  " + COLUMNS[0], *COLUMNS[1:]]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(COLUMNS))]

    def line(cells: list[str]) -> str:
        out = [cells[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join(out).rstrip()

    lines = [line(header), "  ".join("-" * w for w in widths)]
    err_at = dict(errors)
    for i, r in enumerate(rows):
        lines.append(r[0].ljust(widths[0]) + "  " + err_at[i] if i in err_at else line(r))
    split = results["dataset"]["eval_split"]
    n_eval = results["dataset"]["n_" + split]
    foot = f"Scores on the {split} split ({n_eval} items)."
    if best is not None:
        foot = "* best by accuracy. " + foot
    lines.append(foot)
    return "\n".join(lines)


# --------------------------------------------------------------------------- markdown

def md_escape(text: Any) -> str:
    """Text safe inside a Markdown table cell or paragraph (no raw HTML, no broken cells)."""
    s = " ".join(str(text).split())
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "\\`*_[]|":
        s = s.replace(ch, "\\" + ch)
    return s


def render_markdown(results: Mapping) -> str:
    """report.md: title, data set, split, results table, notes, advice, environment."""
    ds, sp = results["dataset"], results["split"]
    best = best_method(results)
    out = [f"# {md_escape(results['title'])}", "",
           f"Created {md_escape(results['created'])} with transferkit "
           f"{md_escape(results['transferkit_version'])}.", ""]

    classes = ds["classes"]
    shown = ", ".join(md_escape(c) for c in classes[:20])
    if len(classes) > 20:
        shown += f", … ({len(classes) - 20} more)"
    source = ds["source"].replace("`", "'")
    out += ["## Data set", "",
            f"- Source: `{source}`",
            f"- Modality: {ds['modality']}",
            f"- Classes ({len(classes)}): {shown}",
            f"- Items: {ds['n_train']} train, {ds['n_val']} validation, {ds['n_test']} test",
            f"- Scores below are on the **{ds['eval_split']}** split "
            f"({ds['n_' + ds['eval_split']]} items).", ""]
    out += ["## Split", "",
            f"- Protocol: {md_escape(sp['protocol'])}",
            f"- Seed: {sp['seed']}; validation fraction {sp['val_size']:g}; "
            f"test fraction {sp['test_size']:g}", ""]

    out += ["## Results", "", "Methods in the order they were run; the best accuracy is in bold.",
            "", "| " + " | ".join(COLUMNS) + " |",
            "|" + "|".join([":---"] + ["---:"] * (len(COLUMNS) - 1)) + "|"]
    for m in results["methods"]:
        name = md_escape(m["name"])
        if m.get("error"):
            cells = [f"**error:** {md_escape(short(m['error'], 80))}"] + [DASH] * 4
        else:
            cells = method_cells(m)
        if m["name"] == best:
            name = f"**{name}**"
            cells = [f"**{c}**" if c != DASH else c for c in cells]
        out.append("| " + " | ".join([name, *cells]) + " |")
    out.append("")

    noted = [m for m in results["methods"] if m.get("error") or m.get("notes")]
    if noted:
        out += ["## Notes", ""]
        for m in noted:
            if m.get("error"):
                out.append(f"- **{md_escape(m['name'])}** failed: {md_escape(m['error'])}")
            if m.get("notes"):
                out.append(f"- **{md_escape(m['name'])}**: {md_escape(m['notes'])}")
        out.append("")

    reason = (results.get("advice") or {}).get("reason")
    if reason:
        out += ["## Advice", "", md_escape(reason), ""]

    out += ["## Environment", "", "| Key | Value |", "|:---|:---|"]
    for k, v in results["environment"].items():
        out.append(f"| {md_escape(k)} | {md_escape(scalar_text(v))} |")
    out.append("")
    return "\n".join(out)
