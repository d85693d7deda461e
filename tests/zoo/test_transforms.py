"""Preprocessing: eval/train image transforms and the uint8 tensor fast path."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from transferkit.errors import BackboneError
from transferkit.zoo import get_config
from transferkit.zoo.transforms import image_transform, tensor_transform


def test_eval_transform_shape_and_normalisation():
    cfg = get_config("efficientnet_lite1")
    white = Image.new("RGB", (500, 300), (255, 255, 255))
    x = image_transform(cfg)(white)
    assert x.dtype == torch.float32 and x.shape == (3, 240, 240)
    assert torch.allclose(x, torch.ones_like(x), atol=1e-5)  # (1 - 0.5) / 0.5
    mcfg = get_config("mobilenet_v2")
    black = image_transform(mcfg)(Image.new("L", (300, 300), 0))
    mean, std = torch.tensor(mcfg.mean), torch.tensor(mcfg.std)
    assert torch.allclose(black[:, 0, 0], -mean / std, atol=1e-5)


def test_eval_transform_is_resize_then_centre_crop():
    cfg = get_config("mobilenet_v2")  # resize 256, crop 224
    arr = np.zeros((512, 1024, 3), dtype=np.uint8)
    arr[:, :512] = 255  # left half white
    x = image_transform(cfg)(Image.fromarray(arr))
    # after resizing to 256x512 the 224-crop spans columns 144..368; the edge is at 256 -> 112
    row = x[0, 112]
    assert row[:100].mean() > 2 and row[124:].mean() < -2


def test_train_transform_is_random_and_right_size():
    cfg = get_config("efficientnet_lite0")
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8))
    tf = image_transform(cfg, train=True)
    torch.manual_seed(0)
    a, b = tf(img), tf(img)
    assert a.shape == b.shape == (3, 224, 224)
    assert not torch.equal(a, b)


def test_tensor_transform_matches_pil_path():
    from skimage import data

    cfg = get_config("efficientnet_lite0")
    arr = data.chelsea()
    ref = image_transform(cfg)(Image.fromarray(arr))
    fast = tensor_transform(cfg)(torch.from_numpy(arr).permute(2, 0, 1))
    batch = tensor_transform(cfg)(torch.from_numpy(arr).permute(2, 0, 1)[None].repeat(2, 1, 1, 1))
    assert fast.shape == ref.shape and batch.shape == (2, *ref.shape)
    assert (fast - ref).abs().mean() < 0.02


def test_text_backbone_has_no_image_transform():
    with pytest.raises(BackboneError, match="minilm_l6"):
        image_transform(get_config("minilm_l6"))
