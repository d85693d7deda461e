"""Safe file writing and reading: atomic writes, JSON, safetensors. Never pickle."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import ModelFileError, TransferkitError

#: write failures a user causes or must fix (full disk, quota, read-only or forbidden folder):
#: one-line errors instead of tracebacks
_USER_WRITE_ERRNOS = frozenset(
    getattr(errno, n) for n in ("ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "EFBIG")
    if hasattr(errno, n)
)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success, rename it over ``path``.

    The rename is atomic on POSIX filesystems, so readers see either the old file or the new
    complete file, never a half-written one. On any exception the temporary file is removed
    and ``path`` is left untouched. A full disk, a quota, a read-only or forbidden folder
    (``ENOSPC``, ``EDQUOT``, ``EROFS``, ``EACCES``, ``EPERM``, ``EFBIG``) raise
    :class:`~transferkit.errors.TransferkitError` naming ``path``.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + ".tmp", dir=path.parent)
    except OSError as exc:
        _raise_write_error(path, exc)
        raise
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; give the usual file mode
        os.replace(tmp_path, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        if isinstance(exc, OSError):
            _raise_write_error(path, exc)
        raise


def _raise_write_error(path: Path, exc: OSError) -> None:
    """Re-raise a user-fixable write failure as a one-line :class:`TransferkitError`."""
    if exc.errno in _USER_WRITE_ERRNOS:
        raise TransferkitError(f"{path}: cannot write ({exc.strerror or exc})") from exc


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def read_json(path: str | os.PathLike) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(f"{path}: file not found") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: not valid JSON ({exc})") from None


def _save(path, data: dict, metadata: dict | None, save_file) -> None:
    meta = {k: str(v) for k, v in (metadata or {}).items()}
    with atomic_path(path, suffix=".safetensors") as tmp:
        save_file(data, str(tmp), metadata=meta)


def _load(path, load_file) -> dict:
    from safetensors import SafetensorError

    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: file not found")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(f"{path}: not a valid safetensors file ({exc})") from None


def save_tensors_atomic(path: str | os.PathLike, tensors: dict, metadata: dict | None = None) -> None:
    """Write a dict of torch tensors as safetensors, atomically."""
    from safetensors.torch import save_file

    _save(path, {k: v.detach().contiguous().cpu() for k, v in tensors.items()}, metadata, save_file)


def load_tensors(path: str | os.PathLike) -> dict:
    """Read a safetensors file into a dict of torch tensors (no code execution possible)."""
    from safetensors.torch import load_file

    return _load(path, load_file)


def save_arrays_atomic(path: str | os.PathLike, arrays: dict, metadata: dict | None = None) -> None:
    """Write a dict of numpy arrays as safetensors, atomically."""
    import numpy as np
    from safetensors.numpy import save_file

    _save(path, {k: np.ascontiguousarray(v) for k, v in arrays.items()}, metadata, save_file)


def load_arrays(path: str | os.PathLike) -> dict:
    """Read a safetensors file into a dict of numpy arrays."""
    from safetensors.numpy import load_file

    return _load(path, load_file)
