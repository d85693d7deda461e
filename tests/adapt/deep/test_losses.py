"""Worked examples for the deep DA losses (one fixed signature)."""

import math

import pytest
import torch

from transferkit.adapt._registry import UnknownMethodError
from transferkit.adapt.deep import get_loss, grad_reverse, grl_coeff, list_deep_methods, make_loss
from transferkit.adapt.deep.cdan import CDANLoss
from transferkit.adapt.deep.dan import mk_mmd
from transferkit.adapt.deep.mcc import class_confusion
from transferkit.errors import TransferkitError

METHODS = ["cdan", "cdan_e", "dan", "dann", "mcc", "source_only"]


def test_registry():
    assert list_deep_methods() == METHODS
    with pytest.raises(UnknownMethodError, match="unknown deep adaptation method 'nope'"):
        get_loss("nope")
    assert issubclass(UnknownMethodError, TransferkitError)


@pytest.mark.parametrize("name", METHODS)
def test_signature_scalar_and_backward(name):
    torch.manual_seed(0)
    loss = make_loss(name, 8, 4)
    loss.set_progress(0.5)
    f_s = torch.randn(6, 8, requires_grad=True)
    f_t = torch.randn(5, 8, requires_grad=True)
    l_s, l_t = torch.randn(6, 4, requires_grad=True), torch.randn(5, 4, requires_grad=True)
    out = loss(f_s, l_s, f_t, l_t)
    assert out.dim() == 0 and torch.isfinite(out)
    if name != "source_only":
        out.backward()
        assert f_s.grad is not None or l_t.grad is not None


def test_mmd_zero_for_identical_and_grows_with_shift():
    torch.manual_seed(0)
    x = torch.randn(64, 5)
    assert abs(float(mk_mmd(x, x.clone()))) < 1e-6
    y = torch.randn(64, 5)
    m = [float(mk_mmd(x, y + s, bandwidth=5.0)) for s in (0.0, 0.5, 1.0, 2.0)]
    assert m[0] < 0.05 and m == sorted(m) and m[-1] > 10 * max(m[0], 1e-4)


def test_dan_loss_equals_mmd_of_features():
    torch.manual_seed(0)
    x, y = torch.randn(16, 4), torch.randn(16, 4) + 1
    loss = make_loss("dan", 4, 3)
    assert torch.allclose(loss(x, None, y, None), mk_mmd(x, y))


def test_grl_flips_and_scales_gradient():
    x = torch.randn(5, 3, requires_grad=True)
    (grad_reverse(x, 0.3) * 2).sum().backward()
    assert torch.allclose(x.grad, torch.full_like(x, -0.6))
    assert torch.equal(grad_reverse(x, 0.3), x)


def test_grl_schedule():
    assert grl_coeff(0.0) == 0.0
    assert math.isclose(grl_coeff(0.5), 2 / (1 + math.exp(-5)) - 1)
    assert 0.9999 < grl_coeff(1.0) <= 1.0
    vals = [grl_coeff(p / 10) for p in range(11)]
    assert vals == sorted(vals)


def test_dann_reverses_feature_gradient_only():
    torch.manual_seed(0)
    loss = make_loss("dann", 4, 2, hidden=8, dropout=0.0)
    loss.set_progress(1.0)
    f_s, f_t = torch.randn(6, 4, requires_grad=True), torch.randn(6, 4, requires_grad=True)
    loss(f_s, None, f_t, None).backward()
    g_rev = f_s.grad.clone()
    disc_grad = [p.grad.clone() for p in loss.disc.parameters()]
    # the same discriminator loss without reversal
    from transferkit.adapt.deep._base import domain_bce

    f_s2, f_t2 = f_s.detach().clone().requires_grad_(), f_t.detach().clone().requires_grad_()
    d = loss.disc(torch.cat([f_s2, f_t2]))
    domain_bce(d[:6], d[6:]).backward()
    assert torch.allclose(g_rev, -loss.coeff * f_s2.grad, atol=1e-6)
    # the discriminator itself still descends its loss (not reversed)
    for g, p in zip(disc_grad, loss.disc.parameters(), strict=True):
        assert torch.allclose(p.grad, 2 * g, atol=1e-6)  # same sign both times: not reversed


def test_dann_loss_is_log2_for_an_undecided_discriminator():
    loss = make_loss("dann", 3, 2, hidden=4, dropout=0.0)
    for p in loss.disc.parameters():
        torch.nn.init.zeros_(p)
    out = loss(torch.randn(4, 3), None, torch.randn(4, 3), None)
    assert math.isclose(float(out.detach()), math.log(2), rel_tol=1e-6)


def test_cdan_multilinear_and_randomized():
    loss = CDANLoss(3, 2, hidden=4)
    assert not loss.randomized
    f, g = torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([[0.25, 0.75]])
    assert torch.allclose(loss.multilinear(f, g), torch.outer(g[0], f[0]).flatten()[None])
    big = make_loss("cdan", 64, 100, hidden=8, random_dim=32)
    assert big.randomized and big.rf.shape == (64, 32) and "rf" in big.state_dict()
    out = big(torch.randn(5, 64), torch.randn(5, 100), torch.randn(5, 64), torch.randn(5, 100))
    assert torch.isfinite(out)


def test_cdan_e_weights_confident_samples_more():
    torch.manual_seed(0)
    plain, ent = make_loss("cdan", 4, 3, hidden=8), make_loss("cdan_e", 4, 3, hidden=8)
    assert ent.entropy_weight and not plain.entropy_weight
    ent.load_state_dict(plain.state_dict())
    ent.eval(), plain.eval()
    f_s, f_t = torch.randn(4, 4), torch.randn(4, 4)
    l_s, l_t = torch.randn(4, 3), torch.randn(4, 3)
    # equal confidence everywhere -> the weights cancel: CDAN+E == CDAN
    same = torch.zeros(4, 3)
    assert torch.allclose(plain(f_s, same, f_t, same), ent(f_s, same, f_t, same), atol=1e-6)
    assert not torch.allclose(plain(f_s, l_s * 5, f_t, l_t * 5), ent(f_s, l_s * 5, f_t, l_t * 5))


def test_mcc_confident_one_hot_is_zero_and_confusion_is_positive():
    onehot = torch.eye(4)[torch.tensor([0, 1, 2, 3, 1, 0])] * 60
    assert float(class_confusion(onehot)) < 1e-4
    mixed = torch.zeros(6, 4)
    assert float(class_confusion(mixed)) == pytest.approx(3 / 4, rel=1e-5)
    soft = torch.randn(6, 4)
    assert 1e-3 < float(class_confusion(soft)) < 0.75


def test_source_only_is_zero():
    loss = make_loss("source_only", 3, 2)
    assert float(loss(torch.randn(2, 3), None, torch.randn(2, 3), None)) == 0.0
