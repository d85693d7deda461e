"""The command line: help everywhere, JSON output, one-line errors, fit -> predict -> evaluate -> export."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from transferkit.cli import _register, app

COMMANDS = ["backbones", "extract", "fit", "predict", "evaluate", "export", "compare", "demo"]


def run(*args: str, cwd=None, check=True):
    """Run the real CLI in a subprocess (as a user would)."""
    p = subprocess.run([sys.executable, "-m", "transferkit", *args], capture_output=True, text=True, cwd=cwd)
    if check and p.returncode != 0:
        raise AssertionError(f"transferkit {' '.join(args)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return p


@pytest.fixture(scope="module")
def tiny_images(tmp_path_factory) -> Path:
    """Two visually distinct classes: reddish and bluish noisy squares, 8 per class."""
    from PIL import Image

    root = tmp_path_factory.mktemp("tiny")
    rng = np.random.default_rng(0)
    for cls, base in (("red", (200, 40, 40)), ("blue", (40, 40, 200))):
        (root / cls).mkdir()
        for i in range(8):
            a = np.clip(np.array(base) + rng.normal(0, 25, (48, 48, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(a).save(root / cls / f"{i}.png")
    (root / "notes.txt").write_text("ignored")
    return root


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_command_has_help(cmd):
    from typer.testing import CliRunner

    _register()
    r = CliRunner().invoke(app, [cmd, "--help"])
    assert r.exit_code == 0, r.output
    assert "Usage" in r.output


def test_backbones_json_lists_the_zoo():
    out = json.loads(run("backbones", "--json").stdout)
    names = {b["name"] for b in out}
    assert {"efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2", "mobilenet_v2", "minilm_l6"} <= names
    lite0 = next(b for b in out if b["name"] == "efficientnet_lite0")
    assert lite0["feature_dim"] == 1280 and lite0["license"] and lite0["source"]


def test_backbones_blocks():
    out = json.loads(run("backbones", "--blocks", "--modality", "image", "--json").stdout)
    for b in out:
        assert len(b["blocks"]) == b["num_blocks"] > 1
        assert all(blk["params"] >= 0 for blk in b["blocks"])


def test_user_errors_are_one_line_exit_2(tmp_path):
    p = run("extract", str(tmp_path / "missing"), check=False)
    assert p.returncode == 2
    assert p.stderr.startswith("error: ") and p.stderr.count("\n") == 1, p.stderr
    assert "missing" in p.stderr and "Traceback" not in p.stderr
    p = run("extract", str(tmp_path), "--backbone", "nope", check=False)
    assert p.returncode == 2 and "Traceback" not in p.stderr


def test_unknown_backbone_lists_available(tiny_images):
    p = run("extract", str(tiny_images), "--backbone", "resnet9000", check=False)
    assert p.returncode == 2
    assert "efficientnet_lite0" in p.stderr and "Traceback" not in p.stderr


def test_extract_json_and_cache(tiny_images, tmp_path):
    args = ["extract", str(tiny_images), "--cache-dir", str(tmp_path), "--json", "--out", str(tmp_path / "f")]
    first = json.loads(run(*args).stdout)
    assert first["samples"] == 16 and first["feature_dim"] == 1280 and first["computed"] == 16
    second = json.loads(run(*args).stdout)
    assert second["computed"] == 0 and second["from_cache"] == 16
    assert (tmp_path / "f.safetensors").is_file() and (tmp_path / "f.json").is_file()


def test_extract_lists_skipped_files_by_name(tiny_images, tmp_path):
    import shutil

    root = tmp_path / "data"
    shutil.copytree(tiny_images, root)
    (root / "red" / "empty.jpg").write_bytes(b"")
    (root / "blue" / "fake.png").write_text("not an image")
    p = run("extract", str(root), "--cache-dir", str(tmp_path / "c"), "--no-progress")
    assert "empty.jpg" in p.stdout and "fake.png" in p.stdout and "skipped 2" in p.stdout
    p = run("extract", str(root), "--cache-dir", str(tmp_path / "c"), "--strict", check=False)
    assert p.returncode == 2 and "Traceback" not in p.stderr


def test_fit_predict_evaluate_export(tiny_images, tmp_path):
    model = tmp_path / "model"
    fit = json.loads(run("fit", str(tiny_images), "--out", str(model), "--strategy", "extract",
                         "--cache-dir", str(tmp_path / "c"), "--json").stdout)
    assert fit["strategy"] == "extract" and fit["metrics"]["accuracy"] >= 0.5
    assert (model / "config.json").is_file() and (model / "model.safetensors").is_file()
    assert not list(model.glob("*.pt*")) and not list(model.glob("*.pkl"))

    p = run("predict", str(model), str(tiny_images / "red"), str(tiny_images / "blue" / "0.png"))
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert len(rows) == 9
    assert set(rows[0]) >= {"input", "prediction", "confidence", "p_red", "p_blue"}
    for r in rows:
        assert abs(float(r["p_red"]) + float(r["p_blue"]) - 1) < 1e-4
    assert sum(r["prediction"] == "red" for r in rows[:8]) >= 7
    out_csv = tmp_path / "preds.csv"
    run("predict", str(model), str(tiny_images), "--out", str(out_csv))
    assert len(out_csv.read_text().splitlines()) == 17

    ev = json.loads(run("evaluate", str(model), str(tiny_images), "--json").stdout)
    assert ev["n"] == 16 and ev["accuracy"] >= 0.9 and np.array(ev["confusion"]).sum() == 16

    ex = json.loads(run("export", str(model), "--onnx", "--json").stdout)
    assert Path(ex["path"]).is_file() and ex["max_abs_diff"] <= 1e-4


def test_evaluate_rejects_labels_the_model_never_saw(tiny_images, tmp_path):
    import shutil

    model = tmp_path / "model"
    run("fit", str(tiny_images), "--out", str(model), "--strategy", "extract", "--cache-dir", str(tmp_path / "c"),
        "--no-progress")
    other = tmp_path / "other"
    shutil.copytree(tiny_images, other)
    shutil.copytree(other / "red", other / "green")
    for f in (other / "green").iterdir():  # byte-identical copies across classes would be skipped
        with open(f, "ab") as fh:
            fh.write(b"\0")
    p = run("evaluate", str(model), str(other), check=False)
    assert p.returncode == 2 and "'green'" in p.stderr and "never seen" in p.stderr


def test_predict_on_tampered_model_is_clean_error(tiny_images, tmp_path):
    model = tmp_path / "model"
    run("fit", str(tiny_images), "--out", str(model), "--strategy", "extract", "--cache-dir", str(tmp_path / "c"),
        "--no-progress")
    cfg = json.loads((model / "config.json").read_text())
    cfg["backbone"] = "no_such_backbone"
    (model / "config.json").write_text(json.dumps(cfg))
    p = run("predict", str(model), str(tiny_images / "red" / "0.png"), check=False)
    assert p.returncode == 2 and "no_such_backbone" in p.stderr and "Traceback" not in p.stderr


def test_compare_advise_records_the_advice_in_the_report(tiny_images, tmp_path):
    """`compare --advise`: the advisor's record in results.json, its reason in both reports."""
    out = tmp_path / "report"
    p = run("compare", str(tiny_images), "--out", str(out), "--methods", "majority", "--advise",
            "--cache-dir", str(tmp_path / "c"), "--json", "--test-size", "0.25", "--val-size", "0.25")
    adv = json.loads(p.stdout)["advice"]
    assert adv["backbone"] == "efficientnet_lite0" and adv["scenario"] in (1, 2, 3, 4)
    assert adv["selection_score"] == "logme_z" and "logme_z" in adv["scores"]["efficientnet_lite0"]
    saved = json.loads((out / "results.json").read_text())["advice"]
    assert saved == adv and adv["strategy"] in ("extract", "partial", "scratch", "full")
    assert adv["reason"][:60] in (out / "report.md").read_text()
    assert "<h2>Advice</h2>" in (out / "report.html").read_text()


def test_compare_subset_writes_report(tiny_images, tmp_path):
    out = tmp_path / "report"
    p = run("compare", str(tiny_images), "--out", str(out), "--methods", "majority,extract_linear",
            "--cache-dir", str(tmp_path / "c"), "--json", "--test-size", "0.25", "--val-size", "0.25")
    r = json.loads(p.stdout)
    names = [m["name"] for m in r["methods"]]
    assert names == ["majority", "extract_linear"]
    assert r["dataset"]["n_test"] == 4
    for f in ("report.md", "report.html", "results.json"):
        assert (out / f).is_file()
    maj = r["methods"][0]
    assert maj["accuracy"] == pytest.approx(0.5)
