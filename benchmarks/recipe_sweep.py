"""Which change to the ``cpu`` recipe reaches 99 % sooner: a one-seed sweep, each candidate beside the preset.

    .venv/bin/python benchmarks/recipe_sweep.py                      # every candidate, seed 0
    .venv/bin/python benchmarks/recipe_sweep.py --only preset d96 --seeds 0 1

Each candidate is the current ``cpu`` preset with a few fields changed, trained on zh through
``course.training.train_model`` (the loop everyone uses) until the validation split reaches
--target exact match (evaluated every --eval-interval steps); the test splits are scored once at the
end. Steps to the target do not depend on the machine; the seconds do, so the table also gives each
candidate's step time relative to the preset's, measured in interleaved blocks of training steps in
the same run (the machine's load then touches both alike). Estimated time to target relative to the
preset = (steps ratio) × (step-time ratio). A candidate worth keeping is then confirmed on three
seeds against ``nn.Transformer`` by ``benchmarks/race_nn_transformer.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from race_nn_transformer import load, race, step_timer  # noqa: E402

from course.blocks import Seq2SeqTransformer  # noqa: E402
from course.training import PRESETS, TrainConfig  # noqa: E402


def _model(**changes):
    return PRESETS["cpu"].model.replace(**changes)


CANDIDATES: dict[str, dict] = {
    "preset": {},
    "lr3e-3": {"lr": 3e-3},
    "warmup50": {"warmup_steps": 50},
    "batch64": {"batch_size": 64},
    "d96": {"model": _model(d_model=96, d_ff=384)},
    "d64-lr3e-3": {"model": _model(d_model=64, d_ff=256), "lr": 3e-3},
    "post-ln": {"model": _model(norm_first=False)},
    "smooth0.1": {"label_smoothing": 0.1},
    "hard0.2": {"hard_fraction": 0.2},
    "steps400": {"steps": 400},
    # combinations of the single changes that helped on their own
    "b64-w50": {"batch_size": 64, "warmup_steps": 50},
    "b64-w50-lr3e-3": {"batch_size": 64, "warmup_steps": 50, "lr": 3e-3},
    "b64-w50-smooth0.1": {"batch_size": 64, "warmup_steps": 50, "label_smoothing": 0.1},
    "d64-w50-lr3e-3": {"model": _model(d_model=64, d_ff=256), "lr": 3e-3, "warmup_steps": 50},
    "d64-b64-w50-lr3e-3": {"model": _model(d_model=64, d_ff=256), "lr": 3e-3, "warmup_steps": 50, "batch_size": 64},
    "d64-lr3e-3-hard0.2": {"model": _model(d_model=64, d_ff=256), "lr": 3e-3, "hard_fraction": 0.2},
    "d64-w50-lr3e-3-hard0.2": {"model": _model(d_model=64, d_ff=256), "lr": 3e-3, "warmup_steps": 50,
                               "hard_fraction": 0.2},
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="+", choices=sorted(CANDIDATES), help="candidates to run (default: all)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--target", type=float, default=0.99)
    p.add_argument("--eval-interval", type=int, default=25)
    p.add_argument("--cap-minutes", type=float, default=4.0)
    p.add_argument("--pairs", type=int, default=4, help="interleaved timing blocks per candidate (0: skip)")
    p.add_argument("--block", type=int, default=5)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    names = args.only or list(CANDIDATES)
    configs: dict[str, TrainConfig] = {n: PRESETS["cpu"].replace(**CANDIDATES[n]) for n in names}
    print(f"recipe sweep on zh, {args.threads} threads, load {load()}; target {args.target:.0%} on valid", flush=True)
    rows = {n: [race(n, configs[n], Seq2SeqTransformer,
                     seed, args) for seed in args.seeds] for n in names}
    ratio = {n: 1.0 for n in names}
    if args.pairs:
        preset = step_timer(PRESETS["cpu"], Seq2SeqTransformer, 0)
        for n in names:
            if n == "preset":
                continue
            other = step_timer(configs[n], Seq2SeqTransformer, 0)
            preset(2), other(2)  # warm up
            pairs = [(other(args.block), preset(args.block)) for _ in range(args.pairs)]
            ratio[n] = statistics.median(a / b for a, b in pairs)
    base = statistics.median(r["steps"] or float("inf") for r in rows.get("preset", [])) if "preset" in rows else None
    print(f"\n{'candidate':16s} {'steps to target':>16s} {'step time ÷ preset':>19s} {'time ÷ preset':>14s}  "
          f"{'test':>7s} {'hard':>7s} {'0-99':>5s}")
    for n in names:
        steps = statistics.median(r["steps"] or float("inf") for r in rows[n])
        known = base not in (None, float("inf")) and steps != float("inf")
        est = f"{steps / base * ratio[n]:.2f}" if known else "-"
        test = min(r["test"] for r in rows[n])
        hard = min(r["hard"] for r in rows[n])
        short = min(r["short"] for r in rows[n])
        print(f"{n:16s} {steps:>16} {ratio[n]:>19.2f} {est:>14s}  {100 * test:6.2f}% {100 * hard:6.2f}% "
              f"{100 * short:4.0f}%")
    print(f"(load at the end {load()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
