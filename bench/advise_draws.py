"""The advisor's scores against the expected accuracy of ``extract`` over many training draws.

The fine-tuning validation (``bench.advise_finetune``) costs about 30 CPU minutes a seed, so its
reference accuracies carry the noise of one or a few training draws. The ``extract`` strategy
(frozen features + the product's linear probe, C by CV) is deterministic for a given split and
cheap once the features are cached, so here it is measured on many draws:

* per image task, a fixed stratified pool (the whole labelled set, at most ``--pool`` samples),
  embedded once per backbone at the backbone's own input size (the advisor's features, through
  the product's feature cache);
* ``--draws`` stratified training draws of each size in ``--train-sizes`` (a size is skipped
  where fewer than ``--min-test`` samples would be left), the rest of the pool as test;
* on each draw: LogME, H-score, LEEP and NCE on the training part (the advisor's functions on
  the same features), the accuracy of :func:`fit_linear_probe` on the rest, and that probe's own
  cross-validated accuracy on the training part (``probe_cv``: a score that needs a few
  linear fits per backbone instead of one closed form, measured here as a candidate).

The reference for a backbone is its **expected accuracy**: the mean over draws. Reported per
training size and score (pooled Kendall tau over the within-task pairs of backbones):

* ``one_draw``: one draw's score against the mean accuracy of the *other* draws (what a user
  with one training set gets), averaged over draws;
* ``mean_score``: the mean score over draws against the mean accuracy;
* ``same_draw``: one draw's score against that draw's accuracy (the fine-tuning bench's
  measure);
* ``ceiling``: one draw's measured accuracy against the other draws' mean, averaged over draws
  (how well one measurement ranks the expected accuracy);
* ``resolved``: ``one_draw`` over the pairs whose expected accuracies differ beyond noise
  (paired t over draws, |t| > 2);
* the regret of picking by one draw's score, against the expected accuracies (points).

Run: ``nice -n 5 .venv/bin/python -m bench.advise_draws`` (about 20 min on 2 CPUs cold).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.advise_validation import IMAGE_TASK_NAMES, concordance, full_image_task  # noqa: E402

BACKBONES = ("efficientnet_lite0", "mobilenet_v2", "efficientnet_lite1", "efficientnet_lite2")
SCORES = ("logme", "logme_z", "hscore", "leep", "nce", "probe_cv")
STEM = "advise_draws"


# --- measuring -------------------------------------------------------------------------------
def pool_of(ds, cap: int, seed: int = 0):
    """Stratified subsample of at most ``cap`` samples of ``ds`` (all of it when smaller)."""
    from transferkit.advise.advisor import stratified_subsample

    idx = stratified_subsample(np.asarray(ds.y), cap, seed)
    return ds if len(idx) == len(ds) else ds.subset(idx)


def embed(pool, backbone: str, cache_dir=None):
    """``(X float64, y, head probabilities)`` of ``pool`` through ``backbone`` (cached)."""
    from transferkit.advise.similarity import head_logits, softmax
    from transferkit.features import extract_features
    from transferkit.zoo import create_backbone

    model = create_backbone(backbone, pretrained=True).eval()
    f = extract_features(pool, backbone, cache_dir=cache_dir, model=model, progress=False)
    X = np.asarray(f.X, np.float64)
    return X, np.asarray(f.y), softmax(head_logits(model, X))


def draws(y, n_train: int, n_draws: int):
    """``n_draws`` stratified (train, test) index pairs with ``n_train`` training samples."""
    from sklearn.model_selection import StratifiedShuffleSplit

    sss = StratifiedShuffleSplit(n_splits=n_draws, train_size=n_train, random_state=0)
    return list(sss.split(np.zeros(len(y)), y))


def probe_accuracy(Xtr, ytr, Xte, yte, seed: int = 0) -> tuple[float, float]:
    """``(test accuracy, inner-CV accuracy at the chosen C)`` of the product's ``extract`` head
    fitted on the training part; the second uses the training labels only (a candidate score)."""
    from transferkit.train.strategies.extract import fit_linear_probe

    mean, std, coef, intercept, classes, info = fit_linear_probe(Xtr, ytr, seed=seed)
    z = ((Xte - mean) / std) @ np.asarray(coef, np.float64).T + intercept
    pred = classes[(z[:, 0] > 0).astype(int)] if z.shape[1] == 1 else classes[z.argmax(1)]
    return float((pred == yte).mean()), float(info["scores"][str(info["C"])])


def run_task(name, backbones, sizes, n_draws, cap, min_test, cache_dir=None, log=print) -> dict:
    from transferkit.advise.advisor import feature_scores

    pool = pool_of(full_image_task(name), cap)
    y = np.asarray(pool.y)
    out = {"pool": int(len(y)), "classes": int(len(np.unique(y))), "sizes": {}}
    splits = {n: draws(y, n, n_draws) for n in sizes if len(y) - n >= min_test}
    for n in splits:
        out["sizes"][str(n)] = {b: {"accuracy": [], "scores": {s: [] for s in SCORES}}
                                for b in backbones}
    for b in backbones:
        t0 = time.perf_counter()
        X, yb, probs = embed(pool, b, cache_dir)
        if len(yb) != len(y):
            raise RuntimeError(f"{name}/{b}: {len(y) - len(yb)} samples could not be embedded")
        for n, sp in splits.items():
            cell = out["sizes"][str(n)][b]
            for r, (tr, te) in enumerate(sp):
                acc, cv = probe_accuracy(X[tr], y[tr], X[te], y[te], seed=r)
                cell["accuracy"].append(acc)
                got = feature_scores(X[tr], y[tr], probs[tr]) | {"probe_cv": cv}
                for s, v in got.items():
                    cell["scores"][s].append(float(v))
        log(f"{name} {b}: {len(y)} samples, {time.perf_counter() - t0:.0f} s")
    return out


# --- analysis --------------------------------------------------------------------------------
def _loo_mean(a: np.ndarray, r: int) -> np.ndarray:
    """Mean over draws (columns) leaving draw ``r`` out."""
    return np.delete(a, r, axis=1).mean(1)


def _resolved_pairs(acc: np.ndarray, t_min: float = 2.0) -> set:
    """Backbone pairs (i, j) whose per-draw accuracy differences have |paired t| > t_min."""
    return {(i, j) for i in range(len(acc)) for j in range(i + 1, len(acc))
            if _significant(acc[i] - acc[j], t_min)}


def _mean(v) -> float | None:
    """Mean of the defined values (None when none is)."""
    v = [x for x in v if x is not None]
    return float(np.mean(v)) if v else None


def _rows(scores, accs) -> list:
    return list(zip(scores, accs, strict=True))


def _named(backbones, values) -> dict:
    return dict(zip(backbones, np.round(values, 4).tolist(), strict=True))


def _significant(d: np.ndarray, t_min: float) -> bool:
    sd = d.std(ddof=1)
    return bool(d.mean() != 0) if sd == 0 else abs(d.mean()) / (sd / np.sqrt(len(d))) > t_min


def analyse_size(tasks: dict, size: str, backbones) -> dict:
    """The tau variants, the ceiling and the regret over the tasks measured at ``size``."""
    cells = {t: v["sizes"][size] for t, v in tasks.items() if size in v["sizes"]}
    if not cells:
        return {}
    acc = {t: np.array([c[b]["accuracy"] for b in backbones]) for t, c in cells.items()}
    R = min(a.shape[1] for a in acc.values())
    res = {"tasks": sorted(cells), "draws": R, "scores": {},
           "expected_accuracy": {t: _named(backbones, a.mean(1)) for t, a in acc.items()},
           "accuracy_sd": {t: _named(backbones, a.std(1, ddof=1)) for t, a in acc.items()}}
    resolved = {t: _resolved_pairs(a) for t, a in acc.items()}
    res["resolved_pairs"] = int(sum(len(p) for p in resolved.values()))
    res["pairs"] = int(sum(len(backbones) * (len(backbones) - 1) // 2 for _ in acc))
    res["ceiling"] = _mean([concordance([_rows(acc[t][:, r], _loo_mean(acc[t], r)) for t in acc])
                            for r in range(R)])
    # a score that results made before it existed (logme_z) lack is left out
    for s in (s for s in SCORES if all(s in c[b]["scores"] for c in cells.values()
                                      for b in backbones)):
        sc = {t: np.array([cells[t][b]["scores"][s] for b in backbones]) for t in cells}
        one, same, reg, res_t = [], [], [], []
        for r in range(R):
            one.append(concordance([_rows(sc[t][:, r], _loo_mean(acc[t], r)) for t in acc]))
            same.append(concordance([_rows(sc[t][:, r], acc[t][:, r]) for t in acc]))
            res_t.append(concordance([_rows(sc[t][:, r], _loo_mean(acc[t], r)) for t in acc],
                                     pairs=[sorted(resolved[t]) for t in acc]))
            reg.append(np.mean([100 * (acc[t].mean(1).max() - acc[t].mean(1)[sc[t][:, r].argmax()])
                                for t in acc]))
        defined = [v for v in one if v is not None]
        picks = {t: np.bincount(sc[t].argmax(0), minlength=len(backbones)) / R for t in sc}
        res["scores"][s] = {
            "one_draw": _mean(one),
            "one_draw_sd": float(np.std(defined, ddof=1)) if len(defined) > 1 else None,
            "mean_score": concordance([_rows(sc[t].mean(1), acc[t].mean(1)) for t in acc]),
            "same_draw": _mean(same), "resolved": _mean(res_t),
            "regret": float(np.mean(reg)),
            "per_task_mean_score": {t: concordance([_rows(sc[t].mean(1), acc[t].mean(1))])
                                    for t in acc},
            "pick_share": {t: _named(backbones, v) for t, v in picks.items()},
        }
    return res


def analyse(res: dict) -> dict:
    bbs = res["config"]["backbones"]
    sizes = [str(n) for n in res["config"]["train_sizes"]]
    out = {n: analyse_size(res["tasks"], n, bbs) for n in sizes}
    # the larger size's tasks at the smaller size too, for a like-for-like comparison
    for n in sizes[1:]:
        if out[n]:
            sub = {t: res["tasks"][t] for t in out[n]["tasks"]}
            out[f"{sizes[0]}_on_{n}_tasks"] = analyse_size(sub, sizes[0], bbs)
    return out


# --- report ----------------------------------------------------------------------------------
def _f(v, fmt="{:+.2f}"):
    return "-" if v is None else fmt.format(v)


def _picks(score: dict, task: str, bbs, short) -> str:
    """A score's pick share per backbone on ``task``, e.g. 'lite0 10%, mnv2 90%'."""
    return ", ".join(f"{sh} {int(round(100 * score['pick_share'][task][b]))}%"
                     for b, sh in zip(bbs, short, strict=True) if score["pick_share"][task][b] > 0)


def markdown(res: dict) -> str:
    cfg, summ = res["config"], res["summary"]
    bbs = cfg["backbones"]
    short = [b.replace("efficientnet_", "").replace("mobilenet_v2", "mnv2") for b in bbs]
    lines = [f"# {STEM}: the advisor's scores against the expected `extract` accuracy", "",
             f"Machine: {res['machine']}; {res['wall_s']:.0f} s. Per image task a stratified pool "
             f"(at most {cfg['pool']} samples, the backbone's own input size), {cfg['draws']} "
             "stratified training draws per size, the rest of the pool as test; the product's "
             "linear probe (C by CV). Expected accuracy = mean over draws. Pooled Kendall tau "
             "over the within-task backbone pairs; see the module docstring for each column.", "",
             "| train size | tasks | score | one draw vs expected (sd over draws) | mean score vs "
             "expected | same draw | resolved pairs only | regret (points) |",
             "|---|---|---|---|---|---|---|---|"]
    for key, a in summ.items():
        if not a:
            continue
        for s in (s for s in SCORES if s in a["scores"]):
            v = a["scores"][s]
            lines.append(f"| {key} | {len(a['tasks'])} | {s} | {_f(v['one_draw'])} "
                         f"({_f(v['one_draw_sd'], '{:.2f}')}) | {_f(v['mean_score'])} | "
                         f"{_f(v['same_draw'])} | {_f(v['resolved'])} | {v['regret']:.2f} |")
        lines.append(f"| {key} | {len(a['tasks'])} | ceiling (one draw's accuracy) | "
                     f"{_f(a['ceiling'])} | | | | |")
    for key in [str(n) for n in cfg["train_sizes"]]:
        a = summ.get(key)
        if not a:
            continue
        lines += ["", f"Expected accuracy % at {key} training samples (sd over draws), LogME's "
                  "pick share over draws, and the per-task tau of the mean LogME; "
                  f"{a['resolved_pairs']} of {a['pairs']} backbone pairs resolved (|t| > 2):", "",
                  "| task | " + " | ".join(short) + " | LogME picks | tau (LogME) |"
                  + (" logme_z picks |" if "logme_z" in a["scores"] else ""),
                  "|---|" + "---|" * len(bbs) + "---|---|"
                  + ("---|" if "logme_z" in a["scores"] else "")]
        lg, z = a["scores"]["logme"], a["scores"].get("logme_z")
        for t in a["tasks"]:
            ea, sd = a["expected_accuracy"][t], a["accuracy_sd"][t]
            best = max(ea.values())
            cells = [(f"**{100 * ea[b]:.1f}**" if ea[b] == best else f"{100 * ea[b]:.1f}")
                     + f" ({100 * sd[b]:.1f})" for b in bbs]
            lines.append(f"| {t} | " + " | ".join(cells) +
                         f" | {_picks(lg, t, bbs, short)} | {_f(lg['per_task_mean_score'][t])} |"
                         + (f" {_picks(z, t, bbs, short)} |" if z else ""))
    return "\n".join(lines) + "\n"


# --- entry -----------------------------------------------------------------------------------
def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tasks", default=",".join(IMAGE_TASK_NAMES))
    p.add_argument("--backbones", default=",".join(BACKBONES))
    p.add_argument("--train-sizes", default="120,400")
    p.add_argument("--draws", type=int, default=10)
    p.add_argument("--pool", type=int, default=1500)
    p.add_argument("--min-test", type=int, default=35)
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--out-stem", default=STEM)
    return p.parse_args(argv)


def main(argv=None):
    import torch

    from bench._results import write_results

    a = parse(argv)
    cfg = {"tasks": a.tasks.split(","), "backbones": a.backbones.split(","),
           "train_sizes": [int(n) for n in a.train_sizes.split(",")], "draws": a.draws,
           "pool": a.pool, "min_test": a.min_test}
    res = {"config": cfg, "machine": f"{os.cpu_count()} CPUs, torch {torch.__version__}, "
           f"{platform.python_version()}", "tasks": {}}
    t0 = time.perf_counter()
    for name in cfg["tasks"]:
        res["tasks"][name] = run_task(name, cfg["backbones"], cfg["train_sizes"], a.draws,
                                      a.pool, a.min_test, a.cache_dir)
    res["wall_s"] = round(time.perf_counter() - t0, 1)
    res["summary"] = analyse(res)
    write_results(a.out_stem, res, markdown(res))
    print(markdown(res))


if __name__ == "__main__":
    main()
