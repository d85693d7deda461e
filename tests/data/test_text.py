"""CSV/TSV text loading and the Amazon reviews reader, on tiny generated files."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transferkit.data import load_amazon_reviews, load_data, load_text_file, load_text_folder
from transferkit.errors import DataError


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def test_csv_comma(tmp_path):
    p = _write(tmp_path / "a.csv", 'text,label\n"hello, world",pos\nbad movie,neg\nok,pos\n')
    ds = load_text_file(p)
    assert ds.modality == "text"
    assert ds.inputs == ["hello, world", "bad movie", "ok"]
    assert ds.classes == ["neg", "pos"] and ds.y.tolist() == [1, 0, 1]
    assert ds.source == str(p)


def test_tsv_tab_and_quotes_kept(tmp_path):
    p = _write(tmp_path / "a.tsv", 'sentence\tlabel\nhe said "hi\t1\n"quoted" start\t0\n')
    ds = load_text_file(p)
    assert ds.inputs == ['he said "hi', '"quoted" start']  # GLUE style: no quoting in TSV
    assert ds.classes == ["0", "1"] and ds.y.tolist() == [1, 0]


def test_sniffed_delimiters(tmp_path):
    p = _write(tmp_path / "semi.csv", "review;target\ngood;1\nbad;0\n")
    assert load_text_file(p).inputs == ["good", "bad"]
    p = _write(tmp_path / "tab.csv", "text\tlabel\na, b\tx\nc\ty\n")
    assert load_text_file(p).inputs == ["a, b", "c"]


def test_named_columns_and_case(tmp_path):
    p = _write(tmp_path / "a.csv", "id,Body,Sentiment\n1,nice,p\n2,awful,n\n")
    ds = load_text_file(p, text_column="Body", label_column="sentiment")
    assert ds.inputs == ["nice", "awful"] and ds.classes == ["n", "p"]


def test_missing_column_lists_columns(tmp_path):
    p = _write(tmp_path / "a.csv", "id,body,sentiment\n1,nice,p\n")
    with pytest.raises(DataError, match="columns found: id, body, sentiment") as ei:
        load_text_file(p)
    assert "a.csv" in str(ei.value)
    with pytest.raises(DataError, match="no label column 'stars'; columns found: id, body"):
        load_text_file(p, text_column="body", label_column="stars")


def test_non_utf8_names_line(tmp_path):
    lines = ["text,label"] + [f"row {i},a" if i % 2 else f"row {i},b" for i in range(20)]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    data = data.replace(b"row 15", b"row \xe915")  # latin-1 e-acute on line 17
    p = _write(tmp_path / "latin.csv", data)
    with pytest.raises(DataError, match=r"latin\.csv: line 17: not valid UTF-8"):
        load_text_file(p)


def test_bom_accepted(tmp_path):
    p = _write(tmp_path / "bom.csv", "\ufefftext,label\nx,a\ny,b\n")
    assert load_text_file(p).inputs == ["x", "y"]


def test_empty_texts_skipped_and_listed(tmp_path):
    p = _write(tmp_path / "a.csv", "text,label\ngood,1\n  ,0\nbad,0\n,1\nshort\nfine,\n")
    ds = load_text_file(p)
    assert ds.inputs == ["good", "bad"]
    reasons = [s.reason for s in ds.skipped]
    assert reasons == [
        "line 3: empty text", "line 5: empty text",
        "line 6: 1 field(s), expected at least 2", "line 7: empty label",
    ]
    assert ds.skipped[0].path.endswith("a.csv:3")
    with pytest.raises(DataError, match="line 3: empty text"):
        load_text_file(p, strict=True)


def test_numeric_labels_sorted_numerically(tmp_path):
    p = _write(tmp_path / "a.csv", "text,label\na,10\nb,2\nc,1\n")
    assert load_text_file(p).classes == ["1", "2", "10"]


def test_single_class_and_empty_file(tmp_path):
    p = _write(tmp_path / "one.csv", "text,label\na,x\nb,x\n")
    with pytest.raises(DataError, match="at least 2 classes"):
        load_text_file(p)
    p = _write(tmp_path / "empty.csv", "")
    with pytest.raises(DataError, match="empty"):
        load_text_file(p)
    p = _write(tmp_path / "hdr.csv", "text,label\n")
    with pytest.raises(DataError, match="no usable rows"):
        load_text_file(p)


def test_multiline_quoted_field_and_huge_field(tmp_path):
    big = "x" * 300_000  # above the csv module's default 131072 field limit
    p = tmp_path / "a.csv"
    with open(p, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerows([["text", "label"], ["line one\nline two", "a"], [big, "b"]])
    ds = load_text_file(p)
    assert ds.inputs == ["line one\nline two", big]
    assert csv.field_size_limit() == 131072  # restored


def test_text_folder_splits(tmp_path):
    _write(tmp_path / "train.tsv", "sentence\tlabel\na\t0\nb\t1\n")
    _write(tmp_path / "dev.tsv", "sentence\tlabel\nc\t1\n")
    _write(tmp_path / "test.tsv", "sentence\nd\n")  # unlabelled test file
    ds = load_text_folder(tmp_path)
    assert ds.inputs == ["a", "b", "c", "d"]
    assert ds.split.tolist() == ["train", "train", "val", "test"]
    assert ds.y.tolist() == [0, 1, 1, -1]
    assert load_data(tmp_path).split.tolist() == ds.split.tolist()


def test_text_folder_csv_and_missing_train(tmp_path):
    _write(tmp_path / "val.csv", "text,label\nc,1\nd,0\n")
    with pytest.raises(DataError, match="no train"):
        load_text_folder(tmp_path)
    _write(tmp_path / "train.csv", "text,label\na,0\nb,2\n")
    ds = load_data(tmp_path)
    assert ds.classes == ["0", "1", "2"] and ds.split.tolist() == ["train", "train", "val", "val"]


def test_load_data_dispatch_text(tmp_path):
    p = _write(tmp_path / "x.csv", "text,label\na,0\nb,1\n")
    assert load_data(p).modality == "text"
    p2 = _write(tmp_path / "x.txt", "text,label\na,0\nb,1\n")
    assert load_data(p2, modality="text").inputs == ["a", "b"]


AMAZON = """<review>
<unique_id>
1
</unique_id>
<rating>
{rating}
</rating>
<review_text>
{text}
</review_text>
</review>
"""


def test_amazon_reviews(tmp_path):
    dom = tmp_path / "books"
    dom.mkdir()
    pos = AMAZON.format(rating=5, text="Great &quot;book&quot; & fun") + AMAZON.format(
        rating=4, text="Loved it"
    )
    neg = (AMAZON.format(rating=1, text="Awful").encode() + b"\xff\xfe odd bytes"
           + AMAZON.format(rating=2, text="   ").encode())
    _write(dom / "positive.review", pos)
    _write(dom / "negative.review", neg)
    ds = load_amazon_reviews(dom)
    assert ds.classes == ["negative", "positive"]
    assert ds.inputs == ["Awful", 'Great "book" & fun', "Loved it"]
    assert ds.y.tolist() == [0, 1, 1]
    assert [s.reason for s in ds.skipped] == ["empty review text"]
    assert load_data(dom).inputs == ds.inputs


def test_amazon_missing_file(tmp_path):
    _write(tmp_path / "positive.review", AMAZON.format(rating=5, text="x"))
    with pytest.raises(DataError, match="missing negative.review"):
        load_amazon_reviews(tmp_path)


# ------------------------------------------------------------------------------ properties

_PROP_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_cells = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@_PROP_SETTINGS
@given(texts=st.lists(_cells, min_size=1, max_size=8), labels=st.lists(
    st.sampled_from(["a", "b", "c d", "1"]), min_size=8, max_size=8))
def test_csv_roundtrip_property(tmp_path, texts, labels):
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(["text", "label"])
    rows = list(zip(texts, labels, strict=False))
    w.writerows(rows)
    p = _write(tmp_path / "prop.csv", buf.getvalue())
    kept = [(t, lab) for t, lab in rows if t.strip()]
    try:
        ds = load_text_file(p)
    except DataError as exc:
        # allowed only when fewer than two classes survive, or nothing does
        assert len({lab for _, lab in kept}) < 2, str(exc)
        return
    assert ds.inputs == [t for t, _ in kept]
    assert [ds.classes[i] for i in ds.y] == [lab for _, lab in kept]


@_PROP_SETTINGS
@given(data=st.binary(max_size=300), ext=st.sampled_from([".csv", ".tsv"]))
def test_csv_reader_never_crashes_on_bytes(tmp_path, data, ext):
    p = _write(tmp_path / f"fuzz{ext}", b"text,label\n" + data if ext == ".csv"
               else b"text\tlabel\n" + data)
    try:
        ds = load_text_file(p)
    except DataError:
        return
    assert len(ds.inputs) == len(ds.y)
