"""Numeric arrays: in-memory ``(X, y)``, ``.npz``, pairs of ``.npy``, MATLAB ``.mat`` files.

NumPy files are always read with ``allow_pickle=False``. MATLAB v5 files are read with
``scipy.io.loadmat``; v7.3 files (HDF5) with ``h5py``, whose arrays come back transposed and are
transposed back. ``X`` is oriented so that its first axis matches the number of labels (the
JDA/TCA files store features x samples).
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import DataError
from .dataset import Dataset

X_KEYS = ("X", "x", "fts", "features", "feats", "data", "feas")
Y_KEYS = ("y", "Y", "labels", "label", "target", "targets", "gnd")
#: sibling names tried for the labels of ``<stem>.npy``
_Y_PARTNERS = {
    "x": "y", "X": "y", "features": "labels", "fts": "labels", "data": "labels",
    "feats": "labels",
}


def _pick_key(keys: list[str], wanted: str | None, defaults: tuple[str, ...], what: str,
              path: str) -> str:
    if wanted is not None:
        if wanted in keys:
            return wanted
        raise DataError(f"{path}: no {what} array '{wanted}'; keys found: {', '.join(keys)}")
    for k in defaults:
        if k in keys:
            return k
    lowered = {k.lower(): k for k in keys}
    for k in defaults:
        if k.lower() in lowered:
            return lowered[k.lower()]
    raise DataError(
        f"{path}: cannot tell which array holds the {what} (tried {', '.join(defaults)}); "
        f"keys found: {', '.join(keys) or '(none)'}; name it with {what[0]}_key="
    )


def _labels(y, source: str, classes: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    y = np.asarray(y)
    if y.dtype == object:
        try:
            y = np.array([str(np.asarray(v).ravel()[0]) if np.ndim(v) else str(v) for v in
                          y.ravel()])
        except (IndexError, TypeError) as exc:
            raise DataError(f"{source}: labels hold objects that are not strings") from exc
    y = y.ravel() if y.ndim == 2 and 1 in y.shape else y
    if y.ndim != 1:
        raise DataError(f"{source}: labels must be one-dimensional, got shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise DataError(f"{source}: labels are floats that are not whole numbers")
        y = y.astype(np.int64)
    if y.dtype.kind == "b":
        y = y.astype(np.int64)
    if y.dtype.kind not in "iuUS":
        raise DataError(f"{source}: labels of dtype {y.dtype} are neither integers nor strings")
    if y.dtype.kind == "S":
        y = y.astype(str)
    values, inverse = np.unique(y, return_inverse=True)  # numeric order for ints
    names = [str(v) for v in values]
    if classes is not None:
        classes = [str(c) for c in classes]
        if y.dtype.kind in "iu" and len(classes) == len(values):
            return inverse.astype(np.int64).ravel(), classes
        missing = sorted(set(names) - set(classes))
        if missing:
            raise DataError(f"{source}: labels {missing[:5]} are not among the classes given")
        index = {c: i for i, c in enumerate(classes)}
        return np.array([index[n] for n in y.astype(str)], dtype=np.int64), classes
    return inverse.astype(np.int64).ravel(), names


def from_arrays(X, y, *, classes: list[str] | None = None, source: str = "(arrays)") -> Dataset:
    """Build an ``'array'`` Dataset from in-memory ``X`` (n, ...) and labels ``y`` (n,).

    ``X`` becomes float32; rows with NaN or inf raise :class:`DataError`. Labels may be integers
    or strings; every distinct value is a class, sorted (numerically for integers), unless
    ``classes`` names them (integer labels then map, in sorted order, to those names).
    """
    X = np.asarray(X)
    if X.dtype == object:
        raise DataError(f"{source}: X holds Python objects, not numbers")
    if X.dtype.kind not in "biuf":
        raise DataError(f"{source}: X has dtype {X.dtype}, expected numbers")
    if X.ndim < 2:
        raise DataError(f"{source}: X must have at least 2 dimensions (n, d), got {X.shape}")
    y_arr, names = _labels(y, source, classes)
    if X.shape[0] != len(y_arr) and X.ndim == 2 and X.shape[1] == len(y_arr):
        X = X.T  # features x samples (MATLAB habit)
    if X.shape[0] != len(y_arr):
        raise DataError(f"{source}: X has {X.shape[0]} rows but there are {len(y_arr)} labels")
    X = np.ascontiguousarray(X, dtype=np.float32)
    bad = ~np.isfinite(X.reshape(len(X), -1)).all(axis=1) if X.size else np.zeros(0, bool)
    if bad.any():
        raise DataError(
            f"{source}: {int(bad.sum())} of {len(X)} rows of X contain NaN or inf "
            f"(first: row {int(np.flatnonzero(bad)[0])})"
        )
    if len(names) < 2:
        raise DataError(f"{source}: needs at least 2 classes (found {names or 'none'})")
    return Dataset("array", X, y_arr, names, source, None, [])


def _np_load(path: str):
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(
                f"{path}: holds pickled Python objects; refusing to load (allow_pickle=False)"
            ) from exc
        raise DataError(f"{path}: not a readable NumPy file ({exc})") from exc
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable NumPy file ({exc})") from exc


def load_npz(path: str | os.PathLike, x_key: str | None = None, y_key: str | None = None,
             classes: list[str] | None = None) -> Dataset:
    """Load an ``.npz`` holding features (``X``/``x``/...) and labels (``y``/``labels``/...)."""
    fpath = os.path.abspath(os.fspath(path))
    with _np_load(fpath) as z:
        keys = list(z.files)
        xk = _pick_key(keys, x_key, X_KEYS, "X", fpath)
        yk = _pick_key(keys, y_key, Y_KEYS, "y", fpath)
        try:
            X, y = z[xk], z[yk]
        except ValueError as exc:
            raise DataError(f"{fpath}: holds pickled Python objects; refusing to load") from exc
        if "classes" in keys and classes is None and z["classes"].dtype.kind in "US":
            classes = [str(c) for c in z["classes"]]
    return from_arrays(X, y, classes=classes, source=fpath)


def find_label_file(x_path: str) -> str | None:
    """The labels file paired with ``x_path`` (``X.npy``->``y.npy``, ``a_features.npy``->
    ``a_labels.npy``...), or None."""
    folder, name = os.path.split(x_path)
    stem = name[:-4]
    for sep in ("", "_", "-", "."):
        for xs, ys in _Y_PARTNERS.items():
            if stem == xs or stem.endswith(sep + xs) and sep:
                cand = os.path.join(folder, stem[: len(stem) - len(xs)] + ys + ".npy")
                if os.path.isfile(cand) and cand != x_path:
                    return cand
                cand = os.path.join(folder, stem[: len(stem) - len(xs)] + ys.upper() + ".npy")
                if ys == "y" and os.path.isfile(cand) and cand != x_path:
                    return cand
    return None


def load_npy_pair(x_path: str | os.PathLike, y_path: str | os.PathLike | None = None,
                  classes: list[str] | None = None) -> Dataset:
    """Load ``X`` from one ``.npy`` and labels from another (found beside it if not given)."""
    xp = os.path.abspath(os.fspath(x_path))
    if os.path.isdir(xp):
        for xs in ("X", "x", "features", "fts", "data"):
            if os.path.isfile(os.path.join(xp, xs + ".npy")):
                xp = os.path.join(xp, xs + ".npy")
                break
        else:
            raise DataError(f"{xp}: no X.npy / features.npy found")
    yp = os.path.abspath(os.fspath(y_path)) if y_path is not None else find_label_file(xp)
    if yp is None:
        raise DataError(
            f"{xp}: no labels file found beside it (expected e.g. y.npy or labels.npy)"
        )
    return from_arrays(_np_load(xp), _np_load(yp), classes=classes, source=xp)


def _read_mat(path: str) -> dict[str, np.ndarray]:
    import h5py

    if h5py.is_hdf5(path):  # MATLAB v7.3
        out = {}
        try:
            with h5py.File(path, "r") as f:
                for k, v in f.items():
                    if isinstance(v, h5py.Dataset) and not k.startswith("#"):
                        out[k] = np.asarray(v[()]).T
        except OSError as exc:
            raise DataError(f"{path}: unreadable MATLAB v7.3 file ({exc})") from exc
        return out
    import scipy.io

    try:
        raw = scipy.io.loadmat(path)
    except Exception as exc:  # scipy raises many kinds (IndexError, MatReadError...) on junk
        msg = " ".join(str(exc).split()) or type(exc).__name__
        raise DataError(f"{path}: not a readable MATLAB file ({msg})") from exc
    return {
        k: v
        for k, v in raw.items()
        if not k.startswith("__") and (isinstance(v, np.ndarray) or hasattr(v, "toarray"))
    }


def load_mat(path: str | os.PathLike, x_key: str | None = None, y_key: str | None = None,
             classes: list[str] | None = None) -> Dataset:
    """Load a MATLAB ``.mat`` file (v5 or v7.3); keys auto-detected (``fts``/``X``,
    ``labels``/``y``) or named, e.g. ``x_key='Xs', y_key='Ys'`` for the JDA digit files."""
    fpath = os.path.abspath(os.fspath(path))
    if not os.path.isfile(fpath):
        raise DataError(f"{fpath}: file does not exist")
    arrays = _read_mat(fpath)
    keys = sorted(arrays)
    xk = _pick_key(keys, x_key, X_KEYS, "X", fpath)
    yk = _pick_key(keys, y_key, Y_KEYS, "y", fpath)
    X = arrays[xk]
    if hasattr(X, "toarray"):
        X = X.toarray()
    return from_arrays(X, arrays[yk], classes=classes, source=fpath)


def load_array_file(path: str | os.PathLike, x_key: str | None = None,
                    y_key: str | None = None) -> Dataset:
    """Dispatch on the extension: ``.npz``, ``.npy`` (with its labels file), ``.mat``."""
    fpath = os.path.abspath(os.fspath(path))
    ext = os.path.splitext(fpath)[1].lower()
    if ext == ".npz":
        return load_npz(fpath, x_key, y_key)
    if ext == ".npy":
        return load_npy_pair(fpath)
    if ext == ".mat":
        return load_mat(fpath, x_key, y_key)
    raise DataError(f"{fpath}: not an array file (expected .npz, .npy or .mat)")
