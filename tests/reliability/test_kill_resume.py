"""Faults: SIGKILL ``extract``, ``fit`` and ``compare`` at seeded random moments.

For every kill point: (a) no output file is left half-written (each output either does not exist
or loads completely), (b) the rerun (``--resume`` for ``fit``) finishes with the same result as an
uninterrupted run with the same seed. Each command runs in a real subprocess, as a user runs it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from .conftest import make_folder

pytestmark = pytest.mark.slow

KILL_POINTS = 3
#: figures printed at the end of each test (run with -s to see them)
SUMMARY: list[dict] = []


def _env() -> dict:
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "2")
    return env


def run(args: list[str]) -> tuple[subprocess.CompletedProcess, float]:
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "transferkit", *args], capture_output=True, text=True,
                       env=_env(), timeout=600)
    assert p.returncode == 0, f"transferkit {' '.join(args)} failed:\n{p.stderr[-3000:]}"
    assert "Traceback" not in p.stderr
    return p, time.perf_counter() - t


def run_and_kill(args: list[str], delay: float, when=None) -> tuple[int, float]:
    """Start the command; SIGKILL it ``delay`` seconds after ``when()`` first holds (polled
    every 5 ms; ``None``: after start). Returns (return code, -9 if killed; seconds run)."""
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "transferkit", *args], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=_env())
    while when is not None and p.poll() is None and not when():
        time.sleep(0.005)
    try:
        p.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
    return p.returncode, round(time.perf_counter() - t0, 2)


def moments(total: float, seed: int, events: list) -> list[tuple[float, object]]:
    """Kill moments: one seeded time in the run (start-up/loading), then each event
    (a predicate on the files written so far) plus a seeded delay of 0-50 ms."""
    rng = np.random.default_rng(seed)
    return [(float(total * rng.uniform(0.3, 0.8)), None)] + [
        (float(rng.uniform(0, 0.05)), e) for e in events]


def temp_files(*folders: Path) -> list[str]:
    """Temporary files left by a killed atomic write (hidden ``.*.tmp``): never outputs."""
    out = []
    for f in folders:
        if f.exists():
            out += [str(p) for p in f.rglob("*") if p.name.endswith(".tmp")]
    return out


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    return make_folder(tmp_path_factory.mktemp("kill") / "photos", n_per_class=6, size=32)


# --------------------------------------------------------------------------------- extract

def _features_complete(out: Path) -> bool | None:
    """None if no output yet; True if both files load; raises if one is half-written."""
    from transferkit.io import load_arrays, read_json

    st, js = out.with_suffix(".safetensors"), out.with_suffix(".json")
    if not st.exists() and not js.exists():
        return None
    if st.exists():
        load_arrays(st)  # raises ModelFileError on a half-written file
    if js.exists():
        read_json(js)
    return st.exists() and js.exists()


def _n_shards(cache: Path) -> int:
    return len(list(cache.rglob("shard-*.safetensors"))) if cache.exists() else 0


def test_kill_extract(images, tmp_path):
    base = ["extract", str(images), "--json", "--no-progress", "--batch-size", "4"]
    ref_out = tmp_path / "ref" / "f"
    _, total = run([*base, "--cache-dir", str(tmp_path / "ref_cache"), "--out", str(ref_out)])
    ref = np.asarray(__import__("safetensors.numpy", fromlist=["x"]).load_file(
        str(ref_out.with_suffix(".safetensors")))["X"])
    from safetensors.numpy import load_file

    for i in range(KILL_POINTS):
        cache, out = tmp_path / f"cache{i}", tmp_path / f"run{i}" / "f"
        # start-up; the cache shard written (then the output being written); the features
        # file written but not yet its .json
        events = [lambda c=cache: _n_shards(c) >= 1,
                  lambda o=out: o.with_suffix(".safetensors").exists()]
        d, when = moments(total, seed=1, events=events)[i]
        args = [*base, "--cache-dir", str(cache), "--out", str(out)]
        rc, secs = run_and_kill(args, d, when)
        state = {"shards": _n_shards(cache),
                 "output": _features_complete(out)}
        leftovers = temp_files(cache, out.parent)
        p, _ = run(args)
        s = json.loads(p.stdout)
        X = load_file(str(out.with_suffix(".safetensors")))["X"]
        diff = float(np.abs(X - ref).max())
        SUMMARY.append({"command": "extract", "moment": i, "killed_after_s": secs, "rc": rc, **state,
                        "temp_files_left": len(leftovers), "from_cache": s["from_cache"],
                        "max_abs_diff": diff})
        assert X.shape == ref.shape
        assert diff <= 1e-5 * max(1.0, float(np.abs(ref).max())), diff
    print(json.dumps(SUMMARY[-KILL_POINTS:], indent=1))


# --------------------------------------------------------------------------------- fit

def _model_complete(out: Path) -> bool | None:
    from transferkit.train import load_model

    if not out.exists():
        return None
    load_model(out)  # raises ModelFileError on a half-written folder
    return True


def _checkpoint_epoch(ckpt: Path):
    if not (ckpt / "checkpoint.json").exists():
        return None
    from transferkit.io import read_json

    meta = read_json(ckpt / "checkpoint.json")  # never half-written
    return meta.get("state", {}).get("epoch", meta.get("epoch"))


def _weights(out: Path) -> dict:
    from safetensors.numpy import load_file

    return load_file(str(out / "model.safetensors"))


def test_kill_fit_and_resume(images, tmp_path):
    # `partial` took 11 minutes for 3 epochs on the shared 2-core machine; `extract` with an
    # MLP head trains 20 epochs on cached features, with a checkpoint after every epoch.
    base = ["fit", str(images), "--strategy", "extract", "--head", "mlp", "--epochs", "20",
            "--set", "batch_size=4",
            "--backbone", "efficientnet_lite0", "--seed", "3", "--json", "--no-progress"]
    ref_out = tmp_path / "ref"
    p, total = run([*base, "--out", str(ref_out), "--cache-dir", str(tmp_path / "c_ref")])
    ref = json.loads(p.stdout)
    ref_w = _weights(ref_out)
    for i in range(KILL_POINTS):
        out = tmp_path / f"m{i}"
        ckpt = Path(str(out) + ".checkpoint")
        events = [lambda c=ckpt: (_checkpoint_epoch(c) or 0) >= 1,
                  lambda c=ckpt: (_checkpoint_epoch(c) or 0) >= 10]
        d, when = moments(total, seed=2, events=events)[i]
        args = [*base, "--out", str(out), "--cache-dir", str(tmp_path / f"c{i}")]
        rc, secs = run_and_kill(args, d, when)
        state = {"model": _model_complete(out),
                 "checkpoint_epoch": _checkpoint_epoch(Path(str(out) + ".checkpoint"))}
        leftovers = temp_files(tmp_path / f"c{i}", Path(str(out) + ".checkpoint"))
        leftovers += [str(q) for q in tmp_path.glob(f".m{i}.*")]
        p, _ = run([*args, "--resume"])
        res = json.loads(p.stdout)
        w = _weights(out)
        wdiff = max(float(np.abs(w[k] - ref_w[k]).max()) for k in ref_w)
        SUMMARY.append({"command": "fit", "moment": i, "killed_after_s": secs, "rc": rc, **state,
                        "temp_files_left": len(leftovers), "metrics": res["metrics"],
                        "max_abs_weight_diff": wdiff})
        print(json.dumps(SUMMARY[-1]))
        assert res["metrics"] == ref["metrics"]
        assert [h for h in res["history"]] == [h for h in ref["history"]] or _same_history(
            res["history"], ref["history"])
        assert sorted(w) == sorted(ref_w) and wdiff == 0.0, wdiff
        assert not Path(str(out) + ".checkpoint").exists()
    print(json.dumps(SUMMARY[-KILL_POINTS:], indent=1))


def _same_history(a: list, b: list) -> bool:
    """Histories equal except for timing fields."""
    def strip(h):
        return [{k: v for k, v in e.items() if "time" not in k and not k.endswith("_s")} for e in h]

    return strip(a) == strip(b)


# --------------------------------------------------------------------------------- compare

def _report_complete(out: Path) -> dict:
    from transferkit.report import load_results

    state = {}
    for name in ("results.json", "report.md", "report.html"):
        f = out / name
        state[name] = f.exists()
    if (out / "results.json").exists():
        load_results(out / "results.json")  # validates; raises on a half-written file
    if (out / "report.html").exists():
        assert (out / "report.html").read_text().rstrip().endswith("</html>")
    return state


def _scores(results: dict) -> list:
    keep = ("name", "accuracy", "macro_f1", "error")
    return [{k: e.get(k) for k in keep} for e in results["methods"]]


def test_kill_compare(images, tmp_path):
    base = ["compare", str(images), "--methods", "majority,extract_linear", "--epochs", "2", "--seed", "0",
            "--json", "--no-progress"]
    p, total = run([*base, "--out", str(tmp_path / "ref"), "--cache-dir", str(tmp_path / "c_ref")])
    ref = _scores(json.loads(p.stdout))
    for i in range(KILL_POINTS):
        out = tmp_path / f"r{i}"
        events = [lambda c=tmp_path / f"c{i}": _n_shards(c) >= 1,
                  lambda o=out: (o / "results.json").exists()]
        d, when = moments(total, seed=3, events=events)[i]
        args = [*base, "--out", str(out), "--cache-dir", str(tmp_path / f"c{i}")]
        rc, secs = run_and_kill(args, d, when)
        state = _report_complete(out)
        leftovers = temp_files(out, tmp_path / f"c{i}")
        p, _ = run(args)
        got = _scores(json.loads(p.stdout))
        SUMMARY.append({"command": "compare", "moment": i, "killed_after_s": secs, "rc": rc, **state,
                        "temp_files_left": len(leftovers), "scores": got})
        assert got == ref
        _report_complete(out)
    print(json.dumps(SUMMARY[-KILL_POINTS:], indent=1))
