"""Time to 99 % validation exact match on the zh task with the "cpu" preset, on 2 CPU threads.

    .venv/bin/python benchmarks/capstone_cpu.py                     # seed 0, 3-minute cap
    .venv/bin/python benchmarks/capstone_cpu.py --seeds 0 1 2 --cap-minutes 5

Trains with the preset unchanged (only the device, seed, time cap and the stopping rule are set),
evaluates the whole validation split (1000 numbers of 4–8 digits, never seen in training) every
--eval-interval steps, and stops at the first evaluation with exact match >= --target. The test
split and the stratified "hard" test split (also never seen in training) are scored once, at the
end, with the 0–99 numbers (which training does see). The
reported time-to-target counts training steps only; evaluation time is reported separately
(the wall time is their sum plus start-up). The machine's load average is printed alongside,
because other work on the same cores changes every time here.

On a machine other processes keep busy, OpenMP threads that spin while they wait steal the cores
their partner thread needs. Measured here (2 cores, cpu preset, one step): quiet machine, 86 ms
spinning (the default) vs 171 ms with OMP_WAIT_POLICY=PASSIVE; load average ~4, ~400 ms spinning
vs ~160 ms passive. So on a loaded machine run it as

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/capstone_cpu.py
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from course.training import preset, train_model


def load() -> str:
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


def run(seed: int, args: argparse.Namespace) -> dict:
    config = preset(args.preset, task="zh", device="cpu", seed=seed, minutes=args.cap_minutes,
                    target_exact=args.target, eval_interval=args.eval_interval, eval_size=None, progress=False,
                    **({"steps": args.steps} if args.steps else {}))

    def show(event) -> None:
        if event.kind == "eval":
            print(f"  seed {seed} step {event.step:5d}  train {event.seconds:6.1f} s  validation exact "
                  f"{100 * event.metrics.exact:6.2f}%  (load {load()})", flush=True)

    print(f"seed {seed}: {config}", flush=True)
    start = time.perf_counter()
    result = train_model(config, show)
    wall = time.perf_counter() - start
    test, hard, short = result.metrics["test"], result.metrics["hard"], result.metrics["short"]
    reached = result.reached_target_at
    print(f"seed {seed}: {'reached' if reached is not None else 'did NOT reach'} {100 * args.target:.0f}% exact"
          + (f" after {reached:.1f} s of training" if reached is not None else "")
          + f"; {result.steps} steps, {1000 * result.train_seconds / max(result.steps, 1):.0f} ms/step, "
            f"evaluation {result.eval_seconds:.1f} s, wall {wall:.1f} s, stopped by {result.stopped_by}")
    for split in (test, hard, short):
        print(f"  final {split.summary()}")
    for err in test.errors[:5]:
        print(f"    {err['source']:>8} → {err['predicted']} (expected {err['expected']})")
    return {"seed": seed, "reached": reached, "steps": result.steps, "exact": test.exact, "bleu": test.bleu,
            "hard": hard.exact, "short": short.exact, "wall": wall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cap-minutes", type=float, default=3.0, help="training-time cap per run")
    parser.add_argument("--target", type=float, default=0.99, help="validation exact-match fraction to reach")
    parser.add_argument("--eval-interval", type=int, default=100)
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--steps", type=int, help="override the preset's step count (the schedule's length)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args(argv)
    if args.threads < 1 or args.cap_minutes <= 0 or not 0 < args.target <= 1 or args.eval_interval < 1:
        parser.error("need --threads >= 1, --cap-minutes > 0, 0 < --target <= 1, --eval-interval >= 1")
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, OMP_WAIT_POLICY="
          f"{os.environ.get('OMP_WAIT_POLICY')}, {os.cpu_count()} cores visible, load average {load()}")
    rows = [run(seed, args) for seed in args.seeds]
    print("\nsummary (time to target = training seconds, evaluation excluded)")
    for r in rows:
        reached = f"{r['reached']:.1f} s" if r["reached"] is not None else "not reached"
        print(f"  seed {r['seed']}: {reached:>12}  steps {r['steps']:5d}  final exact {100 * r['exact']:.2f}%  "
              f"BLEU {r['bleu']:.2f}  hard {100 * r['hard']:.2f}%  0-99 (seen) {100 * r['short']:.1f}%  "
              f"wall {r['wall']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
