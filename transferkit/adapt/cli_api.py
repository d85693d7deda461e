"""``adapt(source, target, method=..., backbone=..., out=...)``: the API of ``transferkit adapt``.

Loads both data sets (anything :func:`transferkit.data.load_data` reads; the target may have no
labels), extracts features with the backbone (``'none'``: array inputs are the features), fits
the adaptation without target labels, and writes a DA model folder that ``transferkit.load``,
``predict`` and ``evaluate`` read. Target labels, when the target has them, are used only for
the reported ``target_accuracy``.

Methods are looked up in :data:`RUNNERS` (name -> runner); deep methods add one line there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError, TransferkitError
from ._registry import UnknownMethodError, list_methods


@dataclass
class AdaptJob:
    """What a runner gets: both data sets and the options of :func:`adapt`."""

    source: object  # transferkit.data.Dataset (labelled)
    target: object  # transferkit.data.Dataset (labels -1 when unknown)
    method: str
    backbone: str
    seed: int
    scorer: str | None
    cache_dir: str | None
    progress: bool


@dataclass
class AdaptResult:
    """What :func:`adapt` returns (``to_dict`` is JSON-ready)."""

    method: str
    method_requested: str
    backbone: str
    classes: list[str]
    report: dict
    n_source: int
    n_target: int
    target_accuracy: float | None = None
    n_target_scored: int = 0
    out: str | None = None
    skipped: list[dict] = field(default_factory=list)
    model: object = None  # the fitted pipeline (not serialised)
    predictor: object = None  # a DAPredictor over the same pipeline

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("model")
        d.pop("predictor")
        d["target_labels_used"] = False
        d["target_accuracy_note"] = ("target labels used only for this report"
                                     if self.target_accuracy is not None else None)
        return d


# ---------------------------------------------------------------------- loading

def _load_target(path, modality: str, text_column=None, label_column=None):
    """The target data set: labelled if it can be read as such, else unlabelled inputs."""
    from ..data import load_data
    from ..data.dataset import Dataset

    try:
        return load_data(path, text_column=text_column, label_column=label_column)
    except DataError as first:
        p = Path(os.fspath(path))
        try:
            if modality == "array" and p.suffix.lower() in (".npz", ".npy") and p.is_file():
                X = _unlabelled_array(p)
            elif modality in ("image", "text"):
                from ..inference import collect_inputs

                X, _ = collect_inputs([str(p)], modality, text_column)
            else:
                raise first
        except DataError:
            raise first from None
        y = -np.ones(len(X), dtype=np.int64)
        return Dataset(modality, X, y, [], source=str(p.absolute()))


def _unlabelled_array(p: Path) -> np.ndarray:
    try:
        with np.load(p, allow_pickle=False) as z:
            if isinstance(z, np.ndarray):
                return z
            keys = list(z.keys())
            for k in ("X", "x", "features", "data"):
                if k in keys:
                    return z[k]
            if len(keys) == 1:
                return z[keys[0]]
    except (OSError, ValueError) as exc:
        raise DataError(f"{p}: not a readable NumPy file ({exc})") from None
    raise DataError(f"{p}: no X array found")


def _features(ds, backbone: str, cache_dir, progress: bool):
    """``(X float64 (n, d), kept indices into ds, skipped list)``."""
    if backbone == "none":
        if ds.modality != "array":
            raise DataError(f"{ds.source or 'data'}: --backbone none needs array data (.npz/.npy), "
                            f"got {ds.modality}s")
        X = np.asarray(ds.inputs, dtype=np.float64)
        return X.reshape(len(X), -1), np.arange(len(X)), list(ds.skipped)
    from ..features import extract_features

    f = extract_features(ds, backbone, cache_dir=cache_dir, progress=progress)
    if ds.modality == "image":
        pos = {str(p): i for i, p in enumerate(ds.inputs)}
        kept = np.array([pos[i] for i in f.ids], dtype=int)
    else:
        kept = np.array([int(i) for i in f.ids], dtype=int)
    return np.asarray(f.X, dtype=np.float64), kept, list(f.skipped)


# ---------------------------------------------------------------------- runners

def _run_shallow(job: AdaptJob) -> dict:
    """Shallow methods on frozen features: :func:`~transferkit.adapt.adapt_features`."""
    from .api import adapt_features

    Xs, ks, sk_s = _features(job.source, job.backbone, job.cache_dir, job.progress)
    Xt, kt, sk_t = _features(job.target, job.backbone, job.cache_dir, job.progress)
    if len(Xt) == 0:
        raise DataError(f"{job.target.source or 'target'}: no usable target samples")
    ys = np.asarray(job.source.y)[ks]
    model, report = adapt_features(Xs, ys, Xt, method=job.method, seed=job.seed,
                                   scorer=job.scorer or "auto")
    return {"model": model, "report": report, "Xt": Xt, "target_index": kt,
            "skipped": sk_s + sk_t, "n_source": len(Xs)}


#: shallow methods (``auto`` selects among them without target labels); tradaboost is left
#: out: it needs labelled target samples
SHALLOW = ("auto", "none", *[m for m in list_methods() if m != "tradaboost"])
#: method name -> runner(job) -> dict(model, report, Xt, target_index, skipped, n_source).
#: Deep methods (dann, dan, cdan, mcc, shot) register here with one line each.
RUNNERS: dict[str, Callable[[AdaptJob], dict]] = {name: _run_shallow for name in SHALLOW}


def _add_deep_runners() -> None:
    from .deep.runner import DEEP_CLI_METHODS, run_deep_job

    RUNNERS.update({m: run_deep_job for m in DEEP_CLI_METHODS})


_add_deep_runners()


def available_methods() -> list[str]:
    return list(RUNNERS)


def _check_method(method: str) -> None:
    if method not in RUNNERS:
        raise UnknownMethodError(f"unknown adaptation method {method!r}; available: "
                                 f"{', '.join(available_methods())}")


# ---------------------------------------------------------------------- entry point

def adapt(source, target, *, method: str = "auto", backbone: str = "efficientnet_lite0",
          out=None, scorer: str | None = None, seed: int = 0, cache_dir=None, progress: bool = True,
          text_column: str | None = None, label_column: str | None = None) -> AdaptResult:
    """Adapt from a labelled ``source`` to an unlabelled ``target`` and (with ``out``) write a
    DA model folder.

    ``source``/``target``: paths :func:`transferkit.data.load_data` reads (image folders,
    CSV/TSV with ``text_column``/``label_column``, ``.npz``/``.npy`` arrays) or Datasets; the
    target may be unlabelled (loose images, an ``.npz`` with only ``X``, a CSV without labels).
    ``method``: ``'auto'`` (label-free selection with ``scorer``, default ``'auto'``: NC when
    its cluster premise holds, else the variance-gated fallback, NC between source-only and
    TCA where TCA's subspace keeps enough of the variance and committee agreement elsewhere;
    or always one of ``'nc'``, ``'iwv'``, ``'dev'``, ``'snd'``, ``'rv'``, ``'agreement'``,
    ``'nc_tca'``, ``'gated'``), ``'none'`` (source only) or a method name (see :data:`RUNNERS`); deep
    methods choose their trade-off and epochs with ``scorer`` (default and ``'auto'``: ``'dev'``).
    ``backbone``: a backbone name, or ``'none'`` to use array inputs as features.
    Target labels are never used for fitting; if present, the result's ``target_accuracy``
    reports them (and says so).
    """
    from ..data import load_data

    _check_method(method)
    from .api import GATED_FALLBACK, TCA_FALLBACK
    from .scorers import SCORERS

    auto_only = ("agreement", TCA_FALLBACK, GATED_FALLBACK)
    if scorer in auto_only and method != "auto":
        raise TransferkitError(f"scorer {scorer!r}: only for --method auto (it compares the "
                               "candidates with each other)")
    if scorer is not None and scorer not in ("auto", *auto_only, *SCORERS):
        raise TransferkitError(f"scorer {scorer!r}: expected auto, {', '.join(auto_only)} or "
                               f"one of {', '.join(SCORERS)}")
    if out is not None:
        from ..train.modelfile import check_out

        check_out(out)  # refuse a bad --out before any work
    bcfg: dict = {}
    if backbone != "none":
        from ..zoo import get_config

        bcfg = get_config(backbone).to_dict()  # also refuses an unknown name before any work
    t0 = time.perf_counter()
    src = load_data(source, text_column=text_column, label_column=label_column)
    if np.any(np.asarray(src.y) < 0):
        raise DataError(f"{src.source or 'source'}: the source must be labelled")
    tgt = _load_target(target, src.modality, text_column, label_column)
    if tgt.modality != src.modality:
        raise DataError(f"{tgt.source or 'target'}: holds {tgt.modality}s, the source holds "
                        f"{src.modality}s")
    job = AdaptJob(src, tgt, method, backbone, seed, scorer,
                   None if cache_dir is None else str(cache_dir), progress)
    res = RUNNERS[method](job)
    model, report = res["model"], res["report"]
    report["total_seconds"] = round(time.perf_counter() - t0, 3)

    from .modelfile import KIND, DAPredictor, export_pipeline, rebuild_pipeline

    prep = {"modality": src.modality}
    if src.modality == "array":
        prep["shape"] = list(np.asarray(src.inputs).shape[1:])
    arrays, spec = export_pipeline(model)
    predictor = DAPredictor(rebuild_pipeline(arrays, spec), src.classes, prep,
                            config={"kind": KIND, "backbone": backbone}, cache_dir=job.cache_dir)
    acc, n_scored = _target_accuracy(predictor, res["Xt"], tgt, res["target_index"], src.classes)
    if out is not None:
        from .modelfile import save_da_model

        out = str(save_da_model(out, model, backbone=backbone, backbone_config=bcfg,
                                classes=src.classes, report=report, preprocessing=prep))
    return AdaptResult(
        method=report["method"], method_requested=method, backbone=backbone,
        classes=list(src.classes), report=report, n_source=res["n_source"],
        n_target=len(res["Xt"]), target_accuracy=acc, n_target_scored=n_scored, out=out,
        skipped=[{"path": s.path, "reason": s.reason} for s in res["skipped"]],
        model=model, predictor=predictor)


def _target_accuracy(predictor, Xt, tgt, kept, classes) -> tuple[float | None, int]:
    """Accuracy on target samples whose label is one of the source classes (report only)."""
    y = np.asarray(tgt.y)[kept]
    if not len(tgt.classes) or not np.any(y >= 0):
        return None, 0
    index = {c: i for i, c in enumerate(classes)}
    names = [tgt.classes[k] if k >= 0 else None for k in y]
    keep = np.array([n in index for n in names])
    if not keep.any():
        return None, 0
    truth = np.array([index[n] for n, k in zip(names, keep, strict=True) if k])
    pred = predictor.predict_proba_features(Xt[keep]).argmax(1)
    return float(np.mean(pred == truth)), int(keep.sum())
