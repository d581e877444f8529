"""Chapter 07 (encoder and decoder): graded cells reject the usual mistakes (Pre/Post-LN swapped,
missing residuals, the residual taken after the norm, final norm missing or added, cross-attention
over the decoder, off-by-one causal masks, inverted masks, padding masked on queries, FFN without
its activation or with dropout in the wrong place) and accept correct answers written differently;
the given attention block, the mask conversion helpers and the demos behave."""

from __future__ import annotations

import copy
import functools
import math

import pytest
import torch
import torch.nn.functional as F
from course_grader.checks import ch07_encoder_decoder as ref
from notebooks import answer_namespace, assert_rejected, graded_cells, run_test_cell
from torch import nn

from course.attention import MultiHeadAttention, attention, load_torch_attention
from course.experiments import ch07_encoder_decoder as ex

A = "07-encoder-decoder"


def test_graded_cells_and_points():
    points = {gid: c.metadata["nbgrader"]["points"] for gid, c in graded_cells(A).items()}
    assert points == {"FeedForward_tests": 2, "EncoderLayer_tests": 4, "DecoderLayer_tests": 4,
                      "Encoder_tests": 2, "Decoder_tests": 2, "masks_tests": 3}


# ------------------------------------------------------------------------------ FeedForward

def _ff(act=torch.relu, where="hidden", bias2=True, dropout_fn=None, act_at="hidden", p=None):
    """A FeedForward with a chosen activation, dropout placement and dropout probability
    ("hidden" for both is the right one)."""
    class FeedForward(nn.Module):
        def __init__(self, d_model, d_ff, dropout=0.1):
            super().__init__()
            self.linear1 = nn.Linear(d_model, d_ff)
            self.linear2 = nn.Linear(d_ff, d_model, bias=bias2)
            self.dropout = nn.Dropout(dropout if p is None else p(dropout))

        def forward(self, x):
            drop = self.dropout if dropout_fn is None else functools.partial(dropout_fn, self)
            if where == "input":
                x = drop(x)
            if act_at == "input":
                x = act(x)
            h = self.linear1(x)
            if act_at == "hidden":
                h = act(h)
            if where == "hidden":
                h = drop(h)
            out = self.linear2(h)
            if act_at == "output":
                out = act(out)
            return drop(out) if where == "output" else out
    return FeedForward


class FFFunctional(nn.Module):
    def __init__(self, d_model, d_ff, dropout=0.1):
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.linear2(F.dropout(F.relu(self.linear1(x)), p=self.dropout.p, training=self.training))


class FFSequential(nn.Module):
    def __init__(self, d_model, d_ff, dropout=0.1):
        super().__init__()
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)
        self.net = nn.Sequential(self.linear1, nn.ReLU(), self.dropout, self.linear2)  # shares the modules

    def forward(self, x):
        return self.net(x)


class FFClamp(nn.Module):
    def __init__(self, d_model, d_ff, dropout=0.1):
        super().__init__()
        self.linear1 = nn.Linear(d_model, d_ff)
        self.dropout = nn.Dropout(p=dropout)
        self.linear2 = nn.Linear(d_ff, d_model)

    def forward(self, x):
        hidden = torch.matmul(x, self.linear1.weight.T) + self.linear1.bias
        return self.linear2(self.dropout(hidden.clamp(min=0)))


@pytest.mark.parametrize("cls", [FFFunctional, FFSequential, FFClamp])
def test_feed_forward_accepts(cls):
    run_test_cell(A, "FeedForward_tests", FeedForward=cls)


def _unscaled(self, h):  # drops units but forgets to scale the survivors by 1/(1-p)
    return h * (torch.rand_like(h) >= self.dropout.p) if self.training else h


class FFWidthsSwapped(FFFunctional):
    def __init__(self, d_model, d_ff, dropout=0.1):
        super().__init__(d_model, d_ff, dropout)
        self.linear1, self.linear2 = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)


# each wrong answer and the words of the visible test's message it must produce
FF_WRONG = {
    "no-activation": (_ff(act=lambda h: h), "every output is 0"),
    "relu-after-linear2": (_ff(act_at="output"), "every output is 0"),
    "relu-on-the-input": (_ff(act_at="input"), "every output is 0"),
    "gelu": (_ff(act=F.gelu), "gelu(x) + gelu(-x)"),
    "dropout-after-linear2": (_ff(where="output"), "drops the block's output"),
    "dropout-on-input": (_ff(where="input"), "acts on the block's input"),
    "no-dropout": (_ff(where="none"), "nothing was dropped"),
    "dropout-keep-probability": (_ff(p=lambda q: 1 - q), "nothing was dropped"),
    "dropout-hard-coded-p": (_ff(p=lambda q: 0.1), "only linear2's bias should be left"),
    "dropout-in-eval": (_ff(dropout_fn=lambda self, h: F.dropout(h, self.dropout.p, training=True)),
                        "two calls in eval mode gave different outputs"),
    "no-bias": (_ff(bias2=False), "one bias is missing"),
    "widths-swapped": (FFWidthsSwapped, "both linear maps are d_model -> d_model"),
    "no-biases": (type("FeedForward", (FFFunctional,), {"__init__": lambda self, d, d_ff, p=0.1: (
        FFFunctional.__init__(self, d, d_ff, p), setattr(self, "linear1", nn.Linear(d, d_ff, bias=False)),
        setattr(self, "linear2", nn.Linear(d_ff, d, bias=False)))[0]}), "both biases are missing"),
    "hidden-width-doubled": (type("FeedForward", (FFFunctional,), {"__init__": lambda self, d, d_ff, p=0.1: (
        FFFunctional.__init__(self, d, d_ff, p), setattr(self, "linear1", nn.Linear(d, 2 * d_ff)),
        setattr(self, "linear2", nn.Linear(2 * d_ff, d)))[0]}), "linear1 maps d_model -> d_ff"),
}


@pytest.mark.parametrize("case", sorted(FF_WRONG))
def test_feed_forward_rejects_with_a_message_that_names_the_mistake(case):
    wrong, words = FF_WRONG[case]
    err = assert_rejected(A, "FeedForward_tests", FeedForward=wrong)
    assert words in str(err), str(err)
    assert "Part 1" in str(err) or "chapter 04" in str(err), str(err)


def _unscaled(self, h):  # drops units but forgets to scale the survivors by 1/(1-p)
    return h * (torch.rand_like(h) >= self.dropout.p) if self.training else h


def test_feed_forward_unscaled_dropout_rejected_by_the_hidden_check():
    """With p = 1 an unscaled dropout looks right; only the p = 0.5 check (kept units doubled) sees it."""
    err = assert_rejected(A, "FeedForward_tests", FeedForward=_ff(dropout_fn=_unscaled))
    assert "h/(1 - p)" in str(err)


# ------------------------------------------------------------------------------ layers: shared parts

class _EncoderBase(nn.Module):
    """The given __init__ of the notebook's EncoderLayer (with a FeedForward written here)."""

    def __init__(self, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.ff = FFFunctional(d_model, d_ff, dropout)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout)
        self.norm_first = norm_first


class _DecoderBase(nn.Module):
    def __init__(self, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.cross_attn = MultiHeadAttention(d_model, n_heads)
        self.ff = FFFunctional(d_model, d_ff, dropout)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))
        self.dropout1, self.dropout2, self.dropout3 = (nn.Dropout(dropout) for _ in range(3))
        self.norm_first = norm_first


# ------------------------------------------------------------------------------ EncoderLayer

class EncPyTorchStyle(_EncoderBase):
    def _sa_block(self, x, mask):
        return self.dropout1(self.self_attn(x, x, x, mask))

    def _ff_block(self, x):
        return self.dropout2(self.ff(x))

    def forward(self, x, mask=None):
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), mask)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, mask))
        return self.norm2(x + self._ff_block(x))


class EncLoop(_EncoderBase):
    def forward(self, x, mask=None):
        steps = [(self.norm1, self.dropout1, lambda h: self.self_attn(h, h, h, mask)),
                 (self.norm2, self.dropout2, self.ff)]
        for norm, drop, f in steps:
            x = x + drop(f(norm(x))) if self.norm_first else norm(x + drop(f(x)))
        return x


class EncFunctional(_EncoderBase):
    def forward(self, x, mask=None):
        p, train = self.dropout1.p, self.training
        if not self.norm_first:
            y = torch.add(x, F.dropout(self.self_attn(x, x, x, mask=mask), p, train))
            y = self.norm1(y)
            return self.norm2(torch.add(y, F.dropout(self.ff(y), p, train)))
        normed = self.norm1(x)
        y = torch.add(x, F.dropout(self.self_attn(normed, normed, normed, mask=mask), p, train))
        return torch.add(y, F.dropout(self.ff(self.norm2(y)), p, train))


@pytest.mark.parametrize("cls", [EncPyTorchStyle, EncLoop, EncFunctional])
def test_encoder_layer_accepts(cls):
    run_test_cell(A, "EncoderLayer_tests", EncoderLayer=cls)


def _enc(post, pre):
    """An EncoderLayer whose forward is post(self, x, mask) or pre(self, x, mask) by norm_first."""
    class EncoderLayer(_EncoderBase):
        def forward(self, x, mask=None):
            return (pre if self.norm_first else post)(self, x, mask)
    return EncoderLayer


def _sa(s, x, m):
    return s.self_attn(x, x, x, m)


def POST(s, x, m):
    x = s.norm1(x + s.dropout1(_sa(s, x, m)))
    return s.norm2(x + s.dropout2(s.ff(x)))


def PRE(s, x, m):
    h = s.norm1(x)
    x = x + s.dropout1(_sa(s, h, m))
    return x + s.dropout2(s.ff(s.norm2(x)))


def pre_residual_after_norm(s, x, m):
    x = s.norm1(x)
    x = x + s.dropout1(_sa(s, x, m))
    x = s.norm2(x)
    return x + s.dropout2(s.ff(x))


def post_no_attention_residual(s, x, m):
    x = s.norm1(s.dropout1(_sa(s, x, m)))
    return s.norm2(x + s.dropout2(s.ff(x)))


def post_no_ff_residual(s, x, m):
    x = s.norm1(x + s.dropout1(_sa(s, x, m)))
    return s.norm2(s.dropout2(s.ff(x)))


def pre_no_residual(s, x, m):
    h = s.norm1(x)
    x = s.dropout1(_sa(s, h, m))
    return x + s.dropout2(s.ff(s.norm2(x)))


def post_norms_swapped(s, x, m):
    x = s.norm2(x + s.dropout1(_sa(s, x, m)))
    return s.norm1(x + s.dropout2(s.ff(x)))


def post_mask_inverted(s, x, m):
    return POST(s, x, None if m is None else ~m)


def pre_mask_ignored(s, x, m):
    return PRE(s, x, None)


def post_dropout_after_add(s, x, m):
    x = s.norm1(s.dropout1(x + _sa(s, x, m)))
    return s.norm2(s.dropout2(x + s.ff(x)))


def pre_dropout_after_add(s, x, m):
    h = s.norm1(x)
    x = s.dropout1(x + _sa(s, h, m))
    return s.dropout2(x + s.ff(s.norm2(x)))


def pre_normalised_output(s, x, m):
    return s.norm2(PRE(s, x, m))


def post_norm_before_add(s, x, m):  # Post-LN that normalises x, then adds the sublayer
    x = s.norm1(x) + s.dropout1(_sa(s, x, m))
    return s.norm2(x) + s.dropout2(s.ff(x))


def post_ff_reads_the_input(s, x, m):  # the feed-forward block reads the layer's input, not the first block's output
    y = s.norm1(x + s.dropout1(_sa(s, x, m)))
    return s.norm2(y + s.dropout2(s.ff(x)))


def pre_norms_swapped(s, x, m):
    h = s.norm2(x)
    x = x + s.dropout1(_sa(s, h, m))
    return x + s.dropout2(s.ff(s.norm1(x)))


def pre_keys_not_normalised(s, x, m):  # only the queries normalised
    x = x + s.dropout1(s.self_attn(s.norm1(x), x, x, m))
    return x + s.dropout2(s.ff(s.norm2(x)))


def pre_no_ff_dropout(s, x, m):
    h = s.norm1(x)
    x = x + s.dropout1(_sa(s, h, m))
    return x + s.ff(s.norm2(x))


def post_one_dropout_module(s, x, m):  # dropout1 twice: the same p, so the same model (accepted below)
    x = s.norm1(x + s.dropout1(_sa(s, x, m)))
    return s.norm2(x + s.dropout1(s.ff(x)))


# each wrong answer and the words of the visible test's message it must produce
ENC_WRONG = {
    "pre-post-swapped": (_enc(PRE, POST), "computes the Pre-LN arrangement"),
    "always-post": (_enc(POST, POST), "computes the Post-LN arrangement"),
    "pre-residual-after-norm": (_enc(POST, pre_residual_after_norm), "same for x and for 3·x + 1"),
    "pre-normalised-output": (_enc(POST, pre_normalised_output), "normalises its output"),
    "post-no-attention-residual": (_enc(post_no_attention_residual, PRE), "the norm wraps the whole sum"),
    "post-no-ff-residual": (_enc(post_no_ff_residual, PRE), "the norm wraps the whole sum"),
    "post-norm-before-add": (_enc(post_norm_before_add, PRE), "the norm wraps the whole sum"),
    "post-ff-reads-the-input": (_enc(post_ff_reads_the_input, PRE), "the norm wraps the whole sum"),
    "pre-no-residual": (_enc(POST, pre_no_residual), "the residual adds to x itself"),
    "norms-swapped": (_enc(post_norms_swapped, PRE), "the norm wraps the whole sum"),
    "pre-norms-swapped": (_enc(POST, pre_norms_swapped), "the residual adds to x itself"),
    "pre-keys-not-normalised": (_enc(POST, pre_keys_not_normalised), "only the sublayer's input is normalised"),
    "mask-inverted": (_enc(post_mask_inverted, PRE), "inverted mask"),
    "mask-ignored": (_enc(POST, pre_mask_ignored), "same as without the mask"),
    "post-dropout-after-add": (_enc(post_dropout_after_add, PRE), "dropout also removes the residual path"),
    "pre-dropout-after-add": (_enc(POST, pre_dropout_after_add), "dropout also removes the residual path"),
    "pre-no-ff-dropout": (_enc(POST, pre_no_ff_dropout), "missing its own dropout"),
    "attention-without-value": (_enc(lambda s, x, m: s.norm2(s.self_attn(x, m)), PRE),
                                "the mask goes to self_attn unchanged"),
}


@pytest.mark.parametrize("case", sorted(ENC_WRONG))
def test_encoder_layer_rejects_with_a_message_that_names_the_mistake(case):
    wrong, words = ENC_WRONG[case]
    err = assert_rejected(A, "EncoderLayer_tests", EncoderLayer=wrong)
    assert words in str(err), str(err)
    assert "Part" in str(err), str(err)


def test_encoder_layer_one_dropout_module_for_both_sublayers_is_the_same_model():
    """dropout1 and dropout2 are the same nn.Dropout(p): using one of them twice changes nothing, so it passes."""
    run_test_cell(A, "EncoderLayer_tests", EncoderLayer=_enc(post_one_dropout_module, PRE))


def test_encoder_layer_mask_inverted_only_with_general_masks_is_caught():
    """Ignoring a (seq, seq) or (batch, 1, seq, seq) mask while honouring padding masks is still caught."""
    def post_only_padding(s, x, m):
        keep = m if m is not None and m.dim() == 4 and m.shape[-2] == 1 else None
        return POST(s, x, keep)
    with pytest.raises(AssertionError, match="causal mask|mask \\(batch, 1, seq, seq\\)"):
        ref.check_encoder_layer(_enc(post_only_padding, PRE))


# ------------------------------------------------------------------------------ DecoderLayer

class DecPyTorchStyle(_DecoderBase):
    def _sa(self, x, m):
        return self.dropout1(self.self_attn(x, x, x, m))

    def _ca(self, x, mem, m):
        return self.dropout2(self.cross_attn(x, mem, mem, m))

    def _ffb(self, x):
        return self.dropout3(self.ff(x))

    def forward(self, x, memory, tgt_mask=None, memory_mask=None):
        if self.norm_first:
            x = x + self._sa(self.norm1(x), tgt_mask)
            x = x + self._ca(self.norm2(x), memory, memory_mask)
            return x + self._ffb(self.norm3(x))
        x = self.norm1(x + self._sa(x, tgt_mask))
        x = self.norm2(x + self._ca(x, memory, memory_mask))
        return self.norm3(x + self._ffb(x))


class DecLoop(_DecoderBase):
    def forward(self, x, memory, tgt_mask=None, memory_mask=None):
        blocks = [
            (self.norm1, self.dropout1, lambda h: self.self_attn(h, h, h, mask=tgt_mask)),
            (self.norm2, self.dropout2, lambda h: self.cross_attn(h, memory, memory, mask=memory_mask)),
            (self.norm3, self.dropout3, self.ff),
        ]
        for norm, drop, sub in blocks:
            if self.norm_first:
                x = x + drop(sub(norm(x)))
            else:
                x = norm(x + drop(sub(x)))
        return x


class DecFunctional(_DecoderBase):
    def forward(self, x, memory, tgt_mask=None, memory_mask=None):
        p, t = self.dropout1.p, self.training
        if self.norm_first:
            q = self.norm1(x)
            x = torch.add(x, F.dropout(self.self_attn(q, q, q, tgt_mask), p, t))
            x = torch.add(x, F.dropout(self.cross_attn(self.norm2(x), memory, memory, memory_mask), p, t))
            return torch.add(x, F.dropout(self.ff(self.norm3(x)), p, t))
        x = self.norm1(torch.add(x, F.dropout(self.self_attn(x, x, x, tgt_mask), p, t)))
        x = self.norm2(torch.add(x, F.dropout(self.cross_attn(x, memory, memory, memory_mask), p, t)))
        return self.norm3(torch.add(x, F.dropout(self.ff(x), p, t)))


@pytest.mark.parametrize("cls", [DecPyTorchStyle, DecLoop, DecFunctional])
def test_decoder_layer_accepts(cls):
    run_test_cell(A, "DecoderLayer_tests", DecoderLayer=cls)


def _dec(post, pre):
    class DecoderLayer(_DecoderBase):
        def forward(self, x, memory, tgt_mask=None, memory_mask=None):
            return (pre if self.norm_first else post)(self, x, memory, tgt_mask, memory_mask)
    return DecoderLayer


def D_POST(s, x, mem, tm, mm, keys=None):
    x = s.norm1(x + s.dropout1(s.self_attn(x, x, x, tm)))
    kv = mem if keys is None else keys(x, mem)
    x = s.norm2(x + s.dropout2(s.cross_attn(x, kv, kv, mm)))
    return s.norm3(x + s.dropout3(s.ff(x)))


def D_PRE(s, x, mem, tm, mm):
    h = s.norm1(x)
    x = x + s.dropout1(s.self_attn(h, h, h, tm))
    h = s.norm2(x)
    x = x + s.dropout2(s.cross_attn(h, mem, mem, mm))
    return x + s.dropout3(s.ff(s.norm3(x)))


def dec_cross_over_decoder(s, x, mem, tm, mm):
    return D_POST(s, x, mem, tm, None, keys=lambda x, mem: x)  # keys and values from the decoder itself


def dec_cross_over_decoder_masked(s, x, mem, tm, mm):
    return D_POST(s, x, mem, tm, mm, keys=lambda x, mem: x)


def dec_memory_as_queries(s, x, mem, tm, mm):
    x = s.norm1(x + s.dropout1(s.self_attn(x, x, x, tm)))
    x = s.norm2(x + s.dropout2(s.cross_attn(mem, x, x, None)))
    return s.norm3(x + s.dropout3(s.ff(x)))


def dec_cross_first(s, x, mem, tm, mm):
    x = s.norm1(x + s.dropout1(s.cross_attn(x, mem, mem, mm)))
    x = s.norm2(x + s.dropout2(s.self_attn(x, x, x, tm)))
    return s.norm3(x + s.dropout3(s.ff(x)))


def dec_masks_swapped(s, x, mem, tm, mm):
    return D_POST(s, x, mem, mm, tm)


def dec_no_causal(s, x, mem, tm, mm):
    return D_POST(s, x, mem, None, mm)


def dec_tgt_inverted(s, x, mem, tm, mm):
    return D_POST(s, x, mem, None if tm is None else ~tm, mm)


def dec_memory_mask_ignored(s, x, mem, tm, mm):
    return D_PRE(s, x, mem, tm, None)


def dec_pre_normalises_memory(s, x, mem, tm, mm):
    h = s.norm1(x)
    x = x + s.dropout1(s.self_attn(h, h, h, tm))
    h, m = s.norm2(x), s.norm2(mem)
    x = x + s.dropout2(s.cross_attn(h, m, m, mm))
    return x + s.dropout3(s.ff(s.norm3(x)))


def dec_pre_residual_after_norm(s, x, mem, tm, mm):
    x = s.norm1(x)
    x = x + s.self_attn(x, x, x, tm)
    x = s.norm2(x)
    x = x + s.cross_attn(x, mem, mem, mm)
    x = s.norm3(x)
    return x + s.ff(x)


def dec_no_cross_residual(s, x, mem, tm, mm):
    x = s.norm1(x + s.dropout1(s.self_attn(x, x, x, tm)))
    x = s.norm2(s.dropout2(s.cross_attn(x, mem, mem, mm)))
    return s.norm3(x + s.dropout3(s.ff(x)))


def dec_one_norm(s, x, mem, tm, mm):
    x = s.norm1(x + s.dropout1(s.self_attn(x, x, x, tm)))
    x = s.norm1(x + s.dropout2(s.cross_attn(x, mem, mem, mm)))
    return s.norm1(x + s.dropout3(s.ff(x)))


def dec_no_cross_attention(s, x, mem, tm, mm):
    x = s.norm1(x + s.dropout1(s.self_attn(x, x, x, tm)))
    return s.norm3(x + s.dropout3(s.ff(x)))


def dec_pre_dropout_after_add(s, x, mem, tm, mm):
    h = s.norm1(x)
    x = s.dropout1(x + s.self_attn(h, h, h, tm))
    h = s.norm2(x)
    x = s.dropout2(x + s.cross_attn(h, mem, mem, mm))
    return s.dropout3(x + s.ff(s.norm3(x)))


def dec_memory_mask_inverted(s, x, mem, tm, mm):
    return D_PRE(s, x, mem, tm, None if mm is None else ~mm)


def dec_pre_normalised_output(s, x, mem, tm, mm):
    return s.norm3(D_PRE(s, x, mem, tm, mm))


def dec_pre_cross_over_decoder(s, x, mem, tm, mm):  # Pre-LN, keys and values from the normalised decoder stream
    h = s.norm1(x)
    x = x + s.dropout1(s.self_attn(h, h, h, tm))
    h = s.norm2(x)
    x = x + s.dropout2(s.cross_attn(h, h, h, None))
    return x + s.dropout3(s.ff(s.norm3(x)))


def dec_pre_no_cross_dropout(s, x, mem, tm, mm):
    h = s.norm1(x)
    x = x + s.dropout1(s.self_attn(h, h, h, tm))
    x = x + s.cross_attn(s.norm2(x), mem, mem, mm)
    return x + s.dropout3(s.ff(s.norm3(x)))


def dec_cross_queries_from_layer_input(s, x, mem, tm, mm):  # cross-attention queries skip the self-attention block
    y = s.norm1(x + s.dropout1(s.self_attn(x, x, x, tm)))
    y = s.norm2(y + s.dropout2(s.cross_attn(x, mem, mem, mm)))
    return s.norm3(y + s.dropout3(s.ff(y)))


def dec_post_dropout_after_add(s, x, mem, tm, mm):
    x = s.norm1(s.dropout1(x + s.self_attn(x, x, x, tm)))
    x = s.norm2(s.dropout2(x + s.cross_attn(x, mem, mem, mm)))
    return s.norm3(s.dropout3(x + s.ff(x)))


# each wrong answer and the words of the visible test's message it must produce
DEC_WRONG = {
    "pre-post-swapped": (_dec(D_PRE, D_POST), "computes the Pre-LN arrangement"),
    "always-post": (_dec(D_POST, D_POST), "computes the Post-LN arrangement"),
    "cross-over-decoder": (_dec(dec_cross_over_decoder, D_PRE), "does not change when the memory does"),
    "cross-over-decoder-with-mask": (_dec(dec_cross_over_decoder_masked, D_PRE),
                                     "does not change when the memory does"),
    "pre-cross-over-decoder": (_dec(D_POST, dec_pre_cross_over_decoder), "does not change when the memory does"),
    "memory-as-queries": (_dec(dec_memory_as_queries, D_PRE), "queries come from the decoder"),
    "cross-queries-from-layer-input": (_dec(dec_cross_queries_from_layer_input, D_PRE), "in the order of Part 3"),
    "cross-before-self": (_dec(dec_cross_first, D_PRE), "in the order of Part 3"),
    "masks-swapped": (_dec(dec_masks_swapped, D_PRE), "tgt_mask belongs to the self-attention"),
    "no-causal-mask": (_dec(dec_no_causal, D_PRE), "same as without the causal mask"),
    "target-mask-inverted": (_dec(dec_tgt_inverted, D_PRE), "inverted causal mask"),
    "memory-mask-ignored": (_dec(D_POST, dec_memory_mask_ignored), "same as without memory_mask"),
    "memory-mask-inverted": (_dec(D_POST, dec_memory_mask_inverted), "inverted memory mask"),
    "pre-normalises-memory": (_dec(D_POST, dec_pre_normalises_memory), "normalises the memory"),
    "pre-residual-after-norm": (_dec(D_POST, dec_pre_residual_after_norm), "same for x and for 3·x + 1"),
    "pre-normalised-output": (_dec(D_POST, dec_pre_normalised_output), "normalises its output"),
    "no-cross-residual": (_dec(dec_no_cross_residual, D_PRE), "the norm wraps the whole sum"),
    "one-norm-for-all": (_dec(dec_one_norm, D_PRE), "the norm wraps the whole sum"),
    "no-cross-attention": (_dec(dec_no_cross_attention, D_PRE), "does not change when the memory does"),
    "pre-dropout-after-add": (_dec(D_POST, dec_pre_dropout_after_add), "dropout also removes the residual path"),
    "post-dropout-after-add": (_dec(dec_post_dropout_after_add, D_PRE), "dropout also removes the residual path"),
    "pre-no-cross-dropout": (_dec(D_POST, dec_pre_no_cross_dropout), "missing its own dropout"),
}


@pytest.mark.parametrize("case", sorted(DEC_WRONG))
def test_decoder_layer_rejects_with_a_message_that_names_the_mistake(case):
    wrong, words = DEC_WRONG[case]
    err = assert_rejected(A, "DecoderLayer_tests", DecoderLayer=wrong)
    assert words in str(err), str(err)
    assert "Part" in str(err), str(err)


def test_hidden_decoder_check_catches_a_future_leak_and_an_ignored_memory_mask():
    def leaks_one(s, x, mem, tm, mm):  # causal mask shifted by one: each position also sees the next one
        if tm is not None and tm.dim() == 2:
            tm = torch.ones_like(tm).tril(1)
        return D_POST(s, x, mem, tm, mm)
    with pytest.raises(AssertionError, match="causal"):
        ref.check_decoder_layer(_dec(leaks_one, D_PRE))
    with pytest.raises(AssertionError, match="memory"):
        ref.check_decoder_layer(_dec(D_POST, dec_memory_mask_ignored))


# ------------------------------------------------------------------------------ stacks

def _namespace_layers():
    ns = answer_namespace(A)
    return ns["EncoderLayer"], ns["DecoderLayer"]


ENC_LAYER, DEC_LAYER = _namespace_layers()


class EncAppend(nn.Module):
    def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
        super().__init__()
        self.layers = nn.ModuleList()
        for _ in range(n_layers):
            self.layers.append(ENC_LAYER(d_model, n_heads, d_ff, dropout, norm_first))
        self.norm = nn.LayerNorm(d_model) if norm_first else None

    def forward(self, src, src_mask=None):
        out = functools.reduce(lambda h, layer: layer(h, src_mask), self.layers, src)
        return out if self.norm is None else self.norm(out)


class EncDeepcopy(nn.Module):
    def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
        super().__init__()
        proto = ENC_LAYER(d_model, n_heads, d_ff, dropout, norm_first)
        self.layers = nn.ModuleList([copy.deepcopy(proto) for _ in range(n_layers)])  # like PyTorch's clones
        self.norm = None
        if norm_first:
            self.norm = nn.LayerNorm(d_model)
        self.norm_first = norm_first

    def forward(self, src, src_mask=None):
        for i in range(len(self.layers)):
            src = self.layers[i](src, mask=src_mask)
        return self.norm(src) if self.norm_first else src


class DecAppend(nn.Module):
    def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
        super().__init__()
        self.layers = nn.ModuleList()
        for _ in range(n_layers):
            self.layers.append(DEC_LAYER(d_model, n_heads, d_ff, dropout, norm_first))
        self.norm = nn.LayerNorm(d_model) if norm_first else None

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None):
        for layer in self.layers:
            tgt = layer(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask)
        if self.norm is not None:
            tgt = self.norm(tgt)
        return tgt


class DecDeepcopy(nn.Module):
    def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
        super().__init__()
        proto = DEC_LAYER(d_model, n_heads, d_ff, dropout, norm_first)
        self.layers = nn.ModuleList(copy.deepcopy(proto) for _ in range(n_layers))
        self.norm = nn.LayerNorm(d_model) if norm_first else None

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None):
        x = functools.reduce(lambda h, layer: layer(h, memory, tgt_mask, memory_mask), self.layers, tgt)
        return x if self.norm is None else self.norm(x)


class EncIdentityNorm(EncAppend):
    """Post-LN with nn.Identity() as its `norm` and no `if`: the same model as norm = None."""

    def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
        super().__init__(n_layers, d_model, n_heads, d_ff, dropout, norm_first)
        self.norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()

    def forward(self, src, src_mask=None):
        for layer in self.layers:
            src = layer(src, src_mask)
        return self.norm(src)


@pytest.mark.parametrize("enc,dec", [(EncAppend, DecAppend), (EncDeepcopy, DecDeepcopy), (EncIdentityNorm, DecAppend)])
def test_stacks_accept(enc, dec):
    run_test_cell(A, "Encoder_tests", Encoder=enc)
    run_test_cell(A, "Decoder_tests", Decoder=dec)


def _enc_stack(final="pre", shared=False, mask=True, norm_each=False):
    class Encoder(nn.Module):
        def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
            super().__init__()
            if shared:
                layer = ENC_LAYER(d_model, n_heads, d_ff, dropout, norm_first)
                self.layers = nn.ModuleList([layer] * n_layers)
            else:
                self.layers = nn.ModuleList(ENC_LAYER(d_model, n_heads, d_ff, dropout, norm_first)
                                            for _ in range(n_layers))
            want = {"pre": norm_first, "never": False, "always": True}[final]
            self.norm = nn.LayerNorm(d_model) if want else None
            self.extra = nn.LayerNorm(d_model) if norm_each else None

        def forward(self, src, src_mask=None):
            for layer in self.layers:
                src = layer(src, src_mask if mask else None)
                if self.extra is not None:
                    src = self.extra(src)
            return src if self.norm is None else self.norm(src)
    return Encoder


class EncNormNotApplied(EncAppend):
    def forward(self, src, src_mask=None):
        for layer in self.layers:
            src = layer(src, src_mask)
        return src


class EncFreshNormForPost(EncAppend):
    def forward(self, src, src_mask=None):
        out = super().forward(src, src_mask)
        return out if self.norm is not None else F.layer_norm(out, out.shape[-1:])  # a norm without parameters


class EncNormEveryLayer(EncAppend):
    def forward(self, src, src_mask=None):
        for layer in self.layers:
            src = layer(src, src_mask)
            if self.norm is not None:
                src = self.norm(src)  # the final norm inside the loop
        return src


ENC_STACK_WRONG = {
    "no-final-norm": (_enc_stack(final="never"), "a Pre-LN stack ends with one final nn.LayerNorm"),
    "final-norm-for-post-ln": (_enc_stack(final="always"), "a Post-LN stack has no final LayerNorm"),
    "shared-layers": (_enc_stack(shared=True), "one layer's parameters"),
    "mask-dropped": (_enc_stack(mask=False), "same as without the mask"),
    "extra-norm-after-every-layer": (_enc_stack(norm_each=True), "a Post-LN stack has no final LayerNorm"),
    "final-norm-every-layer": (EncNormEveryLayer, "applies the final LayerNorm after every layer"),
    "final-norm-not-applied": (EncNormNotApplied, "raw residual stream"),
    "parameter-free-norm-for-post": (EncFreshNormForPost, "normalises its output once more"),
    "one-layer-too-many": (type("Encoder", (EncAppend,), {"__init__": lambda self, n, *a: EncAppend.__init__(
        self, n + 1, *a)}), "3 separate layers"),
    "layers-not-chained": (type("Encoder", (EncAppend,), {"forward": lambda self, src, src_mask=None: _finish(
        self, [layer(src, src_mask) for layer in self.layers][-1])}), "against nn.TransformerEncoder"),
}


@pytest.mark.parametrize("case", sorted(ENC_STACK_WRONG))
def test_encoder_stack_rejects_with_a_message_that_names_the_mistake(case):
    wrong, words = ENC_STACK_WRONG[case]
    err = assert_rejected(A, "Encoder_tests", Encoder=wrong)
    assert words in str(err), str(err)
    assert "Part 4" in str(err), str(err)


def _dec_stack(final="pre", shared=False, forward=None):
    class Decoder(DecAppend):
        def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
            super().__init__(n_layers, d_model, n_heads, d_ff, dropout, norm_first)
            if shared:
                self.layers = nn.ModuleList([self.layers[0]] * n_layers)
            want = {"pre": norm_first, "never": False, "always": True}[final]
            self.norm = nn.LayerNorm(d_model) if want else None

        def forward(self, tgt, memory, tgt_mask=None, memory_mask=None):
            if forward is None:
                return super().forward(tgt, memory, tgt_mask, memory_mask)
            return forward(self, tgt, memory, tgt_mask, memory_mask)
    return Decoder


def _finish(self, x):
    return x if self.norm is None else self.norm(x)


def _each(fn):
    """A Decoder whose forward runs fn(layer, h, memory, tgt_mask, memory_mask) through the layers, then the norm."""
    return _dec_stack(forward=lambda s, x, mem, tm, mm: _finish(s, functools.reduce(
        lambda h, layer: fn(layer, h, mem, tm, mm), s.layers, x)))


def _norm_every_layer(s, x, mem, tm, mm):
    for layer in s.layers:
        x = _finish(s, layer(x, mem, tm, mm))
    return x


DEC_STACK_WRONG = {
    "no-final-norm": (_dec_stack(final="never"), "a Pre-LN stack ends with one final nn.LayerNorm"),
    "final-norm-for-post-ln": (_dec_stack(final="always"), "a Post-LN stack has no final LayerNorm"),
    "shared-layers": (_dec_stack(shared=True), "one layer's parameters"),
    "memory-is-the-decoder": (_each(lambda layer, h, mem, tm, mm: layer(h, h, tm, None)),
                              "does not change when the memory does"),
    "masks-swapped": (_each(lambda layer, h, mem, tm, mm: layer(h, mem, mm, tm)), "the same two masks"),
    "causal-mask-dropped": (_each(lambda layer, h, mem, tm, mm: layer(h, mem, None, mm)),
                            "same as without the causal mask"),
    "memory-mask-dropped": (_each(lambda layer, h, mem, tm, mm: layer(h, mem, tm, None)),
                            "same as without memory_mask"),
    "final-norm-every-layer": (_dec_stack(forward=_norm_every_layer), "applies the final LayerNorm after every layer"),
    "last-layer-only": (_dec_stack(forward=lambda s, x, mem, tm, mm: _finish(s, s.layers[-1](x, mem, tm, mm))),
                        "against nn.TransformerDecoder"),
    "final-norm-not-applied": (_dec_stack(forward=lambda s, x, mem, tm, mm: functools.reduce(
        lambda h, layer: layer(h, mem, tm, mm), s.layers, x)), "raw residual stream"),
    "parameter-free-norm-for-post": (_dec_stack(forward=lambda s, x, mem, tm, mm: F.layer_norm(*(lambda out: (
        out, out.shape[-1:]))(functools.reduce(lambda h, layer: layer(h, mem, tm, mm), s.layers, x))) if s.norm is None
        else _finish(s, functools.reduce(lambda h, layer: layer(h, mem, tm, mm), s.layers, x))),
        "normalises its output once more"),
}


@pytest.mark.parametrize("case", sorted(DEC_STACK_WRONG))
def test_decoder_stack_rejects_with_a_message_that_names_the_mistake(case):
    wrong, words = DEC_STACK_WRONG[case]
    err = assert_rejected(A, "Decoder_tests", Decoder=wrong)
    assert words in str(err), str(err)
    assert "Part 4" in str(err), str(err)


# ------------------------------------------------------------------------------ masks

def src_a(lengths, max_len):
    if bool((lengths > max_len).any()):
        raise ValueError("length > max_len")
    return (torch.arange(max_len) < lengths.unsqueeze(-1)).view(-1, 1, 1, max_len)


def tgt_a(lengths, max_len):
    i = torch.arange(max_len)
    causal = i[None, :] <= i[:, None]  # (T, T): key j <= query i
    return src_a(lengths, max_len) & causal


def src_b(lengths, max_len):
    rows = []
    for n in lengths.tolist():
        if n > max_len:
            raise ValueError(f"length {n} > {max_len}")
        rows.append([j < n for j in range(max_len)])
    return torch.tensor(rows, dtype=torch.bool)[:, None, None, :]


def tgt_b(lengths, max_len):
    out = torch.zeros(len(lengths), 1, max_len, max_len, dtype=torch.bool)
    for b, n in enumerate(lengths.tolist()):
        if n > max_len:
            raise ValueError("too long")
        for i in range(max_len):
            for j in range(min(i + 1, n)):
                out[b, 0, i, j] = True
    return out


def src_c(lengths, max_len):
    if lengths.max().item() > max_len:
        raise ValueError(f"max_len={max_len} is shorter than the longest sequence")
    return torch.arange(max_len).expand(len(lengths), 1, 1, max_len) < lengths.view(-1, 1, 1, 1)


def tgt_c(lengths, max_len):
    keys = src_c(lengths, max_len).expand(-1, 1, max_len, max_len)
    return keys & ~torch.ones(max_len, max_len, dtype=torch.bool).triu(1)


@pytest.mark.parametrize("k", range(3))
def test_masks_accept(k):
    run_test_cell(A, "masks_tests", source_mask=[src_a, src_b, src_c][k], target_mask=[tgt_a, tgt_b, tgt_c][k])


def _tgt(causal_diag=0, pad="keys"):
    def target_mask(lengths, max_len):
        keep = src_a(lengths, max_len)[:, 0, 0]  # (batch, T)
        causal = torch.ones(max_len, max_len, dtype=torch.bool).tril(causal_diag)
        if pad == "keys":
            return (causal & keep[:, None, :])[:, None]
        if pad == "queries":
            return (causal & keep[:, :, None])[:, None]
        if pad == "both":
            return (causal & keep[:, None, :] & keep[:, :, None])[:, None]
        return causal.expand(len(lengths), 1, max_len, max_len)
    return target_mask


def src_no_error(lengths, max_len):
    return (torch.arange(max_len) < lengths[:, None])[:, None, None, :]


MASKS_WRONG = {
    "causal-diagonal-excluded": ((src_a, _tgt(causal_diag=-1)), "no query may attend to itself"),
    "causal-future-included": ((src_a, _tgt(causal_diag=1)), "may attend to a later position"),
    "causal-upper-triangle": ((src_a, lambda l, n: src_a(l, n) & torch.ones(n, n, dtype=torch.bool).triu()),
                              "may attend to a later position"),
    "target-inverted": ((src_a, lambda l, n: ~tgt_a(l, n)), "your mask is inverted"),
    "source-inverted": ((lambda l, n: ~src_a(l, n), tgt_a), "your mask is inverted"),
    "source-pads-queries": ((lambda l, n: src_a(l, n).view(len(l), 1, n, 1), tgt_a), "along the query axis"),
    "target-pads-queries": ((src_a, _tgt(pad="queries")), "some allowed key is blocked"),
    "target-pads-both": ((src_a, _tgt(pad="both")), "some allowed key is blocked"),
    "target-no-padding": ((src_a, _tgt(pad="none")), "no padding part"),
    "target-not-causal": ((src_a, lambda l, n: src_a(l, n).expand(len(l), 1, n, n).clone()),
                          "may attend to a later position"),
    "float": ((src_a, lambda l, n: tgt_a(l, n).float()), "has dtype torch.float32"),
    "uint8": ((lambda l, n: src_a(l, n).to(torch.uint8), tgt_a), "has dtype torch.uint8"),
    "no-head-dim": ((src_a, lambda l, n: tgt_a(l, n)[:, 0]), "expected shape (2, 1, 3, 3)"),
    "not-a-tensor": ((lambda l, n: src_a(l, n).tolist(), tgt_a), "expected a bool tensor, got list"),
    "target-padding-off-by-one": ((src_a, lambda l, n: (torch.arange(n) <= l[:, None])[:, None, None, :]
                                   & torch.ones(n, n, dtype=torch.bool).tril()), "may attend to a padding key"),
    "padding-off-by-one": (((lambda l, n: (torch.arange(n) <= l[:, None])[:, None, None, :]), tgt_a),
                           "exactly when j < lengths[b]"),
    "source-no-valueerror": ((src_no_error, tgt_a), "source_mask([4], max_len=3)"),
    "target-no-valueerror": ((src_a, lambda l, n: src_no_error(l, n) & torch.ones(n, n, dtype=torch.bool).tril()),
                             "target_mask([2, 4], max_len=3)"),
}


@pytest.mark.parametrize("case", sorted(MASKS_WRONG))
def test_masks_reject_with_a_message_that_names_the_mistake(case):
    (src, tgt), words = MASKS_WRONG[case]
    err = assert_rejected(A, "masks_tests", source_mask=src, target_mask=tgt)
    assert words in str(err), str(err)
    assert "Part" in str(err), str(err)


# ------------------------------------------------------------------------------ course.attention

def _torch_mha(d, h, seed=0):
    m = nn.MultiheadAttention(d, h, batch_first=True).double()
    return ref.randomize_(m, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("d,h", [(8, 2), (12, 3), (6, 6)])
def test_course_mha_matches_torch_with_masks(d, h):
    theirs = _torch_mha(d, h)
    ours = load_torch_attention(MultiHeadAttention(d, h).double(), theirs)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 5, d, generator=g, dtype=torch.float64)
    mem = torch.randn(2, 3, d, generator=g, dtype=torch.float64)
    keep = torch.tensor([[True, True, False], [True, False, False]])
    torch.testing.assert_close(ours(x, mem, mem), theirs(x, mem, mem, need_weights=False)[0])
    torch.testing.assert_close(ours(x, mem, mem, keep[:, None, None, :]),
                               theirs(x, mem, mem, key_padding_mask=~keep, need_weights=False)[0])
    causal = torch.ones(5, 5, dtype=torch.bool).tril()
    torch.testing.assert_close(ours(x, x, x, causal), theirs(x, x, x, attn_mask=~causal, need_weights=False)[0])
    assert ours.last_weights.shape == (2, h, 5, 5)
    assert torch.allclose(ours.last_weights.sum(-1), torch.ones(2, h, 5, dtype=torch.float64))
    assert sum(p.numel() for p in ours.parameters()) == 4 * d * d + 4 * d


def test_course_attention_fully_masked_rows_give_zeros_and_matches_sdpa():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 2, 3, 4, generator=g) for _ in range(3))
    mask = torch.tensor([[True, False, True], [False, False, False], [True, True, True]])
    out, w = attention(q, k, v, mask)
    assert torch.equal(w[..., 1, :], torch.zeros(1, 2, 3)) and torch.equal(out[..., 1, :], torch.zeros(1, 2, 4))
    rows = [0, 2]
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(out[..., rows, :], expected[..., rows, :])
    s = q @ k.transpose(-2, -1) / math.sqrt(4)
    torch.testing.assert_close(w[..., 2, :], torch.softmax(s[..., 2, :], -1))


def test_course_mha_reports_bad_input():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match="positive int"):
        MultiHeadAttention(0, 1)
    mha = MultiHeadAttention(8, 2)
    x = torch.randn(2, 4, 8)
    with pytest.raises(ValueError, match=r"\(batch, seq, 8\)"):
        mha(torch.randn(2, 4, 6), x, x)
    with pytest.raises(TypeError, match="bool"):
        mha(x, x, x, torch.ones(4, 4))
    with pytest.raises(ValueError, match="does not broadcast"):
        mha(x, x, x, torch.ones(3, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="batch size"):
        mha(x, torch.randn(3, 4, 8), torch.randn(3, 4, 8))
    with pytest.raises(TypeError, match="nn.MultiheadAttention"):
        load_torch_attention(mha, nn.Linear(8, 8))
    with pytest.raises(ValueError, match="embed_dim"):
        load_torch_attention(mha, nn.MultiheadAttention(4, 2))
    with pytest.raises(ValueError, match="head count"):
        load_torch_attention(mha, nn.MultiheadAttention(8, 4))
    with pytest.raises(TypeError, match="q_proj"):
        load_torch_attention(nn.Module(), nn.MultiheadAttention(8, 2))


# ------------------------------------------------------------------------------ checks' helpers

def test_attn_mask_conversion_agrees_with_torch_key_padding():
    """The general (batch·heads, q, k) conversion and the key-padding one give the same torch result."""
    layer = ref.torch_encoder_layer(8, 2, 16, norm_first=False)
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    pad = (torch.arange(5) < torch.tensor([5, 2])[:, None])[:, None, None, :]
    a = layer(x, src_key_padding_mask=ref.key_padding(pad))
    b = layer(x, src_mask=ref.attn_mask(pad, 2, 2, 5, 5))
    torch.testing.assert_close(a, b)
    assert ref.attn_mask(None, 2, 2, 5, 5) is None and ref.key_padding(None) is None


def test_copy_helpers_explain_missing_attributes():
    class Empty(nn.Module):
        pass
    with pytest.raises(AssertionError, match="self_attn"):
        ref.copy_encoder_layer(Empty(), ref.torch_encoder_layer(8, 2, 16, False))
    with pytest.raises(AssertionError, match="cross_attn"):
        bad = _DecoderBase(8, 2, 16)
        del bad.cross_attn
        ref.copy_decoder_layer(bad, ref.torch_decoder_layer(8, 2, 16, False))
    with pytest.raises(AssertionError, match="ModuleList called `layers`"):
        ref.copy_encoder(Empty(), ref.torch_encoder(2, 8, 2, 16, False))


def test_references_are_pytorch_layers_with_the_right_final_norm():
    assert ref.torch_encoder(2, 8, 2, 16, norm_first=True).norm is not None
    assert ref.torch_encoder(2, 8, 2, 16, norm_first=False).norm is None
    assert ref.torch_decoder(2, 8, 2, 16, norm_first=True).norm is not None
    assert ref.torch_decoder(2, 8, 2, 16, norm_first=False).norm is None
    layers = ref.torch_encoder(2, 8, 2, 16, norm_first=False).layers
    assert not torch.equal(layers[0].linear1.weight, layers[1].linear1.weight), "layers get separate random weights"


# ------------------------------------------------------------------------------ demos

def test_influence_is_lower_triangular_for_a_causal_decoder_layer():
    ns = answer_namespace(A)
    torch.manual_seed(0)
    dec = ns["DecoderLayer"](8, 2, 16, 0.1).eval()
    enc = ns["EncoderLayer"](8, 2, 16, 0.1).eval()
    x, mem = torch.randn(1, 5, 8), torch.randn(1, 3, 8)
    causal = torch.ones(5, 5, dtype=torch.bool).tril()
    m = ex.influence(lambda t: dec(t, mem, causal), x)
    assert m.shape == (5, 5)
    assert torch.equal(m > 1e-6, causal)
    assert bool((ex.influence(lambda t: enc(t), x) > 1e-6).all())
    fig = ex.influence_figure({"a": m, "b": m})
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="batch, seq, d_model"):
        ex.influence(lambda t: t, torch.randn(5, 8))


def test_mask_figure_and_its_errors():
    ns = answer_namespace(A)
    t = ns["target_mask"](torch.tensor([4, 2]), 4)
    fig = ex.mask_figure({"x": t[1, 0], "y": t[1]}, lengths={"x": 2})
    assert len(fig.axes) == 2
    with pytest.raises(TypeError, match="bool"):
        ex.mask_figure({"x": t.float()[0, 0]})
    with pytest.raises(ValueError, match="q_len, k_len"):
        ex.mask_figure({"x": t})


def test_trace_shapes_lists_every_sublayer_with_masks():
    ns = answer_namespace(A)
    dec = ns["Decoder"](2, 8, 2, 16, 0.1, norm_first=True).eval()
    tgt, mem = torch.randn(3, 5, 8), torch.randn(3, 7, 8)
    causal = torch.ones(5, 5, dtype=torch.bool).tril()
    rows = ex.trace_shapes(dec, tgt, mem, causal)
    names = [r[0] for r in rows]
    assert names[:6] == ["layers.0.norm1", "layers.0.self_attn", "layers.0.norm2", "layers.0.cross_attn",
                         "layers.0.norm3", "layers.0.ff"]
    assert names[-2:] == ["norm", "(Decoder)"]
    cross = dict((r[0], r) for r in rows)["layers.1.cross_attn"]
    assert cross[1] == "3x5x8, 3x7x8, 3x7x8" and cross[2] == "3x5x8"
    assert dict((r[0], r) for r in rows)["layers.0.self_attn"][1].endswith("5x5 bool")
    assert not any("dropout" in n for n in names)
    assert all(not h for m in dec.modules() for h in m._forward_hooks.values()), "hooks are removed"


def test_pre_ln_stream_grows_and_the_final_norm_resets_it():
    ns = answer_namespace(A)
    torch.manual_seed(0)
    x = torch.randn(2, 6, 16)
    post = ex.stream_rms(ns["Encoder"](8, 16, 2, 32, 0.1, norm_first=False).eval(), x)
    pre = ex.stream_rms(ns["Encoder"](8, 16, 2, 32, 0.1, norm_first=True).eval(), x)
    assert len(post) == len(pre) == 9
    assert all(abs(v - 1.0) < 1e-3 for v in post)
    assert pre[7] > pre[0] * 1.1 and abs(pre[8] - 1.0) < 1e-3
    assert len(ex.stream_figure({"Post-LN": post, "Pre-LN": pre}).axes) == 1
    with pytest.raises(TypeError, match="layers"):
        ex.stream_rms(nn.Linear(2, 2), x)


def test_data_flow_figure_draws_each_attention_block_with_its_mask():
    default = ex.data_flow_figure()
    assert len(default.axes) == 1 and len(default.axes[0].child_axes) == 3  # encoder, decoder self-, cross-attention
    ns = answer_namespace(A)
    s, t = ns["source_mask"](torch.tensor([4]), 6), ns["target_mask"](torch.tensor([4]), 5)
    mine = ex.data_flow_figure(encoder_mask=s[0, 0].expand(6, 6), self_mask=t[0, 0], cross_mask=s[0, 0].expand(5, 6))
    for a, b, shape in zip(default.axes[0].child_axes, mine.axes[0].child_axes, [(6, 6), (5, 5), (5, 6)]):
        drawn, given = a.images[0].get_array(), b.images[0].get_array()
        assert drawn.shape == given.shape == shape
        assert (drawn == given).all(), "the built-in example masks are the masks of Part 5 for the same lengths"
    picture = default.axes[0].child_axes[1].images[0].get_array()
    assert picture[0, 1] == 1 and picture[1, 0] == 0 and picture[4, 4] == 1, "causal, and key 4 is target padding"
    with pytest.raises(TypeError, match="bool"):
        ex.data_flow_figure(self_mask=t[0, 0].float())


def test_hints_and_demos_do_not_type_the_answers():
    # a hint points the way and a demo shows the idea on another example (issue 30): neither may type a
    # solution's line or run its expression with other names (tests/hints.py)
    from hints import answers_given_away

    assert answers_given_away(A) == []


# ------------------------------------------------------------------------------ size arguments ignored

def _fixed(cls, n_heads=None, d_ff=None):
    """cls with n_heads and/or d_ff ignored: the values the first visible case uses (2 heads, d_ff = 16), always."""
    class Fixed(cls):
        def __init__(self, *args, **kwargs):
            args = list(args)
            offset = 1 if cls in (EncAppend, DecAppend) else 0  # stacks take n_layers first
            if n_heads is not None:
                args[offset + 1] = n_heads
            if d_ff is not None:
                args[offset + 2] = d_ff
            super().__init__(*args, **kwargs)
    Fixed.__name__ = cls.__name__
    return Fixed


@pytest.mark.parametrize("grade_id, name, cls, check", [
    ("EncoderLayer_tests", "EncoderLayer", EncPyTorchStyle, ref.check_encoder_layer),
    ("DecoderLayer_tests", "DecoderLayer", DecPyTorchStyle, ref.check_decoder_layer),
    ("Encoder_tests", "Encoder", EncAppend, ref.check_encoder),
    ("Decoder_tests", "Decoder", DecAppend, ref.check_decoder),
])
@pytest.mark.parametrize("ignored, message", [({"n_heads": 2}, "the n_heads argument was ignored"),
                                              ({"d_ff": 16}, "the d_ff argument was ignored")])
def test_layers_and_stacks_reject_an_ignored_size(grade_id, name, cls, check, ignored, message):
    wrong = _fixed(cls, **ignored)
    err = assert_rejected(A, grade_id, **{name: wrong})
    assert message in str(err), str(err)
    with pytest.raises(AssertionError, match=message):
        check(wrong)
