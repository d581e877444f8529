"""LayerNorm explorer: one token's features before and after normalisation, with gamma and beta."""

from __future__ import annotations

import html

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from course.widgets.base import FigureWidget
from course.widgets.words import in_language

D_MODEL = 256

WORDS = {
    "title": "LayerNorm explorer",
    "scale": "input scale",
    "shift": "input shift",
    "gamma": "gamma γ",
    "beta": "beta β",
    "before": "before: the token's features",
    "after": "after LayerNorm, then γ·x̂ + β",
    "mean": "mean {mean}",
    "xlabel": "feature value",
    "ylabel": "number of features",
    "status": "before: mean {mean_x}, std {std_x}  →  after: mean {mean_y}, std {std_y} (= |γ| = {gamma} up to eps; "
              "mean = β = {beta})",
}
WORDS_ZH = {
    "title": "层归一化浏览器",
    "scale": "输入缩放",
    "shift": "输入平移",
    "gamma": "缩放参数 γ",
    "beta": "平移参数 β",
    "before": "之前：这个词元的特征",
    "after": "层归一化之后，再做 γ·x̂ + β",
    "mean": "均值 {mean}",
    "xlabel": "特征值",
    "ylabel": "特征个数",
    "status": "之前：均值 {mean_x}，标准差 {std_x}  →  之后：均值 {mean_y}，标准差 {std_y}（= |γ| = {gamma}，"
              "相差 eps 以内；均值 = β = {beta}）",
}


def token_features(scale: float, shift: float, seed: int = 0) -> torch.Tensor:
    """A token's d_model features: skewed random values, then scaled and shifted."""
    g = torch.Generator().manual_seed(seed)
    raw = torch.randn(D_MODEL, generator=g) + 0.6 * torch.randn(D_MODEL, generator=g).abs()  # (d_model,)
    return raw * scale + shift


def normalise(x: torch.Tensor, gamma: float, beta: float, eps: float = 1e-5) -> torch.Tensor:
    mean = x.mean()
    var = ((x - mean) ** 2).mean()  # biased, as LayerNorm
    return (x - mean) / torch.sqrt(var + eps) * gamma + beta


def layernorm_explorer(seed: int = 0) -> FigureWidget:
    """Sliders: the input token's scale and shift, then gamma and beta (one value for all features)."""
    L = in_language(WORDS, WORDS_ZH)
    controls = {
        "scale": widgets.FloatLogSlider(value=5.0, base=10, min=-3, max=2, step=0.1, description=L["scale"],
                                        continuous_update=False),
        "shift": widgets.FloatSlider(value=3.0, min=-20, max=20, step=0.5, description=L["shift"],
                                     continuous_update=False),
        "gamma": widgets.FloatSlider(value=1.0, min=-3, max=3, step=0.1, description=L["gamma"],
                                     continuous_update=False),
        "beta": widgets.FloatSlider(value=0.0, min=-5, max=5, step=0.1, description=L["beta"],
                                    continuous_update=False),
    }

    def draw(fig: Figure, scale: float, shift: float, gamma: float, beta: float) -> str:
        x = token_features(scale, shift, seed)
        y = normalise(x, gamma, beta)
        for k, (values, title, color) in enumerate([(x, L["before"], "C0"), (y, L["after"], "C1")]):
            ax = fig.add_subplot(1, 2, k + 1)
            ax.hist(values.numpy(), bins=30, color=color, alpha=0.85)
            ax.axvline(float(values.mean()), color="k", lw=1, ls="--",
                       label=L["mean"].format(mean=f"{float(values.mean()):.3g}"))
            ax.set(title=title, xlabel=L["xlabel"], ylabel=L["ylabel"])
            ax.legend(fontsize=8)
        fig.tight_layout()
        std = lambda t: float(((t - t.mean()) ** 2).mean().sqrt())  # noqa: E731 - biased, as LayerNorm
        return html.escape(L["status"].format(mean_x=f"{float(x.mean()):.3g}", std_x=f"{std(x):.3g}",
                                              mean_y=f"{float(y.mean()):.3g}", std_y=f"{std(y):.3g}",
                                              gamma=f"{abs(gamma):.3g}", beta=f"{beta:.3g}"))

    return FigureWidget(draw, controls, figsize=(9.0, 3.4), title=L["title"], export_name="layernorm.png")
