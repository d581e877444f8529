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


def influence_figure(panels: dict[str, torch.Tensor], tol: float = 1e-6) -> Figure:
    """One heatmap per entry of ``panels`` (name -> influence matrix): dark = the input changes the output."""
    fig = new_figure(3.6 * len(panels), 3.6)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, matrix) in zip(axes, panels.items()):
        seq = matrix.shape[0]
        ax.imshow((matrix > tol).float().numpy(), cmap="Blues", vmin=0, vmax=1.3)
        ax.set(title=title, xlabel="input position changed", ylabel="output position",
               xticks=range(seq), yticks=range(seq))
        ax.grid(False)
    fig.tight_layout()
    return fig


def mask_figure(masks: dict[str, torch.Tensor], lengths: dict[str, int] | None = None) -> Figure:
    """One picture per mask (name -> bool (q_len, k_len)): white = may attend, dark = blocked.

    ``lengths`` (name -> true length) draws a dashed line where the padding starts.
    """
    fig = new_figure(3.2 * len(masks), 3.4)
    axes = fig.subplots(1, len(masks), squeeze=False)[0]
    for ax, (title, mask) in zip(axes, masks.items()):
        m = _as_2d_bool(mask, title)
        ax.imshow((~m).float().numpy(), cmap="Greys", vmin=0, vmax=1.25, aspect="auto")
        ax.set(title=title, xlabel="key position", ylabel="query position",
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
        print(f"{name:{width}s}  in: {ins:44s} out: {out}")


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
    ax.set(xlabel="layer (star: the stack's output, after any final LayerNorm)", ylabel="RMS of the residual stream",
           title="Residual stream through the stack")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
