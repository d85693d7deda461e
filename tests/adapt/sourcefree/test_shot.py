"""SHOT: the loss pieces on worked examples, the pseudo-labels against the reference code's
recipe, and the model-folder contract (new folder, input untouched, loadable, seeded)."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
import torch

from transferkit.adapt.sourcefree import (
    diversity,
    entropy,
    information_maximisation,
    pseudo_labels,
    shot,
    shot_loss,
)
from transferkit.errors import TransferkitError

LN2 = math.log(2)


def test_information_maximisation_worked_example():
    uniform = torch.zeros(2, 2)  # p = [.5, .5] for both samples
    assert float(entropy(uniform)) == pytest.approx(LN2, abs=1e-4)
    assert float(diversity(uniform)) == pytest.approx(LN2, abs=1e-4)
    assert float(information_maximisation(uniform)) == pytest.approx(0.0, abs=1e-6)
    confident_diverse = torch.tensor([[10.0, -10.0], [-10.0, 10.0]])
    assert float(entropy(confident_diverse)) == pytest.approx(0.0, abs=1e-4)
    assert float(information_maximisation(confident_diverse)) == pytest.approx(-LN2, abs=1e-4)
    collapsed = torch.tensor([[10.0, -10.0], [10.0, -10.0]])  # confident but one class only
    assert float(information_maximisation(collapsed)) == pytest.approx(0.0, abs=1e-4)
    # beta x cross-entropy on pseudo-labels: agreeing labels cost ~0, disagreeing ones ~20 each
    agree = shot_loss(confident_diverse, torch.tensor([0, 1]), beta=0.3)
    disagree = shot_loss(confident_diverse, torch.tensor([1, 0]), beta=0.3)
    assert float(agree) == pytest.approx(-LN2, abs=1e-4)
    assert float(disagree) == pytest.approx(-LN2 + 0.3 * 20.0, abs=1e-3)
    assert float(shot_loss(confident_diverse, torch.tensor([1, 0]), beta=0.0)) == \
        pytest.approx(-LN2, abs=1e-4)


def test_pseudo_labels_worked_example():
    # two clusters; the classifier wrongly prefers class 1 for the second sample
    f = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    p = np.array([[0.6, 0.4], [0.4, 0.6], [0.3, 0.7], [0.45, 0.55]])
    labels, info = pseudo_labels(f, p)
    assert p.argmax(1).tolist() == [0, 1, 1, 1]
    assert labels.tolist() == [0, 0, 1, 1]
    # final centroids: means of the normalised [f, 1] of each cluster
    g = np.hstack([f, np.ones((4, 1))])
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    np.testing.assert_allclose(info["centroids"], [g[:2].mean(0), g[2:].mean(0)], atol=1e-7)


def _reference_obtain_label(fea, proba):
    """SHOT's obtain_label (digit code), with scipy's cosine distance."""
    from scipy.spatial.distance import cdist

    fea = np.hstack([fea, np.ones((len(fea), 1))])
    fea = (fea.T / np.linalg.norm(fea, axis=1)).T
    aff = proba
    initc = aff.T.dot(fea) / (1e-8 + aff.sum(0)[:, None])
    pred = cdist(fea, initc, "cosine").argmin(1)
    initial = pred.copy()
    aff = np.eye(proba.shape[1])[pred]
    initc = aff.T.dot(fea) / (1e-8 + aff.sum(0)[:, None])
    return cdist(fea, initc, "cosine").argmin(1), initial


def test_pseudo_labels_match_the_reference_recipe():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 8)) * 3
    y = rng.integers(0, 4, 200)
    fea = centres[y] + rng.normal(size=(200, 8))
    logits = rng.normal(size=(200, 4)) + 2 * np.eye(4)[y]
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels, info = pseudo_labels(fea, proba)
    ref, ref_initial = _reference_obtain_label(fea, proba)
    np.testing.assert_array_equal(labels, ref)
    np.testing.assert_array_equal(info["initial"], ref_initial)
    assert (labels == y).mean() > (proba.argmax(1) == y).mean()  # clustering helps here


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_shot_writes_a_new_loadable_folder(model_dir, target, tmp_path):
    import transferkit
    from transferkit.train.modelfile import load_model, read_model_config

    x, _ = target
    before = _digest(model_dir)
    res = shot(model_dir, x, out=tmp_path / "a", epochs=2, seed=1, progress=False)
    assert _digest(model_dir) == before  # the input folder is untouched
    cfg = read_model_config(tmp_path / "a")
    assert cfg["adaptation"]["method"] == "shot" and cfg["adaptation"]["beta"] == 0.3
    assert cfg["strategy"] == "scratch" and cfg["seed"] == 0  # source record kept
    loaded = (transferkit.load if hasattr(transferkit, "load") else load_model)(tmp_path / "a")
    np.testing.assert_allclose(loaded.predict_proba(x), res.predictor().predict_proba(x),
                               atol=1e-5)
    src = load_model(model_dir)
    sd0, sd1 = src.model.state_dict(), loaded.model.state_dict()
    assert all(torch.equal(sd0[k], sd1[k]) for k in sd0 if k.startswith("head."))  # frozen
    assert any(not torch.equal(sd0[k], sd1[k]) for k in sd0 if k.startswith("backbone."))
    assert len(res.history) == 2 and "pseudo_vs_prediction" in res.history[0]
    # seeded: a second run gives the same weights
    shot(model_dir, x, out=tmp_path / "b", epochs=2, seed=1, progress=False)
    assert (_digest(tmp_path / "a")["model.safetensors"]
            == _digest(tmp_path / "b")["model.safetensors"])


def test_shot_refuses_to_overwrite_its_input(model_dir, target):
    with pytest.raises(TransferkitError, match="input model folder"):
        shot(model_dir, target[0], out=model_dir, epochs=1, progress=False)
    with pytest.raises(TransferkitError, match="nothing to adapt"):
        shot(model_dir, target[0], out=model_dir.parent / "x", k=4, epochs=1, progress=False)


def test_shot_report_labels_only_monitor(model_dir, target, tmp_path):
    from transferkit.data.dataset import Dataset

    x, y = target
    ds = Dataset("array", x, y, ["c0", "c1", "c2"], source="target")
    res = shot(model_dir, ds, out=tmp_path / "r", epochs=1, seed=0, report_labels=True,
               progress=False)
    h = res.history[0]
    assert 0.0 <= h["target_accuracy"] <= 1.0 and 0.0 <= h["pseudo_label_accuracy"] <= 1.0
    # labels never enter the loss: the same run without them gives the same weights
    res2 = shot(model_dir, x, out=tmp_path / "u", epochs=1, seed=0, progress=False)
    sd, sd2 = res.model.state_dict(), res2.model.state_dict()
    assert all(torch.equal(sd[k], sd2[k]) for k in sd)
