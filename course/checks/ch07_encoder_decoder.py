"""Helpers the visible tests of chapter 07 use: PyTorch's transformer layers with random weights,
and copying their weights into the student's modules (the course's masks are True = MAY attend;
PyTorch's are the opposite, so masks handed to PyTorch are inverted).
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import torch
from torch import nn

from course.attention import load_torch_attention
from course.checks.borrowed import Borrowed, SDPA_ATEN, TRANSFORMER_PY
from course.checks.core import call, check, close, equal, raises  # noqa: F401  (call: used as ref.call)

# bound at import time (the set-up cell), so that later monkeypatching does not change the checks
_relu = torch.relu
_linear = torch.nn.functional.linear
_layer_norm = torch.nn.functional.layer_norm
_equal_tensors = torch.equal
_EncoderLayer, _DecoderLayer = nn.TransformerEncoderLayer, nn.TransformerDecoderLayer
_Encoder, _Decoder = nn.TransformerEncoder, nn.TransformerDecoder

ATOL = 1e-6  # float64 against float64: the only differences are rounding



def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randomize_(module: nn.Module, generator: torch.Generator, scale: float = 0.5) -> nn.Module:
    """Every parameter drawn afresh (LayerNorm gains and biases too, so swapped norms show)."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * scale)
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

def _need(module: nn.Module, owner: str, names: dict[str, type]) -> None:
    for name, kind in names.items():
        got = getattr(module, name, None)
        check(isinstance(got, kind), f"{owner} needs an attribute `{name}` of type {kind.__name__} "
                                     f"(the tests copy PyTorch's weights into it), found {type(got).__name__}")


def _copy(dst: nn.Module, src: nn.Module, what: str) -> None:
    for attr in ("weight", "bias"):
        a, b = getattr(dst, attr, None), getattr(src, attr)
        check(isinstance(a, torch.Tensor) and tuple(a.shape) == tuple(b.shape),
              f"{what}.{attr}: expected shape {tuple(b.shape)}, found "
              f"{tuple(a.shape) if isinstance(a, torch.Tensor) else type(a).__name__}")
        with torch.no_grad():
            a.copy_(b)


def copy_feed_forward(ours: nn.Module, linear1: nn.Linear, linear2: nn.Linear) -> None:
    _need(ours, "FeedForward", {"linear1": nn.Linear, "linear2": nn.Linear, "dropout": nn.Dropout})
    _copy(ours.linear1, linear1, "linear1")
    _copy(ours.linear2, linear2, "linear2")


def copy_encoder_layer(ours: nn.Module, theirs: nn.TransformerEncoderLayer) -> None:
    """Load an ``nn.TransformerEncoderLayer``'s weights into the course's ``EncoderLayer``."""
    _need(ours, "EncoderLayer", {"self_attn": nn.Module, "ff": nn.Module, "norm1": nn.LayerNorm,
                                 "norm2": nn.LayerNorm})
    load_torch_attention(ours.self_attn, theirs.self_attn)
    copy_feed_forward(ours.ff, theirs.linear1, theirs.linear2)
    _copy(ours.norm1, theirs.norm1, "norm1")
    _copy(ours.norm2, theirs.norm2, "norm2")


def copy_decoder_layer(ours: nn.Module, theirs: nn.TransformerDecoderLayer) -> None:
    """Load an ``nn.TransformerDecoderLayer``'s weights (``multihead_attn`` -> ``cross_attn``)."""
    _need(ours, "DecoderLayer", {"self_attn": nn.Module, "cross_attn": nn.Module, "ff": nn.Module,
                                 "norm1": nn.LayerNorm, "norm2": nn.LayerNorm, "norm3": nn.LayerNorm})
    load_torch_attention(ours.self_attn, theirs.self_attn)
    load_torch_attention(ours.cross_attn, theirs.multihead_attn)
    copy_feed_forward(ours.ff, theirs.linear1, theirs.linear2)
    for i in (1, 2, 3):
        _copy(getattr(ours, f"norm{i}"), getattr(theirs, f"norm{i}"), f"norm{i}")


def _copy_stack(ours: nn.Module, theirs: nn.Module, what: str, copy_layer: Callable) -> None:
    layers = getattr(ours, "layers", None)
    check(isinstance(layers, nn.ModuleList), f"{what} needs its layers in an nn.ModuleList called `layers`, "
                                             f"found {type(layers).__name__}")
    equal(len(layers), len(theirs.layers), name=f"number of layers in {what}.layers")
    for mine, ref in zip(layers, theirs.layers):
        copy_layer(mine, ref)
    norm = getattr(ours, "norm", None)
    if theirs.norm is None:
        check(norm is None or isinstance(norm, nn.Identity),
              f"a Post-LN {what} has no final LayerNorm: set `self.norm = None` "
              f"(every layer already ends with a norm), found {type(norm).__name__}")
    else:
        check(isinstance(norm, nn.LayerNorm), f"a Pre-LN {what} ends with a final nn.LayerNorm called `norm`, "
                                              f"found {type(norm).__name__}")
        _copy(norm, theirs.norm, "norm")


def copy_encoder(ours: nn.Module, theirs: nn.TransformerEncoder) -> None:
    _copy_stack(ours, theirs, "Encoder", copy_encoder_layer)


def copy_decoder(ours: nn.Module, theirs: nn.TransformerDecoder) -> None:
    _copy_stack(ours, theirs, "Decoder", copy_decoder_layer)


# what would do each exercise's work (switched off while the student's code runs under the checks)
BORROWED = {
    "FeedForward": Borrowed("write the two linear layers yourself: the course's FeedForward is the reference",
                            python=("course.blocks.FeedForward", *TRANSFORMER_PY), aten=SDPA_ATEN,
                            given=("course.blocks.FeedForward",)),
    "EncoderLayer": Borrowed("wire the sublayers yourself: nn.TransformerEncoderLayer is the reference",
                             python=("course.blocks.EncoderLayer", *TRANSFORMER_PY),
                             aten=("_transformer_encoder_layer_fwd", "_native_multi_head_attention"),
                             given=("course.blocks.EncoderLayer",)),
    "DecoderLayer": Borrowed("wire the sublayers yourself: nn.TransformerDecoderLayer is the reference",
                             python=("course.blocks.DecoderLayer", *TRANSFORMER_PY),
                             aten=("_transformer_encoder_layer_fwd", "_native_multi_head_attention"),
                             given=("course.blocks.DecoderLayer",)),
    "Encoder": Borrowed("stack your own layers: nn.TransformerEncoder is the reference",
                        python=("course.blocks.Encoder", "course.blocks.EncoderLayer", *TRANSFORMER_PY),
                        aten=("_transformer_encoder_layer_fwd", "_native_multi_head_attention"),
                        given=("course.blocks.Encoder",)),
    "Decoder": Borrowed("stack your own layers: nn.TransformerDecoder is the reference",
                        python=("course.blocks.Decoder", "course.blocks.DecoderLayer", *TRANSFORMER_PY),
                        aten=("_transformer_encoder_layer_fwd", "_native_multi_head_attention"),
                        given=("course.blocks.Decoder",)),
}
