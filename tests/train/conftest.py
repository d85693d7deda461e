"""Fixtures for tests/train: a tiny registered backbone and a tiny synthetic image set."""

from __future__ import annotations

import pytest
import torch

from .helpers import make_squares


@pytest.fixture(scope="session")
def squares(tmp_path_factory):
    root = tmp_path_factory.mktemp("squares")
    return make_squares(root / "train", 12, seed=0), make_squares(root / "val", 6, seed=1)


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(2)
