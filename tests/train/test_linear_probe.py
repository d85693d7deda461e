"""The linear probe's row-space shortcut (n < d) gives the plain logistic regression's model."""

import numpy as np
import pytest

from transferkit.train.strategies.extract import fit_linear_probe


@pytest.mark.parametrize("selection", ["cv", "val"])
def test_rowspace_probe_matches_full_dimensional_fit(selection):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 10)
    X = (rng.normal(size=(30, 200)) + 0.5 * y[:, None] * rng.normal(size=200)).astype(np.float32)
    Xva, yva = X[::3] + 0.1, y[::3]
    mean, std, coef, icpt, classes, info = fit_linear_probe(
        X, y, Xva, yva, Cs=(0.01, 0.1, 1.0), selection=selection)
    assert coef.shape == (3, 200)
    ref = LogisticRegression(C=info["C"], max_iter=3000, tol=1e-8).fit((X - mean) / std, y)
    Xt = rng.normal(size=(20, 200)).astype(np.float32)
    got = ((Xt - mean) / std) @ np.asarray(coef).T + icpt
    want = ref.decision_function((Xt - mean) / std)
    assert np.array_equal(got.argmax(1), want.argmax(1))
    np.testing.assert_allclose(got, want, atol=0.02 * np.abs(want).max())
