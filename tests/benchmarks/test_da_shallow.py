"""bench.da_shallow's selection record: every scorer, committee agreement, and auto's pick."""

import numpy as np

from bench.da_shallow import SELECT_FROM, SELECTORS, auto_pick, select
from transferkit.adapt import pack
from transferkit.adapt.api import FALLBACK_SCORER
from transferkit.adapt.premise import TCA_VARIANCE_THRESHOLD


def test_selection_record_scores_agreement_and_derives_auto():
    rng = np.random.default_rng(0)
    means = rng.normal(scale=3.0, size=(3, 4))
    ys, yt = rng.integers(0, 3, 60), rng.integers(0, 3, 60)
    Xs = means[ys] + rng.normal(size=(60, 4))
    Xt = (means[yt] + rng.normal(size=(60, 4))) * 1.5 + 2.0
    X, y, sd = pack(Xs, Xt, ys)
    accs = {m: 0.5 for m in SELECT_FROM}
    sel = select(X, y, sd, yt, accs, seed=0)
    assert set(sel["scores"]) == set(SELECTORS)
    assert set(sel["scores"]["agreement"]) == set(SELECT_FROM)
    assert all(0.0 <= v <= 1.0 for v in sel["scores"]["agreement"].values())
    assert sel["nc_tca"]["pick"] in ("none", "tca") and sel["tca_variance_share"] == 1.0
    # auto: NC (checked) where the premise holds; else the gate: nc between source-only and
    # TCA where TCA's subspace keeps enough variance, agreement's safe pick elsewhere
    assert FALLBACK_SCORER == "gated"
    holds = {**sel, "premise": {**sel["premise"], "holds": True}}
    fails = {**sel, "premise": {**sel["premise"], "holds": False}}
    narrow = {**fails, "tca_variance_share": TCA_VARIANCE_THRESHOLD - 0.01}
    for rec, key, scorer in ((holds, "nc_checked", "nc"), (fails, "nc_tca", "nc_tca"),
                             (narrow, "agreement", "agreement")):
        got = auto_pick(rec)
        want = rec[key]["safe_pick" if key == "agreement" else "pick"]
        assert (got["pick"], got["scorer"]) == (want, scorer)
