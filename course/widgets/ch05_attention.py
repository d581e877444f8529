"""Attention-map explorer: a heatmap of attention weights with token labels, masks and temperature.

Give it either the raw scores (pre-softmax logits) of one or more layers and heads, or weights that
are already softmaxed (they are turned back into logits with log, so temperature and masks still
work), or a function that computes scores from tokens (then a text box lets you type a sentence).
The same widget shows a trained model's cross-attention in chapter 08.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from course.widgets.base import FigureWidget

ScoresFn = Callable[[list[str]], torch.Tensor]
PAD = "<pad>"


def as_4d(t: torch.Tensor, name: str) -> torch.Tensor:
    """(q, k) / (heads, q, k) / (layers, heads, q, k) -> (layers, heads, q, k)."""
    if not isinstance(t, torch.Tensor) or t.dim() not in (2, 3, 4):
        raise ValueError(f"{name} must be a tensor of shape (q, k), (heads, q, k) or (layers, heads, q, k)")
    while t.dim() < 4:
        t = t[None]
    return t.detach().to("cpu", torch.float64)


def attention_weights(logits: torch.Tensor, temperature: float = 1.0, causal: bool = False,
                      key_allowed: torch.Tensor | None = None) -> torch.Tensor:
    """softmax(logits / temperature) over keys, after masking; fully masked rows become zeros."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    q_len, k_len = logits.shape[-2:]
    allowed = torch.ones(q_len, k_len, dtype=torch.bool)
    if causal:
        allowed &= torch.ones(q_len, k_len, dtype=torch.bool).tril(k_len - q_len)
    if key_allowed is not None:
        allowed &= key_allowed[None, :]
    scaled = (logits / temperature).masked_fill(~allowed, float("-inf"))
    return torch.softmax(scaled, dim=-1).nan_to_num(0.0)


def row_entropy(weights: torch.Tensor) -> torch.Tensor:
    return -(weights * torch.log(weights.clamp_min(1e-30))).sum(-1)


def draw_map(fig: Figure, weights: torch.Tensor, queries: Sequence[str], keys: Sequence[str], title: str) -> None:
    grid = fig.add_gridspec(1, 2, width_ratios=[max(len(keys), 1), 2.2], wspace=0.05)
    ax = fig.add_subplot(grid[0, 0])
    ax.imshow(weights.numpy(), cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(keys)), [str(k) for k in keys], rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(queries)), [str(q) for q in queries], fontsize=8)
    ax.set_xlabel("key (attended to)")
    ax.set_ylabel("query (attending)")
    ax.grid(False)
    top = weights.argmax(-1)
    for i, j in enumerate(top.tolist()):
        if weights[i].sum() > 0:
            ax.plot(j, i, marker="s", ms=7, mfc="none", mec="C3", mew=1.2)
    ax.set_title(title, fontsize=10)
    ent = fig.add_subplot(grid[0, 1], sharey=ax)
    ent.barh(range(len(queries)), row_entropy(weights).numpy(), color="C1")
    ent.axvline(math.log(max(len(keys), 1)), color="grey", ls=":", lw=1)
    ent.set_xlabel("entropy (nats)")
    ent.tick_params(labelleft=False)


def attention_map(tokens: Sequence[str] | None = None, *, scores: torch.Tensor | None = None,
                  weights: torch.Tensor | None = None, key_tokens: Sequence[str] | None = None,
                  scores_fn: ScoresFn | None = None, title: str = "Attention map") -> FigureWidget:
    """An attention-map widget.

    tokens: the query tokens (and the keys too, unless key_tokens is given: cross-attention).
    Exactly one of: scores (pre-softmax logits), weights (softmaxed; zeros stay masked), or
    scores_fn (tokens -> scores, enables the sentence box). Shapes: (q, k), (heads, q, k) or
    (layers, heads, q, k). Controls: sentence (with scores_fn), layer, head, causal mask,
    padding mask (keys equal to "<pad>"), temperature (divides the logits).
    """
    given = [x is not None for x in (scores, weights, scores_fn)]
    if sum(given) != 1:
        raise ValueError("give exactly one of scores=, weights= or scores_fn=")
    if scores_fn is not None:
        if tokens is None:
            raise ValueError("scores_fn needs initial tokens")
        if key_tokens is not None:
            raise ValueError("with scores_fn the keys are the typed tokens (self-attention)")
    elif tokens is None:
        raise ValueError("tokens (the query labels) are required")

    state: dict = {}

    def load(query_tokens: list[str]) -> str | None:
        if scores_fn is not None:
            logits = as_4d(scores_fn(query_tokens), "scores_fn(tokens)")
        elif scores is not None:
            logits = as_4d(scores, "scores")
        else:
            w = as_4d(weights, "weights")
            logits = torch.log(w).masked_fill(w == 0, float("-inf"))
        keys = list(key_tokens) if key_tokens is not None else list(query_tokens)
        if logits.shape[-2:] != (len(query_tokens), len(keys)):
            raise ValueError(f"attention of shape {tuple(logits.shape[-2:])} does not fit {len(query_tokens)} "
                             f"query tokens and {len(keys)} key tokens")
        state.update(logits=logits, queries=list(query_tokens), keys=keys)
        return None

    load(list(tokens))
    n_layers, n_heads = state["logits"].shape[:2]
    controls: dict[str, widgets.ValueWidget] = {}
    if scores_fn is not None:
        controls["sentence"] = widgets.Text(value=" ".join(tokens), description="sentence",
                                            continuous_update=False, layout=widgets.Layout(width="420px"))
    controls["layer"] = widgets.IntSlider(value=0, min=0, max=n_layers - 1, description="layer",
                                          disabled=n_layers == 1, continuous_update=False)
    controls["head"] = widgets.IntSlider(value=0, min=0, max=n_heads - 1, description="head",
                                         disabled=n_heads == 1, continuous_update=False)
    controls["causal"] = widgets.Checkbox(value=False, description="causal mask")
    controls["padding"] = widgets.Checkbox(value=True, description=f"mask {PAD} keys")
    controls["temperature"] = widgets.FloatLogSlider(value=1.0, base=10, min=-1, max=1, step=0.05,
                                                     description="temperature", continuous_update=False)

    def draw(fig: Figure, layer: int, head: int, causal: bool, padding: bool, temperature: float,
             sentence: str | None = None) -> str:
        if sentence is not None and sentence.split() != state["queries"]:
            words = sentence.split()
            if not words:
                return "<span style='color:#c0392b'>type at least one word</span>"
            try:
                load(words)
            except ValueError as err:
                return f"<span style='color:#c0392b'>{html.escape(str(err))}</span>"
        logits = state["logits"]
        layer, head = min(layer, logits.shape[0] - 1), min(head, logits.shape[1] - 1)
        keys = state["keys"]
        key_allowed = torch.tensor([k != PAD for k in keys]) if padding else None
        w = attention_weights(logits[layer, head], temperature, causal, key_allowed)
        draw_map(fig, w, state["queries"], keys, f"{title}: layer {layer}, head {head}, T = {temperature:.2g}")
        tops = [f"{q}→{keys[j]}" for q, j, row in zip(state["queries"], w.argmax(-1).tolist(), w) if row.sum() > 0]
        return html.escape(f"mean row entropy {float(row_entropy(w).mean()):.3f} nats (uniform: "
                           f"{math.log(len(keys)):.3f}); top key per query: " + ", ".join(tops))

    widget = FigureWidget(draw, controls, figsize=(8.0, 5.0), title="Attention map explorer · 注意力图",
                          export_name="attention_map.png")
    return widget
