"""Registry: names, configs, and the one-line error for unknown names."""

from __future__ import annotations

import pytest

from transferkit.errors import BackboneError
from transferkit.zoo import BackboneConfig, create_backbone, get_config, list_backbones

BUILTIN = ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2", "lenet", "minilm_l6",
           "mobilenet_v2"]


def test_list_backbones():
    # other test modules may register test-only backbones (e.g. tests/train's tiny net)
    assert [n for n in list_backbones() if not n.startswith("test_") and not n.startswith("tiny")] == BUILTIN
    assert set(BUILTIN) <= set(list_backbones())
    assert list_backbones("text") == ["minilm_l6"]
    assert "minilm_l6" not in list_backbones("image")


@pytest.mark.parametrize("name", BUILTIN)
def test_config_round_trips_through_dict(name):
    c = get_config(name)
    assert BackboneConfig.from_dict(c.to_dict()) == c
    assert c.source and c.license and c.feature_dim > 0 and c.num_blocks > 0


@pytest.mark.parametrize("call", [get_config, create_backbone])
def test_unknown_name_lists_the_available_ones(call):
    with pytest.raises(BackboneError) as err:
        call("resnet9000")
    msg = str(err.value)
    assert "\n" not in msg and "resnet9000" in msg
    for name in BUILTIN:
        assert name in msg
    assert "timm/<model-name>" in msg


def test_bad_local_weights_file(tmp_path):
    bad = tmp_path / "w.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(BackboneError, match="cannot read weights file"):
        create_backbone("mobilenet_v2", weights=str(bad))
    with pytest.raises(BackboneError, match="not found"):
        create_backbone("mobilenet_v2", weights=str(tmp_path / "missing.pth"))


def test_weights_for_another_architecture_are_refused(tmp_path):
    import timm
    from safetensors.torch import save_file

    path = tmp_path / "r18.safetensors"
    save_file(timm.create_model("resnet18", pretrained=False).state_dict(), str(path))
    with pytest.raises(BackboneError, match="do not fit the architecture") as err:
        create_backbone("efficientnet_lite0", weights=str(path))
    assert "\n" not in str(err.value)
