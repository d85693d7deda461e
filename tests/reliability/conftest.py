"""Helpers for the reliability suite: an in-process CLI runner and a generated bad-input corpus.

Nothing large is committed: every file is made by the tests, small, in a temporary folder.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def __repr__(self):
        return f"CliResult(code={self.code}, err={self.err[-2000:]!r})"


def cli(*args: str) -> CliResult:
    """Run ``transferkit <args>`` in-process, as ``python -m transferkit`` does.

    Any exception other than ``SystemExit`` escaping ``main`` is what a user would see as a
    traceback, so it fails the test (re-raised with the command line).
    """
    import contextlib
    import sys

    from transferkit.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        old_argv = sys.argv
        sys.argv = ["transferkit", *args]
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException as exc:  # a traceback would reach the user
            raise AssertionError(f"transferkit {' '.join(args)}: uncaught {exc!r}") from exc
        finally:
            sys.argv = old_argv
    return CliResult(code, out.getvalue(), err.getvalue())


def assert_one_line_error(r: CliResult, *needles: str) -> None:
    """Exit status 2, stderr exactly one ``error: ...`` line containing every needle."""
    assert r.code == 2, r
    assert r.err.startswith("error: ") and r.err.count("\n") == 1, r
    assert "Traceback" not in r.err + r.out
    for n in needles:
        assert n in r.err, (n, r.err)


# ------------------------------------------------------------------------------ image corpus

def noise_image(seed: int, size: int = 32, base=(200, 40, 40), mode: str = "RGB"):
    from PIL import Image

    rng = np.random.default_rng(seed)
    a = np.clip(np.array(base) + rng.normal(0, 25, (size, size, 3)), 0, 255).astype(np.uint8)
    im = Image.fromarray(a)
    return im if mode == "RGB" else im.convert(mode)


def make_folder(root: Path, n_per_class: int = 3, size: int = 32) -> Path:
    """``root/{red,blue}/*.png``: two classes of small noisy squares."""
    for c, (cls, base) in enumerate((("red", (200, 40, 40)), ("blue", (40, 40, 200)))):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n_per_class):
            noise_image(100 * c + i, size, base).save(root / cls / f"{cls}{i}.png")
    return root


def jpeg_bytes(seed: int = 0, size: int = 32, **kw) -> bytes:
    buf = io.BytesIO()
    noise_image(seed, size).save(buf, "JPEG", quality=90, **kw)
    return buf.getvalue()


def png_bytes(seed: int = 0, size: int = 32) -> bytes:
    buf = io.BytesIO()
    noise_image(seed, size).save(buf, "PNG")
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A valid-looking PNG header claiming ``width x height`` pixels (a few hundred bytes)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grey
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _chunk(b"IEND", b""))


@pytest.fixture
def folder(tmp_path) -> Path:
    return make_folder(tmp_path / "photos")
