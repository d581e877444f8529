"""Chapter 01's experiments: where a Transformer's FLOPs go, and what this machine achieves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch._dynamo  # noqa: F401  FlopCounterMode's first use imports it, and that rebinds torch.manual_seed:

# importing it here (in the set-up cell) keeps the grader's tamper check from blaming a test cell for PyTorch's patch
from matplotlib.figure import Figure
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils import flop_counter
from torch.utils.flop_counter import FlopCounterMode

from course import benchmarking
from course.plotting import new_figure, show  # noqa: F401  (show: used as ex.show in the notebook)

PARTS = ("projections", "attention", "ffn", "head")  # the keys of a per-part FLOP count


def counted_flops(fn: Callable[[], Any], math_attention: bool = True) -> int:
    """FLOPs of ``fn()`` as PyTorch's FlopCounterMode counts them (matmuls: 2 FLOPs per multiply-add).

    With ``math_attention`` (default) scaled dot-product attention runs PyTorch's "math" backend, whose
    two matmuls the counter sees; the fused CPU kernel has no FLOP formula registered and counts 0.
    """
    with FlopCounterMode(display=False) as counter:
        if math_attention:
            with sdpa_kernel(SDPBackend.MATH):
                fn()
        else:
            fn()
    return counter.get_total_flops()


def counted_ops() -> list[str]:
    """The ATen operators FlopCounterMode has a FLOP formula for (everything else counts 0)."""
    return sorted(str(op).removeprefix("aten.") for op in flop_counter.flop_registry)


def encoder_stack(n_layer: int, d_model: int, n_head: int, d_ff: int, device: str = "cpu") -> nn.TransformerEncoder:
    """``n_layer`` PyTorch encoder layers (Post-LN, ReLU, no dropout), inputs (batch, seq, d_model)."""
    layer = nn.TransformerEncoderLayer(d_model, n_head, d_ff, dropout=0.0, batch_first=True, device=device)
    return nn.TransformerEncoder(layer, n_layer, enable_nested_tensor=False)


def encoder_lm(n_layer: int, d_model: int, n_head: int, d_ff: int, vocab: int, device: str = "cpu") -> nn.Sequential:
    """Token ids (batch, seq) -> embedding -> encoder stack -> linear head -> logits (batch, seq, vocab)."""
    return nn.Sequential(nn.Embedding(vocab, d_model, device=device),
                         encoder_stack(n_layer, d_model, n_head, d_ff, device),
                         nn.Linear(d_model, vocab, device=device))


def counted_by_part(model: nn.Module, x: torch.Tensor) -> dict[str, int]:
    """Forward FLOPs of ``model(x)`` by part, from FlopCounterMode's per-module, per-operator counts.

    Inside each ``self_attn`` the batched matmuls (bmm) are Q·Kᵀ and weights·V ("attention"), the others
    the Q/K/V and output projections; ``linear1``/``linear2`` are the FFN; whatever is left is the head.
    """
    with FlopCounterMode(display=False) as counter, sdpa_kernel(SDPBackend.MATH):
        model(x)  # in training mode: PyTorch's eval-mode fast path would hide the matmuls in one fused kernel
    counts = counter.get_flop_counts()
    parts = dict.fromkeys(PARTS, 0)
    for name, ops in counts.items():
        if name.endswith(".self_attn"):
            for op, n in ops.items():
                parts["attention" if "bmm" in str(op) else "projections"] += n
        elif name.endswith((".linear1", ".linear2")):
            parts["ffn"] += sum(ops.values())
    parts["head"] = counter.get_total_flops() - parts["projections"] - parts["attention"] - parts["ffn"]
    return parts


def gpt2_small_counts(encoder_flops: Callable[..., dict], seq: int = 1024, batch: int = 1) -> dict[str, Any]:
    """FlopCounterMode against ``encoder_flops`` for a GPT-2-small-sized encoder LM, on the meta device (no data)."""
    shape = {"n_layer": 12, "d_model": 768, "n_head": 12, "d_ff": 3072, "vocab": 50257}
    model = encoder_lm(**shape, device="meta")
    ids = torch.zeros(batch, seq, dtype=torch.long, device="meta")
    counted = counted_by_part(model, ids)
    yours = encoder_flops(shape["n_layer"], shape["d_model"], shape["n_head"], shape["d_ff"], seq, shape["vocab"],
                          batch)
    layer = encoder_stack(1, 64, 4, 256, "cpu")  # a small layer on the CPU: there the default attention kernel is fused
    x = torch.randn(1, 128, 64)
    return {"shape": shape, "counted": counted, "yours": {k: yours.get(k) for k in PARTS}, "seq": seq,
            "small_default_kernel": counted_flops(lambda: layer(x), math_attention=False),
            "small_math_kernel": counted_flops(lambda: layer(x))}


def causal_count(n_layer: int = 2, d_model: int = 64, n_head: int = 4, d_ff: int = 256,
                 seq: int = 32) -> dict[str, int]:
    """FlopCounterMode's count of one encoder stack with and without a causal mask."""
    stack = encoder_stack(n_layer, d_model, n_head, d_ff, "meta")
    x = torch.zeros(1, seq, d_model, device="meta")
    mask = nn.Transformer.generate_square_subsequent_mask(seq, device="meta")
    return {"full": counted_flops(lambda: stack(x)),
            "causal": counted_flops(lambda: stack(x, mask=mask, is_causal=True))}


def flops_split_figure(encoder_flops: Callable[..., dict], layer_params: Callable[[int, int], int],
                       d_model: int = 768, n_layer: int = 12, n_head: int = 12, d_ff: int = 3072, vocab: int = 50257,
                       seqs: tuple[int, ...] = (128, 256, 512, 1024, 2048, 4096, 8192, 16384)) -> tuple[Figure, dict]:
    """Forward FLOPs per token against context length: weight matmuls, attention's two matmuls, and 2N."""
    per_token = []
    for s in seqs:
        parts = encoder_flops(n_layer, d_model, n_head, d_ff, s, vocab, 1)
        per_token.append({k: parts[k] / s for k in PARTS})
    weights = [p["projections"] + p["ffn"] for p in per_token]
    attention = [p["attention"] for p in per_token]
    n = n_layer * layer_params(d_model, d_ff)
    slope = attention[-1] / seqs[-1]  # attention FLOPs per token grow linearly with seq
    crossover = weights[0] / slope
    fig = new_figure(7.0, 4.0)
    ax = fig.add_subplot()
    ax.plot(seqs, [x / 1e9 for x in weights], "o-", label="weight matmuls (Q/K/V/output projections, FFN)")
    ax.plot(seqs, [x / 1e9 for x in attention], "s-", label="attention matmuls (Q·Kᵀ and weights·V)")
    ax.axhline(2 * n / 1e9, color="C2", ls=":", lw=1.5, label=f"2N, N = {n / 1e6:.1f}M non-embedding parameters")
    ax.axvline(crossover, color="grey", ls="--", lw=1)
    ax.text(crossover, ax.get_ylim()[1] * 0.9, f"equal at seq = {crossover:,.0f}  ", color="grey", ha="right")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("context length seq (tokens)")
    ax.set_ylabel("forward GFLOPs per token")
    ax.set_title(f"Where the FLOPs go: d_model={d_model}, {n_layer} layers, d_ff={d_ff}")
    ax.legend(fontsize=8)
    return fig, {"n_params": n, "two_n": 2 * n, "weights_per_token": weights[0], "crossover_seq": crossover,
                 "head_per_token": per_token[0]["head"]}


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
    ax.set_xlabel("matrix size n  (an n×n by n×n matmul)")
    ax.set_ylabel("achieved GFLOP/s")
    ax.set_title("Achieved matmul throughput on this machine")
    ax.legend()
    return fig


def training_step(measure: benchmarking.Measure, training_flops: Callable[..., int], d_model: int = 128,
                  n_layer: int = 2, d_ff: int = 512, n_head: int = 4, batch: int = 8, seq: int = 64,
                  device: str = "cpu", repeats: int = 3) -> dict[str, Any]:
    """Time one forward + backward of an encoder stack on float inputs; its FLOPs from ``training_flops``."""
    torch.manual_seed(0)
    model = encoder_stack(n_layer, d_model, n_head, d_ff, device)
    x = torch.randn(batch, seq, d_model, device=device)  # (batch, seq, d_model), no gradient needed

    def step() -> None:
        model.zero_grad(set_to_none=True)
        model(x).sum().backward()

    seconds = measure(step, warmup=2, repeats=repeats, sync=benchmarking.sync_for(device))
    flops = training_flops(n_layer, d_model, n_head, d_ff, seq, batch)
    counted = counted_flops(step)
    return {"seconds": seconds, "flops": flops, "counted": counted, "flops_per_s": flops / seconds,
            "tokens": batch * seq}
