"""Hidden checks of chapter 01 (counting FLOPs, timing, MFU, arithmetic intensity).

Each ``check_*`` takes the student's function, compares it with a closed form or with PyTorch's
own FLOP counter on random cases from a private generator, and raises ``AssertionError`` with a
message that says what went wrong. The timing check uses a fake clock and a fake GPU queue, so
it is exact and never depends on how busy the machine is. The student's code runs through
:func:`course.checks.core.call`, with what :data:`course.checks.ch01_compute.BORROWED` declares
(the FLOP counter, nn.TransformerEncoderLayer, the course's timing harness) switched off.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from course.checks.borrowed import switched_off_for
from course.checks.core import call, check, close, equal, exercise, raises
from course.experiments.ch01_compute import counted_flops

PF_DAY = 1e15 * 24 * 3600  # FLOPs in one PF-day


def _raises(exercise_name: str, exc_type: type[BaseException], fn: Callable[..., Any], *args: Any, name: str,
            **kwargs: Any) -> None:
    """:func:`raises`, with what ``exercise_name`` may not borrow switched off (as :func:`call` does)."""
    with switched_off_for(exercise_name):
        raises(exc_type, fn, *args, name=name, **kwargs)


_call_training = exercise("training_flops_per_token")(call)  # the second function check_flops_per_token is given


@exercise("pf_days")
def check_pf_days(pf_days: Callable[[float], float], seed: int = 0) -> None:
    r = random.Random(seed)
    close(call(pf_days, PF_DAY), 1.0, rtol=1e-9, name="pf_days(8.64e19)")
    for _ in range(5):
        flops = 10 ** r.uniform(18, 25)
        close(call(pf_days, flops), flops / PF_DAY, rtol=1e-9,
              name=f"pf_days({flops:.3e}) (1 PF-day = 10^15 FLOP/s for 86,400 s; 'peta' is 10^15, not 2^50)")


@exercise("matmul_flops")
def check_matmul_flops(matmul_flops: Callable[[int, int, int], int], seed: int = 0) -> None:
    r = random.Random(seed)
    for _ in range(6):
        m, k, n = r.randint(1, 40), r.randint(1, 40), r.randint(1, 40)
        a, b = torch.zeros(m, k), torch.zeros(k, n)
        equal(call(matmul_flops, m, k, n), counted_flops(lambda: a @ b),
              name=f"matmul_flops({m}, {k}, {n}) against torch's FLOP counter")
    equal(call(matmul_flops, 0, 5, 7), 0, name="matmul_flops(0, 5, 7) (an empty matrix costs nothing)")
    _raises("matmul_flops", ValueError, matmul_flops, -1, 2, 3, name="matmul_flops(-1, 2, 3)")


def _attention_scores(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    weights = torch.softmax(q @ k.transpose(-2, -1), dim=-1)  # (seq, seq)
    return weights @ v  # (seq, d_model)


@exercise("attention_flops")
def check_attention_flops(attention_flops: Callable[..., int], seed: int = 0) -> None:
    r = random.Random(seed)
    for _ in range(5):
        seq, d, layers = r.randint(2, 30), r.randint(2, 30), r.randint(1, 4)
        q, k, v = torch.zeros(seq, d), torch.zeros(seq, d), torch.zeros(seq, d)
        expected = layers * counted_flops(lambda: _attention_scores(q, k, v))
        equal(call(attention_flops, seq, d, layers), expected,
              name=f"attention_flops(seq={seq}, d_model={d}, n_layer={layers}) against torch's FLOP counter "
                   "(Q·Kᵀ and weights·V, every layer)")


@exercise("layer_params")
def check_layer_params(layer_params: Callable[[int, int], int], seed: int = 0) -> None:
    r = random.Random(seed)
    for _ in range(4):
        heads = r.choice([1, 2, 4])
        d, d_ff = heads * r.randint(1, 8), r.randint(1, 50)
        layer = nn.TransformerEncoderLayer(d, heads, d_ff, batch_first=True)
        equal(call(layer_params, d, d_ff), sum(p.numel() for p in layer.parameters()),
              name=f"layer_params(d_model={d}, d_ff={d_ff}) against nn.TransformerEncoderLayer "
                   "(attention 4d²+4d, FFN with both biases, two LayerNorms of 2d each)")


@exercise("forward_flops_per_token")
def check_flops_per_token(forward_flops_per_token: Callable[..., float],
                          training_flops_per_token: Callable[..., float], seed: int = 0) -> None:
    r = random.Random(seed)
    for _ in range(5):
        n, layers, seq, d = r.randint(10 ** 5, 10 ** 9), r.randint(1, 48), r.randint(1, 8192), r.randint(16, 8192)
        fwd = 2 * n + 4 * layers * seq * d
        args = f"(n_params={n}, n_layer={layers}, seq={seq}, d_model={d})"
        close(call(forward_flops_per_token, n, layers, seq, d), fwd, rtol=1e-12,
              name=f"forward_flops_per_token{args} (2N plus 2·n_layer·seq·d for Q·Kᵀ and again for weights·V)")
        close(_call_training(training_flops_per_token, n, layers, seq, d), 3 * fwd, rtol=1e-12,
              name=f"training_flops_per_token{args} (backward costs twice the forward, attention included)")


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
        equal(t.calls, warmup + repeats, name=f"number of calls of fn with warmup={warmup}, repeats={repeats}")
        check(type(got) is float, f"measure_seconds should return a float, got {type(got).__name__}")
        close(got, expected, rtol=1e-9, name=f"measure_seconds (warmup={warmup}, repeats={repeats}): the median "
              "of the timed calls only")
        t = _FakeTimer(warm + timed, asynchronous=True)
        got = call(measure_seconds, t.fn, warmup=warmup, repeats=repeats, sync=t.sync, clock=t.clock)
        close(got, expected, rtol=1e-9, name=f"measure_seconds with sync (warmup={warmup}, repeats={repeats}): "
              "call sync() before starting the clock and again before stopping it, as for CUDA")
    _raises("measure_seconds", ValueError, measure_seconds, lambda: None, warmup=1, repeats=0, name="measure_seconds(repeats=0)")


@exercise("mfu")
def check_mfu(mfu: Callable[[float, float, float], float], seed: int = 0) -> None:
    r = random.Random(seed)
    for _ in range(5):
        flops, seconds, peak = 10 ** r.uniform(9, 18), r.uniform(0.01, 10), 10 ** r.uniform(11, 15)
        close(call(mfu, flops, seconds, peak), flops / seconds / peak, rtol=1e-9,
              name=f"mfu(flops={flops:.3e}, seconds={seconds:.3f}, peak={peak:.3e})")
    _raises("mfu", ValueError, mfu, 1e9, 0.0, 1e12, name="mfu with seconds = 0")
    _raises("mfu", ValueError, mfu, 1e9, 1.0, 0.0, name="mfu with peak = 0")


@exercise("matmul_intensity")
def check_matmul_intensity(matmul_intensity: Callable[..., float], seed: int = 0) -> None:
    r = random.Random(seed)
    for _ in range(6):
        m, k, n, size = r.randint(1, 4096), r.randint(1, 4096), r.randint(1, 4096), r.choice([2, 4, 8])
        expected = 2 * m * k * n / (size * (m * k + k * n + m * n))
        close(call(matmul_intensity, m, k, n, size), expected, rtol=1e-9,
              name=f"matmul_intensity({m}, {k}, {n}, bytes_per_element={size}) (read A and B, write C once)")
