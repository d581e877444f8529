"""Chapter 01's experiments: where a Transformer's FLOPs go, and what this machine achieves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch._dynamo  # noqa: F401  FlopCounterMode's first use imports it, and that rebinds torch.manual_seed:

# importing it here (in the set-up cell) keeps the grader's tamper check from blaming a test cell for PyTorch's own patch
from matplotlib.figure import Figure
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from course import benchmarking
from course.plotting import new_figure, show  # noqa: F401  (show: used as ex.show in the notebook)


def counted_flops(fn: Callable[[], Any]) -> int:
    """FLOPs of ``fn()`` as PyTorch's FlopCounterMode counts them (matmuls: 2·m·k·n)."""
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def flops_split_figure(forward_flops_per_token: Callable[..., float], layer_params: Callable[[int, int], int],
                       d_model: int = 768, n_layer: int = 12, d_ff: int = 3072,
                       seqs: tuple[int, ...] = (128, 256, 512, 1024, 2048, 4096, 8192, 16384)) -> tuple[Figure, dict]:
    """Forward FLOPs per token against context length: the 2N part and the attention part."""
    n = n_layer * layer_params(d_model, d_ff)
    dense = [2.0 * n for _ in seqs]
    attention = [forward_flops_per_token(n, n_layer, s, d_model) - 2.0 * n for s in seqs]
    crossover = 2.0 * n / (4 * n_layer * d_model)  # seq where the attention part equals 2N
    fig = new_figure(7.0, 4.0)
    ax = fig.add_subplot()
    ax.plot(seqs, [x / 1e9 for x in dense], "o-", label="2N (weights: projections and FFN)")
    ax.plot(seqs, [x / 1e9 for x in attention], "s-", label="attention scores (Q·Kᵀ and weights·V)")
    ax.axvline(crossover, color="grey", ls="--", lw=1)
    ax.text(crossover, ax.get_ylim()[1] * 0.9, f"equal at seq ≈ {crossover:,.0f}  ", color="grey", ha="right")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("context length seq (tokens)")
    ax.set_ylabel("forward GFLOPs per token")
    ax.set_title(f"Where the FLOPs go: d_model={d_model}, {n_layer} layers, N={n / 1e6:.0f}M")
    ax.legend()
    return fig, {"n_params": n, "crossover_seq": crossover}


def throughput_sweep(measure: benchmarking.Measure, sizes: tuple[int, ...] = (64, 128, 256, 512, 1024),
                     device: str = "cpu", dtype: torch.dtype = torch.float32, repeats: int = 5) -> list[dict]:
    """Achieved FLOP/s of square matmuls of several sizes, timed with ``measure``."""
    return [benchmarking.matmul_throughput(n, measure, device=device, dtype=dtype, repeats=repeats) for n in sizes]


def throughput_figure(results: list[dict], peaks: dict[str, float] | None = None) -> Figure:
    fig = new_figure(7.0, 4.0)
    ax = fig.add_subplot()
    ax.plot([r["n"] for r in results], [r["flops_per_s"] / 1e9 for r in results], "o-", label="measured (median)")
    for i, (name, peak) in enumerate((peaks or {}).items()):
        ax.axhline(peak / 1e9, ls="--", lw=1, color=f"C{i + 1}", label=name)
    ax.set_xscale("log", base=2)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("matrix size n  (an n×n by n×n matmul costs 2n³ FLOPs)")
    ax.set_ylabel("achieved GFLOP/s")
    ax.set_title("Achieved matmul throughput on this machine")
    ax.legend()
    return fig


def training_step(measure: benchmarking.Measure, training_flops_per_token: Callable[..., float],
                  layer_params: Callable[[int, int], int], d_model: int = 128, n_layer: int = 2, d_ff: int = 512,
                  heads: int = 4, batch: int = 8, seq: int = 64, device: str = "cpu", repeats: int = 3) -> dict[str, Any]:
    """Time one forward + backward of an encoder stack; FLOPs from the 6N-style formula."""
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(d_model, heads, d_ff, dropout=0.0, batch_first=True)
    model = nn.TransformerEncoder(layer, n_layer, enable_nested_tensor=False).to(device)
    x = torch.randn(batch, seq, d_model, device=device)  # (batch, seq, d_model)

    def step() -> None:
        model.zero_grad(set_to_none=True)
        model(x).pow(2).mean().backward()

    seconds = measure(step, warmup=2, repeats=repeats, sync=benchmarking.sync_for(device))
    n = n_layer * layer_params(d_model, d_ff)
    flops = training_flops_per_token(n, n_layer, seq, d_model) * batch * seq
    return {"seconds": seconds, "flops": flops, "flops_per_s": flops / seconds, "n_params": n,
            "tokens": batch * seq}
