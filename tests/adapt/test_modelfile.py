"""DA model folders: every registered method saved and rebuilt without pickle, predictions equal."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from transferkit.adapt import TrAdaBoost, adapt_features, list_methods, predict_target
from transferkit.adapt.api import make_adapter
from transferkit.adapt.modelfile import (
    WEIGHTS,
    export_pipeline,
    load_da_model,
    rebuild_pipeline,
    save_da_model,
)
from transferkit.errors import DataError, ModelFileError

from .conftest import make_shift

CLASSES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def data():
    Xs, ys, Xt, yt = make_shift(n_s=60, n_t=60, d=6, seed=3)
    rng = np.random.default_rng(7)
    fresh = Xt[:10] + rng.normal(scale=0.5, size=(10, 6))  # NEW target rows, unseen at fit
    return Xs, ys, Xt, yt, fresh


def _fit(name, data):
    Xs, ys, Xt, yt, _ = data
    if name == "tradaboost":  # a classifier that needs a few labelled target samples
        X = np.vstack([Xs, Xt])
        y = np.r_[ys, np.where(np.arange(len(Xt)) < 9, yt, -1)]
        sd = np.r_[np.ones(len(Xs), int), -np.ones(len(Xt), int)]
        return TrAdaBoost(n_estimators=6).fit(X, y, sd)
    model, _ = adapt_features(Xs, ys, Xt, method=name, seed=0)
    return model


def _predict(model, X):
    if isinstance(model, TrAdaBoost):
        return model.predict_proba(X)
    Xs = model.scaler_.transform(X)
    return model.predict_proba(Xs)


@pytest.mark.parametrize("name", ["none", *list_methods()])
def test_every_method_round_trips(name, data, tmp_path):
    model = _fit(name, data)
    fresh = data[4]
    out = save_da_model(tmp_path / "m", model, backbone="none", backbone_config={},
                        classes=CLASSES, report={"method": name})
    assert sorted(p.name for p in out.iterdir()) == ["config.json", WEIGHTS]
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["kind"] == "domain_adaptation" and cfg["format"] == "transferkit-model"
    pred = load_da_model(out)
    np.testing.assert_array_equal(pred.predict_proba(fresh), _predict(model, fresh))
    if name != "tradaboost":
        np.testing.assert_array_equal(
            pred.predict(fresh), np.array(CLASSES, dtype=object)[predict_target(model, fresh)])


def test_target_side_only_is_stored(data):
    """CORAL leaves target samples unchanged: nothing of the d x d source map is stored; SA
    stores the target basis; reweighting methods store nothing."""
    Xs, ys, Xt, _, _ = data
    for name, expected in (("coral", set()), ("kmm", set()), ("domain_classifier", set()),
                           ("sa", {"adapter.mean_target", "adapter.target_map"})):
        model, _ = adapt_features(Xs, ys, Xt, method=name, seed=0)
        arrays, _ = export_pipeline(model)
        assert {k for k in arrays if k.startswith("adapter.")} == expected, name
    model, _ = adapt_features(Xs, ys, Xt, method="coral", seed=0)
    rebuilt = rebuild_pipeline(*export_pipeline(model))
    with pytest.raises(DataError, match="target samples only"):
        rebuilt.adapter.transform(Xs, np.ones(len(Xs), int))


def test_rbf_tca_and_rff_round_trip(data):
    Xs, ys, Xt, _, fresh = data
    for approx in ("nystroem", "rff"):
        ad = make_adapter("tca").set_params(kernel="rbf", approx=approx, n_kernel_components=40)
        from transferkit.adapt import make_da_pipeline, pack

        X, y, sd = pack(Xs, Xt, ys)
        model = make_da_pipeline(ad, LogisticRegression(max_iter=500)).fit(X, y, sd)
        rebuilt = rebuild_pipeline(*export_pipeline(model))
        np.testing.assert_array_equal(rebuilt.predict_proba(fresh), model.predict_proba(fresh))


def test_unsupported_estimator_is_refused(data, tmp_path):
    from sklearn.neighbors import KNeighborsClassifier

    Xs, ys, Xt, _, _ = data
    model, _ = adapt_features(Xs, ys, Xt, method="coral", estimator=KNeighborsClassifier(1))
    with pytest.raises(ModelFileError, match="LogisticRegression"):
        save_da_model(tmp_path / "m", model, backbone="none", backbone_config={},
                      classes=CLASSES, report={})
    assert not (tmp_path / "m").exists()


def test_tampered_folder_is_one_line_error(data, tmp_path):
    model = _fit("sa", data)
    out = save_da_model(tmp_path / "m", model, backbone="none", backbone_config={},
                        classes=CLASSES, report={})
    cfg = json.loads((out / "config.json").read_text())
    cfg["tensors"]["adapter.target_map"] = [1, 1]
    (out / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFileError, match="do not match"):
        load_da_model(out)
    cfg["pipeline"]["adapter"]["method"] = "nope"
    del cfg["tensors"]["adapter.target_map"]
    (out / "config.json").write_text(json.dumps(cfg))
    (out / WEIGHTS).write_bytes(b"\x80\x04 pickle")
    with pytest.raises(ModelFileError):
        load_da_model(out)


def test_transferkit_load_dispatches_on_kind(data, tmp_path):
    import transferkit.inference as inf

    model = _fit("jda", data)
    out = save_da_model(tmp_path / "m", model, backbone="none", backbone_config={},
                        classes=CLASSES, report={})
    pred = inf.load(out)
    assert type(pred).__name__ == "DAPredictor"
    assert pred.classes == CLASSES and pred.preprocessing["modality"] == "array"
    np.testing.assert_array_equal(pred.predict_proba(data[4]), _predict(model, data[4]))
