"""Hidden checks of chapter 05 (attention, masks, the √d_k scale, multi-head attention).

References: ``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention`` with the student's
weights copied in (float64), plus hand-built cases. Mask convention of the course: a boolean
mask with True where a query MAY attend to a key (the same as ``F.scaled_dot_product_attention``,
the opposite of ``nn.MultiheadAttention``'s masks).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from course.checks.ch05_attention import copy_from_torch
from course.checks.core import call, check, close, equal, exercise, raises
from course.checks.elsewhere import module_method
from course.checks.messages import msg

# bound at import time (the set-up cell), so later monkeypatching does not change the checks
_sdpa = F.scaled_dot_product_attention
_equal_tensors = torch.equal
_isnan = torch.isnan
_named_parameters = module_method("named_parameters")  # unbound: a student's class may override these methods
_parameters = module_method("parameters")
_double = module_method("double")
_train = module_method("train")
_numel = torch.Tensor.numel


def reference_attention(q, k, v, mask=None):
    """Output and weights in float64; fully masked rows give zero weights and zero output."""
    q, k, v = q.double(), k.double(), v.double()
    scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5  # (..., q_len, k_len)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)
    return weights @ v, weights


@exercise("dot_product_variance")
def check_dot_product_variance(dot_product_variance: Callable[..., float], seed: int = 0) -> None:
    values = {}
    for d_k in (1, 4, 16, 64, 256):
        got = call(dot_product_variance, d_k, 20000, torch.Generator().manual_seed(seed + d_k))
        check(isinstance(got, float), "dot_product_variance should return a float, got {got}", got=type(got).__name__)
        values[d_k] = got
    check(max(values.values()) > 4 * min(values.values()),
          "dot_product_variance gave about the same number for d_k = 1 and d_k = 256 ({one:.4g} and {many:.4g}): the "
          "d_k argument was ignored; draw vectors of the size d_k you are given", one=values[1], many=values[256])
    for d_k, got in values.items():
        close(got, float(d_k), rtol=0.1, atol=0.05,
              name=msg("dot_product_variance(d_k={d_k}, 20000 samples): Var(q·k) for unit-variance entries is d_k",
                       d_k=d_k))
    # a sampled estimate: reproducible for one seed, different across seeds, and as noisy as n samples make it
    first = call(dot_product_variance, 16, 50, torch.Generator().manual_seed(seed + 100))
    again = call(dot_product_variance, 16, 50, torch.Generator().manual_seed(seed + 100))
    check(first == again, "dot_product_variance with two generators seeded alike gave different results: draw every "
                          "random number from the generator argument")
    small = [call(dot_product_variance, 16, 50, torch.Generator().manual_seed(seed + 200 + i)) for i in range(8)]
    spread = max(small) - min(small)
    check(spread > 1.0, "dot_product_variance(16, n=50) over 8 seeds ranged only {low:.4g}..{high:.4g}: with 50 "
                        "samples the estimate should vary from seed to seed (was the n argument ignored?); sample n "
                        "pairs, do not compute the variance", low=min(small), high=max(small))
    check(sum(small) / len(small) > 8.0, "dot_product_variance(16, n=50): the average over 8 seeds should be near 16")


@exercise("scaled_dot_product_attention")
def check_attention(attention: Callable[..., tuple[torch.Tensor, torch.Tensor]], seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    cases = [((2, 3, 5, 8), 5, None), ((1, 2, 4, 16), 7, "random"), ((3, 1, 6, 4), 6, "causal"),
             ((2, 4, 1, 32), 9, "random")]
    for (b, h, q_len, d), k_len, kind in cases:
        q = torch.randn(b, h, q_len, d, generator=g) * 2
        k = torch.randn(b, h, k_len, d, generator=g) * 2
        v = torch.randn(b, h, k_len, d + 1, generator=g)
        mask = None
        if kind == "random":
            mask = torch.rand(b, 1, q_len, k_len, generator=g) > 0.4
            mask[..., 0] = True  # no fully masked rows here: compare with PyTorch directly
        elif kind == "causal":
            mask = torch.ones(q_len, k_len, dtype=torch.bool).tril()
        out, weights = call(attention, q, k, v, mask)
        label = msg("attention with q {q}, k {k}, mask {kind}", q=tuple(q.shape), k=tuple(k.shape), kind=kind)
        close(out, _sdpa(q.double(), k.double(), v.double(), attn_mask=mask), atol=1e-5, rtol=1e-4,
              name=msg("output of {label}, against F.scaled_dot_product_attention", label=label))
        close(weights, reference_attention(q, k, v, mask)[1], atol=1e-5, rtol=1e-4,
              name=msg("weights of {label}", label=label))
    q = torch.randn(1, 1, 3, 4, generator=g)
    mask = torch.tensor([[True, False, True], [False, False, False], [True, True, True]])
    out, weights = call(attention, q, q, q, mask)
    check(not bool(_isnan(out).any()) and not bool(_isnan(weights).any()),
          "a query that may attend to no key at all (a fully masked row) must not produce NaN")
    close(weights[0, 0, 1], torch.zeros(3), name="weights of a fully masked row (zeros, by the course's convention)")
    close(out[0, 0, 1], torch.zeros(4), name="output of a fully masked row (zeros)")


def check_masks(causal_mask: Callable[..., torch.Tensor], padding_mask: Callable[..., torch.Tensor]) -> None:
    _check_causal_mask(causal_mask)
    _check_padding_mask(padding_mask)


@exercise("causal_mask")
def _check_causal_mask(causal_mask: Callable[..., torch.Tensor]) -> None:
    for seq in (1, 2, 5):
        m = call(causal_mask, seq)
        check(isinstance(m, torch.Tensor) and m.dtype == torch.bool, "causal_mask should return a bool tensor")
        equal(tuple(m.shape), (seq, seq), name=msg("shape of causal_mask({seq})", seq=seq))
        check(_equal_tensors(m, torch.ones(seq, seq, dtype=torch.bool).tril()),
              "causal_mask({seq}): query i may attend to keys 0..i (itself included), never to later ones", seq=seq)
    for q_len, k_len in [(1, 1), (1, 5), (2, 4), (3, 3), (4, 7), (6, 6)]:
        m = call(causal_mask, q_len, k_len)
        check(isinstance(m, torch.Tensor) and m.dtype == torch.bool, "causal_mask should return a bool tensor")
        equal(tuple(m.shape), (q_len, k_len), name=msg("shape of causal_mask({q_len}, {k_len})", q_len=q_len,
                                                       k_len=k_len))
        position = torch.arange(k_len - q_len, k_len)  # where the queries sit in the sequence
        expected = torch.arange(k_len)[None, :] <= position[:, None]
        check(_equal_tensors(m, expected),
              "causal_mask({q_len}, {k_len}): the queries are the last {q_len} of {k_len} positions; query i sits at "
              "position {first} + i and may attend to keys up to that position", q_len=q_len, k_len=k_len,
              first=k_len - q_len)


@exercise("padding_mask")
def _check_padding_mask(padding_mask: Callable[..., torch.Tensor]) -> None:
    for lengths, max_len in [([3, 1, 4], 4), ([2], 5), ([5, 5], 5)]:
        m = call(padding_mask, torch.tensor(lengths), max_len)
        check(isinstance(m, torch.Tensor) and m.dtype == torch.bool, "padding_mask should return a bool tensor")
        check(m.shape[-1] == max_len or max(lengths) == max_len,
              "padding_mask({lengths}, {max_len}) has {keys} keys: the max_len argument was ignored (the longest "
              "length is not max_len: a batch may be padded beyond its longest sequence)", lengths=lengths,
              max_len=max_len, keys=m.shape[-1])
        equal(tuple(m.shape), (len(lengths), 1, 1, max_len),
              name=msg("shape of padding_mask({lengths}, {max_len})", lengths=lengths, max_len=max_len))
        expected = torch.arange(max_len)[None, :] < torch.tensor(lengths)[:, None]
        check(_equal_tensors(m[:, 0, 0], expected),
              "padding_mask({lengths}, {max_len}): key j is allowed when j < length of its sequence", lengths=lengths,
              max_len=max_len)


@exercise("MultiHeadAttention")
def check_mha(MultiHeadAttention: type, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    for d, heads in [(8, 2), (12, 3), (16, 1), (16, 16)]:
        ours = call(MultiHeadAttention, d, heads)
        check(isinstance(ours, nn.Module), "MultiHeadAttention({d}, {heads}) should build an nn.Module", d=d,
              heads=heads)
        names = {n for n, _ in _named_parameters(ours)}
        check({"q_proj.weight", "k_proj.weight", "v_proj.weight", "out_proj.weight"} <= names,
              "MultiHeadAttention should have nn.Linear layers q_proj, k_proj, v_proj and out_proj; found {names}",
              names=sorted(names))
        equal(sum(_numel(p) for p in _parameters(ours)), 4 * d * d + 4 * d,
              name=msg("parameters of MultiHeadAttention({d}, {heads}) (4d² + 4d)", d=d, heads=heads))
        ref = nn.MultiheadAttention(d, heads, batch_first=True).double().eval()
        with torch.no_grad():
            for p in ref.parameters():
                p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) * 0.5)
        _train(_double(ours), False)
        check(getattr(ours, "n_heads", heads) == heads, "MultiHeadAttention({d}, {heads}) has n_heads = {got!r}: the "
              "n_heads argument was ignored", d=d, heads=heads, got=getattr(ours, "n_heads", heads))
        copy_from_torch(ours, ref)
        b, q_len, k_len = 2, 5, 3
        x = torch.randn(b, q_len, d, generator=g, dtype=torch.float64)
        mem = torch.randn(b, k_len, d, generator=g, dtype=torch.float64)
        got = call(ours, x, x, x)
        _n_heads_used(got, ref, x, d, heads)
        close(got, ref(x, x, x, need_weights=False)[0], atol=1e-6,
              name=msg("self-attention of MultiHeadAttention({d}, {heads}) vs nn.MultiheadAttention, copied weights",
                       d=d, heads=heads))
        close(call(ours, x, mem, mem), ref(x, mem, mem, need_weights=False)[0], atol=1e-6,
              name=msg("cross-attention (5 queries, 3 keys) of MultiHeadAttention({d}, {heads})", d=d, heads=heads))
        causal = torch.ones(q_len, q_len, dtype=torch.bool).tril()
        got = call(ours, x, x, x, causal)
        check(not _close(got, ref(x, x, x, need_weights=False)[0]),
              "MultiHeadAttention({d}, {heads}) gave the same output with a causal mask as without one: the mask "
              "argument of forward was ignored; pass it on to the attention", d=d, heads=heads)
        close(got, ref(x, x, x, attn_mask=~causal, need_weights=False)[0], atol=1e-6,
              name=msg("MultiHeadAttention({d}, {heads}) with a causal mask (True = may attend)", d=d, heads=heads))
        keep = torch.tensor([[True, True, False], [True, False, False]])  # (batch, k_len): padding at the end
        close(call(ours, x, mem, mem, keep[:, None, None, :]),
              ref(x, mem, mem, key_padding_mask=~keep, need_weights=False)[0], atol=1e-6,
              name=msg("MultiHeadAttention({d}, {heads}) with a padding mask of shape (batch, 1, 1, k_len)", d=d,
                       heads=heads))
    raises(ValueError, MultiHeadAttention, 10, 3, name="MultiHeadAttention(10, 3) (10 is not divisible by 3)")


def _close(got: object, want: torch.Tensor) -> bool:
    return (isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(want.shape)
            and bool(((got.double() - want).abs() <= 1e-6).all()))


def _n_heads_used(got: object, ref: nn.MultiheadAttention, x: torch.Tensor, d: int, heads: int) -> None:
    """Names an ignored n_heads: the output matches nn.MultiheadAttention with the same weights, another head count."""
    if _close(got, ref(x, x, x, need_weights=False)[0]):
        return
    for h in range(1, d + 1):
        if d % h == 0 and h != heads:
            other = nn.MultiheadAttention(d, h, batch_first=True).double().eval()
            other.load_state_dict(ref.state_dict())
            check(not _close(got, other(x, x, x, need_weights=False)[0]),
                  "MultiHeadAttention({d}, {heads}) computes {h} head(s), not {heads}: the n_heads argument was "
                  "ignored; split d_model into the n_heads heads you are given", d=d, heads=heads, h=h)
