"""The report's figures as PNG bytes, drawn with matplotlib's Agg backend (no display needed).

Each function returns ``None`` when the results hold nothing to draw (e.g. no method recorded a
history). Figures are built as :class:`matplotlib.figure.Figure` objects, not through pyplot's
global state; ``$`` in user text is escaped so a class named ``$x$`` stays literal.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping

from .formatting import fmt_accuracy, fmt_seconds, short
from .schema import best_method

BASELINE = "#9aa5b1"
PRETRAINED = "#2563eb"
BEST_EDGE = "#0f172a"
ERROR = "#b91c1c"
DPI = 120

_RC = {
    "text.usetex": False,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#94a3b8",
    "axes.labelcolor": "#334155",
    "xtick.color": "#475569",
    "ytick.color": "#475569",
    "grid.color": "#e2e8f0",
    "legend.frameon": False,
}


def render_plots(results: Mapping) -> dict[str, bytes]:
    """All figures that have data, as PNG bytes keyed by ``accuracy``, ``curves``,
    ``confusion``, ``time`` (in page order)."""
    import matplotlib

    matplotlib.use("Agg")
    out: dict[str, bytes] = {}
    with matplotlib.rc_context(_RC):
        for key, fn in (("accuracy", accuracy_plot), ("curves", curves_plot),
                        ("confusion", confusion_plot), ("time", time_plot)):
            png = fn(results)
            if png is not None:
                out[key] = png
    return out


def _png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", facecolor="white",
                metadata={"Software": None})
    return buf.getvalue()


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _label(name: str, limit: int = 28) -> str:
    """User text for a figure: one line, cut to ``limit`` characters, mathtext off."""
    return short(name, limit).replace("$", r"\$")


def _colour(m: Mapping) -> str:
    return PRETRAINED if m["family"] == "pretrained" else BASELINE


def _legend_families(fig) -> None:
    from matplotlib.patches import Patch

    fig.legend(handles=[Patch(color=BASELINE, label="baseline"),
                        Patch(color=PRETRAINED, label="pretrained")],
               loc="outside upper right", ncols=2, fontsize=8)


def accuracy_plot(results: Mapping) -> bytes | None:
    """Horizontal bars of accuracy per method, baselines grey, pretrained blue, best outlined."""
    methods = results["methods"]
    if not any(m.get("accuracy") is not None and not m.get("error") for m in methods):
        return None
    best = best_method(results)
    fig = _figure(5.6, 0.36 * len(methods) + 1.4)
    ax = fig.add_subplot()
    ys = range(len(methods))
    for y, m in zip(ys, methods, strict=True):
        acc = m.get("accuracy")
        if m.get("error") or acc is None:
            ax.text(0.005, y, "failed" if m.get("error") else "no score", va="center",
                    color=ERROR if m.get("error") else "#64748b", fontsize=8, style="italic")
            continue
        is_best = m["name"] == best
        ax.barh(y, acc, color=_colour(m), height=0.65,
                edgecolor=BEST_EDGE if is_best else "none", linewidth=1.4 if is_best else 0)
        ax.text(min(acc, 1.0) + 0.01, y, fmt_accuracy(acc), va="center", fontsize=8,
                fontweight="bold" if is_best else "normal", color="#0f172a")
    ax.set_yticks(list(ys), [_label(m["name"]) for m in methods])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.1)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0%", "25%", "50%", "75%", "100%"])
    ax.xaxis.grid(True)
    ax.set_axisbelow(True)
    split = results["dataset"]["eval_split"]
    ax.set_xlabel(f"accuracy on the {split} split")
    _legend_families(fig)
    return _png(fig)


def _finite(v) -> bool:
    return v is not None and math.isfinite(v)


def curves_plot(results: Mapping) -> bytes | None:
    """Validation accuracy and training loss per epoch, one line per method with a history
    (methods that failed are left out)."""
    runs = [m for m in results["methods"] if m.get("history") and not m.get("error")]
    if not runs:
        return None
    fig = _figure(10.0, 3.6)
    ax_acc, ax_loss = fig.subplots(1, 2)
    any_acc = False
    for i, m in enumerate(runs):
        colour = f"C{i % 10}"
        h = sorted(m["history"], key=lambda e: e["epoch"])
        acc = [(e["epoch"], e["val_accuracy"]) for e in h if _finite(e.get("val_accuracy"))]
        loss = [(e["epoch"], e["train_loss"]) for e in h if _finite(e.get("train_loss"))]
        style = {"color": colour, "marker": "o", "markersize": 3, "linewidth": 1.6,
                 "label": _label(m["name"], 32)}
        if acc:
            any_acc = True
            ax_acc.plot(*zip(*acc, strict=True), **style)
        if loss:
            ax_loss.plot(*zip(*loss, strict=True), **style)
    ax_acc.set_title("Validation accuracy", loc="left")
    ax_acc.set_xlabel("epoch")
    ax_acc.yaxis.set_major_formatter(_percent_formatter())
    if not any_acc:
        ax_acc.text(0.5, 0.5, "no validation accuracy recorded", ha="center", va="center",
                    transform=ax_acc.transAxes, color="#64748b")
    ax_loss.set_title("Training loss", loc="left")
    ax_loss.set_xlabel("epoch")
    for ax in (ax_acc, ax_loss):
        ax.grid(True)
        ax.set_axisbelow(True)
        ax.xaxis.get_major_locator().set_params(integer=True)
    handles, labels = ax_loss.get_legend_handles_labels()
    if not handles:
        handles, labels = ax_acc.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)),
               fontsize=8)
    return _png(fig)


def _percent_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: f"{100 * v:.0f}%")


def confusion_plot(results: Mapping) -> bytes | None:
    """Confusion matrix of the best method: colour is the row share, numbers are counts."""
    import numpy as np

    name = best_method(results)
    m = next((m for m in results["methods"] if m["name"] == name), None)
    if m is None or m.get("confusion") is None:
        return None
    cm = np.asarray(m["confusion"], dtype=np.int64)
    classes = [_label(c, 18) for c in results["dataset"]["classes"]]
    n = len(classes)
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros(cm.shape, dtype=float), where=rows > 0)
    side = min(max(3.2, 0.38 * n + 1.8), 12.0)
    fig = _figure(side + 1.0, side)
    ax = fig.add_subplot()
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
    cbar = fig.colorbar(im, ax=ax, shrink=0.8, format=_percent_formatter())
    cbar.set_label("share of the true class")
    step = max(1, math.ceil(n / 40))
    ticks = list(range(0, n, step))
    fs = 8 if n <= 15 else 7 if n <= 30 else 6
    ax.set_xticks(ticks, [classes[i] for i in ticks], rotation=45 if n > 4 else 0,
                  ha="right" if n > 4 else "center", rotation_mode="anchor", fontsize=fs)
    ax.set_yticks(ticks, [classes[i] for i in ticks], fontsize=fs)
    if n <= 20:
        for (r, c), v in np.ndenumerate(cm):
            ax.text(c, r, str(v), ha="center", va="center", fontsize=fs,
                    color="white" if share[r, c] > 0.55 else "#0f172a")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.spines[:].set_visible(False)
    split = results["dataset"]["eval_split"]
    ax.set_title(f"Confusion matrix: {_label(m['name'], 40)} ({split} split)", loc="left")
    return _png(fig)


def time_plot(results: Mapping) -> bytes | None:
    """Training time per method; log scale when the times span more than ~30x."""
    methods = [m for m in results["methods"]
               if not m.get("error") and _finite(m.get("train_seconds"))]
    if not methods:
        return None
    secs = [float(m["train_seconds"]) for m in methods]
    positive = [s for s in secs if s > 0]
    log = bool(positive) and max(positive) / min(positive) > 30
    floor = min(positive) / 2 if positive else 0.0
    fig = _figure(5.6, 0.36 * len(methods) + 1.4)
    ax = fig.add_subplot()
    ys = list(range(len(methods)))
    shown = [max(s, floor) if log else s for s in secs]
    ax.barh(ys, shown, color=[_colour(m) for m in methods], height=0.65)
    for y, s, v in zip(ys, secs, shown, strict=True):
        ax.text(v * (1.15 if log else 1.0), y, "  " + fmt_seconds(s) if not log else
                fmt_seconds(s), va="center", fontsize=8, color="#0f172a")
    ax.set_yticks(ys, [_label(m["name"]) for m in methods])
    ax.invert_yaxis()
    if log:
        ax.set_xscale("log")
        ax.set_xlim(min(shown) / 2, max(shown) * 12)
        ax.set_xlabel("training time, seconds (log scale)")
    else:
        ax.set_xlim(0, max(shown) * 1.3 if max(shown) > 0 else 1)
        ax.set_xlabel("training time, seconds")
    ax.xaxis.grid(True)
    ax.set_axisbelow(True)
    _legend_families(fig)
    return _png(fig)
