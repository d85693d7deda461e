"""Human-readable description of a backbone's freezable blocks."""

from __future__ import annotations


def describe_blocks(name: str) -> list[dict]:
    """``[{index, name, params}]`` for each block of ``name`` (built without weights: fast)."""
    from ._registry import create_backbone

    model = create_backbone(name, pretrained=False)
    out = []
    names = getattr(model, "block_names", None)
    names = names() if callable(names) else None
    for i, block in enumerate(model.block_groups()):
        label = names[i] if names else type(block).__name__
        out.append({"index": i, "name": label, "params": sum(p.numel() for p in block.parameters())})
    return out
