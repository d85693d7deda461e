"""Committee agreement against the whole vote vs leave-one-out, on the text sets.

`--method auto` falls back to committee agreement where NC's cluster premise fails (all text
pairs). The whole-committee vote counts each candidate's own vote and gives ties to source-only;
leave-one-out (``committee_agreement(..., leave_one_out=True)``) scores each candidate against
the other candidates' vote, with split credit on ties. The rule and its predictions were
committed before this ran on SST-2 <-> Amazon and TF-IDF (``da_auto_predictions.md``, addendum
of 19:25 UTC); Amazon was its design set.

Per pair, the product's path (as ``bench.da_auto``): pooled z-score, the default candidates
fitted once on all samples; their target predictions are cached (``--cache``), so the rules
are re-scored without refitting. Target labels only score.

    python -m bench.da_agreement_loo [--cache DIR]

Writes ``bench/results/da_agreement_loo.{json,md}``.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from bench import da_data  # noqa: E402
from bench._results import write_results  # noqa: E402
from bench.da_auto import DEFAULT_CACHE, cache_path, fit_candidates, load_cached  # noqa: E402
from transferkit.adapt.selection import best_or_source_only, committee_agreement  # noqa: E402

FEATURES = Path(os.path.expanduser("~/.cache/transferkit/bench_features"))
#: feature set -> pairs with this domain only (None: all ordered pairs), role of the set
SETS = {"amazon_minilm": (None, "design set"),
        "sst2_amazon_minilm": ("sst2", "check (predictions first)"),
        "text_tfidf_lsa": (None, "check (predictions first)")}
RULES = {"whole committee (current)": False, "leave-one-out": True}


def predictions(name, Xs, ys, Xt, seed=0):
    """``{candidate: target predictions}``, the product's path (``bench.da_auto``'s fits)."""
    *_, X, _, sd, _, fitted = fit_candidates(Xs, ys, Xt, seed)
    return {n: f.predict(X[sd < 0], sd[sd < 0]) for n, f in fitted.items()}


def cached_pairs(fset, pairs_with, cache):
    """``(pair, names, P, yt)`` per pair; fits (and caches) what the cache lacks."""
    for pair, Xs, ys, Xt, yt in da_data.feature_pairs(FEATURES / fset, "none", pairs_with):
        path = cache_path(cache, fset, pair)
        if not path.exists():
            P = predictions(pair, Xs, ys, Xt)
            cache.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, yt=yt, names=np.array(list(P)), P=np.stack(list(P.values())))
            os.replace(tmp, path)
        yield pair, *load_cached(path, yt), yt


def evaluate(rows):
    out = {"pairs": {}, "summary": {}}
    for pair, names, P, yt in rows:
        acc = {n: float(np.mean(P[i] == yt)) for i, n in enumerate(names)}
        preds = {n: P[i] for i, n in enumerate(names)}
        picks = {r: best_or_source_only(committee_agreement(preds, leave_one_out=loo))
                 for r, loo in RULES.items()}
        out["pairs"][pair] = {"target_acc": acc, "picks": picks}
    pr = out["pairs"].values()
    base = [p["target_acc"]["none"] for p in pr]
    out["summary"] = {"source_only": 100 * float(np.mean(base)),
                      "oracle": 100 * float(np.mean([max(p["target_acc"].values()) for p in pr]))}
    for r in RULES:
        got = [p["target_acc"][p["picks"][r]] for p in pr]
        out["summary"][r] = {"mean": 100 * float(np.mean(got)),
                             "below_source_only": int(sum(g < b - 1e-12 for g, b in
                                                          zip(got, base, strict=True)))}
    return out


def markdown(res):
    lines = ["# Committee agreement: the whole committee's vote vs leave-one-out (text sets)", "",
             "The product's path (pooled z-score, default candidates fitted on all samples); "
             "mean target accuracy % of the pick over the pairs, pairs below source-only in "
             "brackets. Label-free picks; target labels only score. The leave-one-out rule's "
             "predictions were committed before it ran on the two check sets "
             "(`da_auto_predictions.md`).", "",
             "| set | role | pairs | source-only | " + " | ".join(RULES) + " | oracle |",
             "|---|---|---|---|" + "---|" * len(RULES) + "---|"]
    for fset, r in res["sets"].items():
        s = r["summary"]
        lines.append(f"| {fset} | {SETS[fset][1]} | {len(r['pairs'])} | {s['source_only']:.1f} | "
                     + " | ".join(f"{s[k]['mean']:.1f} ({s[k]['below_source_only']})"
                                  for k in RULES) + f" | {s['oracle']:.1f} |")
    lines += ["", "Picks per pair (whole committee / leave-one-out):", ""]
    for fset, r in res["sets"].items():
        lines.append(f"- {fset}: " + "; ".join(
            f"{pair} {p['picks'][list(RULES)[0]]} / {p['picks'][list(RULES)[1]]}"
            for pair, p in r["pairs"].items()))
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default=DEFAULT_CACHE,
                    help="folder of the candidates' cached target predictions")
    args = ap.parse_args(argv)
    t0, res = time.perf_counter(), {"sets": {}}
    for fset, (pairs_with, _) in SETS.items():
        res["sets"][fset] = evaluate(cached_pairs(fset, pairs_with, Path(args.cache)))
    res["seconds"] = round(time.perf_counter() - t0, 1)
    write_results("da_agreement_loo", res, markdown(res))
    print(markdown(res))


if __name__ == "__main__":
    main()
