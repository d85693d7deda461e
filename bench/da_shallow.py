"""Shallow domain adaptation: transferkit vs skada vs ADAPT on the same data, split and run.

Run:  .venv-bench/bin/python -m bench.da_shallow [--dataset surf|digits] [--features DIR]
Writes bench/results/da_<name>.json and .md. Every side runs in this one process with the same
BLAS settings (1 thread each, stated in the output); wall times are comparable as ratios.

Protocols
* surf: Office-Caltech-10 SURF, 12 pairs; each row divided by its sum, each domain z-scored.
* digits: MNIST<->USPS (JDA protocol files), each domain z-scored.
* --features DIR: ``<domain>.npz`` (X, y) files, all ordered pairs; ``--prep`` chooses
  'standard' (pooled z-score, default), 'zscore' (per domain) or 'none'.
Accuracy is on the whole target domain; target labels are used only to score.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
os.environ.setdefault("POT_BACKEND_DISABLE_TENSORFLOW", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402

from bench import da_data  # noqa: E402
from bench.da_peers import PEERS  # noqa: E402
from transferkit.adapt import (  # noqa: E402
    BDA,
    CORAL,
    JDA,
    KLIEP,
    KMM,
    MEDA,
    TCA,
    DeepEmbeddedValidation,
    DomainAwareSplit,
    DomainClassifierWeights,
    ImportanceWeightedScorer,
    ReverseValidation,
    SoftNeighborhoodDensity,
    SubspaceAlignment,
    make_da_pipeline,
    pack,
    score_candidates,
)

RESULTS = Path(__file__).resolve().parent / "results"


def lr(C=1.0):
    return LogisticRegression(C=C, max_iter=1000)


def knn():
    return KNeighborsClassifier(1)


# transferkit configurations used in the benchmark (the classic settings of each paper)
OURS = {
    "none": lambda: None,
    "coral": lambda: CORAL(),
    "sa": lambda: SubspaceAlignment(n_components=80),
    "tca": lambda: TCA(n_components=100, mu=0.1),
    "tca_rbf": lambda: TCA(n_components=100, mu=0.1, kernel="rbf", n_kernel_components=500),
    "jda": lambda: JDA(n_components=100, mu=0.1, n_iter=10, estimator=lr(10.0)),
    "bda": lambda: BDA(n_components=100, mu=0.1, n_iter=10, estimator=lr(10.0)),
    "meda": lambda: MEDA(),
    "kmm": lambda: KMM(),
    "kliep": lambda: KLIEP(),
    "domain_classifier": lambda: DomainClassifierWeights(),
}
# peers' TCA builds an n x n kernel (about 30 s a pair here): run it with LR only
PEER_LR_ONLY = {"tca"}
SELECT_FROM = ["none", "coral", "sa", "tca", "jda", "meda", "kmm", "domain_classifier"]
SCORERS = {"dev": DeepEmbeddedValidation(), "iwv": ImportanceWeightedScorer(),
           "snd": SoftNeighborhoodDensity(), "rv": ReverseValidation()}


def load_pairs(args):
    """Yield (pair name, Xs, ys, Xt, yt) under the dataset's protocol."""
    if args.features:
        doms = da_data.feature_domains(args.features)
        for s in doms:
            for t in doms:
                if s == t:
                    continue
                (Xs, ys), (Xt, yt) = doms[s], doms[t]
                if args.prep == "zscore":
                    Xs, Xt = da_data.zscore(Xs), da_data.zscore(Xt)
                elif args.prep == "standard":
                    m, sd = np.vstack([Xs, Xt]).mean(0), np.vstack([Xs, Xt]).std(0)
                    sd = np.where(sd > 0, sd, 1.0)
                    Xs, Xt = (Xs - m) / sd, (Xt - m) / sd
                yield f"{s}->{t}", Xs, ys, Xt, yt
    elif args.dataset == "surf":
        cache = {d: da_data.surf_classic(d) for d in da_data.SURF_DOMAINS}
        for s, t in da_data.surf_pairs():
            yield f"{s}->{t}", *cache[s], *cache[t]
    else:
        for name in ("MNIST_vs_USPS", "USPS_vs_MNIST"):
            Xs, ys, Xt, yt = da_data.digits_pair(name)
            yield name, da_data.zscore(Xs), ys, da_data.zscore(Xt), yt


def run_ours(name, est, X, y, sd, yt):
    adapter = OURS[name]()
    if est == "knn" and getattr(adapter, "reweights", False):
        return None
    t0 = time.perf_counter()
    pipe = make_da_pipeline(adapter, lr() if est == "lr" else knn()).fit(X, y, sd)
    acc = float(np.mean(pipe.predict(X[sd < 0]) == yt))
    return {"acc": acc, "time": time.perf_counter() - t0}


def run_peer(lib, name, est, Xs, ys, Xt, yt):
    fn = PEERS.get(lib, {}).get(name)
    if fn is None:
        return None
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = fn(lr() if est == "lr" else knn(), est, Xs, ys, Xt)
    except Exception as e:  # a peer failure is a result, recorded as such
        return {"error": f"{type(e).__name__}: {str(e)[:160]}"}
    if pred is None:
        return None
    acc = float(np.mean(np.asarray(pred) == yt))
    if not np.isfinite(acc):
        acc = float("nan")
    return {"acc": acc, "time": time.perf_counter() - t0}


def select(X, y, sd, yt, accs, seed):
    """Label-free choice among SELECT_FROM per scorer, and the oracle (target-label) choice."""
    cands = {n: make_da_pipeline(OURS[n](), lr()) for n in SELECT_FROM}
    scores = score_candidates(cands, X, y, sd, SCORERS, cv=DomainAwareSplit(3, random_state=seed))
    out = {"scores": scores, "target_acc": accs}
    for k, sc in scores.items():
        pick = max(sc, key=sc.get)
        safe = pick if sc[pick] > sc["none"] else "none"
        out[k] = {"pick": pick, "acc": accs[pick], "safe_pick": safe, "safe_acc": accs[safe]}
    best = max(SELECT_FROM, key=lambda n: accs[n])
    out["oracle"] = {"pick": best, "acc": accs[best]}
    return out


def mean_of(rows, *keys):
    vals = []
    for r in rows:
        for k in keys:
            r = None if r is None else r.get(k)
        if isinstance(r, (int, float)) and np.isfinite(r):
            vals.append(r)
    return (float(np.mean(vals)), len(vals)) if vals else (None, 0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", choices=["surf", "digits"], default="surf")
    ap.add_argument("--features", help="folder of <domain>.npz (X, y) feature files")
    ap.add_argument("--prep", choices=["standard", "zscore", "none"], default="standard")
    ap.add_argument("--name", help="result file stem (default da_shallow / da_digits / ...)")
    ap.add_argument("--methods", default=",".join(OURS))
    ap.add_argument("--peers", default="skada,adapt")
    ap.add_argument("--no-select", action="store_true")
    ap.add_argument("--max-pairs", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    methods = args.methods.split(",")
    peers = [p for p in args.peers.split(",") if p]
    stem = args.name or ("da_features" if args.features else
                         "da_shallow" if args.dataset == "surf" else "da_digits")
    pairs = {}
    t_start = time.perf_counter()
    for i, (pair, Xs, ys, Xt, yt) in enumerate(load_pairs(args)):
        if args.max_pairs and i >= args.max_pairs:
            break
        X, y, sd = pack(Xs, Xt, ys)
        res = {}
        for m in methods:
            res[m] = {}
            for est in ("lr", "knn"):
                res[m][f"ours_{est}"] = run_ours(m, est, X, y, sd, yt)
                for lib in peers:
                    if est == "knn" and m in PEER_LR_ONLY:
                        continue
                    res[m][f"{lib}_{est}"] = run_peer(lib, m, est, Xs, ys, Xt, yt)
        entry = {"results": res}
        if not args.no_select:
            accs = {m: res[m]["ours_lr"]["acc"] if m in res
                    else run_ours(m, "lr", X, y, sd, yt)["acc"] for m in SELECT_FROM}
            entry["selection"] = select(X, y, sd, yt, accs, args.seed)
        pairs[pair] = entry
        print(pair, {m: round(res[m]["ours_lr"]["acc"], 3) for m in methods}, flush=True)
    write(stem, args, methods, peers, pairs, time.perf_counter() - t_start)


def summarize(methods, peers, pairs):
    rows = {}
    for m in methods:
        r = {}
        for side in ["ours", *peers]:
            for est in ("lr", "knn"):
                k = f"{side}_{est}"
                got = [p["results"][m].get(k) for p in pairs.values()]
                r[k], n = mean_of(got, "acc")
                r[k + "_n"] = n
                r[k + "_time"], _ = mean_of(got, "time")
                errs = [g["error"] for g in got if g and "error" in g]
                if errs:
                    r[k + "_errors"] = len(errs)
        rows[m] = r
    sel = {}
    sels = [p["selection"] for p in pairs.values() if "selection" in p]
    if sels:
        for k in [*SCORERS, "oracle"]:
            sel[k] = float(np.mean([s[k]["acc"] for s in sels]))
            if k != "oracle":
                sel[k + "_safe"] = float(np.mean([s[k]["safe_acc"] for s in sels]))
        accs = {m: float(np.mean([s["target_acc"][m] for s in sels])) for m in SELECT_FROM}
        best = max(accs, key=accs.get)
        sel["oracle_single_method"] = {"method": best, "acc": accs[best]}
    return rows, sel


def fmt(v, pct=True):
    return "—" if v is None else (f"{100 * v:.1f}" if pct else f"{v:.2f}")


def write(stem, args, methods, peers, pairs, total):
    rows, sel = summarize(methods, peers, pairs)
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version(), "numpy": np.__version__}
    for mod in ("scikit-learn", "skada", "adapt", "POT", "transferkit"):
        try:
            versions[mod] = version(mod)
        except PackageNotFoundError:
            versions[mod] = None
    meta = {"dataset": args.features or args.dataset, "prep": args.prep, "n_pairs": len(pairs),
            "threads": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS",
                                                        "OPENBLAS_NUM_THREADS")},
            "versions": versions, "total_seconds": round(total, 1),
            "note": "accuracy on the whole target domain; 'ours'/'skada'/'adapt' run in one "
                    "process, same data and split; times are fit+predict seconds per pair"}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"meta": meta, "summary": rows, "selection": sel, "pairs": pairs}
    tmp = RESULTS / f".{stem}.json.tmp"
    tmp.write_text(json.dumps(out, indent=1, default=float))
    tmp.replace(RESULTS / f"{stem}.json")
    lines = [f"# {stem}: {meta['dataset']} ({len(pairs)} pairs, mean target accuracy %)", "",
             f"Threads: 1 BLAS thread per side; total run {meta['total_seconds']} s. "
             "Hyper-parameters fixed in advance (no target labels) unless stated.", ""]
    hdr = "| method | " + " | ".join(f"{s} LR | {s} 1-NN" for s in ["ours", *peers])
    hdr += " | time " + "/".join(["ours", *peers]) + " (s, LR) |"
    lines += [hdr, "|" + "---|" * (2 + 2 * (1 + len(peers)))]
    for m, r in rows.items():
        cells = []
        for s in ["ours", *peers]:
            for est in ("lr", "knn"):
                v = fmt(r[f"{s}_{est}"])
                if r.get(f"{s}_{est}_errors"):
                    v += f" ({r[f'{s}_{est}_errors']} failed)"
                cells.append(v)
        times = "/".join(fmt(r[f"{s}_lr_time"], pct=False) for s in ["ours", *peers])
        lines.append(f"| {m} | " + " | ".join(cells) + f" | {times} |")
    if sel:
        lines += ["", "Model selection among " + ", ".join(SELECT_FROM) + " (LR), per pair:", "",
                  "| selection | target labels used | mean acc |", "|---|---|---|"]
        for k in SCORERS:
            lines.append(f"| {k} (label-free) | no | {fmt(sel[k])} |")
            lines.append(f"| {k}, keep source-only unless it scores higher | no | "
                         f"{fmt(sel[k + '_safe'])} |")
        lines.append(f"| oracle per pair | yes | {fmt(sel['oracle'])} |")
        o = sel["oracle_single_method"]
        lines.append(f"| best single method ({o['method']}) | yes | {fmt(o['acc'])} |")
    tmp = RESULTS / f".{stem}.md.tmp"
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(RESULTS / f"{stem}.md")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
