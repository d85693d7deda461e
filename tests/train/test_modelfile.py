"""Model folders: round trip, atomic writes, and refusal of tampered folders."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from transferkit.errors import ModelFileError, TransferkitError
from transferkit.train import fit, load_model

from .helpers import TINY


@pytest.fixture(scope="module")
def model_dir(squares, tmp_path_factory):
    tr, va = squares
    out = tmp_path_factory.mktemp("models") / "m"
    res = fit(tr, va, backbone=TINY, strategy="full", epochs=2, out=out, progress=False,
              device="cpu")
    return out, res, va


def test_round_trip(model_dir):
    out, res, va = model_dir
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.safetensors"]
    assert not list(out.parent.glob(".*"))  # no temp folders or checkpoints left behind
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["backbone"] == TINY and cfg["strategy"] == "full"
    assert cfg["classes"] == va.classes and cfg["backbone_config"]["num_blocks"] == 3
    assert {"torch", "timm", "transferkit"} <= set(cfg["versions"])
    assert cfg["metrics"]["accuracy"] == res.metrics["accuracy"]
    p = load_model(out)
    np.testing.assert_allclose(p.predict_proba(va.inputs), res.predictor().predict_proba(va.inputs),
                               atol=1e-5)
    assert set(p.predict(va.inputs[0])) <= set(va.classes)


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def _edit(folder, fn):
    cfg = json.loads((folder / "config.json").read_text())
    fn(cfg)
    (folder / "config.json").write_text(json.dumps(cfg))


@pytest.mark.parametrize("edit,message", [
    (lambda c: c.update(format_version=99), "format version 99"),
    (lambda c: c.update(backbone="no_such_net"), "unknown backbone"),
    (lambda c: c["classes"].append("extra"), "4 class names"),
    (lambda c: c["tensors"].update({"head.1.weight": [9, 9]}), "tensor names/shapes"),
    (lambda c: c["head"].update(type="code"), "unknown head type"),
    (lambda c: c.pop("preprocessing"), "'preprocessing' missing"),
])
def test_edited_config_is_refused(model_dir, tmp_path, edit, message):
    folder = _copy(model_dir[0], tmp_path / "m")
    _edit(folder, edit)
    with pytest.raises(ModelFileError, match=message):
        load_model(folder)


def test_missing_files_and_pickles_are_refused(model_dir, tmp_path):
    folder = _copy(model_dir[0], tmp_path / "m")
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelFileError, match="weights file not found$"):
        load_model(folder)
    (folder / "model.pt").write_bytes(pickle.dumps({"weights": [1, 2]}))
    with pytest.raises(ModelFileError, match="refusing to load pickle file"):
        load_model(folder)
    (folder / "model.safetensors").write_bytes(pickle.dumps({"weights": [1, 2]}))
    with pytest.raises(ModelFileError, match="not a valid safetensors file"):
        load_model(folder)
    (folder / "config.json").unlink()
    with pytest.raises(ModelFileError, match="config.json: file not found"):
        load_model(folder)
    with pytest.raises(ModelFileError, match="model folder not found"):
        load_model(tmp_path / "nothing")


def test_overwrite_rules(model_dir, squares, tmp_path):
    tr, va = squares
    other = tmp_path / "userstuff"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(TransferkitError, match="not a transferkit model"):
        fit(tr, va, backbone=TINY, strategy="extract", out=other, progress=False, Cs=(1.0,),
            cache_dir=tmp_path / "c")
    assert (other / "notes.txt").read_text() == "keep me"
    folder = _copy(model_dir[0], tmp_path / "m")
    fit(tr, va, backbone=TINY, strategy="extract", out=folder, progress=False, Cs=(1.0,),
        cache_dir=tmp_path / "c")
    assert json.loads((folder / "config.json").read_text())["strategy"] == "extract"
