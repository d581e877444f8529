"""Chapter 07's demos: which positions a layer lets influence which, masks as pictures, the shapes
flowing through a stack, and how the residual stream grows in a Pre-LN stack.

Every function takes the modules or masks to look at as arguments (usually the student's own), so
nothing here depends on the exercises being solved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from matplotlib.figure import Figure
from torch import nn

from course.language import pick
from course.plotting import new_figure, show  # noqa: F401  (show: used as ex.show in the notebook)


def _as_2d_bool(mask: torch.Tensor, name: str) -> torch.Tensor:
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        raise TypeError(f"{name}: expected a bool tensor, got {getattr(mask, 'dtype', type(mask).__name__)}")
    while mask.dim() > 2 and mask.shape[0] == 1:
        mask = mask[0]
    if mask.dim() != 2:
        raise ValueError(f"{name}: expected a (q_len, k_len) mask (leading size-1 dims allowed), "
                         f"got {tuple(mask.shape)}")
    return mask


@torch.no_grad()
def influence(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Which input positions change which output positions.

    fn maps x (batch, seq, d_model) to (batch, seq, d_model); entry [t, k] of the result (seq, seq) is the
    largest change of output position t when only input position k is perturbed.
    """
    if not isinstance(x, torch.Tensor) or x.dim() != 3:
        raise ValueError(f"x must be a (batch, seq, d_model) tensor, got {getattr(x, 'shape', type(x).__name__)}")
    g = torch.Generator().manual_seed(seed)
    base = fn(x)  # (batch, seq, d_model)
    columns = []
    for k in range(x.shape[1]):
        x2 = x.clone()
        x2[:, k] += torch.randn(x.shape[0], x.shape[2], generator=g, dtype=x.dtype)
        columns.append((fn(x2) - base).abs().amax(dim=(0, 2)))  # (seq,): change of each output position
    return torch.stack(columns, dim=1)  # (seq out, seq in)


def influence_titles() -> tuple[str, str, str]:
    """The titles of the three influence panels: an encoder layer, a decoder layer with its causal mask, and the
    same decoder layer without it."""
    return (pick("encoder layer", "编码器层"), pick("decoder layer, causal mask", "解码器层，带因果掩码"),
            pick("decoder layer, no mask", "解码器层，不带掩码"))


def influence_figure(panels: dict[str, torch.Tensor], tol: float = 1e-6) -> Figure:
    """One heatmap per entry of ``panels`` (name -> influence matrix): dark = the input changes the output."""
    fig = new_figure(3.6 * len(panels), 3.6)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, matrix) in zip(axes, panels.items()):
        seq = matrix.shape[0]
        ax.imshow((matrix > tol).float().numpy(), cmap="Blues", vmin=0, vmax=1.3)
        ax.set(title=title, xlabel=pick("input position changed", "被改动的输入位置"),
               ylabel=pick("output position", "输出位置"),
               xticks=range(seq), yticks=range(seq))
        ax.grid(False)
    fig.tight_layout()
    return fig


def mask_titles(full: int, short: int) -> tuple[str, str, str]:
    """The titles of the mask pictures of a batch of a ``full``-token and a ``short``-token sentence: the target
    mask of each, and the memory mask of the short source."""
    return (pick(f"target mask, length {full}", f"目标序列掩码，长度 {full}"),
            pick(f"target mask, length {short}", f"目标序列掩码，长度 {short}"),
            pick(f"memory mask, source length {short}", f"记忆掩码，源序列长度 {short}"))


def attention_title() -> str:
    """The attention view's title: the stacks run on the second sentence of the batch."""
    return pick("Your encoder and decoder, sentence 2", "你的编码器和解码器，第 2 个句子")


def mask_figure(masks: dict[str, torch.Tensor], lengths: dict[str, int] | None = None) -> Figure:
    """One picture per mask (name -> bool (q_len, k_len)): white = may attend, dark = blocked.

    ``lengths`` (name -> true length) draws a dashed line where the padding starts.
    """
    fig = new_figure(3.2 * len(masks), 3.4)
    axes = fig.subplots(1, len(masks), squeeze=False)[0]
    for ax, (title, mask) in zip(axes, masks.items()):
        m = _as_2d_bool(mask, title)
        ax.imshow((~m).float().numpy(), cmap="Greys", vmin=0, vmax=1.25, aspect="auto")
        ax.set(title=title, xlabel=pick("key position", "键的位置"), ylabel=pick("query position", "查询的位置"),
               xticks=range(m.shape[1]), yticks=range(m.shape[0]))
        ax.grid(False)
        if lengths and title in lengths:
            ax.axvline(lengths[title] - 0.5, color="tab:red", ls="--", lw=1.2)
    fig.tight_layout()
    return fig


def _shape(t: Any) -> str:
    return "x".join(map(str, t.shape)) + (" bool" if t.dtype == torch.bool else "")


def trace_shapes(model: nn.Module, *inputs: Any, depth: int = 3,
                 skip: tuple[type, ...] = (nn.Dropout,)) -> list[tuple[str, str, str]]:
    """Run ``model(*inputs)`` and record the tensor shapes going into and out of its parts.

    Parts are the submodules whose dotted name has at most ``depth`` components (``layers.0.self_attn``
    has 3), except instances of ``skip``. Returns (name, "input shapes", "output shape") rows in the
    order the parts finished, then a row for the whole model.
    """
    rows: list[tuple[str, str, str]] = []
    handles = []

    def describe(args: tuple) -> str:
        return ", ".join(_shape(a) for a in args if isinstance(a, torch.Tensor))

    for name, module in model.named_modules():
        if not name or name.count(".") >= depth or isinstance(module, skip):
            continue

        def hook(mod, args, out, name=name):
            if isinstance(out, torch.Tensor):
                rows.append((name, describe(args), _shape(out)))
        handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            out = model(*inputs)
    finally:
        for h in handles:
            h.remove()
    rows.append((f"({type(model).__name__})", describe(inputs), _shape(out)))
    return rows


def print_trace(rows: list[tuple[str, str, str]]) -> None:
    width = max(len(name) for name, _, _ in rows)
    for name, ins, out in rows:
        print(f"{name:{width}s}  {pick('in:', '输入：')} {ins:44s} {pick('out:', '输出：')} {out}")


def stream_rms(stack: nn.Module, x: torch.Tensor, *args: Any) -> list[float]:
    """Root mean square of the residual stream after each layer of ``stack.layers``, then of the output."""
    layers = getattr(stack, "layers", None)
    if not isinstance(layers, nn.ModuleList):
        raise TypeError(f"expected a stack with an nn.ModuleList `layers`, got {type(stack).__name__}")
    values: list[float] = []
    handles = [layer.register_forward_hook(lambda m, a, out: values.append(float(out.pow(2).mean().sqrt())))
               for layer in layers]
    try:
        with torch.no_grad():
            out = stack(x, *args)
    finally:
        for h in handles:
            h.remove()
    return values + [float(out.pow(2).mean().sqrt())]


def stream_figure(curves: dict[str, list[float]]) -> Figure:
    """RMS of the residual stream per layer (last point: the stack's output) for each named stack."""
    fig = new_figure(6.0, 3.6)
    ax = fig.subplots()
    for (name, values), style in zip(curves.items(), ("o-", "s--", "^-.", "d:")):
        layers = list(range(1, len(values)))
        line, = ax.plot(layers, values[:-1], style, label=name)
        ax.plot([len(values)], [values[-1]], "*", ms=12, color=line.get_color())
    ax.set(xlabel=pick("layer (star: the stack's output, after any final LayerNorm)",
                       "层（星号：整个堆叠的输出，在最终层归一化之后）"),
           ylabel=pick("RMS of the residual stream", "残差流的均方根"),
           title=pick("Residual stream through the stack", "穿过堆叠的残差流"))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------ the data-flow diagram

def _example_pictures() -> dict[str, Any]:
    """Small schematic masks for the diagram (a source of 4 real tokens out of 6, a target of 4 out of 5):
    numpy pictures, True = may attend."""
    import numpy as np

    src_keys = np.arange(6) < 4  # (S,)
    tgt_keys = np.arange(5) < 4  # (T,)
    causal = np.tri(5, 5, dtype=bool)  # (T, T), query i sees keys 0..i
    return {"encoder": np.broadcast_to(src_keys, (6, 6)), "self": causal & tgt_keys,
            "cross": np.broadcast_to(src_keys, (5, 6))}


def _picture(mask: Any, name: str) -> Any:
    if isinstance(mask, torch.Tensor):
        return _as_2d_bool(mask, name).numpy()
    return mask


def data_flow_figure(encoder_mask: Any = None, self_mask: Any = None, cross_mask: Any = None) -> Figure:
    """The encoder-decoder data flow, with the mask each attention block uses drawn beside it.

    The masks (bool (q_len, k_len) tensors, white = may attend) default to small schematic examples: a
    source of 4 real tokens out of 6 and a target of 4 real tokens out of 5. Pass your own (for instance
    ``source_mask(...)[b, 0].expand(S, S)``) to see them in place.
    """
    from matplotlib.patches import FancyBboxPatch

    pictures = _example_pictures()
    for key, given in (("encoder", encoder_mask), ("self", self_mask), ("cross", cross_mask)):
        if given is not None:
            pictures[key] = _picture(given, f"{key} mask")
    fig = new_figure(11.0, 7.2)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set(xlim=(0, 110), ylim=(0, 72))
    ax.axis("off")

    def box(x, y, w, h, text, color, size=9):
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.4,rounding_size=1.2",
                                    fc=color, ec="0.25", lw=1.0))
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size)

    def arrow(x0, y0, x1, y1, text="", color="0.2", style="-|>", **kw):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle=style, color=color, lw=1.4, shrinkA=0, shrinkB=0, **kw))
        if text:
            ax.text((x0 + x1) / 2 + 0.8, (y0 + y1) / 2, text, fontsize=8, color=color, va="center")

    def mask_inset(x, y, size, key, title):
        m = pictures[key]
        q, k = m.shape
        w, h = size * k / max(q, k), size * q / max(q, k)
        inset = ax.inset_axes((x, y, w, h), transform=ax.transData)
        inset.imshow(~m, cmap="Greys", vmin=0, vmax=1.25, aspect="auto")
        inset.set_xticks([])
        inset.set_yticks([])
        ax.text(x + w / 2, y + h + 1.0, title, ha="center", va="bottom", fontsize=7.5, color="tab:red")
        return x, y + h / 2

    # the two stacks
    ax.add_patch(FancyBboxPatch((6, 14), 30, 32, boxstyle="round,pad=0.6", fc="#eef3fb", ec="0.4", ls="--"))
    ax.text(7, 44.5, pick("encoder layer  × N", "编码器层  × N"), fontsize=9, style="italic", va="top")
    ax.add_patch(FancyBboxPatch((60, 14), 30, 44, boxstyle="round,pad=0.6", fc="#fbf1e8", ec="0.4", ls="--"))
    ax.text(61, 56.5, pick("decoder layer  × N", "解码器层  × N"), fontsize=9, style="italic", va="top")
    box(9, 17, 24, 8, pick("self-attention\nQ, K, V: the source", "自注意力\nQ、K、V：源序列"), "#cfe0f7")
    box(9, 31, 24, 8, pick("feed-forward\n(each token alone)", "前馈网络\n（每个词元单独处理）"), "#d9ecd9")
    box(63, 17, 24, 8, pick("masked self-attention\nQ, K, V: the target", "掩码自注意力\nQ、K、V：目标序列"), "#f7dcc4")
    box(63, 30, 24, 8, pick("cross-attention\nQ: decoder · K, V: memory", "交叉注意力\nQ：解码器 · K、V：记忆"),
        "#f2c9c9")
    box(63, 43, 24, 8, pick("feed-forward\n(each token alone)", "前馈网络\n（每个词元单独处理）"), "#d9ecd9")
    box(9, 50, 24, 5, pick("final LayerNorm (Pre-LN only)", "最终层归一化（仅 Pre-LN）"), "white", size=8)
    box(63, 62, 24, 5, pick("final LayerNorm (Pre-LN only)", "最终层归一化（仅 Pre-LN）"), "white", size=8)
    # inputs and outputs
    box(9, 2, 24, 6, pick("source tokens  (B, S, d)", "源序列词元  (B, S, d)"), "white")
    box(63, 2, 24, 6, pick("target tokens, shifted right\n(B, T, d)", "目标序列词元，右移一位\n(B, T, d)"), "white")
    arrow(21, 8.4, 21, 16.6)
    arrow(21, 25.4, 21, 30.6)
    arrow(21, 39.4, 21, 49.6, pick("+ residual, dropout,\n  LayerNorm each", "+ 残差、dropout，\n  各自层归一化"),
          color="0.35")
    arrow(75, 8.4, 75, 16.6)
    arrow(75, 25.4, 75, 29.6)
    arrow(75, 38.4, 75, 42.6)
    arrow(75, 51.4, 75, 61.6)
    arrow(75, 67.4, 75, 71.0)
    ax.text(76, 70, pick("(B, T, d): to the output layer (chapter 08)",
                         "(B, T, d)：送往输出层（第 08 章）"), fontsize=8, va="center")
    # the memory: the encoder's output goes to the cross-attention of every decoder layer
    arrow(21, 55.4, 21, 60.5, style="-")
    arrow(21, 60.5, 45, 60.5, style="-")
    arrow(45, 60.5, 45, 34, style="-")
    arrow(45, 34, 62.6, 34, color="tab:purple")
    ax.text(46, 36.2, pick("memory (B, S, d):\nK and V of every\ndecoder layer",
                           "记忆 (B, S, d)：\n每个解码器层的\nK 和 V"),
            fontsize=7.5, color="tab:purple",
            va="bottom")
    ax.text(22, 62, pick("encoder output = memory", "编码器输出 = 记忆"), fontsize=8, color="tab:purple")
    # the masks, beside the attention block that uses them
    for (x, y), target in [(mask_inset(38.5, 16, 7.5, "encoder", pick("source padding\n(B, 1, 1, S)",
                                                                      "源序列填充\n(B, 1, 1, S)")),
                            (33.4, 21)),
                           (mask_inset(94.5, 15, 7.5, "self", pick("causal & target\npadding (B, 1, T, T)",
                                                                   "因果 & 目标序列\n填充 (B, 1, T, T)")),
                            (87.4, 21)),
                           (mask_inset(94.5, 31, 7.5, "cross", pick("source padding\n(B, 1, 1, S): T × S",
                                                                    "源序列填充\n(B, 1, 1, S)：T × S")),
                            (87.4, 34))]:
        arrow(x - 0.2, y, *target, color="tab:red", style="-|>", ls=":")
    ax.text(55, 0.6, pick("masks: white = may attend, dark = blocked; rows = queries, columns = keys "
                          "(example: source 4 of 6 tokens real, target 4 of 5)",
                          "掩码：白 = 可以关注，深色 = 被屏蔽；行 = 查询，列 = 键"
                          "（示例：源序列 6 个词元中 4 个是真实的，目标序列 5 个中 4 个）"),
            ha="center", fontsize=7.5, color="0.3")
    return fig
