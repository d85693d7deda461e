"""`transferkit predict M INPUTS --adapt adabn|tent` on a tiny LeNet model folder."""

from __future__ import annotations

import json

import numpy as np
import pytest


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A LeNet model folder (image modality, written with save_model) and 24 grey PNGs."""
    import torch
    from PIL import Image

    from transferkit.train.model import new_classifier
    from transferkit.train.modelfile import save_model
    from transferkit.zoo import create_backbone

    root = tmp_path_factory.mktemp("predict_adapt")
    rng = np.random.default_rng(0)
    for cls in range(2):
        (root / "imgs" / f"c{cls}").mkdir(parents=True)
        for i in range(12):
            a = rng.uniform(0, 60, (28, 28))
            a[4 + 12 * cls: 12 + 12 * cls, 4:24] += 180
            Image.fromarray(a.astype(np.uint8)).save(root / "imgs" / f"c{cls}" / f"{i}.png")
    torch.manual_seed(0)
    bb = create_backbone("lenet", pretrained=False)
    spec = {"type": "linear", "in_features": 256, "num_classes": 2, "dropout": 0.0}
    model = new_classifier(bb, spec).eval()
    save_model(root / "model", model, backbone="lenet", backbone_config=bb.cfg.to_dict(),
               head_spec=spec, preprocessing={"modality": "image",
                                              "transform": "transferkit.zoo.transforms.image_transform"},
               classes=["c0", "c1"], strategy="scratch", options={}, metrics={})
    return root / "model", root / "imgs"


def _predict(*args):
    from typer.testing import CliRunner

    from transferkit.cli import _register, app

    _register()
    r = CliRunner().invoke(app, ["predict", *map(str, args), "--json"])
    return r


@pytest.mark.parametrize("method", ["adabn", "tent"])
def test_predict_adapt(folders, method):
    model, imgs = folders
    plain = _predict(model, imgs)
    assert plain.exit_code == 0, plain.output
    r = _predict(model, imgs, "--adapt", method)
    assert r.exit_code == 0, r.output
    rows, base = json.loads(r.stdout), json.loads(plain.stdout)
    assert len(rows) == 24 and [x["input"] for x in rows] == [x["input"] for x in base]
    p = np.array([[x["probabilities"][c] for c in ("c0", "c1")] for x in rows])
    q = np.array([[x["probabilities"][c] for c in ("c0", "c1")] for x in base])
    assert np.allclose(p.sum(1), 1, atol=1e-5)
    assert np.abs(p - q).max() > 1e-4  # adaptation changed the predictions


def test_predict_adapt_unknown_method(folders):
    from transferkit.errors import TransferkitError

    model, imgs = folders
    r = _predict(model, imgs, "--adapt", "bogus")
    assert isinstance(r.exception, TransferkitError)
    assert "unknown test-time adaptation" in str(r.exception)


def _cli(*args):
    from typer.testing import CliRunner

    from transferkit.cli import _register, app

    _register()
    return CliRunner().invoke(app, [*map(str, args)])


def test_evaluate_adapt_adabn_scores_the_adapted_copy(folders):
    from transferkit.adapt.tta import adapt_predictor
    from transferkit.inference import evaluate, load

    model, imgs = folders
    r = _cli("evaluate", model, imgs, "--adapt", "adabn", "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert got["adapt"] == "adabn" and got["n"] == 24
    # the same figure as adapting by hand, and the folder on disk is unchanged
    from transferkit.data import load_data

    ds = load_data(imgs)
    pred = adapt_predictor(load(model), ds, method="adabn")
    acc = float((pred.predict_proba(ds).argmax(1) == np.asarray(ds.y)).mean())
    assert abs(got["accuracy"] - acc) < 1e-9
    assert evaluate(model, imgs)["adapt"] is None


def test_adapt_cli_shot_source_free(folders, tmp_path):
    model, imgs = folders
    out = tmp_path / "shot"
    r = _cli("adapt", "--method", "shot", "--model", model, "--target", imgs, "--out", out,
             "--epochs", "1", "--json", "--no-progress")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["out"] == str(out) and d["adaptation"]["method"] == "shot"
    import transferkit

    assert transferkit.load(out).predict([str(next(imgs.rglob("*.png")))])[0] in ("c0", "c1")
    bad = _cli("adapt", "--method", "shot", "--target", imgs, "--out", tmp_path / "x")
    assert bad.exit_code != 0 and "--model" in str(bad.exception or bad.output)
