"""Timing on CPU and CUDA: the reference harness and the measurements chapter 01 builds on.

Timing a GPU needs care: CUDA calls return before the work is done, so the clock must be read
only after ``torch.cuda.synchronize()``. Every function here takes the device explicitly and
picks the synchronisation for it; ``measure`` arguments accept any function with the signature
of :func:`median_seconds` (the student's harness from the notebook, or this one).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

Measure = Callable[..., float]


def pick_device(name: str = "auto") -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; ``"cuda"`` without CUDA is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for, but PyTorch sees no CUDA GPU here; use 'cpu' or 'auto'")
    return torch.device(name)


def sync_for(device: torch.device | str) -> Callable[[], None] | None:
    """The function that waits for queued work on ``device`` (None on CPU, where calls block)."""
    device = torch.device(device)
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return None


def median_seconds(fn: Callable[[], Any], warmup: int = 2, repeats: int = 5,
                   sync: Callable[[], None] | None = None, clock: Callable[[], float] = time.perf_counter) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls, after ``warmup`` untimed calls."""
    if warmup < 0 or repeats < 1:
        raise ValueError(f"need warmup >= 0 and repeats >= 1, got warmup={warmup}, repeats={repeats}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if sync:
            sync()
        start = clock()
        fn()
        if sync:
            sync()
        times.append(clock() - start)
    return statistics.median(times)


def matmul_throughput(n: int, measure: Measure = median_seconds, device: torch.device | str = "cpu",
                      dtype: torch.dtype = torch.float32, warmup: int = 2, repeats: int = 5,
                      seed: int = 0) -> dict[str, float]:
    """Time an (n × n) · (n × n) matmul on ``device``; FLOP/s from the 2·n³ count."""
    device = torch.device(device)
    g = torch.Generator(device="cpu").manual_seed(seed)
    a = torch.randn(n, n, generator=g).to(device, dtype)  # (n, n)
    b = torch.randn(n, n, generator=g).to(device, dtype)  # (n, n)
    seconds = measure(lambda: a @ b, warmup=warmup, repeats=repeats, sync=sync_for(device))
    flops = 2.0 * n ** 3
    return {"n": n, "seconds": seconds, "flops": flops, "flops_per_s": flops / seconds,
            "intensity": flops / (a.element_size() * 3 * n * n)}


def copy_bandwidth(n_bytes: int = 64 * 2 ** 20, measure: Measure = median_seconds,
                   device: torch.device | str = "cpu", repeats: int = 5) -> float:
    """Bytes per second moved by copying a large buffer (each byte is read once and written once)."""
    device = torch.device(device)
    src = torch.ones(n_bytes // 4, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    seconds = measure(lambda: dst.copy_(src), warmup=1, repeats=repeats, sync=sync_for(device))
    return 2.0 * src.numel() * src.element_size() / seconds
