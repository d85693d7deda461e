"""AdaBN and TENT on a tiny LeNet: what changes, what does not, determinism, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from transferkit.adapt.tta import adapt_predictor
from transferkit.errors import TransferkitError


def _entropy(p):
    return float(-(p * np.log(p + 1e-12)).sum(1).mean())


def _bn_input(model, x):
    """Inputs of the first BatchNorm (fc, 500 channels) over x, in inference mode."""
    got = []
    h = model.backbone.fc[2].register_forward_hook(lambda m, i, o: got.append(i[0].detach()))
    with torch.no_grad():
        model.eval()(torch.from_numpy((x - 0.5) / 0.5))
    h.remove()
    return got[0]


def test_adabn_sets_running_stats_to_the_target(predictor, target):
    x, _ = target
    before = {k: v.clone() for k, v in predictor.model.state_dict().items()}
    ad = adapt_predictor(predictor, x, method="adabn", batch_size=64)
    bn = ad.model.backbone.fc[2]
    feats = _bn_input(ad.model, x)  # BN inputs do not depend on BN state (conv layers only)
    torch.testing.assert_close(bn.running_mean, feats.mean(0), atol=1e-4, rtol=1e-4)
    ratio = (bn.running_var / feats.var(0)).median()
    assert 0.9 < float(ratio) < 1.1
    src = predictor.model.backbone.fc[2]
    assert not torch.allclose(src.running_mean, bn.running_mean, atol=1e-3)
    # nothing else changed, and the given predictor is untouched
    for k, v in ad.model.state_dict().items():
        if "running_" not in k and "num_batches" not in k:
            torch.testing.assert_close(v, before[k])
    for k, v in predictor.model.state_dict().items():
        torch.testing.assert_close(v, before[k])
    assert ad.config["adaptation"]["method"] == "adabn"
    assert "adaptation" not in predictor.config


def test_tent_updates_only_batchnorm_affine_and_lowers_entropy(predictor, target):
    x, _ = target
    before = {k: v.clone() for k, v in predictor.model.state_dict().items()}
    ada = adapt_predictor(predictor, x, method="adabn")
    tent = adapt_predictor(predictor, x, method="tent", epochs=5, lr=1e-2, batch_size=32)
    changed = {k for k, v in tent.model.state_dict().items()
               if not torch.equal(v, before[k])}
    bn_names = {n for n, m in tent.model.named_modules()
                if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)}
    affine = {f"{n}.{p}" for n in bn_names for p in ("weight", "bias")}
    assert changed & affine == affine  # every BN scale and shift moved
    assert all(k.rsplit(".", 1)[0] in bn_names for k in changed)  # and nothing else
    # same statistics as AdaBN, only the affine parameters differ: entropy is lower
    assert _entropy(tent.predict_proba(x)) < _entropy(ada.predict_proba(x)) - 0.01
    hist = tent.config["adaptation"]["mean_entropy"]
    assert len(hist) == 5 and hist[-1] < hist[0]
    for k, v in predictor.model.state_dict().items():
        torch.testing.assert_close(v, before[k])


def test_tent_is_deterministic_from_a_seed(predictor, target):
    x, _ = target
    a = adapt_predictor(predictor, x, method="tent", seed=3).predict_proba(x)
    b = adapt_predictor(predictor, x, method="tent", seed=3).predict_proba(x)
    np.testing.assert_array_equal(a, b)


def test_tent_batch_stats_and_episodic(predictor, target):
    x, _ = target
    p = adapt_predictor(predictor, x, method="tent", stats="batch")
    assert p.model.backbone.fc[2].running_mean is None
    assert p.predict_proba(x).shape == (len(x), 3)
    ep = adapt_predictor(predictor, x, method="tent", episodic=True, steps=2)
    proba = ep.predict_proba(x)
    assert proba.shape == (len(x), 3) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert ep.config["adaptation"]["episodic"] is True


def test_layernorm_model(predictor, target):
    x, _ = target
    bb = predictor.model.backbone
    bb.fc[2] = torch.nn.LayerNorm(500)
    bb.bottleneck[1] = torch.nn.LayerNorm(256)
    with pytest.raises(TransferkitError, match="adabn needs BatchNorm"):
        adapt_predictor(predictor, x, method="adabn")
    p = adapt_predictor(predictor, x, method="tent")
    assert p.config["adaptation"]["norm"] == "layernorm"
    assert "LayerNorm" in p.config["adaptation"]["note"]


def test_errors(predictor, target):
    x, _ = target
    with pytest.raises(TransferkitError, match="unknown test-time adaptation"):
        adapt_predictor(predictor, x, method="bogus")
    with pytest.raises(TransferkitError, match="at least 2"):
        adapt_predictor(predictor, x[:1], method="adabn")
    with pytest.raises(TransferkitError, match="optimizer"):
        adapt_predictor(predictor, x, method="tent", optimizer="rmsprop")
