"""Domain-adaptation model folders: ``weights.safetensors`` + ``config.json``, never pickle.

A DA model folder holds what predicting NEW target samples needs::

    config.json          format + version (as training model folders), "kind": "domain_adaptation",
                         backbone name and config ("none": the inputs are the features),
                         preprocessing (modality, sample shape), class names, the pipeline spec
                         (scaler, adapter method + JSON-able params + state, classifier), the
                         adaptation report, versions, every array's name and shape
    weights.safetensors  named numpy arrays: scaler mean/scale, the adapter's target-side state,
                         the classifier's coefficients

Every adapter saves only what its *target* side needs (CORAL: nothing, target samples are left
unchanged; SA: the target PCA mean and basis; TCA/JDA/BDA: the kernel map and the components;
reweighting methods: nothing, they change training weights only). The folder is written to a
temporary sibling and renamed into place; loading validates everything and raises
:class:`~transferkit.errors.ModelFileError` with one line otherwise.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from ..errors import DataError, ModelFileError, TransferkitError
from ..io import (
    atomic_folder,
    load_arrays,
    read_json,
    save_arrays_atomic,
    sweep_stale_temp,
    write_json_atomic,
)
from ..train.modelfile import CONFIG, FORMAT, FORMAT_VERSION, check_out, versions

KIND = "domain_adaptation"
WEIGHTS = "weights.safetensors"
_SCALARS = (str, int, float, bool, type(None))


def _json_params(est) -> dict:
    """The JSON-able constructor parameters of an estimator (objects are left out)."""
    return {k: v for k, v in est.get_params(deep=False).items() if isinstance(v, _SCALARS)}


# ---------------------------------------------------------------------- final classifier

def export_classifier(est) -> tuple[dict, dict]:
    """``(arrays, meta)`` of a fitted LogisticRegression or TrAdaBoost."""
    from sklearn.linear_model import LogisticRegression

    from .instance.tradaboost import TrAdaBoost

    if isinstance(est, TrAdaBoost):
        arrays, meta = est._export_state()
        return arrays, {"type": "tradaboost", "state": meta}
    if type(est) is not LogisticRegression:
        raise ModelFileError(f"classifier {type(est).__name__}: only LogisticRegression (or "
                             "TrAdaBoost) can be written to a DA model folder")
    classes = np.asarray(est.classes_)
    if classes.dtype.kind not in "iub":
        raise ModelFileError("classifier: class labels must be integers to be saved "
                             f"(got dtype {classes.dtype})")
    return ({"coef": est.coef_, "intercept": np.asarray(est.intercept_), "classes": classes},
            {"type": "logistic_regression", "params": _json_params(est)})


def rebuild_classifier(arrays: dict, meta: dict):
    """Inverse of :func:`export_classifier`."""
    from sklearn.linear_model import LogisticRegression

    from .instance.tradaboost import TrAdaBoost

    if meta["type"] == "tradaboost":
        return TrAdaBoost._from_state(arrays, meta["state"])
    if meta["type"] != "logistic_regression":
        raise KeyError(f"classifier type {meta['type']!r}")
    est = LogisticRegression(**meta["params"])
    est.coef_ = arrays["coef"]
    est.intercept_ = arrays["intercept"]
    est.classes_ = arrays["classes"]
    est.n_features_in_ = int(est.coef_.shape[1])
    return est


# ---------------------------------------------------------------------- whole pipeline

def _method_name(adapter) -> str:
    from ._registry import _METHODS, _ensure_builtin

    _ensure_builtin()
    for name, cls in _METHODS.items():
        if type(adapter) is cls:
            return name
    raise ModelFileError(f"adapter {type(adapter).__name__}: not a registered method, cannot be "
                         "written to a model folder")


def export_pipeline(model) -> tuple[dict, dict]:
    """``(arrays, meta)`` of a fitted :class:`DAPipeline` (with its ``scaler_`` if any, as
    returned by :func:`~transferkit.adapt.adapt_features`) or a fitted TrAdaBoost."""
    arrays: dict = {}
    meta: dict = {"scaler": False, "adapter": None}
    if type(model).__name__ == "DeepDA":  # deep DA: the network's tensors + its JSON config
        arrays.update({f"deep.{k}": v.numpy() for k, v in model.state_dict().items()})
        meta.update(deep=model.to_config(), n_features_in=int(model.n_features_in_))
        return arrays, meta
    scaler = getattr(model, "scaler_", None)
    if scaler is not None:
        arrays["scaler.mean"] = np.asarray(scaler.mean_, dtype=np.float64)
        arrays["scaler.scale"] = np.asarray(scaler.scale_, dtype=np.float64)
        meta["scaler"] = True
    adapter = getattr(model, "adapter_", None)
    if adapter is not None:
        try:
            a, m = adapter._export_state()
        except NotImplementedError as exc:
            raise ModelFileError(str(exc)) from None
        arrays.update({f"adapter.{k}": np.asarray(v) for k, v in a.items()})
        meta["adapter"] = {"method": _method_name(adapter), "params": _json_params(adapter),
                           "state": m, "n_features_in": int(adapter.n_features_in_)}
    est = getattr(model, "estimator_", model)
    a, m = export_classifier(est)
    arrays.update({f"classifier.{k}": np.asarray(v) for k, v in a.items()})
    meta["classifier"] = m
    meta["n_features_in"] = int(model.n_features_in_)
    return arrays, meta


def _part(arrays: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}


class DAModel:
    """A rebuilt pipeline on features: scaler -> adapter (as target) -> classifier."""

    def __init__(self, scaler, adapter, classifier, n_features_in: int):
        self.scaler = scaler
        self.adapter = adapter
        self.classifier = classifier
        self.n_features_in_ = n_features_in
        self.classes_ = np.asarray(classifier.classes_)

    def transform(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise DataError(f"features of shape {X.shape}: the model expects "
                            f"{self.n_features_in_} per sample")
        if self.scaler is not None:
            X = self.scaler.transform(X)
        if self.adapter is not None:
            X = self.adapter.transform(X)
        return X

    def predict_proba(self, X) -> np.ndarray:
        return self.classifier.predict_proba(self.transform(X))

    def predict(self, X) -> np.ndarray:
        return self.classifier.predict(self.transform(X))


def rebuild_pipeline(arrays: dict, meta: dict) -> DAModel:
    """Inverse of :func:`export_pipeline` (raises KeyError/ValueError on inconsistent input)."""
    from sklearn.preprocessing import StandardScaler

    from ._registry import get_method

    if "deep" in meta:
        from .deep import DeepDA

        net = DeepDA.from_state(meta["deep"], _part(arrays, "deep."))
        return DAModel(None, None, net, int(meta["n_features_in"]))
    scaler = None
    if meta["scaler"]:
        scaler = StandardScaler()
        scaler.mean_, scaler.scale_ = arrays["scaler.mean"], arrays["scaler.scale"]
        scaler.var_ = scaler.scale_ ** 2
        scaler.n_features_in_ = int(scaler.mean_.shape[0])
        scaler.n_samples_seen_ = 0
    adapter = None
    if meta["adapter"] is not None:
        am = meta["adapter"]
        adapter = get_method(am["method"])._from_state(_part(arrays, "adapter."), am["state"],
                                                       am["n_features_in"])
    clf = rebuild_classifier(_part(arrays, "classifier."), meta["classifier"])
    return DAModel(scaler, adapter, clf, int(meta["n_features_in"]))


# ---------------------------------------------------------------------- folder

def save_da_model(out, pipeline, *, backbone: str, backbone_config: dict | None,
                  classes: list[str], report: dict, preprocessing: dict | None = None) -> Path:
    """Write a DA model folder at ``out`` atomically and return its path.

    ``pipeline`` is what :func:`~transferkit.adapt.adapt_features` returns (or a fitted
    TrAdaBoost); ``backbone`` is a registry name or ``'none'`` (inputs are the features);
    ``classes`` names the integer labels the classifier predicts. An existing ``out`` is
    replaced only if it is a transferkit model folder (or empty). Stale temporary files of an
    earlier killed write of ``out`` (older than an hour) are removed first.
    """
    out = check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temp(out.parent, target=out.name)
    arrays, spec = export_pipeline(pipeline)
    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    cfg = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": KIND,
        "backbone": backbone,
        "backbone_config": backbone_config or {},
        "preprocessing": preprocessing or {"modality": "array"},
        "classes": list(classes),
        "pipeline": spec,
        "report": report,
        "versions": versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "weights": WEIGHTS,
        "tensors": {k: list(v.shape) for k, v in arrays.items()},
    }
    with atomic_folder(out) as tmp:
        save_arrays_atomic(tmp / WEIGHTS, arrays, metadata={"format": FORMAT, "kind": KIND})
        write_json_atomic(tmp / CONFIG, cfg)
    return out


def is_da_config(cfg) -> bool:
    return isinstance(cfg, dict) and cfg.get("kind") == KIND


def read_da_config(folder) -> dict:
    """Read and validate ``config.json`` of a DA model folder (no weights loaded)."""
    folder = Path(folder)
    where = folder / CONFIG
    if not folder.is_dir():
        raise ModelFileError(f"{folder}: model folder not found")
    cfg = read_json(where)

    def check(cond, msg):
        if not cond:
            raise ModelFileError(f"{where}: {msg}")

    check(isinstance(cfg, dict) and cfg.get("format") == FORMAT, "not a transferkit model config")
    check(cfg.get("format_version") == FORMAT_VERSION,
          f"format version {cfg.get('format_version')!r}, this transferkit reads {FORMAT_VERSION}")
    check(cfg.get("kind") == KIND, f"kind {cfg.get('kind')!r} is not {KIND!r}")
    types = {"backbone": str, "backbone_config": dict, "preprocessing": dict, "classes": list,
             "pipeline": dict, "tensors": dict}
    for key, typ in types.items():
        check(isinstance(cfg.get(key), typ), f"'{key}' missing or not a {typ.__name__}")
    check(len(cfg["classes"]) >= 2 and all(isinstance(c, str) for c in cfg["classes"]),
          "'classes' must name at least two classes")
    check(cfg["preprocessing"].get("modality") in ("image", "array", "text"),
          "preprocessing.modality is invalid")
    return cfg


def load_da_model(folder, device: str = "cpu") -> DAPredictor:
    """Load a folder written by :func:`save_da_model` and return a :class:`DAPredictor`."""
    folder = Path(folder)
    cfg = read_da_config(folder)
    wpath = folder / WEIGHTS
    if not wpath.is_file():
        raise ModelFileError(f"{wpath}: weights file not found")
    if cfg["backbone"] != "none":
        from ..zoo import get_config

        try:
            get_config(cfg["backbone"])
        except TransferkitError as exc:
            raise ModelFileError(
                f"{folder / CONFIG}: backbone {cfg['backbone']!r}: {exc}") from None
    arrays = load_arrays(wpath)
    got = {k: list(v.shape) for k, v in arrays.items()}
    if got != cfg["tensors"]:
        bad = sorted(set(got) ^ set(cfg["tensors"])) or sorted(
            k for k in got if got[k] != cfg["tensors"][k])
        raise ModelFileError(f"{wpath}: arrays do not match config.json (first: {bad[0]})")
    try:
        model = rebuild_pipeline(arrays, cfg["pipeline"])
    except (KeyError, ValueError, TypeError, AttributeError, TransferkitError) as exc:
        raise ModelFileError(f"{folder / CONFIG}: pipeline cannot be rebuilt ({exc!r})") from None
    n = len(cfg["classes"])
    labels = model.classes_
    if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= n:
        raise ModelFileError(f"{wpath}: classifier labels do not index the {n} class names")
    return DAPredictor(model, cfg["classes"], cfg["preprocessing"], config=cfg, device=device)


class DAPredictor:
    """Predictions of a DA model folder on new target inputs (image paths, texts or arrays).

    Same interface as :class:`transferkit.train.modelfile.Predictor`: ``classes``,
    ``preprocessing``, ``config``, ``predict_proba(inputs)``, ``predict(inputs)``. Features
    come from the stored backbone through the feature cache (``cache_dir``, default the user
    cache) or, for ``backbone='none'``, are the inputs themselves.
    """

    def __init__(self, model: DAModel, classes, preprocessing: dict, config: dict | None = None,
                 device: str = "cpu", cache_dir=None):
        self.model = model
        self.classes = list(classes)
        self.preprocessing = preprocessing
        self.config = config or {}
        self.device = device
        self.cache_dir = cache_dir

    @property
    def backbone(self) -> str:
        return self.config.get("backbone", "none")

    def _dataset(self, inputs):
        from ..data.dataset import Dataset

        if isinstance(inputs, Dataset):
            return inputs
        mod = self.preprocessing["modality"]
        if mod == "array":
            x = np.asarray(inputs)
            if x.dtype.kind != "f":
                x = x.astype(np.float32)
            return Dataset("array", x, -np.ones(len(x), dtype=np.int64), [])
        if isinstance(inputs, str | os.PathLike):
            inputs = [inputs]
        items = [os.fspath(p) if isinstance(p, os.PathLike) else p for p in inputs]
        if mod == "image":
            for p in items:
                if not Path(p).is_file():
                    raise TransferkitError(f"{p}: image file not found")
        return Dataset(mod, items, -np.ones(len(items), dtype=np.int64), [])

    def features(self, inputs) -> np.ndarray:
        """The features the adapter sees (before scaling), one row per input."""
        ds = self._dataset(inputs)
        if self.backbone == "none":
            X = np.asarray(ds.inputs, dtype=np.float64)
            return X.reshape(len(X), -1)
        from ..features import extract_features

        f = extract_features(ds, self.backbone, cache_dir=self.cache_dir, strict=True,
                             progress=False, device=self.device)
        return np.asarray(f.X, dtype=np.float64)

    def predict_proba_features(self, X) -> np.ndarray:
        """Class probabilities from features, columns in ``classes`` order."""
        X = np.asarray(X, dtype=np.float64)
        out = np.zeros((len(X), len(self.classes)), dtype=np.float64)
        if len(X):
            out[:, self.model.classes_.astype(int)] = self.model.predict_proba(X)
        return out

    def predict_proba(self, inputs) -> np.ndarray:
        """Class probabilities, shape (n, n_classes), columns in ``classes`` order."""
        return self.predict_proba_features(self.features(inputs))

    def predict(self, inputs) -> np.ndarray:
        """Predicted class names."""
        p = self.predict_proba(inputs)
        return np.asarray(self.classes, dtype=object)[p.argmax(1)]
