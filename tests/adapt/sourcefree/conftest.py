"""A tiny LeNet model folder (source: three bar positions) and a shifted, unlabelled target."""

from __future__ import annotations

import numpy as np
import pytest


def make_images(n, seed, shift=False):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = rng.uniform(0, 0.2, (n, 1, 28, 28)).astype(np.float32)
    for i, c in enumerate(y):
        x[i, 0, 4 + 8 * c: 10 + 8 * c, 4:24] += 0.8
    if shift:
        x = np.clip(0.5 * x + 0.3 + rng.normal(0, 0.05, x.shape), 0, 1).astype(np.float32)
    return x, y


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A model folder written with save_model: LeNet + linear head, 'scratch' strategy."""
    import torch

    from transferkit.adapt.tta import _common as C
    from transferkit.adapt.tta import reestimate_batchnorm_
    from transferkit.train.model import new_classifier
    from transferkit.train.modelfile import Predictor, save_model
    from transferkit.zoo import create_backbone

    torch.manual_seed(0)
    bb = create_backbone("lenet", pretrained=False)
    spec = {"type": "linear", "in_features": 256, "num_classes": 3, "dropout": 0.0}
    model = new_classifier(bb, spec).eval()
    prep = {"modality": "array", "shape": [1, 28, 28], "lo": 0.0, "hi": 1.0, "image_size": 28}
    pred = Predictor(model, ["c0", "c1", "c2"], prep, config={"backbone": "lenet"})
    xs, _ = make_images(96, seed=1)
    reestimate_batchnorm_(model, C.loader(pred, C.torch_target(pred, xs), 48))
    out = tmp_path_factory.mktemp("src") / "model"
    save_model(out, model, backbone="lenet", backbone_config=bb.cfg.to_dict(), head_spec=spec,
               preprocessing=prep, classes=["c0", "c1", "c2"], strategy="scratch",
               options={}, metrics={"accuracy": 1.0}, extra={"seed": 0})
    return out


@pytest.fixture(scope="module")
def target():
    return make_images(96, seed=2, shift=True)
