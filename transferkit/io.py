"""Safe file writing and reading: atomic writes, JSON, safetensors. Never pickle."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import tempfile
import time
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

    The first write of a name (or of a feature-cache shard) into a folder in a process also
    removes stale temporaries of that name (or of any shard) left there by killed writes:
    ours only, older than an hour (:func:`sweep_stale_temp`).
    The rename is atomic on POSIX filesystems, so readers see either the old file or the new
    complete file, never a half-written one. On any exception the temporary file is removed
    and ``path`` is left untouched. A full disk, a quota, a read-only or forbidden folder
    (``ENOSPC``, ``EDQUOT``, ``EROFS``, ``EACCES``, ``EPERM``, ``EFBIG``) raise
    :class:`~transferkit.errors.TransferkitError` naming ``path``.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _sweep_once(path)
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


#: a temporary name made by :func:`atomic_path` (``mkstemp``: 8 characters of
#: ``[a-z0-9_]``; suffix ``''`` or ``'.safetensors'``) or by a model-folder write (``mkdtemp``):
#: ``.<target name>.<8 random>[.safetensors].tmp``
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}(?:\.safetensors)?\.tmp$")
#: temporary files younger than this may belong to a write still running: never removed
STALE_TEMP_SECONDS = 3600.0
#: output names written in families: the temporaries of the whole family are swept together
#: (the feature cache's uniquely named shards, ``shard-<ns>-<8 hex>.safetensors``)
_FAMILIES = (re.compile(r"shard-\d{20}-[0-9a-f]{8}\.safetensors"),)
_SWEPT: set[tuple[str, str]] = set()


def is_temp_name(name: str, target: str | re.Pattern | None = None) -> bool:
    """True if ``name`` is exactly one of our temporary names, of ``target`` if given (a name,
    or a compiled pattern the whole target name must match)."""
    m = _TEMP_NAME.match(name)
    if m is None or target is None:
        return m is not None
    if isinstance(target, re.Pattern):
        return target.fullmatch(m.group("target")) is not None
    return m.group("target") == target


def sweep_stale_temp(folder: str | os.PathLike, *, target: str | re.Pattern | None = None,
                     max_age_s: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Remove temporary files left in ``folder`` by killed atomic writes; return what went.

    Only entries whose name matches our temporary-name pattern exactly
    (``.<target>.<8 random>[.safetensors].tmp``; with ``target``, only temporaries of that
    name, or of names the compiled pattern ``target`` matches) and whose modification time is
    older than ``max_age_s`` are removed: a younger one may belong to a write still running in
    another process. Plain files are unlinked; a folder (a killed model-folder write) only
    with a ``target`` name given and only when it holds nothing but plain files. Symlinks and
    everything else are never touched; errors (a file removed meanwhile, no permission) are
    ignored.
    """
    folder = Path(folder)
    now = time.time()
    gone: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return gone
    for e in entries:
        if not is_temp_name(e.name, target):
            continue
        try:
            if e.is_symlink() or now - e.stat(follow_symlinks=False).st_mtime < max_age_s:
                continue
            if e.is_file(follow_symlinks=False):
                os.unlink(e.path)
            elif isinstance(target, str) and e.is_dir(follow_symlinks=False):
                inner = list(os.scandir(e.path))
                if not all(i.is_file(follow_symlinks=False) for i in inner):
                    continue
                for i in inner:
                    os.unlink(i.path)
                os.rmdir(e.path)
            else:
                continue
        except OSError:
            continue
        gone.append(Path(e.path))
    return gone


def _sweep_once(path: Path) -> None:
    """Before writing ``path``: remove stale temporaries of ``path`` (or of its family of
    names, e.g. every feature-cache shard) in its folder, once per process and target."""
    target: str | re.Pattern = path.name
    for fam in _FAMILIES:
        if fam.fullmatch(path.name):
            target = fam
    key = (str(path.parent.absolute()), target if isinstance(target, str) else target.pattern)
    if key not in _SWEPT:
        _SWEPT.add(key)
        sweep_stale_temp(path.parent, target=target)


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


@contextlib.contextmanager
def atomic_folder(out: str | os.PathLike):
    """Build a folder in a hidden temporary sibling, then swap it in for ``out``.

    ``with atomic_folder(out) as tmp: ...`` writes into ``tmp``; on success an existing ``out``
    is moved aside, ``tmp`` renamed to ``out`` and the old folder removed, so a reader sees the
    old folder or the new one, never a mix. On any error (or a kill) ``out`` is untouched and
    ``tmp`` removed (a killed run's leftover is swept by :func:`sweep_stale_temp`).
    """
    out = Path(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        yield tmp
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}-{time.time_ns()}")
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
