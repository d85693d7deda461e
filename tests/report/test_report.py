"""Unit tests of the comparison report: schema, Markdown/terminal tables, HTML, results.json."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys

import pytest
from PIL import Image

from transferkit.errors import TransferkitError
from transferkit.io import read_json
from transferkit.report import (
    ResultsError,
    best_method,
    format_table,
    load_results,
    validate_results,
    write_report,
)
from transferkit.report.formatting import (
    fmt_accuracy,
    fmt_count,
    fmt_params,
    fmt_rate,
    fmt_seconds,
    render_markdown,
)
from transferkit.report.schema import RESULTS_JSON_SCHEMA, CompareResults, MethodResult

from .factory import make_method, make_results

EVIL_CLASS = "<script>alert('x')</script>"
EVIL_METHOD = 'extract <img src=x onerror="alert(1)">'
ERROR_TEXT = "weights file broken: <missing> & 'odd'"


def _report_results() -> dict:
    classes = ["cat", EVIL_CLASS, "fox", "owl"]
    r = make_results(classes=classes)
    r["methods"][3]["error"] = ERROR_TEXT  # "scratch" failed
    r["methods"][3]["history"] = []
    r["methods"][5]["name"] = EVIL_METHOD
    r["methods"][2]["notes"] = "stopped early at epoch 6"
    return r


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One report written once for the module (matplotlib is slow on 2 shared cores)."""
    results = _report_results()
    out = tmp_path_factory.mktemp("report")
    paths = write_report(results, out)
    return {"results": results, "out": out, "paths": paths,
            "html": paths["html"].read_text(encoding="utf-8"),
            "md": paths["markdown"].read_text(encoding="utf-8")}


# --------------------------------------------------------------------------- schema

def test_factory_results_are_valid():
    r = make_results()
    assert validate_results(r) is r


def _set(d: dict, path: str, value) -> None:
    keys = path.split(".")
    for k in keys[:-1]:
        d = d[int(k)] if k.isdigit() else d[k]
    last = keys[-1]
    if value is KeyError:
        del d[last]
    elif last.isdigit():
        d[int(last)] = value
    else:
        d[last] = value


@pytest.mark.parametrize("path,value,message", [
    ("format", "transferkit.compare/2", "format must be 'transferkit.compare/1'"),
    ("title", KeyError, "title is missing"),
    ("created", "yesterday", "created must be an ISO 8601 time"),
    ("dataset.classes", KeyError, "dataset.classes is missing"),
    ("dataset.classes", [], "dataset.classes must be a non-empty list"),
    ("dataset.modality", "video", "dataset.modality must be one of"),
    ("dataset.n_train", True, "dataset.n_train must be an integer"),
    ("dataset.n_test", -1, "dataset.n_test must be an integer >= 0"),
    ("dataset.eval_split", "train", "dataset.eval_split must be one of 'test', 'val'"),
    ("split.val_size", "0.2", "split.val_size must be a finite number in [0, 1]"),
    ("split.protocol", KeyError, "split.protocol is missing"),
    ("advice", "go", "advice must be an object"),
    ("methods", [], "methods must be a non-empty list"),
    ("methods.2.family", "classic", "methods[2].family must be one of 'baseline', 'pretrained'"),
    ("methods.0.accuracy", 1.5, "methods[0].accuracy must be a finite number in [0, 1] or null"),
    ("methods.0.accuracy", float("nan"), "methods[0].accuracy must be a finite number"),
    ("methods.4.trained_params", 12.5, "methods[4].trained_params must be an integer"),
    ("methods.1.history", None, "methods[1].history must be a list"),
    ("methods.1.history.0.epoch", KeyError, "methods[1].history[0].epoch is missing"),
    ("methods.1.confusion", [[1, 2], [3, 4]], "methods[1].confusion must be a 4x4"),
    ("methods.1.options", None, "methods[1].options must be an object"),
    ("methods.6.error", 3, "methods[6].error must be a string or null"),
    ("methods.7.name", "partial", "methods[7].name 'partial' is used by two methods"),
    ("methods.0.notes", KeyError, "methods[0].notes is missing"),
    ("best", "nope", "best names no method: 'nope'"),
    ("environment.cpu_count", KeyError, "environment.cpu_count is missing"),
    ("environment.torch", 2.1, "environment.torch must be a string"),
])
def test_validate_names_the_bad_field(path, value, message):
    r = make_results()
    _set(r, path, value)
    with pytest.raises(ResultsError) as info:
        validate_results(r)
    msg = str(info.value)
    assert isinstance(info.value, TransferkitError)
    assert message in msg
    assert msg.startswith("results: ") and "\n" not in msg


def test_validate_bad_confusion_cell_and_where():
    r = make_results()
    r["methods"][1]["confusion"][2][3] = -4
    with pytest.raises(ResultsError, match=r"^run/results.json: methods\[1\]\.confusion\[2\]\[3\]"):
        validate_results(r, where="run/results.json")
    with pytest.raises(ResultsError, match="the results must be an object"):
        validate_results([1, 2])


def test_validate_accepts_numpy_scalars_nan_losses_and_missing_advice():
    np = pytest.importorskip("numpy")
    r = make_results()
    del r["advice"]
    r["methods"][2]["accuracy"] = np.float32(0.5)
    r["methods"][2]["trained_params"] = np.int64(42)
    r["methods"][2]["history"][-1]["train_loss"] = float("nan")
    validate_results(r)


def test_schema_doc_matches_typeddicts():
    props = RESULTS_JSON_SCHEMA["properties"]
    assert set(props) == set(CompareResults.__annotations__)
    method_props = props["methods"]["items"]["properties"]
    assert set(method_props) == set(MethodResult.__annotations__)
    assert set(props["methods"]["items"]["required"]) == set(MethodResult.__annotations__)
    json.dumps(RESULTS_JSON_SCHEMA)  # the schema itself is JSON


def test_best_method_by_accuracy_skips_errors_and_keeps_given_best():
    r = make_results()
    assert best_method(r) == "partial"
    r["methods"][6]["error"] = "crashed"  # partial
    assert best_method(r) == "full"
    r["methods"][7]["accuracy"] = r["methods"][5]["accuracy"]  # tie -> run first wins
    assert best_method(r) == "extract (mlp)"
    r["best"] = "small CNN"
    assert best_method(r) == "small CNN"
    for m in r["methods"]:
        m["accuracy"] = None
    r["best"] = None
    assert best_method(r) is None


# --------------------------------------------------------------------------- formatting

@pytest.mark.parametrize("fn,value,text", [
    (fmt_accuracy, 0.8734, "87.3%"), (fmt_accuracy, None, "—"), (fmt_accuracy, 1.0, "100.0%"),
    (fmt_seconds, 0.0042, "0.004 s"), (fmt_seconds, 3.214, "3.21 s"), (fmt_seconds, 42.04, "42.0 s"),
    (fmt_seconds, 125.2, "2 min 05 s"), (fmt_seconds, 3725, "1 h 02 min"),
    (fmt_rate, 0.5, "0.50/s"), (fmt_rate, 12.34, "12.3/s"), (fmt_rate, 1234.5, "1,234/s"),
    (fmt_count, 850, "850"), (fmt_count, 12_800, "12.8 k"), (fmt_count, 3_376_168, "3.38 M"),
])
def test_number_formats(fn, value, text):
    assert fn(value) == text


def test_params_show_share_trained():
    assert fmt_params(5_124, 3_376_168) == "5.12 k of 3.38 M"
    assert fmt_params(1000, 1000) == "1.00 k"
    assert fmt_params(None, None) == "—"


def test_markdown_table(report):
    md = report["md"]
    lines = [ln for ln in md.splitlines() if ln.startswith("| ")]
    table = lines[1 : 1 + len(report["results"]["methods"])]
    assert lines[0] == ("| Method | Accuracy | Macro-F1 | Train time | Predict speed | "
                        "Trained params |")
    assert [ln.split(" | ")[0][2:] for ln in table][:3] == ["majority class", "MLP on pixels",
                                                            "small CNN"]
    assert "| **partial** | **91.0%** | **0.905** | **40.0 s** | **215/s** | " \
           "**1.20 M of 3.38 M** |" in table
    assert "| full | 90.0% | 0.899 | 2 min 10 s | 212/s | 3.38 M |" in table
    assert "| majority class | 25.0% | 0.100 | 0.002 s | 250,000/s | 0 |" in table
    scratch = next(ln for ln in table if ln.startswith("| scratch"))
    assert "**error:** weights file broken" in scratch and "%" not in scratch
    assert sum("**" in ln for ln in table) == 2  # only best (and the error label) are bold
    assert "Small data set similar to ImageNet" in md  # advice
    assert "## Environment" in md and "| torch | 2.14.1 |" in md
    assert "stopped early at epoch 6" in md


def test_markdown_escapes_html_and_pipes():
    r = make_results(classes=["a|b", EVIL_CLASS])
    md = render_markdown(r)
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "a\\|b" in md


def test_format_table_for_terminal(report):
    text = format_table(report["results"])
    lines = text.splitlines()
    assert len(lines) == 2 + 8 + 1
    assert lines[0].split() == ["Method", "Accuracy", "Macro-F1", "Train", "time", "Predict",
                                "speed", "Trained", "params"]
    best = [ln for ln in lines[2:10] if ln.startswith("* ")]
    assert len(best) == 1 and best[0].split()[1:3] == ["partial", "91.0%"]
    assert any(ln.lstrip().startswith("scratch") and "error: weights file broken" in ln
               for ln in lines)
    assert lines[-1].endswith("Scores on the test split (100 items).")


# --------------------------------------------------------------------------- files

def test_write_report_files(report):
    paths, out = report["paths"], report["out"]
    assert set(paths) == {"json", "markdown", "html"}
    assert {p.name for p in paths.values()} == {"results.json", "report.md", "report.html"}
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.md", "results.json"]


def test_results_json_round_trip(report):
    data = read_json(report["paths"]["json"])
    expected = dict(report["results"], best="partial")
    assert data == json.loads(json.dumps(expected))
    assert load_results(report["paths"]["json"])["best"] == "partial"


def test_nan_losses_stored_as_null(tmp_path):
    r = make_results(methods=[make_method("a", epochs=2), make_method("b", accuracy=0.3)])
    r["methods"][0]["history"][1]["train_loss"] = float("inf")
    r["methods"][0]["history"][0]["val_loss"] = float("nan")
    p = write_report(r, tmp_path)
    text = p["json"].read_text()
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    assert data["methods"][0]["history"][1]["train_loss"] is None
    assert data["best"] == "a"
    # accuracy, time, learning curves, confusion matrix of "a"
    assert len(re.findall(r'src="data:image/png;base64,', p["html"].read_text())) == 4


def test_invalid_results_write_nothing(tmp_path):
    r = make_results()
    del r["methods"][0]["accuracy"]
    with pytest.raises(ResultsError, match=r"methods\[0\]\.accuracy is missing"):
        write_report(r, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- HTML

def test_html_has_no_external_urls(report):
    html = report["html"]
    assert "http://" not in html and "https://" not in html
    assert "//" not in re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    for attr in re.findall(r'\b(?:src|href)="([^"]*)"', html):
        assert attr.startswith("data:image/png;base64,")
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert "<style>" in html  # CSS inline


def test_html_images_are_decodable_pngs(report):
    uris = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', report["html"])
    assert len(uris) == 4  # accuracy, time, learning curves, confusion matrix
    for b64 in uris:
        im = Image.open(io.BytesIO(base64.b64decode(b64, validate=True)))
        assert im.format == "PNG"
        assert im.width >= 300 and im.height >= 200
        lo, hi = im.convert("L").getextrema()
        assert hi - lo > 100  # not blank


def test_html_escapes_user_strings(report):
    html = report["html"]
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "onerror=" not in html.replace("onerror=&quot;", "")
    assert 'extract &lt;img src=x onerror=&quot;alert(1)&quot;&gt;' in html
    assert "content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\"" in html


def test_html_table_rows_and_error(report):
    html = report["html"]
    tbody = re.search(r'<table id="methods">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", tbody, re.S)
    assert len(rows) == len(report["results"]["methods"])
    scratch = rows[3]
    assert 'colspan="5"' in scratch and "weights file broken: &lt;missing&gt; &amp;" in scratch
    assert "%" not in scratch
    assert re.findall(r'<tr class="best">', tbody) == ['<tr class="best">']
    assert "partial" in rows[6] and "91.0%" in rows[6]
    assert "Small data set similar to ImageNet" in html


def test_import_does_not_load_matplotlib():
    code = ("import sys, transferkit.report; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
