"""Untrusted files and disk faults, end to end through the CLI.

* model folders and feature caches never execute code: pickle payloads planted in them are
  refused or ignored, and the payload's side effect (creating a file) never happens;
* a config edited to name a missing backbone, or a path outside the model folder, is a one-line
  error (or has no effect), never a traceback;
* a full disk while writing (a mocked ``ENOSPC``) is a one-line error and leaves the previous
  model folder intact, with no temporary folder left beside it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import pickle
import shutil
from pathlib import Path

import pytest

from .conftest import assert_one_line_error, cli, make_folder, png_bytes


class _Payload:
    """Unpickling this creates ``marker``: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def payload(marker: Path) -> bytes:
    return pickle.dumps({"state_dict": _Payload(marker)})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model folder from ``fit --strategy extract`` on 8 tiny images, plus the data."""
    root = tmp_path_factory.mktemp("untrusted")
    data = make_folder(root / "photos", n_per_class=4)
    r = cli("fit", str(data), "--out", str(root / "model"), "--strategy", "extract", "--epochs", "2",
            "--no-progress", "--json", "--cache-dir", str(root / "cache"))
    assert r.code == 0, r
    return root / "model", data, root / "cache"


@pytest.fixture
def model(trained, tmp_path) -> Path:
    dst = tmp_path / "model"
    shutil.copytree(trained[0], dst)
    return dst


def digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def predict(model: Path, data: Path, *extra: str):
    return cli("predict", str(model), str(data / "red" / "red0.png"), "--json", *extra)


def test_model_predicts(model, trained):
    r = predict(model, trained[1])
    assert r.code == 0, r
    assert json.loads(r.out)[0]["prediction"] in ("red", "blue")


# ----------------------------------------------------------------------------- pickle payloads

def test_pickle_as_weights_file_is_refused(model, trained, tmp_path):
    marker = tmp_path / "pwned"
    (model / "model.safetensors").write_bytes(payload(marker))
    assert_one_line_error(predict(model, trained[1]), "model.safetensors", "not a valid safetensors")
    assert not marker.exists()


@pytest.mark.parametrize("name", ["model.pt", "pytorch_model.bin", "model.pkl"])
def test_planted_pickle_beside_config_is_refused(model, trained, tmp_path, name):
    marker = tmp_path / "pwned"
    (model / "model.safetensors").unlink()
    (model / name).write_bytes(payload(marker))
    assert_one_line_error(predict(model, trained[1]), "refusing to load pickle", name)
    assert not marker.exists()


def test_config_backbone_pointing_at_pickle_is_refused(model, trained, tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    evil.write_bytes(payload(marker))
    cfg = json.loads((model / "config.json").read_text())
    for name in (str(evil), f"hf/{tmp_path}", "timm/../../evil"):
        cfg["backbone"] = name
        (model / "config.json").write_text(json.dumps(cfg))
        assert_one_line_error(predict(model, trained[1]), "config.json")
    assert not marker.exists()


def test_pickle_in_feature_cache_is_ignored(trained, tmp_path):
    """Every cache shard replaced by a pickle payload: recomputed, never unpickled."""
    _, data, _ = trained
    cache = tmp_path / "cache"
    first = cli("extract", str(data), "--json", "--no-progress", "--cache-dir", str(cache))
    assert first.code == 0, first
    marker = tmp_path / "pwned"
    shards = list(cache.rglob("*.safetensors"))
    assert shards
    for s in shards:
        s.write_bytes(payload(marker))
    again = cli("extract", str(data), "--json", "--no-progress", "--cache-dir", str(cache))
    assert again.code == 0, again
    assert json.loads(again.out)["computed"] == json.loads(first.out)["samples"]
    assert not marker.exists()


# ----------------------------------------------------------------------------- edited configs

def test_config_naming_missing_backbone(model, trained):
    cfg = json.loads((model / "config.json").read_text())
    cfg["backbone"] = "efficientnet_lite9"
    (model / "config.json").write_text(json.dumps(cfg))
    assert_one_line_error(predict(model, trained[1]), "config.json", "efficientnet_lite9")


def test_config_weights_path_cannot_escape_folder(model, trained, tmp_path):
    """``weights`` in config.json is informative only: the weights are always
    ``<folder>/model.safetensors``; pointing it elsewhere changes nothing."""
    before = json.loads(predict(model, trained[1]).out)
    outside = tmp_path / "outside.safetensors"
    outside.write_bytes(b"not weights")
    cfg = json.loads((model / "config.json").read_text())
    for w in ("../outside.safetensors", str(outside)):
        cfg["weights"] = w
        (model / "config.json").write_text(json.dumps(cfg))
        r = predict(model, trained[1])
        assert r.code == 0, r
        assert json.loads(r.out) == before


def test_config_not_json(model, trained):
    (model / "config.json").write_bytes(b"\x80\x04garbage")
    assert_one_line_error(predict(model, trained[1]), "config.json")


def test_predict_on_missing_model_folder(tmp_path, trained):
    assert_one_line_error(predict(tmp_path / "nothing", trained[1]), "nothing")


def test_predict_on_corrupt_image_names_it(model, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(png_bytes(3)[:150])
    r = cli("predict", str(model), str(bad))
    assert_one_line_error(r, "bad.png")


def test_evaluate_with_labels_never_seen(model, trained, tmp_path):
    data = make_folder(tmp_path / "other", n_per_class=1)
    (data / "blue").rename(data / "green")
    assert_one_line_error(cli("evaluate", str(model), str(data)), "green", "never seen")


# ----------------------------------------------------------------------------- full disk

def _enospc(*_a, **_k):
    raise OSError(errno.ENOSPC, "No space left on device")


def _fit_again(model: Path, data: Path, cache: Path):
    return cli("fit", str(data), "--out", str(model), "--strategy", "extract", "--epochs", "2",
               "--seed", "1", "--no-progress", "--cache-dir", str(cache))


def test_full_disk_when_writing_model_keeps_previous(model, trained, monkeypatch):
    """The weights file fails half-way (ENOSPC): previous folder intact, no temp folder left."""
    from safetensors.torch import save as st_save

    import transferkit.train.modelfile as mf
    from transferkit.io import atomic_path

    def half_then_full(path, tensors, metadata=None):
        with atomic_path(path) as tmp:
            blob = st_save({k: v.contiguous() for k, v in tensors.items()})
            tmp.write_bytes(blob[: len(blob) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

    before = digest(model)
    monkeypatch.setattr(mf, "save_tensors_atomic", half_then_full)
    r = _fit_again(model, trained[1], trained[2])
    assert_one_line_error(r, "No space left on device")
    assert digest(model) == before
    assert [p.name for p in model.parent.iterdir() if p.name.startswith(".")] == []


def test_full_disk_on_any_write_keeps_previous(model, trained, monkeypatch):
    """Every fsync fails (checkpoints first): one-line error, previous folder intact."""
    import transferkit.io as tio

    before = digest(model)
    monkeypatch.setattr(tio.os, "fsync", _enospc)
    r = _fit_again(model, trained[1], trained[2])
    monkeypatch.undo()
    assert_one_line_error(r, "No space left on device")
    assert digest(model) == before
    assert [p.name for p in model.parent.iterdir() if p.name.startswith(".")] == []
