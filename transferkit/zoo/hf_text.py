"""``HFTextBackbone``: a Hugging Face transformer encoder behind transferkit's feature API.

* ``tokenize(texts) -> dict`` of tensors (``input_ids``, ``attention_mask``, ...), the ``x``
  every other method takes.
* ``forward_features(x)`` -> ``{"last_hidden_state": (B, T, D), "attention_mask": (B, T)}``
  (the token states, with the mask that pooling needs).
* ``forward_head(f, pre_logits=True)`` -> attention-mask mean pooling (+ L2 normalisation when
  the backbone was trained that way, e.g. sentence-transformers) -> (B, D);
  with ``pre_logits=False`` the classifier (identity until :meth:`reset_classifier`) is applied.
* ``block_groups()`` -> the embeddings, then each transformer layer.

Everything is loaded from local folders with ``local_files_only=True``: no network access.
"""

from __future__ import annotations

import torch
from torch import nn

from .base import Backbone
from .config import BackboneConfig


def transformer_layers(model: nn.Module) -> nn.ModuleList | None:
    """The ``ModuleList`` of transformer layers (BERT ``encoder.layer``, DistilBERT
    ``transformer.layer``, ...): the longest ``ModuleList`` whose length is the layer count."""
    n = getattr(model.config, "num_hidden_layers", None) or getattr(model.config, "n_layers", None)
    best = None
    for _, m in model.named_modules():
        if isinstance(m, nn.ModuleList) and (n is None or len(m) == n):
            if best is None or len(m) > len(best):
                best = m
    return best


class HFTextBackbone(Backbone):
    """A transformers ``AutoModel`` encoder with mean pooling."""

    def __init__(self, cfg: BackboneConfig, model: nn.Module, tokenizer, normalize: bool = False):
        super().__init__(cfg)
        if getattr(model, "pooler", None) is not None:
            model.pooler = None  # BERT's [CLS] pooler is unused by mean pooling
        self.model = model
        self.tokenizer = tokenizer
        self.normalize = normalize
        self.head = nn.Identity()

    # --- text input ---------------------------------------------------------------------
    def tokenize(self, texts: list[str] | str) -> dict:
        """Tokenise a list of texts into padded tensors (truncated to ``cfg.max_length``)."""
        if isinstance(texts, str):
            texts = [texts]
        enc = self.tokenizer(list(texts), padding=True, truncation=True,
                             max_length=self.cfg.max_length, return_tensors="pt")
        return dict(enc)

    # --- feature API ---------------------------------------------------------------------
    def forward_features(self, x: dict) -> dict:
        device = next(self.model.parameters()).device
        x = {k: v.to(device) for k, v in x.items()}
        out = self.model(**x)
        mask = x.get("attention_mask")
        if mask is None:
            mask = torch.ones(out.last_hidden_state.shape[:2], dtype=torch.long, device=device)
        return {"last_hidden_state": out.last_hidden_state, "attention_mask": mask}

    def pool(self, f) -> torch.Tensor:
        """Attention-mask mean pooling (+ L2 normalisation if ``normalize``)."""
        if isinstance(f, dict):
            h, mask = f["last_hidden_state"], f.get("attention_mask")
        else:
            h, mask = f, None
        if mask is None:
            mask = torch.ones(h.shape[:2], dtype=h.dtype, device=h.device)
        m = mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp_min(1e-9)
        if self.normalize:
            pooled = nn.functional.normalize(pooled, p=2, dim=1)
        return pooled

    def forward_head(self, f, pre_logits: bool = False):
        pooled = self.pool(f)
        return pooled if pre_logits else self.head(pooled)

    def get_classifier(self) -> nn.Module:
        return self.head

    def reset_classifier(self, num_classes: int) -> None:
        dim = self.cfg.feature_dim
        self.head = nn.Linear(dim, num_classes) if num_classes > 0 else nn.Identity()

    def block_names(self) -> list[str]:
        """``embeddings``, ``layer1`` .. ``layerN``."""
        n = len(self.block_groups())
        return ["model"] if n == 1 else ["embeddings", *(f"layer{i}" for i in range(1, n))]

    def block_groups(self) -> list[nn.Module]:
        emb = getattr(self.model, "embeddings", None)
        layers = transformer_layers(self.model)
        if emb is None or layers is None:
            return [self.model]
        return [emb, *layers]


def load_hf_text(folder, name: str, pretrained: bool = True):
    """``(model, tokenizer)`` from a local folder, never touching the network."""
    from transformers import AutoConfig, AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from ..errors import BackboneError

    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a per-tensor "Loading weights" bar is noise here
    try:
        tok = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        if pretrained:
            model = AutoModel.from_pretrained(str(folder), local_files_only=True)
        else:
            model = AutoModel.from_config(AutoConfig.from_pretrained(str(folder),
                                                                     local_files_only=True))
    except (OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise BackboneError(f"{name}: cannot load a model from {folder}: {first}") from None
    finally:
        if bar:
            hf_logging.enable_progress_bar()
    return model, tok
