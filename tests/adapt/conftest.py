"""Tiny synthetic domain-shift problems for the adaptation tests."""

import numpy as np
import pytest


def make_shift(n_s=150, n_t=150, d=5, shift="affine", seed=0):
    """3 Gaussian classes; the target is the source under a rotation+scale+offset."""
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=3.0, size=(3, d))

    def draw(n):
        y = rng.integers(0, 3, n)
        return means[y] + rng.normal(size=(n, d)), y

    Xs, ys = draw(n_s)
    Xt, yt = draw(n_t)
    if shift == "affine":
        Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        S = np.diag(rng.uniform(0.5, 2.5, d))
        Xt = Xt @ S @ Q + 2.0
    elif shift == "scale":
        Xt = Xt * rng.uniform(0.3, 3.0, d)
    elif shift == "rotate":
        Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        Xt = Xt @ Q
    elif shift == "offset":
        Xt = Xt + 2.5
    return Xs, ys, Xt, yt


def packed(Xs, ys, Xt):
    X = np.vstack([Xs, Xt])
    y = np.r_[ys, -np.ones(len(Xt), dtype=int)]
    sd = np.r_[np.ones(len(Xs), dtype=int), -np.ones(len(Xt), dtype=int)]
    return X, y, sd


@pytest.fixture
def shifted():
    Xs, ys, Xt, yt = make_shift()
    X, y, sd = packed(Xs, ys, Xt)
    return X, y, sd, yt
