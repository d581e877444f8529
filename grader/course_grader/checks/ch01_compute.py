"""Hidden checks of chapter 01 (counting FLOPs, parameters, timing, MFU, the roofline).

Each ``check_*`` takes the student's function, compares it with PyTorch's own FLOP counter (on
models built on the meta device: shapes, no data), PyTorch's own layers or a closed form on random
cases from a private generator, and raises ``AssertionError`` with a message that says what went
wrong. The timing check uses a fake clock and a fake GPU queue, so it is exact and never depends on
how busy the machine is. The student's code runs through :func:`course.checks.core.call`, with what
:data:`course.checks.ch01_compute.BORROWED` declares (the FLOP counter, nn.TransformerEncoderLayer,
the course's timing harness) switched off.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from course.checks.borrowed import switched_off_for
from course.checks.core import call, check, close, equal, exercise, raises
from course.checks.messages import msg
from course.experiments.ch01_compute import counted_by_part, counted_flops, encoder_lm, encoder_stack

PF_DAY = 1e15 * 24 * 3600  # FLOPs in one PF-day


def _raises(exercise_name: str, exc_type: type[BaseException], fn: Callable[..., Any], *args: Any, name: str,
            **kwargs: Any) -> None:
    """:func:`raises`, with what ``exercise_name`` may not borrow switched off (as :func:`call` does)."""
    with switched_off_for(exercise_name):
        raises(exc_type, fn, *args, name=name, **kwargs)


def _meta(shape: tuple[int, ...]) -> torch.Tensor:
    return torch.empty(shape, device="meta")


@exercise("matmul_flops")
def check_matmul_flops(matmul_flops: Callable[..., int], seed: int = 0) -> None:
    r = random.Random(seed)
    cases = []
    for _ in range(12):
        m, k, n = r.randint(1, 40), r.randint(1, 40), r.randint(1, 40)
        batch = tuple(r.randint(1, 5) for _ in range(r.randint(0, 2)))
        kind = r.choice(["both", "weight", "left", "none"]) if batch else "none"
        a = (*batch, m, k) if kind in ("both", "weight") else (m, k)
        b = (*batch, k, n) if kind in ("both", "left") else (k, n)
        cases.append((a, b))
    cases += [((0, 5), (5, 7)), ((3, 0), (0, 4)), ((2, 0, 3, 4), (4, 5))]
    for a, b in cases:
        got = call(matmul_flops, a, b)
        check(type(got) is int, "matmul_flops({a}, {b}) should return an int, got {kind} {got!r}", a=a, b=b,
              kind=type(got).__name__, got=got)
        equal(got, counted_flops(lambda: torch.matmul(_meta(a), _meta(b))),  # noqa: B023 - called at once
              name=msg("matmul_flops({a}, {b}) against torch's FLOP counter", a=a, b=b))
    for a, b in [((2, 3), (4, 5)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 2, 3), (5, 3, 4)), ((4, 2, 3), (2, 3, 4)),
                 ((-1, 2), (2, 3)), ((2, 3), (3, -4)), ((), (3, 4))]:
        _raises("matmul_flops", ValueError, matmul_flops, a, b, name=f"matmul_flops({a}, {b})")


@exercise("layer_params")
def check_layer_params(layer_params: Callable[[int, int], int], seed: int = 0) -> None:
    r = random.Random(seed)
    for _ in range(5):
        heads = r.choice([1, 2, 4])
        d, d_ff = heads * r.randint(1, 8), r.randint(1, 50)
        layer = nn.TransformerEncoderLayer(d, heads, d_ff, batch_first=True)
        equal(call(layer_params, d, d_ff), sum(p.numel() for p in layer.parameters()),
              name=msg("layer_params(d_model={d}, d_ff={d_ff}) against nn.TransformerEncoderLayer (four projections "
                       "with biases, an FFN with both biases, two LayerNorms)", d=d, d_ff=d_ff))


_PARTS = ("attention", "ffn", "head", "projections")


@exercise("encoder_flops")
def check_encoder_flops(encoder_flops: Callable[..., dict], seed: int = 0) -> None:
    r = random.Random(seed)
    shapes = [(1, 8, 2, 12, 5, 7, 1), (3, 12, 3, 20, 9, 5, 2), (2, 24, 6, 48, 16, 30, 4),
              (12, 768, 12, 3072, 1024, 50257, 1)]
    for _ in range(4):
        heads = r.choice([1, 2, 3, 4, 8])
        shapes.append((r.randint(1, 4), heads * r.randint(1, 6), heads, r.randint(1, 64), r.randint(1, 40),
                       r.randint(1, 60), r.randint(1, 4)))
    for n_layer, d, heads, d_ff, seq, vocab, batch in shapes:
        model = encoder_lm(n_layer, d, heads, d_ff, vocab, device="meta")
        expected = counted_by_part(model, torch.zeros(batch, seq, dtype=torch.long, device="meta"))
        args = f"(n_layer={n_layer}, d_model={d}, n_head={heads}, d_ff={d_ff}, seq={seq}, vocab={vocab}, batch={batch})"
        got = call(encoder_flops, n_layer, d, heads, d_ff, seq, vocab, batch)
        check(type(got) is dict and sorted(got) == list(_PARTS),
              "encoder_flops{args} should return a dict with the keys {keys}, got {got!r}", args=args,
              keys=list(_PARTS), got=got)
        for part in _PARTS:
            check(type(got[part]) is int, "encoder_flops{args}[{part!r}] should be an int, got {got!r}", args=args,
                  part=part, got=got[part])
            equal(got[part], expected[part], name=msg("encoder_flops{args}[{part!r}] against FlopCounterMode on the "
                                                      "model", args=args, part=part))
    for n_layer, d, heads, d_ff, seq, batch in [(2, 12, 3, 20, 9, 2), (1, 8, 2, 12, 5, 1)]:  # vocab 0: no head
        stack = encoder_stack(n_layer, d, heads, d_ff, device="meta")
        x = torch.zeros(batch, seq, d, device="meta")
        expected_total = counted_flops(lambda: stack(x))  # noqa: B023 - called at once
        args = f"(n_layer={n_layer}, d_model={d}, n_head={heads}, d_ff={d_ff}, seq={seq}, vocab=0, batch={batch})"
        got = call(encoder_flops, n_layer, d, heads, d_ff, seq, 0, batch)
        check(type(got) is dict and got.get("head") == 0, "encoder_flops{args} should count no head ('head': 0): "
              "vocab = 0 is a model without one, as training_flops counts it; got {got!r}", args=args, got=got)
        equal(sum(got.values()), expected_total, name=msg("encoder_flops{args}, summed, against FlopCounterMode on "
                                                          "the stack without embedding and head", args=args))
    for d, heads in [(10, 4), (16, 3), (6, 4)]:
        _raises("encoder_flops", ValueError, encoder_flops, 1, d, heads, 8, 4, 5, 1,
                name=msg("encoder_flops with d_model={d}, n_head={heads}", d=d, heads=heads))


@exercise("training_flops")
def check_training_flops(training_flops: Callable[..., int], seed: int = 0) -> None:
    r = random.Random(seed)
    shapes = [(1, 8, 2, 12, 5, 1), (3, 12, 3, 20, 9, 2), (4, 64, 8, 256, 32, 3)]
    for _ in range(3):
        heads = r.choice([1, 2, 4])
        shapes.append((r.randint(1, 4), heads * r.randint(1, 6), heads, r.randint(1, 64), r.randint(1, 30),
                       r.randint(1, 4)))
    for n_layer, d, heads, d_ff, seq, batch in shapes:
        stack = encoder_stack(n_layer, d, heads, d_ff, device="meta")
        x = torch.zeros(batch, seq, d, device="meta")
        expected = counted_flops(lambda: stack(x).sum().backward())  # noqa: B023 - called at once
        got = call(training_flops, n_layer, d, heads, d_ff, seq, batch)
        check(type(got) is int, "training_flops should return an int, got {kind} {got!r}", kind=type(got).__name__,
              got=got)
        equal(got, expected, name=msg("training_flops(n_layer={n_layer}, d_model={d}, n_head={heads}, d_ff={d_ff}, "
                                      "seq={seq}, batch={batch}) against FlopCounterMode on a forward and backward "
                                      "pass", n_layer=n_layer, d=d, heads=heads, d_ff=d_ff, seq=seq, batch=batch))


class _FakeTimer:
    """A clock, a workload and a GPU-style queue: ``fn`` queues work, ``sync`` waits for it."""

    def __init__(self, durations: list[float], asynchronous: bool):
        self.durations = list(durations)
        self.asynchronous = asynchronous
        self.now = 0.0
        self.pending = 0.0
        self.calls = 0

    def clock(self) -> float:
        return self.now

    def fn(self) -> None:
        work = self.durations[self.calls] if self.calls < len(self.durations) else 1.0
        self.calls += 1
        if self.asynchronous:
            self.pending += work  # returns at once, like a CUDA kernel launch
        else:
            self.now += work

    def sync(self) -> None:
        self.now += self.pending
        self.pending = 0.0


@exercise("measure_seconds")
def check_measure_seconds(measure_seconds: Callable[..., float], seed: int = 0) -> None:
    r = random.Random(seed)
    for warmup, repeats in [(2, 5), (1, 4), (3, 1), (0, 3)]:
        warm = [r.uniform(50, 100) for _ in range(warmup)]  # slow first calls: must not be timed
        timed = [r.uniform(1, 2) for _ in range(repeats)]
        expected = statistics.median(timed)
        t = _FakeTimer(warm + timed, asynchronous=False)
        got = call(measure_seconds, t.fn, warmup=warmup, repeats=repeats, clock=t.clock)
        equal(t.calls, warmup + repeats, name=msg("number of calls of fn with warmup={warmup}, repeats={repeats}",
                                                  warmup=warmup, repeats=repeats))
        check(type(got) is float, "measure_seconds should return a float, got {kind}", kind=type(got).__name__)
        close(got, expected, rtol=1e-9, name=msg("measure_seconds (warmup={warmup}, repeats={repeats}): the median "
                                                 "of the timed calls only", warmup=warmup, repeats=repeats))
        t = _FakeTimer(warm + timed, asynchronous=True)
        got = call(measure_seconds, t.fn, warmup=warmup, repeats=repeats, sync=t.sync, clock=t.clock)
        close(got, expected, rtol=1e-9, name=msg("measure_seconds with sync (warmup={warmup}, repeats={repeats}): "
                                                 "call sync() before starting the clock and again before stopping "
                                                 "it, as for CUDA", warmup=warmup, repeats=repeats))
    _raises("measure_seconds", ValueError, measure_seconds, lambda: None, warmup=1, repeats=0,
            name="measure_seconds(repeats=0)")
    _raises("measure_seconds", ValueError, measure_seconds, lambda: None, warmup=-1, repeats=3,
            name="measure_seconds(warmup=-1)")


_call_days = exercise("days_to_train")(call)  # the second function check_mfu is given


@exercise("mfu")
def check_mfu(mfu: Callable[[float, float, float], float], days_to_train: Callable[..., float], seed: int = 0) -> None:
    r = random.Random(seed)
    for _ in range(5):
        flops, seconds, peak = 10 ** r.uniform(9, 18), r.uniform(0.01, 10), 10 ** r.uniform(11, 15)
        close(call(mfu, flops, seconds, peak), flops / seconds / peak, rtol=1e-9,
              name=f"mfu(flops={flops:.3e}, seconds={seconds:.3f}, peak={peak:.3e})")
    close(call(mfu, 2.6, 0.5, 0.8), 6.5, rtol=1e-9, name="mfu(2.6 FLOPs, 0.5 s, peak 0.8 FLOP/s)")
    _raises("mfu", ValueError, mfu, 1e9, 0.0, 1e12, name="mfu with seconds = 0")
    _raises("mfu", ValueError, mfu, 1e9, -1.0, 1e12, name="mfu with seconds < 0")
    _raises("mfu", ValueError, mfu, 1e9, 1.0, 0.0, name="mfu with peak = 0")
    close(_call_days(days_to_train, PF_DAY, 1e15, 1.0), 1.0, rtol=1e-9, name="days_to_train(one PF-day, 1e15, 1.0)")
    for _ in range(5):
        flops, peak = 10 ** r.uniform(18, 25), 10 ** r.uniform(12, 15)
        util, chips = r.uniform(0.05, 1), r.randint(1, 4096)
        close(_call_days(days_to_train, flops, peak, util, chips), flops / (peak * util * chips) / 86400, rtol=1e-9,
              name=f"days_to_train(flops={flops:.3e}, peak={peak:.3e}, utilisation={util:.3f}, n_chips={chips})")
    close(_call_days(days_to_train, 1e20, 1e14, 0.5), 1e20 / 0.5e14 / 86400, rtol=1e-9,
          name="days_to_train with the default n_chips (1)")
    close(_call_days(days_to_train, 86400.0, 0.5, 1.0), 2.0, rtol=1e-9, name="days_to_train(86400 FLOPs, 0.5 FLOP/s)")
    for args in [(1e20, 0.0, 0.5), (1e20, 1e15, 0.0), (1e20, 1e15, 1.01), (1e20, 1e15, -0.5), (1e20, 1e15, 0.5, 0)]:
        _raises("days_to_train", ValueError, days_to_train, *args, name=f"days_to_train{args}")


@exercise("roofline_point")
def check_roofline_point(roofline_point: Callable[..., dict], seed: int = 0) -> None:
    r = random.Random(seed)
    cases = [((600, 600), (600, 600), 4, 989e12, 3.35e12), ((8192, 8192), (8192, 8192), 2, 989e12, 3.35e12),
             ((1000, 1000), (1000, 1), 4, 312e12, 2.039e12), ((4, 64, 32), (32, 16), 2, 1e12, 1e11),
             ((3, 5), (2, 5, 7), 8, 1e11, 1e12),
             ((600, 600), (600, 600), 4, 1e14, 1e12)]  # exactly at the ridge: neither roof is strictly lower
    for _ in range(6):
        m, k, n = r.randint(1, 4096), r.randint(1, 4096), r.randint(1, 4096)
        batch = tuple(r.randint(1, 8) for _ in range(r.randint(0, 1)))
        a = (*batch, m, k)
        b = (*batch, k, n) if r.random() < 0.5 else (k, n)
        cases.append((a, b, r.choice([1, 2, 4, 8]), 10 ** r.uniform(11, 15), 10 ** r.uniform(10, 13)))
    for a, b, size, peak, bandwidth in cases:
        batch = a[:-2] or b[:-2]
        flops = 2 * math.prod(batch) * a[-2] * a[-1] * b[-1]
        moved = size * (math.prod(a) + math.prod(b) + math.prod(batch) * a[-2] * b[-1])
        intensity = flops / moved
        args = f"({a}, {b}, bytes_per_element={size}, peak={peak:.3g}, bandwidth={bandwidth:.3g})"
        got = call(roofline_point, a, b, size, peak, bandwidth)
        check(type(got) is dict and sorted(got) == ["attainable", "bound", "intensity"],
              "roofline_point{args} should return a dict with the keys 'attainable', 'bound', 'intensity', "
              "got {got!r}", args=args, got=got)
        close(got["intensity"], intensity, rtol=1e-9, atol=0,
              name=msg("roofline_point{args}['intensity'] (A and B read once, C written once)", args=args))
        close(got["attainable"], min(peak, intensity * bandwidth), rtol=1e-9, atol=0,
              name=msg("roofline_point{args}['attainable'] (the lower roof)", args=args))
        equal(got["bound"], "memory" if intensity * bandwidth < peak else "compute",
              name=f"roofline_point{args}['bound']")
