"""``transferkit advise``: which backbone and which of the article's four strategies."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import JsonOpt, console, emit_json, table


def advise(
    data: Path = typer.Argument(..., help="Labelled data: image folder (one sub-folder per class), CSV/TSV of texts, or .npz/.npy/.mat arrays."),
    backbones: str = typer.Option(None, "--backbones", "-b", help="Comma-separated candidate backbones (default: efficientnet_lite0,mobilenet_v2,efficientnet_lite1 for images, minilm_l6 for texts)."),
    cache_dir: Path = typer.Option(None, "--cache-dir", help="Feature cache folder (default: $TRANSFERKIT_CACHE or the user cache folder)."),
    max_samples: int = typer.Option(2000, "--max-samples", help="Score a stratified subsample of at most this many samples (0 = all)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the subsample."),
    select_by: str = typer.Option(None, "--select-by", help="Score that picks the backbone: logme_z (default: LogME on z-scored features), logme, hscore, leep or nce."),
    bootstrap: int = typer.Option(20, "--bootstrap", help="Paired bootstrap resamples of the scored samples: how often each backbone has the best score (0 = off)."),
    image_size: int = typer.Option(None, "--image-size", help="Array data: score the backbones on the arrays resized to this side, as `fit --set image_size=N` trains them (e.g. 64 for 8x8 digits)."),
    text_column: str = typer.Option(None, "--text-column", help="Text column of a CSV/TSV file."),
    label_column: str = typer.Option(None, "--label-column", help="Label column of a CSV/TSV file."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    json_out: bool = JsonOpt,
) -> None:
    """Measure the data's size and similarity to the pretraining data, score each backbone
    (LogME on z-scored and on raw features, LEEP, NCE, H-score) and recommend the article's
    scenario, strategy and settings."""
    from ..advise import advise as advise_api
    from ..advise.advisor import CLASS_AMI_THRESHOLD, SELECTION_SCORE
    from ..data import load_data

    ds = load_data(data, text_column=text_column, label_column=label_column)
    adv = advise_api(ds, backbones=backbones, cache_dir=cache_dir,
                     max_samples=max_samples or None, seed=seed,
                     select_by=select_by or SELECTION_SCORE,
                     progress=progress and not json_out, bootstrap=bootstrap,
                     image_size=image_size)
    if json_out:
        emit_json(adv.to_dict())
        return
    c = console()
    d, s, sim = adv.data, adv.size, adv.similarity
    c.print(f"[bold]{d['samples']}[/] samples, {d['classes']} classes, smallest class "
            f"'{d['smallest_class']['class']}' ({d['smallest_class']['count']}); "
            f"{d['scored_samples']} scored"
            + (f" at {d['scored_image_size']} px" if d.get("scored_image_size") else ""))
    c.print(f"size: [bold]{s.label}[/] for {adv.backbone} - rule: {s.rule} "
            f"(here >= {s.threshold_samples} samples)")
    sig = ", ".join(f"{k} {v}" for k, v in sim.signals.items() if v is not None)
    c.print(f"similarity: [bold]{sim.label}[/] - {sim.method} = {sim.value:.3f} "
            f"(threshold {sim.threshold}; {sig})")
    cert = adv.selection_certainty
    first = [] if not cert else ["first"]
    rows = [[r.backbone,
             *(_f(r.scores.get(k)) for k in ("logme_z", "leep", "nce", "hscore")),
             *([f"{cert['share_first'][r.backbone]:.0%}"] if cert else []),
             _f(r.class_ami), f"{r.similarity.value:.3f}", r.size.label]
            for r in adv.reports]
    table("transferability (higher is better)",
          ["backbone", "LogME-z", "LEEP", "NCE", "H-score", *first, "AMI", "sim.", "size"],
          rows)
    c.print("[dim]LogME-z: LogME on z-scored features (raw LogME and the seconds per backbone "
            "are in --json); AMI: k-means clusters of the features vs the labels (scenario 1 keeps the "
            f"backbone frozen only from {CLASS_AMI_THRESHOLD}); sim.: similarity to the "
            "pretraining data"
            + (f"; first: share of {cert['resamples']} bootstrap resamples in which the "
               f"backbone has the best {adv.selection_score}" if cert else "") + "[/]")
    k = f", k={adv.k}" if adv.k is not None else ""
    lr = f", lr={adv.lr:g}" if adv.lr is not None else ""
    ep = f", epochs={adv.epochs}" if adv.epochs is not None else ""
    c.print(f"scenario [bold]{adv.scenario}[/] ({adv.scenario_name}) -> [bold]{adv.strategy}[/] "
            f"on [bold]{adv.backbone}[/]{k}{lr}{ep}")
    c.print(adv.reason)
    for r in adv.reports:
        for note in r.notes:
            c.print(f"[dim]{r.backbone}: {note}[/]")


def _f(v) -> str:
    return "n/a" if v is None else f"{v:.3g}"


def register(app: typer.Typer) -> None:
    app.command("advise")(advise)
