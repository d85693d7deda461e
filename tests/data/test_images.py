"""Image folder scanning and safe decoding, on tiny generated fixtures."""

from __future__ import annotations

import errno
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from transferkit.data import images as images_mod
from transferkit.data import load_data, read_image, scan_image_folder
from transferkit.errors import DataError

from .conftest import make_image


def _png_claiming(path: Path, w: int, h: int) -> Path:
    """A tiny PNG file whose header claims w x h pixels (1-bit), with a one-row IDAT."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (1 + (w + 7) // 8))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
                     + chunk(b"IEND", b""))
    return path


def _reasons(ds) -> dict[str, str]:
    return {Path(s.path).name: s.reason for s in ds.skipped}


# ------------------------------------------------------------------------------ good folders


def test_scan_basic(image_folder):
    ds = scan_image_folder(image_folder)
    assert ds.modality == "image"
    assert ds.classes == ["cat", "dog"]
    assert len(ds) == 6 and ds.split is None and ds.skipped == []
    assert ds.inputs == sorted(ds.inputs)
    assert all(os.path.isabs(p) for p in ds.inputs)
    assert ds.y.tolist() == [0, 0, 0, 1, 1, 1]


def test_scan_is_deterministic(image_folder):
    a, b = scan_image_folder(image_folder), scan_image_folder(image_folder)
    assert a.inputs == b.inputs and a.y.tolist() == b.y.tolist()


def test_non_image_files_ignored_silently(image_folder):
    for name in ("notes.txt", "labels.csv", ".DS_Store", ".hidden.jpg", "Thumbs.db"):
        (image_folder / "cat" / name).write_bytes(b"junk")
    (image_folder / ".ipynb_checkpoints").mkdir()
    make_image(image_folder / ".ipynb_checkpoints" / "x.jpg")
    (image_folder / "README.md").write_text("hello")
    ds = scan_image_folder(image_folder)
    assert len(ds) == 6 and ds.skipped == [] and ds.classes == ["cat", "dog"]


def test_extensions_case_insensitive_and_nested(image_folder):
    make_image(image_folder / "cat" / "UPPER.JPEG")
    make_image(image_folder / "dog" / "sub" / "deep.PNG")
    make_image(image_folder / "dog" / "b.bmp", fmt="BMP")
    make_image(image_folder / "dog" / "w.webp", fmt="WEBP")
    make_image(image_folder / "dog" / "t.tiff", fmt="TIFF")
    make_image(image_folder / "dog" / "g.gif", mode="P", fmt="GIF")
    ds = scan_image_folder(image_folder)
    assert len(ds) == 12 and ds.skipped == []


def test_split_folders(tmp_path):
    root = tmp_path / "d"
    make_image(root / "train" / "ants" / "a.jpg")
    make_image(root / "train" / "bees" / "b.jpg")
    make_image(root / "validation" / "ants" / "c.jpg")
    make_image(root / "valid" / "wasps" / "w.jpg")
    make_image(root / "test" / "bees" / "d.jpg")
    ds = scan_image_folder(root)
    assert ds.classes == ["ants", "bees", "wasps"]  # union, sorted
    got = {
        Path(p).name: (s, ds.classes[y])
        for p, s, y in zip(ds.inputs, ds.split, ds.y, strict=True)
    }
    assert got == {
        "a.jpg": ("train", "ants"), "b.jpg": ("train", "bees"), "c.jpg": ("val", "ants"),
        "w.jpg": ("val", "wasps"), "d.jpg": ("test", "bees"),
    }


def test_split_folders_mixed_with_classes_is_an_error(tmp_path):
    make_image(tmp_path / "train" / "a" / "1.jpg")
    make_image(tmp_path / "train" / "b" / "1.jpg")
    make_image(tmp_path / "cats" / "1.jpg")
    with pytest.raises(DataError, match="mixes split folders"):
        scan_image_folder(tmp_path)


# ------------------------------------------------------------------------------ folder errors


def test_missing_path(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        scan_image_folder(tmp_path / "nope")


def test_empty_folder(tmp_path):
    with pytest.raises(DataError, match="no class folders"):
        scan_image_folder(tmp_path)


def test_folder_with_only_text_files(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("x")
    (tmp_path / "b").mkdir()
    with pytest.raises(DataError, match="'a' has no image files"):
        scan_image_folder(tmp_path)


def test_single_class(tmp_path):
    make_image(tmp_path / "only" / "1.jpg")
    make_image(tmp_path / "only" / "2.jpg")
    with pytest.raises(DataError, match="needs at least 2 classes") as ei:
        scan_image_folder(tmp_path)
    assert "\n" not in str(ei.value) and str(tmp_path) in str(ei.value)


def test_class_with_no_readable_files(image_folder):
    bad = image_folder / "empty_ish"
    bad.mkdir()
    (bad / "a.jpg").write_bytes(b"")
    (bad / "b.png").write_text("not a png")
    with pytest.raises(DataError, match="class folder 'empty_ish' has no readable image files"):
        scan_image_folder(image_folder)


def test_loose_images_at_root_are_listed(image_folder):
    make_image(image_folder / "stray.jpg")
    ds = scan_image_folder(image_folder)
    assert _reasons(ds) == {"stray.jpg": "image not inside a class folder"}


# ------------------------------------------------------------------------------ bad files


def _truncate(path: Path, keep: float = 0.5) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


@pytest.fixture
def bad_folder(image_folder):
    cat = image_folder / "cat"
    (cat / "zero.jpg").write_bytes(b"")
    (cat / "text.jpg").write_text("this is not an image\n")
    _truncate(make_image(cat / "trunc.jpg", size=(64, 64), quality=95))
    _truncate(make_image(cat / "trunc.png", size=(64, 64)))
    _png_claiming(cat / "bomb.png", 20000, 20000)
    return image_folder


def test_bad_files_skipped_with_reasons(bad_folder):
    ds = scan_image_folder(bad_folder)
    assert len(ds) == 6
    r = _reasons(ds)
    assert r["zero.jpg"] == "zero-byte file"
    assert r["text.jpg"] == "not an image (cannot identify)"
    assert r["bomb.png"] == "decompression bomb: 20000x20000 pixels"
    assert r["trunc.jpg"].startswith("truncated")
    assert r["trunc.png"].startswith("truncated")
    assert set(r) == {"zero.jpg", "text.jpg", "bomb.png", "trunc.jpg", "trunc.png"}
    assert all(os.path.isabs(s.path) for s in ds.skipped)


@pytest.mark.parametrize("name", ["zero.jpg", "text.jpg", "trunc.jpg", "trunc.png", "bomb.png"])
def test_strict_raises_naming_the_file(bad_folder, name):
    for other in bad_folder.glob("cat/*"):
        if other.name not in (name, "0.jpg", "1.png"):
            other.unlink()
    with pytest.raises(DataError) as ei:
        scan_image_folder(bad_folder, strict=True)
    assert name in str(ei.value)


def test_bomb_limit_is_configurable_and_pil_global_untouched(tmp_path):
    (tmp_path / "a").mkdir()
    big = _png_claiming(tmp_path / "a" / "big.png", 300, 300)
    make_image(tmp_path / "a" / "small.png")
    make_image(tmp_path / "b" / "small.png")
    before = Image.MAX_IMAGE_PIXELS
    ds = scan_image_folder(tmp_path, max_pixels=300 * 300 - 1)
    assert _reasons(ds) == {"big.png": "decompression bomb: 300x300 pixels"}
    # a limit above PIL's default lets a large header through (20000x20000 = 4e8 > 2 x 89M)
    huge = _png_claiming(tmp_path / "b" / "huge.png", 20000, 20000)
    ds = scan_image_folder(tmp_path, max_pixels=5 * 10**8)
    assert str(huge) in ds.inputs and str(big) in ds.inputs
    assert Image.MAX_IMAGE_PIXELS == before


def test_pil_bomb_warning_is_an_error(tmp_path):
    # between PIL's limit and twice it PIL only warns; we must still reject it
    w = h = 10000  # 1e8 pixels: above 89.5M, below 179M
    p = _png_claiming(tmp_path / "warn.png", w, h)
    assert images_mod.check_image(str(p)) == f"decompression bomb: {w}x{h} pixels"
    with pytest.raises(DataError, match="decompression bomb: 10000x10000"):
        read_image(p)


def test_symlink_loops_do_not_crash(image_folder):
    cat = image_folder / "cat"
    os.symlink("loop.jpg", cat / "loop.jpg")  # file symlink pointing at itself
    os.symlink(".", cat / "again")  # folder symlink back to the class folder
    os.symlink("missing.png", cat / "dangling.png")
    ds = scan_image_folder(image_folder)
    r = _reasons(ds)
    assert r["loop.jpg"] == "symlink loop"
    assert r["again"].startswith("symlink loop")
    assert r["dangling.png"].startswith("broken symlink")
    assert len(ds) == 6


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="running as root: file permissions do not block reads "
                           "(covered by test_permission_denied_mocked)")
def test_permission_denied_real(image_folder):  # pragma: no cover - not run as root
    p = image_folder / "cat" / "0.jpg"
    p.chmod(0)
    try:
        ds = scan_image_folder(image_folder)
    finally:
        p.chmod(0o644)
    assert _reasons(ds) == {"0.jpg": "permission denied"}


def test_permission_denied_mocked(image_folder, monkeypatch):
    target = str(image_folder / "cat" / "0.jpg")
    real_open = Image.open

    def fake_open(fp, *a, **k):
        if str(fp) == target:
            raise PermissionError(errno.EACCES, "Permission denied", target)
        return real_open(fp, *a, **k)

    monkeypatch.setattr(Image, "open", fake_open)
    ds = scan_image_folder(image_folder)
    assert _reasons(ds) == {"0.jpg": "permission denied"}
    with pytest.raises(DataError, match="0.jpg: permission denied"):
        read_image(target)


def test_load_data_dispatches_to_images(bad_folder):
    ds = load_data(bad_folder)
    assert ds.modality == "image" and len(ds.skipped) == 5
    with pytest.raises(DataError):
        load_data(bad_folder, strict=True)


# ------------------------------------------------------------------------------ decoding


def test_read_image_rgb(image_folder):
    im = read_image(image_folder / "cat" / "0.jpg")
    assert im.mode == "RGB" and im.size == (16, 16)


@pytest.mark.parametrize("name,maker", [
    ("zero.jpg", lambda p: p.write_bytes(b"")),
    ("text.jpg", lambda p: p.write_text("hello")),
    ("trunc.jpg", lambda p: _truncate(make_image(p, size=(64, 64), quality=95))),
    ("trunc.png", lambda p: _truncate(make_image(p, size=(64, 64)))),
    ("trunc.gif", lambda p: _truncate(make_image(p, size=(64, 64), mode="P"), 0.6)),
])
def test_read_image_raises_on_damage(tmp_path, name, maker):
    p = tmp_path / name
    maker(p)
    with pytest.raises(DataError) as ei:
        read_image(p)
    assert name in str(ei.value) and "\n" not in str(ei.value)


def test_truncated_jpeg_is_not_filled_with_grey(tmp_path):
    from PIL import ImageFile

    p = _truncate(make_image(tmp_path / "t.jpg", size=(64, 64), quality=95), 0.7)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    with pytest.raises(DataError, match="truncated"):
        read_image(p)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # we never set it globally


def test_truncated_jpeg_raises_even_if_pil_global_was_set(tmp_path, monkeypatch):
    from PIL import ImageFile

    p = _truncate(make_image(tmp_path / "t.jpg", size=(64, 64), quality=95), 0.7)
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # another library did this
    with pytest.raises(DataError, match="truncated"):
        read_image(p)


def test_cmyk_jpeg(tmp_path):
    p = make_image(tmp_path / "c.jpg", size=(20, 12), mode="CMYK")
    assert Image.open(p).mode == "CMYK"
    im = read_image(p)
    assert im.mode == "RGB" and im.size == (20, 12)


def test_16bit_grey_png(tmp_path):
    arr = np.zeros((12, 20), dtype=np.uint16)
    arr[0, 0] = 65535
    arr[0, 1] = 32896  # 128 * 257
    p = tmp_path / "g16.png"
    Image.fromarray(arr).save(p)
    assert Image.open(p).mode.startswith("I")
    im = read_image(p)
    assert im.mode == "RGB" and im.size == (20, 12)
    px = np.asarray(im)
    assert px[0, 0].tolist() == [255, 255, 255]
    assert px[0, 1].tolist() == [128, 128, 128]
    assert px[5, 5].tolist() == [0, 0, 0]


def test_palette_and_grey_and_1bit(tmp_path):
    for mode, fmt in (("P", "PNG"), ("P", "GIF"), ("L", "PNG"), ("1", "PNG"), ("LA", "PNG")):
        p = make_image(tmp_path / f"{mode}.{fmt.lower()}", size=(20, 12), mode=mode, fmt=fmt)
        im = read_image(p)
        assert im.mode == "RGB" and im.size == (20, 12), (mode, fmt)


def test_rgba_transparent_becomes_white(tmp_path):
    arr = np.zeros((12, 20, 4), dtype=np.uint8)
    arr[..., 0] = 200
    arr[:, :10, 3] = 0  # left half fully transparent
    arr[:, 10:, 3] = 255
    p = tmp_path / "a.png"
    Image.fromarray(arr, "RGBA").save(p)
    px = np.asarray(read_image(p))
    assert px.shape == (12, 20, 3)
    assert px[0, 0].tolist() == [255, 255, 255]
    assert px[0, 15].tolist() == [200, 0, 0]


def _exif_jpeg(path: Path, size, orientation: int, **kw) -> Path:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return make_image(path, size=size, exif=exif, **kw)


def test_exif_orientation_applied(tmp_path):
    p = _exif_jpeg(tmp_path / "r.jpg", (20, 10), 6)
    im = read_image(p)
    assert im.size == (10, 20) and im.mode == "RGB"


def test_draft_decodes_smaller_but_not_below_request(tmp_path):
    p = make_image(tmp_path / "big.jpg", size=(400, 300))
    im = read_image(p, draft=(90, 70))
    assert im.mode == "RGB"
    assert im.size[0] >= 90 and im.size[1] >= 70
    assert im.size == (100, 75)  # libjpeg 1/4 scale
    assert read_image(p).size == (400, 300)
    png = make_image(tmp_path / "big.png", size=(400, 300))
    assert read_image(png, draft=(90, 70)).size == (400, 300)  # draft is JPEG-only


def test_draft_with_exif_rotation(tmp_path):
    p = _exif_jpeg(tmp_path / "r.jpg", (400, 200), 6)  # displayed as 200 x 400
    im = read_image(p, draft=(100, 200))
    assert im.size == (100, 200)
