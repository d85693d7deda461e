"""Duplicates across class folders (loader level) and the sweep of stale temporary files."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import pytest

from transferkit.data import load_data
from transferkit.errors import DataError

from .conftest import make_folder

# ------------------------------------------------------------------ duplicates across classes


def test_duplicates_only_colliding_sizes_are_hashed(tmp_path, monkeypatch):
    import transferkit.data.duplicates as dmod

    root = make_folder(tmp_path / "p", n_per_class=3)
    sizes = [p.stat().st_size for p in root.rglob("*.png")]
    assert len(set(sizes)) == len(sizes)  # generated noise PNGs: all sizes differ
    hashed = []
    real = dmod._digest
    monkeypatch.setattr(dmod, "_digest", lambda p: hashed.append(p) or real(p))
    (root / "red" / "again.png").write_bytes((root / "red" / "red1.png").read_bytes())
    ds = load_data(root)
    assert len(ds) == 7 and ds.skipped == [] and hashed == []  # same-class copy: not read
    (root / "blue" / "copy.png").write_bytes((root / "red" / "red0.png").read_bytes())
    ds = load_data(root)
    assert sorted(Path(p).name for p in hashed) == ["copy.png", "red0.png"]
    assert len(ds) == 6 and len(ds.skipped) == 2


def test_duplicates_across_split_class_folders(tmp_path):
    root = tmp_path / "s"
    make_folder(root / "train", n_per_class=3)
    make_folder(root / "val", n_per_class=2)
    dup = (root / "train" / "red" / "red0.png").read_bytes()
    (root / "val" / "blue" / "x.png").write_bytes(dup)  # other class: ambiguous
    (root / "val" / "red" / "y.png").write_bytes(dup)  # same class as the original
    ds = load_data(root)
    reasons = {str(Path(s.path).relative_to(root)): s.reason for s in ds.skipped}
    # make_folder draws the same pixels for val/red/red0.png as for train/red/red0.png: four
    # copies, three "red" and one "blue", all dropped
    assert set(reasons) == {"train/red/red0.png", "val/red/red0.png", "val/blue/x.png",
                            "val/red/y.png"}
    assert reasons["val/blue/x.png"] == f"duplicate of {root / 'train/red/red0.png'} in class red"
    assert reasons["train/red/red0.png"] == f"duplicate of {root / 'val/blue/x.png'} in class blue"
    assert len(ds) == 12 - 4
    with pytest.raises(DataError, match="duplicate of"):
        load_data(root, strict=True)


def test_all_copies_gone_leaves_one_class_is_error(tmp_path):
    root = make_folder(tmp_path / "p", n_per_class=1)
    (root / "blue" / "blue0.png").write_bytes((root / "red" / "red0.png").read_bytes())
    with pytest.raises(DataError):
        load_data(root)


# ------------------------------------------------------------------ stale temporary files

def _age(path: Path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_sweep_removes_only_old_files_matching_our_pattern(tmp_path):
    from transferkit.io import sweep_stale_temp

    ours_old = [tmp_path / ".config.json.ab_9xyz1.tmp",
                tmp_path / ".shard-1.safetensors.k2m4n6p8.safetensors.tmp"]
    ours_new = tmp_path / ".config.json.qqqqqqqq.tmp"
    not_ours = [tmp_path / "config.json.abcdefgh.tmp",       # not hidden
                tmp_path / ".config.json.ABCDEFGH.tmp",      # upper case: not mkstemp's
                tmp_path / ".config.json.abcdefg.tmp",       # 7 random characters
                tmp_path / ".config.json.abcdefgh.tmp.bak",
                tmp_path / ".notes.tmp",
                tmp_path / "data.tmp",
                tmp_path / "config.json"]
    for p in [*ours_old, ours_new, *not_ours]:
        p.write_text("x")
        _age(p, 7200)
    _age(ours_new, 60)
    link = tmp_path / ".model.abcdefgh.tmp"  # a symlink with our pattern: never followed
    link.symlink_to(tmp_path / "config.json")
    gone = sweep_stale_temp(tmp_path)
    assert sorted(gone) == sorted(ours_old)
    for p in [ours_new, *not_ours]:
        assert p.exists(), p
    assert link.is_symlink()
    # a target restricts the sweep to that name's temporaries
    (tmp_path / ".a.json.abcdefgh.tmp").write_text("x")
    (tmp_path / ".b.json.abcdefgh.tmp").write_text("x")
    for n in (".a.json.abcdefgh.tmp", ".b.json.abcdefgh.tmp"):
        _age(tmp_path / n, 7200)
    assert [p.name for p in sweep_stale_temp(tmp_path, target="a.json")] == [".a.json.abcdefgh.tmp"]


def test_killed_model_folder_write_is_swept_on_next_save(tmp_path):
    """A killed DA model-folder write leaves ``.m.<random>.tmp/``; the next save of ``m``
    removes it once it is an hour old, and never touches a folder holding sub-folders."""
    from transferkit.adapt import adapt_features
    from transferkit.adapt.modelfile import save_da_model

    rng = np.random.default_rng(0)
    Xs, Xt = rng.normal(size=(30, 3)), rng.normal(size=(30, 3)) + 1
    model, _ = adapt_features(Xs, np.arange(30) % 2, Xt, method="coral")
    stale = tmp_path / ".m.abcdefgh.tmp"
    stale.mkdir()
    (stale / "weights.safetensors").write_bytes(b"half")
    (stale / ".config.json.zzzzzzzz.tmp").write_text("{")
    young = tmp_path / ".m.youngone.tmp"
    young.mkdir()
    nested = tmp_path / ".m.nestedd1.tmp"
    (nested / "sub").mkdir(parents=True)
    other = tmp_path / ".other.abcdefgh.tmp"
    other.mkdir()
    for p in (stale, nested, other, stale / "weights.safetensors"):
        _age(p, 7200)
    save_da_model(tmp_path / "m", model, backbone="none", backbone_config={}, classes=["a", "b"],
                  report={})
    assert not stale.exists()
    assert young.exists() and nested.exists() and other.exists()


def test_killed_cache_shard_write_is_swept(tmp_path):
    """The first shard written into a feature-cache folder removes stale shard temporaries."""
    from transferkit.features.cache import FeatureCache

    cache = FeatureCache(tmp_path, {"backbone": "x", "v": 1})
    cache.dir.mkdir(parents=True)
    stale = cache.dir / ".shard-00000000000000000001-0a1b2c3d.safetensors.k2m4n6p8.safetensors.tmp"
    stale.write_bytes(b"half a shard")
    _age(stale, 7200)
    young = cache.dir / ".shard-00000000000000000002-0a1b2c3d.safetensors.abcdefgh.safetensors.tmp"
    young.write_bytes(b"being written")
    keep = cache.dir / "README.tmp"
    keep.write_text("not ours")
    _age(keep, 7200)
    cache.add([b"k" * 16], np.ones((1, 4), np.float32))
    assert not stale.exists() and young.exists() and keep.exists()
    assert [p.name for p in cache.dir.iterdir() if re.match(r"shard-.*\.safetensors$", p.name)]
