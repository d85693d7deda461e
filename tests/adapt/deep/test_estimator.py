"""DeepDA: both modes through the one Trainer, reproducibility, selection, storage."""

import numpy as np
import pytest
import torch

from transferkit.adapt.deep import DeepDA, adapt_deep, load_deep, save_deep, select_deep
from transferkit.adapt.deep.dan import mk_mmd
from transferkit.errors import DataError

from .conftest import make_pair, stack

FAST = {"epochs": 2, "iters_per_epoch": 5, "hidden": 16, "batch_size": 16}


@pytest.fixture(scope="module")
def pair():
    return make_pair(n=60, d=6, offset=3.0, seed=0)


@pytest.mark.parametrize("method", ["source_only", "dan", "dann", "cdan", "cdan_e", "mcc"])
def test_every_method_fits_and_predicts(pair, method):
    Xs, ys, Xt, yt = pair
    est = DeepDA(method=method, random_state=0, **FAST).fit(*stack(Xs, ys, Xt))
    assert est.n_steps_ == 10
    P = est.predict_proba(Xt)
    assert P.shape == (60, 3) and np.allclose(P.sum(1), 1, atol=1e-5)
    assert set(est.predict(Xt)) <= {0, 1, 2}
    assert est.transform(Xt).shape == (60, 16)


def test_same_seed_same_predictions(pair):
    Xs, ys, Xt, _ = pair
    X, y, sd = stack(Xs, ys, Xt)
    a = DeepDA(method="cdan_e", random_state=3, **FAST).fit(X, y, sd).predict_proba(Xt)
    b = DeepDA(method="cdan_e", random_state=3, **FAST).fit(X, y, sd).predict_proba(Xt)
    c = DeepDA(method="cdan_e", random_state=4, **FAST).fit(X, y, sd).predict_proba(Xt)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_sample_domain_inferred_from_masked_labels(pair):
    Xs, ys, Xt, _ = pair
    X, y, sd = stack(Xs, ys, Xt)
    a = DeepDA(method="mcc", **FAST).fit(X, y, sd).predict_proba(Xt)
    b = DeepDA(method="mcc", **FAST).fit(X, y).predict_proba(Xt)
    assert np.array_equal(a, b)


def test_dan_aligns_features_more_than_source_only():
    Xs, ys, Xt, _ = make_pair(n=120, d=6, offset=4.0, seed=1)
    X, y, sd = stack(Xs, ys, Xt)
    kw = {"epochs": 8, "iters_per_epoch": 10, "hidden": 16, "batch_size": 32}
    gaps = {}
    for m in ("source_only", "dan"):
        est = DeepDA(method=m, trade_off=3.0, random_state=0, **kw).fit(X, y, sd)
        zs, zt = torch.from_numpy(est.transform(Xs)), torch.from_numpy(est.transform(Xt))
        gaps[m] = float(mk_mmd(zs, zt))
    assert gaps["dan"] < 0.5 * gaps["source_only"]


def test_input_errors(pair):
    Xs, ys, Xt, _ = pair
    X, y, sd = stack(Xs, ys, Xt)
    with pytest.raises(DataError, match="2-D"):
        DeepDA(**FAST).fit(X[:, :, None], y, sd)
    with pytest.raises(DataError, match="both source"):
        DeepDA(**FAST).fit(Xs, ys, np.ones(len(Xs), dtype=int))
    with pytest.raises(DataError, match="source samples must be labelled"):
        DeepDA(**FAST).fit(X, np.r_[ys[:-1], -1, -np.ones(60, int)], sd)


def test_save_load_roundtrip_is_exact(tmp_path, pair):
    Xs, ys, Xt, _ = pair
    est = DeepDA(method="cdan", loss_params={"max_dim": 8, "random_dim": 8}, random_state=0,
                 **FAST).fit(*stack(Xs, ys, Xt))
    assert est.net_.da.randomized
    save_deep(est, tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["deep_da.json",
                                                                   "deep_da.safetensors"]
    back = load_deep(tmp_path / "m")
    assert np.array_equal(back.predict_proba(Xt), est.predict_proba(Xt))
    assert np.array_equal(back.transform(Xt), est.transform(Xt))


def test_select_deep_is_label_free_and_reproducible(pair):
    Xs, ys, Xt, yt = pair
    X, y, sd = stack(Xs, ys, Xt)
    y_leak = np.r_[ys, yt]  # target labels present: select_deep must ignore them
    grid = {"trade_off": (0.1, 1.0)}
    base = DeepDA(method="mcc", random_state=0, **FAST)
    a, info = select_deep(base, X, y, sd, scorer="dev", grid=grid, seed=0)
    b, info_b = select_deep(base, X, y_leak, sd, scorer="dev", grid=grid, seed=0)
    assert info["target_labels_used"] is False and info["scorer"] == "dev"
    assert len(info["scores"]) == 2 and info["chosen"] in ({"trade_off": 0.1},
                                                           {"trade_off": 1.0})
    assert info == info_b
    assert np.array_equal(a.predict_proba(Xt), b.predict_proba(Xt))
    assert a.trade_off == info["chosen"]["trade_off"]


def test_default_grid_chooses_trade_off_and_epochs(pair):
    from transferkit.adapt.deep import default_grid

    assert default_grid(10) == {"trade_off": (0.1, 0.3, 1.0), "epochs": (5, 10, 20)}
    assert default_grid(1)["epochs"] == (1, 2)
    Xs, ys, Xt, _ = pair
    X, y, sd = stack(Xs, ys, Xt)
    est, info = select_deep(DeepDA(method="dann", random_state=0, **FAST), X, y, sd,
                            scorer="snd", seed=0)
    assert info["grid"] == {"trade_off": [0.1, 0.3, 1.0], "epochs": [1, 2, 4]}
    assert len(info["scores"]) == 9 and set(info["chosen"]) == {"trade_off", "epochs"}
    assert est.epochs == info["chosen"]["epochs"] and est.trade_off == info["chosen"]["trade_off"]
    assert est.n_steps_ == est.epochs * FAST["iters_per_epoch"]  # the refit used the choice


def test_adapt_deep_report(pair):
    Xs, ys, Xt, _ = pair
    est, rep = adapt_deep(Xs, ys, Xt, method="dann", seed=1, select="snd",
                          grid={"trade_off": (0.3, 1.0)}, **FAST)
    assert rep["method"] == "dann" and rep["target_labels_used"] is False
    assert rep["selection"] == "label-free (snd), without target labels"
    assert set(rep["candidate_scores"]) == {"trade_off=0.3", "trade_off=1.0"}
    assert "distances_before" in rep and "distances_after" in rep
    est2, rep2 = adapt_deep(Xs, ys, Xt, method="source_only", seed=1, distances=False, **FAST)
    assert rep2["selection"] == "fixed by the user" and est2.method == "source_only"


def test_end_to_end_lenet_with_freezing():
    rng = np.random.default_rng(0)
    Xs = rng.random((24, 1, 28, 28), dtype=np.float32)
    Xt = rng.random((24, 1, 28, 28), dtype=np.float32) * 0.5
    ys = np.arange(24) % 3
    X, y, sd = stack(Xs, ys, Xt)
    est = DeepDA(method="dann", backbone="lenet", freeze=1, epochs=1, iters_per_epoch=2,
                 batch_size=8, random_state=0)
    torch.manual_seed(0)  # fit seeds the same way before building the network
    before = est._build((1, 28, 28), 3).extractor.backbone.conv1[0].weight.clone()
    est.fit(X, y, sd)
    conv1 = est.net_.extractor.backbone.conv1[0].weight
    assert not conv1.requires_grad and torch.equal(conv1, before)  # frozen block untouched
    assert est.predict(Xt).shape == (24,) and est.transform(Xt).shape == (24, 256)
    with pytest.raises(DataError, match="4-D"):
        est.fit(X.reshape(48, -1), y, sd)


@pytest.mark.parametrize("method", ["mcc", "cdan"])
def test_cached_frozen_blocks_train_the_same_network(method):
    """cache_frozen runs the frozen blocks once; the fitted network matches the slow path."""
    rng = np.random.default_rng(0)
    Xs = rng.random((16, 3, 32, 32), dtype=np.float32)
    Xt = rng.random((16, 3, 32, 32), dtype=np.float32) * 0.5
    ys = np.arange(16) % 2
    X, y, sd = stack(Xs, ys, Xt)
    kw = dict(method=method, backbone="mobilenet_v2", pretrained=False, freeze=7,
              epochs=1, iters_per_epoch=3, batch_size=8, random_state=0)
    fast = DeepDA(cache_frozen=True, **kw).fit(X, y, sd)
    slow = DeepDA(cache_frozen=False, **kw).fit(X, y, sd)
    assert fast.cached_blocks_ == 7 and slow.cached_blocks_ == 0
    assert fast.net_.extractor.start_block == 0  # predictions run the whole network
    np.testing.assert_allclose(fast.predict_proba(Xt), slow.predict_proba(Xt), atol=1e-5)
    for (k, a), b in zip(fast.state_dict().items(), slow.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=k)
