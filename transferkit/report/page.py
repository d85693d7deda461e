"""report.html: one self-contained page (inline CSS, figures as base64 PNG data URIs).

Every string from the results is passed through :func:`html.escape`; the page loads nothing
from the network, and a Content-Security-Policy forbids it to (no scripts, images from
``data:`` only), so a hostile class name or note cannot run code even if opened from disk.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from typing import Any

from .formatting import DASH, describe_method, method_cells, scalar_text, short
from .schema import best_method

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

FIGURES = {
    "accuracy": ("Accuracy per method",
                 "Accuracy of every method on the evaluation split; baselines in grey, "
                 "pretrained recipes in blue, the best one outlined."),
    "curves": ("Learning curves",
               "Validation accuracy and training loss per epoch, for the methods that "
               "train in epochs."),
    "confusion": ("Confusion matrix of the best method",
                  "Rows are the true classes, columns the predicted ones; numbers are "
                  "counts, colour is the share of the true class."),
    "time": ("Training time per method",
             "Wall-clock training time; a log scale when the times differ by more than 30x."),
}

STYLE = """
:root{--ink:#0f172a;--muted:#64748b;--line:#e2e8f0;--soft:#f8fafc;--blue:#2563eb;
--grey:#9aa5b1;--red:#b91c1c;--best:#eff6ff}
*{box-sizing:border-box}
body{margin:0;background:#f1f5f9;color:var(--ink);
font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:32px 28px 48px}
header{margin-bottom:20px}
h1{font-size:28px;line-height:1.2;margin:0 0 6px}
h2{font-size:18px;margin:0 0 12px}
.meta{color:var(--muted);margin:0;font-size:14px}
section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:20px 22px;
margin:0 0 18px}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:14px;background:none;border:0;
padding:0}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.card .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.05em}
.card .v{font-size:22px;font-weight:650;margin-top:2px;overflow-wrap:anywhere}
.card .s{color:var(--muted);font-size:13px;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{padding:8px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);
background:var(--soft)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.best td{background:var(--best);font-weight:650}
.sub{display:block;color:var(--muted);font-size:12px;font-weight:400}
.tag{display:inline-block;width:9px;height:9px;border-radius:2px;margin-right:7px}
.tag.baseline{background:var(--grey)}.tag.pretrained{background:var(--blue)}
.badge{display:inline-block;margin-left:6px;padding:0 7px;border-radius:9px;font-size:11px;
background:var(--blue);color:#fff;vertical-align:1px}
.error{color:var(--red)}
.advice{border-left:4px solid var(--blue);background:var(--best)}
.advice p{margin:0}
.figs{display:grid;grid-template-columns:1fr 1fr;gap:18px}
figure{margin:0}
figure.wide{grid-column:1 / -1}
figure img{max-width:100%;height:auto;display:block;margin:0 auto}
figcaption{color:var(--muted);font-size:13px;margin-top:6px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:0}
dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:18px}
ul.notes{margin:0;padding-left:20px}
footer{color:var(--muted);font-size:12px;text-align:center}
code{font:13px/1.4 ui-monospace,"DejaVu Sans Mono",monospace;overflow-wrap:anywhere}
"""


def e(v: Any) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return html.escape(str(v), quote=True)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html(results: Mapping, plots: Mapping[str, bytes]) -> str:
    """The whole page as a string."""
    ds = results["dataset"]
    best = best_method(results)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(results['title'])}</title>",
        f"<style>{STYLE}</style></head><body><main>",
        "<header>",
        f"<h1>{e(results['title'])}</h1>",
        f'<p class="meta">{e(ds["modality"])} data from <code>{e(ds["source"])}</code> · '
        f"created {e(results['created'])} · transferkit {e(results['transferkit_version'])}</p>",
        "</header>",
        _cards(results, best),
        _table(results, best),
        _advice(results),
        _figures(plots),
        _data_and_split(results),
        _notes(results),
        _environment(results),
        f"<footer>Generated by transferkit {e(results['transferkit_version'])} "
        f"(format {e(results['format'])}).</footer>",
        "</main></body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _card(key: str, value: str, sub: str = "") -> str:
    s = f'<div class="s">{sub}</div>' if sub else ""
    return f'<div class="card"><div class="k">{key}</div><div class="v">{value}</div>{s}</div>'


def _cards(results: Mapping, best: str | None) -> str:
    ds, methods = results["dataset"], results["methods"]
    split = ds["eval_split"]
    bm = next((m for m in methods if m["name"] == best), None)
    if bm is not None:
        best_card = _card("Best method", e(method_cells(bm)[0]),
                          f"{e(bm['name'])}<br>{e(describe_method(bm))}")
    else:
        best_card = _card("Best method", DASH, "no method produced a score")
    base = [m for m in methods if m["family"] == "baseline" and not m.get("error")
            and m.get("accuracy") is not None]
    if base:
        top = max(base, key=lambda m: m["accuracy"])
        base_card = _card("Best baseline", e(method_cells(top)[0]), e(top["name"]))
    else:
        base_card = _card("Best baseline", DASH, "no baseline score")
    failed = sum(1 for m in methods if m.get("error"))
    run_sub = f"{failed} failed" if failed else "all completed"
    return "".join([
        '<section class="cards">', best_card, base_card,
        _card("Data set", f"{len(ds['classes'])} classes",
              f"{ds['n_train']} train · {ds['n_val']} val · {ds['n_test']} test"),
        _card("Methods run", str(len(methods)), f"{run_sub}; scored on the {e(split)} split"),
        "</section>"])


def _table(results: Mapping, best: str | None) -> str:
    heads = ["Method", "Accuracy", "Macro-F1", "Train time", "Predict speed", "Trained params"]
    th = "".join(f'<th{"" if i == 0 else " class=num"}>{h}</th>' for i, h in enumerate(heads))
    rows = []
    for m in results["methods"]:
        is_best = m["name"] == best
        badge = '<span class="badge">best</span>' if is_best else ""
        name = (f'<td><span class="tag {e(m["family"])}"></span>{e(m["name"])}{badge}'
                f'<span class="sub">{e(describe_method(m))}</span></td>')
        if m.get("error"):
            cells = (f'<td class="error" colspan="5" title="{e(m["error"])}">'
                     f"<strong>error:</strong> {e(short(m['error'], 160))}</td>")
        else:
            cells = "".join(f'<td class="num">{e(c)}</td>' for c in method_cells(m))
        cls = ' class="best"' if is_best else ""
        rows.append(f"<tr{cls}>{name}{cells}</tr>")
    split = results["dataset"]["eval_split"]
    n_eval = results["dataset"]["n_" + split]
    return (f"<section><h2>Results</h2><table id=\"methods\"><thead><tr>{th}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            f'<p class="meta">Methods in the order they were run. Accuracy and macro-F1 on the '
            f"{e(split)} split ({n_eval} items); predict speed in items per second; "
            f"trained parameters out of the network's total.</p></section>")


def _advice(results: Mapping) -> str:
    reason = (results.get("advice") or {}).get("reason")
    if not reason:
        return ""
    return f'<section class="advice"><h2>Advice</h2><p>{e(reason)}</p></section>'


def _figures(plots: Mapping[str, bytes]) -> str:
    if not plots:
        return ""
    figs = []
    order = [k for k in ("accuracy", "time", "curves", "confusion") if k in plots]
    for key in order + [k for k in plots if k not in order]:
        title, caption = FIGURES.get(key, (key, ""))
        wide = ' class="wide"' if key in ("curves", "confusion") else ""
        figs.append(f'<figure{wide}><img src="{data_uri(plots[key])}" alt="{e(title)}">'
                    f"<figcaption><strong>{e(title)}.</strong> {e(caption)}</figcaption>"
                    "</figure>")
    return f'<section><h2>Figures</h2><div class="figs">{"".join(figs)}</div></section>'


def _dl(items: list[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{e(k)}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


def _data_and_split(results: Mapping) -> str:
    ds, sp = results["dataset"], results["split"]
    classes = ds["classes"]
    shown = ", ".join(e(c) for c in classes[:40])
    if len(classes) > 40:
        shown += f", … ({len(classes) - 40} more)"
    data = _dl([("Source", f"<code>{e(ds['source'])}</code>"), ("Modality", e(ds["modality"])),
                (f"Classes ({len(classes)})", shown),
                ("Items", f"{ds['n_train']} train, {ds['n_val']} validation, "
                          f"{ds['n_test']} test"),
                ("Scored on", f"{e(ds['eval_split'])} split")])
    split = _dl([("Protocol", e(sp["protocol"])), ("Seed", e(sp["seed"])),
                 ("Validation fraction", e(f"{sp['val_size']:g}")),
                 ("Test fraction", e(f"{sp['test_size']:g}"))])
    return (f'<section class="cols"><div><h2>Data set</h2>{data}</div>'
            f"<div><h2>Split</h2>{split}</div></section>")


def _notes(results: Mapping) -> str:
    items = []
    for m in results["methods"]:
        if m.get("error"):
            items.append(f'<li><strong>{e(m["name"])}</strong> failed: '
                         f'<span class="error">{e(m["error"])}</span></li>')
        if m.get("notes"):
            items.append(f"<li><strong>{e(m['name'])}</strong>: {e(m['notes'])}</li>")
    if not items:
        return ""
    return f'<section><h2>Notes</h2><ul class="notes">{"".join(items)}</ul></section>'


def _environment(results: Mapping) -> str:
    env = results["environment"]
    items = [(k, e(scalar_text(v))) for k, v in env.items()]
    return f"<section><h2>Environment</h2>{_dl(items)}</section>"
