"""Each baseline's own behaviour: inputs, accuracy on digits, the majority rule, TF-IDF."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold

from transferkit.baselines import (
    MajorityClassifier,
    PixelMLPClassifier,
    SmallCNNClassifier,
    TfidfLogRegClassifier,
)
from transferkit.baselines._inputs import to_nchw
from transferkit.baselines.small_cnn import _pool_size
from transferkit.errors import DataError


# -- inputs ----------------------------------------------------------------------------------
def test_layouts_agree():
    rng = np.random.default_rng(0)
    chw = rng.normal(size=(4, 3, 10, 12))
    np.testing.assert_array_equal(to_nchw(chw), chw.astype(np.float32))
    np.testing.assert_array_equal(to_nchw(chw.transpose(0, 2, 3, 1)), chw.astype(np.float32))
    assert to_nchw(rng.normal(size=(4, 10, 12))).shape == (4, 1, 10, 12)
    assert to_nchw(rng.normal(size=(4, 7)), allow_flat=True).shape == (4, 1, 1, 7)


@pytest.mark.parametrize("shape", [(4, 7), (4, 5, 6, 7), (4,), (4, 2, 2, 2, 2)])
def test_bad_shapes_raise(shape):
    with pytest.raises(DataError, match="shape"):
        to_nchw(np.zeros(shape))


def test_image_paths(tmp_path):
    paths, y = [], []
    for i in range(8):
        colour = (255, 0, 0) if i % 2 else (0, 0, 255)
        p = tmp_path / f"{i}.png"
        Image.new("RGB", (20 + i, 15), colour).save(p)
        paths.append(str(p))
        y.append(i % 2)
    arr = to_nchw(paths, image_size=16)
    assert arr.shape == (8, 3, 16, 16) and arr.max() <= 1.0
    model = SmallCNNClassifier(filters=4, dense=8, epochs=5, lr=1e-2, image_size=16)
    assert (model.fit(paths, y).predict(paths) == y).mean() == 1.0
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match="bad.png"):
        to_nchw([str(tmp_path / "bad.png")], image_size=16)


def test_predict_on_other_shape_raises(tiny_images):
    X, y = tiny_images
    model = PixelMLPClassifier(hidden=(8,), epochs=1).fit(X, y)
    with pytest.raises(DataError, match="fitted on"):
        model.predict(np.zeros((2, 9, 9)))


def test_cnn_rejects_flat_input_and_bad_params(tiny_images):
    X, y = tiny_images
    with pytest.raises(DataError):
        SmallCNNClassifier(epochs=1).fit(X.reshape(len(X), -1), y)
    with pytest.raises(Exception, match="epochs"):
        SmallCNNClassifier(epochs=0).fit(X, y)


def test_pool_sizes_spread_over_blocks():
    def sizes(n):
        out = [n]
        for left in (3, 2, 1):
            n //= _pool_size(n, 4, left)
            out.append(n)
        return out

    assert sizes(8) == [8, 4, 2, 1]
    assert sizes(64) == [64, 16, 4, 1]
    assert sizes(224) == [224, 56, 14, 3]


def test_cnn_upsampled_input_size(tiny_images):
    X, y = tiny_images
    model = SmallCNNClassifier(filters=4, dense=8, epochs=1, input_size=64).fit(X, y)
    # 64 -> 16 -> 4 -> 1 with 4x4 pooling: the dense layer sees 4 * 1 * 1 features
    assert model.module_[-4].in_features == 4


# -- accuracy on digits ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits_2fold():
    d = load_digits()
    idx = np.random.default_rng(0).permutation(len(d.target))[:600]
    X, y = d.images[idx], d.target[idx]
    return X, y, list(StratifiedKFold(2, shuffle=True, random_state=0).split(X, y))


@pytest.mark.parametrize(
    "factory",
    [
        lambda: PixelMLPClassifier(epochs=15),
        lambda: SmallCNNClassifier(epochs=15, batch_size=16, lr=2e-3),
    ],
    ids=["mlp", "cnn"],
)
def test_digits_accuracy(factory, digits_2fold):
    X, y, folds = digits_2fold
    accs = []
    t0 = time.perf_counter()
    for tr, te in folds:
        accs.append(np.mean(factory().fit(X[tr], y[tr]).predict(X[te]) == y[te]))
    print(f"accuracies {accs}, {time.perf_counter() - t0:.1f}s")
    assert min(accs) > 0.9


def test_majority_is_most_frequent_class():
    y = np.array(["b", "a", "b", "c", "b", "a"])
    model = MajorityClassifier().fit(np.zeros((6, 8, 8)), y)
    assert list(model.predict(np.zeros((3, 8, 8)))) == ["b"] * 3
    np.testing.assert_array_equal(model.predict_proba(np.zeros((1, 2)))[0], [0, 1, 0])


# -- text ------------------------------------------------------------------------------------
def test_tfidf_learns_tiny_sentiment(tiny_texts):
    (X, y), (X_test, y_test) = tiny_texts
    model = TfidfLogRegClassifier().fit(X, y)
    assert model.C_ in model.Cs and model.cv_results_ is not None
    assert np.mean(model.predict(X_test) == y_test) >= 0.9
    vocab = len(model.pipeline_.named_steps["tfidf"].vocabulary_)
    assert model.n_trainable_params_ == vocab + 1  # binary: one coefficient row + intercept


def test_tfidf_too_few_samples_skips_cv_and_rejects_bad_input():
    model = TfidfLogRegClassifier().fit(["good film", "bad film"], [1, 0])
    assert model.cv_results_ is None and model.C_ == model.default_C
    with pytest.raises(DataError, match="string"):
        model.predict([1, 2])
    with pytest.raises(DataError, match="2 classes"):
        TfidfLogRegClassifier().fit(["a", "b"], [1, 1])
