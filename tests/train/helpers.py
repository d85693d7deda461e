"""Test helpers: a tiny registered backbone (3 conv+BN blocks) and coloured-square images."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from transferkit.data.dataset import Dataset
from transferkit.zoo import Backbone, BackboneConfig, register_backbone

TINY = "tiny_test_cnn"

TINY_CFG = BackboneConfig(
    name=TINY,
    architecture="test:tiny-cnn",
    modality="image",
    source="tests/train/conftest.py",
    license="Apache-2.0",
    feature_dim=32,
    num_blocks=3,
    input_size=(3, 32, 32),
    resize_size=36,
    interpolation="bilinear",
)


def _block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class TinyBackbone(Backbone):
    """3 conv blocks with BatchNorm, global pooling, linear classifier."""

    def __init__(self, cfg=TINY_CFG, num_classes=10):
        super().__init__(cfg)
        self.blocks = nn.Sequential(_block(3, 8), _block(8, 16), _block(16, 32))
        self.classifier = nn.Linear(32, num_classes)

    def forward_features(self, x):
        return self.blocks(x)

    def forward_head(self, x, pre_logits=False):
        x = x.mean((2, 3))
        return x if pre_logits else self.classifier(x)

    def get_classifier(self):
        return self.classifier

    def reset_classifier(self, num_classes):
        self.classifier = nn.Linear(32, num_classes) if num_classes else nn.Identity()

    def block_groups(self):
        return list(self.blocks)


@register_backbone(TINY_CFG)
def tiny_test_cnn(pretrained=True, weights=None, **kw):
    if pretrained:  # "pretrained" = a fixed initialisation, the same every time
        with torch.random.fork_rng():
            torch.manual_seed(1234)
            return TinyBackbone(**kw)
    return TinyBackbone(**kw)


COLORS = [(220, 40, 40), (40, 60, 220), (40, 200, 60)]


def make_squares(folder, n_per_class=12, size=40, seed=0, classes=3):
    """Coloured squares at random places on a noisy grey background, one folder per class."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    paths, y = [], []
    for c in range(classes):
        d = folder / f"class{c}"
        d.mkdir(parents=True, exist_ok=True)
        for i in range(n_per_class):
            img = rng.integers(90, 160, (size, size, 3)).astype(np.uint8)
            s = int(rng.integers(12, 22))
            x0, y0 = rng.integers(0, size - s, 2)
            img[y0:y0 + s, x0:x0 + s] = np.clip(
                np.array(COLORS[c]) + rng.integers(-20, 20, 3), 0, 255)
            p = d / f"{i:03d}.png"
            Image.fromarray(img).save(p)
            paths.append(str(p))
            y.append(c)
    return Dataset(modality="image", inputs=paths, y=np.array(y), source=str(folder),
                   classes=[f"class{c}" for c in range(classes)])
