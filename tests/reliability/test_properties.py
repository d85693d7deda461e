"""Property-based tests (hypothesis) of the readers and the CLI argument parsing.

Whatever the bytes or arguments: the documented outcome (a Dataset, an RGB image, a skip reason,
exit 0) or a documented error (``TransferkitError`` in the API, exit 2 with no traceback in the
CLI); never another exception. ``bench/fuzz_readers.py`` runs the same properties much longer.
"""

from __future__ import annotations

import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transferkit.errors import TransferkitError

from .conftest import cli, jpeg_bytes, png_bytes

SETTINGS = settings(max_examples=50, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SEEDS = {"png": png_bytes(0, 16), "jpeg": jpeg_bytes(0, 16)}


# ------------------------------------------------------------------------- mutations (shared)

@st.composite
def mutated_image(draw):
    """A valid small PNG/JPEG with random byte flips, cuts, inserts; or random bytes."""
    kind = draw(st.sampled_from(["png", "jpeg", "random"]))
    if kind == "random":
        return draw(st.binary(max_size=512))
    b = bytearray(SEEDS[kind])
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        pos = draw(st.integers(0, max(0, len(b) - 1)))
        if op == "flip" and b:
            b[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del b[pos:pos + draw(st.integers(1, 64))]
        else:
            b[pos:pos] = draw(st.binary(min_size=1, max_size=32))
    return bytes(b)


def check_image_bytes(data: bytes, suffix: str) -> str:
    """The reader properties on one input; returns the outcome ('ok', 'skip', 'error')."""
    from transferkit.data import check_image, read_image

    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "x" + suffix)
        with open(p, "wb") as fh:
            fh.write(data)
        reason = check_image(p)
        assert reason is None or (isinstance(reason, str) and "\n" not in reason)
        try:
            im = read_image(p, draft=(8, 8))
        except TransferkitError as exc:
            assert p in str(exc) and "\n" not in str(exc)
            return "skip" if reason else "error"
        assert im.mode == "RGB" and im.size[0] > 0 and im.size[1] > 0
        return "ok"


def check_text_bytes(data: bytes, suffix: str) -> str:
    """``load_data`` on a CSV/TSV: a Dataset or a ``DataError``, nothing else."""
    from transferkit.data import load_data

    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "t" + suffix)
        with open(p, "wb") as fh:
            fh.write(data)
        try:
            ds = load_data(p)
        except TransferkitError as exc:
            assert "\n" not in str(exc)
            return "error"
        assert len(ds.inputs) == len(ds.y) and all(isinstance(t, str) and t.strip() for t in ds.inputs)
        assert len(ds.classes) >= 1
        return "ok"


@st.composite
def csv_bytes(draw):
    """CSV-ish files: a header with chosen or random names, rows of random cells and delimiters."""
    delim = draw(st.sampled_from([",", ";", "\t", "|", ":"]))
    header = draw(st.sampled_from([["text", "label"], ["label", "text"], ["sentence", "y"],
                                   ["body", "stars"], ["text"]]))
    cell = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
    rows = draw(st.lists(st.lists(cell, min_size=0, max_size=3), max_size=8))
    text = "\n".join(delim.join(r) for r in [header, *rows]) + draw(st.sampled_from(["", "\n", "\r\n"]))
    data = text.encode("utf-8")
    if draw(st.booleans()):  # sometimes damage the bytes (non-UTF-8, NUL, cut)
        pos = draw(st.integers(0, len(data)))
        data = data[:pos] + draw(st.binary(max_size=8)) + data[pos:]
    return data


# ------------------------------------------------------------------------- properties

@SETTINGS
@given(data=mutated_image(), suffix=st.sampled_from([".png", ".jpg", ".gif", ".bmp"]))
def test_image_reader_never_crashes(data, suffix):
    check_image_bytes(data, suffix)


@SETTINGS
@given(data=csv_bytes(), suffix=st.sampled_from([".csv", ".tsv"]))
def test_csv_reader_never_crashes(data, suffix):
    check_text_bytes(data, suffix)


@SETTINGS
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".tsv"]))
def test_csv_reader_random_bytes(data, suffix):
    check_text_bytes(data, suffix)


# ------------------------------------------------------------------------- CLI parsing

_WORD = st.sampled_from(["0", "-1", "1e9", "abc", "", "=", "x=1", "epochs=two", "lr=-1",
                         "batch_size=0", "k=99", "head=cnn", "nan", "../..", "a=b=c"])
_OPTS = {
    "fit": ["--strategy", "--epochs", "--lr", "--k", "--head", "--set", "--val-size", "--seed",
            "--device", "--backbone", "--resume", "--json"],
    "extract": ["--backbone", "--batch-size", "--precision", "--device", "--text-column",
                "--strict", "--json", "--fast"],
    "predict": ["--text-column", "--adapt", "--json"],
    "evaluate": ["--text-column", "--label-column", "--json"],
    "export": ["--onnx", "--out", "--json"],
    "compare": ["--methods", "--epochs", "--image-size", "--val-size", "--test-size", "--seed"],
    "backbones": ["--json", "--blocks", "--modality"],
}
_FLAGS = {"--resume", "--json", "--strict", "--fast", "--onnx", "--blocks"}


@st.composite
def argv(draw, missing: str):
    cmd = draw(st.sampled_from(sorted(_OPTS)))
    args = [cmd]
    if cmd in ("fit", "extract", "compare"):
        args.append(missing)
    elif cmd in ("predict", "evaluate"):
        args += [missing, missing]
    elif cmd == "export":
        args.append(missing)
    for _ in range(draw(st.integers(0, 4))):
        opt = draw(st.sampled_from(_OPTS[cmd] + ["--nope"]))
        args.append(opt)
        if opt not in _FLAGS and draw(st.integers(0, 9)):  # sometimes drop the value
            args.append(draw(_WORD))
    return args


@pytest.fixture(scope="module")
def missing_path(tmp_path_factory):
    return str(tmp_path_factory.mktemp("cli") / "does-not-exist")


@SETTINGS
@given(data=st.data())
def test_cli_arguments_never_traceback(data, missing_path):
    """Random options and values on every command, data paths that do not exist: exit 0 or 2,
    no traceback; exit 2 is either click's usage error or our one ``error:`` line."""
    args = data.draw(argv(missing_path))
    r = cli(*args)  # an uncaught exception fails here
    assert r.code in (0, 2), (args, r)
    assert "Traceback" not in r.err + r.out
    if r.code == 2 and not r.err.lstrip().startswith(("Usage:", "Error", "╭─ Error")):
        assert r.err.startswith("error: ") and r.err.count("\n") == 1, (args, r)


@pytest.mark.parametrize("pairs", [["epochs=two"], ["batch_size=0"], ["nope=1"], ["lr=-1"],
                                   ["k=abc"], ["epochs"]])
def test_bad_set_values_are_one_line_errors(pairs, missing_path, tmp_path):
    from .conftest import assert_one_line_error, make_folder

    data = make_folder(tmp_path / "p")
    args = ["fit", str(data), "--out", str(tmp_path / "m"), "--no-progress"]
    for p in pairs:
        args += ["--set", p]
    assert_one_line_error(cli(*args))
    assert not (tmp_path / "m").exists()
