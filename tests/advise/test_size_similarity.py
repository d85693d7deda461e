"""The small/large rule and the similarity signals (unit level and on real pretrained heads)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from transferkit.advise.similarity import (
    MSP_THRESHOLD,
    bn_shift,
    head_confidence,
    image_similarity,
    text_similarity,
    vocab_coverage,
)
from transferkit.advise.size import (
    MIN_PER_CLASS,
    PARAMS_PER_SAMPLE,
    assess_size,
    block_params,
    body_params,
    can_retrain,
    retrain_budget,
)


# --- size ----------------------------------------------------------------------------------
def test_size_rule_thresholds():
    params = 2_000_000  # -> 10,000 samples
    need = params // PARAMS_PER_SAMPLE
    small = assess_size([need // 2, need // 2 - 1], params)
    assert not small.large and small.label == "small" and small.threshold_samples == need
    large = assess_size([need // 2, need // 2], params)
    assert large.large and large.n_samples == need and large.smallest_class == need // 2
    # enough samples overall, but one class below the per-class floor -> small
    skewed = assess_size([need, MIN_PER_CLASS - 1], params)
    assert not skewed.large and skewed.smallest_class == MIN_PER_CLASS - 1
    # a bigger backbone needs more data for the same verdict
    assert not assess_size([need // 2, need // 2], 4 * params).large
    assert "parameters" in large.rule and large.to_dict()["label"] == "large"


class _Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 4, 1),
                                  nn.BatchNorm2d(4))
        self.fc = nn.Linear(4, 7)

    def get_classifier(self):
        return self.fc

    def forward_features(self, x):
        return self.body(x)


def test_body_params_excludes_the_classifier():
    m = _Toy()
    total = sum(p.numel() for p in m.parameters())
    assert body_params(m) == total - (4 * 7 + 7)


def test_block_params_count_each_block_once():
    class Shared(_Toy):
        def block_groups(self):
            return [self.body[:2], self.body[2:], self.body[2:]]  # the last block listed twice

    m = Shared()
    first = sum(p.numel() for p in m.body[:2].parameters())
    second = sum(p.numel() for p in m.body[2:].parameters())
    assert block_params(m) == [first, second, 0]
    assert sum(block_params(m)) == body_params(m)


def test_can_retrain_when_the_budget_covers_the_last_block():
    blocks = [10, 100, 1_000, 50_000, 400_000]
    assert retrain_budget(3) == 3 * PARAMS_PER_SAMPLE
    assert not can_retrain(blocks, 120)  # 24,000 parameters: not even the last block
    assert not can_retrain(blocks, 1_999)  # 399,800
    assert can_retrain(blocks, 2_000)  # exactly the last block
    assert not can_retrain([], 10**9)


# --- similarity: unit level ------------------------------------------------------------------
def test_head_confidence_peaked_vs_uniform():
    z = 1000
    uniform = np.full((5, z), 1.0 / z)
    peaked = np.full((5, z), 0.1 / (z - 1))
    peaked[:, 3] = 0.9
    msp_u, ent_u = head_confidence(uniform)
    msp_p, ent_p = head_confidence(peaked)
    assert msp_u == pytest.approx(1 / z) and ent_u == pytest.approx(1.0)
    assert msp_p == pytest.approx(0.9) and ent_p < 0.2
    assert image_similarity(peaked).similar and not image_similarity(uniform).similar
    # the BatchNorm shift can veto a confident head, never rescue a diffuse one
    assert image_similarity(peaked, bn_kl=0.1).similar
    vetoed = image_similarity(peaked, bn_kl=5.0)
    assert not vetoed.similar and vetoed.signals["head_says_similar"]
    assert not image_similarity(uniform, bn_kl=0.0).similar


def test_bn_shift_zero_on_matching_statistics_and_grows_with_shift():
    torch.manual_seed(0)
    m = _Toy().eval()
    x = torch.randn(64, 3, 12, 12)
    with torch.no_grad():  # make the first BN's running statistics those of this data
        h = m.body[0](x).transpose(0, 1).flatten(1)
        m.body[1].running_mean.copy_(h.mean(1))
        m.body[1].running_var.copy_(h.var(1, unbiased=False))
    same = bn_shift(m, x, n_layers=1)
    shifted = bn_shift(m, 3 * x + 2, n_layers=1)
    assert same == pytest.approx(0.0, abs=1e-6)
    assert shifted > 0.5
    assert np.isnan(bn_shift(nn.Sequential(nn.Conv2d(3, 3, 1)), x))


class _FakeWordPiece:
    unk_token = "[UNK]"
    vocab = {"the", "film", "was", "good", "bad", "##s"}

    def tokenize(self, text):
        out = []
        for w in text.lower().split():
            if w in self.vocab:
                out.append(w)
            elif w.endswith("s") and w[:-1] in self.vocab:
                out += [w[:-1], "##s"]
            elif w.isalpha():
                out += [w[:1], "##" + w[1:]]
            else:
                out.append("[UNK]")
        return out


def test_vocab_coverage_counts_whole_words_fragments_and_unk():
    tok = _FakeWordPiece()
    cov, unk = vocab_coverage(tok, ["the film was good", "films xyz ###"])
    # 7 words: the, film, was, good whole; films (film ##s) split; xyz split; ### -> [UNK]
    assert cov == pytest.approx(4 / 7)
    assert unk == pytest.approx(1 / 9)  # 9 pieces
    assert text_similarity(tok, ["the film was good"]).similar
    assert not text_similarity(tok, ["qwz xkcd plo"]).similar


# --- similarity: real pretrained models ---------------------------------------------------------
def _photo_batch(cfg):
    from PIL import Image
    from skimage import data as skd

    from transferkit.zoo.transforms import image_transform

    t = image_transform(cfg)
    return torch.stack([t(Image.fromarray(getattr(skd, n)())) for n in ("chelsea", "coffee", "rocket")])


def _digit_batch(cfg):
    from sklearn.datasets import load_digits

    from transferkit.advise.similarity import image_batch
    from transferkit.data import from_arrays

    d = load_digits()
    ds = from_arrays(d.images[:6].astype(np.float32), d.target[:6])
    return image_batch(ds, np.arange(6), cfg)


def test_imagenet_head_separates_photos_from_digits_and_noise():
    from transferkit.advise.similarity import softmax
    from transferkit.zoo import create_backbone

    torch.manual_seed(0)
    m = create_backbone("efficientnet_lite0").eval()
    photos, digits = _photo_batch(m.cfg), _digit_batch(m.cfg)
    noise = torch.rand(4, 3, 224, 224) * 4 - 2
    res = {}
    with torch.inference_mode():
        for name, b in (("photos", photos), ("digits", digits), ("noise", noise)):
            res[name] = (image_similarity(softmax(m(b).float().numpy())), bn_shift(m, b))
    assert res["photos"][0].similar and res["photos"][0].value > MSP_THRESHOLD
    assert not res["digits"][0].similar and not res["noise"][0].similar
    # the second signal agrees: the photos' low-level statistics are closest to ImageNet's
    assert res["photos"][1] < res["digits"][1] and res["photos"][1] < res["noise"][1]


def test_wordpiece_coverage_english_vs_scrambled():
    from transformers import AutoTokenizer

    from transferkit.zoo.minilm import model_folder

    tok = AutoTokenizer.from_pretrained(str(model_folder()))
    english = ["This movie was a wonderful surprise, the acting is great.",
               "The kettle broke after two weeks and support never answered."]
    rng = np.random.default_rng(0)
    scrambled = ["".join(rng.permutation(list(t))) for t in english]
    assert text_similarity(tok, english).similar
    assert not text_similarity(tok, scrambled).similar
