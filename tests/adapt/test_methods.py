"""Each method must beat source-only on a small synthetic shift it is designed for."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from transferkit.adapt import (
    BDA,
    CORAL,
    JDA,
    KLIEP,
    KMM,
    TCA,
    DomainClassifierWeights,
    SubspaceAlignment,
    TrAdaBoost,
    make_da_pipeline,
)
from transferkit.adapt.instance.kmm import project_box_sum
from transferkit.errors import DataError

from .conftest import make_shift, packed


def _acc(adapter, est, X, y, sd, yt):
    return make_da_pipeline(adapter, est).fit(X, y, sd).score(X[sd < 0], yt)


def test_coral_beats_source_only_on_rescaled_target():
    """Classes at (2, 0) and (0, 2); the target stretches x1 and squeezes x0."""
    wins = 0
    for seed in range(3):
        rng = np.random.default_rng(seed)
        ys, yt = rng.integers(0, 2, 300), rng.integers(0, 2, 300)
        means = np.array([[2.0, 0.0], [0.0, 2.0]])
        Xs = means[ys] + rng.normal(scale=0.7, size=(300, 2))
        Xt = (means[yt] + rng.normal(scale=0.7, size=(300, 2))) * [0.3, 3.0]
        X, y, sd = packed(Xs, ys, Xt)
        base = _acc(None, LogisticRegression(), X, y, sd, yt)
        wins += _acc(CORAL(reg=0.01), LogisticRegression(), X, y, sd, yt) > base + 0.05
    assert wins >= 2


@pytest.mark.parametrize("adapter,est", [
    (SubspaceAlignment(n_components=5), KNeighborsClassifier(1)),
    (TCA(n_components=4, normalize=False), KNeighborsClassifier(1)),
    (TCA(n_components=4, normalize=False, form="kernel"), KNeighborsClassifier(1)),
    (JDA(n_components=4, n_iter=5, normalize=False), KNeighborsClassifier(1)),
    (BDA(n_components=4, n_iter=5, normalize=False), KNeighborsClassifier(1)),
], ids=["sa", "tca", "tca_kernel_form", "jda", "bda"])
def test_feature_methods_beat_source_only(adapter, est):
    wins = 0
    for seed in range(3):
        Xs, ys, Xt, yt = make_shift(seed=seed, shift="offset")
        X, y, sd = packed(Xs, ys, Xt)
        base = _acc(None, est, X, y, sd, yt)
        wins += _acc(adapter, est, X, y, sd, yt) > base + 0.05
    assert wins >= 2


def _selection_bias(seed, n=400):
    """Source over-samples x0 < 0; the target lives at x0 > 0 with a curved boundary."""
    rng = np.random.default_rng(seed)
    Xs = rng.normal(size=(n, 2)) * [1.0, 1.0] + [-1.0, 0.0]
    Xt = rng.normal(size=(n, 2)) * [0.5, 1.0] + [1.5, 0.0]

    def lab(X):
        return (X[:, 1] > 0.5 * X[:, 0] ** 2 - 1).astype(int)

    return Xs, lab(Xs), Xt, lab(Xt)


@pytest.mark.parametrize("adapter", [KMM(max_iter=300), KLIEP(), DomainClassifierWeights()],
                         ids=["kmm", "kliep", "domain_classifier"])
def test_reweighting_moves_weight_to_target_region(adapter):
    Xs, ys, Xt, yt = _selection_bias(0)
    X, y, sd = packed(Xs, ys, Xt)
    a = adapter.fit(X, y, sd)
    w = a.source_weights_
    near = Xs[:, 0] > 0.5
    assert w[near].mean() > 2 * w[~near].mean()
    assert abs(w.mean() - 1) < 0.5


def test_kliep_median_gamma_and_weights_for_new_samples():
    """gamma='median' is 1 / the median squared sample-to-centre distance (zeros excluded);
    the fit weights equal compute_weights on the same source rows; KMM stops early once its
    objective stalls (tol) and reports the objective it reached."""
    Xs, ys, Xt, _ = _selection_bias(1, n=120)
    X, y, sd = packed(Xs, ys, Xt)
    k = KLIEP(gamma="median", n_centers=30).fit(X, y, sd)
    c = k.centers_
    D = np.r_[((Xs[:, None] - c[None]) ** 2).sum(-1).ravel(),
              ((Xt[:, None] - c[None]) ** 2).sum(-1).ravel()]
    assert k.gamma_ == pytest.approx(1.0 / np.median(D[D > 1e-9]), rel=1e-6)
    np.testing.assert_allclose(k.source_weights_, k.compute_weights(Xs), rtol=1e-8)
    loose = KMM(tol=1e-2, max_iter=1000).fit(X, y, sd)
    tight = KMM(tol=1e-9, max_iter=1000).fit(X, y, sd)
    assert loose.n_iter_ < tight.n_iter_
    assert 0 <= tight.objective_ <= loose.objective_ * (1 + 1e-6)


def test_kmm_projection_is_feasible():
    rng = np.random.default_rng(0)
    v = rng.normal(size=50) * 3
    b = project_box_sum(v, 2.0, 40.0, 45.0)
    assert np.all(b >= 0) and np.all(b <= 2.0) and 40 - 1e-6 <= b.sum() <= 45 + 1e-6


def test_tradaboost_uses_few_target_labels():
    Xs, ys, Xt, yt = make_shift(seed=1, shift="offset", n_s=200, n_t=300)
    rng = np.random.default_rng(0)
    lab = rng.choice(len(Xt), 15, replace=False)
    X = np.vstack([Xs, Xt])
    y = np.r_[ys, -np.ones(len(Xt), dtype=int)]
    y[len(Xs) + lab] = yt[lab]
    sd = np.r_[np.ones(len(Xs), dtype=int), -np.ones(len(Xt), dtype=int)]
    test = np.setdiff1d(np.arange(len(Xt)), lab)
    tr = TrAdaBoost(n_estimators=10).fit(X, y, sd)
    src_only = LogisticRegression().fit(Xs, ys)
    assert tr.score(Xt[test], yt[test]) > src_only.score(Xt[test], yt[test])
    with pytest.raises(DataError, match="labelled target"):
        TrAdaBoost().fit(*packed(Xs, ys, Xt))
