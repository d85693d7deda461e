"""Labelled texts: CSV/TSV files, folders of split files, and the Amazon multi-domain reviews.

CSV/TSV files must be UTF-8 (a byte-order mark is accepted); they are read with the ``csv``
module. ``.tsv``/``.tab`` files are tab-separated without quoting (the GLUE convention, so a
sentence may contain ``"``); other files are comma-, semicolon-, tab- or pipe-separated with
standard CSV quoting, the delimiter being sniffed from the header line.
"""

from __future__ import annotations

import contextlib
import csv
import html
import io
import os
import re
import sys
from collections.abc import Iterator

import numpy as np

from ..errors import DataError
from .dataset import Dataset, Skipped

TEXT_COLUMNS = ("text", "sentence", "review", "content", "document")
LABEL_COLUMNS = ("label", "labels", "target", "class", "y")
TEXT_EXTENSIONS = (".csv", ".tsv", ".tab")
#: file stem -> split name, for folders of split files (train.tsv, dev.tsv, test.tsv...)
SPLIT_STEMS = {
    "train": "train",
    "dev": "val",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "test": "test",
}
_REVIEW_RE = re.compile(r"<review_text>(.*?)</review_text>", re.DOTALL)


@contextlib.contextmanager
def _large_fields() -> Iterator[None]:
    old = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _read_utf8(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise DataError(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{path}: line {line}: not valid UTF-8 (byte 0x{data[exc.start]:02x}); "
            "re-save the file as UTF-8"
        ) from exc


def _sniff_delimiter(header: str) -> str:
    best, best_n = ",", 1
    for cand in (",", "\t", ";", "|"):
        try:
            n = len(next(csv.reader([header], delimiter=cand)))
        except (csv.Error, StopIteration):
            continue
        if n > best_n:
            best, best_n = cand, n
    return best


def _pick_column(header: list[str], wanted: str | None, defaults: tuple[str, ...],
                 what: str, path: str) -> int | None:
    lowered = [h.strip().lower() for h in header]
    if wanted is not None:
        if wanted in header:
            return header.index(wanted)
        if wanted.strip().lower() in lowered:
            return lowered.index(wanted.strip().lower())
        raise DataError(
            f"{path}: no {what} column '{wanted}'; columns found: {', '.join(header) or '(none)'}"
        )
    for name in defaults:
        if name in lowered:
            return lowered.index(name)
    return None


def _label_sort_key(label: str):
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def sort_labels(labels) -> list[str]:
    """Sort class names: numerically when they all look like numbers, else as strings."""
    labels = set(labels)
    if all(_label_sort_key(s)[0] == 0 for s in labels):
        return sorted(labels, key=_label_sort_key)
    return sorted(labels)


def read_text_rows(
    path: str | os.PathLike,
    text_column: str | None = None,
    label_column: str | None = None,
    *,
    require_label: bool = True,
    strict: bool = False,
) -> tuple[list[str], list[str | None], list[Skipped]]:
    """Read one CSV/TSV file; return ``(texts, labels, skipped)`` (labels None if no column)."""
    fpath = os.path.abspath(os.fspath(path))
    if not os.path.isfile(fpath):
        raise DataError(f"{fpath}: file does not exist")
    text = _read_utf8(fpath)
    ext = os.path.splitext(fpath)[1].lower()
    if ext in (".tsv", ".tab"):
        fmt = {"delimiter": "\t", "quoting": csv.QUOTE_NONE}
    else:
        first = text.split("\n", 1)[0].rstrip("\r")
        fmt = {"delimiter": _sniff_delimiter(first)}
    texts: list[str] = []
    labels: list[str | None] = []
    skipped: list[Skipped] = []
    with _large_fields():
        reader = csv.reader(io.StringIO(text, newline=""), **fmt)
        try:
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                raise DataError(f"{fpath}: empty file or empty header line")
            t_idx = _pick_column(header, text_column, TEXT_COLUMNS, "text", fpath)
            if t_idx is None:
                raise DataError(
                    f"{fpath}: no text column (tried {', '.join(TEXT_COLUMNS)}); columns "
                    f"found: {', '.join(header)}; name it with text_column="
                )
            try:
                l_idx = _pick_column(header, label_column, LABEL_COLUMNS, "label", fpath)
            except DataError:
                if require_label:
                    raise
                l_idx = None
            if l_idx is None and require_label:
                raise DataError(
                    f"{fpath}: no label column (tried {', '.join(LABEL_COLUMNS)}); columns "
                    f"found: {', '.join(header)}; name it with label_column="
                )
            need = max(t_idx, -1 if l_idx is None else l_idx) + 1
            for row in reader:
                line = reader.line_num
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # blank line
                where = f"{fpath}:{line}"
                if len(row) < need:
                    reason = f"line {line}: {len(row)} field(s), expected at least {need}"
                elif not row[t_idx].strip():
                    reason = f"line {line}: empty text"
                elif l_idx is not None and not row[l_idx].strip():
                    reason = f"line {line}: empty label"
                else:
                    texts.append(row[t_idx])
                    labels.append(None if l_idx is None else row[l_idx].strip())
                    continue
                if strict:
                    raise DataError(f"{fpath}: {reason}")
                skipped.append(Skipped(where, reason))
        except csv.Error as exc:
            raise DataError(f"{fpath}: line {reader.line_num}: malformed CSV ({exc})") from exc
    return texts, labels, skipped


def _make_dataset(texts, labels, splits, skipped, source, what) -> Dataset:
    known = [lab for lab in labels if lab is not None]
    if not texts:
        raise DataError(f"{source}: no usable rows (all empty or skipped)")
    classes = sort_labels(known)
    if len(classes) < 2:
        found = f"only '{classes[0]}'" if classes else "none"
        raise DataError(f"{source}: needs at least 2 classes in the {what} (found {found})")
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([-1 if lab is None else index[lab] for lab in labels], dtype=np.int64)
    split = None if splits is None else np.array(splits, dtype=object)
    return Dataset("text", list(texts), y, classes, source, split, skipped)


def load_text_file(
    path: str | os.PathLike,
    text_column: str | None = None,
    label_column: str | None = None,
    *,
    strict: bool = False,
) -> Dataset:
    """Load one CSV/TSV file of labelled texts (classes: the label strings, sorted)."""
    fpath = os.path.abspath(os.fspath(path))
    texts, labels, skipped = read_text_rows(fpath, text_column, label_column, strict=strict)
    return _make_dataset(texts, labels, None, skipped, fpath, "label column")


def find_split_files(folder: str | os.PathLike) -> dict[str, list[str]]:
    """Map split name -> CSV/TSV files named like ``train.tsv``, ``dev.csv``, ``test.tsv``."""
    out: dict[str, list[str]] = {}
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return out
    for name in names:
        stem, ext = os.path.splitext(name)
        if ext.lower() in TEXT_EXTENSIONS and stem.lower() in SPLIT_STEMS:
            path = os.path.join(os.path.abspath(folder), name)
            if os.path.isfile(path):
                out.setdefault(SPLIT_STEMS[stem.lower()], []).append(path)
    return out


def load_text_folder(
    folder: str | os.PathLike,
    text_column: str | None = None,
    label_column: str | None = None,
    *,
    strict: bool = False,
) -> Dataset:
    """Load a folder of split files (``train.tsv``, ``dev.tsv`` -> 'val', ``test.tsv``).

    A test file without a label column gets label -1 (unknown) for all its rows.
    """
    root = os.path.abspath(os.fspath(folder))
    files = find_split_files(root)
    if "train" not in files:
        raise DataError(f"{root}: no train.csv / train.tsv file found")
    texts: list[str] = []
    labels: list[str | None] = []
    splits: list[str] = []
    skipped: list[Skipped] = []
    for split in ("train", "val", "test"):
        for path in files.get(split, []):
            t, lab, sk = read_text_rows(
                path, text_column, label_column, require_label=split != "test", strict=strict
            )
            texts += t
            labels += lab
            splits += [split] * len(t)
            skipped += sk
    return _make_dataset(texts, labels, splits, skipped, root, "labelled files")


def load_amazon_reviews(domain_dir: str | os.PathLike) -> Dataset:
    """Load one domain of the Blitzer et al. multi-domain sentiment data.

    ``domain_dir`` holds ``negative.review`` and ``positive.review`` (pseudo-XML, not valid XML:
    parsed with a regular expression; odd bytes are replaced, HTML entities unescaped).
    Classes are ``['negative', 'positive']``; reviews keep their file order, negatives first.
    """
    root = os.path.abspath(os.fspath(domain_dir))
    if not os.path.isdir(root):
        raise DataError(f"{root}: not a folder (expected negative.review and positive.review)")
    classes = ["negative", "positive"]
    texts: list[str] = []
    y: list[int] = []
    skipped: list[Skipped] = []
    for label, cls in enumerate(classes):
        path = os.path.join(root, f"{cls}.review")
        if not os.path.isfile(path):
            raise DataError(f"{root}: missing {cls}.review")
        with open(path, encoding="utf-8", errors="replace") as fh:
            content = fh.read()
        found = 0
        for i, m in enumerate(_REVIEW_RE.finditer(content)):
            found += 1
            body = html.unescape(m.group(1)).strip()
            if not body:
                skipped.append(Skipped(f"{path}#{i + 1}", "empty review text"))
                continue
            texts.append(body)
            y.append(label)
        if not found:
            raise DataError(f"{path}: no <review_text> blocks found")
    return Dataset("text", texts, np.array(y, dtype=np.int64), classes, root, None, skipped)
