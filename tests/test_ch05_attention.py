"""Chapter 05 (attention): graded cells reject the usual mistakes (scale by d, softmax over the wrong
axis, inverted or late masks, NaN rows, heads split along the wrong axis, missing output projection,
off-by-one causal masks) and accept correct answers written differently; the experiments and the
attention-map widget behave."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from course_grader.checks import ch05_attention as ref
from notebooks import assert_rejected, graded_cells, run_test_cell
from torch import nn

from course.experiments import ch05_attention as ex
from course.widgets import ch05_attention as am

A = "05-attention"


def test_graded_cells_and_points():
    points = {gid: c.metadata["nbgrader"]["points"] for gid, c in graded_cells(A).items()}
    assert points == {"dot_product_variance_tests": 2, "attention_tests": 4, "masks_tests": 3,
                      "MultiHeadAttention_tests": 4}


# ------------------------------------------------------------------------- dot_product_variance

@pytest.mark.parametrize("fn", [
    lambda d, n, g: float(torch.einsum("nd,nd->n", torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)).var()),
    lambda d, n, g: (lambda q, k: float(((q @ k.T).diagonal()).var(correction=0)))(
        torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)),
    lambda d, n, g: (lambda x: float(((x[0] * x[1]).sum(-1) ** 2).mean()))(torch.randn(2, n, d, generator=g)),
])
def test_dot_product_variance_accepts(fn):
    run_test_cell(A, "dot_product_variance_tests", dot_product_variance=fn)


@pytest.mark.parametrize("wrong", [
    lambda d, n, g: float((torch.randn(n, d, generator=g) * torch.randn(n, d, generator=g)).sum(-1).std()),  # std
    lambda d, n, g: float((torch.randn(n, d, generator=g) * torch.randn(n, d, generator=g)).mean(-1).var()),  # mean
    lambda d, n, g: float((torch.randn(n, d, generator=g) * torch.randn(n, d, generator=g)).sum(-1).var() / d),  # scaled
    lambda d, n, g: (torch.randn(n, d, generator=g) * torch.randn(n, d, generator=g)).sum(-1).var(),  # a tensor
])
def test_dot_product_variance_rejects(wrong):
    assert_rejected(A, "dot_product_variance_tests", dot_product_variance=wrong)


# ------------------------------------------------------------------------------------ attention

def attn_sdpa(q, k, v, mask=None):
    s = torch.einsum("bhqd,bhkd->bhqk", q, k) * q.shape[-1] ** -0.5
    if mask is not None:
        s = s.masked_fill(mask.logical_not(), -math.inf)
    w = s.softmax(-1)
    w = torch.where(torch.isnan(w), torch.zeros_like(w), w)
    return torch.einsum("bhqk,bhkv->bhqv", w, v), w


def attn_exp(q, k, v, mask=None):
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    allowed = torch.ones_like(s, dtype=torch.bool) if mask is None else mask.expand_as(s)
    s = s.masked_fill(~allowed, -1e30)
    e = torch.exp(s - s.amax(-1, keepdim=True)) * allowed
    total = e.sum(-1, keepdim=True)
    w = e / total.clamp_min(1e-30)
    return w @ v, w


def attn_additive(q, k, v, mask=None):
    s = q @ k.transpose(-2, -1) / q.size(-1) ** 0.5
    if mask is not None:
        s = s + torch.zeros_like(s).masked_fill(~mask, float("-inf"))
    w = F.softmax(s, dim=-1)
    if mask is not None:
        w = w.masked_fill(~mask.expand_as(w).any(-1, keepdim=True), 0.0)
    return torch.matmul(w, v), w


@pytest.mark.parametrize("fn", [attn_sdpa, attn_exp, attn_additive])
def test_attention_accepts(fn):
    run_test_cell(A, "attention_tests", scaled_dot_product_attention=fn)


def _attn(scale=lambda d: math.sqrt(d), dim=-1, invert=False, after=False, fix_nan=True):
    def attention(q, k, v, mask=None):
        s = q @ k.transpose(-2, -1) / scale(q.shape[-1])
        m = None if mask is None else (~mask if invert else mask)
        if m is not None and not after:
            s = s.masked_fill(~m, float("-inf"))
        w = torch.softmax(s, dim=dim)
        if m is not None and after:
            w = w * m
        if fix_nan:
            w = torch.nan_to_num(w, nan=0.0)
        return w @ v, w
    return attention


@pytest.mark.parametrize("wrong", [
    _attn(scale=lambda d: d),            # divides by d_k
    _attn(scale=lambda d: 1.0),          # no scale
    _attn(dim=-2),                       # softmax over the queries
    _attn(invert=True),                  # True means "masked"
    _attn(after=True),                   # zeroed after the softmax, not renormalised
    _attn(fix_nan=False),                # NaN for fully masked rows
], ids=["scale-d", "no-scale", "softmax-queries", "inverted-mask", "mask-after-softmax", "nan-rows"])
def test_attention_rejects(wrong):
    assert_rejected(A, "attention_tests", scaled_dot_product_attention=wrong)


# ---------------------------------------------------------------------------------------- masks

def causal_a(seq):
    return torch.tril(torch.ones(seq, seq)).bool()


def causal_b(seq):
    i = torch.arange(seq)
    return i[:, None] >= i[None, :]


def causal_c(seq):
    return ~torch.ones(seq, seq, dtype=torch.bool).triu(1)


def pad_a(lengths, max_len):
    return (torch.arange(max_len) < lengths.unsqueeze(-1)).view(-1, 1, 1, max_len)


def pad_b(lengths, max_len):
    return torch.stack([torch.cat([torch.ones(n, dtype=torch.bool), torch.zeros(max_len - n, dtype=torch.bool)])
                        for n in lengths.tolist()])[:, None, None, :]


def pad_c(lengths, max_len):
    return torch.arange(max_len).expand(len(lengths), max_len).lt(lengths[:, None])[:, None, None]


@pytest.mark.parametrize("k", range(3))
def test_masks_accept(k):
    run_test_cell(A, "masks_tests", causal_mask=[causal_a, causal_b, causal_c][k],
                  padding_mask=[pad_a, pad_b, pad_c][k])


@pytest.mark.parametrize("causal,pad", [
    (lambda s: torch.ones(s, s, dtype=torch.bool).tril(-1), pad_a),        # diagonal excluded
    (lambda s: torch.ones(s, s, dtype=torch.bool).tril(1), pad_a),         # one future token visible
    (lambda s: torch.ones(s, s, dtype=torch.bool).triu(), pad_a),          # upper triangle
    (lambda s: torch.ones(s, s).tril(), pad_a),                            # float, not bool
    (causal_a, lambda l, n: ~pad_a(l, n)),                                 # padding inverted
    (causal_a, lambda l, n: pad_a(l, n)[:, 0, 0]),                         # not broadcastable over heads/queries
    (causal_a, lambda l, n: pad_a(l, n).view(len(l), 1, n, 1)),            # masks queries instead of keys
    (causal_a, lambda l, n: torch.arange(n)[None, None, None, :] <= l[:, None, None, None]),  # off by one
])
def test_masks_reject(causal, pad):
    assert_rejected(A, "masks_tests", causal_mask=causal, padding_mask=pad)


# --------------------------------------------------------------------------- MultiHeadAttention

def _mha(split, merge, project_out=True):
    class MultiHeadAttention(nn.Module):
        def __init__(self, d_model, n_heads):
            super().__init__()
            if d_model % n_heads:
                raise ValueError("d_model must be divisible by n_heads")
            self.h, self.dh = n_heads, d_model // n_heads
            self.q_proj, self.k_proj = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
            self.v_proj, self.out_proj = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)

        def forward(self, query, key, value, mask=None):
            q, k, v = (split(p(x), self.h) for p, x in ((self.q_proj, query), (self.k_proj, key), (self.v_proj, value)))
            out, self.last_weights = attn_sdpa(q, k, v, mask)
            out = merge(out)
            return self.out_proj(out) if project_out else out
    return MultiHeadAttention


def split_view(x, h):
    b, s, d = x.shape
    return x.view(b, s, h, d // h).transpose(1, 2)


def split_einops_like(x, h):
    return x.unflatten(-1, (h, -1)).permute(0, 2, 1, 3)


def split_chunks(x, h):
    return torch.stack(x.chunk(h, dim=-1), dim=1)


def merge_reshape(x):
    return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], -1)


def merge_cat(x):
    return torch.cat(x.unbind(1), dim=-1)


def merge_view(x):
    return x.permute(0, 2, 1, 3).contiguous().view(x.shape[0], x.shape[2], -1)


@pytest.mark.parametrize("cls", [_mha(split_view, merge_reshape), _mha(split_einops_like, merge_cat),
                                 _mha(split_chunks, merge_view)])
def test_mha_accepts(cls):
    run_test_cell(A, "MultiHeadAttention_tests", MultiHeadAttention=cls)


def split_wrong_axis(x, h):
    b, s, d = x.shape
    return x.reshape(b, h, s, d // h)  # mixes tokens into heads


def merge_wrong(x):
    return x.reshape(x.shape[0], x.shape[2], -1)  # no transpose back


class NoErrorMHA(_mha(split_view, merge_reshape)):
    def __init__(self, d_model, n_heads):
        nn.Module.__init__(self)
        self.h, self.dh = n_heads, max(d_model // n_heads, 1)
        self.q_proj, self.k_proj = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.v_proj, self.out_proj = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)


@pytest.mark.parametrize("wrong", [
    _mha(split_wrong_axis, merge_reshape),
    _mha(split_view, merge_wrong),
    _mha(split_view, merge_reshape, project_out=False),
    NoErrorMHA,
], ids=["split-wrong-axis", "merge-without-transpose", "no-output-projection", "no-valueerror"])
def test_mha_rejects(wrong):
    assert_rejected(A, "MultiHeadAttention_tests", MultiHeadAttention=wrong)


def test_hidden_mha_check_uses_masks():
    class IgnoresMask(_mha(split_view, merge_reshape)):
        def forward(self, query, key, value, mask=None):
            return super().forward(query, key, value, None)
    with pytest.raises(AssertionError, match="mask"):
        ref.check_mha(IgnoresMask)


# ---------------------------------------------------------------------------------- experiments

def test_saturation_experiment_numbers():
    fig, s = ex.saturation_experiment(d_values=(4, 256), trials=300)
    assert s["entropy_raw"][1] < 0.5 * s["entropy_raw"][0]
    assert abs(s["entropy_scaled"][1] - s["entropy_scaled"][0]) < 0.15
    assert s["grad_raw"][1] < 0.5 * s["grad_scaled"][1]
    assert len(fig.axes) == 2


def test_toy_heads_do_their_jobs():
    tokens = ex.toy_tokens()
    w = torch.softmax(ex.toy_scores(tokens)[0], dim=-1)  # (heads, seq, seq)
    top = w.argmax(-1)
    assert top[0, 1:].tolist() == list(range(len(tokens) - 1))                 # previous token
    assert top[2].tolist() == [0] * len(tokens)                                # first token
    i = tokens.index("cat", 2)                                                  # the second "cat"
    assert tokens[top[1, i]] == "cat" and top[1, i] < i                         # an earlier copy


# --------------------------------------------------------------------------------------- widget

def test_attention_map_drives_every_control(tmp_path):
    w = am.attention_map(ex.toy_tokens(), scores_fn=ex.toy_scores)
    assert set(w.controls) == {"sentence", "layer", "head", "causal", "padding", "temperature"}
    changes = [("head", 1), ("temperature", 5.0), ("sentence", "a b a c <pad>"), ("padding", False)]
    for name, value in changes:
        before, status = w.png, w.status.value
        w.controls[name].value = value
        assert w.png != before and w.status.value != status, name
    assert w.export_png(tmp_path / "map.png").read_bytes()[:4] == b"\x89PNG"


def test_attention_map_layer_slider_and_cross_attention():
    scores = torch.randn(2, 3, 4, 5)
    w = am.attention_map(list("abcd"), scores=scores, key_tokens=list("vwxyz"))
    for name, value in [("layer", 1), ("head", 2), ("causal", True)]:
        before = w.png
        w.controls[name].value = value
        assert w.png != before, name


def test_attention_map_temperature_and_masks_do_what_they_say():
    logits = torch.tensor([[0.0, 1.0, 2.0]])
    sharp = am.attention_weights(logits, temperature=0.1)
    flat = am.attention_weights(logits, temperature=10.0)
    assert am.row_entropy(sharp) < 0.01 and am.row_entropy(flat) > 1.0
    causal = am.attention_weights(torch.zeros(3, 3), causal=True)
    assert torch.allclose(causal[0], torch.tensor([1.0, 0.0, 0.0]))
    none = am.attention_weights(torch.zeros(1, 2), key_allowed=torch.tensor([False, False]))
    assert torch.equal(none, torch.zeros(1, 2))


def test_attention_map_accepts_softmaxed_weights_and_reports_bad_input():
    w = am.attention_map(list("abc"), weights=torch.softmax(torch.randn(3, 3), -1))
    assert "entropy" in w.status.value
    with pytest.raises(ValueError, match="exactly one"):
        am.attention_map(list("abc"))
    with pytest.raises(ValueError, match="does not fit"):
        am.attention_map(list("ab"), scores=torch.zeros(3, 3))
    typed = am.attention_map(["x"], scores_fn=lambda t: torch.zeros(len(t), len(t)))
    typed.controls["sentence"].value = "   "
    assert "at least one word" in typed.status.value


# ------------------------------------------------------------------------------------ borrowed answers score zero

from torch.nn.functional import scaled_dot_product_attention as _early_sdpa  # noqa: E402  (bound before the checks)

import course.attention as _course_attention  # noqa: E402
import course.blocks as _course_blocks  # noqa: E402


def _scores(q, k, mask):
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    return s if mask is None else s.masked_fill(~mask, -math.inf)


def _full(q, k, mask):
    return None if mask is None else mask.expand(*q.shape[:-1], k.shape[-2])


BORROWED_ATTENTION = {
    "course.attention.attention": lambda q, k, v, mask=None: _course_attention.attention(q, k, v, mask),
    "F.scaled_dot_product_attention, bound early": lambda q, k, v, mask=None: (
        _early_sdpa(q, k, v, attn_mask=_full(q, k, mask)).nan_to_num(0.0), _scores(q, k, mask).softmax(-1).nan_to_num(0.0)),
    "torch.ops.aten.scaled_dot_product_attention": lambda q, k, v, mask=None: (
        torch.ops.aten.scaled_dot_product_attention(q, k, v, _full(q, k, mask)).nan_to_num(0.0),
        _scores(q, k, mask).softmax(-1).nan_to_num(0.0)),
    "torch._safe_softmax": lambda q, k, v, mask=None: (lambda w: (w @ v, w))(torch._safe_softmax(_scores(q, k, mask), -1)),
}
for _fn in BORROWED_ATTENTION.values():
    _fn.__name__ = "scaled_dot_product_attention"


@pytest.mark.parametrize("how", sorted(BORROWED_ATTENTION))
def test_borrowed_attention_scores_zero(how):
    err = assert_rejected(A, "attention_tests", scaled_dot_product_attention=BORROWED_ATTENTION[how])
    assert "may not call" in str(err), err


def test_borrowed_masks_score_zero():
    err = assert_rejected(A, "masks_tests", causal_mask=_course_blocks.causal_mask,
                          padding_mask=_course_blocks.padding_mask)
    assert "may not call course.blocks.causal_mask" in str(err), err
    err = assert_rejected(A, "masks_tests", padding_mask=_course_blocks.padding_mask)
    assert "may not call course.blocks.padding_mask" in str(err), err


class SubclassedMHA(_course_attention.MultiHeadAttention):
    pass


class WrapsTorchMHA(nn.Module):
    """The course's q/k/v/out layers, loaded into an nn.MultiheadAttention built on every call."""

    def __init__(self, d_model, n_heads):
        super().__init__()
        if d_model % n_heads:
            raise ValueError("n_heads must divide d_model")
        self.n_heads = n_heads
        self.q_proj, self.k_proj = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.v_proj, self.out_proj = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)

    def forward(self, query, key, value, mask=None):
        d = query.shape[-1]
        mha = nn.MultiheadAttention(d, self.n_heads, batch_first=True).to(query.dtype)
        with torch.no_grad():
            mha.in_proj_weight.copy_(torch.cat([self.q_proj.weight, self.k_proj.weight, self.v_proj.weight]))
            mha.in_proj_bias.copy_(torch.cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias]))
            mha.out_proj.weight.copy_(self.out_proj.weight)
            mha.out_proj.bias.copy_(self.out_proj.bias)
        blocked = None if mask is None else ~mask.expand(query.shape[0], self.n_heads, query.shape[1], key.shape[1])
        blocked = None if blocked is None else blocked.reshape(-1, query.shape[1], key.shape[1])
        return mha(query, key, value, attn_mask=blocked, need_weights=False)[0]


@pytest.mark.parametrize("cls", [SubclassedMHA, WrapsTorchMHA])
def test_borrowed_mha_scores_zero(cls):
    err = assert_rejected(A, "MultiHeadAttention_tests", MultiHeadAttention=cls)
    assert "may not call" in str(err), err
