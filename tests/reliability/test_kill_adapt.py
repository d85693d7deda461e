"""Faults: SIGKILL ``transferkit adapt`` at seeded moments (as test_kill_resume.py does for the
other commands). After each kill the model folder is absent or complete and loadable; the rerun
chooses the same method and gives the same predictions on new target rows as an uninterrupted
run with the same seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from .test_kill_resume import KILL_POINTS, SUMMARY, moments, run, run_and_kill

pytestmark = pytest.mark.slow


def _domains(root: Path) -> Path:
    rng = np.random.default_rng(0)
    d = 8
    means = rng.normal(scale=3.0, size=(3, d))
    ys, yt = rng.integers(0, 3, 100), rng.integers(0, 3, 100)
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    root.mkdir(parents=True)
    np.savez(root / "source.npz", X=(means[ys] + rng.normal(size=(100, d))).astype(np.float32), y=ys)
    Xt = ((means[yt] + rng.normal(size=(100, d))) @ Q + 1.0).astype(np.float32)
    np.savez(root / "target.npz", X=Xt, y=yt)
    np.save(root / "fresh.npy", Xt[:20] + rng.normal(scale=0.3, size=(20, d)).astype(np.float32))
    return root


def _model_state(out: Path) -> bool | None:
    """None if there is no model folder; True if it loads completely (raises otherwise)."""
    import transferkit

    if not out.exists():
        return None
    transferkit.load(out)
    return True


def _tmp_dirs(parent: Path, name: str) -> list[Path]:
    return [p for p in parent.glob(f".{name}.*.tmp")] if parent.exists() else []


def test_kill_adapt(tmp_path):
    import transferkit

    data = _domains(tmp_path / "data")
    fresh = np.load(data / "fresh.npy")
    base = ["adapt", "--source", str(data / "source.npz"), "--target", str(data / "target.npz"),
            "--method", "auto", "--backbone", "none", "--seed", "0", "--json", "--no-progress"]
    p, total = run([*base, "--out", str(tmp_path / "ref")])
    ref = json.loads(p.stdout)
    ref_p = transferkit.load(tmp_path / "ref").predict_proba(fresh)
    for i in range(KILL_POINTS):
        parent = tmp_path / f"run{i}"
        out = parent / "m"
        # start-up/fitting; the temporary model folder created; its weights file written
        events = [lambda q=parent: bool(_tmp_dirs(q, "m")),
                  lambda q=parent: any((t / "weights.safetensors").exists()
                                       for t in _tmp_dirs(q, "m"))]
        d, when = moments(total, seed=4, events=events)[i]
        args = [*base, "--out", str(out)]
        rc, secs = run_and_kill(args, d, when)
        state = _model_state(out)
        leftovers = [str(q) for q in _tmp_dirs(parent, "m")]
        p, _ = run(args)
        res = json.loads(p.stdout)
        got = transferkit.load(out).predict_proba(fresh)
        SUMMARY.append({"command": "adapt", "moment": i, "killed_after_s": secs, "rc": rc,
                        "model": state, "temp_folders_left": len(leftovers),
                        "method": res["method"], "max_abs_diff": float(np.abs(got - ref_p).max())})
        print(json.dumps(SUMMARY[-1]))
        assert res["method"] == ref["method"]
        assert res["report"]["candidate_scores"] == ref["report"]["candidate_scores"]
        np.testing.assert_array_equal(got, ref_p)
        assert sorted(q.name for q in out.iterdir()) == ["config.json", "weights.safetensors"]
