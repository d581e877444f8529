"""The experiments' figures speak the edition's language: in the Chinese edition their titles, labels and
notes are Chinese, and every glyph is in the course's CJK font (a missing glyph is a warning on stderr,
which nbgrader counts as a failed cell)."""

from __future__ import annotations

import re
import warnings

import matplotlib.text
import pytest
import torch

from course.experiments import (
    ch01_compute,
    ch02_tensors,
    ch03_layernorm,
    ch04_dropout_residual,
    ch05_attention,
    ch06_position_encoding,
    ch07_encoder_decoder,
    ch08_transformer,
)
from course.language import use_language
from course.plotting import figure_png, new_figure
from course.training import TrainConfig

CJK = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]")


def _dropout(x, p, training=True, generator=None):
    """Inverted dropout, for drawing chapter 04's figure."""
    if not training or p == 0:
        return x
    keep = torch.rand(x.shape, generator=generator) >= p
    return x * keep / (1 - p)


def _figures():
    """Each chapter's main figures, cheap ones: (name, figure)."""
    table = ch06_position_encoding.sinusoidal_positions(64, 16)
    masks = {"causal": torch.ones(4, 4, dtype=torch.bool).tril()}
    return [
        ("ch01 layer diagram", ch01_compute.layer_diagram()),
        ("ch01 throughput", ch01_compute.throughput_figure([{"n": 64, "flops_per_s": 1e9},
                                                             {"n": 128, "flops_per_s": 2e9}], {"peak": 3e9})),
        ("ch02 softmax", ch02_tensors.softmax_scale_experiment(lambda x, dim=-1: torch.softmax(x, dim))[0]),
        ("ch03 blocks", ch03_layernorm.block_diagrams(dropout=True)),
        ("ch04 dropout", ch04_dropout_residual.dropout_statistics(_dropout, n=1000, ps=(0.0, 0.5))[0]),
        ("ch04 train vs eval", ch04_dropout_residual.train_vs_eval(_dropout, passes=50)[0]),
        ("ch05 saturation", ch05_attention.saturation_experiment(d_values=(4, 16))[0]),
        ("ch06 dot products", ch06_position_encoding.dot_product_figure(table, max_offset=20)[0]),
        ("ch06 properties", ch06_position_encoding.properties_figure(ch06_position_encoding.five_properties(
            n=16, long=32, d=8))),
        ("ch07 data flow", ch07_encoder_decoder.data_flow_figure()),
        ("ch07 masks", ch07_encoder_decoder.mask_figure(masks)),
        ("ch08 training loop", ch08_transformer.training_loop_diagram()),
        ("ch08 schedule", ch08_transformer.schedule_figure(TrainConfig())[0]),
        ("ch08 tying", ch08_transformer.tying_figure()[0]),
    ]


def _words(fig) -> list[str]:
    """The figure's titles, axis labels, legend entries and notes (tick labels left out)."""
    ticks = {id(t) for ax in fig.axes for t in ax.get_xticklabels() + ax.get_yticklabels()}
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if id(t) not in ticks and t.get_text()]


def test_every_experiment_figure_is_chinese_in_the_chinese_edition_without_a_missing_glyph():
    with use_language("zh"), warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font" is a warning
        figures = _figures()
        for name, fig in figures:
            assert figure_png(fig)[:4] == b"\x89PNG", name
    for name, fig in figures:
        assert any(CJK.search(w) for w in _words(fig)), f"{name}: no Chinese words in {_words(fig)}"
        titles = [ax.get_title() for ax in fig.axes] + [ax.get_xlabel() for ax in fig.axes]
        assert any(CJK.search(t) for t in titles + [ax.get_ylabel() for ax in fig.axes]) or not fig.axes[0].axison, \
            f"{name}: its titles and axis labels stay English: {titles}"


def test_the_english_edition_keeps_english_figures():
    with use_language("en"):
        figures = [ch01_compute.layer_diagram(), ch07_encoder_decoder.data_flow_figure(),
                   ch08_transformer.tying_figure()[0]]
    for fig in figures:
        assert not any(CJK.search(w) for w in _words(fig))


def test_a_character_outside_the_course_font_is_caught():
    """The check above can fail: a glyph the subset lacks raises matplotlib's warning."""
    fig = new_figure()
    fig.add_subplot().set_title("龘")
    with warnings.catch_warnings(), pytest.raises(UserWarning, match="missing"):
        warnings.simplefilter("error")
        figure_png(fig)


def test_the_capstones_printed_scores_and_splits_speak_the_editions_language():
    from course.evaluation import EvalResult
    from course.tasks import Task

    scores = EvalResult(split="hard", exact=0.5, token_accuracy=0.75, bleu=40.0, count=8, errors=[])
    with use_language("en"):
        assert scores.summary() == ("hard (stratified test): exact 50.00%  token acc 75.00%  BLEU 40.00  "
                                    "(8 examples, 0 errors shown)")
        assert Task.split_label("short") == "short (seen in training)"
    with use_language("zh"):
        assert scores.summary() == "hard（分层测试集）：完全匹配 50.00%  逐词准确率 75.00%  BLEU 40.00（8 个样例，列出 0 个错误）"
        assert Task.split_label("short") == "short（训练中见过）"


def test_printed_names_align_by_terminal_columns():
    from course.language import columns, ljust, rjust

    assert columns("不缩放") == 6 and columns("no scale") == 8 and columns("（1）") == 5
    assert rjust("不缩放", 8) == "  不缩放" and rjust("no scale", 10) == f"{'no scale':>10}"
    assert ljust("是", 4) == "是  " and ljust("no", 4) == f"{'no':<4}"
