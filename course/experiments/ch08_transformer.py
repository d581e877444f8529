"""Demos of chapter 08: the learning-rate schedule, the error table, and cross-attention of a trained model."""

from __future__ import annotations

import html

import torch
from IPython.display import HTML
from torch import nn

from course import training
from course.blocks import Seq2SeqTransformer
from course.plotting import new_figure, show
from course.tasks import Task
from course.tokenizer import BOS

__all__ = ["schedule_figure", "error_table", "as_reference", "cross_attention", "show"]


def schedule_figure(config: training.TrainConfig):
    """The learning rate at every step of ``config``: linear warm-up, then the decay."""
    factor = training.lr_factor(config)
    steps = list(range(config.steps + 1))
    fig = new_figure(6.4, 2.8)
    ax = fig.subplots()
    ax.plot(steps, [config.lr * factor(s) for s in steps])
    ax.axvline(config.warmup_steps, color="grey", ls=":", label=f"end of warm-up ({config.warmup_steps} steps)")
    ax.set(xlabel="optimizer step", ylabel="learning rate", title=f"warm-up, then {config.decay} decay")
    ax.legend()
    return fig


def error_table(errors: list[dict], limit: int = 15) -> HTML:
    """The wrong outputs as an HTML table, with the first differing character marked."""
    if not errors:
        return HTML("<p>No wrong outputs.</p>")
    rows = []
    for e in errors[:limit]:
        exp, got = e["expected"], e["predicted"]
        i = next((k for k, (a, b) in enumerate(zip(exp, got)) if a != b), min(len(exp), len(got)))
        marked = html.escape(got[:i]) + "<b style='color:#c00'>" + html.escape(got[i:i + 1] or "∅") + "</b>" \
            + html.escape(got[i + 1:])
        rows.append(f"<tr><td>{html.escape(e['source'])}</td><td>{html.escape(exp)}</td><td>{marked}</td>"
                    f"<td>{i}</td></tr>")
    more = f"<p>… and {len(errors) - limit} more.</p>" if len(errors) > limit else ""
    return HTML("<table><tr><th>source</th><th>expected</th><th>predicted (first difference in red)</th>"
                "<th>at char</th></tr>" + "".join(rows) + "</table>" + more)


def as_reference(model: nn.Module, config: training.TrainConfig, task: Task) -> Seq2SeqTransformer:
    """The course's reference model with ``model``'s weights (same parameter names), in eval mode."""
    ref = training.build_model(config, task)
    ref.load_state_dict(model.state_dict())
    return ref.to(next(model.parameters()).device).eval()


def cross_attention(model: Seq2SeqTransformer, task: Task, number: str):
    """Greedy output for ``number`` and the cross-attention that produced it.

    Returns (query labels, key labels, weights (layers, heads, out_len, src_len)): row t is the
    decoder step that predicted output character t.
    """
    if not isinstance(number, str) or not number.isdigit():
        raise ValueError(f"number must be a string of digits, got {number!r}")
    device = next(model.parameters()).device
    batch = task.make_batch([number]).to(device)
    out = model.greedy_decode(batch.src, batch.src_lengths, task.max_target_len + 1)[0].cpu()
    text = task.target_tokenizer.decode(out.tolist())
    tgt_in = torch.tensor([[BOS] + task.target_tokenizer.encode(text)], device=device)
    weights = model.cross_attention_weights(batch.src, batch.src_lengths, tgt_in)  # per layer (1, heads, t, s)
    stacked = torch.stack([w[0] for w in weights]).cpu()  # (layers, heads, t, s)
    queries = [f"→{c}" for c in text] + ["→<eos>"]
    return queries, list(number), stacked
