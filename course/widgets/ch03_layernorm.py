"""LayerNorm explorer: one token's features before and after normalisation, with gamma and beta."""

from __future__ import annotations

import html

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from course.widgets.base import FigureWidget

D_MODEL = 256


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
    controls = {
        "scale": widgets.FloatLogSlider(value=5.0, base=10, min=-3, max=2, step=0.1, description="input scale",
                                        continuous_update=False),
        "shift": widgets.FloatSlider(value=3.0, min=-20, max=20, step=0.5, description="input shift",
                                     continuous_update=False),
        "gamma": widgets.FloatSlider(value=1.0, min=-3, max=3, step=0.1, description="gamma γ",
                                     continuous_update=False),
        "beta": widgets.FloatSlider(value=0.0, min=-5, max=5, step=0.1, description="beta β",
                                    continuous_update=False),
    }

    def draw(fig: Figure, scale: float, shift: float, gamma: float, beta: float) -> str:
        x = token_features(scale, shift, seed)
        y = normalise(x, gamma, beta)
        for k, (values, title, color) in enumerate([(x, "before: the token's features", "C0"),
                                                     (y, "after LayerNorm, then γ·x̂ + β", "C1")]):
            ax = fig.add_subplot(1, 2, k + 1)
            ax.hist(values.numpy(), bins=30, color=color, alpha=0.85)
            ax.axvline(float(values.mean()), color="k", lw=1, ls="--", label=f"mean {float(values.mean()):.3g}")
            ax.set(title=title, xlabel="feature value", ylabel="number of features")
            ax.legend(fontsize=8)
        fig.tight_layout()
        std = lambda t: float(((t - t.mean()) ** 2).mean().sqrt())  # noqa: E731 - biased, as LayerNorm
        return html.escape(f"before: mean {float(x.mean()):.3g}, std {std(x):.3g}  →  after: mean "
                           f"{float(y.mean()):.3g}, std {std(y):.3g} (= |γ| = {abs(gamma):.3g} up to eps; "
                           f"mean = β = {beta:.3g})")

    return FigureWidget(draw, controls, figsize=(9.0, 3.4), title="LayerNorm explorer · 层归一化",
                        export_name="layernorm.png")
