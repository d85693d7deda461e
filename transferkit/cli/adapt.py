"""``transferkit adapt``: labelled source + unlabelled target -> a DA model folder."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import JsonOpt, console, emit_json


def adapt(
    source: Path = typer.Option(None, "--source", help="Labelled source data: image folder, CSV/TSV, .npz/.npy arrays (not with --method shot)."),
    target: Path = typer.Option(..., "--target", help="Target data (labels, if any, are not used for fitting)."),
    out: Path = typer.Option(..., "--out", "-o", help="DA model folder to write (weights.safetensors + config.json)."),
    method: str = typer.Option("auto", "--method", "-m", help="auto (label-free selection), none (source only), or a method: coral, sa, tca, jda, bda, meda, selective_meda, kmm, kliep, domain_classifier; deep (small adaptor network on the features): dan, dann, cdan, cdan_e, mcc; source-free (needs --model, no --source): shot."),
    model: Path = typer.Option(None, "--model", help="Trained model folder (from `transferkit fit`) to adapt without source data (--method shot)."),
    epochs: int = typer.Option(10, "--epochs", help="SHOT epochs over the target data."),
    backbone: str = typer.Option("efficientnet_lite0", "--backbone", "-b", help="Feature backbone, or none to use array inputs as features."),
    scorer: str = typer.Option(None, "--scorer", help="Label-free scorer choosing the method (--method auto; default auto: nc, neighbourhood consistency, when its cluster premise holds on both domains, else gated) or a deep method's trade-off and epochs (default dev): auto, nc, iwv, dev, snd, rv (reverse validation) or, for --method auto only, agreement (each candidate's agreement with the candidates' majority vote), nc_tca (nc between source-only and TCA only) or gated (nc_tca where TCA's subspace keeps at least 0.64 of the variance, else agreement)."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same result)."),
    cache_dir: Path = typer.Option(None, "--cache-dir", help="Feature cache folder."),
    text_column: str = typer.Option(None, "--text-column", help="Text column of CSV/TSV data."),
    label_column: str = typer.Option(None, "--label-column", help="Label column of CSV/TSV data."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
    json_out: bool = JsonOpt,
) -> None:
    """Adapt a classifier from a labelled source domain to an unlabelled target domain."""
    from ..errors import TransferkitError

    if method == "shot":
        return _shot(model, source, target, out, epochs, seed, progress, json_out)
    if model is not None:
        raise TransferkitError("--model is for source-free adaptation (--method shot); other "
                               "methods take --source")
    if source is None:
        raise TransferkitError("--source is required (or --method shot --model M)")
    from ..adapt import adapt as adapt_api

    r = adapt_api(str(source), str(target), method=method, backbone=backbone, out=str(out),
                  scorer=scorer, seed=seed, cache_dir=cache_dir, progress=progress and not json_out,
                  text_column=text_column, label_column=label_column)
    d = r.to_dict()
    if json_out:
        emit_json(d)
        return
    c = console()
    rep = r.report
    c.print(f"method: [bold]{r.method}[/] ({rep.get('selection', '')}); {r.n_source} source, "
            f"{r.n_target} target samples; backbone {r.backbone}")
    scores = rep.get("candidate_scores")
    if scores:
        c.print(f"label-free candidate scores ({rep.get('scorer', scorer)}, higher is better):")
        for name, v in sorted(scores.items(), key=lambda kv: -kv[1]):
            mark = "  <- chosen" if name == r.method else ""
            c.print(f"  {name:<18} {v:.4f}{mark}")
    before, after = rep.get("distances_before", {}), rep.get("distances_after", {})
    if before:
        c.print("domain distance   before    after")
        for k in before:
            b, a = before[k], after.get(k)
            c.print(f"  {k:<15} {_num(b):>8} {_num(a):>8}")
    if r.target_accuracy is not None:
        c.print(f"target accuracy {r.target_accuracy:.4f} on {r.n_target_scored} samples "
                "(target labels used only for this report)")
    if r.skipped:
        c.print(f"[yellow]skipped {len(r.skipped)} file(s):[/]")
        for s in r.skipped:
            c.print(f"  {s['path']}: {s['reason']}")
    c.print(f"model folder: {r.out}")


def _shot(model, source, target, out, epochs, seed, progress, json_out) -> None:
    """Source-free: SHOT adapts a trained model folder to the target, writing a new folder."""
    from ..errors import TransferkitError

    if model is None:
        raise TransferkitError("--method shot needs --model (a model folder from `transferkit fit`)")
    if source is not None:
        raise TransferkitError("--method shot is source-free: give --model, not --source")
    from ..adapt.sourcefree import shot

    res = shot(str(model), str(target), out=str(out), epochs=epochs, seed=seed,
               progress=progress and not json_out)
    if json_out:
        emit_json(res.to_dict())
        return
    console().print(f"SHOT (source-free) adapted {model} to {target} in "
                    f"{res.timings.get('total_s', 0):.0f} s; no target labels used")
    console().print(f"model folder: {res.out}")


def _num(v) -> str:
    return f"{v:.4f}" if isinstance(v, int | float) else str(v)


def register(app: typer.Typer) -> None:
    app.command("adapt")(adapt)
