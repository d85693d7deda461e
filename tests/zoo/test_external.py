"""timm/<name> and hf/<folder>: offline behaviour, local weight files, timm configs."""

from __future__ import annotations

import time

import pytest
import torch

from transferkit.errors import BackboneError
from transferkit.zoo import create_backbone, get_config


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network and an empty Hugging Face cache, whatever the machine has."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda *a, **k: None)


def test_timm_config_from_pretrained_cfg():
    c = get_config("timm/resnet18")
    assert c.modality == "image" and c.feature_dim == 512 and c.num_blocks == 5
    assert c.input_size == (3, 224, 224) and c.resize_size == round(224 / 0.95)
    assert c.license == "apache-2.0" and c.interpolation == "bicubic"
    vit = get_config("timm/vit_tiny_patch16_224.augreg_in21k_ft_in1k")
    assert vit.feature_dim == 192 and vit.num_blocks == 14  # embed, 12 blocks, final norm
    assert vit.mean == (0.5, 0.5, 0.5)


def test_timm_architecture_only_works_offline(offline):
    b = create_backbone("timm/resnet18", pretrained=False).eval()
    with torch.no_grad():
        assert b(torch.randn(1, 3, 32, 32)).shape == (1, 1000)
        assert b.embed(torch.randn(1, 3, 32, 32)).shape == (1, 512)


def test_timm_pretrained_offline_gives_one_line_error_quickly(offline):
    t0 = time.perf_counter()
    with pytest.raises(BackboneError) as err:
        create_backbone("timm/resnet18", pretrained=True)
    assert time.perf_counter() - t0 < 10
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("timm/resnet18: no pretrained weights available offline")
    assert "--weights PATH" in msg and "weights=PATH" in msg


def test_unknown_timm_model():
    with pytest.raises(BackboneError, match="timm has no model 'not_a_net'"):
        get_config("timm/not_a_net")


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_local_weights_file_round_trip(tmp_path, offline, suffix):
    import timm
    from safetensors.torch import save_file

    # timm's tiny test model keeps this quick; the code path is the same for any timm model
    ref = timm.create_model("test_efficientnet", pretrained=False, num_classes=7).eval()
    path = tmp_path / f"w{suffix}"
    if suffix == ".safetensors":
        save_file(ref.state_dict(), str(path))
    else:
        torch.save(ref.state_dict(), str(path))
    b = create_backbone("timm/test_efficientnet", weights=str(path)).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(b(x), ref(x))  # the file's 7-class head is kept
    b2 = create_backbone("timm/test_efficientnet", weights=str(path), num_classes=3)
    assert b2(x).shape == (2, 3)
    assert torch.equal(b2.model.conv_stem.weight, ref.conv_stem.weight)


def test_hf_local_folder(offline):
    from transferkit.zoo.minilm import model_folder

    b = create_backbone(f"hf/{model_folder()}").eval()
    assert b.cfg.modality == "text" and b.cfg.feature_dim == 384 and b.cfg.num_blocks == 7
    with torch.no_grad():
        e = b.embed(b.tokenize(["hello world", "a second text"]))
    assert e.shape == (2, 384)


def test_hf_hub_id_offline_gives_one_line_error(offline):
    with pytest.raises(BackboneError) as err:
        create_backbone("hf/some-org/some-model")
    assert "\n" not in str(err.value) and "--weights PATH" in str(err.value)
