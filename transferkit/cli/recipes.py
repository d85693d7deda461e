"""``fit``, ``predict``, ``evaluate``, ``export``, ``compare``: thin commands over the API."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ._common import JsonOpt, console, emit_json, ladder_printer, print_compare

STRATEGY_HELP = ("extract (frozen features + new head), partial (freeze first k blocks), full (fine-tune all), "
                 "scratch (random init), or auto (follow `transferkit advise`).")


def _options(pairs: list[str]) -> dict:
    """``--set key=value`` pairs; values parsed as JSON when possible (numbers, true/false)."""
    from ..errors import TransferkitError

    out = {}
    for item in pairs or []:
        if "=" not in item:
            raise TransferkitError(f"--set {item!r}: expected key=value")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = json.loads(v)
        except json.JSONDecodeError:
            out[k.strip()] = v
    return out


def fit(
    data: Path = typer.Argument(..., help="Training data: image folder, CSV/TSV of texts, or arrays."),
    out: Path = typer.Option(..., "--out", "-o", help="Model folder to write (safetensors + config.json)."),
    backbone: str = typer.Option("efficientnet_lite0", "--backbone", "-b", help="Backbone (see `transferkit backbones`), or auto (the advisor picks)."),
    strategy: str = typer.Option("extract", "--strategy", "-s", help=STRATEGY_HELP),
    val: Path = typer.Option(None, "--val", help="Validation data (default: the data's own val/ folder, else a split)."),
    val_size: float = typer.Option(0.15, "--val-size", help="Fraction held out for validation when no val data is given."),
    epochs: int = typer.Option(None, "--epochs", help="Training epochs (strategy default otherwise)."),
    lr: float = typer.Option(None, "--lr", help="Head learning rate (the body gets lr x body_lr_mult)."),
    k: int = typer.Option(None, "--k", help="partial: number of blocks frozen (see `transferkit backbones --blocks`)."),
    head: str = typer.Option(None, "--head", help="extract: 'linear' or 'mlp'."),
    sets: list[str] = typer.Option(None, "--set", help="Any strategy option as key=value (repeatable), e.g. --set batch_size=32."),
    weights: str = typer.Option(None, "--weights", help="Local weights file for the backbone."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same result)."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted fit from its last checkpoint."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:1 ..."),
    cache_dir: Path = typer.Option(None, "--cache-dir", help="Feature cache folder."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
    json_out: bool = JsonOpt,
) -> None:
    """Train a model with one of the four recipes and write a model folder."""
    from ..train import fit as fit_api

    opts = _options(sets)
    for key, v in (("epochs", epochs), ("lr", lr), ("k", k), ("head", head)):
        if v is not None:
            opts[key] = v
    res = fit_api(str(data), None if val is None else str(val), backbone=backbone, strategy=strategy,
                  out=str(out), resume=resume, seed=seed, progress=progress and not json_out,
                  device=device, cache_dir=cache_dir, val_size=val_size, weights=weights, **opts)
    strategy, backbone = res.strategy, res.backbone
    d = res.to_dict()
    if json_out:
        emit_json(d)
        return
    m = res.metrics
    adv = res.info.get("advice")
    if adv:
        console().print(f"advice: scenario {adv['scenario']} ({adv['scenario_name']}) -> "
                        f"{adv['backbone']} + {adv['strategy']}"
                        + (f" (k={adv['k']})" if adv.get("k") else ""))
        if adv.get("ignored_options"):
            console().print(f"note: {', '.join(adv['ignored_options'])} ignored: the advised "
                            f"strategy {adv['strategy']!r} has no such option")
    console().print(f"[bold]{strategy}[/] on {backbone}: validation accuracy "
                    f"{m.get('accuracy', float('nan')):.4f}, macro-F1 {m.get('macro_f1', float('nan')):.4f}; "
                    f"{res.trained_params:,} of {res.total_params:,} parameters trained; "
                    f"{res.timings.get('total_s', 0):.1f} s")
    console().print(f"model folder: {res.out}")


def predict(
    model: Path = typer.Argument(..., help="Model folder written by `transferkit fit`."),
    inputs: list[str] = typer.Argument(..., help="Image files/folders, CSV/TSV files of texts, or .npy/.npz arrays."),
    out: Path = typer.Option(None, "--out", "-o", help="CSV file to write (default: print to stdout)."),
    text_column: str = typer.Option(None, "--text-column", help="Text column of CSV inputs."),
    adapt: str = typer.Option(None, "--adapt", help="Test-time adaptation on the given inputs before predicting: 'adabn' (target BatchNorm statistics) or 'tent' (entropy minimisation of the normalisation layers)."),
    json_out: bool = JsonOpt,
) -> None:
    """Predict classes with probabilities; writes CSV (input, prediction, confidence, p_<class>...)."""
    from ..inference import collect_inputs, load, predictions_csv
    from ..io import write_text_atomic

    predictor = load(model)
    x, ids = collect_inputs(inputs, predictor.preprocessing["modality"], text_column)
    if adapt:
        from ..adapt.tta import adapt_predictor

        predictor = adapt_predictor(predictor, x, method=adapt)
        note = predictor.config["adaptation"].get("note")
        if note:
            console(stderr=True).print(f"note: {note}")
    proba = predictor.predict_proba(x)
    if json_out:
        emit_json([{"input": i, "prediction": predictor.classes[int(p.argmax())],
                    "probabilities": dict(zip(predictor.classes, map(float, p), strict=True))}
                   for i, p in zip(ids, proba, strict=True)])
        return
    text = predictions_csv(ids, proba, predictor.classes)
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_text_atomic(out, text)
        console(stderr=True).print(f"{len(ids)} predictions written to {out}")


def evaluate(
    model: Path = typer.Argument(..., help="Model folder."),
    data: Path = typer.Argument(..., help="Labelled data in any format `fit` accepts."),
    text_column: str = typer.Option(None, "--text-column"),
    label_column: str = typer.Option(None, "--label-column"),
    adapt: str = typer.Option(None, "--adapt", help="Test-time adaptation to the data first: adabn or tent (labels only score)."),
    json_out: bool = JsonOpt,
) -> None:
    """Score a model folder on labelled data: accuracy, macro-F1, confusion matrix."""
    from ..inference import evaluate as evaluate_api

    r = evaluate_api(model, data, text_column=text_column, label_column=label_column, adapt=adapt)
    if json_out:
        emit_json(r)
        return
    from ._common import table

    console().print(f"{r['n']} samples: accuracy [bold]{r['accuracy']:.4f}[/], macro-F1 {r['macro_f1']:.4f}")
    table("confusion matrix (rows: true, columns: predicted)", ["", *r["classes"]],
          [[c, *row] for c, row in zip(r["classes"], r["confusion"], strict=True)])


def export(
    model: Path = typer.Argument(..., help="Model folder."),
    onnx: bool = typer.Option(True, "--onnx/--no-onnx", help="Write an ONNX file (checked against PyTorch with onnxruntime)."),
    out: Path = typer.Option(None, "--out", "-o", help="Output file (default: <model>/model.onnx)."),
    json_out: bool = JsonOpt,
) -> None:
    """Export a model folder to ONNX; outputs are checked to match PyTorch within 1e-4."""
    from ..export import export_onnx

    r = export_onnx(model, out)
    if json_out:
        emit_json(r)
        return
    console().print(f"ONNX written: {r['path']} (max |onnxruntime - PyTorch| = {r['max_abs_diff']:.2e})")


def compare(
    data: Path = typer.Argument(..., help="Labelled data (image folder, CSV/TSV of texts, arrays)."),
    out: Path = typer.Option(Path("transferkit-report"), "--out", "-o", help="Report folder (report.md, report.html, results.json)."),
    backbone: str = typer.Option("efficientnet_lite0", "--backbone", "-b"),
    methods: str = typer.Option(None, "--methods", help="Comma-separated subset of the ladder (default: all that apply)."),
    epochs: int = typer.Option(None, "--epochs", help="Epochs of every fine-tuning recipe."),
    baseline_epochs: int = typer.Option(30, "--baseline-epochs", help="Epochs of the MLP and small CNN baselines."),
    image_size: int = typer.Option(None, "--image-size", help="Side of array images fed to the backbone (e.g. 64 for 8x8 digits)."),
    val_size: float = typer.Option(0.15, "--val-size"),
    test_size: float = typer.Option(0.2, "--test-size"),
    seed: int = typer.Option(0, "--seed"),
    device: str = typer.Option("auto", "--device"),
    cache_dir: Path = typer.Option(None, "--cache-dir"),
    advise: bool = typer.Option(False, "--advise", help="Also run the advisor and show its recommendation in the report."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
    json_out: bool = JsonOpt,
) -> None:
    """Run the article's ladder (majority, MLP, small CNN, scratch, extract, partial, full) on one split."""
    from ..compare import compare as compare_api

    r = compare_api(str(data), backbone=backbone, methods=methods.split(",") if methods else None, out=out,
                    val_size=val_size, test_size=test_size, seed=seed, epochs=epochs,
                    baseline_epochs=baseline_epochs, image_size=image_size, device=device,
                    cache_dir=cache_dir, progress=progress and not json_out, on_result=ladder_printer(json_out),
                    advise=advise)
    print_compare(r, out, json_out)


def register(app: typer.Typer) -> None:
    app.command("fit")(fit)
    app.command("predict")(predict)
    app.command("evaluate")(evaluate)
    app.command("export")(export)
    app.command("compare")(compare)
