"""Byte-identical image files in different class folders: the label is ambiguous.

Files are grouped by size first (one ``stat`` each); only files whose sizes collide are read
and hashed, so a folder without duplicates costs no extra reads.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict

from .dataset import Skipped


def _digest(path: str) -> bytes | None:
    h = hashlib.blake2b(digest_size=16)
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.digest()


def cross_class_duplicates(records: list[tuple[str, str, str | None]]) -> dict[str, str]:
    """``{path: reason}`` for every file whose exact bytes also appear under another class.

    ``records`` are ``(path, class, split)``. All copies are reported (the label is
    ambiguous, so none of them can be trusted); copies within one class are not reported.
    The reason names another copy and its class: ``duplicate of <path> in class <c>``.
    """
    by_size: dict[int, list[int]] = defaultdict(list)
    for i, (path, _, _) in enumerate(records):
        try:
            by_size[os.path.getsize(path)].append(i)
        except OSError:
            continue
    out: dict[str, str] = {}
    for idx in by_size.values():
        if len(idx) < 2 or len({records[i][1] for i in idx}) < 2:
            continue  # no size collision across classes: nothing to read
        by_hash: dict[bytes, list[int]] = defaultdict(list)
        for i in idx:
            d = _digest(records[i][0])
            if d is not None:
                by_hash[d].append(i)
        for same in by_hash.values():
            if len({records[i][1] for i in same}) < 2:
                continue
            for i in same:
                # name a copy in another class (the first one, in path order)
                other = min((records[j] for j in same if records[j][1] != records[i][1]),
                            key=lambda r: r[0])
                out[records[i][0]] = f"duplicate of {other[0]} in class {other[1]}"
    return out


def drop_cross_class_duplicates(records: list, skipped: list[Skipped]) -> list:
    """Remove cross-class duplicates from ``records`` and list them in ``skipped``."""
    dups = cross_class_duplicates(records)
    if not dups:
        return records
    skipped.extend(Skipped(p, r) for p, r in sorted(dups.items()))
    return [r for r in records if r[0] not in dups]
