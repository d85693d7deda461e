"""LeNet for small greyscale digits, the network of the digit domain-adaptation benchmarks.

The layout follows the LeNet variant used for MNIST/USPS adaptation (DANN, CDAN, SHOT):
two 5x5 convolutions (20 and 50 filters) with 2x2 max-pooling, a 500-unit dense layer with
BatchNorm, a 256-unit bottleneck with BatchNorm (the feature the adaptation losses act on),
then the classifier. BatchNorm layers make AdaBN/TENT meaningful. Input 28x28; greyscale
images are replicated to 3 channels by the image pipeline and averaged back here, so
image folders, ``(N, 1, 28, 28)`` and ``(N, 3, 28, 28)`` tensors all work.

There are no pretrained weights: ``pretrained=True`` without ``weights=`` is an error
pointing at ``--strategy scratch``. Freezable blocks (``num_blocks = 4``): conv1, conv2,
fc (500), bottleneck (256).
"""

from __future__ import annotations

from torch import nn

from ._registry import register_backbone
from ._weights import load_state_dict_file, load_strict
from .base import Backbone
from .config import BackboneConfig

CONFIG = BackboneConfig(
    name="lenet",
    architecture="transferkit:lenet",
    modality="image",
    source="none (random initialisation; train with --strategy scratch)",
    license="n/a",
    feature_dim=256,
    num_blocks=4,
    pretrained_dataset="none",
    num_classes=10,
    input_size=(3, 28, 28),
    resize_size=28,
    interpolation="bilinear",
    mean=(0.5, 0.5, 0.5),
    std=(0.5, 0.5, 0.5),
    description="LeNet for 28x28 digits (20-50 conv, 500, 256 bottleneck), BatchNorm",
    tags=("cnn", "digits", "batchnorm", "no-pretrained"),
)


class LeNet(Backbone):
    """LeNet behind the transferkit feature API (``forward_features`` gives the 256-d code)."""

    def __init__(self, cfg: BackboneConfig = CONFIG, num_classes: int = 10):
        super().__init__(cfg)
        self.conv1 = nn.Sequential(nn.Conv2d(1, 20, 5), nn.MaxPool2d(2), nn.ReLU())
        self.conv2 = nn.Sequential(nn.Conv2d(20, 50, 5), nn.Dropout2d(0.5), nn.MaxPool2d(2),
                                   nn.ReLU())
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(50 * 4 * 4, 500), nn.BatchNorm1d(500),
                                nn.ReLU(), nn.Dropout(0.5))
        self.bottleneck = nn.Sequential(nn.Linear(500, cfg.feature_dim),
                                        nn.BatchNorm1d(cfg.feature_dim))
        self.classifier = nn.Identity()
        self.reset_classifier(num_classes)

    def forward_features(self, x):
        if x.shape[1] != 1:
            x = x.mean(dim=1, keepdim=True)
        if x.shape[-1] != 28 or x.shape[-2] != 28:
            x = nn.functional.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False)
        return self.bottleneck(self.fc(self.conv2(self.conv1(x))))

    def forward_head(self, x, pre_logits: bool = False):
        return x if pre_logits else self.classifier(x)

    def get_classifier(self) -> nn.Module:
        return self.classifier

    def reset_classifier(self, num_classes: int) -> None:
        self.classifier = (nn.Linear(self.cfg.feature_dim, num_classes) if num_classes > 0
                           else nn.Identity())

    def block_names(self) -> list[str]:
        return ["conv1", "conv2", "fc", "bottleneck"]

    def block_groups(self) -> list[nn.Module]:
        return [self.conv1, self.conv2, self.fc, self.bottleneck]


@register_backbone(CONFIG)
def lenet(pretrained: bool = True, weights: str | None = None, **kwargs):
    """LeNet with random weights, or a local state-dict file (``weights=``)."""
    num_classes = kwargs.pop("num_classes", CONFIG.num_classes)
    model = LeNet(CONFIG, num_classes=num_classes or 0)
    if weights is not None:
        load_strict(model, load_state_dict_file(weights, name=CONFIG.name), CONFIG.name,
                    str(weights))
    elif pretrained:
        from ..errors import BackboneError

        raise BackboneError("lenet: no pretrained weights exist; train it with "
                            "--strategy scratch, or pass a local weights file")
    return model
