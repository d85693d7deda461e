"""all-MiniLM-L6-v2 from the offline wheel: sentence embeddings like sentence-transformers."""

from __future__ import annotations

import torch

from transferkit.zoo import get_config
from transferkit.zoo.minilm import model_folder

SENTS = [
    "A man is playing a guitar.",
    "Someone plays an instrument.",
    "The stock market fell today.",
]


def test_config():
    c = get_config("minilm_l6")
    assert (c.modality, c.feature_dim, c.num_blocks, c.max_length) == ("text", 384, 7, 256)
    assert "Apache-2.0" in c.license and c.pretrained_dataset == "1B sentence pairs"


def test_embeddings_are_unit_norm_and_semantic(cached):
    b = cached("minilm_l6")
    with torch.no_grad():
        e = b.embed(b.tokenize(SENTS))
    assert e.shape == (3, 384)
    assert torch.allclose(e.norm(dim=1), torch.ones(3), atol=1e-5)
    related, unrelated = float(e[0] @ e[1]), max(float(e[0] @ e[2]), float(e[1] @ e[2]))
    assert related > unrelated + 0.3


def test_matches_sentence_transformers(cached):
    from sentence_transformers import SentenceTransformer

    b = cached("minilm_l6")
    st = SentenceTransformer(str(model_folder()), device="cpu", local_files_only=True)
    ref = torch.as_tensor(st.encode(SENTS, convert_to_numpy=True))
    with torch.no_grad():
        e = b.embed(b.tokenize(SENTS))
    cos = torch.nn.functional.cosine_similarity(e, ref, dim=1)
    assert cos.min() > 0.999


def test_padding_does_not_change_an_embedding(cached):
    b = cached("minilm_l6")
    with torch.no_grad():
        alone = b.embed(b.tokenize([SENTS[0]]))
        padded = b.embed(b.tokenize([SENTS[0], SENTS[0] + " " + "word " * 30]))
    assert torch.allclose(alone[0], padded[0], atol=1e-5)


def test_local_safetensors_weights_round_trip(tmp_path, cached):
    from safetensors.torch import save_file

    from transferkit.zoo import create_backbone

    b = cached("minilm_l6")
    save_file({k: v.contiguous() for k, v in b.model.state_dict().items()},
              str(tmp_path / "w.safetensors"))
    again = create_backbone("minilm_l6", weights=str(tmp_path / "w.safetensors")).eval()
    x = b.tokenize(SENTS[:2])
    with torch.no_grad():
        assert torch.allclose(again.embed(x), b.embed(x), atol=1e-6)
