"""Data loading for the domain-adaptation benchmarks (read-only shared data, never copied)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

SHARED = Path(os.environ.get("TRANSFERKIT_SHARED", Path(__file__).resolve().parents[2] / "shared"))
SURF_DIR = SHARED / "data/office_caltech10/surf/data/Office"
DIGITS_DIR = SHARED / "data/digits/mnist_usps_jda/data"
SURF_DOMAINS = ["amazon", "caltech", "dslr", "webcam"]


def surf_domain(name):
    """Raw SURF features (float) and labels 1..10 of one Office-Caltech domain."""
    from scipy.io import loadmat

    m = loadmat(SURF_DIR / f"{name}_SURF_L10.mat")
    return m["fts"].astype(np.float64), m["labels"].ravel().astype(int)


def zscore(X):
    return (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)


def surf_classic(name):
    """Classic protocol: divide each row by its sum, then z-score the domain."""
    X, y = surf_domain(name)
    X = X / np.maximum(X.sum(1, keepdims=True), 1e-12)
    return zscore(X), y


def surf_pairs():
    return [(s, t) for s in SURF_DOMAINS for t in SURF_DOMAINS if s != t]


def digits_pair(name):
    """MNIST_vs_USPS / USPS_vs_MNIST (HDF5 v7.3): returns Xs, ys, Xt, yt (labels 1..10)."""
    import h5py

    with h5py.File(DIGITS_DIR / f"{name}.mat", "r") as f:
        Xs = np.array(f["Xs"]).astype(np.float64)
        Xt = np.array(f["Xt"]).astype(np.float64)
        ys = np.array(f["Ys"]).ravel().astype(int)
        yt = np.array(f["Yt"]).ravel().astype(int)
    # h5py returns MATLAB arrays transposed; put samples on rows
    if Xs.shape[0] != ys.shape[0]:
        Xs = Xs.T
    if Xt.shape[0] != yt.shape[0]:
        Xt = Xt.T
    return Xs, ys, Xt, yt


def feature_domains(directory):
    """Deep-feature files ``<domain>.npz`` with arrays X (n, d) and y (n,)."""
    out = {}
    for p in sorted(Path(directory).glob("*.npz")):
        with np.load(p, allow_pickle=False) as z:
            out[p.stem] = (z["X"].astype(np.float64), z["y"].astype(int))
    return out


def feature_pairs(directory, prep="none", pairs_with=None):
    """Every ordered pair ``(name, Xs, ys, Xt, yt)`` of ``<domain>.npz`` files. ``prep``:
    'none', 'zscore' (each domain on its own) or 'standard' (statistics pooled over the
    pair); ``pairs_with``: only the pairs with that domain on one side."""
    doms = feature_domains(directory)
    for s in doms:
        for t in doms:
            if s == t or (pairs_with is not None and pairs_with not in (s, t)):
                continue
            (Xs, ys), (Xt, yt) = doms[s], doms[t]
            if prep == "zscore":
                Xs, Xt = zscore(Xs), zscore(Xt)
            elif prep == "standard":
                m, sd = np.vstack([Xs, Xt]).mean(0), np.vstack([Xs, Xt]).std(0)
                sd = np.where(sd > 0, sd, 1.0)
                Xs, Xt = (Xs - m) / sd, (Xt - m) / sd
            yield f"{s}->{t}", Xs, ys, Xt, yt
