"""Slow checks: the real-data harness and bounded memory at 50,000 samples."""

import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from transferkit.adapt import KMM, TCA, pack

SHARED_DATA = Path(os.environ.get("TRANSFERKIT_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
SURF = SHARED_DATA / "office_caltech10/surf/data/Office"


def _surf(name):
    from scipy.io import loadmat

    m = loadmat(SURF / f"{name}_SURF_L10.mat")
    X = m["fts"].astype(float)
    X = X / np.maximum(X.sum(1, keepdims=True), 1e-12)
    X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1)
    return X, m["labels"].ravel()


@pytest.mark.slow
@pytest.mark.realdata
def test_surf_source_only_1nn_is_31_4():
    """Classic protocol check: source-only 1-NN mean over the 12 pairs is 31.4 %."""
    if not SURF.exists():
        pytest.skip(f"{SURF} not found")
    doms = {d: _surf(d) for d in ("amazon", "caltech", "dslr", "webcam")}
    accs = [KNeighborsClassifier(1).fit(*doms[s]).score(*doms[t])
            for s in doms for t in doms if s != t]
    assert abs(100 * np.mean(accs) - 31.4) < 0.2


@pytest.mark.slow
def test_kernel_methods_bounded_memory_50k():
    """TCA (Nystroem, rbf) and KMM on 50,000 x 256 stay far below an n x n kernel (18.6 GB)."""
    rng = np.random.default_rng(0)
    Xs = rng.normal(size=(25_000, 256))
    Xt = rng.normal(size=(25_000, 256)) * 1.5 + 0.3
    ys = rng.integers(0, 5, 25_000)
    X, y, sd = pack(Xs, Xt, ys)
    for adapter, limit_mb in ((TCA(kernel="rbf", n_kernel_components=300, n_components=20),
                               600), (KMM(n_kernel_components=200, max_iter=50), 600)):
        tracemalloc.start()
        adapter.fit(X, y, sd)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak / 2**20 < limit_mb, (type(adapter).__name__, peak / 2**20)
