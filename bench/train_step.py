"""Training-step time: transferkit's Trainer vs a plain timm + PyTorch loop, same process.

Same model (EfficientNet-Lite0 at 224 px, new 2-class head), same batch (16 random images,
kept in memory so data loading is excluded), same optimiser (SGD, lr 1e-3, momentum 0.9,
Nesterov). For ``partial`` the first 4 of 9 block units are frozen (frozen BatchNorm in eval
mode) on both sides; ``full`` trains everything. After ``--warmup`` steps, ``--steps`` steps
are timed on each side; sides alternate over ``--rounds`` rounds and the median is kept.
Both sides run in this process with the same glibc allocator setting (transferkit's
``tune_allocator``, i.e. MALLOC_MMAP_MAX_=0 + large trim threshold) and the same threads.

Run: ``.venv/bin/python -m bench.train_step`` -> ``bench/results/train_step.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

K_PARTIAL = 4


def plain_timm(strategy, batches, warmup, steps):
    import timm
    import torch

    model = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=2)
    groups = [[model.conv_stem, model.bn1], *[[b] for b in model.blocks],
              [model.conv_head, model.bn2]]
    frozen = groups[:K_PARTIAL] if strategy == "partial" else []
    for g in frozen:
        for m in g:
            m.requires_grad_(False)
    model.train()
    for g in frozen:
        for m in g:
            for mm in m.modules():
                if isinstance(mm, torch.nn.BatchNorm2d):
                    mm.eval()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3,
                          momentum=0.9, nesterov=True)
    lossf = torch.nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(x), y)
        loss.backward()
        opt.step()

    for i in range(warmup):
        step(*batches[i % len(batches)])
    t0 = time.perf_counter()
    for i in range(steps):
        step(*batches[i % len(batches)])
    return (time.perf_counter() - t0) / steps


def trainer_side(strategy, batches, warmup, steps, precision):
    import torch

    from transferkit.train.model import new_classifier
    from transferkit.train.strategies import get_strategy
    from transferkit.train.strategies._finetune import make_optimizer_factory
    from transferkit.train.trainer import Trainer
    from transferkit.zoo import create_backbone

    bb = create_backbone("efficientnet_lite0", pretrained=False)
    model = new_classifier(bb, {"type": "linear", "in_features": 1280, "num_classes": 2})
    bb.freeze_blocks(K_PARTIAL if strategy == "partial" else 0)
    cfg = get_strategy(strategy).Config(lr=1e-3, body_lr_mult=1.0, weight_decay=0.0,
                                        optimizer="sgd", label_smoothing=0.0)
    t = Trainer(model, torch.nn.CrossEntropyLoss(), make_optimizer_factory(cfg), device="cpu",
                precision=precision, seed=0, keep_best=False)
    t.fit([batches[i % len(batches)] for i in range(warmup)], None, epochs=1)
    t.fit([batches[i % len(batches)] for i in range(steps)], None, epochs=1)
    return t.timings["train_s"] / steps


def _bf16() -> bool:
    from transferkit._runtime import cpu_bf16_native

    return cpu_bf16_native()


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "train_step.json"))
    args = ap.parse_args(argv)

    import torch

    from transferkit._runtime import tune_allocator

    allocator = tune_allocator()
    g = torch.Generator().manual_seed(0)
    batches = [(torch.randn(16, 3, 224, 224, generator=g), torch.randint(0, 2, (16,), generator=g))
               for _ in range(2)]
    res = {"model": "efficientnet_lite0 @224, 2-class head", "batch": 16, "steps": args.steps,
           "warmup": args.warmup, "rounds": args.rounds, "optimizer": "SGD lr 1e-3 m 0.9 nesterov",
           "threads": torch.get_num_threads(), "cpus": os.cpu_count(),
           "allocator_tuned_both_sides": allocator, "load_avg_start": os.getloadavg(),
           "partial_frozen_blocks": K_PARTIAL, "results": {},
           "fast_auto_means": "bf16 autocast + channels_last" if _bf16() else "fp32 + channels_last (no native bf16 on this CPU)"}
    for strategy in ("partial", "full"):
        times = {"plain_timm_fp32": [], "trainer_fp32": [], "trainer_fast_auto": []}
        for _ in range(args.rounds):
            times["plain_timm_fp32"].append(plain_timm(strategy, batches, args.warmup, args.steps))
            times["trainer_fp32"].append(trainer_side(strategy, batches, args.warmup, args.steps, "fp32"))
            times["trainer_fast_auto"].append(
                trainer_side(strategy, batches, args.warmup, args.steps, "auto"))
        med = {k: statistics.median(v) for k, v in times.items()}
        res["results"][strategy] = {
            "step_s": {k: round(v, 4) for k, v in med.items()},
            "all_step_s": {k: [round(x, 4) for x in v] for k, v in times.items()},
            "ratio_trainer_fp32_vs_plain": round(med["trainer_fp32"] / med["plain_timm_fp32"], 3),
            "ratio_fast_vs_plain": round(med["trainer_fast_auto"] / med["plain_timm_fp32"], 3),
        }
        print(strategy, json.dumps(res["results"][strategy]), flush=True)
    res["load_avg_end"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
