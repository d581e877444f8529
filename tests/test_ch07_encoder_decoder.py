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

def _ff(act=torch.relu, where="hidden", bias2=True, dropout_fn=None):
    """A FeedForward with a chosen activation and dropout placement ("hidden" is the right one)."""
    class FeedForward(nn.Module):
        def __init__(self, d_model, d_ff, dropout=0.1):
            super().__init__()
            self.linear1 = nn.Linear(d_model, d_ff)
            self.linear2 = nn.Linear(d_ff, d_model, bias=bias2)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x):
            drop = self.dropout if dropout_fn is None else functools.partial(dropout_fn, self)
            if where == "input":
                x = drop(x)
            h = act(self.linear1(x))
            if where == "hidden":
                h = drop(h)
            out = self.linear2(h)
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


@pytest.mark.parametrize("wrong", [
    _ff(act=lambda h: h),                                            # no activation
    _ff(act=F.gelu),                                                 # GELU where ReLU is asked for
    _ff(where="output"),                                             # dropout after linear2
    _ff(where="input"),                                              # dropout on the block's input
    _ff(where="none"),                                               # no dropout at all
    _ff(dropout_fn=lambda self, h: F.dropout(h, self.dropout.p, training=True)),  # dropout in eval mode too
    _ff(dropout_fn=_unscaled),                                       # survivors not scaled
    _ff(bias2=False),                                                # linear2 without bias
], ids=["no-activation", "gelu", "dropout-after-linear2", "dropout-on-input", "no-dropout", "dropout-in-eval",
        "dropout-unscaled", "no-bias"])
def test_feed_forward_rejects(wrong):
    assert_rejected(A, "FeedForward_tests", FeedForward=wrong)


def test_feed_forward_wrong_widths_rejected():
    class Swapped(FFFunctional):
        def __init__(self, d_model, d_ff, dropout=0.1):
            super().__init__(d_model, d_ff, dropout)
            self.linear1, self.linear2 = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
    err = assert_rejected(A, "FeedForward_tests", FeedForward=Swapped)
    assert "parameters" in str(err)


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


@pytest.mark.parametrize("wrong", [
    _enc(PRE, POST),                                   # Pre and Post swapped
    _enc(POST, POST),                                  # norm_first ignored
    _enc(POST, pre_residual_after_norm),               # residual taken from the normalised x
    _enc(post_no_attention_residual, PRE),
    _enc(post_no_ff_residual, PRE),
    _enc(POST, pre_no_residual),
    _enc(post_norms_swapped, PRE),
    _enc(post_mask_inverted, PRE),
    _enc(POST, pre_mask_ignored),
    _enc(POST, pre_normalised_output),                 # a Pre-LN layer that also normalises its output
], ids=["pre-post-swapped", "always-post", "pre-residual-after-norm", "post-no-attention-residual",
        "post-no-ff-residual", "pre-no-residual", "norms-swapped", "mask-inverted", "mask-ignored",
        "pre-normalised-output"])
def test_encoder_layer_rejects(wrong):
    assert_rejected(A, "EncoderLayer_tests", EncoderLayer=wrong)


@pytest.mark.parametrize("wrong", [_enc(post_dropout_after_add, PRE), _enc(POST, pre_dropout_after_add)],
                         ids=["post", "pre"])
def test_encoder_layer_dropout_after_the_residual_add_rejected(wrong):
    """Identical in eval mode, so only the hidden train-mode check (every sublayer dropped) can see it."""
    err = assert_rejected(A, "EncoderLayer_tests", EncoderLayer=wrong)
    assert "dropout" in str(err) and "train mode" in str(err)


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


@pytest.mark.parametrize("wrong", [
    _dec(D_PRE, D_POST),
    _dec(dec_cross_over_decoder, D_PRE),
    _dec(dec_cross_over_decoder_masked, D_PRE),
    _dec(dec_memory_as_queries, D_PRE),
    _dec(dec_cross_first, D_PRE),
    _dec(dec_masks_swapped, D_PRE),
    _dec(dec_no_causal, D_PRE),
    _dec(dec_tgt_inverted, D_PRE),
    _dec(D_POST, dec_memory_mask_ignored),
    _dec(D_POST, dec_pre_normalises_memory),
    _dec(D_POST, dec_pre_residual_after_norm),
    _dec(dec_no_cross_residual, D_PRE),
    _dec(dec_one_norm, D_PRE),
    _dec(dec_no_cross_attention, D_PRE),
    _dec(D_POST, dec_pre_dropout_after_add),
], ids=["pre-post-swapped", "cross-over-decoder", "cross-over-decoder-with-mask", "memory-as-queries",
        "cross-before-self", "masks-swapped", "no-causal-mask", "target-mask-inverted", "memory-mask-ignored",
        "pre-normalises-memory", "pre-residual-after-norm", "no-cross-residual", "one-norm-for-all",
        "no-cross-attention", "pre-dropout-after-add"])
def test_decoder_layer_rejects(wrong):
    assert_rejected(A, "DecoderLayer_tests", DecoderLayer=wrong)


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


@pytest.mark.parametrize("wrong", [
    _enc_stack(final="never"), _enc_stack(final="always"), _enc_stack(shared=True), _enc_stack(mask=False),
    _enc_stack(norm_each=True), EncNormNotApplied, EncFreshNormForPost,
], ids=["no-final-norm", "final-norm-for-post-ln", "shared-layers", "mask-dropped", "norm-after-every-layer",
        "final-norm-not-applied", "parameter-free-norm-for-post"])
def test_encoder_stack_rejects(wrong):
    assert_rejected(A, "Encoder_tests", Encoder=wrong)


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


@pytest.mark.parametrize("wrong", [
    _dec_stack(final="never"), _dec_stack(final="always"), _dec_stack(shared=True),
    _dec_stack(forward=lambda s, x, mem, tm, mm: _finish(s, functools.reduce(
        lambda h, l: l(h, h, tm, None), s.layers, x))),                             # each layer's memory is its input
    _dec_stack(forward=lambda s, x, mem, tm, mm: _finish(s, functools.reduce(
        lambda h, l: l(h, mem, mm, tm), s.layers, x))),                             # masks swapped
    _dec_stack(forward=lambda s, x, mem, tm, mm: _finish(s, functools.reduce(
        lambda h, l: l(h, mem, None, mm), s.layers, x))),                           # causal mask dropped
    _dec_stack(forward=lambda s, x, mem, tm, mm: _finish(s, s.layers[-1](x, mem, tm, mm))),  # only the last layer
], ids=["no-final-norm", "final-norm-for-post-ln", "shared-layers", "memory-is-the-decoder", "masks-swapped",
        "causal-mask-dropped", "last-layer-only"])
def test_decoder_stack_rejects(wrong):
    assert_rejected(A, "Decoder_tests", Decoder=wrong)


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


@pytest.mark.parametrize("src,tgt", [
    (src_a, _tgt(causal_diag=-1)),                                               # diagonal excluded
    (src_a, _tgt(causal_diag=1)),                                                # one future token visible
    (src_a, lambda l, n: ~tgt_a(l, n)),                                          # target inverted
    (lambda l, n: ~src_a(l, n), tgt_a),                                          # source inverted
    (lambda l, n: src_a(l, n).view(len(l), 1, n, 1), tgt_a),                      # source masks queries
    (src_a, _tgt(pad="queries")),                                                # target pads queries, not keys
    (src_a, _tgt(pad="both")),                                                   # target pads queries as well
    (src_a, _tgt(pad="none")),                                                   # no padding in the target mask
    (src_a, lambda l, n: src_a(l, n).expand(len(l), 1, n, n).clone()),           # no causal part
    (src_a, lambda l, n: tgt_a(l, n).float()),                                   # float, not bool
    (src_a, lambda l, n: tgt_a(l, n)[:, 0]),                                     # no head dim
    (lambda l, n: (torch.arange(n) <= l[:, None])[:, None, None, :], tgt_a),     # padding off by one
    (src_no_error, tgt_a),                                                       # no ValueError
    (src_a, lambda l, n: src_no_error(l, n) & torch.ones(n, n, dtype=torch.bool).tril()),  # target: no ValueError
], ids=["causal-diagonal-excluded", "causal-future-included", "target-inverted", "source-inverted",
        "source-pads-queries", "target-pads-queries", "target-pads-both", "target-no-padding", "target-not-causal",
        "float", "no-head-dim", "padding-off-by-one", "source-no-valueerror", "target-no-valueerror"])
def test_masks_reject(src, tgt):
    assert_rejected(A, "masks_tests", source_mask=src, target_mask=tgt)


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
