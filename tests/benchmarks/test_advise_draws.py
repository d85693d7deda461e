"""The many-draw extract validation: draws, the probe's accuracy, the tau variants, the regret."""

import numpy as np
import pytest

import bench.advise_draws as ad
from transferkit.data import from_arrays


def _blobs(sep, n=240, d=20, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centres = rng.normal(size=(3, d)) * sep
    return centres[y] + rng.normal(size=(n, d)), y


def test_draws_are_stratified_and_disjoint():
    y = np.arange(300) % 3
    sp = ad.draws(y, 60, 4)
    assert len(sp) == 4
    for tr, te in sp:
        assert len(tr) == 60 and set(tr).isdisjoint(te) and len(tr) + len(te) == 300
        assert np.bincount(y[tr]).tolist() == [20, 20, 20]
    assert not np.array_equal(sp[0][0], sp[1][0])


def test_probe_accuracy_tracks_separability():
    X, y = _blobs(3.0)
    acc, cv = ad.probe_accuracy(X[:120], y[:120], X[120:], y[120:])
    assert acc > 0.95 and cv > 0.9
    Xn, yn = _blobs(0.0)
    assert ad.probe_accuracy(Xn[:120], yn[:120], Xn[120:], yn[120:])[0] < 0.6
    Xb, yb = X[y < 2], y[y < 2]  # binary: one coefficient row
    assert ad.probe_accuracy(Xb[:80], yb[:80], Xb[80:], yb[80:])[0] > 0.95


@pytest.fixture
def fake_tasks(monkeypatch):
    """Two tasks; backbone 'b<k>' gives features of separation k (LogME ranks them the same)."""
    seps = {"b0": 0.3, "b1": 0.8, "b2": 2.0}

    def full(name):
        X, y = _blobs(1.0, n=300, seed=len(name))
        return from_arrays(X.astype(np.float32), y, classes=["a", "b", "c"], source=name)

    def embed(pool, b, cache_dir=None):
        X, y = _blobs(seps[b], n=len(pool), seed=hash(b) % 100)
        order = np.argsort(np.asarray(pool.y), kind="stable")
        Xs = np.empty_like(X)
        Xs[order] = X[np.argsort(y, kind="stable")]  # features of each sample's own class
        p = np.full((len(pool), 5), 0.2)
        return Xs, np.asarray(pool.y), p

    monkeypatch.setattr(ad, "full_image_task", full)
    monkeypatch.setattr(ad, "embed", embed)
    return list(seps)


def test_run_and_analyse_rank_separable_backbones(fake_tasks):
    res = {"config": {"backbones": fake_tasks, "train_sizes": [60, 200]}, "tasks": {}}
    for name in ("task_a", "task_bb"):
        res["tasks"][name] = ad.run_task(name, fake_tasks, [60, 200], 4, 1500, 90, log=lambda m: None)
    assert res["tasks"]["task_a"]["pool"] == 300
    assert set(res["tasks"]["task_a"]["sizes"]) == {"60", "200"}  # 300 - 200 = 100 >= 90
    summ = ad.analyse(res)
    lg = summ["60"]["scores"]["logme"]
    assert lg["one_draw"] == pytest.approx(1.0) and lg["mean_score"] == pytest.approx(1.0)
    assert lg["regret"] == pytest.approx(0.0)
    assert summ["60"]["ceiling"] == pytest.approx(1.0)
    assert lg["pick_share"]["task_a"]["b2"] == 1.0
    assert "60_on_200_tasks" in summ
    res.update(summary=summ, machine="test", wall_s=1.0)
    res["config"].update(pool=1500, draws=4)
    md = ad.markdown(res)
    assert "| 60 | 2 | logme | +1.00" in md and "b2" in md


def test_a_size_is_skipped_when_too_few_test_samples_remain(fake_tasks):
    out = ad.run_task("t", fake_tasks, [60, 250], 2, 1500, 90, log=lambda m: None)
    assert set(out["sizes"]) == {"60"}


def test_resolved_pairs_need_a_consistent_difference():
    acc = np.array([[0.90, 0.91, 0.92, 0.90], [0.80, 0.81, 0.80, 0.82], [0.9, 0.8, 0.95, 0.75]])
    pairs = ad._resolved_pairs(acc)
    assert (0, 1) in pairs and (0, 2) not in pairs


def test_results_made_before_logme_z_still_analyse_and_render(fake_tasks):
    res = {"config": {"backbones": fake_tasks, "train_sizes": [60], "pool": 1500, "draws": 3},
           "tasks": {"t": ad.run_task("t", fake_tasks, [60], 3, 1500, 90, log=lambda m: None)}}
    for cell in res["tasks"]["t"]["sizes"]["60"].values():
        del cell["scores"]["logme_z"]  # as in advise_draws.json, measured before the score
    summ = ad.analyse(res)
    assert "logme_z" not in summ["60"]["scores"] and "logme" in summ["60"]["scores"]
    md = ad.markdown({**res, "summary": summ, "machine": "test", "wall_s": 1.0})
    assert "| 60 | 1 | logme |" in md and "logme_z" not in md
