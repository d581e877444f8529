"""Experiments of chapter 02 (tensors: reductions, broadcasting, strides).

Each experiment takes the student's function as an argument, runs in well under a second on a
CPU and returns ``(figure, stats)``: a matplotlib Figure and the numbers behind it, which the
notebook prints so that the prose never quotes a number it did not measure.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from matplotlib.figure import Figure

from course.language import pick
from course.plotting import new_figure, show  # noqa: F401  (show: used as ex.show in the notebook)
from course.widgets.ch02_tensors import draw_layout

_Tensor = torch.Tensor


def naive_softmax(x: _Tensor, dim: int = -1) -> _Tensor:
    """softmax straight from the formula: exp, then divide by the sum. Overflows for large logits."""
    e = torch.exp(x)
    return e / e.sum(dim=dim, keepdim=True)


def softmax_scale_experiment(stable_softmax: Callable[..., _Tensor], logits: tuple[float, ...] = (1.0, 2.0, 3.0, 0.5),
                             scales: _Tensor | None = None) -> tuple[Figure, dict[str, float]]:
    """Softmax of ``scale * logits`` for growing scales, naive vs stable, in float32.

    Returns the figure (probability of the largest logit vs scale) and stats: the first scale
    at which the naive version returns NaN, and the stable probability of the top logit there.
    """
    if scales is None:
        scales = torch.logspace(-1, 3, 60)
    scales = torch.as_tensor(scales, dtype=torch.float32)
    if scales.dim() != 1 or scales.numel() < 2 or bool((scales <= 0).any()):
        raise ValueError("scales must be a 1-D tensor of at least two positive numbers")
    base = torch.tensor(logits, dtype=torch.float32)  # (k,)
    if base.dim() != 1 or base.numel() < 2:
        raise ValueError("logits must hold at least two numbers")
    x = scales[:, None] * base[None, :]  # (n_scales, k)
    top = int(base.argmax())
    naive = naive_softmax(x)[:, top]  # (n_scales,)
    stable = stable_softmax(x, dim=-1)[:, top]
    broken = torch.isnan(naive)
    first_nan = float(scales[broken][0]) if bool(broken.any()) else float("nan")

    fig = new_figure(6.4, 3.6)
    ax = fig.add_subplot()
    ax.plot(scales, stable, lw=2.5, color="#1f77b4", label=pick("stable_softmax (max subtracted)",
                                                                   "stable_softmax（减去最大值）"))
    ok = ~broken
    ax.plot(scales[ok], naive[ok], ls="--", lw=1.5, color="#ff7f0e", label=pick("naive softmax", "朴素 softmax"))
    ax.scatter(scales[broken], torch.full((int(broken.sum()),), 0.02), marker="x", color="#d62728", s=18,
               label=pick("naive softmax returns NaN", "朴素 softmax 返回 NaN"))
    ax.set_xscale("log")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel(pick("scale s (logits = s x ", "缩放系数 s（logits = s x ") + str(list(logits)) + pick(")", "）"))
    ax.set_ylabel(pick("probability of the largest logit", "最大 logit 的概率"))
    ax.set_title(pick("softmax of ever larger logits, float32", "logits 越来越大时的 softmax（float32）"))
    ax.legend(loc="center left", fontsize=8)
    stats = {"first_nan_scale": first_nan,
             "top_logit_at_first_nan": first_nan * float(base.max()),
             "largest_finite_logit": float(x[ok].max()) if bool(ok.any()) else float("nan"),
             "stable_top_prob_at_first_nan": float(stable[broken][0]) if bool(broken.any()) else float("nan")}
    return fig, stats


def _loop_sq_distances(x: _Tensor, y: _Tensor) -> _Tensor:
    out = torch.empty(x.shape[0], y.shape[0])
    for i in range(x.shape[0]):
        for j in range(y.shape[0]):
            out[i, j] = ((x[i] - y[j]) ** 2).sum()
    return out


def _best_time(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def distance_timing_experiment(pairwise_sq_distances: Callable[[_Tensor, _Tensor], _Tensor],
                               sizes: tuple[int, ...] = (5, 10, 20, 40, 80), d: int = 16,
                               seed: int = 0) -> tuple[Figure, dict[str, float]]:
    """Time a double Python loop against the student's broadcasting version for n x n points."""
    if len(sizes) < 2 or any(not isinstance(n, int) or n < 1 for n in sizes):
        raise ValueError("sizes must be at least two positive ints")
    g = torch.Generator().manual_seed(seed)
    loop_s, bcast_s = [], []
    for n in sizes:
        x = torch.randn(n, d, generator=g)
        y = torch.randn(n, d, generator=g)
        loop_s.append(_best_time(lambda: _loop_sq_distances(x, y), 1 if n > 20 else 3))  # noqa: B023 - run now
        bcast_s.append(_best_time(lambda: pairwise_sq_distances(x, y), 5))  # noqa: B023 - run now
    fig = new_figure(6.4, 3.6)
    ax = fig.add_subplot()
    ax.plot(sizes, [t * 1e3 for t in loop_s], "o-", label=pick("double Python loop", "两层 Python 循环"))
    ax.plot(sizes, [t * 1e3 for t in bcast_s], "s-", label=pick("pairwise_sq_distances (broadcasting)",
                                                                 "pairwise_sq_distances（广播）"))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(list(sizes), [str(n) for n in sizes])
    ax.minorticks_off()
    ax.set_xlabel(pick(f"n (n x n distances, d = {d})", f"n（n x n 个距离，d = {d}）"))
    ax.set_ylabel(pick("time (ms, best of a few runs)", "时间（ms，几次运行中最快的一次）"))
    ax.set_title(pick("Same numbers, very different cost", "结果相同，代价迥异"))
    ax.legend(fontsize=8)
    stats = {"n": sizes[-1], "loop_ms": loop_s[-1] * 1e3, "broadcast_ms": bcast_s[-1] * 1e3,
             "speedup": loop_s[-1] / bcast_s[-1]}
    return fig, stats


def layout_title(name: str, view: _Tensor) -> str:
    """``"t.T: shape (4, 3), strides (1, 4)"``: the view named ``name``, its shape and strides, in the edition's
    language."""
    shape, strides = tuple(view.shape), view.stride()
    return pick(f"{name}: shape {shape}, strides {strides}", f"{name}：形状 {shape}，步长 {strides}")


def head_label() -> str:
    """The title of each slice of a (heads, seq, d_head) view: ``"head {}"``, formatted with the head's index."""
    return pick("head {}", "头 {}")


def layout_figure(view: _Tensor, storage_size: int, highlight: int | None = None, title: str = "",
                  slice_label: str = "view[{}]", figsize: tuple[float, float] = (7.0, 3.6),
                  name: str | None = None) -> Figure:
    """A static picture of a view of ``torch.arange(storage_size)``: grid above the storage strip.

    ``name`` (code such as ``"t.T"``), when given without a ``title``, titles the figure with the view's name,
    shape and strides (:func:`layout_title`).
    """
    if not isinstance(view, _Tensor) or view.dtype.is_floating_point or view.dtype == torch.bool:
        raise ValueError("layout_figure expects an integer tensor whose values are storage positions")
    if name is not None and not title:
        title = layout_title(name, view)
    fig = new_figure(*figsize)
    draw_layout(fig, view, storage_size, highlight, title=title, slice_label=slice_label)
    return fig
