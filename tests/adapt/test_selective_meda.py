"""SelectiveMEDA: estimator contract, sample_domain, determinism, model folder, and adaptation."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from transferkit.adapt import (
    DAEstimator,
    adapt_features,
    get_method,
    load_da_model,
    make_da_pipeline,
    predict_target,
    save_da_model,
)
from transferkit.adapt.feature import MEDA, SelectiveMEDA
from transferkit.errors import DataError

from .conftest import make_shift, packed


def _small():
    return SelectiveMEDA(n_components=3, n_iter=3)


def test_registered_and_fit_contract(shifted):
    X, y, sd, _ = shifted
    assert get_method("selective_meda") is SelectiveMEDA
    a = _small()
    assert a.fit(X, y, sd) is a
    fitted = [k for k in vars(a) if k not in a.get_params()]
    assert fitted and all(k.endswith("_") for k in fitted), fitted
    Z = a.transform(X[sd < 0])
    assert Z.shape == (int((sd < 0).sum()), 3) and np.all(np.isfinite(Z))
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0)  # unit-norm class scores
    assert list(a.classes_) == [0, 1, 2]
    with pytest.raises(DataError, match="features"):
        a.transform(X[:, :2])


def test_sample_domain_handling(shifted):
    X, y, sd, _ = shifted
    explicit = make_da_pipeline(_small()).fit(X, y, sd)
    inferred = make_da_pipeline(_small()).fit(X, y)  # target rows found from y == -1
    Xt = X[sd < 0]
    np.testing.assert_allclose(explicit.predict_proba(Xt), inferred.predict_proba(Xt))
    # transform without sample_domain maps every row as target
    np.testing.assert_allclose(explicit.transform(Xt), explicit.transform(Xt, -np.ones(len(Xt))))
    with pytest.raises(DataError, match="sample_domain"):
        _small().fit(X, y, sd[:5])
    with pytest.raises(DataError, match="labels are required"):
        _small().fit(X, None, sd)
    with pytest.raises(DataError, match="no target"):
        _small().fit(X[sd > 0], y[sd > 0], sd[sd > 0])


def test_deterministic_clone_and_sklearn_pipeline(shifted):
    X, y, sd, yt = shifted
    p1 = make_da_pipeline(_small(), LogisticRegression()).fit(X, y, sd)
    p2 = clone(p1).fit(X, y, sd)
    Xt = X[sd < 0]
    np.testing.assert_array_equal(p1.predict_proba(Xt), p2.predict_proba(Xt))
    pipe = make_pipeline(_small(), DAEstimator(LogisticRegression()))
    pipe.fit(X, y, selectivemeda__sample_domain=sd)
    assert pipe.predict(Xt).shape == yt.shape


def test_pseudo_label_schedule_is_class_balanced():
    """Round 0 trusts no pseudo-label, the last all; in between each class keeps the same share
    of its most confident samples, whatever its size."""
    a = SelectiveMEDA(n_iter=5)
    yt = np.r_[np.zeros(8, int), np.ones(4, int)]
    margin = np.r_[np.arange(8.0), 10.0 * np.arange(4.0)]
    assert not a._pseudo_label_mask(0, yt, margin).any()
    assert a._pseudo_label_mask(4, yt, margin).all()
    half = a._pseudo_label_mask(2, yt, margin)
    assert half[:8].sum() == 4 and half[8:].sum() == 2  # half of each class
    assert half[4:8].all() and half[10:].all()  # the largest margins of each class
    assert SelectiveMEDA(n_iter=1)._pseudo_label_mask(0, yt, margin).all()
    assert MEDA(n_iter=5)._pseudo_label_mask(0, yt, margin).all()


def test_model_folder_round_trip(tmp_path):
    Xs, ys, Xt, _ = make_shift(n_s=60, n_t=60, d=6, seed=3)
    model, report = adapt_features(Xs, ys, Xt, method="selective_meda", seed=0)
    assert report["method"] == "selective_meda"
    out = save_da_model(tmp_path / "m", model, backbone="none", backbone_config={},
                        classes=["a", "b", "c"], report=report)
    loaded = load_da_model(out)
    fresh = Xt[:10] + np.random.default_rng(0).normal(scale=0.5, size=(10, 6))
    want = model.predict_proba(model.scaler_.transform(fresh))
    np.testing.assert_allclose(loaded.predict_proba(fresh), want, atol=1e-10)
    assert list(loaded.predict(fresh)) == [["a", "b", "c"][i] for i in
                                            predict_target(model, fresh)]
    with pytest.raises(DataError, match="target samples only"):
        loaded.model.adapter.transform(fresh, np.ones(len(fresh)))


def test_beats_source_only_on_shifted_blobs():
    wins = 0
    for seed in range(3):
        Xs, ys, Xt, yt = make_shift(seed=seed, shift="offset")
        X, y, sd = packed(Xs, ys, Xt)
        base = make_da_pipeline(None).fit(X, y, sd).score(Xt, yt)
        got = make_da_pipeline(SelectiveMEDA(n_components=4, n_iter=5)).fit(X, y, sd)
        wins += got.score(Xt, yt) > base + 0.05
    assert wins >= 2
