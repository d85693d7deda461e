"""``transferkit adapt`` end to end: arrays (fast) and one tiny image-folder run; then
``predict``/``evaluate`` on the DA model folder."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from transferkit.cli import _register, app


def run(*args: str, check=True):
    p = subprocess.run([sys.executable, "-m", "transferkit", *args], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"transferkit {' '.join(args)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    assert "Traceback" not in p.stderr
    return p


def make_domains(root: Path, seed: int = 0, d: int = 8, n: int = 60, target_labels=True):
    """Source and an affinely shifted target, 3 classes, as .npz files (X, y)."""
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=3.0, size=(3, d))
    ys, yt = rng.integers(0, 3, n), rng.integers(0, 3, n)
    Xs = means[ys] + rng.normal(size=(n, d))
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    Xt = (means[yt] + rng.normal(size=(n, d))) @ (np.diag(rng.uniform(0.5, 2, d)) @ Q) + 1.5
    root.mkdir(parents=True, exist_ok=True)
    np.savez(root / "source.npz", X=Xs.astype(np.float32), y=ys)
    if target_labels:
        np.savez(root / "target.npz", X=Xt.astype(np.float32), y=yt)
    else:
        np.savez(root / "target.npz", X=Xt.astype(np.float32))
    np.savez(root / "new.npz", X=Xt[:7].astype(np.float32), y=yt[:7])
    return root


@pytest.fixture(scope="module")
def domains(tmp_path_factory) -> Path:
    return make_domains(tmp_path_factory.mktemp("da"))


def test_adapt_is_registered_with_help():
    from typer.testing import CliRunner

    _register()
    r = CliRunner().invoke(app, ["adapt", "--help"])
    assert r.exit_code == 0 and "--source" in r.output and "--scorer" in r.output


def test_adapt_arrays_auto_then_predict_and_evaluate(domains, tmp_path):
    out = tmp_path / "m"
    p = run("adapt", "--source", str(domains / "source.npz"), "--target", str(domains / "target.npz"),
            "--method", "auto", "--backbone", "none", "--out", str(out), "--json", "--no-progress")
    r = json.loads(p.stdout)
    assert r["method_requested"] == "auto" and r["method"] in r["report"]["candidate_scores"]
    # the default scorer checks NC's cluster premise first and says which scorer it used
    prem = r["report"]["nc_premise"]
    assert r["report"]["scorer_requested"] == "auto"
    assert r["report"]["scorer"] == ("nc" if prem["holds"] else "agreement")
    assert r["target_labels_used"] is False and r["report"]["target_labels_used"] is False
    assert r["target_accuracy"] is not None and r["n_target_scored"] == 60
    assert r["target_accuracy_note"] == "target labels used only for this report"
    assert set(r["report"]["distances_before"]) >= {"mmd_linear", "coral", "proxy_a"}
    assert (out / "weights.safetensors").is_file() and (out / "config.json").is_file()
    # predict on NEW target rows, same as the library's prediction
    pr = run("predict", str(out), str(domains / "new.npz"))
    rows = list(csv.DictReader(io.StringIO(pr.stdout)))
    assert len(rows) == 7 and rows[0]["prediction"] in ("0", "1", "2")
    import transferkit

    pred = transferkit.load(out)
    X = np.load(domains / "new.npz")["X"]
    assert [row["prediction"] for row in rows] == list(pred.predict(X))
    ev = json.loads(run("evaluate", str(out), str(domains / "target.npz"), "--json").stdout)
    assert ev["n"] == 60 and abs(ev["accuracy"] - r["target_accuracy"]) < 1e-9


def test_adapt_text_output_labels_target_accuracy(domains, tmp_path):
    p = run("adapt", "--source", str(domains / "source.npz"), "--target", str(domains / "target.npz"),
            "--method", "coral", "--backbone", "none", "--out", str(tmp_path / "m"), "--no-progress")
    assert "method: coral" in p.stdout
    assert "(target labels used only for this report)" in p.stdout
    assert "mmd_linear" in p.stdout and "proxy_a" in p.stdout
    assert "model folder:" in p.stdout


def test_unlabelled_target_and_library_call(tmp_path):
    from transferkit.adapt import adapt

    d = make_domains(tmp_path / "u", seed=1, target_labels=False)
    r = adapt(d / "source.npz", d / "target.npz", method="jda", backbone="none",
              out=tmp_path / "m", progress=False)
    assert r.method == "jda" and r.target_accuracy is None and r.n_target == 60
    assert r.to_dict()["target_accuracy_note"] is None
    import transferkit

    X = np.load(d / "new.npz")["X"]
    np.testing.assert_array_equal(transferkit.load(r.out).predict_proba(X),
                                  r.predictor.predict_proba(X))


def test_unknown_method_lists_available(domains, tmp_path):
    p = run("adapt", "--source", str(domains / "source.npz"), "--target", str(domains / "target.npz"),
            "--method", "nope", "--backbone", "none", "--out", str(tmp_path / "m"), check=False)
    assert p.returncode == 2 and p.stderr.count("\n") == 1
    assert "nope" in p.stderr and "available: auto, none" in p.stderr and "coral" in p.stderr
    assert "dann" in p.stderr and "mcc" in p.stderr  # deep methods are listed too
    assert not (tmp_path / "m").exists()


def test_adapt_scorer_nc_tca_compares_source_only_and_tca(domains, tmp_path):
    p = run("adapt", "--source", str(domains / "source.npz"), "--target", str(domains / "target.npz"),
            "--method", "auto", "--scorer", "nc_tca", "--backbone", "none",
            "--out", str(tmp_path / "m"), "--json", "--no-progress")
    r = json.loads(p.stdout)
    assert r["report"]["scorer"] == "nc_tca" and r["method"] in ("none", "tca")
    assert set(r["report"]["candidate_scores"]) == {"none", "tca"}


def test_adapt_scorer_gated_reports_the_gate(domains, tmp_path):
    p = run("adapt", "--source", str(domains / "source.npz"), "--target", str(domains / "target.npz"),
            "--method", "auto", "--scorer", "gated", "--backbone", "none",
            "--out", str(tmp_path / "m"), "--json", "--no-progress")
    rep = json.loads(p.stdout)["report"]
    gate = rep["tca_variance_share"]
    assert rep["scorer_requested"] == "gated" and rep["scorer"] == gate["then"]
    assert gate["then"] == ("nc_tca" if gate["value"] >= gate["threshold"] else "agreement")


@pytest.mark.parametrize("method,scorer,msg", [("dann", "agreement", "only for --method auto"),
                                               ("coral", "nc_tca", "only for --method auto"),
                                               ("tca", "gated", "only for --method auto"),
                                               ("auto", "nope", "expected auto, agreement")])
def test_bad_scorer_is_one_line(domains, tmp_path, method, scorer, msg):
    p = run("adapt", "--source", str(domains / "source.npz"), "--target", str(domains / "target.npz"),
            "--method", method, "--scorer", scorer, "--backbone", "none",
            "--out", str(tmp_path / "m"), check=False)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and msg in p.stderr
    assert not (tmp_path / "m").exists()


def test_runner_registry_is_one_line_to_extend(domains, tmp_path, monkeypatch):
    from transferkit.adapt import adapt, cli_api

    calls = []

    def fake(job):
        calls.append(job.method)
        return cli_api._run_shallow(cli_api.AdaptJob(**{**job.__dict__, "method": "coral"}))

    monkeypatch.setitem(cli_api.RUNNERS, "dann", fake)
    r = adapt(domains / "source.npz", domains / "target.npz", method="dann", backbone="none",
              progress=False)
    assert calls == ["dann"] and r.method == "coral" and r.method_requested == "dann"


def _images(root: Path, shift: int, seed: int):
    from PIL import Image

    rng = np.random.default_rng(seed)
    for cls, base in (("red", (200, 40, 40)), ("blue", (40, 40, 200))):
        (root / cls).mkdir(parents=True)
        for i in range(8):
            a = np.clip(np.array(base) + shift + rng.normal(0, 25, (32, 32, 3)), 0, 255)
            Image.fromarray(a.astype(np.uint8)).save(root / cls / f"{i}.png")
    return root


def test_adapt_image_folders_efficientnet(tmp_path):
    """The one real-backbone case: 8 images per class and domain through efficientnet_lite0.

    In-process (one torch start-up); ``predict``/``evaluate`` then read the features from the
    test's feature cache (``$TRANSFERKIT_CACHE``) instead of recomputing them.
    """
    from typer.testing import CliRunner

    from transferkit.adapt import adapt
    from transferkit.inference import evaluate

    src = _images(tmp_path / "src", 0, 0)
    tgt = _images(tmp_path / "tgt", 40, 1)
    t = time.perf_counter()
    r = adapt(src, tgt, method="coral", backbone="efficientnet_lite0", out=tmp_path / "m",
              progress=False)
    secs = time.perf_counter() - t
    assert r.n_source == 16 and r.n_target == 16 and r.target_accuracy is not None
    _register()
    res = CliRunner().invoke(app, ["predict", str(tmp_path / "m"), str(tgt / "red"), "--json"])
    assert res.exit_code == 0, res.output
    pr = json.loads(res.stdout)
    assert len(pr) == 8 and {e["prediction"] for e in pr} <= {"red", "blue"}
    ev = evaluate(tmp_path / "m", str(tgt))
    assert abs(ev["accuracy"] - r.target_accuracy) < 1e-9
    print(f"image adapt: {secs:.1f} s, target accuracy {r.target_accuracy:.3f}")
    assert secs < 120  # about 20-40 s on an idle 2-core machine


@pytest.mark.parametrize("method", ["mcc", "meda"])
def test_adapt_deep_and_meda_model_folders_predict(domains, tmp_path, method):
    """A deep method (adaptor network) and MEDA (kernel state) through the library call, the
    model folder and ``transferkit.load``: reloaded predictions equal the fitted model's."""
    import transferkit
    from transferkit.adapt import adapt

    out = tmp_path / "m"
    r = adapt(domains / "source.npz", domains / "target.npz", method=method, backbone="none",
              out=out, progress=False)
    assert r.method == method and r.report["target_labels_used"] is False
    assert r.target_accuracy is not None  # scored against the .npz labels, report only
    X = np.load(domains / "new.npz")["X"]
    loaded = transferkit.load(out)
    np.testing.assert_allclose(loaded.predict_proba(X), r.predictor.predict_proba(X), atol=1e-6)
