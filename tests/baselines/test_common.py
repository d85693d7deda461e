"""Behaviour every baseline shares: the scikit-learn classifier contract and seeded determinism."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from transferkit.baselines import (
    MajorityClassifier,
    PixelMLPClassifier,
    SmallCNNClassifier,
    TfidfLogRegClassifier,
)

FACTORIES = {
    "majority": lambda: MajorityClassifier(),
    "mlp": lambda: PixelMLPClassifier(hidden=(32, 32), epochs=3, seed=3),
    "cnn": lambda: SmallCNNClassifier(filters=8, dense=16, epochs=2, seed=3),
    "tfidf": lambda: TfidfLogRegClassifier(Cs=(1.0, 10.0), cv=3),
}


@pytest.fixture(params=sorted(FACTORIES))
def case(request, tiny_images, tiny_texts):
    name = request.param
    if name == "tfidf":
        (X, y), _ = tiny_texts
    else:
        X, y = tiny_images
    return name, FACTORIES[name](), X, y


def test_contract(case):
    name, model, X, y = case
    with pytest.raises(NotFittedError):
        model.predict(X[:3])
    assert model.fit(X, y) is model
    assert list(model.classes_) == sorted(set(y))
    pred = model.predict(X[:7])
    assert pred.shape == (7,)
    assert set(pred) <= set(model.classes_)
    proba = model.predict_proba(X[:7])
    assert proba.shape == (7, len(model.classes_))
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_array_equal(pred, model.classes_[proba.argmax(axis=1)])
    assert isinstance(model.n_trainable_params_, int)
    assert (model.n_trainable_params_ == 0) == (name == "majority")


def test_clone_gives_same_params_unfitted(case):
    _, model, X, y = case
    model.fit(X, y)
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    assert not hasattr(twin, "classes_")


def test_same_seed_same_model(case):
    _, model, X, y = case
    p1 = model.fit(X, y).predict_proba(X)
    p2 = clone(model).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_seed_matters_and_global_rng_untouched(name, tiny_images):
    import torch

    X, y = tiny_images
    torch.manual_seed(123)
    state = torch.get_rng_state()
    p1 = FACTORIES[name]().fit(X, y).predict_proba(X)
    assert torch.equal(state, torch.get_rng_state())
    p2 = FACTORIES[name]().set_params(seed=4).fit(X, y).predict_proba(X)
    assert not np.array_equal(p1, p2)


@pytest.mark.slow
@pytest.mark.parametrize(
    "model",
    [MajorityClassifier(), PixelMLPClassifier(hidden=(64,), epochs=30)],
    ids=["majority", "mlp"],
)
def test_sklearn_check_estimator(model):
    """scikit-learn's own estimator checks (2-D inputs; the MLP must learn its toy sets)."""
    import warnings

    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(model)
