"""`--method auto` as the product runs it, per pair, with every label-free scorer side by side.

``bench.da_shallow`` measures selection on its own protocol (the peers' preprocessing and the
benchmark's method settings). This suite runs the path ``transferkit adapt --method auto``
takes: raw features, z-scored with statistics pooled over both domains, the candidates of
:data:`transferkit.adapt.api.AUTO_METHODS` with their default settings, 3-fold
``DomainAwareSplit``. Per pair it records each candidate's target accuracy (fitted on all
samples; target labels used only for this), every scorer's scores (one set of fits for all),
NC's cluster premise and the pick of each rule, including the product's default ('auto').
'agreement' scores each candidate, fitted on all samples, by its agreement with the
candidates' majority vote on the target (:func:`transferkit.adapt.selection.committee_agreement`).

    python -m bench.da_auto --features DIR [--pairs-with DOMAIN] --name STEM
    python -m bench.run da_auto      # every set of ALL_SETS (features built if missing)

Writes ``bench/results/<STEM>.{json,md}``.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from bench import da_data  # noqa: E402
from bench._results import RESULTS  # noqa: E402
from transferkit.adapt import pack, score_candidates  # noqa: E402
from transferkit.adapt.api import (  # noqa: E402
    AUTO_METHODS,
    FALLBACK_SCORER,
    GATED_FALLBACK,
    _candidates,
    _estimator,
    gated_choice,
)
from transferkit.adapt.premise import (  # noqa: E402
    cluster_premise,
    subspace_variance_share,
)
from transferkit.adapt.scorers import (  # noqa: E402
    DeepEmbeddedValidation,
    ImportanceWeightedScorer,
    NeighborhoodConsistency,
    SoftNeighborhoodDensity,
)
from transferkit.adapt.selection import (  # noqa: E402
    DomainAwareSplit,
    best_or_source_only,
    committee_agreement,
)

SCORERS = {"nc": NeighborhoodConsistency(), "dev": DeepEmbeddedValidation(),
           "dev_input": DeepEmbeddedValidation(space="input"),
           "snd": SoftNeighborhoodDensity(), "iwv": ImportanceWeightedScorer()}
#: the rules compared: name -> (scorer where the premise holds, scorer where it fails)
RULES = {"nc": ("nc", "nc"), "dev": ("dev", "dev"), "dev_input": ("dev_input", "dev_input"),
         "snd": ("snd", "snd"), "iwv": ("iwv", "iwv"),
         "agreement": ("agreement", "agreement"),
         "nc, else dev": ("nc", "dev"), "nc, else dev_input": ("nc", "dev_input"),
         "nc, else snd": ("nc", "snd"), "nc, else agreement": ("nc", "agreement"),
         "nc, else nc(none|tca)": ("nc", "nc_tca"),
         "nc, else gated nc(none|tca)": ("nc", GATED_FALLBACK)}
#: GATED_FALLBACK ('gated'): 'nc_tca' where TCA's subspace can keep at least
#: TCA_VARIANCE_THRESHOLD of the pooled variance, else 'agreement' (adapt.api.gated_choice;
#: docs/adapt.md, "The variance-gated fallback")
#: 'nc_tca': NC between source-only and TCA only, with NC's bootstrap check (docs/adapt.md,
#: "NC between source-only and TCA"; found on the three text sets, then checked on two more)
TCA_PAIR = ("none", "tca")
#: the product's default (`--method auto`): the rule with NC where the premise holds and the
#: product's fallback where it fails
AUTO = next(r for r, (ok, fail) in RULES.items() if (ok, fail) == ("nc", FALLBACK_SCORER))


def pick(rule, scores, premise, nc_pick, nc_tca_pick=None, share=None):
    """The candidate a rule picks from a pair's scores; ``nc_pick`` is NC's pick after its
    bootstrap check (the same for every rule that uses NC), ``nc_tca_pick`` the same between
    source-only and TCA only, ``share`` the pair's TCA variance share. None when the scorer's
    scores are missing (a file written before that scorer existed)."""
    ok, fail = RULES[rule]
    used = ok if premise["holds"] else fail
    if used == GATED_FALLBACK:
        if share is None:
            return None
        used = gated_choice(share)
    if used == "nc":
        return nc_pick
    if used == "nc_tca":
        return nc_tca_pick
    return best_or_source_only(scores[used]) if used in scores else None


def fit_candidates(Xs, ys, Xt, seed=0):
    """The product's path up to the fits: pooled z-score, the default candidates, each
    fitted on all samples. Returns ``(Xs, Xt, X, y, sd, cands, fitted)`` (Xs, Xt scaled)."""
    scaler = StandardScaler().fit(np.vstack([Xs, Xt]))
    Xs, Xt = scaler.transform(Xs), scaler.transform(Xt)
    X, y, sd = pack(Xs, Xt, ys)
    cands = _candidates(AUTO_METHODS, _estimator(seed), seed, len(X))
    fitted = {name: clone(est).fit(X, y, sd) for name, est in cands.items()}
    return Xs, Xt, X, y, sd, cands, fitted


def run_pair(Xs, ys, Xt, yt, seed=0):
    """One pair the product's way: pooled z-score, default candidates, every scorer."""
    Xs, Xt, X, y, sd, cands, fitted = fit_candidates(Xs, ys, Xt, seed)
    acc = {name: float(np.mean(f.predict(X[sd < 0], sd[sd < 0]) == yt))
           for name, f in fitted.items()}
    scores = score_candidates(cands, X, y, sd, SCORERS, cv=DomainAwareSplit(3, random_state=seed))
    # committee agreement: the candidates fitted on all samples, against their majority vote
    preds = {n: f.predict(X[sd < 0], sd[sd < 0]) for n, f in fitted.items()}
    scores["agreement"] = committee_agreement(preds)
    same_as_none = {n: float(np.mean(p == preds["none"])) for n, p in preds.items()}
    premise = cluster_premise(Xs, ys, Xt, fitted["none"].predict(X[sd < 0], sd[sd < 0]),
                              seed=seed)
    def win(n):  # NC's bootstrap check against source-only
        return SCORERS["nc"].win_probability(fitted[n], fitted["none"], X, sd)

    nc_pick, _ = checked_pick(scores["nc"], win, names=None)
    nc_tca_pick, win_tca = checked_pick(scores["nc"], win)
    share = subspace_variance_share(X)
    picks = {rule: pick(rule, scores, premise, nc_pick, nc_tca_pick, share) for rule in RULES}
    return {"target_acc": acc, "scores": scores, "premise": premise, "picks": picks,
            "nc_tca": {"pick": nc_tca_pick, "win_probability": win_tca},
            "tca_variance_share": round(share, 4),
            "same_prediction_as_source_only": same_as_none}


def checked_pick(nc_scores, win, names=TCA_PAIR):
    """NC's pick among ``names`` (None: every candidate scored), kept only if ``win(name)``
    (its bootstrap probability of beating source-only) is at least 0.9, as ``--method auto``
    keeps it; returns ``(pick, probability)``."""
    best = best_or_source_only({n: v for n, v in nc_scores.items()
                                if names is None or n in names})
    if best == "none":
        return "none", None
    p = float(win(best))
    return (best if p >= 0.9 else "none"), p


def summarize(res):
    out = {}
    rows = list(res.values())
    for rule in RULES:
        if any(r["picks"].get(rule) is None for r in rows):
            out[rule] = None
            continue
        accs = [r["target_acc"][r["picks"][rule]] for r in rows]
        out[rule] = {"acc": float(np.mean(accs)),
                     "below_source_only": int(sum(a < r["target_acc"]["none"] - 1e-12
                                                  for a, r in zip(accs, rows, strict=True)))}
    out["none"] = {"acc": float(np.mean([r["target_acc"]["none"] for r in rows]))}
    out["oracle"] = {"acc": float(np.mean([max(r["target_acc"].values()) for r in rows]))}
    out["premise_holds"] = int(sum(r["premise"]["holds"] for r in rows))
    return out


def write(stem, folder, res, seconds):
    summ = summarize(res)
    data = {"meta": {"features": str(folder), "seconds": round(seconds, 1),
                     "candidates": list(AUTO_METHODS), "prep": "pooled z-score (product)"},
            "summary": summ, "pairs": res}
    tmp = RESULTS / f".{stem}.json.tmp"
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(RESULTS / f"{stem}.json")
    n = len(res)
    lines = [f"# {stem}: `--method auto` the product's way ({n} pairs, mean target accuracy %)",
             "", f"Features `{folder}`; pooled z-score, default candidates "
             f"({', '.join(AUTO_METHODS)}), 3-fold DomainAwareSplit; {seconds:.0f} s. NC's "
             f"cluster premise holds on {summ['premise_holds']} of {n} pairs. Target labels are "
             "used only to score.", "",
             "| rule (label-free unless stated) | mean acc | pairs below source-only |",
             "|---|---|---|"]
    for rule in RULES:
        r, name = summ[rule], (f"**{rule} (`--method auto`)**" if rule == AUTO else rule)
        lines.append(f"| {name} | — | — |" if r is None else
                     f"| {name} | {100 * r['acc']:.1f} | {r['below_source_only']} |")
    lines += [f"| source-only | {100 * summ['none']['acc']:.1f} | |",
              f"| oracle per pair (target labels) | {100 * summ['oracle']['acc']:.1f} | 0 |", "",
              "Per pair: source-only, oracle, and each rule's pick (accuracy %):", "",
              "| pair | none | oracle | " + " | ".join(RULES) + " |",
              "|---|---|---|" + "---|" * len(RULES)]
    for p, r in res.items():
        a = r["target_acc"]
        cells = ["—" if r["picks"].get(k) is None else f"{r['picks'][k]} {100 * a[r['picks'][k]]:.1f}"
                 for k in RULES]
        lines.append(f"| {p} | {100 * a['none']:.1f} | {100 * max(a.values()):.1f} | "
                     + " | ".join(cells) + " |")
    same = [r["same_prediction_as_source_only"] for r in res.values()
            if "same_prediction_as_source_only" in r]
    if len(same) == n:
        lines += ["", "Share of target samples on which each candidate predicts the same label "
                  "as source-only (mean over pairs): " + ", ".join(
                      f"{c} {100 * np.mean([s[c] for s in same]):.0f} %"
                      for c in same[0] if c != "none") + "."]
    tmp = RESULTS / f".{stem}.md.tmp"
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(RESULTS / f"{stem}.md")
    print("\n".join(lines[:len(RULES) + 9]))


def rewrite(stem, cache=None):
    """Recompute the picks of every rule in ``RULES`` from a saved file's scores. A file saved
    before the 'nc_tca' rule gets its bootstrap check from the candidates' target predictions
    cached by ``bench.da_agreement_loo`` (``cache``), on the same pooled z-scored features."""
    data = json.loads((RESULTS / f"{stem}.json").read_text())
    missing = [p for p, r in data["pairs"].items() if "nc_tca" not in r]
    for p in [p for p in missing if data["pairs"][p]["premise"]["holds"]]:
        data["pairs"][p]["nc_tca"] = {"pick": None, "win_probability": None}  # never used
        missing.remove(p)
    if missing:
        _add_nc_tca(data, missing, Path(cache or DEFAULT_CACHE))
    for r in data["pairs"].values():
        if r["premise"]["holds"]:
            r.setdefault("tca_variance_share", None)  # never used where the premise holds
    if any("tca_variance_share" not in r for r in data["pairs"].values()):
        _add_shares(data)
    for r in data["pairs"].values():
        old = r["picks"]
        nc_pick = old["nc"]  # NC's pick after its bootstrap check, as saved
        r["picks"] = {rule: pick(rule, r["scores"], r["premise"], nc_pick, r["nc_tca"]["pick"],
                                 r["tca_variance_share"]) for rule in RULES}
    write(stem, data["meta"]["features"], data["pairs"], data["meta"]["seconds"])


def _add_shares(data):
    """The TCA variance share (no labels) of each pair that lacks it, from the saved file's
    feature folder."""
    folder = Path(data["meta"]["features"])
    for name, Xs, _, Xt, _ in da_data.feature_pairs(folder, "none"):
        if "tca_variance_share" not in data["pairs"].get(name, {"tca_variance_share": 0}):
            Z = StandardScaler().fit_transform(np.vstack([Xs, Xt]))
            data["pairs"][name]["tca_variance_share"] = round(subspace_variance_share(Z), 4)
    left = [p for p, r in data["pairs"].items() if "tca_variance_share" not in r]
    if left:
        raise SystemExit(f"{folder}: pairs not found in the features: {left}")


#: the candidates' target predictions per pair, as ``bench.da_agreement_loo`` caches them
DEFAULT_CACHE = os.path.expanduser("~/.cache/transferkit/bench_preds")


def cache_path(cache, fset, pair):
    return Path(cache) / f"{fset}__{pair.replace('->', '__')}.npz"


def load_cached(path, yt):
    """``(candidate names, predictions (n_candidates, n_target))`` of a cached pair, checked
    against the pair's target labels."""
    with np.load(path, allow_pickle=False) as z:
        if not np.array_equal(z["yt"], yt):
            raise SystemExit(f"{path}: cached for other data (labels differ); delete it")
        return [str(n) for n in z["names"]], z["P"]


def _add_nc_tca(data, pairs, cache):
    folder = Path(data["meta"]["features"])
    fset = folder.name
    for name, Xs, ys, Xt, yt in da_data.feature_pairs(folder, "none"):
        if name not in pairs:
            continue
        path = cache_path(cache, fset, name)
        if not path.exists():
            raise SystemExit(f"{path}: no cached predictions (run bench.da_agreement_loo)")
        names, P = load_cached(path, yt)
        scaler = StandardScaler().fit(np.vstack([Xs, Xt]))
        X, _, sd = pack(scaler.transform(Xs), scaler.transform(Xt), ys)
        r = data["pairs"][name]
        acc = {n: float(np.mean(P[i] == yt)) for i, n in enumerate(names)}
        if any(abs(acc[n] - r["target_acc"][n]) > 1e-9 for n in TCA_PAIR):
            raise SystemExit(f"{path}: cached predictions differ from {name}'s saved accuracy")
        pred = {n: P[i] for i, n in enumerate(names)}

        def win(n, pred=pred, X=X, sd=sd):
            return SCORERS["nc"].win_probability_from_predictions(pred[n], pred["none"], X, sd)

        nc_tca_pick, win = checked_pick(r["scores"]["nc"], win)
        r["nc_tca"] = {"pick": nc_tca_pick, "win_probability": win}
    left = [p for p in pairs if "nc_tca" not in data["pairs"][p]]
    if left:
        raise SystemExit(f"{folder}: pairs not found in the features: {left}")


#: every feature set of docs/adapt.md: result stem suffix -> (pairs with this domain only,
#: the ``bench.deep_features --only`` choice that builds it)
ALL_SETS = {"office_lite0": (None, "office"), "office_googlenet": (None, "heldout"),
            "amazon_minilm": (None, "amazon"), "sst2_amazon_minilm": ("sst2", "heldout"),
            "text_tfidf_lsa": (None, "tfidf"), "amazon_titles_minilm": (None, "checks"),
            "text_char_lsa": (None, "checks"), "titles_char_lsa": (None, "checks"),
            "amazon_first_minilm": (None, "checks2"), "first_tfidf_lsa": (None, "checks2")}


def run_all(seed=0):
    """Every set of :data:`ALL_SETS` (``make bench``), building missing features first."""
    from bench import deep_features

    for fset, (pairs_with, only) in ALL_SETS.items():
        folder = deep_features.DEFAULT_OUT / fset
        if not folder.is_dir():
            deep_features.main(["--only", only])
        argv = ["--features", str(folder), "--name", f"da_auto_{fset}", "--seed", str(seed)]
        main(argv + (["--pairs-with", pairs_with] if pairs_with else []))


def main(argv=None):
    if argv is not None and not argv:  # bench.run: every set
        return run_all()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", help="folder of <domain>.npz (X, y) files")
    ap.add_argument("--rewrite", action="store_true",
                    help="re-derive every rule's picks from the saved scores of --name (no fits)")
    ap.add_argument("--pairs-with", help="only the pairs that have this domain")
    ap.add_argument("--name", required=True, help="result file stem")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", help=f"cached candidate predictions for --rewrite "
                    f"(default {DEFAULT_CACHE})")
    args = ap.parse_args(argv)
    if args.rewrite:
        return rewrite(args.name, args.cache)
    if not args.features:
        ap.error("--features is required (unless --rewrite)")
    t0, res = time.perf_counter(), {}
    for name, Xs, ys, Xt, yt in da_data.feature_pairs(args.features, "none", args.pairs_with):
        res[name] = run_pair(Xs, ys, Xt, yt, args.seed)
        print(name, res[name]["picks"][AUTO],
              {k: round(v, 3) for k, v in res[name]["target_acc"].items()}, flush=True)
    write(args.name, args.features, res, time.perf_counter() - t0)


if __name__ == "__main__":
    main()
