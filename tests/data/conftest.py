"""Fixtures for the data tests: tiny generated images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

# ``shared_data`` (the real data folder, skipping when absent) comes from tests/conftest.py.


def make_image(path: Path, size=(16, 16), mode="RGB", fmt=None, seed=None, **save_kw) -> Path:
    """Write a small noise image and return its path.

    The default seed comes from the file name, so different files never hold the same bytes
    (byte-identical files in two class folders are skipped as ambiguous duplicates).
    """
    import zlib

    from PIL import Image

    if seed is None:
        seed = zlib.crc32(str(path).encode())
    rng = np.random.default_rng(seed)
    w, h = size
    arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    im = Image.fromarray(arr, "RGB")
    if mode != "RGB":
        im = im.convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, format=fmt, **save_kw)
    return path


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """root/{cat,dog}/ with three 16x16 images each (jpg and png)."""
    root = tmp_path / "imgs"
    for c, cls in enumerate(("cat", "dog")):
        for i in range(3):
            ext = "jpg" if i % 2 == 0 else "png"
            make_image(root / cls / f"{i}.{ext}", seed=10 * c + i)
    return root
