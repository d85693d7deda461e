"""Backbones outside the built-in zoo: ``timm/<model>`` and ``hf/<model-id-or-folder>``.

* ``timm/<model>``: ``timm.create_model`` (any name ``timm.list_models()`` knows, with an
  optional ``.tag``). Weights, in this order: ``weights=PATH`` (a local ``.safetensors`` or
  ``.pth``/``.bin`` file, read without pickle), the local Hugging Face cache, the Hub when it
  is reachable. Offline without weights: a one-line :class:`BackboneError` saying how to pass
  a file. ``pretrained=False`` needs no weights. The config comes from timm's pretrained cfg.
* ``hf/<id>`` or ``hf/<local folder>``: a transformers text encoder (``AutoModel``) with
  attention-mask mean pooling (:class:`~transferkit.zoo.hf_text.HFTextBackbone`).
  ``weights=FOLDER`` replaces the source folder.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import BackboneError
from ._weights import hub_reachable, load_state_dict_file, load_strict
from .config import BackboneConfig

_HF_FILES = ("model.safetensors", "pytorch_model.bin", "open_clip_model.safetensors")


def _split(name: str) -> tuple[str, str]:
    kind, _, rest = name.partition("/")
    if kind not in ("timm", "hf") or not rest:
        raise BackboneError(f"{name!r}: expected timm/<model-name> or hf/<model-id-or-folder>")
    return kind, rest


def external_config(name: str) -> BackboneConfig:
    """The :class:`BackboneConfig` of ``timm/<model>`` or ``hf/<id>`` (no weights loaded)."""
    kind, rest = _split(name)
    if kind == "timm":
        return _timm_config(name, _timm_model(name, rest, pretrained=False, device="meta"))
    return _hf_config(name, rest, _hf_folder(name, rest, None, need_weights=False))


# --- timm ---------------------------------------------------------------------------------------
def _timm_model(name: str, arch: str, pretrained: bool = False, device: str | None = None, **kw):
    import timm
    import torch

    base = arch.split(".")[0]
    if not timm.is_model(base):
        raise BackboneError(f"{name}: timm has no model {base!r} (see timm.list_models())")
    if device == "meta":
        with torch.device("meta"):
            return timm.create_model(arch, pretrained=False, **kw)
    return timm.create_model(arch, pretrained=pretrained, **kw)


def _timm_config(name: str, model) -> BackboneConfig:
    from .timm_backbone import timm_block_groups

    pc = dict(getattr(model, "pretrained_cfg", {}) or {})
    size = tuple(pc.get("input_size", (3, 224, 224)))
    crop_pct = float(pc.get("crop_pct", 0.875) or 0.875)
    tag = pc.get("tag") or ""
    hub = pc.get("hf_hub_id") or pc.get("url") or "timm"
    return BackboneConfig(
        name=name,
        architecture=f"timm:{pc.get('architecture', name[5:])}",
        modality="image",
        source=f"timm {hub}" + (f" ({tag})" if tag else ""),
        license=str(pc.get("license", "unknown")),
        feature_dim=int(model.num_features),
        num_blocks=len(timm_block_groups(model)),
        pretrained_dataset=tag or "unknown",
        num_classes=int(getattr(model, "num_classes", pc.get("num_classes", 0)) or 0),
        input_size=(int(size[0]), int(size[1]), int(size[2])),
        resize_size=int(round(size[-1] / crop_pct)),
        interpolation=str(pc.get("interpolation", "bicubic")),
        mean=tuple(float(v) for v in pc.get("mean", (0.485, 0.456, 0.406))),
        std=tuple(float(v) for v in pc.get("std", (0.229, 0.224, 0.225))),
        description=f"timm model {pc.get('architecture', name[5:])}",
        tags=("timm",),
    )


def _hf_cached_file(model) -> str | None:
    """A weights file of this timm model already in the local Hugging Face cache."""
    hub_id = (getattr(model, "pretrained_cfg", {}) or {}).get("hf_hub_id")
    if not hub_id:
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover
        return None
    for fn in _HF_FILES:
        hit = try_to_load_from_cache(hub_id, fn)
        if isinstance(hit, str):
            return hit
    return None


def _create_timm(name: str, arch: str, pretrained: bool, weights: str | None, **kw):
    from .timm_backbone import TimmBackbone

    num_classes = kw.pop("num_classes", None)
    model = _timm_model(name, arch, pretrained=False, **kw)
    if weights is None and pretrained:
        weights = _hf_cached_file(model)
        if weights is None:
            if not hub_reachable():
                raise BackboneError(
                    f"{name}: no pretrained weights available offline; pass a local file with "
                    "--weights PATH (or weights=PATH)"
                )
            model = _timm_model(name, arch, pretrained=True, **kw)  # downloads from the Hub
    if weights is not None:
        sd = load_state_dict_file(weights, name=name)
        clf = (getattr(model, "pretrained_cfg", {}) or {}).get("classifier")
        key = f"{clf}.weight" if isinstance(clf, str) else None
        n_file = int(sd[key].shape[0]) if key and key in sd else 0
        if n_file != model.num_classes:
            # The file's head decides the architecture's head; the user's num_classes is
            # applied afterwards with a fresh classifier.
            model = _timm_model(name, arch, pretrained=False, num_classes=n_file, **kw)
        load_strict(model, sd, name, str(weights))
    cfg = _timm_config(name, model)
    backbone = TimmBackbone(cfg, model)
    if num_classes is not None and num_classes != model.num_classes:
        backbone.reset_classifier(num_classes)
    return backbone


# --- Hugging Face ---------------------------------------------------------------------------------
def _hf_folder(name: str, ref: str, weights: str | None, need_weights: bool) -> Path:
    """Local folder holding the model: ``weights``, ``ref`` itself, or the HF cache/Hub."""
    for cand in (weights, ref):
        if cand is not None and Path(cand).expanduser().is_dir():
            return Path(cand).expanduser()
    if weights is not None:
        raise BackboneError(f"{name}: weights folder {weights} not found")
    from huggingface_hub import snapshot_download

    patterns = ["*.json", "*.txt", "*.model", "*.safetensors"] if need_weights else [
        "*.json", "*.txt", "*.model"]
    try:
        return Path(snapshot_download(ref, allow_patterns=patterns, local_files_only=True))
    except Exception:  # noqa: BLE001 - not in the cache; try the Hub below
        pass
    if not hub_reachable():
        raise BackboneError(
            f"{name}: model not in the local Hugging Face cache and the Hub is not reachable; "
            "pass a local model folder with --weights PATH (or weights=PATH)"
        )
    try:
        return Path(snapshot_download(ref, allow_patterns=patterns))
    except Exception as exc:  # noqa: BLE001
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise BackboneError(f"{name}: cannot download {ref!r} from the Hub: {first}") from None


def _hf_config(name: str, ref: str, folder: Path) -> BackboneConfig:
    from transformers import AutoConfig

    try:
        c = AutoConfig.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise BackboneError(f"{name}: cannot read the model config in {folder}: {first}") from None
    dim = getattr(c, "hidden_size", None) or getattr(c, "dim", None) or getattr(c, "d_model", 0)
    layers = getattr(c, "num_hidden_layers", None) or getattr(c, "n_layers", None) or 0
    max_pos = getattr(c, "max_position_embeddings", 512) or 512
    return BackboneConfig(
        name=name,
        architecture=f"transformers:{(c.architectures or [c.model_type])[0]}",
        modality="text",
        source=f"Hugging Face {ref}",
        license="see the model card",
        feature_dim=int(dim),
        num_blocks=int(layers) + 1,
        pretrained_dataset="see the model card",
        num_classes=0,
        max_length=int(min(512, max_pos)),
        description=f"Hugging Face encoder {ref} with mean pooling",
        tags=("transformer", "text", "hf"),
    )


def _create_hf(name: str, ref: str, pretrained: bool, weights: str | None, **kw):
    from .hf_text import HFTextBackbone, load_hf_text

    folder = _hf_folder(name, ref, weights, need_weights=pretrained)
    cfg = _hf_config(name, ref, folder)
    model, tok = load_hf_text(folder, name, pretrained=pretrained)
    backbone = HFTextBackbone(cfg, model, tok, normalize=bool(kw.pop("normalize", False)))
    if len(backbone.block_groups()) != cfg.num_blocks:
        from dataclasses import replace

        backbone.cfg = replace(cfg, num_blocks=len(backbone.block_groups()))
    if kw.get("num_classes"):
        backbone.reset_classifier(int(kw["num_classes"]))
    return backbone


def create_external(name: str, pretrained: bool = True, weights: str | None = None, **kwargs):
    """Create ``timm/<model>`` or ``hf/<model-id-or-folder>`` (see the module docstring)."""
    kind, rest = _split(name)
    if kind == "timm":
        return _create_timm(name, rest, pretrained, weights, **kwargs)
    return _create_hf(name, rest, pretrained, weights, **kwargs)
