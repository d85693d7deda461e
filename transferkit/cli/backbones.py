"""``transferkit backbones``: list the model zoo."""

from __future__ import annotations

import typer

from ._common import JsonOpt, console, emit_json, table


def backbones(
    modality: str = typer.Option(None, help="Only 'image' or 'text' backbones."),
    blocks: bool = typer.Option(False, "--blocks", help="Also list each backbone's freezable blocks (k units for --strategy partial)."),
    json_out: bool = JsonOpt,
) -> None:
    """List the built-in backbones with licence, source, input and feature size."""
    from ..zoo import get_config, list_backbones
    from ..zoo.describe import describe_blocks

    rows = []
    for name in list_backbones(modality):
        cfg = get_config(name)
        d = {
            "name": name,
            "modality": cfg.modality,
            "feature_dim": cfg.feature_dim,
            "input": "x".join(map(str, cfg.input_size)) if cfg.modality == "image" else f"{cfg.max_length} tokens",
            "num_blocks": cfg.num_blocks,
            "license": cfg.license,
            "pretrained_on": cfg.pretrained_dataset,
            "source": cfg.source,
        }
        if blocks:
            d["blocks"] = describe_blocks(name)
        rows.append(d)
    if json_out:
        emit_json(rows)
        return
    table(
        "transferkit backbones (also: timm/<name>, hf/<model-id>, --weights FILE)",
        ["name", "modality", "features", "input", "blocks", "pretrained on"],
        [[r["name"], r["modality"], r["feature_dim"], r["input"], r["num_blocks"], r["pretrained_on"]]
         for r in rows],
    )
    c = console()
    for r in rows:
        c.print(f"[bold]{r['name']}[/]: licence {r['license']}; weights: {r['source']}")
    if blocks:
        for r in rows:
            table(f"{r['name']}: freezing k blocks freezes blocks 0..k-1", ["k", "block", "parameters"],
                  [[b["index"], b["name"], f"{b['params']:,}"] for b in r["blocks"]])


def register(app: typer.Typer) -> None:
    app.command("backbones")(backbones)
