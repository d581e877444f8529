"""The interactive views (course.widgets.attention_view, course.widgets.rope_view), their Python side.

What the browser receives (spec and binary buffers), the masks as the model used them, the entropy
measured over the keys a row may see, the size of what is sent, the static picture that survives
export, the RoPE view's sanity check and fallback note, and that nothing is drawn while grading.
The browser side (hover, click, keyboard, draw time) is tests/test_browser.py.
"""

from __future__ import annotations

import base64
import json
import math
import re

import nbformat
import numpy as np
import pytest
import torch
from torch import nn

from course import blocks
from course.attention import MultiHeadAttention
from course.experiments import ch05_attention as ex
from course.experiments.ch06_position_encoding import _rope
from course.language import use_language
from course.notebook import GRADING_ENV
from course.widgets import attention_view as av
from course.widgets import base as fw
from course.widgets import (
    ch01_compute,
    ch02_tensors,
    ch03_layernorm,
    ch04_dropout_residual,
    ch06_position_encoding,
    ch08_transformer,
)
from course.widgets import rope_view as rv

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(autouse=True)
def _not_grading(monkeypatch):
    monkeypatch.delenv(GRADING_ENV, raising=False)


def _floats(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4")


# ------------------------------------------------------------------------------------- data sent

def test_arrays_reach_the_browser_as_log_weights_and_a_mask():
    scores = torch.randn(2, 3, 4, 5, generator=torch.Generator().manual_seed(0))
    view = av.attention_view(list("abcd"), scores=scores, key_tokens=list("vwxyz"), title="t")
    (block,) = view.spec["blocks"]
    assert (block["layers"], block["heads"], block["nq"], block["nk"], block["kind"]) == (2, 3, 4, 5, "cross")
    assert block["queries"] == list("abcd") and block["keys"] == list("vwxyz") and block["dk"] == 0
    logw = _floats(view.logw).reshape(2, 3, 4, 5)
    np.testing.assert_allclose(np.exp(logw), torch.softmax(scores, -1).numpy(), rtol=1e-5)
    assert view.allowed == bytes([1] * 20) and view.qk == b""
    assert view.spec["labels"] is av.LABELS or view.spec["labels"] == av.LABELS
    with pytest.raises(ValueError, match="exactly one"):
        av.attention_view(list("abc"))
    with pytest.raises(ValueError, match="does not fit"):
        av.attention_view(list("ab"), scores=torch.zeros(3, 3))


def test_softmaxed_weights_keep_their_zeros_as_masked_keys():
    w = torch.tensor([[0.5, 0.5, 0.0], [0.2, 0.8, 0.0]])
    view = av.attention_view(["q0", "q1"], weights=w, key_tokens=["k0", "k1", "k2"])
    assert view.spec["blocks"][0]["mask"] == "padding"
    torch.testing.assert_close(view.weights(), w.double())


def test_typing_a_sentence_recomputes_the_view():
    view = av.attention_view(ex.toy_tokens(), scores_fn=ex.toy_scores, title="Hand-built layer")
    assert view.spec["sentence_box"] and view.sentence == " ".join(ex.toy_tokens())
    view.sentence = "a b a c <pad>"
    assert view.spec["blocks"][0]["queries"] == ["a", "b", "a", "c", "<pad>"]
    assert view.spec["blocks"][0]["offers_padding"] and view.spec["error"] == ""
    view.sentence = "   "
    assert "at least one word" in view.spec["error"]


# ------------------------------------------------------------------------------------- masks and entropy

def test_causal_is_offered_for_self_attention_only():
    self_view = av.attention_view(list("abc"), scores=torch.zeros(3, 3))
    cross_view = av.attention_view(list("abc"), scores=torch.zeros(3, 4), key_tokens=list("wxyz"))
    assert self_view.spec["blocks"][0]["offers_causal"] is True
    assert cross_view.spec["blocks"][0]["offers_causal"] is False
    # a toggle that is not offered changes nothing
    torch.testing.assert_close(cross_view.weights(causal=True), cross_view.weights(causal=False))
    causal = self_view.weights(causal=True)
    torch.testing.assert_close(causal[0], torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))
    # already causal: nothing to offer
    already = av.attention_view(list("abc"), scores=torch.zeros(3, 3), mask=torch.ones(3, 3, dtype=torch.bool).tril())
    assert already.spec["blocks"][0]["mask"] == "causal" and not already.spec["blocks"][0]["offers_causal"]


@pytest.mark.parametrize("allowed, self_attention, kind", [
    (torch.ones(3, 3, dtype=torch.bool), True, "none"),
    (torch.ones(3, 3, dtype=torch.bool).tril(), True, "causal"),
    (torch.tensor([True, True, False])[None].expand(3, 3), True, "padding"),
    (torch.ones(3, 3, dtype=torch.bool).tril() & torch.tensor([True, True, False]), True, "causal_padding"),
    (torch.ones(2, 4, dtype=torch.bool).tril(2), True, "causal"),  # lower-right causal, q_len != k_len
    (torch.eye(3, dtype=torch.bool), True, "custom"),
])
def test_masks_are_named_for_what_they_are(allowed, self_attention, kind):
    assert av.mask_kind(allowed, self_attention) == kind


def test_entropy_is_measured_over_the_keys_a_row_may_see():
    tokens = ["a", "b", "c", "<pad>", "<pad>"]
    view = av.attention_view(tokens, scores=torch.zeros(5, 5))  # uniform over whatever is allowed
    ent, top = view.entropy(padding=True)
    torch.testing.assert_close(ent, torch.full((5,), math.log(3), dtype=torch.float64))
    torch.testing.assert_close(top, torch.full((5,), math.log(3), dtype=torch.float64))
    ent, top = view.entropy(padding=True, causal=True)
    want = torch.tensor([0.0, math.log(2), math.log(3), math.log(3), math.log(3)], dtype=torch.float64)
    torch.testing.assert_close(ent, want)
    torch.testing.assert_close(top, want)
    ent, top = view.entropy(padding=False)
    torch.testing.assert_close(top, torch.full((5,), math.log(5), dtype=torch.float64))
    # a row that may see no key: weights zero, entropy and its maximum 0 (the old reference line said log k)
    none = av.attention_view(["a", "b"], scores=torch.zeros(2, 2), key_tokens=["x", "y"],
                             mask=torch.tensor([[False, False], [True, True]]))
    ent, top = none.entropy()
    assert none.weights()[0].sum() == 0 and ent[0] == 0 and top[0] == 0 and top[1] == pytest.approx(math.log(2))


def test_old_helpers_keep_their_meaning():
    from course.widgets import ch05_attention as am

    logits = torch.tensor([[0.0, 1.0, 2.0]])
    assert am.row_entropy(am.attention_weights(logits, temperature=0.1)) < 0.01
    assert am.row_entropy(am.attention_weights(logits, temperature=10.0)) > 1.0
    assert torch.equal(am.attention_weights(torch.zeros(1, 2), key_allowed=torch.tensor([False, False])),
                       torch.zeros(1, 2))


# ------------------------------------------------------------------------------------- from modules

def test_a_traced_layer_sends_its_queries_and_keys():
    torch.manual_seed(0)
    words = ex.toy_tokens()
    layer = MultiHeadAttention(16, 4)
    x = ex.word_embeddings(words, 16)
    mask = torch.tensor([True] * 8 + [False] * 2)[None, None, None, :]
    view = av.attention_of(layer, lambda: layer(x, x, x, mask), tokens=words)
    (block,) = view.blocks
    assert block.kind == "self" and block.mask == "padding" and block.d_k == 4
    assert block.q.shape == (1, 4, 10, 4) and block.k.shape == (1, 4, 10, 4)
    scores = block.q @ block.k.transpose(-2, -1) / 2.0
    w = av.attention_weights(scores[0], allowed=block.allowed)
    torch.testing.assert_close(w.float(), layer.last_weights[0].float(), atol=1e-5, rtol=0)
    torch.testing.assert_close(view.weights(head=2).float(), layer.last_weights[0, 2].float(), atol=1e-5, rtol=0)
    spec = view.spec["blocks"][0]
    assert spec["dk"] == 4 and len(view.qk) == 4 * (1 * 4 * (10 + 10) * 4)


def test_a_layer_whose_projections_do_not_explain_its_weights_gets_no_breakdown():
    class Shuffled(MultiHeadAttention):  # heads taken from interleaved features: not the usual split
        def forward(self, query, key, value, mask=None):
            b, n, d = query.shape
            q = self.q_proj(query).view(b, n, -1, self.n_heads).transpose(1, 3).transpose(2, 3)
            k = self.k_proj(key).view(b, key.shape[1], -1, self.n_heads).transpose(1, 3).transpose(2, 3)
            v = self.v_proj(value).view(b, key.shape[1], -1, self.n_heads).transpose(1, 3).transpose(2, 3)
            w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), -1)
            self.last_weights = w.detach()
            return self.out_proj((w @ v).transpose(1, 2).reshape(b, n, d))

    torch.manual_seed(0)
    layer = Shuffled(8, 2)
    x = torch.randn(1, 5, 8)
    view = av.attention_of(layer, lambda: layer(x, x, x), tokens=list("abcde"))
    assert view.blocks[0].q is None and "no score breakdown" in view.blocks[0].note
    assert view.spec["blocks"][0]["dk"] == 0


def test_encoder_and_decoder_give_three_blocks_with_their_masks():
    torch.manual_seed(0)
    encoder = blocks.Encoder(2, 16, 4, 32, 0.0).eval()
    decoder = blocks.Decoder(2, 16, 4, 32, 0.0).eval()
    src, tgt = torch.randn(2, 6, 16), torch.randn(2, 4, 16)
    src_m = blocks.padding_mask(torch.tensor([6, 4]), 6)

    def run():
        decoder(tgt, encoder(src, src_m), src_m)

    src_tokens = ["s0", "s1", "s2", "s3", "<pad>", "<pad>"]
    view = av.attention_of({"encoder": encoder, "decoder": decoder}, run, tokens=list("abcd"),
                           source_tokens=src_tokens, batch=1)
    names = [(b.name, b.kind, b.mask, b.logits.shape[:2], b.query_seq, b.key_seq) for b in view.blocks]
    assert names == [("encoder self-attention", "self", "padding", (2, 4), "source", "source"),
                     ("decoder self-attention", "self", "causal", (2, 4), "target", "target"),
                     ("decoder cross-attention", "cross", "padding", (2, 4), "target", "source")]
    assert all(b.d_k == 4 for b in view.blocks)
    cross = view.spec["blocks"][2]
    assert not cross["offers_causal"] and not cross["offers_padding"]  # the model masked its <pad> keys already
    for b in range(3):
        w = view.weights(b, 1, 3)
        assert torch.all(w[~view.blocks[b].allowed] == 0)
        torch.testing.assert_close(w.sum(-1), torch.ones(w.shape[0], dtype=torch.float64))


# ------------------------------------------------------------------------------------- size, picture, grading

def _six_by_eight_by_forty():
    torch.manual_seed(0)
    layers = nn.ModuleList([MultiHeadAttention(512, 8) for _ in range(6)])
    x = torch.randn(1, 40, 512)

    def run():
        h = x
        for layer in layers:
            h = layer(h, h, h)

    return av.attention_of({"encoder": layers}, run, tokens=[f"w{i}" for i in range(40)])


def test_six_layers_eight_heads_forty_tokens_send_less_than_two_megabytes():
    view = _six_by_eight_by_forty()
    (block,) = view.blocks
    assert block.logits.shape == (6, 8, 40, 40) and block.q.shape == (6, 8, 40, 64)
    sent = view.payload_bytes()
    print(f"6 layers × 8 heads × 40 tokens (d_k 64): {sent / 1e6:.2f} MB sent "
          f"(weights {len(view.logw) / 1e6:.2f}, q and k {len(view.qk) / 1e6:.2f}); static PNG {len(view.png) / 1e3:.0f} kB")
    assert sent < 2_000_000


def _displayed(view, monkeypatch) -> list[dict]:
    """The outputs ``display(view)`` makes in a notebook, as (data, metadata) pairs."""
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda data, metadata=None, raw=False: shown.append((data, metadata or {})))
    view._ipython_display_()
    return shown


def _png(data: dict) -> bytes:
    return base64.b64decode(data["image/png"])


def test_a_view_is_shown_as_its_picture_then_the_widget(monkeypatch):
    """Two outputs: the static PNG (for HTML, the feedback, GitHub), then the widget without a picture of its own
    (nothing shown twice); the widget knows its picture by the tail of its base64 text, to hide it in JupyterLab."""
    for view in (av.attention_view(ex.toy_tokens(), scores_fn=ex.toy_scores, title="Hand-built layer"),
                 rv.rope_view(None)):
        (picture, _), (widget, _) = _displayed(view, monkeypatch)
        assert set(picture) == {"image/png", "text/plain"} and _png(picture)[:8] == b"\x89PNG\r\n\x1a\n"
        assert WIDGET_MIME in widget and "image/png" not in widget and "JupyterLab" in widget["text/plain"]
        assert view.pictures == [picture["image/png"][-64:]]


def test_while_grading_only_the_picture_is_drawn(monkeypatch):
    """nbgrader's kernel run (course.notebook.grading()) gets the static picture and nothing else: no widget
    (no comm, no state, no JavaScript), so the feedback shows the figure."""
    import anywidget

    monkeypatch.setenv(GRADING_ENV, "1")
    ran = []
    torch.manual_seed(0)
    layer = MultiHeadAttention(8, 2)
    x = torch.randn(1, 3, 8)
    views = [av.attention_of(layer, lambda: ran.append(layer(x, x, x)), tokens=list("abc")),
             av.attention_view(list("ab"), scores=torch.zeros(2, 2)),
             av.attention_view(ex.toy_tokens(), scores_fn=ex.toy_scores, title="Hand-built layer"),
             rv.rope_view(_good)]
    assert len(ran) == 1
    for view in views:
        assert not isinstance(view, anywidget.AnyWidget)
        data, metadata = view._repr_mimebundle_()
        assert set(data) == {"image/png", "text/plain"} and metadata == {}
        assert _png(data)[:4] == b"\x89PNG" and "not drawn" not in data["text/plain"]
    assert isinstance(views[0], av.StaticAttention) and isinstance(views[-1], rv.StaticRope)
    assert views[-1].source == "student"  # the student's apply_rope drew it
    monkeypatch.delenv(GRADING_ENV)
    assert av.attention_view(list("ab"), scores=torch.zeros(2, 2)).png == views[1].png  # the same picture


def _executed(tmp_path, store_widget_state: bool):
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import torch\nfrom course.widgets.attention_view import attention_view\n"
        "attention_view(list('abc'), scores=torch.randn(2, 3, 3), title='exported')")]
    NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=store_widget_state,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


@pytest.mark.parametrize("store_widget_state", [False, True], ids=["no widget state", "widget state"])
def test_exported_html_shows_the_picture(tmp_path, store_widget_state):
    """An executed notebook with a view, exported by nbconvert: the HTML holds the PNG.

    Without widget state (as JupyterLab saves by default, and as GitHub's preview and nbgrader's feedback get
    it) and with it (``jupyter nbconvert --execute`` keeps it): with state nbconvert shows the widget's
    placeholder for the widget's output, which draws nothing offline, and the picture is an output of its own.
    tests/test_browser.py saves one from JupyterLab itself.
    """
    from nbconvert import HTMLExporter

    nb = _executed(tmp_path, store_widget_state)
    picture, widget = nb.cells[0].outputs
    assert "image/png" in picture["data"] and WIDGET_MIME not in picture["data"]
    assert WIDGET_MIME in widget["data"] and "image/png" not in widget["data"]
    assert ("widgets" in nb.metadata) == store_widget_state
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert html.count('src="data:image/png;base64,') == 1 and picture["data"]["image/png"][-64:] in html
    assert "Error displaying widget" not in html


# ------------------------------------------------------------------------------------- RoPE view

def _good(x, positions, base=10000.0):
    return _rope(x, positions, base).to(x.dtype)


def _not_written(x, positions, base=10000.0):
    raise NotImplementedError()


def _clockwise(x, positions, base=10000.0):
    return _rope(x, -positions, base)


def _halved(x, positions, base=10000.0):
    return x[..., : x.shape[-1] // 2]


@pytest.mark.parametrize("fn, source, words", [
    (_good, "student", "computed by your apply_rope"),
    (_not_written, "fallback", "not written yet"),
    (_clockwise, "fallback", "differs from the course's RoPE"),
    (_halved, "fallback", "returned (1, 2, 5, 4)"),
    (None, "course", "no apply_rope given"),
])
def test_rope_view_runs_the_students_function_or_says_why_not(fn, source, words):
    view = rv.rope_view(fn)
    assert view.source == source and words in view.note and view.spec["note"] == view.note
    assert view.spec["source"] == source
    table = np.frombuffer(view.rotated, dtype="<f8").reshape(len(rv.BASES), 2, rv.POSITIONS, rv.D_HEAD)
    q = torch.tensor(table[-1, 0])
    torch.testing.assert_close(q, _rope(view.q[None, None, None].expand(1, 1, rv.POSITIONS, rv.D_HEAD),
                                        torch.arange(rv.POSITIONS), rv.BASES[-1])[0, 0])
    assert view.payload_bytes() < 1_000_000


def test_rope_view_draws_what_the_student_computes():
    seen = []

    def spy(x, positions, base=10000.0):
        seen.append(base)
        return _good(x, positions, base)

    view = rv.rope_view(spy)
    assert view.source == "student" and set(rv.BASES) <= set(seen)
    assert view.score(3, 10) == pytest.approx(view.score(103, 110), abs=1e-9)  # only n - m matters
    assert json.dumps(view.spec)  # plain JSON


def test_a_seq2seq_model_on_one_number():
    """Chapter 08's call: encoder, decoder and cross-attention of a model on one input (the course's model here;
    tests/test_student_code.py builds the student's)."""
    from course.tasks import Task

    task = Task("zh", test_size=1)
    torch.manual_seed(0)
    model = blocks.Seq2SeqTransformer(len(task.source_tokenizer), len(task.target_tokenizer), d_model=16, n_heads=2,
                                      n_encoder_layers=1, n_decoder_layers=2, d_ff=32, dropout=0.0)
    with torch.no_grad():
        model.output.bias[task.target_tokenizer.encode("三")[0]] += 50.0  # says 三 until it runs out of steps
    view = av.model_attention(model, task, "3020")
    kinds = [(b.name, b.mask, tuple(b.logits.shape[:2])) for b in view.blocks]
    assert kinds == [("encoder self-attention", "none", (1, 2)), ("decoder self-attention", "causal", (2, 2)),
                     ("decoder cross-attention", "none", (2, 2))]
    cross = view.blocks[2]
    assert cross.keys == list("3020") and cross.queries[0] == "<bos>" and set(cross.queries[1:]) == {"三"}
    assert cross.key_seq == "source" and view.blocks[0].query_seq == "source" and cross.query_seq == "target"
    assert all(b.d_k == 8 for b in view.blocks) and model.training  # the model is left as it was
    with pytest.raises(ValueError, match="digits"):
        av.model_attention(model, task, "3a")


# ------------------------------------------------------------------------------------- the Chinese edition

WORDS = [  # every widget's words: English, Chinese, and the menu entries named in Chinese only
    (av.LABELS, av.LABELS_ZH, set()), (rv.LABELS, rv.LABELS_ZH, set()), (fw.WORDS, fw.WORDS_ZH, set()),
    (ch01_compute.WORDS, ch01_compute.WORDS_ZH, {*ch01_compute.OPERATIONS, ch01_compute.THIS_MACHINE}),
    (ch02_tensors.WORDS, ch02_tensors.WORDS_ZH, set(ch02_tensors.OPERATIONS)),
    (ch03_layernorm.WORDS, ch03_layernorm.WORDS_ZH, set()),
    (ch04_dropout_residual.WORDS, ch04_dropout_residual.WORDS_ZH, set()),
    (ch06_position_encoding.WORDS, ch06_position_encoding.WORDS_ZH, set()),
    (ch08_transformer.WORDS, ch08_transformer.WORDS_ZH, set()),
]
CJK = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]")


@pytest.mark.parametrize("en, zh, menus", WORDS, ids=lambda w: "")
def test_the_chinese_words_translate_english_ones(en, zh, menus):
    assert set(zh) <= set(en) | menus, set(zh) - set(en) - menus
    for key, text in zh.items():
        assert text != en.get(key, key), f"{key}: the same words in both editions need no Chinese entry"
        if key in en:  # the same {fields} to fill in
            assert sorted(re.findall(r"{\w*}", text)) == sorted(re.findall(r"{\w*}", en[key])), key


def test_views_speak_the_edition_they_are_built_in():
    with use_language("zh"):
        view = av.attention_view(ex.toy_tokens(), scores_fn=ex.toy_scores, title="Hand-built layer")
        rope = rv.rope_view(_not_written)
    assert view.spec["labels"] == {**av.LABELS, **av.LABELS_ZH} and view.blocks[0].name == "自注意力"
    assert "层" in view.summary() and rope.spec["labels"]["m"] == "查询位置 m" and "还没有写" in rope.note
    view.sentence = " "  # later changes keep the edition the view was built in
    assert view.spec["error"] == "请至少输入一个词"
    english = av.attention_view(list("ab"), scores=torch.zeros(2, 2))
    assert english.spec["labels"] == av.LABELS and english.blocks[0].name == "self-attention"


def test_the_shipped_font_has_every_chinese_character_of_the_widgets_and_experiments():
    """tools/make_cjk_subset.py puts them in course/fonts; after a figure's Chinese words change, run it again."""
    from fontTools.ttLib import TTFont

    from course.plotting import CJK_FONT
    from tools.make_cjk_subset import FIGURE_SOURCES

    assert {folder.name for folder in FIGURE_SOURCES} == {"widgets", "experiments"}
    wanted = set()
    for folder in FIGURE_SOURCES:
        found = {c for p in folder.glob("*.py") for c in CJK.findall(p.read_text(encoding="utf-8"))}
        assert found, f"no Chinese words in {folder}"
        wanted |= found
    have = {chr(code) for code in TTFont(CJK_FONT).getBestCmap()}
    assert wanted and not wanted - have, f"run tools/make_cjk_subset.py: missing {''.join(sorted(wanted - have))}"


def test_every_widget_draws_in_chinese_without_a_missing_glyph():
    """matplotlib's "Glyph … missing" warning goes to stderr, which nbgrader counts as a failed cell."""
    import warnings
    from types import SimpleNamespace

    from course.blocks import Seq2SeqTransformer
    from course.tasks import Task

    with use_language("zh"), warnings.catch_warnings():
        warnings.simplefilter("error")
        roof = ch01_compute.roofline({"peak": 1e11, "bandwidth": 2e10, "points": [(20.0, 5e10, "n=128")]})
        assert roof.controls["device"].value == "本机（实测，fp32）" and "受" in roof.status.value
        roof.controls["operation"].value = "两个 n×n 矩阵逐元素相加"
        assert "受带宽限制" in roof.status.value
        strides = ch02_tensors.stride_explorer("(3, 4)", "none")
        strides.controls["operation"].value = "permute(2, 0, 1)"  # does not apply to 2-D: the Chinese reason
        assert "需要三维张量" in strides.status.value
        widgets = [roof, strides, ch03_layernorm.layernorm_explorer(), ch04_dropout_residual.dropout_explorer(),
                   ch06_position_encoding.sinusoidal_explorer()]
        assert all(w.export_button.description == "导出 PNG" for w in widgets)
        plot = ch08_transformer.LiveLossPlot(every_seconds=0, auto_display=False)
        plot(SimpleNamespace(kind="eval", step=10, loss=None, lr=1e-3, seconds=1.0, metrics=SimpleNamespace(exact=0.5)))
        assert plot.status.value.startswith("第 10 步")
        task = Task("zh", test_size=1)
        torch.manual_seed(0)
        model = Seq2SeqTransformer(len(task.source_tokenizer), len(task.target_tokenizer), d_model=16, n_heads=2,
                                   n_encoder_layers=1, n_decoder_layers=1, d_ff=32, dropout=0.0)
        pictures = [av.model_attention(model, task, "3020").png,  # three blocks: the large layout
                    av.attention_view(ex.toy_tokens(), scores_fn=ex.toy_scores).png,  # one small block
                    rv.rope_view(_clockwise).png]
    assert all(p[:4] == b"\x89PNG" for p in pictures)


# ------------------------------------------------------------------------------------- the feedback

@pytest.mark.slow
def test_the_feedback_of_a_graded_chapter_shows_each_views_picture(tmp_path):
    """Chapter 05 autograded (its kernel run in the sandbox, COURSE_GRADING=1) and its feedback generated: each
    view's output in the autograded notebook is its static picture alone (no widget), and the feedback HTML, the
    page a student gets back, shows it."""
    import shutil

    from course_grader import pipeline
    from notebooks import ROOT

    a = "05-attention"
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source" / a, course / "source" / a)
    pipeline.nbgrader("generate_assignment", a, "--force", root=course)
    (course / "submitted" / "alice" / a).mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / a / f"{a}.ipynb", course / "submitted" / "alice" / a)
    pipeline.autograde(a, root=course)
    pipeline.feedback(a, root=course, publish=False)
    html = (course / "feedback" / "alice" / a / f"{a}.html").read_text()
    graded = nbformat.read(course / "autograded" / "alice" / a / f"{a}.ipynb", as_version=4)
    views = [c for c in graded.cells if c.cell_type == "code" and re.search(r"\battention_(view|of)\(", c.source)]
    pictures = [o["data"]["image/png"] for c in views for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(views) == 2 and len(pictures) == 2, [c.outputs for c in views]
    assert not any(WIDGET_MIME in o.get("data", {}) for c in views for o in c.outputs)
    assert all(p[-64:] in html for p in pictures) and "not drawn while grading" not in html
