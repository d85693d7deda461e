"""``transferkit extract``: cached pooled features of a data set through a backbone."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import JsonOpt, console, emit_json


def extract(
    data: Path = typer.Argument(..., help="Image folder (one sub-folder per class), CSV/TSV of texts, or .npz/.npy/.mat arrays."),
    backbone: str = typer.Option("efficientnet_lite0", "--backbone", "-b", help="Backbone name (see `transferkit backbones`), timm/<name> or hf/<id>."),
    weights: str = typer.Option(None, "--weights", help="Local weights file (or folder for hf/) instead of the built-in source."),
    cache_dir: Path = typer.Option(None, "--cache-dir", help="Cache folder (default: $TRANSFERKIT_CACHE or the user cache folder)."),
    out: Path = typer.Option(None, "--out", "-o", help="Also write the features here (<out>.safetensors with X, y + <out>.json with file names, classes)."),
    batch_size: int = typer.Option(None, "--batch-size", help="Batch size (default 32 images / 64 texts)."),
    fast: bool = typer.Option(True, "--fast/--no-fast", help="CPU fast path: reduced-size JPEG decoding, threads, channels_last, bf16."),
    precision: str = typer.Option(None, "--precision", help="auto, fp32, bf16 or fp16 (default: auto with --fast, else fp32)."),
    device: str = typer.Option(None, "--device", help="cpu, cuda, cuda:1 ... (default: cuda when present)."),
    text_column: str = typer.Option(None, "--text-column", help="Text column of a CSV/TSV file."),
    label_column: str = typer.Option(None, "--label-column", help="Label column of a CSV/TSV file."),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first unreadable file instead of skipping it."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    json_out: bool = JsonOpt,
) -> None:
    """Extract pooled penultimate features, cached by backbone, preprocessing and file content.

    A second run costs nothing; an interrupted run resumes where it stopped.
    """
    from ..data import load_data
    from ..features import extract_features

    ds = load_data(data, text_column=text_column, label_column=label_column, strict=strict)
    feats = extract_features(
        ds, backbone, cache_dir=cache_dir, batch_size=batch_size, fast=fast, precision=precision,
        device=device, weights=weights, strict=strict, progress=progress and not json_out,
    )
    if out is not None:
        feats.save(out)
    summary = {
        "data": str(data),
        "backbone": feats.backbone,
        "samples": len(feats),
        "feature_dim": int(feats.X.shape[1]) if feats.X.ndim == 2 else 0,
        "classes": feats.classes,
        **feats.stats,
        "out": None if out is None else str(Path(out).with_suffix(".safetensors")),
        "skipped": [{"path": s.path, "reason": s.reason} for s in feats.skipped],
    }
    if json_out:
        emit_json(summary)
        return
    c = console()
    rate = f", {summary['items_per_s']} items/s" if summary["items_per_s"] else ""
    c.print(f"[bold]{summary['samples']}[/] samples x {summary['feature_dim']} features from "
            f"[bold]{feats.backbone}[/] ({summary['computed']} computed, {summary['from_cache']} from cache"
            f"{rate}; {summary['precision']} on {summary['device']})")
    c.print(f"cache: {summary['cache_dir']}")
    if out is not None:
        c.print(f"written: {summary['out']} (+ .json)")
    if feats.skipped:
        c.print(f"[yellow]skipped {len(feats.skipped)} file(s):[/]")
        for s in feats.skipped:
            c.print(f"  {s.path}: {s.reason}")


def register(app: typer.Typer) -> None:
    app.command("extract")(extract)
