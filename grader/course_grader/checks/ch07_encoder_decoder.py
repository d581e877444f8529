"""Hidden checks of chapter 07 (feed-forward block, encoder and decoder layers, stacks, masks).

References are PyTorch's own ``nn.TransformerEncoderLayer`` / ``nn.TransformerDecoderLayer`` /
``nn.TransformerEncoder`` / ``nn.TransformerDecoder`` (batch_first, ReLU, eval mode, float64),
with random weights copied into the student's modules, plus behaviour that needs no reference:
causality, padding invariance, and what a layer must compute when every dropout drops everything.

The course's masks are boolean with True = MAY attend; PyTorch's transformer masks are the
opposite (True = blocked), so every mask handed to PyTorch here is inverted (``~mask``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from course.checks.borrowed import switched_off_for
from course.checks.ch07_encoder_decoder import (  # noqa: F401  (the visible tests' helpers)
    ATOL,
    _copy,
    _copy_stack,
    _Decoder,
    _DecoderLayer,
    _Encoder,
    _EncoderLayer,
    _equal_tensors,
    _gen,
    _layer_norm,
    _linear,
    _need,
    _quiet,
    _relu,
    as_double,
    attn_mask,
    attribute,
    copy_decoder,
    copy_decoder_layer,
    copy_encoder,
    copy_encoder_layer,
    copy_feed_forward,
    key_padding,
    n_params,
    parameters_of,
    randomize_,
    submodule,
    torch_decoder,
    torch_decoder_layer,
    torch_encoder,
    torch_encoder_layer,
)
from course.checks.core import call, check, close, equal, exercise, raises
from course.checks.elsewhere import class_of
from course.checks.messages import fail, msg
from course.checks.plain import plain

# ------------------------------------------------------------------------------ helpers for checks

def _lengths_mask(lengths: list[int], max_len: int) -> torch.Tensor:
    """The course padding mask (batch, 1, 1, max_len), built here independently of the student."""
    return (torch.arange(max_len)[None, :] < torch.tensor(lengths)[:, None])[:, None, None, :]


def _causal(n: int) -> torch.Tensor:
    return torch.ones(n, n, dtype=torch.bool).tril()


def _output(out: Any, like: torch.Tensor, what: Any) -> torch.Tensor:
    out = plain(out, what, modules=False)
    check(isinstance(out, torch.Tensor), "{what}: expected a tensor, got {got}", what=what, got=type(out).__name__)
    equal(tuple(out.shape), tuple(like.shape), name=msg("{what}: output shape", what=what))
    check(not bool(torch.isnan(out).any()), "{what}: the output contains NaN", what=what)
    return out


def _build(cls: type, what: Any, *args: Any) -> nn.Module:
    ours = call(cls, *args)
    check(issubclass(class_of(ours), nn.Module), "{what} should be an nn.Module, got {got}", what=what,
          got=class_of(ours).__name__)
    return ours


def _same_count(ours: nn.Module, theirs: nn.Module, what: Any) -> None:
    from course.checks.ch07_encoder_decoder import size_hint
    check(n_params(ours) == n_params(theirs), "number of parameters of {what}: expected {want} (PyTorch's equivalent "
          "has this many), got {got}{hint}", what=what, want=n_params(theirs), got=n_params(ours),
          hint=size_hint(ours, theirs))


# ------------------------------------------------------------------------------ exercise 1: FeedForward

def _ff_weights(ff: nn.Module) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    p = parameters_of(ff)
    for name in ("linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias"):
        check(name in p, "FeedForward needs a parameter {name} (nn.Linear layers linear1 and linear2 with biases), "
                         "found {found}", name=name, found=sorted(p))
    return p["linear1.weight"], p["linear1.bias"], p["linear2.weight"], p["linear2.bias"]


@exercise("FeedForward")
def check_feed_forward(FeedForward: type, seed: int = 0) -> None:
    g = _gen(seed)
    for d, d_ff in [(8, 32), (5, 7), (16, 16)]:
        what = f"FeedForward({d}, {d_ff}, 0.1)"
        ff = _build(FeedForward, what, d, d_ff, 0.1)
        _need(ff, "FeedForward", {"linear1": nn.Linear, "linear2": nn.Linear, "dropout": nn.Dropout})
        w1, b1, w2, b2 = _ff_weights(ff)
        equal((int(w1.shape[1]), int(w1.shape[0]), int(w2.shape[1]), int(w2.shape[0])), (d, d_ff, d_ff, d),
              name=msg("{what}: (in, out) features of linear1 and linear2 (d -> d_ff -> d)", what=what))
        p = plain(attribute(submodule(ff, "dropout"), "p"), f"{what}: self.dropout.p")
        check(type(p) in (int, float) and p == 0.1, "{what}: self.dropout should be nn.Dropout(0.1), found p={p!r}",
              what=what, p=p)
        equal(n_params(ff), 2 * d * d_ff + d_ff + d,
              name=msg("parameters of {what} (2·d·d_ff + d_ff + d)", what=what))
        ff = randomize_(as_double(ff), g)
        w1, b1, w2, b2 = _ff_weights(ff)
        x = torch.randn(3, 4, d, generator=g, dtype=torch.float64)
        expected = _linear(_relu(_linear(x, w1, b1)), w2, b2)
        out = _output(call(ff, x), x, msg("{what} in eval mode", what=what))
        close(out, expected, atol=ATOL, name=msg("{what} in eval mode: linear2(relu(linear1(x)))", what=what))
        close(call(ff, x), out, atol=0.0, rtol=0.0,
              name=msg("{what}: a second call in eval mode (no dropout in eval)", what=what))
    check_feed_forward_dropout(FeedForward, seed)


@exercise("FeedForward")
def check_feed_forward_dropout(FeedForward: type, seed: int = 0) -> None:
    """Where the dropout sits, seen in train mode without relying on the random numbers drawn."""
    g = _gen(seed + 1)
    d = 16
    ff = randomize_(as_double(_build(FeedForward, "FeedForward(16, 16, 1.0)", d, d, 1.0), training=True), g)
    x = torch.randn(4, 3, d, generator=g, dtype=torch.float64)
    b2 = _ff_weights(ff)[3]
    close(call(ff, x), b2.detach().expand(4, 3, d), atol=ATOL,
          name="FeedForward with dropout p = 1 in train mode (every hidden unit dropped: only linear2's bias is left)")
    # p = 0.5 with linear2 = identity and a clearly non-zero bias b: each output is b (dropped) or b + 2·h (kept)
    ff = randomize_(as_double(_build(FeedForward, "FeedForward(16, 16, 0.5)", d, d, 0.5), training=True), g)
    w1, b1, w2, b2 = _ff_weights(ff)
    with torch.no_grad():
        w2.copy_(torch.eye(d, dtype=torch.float64))
        b2.copy_(1.0 + torch.rand(d, generator=g, dtype=torch.float64))
    x = torch.randn(64, 32, d, generator=g, dtype=torch.float64)
    h = _relu(_linear(x, w1, b1)).detach()  # (64, 32, d)
    b = b2.detach()
    torch.manual_seed(seed)
    out = _output(call(ff, x), x, "FeedForward(16, 16, 0.5) in train mode").detach()
    dropped = (out - b).abs() < 1e-9
    kept = (out - b - 2.0 * h).abs() < 1e-9
    check(bool((dropped | kept).all()),
          "FeedForward in train mode: with linear2 = identity and bias b, every output should be b (hidden unit "
          "dropped) or b + h/(1 - p) (kept), where h = relu(linear1(x)): dropout belongs between the activation "
          "and linear2, applied with self.dropout")
    frac = float(dropped[h > 0.05].double().mean())
    check(0.45 < frac < 0.55,
          "FeedForward(p=0.5) in train mode dropped {frac:.2f} of the hidden units, expected about 0.5", frac=frac)


# ------------------------------------------------------------------------------ exercise 2: EncoderLayer

@exercise("EncoderLayer")
def check_encoder_layer(EncoderLayer: type, seed: int = 0) -> None:
    g = _gen(seed)
    for norm_first in (False, True):
        kind = "Pre-LN" if norm_first else "Post-LN"
        for d, h, d_ff in [(8, 2, 16), (12, 3, 20)]:
            what = f"EncoderLayer({d}, {h}, {d_ff}, norm_first={norm_first})"
            ours = _build(EncoderLayer, what, d, h, d_ff, 0.1, norm_first)
            theirs = torch_encoder_layer(d, h, d_ff, norm_first, seed=seed + d)
            _same_count(ours, theirs, what)
            ours = as_double(ours)
            copy_encoder_layer(ours, theirs)
            b, s = 2, 5
            x = torch.randn(b, s, d, generator=g, dtype=torch.float64)
            pad = _lengths_mask([5, 3], s)
            general = torch.rand(b, 1, s, s, generator=g) > 0.5
            general |= torch.eye(s, dtype=torch.bool)  # every query keeps at least one key
            for label, mask in [("no mask", None), ("a padding mask (batch, 1, 1, seq)", pad),
                                ("a causal mask (seq, seq)", _causal(s)), ("a mask (batch, 1, seq, seq)", general)]:
                expected = _quiet(theirs, x, src_mask=attn_mask(mask, b, h, s, s))
                got = _output(call(ours, x, mask), x, msg("{what} with {label}", what=what, label=label))
                close(got, expected, atol=ATOL,
                      name=msg("{kind} {what} with {label}, against nn.TransformerEncoderLayer with the same weights",
                               kind=kind, what=what, label=label))
            # padding tokens of sequence 1 (positions 3, 4) may change freely: the real tokens must not notice
            x2 = x.clone()
            x2[1, 3:] = torch.randn(2, d, generator=g, dtype=torch.float64) * 5
            close(call(ours, x2, pad)[:, :3], call(ours, x, pad)[:, :3], atol=ATOL,
                  name=msg("{what}: outputs of real tokens after changing only padding tokens (they are masked keys)",
                           what=what))
        _check_dropout_all(EncoderLayer, seed, norm_first, decoder=False)


def _check_dropout_all(cls: type, seed: int, norm_first: bool, decoder: bool) -> None:
    """With p = 1 in train mode every sublayer's output is dropped before the residual add."""
    g = _gen(seed + 7)
    d, h, d_ff = 8, 2, 16
    name = "DecoderLayer" if decoder else "EncoderLayer"
    what = msg("{name}({d}, {h}, {d_ff}, dropout=1.0, norm_first={norm_first}) in train mode", name=name, d=d, h=h,
               d_ff=d_ff, norm_first=norm_first)
    layer = randomize_(as_double(_build(cls, what, d, h, d_ff, 1.0, norm_first), training=True), g)
    x = torch.randn(2, 4, d, generator=g, dtype=torch.float64)
    params = parameters_of(layer)
    expected = x  # Pre-LN: x + dropout(...) = x for every sublayer
    if not norm_first:
        for i in ((1, 2, 3) if decoder else (1, 2)):
            norm = submodule(layer, f"norm{i}")
            check(issubclass(class_of(norm), nn.LayerNorm), "{what}: norm{i} should be an nn.LayerNorm", what=what, i=i)
            eps = plain(attribute(norm, "eps"), f"norm{i}.eps")
            check(type(eps) is float, "{what}: norm{i}.eps should be a float, got {got}", what=what, i=i,
                  got=type(eps).__name__)
            expected = _layer_norm(expected, (d,), params[f"norm{i}.weight"], params[f"norm{i}.bias"], eps)
    args = (x, torch.randn(2, 3, d, generator=g, dtype=torch.float64)) if decoder else (x,)
    rule = "x + dropout(sublayer(norm(x)))" if norm_first else "norm(x + dropout(sublayer(x)))"
    close(call(layer, *args), expected.detach(), atol=ATOL,
          name=msg("{what}: every sublayer output dropped, so the layer computes {rule} with nothing left of the "
                   "sublayer; dropout goes on the sublayer's output, before the residual add", what=what, rule=rule))


# ------------------------------------------------------------------------------ exercise 3: DecoderLayer

@exercise("DecoderLayer")
def check_decoder_layer(DecoderLayer: type, seed: int = 0) -> None:
    g = _gen(seed)
    for norm_first in (False, True):
        kind = "Pre-LN" if norm_first else "Post-LN"
        for d, h, d_ff in [(8, 2, 16), (12, 3, 20)]:
            what = f"DecoderLayer({d}, {h}, {d_ff}, norm_first={norm_first})"
            ours = _build(DecoderLayer, what, d, h, d_ff, 0.1, norm_first)
            theirs = torch_decoder_layer(d, h, d_ff, norm_first, seed=seed + d)
            _same_count(ours, theirs, what)
            ours = as_double(ours)
            copy_decoder_layer(ours, theirs)
            b, t, s = 2, 5, 4
            x = torch.randn(b, t, d, generator=g, dtype=torch.float64)
            memory = torch.randn(b, s, d, generator=g, dtype=torch.float64)
            tgt = _causal(t) & _lengths_mask([5, 3], t)  # (b, 1, t, t)
            src = _lengths_mask([4, 2], s)  # (b, 1, 1, s)
            for label, tm, mm in [("no masks", None, None), ("a causal target mask", _causal(t), None),
                                  ("causal + padding target mask and a memory padding mask", tgt, src)]:
                expected = _quiet(theirs, x, memory, tgt_mask=attn_mask(tm, b, h, t, t),
                                  memory_mask=attn_mask(mm, b, h, t, s))
                got = _output(call(ours, x, memory, tm, mm), x, msg("{what} with {label}", what=what, label=label))
                close(got, expected, atol=ATOL,
                      name=msg("{kind} {what} with {label}, against nn.TransformerDecoderLayer with the same weights",
                               kind=kind, what=what, label=label))
            _check_decoder_behaviour(ours, what, x, memory, g)
            # the same layer when target and memory have equal lengths (swapped roles then fail in values, not shapes)
            mem5 = torch.randn(b, t, d, generator=g, dtype=torch.float64)
            close(call(ours, x, mem5, _causal(t)), _quiet(theirs, x, mem5, tgt_mask=~_causal(t)), atol=ATOL,
                  name=msg("{what} with a memory as long as the target, causal target mask", what=what))
        _check_dropout_all(DecoderLayer, seed, norm_first, decoder=True)


def _check_decoder_behaviour(layer: nn.Module, what: str, x: torch.Tensor, memory: torch.Tensor,
                             g: torch.Generator) -> None:
    b, t, d = x.shape
    s = memory.shape[1]
    causal = _causal(t)
    base = call(layer, x, memory, causal)
    for pos in range(t - 1):  # change every target token after pos: outputs 0..pos must not move
        x2 = x.clone()
        x2[:, pos + 1:] = torch.randn(b, t - pos - 1, d, generator=g, dtype=torch.float64) * 3
        close(call(layer, x2, memory, causal)[:, :pos + 1], base[:, :pos + 1], atol=ATOL,
              name=msg("{what}: outputs at positions 0..{pos} after changing the target tokens after position {pos} "
                       "(with a causal mask, position t may only see tokens up to t)", what=what, pos=pos))
    x2 = x.clone()
    x2[:, 0] += torch.randn(b, d, generator=g, dtype=torch.float64)  # random, not constant: LayerNorm ignores a shift
    check(not bool(torch.allclose(call(layer, x2, memory, causal)[:, -1], base[:, -1])),
          "{what}: the last position's output should depend on the first target token", what=what)
    src = _lengths_mask([s, s - 2], s)
    base = call(layer, x, memory, causal, src)
    mem2 = memory.clone()
    mem2[1, s - 2:] = torch.randn(2, d, generator=g, dtype=torch.float64) * 5
    close(call(layer, x, mem2, causal, src), base, atol=ATOL,
          name=msg("{what}: outputs after changing only padded memory positions (masked by memory_mask)", what=what))
    m2 = memory.clone()
    m2[0, 0] += torch.randn(d, generator=g, dtype=torch.float64)
    check(not bool(torch.allclose(call(layer, x, m2, causal, src)[0], base[0])),
          "{what}: the output should depend on the memory (cross-attention reads the encoder output)", what=what)


# ------------------------------------------------------------------------------ exercise 4: stacks

def _check_stack(cls: type, name: str, seed: int, decoder: bool) -> None:
    g = _gen(seed)
    for norm_first in (False, True):
        kind = "Pre-LN" if norm_first else "Post-LN"
        for n, d, h, d_ff in [(2, 8, 4, 16), (3, 12, 2, 12)]:  # n_layers != n_heads: swapped arguments show
            what = f"{name}({n}, {d}, {h}, {d_ff}, norm_first={norm_first})"
            ours = _build(cls, what, n, d, h, d_ff, 0.1, norm_first)
            build = torch_decoder if decoder else torch_encoder
            theirs = build(n, d, h, d_ff, norm_first, seed=seed + n + d)
            _same_count(ours, theirs, msg("{what} (separate layers, a final LayerNorm for Pre-LN only)", what=what))
            ours = as_double(ours)
            (copy_decoder if decoder else copy_encoder)(ours, theirs)
            b, t, s = 2, 5, 4
            x = torch.randn(b, t, d, generator=g, dtype=torch.float64)
            if decoder:
                memory = torch.randn(b, s, d, generator=g, dtype=torch.float64)
                tgt, src = _causal(t) & _lengths_mask([5, 2], t), _lengths_mask([3, 4], s)
                cases = [("no masks", (None, None)), ("target and memory masks", (tgt, src))]
                for label, (tm, mm) in cases:
                    expected = _quiet(theirs, x, memory, tgt_mask=attn_mask(tm, b, h, t, t),
                                      memory_mask=attn_mask(mm, b, h, t, s))
                    got = _output(call(ours, x, memory, tm, mm), x, msg("{what} with {label}", what=what, label=label))
                    close(got, expected, atol=ATOL,
                          name=msg("{kind} {what} with {label}, against nn.TransformerDecoder with the same weights",
                                   kind=kind, what=what, label=label))
            else:
                pad = _lengths_mask([5, 2], t)
                for label, mask in [("no mask", None), ("a padding mask", pad)]:
                    expected = _quiet(theirs, x, src_key_padding_mask=key_padding(mask))
                    got = _output(call(ours, x, mask), x, msg("{what} with {label}", what=what, label=label))
                    close(got, expected, atol=ATOL,
                          name=msg("{kind} {what} with {label}, against nn.TransformerEncoder with the same weights",
                                   kind=kind, what=what, label=label))


@exercise("Encoder")
def check_encoder(Encoder: type, seed: int = 0) -> None:
    _check_stack(Encoder, "Encoder", seed, decoder=False)


@exercise("Decoder")
def check_decoder(Decoder: type, seed: int = 0) -> None:
    _check_stack(Decoder, "Decoder", seed, decoder=True)


# ------------------------------------------------------------------------------ exercise 5: masks

def _bool_mask(m: Any, what: str, shape: tuple[int, ...]) -> torch.Tensor:
    m = plain(m, what, modules=False)
    check(isinstance(m, torch.Tensor), "{what}: expected a tensor, got {got}", what=what, got=type(m).__name__)
    check(m.dtype == torch.bool, "{what}: expected a bool tensor (True = may attend), got dtype {dtype}", what=what,
          dtype=m.dtype)
    equal(tuple(m.shape), shape, name=msg("shape of {what}", what=what))
    return m


@exercise("target_mask")
def _target_mask_call(target_mask: Callable[..., torch.Tensor], *args: Any) -> Any:
    return call(target_mask, *args)


@exercise("source_mask")
def _source_mask_call(source_mask: Callable[..., torch.Tensor], *args: Any) -> Any:
    return call(source_mask, *args)


@exercise("source_mask")
def check_masks(source_mask: Callable[..., torch.Tensor], target_mask: Callable[..., torch.Tensor]) -> None:
    for lengths, max_len in [([3, 1, 4], 4), ([2], 5), ([5, 5], 5), ([1], 1)]:
        keep = torch.arange(max_len)[None, :] < torch.tensor(lengths)[:, None]  # (batch, max_len)
        what = f"source_mask({lengths}, {max_len})"
        m = _bool_mask(_source_mask_call(source_mask, torch.tensor(lengths), max_len), what,
                       (len(lengths), 1, 1, max_len))
        check(_equal_tensors(m[:, 0, 0], keep),
              "{what}: key j of sequence b may be attended to exactly when j < lengths[b]; got\n{got}", what=what,
              got=m[:, 0, 0].int())
        what = f"target_mask({lengths}, {max_len})"
        m = _bool_mask(_target_mask_call(target_mask, torch.tensor(lengths), max_len), what,
                       (len(lengths), 1, max_len, max_len))
        expected = torch.ones(max_len, max_len, dtype=torch.bool).tril() & keep[:, None, :]  # (batch, T, T)
        for b, n in enumerate(lengths):
            row = m[b, 0]
            if _equal_tensors(row, expected[b]):
                continue
            future = ~torch.ones(max_len, max_len, dtype=torch.bool).tril()
            if bool((row & future).any()):
                reason = "a query may attend to a later position (the causal part lets query i see keys 0..i only)"
            elif not bool(row.diagonal()[:n].all()):
                reason = "a real query may not attend to itself (key i must be allowed for query i)"
            elif bool(row[:, n:].any()):
                reason = "a query may attend to a padding key"
            else:
                reason = ("some allowed key is masked: keep key j for query i when j <= i and j < length, "
                          "for every query, padding queries included (only keys are masked for padding)")
            raise fail("{what}, sequence {b} (length {n}): {reason}; got\n{got}\nexpected\n{expected}", what=what,
                       b=b, n=n, reason=reason, got=row.int(), expected=expected[b].int())
    for bad_len, max_len in [([3, 6], 5), ([0, 7], 2)]:
        with switched_off_for("source_mask"):
            raises(ValueError, source_mask, torch.tensor(bad_len), max_len,
                   name=msg("source_mask({lengths}, max_len={max_len}) (a length longer than max_len)",
                            lengths=bad_len, max_len=max_len))
        with switched_off_for("target_mask"):
            raises(ValueError, target_mask, torch.tensor(bad_len), max_len,
                   name=msg("target_mask({lengths}, max_len={max_len}) (a length longer than max_len)",
                            lengths=bad_len, max_len=max_len))
