"""Tiny two-domain problems for the deep DA tests."""

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(1)


def make_pair(n=60, d=6, offset=3.0, seed=0):
    """3 Gaussian classes; the target is the source shifted by ``offset`` on every axis."""
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=3.0, size=(3, d))

    def draw(k):
        y = rng.integers(0, 3, k)
        return (means[y] + rng.normal(size=(k, d))).astype(np.float32), y

    Xs, ys = draw(n)
    Xt, yt = draw(n)
    return Xs, ys, Xt + offset, yt


def stack(Xs, ys, Xt):
    X = np.vstack([Xs, Xt])
    y = np.r_[ys, -np.ones(len(Xt), dtype=int)]
    sd = np.r_[np.ones(len(Xs), dtype=int), -np.ones(len(Xt), dtype=int)]
    return X, y, sd
