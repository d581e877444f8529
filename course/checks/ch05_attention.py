"""Helpers the visible tests of chapter 05 use."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from course.attention import load_torch_attention
from course.checks.borrowed import MHA_PY, SDPA, SDPA_ATEN, Borrowed
from course.checks.core import call, close, expect  # noqa: F401  (expect: re-exported, what the test cells call)
from course.checks.messages import fail, msg

_eye, _zeros, _manual_seed, _randn = torch.eye, torch.zeros, torch.manual_seed, torch.randn
_no_grad, _TorchMHA, _tensor = torch.no_grad, nn.MultiheadAttention, torch.tensor


def copy_from_torch(ours: nn.Module, torch_mha: nn.MultiheadAttention) -> None:
    """Load nn.MultiheadAttention's weights into the course's q/k/v/out projections."""
    load_torch_attention(ours, torch_mha)


def against_torch(MultiHeadAttention: type, d_model: int, n_heads: int, *, identity_out: bool = False,
                  seed: int = 0) -> tuple[Any, torch.Tensor]:
    """(your layer's output, nn.MultiheadAttention's output) for one self-attention input, the same weights in both.

    identity_out: set the output projection to the identity in both (to tell a missing out_proj from other bugs).
    """
    _manual_seed(seed)
    theirs = _TorchMHA(d_model, n_heads, batch_first=True)
    if identity_out:
        with _no_grad():
            theirs.out_proj.weight.copy_(_eye(d_model))
            theirs.out_proj.bias.copy_(_zeros(d_model))
    ours = call(MultiHeadAttention, d_model, n_heads)
    copy_from_torch(ours, theirs)
    x = _randn(2, 5, d_model)
    with _no_grad():
        want = theirs(x, x, x, need_weights=False)[0]
    return call(ours, x, x, x), want


# attention however it is reached: F.scaled_dot_product_attention (SDPA), the ATen operators called by name
# (torch.ops.aten.*, seen by the TorchFunctionMode) and the kernels they end in (SDPA_ATEN; under the checks' dispatch
# mode the math path runs, whose softmax is aten._safe_softmax: torch's own "fully masked row gives zeros" softmax),
# nn.MultiheadAttention, and the course's implementations (course.attention, course.blocks, the attention-map widget).
_SDPA = (*SDPA, "torch._safe_softmax",
         *(f"torch.ops.aten.{op}{overload}" for op in (
             "scaled_dot_product_attention", "_scaled_dot_product_attention_math",
             "_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_flash_attention",
             "_scaled_dot_product_efficient_attention", "_scaled_dot_product_cudnn_attention",
             "_scaled_dot_product_fused_attention_overrideable", "_native_multi_head_attention", "_safe_softmax")
           for overload in ("", ".default")))
_SDPA_ATEN = (*SDPA_ATEN, "_safe_softmax")
_COURSE_ATTENTION = ("course.attention.attention", "course.widgets.ch05_attention.attention_weights")
_COURSE_MHA = ("course.attention.MultiHeadAttention", "course.blocks.MultiHeadAttention")

# what would do each exercise's work (switched off while the student's code runs under the checks)
BORROWED = {
    "scaled_dot_product_attention": Borrowed("compute the scores, mask, softmax and weighted sum yourself: "
                          "F.scaled_dot_product_attention and the course's own attention are the references",
                          python=(*MHA_PY, *_COURSE_ATTENTION, *_COURSE_MHA), torch=_SDPA, aten=_SDPA_ATEN,
                          given=("course.attention.attention",)),
    "causal_mask": Borrowed("build the mask yourself: the course's causal_mask is the reference",
                            python=("course.blocks.causal_mask", "course.widgets.attention_view.causal_allowed",
                                    "torch.nn.Transformer.generate_square_subsequent_mask",
                                    "torch.nn.modules.transformer._generate_square_subsequent_mask",
                                    "torch.nn.attention.bias.causal_lower_right",
                                    "torch.nn.attention.bias.causal_upper_left",
                                    "torch.nn.attention.bias.CausalBias._materialize",
                                    "torch.nn.attention.bias.CausalBias._lower_right",
                                    "torch.nn.attention.bias.CausalBias._upper_left"),
                            given=("course.blocks.causal_mask",)),
    "padding_mask": Borrowed("build the mask yourself: the course's padding_mask is the reference",
                             python=("course.blocks.padding_mask",), given=("course.blocks.padding_mask",)),
    "MultiHeadAttention": Borrowed("project, split into heads, attend with your own scaled_dot_product_attention "
                                   "and merge yourself: nn.MultiheadAttention and the course's MultiHeadAttention "
                                   "(given in chapter 07) are the references",
                                   python=(*MHA_PY, *_COURSE_ATTENTION, *_COURSE_MHA), torch=_SDPA, aten=_SDPA_ATEN,
                                   given=_COURSE_MHA),
}


def _copy_weights(ours: nn.Module, theirs: nn.MultiheadAttention) -> None:
    """copy_from_torch without its head-count check (a layer that ignored n_heads must reach the diagnosis)."""
    d = theirs.embed_dim
    for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
        layer = getattr(ours, name, None)
        if not isinstance(layer, nn.Linear) or tuple(layer.weight.shape) != (d, d) or layer.bias is None:
            raise fail("MultiHeadAttention({d}, {heads}) should have nn.Linear({d}, {d}) layers q_proj, k_proj, "
                       "v_proj and out_proj, with biases: a layer of another width ignored the d_model argument", d=d,
                       heads=theirs.num_heads)
    with _no_grad():
        for i, name in enumerate(("q_proj", "k_proj", "v_proj")):
            getattr(ours, name).weight.copy_(theirs.in_proj_weight[i * d:(i + 1) * d])
            getattr(ours, name).bias.copy_(theirs.in_proj_bias[i * d:(i + 1) * d])
        ours.out_proj.weight.copy_(theirs.out_proj.weight)
        ours.out_proj.bias.copy_(theirs.out_proj.bias)


def _build(MultiHeadAttention: type, d_model: int, n_heads: int, seed: int) -> tuple[Any, nn.MultiheadAttention]:
    _manual_seed(seed)
    theirs = _TorchMHA(d_model, n_heads, batch_first=True)
    ours = call(MultiHeadAttention, d_model, n_heads)
    _copy_weights(ours, theirs)
    return ours, theirs


def expect_n_heads_used(MultiHeadAttention: type, d_model: int, n_heads: int, *, seed: int = 0) -> None:
    """Fails, naming n_heads, when MultiHeadAttention(d_model, n_heads) works like nn.MultiheadAttention with
    ANOTHER head count (same weights, self-attention); passes otherwise (other mistakes are left to other checks)."""
    ours, theirs = _build(MultiHeadAttention, d_model, n_heads, seed)
    x = _randn(2, 5, d_model)
    got = call(ours, x, x, x)
    with _no_grad():
        if _matches(got, theirs(x, x, x, need_weights=False)[0]):
            return
        for h in range(1, d_model + 1):
            if d_model % h == 0 and h != n_heads:
                other = _TorchMHA(d_model, h, batch_first=True)
                other.load_state_dict(theirs.state_dict())
                if _matches(got, other(x, x, x, need_weights=False)[0]):
                    raise fail("MultiHeadAttention({d}, {heads}) computes {h} head(s), not {heads}: the n_heads "
                               "argument was ignored; split d_model into the n_heads heads you are given", d=d_model,
                               heads=n_heads, h=h)


def expect_arguments_used(MultiHeadAttention: type, d_model: int, n_heads: int, *, seed: int = 0) -> None:
    """MultiHeadAttention(d_model, n_heads) against nn.MultiheadAttention(d_model, n_heads) with the same weights,
    on self-attention and on cross-attention with a padding mask; a failure that another head count, or no mask,
    would explain is named as the argument that was ignored."""
    expect_n_heads_used(MultiHeadAttention, d_model, n_heads, seed=seed)
    ours, theirs = _build(MultiHeadAttention, d_model, n_heads, seed)
    x, memory = _randn(2, 5, d_model), _randn(2, 3, d_model)
    keep = _tensor([[True, True, False], [True, False, False]])  # (batch, k_len): padding at the end
    what = f"MultiHeadAttention({d_model}, {n_heads})"
    got = call(ours, x, x, x)
    with _no_grad():
        want = theirs(x, x, x, need_weights=False)[0]
    close(got, want, atol=1e-5, name=msg("self-attention of {what}, against nn.MultiheadAttention({d}, {heads}) with "
                                         "the same weights", what=what, d=d_model, heads=n_heads))
    got = call(ours, x, memory, memory, keep[:, None, None, :])
    with _no_grad():
        want = theirs(x, memory, memory, key_padding_mask=~keep, need_weights=False)[0]
        unmasked = theirs(x, memory, memory, need_weights=False)[0]
    if not _matches(got, want) and _matches(got, unmasked):
        raise fail("{what} gave the same output with a padding mask as without one: the mask argument of forward "
                   "was ignored; pass it on to scaled_dot_product_attention", what=what)
    close(got, want, atol=1e-5, name=msg("cross-attention of {what} (5 queries, 3 keys) with a padding mask of shape "
                                         "(batch, 1, 1, k_len), against nn.MultiheadAttention with "
                                         "key_padding_mask=~mask", what=what))


def _matches(got: Any, want: torch.Tensor) -> bool:
    return isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(want.shape) and bool(
        ((got - want).abs() <= 1e-5).all())
