"""A view of the sinusoidal table and its dot products (the RoPE view is course.widgets.rope_view)."""

from __future__ import annotations

import html

import ipywidgets as widgets
from matplotlib.figure import Figure

from course.experiments.ch06_position_encoding import sinusoidal_positions
from course.widgets.base import FigureWidget
from course.widgets.words import in_language

WORDS = {
    "title": "Sinusoidal table",
    "positions": "positions",
    "feature": "feature j",
    "position_p": "position p",
    "position_q": "position q",
    "status": "{positions} positions × {d} features; every row has squared norm d/2 = {half}",
}
WORDS_ZH = {
    "title": "正弦位置编码表",
    "positions": "位置数",
    "feature": "特征 j",
    "position_p": "位置 p",
    "position_q": "位置 q",
    "status": "{positions} 个位置 × {d} 个特征；每一行的平方范数都是 d/2 = {half}",
}


def sinusoidal_explorer() -> FigureWidget:
    """Sliders for the number of positions and d: the table as an image and its dot-product matrix."""
    L = in_language(WORDS, WORDS_ZH)
    controls = {
        "positions": widgets.IntSlider(value=64, min=8, max=256, step=8, description=L["positions"],
                                       continuous_update=False),
        "d": widgets.IntSlider(value=32, min=2, max=128, step=2, description="d_model", continuous_update=False),
    }

    def draw(fig: Figure, positions: int, d: int) -> str:
        table = sinusoidal_positions(positions, d)
        ax1, ax2 = fig.subplots(1, 2)
        ax1.imshow(table.numpy(), aspect="auto", cmap="RdBu", vmin=-1, vmax=1)
        ax1.set(title="PE(p, j)", xlabel=L["feature"], ylabel=L["position_p"])
        ax1.grid(False)
        im = ax2.imshow((table @ table.T).numpy(), cmap="viridis")
        fig.colorbar(im, ax=ax2, fraction=0.046)
        ax2.set(title="PE(p) · PE(q)", xlabel=L["position_q"], ylabel=L["position_p"])
        ax2.grid(False)
        fig.tight_layout()
        return html.escape(L["status"].format(positions=positions, d=d, half=f"{d / 2:g}"))

    return FigureWidget(draw, controls, figsize=(10.0, 4.0), title=L["title"], export_name="sinusoidal.png")
