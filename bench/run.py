"""Run the benchmark suites and write their results to bench/results/.

    python -m bench.run all            # every suite (what `make bench` does)
    python -m bench.run extract train_step

Each suite is a module with a ``main(argv)`` that measures transferkit against the named peer
in the same run and writes ``bench/results/<suite>.json`` (and ``.md``).
"""

from __future__ import annotations

import importlib
import sys
import time

SUITES = {
    "extract": "bench.extract_throughput",   # issue 2: extraction throughput vs the typical pipeline
    "baselines": "bench.baselines_digits",   # issue 3: the article's baselines on sklearn digits
    "train_step": "bench.train_step",        # issue 3: engine overhead vs a plain timm loop
    "recipes": "bench.recipes_hymenoptera",  # issue 3: the ladder on hymenoptera
    "digits": "bench.recipes_digits",        # issue 3: fine-tuning on sklearn digits, 5 folds
    "office": "bench.recipes_office",        # issue 3: the ladder per Office-Caltech-10 domain
    "advise": "bench.advise_validation",     # issue 4: advice vs measured accuracy
    "advise_finetune": "bench.advise_finetune",  # issue 4: advice vs (backbone x strategy) fine-tuning
    "advise_draws": "bench.advise_draws",    # issue 4: scores vs expected extract accuracy, 10 draws
    "da_shallow": "bench.da_shallow",        # issue 5: shallow DA vs skada / ADAPT
    "da_scorers": "bench.da_scorer_ensembles",  # issue 5: scorer combinations, re-read (after da_shallow)
    "da_auto": "bench.da_auto",              # issue 5: --method auto the product's way, 7 sets
    "da_parity": "bench.da_parity",          # issue 5: each gap to skada/ADAPT, pair by pair, and why
    "da_deep": "bench.da_deep",              # issue 6: deep DA (DAN/DANN/CDAN/MCC) vs skada deep
    "fuzz": "bench.fuzz_readers",            # issue 7: fuzzing the image and CSV readers
    "da_sourcefree": "bench.da_sourcefree",  # issue 6: SHOT, AdaBN, TENT (source-free, test-time)
}


def main(argv: list[str]) -> int:
    names = list(SUITES) if not argv or argv == ["all"] else argv
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        print(f"unknown suite(s): {', '.join(unknown)}; choose from {', '.join(SUITES)}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        try:
            mod = importlib.import_module(SUITES[name])
        except ModuleNotFoundError as exc:
            print(f"[{name}] not available: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        print(f"[{name}] running {SUITES[name]}", flush=True)
        t0 = time.perf_counter()
        try:
            mod.main([])
        except SystemExit as exc:
            if exc.code not in (0, None):
                failed.append(name)
        print(f"[{name}] done in {time.perf_counter() - t0:.0f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
