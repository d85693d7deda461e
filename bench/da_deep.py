"""Deep unsupervised domain adaptation benchmark (transferkit.adapt.deep).

    .venv/bin/python -m bench.da_deep                      # every part
    .venv/bin/python -m bench.da_deep --part digits --iters 500 --budget-s 1500 [--resume]
    .venv/bin/python -m bench.da_deep --part features      # office lite0 + amazon minilm
    .venv/bin/python -m bench.da_deep --part features --feature-seeds --seeds 3   # + seeds 1, 2
    .venv/bin/python -m bench.da_deep --part peers         # skada deep DANN / MCC / MDD (.venv-bench)

Parts:
* digits: MNIST(test set, 10k)->USPS(full, 9,298) and back, LeNet from scratch, end-to-end;
  source-only vs DAN, DANN, CDAN, CDAN+E, MCC. The unlabelled target set is also the
  evaluation set (the transductive protocol of the papers). Seed 0 for every method; extra
  seeds for source-only and the best method (``--all-seeds``: every method) while the time
  budget lasts.
* features: 12 pairs of Office-Caltech-10 (efficientnet_lite0 features) and of Amazon
  reviews (minilm_l6 features): logistic regression source-only, the adaptor network
  source-only, each method, and one label-free-selected variant (DEV scorer, trade-off grid).
* peers: skada 0.6.0's deep DANN, MCC and MDD (skorch) on the office features, same adaptor
  architecture, run with .venv-bench/bin/python as a subprocess (``--skada-methods``).

Each part updates its key of bench/results/da_deep.json (atomically) and rewrites the .md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
FEAT_DIR = Path.home() / ".cache" / "transferkit" / "bench_features"
DATASETS = {
    "office": ("office_lite0", ("amazon", "caltech10", "dslr", "webcam")),
    "amazon": ("amazon_minilm", ("books", "dvd", "electronics", "kitchen")),
}
METHODS = ("source_only", "dan", "dann", "cdan", "cdan_e", "mcc")
FEATURE_SETTINGS = {"hidden": 256, "batch_size": 32, "lr": 0.01, "trade_off": 1.0}
FEATURE_EPOCHS = {"office": 10, "amazon": 5}
SELECT = {"method": "mcc", "scorer": "dev"}  # grid: default_grid(epochs), trade-off x epochs


# --- results file ----------------------------------------------------------------------------
def _load(name: str) -> dict:
    p = RESULTS / f"{name}.json"
    return json.loads(p.read_text()) if p.exists() else {}


def _save(name: str, key: str, value) -> None:
    from transferkit.io import write_json_atomic, write_text_atomic

    data = _load(name)
    data[key] = value
    write_json_atomic(RESULTS / f"{name}.json", data)
    write_text_atomic(RESULTS / f"{name}.md", render_md(data))


def _fmt(vals) -> str:
    vals = [v for v in vals if v is not None]
    if not vals:
        return "-"
    if len(vals) == 1:
        return f"{vals[0]:.3f} (1 seed)"
    return f"{np.mean(vals):.3f} ({min(vals):.3f}-{max(vals):.3f}, {len(vals)} seeds)"


# --- digits ----------------------------------------------------------------------------------
def run_digits(iters: int, seeds: int, budget_s: float, batch_size: int = 32,
               methods=METHODS, name="da_deep", resume=False, all_seeds=False) -> dict:
    from bench.digits_data import load_mnist_test, load_usps
    from transferkit.adapt import pack
    from transferkit.adapt.deep import DeepDA

    data = {"mnist": load_mnist_test(), "usps": load_usps()}
    settings = {"backbone": "lenet (scratch)", "iters": iters, "batch_size": batch_size,
                "lr": 0.01, "optimizer": "SGD momentum 0.9 nesterov, wd 5e-4, lr (1+10p)^-0.75",
                "trade_off": 1.0, "threads": int(os.environ.get("BENCH_THREADS", 1)),
                "budget_s": budget_s, "eval": "full target set (transductive)"}
    out = {"settings": settings, "runs": []}
    prev = _load(name).get("digits") if resume else None
    if prev and prev["settings"]["iters"] == iters and prev["settings"]["batch_size"] == batch_size:
        out["runs"] = list(prev["runs"])  # continue a run (e.g. more seeds later)
        log = prev.get("elapsed_log") or [prev.get(k) for k in ("elapsed_before_s", "elapsed_s")]
        out["elapsed_log"] = [x for x in log if x]
    done = {(r["pair"], r["method"], r["seed"]) for r in out["runs"]}
    t_start = time.perf_counter()

    def one(src, tgt, method, seed):
        if (f"{src}->{tgt}", method, seed) in done:
            return
        Xs, ys = data[src]
        Xt, yt = data[tgt]
        X, y, sd = pack(Xs, Xt, ys)
        est = DeepDA(method=method, backbone="lenet", pretrained=False, epochs=1,
                     iters_per_epoch=iters, batch_size=batch_size, lr=0.01, trade_off=1.0,
                     random_state=seed)
        t0 = time.perf_counter()
        est.fit(X, y, sd)
        fit_s = time.perf_counter() - t0
        acc = float((est.predict(Xt) == yt).mean())
        run = {"pair": f"{src}->{tgt}", "method": method, "seed": seed, "accuracy": acc,
               "fit_s": round(fit_s, 1), "total_s": round(time.perf_counter() - t0, 1)}
        out["runs"].append(run)
        print(f"[digits] {run}", flush=True)
        _save(name, "digits", out)

    pairs = [("mnist", "usps"), ("usps", "mnist")]
    for (src, tgt), m in itertools.product(pairs, methods):
        one(src, tgt, m, 0)
    means = {m: np.mean([r["accuracy"] for r in out["runs"] if r["method"] == m])
             for m in methods}
    best = max((m for m in methods if m != "source_only"), key=means.get)
    extra = list(methods) if all_seeds else ["source_only", best]
    out["extra_seed_methods"] = sorted(set(extra) | set(out.get("extra_seed_methods", [])),
                                       key=list(methods).index)
    skipped = []
    for seed in range(1, seeds):
        for (src, tgt), m in itertools.product(pairs, extra):
            if time.perf_counter() - t_start > budget_s:
                skipped.append(f"{src}->{tgt} {m} seed {seed}")
                continue
            one(src, tgt, m, seed)
    out["skipped_for_time"] = skipped
    out["elapsed_s"] = round(time.perf_counter() - t_start, 1)
    out["elapsed_log"] = [*out.get("elapsed_log", []), out["elapsed_s"]]
    _save(name, "digits", out)
    return out


# --- features --------------------------------------------------------------------------------
def _domains(key: str) -> dict:
    folder, names = DATASETS[key]
    out = {}
    for n in names:
        with np.load(FEAT_DIR / folder / f"{n}.npz", allow_pickle=False) as z:
            out[n] = (z["X"].astype(np.float32), z["y"].astype(np.int64))
    return out


def _lr(Xs, ys, Xt, seed=0):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    sc = StandardScaler().fit(np.vstack([Xs, Xt]))
    clf = LogisticRegression(C=1.0, max_iter=1000, random_state=seed).fit(sc.transform(Xs), ys)
    return clf.predict(sc.transform(Xt))


def run_features(key: str, name="da_deep", methods=METHODS, select=True, merge=False) -> dict:
    """Every pair of ``key``; ``merge=True`` adds the new columns to the saved pairs."""
    from transferkit.adapt import pack
    from transferkit.adapt.deep import DeepDA, default_grid, select_deep

    doms = _domains(key)
    epochs = FEATURE_EPOCHS[key]
    grid = default_grid(epochs)
    settings = dict(FEATURE_SETTINGS, epochs=epochs, seed=0,
                    select=dict(SELECT, grid=grid) if select else None)
    rows = []
    res = {"settings": settings, "pairs": rows}
    old = {r["pair"]: r for r in _load(name).get(f"features_{key}", {}).get("pairs", [])}
    if merge and old:
        res["settings"] = dict(_load(name)[f"features_{key}"]["settings"], select=settings["select"])
    for s, t in itertools.permutations(doms, 2):
        (Xs, ys), (Xt, yt) = doms[s], doms[t]
        X, y, sd = pack(Xs, Xt, ys)
        row = {"pair": f"{s}->{t}", "accuracy": {}, "time_s": {}}
        t0 = time.perf_counter()
        row["accuracy"]["lr_source_only"] = float((_lr(Xs, ys, Xt) == yt).mean())
        row["time_s"]["lr_source_only"] = round(time.perf_counter() - t0, 2)
        for m in methods:
            t0 = time.perf_counter()
            est = DeepDA(method=m, epochs=epochs, random_state=0, **FEATURE_SETTINGS).fit(X, y, sd)
            row["accuracy"][m] = float((est.predict(Xt) == yt).mean())
            row["time_s"][m] = round(time.perf_counter() - t0, 2)
        if select:
            t0 = time.perf_counter()
            base = DeepDA(method=SELECT["method"], epochs=epochs, random_state=0,
                          **FEATURE_SETTINGS)
            est, info = select_deep(base, X, y, sd, scorer=SELECT["scorer"],
                                    grid=grid, seed=0)
            k = f"{SELECT['method']}_selected_{SELECT['scorer']}"
            row["accuracy"][k] = float((est.predict(Xt) == yt).mean())
            row["time_s"][k] = round(time.perf_counter() - t0, 2)
            row["selected"] = info["chosen"]
        if merge and row["pair"] in old:
            prev = old[row["pair"]]
            row = {**prev, **{k: v for k, v in row.items() if k not in ("accuracy", "time_s")},
                   "accuracy": {**prev["accuracy"], **row["accuracy"]},
                   "time_s": {**prev["time_s"], **row["time_s"]}}
        rows.append(row)
        print(f"[{key}] {row['pair']} " + " ".join(f"{k}={v:.3f}" for k, v in
                                                    row["accuracy"].items()), flush=True)
        _save(name, f"features_{key}", res)
    return res


def run_feature_seeds(key: str, name="da_deep", seeds=3, methods=METHODS) -> dict:
    """Seeds 1..seeds-1 of every method on the saved pairs of ``key`` (seed 0 is the main run);
    stored per pair as ``seed_accuracy[method][seed]``; resumable, saved after each pair."""
    from transferkit.adapt import pack
    from transferkit.adapt.deep import DeepDA

    res = _load(name).get(f"features_{key}")
    if not res:
        raise SystemExit(f"features_{key}: run --part features first")
    doms = _domains(key)
    epochs = res["settings"]["epochs"]
    for row in res["pairs"]:
        s, t = row["pair"].split("->")
        (Xs, ys), (Xt, yt) = doms[s], doms[t]
        X, y, sd = pack(Xs, Xt, ys)
        seen = row.setdefault("seed_accuracy", {})
        for m in methods:
            per = seen.setdefault(m, {"0": row["accuracy"][m]})
            for seed in range(1, seeds):
                if str(seed) in per:
                    continue
                est = DeepDA(method=m, epochs=epochs, random_state=seed,
                             **FEATURE_SETTINGS).fit(X, y, sd)
                per[str(seed)] = float((est.predict(Xt) == yt).mean())
        print(f"[{key} seeds] {row['pair']} " + " ".join(
            f"{m}={np.mean(list(v.values())):.3f}" for m, v in seen.items()), flush=True)
        _save(name, f"features_{key}", res)
    return res


def _seed_table(pairs: list) -> list[str]:
    """12-pair mean accuracy per seed and method (spread over seeds)."""
    if not pairs or not all("seed_accuracy" in r for r in pairs):
        return []
    methods = [m for m in METHODS if all(m in r["seed_accuracy"] for r in pairs)]
    seeds = sorted(set.intersection(*[set(r["seed_accuracy"][m]) for r in pairs for m in methods]),
                   key=int)
    if len(seeds) < 2:
        return []
    L = ["Spread over seeds (mean of the pairs for each seed; the adaptor's initialisation, "
         "batches and dropout change with the seed):", "",
         "| method | " + " | ".join(f"seed {k}" for k in seeds) + " | mean (min-max) |",
         "|---" * (len(seeds) + 2) + "|"]
    for m in methods:
        v = [float(np.mean([r["seed_accuracy"][m][k] for r in pairs])) for k in seeds]
        L.append(f"| {m} | " + " | ".join(f"{x:.3f}" for x in v)
                 + f" | {np.mean(v):.3f} ({min(v):.3f}-{max(v):.3f}) |")
    return L + [""]


# --- skada peer (runs inside .venv-bench) ----------------------------------------------------
def _skada_worker(key: str, out_path: str, epochs: int) -> None:
    import torch
    import torch._dynamo  # noqa: F401  (imported before skada's deps: avoids a segfault)
    from skada.deep import DANN, MCC, MDD
    from torch import nn

    wanted = os.environ.get("SKADA_METHODS", "dann,mcc,mdd").split(",")
    factories = {"dann": DANN, "mcc": MCC, "mdd": MDD}

    class Adaptor(nn.Module):
        """The same adaptor as transferkit's feature mode (skada passes sample_weight)."""

        def __init__(self, d, n_cls):
            super().__init__()
            self.fc, self.bn, self.relu = nn.Linear(d, 256), nn.BatchNorm1d(256), nn.ReLU()
            self.feat, self.head = nn.Dropout(0.5), nn.Linear(256, n_cls)

        def forward(self, x, sample_weight=None):
            return self.head(self.feat(self.relu(self.bn(self.fc(x)))))

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", 1)))
    doms = _domains(key)
    rows = []
    for s, t in itertools.permutations(doms, 2):
        (Xs, ys), (Xt, yt) = doms[s], doms[t]
        X = np.vstack([Xs, Xt])
        mu, sdv = X.mean(0), X.std(0)
        X = ((X - mu) / np.where(sdv > 1e-8, sdv, 1)).astype(np.float32)
        y = np.r_[ys, -np.ones(len(Xt), dtype=np.int64)]
        dom = np.r_[np.ones(len(Xs), dtype=np.int64), -np.ones(len(Xt), dtype=np.int64)]
        n_cls = int(ys.max()) + 1
        row = {"pair": f"{s}->{t}", "accuracy": {}, "time_s": {}}
        for m in wanted:
            name, factory = f"skada_{m}", factories[m]
            torch.manual_seed(0)
            module = Adaptor(X.shape[1], n_cls)
            kw = {"dann": {"num_features": 256}, "mcc": {},
                  "mdd": {"num_features": 256, "n_classes": n_cls}}[m]
            net = factory(module, layer_name="feat", reg=1.0, batch_size=32, max_epochs=epochs,
                          lr=0.01, optimizer=torch.optim.SGD, optimizer__momentum=0.9,
                          train_split=False, device="cpu", verbose=0, **kw)
            t0 = time.perf_counter()
            net.fit(X, y, sample_domain=dom)
            pred = net.predict(X[len(Xs):], sample_domain=dom[len(Xs):])
            row["accuracy"][name] = float((np.asarray(pred) == yt).mean())
            row["time_s"][name] = round(time.perf_counter() - t0, 2)
        rows.append(row)
        print(f"[skada {key}] {row}", flush=True)
        Path(out_path).write_text(json.dumps(rows))


def run_peers(key="office", name="da_deep", timeout=1800, methods="dann,mcc,mdd") -> dict:
    """skada's deep methods in .venv-bench; columns already saved for other methods are kept."""
    py = ROOT / ".venv-bench" / "bin" / "python"
    out_path = RESULTS / f".{name}_skada_{key}.tmp.json"
    epochs = FEATURE_EPOCHS[key]
    cmd = [str(py), "-m", "bench.da_deep", "--skada-worker", key, str(out_path), str(epochs)]
    t0 = time.perf_counter()
    env = dict(os.environ, SKADA_METHODS=methods)
    proc = subprocess.run(cmd, cwd=ROOT, timeout=timeout, capture_output=True, text=True, env=env)
    res = {"peer": "skada 0.6.0 (skorch 1.4.0)", "epochs": epochs,
           "module": "Linear(d,256)-BN-ReLU-Dropout(0.5) -> Linear(256,C), features z-scored",
           "optimizer": "SGD lr 0.01 momentum 0.9 (constant), batch 32, reg 1.0",
           "returncode": proc.returncode, "elapsed_s": round(time.perf_counter() - t0, 1)}
    if proc.returncode != 0:
        res["error"] = proc.stderr[-2000:]
    res["pairs"] = json.loads(out_path.read_text()) if out_path.exists() else []
    if out_path.exists():
        out_path.unlink()
    old = {r["pair"]: r for r in _load(name).get(f"peers_{key}", {}).get("pairs", [])}
    for r in res["pairs"]:
        prev = old.get(r["pair"], {})
        r["accuracy"] = {**prev.get("accuracy", {}), **r["accuracy"]}
        r["time_s"] = {**prev.get("time_s", {}), **r["time_s"]}
    _save(name, f"peers_{key}", res)
    return res


# --- markdown --------------------------------------------------------------------------------
def _mean_table(pairs: list, title: str) -> list[str]:
    if not pairs:
        return []
    order = ["lr_source_only", *METHODS]
    keys = list(pairs[0]["accuracy"])
    keys = [k for k in order if k in keys] + [k for k in keys if k not in order]
    lines = [f"### {title} ({len(pairs)} pairs)", "",
             "| pair | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for r in pairs:
        lines.append(f"| {r['pair']} | " + " | ".join(
            f"{r['accuracy'].get(k, float('nan')):.3f}" for k in keys) + " |")
    mean = [np.mean([r["accuracy"][k] for r in pairs if k in r["accuracy"]]) for k in keys]
    secs = [np.mean([r["time_s"][k] for r in pairs if k in r["time_s"]]) for k in keys]
    lines.append("| **mean** | " + " | ".join(f"**{v:.3f}**" for v in mean) + " |")
    lines.append("| time/pair (s) | " + " | ".join(f"{v:.1f}" for v in secs) + " |")
    return lines + [""]


def _seed_note(dg: dict) -> str:
    extra = dg.get("extra_seed_methods", [])
    if set(METHODS) <= set(extra):
        return "Every method is run with each seed (spread = min-max)."
    return f"Seed 0 for every method; extra seeds only for {', '.join(extra)}."


def render_md(data: dict) -> str:
    L = ["# Deep domain adaptation (transferkit.adapt.deep)", "",
         "Generated by `.venv/bin/python -m bench.da_deep`. No target labels are used for "
         "training or for choosing hyper-parameters; the label-free-selected variant is "
         "marked `_selected_<scorer>`. Times are wall-clock seconds on a shared 2-core CPU "
         "(other jobs were running): compare ratios, not absolute values.", ""]
    dg = data.get("digits")
    if dg:
        s = dg["settings"]
        L += ["## Digits, LeNet end-to-end from scratch", "",
              f"{s['iters']} SGD steps of {s['batch_size']} source + {s['batch_size']} target "
              f"images per run, lr {s['lr']}, trade-off {s['trade_off']}, {s['threads']} "
              "threads. MNIST = its 10k test set, USPS = all 9,298 images (resized 16->28). "
              "Accuracy on the whole target set (transductive). " + _seed_note(dg), "",
              "| method | MNIST->USPS | USPS->MNIST | fit s/run |", "|---|---|---|---|"]
        for m in METHODS:
            cells = []
            for p in ("mnist->usps", "usps->mnist"):
                cells.append(_fmt([r["accuracy"] for r in dg["runs"]
                                   if r["method"] == m and r["pair"] == p]))
            secs = [r["fit_s"] for r in dg["runs"] if r["method"] == m]
            if secs:
                L.append(f"| {m} | {cells[0]} | {cells[1]} | {np.mean(secs):.0f} |")
        if len(dg.get("elapsed_log", [])) > 1:
            L += ["", "Wall time per invocation (the first for seed 0, later ones resumed to add "
                  "seeds; the machine was shared with other jobs): "
                  + ", ".join(f"{x:.0f} s" for x in dg["elapsed_log"]) + "."]
        elif dg.get("elapsed_s"):
            L += ["", f"Wall time: {dg['elapsed_s']:.0f} s."]
        if dg.get("skipped_for_time"):
            L += ["", "Skipped for time: " + "; ".join(dg["skipped_for_time"]) + "."]
        L += ["", "Published anchors (LeNet, full training): source-only about 0.85-0.90 "
              "MNIST->USPS, DANN about 0.90.", ""]
    for key, title in (("office", "Office-Caltech-10, efficientnet_lite0 features"),
                       ("amazon", "Amazon reviews, minilm_l6 features")):
        f = data.get(f"features_{key}")
        if f:
            s = f["settings"]
            L += [f"## {title}", "",
                  f"Adaptor: hidden {s['hidden']}, {s['epochs']} epochs (an epoch = "
                  f"max(n_s, n_t)/{s['batch_size']} steps), lr {s['lr']}, trade-off "
                  f"{s['trade_off']}, seed 0. `lr_source_only` = logistic regression on "
                  "pooled z-scored features.", ""]
            sel = s.get("select")
            if sel:
                g = sel.get("grid") or {"trade_off": [0.1, 0.3, 1.0]}
                L += [f"`{sel['method']}_selected_{sel['scorer']}`: {sel['method'].upper()} with "
                      + " x ".join(f"{k} in {tuple(v)}" for k, v in g.items())
                      + f" chosen by the label-free {sel['scorer'].upper()} scorer (30% of the "
                      "source held out, no target labels), then refitted; the choice per pair: "
                      + "; ".join(f"{r['pair']} " + ",".join(f"{k}={v}" for k, v in
                                                            r.get("selected", {}).items())
                                  for r in f["pairs"]) + ".", ""]
            L += _mean_table(f["pairs"], title)
            L += _seed_table(f["pairs"])
        p = data.get(f"peers_{key}")
        if p:
            L += [f"Peer on the same features: {p['peer']}; {p['module']}; {p['optimizer']}; "
                  f"{p['epochs']} epochs. Return code {p['returncode']}.", ""]
            L += _mean_table(p["pairs"], f"skada deep, {title}")
    return "\n".join(L) + "\n"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="bench.da_deep")
    ap.add_argument("--part", default="all", choices=["all", "digits", "features", "peers"])
    ap.add_argument("--datasets", default="office,amazon")
    ap.add_argument("--iters", type=int, default=500)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget-s", type=float, default=1500)
    ap.add_argument("--name", default="da_deep")
    ap.add_argument("--select-only", action="store_true",
                    help="features: add only the label-free variant to the saved pairs")
    ap.add_argument("--resume", action="store_true", help="digits: keep finished runs")
    ap.add_argument("--feature-seeds", action="store_true",
                    help="features: add seeds 1..--seeds-1 of every method to the saved pairs")
    ap.add_argument("--all-seeds", action="store_true",
                    help="digits: every method gets --seeds seeds (default: source-only and the best)")
    ap.add_argument("--no-select", action="store_true", help="skip the label-free variant")
    ap.add_argument("--skada-worker", nargs=3, metavar=("KEY", "OUT", "EPOCHS"))
    ap.add_argument("--skada-methods", default="dann,mcc,mdd", help="peers: skada deep methods")
    a = ap.parse_args(argv)
    if a.skada_worker:
        _skada_worker(a.skada_worker[0], a.skada_worker[1], int(a.skada_worker[2]))
        return
    import torch

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", 1)))
    if a.part in ("all", "features"):
        for key in a.datasets.split(","):
            if a.feature_seeds:
                run_feature_seeds(key, a.name, a.seeds)
            elif a.select_only:
                run_features(key, a.name, methods=(), select=True, merge=True)
            else:
                run_features(key, a.name, select=not a.no_select)
    if a.part in ("all", "peers"):
        run_peers("office", a.name, methods=a.skada_methods)
    if a.part in ("all", "digits"):
        run_digits(a.iters, a.seeds, a.budget_s, name=a.name, resume=a.resume,
                   all_seeds=a.all_seeds)


if __name__ == "__main__":
    main(sys.argv[1:])
