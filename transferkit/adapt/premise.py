"""Does the cluster assumption hold? A check of NC's premise before it is trusted.

:class:`~transferkit.adapt.scorers.NeighborhoodConsistency` (NC) scores a candidate by how
well its target predictions follow the target's own neighbourhoods. That is only evidence of
accuracy when the classes are what those neighbourhoods group: the cluster assumption. On
sentence embeddings of product reviews the dominant groups are topics, not sentiment, and NC
then prefers whichever method smooths its predictions most (MEDA: 61.7 % against 66.7 % for
source-only on Amazon reviews, docs/adapt.md).

:func:`cluster_premise` measures the assumption on both domains with k-means at as many
clusters as there are classes, in the same input space as NC's graph:

* source: adjusted mutual information (AMI) between the clusters and the true source labels;
* target: AMI between the clusters and the source-only classifier's target predictions (the
  target labels are unknown; a source-only model is the only label-free proxy).

AMI is corrected for chance (0 for clusters unrelated to the labels, 1 for the same
partition). The premise holds when both values reach ``threshold`` (0.05: the clusters carry
at least 5 % of the labels' information). On the benchmark sets the smaller of the two values
per pair is 0.16-0.94 on Office-Caltech SURF, EfficientNet and GoogleNet features and on the
digits, and at most 0.03 on Amazon reviews and SST-2 through MiniLM (the selection tables of
``bench/results/da_*.md``). The threshold was set after seeing the four original sets' values;
the gap is wide on both sides.

Where the premise fails, :func:`subspace_variance_share` decides the fallback (docs/adapt.md,
"The variance-gated fallback"): how much of the variance TCA's subspace can keep at most.
"""

from __future__ import annotations

import numpy as np

#: the smallest AMI (both domains) at which NC's cluster premise counts as holding
PREMISE_THRESHOLD = 0.05


def _subsample(X, y, max_samples, rng):
    if len(X) <= max_samples:
        return X, y
    idx = np.sort(rng.choice(len(X), max_samples, replace=False))
    return X[idx], y[idx]


def cluster_ami(X, labels, n_clusters=None, seed=0):
    """AMI between ``labels`` and k-means clusters of ``X`` (``n_clusters``: one per label)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_mutual_info_score

    n_clusters = len(np.unique(labels)) if n_clusters is None else int(n_clusters)
    if len(np.unique(labels)) < 2 or len(X) <= n_clusters:
        return 0.0
    clusters = KMeans(n_clusters, n_init=4, random_state=seed).fit_predict(X)
    return float(adjusted_mutual_info_score(labels, clusters))


def cluster_premise(Xs, ys, Xt, yt_pred, threshold=PREMISE_THRESHOLD, max_samples=3000,
                    seed=0):
    """Check the cluster assumption on source and target features (no target labels).

    Parameters
    ----------
    Xs, ys : source features and labels.
    Xt : target features.
    yt_pred : a source-only classifier's predictions on ``Xt``.
    threshold : the premise holds when both AMI values are at least this.
    max_samples : each domain is subsampled to this many rows for k-means.
    seed : int.

    Returns
    -------
    dict with ``source_ami``, ``target_ami``, ``threshold``, ``n_clusters`` and ``holds``.
    """
    rng = np.random.default_rng(seed)
    Xs, ys = _subsample(np.asarray(Xs, dtype=float), np.asarray(ys), max_samples, rng)
    Xt, yt = _subsample(np.asarray(Xt, dtype=float), np.asarray(yt_pred), max_samples, rng)
    k = len(np.unique(ys))
    src, tgt = cluster_ami(Xs, ys, k, seed), cluster_ami(Xt, yt, k, seed)
    return {"source_ami": round(src, 4), "target_ami": round(tgt, 4),
            "threshold": float(threshold), "n_clusters": int(k),
            "holds": bool(min(src, tgt) >= threshold)}


#: the smallest share of variance TCA's subspace must be able to keep before the fallback
#: trusts NC's "TCA or source-only" answer (docs/adapt.md, "The variance-gated fallback"):
#: set between the largest value on the three n-gram text sets (0.612) and the smallest on the
#: three MiniLM text sets (0.673), before the check sets of ``da_auto_predictions.md`` ran
TCA_VARIANCE_THRESHOLD = 0.64


def subspace_variance_share(X, n_components=100, normalize=True):
    """Share of the variance of ``X`` (rows L2-normalised first when ``normalize``, as
    :class:`~transferkit.adapt.feature.TCA` sees them) in its top ``n_components`` principal
    directions: the most that a linear ``n_components``-dimensional projection such as TCA's
    can keep. Near ``n_components / d`` for nearly isotropic features (z-scored LSA text:
    0.54-0.61 at 100 of 256), higher where a few directions dominate (z-scored MiniLM
    sentence embeddings: 0.67-0.77 at 100 of 384). Uses no labels."""
    X = np.asarray(X, dtype=float)
    if normalize:
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        X = X / np.where(norms > 0, norms, 1.0)
    mu = X.mean(0)
    if X.shape[1] <= X.shape[0]:  # d x d scatter, without a centred copy of X
        G = X.T @ X - len(X) * np.outer(mu, mu)
    else:
        Xc = X - mu
        G = Xc @ Xc.T
    ev = np.clip(np.linalg.eigvalsh(G)[::-1], 0.0, None)
    total = ev.sum()
    return float(ev[:int(n_components)].sum() / total) if total > 0 else 1.0
