"""Shared by the source-free and test-time tests: tiny 28x28 'bar' digits and a LeNet predictor."""

from __future__ import annotations

import numpy as np


def make_images(n, seed, shift=False):
    """Three classes of 28x28 grey images (a bar in one of three places), values in [0, 1];
    the target domain is dimmer, offset and noisier."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = rng.uniform(0, 0.2, (n, 1, 28, 28)).astype(np.float32)
    for i, c in enumerate(y):
        x[i, 0, 4 + 8 * c: 10 + 8 * c, 4:24] += 0.8
    if shift:
        x = np.clip(0.5 * x + 0.3 + rng.normal(0, 0.05, x.shape), 0, 1).astype(np.float32)
    return x, y


PREP = {"modality": "array", "shape": [1, 28, 28], "lo": 0.0, "hi": 1.0, "image_size": 28}


def lenet_predictor(seed=0, n_classes=3, n_source=128, batch=64, with_head=True):
    """``(predictor, backbone, head spec)``: LeNet + linear head with random weights whose
    BatchNorm statistics are those of ``n_source`` source images."""
    import torch

    from transferkit.adapt.tta import _common as C
    from transferkit.adapt.tta import reestimate_batchnorm_
    from transferkit.train.model import new_classifier
    from transferkit.train.modelfile import Predictor
    from transferkit.zoo import create_backbone

    torch.manual_seed(seed)
    bb = create_backbone("lenet", pretrained=False)
    spec = {"type": "linear", "in_features": 256, "num_classes": n_classes, "dropout": 0.0}
    model = new_classifier(bb, spec).eval()
    config = {"backbone": "lenet", **({"head": spec} if with_head else {})}
    pred = Predictor(model, [f"c{i}" for i in range(n_classes)], dict(PREP), config=config)
    xs, _ = make_images(n_source, seed=1)
    reestimate_batchnorm_(model, C.loader(pred, C.torch_target(pred, xs), batch))
    return pred, bb, spec
