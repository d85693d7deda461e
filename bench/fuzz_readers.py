"""Fuzz the image and CSV readers: seeded random mutations of small valid files.

    python -m bench.fuzz_readers --seconds 300      # writes bench/results/fuzz_readers.json

Each input goes through the same calls as a user's file: images through ``check_image`` (the
scan) and ``read_image`` (the decode); CSV/TSV files through ``load_data``. The property is the
documented one: a result, a skip reason (one line), or a ``TransferkitError`` (one line naming
the file); any other exception is a crash, recorded with the input's bytes (hex, first 2 kB).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import numpy as np


def _seeds() -> dict[str, bytes]:
    from PIL import Image

    rng = np.random.default_rng(0)
    out = {}
    a = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    for fmt, ext, mode in (("PNG", ".png", "RGB"), ("JPEG", ".jpg", "RGB"), ("PNG", ".png", "P"),
                           ("PNG", ".png", "RGBA"), ("GIF", ".gif", "P"), ("BMP", ".bmp", "RGB"),
                           ("JPEG", ".jpg", "CMYK"), ("TIFF", ".tif", "RGB"), ("WEBP", ".webp", "RGB")):
        buf = io.BytesIO()
        im = Image.fromarray(a).convert(mode)
        im.save(buf, fmt)
        out[f"{fmt.lower()}-{mode}{ext}"] = buf.getvalue()
    return out


CSV_SEEDS = {
    "basic.csv": "text,label\ngreat film,pos\nawful,neg\n\"quoted, with comma\",pos\n",
    "semi.csv": "text;label\nbon film;pos\nnul;neg\n",
    "glue.tsv": "sentence\tlabel\nit 's a \"charming\" film\t1\nbad\t0\n",
    "multiline.csv": 'review,target\n"line one\nline two",1\nshort,0\n',
    "bom.csv": "\ufefftext,label\nx,a\ny,b\n",
}


def mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.choice(("flip", "cut", "insert", "dup", "truncate"))
        pos = rng.randrange(len(b)) if b else 0
        if op == "flip" and b:
            b[pos] = rng.randrange(256)
        elif op == "cut":
            del b[pos:pos + rng.randint(1, 64)]
        elif op == "insert":
            b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 32)))
        elif op == "dup" and b:
            b[pos:pos] = b[pos:pos + rng.randint(1, 128)]
        elif op == "truncate":
            del b[pos:]
    return bytes(b)


def run_image(path: str) -> str:
    from transferkit.data import check_image, read_image
    from transferkit.errors import TransferkitError

    reason = check_image(path)
    assert reason is None or (isinstance(reason, str) and "\n" not in reason), reason
    try:
        im = read_image(path, draft=(8, 8))
    except TransferkitError as exc:
        assert path in str(exc) and "\n" not in str(exc), str(exc)
        return "skipped_at_scan" if reason else "error_at_decode"
    assert im.mode == "RGB"
    return "decoded_but_flagged" if reason else "decoded"


def run_text(path: str) -> str:
    from transferkit.data import load_data
    from transferkit.errors import TransferkitError

    try:
        ds = load_data(path)
    except TransferkitError as exc:
        assert "\n" not in str(exc), str(exc)
        return "error"
    assert len(ds.inputs) == len(ds.y)
    return "loaded_with_skips" if ds.skipped else "loaded"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120.0, help="total time, split between readers")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "fuzz_readers.json"))
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")  # PIL warns on every damaged TIFF/EXIF; outcomes count
    rng = random.Random(args.seed)
    seeds = {"image": _seeds(), "text": {k: v.encode() for k, v in CSV_SEEDS.items()}}
    runners = {"image": run_image, "text": run_text}
    report = {"seed": args.seed, "seconds": args.seconds, "python": sys.version.split()[0],
              "platform": platform.platform(), "readers": {}}
    import PIL

    report["pillow"] = PIL.__version__
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("image", "text"):
            outcomes: dict[str, int] = {}
            crashes = []
            n = 0
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < args.seconds / 2:
                name, data = rng.choice(sorted(seeds[kind].items()))
                if rng.random() < 0.05:
                    data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 512)))
                elif rng.random() < 0.9:
                    data = mutate(rng, data)
                path = os.path.join(tmp, f"in{os.path.splitext(name)[1]}")
                with open(path, "wb") as fh:
                    fh.write(data)
                n += 1
                try:
                    got = runners[kind](path)
                except Exception as exc:  # a crash: not a documented outcome
                    got = "CRASH"
                    if len(crashes) < 20:
                        crashes.append({"seed_file": name, "error": repr(exc)[:300],
                                        "where": traceback.format_exc().splitlines()[-3:],
                                        "bytes_hex": data[:2048].hex()})
                outcomes[got] = outcomes.get(got, 0) + 1
            secs = time.perf_counter() - t0
            report["readers"][kind] = {"inputs": n, "seconds": round(secs, 1),
                                       "inputs_per_s": round(n / secs, 1),
                                       "seed_files": sorted(seeds[kind]), "outcomes": outcomes,
                                       "crashes": crashes}
            print(f"{kind}: {n} inputs in {secs:.0f} s: {outcomes}", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    return 1 if any(r["crashes"] for r in report["readers"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
