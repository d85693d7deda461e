"""``advise``: the four scenarios (mocked measurements), end to end on tiny data, and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from transferkit.advise import Advice, advise
from transferkit.advise import advisor as advisor_mod
from transferkit.advise.advisor import BackboneReport, choose_strategy, stratified_subsample
from transferkit.advise.similarity import SimilarityAssessment
from transferkit.advise.size import assess_size
from transferkit.data import from_arrays
from transferkit.errors import DataError


# --- pure rules ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("large", "similar", "scenario", "strategy"),
    [(False, True, 1, "extract"), (False, False, 2, "partial"),
     (True, False, 3, "scratch"), (True, True, 4, "full")],
)
def test_choose_strategy_quadrants(large, similar, scenario, strategy):
    c = choose_strategy(large, similar, num_blocks=9)
    assert c["scenario"] == scenario and c["strategy"] == strategy
    if strategy == "partial":
        assert c["k"] == 4 and c["options"]["k"] == 4  # half of the 9 blocks, generic half frozen
    else:
        assert c["k"] is None and "k" not in c["options"]
    if strategy == "extract":
        assert c["lr"] is None and c["options"] == {"head": "linear"}
    else:
        assert c["lr"] > 0 and c["epochs"] > 0


def test_choose_strategy_retrains_only_when_the_budget_covers_the_last_block():
    blocks = [1_000] * 4 + [100_000] * 4 + [400_000]  # 9 blocks, the last 400,000
    few = choose_strategy(False, False, 9, blocks, n_samples=120)  # budget 24,000
    assert few["scenario"] == 2 and few["strategy"] == "extract" and few["k"] is None
    assert few["options"] == {"head": "linear"}
    enough = choose_strategy(False, False, 9, blocks, n_samples=2_000)  # budget 400,000
    assert enough["strategy"] == "partial" and enough["k"] == 4 == enough["options"]["k"]
    # the gate only acts on scenario 2
    assert choose_strategy(False, True, 9, blocks, n_samples=2_000)["strategy"] == "extract"
    assert choose_strategy(True, True, 9, blocks, n_samples=120)["strategy"] == "full"


def test_scenario_1_retrains_the_later_blocks_when_the_features_do_not_group_the_classes():
    blocks = [1_000] * 4 + [100_000] * 4 + [400_000]
    grouped = choose_strategy(False, True, 9, blocks, n_samples=120, class_ami=0.30)
    assert grouped["strategy"] == "extract" and grouped["k"] is None
    mixed = choose_strategy(False, True, 9, blocks, n_samples=120, class_ami=0.01)
    assert (mixed["scenario"], mixed["strategy"], mixed["k"]) == (1, "partial", 4)
    assert mixed["options"]["k"] == 4 and mixed["lr"] > 0
    at = choose_strategy(False, True, 9, class_ami=advisor_mod.CLASS_AMI_THRESHOLD)
    assert at["strategy"] == "extract"  # the threshold itself counts as grouped
    # only scenario 1 changes: the other cells ignore the class AMI
    assert choose_strategy(False, False, 9, blocks, n_samples=120,
                           class_ami=0.0)["strategy"] == "extract"  # scenario 2, gate closed
    assert choose_strategy(True, True, 9, class_ami=0.0)["strategy"] == "full"
    assert choose_strategy(True, False, 9, class_ami=0.0)["strategy"] == "scratch"


def test_advise_says_why_scenario_1_retrains(monkeypatch):
    def fake(name, ds, sub, counts, cache_dir, seed, progress, **_):
        rep = _fake_report(name, 0.5, False, True, blocks=[1_000] * 6)
        rep.class_ami = -0.004
        return rep

    monkeypatch.setattr(advisor_mod, "_score_backbone", fake)
    ds = from_arrays(np.zeros((60, 8, 8), np.float32), np.arange(60) % 2)
    adv = advise(ds, backbones="b")
    assert (adv.scenario, adv.strategy, adv.k) == (1, "partial", 3)
    assert "do not group" in adv.reason and "AMI -0.004 < 0.05" in adv.reason
    assert "first 3 of 6 blocks stay frozen" in adv.reason
    assert adv.summary()["class_ami"] == -0.004 and adv.retrain_gate is None
    assert json.loads(json.dumps(adv.to_dict()))["backbones"][0]["class_ami"] == -0.004


def test_stratified_subsample_keeps_every_class():
    y = np.array([0] * 1000 + [1] * 30 + [2] * 1)
    idx = stratified_subsample(y, 100, seed=0)
    assert len(idx) <= 100 and set(y[idx]) == {0, 1, 2}
    assert np.array_equal(np.sort(idx), idx) and len(np.unique(idx)) == len(idx)
    assert np.array_equal(stratified_subsample(y, None), np.arange(len(y)))


# --- advise() with mocked measurements: all four quadrants -----------------------------------------
def _fake_report(name, logme_v, large, similar, blocks=(), raw_logme=None):
    counts = [20000, 20000] if large else [30, 30]
    return BackboneReport(block_params=list(blocks),
        backbone=name, modality="image",
        scores={"logme_z": logme_v, "logme": logme_v if raw_logme is None else raw_logme,
                "leep": -1.0, "nce": -0.5, "hscore": 1.0},
        similarity=SimilarityAssessment("imagenet_head_confidence", 0.8 if similar else 0.1, 0.3,
                                        similar),
        size=assess_size(counts, 3_000_000), n_scored=60, num_blocks=len(blocks) or 9, seconds=0.0)


@pytest.mark.parametrize(
    ("large", "similar", "scenario", "strategy"),
    [(False, True, 1, "extract"), (False, False, 2, "partial"),
     (True, False, 3, "scratch"), (True, True, 4, "full")],
)
def test_advise_scenarios_with_mocked_measurements(monkeypatch, large, similar, scenario, strategy):
    # candidate "b" has the best LogME; its measurements decide the scenario, "a" is the opposite
    def fake(name, ds, sub, counts, cache_dir, seed, progress, **_):
        if name == "b":
            return _fake_report("b", 0.5, large, similar)
        return _fake_report(name, -0.5, not large, not similar)

    monkeypatch.setattr(advisor_mod, "_score_backbone", fake)
    import transferkit

    ds = from_arrays(np.zeros((60, 8, 8), np.float32), np.arange(60) % 2)
    adv = transferkit.advise(ds, backbones="a,b,c")  # the package is callable
    assert isinstance(adv, Advice)
    assert json.loads(json.dumps(adv.summary()))["strategy"] == strategy
    assert adv.backbone == "b" and adv.scenario == scenario and adv.strategy == strategy
    assert adv.size.large == large and adv.similarity.similar == similar
    assert adv.fit_kwargs()["strategy"] == strategy and adv.fit_kwargs()["backbone"] == "b"
    assert f"scenario {scenario}" in adv.reason and "b is recommended" in adv.reason
    d = json.loads(json.dumps(adv.to_dict()))
    assert d["recommendation"]["strategy"] == strategy and len(d["backbones"]) == 3
    assert d["retrain_gate"] is None  # mocked reports carry no block sizes
    assert d["data"]["samples"] == 60 and d["data"]["smallest_class"]["count"] == 30


def test_default_selection_is_logme_on_zscored_features_and_raw_logme_stays_an_option(monkeypatch):
    # "a" has the better raw LogME, "b" the better LogME on z-scored features
    reps = {"a": (0.1, 0.9), "b": (0.5, 0.2)}

    def fake(name, ds, sub, counts, cache_dir, seed, progress, **_):
        return _fake_report(name, reps[name][0], False, True, raw_logme=reps[name][1])

    monkeypatch.setattr(advisor_mod, "_score_backbone", fake)
    ds = from_arrays(np.zeros((20, 8, 8), np.float32), np.arange(20) % 2)
    adv = advise(ds, backbones="a,b", bootstrap=0)
    assert adv.backbone == "b" and adv.selection_score == "logme_z"
    assert "best LogME (on z-scored features) (0.5; a 0.1)" in adv.reason
    raw = advise(ds, backbones="a,b", bootstrap=0, select_by="logme")
    assert raw.backbone == "a" and "best LogME (0.9; b 0.2)" in raw.reason


def test_scenario_2_with_too_few_samples_for_any_block_says_extract_and_why(monkeypatch):
    blocks = [1_000, 100_000, 400_000]

    def fake(name, ds, sub, counts, cache_dir, seed, progress, **_):
        return _fake_report(name, 0.5, False, False, blocks)

    monkeypatch.setattr(advisor_mod, "_score_backbone", fake)
    ds = from_arrays(np.zeros((60, 8, 8), np.float32), np.arange(60) % 2)
    adv = advise(ds, backbones="b")
    assert (adv.scenario, adv.strategy, adv.k) == (2, "extract", None)
    assert "12,000 parameters" in adv.reason and "400,000" in adv.reason
    assert "stays frozen" in adv.reason and adv.fit_kwargs()["strategy"] == "extract"
    d = json.loads(json.dumps(adv.to_dict()))
    assert d["backbones"][0]["block_params"] == blocks
    assert d["retrain_gate"] == {"budget_params": 12_000, "last_block_params": 400_000,
                                 "open": False}


def test_select_by_picks_the_backbone_with_that_score(monkeypatch):
    def fake(name, ds, sub, counts, cache_dir, seed, progress, **_):
        rep = _fake_report(name, {"a": 0.9, "b": 0.1}[name], False, True)
        rep.scores["hscore"] = {"a": 1.0, "b": 2.0}[name]
        return rep

    monkeypatch.setattr(advisor_mod, "_score_backbone", fake)
    ds = from_arrays(np.zeros((20, 8, 8), np.float32), np.arange(20) % 2)
    assert advise(ds, backbones="a,b").backbone == "a"
    adv = advise(ds, backbones="a,b", select_by="hscore")
    assert adv.backbone == "b" and adv.selection_score == "hscore" and "best H-score" in adv.reason
    with pytest.raises(DataError, match="select_by"):
        advise(ds, backbones="a,b", select_by="accuracy")


def test_advise_needs_two_labelled_classes():
    from transferkit.data.dataset import Dataset

    ds = Dataset(modality="array", inputs=np.zeros((6, 8, 8), np.float32),
                 y=np.array([0, 0, 0, -1, -1, -1]), classes=["a", "b"], source="one class")
    with pytest.raises(DataError, match="2 classes"):
        advise(ds, backbones="efficientnet_lite0")


def test_advise_rejects_a_text_backbone_for_images():
    ds = from_arrays(np.zeros((6, 8, 8), np.float32), np.arange(6) % 2)
    with pytest.raises(DataError, match="reads texts"):
        advise(ds, backbones="minilm_l6")


# --- end to end on tiny real data --------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_images(tmp_path_factory):
    from PIL import Image

    root = tmp_path_factory.mktemp("tiny_advise")
    rng = np.random.default_rng(0)
    for cls, base in (("red", (200, 40, 40)), ("blue", (40, 40, 200))):
        (root / cls).mkdir()
        for i in range(6):
            a = np.clip(np.array(base) + rng.normal(0, 25, (40, 40, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(a).save(root / cls / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("advise_cache")


def test_advise_end_to_end_on_images(tiny_images, shared_cache):
    adv = advise(str(tiny_images), backbones=["efficientnet_lite0"], cache_dir=shared_cache,
                 progress=False)
    rep = adv.report
    assert adv.data["samples"] == 12 and adv.data["classes"] == 2
    assert rep.n_scored == 12 and not adv.size.large
    assert np.isfinite(rep.scores["logme"]) and np.isfinite(rep.scores["hscore"])
    assert rep.scores["leep"] <= 0 and rep.scores["nce"] <= 0
    assert adv.similarity.method == "imagenet_head_confidence"
    assert adv.similarity.signals["bn_kl"] is not None and adv.similarity.signals["bn_kl"] >= 0
    # flat colour squares are not ImageNet photos: small + dissimilar -> scenario 2, and 12
    # samples cannot retrain even the last block (412,160 parameters) -> a head on the features
    assert not adv.similarity.similar and adv.scenario == 2 and adv.strategy == "extract"
    assert adv.k is None and "efficientnet_lite0" in adv.reason and "stays frozen" in adv.reason
    assert len(rep.block_params) == rep.num_blocks == 9
    assert rep.block_params[-1] == 412_160 and sum(rep.block_params) == rep.size.body_params


def test_advise_end_to_end_on_texts():
    from transferkit.data.dataset import Dataset

    pos = ["A wonderful film, I loved every minute.", "Great acting and a moving story.",
           "The best meal we had all year.", "Friendly staff and excellent coffee.",
           "Highly recommended, works perfectly.", "Beautiful photography and a clever plot."]
    neg = ["A boring film, I left early.", "Terrible acting and a dull story.",
           "The worst meal we had all year.", "Rude staff and cold coffee.",
           "Broke after a week, do not buy.", "Ugly photography and a silly plot."]
    ds = Dataset(modality="text", inputs=pos + neg, y=np.array([1] * 6 + [0] * 6),
                 classes=["neg", "pos"], source="tiny texts")
    adv = advise(ds, progress=False)
    rep = adv.report
    assert adv.backbone == "minilm_l6" and rep.scores["leep"] is None and rep.scores["nce"] is None
    assert any("no pretrained classifier" in n for n in rep.notes)
    assert np.isfinite(rep.scores["logme"])
    assert adv.similarity.method == "wordpiece_vocab_coverage" and adv.similarity.similar
    # each positive text has a negative twin on the same topic: the sentence embeddings
    # cluster by topic, not by sentiment, so scenario 1 retrains the later half of the layers
    assert rep.class_ami < advisor_mod.CLASS_AMI_THRESHOLD
    assert adv.scenario == 1 and adv.strategy == "partial" and adv.k == rep.num_blocks // 2


def test_cli_advise_json(tiny_images, shared_cache):
    from typer.testing import CliRunner

    from transferkit.cli import _register, app

    _register()
    r = CliRunner().invoke(app, ["advise", str(tiny_images), "--backbones", "efficientnet_lite0",
                                 "--cache-dir", str(shared_cache), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["recommendation"]["backbone"] == "efficientnet_lite0"
    assert d["scenario"] in (1, 2, 3, 4) and d["reason"]
    assert set(d["backbones"][0]["scores"]) == {"logme", "logme_z", "leep", "nce", "hscore"}
    assert d["size"]["rule"] and d["similarity"]["method"]
    assert -1.0 <= d["backbones"][0]["class_ami"] <= 1.0
    text = CliRunner().invoke(app, ["advise", str(tiny_images), "--backbones",
                                    "efficientnet_lite0", "--cache-dir", str(shared_cache),
                                    "--no-progress"])
    assert text.exit_code == 0, text.output
    assert "AMI" in text.output and "k-means clusters" in text.output and "…" not in text.output
    assert "first" not in text.output  # one candidate: no bootstrap certainty


def test_cli_advise_shows_the_bootstrap_certainty(tiny_images, shared_cache):
    from typer.testing import CliRunner

    from transferkit.cli import _register, app

    _register()
    args = ["advise", str(tiny_images), "--backbones", "efficientnet_lite0,mobilenet_v2",
            "--cache-dir", str(shared_cache), "--bootstrap", "10"]
    r = CliRunner().invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    cert = json.loads(r.stdout)["selection_certainty"]
    assert cert["resamples"] == 10 and set(cert["share_first"]) == {"efficientnet_lite0",
                                                                   "mobilenet_v2"}
    assert sum(cert["share_first"].values()) == pytest.approx(1.0)
    text = CliRunner().invoke(app, [*args, "--no-progress"])
    assert text.exit_code == 0, text.output
    assert "bootstrap resamples" in text.output and "first" in text.output


def test_fit_strategy_auto_follows_the_advice(tiny_images, shared_cache, tmp_path, monkeypatch):
    """transferkit.fit(strategy='auto') is the library's (the CLI only passes it on): the
    advice decides the strategy and k, an explicit option (epochs) wins, and the advice is
    stored in the model's config."""
    from transferkit.train import fit

    # 12 samples, dissimilar: scenario 2 with no block in the retrain budget -> extract; the
    # option only 'partial' knows (k) is dropped and recorded, not an error
    res = fit(str(tiny_images), backbone="efficientnet_lite0", strategy="auto", k=2,
              out=tmp_path / "e", cache_dir=shared_cache, progress=False)
    assert res.strategy == "extract" and res.info["advice"]["scenario"] == 2
    assert res.info["advice"]["ignored_options"] == ["k"] and "k" not in res.options
    # block sizes that leave room for the last five blocks: partial with the advised k
    real = advisor_mod._score_backbone

    def roomy(*a, **kw):
        rep = real(*a, **kw)
        rep.block_params = [10**6] * 4 + [100] * 5
        return rep

    monkeypatch.setattr(advisor_mod, "_score_backbone", roomy)
    res = fit(str(tiny_images), backbone="efficientnet_lite0", strategy="auto", epochs=1,
              batch_size=6, out=tmp_path / "m", cache_dir=shared_cache, progress=False)
    assert res.strategy == "partial" and res.backbone == "efficientnet_lite0"
    assert res.info["advice"]["scenario"] == 2 and res.info["advice"]["k"] == 4
    assert res.options["epochs"] == 1 and res.options["k"] == 4
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    assert cfg["strategy"] == "partial" and cfg["advice"]["strategy"] == "partial"


def test_cli_fit_auto_prints_the_advice_and_the_ignored_option(tiny_images, shared_cache, tmp_path):
    from typer.testing import CliRunner

    from transferkit.cli import _register, app

    _register()
    r = CliRunner().invoke(app, ["fit", str(tiny_images), "--out", str(tmp_path / "m"),
                                 "--strategy", "auto", "--k", "2", "--cache-dir",
                                 str(shared_cache), "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "advice: scenario 2" in r.output and "+ extract" in r.output
    assert "note: k ignored" in r.output
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    assert cfg["advice"]["ignored_options"] == ["k"] and cfg["strategy"] == "extract"


# --- how certain the backbone pick is: paired bootstrap of the selection score -------------------
def _reports_with_resamples(a_vals, b_vals):
    a, b = _fake_report("a", 0.5, False, True), _fake_report("b", 0.4, False, True)
    a.score_resamples, b.score_resamples = list(a_vals), list(b_vals)
    return [a, b]


def test_selection_certainty_counts_resamples_won():
    from transferkit.advise.advisor import selection_certainty

    reps = _reports_with_resamples([1.0] * 18 + [0.0] * 2, [0.5] * 20)
    cert = selection_certainty(reps, "a")
    assert cert == {"resamples": 20, "share_first": {"a": 0.9, "b": 0.1}, "pick": "a",
                    "pick_share": 0.9}
    # a resample where a score could not be computed counts for the others
    reps = _reports_with_resamples([None, 1.0, 1.0, 0.0], [0.5, 0.5, 0.5, 0.5])
    assert selection_certainty(reps, "a")["share_first"] == {"a": 0.5, "b": 0.5}
    assert selection_certainty(reps[:1], "a") is None  # one candidate
    assert selection_certainty(_reports_with_resamples([], []), "a") is None


def test_advise_reports_a_near_tie(monkeypatch):
    vals = {"a": ([1.0] * 11 + [0.0] * 9, 0.5), "b": ([0.5] * 20, 0.4)}
    seen = {}

    def fake(name, ds, sub, counts, cache_dir, seed, progress, bootstrap=0, score_name="logme", **_):
        seen[name] = (bootstrap, score_name)
        rep = _fake_report(name, vals[name][1], False, True)
        rep.score_resamples = vals[name][0][:bootstrap]
        return rep

    monkeypatch.setattr(advisor_mod, "_score_backbone", fake)
    ds = from_arrays(np.zeros((20, 8, 8), np.float32), np.arange(20) % 2)
    adv = advise(ds, backbones="a,b")
    assert seen == {"a": (20, "logme_z"), "b": (20, "logme_z")}
    assert adv.backbone == "a" and adv.selection_certainty["pick_share"] == 0.55
    assert "ranks first in 55% of 20 bootstrap resamples" in adv.reason
    assert "(b: 45%), a near-tie" in adv.reason
    d = json.loads(json.dumps(adv.to_dict()))
    assert d["selection_certainty"]["share_first"] == {"a": 0.55, "b": 0.45}
    assert "score_resamples" not in d["backbones"][0]
    vals["a"] = ([1.0] * 20, 0.5)
    adv = advise(ds, backbones="a,b")
    assert "ranks first in 100% of 20" in adv.reason and "near-tie" not in adv.reason
    assert advise(ds, backbones="a,b", bootstrap=0).selection_certainty is None
    assert advise(ds, backbones="a").selection_certainty is None and seen["a"][0] == 0
    with pytest.raises(DataError, match="bootstrap"):
        advise(ds, backbones="a,b", bootstrap=-1)


# --- image_size: the scores see the input a model trained at that size sees ----------------
@pytest.fixture(scope="module")
def tiny_arrays():
    rng = np.random.default_rng(1)
    y = np.arange(16) % 2
    X = rng.normal(0, 0.2, (16, 12, 12)).astype(np.float32)
    X[y == 1, 3:9, 3:9] += 1.0  # class 1: a bright square
    return from_arrays(X, y, classes=["plain", "square"], source="tiny arrays")


def test_advise_image_size_scores_arrays_at_that_size(tiny_arrays, shared_cache):
    from transferkit.advise.scores import logme
    from transferkit.train.strategies.extract import embed_direct
    from transferkit.zoo import create_backbone

    kw = {"backbones": ["efficientnet_lite0"], "cache_dir": shared_cache, "progress": False,
          "bootstrap": 0}
    native = advise(tiny_arrays, **kw)
    sized = advise(tiny_arrays, image_size=32, **kw)
    assert native.report.image_size is None and native.data["scored_image_size"] is None
    assert sized.report.image_size == 32 and sized.data["scored_image_size"] == 32
    assert sized.summary()["scored_image_size"] == 32
    assert any("at 32 px" in n for n in sized.report.notes)
    # the scores come from the 32 px features, which differ from the native 224 px ones
    model = create_backbone("efficientnet_lite0", pretrained=True).eval()
    X32, y = embed_direct(tiny_arrays, model, 32)
    assert X32.shape == (16, 1280)
    assert sized.report.scores["logme"] == pytest.approx(logme(np.float64(X32), y), rel=1e-6)
    assert sized.report.scores["logme"] != pytest.approx(native.report.scores["logme"], rel=1e-3)
    # the similarity to ImageNet is still measured at the backbone's own input size
    assert sized.similarity.value == pytest.approx(native.similarity.value)
    assert sized.similarity.signals == native.similarity.signals


def test_advise_image_size_on_image_files_is_noted_not_applied(tiny_images, shared_cache):
    adv = advise(str(tiny_images), backbones=["efficientnet_lite0"], cache_dir=shared_cache,
                 progress=False, image_size=64)
    assert adv.report.image_size is None
    assert any("applies to array data" in n for n in adv.report.notes)


@pytest.mark.parametrize("bad", [0, 4, -32, 12.5, True])
def test_advise_rejects_a_bad_image_size(tiny_arrays, bad):
    with pytest.raises(DataError, match="image_size"):
        advise(tiny_arrays, backbones=["efficientnet_lite0"], image_size=bad)


def test_fit_auto_advises_at_the_native_size_whatever_its_image_size(tiny_arrays, shared_cache):
    """The advice at the training size ranked the backbones worse (bench/results/
    advise_finetune_bigtest_seeds_pbn_sized.md), so fit keeps the native-size advice."""
    from transferkit.train import fit

    res = fit(tiny_arrays, backbone="efficientnet_lite0", strategy="auto", image_size=32,
              cache_dir=shared_cache, progress=False, val_size=None)
    assert res.info["advice"]["scored_image_size"] is None
    assert res.strategy == "extract" and res.options["image_size"] == 32


def test_cli_advise_image_size(tiny_arrays, shared_cache, tmp_path):
    from typer.testing import CliRunner

    from transferkit.cli import _register, app

    path = tmp_path / "tiny.npz"
    np.savez(path, X=tiny_arrays.inputs, y=np.asarray(tiny_arrays.y))
    _register()
    r = CliRunner().invoke(app, ["advise", str(path), "--backbones", "efficientnet_lite0",
                                 "--cache-dir", str(shared_cache), "--image-size", "32",
                                 "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "scored at 32 px" in r.output
