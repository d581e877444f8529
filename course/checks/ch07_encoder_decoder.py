"""Helpers the visible tests of chapter 07 use: PyTorch's transformer layers with random weights,
and copying their weights into the student's modules (the course's masks are True = MAY attend;
PyTorch's are the opposite, so masks handed to PyTorch are inverted).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from course.checks.borrowed import TRANSFORMER_PY, Borrowed
from course.checks.core import call, check, close, equal, raises  # noqa: F401  (call: used as ref.call)
from course.checks.elsewhere import class_of, module_method
from course.checks.messages import Message, english, fail, msg

# bound at import time (the set-up cell), so that later monkeypatching does not change the checks
_relu = torch.relu
_linear = torch.nn.functional.linear
_layer_norm = torch.nn.functional.layer_norm
_equal_tensors = torch.equal
_EncoderLayer, _DecoderLayer = nn.TransformerEncoderLayer, nn.TransformerDecoderLayer
_Encoder, _Decoder = nn.TransformerEncoder, nn.TransformerDecoder
_Module, _Tensor = nn.Module, torch.Tensor
_named_parameters, _named_children = module_method("named_parameters"), module_method("named_children")
_module_double, _module_train = module_method("double"), module_method("train")
_tensor_copy, _numel, _randn, _no_grad = torch.Tensor.copy_, torch.Tensor.numel, torch.randn, torch.no_grad
_type, _issubclass = type, issubclass
_gelu, _allclose, _isnan, _zeros_like = torch.nn.functional.gelu, torch.allclose, torch.isnan, torch.zeros_like
_eye, _ones, _bool, _float64 = torch.eye, torch.ones, torch.bool, torch.float64

ATOL = 1e-6  # float64 against float64: the only differences are rounding


# ------------------------------------------------------------------------------ reading the student's modules
# A student's module is only ever touched through call() (its overrides run under the exercise's rules)
# and what comes back is rebuilt from plain values: parameters as plain tensors on the same data.

def _all_parameters(module: nn.Module) -> dict:
    return dict(_named_parameters(module))


def _own_parameters(module: nn.Module) -> dict:
    return dict(_named_parameters(module, recurse=False))


def _children(module: nn.Module) -> dict:
    return dict(_named_children(module))


def parameters_of(module: nn.Module) -> dict[str, torch.Tensor]:
    """Every parameter by name (shared ones once), as plain tensors on the module's own data."""
    return call(_all_parameters, module)


def submodule(module: nn.Module, name: str) -> Any:
    """The child module called ``name`` (None if there is none)."""
    return call(_children, module).get(name)


def _double_mode(module: nn.Module, training: bool) -> nn.Module:
    return _module_train(_module_double(module), training)


def as_double(module: nn.Module, training: bool = False) -> nn.Module:
    """``module.double().train(training)`` run as the checks run student code."""
    out = call(_double_mode, module, training)
    check(out is module, "{cls}.double() / .train() should return the module itself", cls=class_of(module).__name__)
    return out


def attribute(module: nn.Module, name: str) -> Any:
    """A plain attribute of a student's module (a number, a flag), rebuilt from plain values."""
    return call(getattr, module, name, None)


def n_params(module: nn.Module) -> int:
    return sum(int(_numel(p)) for p in parameters_of(module).values())


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randomize_(module: nn.Module, generator: torch.Generator, scale: float = 0.5) -> nn.Module:
    """Every parameter drawn afresh (LayerNorm gains and biases too, so swapped norms show)."""
    with _no_grad():
        for p in parameters_of(module).values():
            _tensor_copy(p, _randn(p.shape, generator=generator, dtype=p.dtype) * scale)
    return module


def _quiet(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a PyTorch reference with gradients on (no fast path) and its warnings silenced."""
    with warnings.catch_warnings(), torch.enable_grad():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# ------------------------------------------------------------------------------ PyTorch references

def torch_encoder_layer(d_model: int, n_heads: int, d_ff: int, norm_first: bool, seed: int = 0) -> nn.Module:
    """``nn.TransformerEncoderLayer`` (batch_first, ReLU), float64, eval mode, random weights."""
    layer = _quiet(_EncoderLayer, d_model, n_heads, d_ff, dropout=0.1, batch_first=True, norm_first=norm_first)
    return randomize_(layer.double().eval(), _gen(seed))


def torch_decoder_layer(d_model: int, n_heads: int, d_ff: int, norm_first: bool, seed: int = 0) -> nn.Module:
    """``nn.TransformerDecoderLayer`` (batch_first, ReLU), float64, eval mode, random weights."""
    layer = _quiet(_DecoderLayer, d_model, n_heads, d_ff, dropout=0.1, batch_first=True, norm_first=norm_first)
    return randomize_(layer.double().eval(), _gen(seed))


def torch_encoder(n_layers: int, d_model: int, n_heads: int, d_ff: int, norm_first: bool, seed: int = 0) -> nn.Module:
    """``nn.TransformerEncoder`` with a final LayerNorm for Pre-LN only; float64, eval, random weights."""
    layer = _quiet(_EncoderLayer, d_model, n_heads, d_ff, dropout=0.1, batch_first=True, norm_first=norm_first)
    norm = nn.LayerNorm(d_model) if norm_first else None
    stack = _quiet(_Encoder, layer, n_layers, norm=norm, enable_nested_tensor=False)
    return randomize_(stack.double().eval(), _gen(seed))


def torch_decoder(n_layers: int, d_model: int, n_heads: int, d_ff: int, norm_first: bool, seed: int = 0) -> nn.Module:
    """``nn.TransformerDecoder`` with a final LayerNorm for Pre-LN only; float64, eval, random weights."""
    layer = _quiet(_DecoderLayer, d_model, n_heads, d_ff, dropout=0.1, batch_first=True, norm_first=norm_first)
    norm = nn.LayerNorm(d_model) if norm_first else None
    stack = _quiet(_Decoder, layer, n_layers, norm=norm)
    return randomize_(stack.double().eval(), _gen(seed))


def key_padding(mask: torch.Tensor | None) -> torch.Tensor | None:
    """Course padding mask (batch, 1, 1, k_len), True = real key -> PyTorch's (batch, k_len), True = ignore."""
    return None if mask is None else ~mask[:, 0, 0, :]


def attn_mask(mask: torch.Tensor | None, batch: int, n_heads: int, q_len: int, k_len: int) -> torch.Tensor | None:
    """A course mask broadcastable to (batch, heads, q_len, k_len), True = may attend, turned into
    PyTorch's (batch·heads, q_len, k_len) with True = blocked."""
    if mask is None:
        return None
    return ~mask.expand(batch, n_heads, q_len, k_len).reshape(batch * n_heads, q_len, k_len)


# ------------------------------------------------------------------------------ copying weights

def _need(module: nn.Module, owner: Any, names: dict[str, type]) -> dict[str, nn.Module]:
    children = call(_children, module)
    for name, kind in names.items():
        got = children.get(name)
        check(_issubclass(class_of(got), kind), "{owner} needs an attribute `{name}` of type {kind} (the tests copy "
              "PyTorch's weights into it), found {found}", owner=owner, name=name, kind=kind.__name__,
              found=class_of(got).__name__)
    return children


def _copy_into(dst: nn.Module, values: dict[str, torch.Tensor], what: str) -> None:
    own = call(_own_parameters, dst)
    for attr, b in values.items():
        a = own.get(attr)
        check(_type(a) is _Tensor and tuple(a.shape) == tuple(b.shape),
              "{what}.{attr}: expected shape {shape}, found {found}", what=what, attr=attr, shape=tuple(b.shape),
              found=tuple(a.shape) if _type(a) is _Tensor else _type(a).__name__)
        with _no_grad():
            _tensor_copy(a, b)


def _copy(dst: nn.Module, src: nn.Module, what: str) -> None:
    _copy_into(dst, {"weight": src.weight, "bias": src.bias}, what)


def _copy_attention(dst: nn.Module, src: nn.MultiheadAttention, what: str) -> None:
    """nn.MultiheadAttention's packed in_proj into the course's q_proj / k_proj / v_proj, and out_proj."""
    names = ("q_proj", "k_proj", "v_proj", "out_proj")
    linears = _need(dst, msg("{what} (a MultiHeadAttention)", what=what), {n: nn.Linear for n in names})
    heads = attribute(dst, "n_heads")
    check(heads is None or heads == src.num_heads,
          "{what}: head count mismatch, {heads} vs nn.MultiheadAttention's {theirs}: the n_heads argument was ignored; "
          "pass it on to MultiHeadAttention", what=what, heads=heads, theirs=src.num_heads)
    d = src.embed_dim
    w, b = src.in_proj_weight, src.in_proj_bias
    for i, name in enumerate(names[:3]):
        _copy_into(linears[name], {"weight": w[i * d:(i + 1) * d], "bias": b[i * d:(i + 1) * d]}, f"{what}.{name}")
    _copy(linears["out_proj"], src.out_proj, f"{what}.out_proj")


def copy_feed_forward(ours: nn.Module, linear1: nn.Linear, linear2: nn.Linear) -> None:
    parts = _need(ours, "FeedForward", {"linear1": nn.Linear, "linear2": nn.Linear, "dropout": nn.Dropout})
    _copy(parts["linear1"], linear1, "linear1")
    _copy(parts["linear2"], linear2, "linear2")


def copy_encoder_layer(ours: nn.Module, theirs: nn.TransformerEncoderLayer) -> None:
    """Load an ``nn.TransformerEncoderLayer``'s weights into the course's ``EncoderLayer``."""
    parts = _need(ours, "EncoderLayer", {"self_attn": nn.Module, "ff": nn.Module, "norm1": nn.LayerNorm,
                                         "norm2": nn.LayerNorm})
    _copy_attention(parts["self_attn"], theirs.self_attn, "self_attn")
    copy_feed_forward(parts["ff"], theirs.linear1, theirs.linear2)
    _copy(parts["norm1"], theirs.norm1, "norm1")
    _copy(parts["norm2"], theirs.norm2, "norm2")


def copy_decoder_layer(ours: nn.Module, theirs: nn.TransformerDecoderLayer) -> None:
    """Load an ``nn.TransformerDecoderLayer``'s weights (``multihead_attn`` -> ``cross_attn``)."""
    parts = _need(ours, "DecoderLayer", {"self_attn": nn.Module, "cross_attn": nn.Module, "ff": nn.Module,
                                         "norm1": nn.LayerNorm, "norm2": nn.LayerNorm, "norm3": nn.LayerNorm})
    _copy_attention(parts["self_attn"], theirs.self_attn, "self_attn")
    _copy_attention(parts["cross_attn"], theirs.multihead_attn, "cross_attn")
    copy_feed_forward(parts["ff"], theirs.linear1, theirs.linear2)
    for i in (1, 2, 3):
        _copy(parts[f"norm{i}"], getattr(theirs, f"norm{i}"), f"norm{i}")


def _copy_stack(ours: nn.Module, theirs: nn.Module, what: str, copy_layer: Callable) -> None:
    children = call(_children, ours)
    layers = children.get("layers")
    check(_issubclass(class_of(layers), nn.ModuleList), "{what} needs its layers in an nn.ModuleList called `layers`, "
                                                     "found {found}", what=what, found=class_of(layers).__name__)
    mine = list(call(_children, layers).values())
    equal(len(mine), len(theirs.layers), name=msg("number of layers in {what}.layers", what=what))
    for layer, ref in zip(mine, theirs.layers):
        copy_layer(layer, ref)
    norm = children.get("norm")
    if theirs.norm is None:
        check(norm is None or _issubclass(class_of(norm), nn.Identity),
              "a Post-LN {what} has no final LayerNorm: set `self.norm = None` (every layer already ends with a "
              "norm), found {found}", what=what, found=class_of(norm).__name__)
    else:
        check(_issubclass(class_of(norm), nn.LayerNorm),
              "a Pre-LN {what} ends with a final nn.LayerNorm called `norm`, found {found}", what=what,
              found=class_of(norm).__name__)
        _copy(norm, theirs.norm, "norm")


def copy_encoder(ours: nn.Module, theirs: nn.TransformerEncoder) -> None:
    _copy_stack(ours, theirs, "Encoder", copy_encoder_layer)


def copy_decoder(ours: nn.Module, theirs: nn.TransformerDecoder) -> None:
    _copy_stack(ours, theirs, "Decoder", copy_decoder_layer)


# ------------------------------------------------------------------------------ explaining failures
# The visible tests compare with PyTorch's layers; when a result differs, these helpers look for the
# signature of the usual mistakes (the other Pre/Post-LN arrangement, a mask ignored or inverted, a
# normalised residual stream, dropout on the wrong tensor ...) and name it, pointing at the part of the
# notebook that explains it. They only run the student's code through call() and PyTorch's own modules.

def _same(a: Any, b: Any, atol: float = ATOL) -> bool:
    """Both plain tensors of one shape, without NaN, and equal within atol."""
    if _type(a) is not _Tensor or _type(b) is not _Tensor or tuple(a.shape) != tuple(b.shape):
        return False
    a, b = a.detach().to(_float64), b.detach().to(_float64)
    return not bool(_isnan(a).any()) and bool(_allclose(a, b, atol=atol, rtol=1e-5))


def expect_ff_parameters(ff: nn.Module, d_model: int, d_ff: int) -> None:
    """The parameter count of FeedForward(d_model, d_ff), with the likely reason when it is off."""
    got, want = n_params(ff), 2 * d_model * d_ff + d_ff + d_model
    if got == want:
        return
    if got == want - d_model or got == want - d_ff:
        why = "one bias is missing: both nn.Linear layers keep their bias (the paper's b1 and b2)"
    elif got == want - d_model - d_ff:
        why = "both biases are missing: keep nn.Linear's default bias=True"
    elif got == 2 * d_model * d_model + 2 * d_model:
        why = "both linear maps are d_model -> d_model: linear1 widens to d_ff, linear2 brings it back to d_model"
    else:
        why = "linear1 maps d_model -> d_ff and linear2 maps d_ff -> d_model, both with a bias"
    raise fail("FeedForward({d_model}, {d_ff}) has {got} parameters, expected 2·d·d_ff + d_ff + d = {want}: {why} "
               "(Part 1)", d_model=d_model, d_ff=d_ff, got=got, want=want, why=why)


def expect_ff_hand_worked(out: Any, again: Any, x: torch.Tensor) -> None:
    """The hand-worked block of the visible test (hidden units x and -x, summed) in eval mode: |x|."""
    what = "hand-worked FeedForward in eval mode (hidden units x and -x, summed)"
    if _type(out) is _Tensor and _type(again) is _Tensor and tuple(out.shape) == tuple(again.shape):
        check(_same(out, again, 0.0),
              "{what}: two calls in eval mode gave different outputs. Dropout must follow the module's "
              "train/eval mode: use self.dropout (an nn.Dropout does nothing in eval mode), not a dropout that "
              "is always on such as F.dropout(..., training=True) (chapter 04)", what=what)
        check(not _same(out, _zeros_like(x)),
              "{what}: every output is 0, but relu(x) + relu(-x) = |x|. The two hidden units cancel unless the "
              "ReLU acts on linear1's output, between the two linear maps (Part 1, eq. 2 of Vaswani et al.)", what=what)
        check(not _same(out, _gelu(x) + _gelu(-x)),
              "{what}: the output is gelu(x) + gelu(-x): this block uses ReLU, as the paper (§3.3) and "
              "nn.TransformerEncoderLayer's default do (Part 1)", what=what)
    close(out, x.abs(), name=msg("{what}: relu(x) + relu(-x) = |x|", what=what))


def expect_ff_dropout(FeedForward: type, seed: int = 0) -> None:
    """FeedForward(4, 6, dropout=1.0) in train mode: every hidden unit is dropped, only linear2's bias is left."""
    g = _gen(seed)
    ff = as_double(call(FeedForward, 4, 6, 1.0), training=True)
    p = parameters_of(ff)
    names = ("linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias")
    check(all(n in p for n in names), "FeedForward needs parameters {names} (nn.Linear layers linear1 and linear2 "
                                      "with biases), found {found} (Part 1)", names=", ".join(names), found=sorted(p))
    with _no_grad():
        for value in p.values():
            _tensor_copy(value, _randn(value.shape, generator=g, dtype=value.dtype))
        _tensor_copy(p["linear1.bias"], _ones(6, dtype=_float64))  # relu(b1) > 0: a dropped input still shows
    w1, b1, w2, b2 = (p[n].detach() for n in names)
    x = _randn(2, 3, 4, generator=g, dtype=_float64)
    out = call(ff, x)
    what = "FeedForward(4, 6, dropout=1.0) in train mode"
    expected = b2.expand(2, 3, 4)
    if _same(out, expected):
        return
    check(not _same(out, _zeros_like(x)),
          "{what}: every output is 0, so your dropout drops the block's output (after linear2). Here it drops "
          "the hidden units, between the activation and linear2; the dropout on the block's output belongs to "
          "the layer (its dropout1/dropout2), not to FeedForward (Part 1)", what=what)
    check(not _same(out, _linear(_relu(_linear(x, w1, b1)), w2, b2)),
          "{what}: nothing was dropped. Call self.dropout on the hidden units in forward (nn.Dropout drops "
          "only in train mode, which this check uses) (Part 1)", what=what)
    check(not _same(out, _linear(_relu(b1), w2, b2).expand(2, 3, 4)),
          "{what}: your dropout acts on the block's input x. It belongs on the hidden units, between the "
          "activation and linear2 (Part 1)", what=what)
    close(out, expected, name=msg("{what}: every hidden unit is dropped, so only linear2's bias should be left "
                                  "(Part 1)", what=what))


def _flipped(theirs: nn.Module) -> nn.Module:
    """The same PyTorch layer, same weights, in the other arrangement (Post-LN <-> Pre-LN)."""
    attn = theirs.self_attn
    other = _quiet(_type(theirs), attn.embed_dim, attn.num_heads, theirs.linear1.out_features, dropout=0.1,
                   batch_first=True, norm_first=not theirs.norm_first)
    other = other.double().eval()
    other.load_state_dict(theirs.state_dict())
    return other


def _arrangement(norm_first: bool) -> str:
    return "Pre-LN" if norm_first else "Post-LN"


def _run(fn: Any, *args: Any, hint: str) -> Any:
    """call(fn, *args), adding ``hint`` to the message when the student's code raised."""
    try:
        return call(fn, *args)
    except AssertionError as err:
        if " raised " in english(err):  # call()'s message, read in English whatever the edition
            raise fail("{error}\n({hint})", error=err, hint=hint) from None
        raise


_ARRANGED = {
    False: "Post-LN: the norm wraps the whole sum x + dropout(sublayer(x)), and the next sublayer reads that "
           "normalised sum; see the table in Part 2",
    True: "Pre-LN: only the sublayer's input is normalised, the residual adds to x itself; see the table in Part 2",
}


def _pre_ln_signatures(ours: nn.Module, got: Any, expected: torch.Tensor, what: Message, shifted: Any) -> None:
    """Two Pre-LN slips seen in the output: a normalised residual stream, a normalised layer output."""
    check(not _same(got, shifted, atol=1e-3),  # not exactly equal: LayerNorm's eps
          "{what}: your output is the same for x and for 3·x + 1, so x passes through a LayerNorm on the residual "
          "path (`x = norm(x)` before the add). In Pre-LN the residual adds to x itself; only the sublayer's input "
          "is normalised (Part 2)", what=what)
    p = parameters_of(ours)
    d = expected.shape[-1]
    for name in ("norm1", "norm2", "norm3"):
        if f"{name}.weight" in p:
            normed = _layer_norm(expected, (d,), p[f"{name}.weight"], p[f"{name}.bias"], 1e-5).detach()
            check(not _same(got, normed, atol=1e-5),
                  "{what}: your layer normalises its output (with {name}). A Pre-LN layer hands on the raw "
                  "residual stream; the stack normalises once, after its last layer (Part 4)", what=what, name=name)


def compare_encoder_layer(ours: nn.Module, theirs: nn.Module, x: torch.Tensor, mask: torch.Tensor | None) -> None:
    """``ours(x, mask)`` against ``nn.TransformerEncoderLayer`` with the same weights, the usual mistakes named."""
    nf = bool(theirs.norm_first)
    what = msg("EncoderLayer(norm_first={nf}) with {masks}", nf=nf,
               masks="no mask" if mask is None else "a padding mask")
    got = _run(ours, x, mask, hint="the mask goes to self_attn unchanged; see Part 2")
    expected = _quiet(theirs, x, src_key_padding_mask=key_padding(mask))
    if _same(got, expected):
        return
    other = _arrangement(not nf)
    check(not _same(got, _quiet(_flipped(theirs), x, src_key_padding_mask=key_padding(mask))),
          "{what}: your layer computes the {other} arrangement. Check which branch runs for norm_first={nf}: the "
          "table in Part 2 ({this} {does})", what=what, other=other, nf=nf, this=_arrangement(nf),
          does="normalises the sublayer input" if nf else "normalises the sum")
    if mask is not None:
        check(not _same(got, _quiet(theirs, x)),
              "{what}: the output is the same as without the mask. Pass `mask` on to self.self_attn (Part 2)",
              what=what)
        check(not _same(got, _quiet(theirs, x, src_key_padding_mask=~key_padding(mask))),
              "{what}: your layer attends to exactly the blocked keys, as with an inverted mask. The course's "
              "masks are True = may attend and go to MultiHeadAttention unchanged: no `~` (Part 0 and Part 2)",
              what=what)
    if nf:
        _pre_ln_signatures(ours, got, expected, what,
                           _run(ours, 3.0 * x + 1.0, mask, hint="the mask goes to self_attn unchanged; see Part 2"))
    close(got, expected, atol=ATOL,
          name=msg("{what}, against nn.TransformerEncoderLayer with the same weights ({arranged})", what=what,
                   arranged=_ARRANGED[nf]))


def compare_decoder_layer(ours: nn.Module, theirs: nn.Module, x: torch.Tensor, memory: torch.Tensor,
                          tgt_mask: torch.Tensor | None, memory_mask: torch.Tensor | None, seed: int = 0) -> None:
    """``ours(x, memory, tgt_mask, memory_mask)`` against ``nn.TransformerDecoderLayer``, the usual mistakes named.

    ``tgt_mask`` is a (tgt_len, tgt_len) mask, ``memory_mask`` a (batch, 1, 1, src_len) padding mask."""
    nf = bool(theirs.norm_first)
    masks = "no masks" if tgt_mask is None and memory_mask is None else "a causal mask and a memory padding mask"
    what = msg("DecoderLayer(norm_first={nf}) with {masks}", nf=nf, masks=masks)
    hint = ("tgt_mask belongs to the self-attention (tgt_len keys), memory_mask to the cross-attention (src_len "
            "keys), and the cross-attention's queries come from the decoder: one output row per target token; Part 3")
    got = _run(ours, x, memory, tgt_mask, memory_mask, hint=hint)

    def ref(layer: nn.Module, mem: torch.Tensor = memory, tm: Any = tgt_mask, mm: Any = memory_mask) -> Any:
        return _quiet(layer, x, mem, tgt_mask=None if tm is None else ~tm, memory_key_padding_mask=key_padding(mm))

    expected = ref(theirs)
    if _same(got, expected):
        return
    check(not _same(got, ref(_flipped(theirs))),
          "{what}: your layer computes the {other} arrangement. Check which branch runs for norm_first={nf} (the "
          "table in Part 2 applies to all three sublayers)", what=what, other=_arrangement(not nf), nf=nf)
    if tgt_mask is not None:
        check(not _same(got, ref(theirs, tm=None)),
              "{what}: the output is the same as without the causal mask. Pass tgt_mask to the self-attention "
              "(Part 3: without it every position reads the tokens after it)", what=what)
        check(not _same(got, ref(theirs, tm=~tgt_mask)),
              "{what}: your self-attention uses the inverted causal mask. The course's masks are True = may "
              "attend and go to MultiHeadAttention unchanged (Part 0)", what=what)
    if memory_mask is not None:
        check(not _same(got, ref(theirs, mm=None)),
              "{what}: the output is the same as without memory_mask. Pass it to the cross-attention: it keeps "
              "the queries off the source's padding (Part 3)", what=what)
        check(not _same(got, ref(theirs, mm=~memory_mask)),
              "{what}: your cross-attention uses the inverted memory mask. The course's masks are True = may "
              "attend and go to MultiHeadAttention unchanged (Part 0)", what=what)
    g = _gen(seed)
    other = _run(ours, x, _randn(memory.shape, generator=g, dtype=memory.dtype), tgt_mask, memory_mask, hint=hint)
    check(not _same(got, other),
          "{what}: the output does not change when the memory does. The cross-attention takes its keys and "
          "values from the memory, the encoder's output, and only its queries from the decoder (Part 3)", what=what)
    if nf:
        rescaled = _run(ours, x, 3.0 * memory + 1.0, tgt_mask, memory_mask, hint=hint)
        check(not _same(got, rescaled, atol=1e-3),  # not exactly equal: LayerNorm's eps
              "{what}: the output stays the same when the memory is replaced by 3·memory + 1, so your layer "
              "normalises the memory. In Pre-LN only the decoder's own x is normalised before each sublayer; the "
              "memory is used as it comes (Part 3)", what=what)
    if nf:
        _pre_ln_signatures(ours, got, expected, what,
                           _run(ours, 3.0 * x + 1.0, memory, tgt_mask, memory_mask, hint=hint))
    close(got, expected, atol=ATOL,
          name=msg("{what}, against nn.TransformerDecoderLayer with the same weights (the three sublayers in the "
                   "order of Part 3: self-attention, cross-attention, feed-forward; {arranged})", what=what,
                   arranged=_ARRANGED[nf]))


def expect_sublayer_dropout(cls: type, decoder: bool, seed: int = 0) -> None:
    """Every dropout with p = 1 in train mode drops each sublayer's whole output: what is left is the residual
    path alone, x itself for Pre-LN and x through the layer's norms for Post-LN."""
    name = "DecoderLayer" if decoder else "EncoderLayer"
    norms = (1, 2, 3) if decoder else (1, 2)
    for norm_first in (False, True):
        g = _gen(seed + 7)
        what = msg("{name}(8, 2, 16, dropout=1.0, norm_first={norm_first}) in train mode", name=name,
                   norm_first=norm_first)
        layer = randomize_(as_double(call(cls, 8, 2, 16, 1.0, norm_first), training=True), g)
        p = parameters_of(layer)
        x = _randn(2, 4, 8, generator=g, dtype=_float64)
        rest = (_randn(2, 3, 8, generator=g, dtype=_float64),) if decoder else ()
        got = call(layer, x, *rest)
        expected = x
        if not norm_first:
            for i in norms:
                eps = attribute(submodule(layer, f"norm{i}"), "eps")
                check(_type(eps) is float, "{what}: norm{i} should be an nn.LayerNorm", what=what, i=i)
                expected = _layer_norm(expected, (8,), p[f"norm{i}.weight"], p[f"norm{i}.bias"], eps).detach()
        if _same(got, expected):
            continue
        if _type(got) is _Tensor and tuple(got.shape) == tuple(x.shape):  # every token the same: nothing of x left
            check(not _same(got, got[:, :1, :].expand(got.shape)),
                  "{what}: with every sublayer dropped nothing of x is left (every token's output is the same), "
                  "so the dropout also removes the residual path (dropout applied to the sum x + sublayer(...)), or "
                  "the residual add is missing. Dropout goes on the sublayer's output only, before the add (Part 2; "
                  "Vaswani et al. §5.4)", what=what)
        close(got, expected, atol=ATOL,
              name=msg("{what}: every sublayer's output is dropped, so only the residual path should be left "
                       "({left}). A sublayer whose output still shows is missing its own dropout (dropout1, "
                       "dropout2{third} on the sublayer outputs); see Part 2", what=what,
                       left="x itself" if norm_first else "x through the norms, in order",
                       third=", dropout3" if decoder else ""))


def size_hint(ours: nn.Module, theirs: nn.Module) -> Message | str:
    """Why a layer or stack has the wrong parameter count, when a size argument that was ignored explains it
    (a sentence starting with ": ", to follow a message), else ""."""
    layers = list(getattr(theirs, "layers", None) or [theirs])
    d_model, d_ff = layers[0].linear1.in_features, layers[0].linear1.out_features
    diff, per_unit = n_params(ours) - n_params(theirs), len(layers) * (2 * d_model + 1)
    if diff and diff % per_unit == 0 and d_ff + diff // per_unit > 0:
        return msg(": a feed-forward of width {width} instead of d_ff = {d_ff} explains it; the d_ff argument was "
                   "ignored, pass it on to FeedForward", width=d_ff + diff // per_unit, d_ff=d_ff)
    return ""


def expect_same_size(ours: nn.Module, theirs: nn.Module, what: str) -> None:
    """The parameter count of a layer against PyTorch's, naming an ignored d_ff."""
    got, want = n_params(ours), n_params(theirs)
    if got != want:
        raise fail("parameters of {what}: expected {want} (as in PyTorch's equivalent), got {got}{hint}", what=what,
                   want=want, got=got, hint=size_hint(ours, theirs))


def expect_stack_parameters(ours: nn.Module, theirs: nn.Module, what: str, n_layers: int, d_model: int) -> None:
    """The stack's parameter count against PyTorch's, with the likely reason when it is off."""
    got, want = n_params(ours), n_params(theirs)
    if got == want:
        return
    if hint := size_hint(ours, theirs):
        raise fail("parameters of {what}: expected {want}, got {got}{hint}", what=what, want=want, got=got, hint=hint)
    per_layer = n_params(theirs.layers[0])
    final = 2 * d_model if theirs.norm is not None else 0
    if theirs.norm is None and got == want + 2 * d_model:
        why = ("a Post-LN stack has no final LayerNorm (each of its layers already ends with one): "
               "`self.norm = None` (Part 4)")
    elif theirs.norm is not None and got == want - 2 * d_model:
        why = "a Pre-LN stack ends with one final nn.LayerNorm(d_model), `self.norm`, after the last layer (Part 4)"
    elif got in (per_layer, per_layer + final, per_layer + 2 * d_model):
        why = msg("that is one layer's parameters: your {n} layers are one object repeated, which shares its "
                  "weights. Build a new layer for each position in the stack (Part 4)", n=n_layers)
    else:
        why = msg("{n} separate layers ({per_layer} parameters each) plus a final LayerNorm for Pre-LN only (Part 4)",
                  n=n_layers, per_layer=per_layer)
    raise fail("parameters of {what}: expected {want}, got {got}; {why}", what=what, want=want, got=got, why=why)


def expect_stack_dropout(cls: type, decoder: bool, seed: int = 0) -> None:
    """A stack built with dropout = 1.0, in train mode: every sublayer of every layer is dropped, so what is left
    is the residual path through the whole stack (x, then the final norm for Pre-LN; x through every norm for
    Post-LN). A stack that does not hand its dropout probability to its layers fails this."""
    name = "Decoder" if decoder else "Encoder"
    norms = (1, 2, 3) if decoder else (1, 2)
    for norm_first in (False, True):
        g = _gen(seed + 11)
        what = msg("{name}(2, 8, 2, 16, dropout=1.0, norm_first={norm_first}) in train mode", name=name,
                   norm_first=norm_first)
        stack = randomize_(as_double(call(cls, 2, 8, 2, 16, 1.0, norm_first), training=True), g)
        p = parameters_of(stack)
        x = _randn(2, 4, 8, generator=g, dtype=_float64)
        rest = (_randn(2, 3, 8, generator=g, dtype=_float64),) if decoder else ()
        expected = x
        for i in range(2):
            for j in () if norm_first else norms:
                w, b = p.get(f"layers.{i}.norm{j}.weight"), p.get(f"layers.{i}.norm{j}.bias")
                check(w is not None and b is not None, "{what}: layers.{i}.norm{j} should be an nn.LayerNorm",
                      what=what, i=i, j=j)
                expected = _layer_norm(expected, (8,), w, b, 1e-5)
        if norm_first and "norm.weight" in p:
            expected = _layer_norm(expected, (8,), p["norm.weight"], p["norm.bias"], 1e-5)
        close(call(stack, x, *rest), expected.detach(), atol=1e-5,
              name=msg("{what}: every sublayer of every layer is dropped, so only the residual path should be left "
                       "(x through the layers' norms for Post-LN, x and the final norm for Pre-LN). Hand the stack's "
                       "`dropout` on to every layer (Part 4)", what=what))


def _layers_only(theirs: nn.Module, first: Any, *rest: Any, norm_each: bool = False, **kw: Any) -> Any:
    """PyTorch's stack without its final norm (or with it after every layer)."""
    h = first
    for layer in theirs.layers:
        h = _quiet(layer, h, *rest, **kw)
        if norm_each and theirs.norm is not None:
            h = _quiet(theirs.norm, h)
    return h


def _post_ln_stack_signature(got: Any, expected: torch.Tensor, what: Message) -> None:
    check(not _same(got, _layer_norm(expected, expected.shape[-1:]).detach(), atol=1e-5),
          "{what}: your Post-LN stack normalises its output once more. Its last layer already ends with a "
          "LayerNorm; only a Pre-LN stack adds a final one (Part 4)", what=what)


def compare_encoder(ours: nn.Module, theirs: nn.Module, x: torch.Tensor, mask: torch.Tensor) -> None:
    """``ours(x, mask)`` against ``nn.TransformerEncoder`` with the same weights, the usual mistakes named."""
    nf = theirs.norm is not None
    what = msg("Encoder(norm_first={nf}) with a padding mask", nf=nf)
    got = _run(ours, x, mask, hint="each layer gets the same mask; see Part 4")
    expected = _quiet(theirs, x, src_key_padding_mask=key_padding(mask))
    if _same(got, expected):
        return
    check(not _same(got, _quiet(theirs, x)),
          "{what}: the output is the same as without the mask. Hand src_mask to every layer (Part 4)", what=what)
    if nf:
        kp = key_padding(mask)
        check(not _same(got, _layers_only(theirs, x, src_key_padding_mask=kp)),
              "{what}: the output is the last layer's raw residual stream: the final LayerNorm is missing or "
              "not applied. A Pre-LN stack normalises once, after its last layer (Part 4)", what=what)
        check(not _same(got, _layers_only(theirs, x, src_key_padding_mask=kp, norm_each=True)),
              "{what}: your stack applies the final LayerNorm after every layer. It comes once, after the "
              "last layer (Part 4)", what=what)
    else:
        _post_ln_stack_signature(got, expected, what)
    close(got, expected, atol=ATOL,
          name=msg("{what}, against nn.TransformerEncoder with the same weights (Part 4)", what=what))


def compare_decoder(ours: nn.Module, theirs: nn.Module, x: torch.Tensor, memory: torch.Tensor,
                    tgt_mask: torch.Tensor, memory_mask: torch.Tensor, seed: int = 0) -> None:
    """``ours(x, memory, tgt_mask, memory_mask)`` against ``nn.TransformerDecoder``, the usual mistakes named.

    ``tgt_mask`` is a (tgt_len, tgt_len) mask, ``memory_mask`` a (batch, 1, 1, src_len) padding mask."""
    nf = theirs.norm is not None
    what = msg("Decoder(norm_first={nf}) with a causal mask and a memory padding mask", nf=nf)
    hint = "every layer gets the same memory (the encoder's output) and the same two masks; see Part 4"
    got = _run(ours, x, memory, tgt_mask, memory_mask, hint=hint)
    kw = {"tgt_mask": ~tgt_mask, "memory_key_padding_mask": key_padding(memory_mask)}
    expected = _quiet(theirs, x, memory, **kw)
    if _same(got, expected):
        return
    check(not _same(got, _quiet(theirs, x, memory, memory_key_padding_mask=key_padding(memory_mask))),
          "{what}: the output is the same as without the causal mask. Hand tgt_mask to every layer (Part 4)",
          what=what)
    check(not _same(got, _quiet(theirs, x, memory, tgt_mask=~tgt_mask)),
          "{what}: the output is the same as without memory_mask. Hand it to every layer (Part 4)", what=what)
    other = _run(ours, x, _randn(memory.shape, generator=_gen(seed), dtype=memory.dtype), tgt_mask, memory_mask,
                 hint=hint)
    check(not _same(got, other),
          "{what}: the output does not change when the memory does. Every layer receives the same memory, the "
          "encoder's output, not the previous layer's output (Part 4)", what=what)
    if nf:
        check(not _same(got, _layers_only(theirs, x, memory, **kw)),
              "{what}: the output is the last layer's raw residual stream: the final LayerNorm is missing or "
              "not applied. A Pre-LN stack normalises once, after its last layer (Part 4)", what=what)
        check(not _same(got, _layers_only(theirs, x, memory, **kw, norm_each=True)),
              "{what}: your stack applies the final LayerNorm after every layer. It comes once, after the "
              "last layer (Part 4)", what=what)
    else:
        _post_ln_stack_signature(got, expected, what)
    close(got, expected, atol=ATOL,
          name=msg("{what}, against nn.TransformerDecoder with the same weights (Part 4)", what=what))


def expect_mask(got: Any, expected: torch.Tensor, what: str) -> None:
    """A mask returned by source_mask / target_mask against the hand-written expected one, mistakes named.

    ``expected`` has the full shape: (batch, 1, 1, max_len) for a source mask, (batch, 1, T, T) for a target mask."""
    check(_type(got) is _Tensor, "{what}: expected a bool tensor, got {got} (Part 5)", what=what,
          got=_type(got).__name__)
    check(got.dtype == _bool,
          "{what}: the mask has dtype {dtype}. The course's masks are bool, True = may attend (a float mask means "
          "something else: PyTorch adds it to the scores); compare with `<` / `<=` and combine with `&` (Part 5)",
          what=what, dtype=got.dtype)
    source = expected.shape[-2] == 1
    shape = tuple(expected.shape)
    if source and tuple(got.shape) == (shape[0], 1, shape[3], 1):
        raise fail("{what}: shape {got}: your mask lies along the query axis. A padding mask blocks keys, the last "
                   "dim: shape (batch, 1, 1, max_len) = {shape} (Part 5)", what=what, got=tuple(got.shape),
                   shape=shape)
    check(tuple(got.shape) == shape,
          "{what}: expected shape {shape}, got {got} (batch, then 1 for the heads, then {axes}; Part 5)", what=what,
          shape=shape, got=tuple(got.shape),
          axes="1 for the queries, then the keys" if source else "queries, then keys")
    if bool(_equal_tensors(got, expected)):
        return
    rows = {"got": (got[:, 0, 0] if source else got[:, 0]).int(),  # shown after each of the messages below
            "expected": (expected[:, 0, 0] if source else expected[:, 0]).int()}
    check(not bool(_equal_tensors(got, ~expected)),
          "{what}: your mask is inverted. In the course True means the query MAY attend to the key (Part 0); "
          "got\n{got}\nexpected\n{expected}", what=what, **rows)
    if source:
        raise fail("{what}: key j of sentence b is real exactly when j < lengths[b] (positions count from 0; "
                   "Part 5); got\n{got}\nexpected\n{expected}", what=what, **rows)
    n = expected.shape[-1]
    diag = _eye(n, dtype=_bool)
    causal = _ones(n, n, dtype=_bool).tril()
    if bool(_equal_tensors(got, expected & ~diag)):
        raise fail("{what}: no query may attend to itself. The causal part keeps key j for query i when j <= i, the "
                   "diagonal included (Part 5); got\n{got}\nexpected\n{expected}", what=what, **rows)
    if bool((got & ~causal).any()):
        raise fail("{what}: a query may attend to a later position. The causal part keeps key j for query i only "
                   "when j <= i (Part 3, teacher forcing); got\n{got}\nexpected\n{expected}", what=what, **rows)
    keys = expected[:, :, -1:, :]  # the last query row of the expected mask: exactly the real keys
    if bool(_equal_tensors(got, causal.expand_as(expected))):
        raise fail("{what}: your target mask has no padding part: padding keys must be blocked too (Part 5); "
                   "got\n{got}\nexpected\n{expected}", what=what, **rows)
    if bool((got & ~keys).any()):
        raise fail("{what}: a query may attend to a padding key (Part 5); got\n{got}\nexpected\n{expected}",
                   what=what, **rows)
    raise fail("{what}: some allowed key is blocked. Only keys are masked for padding: a padding query still attends "
               "to the real tokens at or before it (Part 5); got\n{got}\nexpected\n{expected}", what=what, **rows)


# what would do each exercise's work (switched off while the student's code runs under the checks); the
# course's MultiHeadAttention (course.attention) is given in this chapter and stays usable
_FAST_C = ("torch._transformer_encoder_layer_fwd", "torch._native_multi_head_attention")
_FAST_ATEN = ("_transformer_encoder_layer_fwd", "_native_multi_head_attention")
BORROWED = {
    "FeedForward": Borrowed("write the two linear layers yourself: the course's FeedForward and "
                            "nn.TransformerEncoderLayer's feed-forward block are the references",
                            python=("course.blocks.FeedForward", *TRANSFORMER_PY), torch=_FAST_C, aten=_FAST_ATEN,
                            given=("course.blocks.FeedForward",)),
    "EncoderLayer": Borrowed("wire the sublayers yourself: nn.TransformerEncoderLayer and the course's "
                             "EncoderLayer are the references",
                             python=("course.blocks.EncoderLayer", "course.blocks.Encoder", *TRANSFORMER_PY),
                             torch=_FAST_C, aten=_FAST_ATEN, given=("course.blocks.EncoderLayer",)),
    "DecoderLayer": Borrowed("wire the sublayers yourself: nn.TransformerDecoderLayer and the course's "
                             "DecoderLayer are the references",
                             python=("course.blocks.DecoderLayer", "course.blocks.Decoder", *TRANSFORMER_PY),
                             torch=_FAST_C, aten=_FAST_ATEN, given=("course.blocks.DecoderLayer",)),
    "Encoder": Borrowed("stack your own layers: nn.TransformerEncoder and the course's Encoder are the references",
                        python=("course.blocks.Encoder", "course.blocks.EncoderLayer", *TRANSFORMER_PY),
                        torch=_FAST_C, aten=_FAST_ATEN, given=("course.blocks.Encoder",)),
    "Decoder": Borrowed("stack your own layers: nn.TransformerDecoder and the course's Decoder are the references",
                        python=("course.blocks.Decoder", "course.blocks.DecoderLayer", *TRANSFORMER_PY),
                        torch=_FAST_C, aten=_FAST_ATEN, given=("course.blocks.Decoder",)),
    "source_mask": Borrowed("build the mask from the lengths yourself: the course's padding_mask is the reference",
                            python=("course.blocks.padding_mask", "course.blocks.causal_mask"),
                            given=("course.blocks.padding_mask",)),
    "target_mask": Borrowed("build the mask yourself: the course's causal_mask and padding_mask (and "
                            "nn.Transformer.generate_square_subsequent_mask) are the references",
                            python=("course.blocks.padding_mask", "course.blocks.causal_mask",
                                    "torch.nn.Transformer.generate_square_subsequent_mask"),
                            given=("course.blocks.causal_mask", "course.blocks.padding_mask")),
}
