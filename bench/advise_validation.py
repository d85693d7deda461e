"""Validate ``transferkit.advise`` against measured accuracy on labelled tasks.

For each task (a stratified subsample of ``--per-task`` samples), the advisor runs on the
subsample; every candidate backbone is then measured with the cheap ``extract`` strategy
(frozen features + logistic regression, C by inner 3-fold CV), 5-fold cross-validated on the
same subsample (the scores never see a model trained on it). Reported:

* Kendall's tau between each transferability score and the measured accuracy over backbones,
  per image task, their mean, and a pooled tau over all within-task pairs;
* the regret of the recommendation (best accuracy - accuracy of the advised backbone, points);
* the similarity signal per task (calibration of the similar/dissimilar threshold), with
  uniform-noise images and character-shuffled / random-letter texts as clearly dissimilar data;
* the time to advise on Office-Caltech images with three backbones, cold and warm cache.

Text tasks have one backbone (minilm_l6), so tau there is over tasks, not backbones.

Run: ``.venv/bin/python bench/advise_validation.py [--per-task 100] [--time-images 60]``.
Fine-tuning strategies are not trained here: bench/advise_finetune.py trains every
(backbone x strategy) pair and measures the regret of the whole recommendation.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("TRANSFERKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
OUT = ROOT / "bench" / "results"
IMAGE_BACKBONES = ["efficientnet_lite0", "mobilenet_v2", "efficientnet_lite1"]
TEXT_BACKBONES = ["minilm_l6"]
SCORES = ["logme", "leep", "nce", "hscore", "logme_z"]  # logme_z: LogME on z-scored features


def _sub(ds, n, seed=0):
    from transferkit.advise.advisor import stratified_subsample

    return ds.subset(stratified_subsample(ds.y, n, seed))


def _split(ds, n, seed=0):
    return dataclasses.replace(_sub(ds, n, seed), split=None)


IMAGE_TASK_NAMES = ("hymenoptera", "office_amazon", "office_caltech10", "office_dslr",
                    "office_webcam", "digits_sklearn", "usps", "mnist")


def full_image_task(name):
    """The whole labelled image set behind task ``name`` (before any subsample)."""
    import h5py

    from transferkit.data import from_arrays, load_data, load_digits_dataset

    if name == "hymenoptera":
        return load_data(DATA / "images" / "hymenoptera")
    if name.startswith("office_"):
        return load_data(DATA / "office_caltech10" / "images" / name[len("office_"):])
    if name == "digits_sklearn":
        return load_digits_dataset()
    if name == "usps":
        with h5py.File(DATA / "digits" / "usps" / "usps.h5", "r") as f:
            X = f["train/data"][:].reshape(-1, 16, 16).astype(np.float32)
            y = f["train/target"][:].astype(np.int64)
        return from_arrays(X, y, classes=[str(i) for i in range(10)], source="usps")
    if name == "mnist":  # the 10,000 test images (the shared data has no training images)
        from bench.digits_data import load_mnist_test

        X, y = load_mnist_test(DATA / "digits")
        return from_arrays(X[:, 0], y, classes=[str(i) for i in range(10)], source="mnist")
    raise KeyError(name)


def image_tasks(n, names=None):
    """(name, stratified subsample of n) for each image task, or only those in ``names``."""
    for name in IMAGE_TASK_NAMES:
        if names is None or name in names:
            yield name, _split(full_image_task(name), n)


def text_tasks(n, domains=("books", "dvd", "electronics", "kitchen")):
    from transferkit.data import load_amazon_reviews, load_data

    for dom in domains:
        yield f"amazon_{dom}", _split(load_amazon_reviews(DATA / "text" / "amazon_reviews" / dom), n)
    sst = load_data(DATA / "text" / "sst2")
    yield "sst2", _split(sst.subset(np.flatnonzero(np.asarray(sst.split).astype(str) == "train")), n)


def cv_accuracy(X, y, folds=5) -> float:
    """Mean accuracy of :func:`linear_accuracy` over stratified folds."""
    from sklearn.model_selection import StratifiedKFold

    k = int(min(folds, np.bincount(y).min()))
    cv = StratifiedKFold(k, shuffle=True, random_state=0)
    return float(np.mean([linear_accuracy(X[a], y[a], X[b], y[b]) for a, b in cv.split(X, y)]))


def linear_accuracy(Xtr, ytr, Xva, yva) -> float:
    """The ``extract``-linear accuracy: standardised features, logistic regression, C by CV."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-6
    Ztr, Zva = (Xtr - mu) / sd, (Xva - mu) / sd
    # An L2-penalised linear model's weights lie in the span of its training rows (representer
    # theorem), so fitting on the coordinates in that span (n <= d columns) gives the same
    # predictions as on all d features, much faster when n << d.
    _, _, vt = np.linalg.svd(Ztr, full_matrices=False)
    Ztr, Zva = Ztr @ vt.T, Zva @ vt.T
    folds = int(min(3, np.bincount(ytr).min()))
    best_c, best = 1.0, -1.0
    for C in (0.01, 0.1, 1.0):
        m = LogisticRegression(C=C, max_iter=300, tol=1e-3)
        s = cross_val_score(m, Ztr, ytr, cv=StratifiedKFold(folds, shuffle=True, random_state=0)
                            ).mean() if folds >= 2 else 0.0
        if s > best:
            best_c, best = C, s
    m = LogisticRegression(C=best_c, max_iter=300, tol=1e-3).fit(Ztr, ytr)
    return float((m.predict(Zva) == yva).mean())


def run_task(name, ds, backbones, cache):
    from transferkit.advise import advise
    from transferkit.features import extract_features

    t0 = time.perf_counter()
    adv = advise(ds, backbones=backbones, cache_dir=cache, max_samples=None, progress=False)
    rows = {}
    for rep in adv.reports:
        f = extract_features(ds, rep.backbone, cache_dir=cache, progress=False)
        acc = cv_accuracy(f.X.astype(np.float64), np.asarray(f.y))
        rows[rep.backbone] = {"accuracy": acc, "scores": rep.scores,
                              "similarity": rep.similarity.to_dict(), "size": rep.size.label}
    best = max(r["accuracy"] for r in rows.values())
    out = {"task": name, "n": len(ds), "backbones": rows,
           "scenario": adv.scenario, "strategy": adv.strategy, "recommended": adv.backbone,
           "regret_points": 100 * (best - rows[adv.backbone]["accuracy"]),
           "seconds": round(time.perf_counter() - t0, 1)}
    print(json.dumps({k: out[k] for k in ("task", "scenario", "recommended", "regret_points",
                                          "seconds")}), flush=True)
    return out


def kendall(a, b):
    from scipy.stats import kendalltau

    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    t = kendalltau(a, b).statistic
    return None if not np.isfinite(t) else float(t)


def concordance(groups, pairs=None):
    """(concordant - discordant) / (concordant + discordant) over all pairs of
    ``(score, accuracy)`` rows within each group (a pooled Kendall tau; None without pairs);
    ``pairs``: per group, only these ``(i, j)`` row pairs."""
    c = d = 0
    for g, rows in enumerate(groups):
        which = (pairs[g] if pairs is not None else
                 [(i, j) for i in range(len(rows)) for j in range(i + 1, len(rows))])
        for i, j in which:
            s = np.sign(rows[i][0] - rows[j][0]) * np.sign(rows[i][1] - rows[j][1])
            c, d = c + int(s > 0), d + int(s < 0)
    return None if c + d == 0 else float((c - d) / (c + d))


def pooled_tau(tasks, score):
    """:func:`concordance` over all within-task pairs of backbones."""
    return concordance([[(r["scores"][score], r["accuracy"]) for r in t["backbones"].values()
                         if r["scores"].get(score) is not None] for t in tasks])


def summarise(image, text):
    summary = {"image": {}, "text": {}}
    for s in SCORES:
        if any(r["scores"].get(s) is None for t in image for r in t["backbones"].values()):
            continue  # a score these results predate (or one without a value on some backbone)
        per = [kendall([r["scores"][s] for r in t["backbones"].values()],
                       [r["accuracy"] for r in t["backbones"].values()]) for t in image]
        ok = [v for v in per if v is not None]
        regret = []
        for t in image:
            rs = t["backbones"]
            pick = max(rs, key=lambda b: rs[b]["scores"][s])
            regret.append(100 * (max(r["accuracy"] for r in rs.values()) - rs[pick]["accuracy"]))
        summary["image"][s] = {"tau_per_task": per, "tau_mean": float(np.mean(ok)) if ok else None,
                               "tau_pooled": pooled_tau(image, s),
                               "regret_if_selected_mean": float(np.mean(regret or [np.nan]))}
    regrets = [t["regret_points"] for t in image] or [float("nan")]
    summary["image"]["advice_regret_mean"] = float(np.mean(regrets))
    summary["image"]["advice_regret_max"] = float(np.max(regrets))
    for s in ("logme", "hscore"):
        a = [t["backbones"][TEXT_BACKBONES[0]]["scores"][s] for t in text]
        b = [t["backbones"][TEXT_BACKBONES[0]]["accuracy"] for t in text]
        summary["text"][s] = {"tau_over_tasks": kendall(a, b)}
    return summary


def calibration_extras(n_noise=32):
    """Similarity on clearly dissimilar data: uniform noise images; scrambled texts."""
    from transferkit.advise.advisor import _bn_kl
    from transferkit.advise.similarity import head_logits, image_similarity, softmax, vocab_coverage
    from transferkit.data import from_arrays, load_amazon_reviews
    from transferkit.features import extract_features
    from transferkit.zoo import create_backbone

    rng = np.random.default_rng(0)
    noise = from_arrays(rng.uniform(0, 255, (n_noise, 64, 64, 3)).astype(np.float32),
                        np.arange(n_noise) % 2, source="noise")
    out = {"noise_images": {}, "texts": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for b in IMAGE_BACKBONES:
            m = create_backbone(b).eval()
            f = extract_features(noise, b, cache_dir=tmp, progress=False, model=m)
            sim = image_similarity(softmax(head_logits(m, f.X)), _bn_kl(m, noise, 0))
            out["noise_images"][b] = sim.signals
    tok = create_backbone("minilm_l6").tokenizer
    texts = list(load_amazon_reviews(DATA / "text" / "amazon_reviews" / "books").inputs[:200])
    shuffled = ["".join(rng.permutation(list(t))) for t in texts]
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz     "))
    random = ["".join(rng.choice(letters, 400)) for _ in texts]
    for name, tx in (("amazon_books", texts), ("chars_shuffled", shuffled),
                     ("random_letters", random)):
        out["texts"][name] = round(vocab_coverage(tok, tx)[0], 4)
    return out


def office_all():
    from transferkit.data import load_data
    from transferkit.data.dataset import Dataset

    inputs, ys, classes = [], [], None
    for dom in ("amazon", "caltech10", "dslr", "webcam"):
        d = load_data(DATA / "office_caltech10" / "images" / dom)
        classes = classes or list(d.classes)
        inputs += list(d.inputs)
        ys.append(np.asarray(d.y))
    return Dataset(modality="image", inputs=inputs, y=np.concatenate(ys), classes=classes,
                   source="office_caltech10 (4 domains)")


def timing(n_images):
    from transferkit.advise import advise

    ds = _sub(office_all(), n_images, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        advise(ds, backbones=IMAGE_BACKBONES, cache_dir=tmp, max_samples=None, progress=False)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        adv = advise(ds, backbones=IMAGE_BACKBONES, cache_dir=tmp, max_samples=None,
                     progress=False)
        warm = time.perf_counter() - t0
    return {"images": len(ds), "backbones": IMAGE_BACKBONES, "cold_s": round(cold, 1),
            "warm_s": round(warm, 1), "cold_s_per_image": round(cold / len(ds), 3),
            "warm_per_backbone_s": {r.backbone: r.seconds for r in adv.reports}}


def write_md(res, path):
    s = res["summary"]
    lines = ["# advise validation", "", f"Machine: {res['machine']}. Per task: {res['per_task']} "
             f"images / {res['per_task_text']} texts (stratified). Accuracy: the `extract` strategy (frozen features + "
             "logistic regression, C by inner 3-fold CV), 5-fold cross-validated.", "",
             "## Image tasks: accuracy and scores per backbone", "",
             "| task | backbone | acc | LogME | LEEP | NCE | H-score | MSP | BN-KL | advice |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for t in res["image"]:
        for b, r in t["backbones"].items():
            sc, sig = r["scores"], r["similarity"]["signals"]
            adv = f"S{t['scenario']} {t['strategy']}" if b == t["recommended"] else ""
            lines.append(f"| {t['task']} | {b} | {100 * r['accuracy']:.1f} | {sc['logme']:.3f} | "
                         f"{sc['leep']:.3f} | {sc['nce']:.3f} | {sc['hscore']:.2f} | "
                         f"{sig['mean_max_prob']:.3f} | {sig['bn_kl']} | {adv} |")
    nb = len(res.get("backbones", IMAGE_BACKBONES))
    lines += ["", f"## Kendall's tau (score vs accuracy over the {nb} backbones, per task) and regret", "",
              "| score | tau per task | mean tau | pooled tau | regret if used to pick (points) |",
              "|---|---|---|---|---|"]
    for sc in (sc for sc in SCORES if sc in s["image"]):
        v = s["image"][sc]
        per = ", ".join("-" if x is None else f"{x:+.2f}" for x in v["tau_per_task"])
        mean = "-" if v["tau_mean"] is None else f"{v['tau_mean']:.2f}"
        pooled = "-" if v["tau_pooled"] is None else f"{v['tau_pooled']:.2f}"
        lines.append(f"| {sc} | {per} | {mean} | {pooled} | {v['regret_if_selected_mean']:.2f} |")
    lines += ["", f"Regret of the advice (backbone by LogME): mean "
              f"{s['image']['advice_regret_mean']:.2f} points, max "
              f"{s['image']['advice_regret_max']:.2f}.", "", "## Text tasks (minilm_l6)", "",
              "| task | acc | LogME | H-score | vocab coverage | advice |", "|---|---|---|---|---|---|"]
    for t in res["text"]:
        r = t["backbones"][TEXT_BACKBONES[0]]
        lines.append(f"| {t['task']} | {100 * r['accuracy']:.1f} | {r['scores']['logme']:.3f} | "
                     f"{r['scores']['hscore']:.2f} | {r['similarity']['value']:.3f} | "
                     f"S{t['scenario']} {t['strategy']} |")
    lines += ["", "Tau over the text tasks (one backbone: ranks task difficulty, not backbones): "
              + ", ".join(f"{k} {v['tau_over_tasks']}" for k, v in s["text"].items()), ""]
    if res.get("calibration"):
        lines += ["## Similarity calibration extras", "", "```",
                  json.dumps(res["calibration"], indent=1), "```", ""]
    if res.get("timing"):
        lines += ["## Timing", "", "```", json.dumps(res["timing"], indent=1), "```", ""]
    path.write_text("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-task", type=int, default=60)
    ap.add_argument("--per-task-text", type=int, default=100)
    ap.add_argument("--time-images", type=int, default=30)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--skip-text", action="store_true")
    ap.add_argument("--amazon-domains", default="books,dvd,electronics,kitchen")
    ap.add_argument("--backbones", default=",".join(IMAGE_BACKBONES),
                    help="image backbones compared per task")
    ap.add_argument("--only-timing", action="store_true",
                    help="rerun only the cold/warm timing (--time-images N) into the saved results")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    if args.only_timing:
        res = json.loads((OUT / "advise_validation.json").read_text())
        res["timing"] = timing(args.time_images)
        save(res)
        print(json.dumps(res["timing"], indent=1))
        return
    cache = args.cache_dir or str(Path(tempfile.gettempdir()) / "tk_advise_bench_cache")
    res = {"per_task": args.per_task, "per_task_text": args.per_task_text, "image": [], "text": [],
           "backbones": args.backbones.split(","),
           "machine": f"{os.cpu_count()} CPUs (shared), torch {torch.__version__}, "
                      f"{platform.python_version()}"}
    saved = OUT / "advise_validation.json"
    if args.skip_text and saved.exists():  # keep the saved text tasks and timing
        old = json.loads(saved.read_text())
        res.update({k: old[k] for k in ("text", "per_task_text", "timing") if k in old})
    for name, ds in image_tasks(args.per_task):
        res["image"].append(run_task(name, ds, res["backbones"], cache))
        save(res)
    if not args.skip_text:
        for name, ds in text_tasks(args.per_task_text, args.amazon_domains.split(",")):
            res["text"].append(run_task(name, ds, TEXT_BACKBONES, cache))
            save(res)
    res["calibration"] = calibration_extras()
    save(res)
    if args.time_images and not (args.skip_text and "timing" in res):
        res["timing"] = timing(args.time_images)
    save(res)
    print(json.dumps(res["summary"], indent=1))


def save(res):
    """Write the JSON and Markdown results (after every task, so a cut-short run keeps them)."""
    res["summary"] = summarise(res["image"], res["text"])
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "advise_validation.json").write_text(json.dumps(res, indent=1, default=float))
    write_md(res, OUT / "advise_validation.md")


if __name__ == "__main__":
    main()
