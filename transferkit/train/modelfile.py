"""Model folders: ``model.safetensors`` + ``config.json``, written atomically; and the predictor.

A model folder holds exactly::

    config.json        format + version, backbone name and its BackboneConfig, head spec,
                       preprocessing, class names, strategy + options, metrics, history,
                       versions of transferkit/torch/timm, and every tensor's name and shape
    model.safetensors  all weights (backbone + head)

The folder is written to a temporary sibling and renamed into place, so a crash never leaves a
half-written model. Loading validates everything first and raises
:class:`~transferkit.errors.ModelFileError` with one line otherwise; it never executes code
(no pickle: the weights are safetensors, the architecture is rebuilt from the registry).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from ..errors import ModelFileError, TransferkitError
from ..io import (
    atomic_folder,
    load_tensors,
    read_json,
    save_tensors_atomic,
    sweep_stale_temp,
    write_json_atomic,
)

FORMAT = "transferkit-model"
FORMAT_VERSION = 1
CONFIG = "config.json"
WEIGHTS = "model.safetensors"
_PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".bin", ".ckpt", ".joblib")


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("transferkit", "torch", "timm", "scikit-learn", "safetensors"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def check_out(out) -> Path:
    """Refuse an output path that exists and is not a (replaceable) transferkit model folder."""
    out = Path(out).absolute()
    if out.exists():
        if not out.is_dir():
            raise TransferkitError(f"{out}: exists and is not a folder")
        if any(out.iterdir()) and not (out / CONFIG).is_file():
            raise TransferkitError(f"{out}: folder is not empty and not a transferkit model; "
                                   "choose another --out")
    return out


def save_model(out, model, *, backbone: str, backbone_config: dict, head_spec: dict,
               preprocessing: dict, classes: list[str], strategy: str, options: dict,
               metrics: dict, history: list | None = None, extra: dict | None = None) -> Path:
    """Write a model folder at ``out`` atomically and return its path.

    An existing ``out`` is replaced only if it is a transferkit model folder (or empty).
    """
    out = check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temp(out.parent, target=out.name)  # temp folders of killed earlier writes
    sd = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    cfg = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "backbone": backbone,
        "backbone_config": backbone_config,
        "head": head_spec,
        "preprocessing": preprocessing,
        "classes": list(classes),
        "strategy": strategy,
        "options": options,
        "metrics": metrics,
        "history": history or [],
        "versions": versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "weights": WEIGHTS,
        "tensors": {k: list(v.shape) for k, v in sd.items()},
        **(extra or {}),
    }
    with atomic_folder(out) as tmp:
        save_tensors_atomic(tmp / WEIGHTS, sd, metadata={"format": FORMAT})
        write_json_atomic(tmp / CONFIG, cfg)
    return out


def _check(cond: bool, where, msg: str) -> None:
    if not cond:
        raise ModelFileError(f"{where}: {msg}")


def read_model_config(folder) -> dict:
    """Read and validate ``config.json`` of a model folder (no weights loaded)."""
    folder = Path(folder)
    _check(folder.is_dir(), folder, "model folder not found")
    where = folder / CONFIG
    cfg = read_json(where)
    _check(isinstance(cfg, dict) and cfg.get("format") == FORMAT, where,
           "not a transferkit model config")
    _check(cfg.get("format_version") == FORMAT_VERSION, where,
           f"format version {cfg.get('format_version')!r}, this transferkit reads {FORMAT_VERSION}")
    types = {"backbone": str, "backbone_config": dict, "head": dict, "preprocessing": dict,
             "classes": list, "tensors": dict, "strategy": str}
    for key, typ in types.items():
        _check(isinstance(cfg.get(key), typ), where, f"'{key}' missing or not a {typ.__name__}")
    head = cfg["head"]
    _check(head.get("type") in ("linear", "mlp"), where, f"unknown head type {head.get('type')!r}")
    for key in ("in_features", "num_classes"):
        _check(isinstance(head.get(key), int) and head[key] > 0, where, f"head.{key} is invalid")
    _check(all(isinstance(h, int) and h > 0 for h in head.get("hidden", [])), where,
           "head.hidden is invalid")
    _check(len(cfg["classes"]) == head["num_classes"], where,
           f"{len(cfg['classes'])} class names for a head with {head['num_classes']} outputs")
    _check(cfg["preprocessing"].get("modality") in ("image", "array", "text"), where,
           "preprocessing.modality is invalid")
    return cfg


def load_model(folder, device: str = "cpu") -> Predictor:
    """Load a model folder written by :func:`save_model` and return a :class:`Predictor`."""
    folder = Path(folder)
    cfg = read_model_config(folder)
    wpath = folder / WEIGHTS
    if not wpath.is_file():
        planted = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in _PICKLE_SUFFIXES)
        extra = f"; refusing to load pickle file(s) {', '.join(planted)}" if planted else ""
        raise ModelFileError(f"{wpath}: weights file not found{extra}")
    from ..zoo import create_backbone, get_config
    from .model import new_classifier

    try:
        get_config(cfg["backbone"])
        backbone = create_backbone(cfg["backbone"], pretrained=False)
    except TransferkitError as exc:
        raise ModelFileError(f"{folder / CONFIG}: backbone {cfg['backbone']!r}: {exc}") from None
    _check(cfg["head"]["in_features"] == backbone.cfg.feature_dim, folder / CONFIG,
           f"head expects {cfg['head']['in_features']} features, backbone gives "
           f"{backbone.cfg.feature_dim}")
    model = new_classifier(backbone, cfg["head"])
    expected = {k: list(v.shape) for k, v in model.state_dict().items()}
    _check(cfg["tensors"] == expected, folder / CONFIG,
           "tensor names/shapes do not match the backbone and head it names")
    tensors = load_tensors(wpath)
    got = {k: list(v.shape) for k, v in tensors.items()}
    if got != expected:
        missing = sorted(set(expected) - set(got))
        bad = missing[:1] or sorted(k for k in got if got[k] != expected.get(k))[:1]
        raise ModelFileError(f"{wpath}: weights do not match config.json (first: {bad[0]})")
    model.load_state_dict(tensors, strict=True)
    model.eval().to(device)
    return Predictor(model, cfg["classes"], cfg["preprocessing"], config=cfg, device=device)


class Predictor:
    """Predictions of a trained model on new inputs (image paths, arrays, or texts)."""

    def __init__(self, model, classes, preprocessing: dict, config: dict | None = None,
                 device: str = "cpu", batch_size: int = 32):
        self.model = model
        self.classes = list(classes)
        self.preprocessing = preprocessing
        self.config = config or {}
        self.device = device
        self.batch_size = batch_size

    def _inputs(self, inputs):
        from ..data.dataset import Dataset

        if isinstance(inputs, Dataset):
            return inputs.inputs
        mod = self.preprocessing["modality"]
        if isinstance(inputs, str | os.PathLike) and mod != "array":
            return [os.fspath(inputs)]
        if mod == "array":
            x = np.asarray(inputs, dtype=np.float32)
            shape = tuple(self.preprocessing["shape"])
            if x.shape[1:] != shape and x.reshape(len(x), -1).shape[1] != int(np.prod(shape)):
                if x.shape == shape or x.size == int(np.prod(shape)):
                    return x.reshape(1, *shape)
                raise TransferkitError(f"inputs of shape {x.shape} do not match the model's "
                                       f"samples of shape {shape}")
            return x
        return [os.fspath(p) if isinstance(p, os.PathLike) else p for p in inputs]

    def predict_proba(self, inputs) -> np.ndarray:
        """Class probabilities, shape (n, n_classes), columns in ``classes`` order."""
        import torch

        from .data import make_loader, torch_dataset

        x = self._inputs(inputs)
        mod = self.preprocessing["modality"]
        bb = self.model.backbone
        for p in x if mod == "image" else []:
            if not Path(p).is_file():
                raise TransferkitError(f"{p}: image file not found")
        loader = make_loader(torch_dataset(x, None, self.preprocessing, bb, train=False),
                             self.batch_size, False, mod, bb, num_workers=0)
        out = []
        self.model.eval()
        with torch.no_grad():
            for xb, _ in loader:
                if isinstance(xb, dict):
                    xb = {k: v.to(self.device) for k, v in xb.items()}
                else:
                    xb = xb.to(self.device)
                out.append(torch.softmax(self.model(xb).float(), 1).cpu())
        if not out:
            return np.zeros((0, len(self.classes)), np.float32)
        return torch.cat(out).numpy()

    def predict(self, inputs) -> np.ndarray:
        """Predicted class names."""
        p = self.predict_proba(inputs)
        return np.asarray(self.classes, dtype=object)[p.argmax(1)]


