"""The founding article's comparison, declared as data: baselines first, then the recipes.

Each rung is a :class:`Rung` (name, family, which modalities it applies to, how to build it).
``run_ladder`` trains every rung on the same split and evaluates it on the same held-out set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rung:
    name: str
    family: str  # "baseline" | "pretrained"
    modalities: tuple[str, ...]
    strategy: str | None = None
    options: dict = field(default_factory=dict)
    make_baseline: Callable | None = None
    description: str = ""


def _majority(**kw):
    from ..baselines import MajorityClassifier

    return MajorityClassifier()


def _mlp(epochs=30, seed=0, image_size=64, **kw):
    from ..baselines import PixelMLPClassifier

    return PixelMLPClassifier(epochs=epochs, seed=seed, image_size=image_size)


def _cnn(epochs=30, seed=0, image_size=64, **kw):
    from ..baselines import SmallCNNClassifier

    return SmallCNNClassifier(epochs=epochs, seed=seed, image_size=image_size)


def _tfidf(seed=0, **kw):
    from ..baselines import TfidfLogRegClassifier

    return TfidfLogRegClassifier()


LADDER: tuple[Rung, ...] = (
    Rung("majority", "baseline", ("image", "array", "text"), make_baseline=_majority,
         description="always predict the most frequent training class"),
    Rung("mlp_pixels", "baseline", ("image", "array"), make_baseline=_mlp,
         description="MLP with three hidden layers of 500 on raw pixels"),
    Rung("small_cnn", "baseline", ("image", "array"), make_baseline=_cnn,
         description="the article's CNN: 3 x (32 5x5 filters, ReLU, 4x4 max-pool), dense 64, dropout 0.5"),
    Rung("tfidf_lr", "baseline", ("text",), make_baseline=_tfidf,
         description="TF-IDF (1-2 grams) + logistic regression"),
    Rung("scratch", "pretrained", ("image", "array", "text"), strategy="scratch",
         description="the backbone's architecture with random weights"),
    Rung("extract_linear", "pretrained", ("image", "array", "text"), strategy="extract",
         options={"head": "linear", "c_selection": "val"},
         description="frozen backbone features + logistic regression (C chosen on the validation split)"),
    Rung("extract_mlp", "pretrained", ("image", "array", "text"), strategy="extract",
         options={"head": "mlp"}, description="frozen backbone features + the article's dense head"),
    Rung("partial", "pretrained", ("image", "array", "text"), strategy="partial",
         description="first k blocks frozen, the rest retrained at a low learning rate"),
    Rung("full", "pretrained", ("image", "array", "text"), strategy="full",
         description="everything fine-tuned, body at a lower learning rate than the head"),
)


def ladder_names() -> list[str]:
    return [r.name for r in LADDER]


def select_rungs(modality: str, methods: list[str] | None = None) -> list[Rung]:
    from ..errors import TransferkitError

    known = {r.name: r for r in LADDER}
    if methods:
        bad = [m for m in methods if m not in known]
        if bad:
            raise TransferkitError(f"unknown method(s) {', '.join(bad)}; choose from {', '.join(known)}")
        rungs = [known[m] for m in methods]
    else:
        rungs = list(LADDER)
    return [r for r in rungs if modality in r.modalities]
