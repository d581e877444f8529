"""Dropout mask explorer (chapter 04): a grid of ones after dropout, with p, seed and mode controls."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
import torch

from course.widgets.base import FigureWidget
from course.widgets.words import in_language

WORDS = {
    "title": "Dropout mask explorer",
    "mode": "mode",
    "train": "train",
    "eval": "eval",
    "seed": "seed",
    "figure_title": "dropout(ones({rows}, {cols}), p={p}), {mode} mode",
    "column": "column",
    "row": "row",
    "output": "output value",
    "measured": "measured",
    "expected": "expected",
    "kept": "fraction\nkept",
    "mean": "mean",
    "bars_title": "measured vs expected",
    "survivors": "survivors = {scale}",
    "no_survivors": "no survivors",
    "status": "{mode}, p = {p}, seed {seed}: kept {kept} of {total} ({percent}%, expected {expected_percent}%), "
              "{survivors}, mean {mean} (expected {expected_mean})",
}
WORDS_ZH = {
    "title": "dropout 掩码浏览器",
    "mode": "模式",
    "train": "训练",
    "eval": "评估",
    "seed": "种子",
    "figure_title": "dropout(ones({rows}, {cols}), p={p})，{mode}模式",
    "column": "列",
    "row": "行",
    "output": "输出值",
    "measured": "实测",
    "expected": "期望",
    "kept": "保留\n比例",
    "mean": "均值",
    "bars_title": "实测与期望",
    "survivors": "保留者 = {scale}",
    "no_survivors": "没有保留者",
    "status": "{mode}，p = {p}，种子 {seed}：保留 {kept} / {total}（{percent}%，期望 {expected_percent}%），"
              "{survivors}，均值 {mean}（期望 {expected_mean}）",
}


def _reference_dropout(x: torch.Tensor, p: float, training: bool = True,
                       generator: torch.Generator | None = None) -> torch.Tensor:
    """Inverted dropout, used when no dropout function is given."""
    if not training or p == 0:
        return x
    if p == 1:
        return torch.zeros_like(x)
    keep = torch.rand(x.shape, generator=generator) >= p  # same shape as x
    return x * keep / (1 - p)


def dropout_explorer(dropout_fn: Callable | None = None, rows: int = 10, cols: int = 24) -> FigureWidget:
    """A FigureWidget showing ``dropout_fn(ones(rows, cols), p, training, generator)``.

    ``dropout_fn`` has the signature of the chapter's ``dropout(x, p, training, generator)``;
    None uses a built-in reference. Controls: ``p`` (0..1), ``seed`` (the generator's seed) and
    ``mode`` ("train" or "eval").
    """
    if dropout_fn is not None and not callable(dropout_fn):
        raise ValueError(f"dropout_fn must be callable or None, got {type(dropout_fn).__name__}")
    for name, value in (("rows", rows), ("cols", cols)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 200:
            raise ValueError(f"{name} must be an int between 1 and 200, got {value!r}")
    fn = dropout_fn or _reference_dropout
    L = in_language(WORDS, WORDS_ZH)

    def draw(fig, p: float, seed: int, mode: str) -> str:
        training = mode == "train"
        x = torch.ones(rows, cols)                                         # (rows, cols)
        out = fn(x, p, training=training, generator=torch.Generator().manual_seed(seed)).detach()
        kept = (out != 0).float()
        frac_kept, mean = kept.mean().item(), out.mean().item()
        scale = 1.0 / (1.0 - p) if (training and p < 1) else 1.0
        ax_grid, ax_bar = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1.2]})
        image = ax_grid.imshow(out.numpy(), cmap="viridis", vmin=0.0, vmax=max(scale, 1.0) * 1.05)
        ax_grid.set(title=L["figure_title"].format(rows=rows, cols=cols, p=f"{p:.2f}", mode=L[mode]),
                    xlabel=L["column"], ylabel=L["row"])
        ax_grid.grid(False)
        fig.colorbar(image, ax=ax_grid, fraction=0.03, pad=0.02, label=L["output"])
        expected_kept = 1.0 - p if training else 1.0
        expected_mean = 0.0 if (training and p == 1) else 1.0  # p = 1 keeps nothing to rescale
        ax_bar.bar([0, 1], [frac_kept, mean], color=["C0", "C1"], width=0.6, label=L["measured"])
        ax_bar.scatter([0, 1], [expected_kept, expected_mean], color="k", marker="_", s=600, zorder=3,
                       label=L["expected"])
        ax_bar.set_xticks([0, 1], [L["kept"], L["mean"]])
        ax_bar.set(ylim=(0, max(1.6, 1.15 * mean)), title=L["bars_title"])
        ax_bar.legend(loc="upper right", fontsize=8)
        fig.tight_layout()
        survivors = L["survivors"].format(scale=f"{scale:.4f}") if frac_kept > 0 else L["no_survivors"]
        return L["status"].format(mode=L[mode], p=f"{p:.2f}", seed=seed, kept=int(kept.sum()), total=rows * cols,
                                  percent=f"{100 * frac_kept:.1f}", expected_percent=f"{100 * expected_kept:.0f}",
                                  survivors=survivors, mean=f"{mean:.4f}", expected_mean=f"{expected_mean:g}")

    controls = {
        "p": widgets.FloatSlider(value=0.3, min=0.0, max=1.0, step=0.05, description="p",
                                 continuous_update=False, readout_format=".2f"),
        "seed": widgets.IntSlider(value=0, min=0, max=50, description=L["seed"], continuous_update=False),
        "mode": widgets.ToggleButtons(options=[(L[mode], mode) for mode in ("train", "eval")], value="train",
                                      description=L["mode"]),
    }
    return FigureWidget(draw, controls, figsize=(10.0, 3.4), title=L["title"], export_name="dropout_mask.png")
