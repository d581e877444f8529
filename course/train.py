"""Command line for training the capstone model: ``python -m course.train --help``.

Examples::

    python -m course.train --task zh --preset cpu                 # the small CPU recipe
    python -m course.train --task en --steps 500 --checkpoint runs/en.pt
    python -m course.train --task en --steps 1000 --checkpoint runs/en.pt --resume
    torchrun --nproc_per_node=2 -m course.train --task zh --preset gpu   # DDP, one process per GPU (gloo on CPU)
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import re
import sys
from pathlib import Path

import torch

from course.blocks import ModelConfig, Seq2SeqTransformer
from course.tasks import TASK_NAMES
from course.training import (
    PRESETS,
    DistInfo,
    TrainConfig,
    load_checkpoint,
    make_task,
    preset,
    step_generator,
    train_model,
)

_TYPES = {"int": int, "float": float, "str": str}


def add_model_flags(p: argparse.ArgumentParser, defaults: str = "the preset's") -> None:
    """One flag per ModelConfig field (``--d-model``, ``--n-heads``, ..., ``--tie-output/--no-tie-output``),
    its type, choices and help taken from the field; the value lands under the field's own name. The trainer
    and the benchmarks declare their model flags here and nowhere else."""
    group = p.add_argument_group(f"model (ModelConfig fields; default: {defaults})")
    for f in dataclasses.fields(ModelConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.type == "bool":
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None,
                               help=f.metadata["help"])
        else:
            group.add_argument(flag, dest=f.name, type=_TYPES[f.type], choices=f.metadata.get("choices"),
                               help=f.metadata["help"])
    group.add_argument("--layers", type=int, help="shortcut: this many encoder layers and as many decoder layers")


def model_changes(args: argparse.Namespace) -> dict:
    """The ModelConfig fields the model flags set (``--layers`` sets both stacks); unset flags are left out."""
    changes = {f.name: getattr(args, f.name) for f in dataclasses.fields(ModelConfig)
               if getattr(args, f.name) is not None}
    if args.layers is not None:
        changes["n_encoder_layers"] = changes["n_decoder_layers"] = args.layers
    return changes


def in_flags(message: str, parser: argparse.ArgumentParser) -> str:
    """A configuration error in the command line's words: each field name that a flag sets becomes the flag
    (``n_heads`` -> ``--n-heads``)."""
    flags = {a.dest: a.option_strings[0] for a in parser._actions if a.option_strings and a.dest != "help"}
    return re.sub(r"\b\w+\b", lambda m: flags.get(m.group(), m.group()), message)


def model_config(args: argparse.Namespace, parser: argparse.ArgumentParser, base: ModelConfig) -> ModelConfig:
    """``base`` with the model flags given on the command line, validated; a bad value ends in ``parser.error``."""
    try:
        return base.replace(**model_changes(args)).validate()
    except ValueError as err:
        parser.error(in_flags(str(err), parser))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m course.train",
                                description="Train the course's encoder-decoder Transformer on a generated task "
                                            "and print its held-out scores.")
    p.add_argument("--task", choices=TASK_NAMES, default="zh", help="what to translate the digit string into")
    p.add_argument("--preset", choices=sorted(PRESETS), default=None,
                   help="starting configuration (default: cpu, or gpu when --device is cuda)")
    add_model_flags(p)
    # training flags: dest is the TrainConfig field each one sets
    p.add_argument("--steps", type=int, help="optimizer steps (the learning-rate schedule spans them)")
    p.add_argument("--minutes", type=float, help="stop after this much training time")
    p.add_argument("--batch-size", type=int, help="sequences per step (per process under torchrun)")
    p.add_argument("--lr", type=float, help="peak learning rate")
    p.add_argument("--warmup", dest="warmup_steps", type=int, help="warm-up steps")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--checkpoint", metavar="PATH", help="where to save (and, with --resume, load) the training state")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    p.add_argument("--seed", type=int, help="seed for weights, data and dropout")
    p.add_argument("--eval-interval", type=int, help="evaluate and checkpoint every N steps (0: only at the end)")
    p.add_argument("--target-exact", type=float,
                   help="stop once exact match on the validation split (never the test splits) reaches this fraction")
    p.add_argument("--student-notebooks", metavar="DIR",
                   help="build the model from your own notebooks in DIR (05-attention/05-attention.ipynb, ... "
                        "08-transformer/...) and train it with your smoothed_cross_entropy; pieces that are "
                        "missing or fail their visible tests are the course's (a table says which)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", metavar="PATH", help="also write the final metrics as JSON here")
    p.add_argument("--digest-dir", metavar="DIR", help=argparse.SUPPRESS)  # each rank writes a parameter digest (tests)
    return p


def config_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> TrainConfig:
    """The TrainConfig the arguments ask for; argument mistakes end in ``parser.error``."""
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: PyTorch sees no CUDA GPU on this machine (use --device cpu or auto)")
    name = args.preset or ("gpu" if args.device == "cuda" else "cpu")
    changes = {"task": args.task, "device": args.device, "progress": not args.no_progress}
    train_fields = {f.name for f in dataclasses.fields(TrainConfig)} - {"task", "device", "progress", "resume", "model"}
    changes.update({dest: value for dest, value in vars(args).items() if value is not None and dest in train_fields})
    changes.update(model_changes(args))
    if args.resume:
        if not args.checkpoint:
            parser.error("--resume needs --checkpoint PATH")
        if not Path(args.checkpoint).is_file():
            parser.error(f"--resume: there is no checkpoint file at {args.checkpoint}")
        changes["resume"] = True
    try:
        config = preset(name, **changes).validate()  # every field checked once, here
    except ValueError as err:
        parser.error(in_flags(str(err), parser))
    if config.resume:
        try:
            load_checkpoint(config.checkpoint, config)  # same task and model shape?
        except ValueError as err:
            parser.error(str(err))
    return config


def write_digest(directory: str, model: torch.nn.Module, config: TrainConfig, steps: int, info: DistInfo) -> None:
    """One JSON file per rank: a hash of every parameter's bytes and a hash of the rank's first batch."""
    sha = hashlib.sha256()
    total = 0.0
    for name, p in sorted(model.state_dict().items()):
        data = p.detach().cpu().contiguous()
        sha.update(name.encode())
        sha.update(data.numpy().tobytes())
        total += float(data.double().sum())
    first = make_task(config).sample(config.batch_size, step_generator(config.seed, info.rank, 0))
    digest = {"rank": info.rank, "world_size": info.world_size, "steps": steps, "param_sha256": sha.hexdigest(),
              "param_sum": total, "first_batch_sha256": hashlib.sha256("|".join(first).encode()).hexdigest()}
    Path(directory).mkdir(parents=True, exist_ok=True)
    (Path(directory) / f"rank{info.rank}.json").write_text(json.dumps(digest, indent=1))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    config = config_from_args(args, parser)
    info = DistInfo.from_env()
    model_class, loss_fn = Seq2SeqTransformer, None
    if args.student_notebooks:
        from course.student_code import StudentCodeError, build_student_model
        try:
            build = build_student_model(args.student_notebooks, config)
        except StudentCodeError as err:
            parser.error(f"--student-notebooks: {err}")
        if info.is_main:
            print(build.report())
        model_class, loss_fn = build.model_class, build.loss_fn
    result = train_model(config, model_class=model_class, loss_fn=loss_fn)
    if args.digest_dir:
        write_digest(args.digest_dir, result.model, config, result.steps, info)
    if not info.is_main:
        return 0
    print(f"task {config.task}: {result.steps} steps in {result.train_seconds:.1f} s of training "
          f"(+{result.eval_seconds:.1f} s evaluating), {info.world_size} process(es), stopped by {result.stopped_by}")
    for split in result.metrics.values():  # valid, test, hard (stratified test), short (seen in training)
        print(split.summary())
    for err in result.metrics["test"].errors[:5]:
        print(f"  {err['source']:>8} → {err['predicted']!r} (expected {err['expected']!r})")
    if args.json:
        out = {"steps": result.steps, "train_seconds": result.train_seconds, "stopped_by": result.stopped_by,
               "reached_target_at": result.reached_target_at,
               **{name: split.as_dict() for name, split in result.metrics.items()}}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=1))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
