"""Time to 99 % exact match: the course's model against ``nn.Transformer``, both with the same recipe.

    .venv/bin/python benchmarks/race_nn_transformer.py                      # seeds 0 1 2, 2 threads
    .venv/bin/python benchmarks/race_nn_transformer.py --seeds 0 --recipe baseline   # both on the old preset

Both contestants go through the very same loop (``course.training.train_model``) with the very same
``TrainConfig``: the same sizes, batches for a seed, loss, optimizer, learning rate, schedule, hard-case
draws, evaluation and stopping rule. They differ only in the model class:

* **nn.Transformer** (``vs_nn_transformer.TorchSeq2Seq``: torch's own layers and initialisation, plus
  the one line a user would copy from the course, embeddings with std 1/√d_model);
* **the course** - ``Seq2SeqTransformer``.

Every recipe choice either side can take is given to both: ``--recipe preset`` (the default) is the
current ``cpu`` preset, ``--recipe baseline`` the former one (:data:`REFERENCE`: d_model 128, lr 2e-3).
An earlier version of this script gave nn.Transformer the former recipe and the course the current one,
which is not a comparison of the two models.

Each run stops at the first evaluation of the validation split (every --eval-interval steps) that
reaches --target exact match; the test splits (``test``, the stratified ``hard``) and the 0–99 check
are scored once, at the end. Steps to the target do not depend on the machine; seconds do, and on
a shared machine they swing with the load. So, besides each run's own training seconds, the two
step times are measured again in interleaved blocks (--pairs, the same batches for both), and the
headline ratio is (steps ratio) × (interleaved step-time ratio), which other work on the machine
touches far less than two runs timed minutes apart.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vs_nn_transformer import TorchSeq2Seq  # noqa: E402

from course.blocks import ModelConfig, Seq2SeqTransformer  # noqa: E402
from course.tokenizer import PAD  # noqa: E402
from course.training import (  # noqa: E402
    PRESETS,
    TrainConfig,
    build_model,
    make_optimizer,
    make_task,
    step_batches,
    step_generator,
    train_model,
    train_step,
)

# the course's cpu preset before issue 22 (--recipe baseline, for both contestants)
REFERENCE = TrainConfig(model=ModelConfig(d_model=128, n_heads=4, n_encoder_layers=2, n_decoder_layers=2, d_ff=512,
                                          dropout=0.0),
                        batch_size=128, length_buckets=3, steps=600, lr=2e-3, warmup_steps=100, decay="cosine")


def load() -> str:
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


def race(name: str, config: TrainConfig, model_class: type, seed: int, args: argparse.Namespace) -> dict:
    config = config.replace(task="zh", device="cpu", seed=seed, target_exact=args.target,
                            eval_interval=args.eval_interval, eval_size=None, progress=False, checkpoint=None,
                            minutes=args.cap_minutes)
    reached: dict = {}

    def watch(event) -> None:
        if event.kind in ("eval", "end") and "step" not in reached and event.metrics.exact >= args.target:
            reached.update(step=event.step, seconds=event.seconds)

    start = time.perf_counter()
    result = train_model(config, watch, model_class=model_class)
    m = result.metrics
    row = {"name": name, "seed": seed, "steps": reached.get("step"), "seconds": reached.get("seconds"),
           "ms_step": 1000 * result.train_seconds / max(result.steps, 1), "test": m["test"].exact,
           "hard": m["hard"].exact, "short": m["short"].exact, "valid": m["valid"].exact,
           "wall": time.perf_counter() - start}
    shown = f"{row['steps']} steps, {row['seconds']:.1f} s" if row["steps"] else f"NOT reached in {result.steps}"
    print(f"  seed {seed} {name:14s} {args.target:.0%} valid at {shown}; {row['ms_step']:.0f} ms/step; "
          f"test {100 * row['test']:.2f}%  hard {100 * row['hard']:.2f}%  0-99 {100 * row['short']:.0f}%  "
          f"(load {load()})", flush=True)
    return row


def step_timer(config: TrainConfig, model_class: type, seed: int):
    """A function that runs ``n`` of the loop's own training steps and returns seconds per step."""
    torch.manual_seed(seed)
    task = make_task(config.replace(test_size=10, valid_size=10))
    model = build_model(config, task, model_class)
    optimizer = make_optimizer(model, config, torch.device("cpu"))
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD, reduction="sum")
    state = {"step": 0}

    def run(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            pieces = step_batches(task, config, step_generator(seed, 0, state["step"]))
            train_step(model, pieces, optimizer, loss_fn, config.clip)
            state["step"] += 1
        return (time.perf_counter() - t0) / n

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--target", type=float, default=0.99, help="validation exact match to reach")
    parser.add_argument("--eval-interval", type=int, default=25)
    parser.add_argument("--cap-minutes", type=float, default=10.0, help="training-time cap per run")
    parser.add_argument("--recipe", choices=("preset", "baseline"), default="preset",
                        help="the current cpu preset, or the former one (REFERENCE); the same for both contestants")
    parser.add_argument("--pairs", type=int, default=8, help="interleaved timing blocks (0: skip)")
    parser.add_argument("--block", type=int, default=5, help="steps per timing block")
    parser.add_argument("--skip-torch", action="store_true", help="train only the course model (exploring)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    recipe = PRESETS["cpu"] if args.recipe == "preset" else REFERENCE
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, OMP_WAIT_POLICY="
          f"{os.environ.get('OMP_WAIT_POLICY')}, load average {load()}")
    print(f"recipe of both contestants ({args.recipe}): {recipe}", flush=True)
    rows: dict[str, list[dict]] = {"nn.Transformer": [], "course": []}
    for i, seed in enumerate(args.seeds):  # alternate who goes first, so a drift in load hits both
        order = [("course", recipe, Seq2SeqTransformer), ("nn.Transformer", recipe, TorchSeq2Seq)]
        if i % 2:
            order.reverse()
        for name, config, cls in order:
            if name == "nn.Transformer" and args.skip_torch:
                continue
            rows[name].append(race(name, config, cls, seed, args))
    step_ratio = None
    if args.pairs and not args.skip_torch:
        ours, theirs = step_timer(recipe, Seq2SeqTransformer, 0), step_timer(recipe, TorchSeq2Seq, 0)
        ours(2), theirs(2)  # warm-up
        pairs = [(ours(args.block), theirs(args.block)) for _ in range(args.pairs)]
        step_ratio = statistics.median(a / b for a, b in pairs)
        print(f"\ninterleaved step time ({args.pairs} pairs of {args.block} steps): course "
              f"{1000 * statistics.median(a for a, _ in pairs):.0f} ms, nn.Transformer "
              f"{1000 * statistics.median(b for _, b in pairs):.0f} ms, ratio {step_ratio:.3f}")
    print("\nseed  contestant       steps to target  s to target  ms/step   test    hard   0-99")
    for name, table in rows.items():
        for r in table:
            steps = f"{r['steps']}" if r["steps"] else "-"
            secs = f"{r['seconds']:.1f}" if r["seconds"] else "-"
            print(f"{r['seed']:4d}  {name:15s}  {steps:>15s}  {secs:>11s}  {r['ms_step']:7.0f}  "
                  f"{100 * r['test']:6.2f}  {100 * r['hard']:6.2f}  {100 * r['short']:5.1f}")
    if args.skip_torch:
        return 0
    per_seed = []
    for a, b in zip(rows["course"], rows["nn.Transformer"]):
        if a["steps"] and b["steps"]:
            per_seed.append((a["steps"] / b["steps"], a["seconds"] / b["seconds"]))
            print(f"seed {a['seed']}: steps ratio course/torch {per_seed[-1][0]:.3f}, "
                  f"measured time-to-target ratio {per_seed[-1][1]:.3f}")
    if per_seed:
        med = lambda key: statistics.median(r[key] for r in rows["course"] if r[key])  # noqa: E731
        med_t = lambda key: statistics.median(r[key] for r in rows["nn.Transformer"] if r[key])  # noqa: E731
        print(f"medians: course {med('steps'):.0f} steps / {med('seconds'):.1f} s, nn.Transformer "
              f"{med_t('steps'):.0f} steps / {med_t('seconds'):.1f} s")
        steps_ratio = statistics.median(r[0] for r in per_seed)
        print(f"median steps ratio {steps_ratio:.3f}; median measured time ratio "
              f"{statistics.median(r[1] for r in per_seed):.3f}"
              + (f"; steps ratio × interleaved step-time ratio = {steps_ratio * step_ratio:.3f}" if step_ratio else "")
              + "   (goal <= 0.5)")
    worst = min(min(r["test"], r["short"]) for r in rows["course"])
    print(f"course, worst of test / 0-99 over the seeds: {100 * worst:.2f}%   (goal >= 99 %)")
    if rows.get("nn.Transformer"):  # the second held-out set, drawn differently: no accuracy lost against torch's
        hard = {name: statistics.median(r["hard"] for r in rows[name]) for name in ("course", "nn.Transformer")}
        print(f"stratified hard split, median over the seeds: course {100 * hard['course']:.2f}%, nn.Transformer "
              f"{100 * hard['nn.Transformer']:.2f}%   (goal: the course not lower)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
