"""A tiny LeNet model folder (source: three bar positions) and a shifted, unlabelled target."""

from __future__ import annotations

import pytest

from ..lenet_data import PREP, lenet_predictor, make_images


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A model folder written with save_model: LeNet + linear head, 'scratch' strategy."""
    from transferkit.train.modelfile import save_model

    pred, bb, spec = lenet_predictor(n_source=96, batch=48, with_head=False)
    out = tmp_path_factory.mktemp("src") / "model"
    save_model(out, pred.model, backbone="lenet", backbone_config=bb.cfg.to_dict(),
               head_spec=spec, preprocessing=dict(PREP), classes=["c0", "c1", "c2"],
               strategy="scratch", options={}, metrics={"accuracy": 1.0}, extra={"seed": 0})
    return out


@pytest.fixture(scope="module")
def target():
    return make_images(96, seed=2, shift=True)
