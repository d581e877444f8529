"""RoPE rotation explorer, and a view of the sinusoidal table and its dot products."""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from course.experiments.ch06_position_encoding import frequencies, sinusoidal_positions
from course.widgets.base import FigureWidget

D_HEAD = 16


def _rotate(pair: np.ndarray, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([c * pair[0] - s * pair[1], s * pair[0] + c * pair[1]])


def rope_explorer(seed: int = 0) -> FigureWidget:
    """Sliders: query position m, key position n, frequency index i, base, and a shift applied to both."""
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(D_HEAD, generator=g, dtype=torch.float64).numpy()
    k = torch.randn(D_HEAD, generator=g, dtype=torch.float64).numpy()
    controls = {
        "m": widgets.IntSlider(value=2, min=0, max=64, description="query pos m", continuous_update=False),
        "n": widgets.IntSlider(value=5, min=0, max=64, description="key pos n", continuous_update=False),
        "i": widgets.IntSlider(value=0, min=0, max=D_HEAD // 2 - 1, description="frequency i",
                               continuous_update=False),
        "base": widgets.FloatLogSlider(value=10000.0, base=10, min=1, max=5, step=0.25, description="base",
                                       continuous_update=False),
        "shift": widgets.IntSlider(value=0, min=0, max=200, description="shift both", continuous_update=False),
    }

    def score(m: float, n: float, base: float) -> float:
        theta = frequencies(D_HEAD, base).numpy()
        total = 0.0
        for j in range(D_HEAD // 2):
            total += float(_rotate(q[2 * j:2 * j + 2], m * theta[j]) @ _rotate(k[2 * j:2 * j + 2], n * theta[j]))
        return total

    def draw(fig: Figure, m: int, n: int, i: int, base: float, shift: int) -> str:
        theta = frequencies(D_HEAD, base).numpy()
        mm, nn_ = m + shift, n + shift
        ax = fig.add_subplot(1, 2, 1)
        qi, ki = q[2 * i:2 * i + 2], k[2 * i:2 * i + 2]
        rq, rk = _rotate(qi, mm * theta[i]), _rotate(ki, nn_ * theta[i])
        lim = 1.15 * max(np.linalg.norm(qi), np.linalg.norm(ki))
        circle = np.linspace(0, 2 * np.pi, 200)
        for vec, color, style, label in [(qi, "C0", ":", "q pair"), (ki, "C3", ":", "k pair"),
                                         (rq, "C0", "-", f"R_{mm} q"), (rk, "C3", "-", f"R_{nn_} k")]:
            ax.annotate("", xy=vec, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": color, "ls": style,
                                                               "lw": 2 if style == "-" else 1})
            ax.plot([], [], color=color, ls=style, label=label)
        ax.plot(np.linalg.norm(qi) * np.cos(circle), np.linalg.norm(qi) * np.sin(circle), color="C0", lw=0.5)
        ax.plot(np.linalg.norm(ki) * np.cos(circle), np.linalg.norm(ki) * np.sin(circle), color="C3", lw=0.5)
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal",
               title=f"features {2 * i}, {2 * i + 1}: θ_{i} = {theta[i]:.3g} rad/position")
        ax.legend(fontsize=7, loc="lower right")
        ax2 = fig.add_subplot(1, 2, 2)
        offsets = np.arange(-64, 65)
        ax2.plot(offsets, [score(0, o, base) for o in offsets], color="C2")
        here = score(mm, nn_, base)
        ax2.plot([n - m], [here], "o", color="C3", ms=8)
        ax2.set(xlabel="offset n - m", ylabel="score <R_m q, R_n k> (all 8 pairs)",
                title=f"base {base:.3g}: the score depends on n - m only")
        fig.tight_layout()
        unshifted = score(m, n, base)
        return html.escape(f"m = {mm}, n = {nn_} (shifted by {shift}): score {here:.6f}; "
                           f"at m = {m}, n = {n}: {unshifted:.6f}; difference {abs(here - unshifted):.1e}")

    return FigureWidget(draw, controls, figsize=(10.0, 4.2), title="RoPE rotation explorer · 旋转位置编码",
                        export_name="rope.png")


def sinusoidal_explorer() -> FigureWidget:
    """Sliders for the number of positions and d: the table as an image and its dot-product matrix."""
    controls = {
        "positions": widgets.IntSlider(value=64, min=8, max=256, step=8, description="positions",
                                       continuous_update=False),
        "d": widgets.IntSlider(value=32, min=2, max=128, step=2, description="d_model", continuous_update=False),
    }

    def draw(fig: Figure, positions: int, d: int) -> str:
        table = sinusoidal_positions(positions, d)
        ax1, ax2 = fig.subplots(1, 2)
        ax1.imshow(table.numpy(), aspect="auto", cmap="RdBu", vmin=-1, vmax=1)
        ax1.set(title="PE(p, j)", xlabel="feature j", ylabel="position p")
        ax1.grid(False)
        im = ax2.imshow((table @ table.T).numpy(), cmap="viridis")
        fig.colorbar(im, ax=ax2, fraction=0.046)
        ax2.set(title="PE(p) · PE(q)", xlabel="position q", ylabel="position p")
        ax2.grid(False)
        fig.tight_layout()
        return html.escape(f"{positions} positions × {d} features; every row has squared norm d/2 = {d / 2:g}")

    return FigureWidget(draw, controls, figsize=(10.0, 4.0), title="Sinusoidal table · 正弦位置编码",
                        export_name="sinusoidal.png")
