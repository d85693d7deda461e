"""Cached feature extraction: the article's "pretrained model as a fixed feature extractor".

``extract_features(ds, backbone)`` returns the pooled penultimate features of every sample,
computing only what the content-addressed cache (``cache.py``) does not already hold.

The CPU fast path (``fast=True``, the default) combines, each measured in ``bench/``:
glibc allocator tuning, JPEG decoding at reduced size (libjpeg DCT scaling via
``Image.draft``) for large images, resizing only the centre crop and normalising straight into
the batch (``preprocess.py``), one worker thread per core that decodes a whole batch and then
runs the model on it with one thread, and then either channels_last bf16 with BatchNorm folded
(CPUs with native bf16) or ONNX Runtime in fp32 (CPUs without it, see ``engines.py``). Texts
are sorted by token count and run one batch per core. Its features stay within cosine 0.99 of
the plain fp32 path (tested).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .. import _runtime
from ..data.dataset import Dataset, Skipped
from ..errors import DataError, TransferkitError
from .cache import FeatureCache, content_key, file_key
from .engines import OnnxRunner, TorchRunner, pick_engine

_SHARD_ITEMS = 512


def _in_order(items, fn, workers: int):
    """Yield ``(item, fn(item))`` in the order of ``items``.

    With ``workers > 0``, ``fn`` runs in that many threads, at most ``workers + 1`` items
    ahead; items are drawn (and so built) in this thread. Closing the generator, or an error
    from ``fn``, cancels what has not started and waits for what has.
    """
    if workers <= 0:
        for item in items:
            yield item, fn(item)
        return
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        queue: deque = deque()
        items = iter(items)

        def submit():
            item = next(items, None)
            if item is not None:
                queue.append((item, pool.submit(fn, item)))

        for _ in range(workers + 1):
            submit()
        while queue:
            item, fut = queue.popleft()
            out = fut.result()
            submit()
            yield item, out
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class _Pending:
    """Finished features not yet in the cache: written as one shard every ``_SHARD_ITEMS``
    items, and whatever is left by ``flush`` (also on an interrupt, so no finished work is lost)."""

    def __init__(self, cache):
        self.cache, self.keys, self.feats = cache, [], []

    def add(self, keys, feats):
        self.keys.extend(keys)
        self.feats.append(feats)
        if len(self.keys) >= _SHARD_ITEMS:
            self.flush()

    def flush(self):
        if self.keys:
            self.cache.add(self.keys, np.concatenate(self.feats))
            self.keys, self.feats = [], []


@dataclass
class Features:
    """Extracted features with their labels and the ids (file paths, text numbers) they came from."""

    X: np.ndarray
    y: np.ndarray
    ids: list[str]
    classes: list[str]
    backbone: str
    skipped: list[Skipped] = field(default_factory=list)
    split: np.ndarray | None = None
    stats: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.y)

    def save(self, path: str | os.PathLike) -> None:
        """Write ``X``/``y`` as safetensors and everything else as JSON beside it (atomic)."""
        from pathlib import Path

        from ..io import save_arrays_atomic, write_json_atomic

        path = Path(path)
        arrays = {"X": self.X.astype(np.float32), "y": self.y.astype(np.int64)}
        save_arrays_atomic(path.with_suffix(".safetensors"), arrays)
        meta = {
            "format": "transferkit.features/1",
            "backbone": self.backbone,
            "classes": self.classes,
            "ids": self.ids,
            "split": None if self.split is None else [str(s) for s in self.split],
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "stats": self.stats,
        }
        write_json_atomic(path.with_suffix(".json"), meta)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Features:
        from pathlib import Path

        from ..errors import ModelFileError
        from ..io import load_arrays, read_json

        path = Path(path)
        meta = read_json(path.with_suffix(".json"))
        if not isinstance(meta, dict) or meta.get("format") != "transferkit.features/1":
            raise ModelFileError(f"{path.with_suffix('.json')}: not a transferkit features file")
        arrays = load_arrays(path.with_suffix(".safetensors"))
        split = meta.get("split")
        return cls(
            X=arrays["X"],
            y=arrays["y"],
            ids=list(meta["ids"]),
            classes=list(meta["classes"]),
            backbone=meta["backbone"],
            skipped=[Skipped(**s) for s in meta.get("skipped", [])],
            split=None if split is None else np.asarray(split),
            stats=meta.get("stats", {}),
        )


def feature_spec(cfg, *, fast: bool, precision: str, weights: str | None, array_scale=None) -> dict:
    """Everything that changes the features: backbone, weights, preprocessing, precision."""
    spec = {
        "format": 1,
        "backbone": cfg.name,
        "config": cfg.to_dict(),
        "weights": _weights_identity(cfg, weights),
        "precision": precision,
        "draft_decode": bool(fast) and cfg.modality == "image",
    }
    if fast and cfg.modality == "image":
        # 2: crop-region resize, NumPy normalisation, BatchNorm folded into dense convolutions
        spec["fast_pipeline"] = 2
    if array_scale is not None:
        spec["array_scale"] = [float(v) for v in array_scale]
        # 2: the whole frame resized bilinearly to the crop size (1: 8-bit image, resize, crop)
        spec["array_input"] = 2
    return spec


def _weights_identity(cfg, weights: str | None) -> str:
    if not weights:
        return cfg.source
    try:
        if os.path.isdir(weights):
            return f"dir:{os.path.abspath(weights)}"
        return "file:" + file_key(weights).hex()
    except OSError as exc:
        raise TransferkitError(f"{weights}: cannot read weights file ({exc.strerror})") from None


def _resolve_precision(fast: bool, precision: str | None, device) -> str:
    if precision is None:
        precision = "auto" if fast else "fp32"
    dtype = _runtime.autocast_dtype(device, precision)
    return {None: "fp32"}.get(dtype, str(dtype).replace("torch.", "").replace("bfloat16", "bf16").replace("float16", "fp16"))


def extract_features(
    ds: Dataset,
    backbone: str = "efficientnet_lite0",
    *,
    cache_dir: str | os.PathLike | None = None,
    batch_size: int | None = None,
    fast: bool = True,
    precision: str | None = None,
    device: str | None = None,
    decode_workers: int | None = None,
    weights: str | None = None,
    strict: bool = False,
    progress: bool = True,
    model=None,
    array_scale: tuple[float, float] | None = None,
) -> Features:
    """Pooled penultimate features of every sample of ``ds`` through ``backbone``.

    Only samples whose content is not in the cache are computed; results are written to the
    cache in shards as they are made, so an interrupted run resumes where it stopped.
    ``decode_workers``: worker threads (fast path default: one per core on CPU, each decoding
    and embedding whole batches with one PyTorch/ONNX Runtime thread; up to 4 decoding threads
    on a GPU; 0 runs everything in this thread, as the plain path does).
    ``model`` may pass an already created backbone (then ``backbone``/``weights`` only name it).
    Files that cannot be decoded are skipped and listed in ``Features.skipped`` (or raise a
    ``DataError`` with ``strict=True``). Array data is scaled to [0, 1] from
    ``array_scale = (lo, hi)``, by default its own minimum and maximum (give the training
    set's range to embed a validation set the way the model will see it), and the whole frame
    is resized to the crop size (:func:`transferkit.zoo.transforms.array_eval_input`).
    """
    from ..zoo import create_backbone, get_config

    cfg = model.cfg if model is not None else get_config(backbone)
    if cfg.modality == "text" and ds.modality != "text":
        raise DataError(f"{ds.source or 'data'}: backbone {cfg.name} reads texts, the data holds {ds.modality}s")
    if cfg.modality == "image" and ds.modality == "text":
        raise DataError(f"{ds.source or 'data'}: backbone {cfg.name} reads images, the data holds texts")
    dev = _runtime.pick_device(device)
    prec = _resolve_precision(fast, precision, dev)
    if fast:
        _runtime.tune_allocator()

    if ds.modality == "array":
        X = np.asarray(ds.inputs)
        if X.ndim not in (3, 4):
            raise DataError(f"{ds.source or 'array data'}: shape {X.shape} is not a stack of images "
                            "(expected (n, H, W) or (n, H, W, C))")
        if array_scale is None:
            array_scale = (float(np.nanmin(X)), float(np.nanmax(X)))
        array_scale = (float(array_scale[0]), float(array_scale[1]))
    else:
        array_scale = None
    engine = pick_engine(cfg, dev, fast, prec)
    spec = feature_spec(cfg, fast=fast, precision=prec, weights=weights, array_scale=array_scale)
    spec["engine"] = engine
    cache = FeatureCache(cache_dir, spec)

    keys, valid, skipped = _content_keys(ds, strict)
    todo_idx = _unique_missing(keys, valid, cache)
    t0 = time.perf_counter()
    n_computed = 0
    if todo_idx:
        def get_model():
            return model if model is not None else create_backbone(cfg.name, pretrained=True, weights=weights)

        workers, per_core = _workers(fast, dev, decode_workers)
        if engine == "onnxruntime":  # the cached ONNX graph needs no PyTorch model
            runner = OnnxRunner(get_model, cache.dir.parent / "onnx" / f"{cache.dir.name}.onnx",
                                threads=1 if per_core else None)
        else:
            image = cfg.modality == "image"
            runner = TorchRunner(get_model(), dev, prec, channels_last=fast and image, optimise=fast and image)
        if ds.modality == "text":
            with _runtime.torch_threads(1 if per_core else None):
                n_computed = _extract_texts(ds, todo_idx, keys, cache, runner, batch_size or 64, progress,
                                            workers if per_core else 0)
        else:
            with _runtime.torch_threads(1 if per_core else None):
                n_computed, bad = _extract_images(ds, todo_idx, keys, cache, runner, cfg, batch_size or 32,
                                                  fast, workers, per_core, array_scale, strict, progress)
            bad_reason = {keys[i]: reason for i, reason in bad}
            still = []
            for i in valid:
                if keys[i] in cache:
                    still.append(i)
                else:  # failed to decode (or a duplicate of a file that failed)
                    skipped.append(Skipped(str(ds.inputs[i]), bad_reason.get(keys[i], "not extracted")))
            valid = still
        cache.compact()
    seconds = time.perf_counter() - t0
    X = cache.get_many([keys[i] for i in valid]) if valid else np.zeros((0, cfg.feature_dim), np.float32)
    ids = [str(ds.inputs[i]) if ds.modality == "image" else str(i) for i in valid]
    return Features(
        X=X,
        y=np.asarray(ds.y)[valid],
        ids=ids,
        classes=list(ds.classes),
        backbone=cfg.name,
        skipped=list(ds.skipped) + skipped,
        split=None if ds.split is None else np.asarray(ds.split)[valid],
        stats={
            "n": len(valid),
            "computed": n_computed,
            "from_cache": len(valid) - n_computed,
            "seconds": round(seconds, 3),
            "items_per_s": round(n_computed / seconds, 1) if n_computed and seconds > 0 else None,
            "precision": prec,
            "engine": engine,
            "fast": bool(fast),
            "device": str(dev),
            "cache_dir": str(cache.dir),
        },
    )


def _workers(fast: bool, device, decode_workers: int | None) -> tuple[int, bool]:
    """(worker threads, whether each also runs the model with one thread) for image batches.

    CPU fast path: one worker per core, each decoding and then embedding whole batches.
    GPU fast path: up to 4 decoding threads feeding the model. Plain path: no threads.
    """
    cpu = device.type == "cpu"
    if decode_workers is not None:
        workers = max(0, int(decode_workers))
    elif not fast:
        workers = 0
    else:
        workers = _runtime.cpu_count() if cpu else min(4, _runtime.cpu_count())
    return workers, bool(fast and cpu and workers > 0)


def _content_keys(ds: Dataset, strict: bool):
    keys: list[bytes | None] = []
    valid: list[int] = []
    skipped: list[Skipped] = []
    if ds.modality == "image":
        for i, p in enumerate(ds.inputs):
            try:
                keys.append(file_key(p))
                valid.append(i)
            except OSError as exc:
                if strict:
                    raise DataError(f"{p}: cannot read ({exc.strerror or exc})") from None
                keys.append(None)
                skipped.append(Skipped(str(p), f"cannot read ({exc.strerror or exc})"))
    elif ds.modality == "text":
        for i, t in enumerate(ds.inputs):
            keys.append(content_key(str(t).encode("utf-8")))
            valid.append(i)
    else:
        X = np.ascontiguousarray(np.asarray(ds.inputs, dtype=np.float32))
        head = repr(X.shape[1:]).encode()
        for i in range(len(X)):
            keys.append(content_key(head + X[i].tobytes()))
            valid.append(i)
    return keys, valid, skipped


def _unique_missing(keys, valid, cache: FeatureCache) -> list[int]:
    seen: set[bytes] = set()
    todo = []
    for i in valid:
        k = keys[i]
        if k in seen or k in cache:
            continue
        seen.add(k)
        todo.append(i)
    return todo


def _token_lengths(model, texts: list[str]) -> list[int]:
    """Token count of each text (truncated as ``model.tokenize`` truncates); character counts
    for a backbone without a Hugging Face tokenizer."""
    tok = getattr(model, "tokenizer", None)
    if tok is None:
        return [len(t) for t in texts]
    return [len(ids) for ids in tok(texts, truncation=True, max_length=model.cfg.max_length)["input_ids"]]


def _extract_texts(ds, todo_idx, keys, cache, runner, batch_size, progress, workers=0) -> int:
    """Embed the texts of ``todo_idx`` in batches of similar token length.

    Texts are sorted by token count, longest first, so a batch pads little (8% fewer FLOPs on
    the Amazon reviews than sorting by characters) and memory peaks early. Tokenising stays
    in this thread (a fast tokenizer is not safe to call from several threads at once);
    with ``workers`` threads the model runs whole batches in parallel, one thread each.
    """
    from .._progress import Progress

    model = runner.model
    texts = {i: str(ds.inputs[i]) for i in todo_idx}
    lens = dict(zip(todo_idx, _token_lengths(model, [texts[i] for i in todo_idx]), strict=True))
    order = sorted(todo_idx, key=lambda i: (-lens[i], i))
    batches = [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
    pending = _Pending(cache)
    tokenized = ((idx, model.tokenize([texts[i] for i in idx])) for idx in batches)
    try:
        with Progress(len(order), "extract", unit="texts", enabled=progress) as bar, \
                contextlib.closing(_in_order(tokenized, lambda item: runner(item[1]), workers)) as done:
            for (idx, _), feats in done:
                pending.add([keys[i] for i in idx], feats)
                bar.advance(len(idx))
    finally:
        pending.flush()
    return len(order)


def _extract_images(ds, todo_idx, keys, cache, runner, cfg, batch_size, fast, workers, model_in_workers,
                    array_scale, strict, progress):
    """Decode, preprocess and embed ``todo_idx`` in batches; returns (n done, [(index, reason)]).

    With ``workers`` threads each job decodes a whole batch into one preallocated buffer; with
    ``model_in_workers`` (the CPU fast path) the same thread then runs the model on it, so
    every core alternates decoding and one-thread inference and no thread waits on another.
    Otherwise (GPU, or no workers) the model runs in this thread. Batches are collected in
    order, so an interrupted run keeps exactly the batches before the first unfinished one.
    """
    from .._progress import Progress
    from ..data.images import read_image

    crop = int(cfg.input_size[-1])
    # libjpeg DCT scaling only when the image is at least twice the resize target: decoding a
    # 1/2-scale image and then resizing keeps features within cosine 0.999 of a full decode,
    # while decoding straight to the target size drops it to 0.985 on 512 px photos (measured).
    draft = (2 * cfg.resize_size, 2 * cfg.resize_size) if fast else None
    is_array = ds.modality == "array"
    arr = np.asarray(ds.inputs) if is_array else None
    if fast:
        from ..zoo.transforms import pil_resample
        from .preprocess import Normaliser, resize_crop

        norm = Normaliser(cfg.mean, cfg.std, crop, runner.layout)
        resample = pil_resample(cfg.interpolation)
        new_batch = norm.batch

        def fill(img, out):
            norm.into(np.asarray(resize_crop(img, cfg.resize_size, crop, resample)), out)
    else:  # the plain path: torchvision's transform, exactly as a model is trained and served
        from ..zoo.transforms import image_transform

        transform = image_transform(cfg, train=False)

        def new_batch(n):
            return np.empty((n, 3, crop, crop), np.float32)

        def fill(img, out):
            out[...] = transform(img).numpy()

    if is_array:  # the whole frame resized, as the trainer's array loader evaluates it
        from ..zoo.transforms import array_sample_input

        def fill(x, out):
            t = array_sample_input(x, *array_scale, crop, cfg.mean, cfg.std).numpy()
            out[...] = t if out.shape[0] == 3 else t.transpose(1, 2, 0)

    def job(b):
        buf = new_batch(len(b))
        good, bad = [], []
        for i in b:
            try:
                img = arr[i] if is_array else read_image(ds.inputs[i], draft=draft)
            except DataError as exc:
                if strict:
                    raise
                bad.append((i, str(exc).split(": ", 1)[-1]))
                continue
            fill(img, buf[len(good)])
            good.append(i)
        x = buf[: len(good)]
        return good, bad, x, (runner(x) if model_in_workers and good else None)

    batches = [todo_idx[s : s + batch_size] for s in range(0, len(todo_idx), batch_size)]
    bad: list[tuple[int, str]] = []
    pending = _Pending(cache)
    n_done = 0
    try:
        with Progress(len(todo_idx), "extract", unit="img", enabled=progress) as bar, \
                contextlib.closing(_in_order(batches, job, workers)) as done:
            for _, (good, b_bad, x, feats) in done:
                bad.extend(b_bad)
                if good:
                    pending.add([keys[i] for i in good], feats if feats is not None else runner(x))
                    n_done += len(good)
                bar.advance(len(good) + len(b_bad))
    finally:
        pending.flush()
    return n_done, bad

