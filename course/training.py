"""Training the reference model on a generated task: config, presets, the loop, checkpoints, DDP.

Design points (the reasons are not obvious from the code):

* The batch of step s on rank r comes from a generator seeded with (seed, r, s). Resuming and
  DDP therefore need no data-generator bookkeeping, and every rank draws different batches.
* Dropout uses torch's global RNG; its state (one per rank) is saved in the checkpoint, so a run
  that stops and resumes gives the same parameters as one that never stopped.
* The learning-rate schedule is laid out over ``steps``; ``minutes`` only caps wall-clock time.
* Every decision taken while training (early stopping, what the live plot shows) looks at the
  validation split only; the test splits ("test", "hard") are scored once, at the end.
* Under ``torchrun`` (WORLD_SIZE > 1) the model is wrapped in DistributedDataParallel (gloo on
  CPU, nccl on CUDA); only rank 0 shows progress, evaluates, calls callbacks and saves.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from course.blocks import ModelConfig, Seq2SeqTransformer
from course.evaluation import EvalResult, evaluate, unwrap
from course.language import pick
from course.tasks import SPLITS, TASK_NAMES, Batch, Task
from course.tokenizer import PAD

DECAYS = ("constant", "linear", "cosine", "inverse_sqrt")
CHECKPOINT_FORMAT = 2
_MODEL_FIELDS = frozenset(f.name for f in dataclasses.fields(ModelConfig))


@dataclass
class TrainConfig:
    """Everything a training run depends on. Check a config with :meth:`validate`."""

    task: str = "zh"
    model: ModelConfig = field(default_factory=ModelConfig)
    # data
    batch_size: int = 128
    length_buckets: int = 1  # split each batch by source length into this many padded pieces (less padding)
    zero_prob: float = 0.1  # chance of a 0 for each non-leading training digit (0.1 = uniform)
    digit_weights: tuple[float, ...] | None = None  # relative weights of training digit counts 1..8 (None = uniform)
    hard_fraction: float = 0.0  # share of each training batch drawn like the stratified "hard" split (new numbers)
    test_size: int = 1000
    valid_size: int = 1000  # the validation split (early stopping, periodic evaluations)
    hard_size: int = 1000  # the stratified hard test split (scored once, at the end)
    # optimisation
    steps: int = 3000
    minutes: float | None = None  # wall-clock cap on top of ``steps``
    lr: float = 1e-3
    warmup_steps: int = 200
    decay: str = "cosine"
    min_lr_ratio: float = 0.0  # the decayed rate at the last step, as a fraction of lr
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.98)
    label_smoothing: float = 0.0
    clip: float | None = 1.0
    seed: int = 0
    # machine
    device: str = "auto"
    bf16: bool = True  # bf16 autocast, used on CUDA only
    # bookkeeping
    checkpoint: str | None = None
    resume: bool = False
    eval_interval: int = 500  # evaluate (and save a checkpoint) every this many steps; 0 = only at the end
    eval_size: int | None = None  # how many validation sources the periodic evaluations use (None = all)
    target_exact: float | None = None  # stop once a periodic evaluation's VALIDATION exact match reaches this
    log_interval: int = 10
    progress: bool = True

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes``; ModelConfig field names (``d_model=64``) go into ``.model``."""
        mine = {f.name for f in dataclasses.fields(self)}
        model = {k: changes.pop(k) for k in list(changes) if k in _MODEL_FIELDS and k not in mine}
        unknown = set(changes) - mine
        if unknown:
            raise ValueError(f"unknown TrainConfig field(s): {', '.join(sorted(unknown))}")
        if model:
            changes["model"] = changes.get("model", self.model).replace(**model)
        return dataclasses.replace(self, **changes)

    def validate(self) -> TrainConfig:
        """Raise ValueError naming the first bad field; return self when all is well."""
        def positive_int(name):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")

        if not isinstance(self.model, ModelConfig):
            raise ValueError(f"model must be a ModelConfig, got {type(self.model).__name__}")
        self.model.validate()
        if self.task not in TASK_NAMES:
            raise ValueError(f"task must be one of {TASK_NAMES}, got {self.task!r}")
        for name in ("batch_size", "steps", "test_size", "valid_size", "hard_size", "log_interval", "length_buckets"):
            positive_int(name)
        if self.length_buckets > self.batch_size:
            raise ValueError(f"length_buckets ({self.length_buckets}) cannot exceed batch_size ({self.batch_size})")
        if self.decay not in DECAYS:
            raise ValueError(f"decay must be one of {DECAYS}, got {self.decay!r}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {self.device!r}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must lie in [0, 1), got {self.label_smoothing}")
        if not 0.0 <= self.zero_prob < 1.0:
            raise ValueError(f"zero_prob must lie in [0, 1), got {self.zero_prob}")
        if not 0.0 <= self.hard_fraction <= 1.0:
            raise ValueError(f"hard_fraction must lie in [0, 1], got {self.hard_fraction}")
        if self.digit_weights is not None and (len(self.digit_weights) != 8 or min(self.digit_weights) < 0
                                               or not sum(self.digit_weights) > 0):
            raise ValueError(f"digit_weights must be 8 weights >= 0, not all 0 (digit counts 1..8), "
                             f"got {self.digit_weights!r}")
        if not self.lr > 0 or self.weight_decay < 0 or not 0.0 <= self.min_lr_ratio <= 1.0:
            raise ValueError("need lr > 0, weight_decay >= 0 and 0 <= min_lr_ratio <= 1")
        if isinstance(self.warmup_steps, bool) or not isinstance(self.warmup_steps, int) or self.warmup_steps < 0:
            raise ValueError(f"warmup_steps must be an int >= 0, got {self.warmup_steps!r}")
        if self.clip is not None and not self.clip > 0:
            raise ValueError(f"clip must be positive or None, got {self.clip}")
        if self.minutes is not None and not self.minutes > 0:
            raise ValueError(f"minutes must be positive or None, got {self.minutes}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an int >= 0, got {self.seed!r}")
        if not isinstance(self.eval_interval, int) or self.eval_interval < 0:
            raise ValueError(f"eval_interval must be an int >= 0, got {self.eval_interval!r}")
        if self.eval_size is not None and not 1 <= self.eval_size <= self.valid_size:
            raise ValueError(f"eval_size must be None or in 1..valid_size ({self.valid_size}), got {self.eval_size}")
        if self.target_exact is not None and not 0.0 < self.target_exact <= 1.0:
            raise ValueError(f"target_exact is a fraction in (0, 1], got {self.target_exact}")
        if self.resume and not self.checkpoint:
            raise ValueError("resume=True needs a checkpoint path")
        return self


PRESETS: dict[str, TrainConfig] = {
    # Small enough for 2 CPU cores. Chosen by benchmarks/recipe_sweep.py (2026-12-03): against the former
    # recipe (d_model 128, d_ff 512, lr 2e-3, no hard draws; seed 0 ended at 98.2 % validation exact match
    # after 600 steps, 78 % on the stratified hard split), width 64 halves the step time, lr 3e-3 suits the
    # narrower model, and drawing a fifth of each batch like the hard split (new numbers, never a held-out
    # one) lifts the hard cases: 99 % validation exact match after 275-300 steps on seeds 0-2, 15-21 s of
    # training, hard split 93.6-98.5 %. No dropout: the data is endless, so there is nothing to overfit;
    # length buckets cut the padding work by about a quarter without changing the gradient.
    "cpu": TrainConfig(model=ModelConfig(d_model=64, n_heads=4, n_encoder_layers=2, n_decoder_layers=2, d_ff=256,
                                         dropout=0.0),
                       batch_size=128, length_buckets=3, hard_fraction=0.2, steps=600, lr=3e-3, warmup_steps=100,
                       decay="cosine", device="auto"),
    # The paper's base width, for one or more GPUs with bf16 autocast (batch_size is per process).
    "gpu": TrainConfig(model=ModelConfig(d_model=512, n_heads=8, n_encoder_layers=3, n_decoder_layers=3, d_ff=2048,
                                         dropout=0.0),
                       batch_size=512, steps=2000, lr=7e-4, warmup_steps=200, decay="cosine", device="auto",
                       eval_interval=500),
}


def preset(name: str, **changes: Any) -> TrainConfig:
    """A named preset ("cpu" or "gpu") with some fields changed."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name].replace(**changes)


def lr_factor(config: TrainConfig) -> Callable[[int], float]:
    """The multiplier of ``lr`` after ``step`` optimizer steps: linear warm-up, then the chosen decay."""
    warm, total, floor = config.warmup_steps, config.steps, config.min_lr_ratio

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        if config.decay == "constant":
            return 1.0
        if config.decay == "inverse_sqrt":
            return math.sqrt(max(warm, 1) / (step + 1))
        progress = min(1.0, (step - warm) / max(1, total - warm))
        shape = 1.0 - progress if config.decay == "linear" else 0.5 * (1.0 + math.cos(math.pi * progress))
        return floor + (1.0 - floor) * shape

    return factor


# ---------------------------------------------------------------------------- machine and processes

@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls) -> DistInfo:
        """Read torchrun's RANK / WORLD_SIZE / LOCAL_RANK (a plain run is rank 0 of 1)."""
        try:
            world = int(os.environ.get("WORLD_SIZE", "1"))
            rank = int(os.environ.get("RANK", "0"))
            local = int(os.environ.get("LOCAL_RANK", str(rank)))
        except ValueError as err:
            raise ValueError(f"RANK/WORLD_SIZE/LOCAL_RANK must be integers: {err}") from None
        return cls(rank, world, local)


def resolve_device(name: str, info: DistInfo = DistInfo()) -> torch.device:
    """"auto" → CUDA when present; under DDP each process takes the GPU of its LOCAL_RANK."""
    if name not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for, but PyTorch sees no CUDA GPU here; use 'cpu' or 'auto'")
    if name == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda", info.local_rank % torch.cuda.device_count())


def step_generator(seed: int, rank: int, step: int) -> torch.Generator:
    """The generator that draws the batch of ``step`` on ``rank``: a pure function of the three."""
    state = np.random.SeedSequence([seed, rank, step]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state) & (2 ** 63 - 1))


def build_model(config: TrainConfig, task: Task, model_class: type = Seq2SeqTransformer) -> nn.Module:
    """``model_class`` (the reference model, or a student's class with the same keyword constructor)
    for ``task``: ``model_class(src_vocab, tgt_vocab, **config.model.kwargs())``."""
    return model_class(len(task.source_tokenizer), len(task.target_tokenizer), **config.model.kwargs())


def make_task(config: TrainConfig) -> Task:
    """The task (with its splits) that ``config`` trains on."""
    return Task(config.task, test_size=config.test_size, valid_size=config.valid_size, hard_size=config.hard_size,
                zero_prob=config.zero_prob, digit_weights=config.digit_weights, hard_fraction=config.hard_fraction)


def make_optimizer(model: nn.Module, config: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    """AdamW; weight decay on matrices only (not on biases and LayerNorm parameters)."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": rest, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=tuple(config.betas), fused=device.type == "cuda")


def step_batches(task: Task, config: TrainConfig, generator: torch.Generator) -> list[Batch]:
    """One step's training sources, sorted by length and cut into ``length_buckets`` padded pieces.

    The pieces hold the same sequences as one batch would; each is padded only to its own longest
    sequence, which saves the work spent on padding (targets vary from 2 to 17 tokens).
    """
    sources = task.sample(config.batch_size, generator)
    if config.length_buckets == 1:
        return [task.make_batch(sources)]
    sources = sorted(sources, key=len)
    cuts = np.linspace(0, len(sources), config.length_buckets + 1).round().astype(int)
    return [task.make_batch(sources[a:b]) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]


def train_step(net: nn.Module, pieces: list[Batch], optimizer: torch.optim.Optimizer, loss_fn: nn.Module,
               clip: float | None, autocast=None, device: torch.device | str = "cpu") -> torch.Tensor:
    """One optimizer step on one step's pieces (:func:`step_batches`): forward, backward, clip, update.

    ``loss_fn`` sums over tokens; each piece's sum is divided by the token count of the whole step,
    so the gradient is that of one padded batch. ``net`` may be a DistributedDataParallel wrapper
    (gradients are averaged once, after the last piece). Returns the step's mean token loss (detached).
    """
    tokens = sum(int((b.tgt_out != PAD).sum()) for b in pieces)  # counted on the CPU: no device sync
    pieces = [b.to(device) for b in pieces]
    ddp = isinstance(net, nn.parallel.DistributedDataParallel)
    autocast = contextlib.nullcontext() if autocast is None else autocast
    optimizer.zero_grad(set_to_none=True)
    loss = torch.zeros((), device=device)
    for i, b in enumerate(pieces):
        sync = net.no_sync() if ddp and i < len(pieces) - 1 else contextlib.nullcontext()
        with sync:
            with autocast:
                logits = net(b.src, b.src_lengths, b.tgt_in)  # (piece, tgt_len, vocab)
            piece_loss = loss_fn(logits.float().flatten(0, 1), b.tgt_out.flatten()) / tokens
            piece_loss.backward()
        loss += piece_loss.detach()
    if clip is not None:
        nn.utils.clip_grad_norm_(unwrap(net).parameters(), clip)
    optimizer.step()
    return loss


# ---------------------------------------------------------------------------- results and events

@dataclass
class TrainEvent:
    """What callbacks receive. ``kind`` is "step" (every log_interval steps), "eval" or "end"."""

    kind: str
    step: int
    loss: float | None
    lr: float
    seconds: float  # training time so far (evaluations excluded)
    metrics: EvalResult | None = None


@dataclass
class TrainResult:
    model: nn.Module  # a Seq2SeqTransformer unless train_model() was given another model_class
    task: Task
    config: TrainConfig
    steps: int  # optimizer steps done in total (a resumed run counts the earlier ones)
    train_seconds: float  # time in training steps, over all runs of a resumed training
    eval_seconds: float
    history: list[dict] = field(default_factory=list)  # {"step", "loss", "lr"}
    # periodic evaluations, on the validation split: {"step", "seconds", "split", "exact", "token_accuracy", "bleu"}
    evals: list[dict] = field(default_factory=list)
    # final scores, rank 0 only: "valid", "test" and "hard" (the two test splits, scored only here) and "short"
    # (seen in training)
    metrics: dict[str, EvalResult] = field(default_factory=dict)
    reached_target_at: float | None = None  # training seconds when the VALIDATION exact match reached target_exact
    stopped_by: str = "steps"  # "steps", "minutes", "target" or "callback"


Callback = Callable[[TrainEvent], Any]


# ---------------------------------------------------------------------------- checkpoints

def _gather(obj: Any, info: DistInfo) -> list:
    if info.world_size == 1:
        return [obj]
    out: list = [None] * info.world_size
    dist.all_gather_object(out, obj)
    return out


def save_checkpoint(path: str | os.PathLike, model: nn.Module, optimizer, scheduler, step: int,
                    config: TrainConfig, info: DistInfo, extra: dict) -> None:
    """Write the state of every part of training; all ranks must call it (it gathers their RNG states)."""
    rng = _gather({"cpu": torch.get_rng_state(),
                   "cuda": torch.cuda.get_rng_state() if torch.cuda.is_available() else None}, info)
    if not info.is_main:
        return
    state = {"format": CHECKPOINT_FORMAT, "config": asdict(config), "model": unwrap(model).state_dict(),
             "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "step": step, "rng": rng,
             "world_size": info.world_size, **extra}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # never leave a half-written checkpoint behind


def load_checkpoint(path: str | os.PathLike, config: TrainConfig) -> dict:
    """Read a checkpoint and check it was written for the same task and model shape."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path} to resume from")
    state = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(state, dict) or "format" not in state or "config" not in state:
        raise ValueError(f"{path} is not a checkpoint written by course.training")
    if state["format"] != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is a checkpoint of format {state['format']} (an older course.training); this "
                         f"version reads format {CHECKPOINT_FORMAT}: train it again")
    saved = state["config"]
    saved_model = ModelConfig(**saved["model"]).shape()
    asked = {"task": config.task, **config.model.shape()}
    saved_shape = {"task": saved.get("task"), **saved_model}
    diff = {k: (saved_shape.get(k), v) for k, v in asked.items() if saved_shape.get(k) != v}
    if diff:
        shown = ", ".join(f"{k}: saved {a!r}, asked {b!r}" for k, (a, b) in diff.items())
        raise ValueError(f"checkpoint {path} was trained with a different model or task ({shown})")
    return state


# ---------------------------------------------------------------------------- the loop

class _Stop:
    """Decide together whether to stop (rank 0 decides, everyone follows)."""

    def __init__(self, info: DistInfo, device: torch.device):
        self.info, self.device = info, device

    def __call__(self, reason: str | None) -> str | None:
        if self.info.world_size == 1:
            return reason
        codes = ("", "steps", "minutes", "target", "callback")
        flag = torch.tensor([codes.index(reason or "")], device=self.device)
        dist.broadcast(flag, src=0)
        return codes[int(flag)] or None


def _notify(callbacks: Iterable[Callback], event: TrainEvent) -> bool:
    stop = False
    for cb in callbacks:
        stop |= cb(event) is True
    return stop


def train_model(config: TrainConfig, callbacks: Iterable[Callback] | Callback = (),
                model_class: type = Seq2SeqTransformer, loss_fn: Callable | None = None) -> TrainResult:
    """Train a :class:`Seq2SeqTransformer` on ``config.task``; see the module docstring.

    (Named for what it does: ``course.train`` is the command line that calls it.) ``callbacks`` are
    called (on rank 0) with a :class:`TrainEvent` every ``log_interval`` steps, after each evaluation
    on the validation split and at the end (with the final validation result); a callback that
    returns True stops the run (a
    checkpoint is written first when ``config.checkpoint`` is set). ``model_class`` may replace the
    reference model by any class with its constructor and its forward/encode/decode/greedy_decode
    (chapter 08 trains the student's own ``Transformer`` this way). ``loss_fn`` replaces PyTorch's
    cross-entropy by a function with chapter 08's signature, ``loss_fn(logits (batch, seq, vocab),
    targets (batch, seq), smoothing) -> mean over non-PAD targets``, called with
    ``config.label_smoothing`` (the student's ``smoothed_cross_entropy``).
    """
    config.validate()
    if callable(callbacks) or not isinstance(callbacks, Iterable):
        callbacks = [callbacks]
    callbacks = list(callbacks)
    if not all(callable(cb) for cb in callbacks):
        raise TypeError("callbacks must be a function (or a list of functions) taking a TrainEvent")
    if not (isinstance(model_class, type) and issubclass(model_class, nn.Module)):
        raise TypeError(f"model_class must be an nn.Module subclass, got {model_class!r}")
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"loss_fn must be a function (logits, targets, smoothing) -> loss, got {loss_fn!r}")
    info = DistInfo.from_env()
    device = resolve_device(config.device, info)
    own_group = info.world_size > 1 and not dist.is_initialized()
    if own_group:
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        return _train(config, callbacks, info, device, model_class, loss_fn)
    finally:
        if own_group:
            dist.destroy_process_group()


class MeanLossAsSum(nn.Module):
    """A mean loss with chapter 08's signature used where :func:`train_step` expects a token sum.

    ``train_step`` passes flattened logits (N, vocab) and targets (N,) and divides by the step's token
    count; the mean over this piece's non-PAD targets times their number is that sum.
    """

    def __init__(self, mean_loss: Callable, smoothing: float):
        super().__init__()
        self.mean_loss, self.smoothing = mean_loss, smoothing

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        loss = self.mean_loss(logits.unsqueeze(0), targets.unsqueeze(0), self.smoothing)
        if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
            raise TypeError(f"loss_fn must return a 0-d tensor (the mean over non-PAD targets), got "
                            f"{getattr(loss, 'shape', type(loss).__name__)}")
        return loss * (targets != PAD).sum()


def _train(config: TrainConfig, callbacks: list[Callback], info: DistInfo, device: torch.device,
           model_class: type = Seq2SeqTransformer, mean_loss: Callable | None = None) -> TrainResult:
    torch.manual_seed(config.seed)  # same initial weights on every rank (DDP also broadcasts rank 0's)
    task = make_task(config)
    model = build_model(config, task, model_class).to(device)
    optimizer = make_optimizer(model, config, device)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(config))
    start, history, evals, past_train, past_eval, reached = 0, [], [], 0.0, 0.0, None
    if config.resume:
        state = load_checkpoint(config.checkpoint, config)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start = state["step"]
        history, evals = state.get("history", []), state.get("evals", [])
        past_train, past_eval = state.get("train_seconds", 0.0), state.get("eval_seconds", 0.0)
        reached = state.get("reached_target_at")
        rng = state["rng"]
        mine = rng[info.rank] if len(rng) == info.world_size else None
        if mine is not None:
            torch.set_rng_state(mine["cpu"])
            if mine["cuda"] is not None and device.type == "cuda":
                torch.cuda.set_rng_state(mine["cuda"], device)
        else:  # a different number of processes: dropout streams cannot continue exactly
            torch.manual_seed(config.seed + 7919 * (info.rank + 1) + start)
    elif info.world_size > 1:
        torch.manual_seed(config.seed + 7919 * info.rank)  # different dropout masks per rank
    net = model
    if info.world_size > 1:
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    loss_fn = (nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=config.label_smoothing, reduction="sum")
               if mean_loss is None else MeanLossAsSum(mean_loss, config.label_smoothing))
    bf16 = config.bf16 and device.type == "cuda"
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    decide = _Stop(info, device)
    main = info.is_main
    eval_sources = task.valid_set[: config.eval_size] if config.eval_size else task.valid_set
    eval_label = "valid" if len(eval_sources) == len(task.valid_set) else f"valid[:{len(eval_sources)}]"
    last_eval: tuple[int, EvalResult] | None = None  # the latest periodic evaluation, if on the whole split
    bar = None
    if main and config.progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=config.steps, initial=min(start, config.steps),
                   desc=pick(f"train {config.task}", f"训练 {config.task}"), unit="step", dynamic_ncols=True)
    train_s, eval_s = past_train, past_eval
    tick = time.perf_counter()
    budget = None if config.minutes is None else config.minutes * 60.0
    step, stopped, running, counted = start, "steps", torch.zeros((), device=device), 0
    net.train()

    def extra() -> dict:
        return {"history": history, "evals": evals, "train_seconds": train_s, "eval_seconds": eval_s,
                "reached_target_at": reached}

    while step < config.steps:
        pieces = step_batches(task, config, step_generator(config.seed, info.rank, step))
        lr = optimizer.param_groups[0]["lr"]  # the rate this step uses
        loss = train_step(net, pieces, optimizer, loss_fn, config.clip, autocast, device)
        scheduler.step()
        step += 1
        running += loss.detach()
        counted += 1
        reason = None
        if step % config.log_interval == 0 or step == config.steps:
            now = time.perf_counter()
            train_s += now - tick
            tick = now
            mean = float(running) / counted
            running.zero_()
            counted = 0
            history.append({"step": step, "loss": mean, "lr": lr})
            if bar is not None:
                bar.update(step - bar.n)
                bar.set_postfix(loss=f"{mean:.4f}", lr=f"{lr:.2e}")
            if main and _notify(callbacks, TrainEvent("step", step, mean, lr, train_s)):
                reason = "callback"
        if config.eval_interval and step % config.eval_interval == 0 and step < config.steps:
            train_s += time.perf_counter() - tick
            if main:
                t0 = time.perf_counter()
                result = evaluate(model, task, eval_sources, max_errors=10, bf16=bf16, label=eval_label)
                eval_s += time.perf_counter() - t0
                evals.append({"step": step, "seconds": train_s, "split": eval_label, "exact": result.exact,
                              "token_accuracy": result.token_accuracy, "bleu": result.bleu})
                last_eval = (step, result) if eval_label == "valid" else None
                if bar is not None:
                    bar.write(pick(f"step {step}: {result.summary()}", f"第 {step} 步：{result.summary()}"))
                if _notify(callbacks, TrainEvent("eval", step, None, optimizer.param_groups[0]["lr"], train_s, result)):
                    reason = "callback"
                if config.target_exact is not None and result.exact >= config.target_exact:
                    reached = train_s if reached is None else reached
                    reason = reason or "target"
            if config.checkpoint:
                save_checkpoint(config.checkpoint, net, optimizer, scheduler, step, config, info, extra())
            tick = time.perf_counter()
        if reason is None and budget is not None and train_s + (time.perf_counter() - tick) >= budget:
            reason = "minutes"
        reason = decide(reason)
        if reason is not None:
            stopped = reason
            break
    train_s += time.perf_counter() - tick
    if bar is not None:
        bar.close()
    if config.checkpoint:
        save_checkpoint(config.checkpoint, net, optimizer, scheduler, step, config, info, extra())
    result = TrainResult(model=model, task=task, config=config, steps=step, train_seconds=train_s,
                         eval_seconds=eval_s, history=history, evals=evals, reached_target_at=reached,
                         stopped_by=stopped)
    if main:
        t0 = time.perf_counter()
        # the validation split again (unless its last evaluation was at this very step), then the two test
        # splits, each scored this once, and the short numbers that training sees
        valid = last_eval[1] if last_eval is not None and last_eval[0] == step else None
        result.metrics = {name: evaluate(model, task, name, bf16=bf16) if name != "valid" or valid is None else valid
                          for name in SPLITS}
        result.eval_seconds += time.perf_counter() - t0
        if config.target_exact is not None and result.metrics["valid"].exact >= config.target_exact and reached is None:
            result.reached_target_at = train_s
        _notify(callbacks, TrainEvent("end", step, history[-1]["loss"] if history else None,
                                      optimizer.param_groups[0]["lr"], train_s, result.metrics["valid"]))
    return result


__all__ = ["TrainConfig", "ModelConfig", "PRESETS", "preset", "lr_factor", "train_model", "train_step", "make_task",
           "step_batches", "TrainResult", "TrainEvent", "DistInfo", "resolve_device", "step_generator", "build_model",
           "save_checkpoint", "load_checkpoint", "DECAYS", "CHECKPOINT_FORMAT"]
