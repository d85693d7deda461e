"""`--method auto`'s variance gate on real text (skipped when ../shared/data is absent).

The gate (docs/adapt.md, "The variance-gated fallback") sends sentence embeddings to NC between
source-only and TCA, and near-isotropic n-gram features to committee agreement. Checked here on
one Amazon pair, books -> kitchen, as the product computes it: MiniLM embeddings of the review
titles, and word TF-IDF + LSA 256 of the reviews.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from transferkit.adapt import adapt_features, predict_target
from transferkit.adapt.premise import TCA_VARIANCE_THRESHOLD, subspace_variance_share

pytestmark = [pytest.mark.slow, pytest.mark.realdata]


def _pooled(Xs, Xt):
    return StandardScaler().fit_transform(np.vstack([Xs, Xt]))


def test_gate_sends_minilm_titles_to_nc_tca_and_it_beats_source_only(shared_data):
    from bench.deep_features import load_amazon_titles
    from transferkit.features import extract_features

    root = shared_data / "text" / "amazon_reviews"
    feats = {d: extract_features(load_amazon_titles(root / d), "minilm_l6", progress=False)
             for d in ("books", "kitchen")}
    (Xs, ys), (Xt, yt) = ((feats[d].X, np.asarray(feats[d].y)) for d in ("books", "kitchen"))
    assert subspace_variance_share(_pooled(Xs, Xt)) >= TCA_VARIANCE_THRESHOLD
    model, rep = adapt_features(Xs, ys, Xt, seed=0)
    assert not rep["nc_premise"]["holds"] and rep["scorer"] == "nc_tca"
    assert rep["tca_variance_share"]["then"] == "nc_tca" and rep["target_labels_used"] is False
    source_only, _ = adapt_features(Xs, ys, Xt, method="none", seed=0)
    acc = np.mean(predict_target(model, Xt) == yt)
    base = np.mean(predict_target(source_only, Xt) == yt)
    assert rep["method"] == "tca" and acc > base + 0.01  # bench: 79.6 % against 76.2 %


def test_gate_sends_lsa_reviews_to_agreement(shared_data):
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    from transferkit.data import load_amazon_reviews

    root = shared_data / "text" / "amazon_reviews"
    texts = {d: load_amazon_reviews(root / d).inputs for d in ("books", "kitchen")}
    tf = TfidfVectorizer(sublinear_tf=True, min_df=3, max_features=20000).fit_transform(
        [t for d in texts.values() for t in d])
    Z = normalize(TruncatedSVD(256, random_state=0).fit_transform(tf))
    share = subspace_variance_share(_pooled(Z[:2000], Z[2000:]))
    assert share < TCA_VARIANCE_THRESHOLD  # bench (five domains' LSA): 0.556 on this pair
