"""The pieces of SHOT's objective (Liang et al., 2020), as plain functions.

* information maximisation: ``entropy(p)`` (mean per-sample entropy, to minimise: confident
  predictions) minus ``diversity(p)`` (entropy of the mean prediction, to maximise: every
  class used), with ``p`` the softmax of the logits and ``eps = 1e-5`` as in the paper's code;
* self-supervised pseudo-labels: class centroids of the target features weighted by the
  predicted probabilities, each sample labelled by its nearest centroid in cosine distance,
  then the centroids recomputed from those hard labels and the labels assigned once more
  (features get a constant 1 appended before L2 normalisation, as in the reference code);
* ``shot_loss = entropy - diversity + beta * cross_entropy(logits, pseudo_labels)``.
"""

from __future__ import annotations

import numpy as np
import torch

EPS = 1e-5


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of the entropy of each sample's softmax (nats)."""
    p = torch.softmax(logits.float(), 1)
    return -(p * torch.log(p + EPS)).sum(1).mean()


def diversity(logits: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of the batch's mean softmax prediction."""
    pm = torch.softmax(logits.float(), 1).mean(0)
    return -(pm * torch.log(pm + EPS)).sum()


def information_maximisation(logits: torch.Tensor) -> torch.Tensor:
    """``entropy - diversity`` (SHOT's L_ent + L_div)."""
    return entropy(logits) - diversity(logits)


def shot_loss(logits: torch.Tensor, pseudo_labels: torch.Tensor, beta: float = 0.3) -> torch.Tensor:
    """SHOT's objective on one target batch; ``beta=0`` gives SHOT-IM."""
    loss = information_maximisation(logits)
    if beta:
        loss = loss + beta * torch.nn.functional.cross_entropy(logits.float(), pseudo_labels.long())
    return loss


def _cosine_nearest(f: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    c = centroids / np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    return (f @ c.T).argmax(1)  # largest cosine similarity = smallest cosine distance


def pseudo_labels(features: np.ndarray, proba: np.ndarray, rounds: int = 1) -> tuple[np.ndarray, dict]:
    """SHOT's self-supervised labels from target ``features`` (n, d) and softmax ``proba`` (n, K).

    Returns the labels and ``{'initial': labels from the weighted centroids,
    'centroids': the final centroids (K, d+1)}``.
    """
    f = np.asarray(features, np.float64)
    f = np.hstack([f, np.ones((len(f), 1))])
    f /= np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)
    aff = np.asarray(proba, np.float64)
    k = aff.shape[1]
    centroids = aff.T @ f / (1e-8 + aff.sum(0)[:, None])
    labels = _cosine_nearest(f, centroids)
    initial = labels.copy()
    for _ in range(rounds):
        aff = np.eye(k)[labels]
        centroids = aff.T @ f / (1e-8 + aff.sum(0)[:, None])
        labels = _cosine_nearest(f, centroids)
    return labels, {"initial": initial, "centroids": centroids}
