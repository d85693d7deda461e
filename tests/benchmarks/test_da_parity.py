"""bench.da_parity: the paired comparison and skada's TCA replay."""

import numpy as np
import pytest

from bench.da_parity import paired, skada_tca_replay


def test_paired_counts_and_sign_test():
    r = paired([0.5, 0.6, 0.7, 0.8], [0.4, 0.6, 0.9, 0.9])
    assert (r["wins"], r["ties"], r["losses"]) == (1, 1, 2)
    assert r["diff"] == pytest.approx(-5.0) and r["sign_p"] == pytest.approx(1.0)
    all_lost = paired([0.1] * 8, [0.2] * 8)
    assert all_lost["sign_p"] == pytest.approx(2 / 2**8)  # exact two-sided binomial


def test_skada_tca_replay_keeps_min_n_d_components_both_ways():
    rng = np.random.default_rng(0)
    Xs, Xt = rng.normal(size=(30, 5)), rng.normal(size=(25, 5)) + 0.5
    Z = skada_tca_replay(Xs, Xt)
    Zp = skada_tca_replay(Xs, Xt, proper=True)
    assert Z.shape == Zp.shape == (55, 5) and np.all(np.isfinite(Zp))
