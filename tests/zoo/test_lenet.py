"""LeNet: shapes, feature API, blocks, and the no-pretrained-weights error."""

from __future__ import annotations

import pytest
import torch

from transferkit.errors import BackboneError
from transferkit.zoo import create_backbone, get_config


def test_lenet_shapes_and_api():
    m = create_backbone("lenet", pretrained=False, num_classes=3).eval()
    for x in (torch.randn(2, 1, 28, 28), torch.randn(2, 3, 28, 28), torch.randn(2, 3, 16, 16)):
        assert m(x).shape == (2, 3)
        assert m.embed(x).shape == (2, get_config("lenet").feature_dim)
    assert m.block_names() == ["conv1", "conv2", "fc", "bottleneck"]
    m.freeze_blocks(4)
    trainable = [n for n, p in m.named_parameters() if p.requires_grad]
    assert trainable and all(n.startswith("classifier") for n in trainable)
    m.reset_classifier(5)
    assert m(torch.randn(2, 1, 28, 28)).shape == (2, 5)


def test_lenet_weights_roundtrip(tmp_path):
    from safetensors.torch import save_file

    m = create_backbone("lenet", pretrained=False)
    path = tmp_path / "lenet.safetensors"
    save_file({k: v.contiguous() for k, v in m.state_dict().items()}, str(path))
    m2 = create_backbone("lenet", weights=str(path)).eval()
    x = torch.randn(3, 1, 28, 28)
    torch.testing.assert_close(m.eval()(x), m2(x))


def test_lenet_has_no_pretrained_weights():
    with pytest.raises(BackboneError, match="no pretrained weights"):
        create_backbone("lenet")
