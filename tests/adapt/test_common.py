"""Common checks over every adapter: sklearn rules, Pipeline/GridSearchCV, clone, determinism."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from transferkit.adapt import (
    BDA,
    CORAL,
    JDA,
    KLIEP,
    KMM,
    MEDA,
    TCA,
    DAEstimator,
    DomainAwareSplit,
    DomainClassifierWeights,
    DomainStandardScaler,
    SoftNeighborhoodDensity,
    SubspaceAlignment,
    make_da_pipeline,
)
from transferkit.errors import DataError

ADAPTERS = [
    CORAL(),
    CORAL(reg=1.0),
    SubspaceAlignment(n_components=3),
    TCA(n_components=3),
    TCA(n_components=3, kernel="rbf", n_kernel_components=40),
    TCA(n_components=3, kernel="rbf", approx="rff", n_kernel_components=40),
    JDA(n_components=3, n_iter=2),
    BDA(n_components=3, n_iter=2),
    MEDA(n_components=3, n_iter=2),
    KMM(n_kernel_components=40, max_iter=100),
    KLIEP(n_centers=20, cv=2),
    DomainClassifierWeights(),
    DomainStandardScaler(),
]
IDS = [type(a).__name__ + str(i) for i, a in enumerate(ADAPTERS)]


@pytest.mark.parametrize("adapter", ADAPTERS, ids=IDS)
def test_fit_returns_self_and_fitted_attrs(adapter, shifted):
    X, y, sd, _ = shifted
    a = clone(adapter)
    assert a.fit(X, y, sd) is a
    fitted = [k for k in vars(a) if k not in a.get_params()]
    assert fitted and all(k.endswith("_") for k in fitted), fitted
    Z = a.transform(X[:10])
    assert Z.shape[0] == 10 and np.all(np.isfinite(Z))
    if getattr(a, "reweights", False):
        w = a.sample_weight_
        assert w.shape == (len(X),) and np.all(w[sd < 0] == 0) and np.all(w >= 0)


@pytest.mark.parametrize("adapter", ADAPTERS, ids=IDS)
def test_deterministic_and_clone(adapter, shifted):
    X, y, sd, yt = shifted
    p1 = make_da_pipeline(clone(adapter), LogisticRegression()).fit(X, y, sd)
    p2 = clone(p1).fit(X, y, sd)
    Xt = X[sd < 0]
    np.testing.assert_allclose(p1.predict_proba(Xt), p2.predict_proba(Xt), atol=1e-8)
    assert p1.score(Xt, yt) == p2.score(Xt, yt)


@pytest.mark.parametrize("adapter", ADAPTERS, ids=IDS)
def test_sklearn_pipeline(adapter, shifted):
    """A plain sklearn Pipeline: adapter step + DAEstimator (drops -1 labels)."""
    X, y, sd, yt = shifted
    if getattr(adapter, "reweights", False):
        pytest.skip("weights cannot flow through a plain Pipeline; use make_da_pipeline")
    step = type(adapter).__name__.lower()
    pipe = make_pipeline(clone(adapter), DAEstimator(LogisticRegression()))
    pipe.fit(X, y, **{f"{step}__sample_domain": sd})
    assert pipe.predict(X[sd < 0]).shape == (int((sd < 0).sum()),)


def test_sample_domain_inferred_from_masked_labels(shifted):
    X, y, sd, yt = shifted
    a = make_da_pipeline(CORAL()).fit(X, y, sd)
    b = make_da_pipeline(CORAL()).fit(X, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X))


def test_gridsearch_label_free(shifted):
    X, y, sd, yt = shifted
    gs = GridSearchCV(make_da_pipeline(CORAL(), LogisticRegression()),
                      {"adapter__reg": [0.1, 1.0], "estimator__C": [0.1, 1.0]},
                      scoring=SoftNeighborhoodDensity(), cv=DomainAwareSplit(2))
    gs.fit(X, y, sample_domain=sd)
    assert set(gs.best_params_) == {"adapter__reg", "estimator__C"}
    assert gs.best_estimator_.predict(X[sd < 0]).shape == yt.shape


def test_errors(shifted):
    X, y, sd, _ = shifted
    with pytest.raises(DataError, match="no target"):
        CORAL().fit(X[sd > 0], y[sd > 0], sd[sd > 0])
    with pytest.raises(DataError, match="sample_domain"):
        CORAL().fit(X, y, sd[:5])
    with pytest.raises(DataError, match="labels are required"):
        JDA().fit(X, None, sd)


def test_gridsearch_with_metadata_routing(shifted):
    """With sklearn metadata routing on, sample_domain reaches both fit and the scorer."""
    import sklearn

    X, y, sd, yt = shifted
    with sklearn.config_context(enable_metadata_routing=True):
        gs = GridSearchCV(make_da_pipeline(SubspaceAlignment(), LogisticRegression()),
                          {"adapter__n_components": [2, 4]},
                          scoring=SoftNeighborhoodDensity(), cv=DomainAwareSplit(2))
        gs.fit(X, y, sample_domain=sd)
    assert gs.best_params_["adapter__n_components"] in (2, 4)
