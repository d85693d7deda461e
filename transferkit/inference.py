"""Prediction and evaluation with a saved model folder (the API under ``predict``/``evaluate``)."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from .errors import DataError


def load(model_dir: str | os.PathLike, device: str = "cpu"):
    """Load a model folder (safetensors + config.json) and return its predictor.

    Dispatches on the config's ``kind``: a domain-adaptation folder (``transferkit adapt``)
    gives a :class:`~transferkit.adapt.modelfile.DAPredictor`, any other a trained model's
    :class:`~transferkit.train.modelfile.Predictor`; both offer ``classes``,
    ``preprocessing``, ``predict_proba`` and ``predict``.
    """
    from .io import read_json

    cfg_path = Path(model_dir) / "config.json"
    if cfg_path.is_file():
        cfg = read_json(cfg_path)
        if isinstance(cfg, dict) and cfg.get("kind") == "domain_adaptation":
            from .adapt.modelfile import load_da_model

            return load_da_model(model_dir, device=device)
    from .train import load_model

    return load_model(model_dir, device=device)


def collect_inputs(inputs: list[str | os.PathLike], modality: str, text_column: str | None = None):
    """Turn CLI inputs into model inputs and ids.

    Images: files and folders (searched recursively for image files, sorted). Texts: CSV/TSV
    files (their text column) or literal strings. Arrays: ``.npy``/``.npz`` files.
    """
    from .data.images import is_image_file

    if modality == "image":
        files: list[str] = []
        for item in inputs:
            p = Path(item)
            if p.is_dir():
                found = sorted(str(q.resolve()) for q in p.rglob("*") if q.is_file() and is_image_file(q.name))
                if not found:
                    raise DataError(f"{p}: no image files in this folder")
                files.extend(found)
            elif p.is_file():
                files.append(str(p.resolve()))
            else:
                raise DataError(f"{p}: file or folder not found")
        return files, files
    if modality == "text":
        from .data.text import read_text_rows

        texts: list[str] = []
        ids: list[str] = []
        for item in inputs:
            p = Path(str(item))
            if p.suffix.lower() in (".csv", ".tsv", ".txt") and p.is_file():
                got, _, _ = read_text_rows(str(p), text_column=text_column, require_label=False)
                for i, t in enumerate(got):
                    texts.append(t)
                    ids.append(f"{p.name}:{i + 1}")
            else:
                texts.append(str(item))
                ids.append(str(item)[:60])
        return texts, ids
    from .data import load_data

    arrays = []
    ids = []
    for item in inputs:
        ds = load_data(item, modality="array")
        arrays.append(np.asarray(ds.inputs))
        ids.extend(f"{Path(item).name}:{i}" for i in range(len(ds.inputs)))
    return np.concatenate(arrays), ids


def predictions_csv(ids, proba: np.ndarray, classes: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["input", "prediction", "confidence", *[f"p_{c}" for c in classes]])
    for i, p in zip(ids, proba, strict=True):
        k = int(np.argmax(p))
        w.writerow([i, classes[k], f"{p[k]:.6f}", *[f"{v:.6f}" for v in p]])
    return buf.getvalue()


def evaluate(model_dir: str | os.PathLike, data, *, text_column=None, label_column=None,
             adapt: str | None = None) -> dict:
    """Accuracy, macro-F1 and confusion matrix of a model folder on labelled data.

    The data's class names must be among the model's; a label the model never saw is an
    error that names it (a model cannot be scored on a class it cannot predict).
    ``adapt='adabn'|'tent'`` adapts a copy of the model to the data's inputs first (test-time
    adaptation: the labels are used only for scoring).
    """
    from sklearn.metrics import confusion_matrix, f1_score

    from .data import load_data
    from .data.dataset import Dataset

    predictor = load(model_dir)
    ds = data if isinstance(data, Dataset) else load_data(data, text_column=text_column, label_column=label_column)
    unseen = [c for c in ds.classes if c not in predictor.classes]
    if unseen:
        raise DataError(f"{ds.source or 'data'}: label(s) {', '.join(map(repr, unseen))} were never seen by the "
                        f"model (it knows {', '.join(predictor.classes)})")
    if adapt:
        from .adapt.tta import adapt_predictor

        predictor = adapt_predictor(predictor, ds, method=adapt)
    index = {c: i for i, c in enumerate(predictor.classes)}
    y = np.asarray([index[ds.classes[k]] for k in ds.y])
    proba = predictor.predict_proba(ds)
    pred = proba.argmax(1)
    labels = np.arange(len(predictor.classes))
    return {
        "model": str(model_dir),
        "data": str(ds.source),
        "n": int(len(y)),
        "adapt": adapt,
        "accuracy": float((pred == y).mean()),
        "macro_f1": float(f1_score(y, pred, labels=labels, average="macro", zero_division=0)),
        "classes": predictor.classes,
        "confusion": confusion_matrix(y, pred, labels=labels).tolist(),
        "skipped": [{"path": s.path, "reason": s.reason} for s in ds.skipped],
    }
