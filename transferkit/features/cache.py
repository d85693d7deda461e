"""A content-addressed feature cache.

Features are stored per *content* (the hash of an image file's bytes, a text, an array row)
under a folder keyed by the backbone, its weights and the preprocessing, so a second run over
the same data costs nothing, renamed or moved files are still found, and an interrupted run
keeps every shard it finished. Shards are safetensors files written atomically: a crash never
leaves a half-written one.

Layout::

    <root>/features/v1/<backbone>-<spec hash>/spec.json
    <root>/features/v1/<backbone>-<spec hash>/shard-<n>.safetensors   (keys: uint8 (n,16), features)

``root`` is ``cache_dir``, else ``$TRANSFERKIT_CACHE``, else the user's cache folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from pathlib import Path

import numpy as np

from ..errors import ModelFileError
from ..io import load_arrays, save_arrays_atomic, write_json_atomic

FORMAT_VERSION = 1
KEY_BYTES = 16


def default_cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    if cache_dir:
        return Path(cache_dir).expanduser()
    env = os.environ.get("TRANSFERKIT_CACHE")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("transferkit"))


def content_key(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=KEY_BYTES).digest()


def file_key(path: str | os.PathLike) -> bytes:
    h = hashlib.blake2b(digest_size=KEY_BYTES)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.digest()


def spec_hash(spec: dict) -> str:
    blob = json.dumps(spec, sort_keys=True, default=str).encode()
    return hashlib.blake2b(blob, digest_size=8).hexdigest()


class FeatureCache:
    """Features of one (backbone, weights, preprocessing) spec, keyed by content hash."""

    def __init__(self, root: str | os.PathLike | None, spec: dict):
        self.spec = spec
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(spec.get("backbone", "model")))
        self.dir = default_cache_root(root) / "features" / f"v{FORMAT_VERSION}" / f"{safe}-{spec_hash(spec)}"
        self._index: dict[bytes, tuple[Path, int]] | None = None

    # -- reading ------------------------------------------------------------------------
    def _shards(self) -> list[Path]:
        if not self.dir.exists():
            return []
        return sorted(self.dir.glob("shard-*.safetensors"))

    def _load_index(self) -> dict[bytes, tuple[Path, int]]:
        if self._index is None:
            index: dict[bytes, tuple[Path, int]] = {}
            for shard in self._shards():
                try:
                    keys = load_arrays(shard)["keys"]
                except (ModelFileError, KeyError):
                    continue  # unreadable shard: ignored, its items are recomputed
                for i, k in enumerate(keys):
                    index[k.tobytes()] = (shard, i)
            self._index = index
        return self._index

    def __contains__(self, key: bytes) -> bool:
        return key in self._load_index()

    def __len__(self) -> int:
        return len(self._load_index())

    def get_many(self, keys: list[bytes]) -> np.ndarray:
        """Rows for ``keys`` (all must be present), in order."""
        index = self._load_index()
        by_shard: dict[Path, list[tuple[int, int]]] = {}
        for pos, k in enumerate(keys):
            shard, row = index[k]
            by_shard.setdefault(shard, []).append((pos, row))
        out = None
        for shard, pairs in by_shard.items():
            feats = load_arrays(shard)["features"]
            if out is None:
                out = np.empty((len(keys), feats.shape[1]), dtype=np.float32)
            pos, rows = zip(*pairs, strict=True)
            out[list(pos)] = feats[list(rows)]
        if out is None:
            return np.empty((0, 0), dtype=np.float32)
        return out

    # -- writing ------------------------------------------------------------------------
    def add(self, keys: list[bytes], features: np.ndarray) -> Path:
        """Write one shard atomically and add it to the index."""
        self.dir.mkdir(parents=True, exist_ok=True)
        spec_file = self.dir / "spec.json"
        if not spec_file.exists():
            write_json_atomic(spec_file, self.spec)
        key_arr = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), KEY_BYTES)
        name = f"shard-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.safetensors"
        path = self.dir / name
        save_arrays_atomic(path, {"keys": key_arr, "features": np.asarray(features, np.float32)})
        index = self._load_index()
        for i, k in enumerate(keys):
            index[k] = (path, i)
        return path

    def compact(self, max_shards: int = 32) -> None:
        """Merge shards into one when there are more than ``max_shards`` (atomic, then delete)."""
        shards = self._shards()
        if len(shards) <= max_shards:
            return
        index = self._load_index()
        keys = list(index)
        feats = self.get_many(keys)
        new = self.add(keys, feats)
        for s in shards:
            if s != new:
                s.unlink(missing_ok=True)
        self._index = None
