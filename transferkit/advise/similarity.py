"""The article's similar/dissimilar axis: how close is the data to the pretraining domain?

Image backbones (pretrained ImageNet classifier):

* **primary - head confidence**: the mean maximum softmax probability (MSP) of the pretrained
  ImageNet head on the data. A network trained on photos of everyday objects gives confident
  predictions on such photos and diffuse ones on data it has not seen the like of (8x8 digits,
  noise); MSP is the standard baseline out-of-distribution detector (Hendrycks & Gimpel, ICLR
  2017). It costs nothing extra: the head is one linear layer on the pooled features the
  scores use anyway. The normalised entropy ``H(p) / log(1000)`` is reported beside it.
* **secondary - BatchNorm shift**: the mean, over the channels of the first ``BN_LAYERS``
  BatchNorm layers, of ``KL(N(batch mean, batch var) || N(running mean, running var))``: how far
  the low-level statistics of the data are from those the backbone stored for ImageNet (the
  signal used by BN-based test-time adaptation, e.g. Schneider et al., NeurIPS 2020). It needs a
  forward pass through the stem only, on ``BN_SAMPLES`` images.

The data is **similar** when the head is confident (MSP >= ``MSP_THRESHOLD``) and the
BatchNorm shift is small (KL <= ``BN_KL_THRESHOLD``, when measured): either signal alone can
call the data dissimilar. The second check exists because a head can be confidently wrong on
simple synthetic images (flat colour squares reach MSP 0.30 on EfficientNet-Lite0) whose
low-level statistics are nothing like photos.

Text backbones (no pretrained classifier): **vocabulary coverage**, the fraction of words that
the backbone's WordPiece vocabulary holds as one token (not split into ``##`` fragments, not
``[UNK]``). The vocabulary is built from the pretraining corpus, so text like it is mostly
whole words, while other languages, scrambled text or symbol strings fall apart into
fragments (source code is not caught: its identifiers are mostly English words). It says
nothing about topic, only about the surface of the text.

The thresholds (``MSP_THRESHOLD``, ``COVERAGE_THRESHOLD``) were calibrated on data that is
clearly similar (hymenoptera, Office-Caltech-10 photos; Amazon reviews, SST-2) and clearly
dissimilar (scikit-learn 8x8 digits, USPS 16x16 digits, uniform noise; character-shuffled and
random-letter text): see ``docs/advise.md`` and ``bench/advise_validation.py``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

MSP_THRESHOLD = 0.30
BN_KL_THRESHOLD = 0.40
COVERAGE_THRESHOLD = 0.80
BN_LAYERS = 3
BN_SAMPLES = 32


@dataclass
class SimilarityAssessment:
    """Where the data falls on the similar/dissimilar axis for one backbone."""

    method: str
    value: float
    threshold: float
    similar: bool
    signals: dict = field(default_factory=dict)
    justification: str = ""

    @property
    def label(self) -> str:
        return "similar" if self.similar else "dissimilar"

    def to_dict(self) -> dict:
        return {**asdict(self), "label": self.label}


# ---------------------------------------------------------------------------------------------
# images
# ---------------------------------------------------------------------------------------------
def softmax(logits) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def head_confidence(probs) -> tuple[float, float]:
    """``(mean max-probability, mean normalised entropy)`` of source-head probabilities."""
    p = np.asarray(probs, dtype=np.float64)
    msp = float(p.max(axis=1).mean())
    ent = -np.sum(p * np.log(np.maximum(p, 1e-300)), axis=1) / math.log(p.shape[1])
    return msp, float(ent.mean())


def head_logits(model, features) -> np.ndarray:
    """ImageNet logits from pooled features: the backbone's classifier on its penultimate layer.

    For timm and torchvision models ``forward_head(x)`` is ``classifier(global_pool(x))``, and
    the cached features are exactly ``global_pool(x)``, so the classifier alone gives the
    logits of the full forward pass.
    """
    import torch

    clf = model.get_classifier()
    clf.eval()
    with torch.inference_mode():
        out = clf(torch.as_tensor(np.asarray(features, dtype=np.float32)))
    return out.float().numpy()


class _Stop(Exception):
    pass


def bn_shift(model, batch, n_layers: int = BN_LAYERS) -> float:
    """Mean per-channel ``KL(N(batch) || N(running))`` at the inputs of the first BN layers.

    ``batch`` is a preprocessed image tensor (B, 3, H, W). The forward pass stops after the
    ``n_layers``-th BatchNorm layer, so only the stem runs. Returns NaN when the model has no
    BatchNorm layer.
    """
    import torch
    from torch import nn

    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
           and m.running_mean is not None][:n_layers]
    if not bns:
        return float("nan")
    kls: list[float] = []

    def hook(mod, inputs):
        x = inputs[0].detach().double().transpose(0, 1).flatten(1)  # (C, B*H*W)
        mu, var = x.mean(1), x.var(1, unbiased=False).clamp_min(1e-8)
        rmu, rvar = mod.running_mean.double(), mod.running_var.double().clamp_min(1e-8)
        kl = 0.5 * (var / rvar + (mu - rmu) ** 2 / rvar - 1.0 - torch.log(var / rvar))
        kls.append(float(kl.mean()))
        if len(kls) >= len(bns):
            raise _Stop

    handles = [m.register_forward_pre_hook(hook) for m in bns]
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            model.forward_features(batch)
    except _Stop:
        pass
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return float(np.mean(kls)) if kls else float("nan")


def image_batch(ds, idx, cfg) -> object:
    """Decode and preprocess the samples ``idx`` of an image/array Dataset as the features are."""
    import torch

    from ..data.images import read_image
    from ..zoo.transforms import array_sample_input, image_transform

    if ds.modality == "array":
        arr = np.asarray(ds.inputs, dtype=np.float32)
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        return torch.stack([array_sample_input(arr[i], lo, hi, cfg.crop_size, cfg.mean, cfg.std)
                            for i in idx])
    transform = image_transform(cfg, train=False)
    draft = (2 * cfg.resize_size, 2 * cfg.resize_size)
    imgs = [read_image(ds.inputs[i], draft=draft) for i in idx]
    return torch.stack([transform(im) for im in imgs])


def image_similarity(probs, bn_kl: float | None = None, threshold: float = MSP_THRESHOLD,
                     bn_threshold: float = BN_KL_THRESHOLD) -> SimilarityAssessment:
    """Similarity of image data to ImageNet: head confidence, checked by the BatchNorm shift."""
    msp, ent = head_confidence(probs)
    has_bn = bn_kl is not None and bool(np.isfinite(bn_kl))
    bn_ok = (not has_bn) or bn_kl <= bn_threshold
    signals = {"mean_max_prob": round(msp, 4), "normalised_entropy": round(ent, 4),
               "bn_kl": round(float(bn_kl), 4) if has_bn else None,
               "bn_kl_threshold": bn_threshold, "head_says_similar": bool(msp >= threshold),
               "bn_says_similar": bool(bn_ok) if has_bn else None}
    return SimilarityAssessment(
        method="imagenet_head_confidence", value=msp, threshold=threshold,
        similar=bool(msp >= threshold and bn_ok), signals=signals,
        justification=("mean max-probability of the pretrained ImageNet head on the data: "
                       "confident on photos like ImageNet's, diffuse on data unlike them "
                       "(Hendrycks & Gimpel 2017); checked by the KL between the data's and "
                       "the stored BatchNorm statistics of the first layers"),
    )


# ---------------------------------------------------------------------------------------------
# texts
# ---------------------------------------------------------------------------------------------
def vocab_coverage(tokenizer, texts, max_tokens: int = 256) -> tuple[float, float]:
    """``(fraction of words kept whole, fraction of [UNK] pieces)`` under a WordPiece tokenizer.

    A word is a piece that does not start with ``##`` and holds a letter or digit (punctuation
    is not counted), or ``[UNK]``; it is kept whole when the next piece is not a ``##`` fragment
    and it is not ``[UNK]``. Only the first ``max_tokens`` pieces of each text are read.
    """
    unk = getattr(tokenizer, "unk_token", "[UNK]")
    words = whole = pieces = unks = 0
    for text in texts:
        toks = tokenizer.tokenize(str(text)[: 8 * max_tokens])[:max_tokens]
        pieces += len(toks)
        for j, t in enumerate(toks):
            if t == unk:
                unks += 1
            if t.startswith("##") or (t != unk and not any(ch.isalnum() for ch in t)):
                continue  # a fragment, or punctuation (not a word)
            words += 1
            split = j + 1 < len(toks) and toks[j + 1].startswith("##")
            if not split and t != unk:
                whole += 1
    if words == 0:
        return 0.0, 0.0
    return whole / words, unks / max(pieces, 1)


def text_similarity(tokenizer, texts, threshold: float = COVERAGE_THRESHOLD) -> SimilarityAssessment:
    """Similarity of texts to the pretraining corpus from WordPiece vocabulary coverage."""
    cov, unk = vocab_coverage(tokenizer, texts)
    return SimilarityAssessment(
        method="wordpiece_vocab_coverage", value=cov, threshold=threshold,
        similar=bool(cov >= threshold),
        signals={"whole_word_fraction": round(cov, 4), "unk_fraction": round(unk, 4),
                 "n_texts": len(texts)},
        justification=("fraction of words the backbone's vocabulary (built from its pretraining "
                       "corpus) keeps whole: high for text like the corpus, low for other "
                       "languages or scrambled/symbol strings; the text backbone has no "
                       "pretrained classifier to ask"),
    )
