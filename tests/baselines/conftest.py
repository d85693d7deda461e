"""Shared fixtures of the baseline tests: one torch thread (the test machine is shared)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_images():
    """60 grey 8x8 images of 3 classes (a bright row, column or diagonal) with noise."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.array(["row", "col", "diag"]), 20)
    X = rng.normal(0, 0.3, size=(60, 8, 8)).astype(np.float32)
    for i, c in enumerate(y):
        k = rng.integers(1, 7)
        if c == "row":
            X[i, k, :] += 2
        elif c == "col":
            X[i, :, k] += 2
        else:
            X[i][np.eye(8, dtype=bool)] += 2
    return X, y


@pytest.fixture(scope="session")
def tiny_texts():
    """A tiny synthetic sentiment set: 48 train, 24 test sentences."""
    rng = np.random.default_rng(0)
    pos = ["great", "excellent", "wonderful", "loved", "superb", "fantastic"]
    neg = ["awful", "terrible", "boring", "hated", "poor", "dreadful"]
    filler = ["the", "movie", "was", "plot", "acting", "really", "film", "and", "story"]

    def make(n):
        texts, labels = [], []
        for i in range(n):
            label = "pos" if i % 2 == 0 else "neg"
            cue = pos if label == "pos" else neg
            words = list(rng.choice(filler, 5)) + list(rng.choice(cue, 2))
            rng.shuffle(words)
            texts.append(" ".join(words))
            labels.append(label)
        return texts, np.array(labels)

    return make(48), make(24)
