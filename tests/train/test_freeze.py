"""Freeze semantics and discriminative learning rates."""

from __future__ import annotations

import pytest
import torch

from transferkit.train import fit
from transferkit.train.model import new_classifier, param_groups
from transferkit.train.strategies import get_strategy
from transferkit.train.strategies._finetune import make_optimizer_factory

from .helpers import TINY, TinyBackbone, tiny_test_cnn


def test_partial_keeps_frozen_blocks_and_their_bn_stats(squares):
    tr, va = squares
    res = fit(tr, va, backbone=TINY, strategy="partial", k=2, epochs=2, lr=0.05, lp_init=False,
              progress=False, device="cpu")
    ref = tiny_test_cnn(pretrained=True).state_dict()
    got = res.model.backbone.state_dict()
    for name, v in ref.items():
        if name.startswith(("blocks.0.", "blocks.1.")):  # frozen: weights AND BN running stats
            assert torch.equal(got[name], v), name
    changed = [n for n in ref if n.startswith("blocks.2.") and not torch.equal(got[n], ref[n])]
    assert "blocks.2.0.weight" in changed and "blocks.2.1.running_mean" in changed
    assert res.trained_params == sum(p.numel() for n, p in res.model.named_parameters()
                                     if n.startswith(("backbone.blocks.2.", "head.")))


def test_frozen_batchnorm_stays_in_eval_mode():
    model = new_classifier(TinyBackbone(), {"type": "linear", "in_features": 32, "num_classes": 2})
    model.backbone.freeze_blocks(1)
    model.train()
    assert not model.backbone.blocks[0][1].training
    assert model.backbone.blocks[1][1].training


def test_discriminative_learning_rates():
    model = new_classifier(TinyBackbone(), {"type": "linear", "in_features": 32, "num_classes": 2})
    model.backbone.freeze_blocks(1)
    groups = param_groups(model, lr=0.1, body_lr_mult=0.1, weight_decay=0.01)
    by_name = {g["name"]: g for g in groups}
    assert by_name["body"]["lr"] == pytest.approx(0.01)
    assert by_name["head"]["lr"] == pytest.approx(0.1)
    assert by_name["head_no_decay"]["weight_decay"] == 0.0
    in_groups = {id(p) for g in groups for p in g["params"]}
    assert not any(id(p) in in_groups for p in model.backbone.blocks[0].parameters())
    assert all(id(p) in in_groups for p in model.backbone.blocks[1].parameters())

    cfg = get_strategy("full").Config(lr=0.02)
    opt = make_optimizer_factory(cfg)(model)
    lrs = {g["name"]: g["lr"] for g in opt.param_groups}
    assert lrs["body"] == pytest.approx(0.002) and lrs["head"] == pytest.approx(0.02)
    assert opt.defaults["nesterov"] and opt.defaults["momentum"] == 0.9
