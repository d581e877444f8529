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

# bound at import time (the set-up cell), so that later monkeypatching does not change the checks
_relu = torch.relu
_linear = torch.nn.functional.linear
_layer_norm = torch.nn.functional.layer_norm
_equal_tensors = torch.equal
_EncoderLayer, _DecoderLayer = nn.TransformerEncoderLayer, nn.TransformerDecoderLayer
_Encoder, _Decoder = nn.TransformerEncoder, nn.TransformerDecoder
_Module, _Tensor = nn.Module, torch.Tensor
_named_parameters, _named_children = nn.Module.named_parameters, nn.Module.named_children
_module_double, _module_train = nn.Module.double, nn.Module.train
_tensor_copy, _numel, _randn, _no_grad = torch.Tensor.copy_, torch.Tensor.numel, torch.randn, torch.no_grad
_type, _issubclass = type, issubclass

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
    check(out is module, f"{_type(module).__name__}.double() / .train() should return the module itself")
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

def _need(module: nn.Module, owner: str, names: dict[str, type]) -> dict[str, nn.Module]:
    children = call(_children, module)
    for name, kind in names.items():
        got = children.get(name)
        check(_issubclass(_type(got), kind), f"{owner} needs an attribute `{name}` of type {kind.__name__} "
                                             f"(the tests copy PyTorch's weights into it), found {_type(got).__name__}")
    return children


def _copy_into(dst: nn.Module, values: dict[str, torch.Tensor], what: str) -> None:
    own = call(_own_parameters, dst)
    for attr, b in values.items():
        a = own.get(attr)
        check(_type(a) is _Tensor and tuple(a.shape) == tuple(b.shape),
              f"{what}.{attr}: expected shape {tuple(b.shape)}, found "
              f"{tuple(a.shape) if _type(a) is _Tensor else _type(a).__name__}")
        with _no_grad():
            _tensor_copy(a, b)


def _copy(dst: nn.Module, src: nn.Module, what: str) -> None:
    _copy_into(dst, {"weight": src.weight, "bias": src.bias}, what)


def _copy_attention(dst: nn.Module, src: nn.MultiheadAttention, what: str) -> None:
    """nn.MultiheadAttention's packed in_proj into the course's q_proj / k_proj / v_proj, and out_proj."""
    names = ("q_proj", "k_proj", "v_proj", "out_proj")
    linears = _need(dst, f"{what} (a MultiHeadAttention)", {n: nn.Linear for n in names})
    heads = attribute(dst, "n_heads")
    check(heads is None or heads == src.num_heads,
          f"{what}: head count mismatch, {heads} vs nn.MultiheadAttention's {src.num_heads}")
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
    check(_issubclass(_type(layers), nn.ModuleList), f"{what} needs its layers in an nn.ModuleList called `layers`, "
                                                     f"found {_type(layers).__name__}")
    mine = list(call(_children, layers).values())
    equal(len(mine), len(theirs.layers), name=f"number of layers in {what}.layers")
    for layer, ref in zip(mine, theirs.layers):
        copy_layer(layer, ref)
    norm = children.get("norm")
    if theirs.norm is None:
        check(norm is None or _issubclass(_type(norm), nn.Identity),
              f"a Post-LN {what} has no final LayerNorm: set `self.norm = None` "
              f"(every layer already ends with a norm), found {_type(norm).__name__}")
    else:
        check(_issubclass(_type(norm), nn.LayerNorm), f"a Pre-LN {what} ends with a final nn.LayerNorm called `norm`, "
                                                       f"found {_type(norm).__name__}")
        _copy(norm, theirs.norm, "norm")


def copy_encoder(ours: nn.Module, theirs: nn.TransformerEncoder) -> None:
    _copy_stack(ours, theirs, "Encoder", copy_encoder_layer)


def copy_decoder(ours: nn.Module, theirs: nn.TransformerDecoder) -> None:
    _copy_stack(ours, theirs, "Decoder", copy_decoder_layer)


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
