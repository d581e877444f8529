"""Chapter 01's experiments: the layer being counted (drawn), where a Transformer's FLOPs go, and what this
machine achieves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch._dynamo  # noqa: F401  FlopCounterMode's first use imports it, and that rebinds torch.manual_seed:

# importing it here (in the set-up cell) keeps the grader's tamper check from blaming a test cell for PyTorch's patch
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Rectangle
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils import flop_counter
from torch.utils.flop_counter import FlopCounterMode

from course import benchmarking
from course.language import pick
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


# the colour of each part of encoder_flops in the drawing; grey: work the counter does not count
PART_COLORS = {"projections": "#bcd7f0", "attention": "#f6c89f", "ffn": "#c6e5b3", "head": "#f3c1c1",
               None: "#e6e6e6"}

# (text, part) from the token ids to the logits: the encoder language model of chapter 01's Part 3, one layer
# (nn.TransformerEncoderLayer: Post-LN, ReLU) drawn inside the frame that repeats n_layer times
LAYER_DRAWING: tuple[tuple[str, str | None], ...] = (
    ("embedding: look up row id of the (vocab, d_model) table", None),
    ("Q, K, V projections: 3 × (seq, d_model)·(d_model, d_model)", "projections"),
    ("scores Q·Kᵀ, per head: (seq, d_head)·(d_head, seq)", "attention"),
    ("softmax over each row of scores", None),
    ("weights·V, per head: (seq, seq)·(seq, d_head)", "attention"),
    ("output projection: (seq, d_model)·(d_model, d_model)", "projections"),
    ("add the layer's input, LayerNorm", None),
    ("FFN in: (seq, d_model)·(d_model, d_ff), then ReLU", "ffn"),
    ("FFN out: (seq, d_ff)·(d_ff, d_model)", "ffn"),
    ("add the FFN's input, LayerNorm", None),
    ("head: (seq, d_model)·(d_model, vocab) → logits", "head"),
)
LAYER_DRAWING_ZH = (  # the same boxes, in the Chinese edition
    "嵌入：在 (vocab, d_model) 表中查出第 id 行",
    "Q、K、V 投影：3 × (seq, d_model)·(d_model, d_model)",
    "分数 Q·Kᵀ，每个头：(seq, d_head)·(d_head, seq)",
    "对分数的每一行做 softmax",
    "权重·V，每个头：(seq, seq)·(seq, d_head)",
    "输出投影：(seq, d_model)·(d_model, d_model)",
    "加上该层的输入，层归一化",
    "前馈网络输入：(seq, d_model)·(d_model, d_ff)，再 ReLU",
    "前馈网络输出：(seq, d_ff)·(d_ff, d_model)",
    "加上前馈网络的输入，层归一化",
    "输出层：(seq, d_model)·(d_model, vocab) → logits",
)


def layer_diagram() -> Figure:
    """The encoder language model Part 3 counts, drawn box by box for one sequence (drawn, not a picture file).

    Coloured boxes are matmuls, coloured by the part of ``encoder_flops`` they belong to; grey boxes are work
    FlopCounterMode does not count. The dashed frame is one ``nn.TransformerEncoderLayer``, repeated ``n_layer``
    times; the side lines are its two residual connections (the layer's input added back).
    """
    fig = new_figure(8.4, 8.2)
    ax = fig.add_subplot()
    cx, w, h, step = 3.6, 6.6, 0.56, 0.78
    n = len(LAYER_DRAWING)
    ys = {i: (n - i) * step for i in range(n)}
    top = (n + 0.8) * step
    bottom = ys[n - 1] - 0.8 * step
    ax.text(cx, top, pick("token ids (seq,)", "词元 id (seq,)"), ha="center", va="center", fontsize=9)
    ax.annotate("", xy=(cx, ys[0] + h / 2), xytext=(cx, top - 0.15), arrowprops={"arrowstyle": "-|>", "lw": 1.0})
    for i, (text, part) in enumerate(LAYER_DRAWING):
        y = ys[i]
        ax.add_patch(FancyBboxPatch((cx - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.04", fc=PART_COLORS[part],
                                    ec="k", lw=0.8))
        ax.text(cx, y, pick(text, LAYER_DRAWING_ZH[i]), ha="center", va="center", fontsize=8.5)
        if i + 1 < n:
            ax.annotate("", xy=(cx, ys[i + 1] + h / 2), xytext=(cx, y - h / 2),
                        arrowprops={"arrowstyle": "-|>", "lw": 1.0})
    ax.text(cx, bottom, "logits (seq, vocab)", ha="center", va="center", fontsize=9)
    ax.annotate("", xy=(cx, bottom + 0.15), xytext=(cx, ys[n - 1] - h / 2), arrowprops={"arrowstyle": "-|>", "lw": 1.0})
    x_side = cx + w / 2 + 0.3
    for first, last in ((1, 6), (7, 9)):  # the two residual connections of the layer
        y0, y1 = ys[first] + step / 2, ys[last]  # from the arrow entering `first` to the add in `last`
        ax.plot([cx, x_side, x_side], [y0, y0, y1], color="k", lw=1.0)
        ax.annotate("", xy=(cx + w / 2 + 0.05, y1), xytext=(x_side, y1), arrowprops={"arrowstyle": "-|>", "lw": 1.0})
    frame_top, frame_bottom = ys[1] + step / 2 + 0.08, ys[9] - h / 2 - 0.1
    ax.add_patch(Rectangle((cx - w / 2 - 0.2, frame_bottom), w + 0.75, frame_top - frame_bottom, fill=False, ls="--",
                           lw=1.0, ec="grey"))
    ax.text(cx + w / 2 + 0.7, (ys[3] + ys[4]) / 2, pick("× n_layer:\none encoder\nlayer",
                                                        "× n_layer：\n一个编码器层"), fontsize=9, va="center",
            ha="left")
    handles = [FancyBboxPatch((0, 0), 1, 1, fc=c, ec="k", lw=0.8) for c in PART_COLORS.values()]
    ax.legend(handles, [f'"{k}"' if k else pick("not counted", "不计入") for k in PART_COLORS], fontsize=8,
              loc="center left", title=pick("part of encoder_flops",
                                            "encoder_flops 中的部分"), title_fontsize=8, frameon=False,
              bbox_to_anchor=((cx + w / 2 + 0.6) / 10.6, 0.3))
    ax.set_xlim(0.0, 10.6)
    ax.set_ylim(bottom - 0.4, top + 0.4)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(pick("The model counted in Part 3, for one sequence of seq tokens",
                      "第 3 部分计数的模型：一条含 seq 个词元的序列"), fontsize=10)
    return fig


def elementwise_share(seq: int = 1024, d_model: int = 768, n_head: int = 12, d_ff: int = 3072) -> dict[str, int]:
    """What one encoder layer computes outside its matmuls, for one sequence: the number of elements each of
    those operations touches (keyed by what the chapter prints, in the edition's language), beside the layer's
    matmul FLOPs under the key "matmul FLOPs" (closed form, 2 per multiply-add)."""
    elements = {pick("softmax (n_head·seq² scores)", "softmax（n_head·seq² 个分数）"): n_head * seq * seq,
                pick("2 LayerNorms, 2 residual adds (seq·d_model each)",
                     "2 个层归一化、2 次残差相加（各 seq·d_model 个）"): 4 * seq * d_model,
                pick("ReLU (seq·d_ff)", "ReLU（seq·d_ff 个）"): seq * d_ff}
    matmuls = 2 * seq * (4 * d_model * d_model + 2 * d_model * d_ff) + 4 * seq * seq * d_model
    return {**elements, "matmul FLOPs": matmuls}  # the key the chapter pops: the same in both editions


def attention_share_seq(d_model: int, d_ff: int | None = None, share: float = 0.1) -> float:
    """The context length at which attention's two matmuls cost ``share`` of the weight matmuls, per token.

    Per token and layer attention costs 4·seq·d_model, the weight matmuls 2·(4·d_model² + 2·d_model·d_ff):
    their ratio is seq / (2·d_model + d_ff), so the answer is share · (2·d_model + d_ff).
    """
    d_ff = 4 * d_model if d_ff is None else d_ff
    return share * (2 * d_model + d_ff)


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
    ax.plot(seqs, [x / 1e9 for x in weights], "o-", label=pick("weight matmuls (Q/K/V/output projections, FFN)",
                                                               "权重矩阵乘法（Q/K/V/输出投影、前馈网络）"))
    ax.plot(seqs, [x / 1e9 for x in attention], "s-", label=pick("attention matmuls (Q·Kᵀ and weights·V)",
                                                                 "注意力矩阵乘法（Q·Kᵀ 与 权重·V）"))
    ax.axhline(2 * n / 1e9, color="C2", ls=":", lw=1.5, label=pick(f"2N, N = {n / 1e6:.1f}M non-embedding parameters",
                                                                   f"2N，N = {n / 1e6:.1f}M 个非嵌入参数"))
    ax.axvline(crossover, color="grey", ls="--", lw=1)
    ax.text(crossover, ax.get_ylim()[1] * 0.9, pick(f"equal at seq = {crossover:,.0f}  ",
                                                    f"seq = {crossover:,.0f} 时相等  "),
            color="grey", ha="right")
    ax.set_xscale("log", base=2)
    ax.set_xlabel(pick("context length seq (tokens)", "上下文长度 seq（词元）"))
    ax.set_ylabel(pick("forward GFLOPs per token", "每个词元的前向 GFLOPs"))
    ax.set_title(pick(f"Where the FLOPs go: d_model={d_model}, {n_layer} layers, d_ff={d_ff}",
                      f"浮点运算花在哪里：d_model={d_model}，{n_layer} 层，d_ff={d_ff}"))
    ax.legend(fontsize=8)
    return fig, {"n_params": n, "two_n": 2 * n, "weights_per_token": weights[0], "crossover_seq": crossover,
                 "head_per_token": per_token[0]["head"]}


def throughput_sweep(measure: benchmarking.Measure, sizes: tuple[int, ...] = (64, 128, 256, 512, 1024),
                     device: str = "cpu", dtype: torch.dtype = torch.float32, repeats: int = 5) -> list[dict]:
    """Achieved FLOP/s of square matmuls of several sizes, timed with ``measure``."""
    return [benchmarking.matmul_throughput(n, measure, device=device, dtype=dtype, repeats=repeats) for n in sizes]


def throughput_figure(results: list[dict], peaks: dict[str, float] | None = None, best: float | None = None) -> Figure:
    """Achieved FLOP/s against matrix size; each of ``peaks`` (name -> FLOP/s) a dashed line, and ``best``
    (the best rate measured) one named in the edition's language."""
    peaks = dict(peaks or {})
    if best is not None:
        peaks[pick("best measured", "实测最佳")] = best
    fig = new_figure(7.0, 4.0)
    ax = fig.add_subplot()
    ax.plot([r["n"] for r in results], [r["flops_per_s"] / 1e9 for r in results], "o-",
            label=pick("measured (median)", "实测（中位数）"))
    for i, (name, peak) in enumerate(peaks.items()):
        ax.axhline(peak / 1e9, ls="--", lw=1, color=f"C{i + 1}", label=name)
    ax.set_xscale("log", base=2)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(pick("matrix size n  (an n×n by n×n matmul)", "矩阵大小 n（n×n 乘 n×n 的矩阵乘法）"))
    ax.set_ylabel(pick("achieved GFLOP/s", "实际达到的 GFLOP/s"))
    ax.set_title(pick("Achieved matmul throughput on this machine", "本机实际达到的矩阵乘法算力"))
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
