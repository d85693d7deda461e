"""Image folders: scanning (cheap header checks) and safe, complete decoding to RGB.

Layouts accepted::

    root/<class>/*.jpg                       # no split
    root/{train,val,test}/<class>/*.jpg      # split folders (also valid/, validation/)

Scanning opens each file's header only (no pixel decode): zero-byte files, files that are not
images, decompression bombs and (PNG/JPEG) truncated files are skipped and listed in
``Dataset.skipped``, or raise :class:`~transferkit.errors.DataError` with ``strict=True``.
Byte-identical files in different class folders (ambiguous label) are all skipped:
``duplicate of <other path> in class <c>``.
:func:`read_image` decodes fully and raises ``DataError`` on any damage; it never returns grey
pixels for a truncated file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import warnings
from collections.abc import Iterator

import numpy as np

from ..errors import DataError
from .dataset import Dataset, Skipped
from .duplicates import drop_cross_class_duplicates

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
)
SPLIT_FOLDERS = {
    "train": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "test": "test",
}
#: PIL's own default limit (``Image.MAX_IMAGE_PIXELS``): about 89 million pixels.
DEFAULT_MAX_PIXELS = 89_478_485
_IGNORED_DIRS = {"__MACOSX", "__pycache__"}
_PNG_END = b"IEND\xaeB`\x82"
_PIL_LIMIT_LOCK = threading.Lock()


def is_image_file(name: str) -> bool:
    """True for a non-hidden file name with an image extension (case-insensitive)."""
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _ignored(name: str) -> bool:
    return name.startswith(".") or name in _IGNORED_DIRS


class _Bomb(Exception):
    """Internal: an image whose header claims more pixels than allowed."""

    def __init__(self, w: int, h: int):
        super().__init__(f"decompression bomb: {w}x{h} pixels")


@contextlib.contextmanager
def _pil_limit(value: int | None) -> Iterator[None]:
    """Set PIL's global ``MAX_IMAGE_PIXELS`` for one ``Image.open`` call, then restore it."""
    from PIL import Image

    with _PIL_LIMIT_LOCK:
        old = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = value
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = old


def _open(path: str, limit: int):
    """``Image.open`` (header only) with PIL's DecompressionBombWarning treated as an error
    and our own pixel limit applied; raises :class:`_Bomb` with the claimed size."""
    from PIL import Image

    bomb = (Image.DecompressionBombError, Image.DecompressionBombWarning)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            pil_limit = Image.MAX_IMAGE_PIXELS
            if pil_limit is None or limit <= pil_limit:
                im = Image.open(path)
            else:  # a limit above PIL's own: raise PIL's just for this call
                with _pil_limit(limit):
                    im = Image.open(path)
    except bomb:
        with _pil_limit(None), Image.open(path) as probe:  # header only, for the message
            raise _Bomb(*probe.size) from None
    if im.size[0] * im.size[1] > limit:
        im.close()
        raise _Bomb(*im.size)
    return im


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    if exc.errno == errno.ENOENT:
        return "broken symlink or missing file"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return f"cannot read file ({exc.strerror or exc})"


def _tail(path: str, n: int = 1024) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - n))
        return fh.read()


def check_image(path: str, max_pixels: int | None = None) -> str | None:
    """Cheap validity check of one image file; return None if usable, else the reason.

    Reads the header only (``Image.open``, no pixel decode), plus the last kilobyte of JPEG
    and PNG files to catch truncation (a JPEG must end with its EOI marker, a PNG with its
    IEND chunk).
    """
    from PIL import UnidentifiedImageError

    limit = DEFAULT_MAX_PIXELS if max_pixels is None else int(max_pixels)
    try:
        st = os.stat(path)
        if st.st_size == 0:
            return "zero-byte file"
        with _open(path, limit) as im:
            fmt = im.format
        tail = _tail(path)
    except _Bomb as exc:
        return str(exc)
    except UnidentifiedImageError:
        return "not an image (cannot identify)"
    except OSError as exc:
        if exc.errno is not None:
            return _os_reason(exc)
        return _decode_reason(exc)
    except (SyntaxError, ValueError, EOFError) as exc:
        return _decode_reason(exc)
    return _tail_reason(fmt, tail)


def _tail_reason(fmt: str | None, tail: bytes) -> str | None:
    if fmt == "JPEG" and b"\xff\xd9" not in tail:
        return "truncated (JPEG has no end marker)"
    if fmt == "PNG" and _PNG_END not in tail:
        return "truncated (PNG has no IEND chunk)"
    return None


def _decode_reason(exc: Exception) -> str:
    msg = " ".join(str(exc).split())
    if "truncated" in msg.lower() or isinstance(exc, EOFError):
        return "truncated"
    return f"corrupt image ({msg or type(exc).__name__})"


# ---------------------------------------------------------------------------------- scanning


def _walk_files(top: str, skipped: list[Skipped], seen: set) -> Iterator[str]:
    """Yield file paths under ``top`` (recursively, following directory symlinks once)."""
    try:
        st = os.stat(top)
    except OSError as exc:
        skipped.append(Skipped(os.path.abspath(top), _os_reason(exc)))
        return
    key = (st.st_dev, st.st_ino)
    if key in seen:
        skipped.append(Skipped(os.path.abspath(top), "symlink loop (folder already visited)"))
        return
    seen.add(key)
    try:
        entries = sorted(os.scandir(top), key=lambda e: e.name)
    except OSError as exc:
        skipped.append(Skipped(os.path.abspath(top), _os_reason(exc)))
        return
    for entry in entries:
        if _ignored(entry.name):
            continue
        try:
            is_dir = entry.is_dir(follow_symlinks=True)
        except OSError:
            is_dir = False
        if is_dir:
            yield from _walk_files(entry.path, skipped, seen)
        elif is_image_file(entry.name):
            yield entry.path


def _subdirs(path: str) -> list[str]:
    out = []
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as exc:
        raise DataError(f"{path}: cannot list folder ({_os_reason(exc)})") from exc
    for entry in entries:
        if _ignored(entry.name):
            continue
        try:
            if entry.is_dir(follow_symlinks=True):
                out.append(entry.name)
        except OSError:
            continue
    return out


def _loose_images(path: str) -> list[str]:
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return []
    return [
        os.path.join(path, n)
        for n in names
        if is_image_file(n) and not os.path.isdir(os.path.join(path, n))
    ]


def scan_image_folder(
    path: str | os.PathLike, *, strict: bool = False, max_pixels: int | None = None
) -> Dataset:
    """Scan an image folder (one sub-folder per class, optionally inside split folders).

    Returns a :class:`Dataset` of absolute image paths sorted by path. Bad files are listed in
    ``skipped`` (or raise :class:`DataError` when ``strict``). Raises ``DataError`` when the path
    is missing, holds no images, has a class folder without a usable image, or only one class.
    """
    root = os.path.abspath(os.fspath(path))
    if not os.path.exists(root):
        raise DataError(f"{root}: path does not exist")
    if not os.path.isdir(root):
        raise DataError(f"{root}: not a folder (expected one sub-folder per class)")
    top = _subdirs(root)
    split_dirs = [d for d in top if d.lower() in SPLIT_FOLDERS]
    if split_dirs and len(split_dirs) != len(top):
        others = sorted(set(top) - set(split_dirs))
        raise DataError(
            f"{root}: mixes split folders ({', '.join(split_dirs)}) with other folders "
            f"({', '.join(others)}); put every class folder inside the split folders"
        )
    skipped: list[Skipped] = []
    # (split name or None, class name, class folder)
    groups: list[tuple[str | None, str, str]] = []
    if split_dirs:
        for d in split_dirs:
            sdir = os.path.join(root, d)
            for loose in _loose_images(sdir):
                skipped.append(Skipped(loose, "image not inside a class folder"))
            for cls in _subdirs(sdir):
                groups.append((SPLIT_FOLDERS[d.lower()], cls, os.path.join(sdir, cls)))
    else:
        for loose in _loose_images(root):
            skipped.append(Skipped(loose, "image not inside a class folder"))
        groups = [(None, cls, os.path.join(root, cls)) for cls in top]
    if not groups:
        raise DataError(f"{root}: no class folders with images found (empty folder?)")

    records: list[tuple[str, str, str | None]] = []  # (path, class, split)
    for split, cls, cdir in groups:
        n_before = len(records)
        found = 0
        for fpath in _walk_files(cdir, skipped, set()):
            found += 1
            reason = check_image(fpath, max_pixels)
            if reason is not None:
                if strict:
                    raise DataError(f"{os.path.abspath(fpath)}: {reason}")
                skipped.append(Skipped(os.path.abspath(fpath), reason))
                continue
            records.append((os.path.abspath(fpath), cls, split))
        if len(records) == n_before:
            what = "no readable image files" if found else "no image files"
            if split is None or found:
                raise DataError(f"{cdir}: class folder '{cls}' has {what}")
            skipped.append(Skipped(cdir, "empty class folder"))
    if not records:
        raise DataError(f"{root}: no readable images found")
    n_skipped = len(skipped)
    records = drop_cross_class_duplicates(records, skipped)
    if strict and len(skipped) > n_skipped:
        s = min(skipped[n_skipped:], key=lambda k: k.path)
        raise DataError(f"{s.path}: {s.reason}")
    if not records:
        raise DataError(f"{root}: every image is a duplicate of one in another class folder")
    classes = sorted({c for _, c, _ in records})
    if len(classes) < 2:
        raise DataError(
            f"{root}: only one class ('{classes[0]}'); needs at least 2 classes "
            "(one sub-folder per class)"
        )
    records.sort(key=lambda r: r[0])
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[c] for _, c, _ in records], dtype=np.int64)
    split_arr = None
    if split_dirs:
        split_arr = np.array([s for _, _, s in records], dtype=object)
    skipped.sort(key=lambda s: s.path)
    return Dataset(
        modality="image",
        inputs=[p for p, _, _ in records],
        y=y,
        classes=classes,
        source=root,
        split=split_arr,
        skipped=skipped,
    )


# ---------------------------------------------------------------------------------- decoding


def read_image(path: str | os.PathLike, draft: tuple[int, int] | None = None,
               max_pixels: int | None = None):
    """Decode an image file completely and return it as an RGB ``PIL.Image.Image``.

    ``draft=(w, h)``: JPEGs are decoded by libjpeg at a reduced scale (1/2, 1/4, 1/8) that is
    still at least ``(w, h)`` (after EXIF rotation), so a later resize is still a downscale.
    EXIF orientation is applied; CMYK, 16-bit, palette, grey and alpha images become RGB
    (alpha composited on white). Raises :class:`DataError` naming the file on any failure,
    including truncated files (never silently filled with grey).
    """
    from PIL import ImageOps, UnidentifiedImageError

    fpath = os.fspath(path)
    limit = DEFAULT_MAX_PIXELS if max_pixels is None else int(max_pixels)
    try:
        if os.path.getsize(fpath) == 0:
            raise DataError(f"{fpath}: zero-byte file")
        with _open(fpath, limit) as im:
            orientation = im.getexif().get(0x0112, 1)
            if draft is not None and im.format == "JPEG":
                dw, dh = int(draft[0]), int(draft[1])
                if orientation in (5, 6, 7, 8):
                    dw, dh = dh, dw  # stored sideways: rotated after decoding
                im.draft("RGB", (dw, dh))
            im.load()
            # also catches truncation when someone set ImageFile.LOAD_TRUNCATED_IMAGES
            reason = _tail_reason(im.format, _tail(fpath))
            if reason is not None:
                raise DataError(f"{fpath}: {reason}")
            out = ImageOps.exif_transpose(im) if orientation in range(2, 9) else im
            return to_rgb(out)
    except DataError:
        raise
    except _Bomb as exc:
        raise DataError(f"{fpath}: {exc}") from None
    except UnidentifiedImageError as exc:
        raise DataError(f"{fpath}: not an image (cannot identify)") from exc
    except OSError as exc:
        reason = _os_reason(exc) if exc.errno is not None else _decode_reason(exc)
        raise DataError(f"{fpath}: {reason}") from exc
    except (SyntaxError, ValueError, EOFError, KeyError, IndexError) as exc:
        raise DataError(f"{fpath}: {_decode_reason(exc)}") from exc


def to_rgb(im):
    """Convert a decoded PIL image of any mode to RGB (alpha composited on white)."""
    from PIL import Image

    mode = im.mode
    if mode == "RGB":
        return im
    if mode in ("P", "PA"):
        im = im.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode.startswith("I;16") or mode in ("I", "F"):
        arr = np.asarray(im).astype(np.float64)
        if mode.startswith("I;16"):
            arr = arr / 257.0
        else:
            hi = float(arr.max()) if arr.size else 0.0
            if mode == "F" and hi <= 1.0:
                arr = arr * 255.0
            elif hi > 255.0:
                arr = arr * (255.0 / (65535.0 if hi <= 65535.0 else hi))
        grey = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, mode="L").convert("RGB")
    return im.convert("RGB")
