"""``advise``: the article's four scenarios, measured.

Size (small/large, :mod:`.size`) x similarity to the pretraining data (similar/dissimilar,
:mod:`.similarity`) pick one of the article's scenarios and its strategy:

======== ========== ============ ========= =====================================================
scenario size       similarity   strategy  what it does
======== ========== ============ ========= =====================================================
1        small      similar      extract   frozen backbone as a feature extractor + a new head
                                           (``partial`` when the frozen features do not group
                                           the classes: :data:`CLASS_AMI_THRESHOLD`)
2        small      dissimilar   partial   freeze the first k blocks, retrain the rest
                                           (``extract`` when the retrain budget has no block)
3        large      dissimilar   scratch   the architecture only, random initialisation
4        large      similar      full      fine-tune everything from the pretrained weights
======== ========== ============ ========= =====================================================

The backbone is the candidate with the best LogME (``SELECTION_SCORE``) on a stratified
subsample of the data; the scenario is judged for that backbone.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import DataError
from .scores import hscore, leep, logme, nce
from .similarity import (
    BN_SAMPLES,
    SimilarityAssessment,
    head_logits,
    image_similarity,
    softmax,
    text_similarity,
)
from .size import (
    SizeAssessment,
    assess_size,
    block_params,
    body_params,
    can_retrain,
    retrain_budget,
)

DEFAULT_BACKBONES = {"image": ("efficientnet_lite0", "mobilenet_v2", "efficientnet_lite1"),
                     "text": ("minilm_l6",)}
#: the score that picks the backbone: LogME on z-scored features (docs/advise.md, "LogME on
#: standardised features": regret 0.03 vs 1.24 points for raw LogME over 10 training draws)
SELECTION_SCORE = "logme_z"
SCORE_NAMES = ("logme", "logme_z", "leep", "nce", "hscore")
SCORE_LABELS = {"logme": "LogME", "logme_z": "LogME (on z-scored features)", "leep": "LEEP",
                "nce": "NCE", "hscore": "H-score"}
TEXT_SAMPLES = 500  # texts tokenised for the vocabulary-coverage similarity
#: scenario 1 keeps the backbone frozen only if k-means on its features (one cluster per
#: class) shares at least this much information with the labels (adjusted mutual information;
#: the same check as domain adaptation's cluster premise, transferkit.adapt.premise)
CLASS_AMI_THRESHOLD = 0.05

SCENARIOS = {
    (False, True): (1, "small dataset, similar to the pretraining data", "extract"),
    (False, False): (2, "small dataset, dissimilar to the pretraining data", "partial"),
    (True, False): (3, "large dataset, dissimilar to the pretraining data", "scratch"),
    (True, True): (4, "large dataset, similar to the pretraining data", "full"),
}

# Learning rates and epochs: the trainer's defaults for each strategy (transferkit.train), which
# follow the article (partial: SGD 1e-3 momentum 0.9) and the usual fine-tuning practice.
STRATEGY_SETTINGS = {
    "extract": {"head": "linear"},
    "partial": {"lr": 1e-3, "epochs": 8},
    "full": {"lr": 1e-2, "body_lr_mult": 0.1, "epochs": 8},
    "scratch": {"lr": 2e-3, "epochs": 30},
}


@dataclass
class BackboneReport:
    """Measurements of one candidate backbone on the data."""

    backbone: str
    modality: str
    scores: dict
    similarity: SimilarityAssessment
    size: SizeAssessment
    n_scored: int
    num_blocks: int
    seconds: float
    notes: list = field(default_factory=list)
    block_params: list = field(default_factory=list)
    class_ami: float | None = None  # AMI of k-means clusters of the features with the labels
    image_size: int | None = None  # the side the scores were measured at (None: native)
    #: the selection score on paired bootstrap resamples of the scored samples (advise's
    #: ``bootstrap``); not in :meth:`to_dict`, whose ``selection_certainty`` summarises them
    score_resamples: list = field(default_factory=list)

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items()
             if k not in ("similarity", "size", "score_resamples")}
        d["similarity"] = self.similarity.to_dict()
        d["size"] = self.size.to_dict()
        return d


@dataclass
class Advice:
    """What :func:`advise` returns: the measurements, the scenario and the recommendation."""

    data: dict
    reports: list
    selection_score: str
    scenario: int
    scenario_name: str
    backbone: str
    strategy: str
    k: int | None
    lr: float | None
    epochs: int | None
    options: dict
    reason: str
    timings: dict = field(default_factory=dict)
    #: how often each backbone has the best selection score over paired bootstrap resamples of
    #: the scored samples (None when not computed or with one candidate)
    selection_certainty: dict | None = None

    @property
    def report(self) -> BackboneReport:
        """The report of the recommended backbone."""
        return next(r for r in self.reports if r.backbone == self.backbone)

    @property
    def size(self) -> SizeAssessment:
        return self.report.size

    @property
    def similarity(self) -> SimilarityAssessment:
        return self.report.similarity

    def fit_kwargs(self) -> dict:
        """Keyword arguments for :func:`transferkit.train.fit` that follow the advice."""
        return {"backbone": self.backbone, "strategy": self.strategy, **self.options}

    def summary(self) -> dict:
        """The short record to store with a model or in a report (JSON-ready)."""
        return {"scenario": self.scenario, "scenario_name": self.scenario_name,
                "backbone": self.backbone, "strategy": self.strategy, "k": self.k, "lr": self.lr,
                "epochs": self.epochs, "options": self.options, "size": self.size.label,
                "similarity": self.similarity.label,
                "similarity_value": round(float(self.similarity.value), 4),
                "selection_score": self.selection_score, "retrain_gate": self.retrain_gate,
                "selection_certainty": self.selection_certainty,
                "class_ami": self.report.class_ami, "scored_image_size": self.report.image_size,
                "scores": {r.backbone: r.scores for r in self.reports}, "reason": self.reason}

    @property
    def retrain_gate(self) -> dict | None:
        """Scenario 2's retrain budget against the last block (None in the other scenarios)."""
        return retrain_gate(self.report) if self.scenario == 2 else None

    def to_dict(self) -> dict:
        return {
            "data": self.data,
            "scenario": self.scenario,
            "scenario_name": self.scenario_name,
            "size": self.size.to_dict(),
            "similarity": self.similarity.to_dict(),
            "retrain_gate": self.retrain_gate,
            "recommendation": {"backbone": self.backbone, "strategy": self.strategy, "k": self.k,
                               "lr": self.lr, "epochs": self.epochs, "options": self.options},
            "selection_score": self.selection_score,
            "selection_certainty": self.selection_certainty,
            "backbones": [r.to_dict() for r in self.reports],
            "reason": self.reason,
            "timings": self.timings,
        }


# ---------------------------------------------------------------------------------------------
def stratified_subsample(y, max_samples: int | None, seed: int = 0) -> np.ndarray:
    """Indices of at most ``max_samples`` samples, classes in proportion, each class >= 2."""
    y = np.asarray(y)
    n = len(y)
    if max_samples is None or n <= max_samples:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    quota = np.maximum(np.minimum(counts, 2), np.floor(counts * max_samples / n).astype(int))
    out = [rng.choice(np.flatnonzero(y == c), q, replace=False) for c, q in zip(classes, quota,
                                                                              strict=True)]
    return np.sort(np.concatenate(out))


def choose_strategy(large: bool, similar: bool, num_blocks: int, blocks: list | None = None,
                    n_samples: int | None = None, class_ami: float | None = None) -> dict:
    """The scenario and strategy settings for one cell of the article's 2x2 table.

    For ``partial``, ``k`` is half the blocks. When the block sizes ``blocks`` and
    ``n_samples`` are given and the retrain budget (:func:`.size.can_retrain`) does not cover
    even the last block, nothing is retrained: the strategy is ``extract`` (scenario 2 still).
    In scenario 1, when ``class_ami`` (how much the frozen features' clusters say about the
    labels) is below :data:`CLASS_AMI_THRESHOLD`, the later half of the blocks is retrained:
    ``partial`` (scenario 1 still; the retrain budget is not applied, see docs/advise.md).
    """
    scenario, name, strategy = SCENARIOS[(bool(large), bool(similar))]
    k = None
    if strategy == "extract" and not features_group_classes(class_ami):  # scenario 1
        strategy, k = "partial", max(1, num_blocks // 2)
    elif strategy == "partial":
        k = max(1, num_blocks // 2)
        if blocks and n_samples is not None and not can_retrain(list(blocks), int(n_samples)):
            strategy, k = "extract", None
    options = dict(STRATEGY_SETTINGS[strategy])
    if k is not None:
        options["k"] = k
    return {"scenario": scenario, "scenario_name": name, "strategy": strategy, "k": k,
            "lr": options.get("lr"), "epochs": options.get("epochs"), "options": options}


def features_group_classes(class_ami: float | None) -> bool:
    """Scenario 1's premise: the frozen features group the classes (True when not measured)."""
    return class_ami is None or class_ami >= CLASS_AMI_THRESHOLD


def retrain_gate(rep: BackboneReport) -> dict | None:
    """The retrain budget of ``rep``'s data against its last block (None without block sizes)."""
    if not rep.block_params:
        return None
    n = rep.size.n_samples
    return {"budget_params": retrain_budget(n), "last_block_params": int(rep.block_params[-1]),
            "open": can_retrain(rep.block_params, n)}


def _best(reports: list[BackboneReport], score: str) -> BackboneReport:
    vals = [r.scores.get(score) for r in reports]
    ok = [i for i, v in enumerate(vals) if v is not None and np.isfinite(v)]
    if not ok:
        return reports[0]
    return reports[max(ok, key=lambda i: vals[i])]


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.3g}"


_WHY = {
    "extract": ("with few samples, fine-tuning millions of weights would overfit, and features "
                "learnt on similar data are already right for the task, so only a new head is "
                "trained on the frozen features"),
    "partial": ("with few samples the whole network cannot be retrained safely, but the data is "
                "unlike the pretraining data, so only the early, generic blocks (edges, colours, "
                "textures; Yosinski et al. 2014) are kept frozen - the first {k} of {n} - and the "
                "later, task-specific blocks are retrained"),
    "scratch": ("there is enough data to train the whole network, and the pretrained weights "
                "encode a domain unlike this one, so only the architecture is reused and it is "
                "trained from random initialisation"),
    "full": ("there is enough data to adapt every layer without overfitting, and starting from "
             "weights learnt on similar data makes that faster and better, so the whole network "
             "is fine-tuned, the body at a lower learning rate than the new head"),
}


def selection_certainty(reports: list, pick: str) -> dict | None:
    """Share of the paired bootstrap resamples in which each backbone has the best selection
    score, or None (one candidate, no resamples, or resamples that do not pair up)."""
    rows = [r.score_resamples for r in reports]
    if len(reports) < 2 or not rows[0] or any(len(v) != len(rows[0]) for v in rows):
        return None
    R = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)
    ok = ~np.isnan(R).all(0)
    if not ok.any():
        return None
    first = np.argmax(np.where(np.isnan(R[:, ok]), -np.inf, R[:, ok]), axis=0)
    share = {r.backbone: round(float(np.mean(first == i)), 3) for i, r in enumerate(reports)}
    return {"resamples": int(ok.sum()), "share_first": share, "pick": pick,
            "pick_share": share[pick]}


#: below this share of resamples won, the advice calls its backbone pick a near-tie
NEAR_TIE_SHARE = 0.9


def _certainty_text(cert: dict | None) -> str:
    if not cert:
        return ""
    p, n = cert["pick_share"], cert["resamples"]
    txt = f" It ranks first in {p:.0%} of {n} bootstrap resamples of the scored samples"
    if p >= NEAR_TIE_SHARE:
        return txt + "."
    runner = max((b for b in cert["share_first"] if b != cert["pick"]),
                 key=lambda b: cert["share_first"][b])
    return (txt + f" ({runner}: {cert['share_first'][runner]:.0%}), a near-tie: the two are "
            "within the score's sampling noise on this data, so either is a reasonable choice.")


def reason_text(advice_fields: dict, rep: BackboneReport, reports: list, score: str,
                certainty: dict | None = None) -> str:
    """The one-paragraph, plain-language reason for the recommendation."""
    s, sim = rep.size, rep.similarity
    strategy = advice_fields["strategy"]
    size_txt = (f"The data has {s.n_samples} labelled samples in {s.n_classes} classes (smallest "
                f"class {s.smallest_class}), which counts as {s.label} for {rep.backbone} "
                f"({s.body_params / 1e6:.1f} M body parameters: 'large' needs at least "
                f"{s.threshold_samples} samples and {s.threshold_min_class} per class).")
    if sim.method == "imagenet_head_confidence":
        head_ok = sim.value >= sim.threshold
        sim_txt = (f"Its pretrained ImageNet classifier is {'confident' if head_ok else 'unsure'}"
                   f" on these samples (mean top probability {sim.value:.2f}, threshold "
                   f"{sim.threshold:.2f})")
        kl, kl_t = sim.signals.get("bn_kl"), sim.signals.get("bn_kl_threshold")
        if kl is not None and head_ok and not sim.similar:
            sim_txt += (f", but the low-level statistics of the images are far from those it "
                        f"stored for ImageNet (BatchNorm KL {kl:.2f} > {kl_t:.2f})")
        elif kl is not None:
            sim_txt += f" (BatchNorm KL {kl:.2f}, threshold {kl_t:.2f})"
        sim_txt += f", so the data looks {sim.label} to its pretraining photos."
    else:
        sim_txt = (f"Its vocabulary keeps {sim.value:.0%} of the words whole (threshold "
                   f"{sim.threshold:.0%}), so the text looks {sim.label} to its pretraining text.")
    why = _WHY[strategy].format(k=advice_fields["k"], n=rep.num_blocks)
    if advice_fields["scenario"] == 1 and strategy == "partial":
        why = (f"the article keeps the backbone frozen here, but its features do not group "
               f"these classes: k-means with one cluster per class shares almost nothing with "
               f"the labels (AMI {rep.class_ami:.3f} < {CLASS_AMI_THRESHOLD}; the clusters follow "
               f"something else, such as topic), so the first {advice_fields['k']} of "
               f"{rep.num_blocks} blocks stay frozen and the later ones are retrained at a low "
               "learning rate to bring the classes apart")
    gate = retrain_gate(rep) if advice_fields["scenario"] == 2 else None
    if gate:
        budget, last = gate["budget_params"], gate["last_block_params"]
        if strategy == "extract":
            why = (f"the article retrains the later blocks here, but {s.n_samples} samples "
                   f"support retraining about {budget:,} parameters (200 per sample, the size "
                   f"rule's ratio) and even the last block of {rep.backbone} has {last:,}, so "
                   "every block stays frozen and only a new head is trained on the features")
        else:
            why += (f"; {s.n_samples} samples support retraining about {budget:,} parameters "
                    f"(200 per sample), at least the last block ({last:,})")
    scen = (f"That is the article's scenario {advice_fields['scenario']} "
            f"({advice_fields['scenario_name']}): {why}.")
    if len(reports) > 1:
        others = ", ".join(f"{r.backbone} {_fmt(r.scores.get(score))}" for r in reports
                           if r is not rep)
        pick = (f"{rep.backbone} is recommended because it has the best "
                f"{SCORE_LABELS.get(score, score)} "
                f"({_fmt(rep.scores.get(score))}; {others}), which predicts how well its frozen "
                "features separate the classes." + _certainty_text(certainty))
    else:
        pick = f"{rep.backbone} was the only candidate backbone."
    return " ".join([size_txt, sim_txt, scen, pick])


# ---------------------------------------------------------------------------------------------
def _resampled(score, X, y, probs, idx_sets) -> list:
    """``score`` on each resample of the rows (None where it cannot be computed)."""
    if score in ("leep", "nce") and probs is None:
        return []
    fn = {"logme": lambda i: logme(X[i], y[i]), "hscore": lambda i: hscore(X[i], y[i]),
          "logme_z": lambda i: logme(X[i], y[i], standardize=True),
          "leep": lambda i: leep(probs[i], y[i]), "nce": lambda i: nce(probs[i], y[i])}[score]
    out = []
    for i in idx_sets:
        try:
            out.append(float(fn(i)))
        except (DataError, np.linalg.LinAlgError, ValueError):
            out.append(None)
    return out


def feature_scores(X, y, probs=None) -> dict:
    """LogME (on the features as given, and z-scored: ``logme_z``) and H-score of features
    ``X`` for labels ``y``; LEEP and NCE from the pretrained head's probabilities ``probs``
    (None without a head)."""
    return {"logme": logme(X, y), "logme_z": logme(X, y, standardize=True),
            "hscore": hscore(X, y),
            "leep": None if probs is None else leep(probs, y),
            "nce": None if probs is None else nce(probs, y)}


def _score_backbone(name, ds, sub, counts, cache_dir, seed, progress, bootstrap=0,
                    score_name=SELECTION_SCORE, image_size=None) -> BackboneReport:
    from ..adapt.premise import cluster_ami  # (transferkit.adapt is imported only when used)
    from ..features import extract_features
    from ..zoo import create_backbone, get_config

    t0 = time.perf_counter()
    cfg = get_config(name)
    if (cfg.modality == "text") != (ds.modality == "text"):
        raise DataError(f"{ds.source or 'data'}: backbone {name} reads {cfg.modality}s, the data "
                        f"holds {ds.modality}s")
    model = create_backbone(name, pretrained=True).eval()
    feats = extract_features(sub, name, cache_dir=cache_dir, progress=progress, model=model)
    X, y = np.asarray(feats.X, dtype=np.float64), np.asarray(feats.y)
    if len(np.unique(y)) < 2:
        raise DataError(f"{ds.source or 'data'}: fewer than 2 classes left after extraction")
    notes = []
    has_head = cfg.modality == "image" and cfg.num_classes > 0
    probs = native_probs = softmax(head_logits(model, X)) if has_head else None
    sized = bool(image_size) and sub.modality == "array"
    if sized:  # the scores see what a model trained at image_size sees; similarity stays native
        from ..train.strategies.extract import embed_direct

        X = np.asarray(embed_direct(sub, model, int(image_size))[0], dtype=np.float64)
        probs = softmax(head_logits(model, X)) if has_head else None
        notes.append(f"scored on the arrays at {int(image_size)} px (image_size); similarity "
                     f"to the pretraining data measured at the backbone's {cfg.crop_size} px")
    elif image_size:
        notes.append(f"image_size applies to array data; this {sub.modality} data is scored "
                     "at the backbone's input size")
    scores = feature_scores(X, y, probs)
    if has_head:
        kl = _bn_kl(model, sub, seed)
        similarity = image_similarity(native_probs, kl)
    else:
        notes.append("LEEP and NCE need the pretrained classifier's outputs; "
                     f"{name} has no pretrained classifier, so they are not computed")
        rng = np.random.default_rng(seed)
        take = rng.choice(len(sub), min(TEXT_SAMPLES, len(sub)), replace=False)
        similarity = text_similarity(model.tokenizer, [sub.inputs[i] for i in take])
    size = assess_size(counts, body_params(model))
    blocks = block_params(model)
    ami = round(cluster_ami(X, y, seed=seed), 4)
    resamples = []
    if bootstrap:  # the same resamples for every backbone (same rows, same seed): paired
        idx_sets = np.random.default_rng([seed, 7]).integers(0, len(y), (bootstrap, len(y)))
        resamples = _resampled(score_name, X, y, probs, idx_sets)
    return BackboneReport(
        score_resamples=resamples,
        backbone=name, modality=cfg.modality,
        scores={k: (None if v is None else float(v)) for k, v in scores.items()},
        similarity=similarity, size=size, n_scored=len(y), num_blocks=int(cfg.num_blocks),
        seconds=round(time.perf_counter() - t0, 3), notes=notes, block_params=blocks,
        class_ami=ami, image_size=int(image_size) if sized else None,
    )


def _bn_kl(model, sub, seed) -> float | None:
    from .similarity import bn_shift, image_batch

    rng = np.random.default_rng(seed)
    idx = rng.choice(len(sub), min(BN_SAMPLES, len(sub)), replace=False)
    try:
        batch = image_batch(sub, idx, model.cfg)
    except DataError:
        return None
    return bn_shift(model, batch)


def advise(data, backbones=None, cache_dir=None, max_samples: int | None = 2000, seed: int = 0,
           progress: bool = True, select_by: str = SELECTION_SCORE,
           bootstrap: int = 20, image_size: int | None = None) -> Advice:
    """Measure size, similarity and transferability; recommend a backbone and a strategy.

    Parameters
    ----------
    data : path or :class:`~transferkit.data.Dataset`
        Labelled data (what :func:`transferkit.data.load_data` reads).
    backbones : list of names or comma-separated string, optional
        Candidates; default: three image backbones or ``minilm_l6`` for texts.
    cache_dir : feature cache folder (see :func:`transferkit.features.extract_features`).
    max_samples : int or None
        Scores and similarity use a stratified subsample of at most this many samples; the
        size rule uses the whole data set.
    select_by : 'logme_z' (default), 'logme', 'hscore', 'leep' or 'nce'
        The score that picks the recommended backbone. ``logme_z`` is LogME on the features
        z-scored as the ``extract`` head sees them; ``logme`` on the raw features, as the
        reference implementation (LEEP/NCE fall back to the first candidate for text
        backbones, which have no pretrained head).
    bootstrap : int
        Paired bootstrap resamples of the scored samples on which the selection score is
        recomputed for every candidate, to say how often the recommended backbone comes first
        (``selection_certainty``; below 90 % the reason calls it a near-tie). Each costs one
        more score per backbone (LogME at 2,000 x 1,280 features: about 0.35 s); 0 turns it off.
    image_size : int, optional
        Array data only, as in ``fit(..., image_size=N)``: the scores (and the class AMI) are
        measured on features of the arrays resized to ``N`` px, the input a model trained at
        that size sees. The similarity to the pretraining data is still measured at the
        backbone's own input size, where its thresholds were set. Image files and texts are
        scored at the backbone's input size (a note says so).
    """
    from ..data import load_data
    from ..data.dataset import Dataset

    if select_by not in SCORE_NAMES:
        raise DataError(f"select_by={select_by!r}: expected one of {', '.join(SCORE_NAMES)}")
    if image_size is not None and (isinstance(image_size, bool) or int(image_size) != image_size
                                   or image_size < 8):
        raise DataError(f"image_size={image_size!r}: expected a side of at least 8 pixels")
    t0 = time.perf_counter()
    ds = data if isinstance(data, Dataset) else load_data(data)
    y_all = np.asarray(ds.y)
    labelled = np.flatnonzero(y_all >= 0)
    if len(np.unique(y_all[labelled])) < 2:
        raise DataError(f"{ds.source or 'data'}: advice needs labelled samples of at least 2 classes")
    ds = ds if len(labelled) == len(ds) else ds.subset(labelled)
    counts = np.bincount(np.asarray(ds.y), minlength=len(ds.classes))
    modality = "text" if ds.modality == "text" else "image"
    if backbones is None:
        backbones = DEFAULT_BACKBONES[modality]
    elif isinstance(backbones, str):
        backbones = [b.strip() for b in backbones.split(",") if b.strip()]
    backbones = list(dict.fromkeys(backbones))
    if not backbones:
        raise DataError("backbones: no backbone named")
    sub_idx = stratified_subsample(ds.y, max_samples, seed)
    sub = ds if len(sub_idx) == len(ds) else ds.subset(sub_idx)
    if bootstrap < 0:
        raise DataError(f"bootstrap={bootstrap}: expected 0 or more resamples")
    boot = int(bootstrap) if len(backbones) > 1 else 0
    reports = [_score_backbone(b, ds, sub, counts, cache_dir, seed, progress, bootstrap=boot,
                               score_name=select_by, image_size=image_size) for b in backbones]
    best = _best(reports, select_by)
    certainty = selection_certainty(reports, best.backbone)
    choice = choose_strategy(best.size.large, best.similarity.similar, best.num_blocks,
                             best.block_params, best.size.n_samples, best.class_ami)
    smallest = int(np.argmin(np.where(counts > 0, counts, np.iinfo(np.int64).max)))
    data_info = {"source": ds.source, "modality": ds.modality, "samples": int(counts.sum()),
                 "classes": int((counts > 0).sum()),
                 "smallest_class": {"class": ds.classes[smallest], "count": int(counts[smallest])},
                 "scored_samples": int(len(sub_idx)),
                 "scored_image_size": best.image_size}
    reason = reason_text(choice, best, reports, select_by, certainty)
    timings = {"total_s": round(time.perf_counter() - t0, 3),
               **{f"{r.backbone}_s": r.seconds for r in reports}}
    return Advice(data=data_info, reports=reports, selection_score=select_by,
                  backbone=best.backbone, reason=reason, timings=timings,
                  selection_certainty=certainty, **choice)
