"""Roofline explorer: attainable FLOP/s = min(peak, arithmetic intensity × memory bandwidth)."""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from course.hardware import A100_SXM, H100_SXM
from course.widgets.base import FigureWidget
from course.widgets.words import in_language

OPERATIONS = {
    # name -> (FLOPs, elements moved) for size n
    "matmul (n×n)·(n×n)": (lambda n: 2.0 * n ** 3, lambda n: 3.0 * n * n),
    "matrix-vector (n×n)·(n)": (lambda n: 2.0 * n * n, lambda n: n * n + 2.0 * n),
    "elementwise add of two n×n": (lambda n: 1.0 * n * n, lambda n: 3.0 * n * n),
}


THIS_MACHINE = "this machine (measured, fp32)"

WORDS = {
    "title": "Roofline explorer",
    "device": "device",
    "operation": "operation",
    "roof": "roof: min(peak, I × bandwidth)",
    "ridge": "ridge {ridge} FLOP/B",
    "point": "{label}: I = {i} FLOP/B",
    "point_label": "{operation}, n={n}",
    "measured": "measured on this machine",
    "xlabel": "arithmetic intensity I (FLOPs per byte moved)",
    "ylabel": "attainable TFLOP/s",
    "figure_title": "Roofline of {device}",
    "compute-bound": "compute-bound",
    "memory-bound": "memory-bound",
    "status": "n = {n}: intensity {i} FLOP/B, ridge {ridge} FLOP/B → {bound}; attainable {attainable} of {peak} "
              "TFLOP/s peak",
}
WORDS_ZH = {
    "title": "屋顶线模型浏览器",
    "device": "设备",
    "operation": "运算",
    "roof": "屋顶：min(峰值, I × 带宽)",
    "ridge": "脊点 {ridge} FLOP/B",
    "point": "{label}：I = {i} FLOP/B",
    "point_label": "{operation}，n={n}",
    "measured": "在本机实测",
    "xlabel": "算术强度 I（每搬运一字节做的 FLOP 数）",
    "ylabel": "可达到的 TFLOP/s",
    "figure_title": "{device} 的屋顶线",
    "compute-bound": "受算力限制",
    "memory-bound": "受带宽限制",
    "status": "n = {n}：强度 {i} FLOP/B，脊点 {ridge} FLOP/B → {bound}；可达到 {attainable} TFLOP/s，峰值 {peak} "
              "TFLOP/s",
    # the names in the menus
    THIS_MACHINE: "本机（实测，fp32）",
    "matmul (n×n)·(n×n)": "矩阵乘法 (n×n)·(n×n)",
    "matrix-vector (n×n)·(n)": "矩阵乘向量 (n×n)·(n)",
    "elementwise add of two n×n": "两个 n×n 矩阵逐元素相加",
}


def devices(measured: dict | None = None) -> dict[str, tuple[float, float, int]]:
    """Device name -> (peak FLOP/s, bytes/s, bytes per element)."""
    out = {}
    if measured:
        out[THIS_MACHINE] = (measured["peak"], measured["bandwidth"], 4)
    out["A100 SXM, fp32"] = (A100_SXM.peak("fp32"), A100_SXM.memory_bandwidth, 4)
    out["A100 SXM, bf16"] = (A100_SXM.peak("bf16"), A100_SXM.memory_bandwidth, 2)
    out["H100 SXM, fp32"] = (H100_SXM.peak("fp32"), H100_SXM.memory_bandwidth, 4)
    out["H100 SXM, bf16"] = (H100_SXM.peak("bf16"), H100_SXM.memory_bandwidth, 2)
    return out


def intensity(operation: str, n: int, bytes_per_element: int) -> float:
    flops, elements = OPERATIONS[operation]
    return flops(n) / (elements(n) * bytes_per_element)


def draw_roofline(fig: Figure, peak: float, bandwidth: float, point: tuple[float, str] | None = None,
                  measured_points: list[tuple[float, float, str]] = (), title: str = "",
                  words: dict[str, str] | None = None) -> dict[str, float]:
    L = words or in_language(WORDS, WORDS_ZH)
    ax = fig.add_subplot()
    xs = np.logspace(-2, 4, 200)
    ax.plot(xs, np.minimum(peak, xs * bandwidth) / 1e12, color="k", lw=2, label=L["roof"])
    ridge = peak / bandwidth
    ax.axvline(ridge, color="grey", ls=":", lw=1)
    low = min(peak, xs[0] * bandwidth) / 1e12
    ax.annotate(L["ridge"].format(ridge=f"{ridge:.3g}"), (ridge, (low * peak / 1e12) ** 0.5),
                textcoords="offset points", xytext=(5, 0), color="grey")
    info = {"ridge": ridge}
    if point is not None:
        i, label = point
        attainable = min(peak, i * bandwidth)
        ax.plot([i], [attainable / 1e12], "o", color="C3", ms=9, label=L["point"].format(label=label, i=f"{i:.3g}"))
        info.update(intensity=i, attainable=attainable)
    for k, (i, achieved, label) in enumerate(measured_points):
        ax.plot([i], [achieved / 1e12], "x", color="C0", ms=8, mew=2)
        ax.annotate(label, (i, achieved / 1e12), textcoords="offset points", xytext=(-10, -16 if k % 2 else 8),
                    fontsize=8, color="C0")
    if measured_points:
        ax.plot([], [], "x", color="C0", mew=2, label=L["measured"])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(L["xlabel"])
    ax.set_ylabel(L["ylabel"])
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    return info


def roofline(measured: dict | None = None, n: int = 1024) -> FigureWidget:
    """A widget: pick a device, an operation and its size; see where it sits under the roof.

    measured: optional dict with ``peak`` (best measured FLOP/s), ``bandwidth`` (measured bytes/s)
    and ``points`` (list of (intensity, achieved FLOP/s, label)) from this machine.
    """
    L = in_language(WORDS, WORDS_ZH)
    options = devices(measured)
    # the menus show the edition's names; each name leads back to the device or operation it stands for
    device_names = {L.get(name, name): name for name in options}
    operation_names = {L.get(name, name): name for name in OPERATIONS}
    device = widgets.Dropdown(options=list(device_names), description=L["device"],
                              layout=widgets.Layout(width="300px"))
    operation = widgets.Dropdown(options=list(operation_names), description=L["operation"],
                                 layout=widgets.Layout(width="320px"))
    if n < 2 or n > 2 ** 14:
        raise ValueError(f"n must be between 2 and {2 ** 14}, got {n}")
    size = widgets.IntSlider(value=int(round(np.log2(n))), min=1, max=14, description="log2 n",
                             continuous_update=False)

    def draw(fig: Figure, device: str, operation: str, size: int) -> str:
        shown_device, shown_operation = device, operation
        device, operation = device_names[device], operation_names[operation]
        peak, bandwidth, nbytes = options[device]
        n = 2 ** size
        i = intensity(operation, n, nbytes)
        points = measured.get("points", []) if measured and device == THIS_MACHINE else []
        info = draw_roofline(fig, peak, bandwidth, (i, L["point_label"].format(operation=shown_operation, n=n)), points,
                             title=L["figure_title"].format(device=shown_device), words=L)
        bound = L["compute-bound" if i >= info["ridge"] else "memory-bound"]
        return html.escape(L["status"].format(n=n, i=f"{i:.3g}", ridge=f"{info['ridge']:.3g}", bound=bound,
                                              attainable=f"{info['attainable'] / 1e12:.3g}", peak=f"{peak / 1e12:.3g}"))

    return FigureWidget(draw, {"device": device, "operation": operation, "size": size}, figsize=(7.5, 4.5),
                        title=L["title"], export_name="roofline.png")
