"""The student's own model (chapters 05–07 and 08, built by course.student_code) against the course's
reference model, trained with the same CPU recipe in the same run.

Measures, on the machine it runs on (report ratios: a shared machine is noisy):

* ms per training step of both models, interleaved (same batches, same recipe);
* seconds of training until the VALIDATION exact match first reaches 99 %, then the final test and
  hard scores, for both models (issue 19: the student's model within 90 s on 2 cores);
* optionally (``--smoothing``) the steps to 99 % of the reference model with label smoothing 0.1 vs 0.

    .venv/bin/python benchmarks/student_model.py --notebooks solutions --threads 2
    .venv/bin/python benchmarks/student_model.py --device cuda --notebooks solutions

The student's notebooks default to solutions/ (the instructor's answers, i.e. a student who solved
chapters 05–08). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from course import training
from course.blocks import Seq2SeqTransformer
from course.student_code import build_student_model

ROOT = Path(__file__).resolve().parent.parent


def _train(config: training.TrainConfig, model_class: type, loss=None) -> training.TrainResult:
    return training.train_model(config, model_class=model_class, loss_fn=loss)


def step_times(config: training.TrainConfig, classes: dict[str, tuple[type, object]], steps: int,
               rounds: int) -> dict[str, float]:
    """Median ms/step of each model over ``rounds`` interleaved runs of ``steps`` steps (no evaluation)."""
    timing = config.replace(steps=steps, warmup_steps=min(config.warmup_steps, steps // 2), eval_interval=0,
                            target_exact=None, progress=False, valid_size=20, test_size=20)
    out: dict[str, list[float]] = {name: [] for name in classes}
    for _ in range(rounds):
        for name, (cls, loss) in classes.items():
            r = _train(timing, cls, loss)
            out[name].append(1000 * r.train_seconds / r.steps)
    return {name: sorted(v)[len(v) // 2] for name, v in out.items()}


def to_target(config: training.TrainConfig, cls: type, loss) -> dict:
    r = _train(config.replace(target_exact=0.99, eval_interval=50, eval_size=None, progress=False), cls, loss)
    return {"steps": r.steps, "train_seconds": round(r.train_seconds, 1),
            "reached_99_at_s": None if r.reached_target_at is None else round(r.reached_target_at, 1),
            "stopped_by": r.stopped_by, "ms_per_step": round(1000 * r.train_seconds / r.steps, 1),
            **{f"{k}_exact": round(100 * m.exact, 2) for k, m in r.metrics.items()}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--notebooks", default=str(ROOT / "solutions"), help="folder with 05-attention/ ... 08-transformer/")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (the course's machines have 2 cores)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    p.add_argument("--timing-steps", type=int, default=30)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-target", action="store_true", help="only the ms/step comparison")
    p.add_argument("--smoothing", action="store_true", help="also: steps to 99 %% with label smoothing 0.1 vs 0")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    config = training.preset("cpu", device=args.device, seed=args.seed)
    t0 = time.perf_counter()
    build = build_student_model(args.notebooks, config)
    built_s = time.perf_counter() - t0
    classes = {"reference": (Seq2SeqTransformer, None), "student": (build.model_class, build.loss_fn)}
    report: dict = {"notebooks": args.notebooks, "threads": args.threads, "device": args.device,
                    "pieces_yours": build.yours, "pieces_course": build.fallbacks, "build_seconds": round(built_s, 1),
                    "config": {"steps": config.steps, "batch_size": config.batch_size, "lr": config.lr,
                               **config.model.kwargs()}}
    ms = step_times(config, classes, args.timing_steps, args.rounds)
    report["ms_per_step"] = {k: round(v, 1) for k, v in ms.items()}
    report["student_over_reference"] = round(ms["student"] / ms["reference"], 3)
    if not args.skip_target:
        report["to_99"] = {name: to_target(config, cls, loss) for name, (cls, loss) in classes.items()}
    if args.smoothing:
        report["label_smoothing_steps_to_99"] = {
            str(eps): to_target(config.replace(label_smoothing=eps), Seq2SeqTransformer, None)
            for eps in (0.0, 0.1)}
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
