"""A tiny LeNet predictor over 28x28 arrays, its source data and a shifted target."""

from __future__ import annotations

import pytest

from ..lenet_data import lenet_predictor, make_images


def make_predictor(seed=0, n_classes=3):
    """A LeNet + linear head with random weights whose BatchNorm statistics are the source's."""
    return lenet_predictor(seed=seed, n_classes=n_classes)[0]


@pytest.fixture
def predictor():
    return make_predictor()


@pytest.fixture(scope="module")
def target():
    return make_images(128, seed=2, shift=True)
