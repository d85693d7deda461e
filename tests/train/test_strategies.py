"""Each strategy trains the tiny backbone above chance on coloured squares (3 classes)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from transferkit.data.dataset import Dataset
from transferkit.errors import TransferkitError
from transferkit.train import fit, list_strategies

from .helpers import TINY

CASES = [
    ("extract", {"head": "linear", "Cs": (0.01, 0.1, 1.0)}),
    ("extract", {"head": "mlp", "epochs": 15, "features": "direct"}),
    ("partial", {"k": 1, "epochs": 3}),
    ("full", {"epochs": 3}),
    ("scratch", {"epochs": 5}),
]


@pytest.mark.parametrize("strategy,opts", CASES, ids=[f"{s}-{o.get('head', '')}" for s, o in CASES])
def test_strategy_beats_chance(squares, tmp_path, strategy, opts):
    tr, va = squares
    res = fit(tr, va, backbone=TINY, strategy=strategy, progress=False, device="cpu",
              cache_dir=tmp_path / "cache", **opts)
    assert res.metrics["accuracy"] >= 0.6, res.metrics  # chance is 1/3
    assert 0 < res.trained_params <= res.total_params
    probs = res.predictor().predict_proba(va.inputs[:4])
    assert probs.shape == (4, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_registry_and_option_errors(squares):
    assert list_strategies() == ["extract", "full", "partial", "scratch"]
    tr, va = squares
    with pytest.raises(TransferkitError, match="unknown strategy 'nope'"):
        fit(tr, va, backbone=TINY, strategy="nope")
    with pytest.raises(TransferkitError, match="unknown option.*lrr"):
        fit(tr, va, backbone=TINY, strategy="partial", lrr=1)
    with pytest.raises(TransferkitError, match="k=7 is out of range"):
        fit(tr, va, backbone=TINY, strategy="partial", k=7, lp_init=False, progress=False)


def test_array_data_is_resized_to_images():
    rng = np.random.default_rng(0)
    y = np.arange(60) % 2
    x = rng.normal(0, 0.3, (60, 8, 8)).astype(np.float32)
    x[y == 1, :4] += 2.0  # class 1: bright top half
    ds = Dataset(modality="array", inputs=x, y=y, classes=["a", "b"])
    res = fit(ds.subset(np.arange(40)), ds.subset(np.arange(40, 60)), backbone=TINY,
              strategy="full", epochs=3, progress=False, device="cpu")
    assert res.preprocessing["image_size"] == 32 and res.preprocessing["shape"] == [8, 8]
    assert res.metrics["accuracy"] >= 0.8
    assert list(res.predictor().predict(x[:2].reshape(2, 64))) == ["a", "b"]


@pytest.mark.parametrize("precise_bn", [True, False])
def test_finetune_recomputes_training_batchnorm_statistics_unless_told_not_to(squares,
                                                                               precise_bn):
    tr, va = squares
    res = fit(tr, None, backbone=TINY, strategy="partial", k=1, epochs=1, progress=False,
              device="cpu", lp_init=False, precise_bn=precise_bn)
    n_batches = len(tr) // 16  # the training loader drops the last, incomplete batch
    assert res.info.get("batchnorm_recalibrated_batches") == (n_batches if precise_bn else None)


def test_bn_init_gives_the_training_batchnorm_layers_the_data_statistics(squares):
    """With ``bn_init`` the layers that will train start from the training data's statistics
    (the frozen block keeps its own), before the linear probe is fitted."""
    from transferkit.train.batchnorm import batchnorm_layers
    from transferkit.zoo import create_backbone

    tr, _ = squares
    pre = [b.running_mean.clone() for b in batchnorm_layers(create_backbone(TINY))]
    out = {}
    for bn_init in (False, True):
        res = fit(tr, None, backbone=TINY, strategy="partial", k=1, epochs=1, progress=False,
                  device="cpu", bn_init=bn_init, precise_bn=False, lr=1e-12)
        out[bn_init] = [b.running_mean for b in batchnorm_layers(res.model)]
        assert (res.info.get("batchnorm_init_batches", 0) > 0) == bn_init
    assert torch.equal(out[True][0], pre[0])  # the frozen first block
    # lr ~ 0: the weights stay pretrained; the later layers' statistics moved towards the data
    moved = [float((a - b).abs().max()) for a, b in zip(out[True][1:], out[False][1:], strict=True)]
    assert min(moved) > 1e-4
