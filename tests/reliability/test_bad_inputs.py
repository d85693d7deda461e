"""The bad-input corpus, end to end through the CLI: one case per test.

For every case the command either exits 2 with one ``error: ...`` line naming the file and the
problem, or skips the file and lists it (path + reason) in the summary, as ``docs/data.md``
documents; never a traceback. The corpus is generated here (tiny files, temporary folders).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from .conftest import (
    assert_one_line_error,
    cli,
    jpeg_bytes,
    noise_image,
    png_bomb,
    png_bytes,
)


def extract_json(path: Path, *extra: str) -> dict:
    r = cli("extract", str(path), "--json", "--no-progress", *extra)
    assert r.code == 0, r
    assert "Traceback" not in r.err
    return json.loads(r.out)


def skipped_reason(summary: dict, bad: Path) -> str:
    found = {s["path"]: s["reason"] for s in summary["skipped"]}
    key = str(bad.absolute())
    assert key in found, (key, summary["skipped"])
    return found[key]


# ------------------------------------------------------------------- bad files: skipped + listed

def _corrupt_scan(b: bytes) -> bytes:
    k = bytearray(b)
    mid = len(k) // 2
    k[mid:mid + 40] = b"\xaa" * 40  # damage the entropy-coded data, keep the end marker
    return bytes(k)


def _corrupt_png(b: bytes) -> bytes:
    k = bytearray(b)
    mid = len(k) // 2
    k[mid:mid + 20] = b"\x00" * 20
    return bytes(k)


SKIP_CASES = {
    # name: (file name, bytes, expected words in the reason)
    "zero_byte": ("empty.jpg", b"", "zero-byte"),
    "truncated_jpeg": ("cut.jpg", jpeg_bytes(1)[:300], "truncated"),
    "truncated_png": ("cut.png", png_bytes(1)[:200], "truncated"),
    "corrupt_jpeg_header": ("hdr.jpg", b"\xff\xd8" + bytes(range(256)) * 2, "not an image"),
    "corrupt_jpeg_data": ("data.jpg", _corrupt_scan(jpeg_bytes(2)), "corrupt"),
    "corrupt_png_data": ("data.png", _corrupt_png(png_bytes(2)), "corrupt"),
    "decompression_bomb": ("bomb.png", png_bomb(20000, 20000), "decompression bomb: 20000x20000"),
    "text_named_jpg": ("notes.jpg", b"just some text, not an image\n" * 10, "not an image"),
}


ODD_MODES = {"cmyk": "cmyk.jpg", "16bit": "deep.png", "palette": "pal.png", "rgba": "alpha.png",
             "grey": "grey.png"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """One folder holding every bad file and every odd-but-valid image, extracted once."""
    from .conftest import make_folder

    root = make_folder(tmp_path_factory.mktemp("corpus") / "photos")
    red = root / "red"
    for name, data, _ in SKIP_CASES.values():
        (red / name).write_bytes(data)
    (red / "loop").symlink_to(red, target_is_directory=True)
    (red / "a.jpg").symlink_to(red / "b.jpg")
    (red / "b.jpg").symlink_to(red / "a.jpg")
    (red / "gone.png").symlink_to(root / "nowhere.png")
    for kind, name in ODD_MODES.items():
        _odd_image(kind, red / name)
    out = tmp_path_factory.mktemp("corpus_out") / "f"
    summary = extract_json(root, "--out", str(out))
    meta = json.loads(out.with_suffix(".json").read_text())
    return root, summary, {Path(i).name for i in meta["ids"]}


@pytest.mark.parametrize("case", sorted(SKIP_CASES))
def test_bad_image_is_skipped_and_listed(corpus, case):
    root, s, used = corpus
    name, _, words = SKIP_CASES[case]
    assert name not in used
    assert words in skipped_reason(s, root / "red" / name)


@pytest.mark.parametrize("kind", sorted(ODD_MODES))
def test_odd_modes_are_used(corpus, kind):
    root, s, used = corpus
    assert ODD_MODES[kind] in used
    assert str(root / "red" / ODD_MODES[kind]) not in {x["path"] for x in s["skipped"]}


def test_corpus_counts(corpus):
    root, s, used = corpus
    assert s["samples"] == 6 + len(ODD_MODES) == len(used)
    assert len(s["skipped"]) == len(SKIP_CASES) + 4  # + loop folder, 2 looping links, dangling


def test_symlink_loop_folder_is_skipped(corpus):
    root, s, _ = corpus
    assert "symlink loop" in skipped_reason(s, root / "red" / "loop")


def test_symlink_loop_file_is_skipped(corpus):
    root, s, _ = corpus
    assert "symlink loop" in skipped_reason(s, root / "red" / "a.jpg")
    assert "symlink loop" in skipped_reason(s, root / "red" / "b.jpg")


def test_dangling_symlink_is_skipped(corpus):
    root, s, _ = corpus
    assert "broken symlink" in skipped_reason(s, root / "red" / "gone.png")


@pytest.mark.parametrize("case", ["zero_byte", "truncated_jpeg", "decompression_bomb", "text_named_jpg"])
def test_bad_image_with_strict_is_one_line_error(folder, case):
    name, data, words = SKIP_CASES[case]
    bad = folder / "red" / name
    bad.write_bytes(data)
    assert_one_line_error(cli("extract", str(folder), "--strict", "--no-progress"), name, words)


def test_text_summary_lists_skipped_file(folder):
    bad = folder / "red" / "empty.jpg"
    bad.write_bytes(b"")
    r = cli("extract", str(folder), "--no-progress")
    assert r.code == 0, r
    assert "skipped 1 file(s)" in r.out and f"{bad}: zero-byte file" in r.out.replace("\n", "")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root reads files whatever their mode")
def test_unreadable_file_is_skipped(folder):
    bad = folder / "red" / "secret.png"
    bad.write_bytes(png_bytes(5))
    bad.chmod(0)
    try:
        s = extract_json(folder)
    finally:
        bad.chmod(0o644)
    assert "permission denied" in skipped_reason(s, bad)


# ------------------------------------------------------------------- odd but valid images: used

def _odd_image(kind: str, path: Path) -> None:
    from PIL import Image

    im = noise_image(7)
    if kind == "cmyk":
        im.convert("CMYK").save(path, "JPEG")
    elif kind == "16bit":
        a = (np.asarray(im.convert("L")).astype(np.uint16) * 257)
        Image.fromarray(a).save(path, "PNG")  # mode I;16
    elif kind == "palette":
        im.convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(path, "PNG")
    elif kind == "rgba":
        im.putalpha(128)
        im.save(path, "PNG")
    elif kind == "grey":
        im.convert("L").save(path, "PNG")


def test_exif_rotated_photo_is_used_upright(folder, tmp_path):
    """A JPEG stored sideways with EXIF orientation 6 gives the features of the upright image."""
    from PIL import Image

    a = np.zeros((32, 48, 3), np.uint8)
    a[:, :16] = (250, 20, 20)           # red left third: orientation matters
    a[:8, 16:] = (20, 20, 250)
    upright = Image.fromarray(a)
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a sideways camera stores
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 270 degrees CCW (90 CW) to display
    red = folder / "red"
    stored.save(red / "rot.jpg", quality=100, exif=exif)
    upright.save(red / "up.jpg", quality=100)
    stored.save(red / "side.jpg", quality=100)  # same pixels, no tag: stays sideways
    s = extract_json(folder, "--out", str(tmp_path / "f"), "--no-fast")
    assert s["samples"] == 9 and s["skipped"] == []
    from safetensors.numpy import load_file

    X = load_file(str(tmp_path / "f.safetensors"))["X"]
    names = [Path(p).name for p in json.loads((tmp_path / "f.json").read_text())["ids"]]
    f = {n: X[names.index(n)] for n in ("rot.jpg", "up.jpg", "side.jpg")}

    def cos(u, v):
        return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))

    assert cos(f["rot.jpg"], f["up.jpg"]) > 0.99
    assert cos(f["rot.jpg"], f["up.jpg"]) > cos(f["rot.jpg"], f["side.jpg"]) + 0.01


# ------------------------------------------------------------------- folder-level problems

def test_class_folder_with_one_image_extracts(folder):
    for p in list((folder / "blue").iterdir())[1:]:
        p.unlink()
    s = extract_json(folder)
    assert s["samples"] == 4


def test_class_folder_with_one_image_cannot_fit(folder, tmp_path):
    for p in list((folder / "blue").iterdir())[1:]:
        p.unlink()
    r = cli("fit", str(folder), "--out", str(tmp_path / "m"), "--no-progress", "--epochs", "1")
    assert_one_line_error(r, "blue")
    assert not (tmp_path / "m").exists()


def test_class_folder_with_only_bad_files_is_one_line_error(folder):
    for p in (folder / "blue").iterdir():
        p.write_bytes(b"")
    assert_one_line_error(cli("extract", str(folder)), "blue", "no readable image files")


def test_duplicate_file_across_classes_is_skipped_in_both(folder):
    """Documented: byte-identical files in two class folders have no trustworthy label, so
    both copies are skipped and listed, each naming the other; copies within one class stay."""
    dup = (folder / "red" / "red0.png").read_bytes()
    (folder / "blue" / "copy.png").write_bytes(dup)
    (folder / "red" / "same_class_copy.png").write_bytes((folder / "red" / "red1.png").read_bytes())
    s = extract_json(folder)
    assert s["samples"] == 8 - 2
    assert skipped_reason(s, folder / "blue" / "copy.png") == (
        f"duplicate of {(folder / 'red' / 'red0.png').absolute()} in class red")
    assert skipped_reason(s, folder / "red" / "red0.png") == (
        f"duplicate of {(folder / 'blue' / 'copy.png').absolute()} in class blue")
    assert len(s["skipped"]) == 2
    assert_one_line_error(cli("extract", str(folder), "--strict", "--no-progress"),
                          "duplicate of", "in class")


# ------------------------------------------------------------------- CSV / TSV texts

def _csv(tmp_path: Path, text: str | bytes, name: str = "t.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


def test_csv_missing_column(tmp_path):
    p = _csv(tmp_path, "body,stars\nnice,5\nbad,1\n")
    assert_one_line_error(cli("extract", str(p), "--backbone", "minilm_l6", "--text-column", "text",
                              "--no-progress"), "t.csv", "body")


def test_csv_no_recognised_columns(tmp_path):
    p = _csv(tmp_path, "body,stars\nnice,5\nbad,1\n")
    assert_one_line_error(cli("extract", str(p), "--backbone", "minilm_l6", "--no-progress"), "t.csv")


def test_csv_wrong_delimiter(tmp_path):
    p = _csv(tmp_path, "text:label\nnice:pos\nbad:neg\n")
    assert_one_line_error(cli("extract", str(p), "--backbone", "minilm_l6", "--no-progress"), "t.csv")


def test_csv_not_utf8(tmp_path):
    p = _csv(tmp_path, b"text,label\nnice,pos\n" + b"caf\xe9 cr\xe8me,neg\n")
    assert_one_line_error(cli("extract", str(p), "--backbone", "minilm_l6", "--no-progress"),
                          "t.csv", "UTF-8")


def test_csv_empty_texts_are_skipped_and_listed(tmp_path):
    p = _csv(tmp_path, "text,label\nnice film,pos\n,neg\nawful film,neg\n   ,pos\ngreat,pos\n")
    s = extract_json(p, "--backbone", "minilm_l6")
    assert s["samples"] == 3
    reasons = [x["reason"] for x in s["skipped"]]
    assert len(reasons) == 2 and all("empty text" in x for x in reasons), reasons
    assert all("t.csv" in x["path"] for x in s["skipped"])


def test_csv_huge_line_is_read(tmp_path):
    huge = "word " * 60_000  # 300 kB in one field, above csv's default 128 kB field limit
    p = _csv(tmp_path, f"text,label\n{huge},pos\nshort text,neg\nanother,pos\n")
    s = extract_json(p, "--backbone", "minilm_l6")
    assert s["samples"] == 3


def test_csv_unterminated_quote(tmp_path):
    p = _csv(tmp_path, 'text,label\n"never closed,pos\nfine,neg\n')
    r = cli("extract", str(p), "--backbone", "minilm_l6", "--no-progress", "--json")
    assert r.code in (0, 2), r
    if r.code == 2:
        assert_one_line_error(r, "t.csv")


def test_csv_single_class(tmp_path):
    p = _csv(tmp_path, "text,label\nnice,pos\ngood,pos\n")
    r = cli("fit", str(p), "--backbone", "minilm_l6", "--out", str(tmp_path / "m"), "--no-progress")
    assert_one_line_error(r, "t.csv")


# ------------------------------------------------------------------- arrays

@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_features_are_one_line_error(tmp_path, bad):
    X = np.random.default_rng(0).normal(size=(20, 8, 8)).astype(np.float32)
    X[5, 3, 3] = bad
    p = tmp_path / "x.npz"
    np.savez(p, X=X, y=np.arange(20) % 2)
    assert_one_line_error(cli("extract", str(p), "--no-progress"), "x.npz", "NaN or inf", "row 5")


def test_pickled_npy_is_refused(tmp_path):
    p = tmp_path / "x.npz"
    np.savez(p, X=np.array([{"a": 1}] * 4, dtype=object), y=np.arange(4) % 2)
    assert_one_line_error(cli("extract", str(p), "--no-progress"), "x.npz")
