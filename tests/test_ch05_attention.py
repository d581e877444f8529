"""Chapter 05 (attention): graded cells reject the usual mistakes, each with the message that names it
(scale by d or by nothing, softmax over the wrong axis, inverted or late masks, NaN or uniform rows for
queries with no key, the top-left causal alignment, heads split along the wrong axis, a missing output
projection ...), and accept correct answers written differently; the experiments and the attention-map
widget behave."""

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


def rejected_with(grade_id: str, message: str | None, **substitutes) -> None:
    """The test cell fails for this wrong answer, and (when given) with the message that names the mistake."""
    err = assert_rejected(A, grade_id, **substitutes)
    if message is not None:
        assert message in str(err), f"expected the message to contain {message!r}, got: {err}"


# ------------------------------------------------------------------------- dot_product_variance

@pytest.mark.parametrize("fn", [
    lambda d, n, g: float(torch.einsum("nd,nd->n", torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)).var()),
    lambda d, n, g: (lambda q, k: float((q[:, None, :] @ k[:, :, None]).flatten().var(correction=0)))(
        torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)),  # n (1×d)·(d×1) products, biased variance
    lambda d, n, g: (lambda x: float(((x[0] * x[1]).sum(-1) ** 2).mean()))(torch.randn(2, n, d, generator=g)),
])
def test_dot_product_variance_accepts(fn):
    run_test_cell(A, "dot_product_variance_tests", dot_product_variance=fn)


def _dots(d, n, g, rand=torch.randn):
    return (rand(n, d, generator=g) * rand(n, d, generator=g)).sum(-1)


DOT_VARIANCE_WRONG = {
    "std": (lambda d, n, g: float(_dots(d, n, g).std()), "standard deviation"),
    "mean-not-sum": (lambda d, n, g: float((torch.randn(n, d, generator=g) * torch.randn(n, d, generator=g))
                                           .mean(-1).var()), "you averaged the d_k products"),
    "divided-by-d": (lambda d, n, g: float(_dots(d, n, g).var() / d), "SCALED score"),
    "scaled-by-sqrt-d": (lambda d, n, g: float((_dots(d, n, g) / math.sqrt(d)).var()), "SCALED score"),
    "a-tensor": (lambda d, n, g: _dots(d, n, g).var(), "Python float"),
    "closed-form": (lambda d, n, g: float(d), "different seeds"),
    "closed-form-with-n": (lambda d, n, g: d * n / (n - 1.0), "different seeds"),
    "global-rng": (lambda d, n, g: float((torch.randn(n, d) * torch.randn(n, d)).sum(-1).var()), "same seed"),
    "q-dot-q": (lambda d, n, g: float((torch.randn(n, d, generator=g) ** 2).sum(-1).var()), "independent draws"),
    "uniform": (lambda d, n, g: float(_dots(d, n, g, rand=torch.rand).var()), "standard normal"),
    "q-summed-alone": (lambda d, n, g: float(torch.randn(n, d, generator=g).sum(-1).var()), "ONE vector"),
    "k-summed-alone": (lambda d, n, g: (torch.randn(n, d, generator=g), float(torch.randn(n, d, generator=g)
                                                                              .sum(-1).var()))[1], "ONE vector"),
    "sum-over-samples": (lambda d, n, g: float((torch.randn(n, d, generator=g) * torch.randn(n, d, generator=g))
                                               .sum(0).var()), None),
}


@pytest.mark.parametrize("kind", sorted(DOT_VARIANCE_WRONG))
def test_dot_product_variance_rejects_with_its_message(kind):
    fn, message = DOT_VARIANCE_WRONG[kind]
    rejected_with("dot_product_variance_tests", message, dot_product_variance=fn)


@pytest.mark.parametrize("fn, message", [
    (lambda d, n, g: float(_dots(64, n, g).var()), "the d_k argument was ignored"),  # always 64-dim vectors
    (lambda d, n, g: float(_dots(d, 20000, g).var()), "the n argument was ignored"),  # always 20000 pairs
])
def test_dot_product_variance_rejects_an_ignored_argument(fn, message):
    rejected_with("dot_product_variance_tests", message, dot_product_variance=fn)
    with pytest.raises(AssertionError, match=message.split()[1] + " argument"):  # "d_k argument", "n argument"
        ref.check_dot_product_variance(fn)


def test_hidden_variance_check_wants_a_sample():
    # right on average, but the same value for every seed (a formula dressed as a sample)
    with pytest.raises(AssertionError, match="seed"):
        ref.check_dot_product_variance(lambda d, n, g: float(d) + 1e-9 * float(torch.randn(1, generator=g)))


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


def _attn(scale=lambda q, k: math.sqrt(q.shape[-1]), dim=-1, invert=False, how="fill", fill=float("-inf"),
          fix_nan=True):
    def attention(q, k, v, mask=None):
        s = q @ k.transpose(-2, -1) / scale(q, k)
        m = None if mask is None else (~mask if invert else mask)
        if m is not None and how == "fill":
            s = s.masked_fill(~m, fill)
        if m is not None and how == "zero-scores":
            s = s * m
        w = torch.softmax(s, dim=dim)
        if m is not None and how == "after":
            w = w * m
        if fix_nan:
            w = torch.nan_to_num(w, nan=0.0)
        return w @ v, w
    return attention


ATTENTION_WRONG = {
    "scale-d": (_attn(scale=lambda q, k: q.shape[-1]), "divided by d_k"),
    "no-scale": (_attn(scale=lambda q, k: 1.0), "unscaled scores"),
    "scale-by-d_v": (_attn(scale=lambda q, k: math.sqrt(k.shape[-2] * 0 + 1)), "unscaled scores"),
    "scale-by-keys": (_attn(scale=lambda q, k: math.sqrt(k.shape[-2])), "number of keys"),
    "softmax-queries": (_attn(dim=-2), "COLUMN"),
    "inverted-mask": (_attn(invert=True), "MAY attend"),
    "mask-after-softmax": (_attn(how="after"), "AFTER"),
    "masked-scores-zero": (_attn(how="zero-scores"), "not 0"),
    "nan-rows": (_attn(fix_nan=False), "NaN"),
    "large-negative-fill": (_attn(fill=-1e9), "uniform weights"),
    "mask-ignored": (_attn(how="ignore"), None),
    "transposed-weights": (lambda q, k, v, mask=None: (lambda o, w: (o, w.transpose(-2, -1)))(*attn_sdpa(q, k, v, mask)),
                           None),
}


@pytest.mark.parametrize("kind", sorted(ATTENTION_WRONG))
def test_attention_rejects_with_its_message(kind):
    fn, message = ATTENTION_WRONG[kind]
    rejected_with("attention_tests", message, scaled_dot_product_attention=fn)


# ---------------------------------------------------------------------------------------- masks

def causal_a(q_len, k_len=None):
    k_len = q_len if k_len is None else k_len
    return torch.tril(torch.ones(q_len, k_len), diagonal=k_len - q_len).bool()


def causal_b(q_len, k_len=None):
    k_len = k_len or q_len
    i = torch.arange(q_len) + (k_len - q_len)
    return i[:, None] >= torch.arange(k_len)[None, :]


def causal_c(q_len, k_len=None):
    k_len = q_len if k_len is None else k_len
    return ~torch.ones(q_len, k_len, dtype=torch.bool).triu(k_len - q_len + 1)


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


def _causal(diagonal=0, top_left=False, upper=False):
    def causal_mask(q_len, k_len=None):
        k_len = q_len if k_len is None else k_len
        ones = torch.ones(q_len, k_len, dtype=torch.bool)
        if upper:
            return ones.triu(diagonal)
        return ones.tril(diagonal + (0 if top_left else k_len - q_len))
    return causal_mask


MASKS_WRONG = {
    "diagonal-excluded": ({"causal_mask": _causal(-1)}, "the diagonal is missing"),
    "future-leaks": ({"causal_mask": _causal(1)}, "one future token leaks"),
    "upper-triangle": ({"causal_mask": _causal(upper=True)}, "upper triangle"),
    "causal-inverted": ({"causal_mask": lambda q, k=None: ~causal_a(q, k)}, "swapped"),
    "causal-float": ({"causal_mask": lambda q, k=None: causal_a(q, k).float()}, "bool tensor"),
    "top-left": ({"causal_mask": _causal(top_left=True)}, "top-left alignment"),
    "k_len-ignored": ({"causal_mask": lambda q, k=None: causal_a(q)}, "shape of causal_mask(2, 4)"),
    "padding-inverted": ({"padding_mask": lambda l, n: ~pad_a(l, n)}, "swapped: True marks the real keys"),
    "padding-off-by-one": ({"padding_mask": lambda l, n: torch.arange(n)[None, None, None, :] <= l[:, None, None, None]},
                           "nothing is masked"),
    "padding-2d": ({"padding_mask": lambda l, n: pad_a(l, n)[:, 0, 0]}, "broadcasts over heads and queries"),
    "padding-on-queries": ({"padding_mask": lambda l, n: pad_a(l, n).view(len(l), 1, n, 1)}, "that masks queries"),
}


@pytest.mark.parametrize("kind", sorted(MASKS_WRONG))
def test_masks_reject_with_their_message(kind):
    substitutes, message = MASKS_WRONG[kind]
    rejected_with("masks_tests", message, **{"causal_mask": causal_a, "padding_mask": pad_a, **substitutes})


def test_padding_mask_rejects_an_ignored_max_len():
    longest = lambda l, n: pad_a(l, int(l.max()))  # the longest length instead of max_len
    rejected_with("masks_tests", "the max_len argument was ignored", causal_mask=causal_a, padding_mask=longest)
    with pytest.raises(AssertionError, match="the max_len argument was ignored"):
        ref.check_masks(causal_a, longest)


def test_hidden_mask_check_covers_every_rectangle():
    def late_only(q_len, k_len=None):  # right for the visible cases, wrong for q_len = 1 (a single new query)
        k_len = q_len if k_len is None else k_len
        return causal_a(q_len, k_len) if q_len > 1 else torch.ones(1, k_len, dtype=torch.bool).tril()
    with pytest.raises(AssertionError, match=r"causal_mask\(1, 5\)"):
        ref.check_masks(late_only, pad_a)


# --------------------------------------------------------------------------- MultiHeadAttention

def _mha(split, merge, project_out=True, attend=None, bias=True, check_divisible=True):
    class MultiHeadAttention(nn.Module):
        def __init__(self, d_model, n_heads):
            super().__init__()
            if check_divisible and d_model % n_heads:
                raise ValueError("d_model must be divisible by n_heads")
            self.h, self.dh = n_heads, max(d_model // n_heads, 1)
            self.q_proj, self.k_proj = nn.Linear(d_model, d_model, bias=bias), nn.Linear(d_model, d_model, bias=bias)
            self.v_proj, self.out_proj = nn.Linear(d_model, d_model, bias=bias), nn.Linear(d_model, d_model, bias=bias)

        def forward(self, query, key, value, mask=None):
            q, k, v = (split(p(x), self.h) for p, x in ((self.q_proj, query), (self.k_proj, key), (self.v_proj, value)))
            out, self.last_weights = (attend or attn_sdpa)(q, k, v, mask)
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
    return x.reshape(b, h, s, d // h)  # mixes tokens into heads: view without the transpose


def merge_wrong(x):
    return x.reshape(x.shape[0], x.shape[2], -1)  # no transpose back


def attend_d_model(q, k, v, mask=None):  # scales by √d_model (heads × d_head) instead of √d_head
    w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1] * q.shape[1]), dim=-1)
    return w @ v, w


MHA_WRONG = {
    "split-wrong-axis": (_mha(split_wrong_axis, merge_reshape), "with ONE head"),
    "merge-without-transpose": (_mha(split_view, merge_wrong), "with ONE head"),
    "scale-by-d_model": (_mha(split_view, merge_reshape, attend=attend_d_model), "with ONE head"),
    "no-output-projection": (_mha(split_view, merge_reshape, project_out=False), "out_proj is the identity"),
    "no-biases": (_mha(split_view, merge_reshape, bias=False), "each with a bias"),
    "no-valueerror": (_mha(split_view, merge_reshape, check_divisible=False), "ValueError"),
}


@pytest.mark.parametrize("kind", sorted(MHA_WRONG))
def test_mha_rejects_with_its_message(kind):
    cls, message = MHA_WRONG[kind]
    rejected_with("MultiHeadAttention_tests", message, MultiHeadAttention=cls)


class IgnoresMask(_mha(split_view, merge_reshape)):
    def forward(self, query, key, value, mask=None):
        return super().forward(query, key, value, None)


class TwoHeadsAlways(_mha(split_view, merge_reshape)):
    def __init__(self, d_model, n_heads):
        super().__init__(d_model, 2)  # n_heads ignored (it still raises for 10 features in 4 heads: 10 % 2 == 0)


class TwoHeadsStored(_mha(split_view, merge_reshape)):
    def __init__(self, d_model, n_heads):
        super().__init__(d_model, n_heads)
        self.h = self.n_heads = 2  # the argument checked, then a fixed head count used (and stored)
        self.dh = d_model // 2


def test_hidden_mha_check_uses_masks():
    with pytest.raises(AssertionError, match="the mask argument of forward was ignored"):
        ref.check_mha(IgnoresMask)


@pytest.mark.parametrize("cls, message", [(IgnoresMask, "the mask argument of forward was ignored"),
                                          (TwoHeadsAlways, "the n_heads argument was ignored"),
                                          (TwoHeadsStored, "the n_heads argument was ignored")])
def test_mha_rejects_an_ignored_argument(cls, message):
    rejected_with("MultiHeadAttention_tests", message, MultiHeadAttention=cls)
    with pytest.raises(AssertionError, match=message):
        ref.check_mha(cls)


# ---------------------------------------------------------------------------------- experiments

def test_saturation_experiment_numbers():
    fig, s = ex.saturation_experiment(d_values=(4, 1024), trials=300)
    none, sqrt, by_d = "no scale", "1/√d_k", "1/d_k"
    assert s["entropy"][none][1] < 0.5 * s["entropy"][none][0]                    # sharpens
    assert abs(s["entropy"][sqrt][1] - s["entropy"][sqrt][0]) < 0.15               # flat
    assert s["entropy"][by_d][1] > 0.98 * math.log(16)                             # uniform
    assert s["saturated"][none][1] > 0.3 and s["saturated"][sqrt][1] == 0.0
    assert s["grad"][none][1] < 0.1 * s["grad"][sqrt][1]                            # most rows get nothing
    assert s["grad"][by_d][1] < 0.1 * s["grad"][by_d][0]                           # shrinks like 1/√d_k
    assert abs(s["grad"][sqrt][1] - s["grad"][sqrt][0]) < 0.1
    assert len(fig.axes) == 2


def test_heads_experiment_one_head_cannot_do_two_lookups():
    from course.attention import MultiHeadAttention
    fig, h = ex.heads_experiment(MultiHeadAttention, heads=(1, 2))
    assert h["final_loss"][1] > 0.3 and h["final_loss"][2] < 0.01
    assert h["parameters"][1] == h["parameters"][2] == 4 * 16 * 16 + 4 * 16
    assert h["score_macs"][1] == h["score_macs"][2] and h["weights_stored"][2] == 2 * h["weights_stored"][1]
    x, y = ex.two_lookups_batch(torch.Generator().manual_seed(0), batch=2)
    assert torch.equal(y[:, 3, :8], x[:, 2, :8]) and torch.equal(y[:, 3, 8:], x[:, 0, :8])


def test_untrained_demo_uses_one_vector_per_word():
    from course.attention import MultiHeadAttention
    words = ex.toy_tokens()
    x = ex.word_embeddings(words, 16)
    the = [i for i, t in enumerate(words) if t == "the"]
    assert len(the) == 3 and all(torch.equal(x[0, the[0]], x[0, i]) for i in the)
    assert not torch.equal(x[0, 0], x[0, 1])
    layer = MultiHeadAttention(16, 4)
    layer(x, x, x)
    w = layer.last_weights[0]
    assert all(torch.allclose(w[:, the[0]], w[:, i]) for i in the)


def test_toy_heads_do_their_jobs():
    tokens = ex.toy_tokens()
    w = torch.softmax(ex.toy_scores(tokens)[0], dim=-1)  # (heads, seq, seq)
    top = w.argmax(-1)
    assert top[0, 1:].tolist() == list(range(len(tokens) - 1))                 # previous token
    assert top[2].tolist() == [0] * len(tokens)                                # first token
    i = tokens.index("cat", 2)                                                  # the second "cat"
    assert tokens[top[1, i]] == "cat" and top[1, i] < i                         # an earlier copy


# --------------------------------------------------------------------------------------- widget

def test_attention_map_temperature_and_masks_do_what_they_say():
    logits = torch.tensor([[0.0, 1.0, 2.0]])
    sharp = am.attention_weights(logits, temperature=0.1)
    flat = am.attention_weights(logits, temperature=10.0)
    assert am.row_entropy(sharp) < 0.01 and am.row_entropy(flat) > 1.0
    causal = am.attention_weights(torch.zeros(3, 3), causal=True)
    assert torch.allclose(causal[0], torch.tensor([1.0, 0.0, 0.0]))
    none = am.attention_weights(torch.zeros(1, 2), key_allowed=torch.tensor([False, False]))
    assert torch.equal(none, torch.zeros(1, 2))


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


def test_hints_and_demos_do_not_type_the_answers():
    # a hint points the way and a demo shows the idea on another example (issue 30): neither may type a
    # solution's line or run its expression with other names (tests/hints.py)
    from hints import answers_given_away

    assert answers_given_away(A) == []
