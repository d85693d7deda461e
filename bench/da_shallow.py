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
from sklearn.base import clone  # noqa: E402
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
    NeighborhoodConsistency,
    ReverseValidation,
    SoftNeighborhoodDensity,
    SubspaceAlignment,
    make_da_pipeline,
    pack,
    score_candidates,
)
from transferkit.adapt.api import (  # noqa: E402
    FALLBACK_SCORER,
    GATED_FALLBACK,
    TCA_FALLBACK,
    gated_choice,
)
from transferkit.adapt.feature import SelectiveMEDA  # noqa: E402
from transferkit.adapt.premise import (  # noqa: E402
    TCA_VARIANCE_THRESHOLD,
    cluster_premise,
    subspace_variance_share,
)
from transferkit.adapt.selection import best_or_source_only, committee_agreement  # noqa: E402

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
    # Pan et al.'s kernel-form objective (the peers' form), linear kernel; option, not default
    "tca_kernel": lambda: TCA(n_components=100, mu=0.1, form="kernel"),
    "jda": lambda: JDA(n_components=100, mu=0.1, n_iter=10, estimator=lr(10.0)),
    "bda": lambda: BDA(n_components=100, mu=0.1, n_iter=10, estimator=lr(10.0)),
    "meda": lambda: MEDA(),
    "selective_meda": lambda: SelectiveMEDA(),
    "kmm": lambda: KMM(),
    # ADAPT's KMM, like for like: exact on the kernel's diagonal, chunks of at most 1000
    "kmm_adapt": lambda: KMM(diag_correction=True, max_size=1000),
    "kliep": lambda: KLIEP(),
    "kliep_scale": lambda: KLIEP(gamma="scale"),  # skada's setting in this bench, like for like
    "domain_classifier": lambda: DomainClassifierWeights(),
}
# peers' TCA builds an n x n kernel (about 30 s a pair here): run it with LR only
PEER_LR_ONLY = {"tca"}
# randomised methods: every side runs with the same seeds, results averaged
SEEDED = {"sa": (0, 1, 2, 3, 4)}
SEEDED_NOTE = {"sa": "the peers' randomised PCA; ours is exact, the same for every seed"}
SELECT_FROM = ["none", "coral", "sa", "tca", "jda", "meda", "kmm", "domain_classifier"]
# hyper-parameter grids for the label-free vs oracle choice of one method's setting (--hp-select)
HP_GRIDS = {
    "coral": ("reg", ["auto", 1.0, 0.01]),
    "sa": ("n_components", [20, 40, 80]),
    "tca": ("n_components", [20, 50, 100]),
    "jda": ("mu", [0.01, 0.1, 1.0]),
}
SCORERS = {"dev": DeepEmbeddedValidation(), "iwv": ImportanceWeightedScorer(),
           "snd": SoftNeighborhoodDensity(), "rv": ReverseValidation(),
           "nc": NeighborhoodConsistency()}
#: the selection rows: the CV scorers, then committee agreement (the candidates fitted on all
#: samples, each against their majority vote on the target)
SELECTORS = [*SCORERS, "agreement"]


def load_pairs(args):
    """Yield (pair name, Xs, ys, Xt, yt) under the dataset's protocol."""
    if args.features:
        yield from da_data.feature_pairs(args.features, args.prep)
    elif args.dataset == "surf":
        cache = {d: da_data.surf_classic(d) for d in da_data.SURF_DOMAINS}
        for s, t in da_data.surf_pairs():
            yield f"{s}->{t}", *cache[s], *cache[t]
    else:
        for name in ("MNIST_vs_USPS", "USPS_vs_MNIST"):
            Xs, ys, Xt, yt = da_data.digits_pair(name)
            yield name, da_data.zscore(Xs), ys, da_data.zscore(Xt), yt


def seeded(run):
    """Average a run over the method's SEEDED seeds (one run with seed 0 otherwise)."""

    def wrapped(name, *args):
        got = [run(name, *args, seed=s) for s in SEEDED.get(name, (0,))]
        if any(g is None or "error" in g for g in got) or len(got) == 1:
            return got[0]
        return {"acc": float(np.mean([g["acc"] for g in got])),
                "time": float(np.mean([g["time"] for g in got])),
                "seeds": [g["acc"] for g in got]}

    return wrapped


@seeded
def run_ours(name, est, X, y, sd, yt, seed=0):
    adapter = OURS[name]()
    if est == "knn" and getattr(adapter, "reweights", False):
        return None
    if name in SEEDED:
        adapter.set_params(random_state=seed)
    t0 = time.perf_counter()
    pipe = make_da_pipeline(adapter, lr() if est == "lr" else knn()).fit(X, y, sd)
    acc = float(np.mean(pipe.predict(X[sd < 0]) == yt))
    return {"acc": acc, "time": time.perf_counter() - t0}


@seeded
def run_peer(name, lib, est, Xs, ys, Xt, yt, seed=0):
    fn = PEERS.get(lib, {}).get(name)
    if fn is None:
        return None
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = fn(lr() if est == "lr" else knn(), est, Xs, ys, Xt, seed=seed)
    except Exception as e:  # a peer failure is a result, recorded as such
        return {"error": f"{type(e).__name__}: {str(e)[:160]}"}
    if pred is None:
        return None
    acc = float(np.mean(np.asarray(pred) == yt))
    if not np.isfinite(acc):
        acc = float("nan")
    return {"acc": acc, "time": time.perf_counter() - t0}


def warm_up(methods, peers, Xs, ys, Xt, yt):
    """Run every side once, untimed, on a subsample of the first pair, so that no timed run
    pays first-call costs (lazy imports, BLAS start-up) for the runs after it."""
    s, t = slice(None, None, max(1, len(Xs) // 100)), slice(None, None, max(1, len(Xt) // 100))
    X, y, sd = pack(Xs[s], Xt[t], ys[s])
    for m in methods:
        for est in ("lr", "knn"):
            try:
                run_ours(m, est, X, y, sd, yt[t])
            except Exception:  # a warm-up failure is not a result; the timed run reports it
                pass
            for lib in peers:
                run_peer(m, lib, est, Xs[s], ys[s], Xt[t], yt[t])


def select(X, y, sd, yt, accs, seed):
    """Label-free choice among SELECT_FROM per scorer, and the oracle (target-label) choice."""
    cands = {n: make_da_pipeline(OURS[n](), lr()) for n in SELECT_FROM}
    scores = score_candidates(cands, X, y, sd, SCORERS, cv=DomainAwareSplit(3, random_state=seed))
    # every candidate on all samples, once: for agreement, the premise and NC's check
    fitted = {n: clone(c).fit(X, y, sd) for n, c in cands.items()}
    scores["agreement"] = committee_agreement({n: f.predict(X[sd < 0]) for n, f in fitted.items()})
    out = {"scores": scores, "target_acc": accs, **picks(scores, accs)}
    for k, sc in scores.items():
        safe = best_or_source_only(sc)
        out[k].update(safe_pick=safe, safe_acc=accs[safe])
    # nc, then keep source-only unless the pick beats it in >= 90% of target bootstraps
    ref = fitted["none"]
    pick = out["nc"]["pick"]
    if pick != "none":
        win = SCORERS["nc"].win_probability(fitted[pick], ref, X, sd)
        pick = pick if win >= 0.9 else "none"
        out["nc_checked"] = {"pick": pick, "acc": accs[pick], "win_probability": win}
    else:
        out["nc_checked"] = {"pick": "none", "acc": accs["none"]}
    # nc between source-only and TCA only, with the same check; TCA's variance share (the gate)
    from bench.da_auto import checked_pick

    tca, win = checked_pick(scores["nc"], lambda n: SCORERS["nc"].win_probability(
        fitted[n], ref, X, sd))
    out[TCA_FALLBACK] = {"pick": tca, "acc": accs[tca], "win_probability": win}
    out["tca_variance_share"] = round(subspace_variance_share(X), 4)
    src, tgt = sd > 0, sd < 0
    out["premise"] = cluster_premise(X[src], y[src], X[tgt], ref.predict(X[tgt], sd[tgt]),
                                     seed=seed)
    out["auto"] = auto_pick(out)
    return out


def auto_pick(sel):
    """What `adapt_features(method='auto')` does by default (scorer 'auto'), from one pair's
    selection record: the checked nc where its cluster premise holds on both domains, else
    the fallback scorer's pick (source-only unless it scores higher)."""
    holds = sel["premise"]["holds"]
    used = "nc" if holds else FALLBACK_SCORER
    if used == GATED_FALLBACK:
        if "tca_variance_share" not in sel:
            raise SystemExit("a selection record from before the variance gate: re-run it "
                             "with --select-only")
        used = gated_choice(sel["tca_variance_share"])
    pick = (sel["nc_checked"]["pick"] if used == "nc" else
            sel[TCA_FALLBACK]["pick"] if used == TCA_FALLBACK else sel[used]["safe_pick"])
    return {"pick": pick, "acc": sel["target_acc"][pick], "scorer": used}


def hp_select(X, y, sd, yt, seed):
    """Per method of HP_GRIDS: each scorer's label-free pick of the setting, and the oracle's."""
    out = {}
    for m, (param, values) in HP_GRIDS.items():
        cands = {str(v): make_da_pipeline(OURS[m]().set_params(**{param: v}), lr())
                 for v in values}
        accs = {k: float(np.mean(clone(c).fit(X, y, sd).predict(X[sd < 0]) == yt))
                for k, c in cands.items()}
        scores = score_candidates(cands, X, y, sd, SCORERS,
                                  cv=DomainAwareSplit(3, random_state=seed))
        out[m] = {"param": param, "target_acc": accs, "scores": scores,
                  **picks(scores, accs)}
    return out


def picks(scores, accs):
    """Each scorer's choice (highest score) and the oracle's (highest target accuracy)."""
    out = {}
    for k, sc in scores.items():
        pick = max(sc, key=sc.get)
        out[k] = {"pick": pick, "acc": accs[pick]}
    best = max(accs, key=accs.get)
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
    ap.add_argument("--hp-select", action="store_true",
                    help="also choose each HP_GRIDS method's setting label-free vs by oracle")
    ap.add_argument("--max-pairs", type=int, default=0)
    ap.add_argument("--pairs-with", help="only the pairs that have this domain (source or target)")
    ap.add_argument("--rewrite", action="store_true",
                    help="fit nothing: recompute each pair's auto pick from its saved "
                         "selection record and rewrite the results file's tables")
    ap.add_argument("--select-only", action="store_true",
                    help="re-run only the model selection and replace it in the existing "
                         "results file (its method rows are kept; candidates' accuracies "
                         "are re-measured)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--merge", action="store_true",
                    help="re-measure only --methods and replace their rows in the existing "
                         "results file (its selection part is kept as measured)")
    args = ap.parse_args(argv)
    if args.rewrite:
        return rewrite(args)
    if args.merge:
        args.no_select, args.hp_select = True, False
    if args.select_only:
        args.methods, args.peers, args.no_select = "", "", False
    methods = [m for m in args.methods.split(",") if m]
    peers = [p for p in args.peers.split(",") if p]
    stem = _stem(args)
    pairs = {}
    t_start = time.perf_counter()
    todo = (p for p in load_pairs(args)
            if not args.pairs_with or args.pairs_with in p[0].split("->"))
    for i, (pair, Xs, ys, Xt, yt) in enumerate(todo):
        if args.max_pairs and i >= args.max_pairs:
            break
        X, y, sd = pack(Xs, Xt, ys)
        if i == 0 and methods:
            warm_up(methods, peers, Xs, ys, Xt, yt)
        res = {}
        for m in methods:
            res[m] = {}
            for est in ("lr", "knn"):
                res[m][f"ours_{est}"] = run_ours(m, est, X, y, sd, yt)
                for lib in peers:
                    if est == "knn" and m in PEER_LR_ONLY:
                        continue
                    res[m][f"{lib}_{est}"] = run_peer(m, lib, est, Xs, ys, Xt, yt)
        entry = {"results": res}
        if not args.no_select:
            accs = {m: res[m]["ours_lr"]["acc"] if m in res
                    else run_ours(m, "lr", X, y, sd, yt)["acc"] for m in SELECT_FROM}
            entry["selection"] = select(X, y, sd, yt, accs, args.seed)
        if args.hp_select:
            entry["hp_selection"] = hp_select(X, y, sd, yt, args.seed)
        pairs[pair] = entry
        print(pair, {m: round(res[m]["ours_lr"]["acc"], 3) for m in methods},
              entry.get("selection", {}).get("auto"), flush=True)
    total = time.perf_counter() - t_start
    if args.select_only:
        old = json.loads((RESULTS / f"{stem}.json").read_text())
        for pair, entry in pairs.items():
            old["pairs"][pair]["selection"] = entry["selection"]
        pairs, methods = old["pairs"], list(old["summary"])
        peers = _peers_in(pairs)
        args.merged = (old["meta"].get("merged", []) +
                       [{"methods": "(selection only)", "seconds": round(total, 1)}])
        total = old["meta"]["total_seconds"]
    elif args.merge:
        old = json.loads((RESULTS / f"{stem}.json").read_text())
        for pair, entry in old["pairs"].items():
            entry["results"].update(pairs.get(pair, {}).get("results", {}))
        pairs = old["pairs"]
        methods = [*old["summary"], *[m for m in methods if m not in old["summary"]]]
        # the peers the file already holds stay in its tables (a merge with fewer --peers)
        peers = _peers_in(pairs, also=peers)
        args.merged = (old["meta"].get("merged", []) +
                       [{"methods": args.methods, "seconds": round(total, 1)}])
        total = old["meta"]["total_seconds"]
    write(stem, args, methods, peers, pairs, total)


def _stem(args):
    return args.name or ("da_features" if args.features else
                         "da_shallow" if args.dataset == "surf" else "da_digits")


def _peers_in(pairs, also=()):
    """The peers with results in ``pairs`` (a results file's), plus ``also``."""
    return [p for p in ("skada", "adapt") if p in also or any(
        r.get(f"{p}_lr") for e in pairs.values() for r in e["results"].values())]


def rewrite(args):
    """--rewrite: the tables again from the saved file, with auto re-derived per pair."""
    stem = _stem(args)
    old = json.loads((RESULTS / f"{stem}.json").read_text())
    for entry in old["pairs"].values():
        if "premise" in entry.get("selection", {}):
            entry["selection"]["auto"] = auto_pick(entry["selection"])
    peers = _peers_in(old["pairs"])
    args.merged, args.prep = old["meta"].get("merged", []), old["meta"]["prep"]
    args.features = old["meta"]["dataset"] if args.features else None
    write(stem, args, list(old["summary"]), peers, old["pairs"], old["meta"]["total_seconds"])


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
        for k in [*SELECTORS, "nc_checked", "auto", "oracle"]:
            if not all(k in s for s in sels):
                continue  # a table from before the row existed
            sel[k] = float(np.mean([s[k]["acc"] for s in sels]))
            sel[k + "_below_source_only"] = int(sum(s[k]["acc"] < s["target_acc"]["none"]
                                                    for s in sels))
            if k not in ("oracle", "nc_checked", "auto"):
                sel[k + "_safe"] = float(np.mean([s[k]["safe_acc"] for s in sels]))
        if all("premise" in s for s in sels):
            lo = [min(s["premise"]["source_ami"], s["premise"]["target_ami"]) for s in sels]
            sel["premise"] = {"holds": int(sum(s["premise"]["holds"] for s in sels)),
                              "pairs": len(sels),
                              "min_ami_low": float(min(lo)), "min_ami_high": float(max(lo))}
        if all("tca_variance_share" in s for s in sels):
            sh = [s["tca_variance_share"] for s in sels]
            sel["gate"] = {"low": float(min(sh)), "high": float(max(sh)),
                           "passes": int(sum(v >= TCA_VARIANCE_THRESHOLD for v in sh))}
        accs = {m: float(np.mean([s["target_acc"][m] for s in sels])) for m in SELECT_FROM}
        best = max(accs, key=accs.get)
        sel["oracle_single_method"] = {"method": best, "acc": accs[best]}
    hps = [p["hp_selection"] for p in pairs.values() if "hp_selection" in p]
    if hps:
        sel["hp"] = {}
        for m, (param, values) in HP_GRIDS.items():
            r = {k: float(np.mean([h[m][k]["acc"] for h in hps])) for k in [*SCORERS, "oracle"]}
            r["param"] = param
            r["fixed"] = {str(v): float(np.mean([h[m]["target_acc"][str(v)] for h in hps]))
                          for v in values}
            sel["hp"][m] = r
    return rows, sel


def _merge_note(m):
    if m["methods"] == "(selection only)":
        return (f"The model selection below was re-run later ({m['seconds']} s, same data and "
                "split). ")
    return (f"Rows {m['methods']} re-measured in a later run ({m['seconds']} s, same data and "
            "split); the selection below kept the first run's fits. ")


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
            "merged": getattr(args, "merged", []),
            "note": "accuracy on the whole target domain; 'ours'/'skada'/'adapt' run in one "
                    "process, same data and split; times are fit+predict seconds per pair"}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"meta": meta, "summary": rows, "selection": sel, "pairs": pairs}
    tmp = RESULTS / f".{stem}.json.tmp"
    tmp.write_text(json.dumps(out, indent=1, default=float))
    tmp.replace(RESULTS / f"{stem}.json")
    lines = [f"# {stem}: {meta['dataset']} ({len(pairs)} pairs, mean target accuracy %)", "",
             f"Threads: 1 BLAS thread per side; total run {meta['total_seconds']} s. "
             "Hyper-parameters fixed in advance (no target labels) unless stated. "
             + "".join(f"{m}: every side averaged over seeds {list(v)} ({SEEDED_NOTE.get(m, 'randomised')}). "
                       for m, v in SEEDED.items() if m in methods)
             + "".join(_merge_note(m) for m in meta["merged"]), ""]
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
    if "oracle" in sel:
        lines += ["", "Model selection among " + ", ".join(SELECT_FROM) + " (LR), per pair:", "",
                  "| selection | target labels used | mean acc | pairs below source-only |",
                  "|---|---|---|---|"]
        for k in (k for k in SELECTORS if k in sel):
            b = sel[k + "_below_source_only"]
            lines.append(f"| {k} (label-free) | no | {fmt(sel[k])} | {b} |")
            lines.append(f"| {k}, keep source-only unless it scores higher | no | "
                         f"{fmt(sel[k + '_safe'])} | |")
        lines.append("| nc, keep source-only unless the pick wins >= 90% of target bootstraps "
                     f"| no | {fmt(sel['nc_checked'])} | {sel['nc_checked_below_source_only']} |")
        if "auto" in sel:
            fallback = (f"{FALLBACK_SCORER}, keeping source-only unless it scores higher"
                        if FALLBACK_SCORER != GATED_FALLBACK else
                        "the variance gate (nc between source-only and TCA, checked the same "
                        f"way, where TCA's subspace keeps >= {TCA_VARIANCE_THRESHOLD} of the "
                        "variance; else agreement, keeping source-only unless it scores higher)")
            lines.append("| **auto**: the row above where nc's cluster premise holds, else "
                         f"{fallback} (`--method auto`'s default) | no | {fmt(sel['auto'])} | "
                         f"{sel['auto_below_source_only']} |")
        lines.append(f"| oracle per pair | yes | {fmt(sel['oracle'])} | 0 |")
        o = sel["oracle_single_method"]
        lines.append(f"| best single method ({o['method']}) | yes | {fmt(o['acc'])} |")
        if "premise" in sel:
            pr = sel["premise"]
            lines += ["", f"NC's cluster premise (AMI of k-means clusters with the source "
                      f"labels and with source-only's target predictions, both >= 0.05) holds "
                      f"on {pr['holds']} of {pr['pairs']} pairs; the smaller AMI per pair ranges "
                      f"{pr['min_ami_low']:.3f}-{pr['min_ami_high']:.3f}."]
            if "gate" in sel:
                g = sel["gate"]
                lines[-1] += (f" TCA's variance share (the gate where the premise fails, "
                              f">= {TCA_VARIANCE_THRESHOLD}: nc between source-only and TCA) "
                              f"ranges {g['low']:.3f}-{g['high']:.3f}, at or above the "
                              f"threshold on {g['passes']} of {pr['pairs']} pairs.")
    if sel.get("hp"):
        lines += ["", "One method's setting chosen per pair, label-free (each scorer) or by the "
                  "oracle (target labels); each fixed setting's mean for reference:", "",
                  "| method | setting | " + " | ".join(SCORERS) + " | oracle | fixed settings |",
                  "|---|---|" + "---|" * (len(SCORERS) + 2)]
        for m, r in sel["hp"].items():
            fixed = ", ".join(f"{v}: {fmt(a)}" for v, a in r["fixed"].items())
            lines.append(f"| {m} | {r['param']} | " + " | ".join(fmt(r[k]) for k in SCORERS)
                         + f" | {fmt(r['oracle'])} | {fixed} |")
    tmp = RESULTS / f".{stem}.md.tmp"
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(RESULTS / f"{stem}.md")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
