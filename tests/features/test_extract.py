"""Cached feature extraction: cache hits, resume after interruption, fast path accuracy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from transferkit.data.dataset import Dataset
from transferkit.errors import DataError
from transferkit.features import FeatureCache, Features, extract_features
from transferkit.features import extract as extract_mod


def _photos(tmp_path: Path) -> Dataset:
    """Real photographs from scikit-image, saved as JPEGs of different sizes."""
    from PIL import Image
    from skimage import data as sk

    names = ["coffee", "chelsea", "astronaut", "rocket", "hubble_deep_field", "retina", "immunohistochemistry"]
    paths = []
    for i, name in enumerate(names):
        img = Image.fromarray(getattr(sk, name)()).convert("RGB")
        if i % 2:
            img = img.resize((img.width // 2 + 37, img.height // 2 + 11))
        p = tmp_path / f"{name}.jpg"
        img.save(p, quality=92)
        paths.append(str(p))
    y = np.arange(len(paths)) % 2
    return Dataset("image", paths, y, ["a", "b"], source=str(tmp_path))


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    return _photos(tmp_path_factory.mktemp("photos"))


def _cos(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_second_run_comes_from_cache(photos, tmp_path):
    f1 = extract_features(photos, "efficientnet_lite0", cache_dir=tmp_path, progress=False)
    assert f1.X.shape == (len(photos), 1280)
    assert f1.stats["computed"] == len(photos)
    f2 = extract_features(photos, "efficientnet_lite0", cache_dir=tmp_path, progress=False)
    assert f2.stats["computed"] == 0 and f2.stats["from_cache"] == len(photos)
    np.testing.assert_array_equal(f1.X, f2.X)
    np.testing.assert_array_equal(f1.y, photos.y)
    assert f1.ids == list(photos.inputs)


def test_cache_is_keyed_by_content_not_name(photos, tmp_path):
    extract_features(photos, "efficientnet_lite0", cache_dir=tmp_path, progress=False)
    moved = tmp_path / "moved"
    moved.mkdir()
    new_paths = []
    for p in photos.inputs:
        q = moved / ("renamed_" + Path(p).name)
        q.write_bytes(Path(p).read_bytes())
        new_paths.append(str(q))
    ds = Dataset("image", new_paths, photos.y, photos.classes)
    f = extract_features(ds, "efficientnet_lite0", cache_dir=tmp_path, progress=False)
    assert f.stats["computed"] == 0
    # ...and a changed file is recomputed
    Path(new_paths[0]).write_bytes(Path(photos.inputs[1]).read_bytes())
    Path(new_paths[1]).write_bytes(Path(photos.inputs[0]).read_bytes() + b"\0")
    f = extract_features(ds, "efficientnet_lite0", cache_dir=tmp_path, progress=False)
    assert f.stats["computed"] == 1


def test_cache_key_includes_preprocessing(photos, tmp_path):
    a = extract_features(photos, "efficientnet_lite0", cache_dir=tmp_path, progress=False, fast=True)
    b = extract_features(photos, "efficientnet_lite0", cache_dir=tmp_path, progress=False, fast=False)
    assert b.stats["computed"] == len(photos)  # different preprocessing: not reused
    assert a.stats["cache_dir"] != b.stats["cache_dir"]


def test_fast_path_within_cosine_099_of_fp32(photos, tmp_path):
    from transferkit._runtime import cpu_bf16_native

    fast = extract_features(photos, "efficientnet_lite0", cache_dir=tmp_path, progress=False)
    plain = extract_features(photos, "efficientnet_lite0", cache_dir=tmp_path, fast=False, progress=False)
    assert fast.stats["precision"] == ("bf16" if cpu_bf16_native() else "fp32")
    assert plain.stats["precision"] == "fp32"
    assert _cos(fast.X, plain.X).min() >= 0.99
    # bf16 (what the fast path uses on CPUs with native bf16) is checked on every machine
    bf16 = extract_features(photos.subset([0, 2, 3]), "efficientnet_lite0", cache_dir=tmp_path,
                            precision="bf16", progress=False)
    assert bf16.stats["precision"] == "bf16"
    cos = _cos(bf16.X, plain.X[[0, 2, 3]])
    assert cos.min() >= 0.99, cos


def test_interrupted_run_resumes_and_matches(photos, tmp_path, monkeypatch):
    from transferkit.data import images as images_mod

    ref = extract_features(photos, "efficientnet_lite0", cache_dir=tmp_path / "ref", progress=False)

    monkeypatch.setattr(extract_mod, "_SHARD_ITEMS", 2)
    real_read = images_mod.read_image
    third_batch_first = photos.inputs[4]  # batches of 2: the first image of the third batch

    def interrupted_read(path, *a, **k):
        if path == third_batch_first:
            raise KeyboardInterrupt  # the user presses Ctrl-C during the third batch
        return real_read(path, *a, **k)

    # batches are decoded (and embedded) in parallel threads, but collected in order
    monkeypatch.setattr(images_mod, "read_image", interrupted_read)
    with pytest.raises(KeyboardInterrupt):
        extract_features(photos, "efficientnet_lite0", cache_dir=tmp_path / "c", batch_size=2, progress=False)
    spec_dirs = list((tmp_path / "c").rglob("spec.json"))
    assert len(spec_dirs) == 1
    cache_dir = spec_dirs[0].parent
    assert not list(cache_dir.glob("*.tmp")), "no half-written file may remain"
    assert len(list(cache_dir.glob("shard-*.safetensors"))) == 2  # two finished batches kept

    monkeypatch.setattr(images_mod, "read_image", real_read)
    f = extract_features(photos, "efficientnet_lite0", cache_dir=tmp_path / "c", batch_size=2, progress=False)
    assert f.stats["from_cache"] == 4 and f.stats["computed"] == len(photos) - 4
    np.testing.assert_allclose(f.X, ref.X, rtol=0, atol=1e-6)


def test_corrupt_shard_is_ignored_and_recomputed(photos, tmp_path):
    extract_features(photos, "efficientnet_lite0", cache_dir=tmp_path, progress=False)
    shard = next(tmp_path.rglob("shard-*.safetensors"))
    shard.write_bytes(b"garbage")
    f = extract_features(photos, "efficientnet_lite0", cache_dir=tmp_path, progress=False)
    assert f.stats["computed"] == len(photos)


def test_undecodable_file_is_skipped_and_listed(photos, tmp_path):
    bad = tmp_path / "truncated.jpg"
    data = Path(photos.inputs[0]).read_bytes()
    bad.write_bytes(data[: len(data) // 3])
    ds = Dataset("image", list(photos.inputs) + [str(bad)], np.r_[photos.y, 0], photos.classes)
    f = extract_features(ds, "efficientnet_lite0", cache_dir=tmp_path, progress=False)
    assert len(f) == len(photos)
    assert [s.path for s in f.skipped] == [str(bad)]
    assert "truncat" in f.skipped[0].reason.lower()
    with pytest.raises(DataError, match="truncated.jpg"):
        extract_features(ds, "efficientnet_lite0", cache_dir=tmp_path / "s", strict=True, progress=False)


def test_text_features_cached_and_close_to_fp32(tmp_path):
    texts = ["A man is playing a guitar.", "Someone plays an instrument.", "The stock market fell today.",
             "This blender broke after a week, do not buy it.", "Wonderful book, I read it twice!"] * 2
    ds = Dataset("text", texts, np.array([0, 1] * 5), ["neg", "pos"])
    f = extract_features(ds, "minilm_l6", cache_dir=tmp_path, progress=False)
    assert f.X.shape == (10, 384)
    assert f.stats["computed"] == 5  # duplicates computed once
    np.testing.assert_allclose(np.linalg.norm(f.X, axis=1), 1.0, atol=1e-3)
    plain = extract_features(ds, "minilm_l6", cache_dir=tmp_path, fast=False, progress=False)
    assert _cos(f.X, plain.X).min() >= 0.99
    again = extract_features(ds, "minilm_l6", cache_dir=tmp_path, progress=False)
    assert again.stats["computed"] == 0


def test_array_images_digits(tmp_path):
    from sklearn.datasets import load_digits

    d = load_digits()
    ds = Dataset("array", d.images[:12], d.target[:12], [str(i) for i in range(10)])
    f = extract_features(ds, "efficientnet_lite0", cache_dir=tmp_path, progress=False)
    assert f.X.shape == (12, 1280) and np.isfinite(f.X).all()
    bad = Dataset("array", d.data[:5], d.target[:5], [str(i) for i in range(10)], source="flat.npz")
    with pytest.raises(DataError, match="flat.npz"):
        extract_features(bad, "efficientnet_lite0", cache_dir=tmp_path, progress=False)


def test_modality_mismatch_is_a_clear_error(photos, tmp_path):
    with pytest.raises(DataError, match="reads texts"):
        extract_features(photos, "minilm_l6", cache_dir=tmp_path, progress=False)


def test_features_file_round_trip(photos, tmp_path):
    f = extract_features(photos, "efficientnet_lite0", cache_dir=tmp_path, progress=False)
    f.save(tmp_path / "out" / "feats")
    g = Features.load(tmp_path / "out" / "feats")
    np.testing.assert_array_equal(f.X, g.X)
    assert g.ids == f.ids and g.classes == f.classes and g.backbone == "efficientnet_lite0"


def test_env_var_moves_the_cache(photos, tmp_path, monkeypatch):
    monkeypatch.setenv("TRANSFERKIT_CACHE", str(tmp_path / "envcache"))
    f = extract_features(photos.subset([0, 1]), "efficientnet_lite0", progress=False)
    assert str(tmp_path / "envcache") in f.stats["cache_dir"]


def test_cache_compaction_keeps_all_rows(tmp_path):
    cache = FeatureCache(tmp_path, {"backbone": "x"})
    keys = [bytes([i]) * 16 for i in range(40)]
    for i in range(40):
        cache.add([keys[i]], np.full((1, 3), i, np.float32))
    cache.compact(max_shards=8)
    assert len(list(cache.dir.glob("shard-*"))) == 1
    fresh = FeatureCache(tmp_path, {"backbone": "x"})
    np.testing.assert_array_equal(fresh.get_many(keys)[:, 0], np.arange(40))
