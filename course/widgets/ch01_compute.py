"""Roofline explorer: attainable FLOP/s = min(peak, arithmetic intensity × memory bandwidth)."""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from course.hardware import A100_SXM, H100_SXM
from course.widgets.base import FigureWidget

OPERATIONS = {
    # name -> (FLOPs, elements moved) for size n
    "matmul (n×n)·(n×n)": (lambda n: 2.0 * n ** 3, lambda n: 3.0 * n * n),
    "matrix-vector (n×n)·(n)": (lambda n: 2.0 * n * n, lambda n: n * n + 2.0 * n),
    "elementwise add of two n×n": (lambda n: 1.0 * n * n, lambda n: 3.0 * n * n),
}


def devices(measured: dict | None = None) -> dict[str, tuple[float, float, int]]:
    """Device name -> (peak FLOP/s, bytes/s, bytes per element)."""
    out = {}
    if measured:
        out["this machine (measured, fp32)"] = (measured["peak"], measured["bandwidth"], 4)
    out["A100 SXM, fp32"] = (A100_SXM.peak("fp32"), A100_SXM.memory_bandwidth, 4)
    out["A100 SXM, bf16"] = (A100_SXM.peak("bf16"), A100_SXM.memory_bandwidth, 2)
    out["H100 SXM, fp32"] = (H100_SXM.peak("fp32"), H100_SXM.memory_bandwidth, 4)
    out["H100 SXM, bf16"] = (H100_SXM.peak("bf16"), H100_SXM.memory_bandwidth, 2)
    return out


def intensity(operation: str, n: int, bytes_per_element: int) -> float:
    flops, elements = OPERATIONS[operation]
    return flops(n) / (elements(n) * bytes_per_element)


def draw_roofline(fig: Figure, peak: float, bandwidth: float, point: tuple[float, str] | None = None,
                  measured_points: list[tuple[float, float, str]] = (), title: str = "") -> dict[str, float]:
    ax = fig.add_subplot()
    xs = np.logspace(-2, 4, 200)
    ax.plot(xs, np.minimum(peak, xs * bandwidth) / 1e12, color="k", lw=2, label="roof: min(peak, I × bandwidth)")
    ridge = peak / bandwidth
    ax.axvline(ridge, color="grey", ls=":", lw=1)
    low = min(peak, xs[0] * bandwidth) / 1e12
    ax.annotate(f"ridge {ridge:.3g} FLOP/B", (ridge, (low * peak / 1e12) ** 0.5), textcoords="offset points",
                xytext=(5, 0), color="grey")
    info = {"ridge": ridge}
    if point is not None:
        i, label = point
        attainable = min(peak, i * bandwidth)
        ax.plot([i], [attainable / 1e12], "o", color="C3", ms=9, label=f"{label}: I = {i:.3g} FLOP/B")
        info.update(intensity=i, attainable=attainable)
    for k, (i, achieved, label) in enumerate(measured_points):
        ax.plot([i], [achieved / 1e12], "x", color="C0", ms=8, mew=2)
        ax.annotate(label, (i, achieved / 1e12), textcoords="offset points", xytext=(-10, -16 if k % 2 else 8),
                    fontsize=8, color="C0")
    if measured_points:
        ax.plot([], [], "x", color="C0", mew=2, label="measured on this machine")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity I (FLOPs per byte moved)")
    ax.set_ylabel("attainable TFLOP/s")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    return info


def roofline(measured: dict | None = None, n: int = 1024) -> FigureWidget:
    """A widget: pick a device, an operation and its size; see where it sits under the roof.

    measured: optional dict with ``peak`` (best measured FLOP/s), ``bandwidth`` (measured bytes/s)
    and ``points`` (list of (intensity, achieved FLOP/s, label)) from this machine.
    """
    options = devices(measured)
    device = widgets.Dropdown(options=list(options), description="device", layout=widgets.Layout(width="300px"))
    operation = widgets.Dropdown(options=list(OPERATIONS), description="operation",
                                 layout=widgets.Layout(width="320px"))
    if n < 2 or n > 2 ** 14:
        raise ValueError(f"n must be between 2 and {2 ** 14}, got {n}")
    size = widgets.IntSlider(value=int(round(np.log2(n))), min=1, max=14, description="log2 n",
                             continuous_update=False)

    def draw(fig: Figure, device: str, operation: str, size: int) -> str:
        peak, bandwidth, nbytes = options[device]
        n = 2 ** size
        i = intensity(operation, n, nbytes)
        points = measured.get("points", []) if measured and device.startswith("this machine") else []
        info = draw_roofline(fig, peak, bandwidth, (i, f"{operation}, n={n}"), points,
                             title=f"Roofline of {device}")
        bound = "compute-bound" if i >= info["ridge"] else "memory-bound"
        return html.escape(f"n = {n}: intensity {i:.3g} FLOP/B, ridge {info['ridge']:.3g} FLOP/B → {bound}; "
                           f"attainable {info['attainable'] / 1e12:.3g} of {peak / 1e12:.3g} TFLOP/s peak")

    return FigureWidget(draw, {"device": device, "operation": operation, "size": size}, figsize=(7.5, 4.5),
                        title="Roofline explorer · 屋顶线模型", export_name="roofline.png")
