"""NumPy / MATLAB array loading."""

from __future__ import annotations

import numpy as np
import pytest

from transferkit.data import from_arrays, load_data, load_mat, load_npy_pair, load_npz
from transferkit.errors import DataError


def _xy(n=6, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), np.arange(n) % 2


def test_in_memory_pair():
    X, y = _xy()
    ds = load_data((X, y))
    assert ds.modality == "array" and ds.inputs.dtype == np.float32
    assert ds.inputs.shape == (6, 3) and ds.classes == ["0", "1"]
    np.testing.assert_allclose(ds.inputs, X, rtol=1e-6)


def test_string_labels_and_named_classes():
    X, _ = _xy()
    ds = from_arrays(X, np.array(["b", "a", "b", "c", "a", "c"]))
    assert ds.classes == ["a", "b", "c"] and ds.y.tolist() == [1, 0, 1, 2, 0, 2]
    ds = from_arrays(X, np.array([3, 1, 3, 2, 1, 2]), classes=["one", "two", "three"])
    assert ds.classes == ["one", "two", "three"] and ds.y.tolist() == [2, 0, 2, 1, 0, 1]


def test_nan_rows_named(tmp_path):
    X, y = _xy()
    X[1, 0] = np.nan
    X[4, 2] = np.inf
    p = tmp_path / "bad.npz"
    np.savez(p, X=X, y=y)
    with pytest.raises(DataError, match=r"bad\.npz: 2 of 6 rows of X contain NaN or inf"):
        load_data(p)


def test_npz_keys(tmp_path):
    X, y = _xy()
    np.savez(tmp_path / "a.npz", x=X, labels=y)
    assert load_data(tmp_path / "a.npz").inputs.shape == (6, 3)
    np.savez(tmp_path / "b.npz", feats=X, who=y)
    with pytest.raises(DataError, match="keys found: feats, who"):
        load_data(tmp_path / "b.npz")
    assert load_data(tmp_path / "b.npz", y_key="who").classes == ["0", "1"]
    np.savez(tmp_path / "c.npz", X=X, y=y, classes=np.array(["cat", "dog"]))
    assert load_npz(tmp_path / "c.npz").classes == ["cat", "dog"]


def test_pickled_objects_refused(tmp_path):
    X, _ = _xy()
    y = np.array([{"a": 1}] * 6, dtype=object)
    np.savez(tmp_path / "o.npz", X=X, y=y)
    with pytest.raises(DataError, match="pickled"):
        load_data(tmp_path / "o.npz")
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y, allow_pickle=True)
    with pytest.raises(DataError, match="pickled"):
        load_data(tmp_path / "X.npy")


def test_npy_pairs(tmp_path):
    X, y = _xy()
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    assert load_data(tmp_path / "X.npy").inputs.shape == (6, 3)
    assert load_data(tmp_path).modality == "array"  # folder with X.npy + y.npy
    np.save(tmp_path / "src_features.npy", X)
    np.save(tmp_path / "src_labels.npy", y)
    assert len(load_npy_pair(tmp_path / "src_features.npy")) == 6
    np.save(tmp_path / "lonely.npy", X)
    with pytest.raises(DataError, match="no labels file"):
        load_data(tmp_path / "lonely.npy")


def test_shape_mismatch_and_bad_labels():
    X, y = _xy()
    with pytest.raises(DataError, match="6 rows but there are 5 labels"):
        from_arrays(X, y[:5])
    with pytest.raises(DataError, match="not whole numbers"):
        from_arrays(X, y + 0.5)
    with pytest.raises(DataError, match="at least 2 classes"):
        from_arrays(X, np.zeros(6))
    with pytest.raises(DataError, match="at least 2 dimensions"):
        from_arrays(np.ones(6), y)


def test_mat_v5(tmp_path):
    import scipy.io

    X, y = _xy()
    # MATLAB habit: labels as a column, 1-based
    scipy.io.savemat(tmp_path / "a.mat", {"fts": X.astype(np.uint8), "labels": (y + 1)[:, None]})
    ds = load_data(tmp_path / "a.mat")
    assert ds.inputs.shape == (6, 3) and ds.classes == ["1", "2"] and ds.y.tolist() == y.tolist()
    # features x samples (JDA habit) is transposed back
    scipy.io.savemat(tmp_path / "t.mat", {"X": X.T, "Y": y[None, :]})
    assert load_mat(tmp_path / "t.mat").inputs.shape == (6, 3)


def test_mat_v73_hdf5(tmp_path):
    import h5py

    X, y = _xy(n=5, d=4)
    y = np.array([1, 2, 1, 2, 2], dtype=float)
    with h5py.File(tmp_path / "h.mat", "w") as f:  # MATLAB writes column-major: h5py sees X.T
        f["Xs"] = X.T
        f["Ys"] = y[:, None].T
    ds = load_mat(tmp_path / "h.mat", x_key="Xs", y_key="Ys")
    np.testing.assert_allclose(ds.inputs, X, rtol=1e-6)
    assert ds.y.tolist() == [0, 1, 0, 1, 1]
    with pytest.raises(DataError, match="keys found: Xs, Ys"):
        load_mat(tmp_path / "h.mat")


def test_not_a_mat_file(tmp_path):
    (tmp_path / "z.mat").write_bytes(b"garbage" * 10)
    with pytest.raises(DataError, match="z.mat"):
        load_data(tmp_path / "z.mat")
