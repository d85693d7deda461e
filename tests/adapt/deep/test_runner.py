"""The CLI runner contract (features stubbed: extraction is tested elsewhere)."""

from types import SimpleNamespace

import numpy as np

from transferkit.adapt import cli_api
from transferkit.adapt.deep.runner import run_deep_job

from .conftest import make_pair


def test_run_deep_job_returns_the_runner_dict(monkeypatch):
    Xs, ys, Xt, _ = make_pair(n=40, d=5, seed=2)
    feats = {"src": (Xs, np.arange(40), []), "tgt": (Xt, np.arange(40), ["x.png: broken"])}
    monkeypatch.setattr(cli_api, "_features", lambda ds, *a: feats[ds.name])
    job = SimpleNamespace(source=SimpleNamespace(name="src", y=ys, source="s"),
                          target=SimpleNamespace(name="tgt", source="t"), method="mcc",
                          seed=0, scorer="snd", backbone="none", cache_dir=None,
                          progress=False)
    out = run_deep_job(job)
    assert set(out) == {"model", "report", "Xt", "target_index", "skipped", "n_source"}
    assert out["report"]["selection"] == "label-free (snd), without target labels"
    assert out["model"].predict(out["Xt"]).shape == (40,) and out["n_source"] == 40
    chosen = out["report"]["chosen_params"]  # the scorer chose the loss weight and the length
    assert set(chosen) == {"trade_off", "epochs"} and chosen["epochs"] in (10, 20, 40)
    assert len(out["report"]["candidate_scores"]) == 9
    assert out["model"].epochs == chosen["epochs"]
