"""The feature API every backbone shares: block groups, freezing, heads, parameter groups."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from transferkit.errors import BackboneError
from transferkit.zoo import create_backbone, get_config

from .conftest import VISION


def _bns(module):
    return [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def _make(name, fresh):
    if name.startswith("timm/"):
        return create_backbone(name, pretrained=False)
    return fresh(name)


ALL = [*VISION, "minilm_l6", "timm/resnet18"]


@pytest.mark.parametrize("name", ALL)
def test_block_groups_partition_the_body(name, fresh):
    b = _make(name, fresh)
    groups = b.block_groups()
    assert len(groups) == b.cfg.num_blocks == get_config(name).num_blocks
    assert len(b.block_names()) == len(groups)
    ids = [id(p) for g in groups for p in g.parameters()]
    assert len(ids) == len(set(ids)), "a parameter is in two block groups"
    head = {id(p) for p in b.get_classifier().parameters()}
    assert not head & set(ids), "the classifier must not be in a block group"
    assert set(ids) | head == {id(p) for p in b.parameters()}, "parameters outside every group"


@pytest.mark.parametrize("name", ALL)
def test_freeze_blocks_freezes_exactly_the_first_k(name, fresh):
    b = _make(name, fresh)
    groups = b.block_groups()
    n = len(groups)
    for k in sorted({0, 1, n // 2, n - 1, n}):
        b.freeze_blocks(k).train()
        for i, g in enumerate(groups):
            want = i >= k
            assert all(p.requires_grad == want for p in g.parameters()), (k, i)
            assert all(bn.training == want for bn in _bns(g)), (k, i)
        assert all(p.requires_grad for p in b.get_classifier().parameters())
    b.freeze_blocks(n).train()
    b.train()  # a second call keeps frozen BatchNorm in eval mode
    assert not any(bn.training for bn in _bns(b) if bn not in set(_bns(b.get_classifier())))
    with pytest.raises(BackboneError, match="out of range"):
        b.freeze_blocks(n + 1)
    with pytest.raises(BackboneError):
        b.freeze_blocks(-1)


@pytest.mark.parametrize("name", ALL)
def test_param_groups_head_and_body_rates(name, fresh):
    b = _make(name, fresh)
    b.reset_classifier(3)
    groups = {g["name"]: g for g in b.param_groups(1e-2, body_lr_mult=0.1)}
    assert groups["head"]["lr"] == pytest.approx(1e-2)
    assert groups["body"]["lr"] == pytest.approx(1e-3)
    assert {id(p) for p in groups["head"]["params"]} == {
        id(p) for p in b.get_classifier().parameters()
    }
    b.freeze_body()
    assert [g["name"] for g in b.param_groups(1e-2)] == ["head"]


def _example_input(b):
    if b.cfg.modality == "text":
        return b.tokenize(["a short sentence", "another one, a little longer"])
    return torch.randn(2, 3, 64, 64)  # any size works for these CNNs; small is quick


@pytest.mark.parametrize("name", ALL)
def test_reset_classifier_changes_output_size(name, fresh):
    b = _make(name, fresh).eval()
    x = _example_input(b)
    b.reset_classifier(5)
    with torch.no_grad():
        feats = b.forward_features(x)
        assert b.forward_head(feats).shape == (2, 5)
        assert b(x).shape == (2, 5)
        assert b.forward_head(feats, pre_logits=True).shape == (2, b.cfg.feature_dim)
        assert b.embed(x).shape == (2, b.cfg.feature_dim)
    b.reset_classifier(0)
    with torch.no_grad():
        assert b(x).shape == (2, b.cfg.feature_dim)


@pytest.mark.parametrize("name", ALL)
def test_training_step_only_updates_unfrozen(name, fresh):
    b = _make(name, fresh)
    b.reset_classifier(2)
    b.freeze_blocks(b.num_blocks - 1).train()
    first = b.block_groups()[0]
    before = [p.detach().clone() for p in first.parameters()]
    last = b.block_groups()[-1]
    last_before = [p.detach().clone() for p in last.parameters()]
    opt = torch.optim.SGD(b.param_groups(0.1, body_lr_mult=1.0), lr=0.1)
    loss = nn.functional.cross_entropy(b(_example_input(b)), torch.tensor([0, 1]))
    loss.backward()
    opt.step()
    assert all(torch.equal(a, p) for a, p in zip(before, first.parameters(), strict=True))
    assert any(not torch.equal(a, p) for a, p in zip(last_before, last.parameters(), strict=True))


@pytest.mark.parametrize("name", [*VISION, "timm/resnet18", "lenet", "minilm_l6"])
def test_blocks_compose_into_the_feature_path(name, fresh):
    b = _make(name, fresh) if name != "lenet" else create_backbone("lenet", pretrained=False)
    composes = b.blocks_compose()
    # lenet's forward_features first greys and resizes its input; text runs no image blocks
    assert composes == (name not in ("lenet", "minilm_l6"))
    if not composes:
        return
    b.eval()
    x = torch.randn(2, 3, 96, 96, generator=torch.Generator().manual_seed(1))
    k = b.num_blocks // 2
    with torch.no_grad():
        whole = b.forward_features(x)
        split = b.forward_blocks(b.forward_blocks(x, 0, k), k)
    torch.testing.assert_close(split, whole, rtol=1e-4, atol=1e-4)
