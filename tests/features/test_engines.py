"""Engines: BatchNorm folding (checked), NumPy batches in either layout, threads per core."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from transferkit import _runtime
from transferkit.data.dataset import Dataset
from transferkit.features import extract as extract_mod
from transferkit.features import extract_features
from transferkit.features.engines import TorchRunner, fold_batchnorm, folded_copy


class _Tiny(nn.Module):
    """conv -> bn(+act) twice, then global pooling, with the zoo's ``cfg`` and ``embed``."""

    def __init__(self, swap: bool = False):
        super().__init__()
        self.cfg = SimpleNamespace(input_size=(3, 16, 16))
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2)
        self.bn2 = nn.BatchNorm2d(8)
        self.swap = swap  # bn2 applied before conv2: registration order no longer the data flow
        g = torch.Generator().manual_seed(0)
        for bn in (self.bn1, self.bn2):
            bn.running_mean.copy_(torch.randn(8, generator=g))
            bn.running_var.copy_(torch.rand(8, generator=g) + 0.5)
            bn.weight.data.copy_(torch.randn(8, generator=g))
            bn.bias.data.copy_(torch.randn(8, generator=g))

    def embed(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.conv2(self.bn2(x)) if self.swap else self.bn2(self.conv2(x))
        return x.mean((2, 3))


def test_fold_batchnorm_keeps_outputs():
    m = _Tiny().eval()
    x = torch.randn(4, 3, 16, 16)
    ref = m.embed(x)
    folded, n = folded_copy(m)
    assert n == 2 and isinstance(folded.bn1, nn.Identity)
    torch.testing.assert_close(folded.embed(x), ref, rtol=1e-4, atol=1e-5)
    assert isinstance(m.bn1, nn.BatchNorm2d), "the original model is left alone"


def test_depthwise_convolutions_are_folded_only_on_request():
    m = _Tiny().eval()
    m.conv2 = nn.Conv2d(8, 8, 3, stride=2, groups=8).eval()
    assert fold_batchnorm(m) == 1 and isinstance(m.bn2, nn.BatchNorm2d)
    assert fold_batchnorm(m, depthwise=True) == 1 and isinstance(m.bn2, nn.Identity)


def test_fold_that_changes_outputs_is_refused():
    m = _Tiny(swap=True).eval()
    assert fold_batchnorm(_Tiny(swap=True).eval()) == 2  # pairs found by order...
    folded, n = folded_copy(m)  # ...but the check sees the result differ
    assert n == 0 and folded is m


def test_runner_takes_numpy_batches_in_its_layout():
    m = _Tiny().eval()
    x = torch.randn(2, 3, 16, 16)
    ref = TorchRunner(m, torch.device("cpu"), "fp32", channels_last=False)(x)
    nchw = TorchRunner(m, torch.device("cpu"), "fp32", channels_last=False, optimise=True)
    nhwc = TorchRunner(m, torch.device("cpu"), "fp32", channels_last=True, optimise=True)
    assert (nchw.layout, nhwc.layout, nhwc.folded) == ("nchw", "nhwc", 2)
    np.testing.assert_allclose(nchw(x.numpy()), ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(nhwc(x.permute(0, 2, 3, 1).contiguous().numpy()), ref, rtol=1e-4, atol=1e-5)
    bf16 = TorchRunner(m, torch.device("cpu"), "bf16", channels_last=True, optimise=True)
    out = bf16(x.permute(0, 2, 3, 1).contiguous().numpy())
    cos = (out * ref).sum(1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(out, axis=1))
    assert cos.min() > 0.99


def test_workers_choice():
    cpu, gpu = torch.device("cpu"), SimpleNamespace(type="cuda")
    assert extract_mod._workers(False, cpu, None) == (0, False)
    assert extract_mod._workers(True, cpu, None) == (_runtime.cpu_count(), True)
    assert extract_mod._workers(True, cpu, 0) == (0, False)
    assert extract_mod._workers(True, gpu, 3) == (3, False)


def test_torch_threads_restores():
    before = torch.get_num_threads()
    with _runtime.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), _runtime.torch_threads(1):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before


def test_texts_in_parallel_batches_match_sequential(tmp_path):
    texts = ["short one", "a somewhat longer review of a blender that broke", "ok",
             "Wonderful book, I read it twice and would read it again!", "meh"] * 2 + ["unique"]
    ds = Dataset("text", texts, np.zeros(len(texts), np.int64), ["x"])
    par = extract_features(ds, "minilm_l6", cache_dir=tmp_path / "a", batch_size=2, decode_workers=2,
                           precision="fp32", progress=False)
    seq = extract_features(ds, "minilm_l6", cache_dir=tmp_path / "b", batch_size=2, decode_workers=0,
                           precision="fp32", progress=False)
    assert par.stats["computed"] == 6
    np.testing.assert_allclose(par.X, seq.X, rtol=0, atol=1e-5)


def test_token_lengths_sort_longest_first():
    from transferkit.zoo import create_backbone

    bb = create_backbone("minilm_l6")
    lens = extract_mod._token_lengths(bb, ["one two three", "one", "x" * 5000])
    assert lens[1] < lens[0] and lens[2] <= bb.cfg.max_length
