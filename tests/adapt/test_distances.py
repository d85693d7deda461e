"""Worked small examples for the domain distances."""

import numpy as np

from transferkit.adapt import coral_distance, mmd, proxy_a_distance
from transferkit.adapt.distances import distance_report


def test_linear_mmd_worked_example():
    Xs = np.array([[0.0, 0.0], [2.0, 0.0]])  # mean (1, 0)
    Xt = np.array([[1.0, 3.0], [1.0, 1.0]])  # mean (1, 2)
    assert mmd(Xs, Xt, "linear") == 4.0
    # weights that move the source mean to (2, 0): distance 1 + 4 = 5
    assert np.isclose(mmd(Xs, Xt, "linear", sample_weight=[0, 1]), 5.0)


def test_rbf_mmd_worked_example():
    Xs, Xt = np.array([[0.0]]), np.array([[1.0]])
    # k(x,x)=1, k(0,1)=exp(-gamma): MMD^2 = 2 - 2 exp(-gamma)
    assert np.isclose(mmd(Xs, Xt, "rbf", gamma=0.5), 2 - 2 * np.exp(-0.5))
    rng = np.random.default_rng(0)
    A = rng.normal(size=(300, 3))
    assert mmd(A[:150], A[150:]) < mmd(A[:150], A[150:] + 2)


def test_coral_distance_worked_example():
    rng = np.random.default_rng(0)
    Xs = rng.normal(size=(5000, 2))
    Xt = Xs * [2.0, 1.0]  # variances 1 and 4 in the first coordinate
    D = np.cov(Xs, rowvar=False) - np.cov(Xt, rowvar=False)
    assert np.isclose(coral_distance(Xs, Xt), np.sum(D**2) / 16)
    assert abs(coral_distance(Xs, Xt) - 9 / 16) < 0.05
    assert coral_distance(Xs, Xs) == 0.0


def test_proxy_a_distance_range():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(400, 4))
    assert proxy_a_distance(A[:200], A[200:]) < 0.5
    assert proxy_a_distance(A[:200], A[200:] + 10) > 1.9
    rep = distance_report(A[:200], A[200:] + 1)
    assert set(rep) == {"mmd_linear", "mmd_rbf", "coral", "proxy_a"}
