"""Helpers the visible tests of chapter 05 use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from course.attention import load_torch_attention
from course.checks.borrowed import MHA_PY, SDPA, SDPA_ATEN, Borrowed
from course.checks.core import call, close

_eye, _zeros, _manual_seed, _randn = torch.eye, torch.zeros, torch.manual_seed, torch.randn
_no_grad, _TorchMHA = torch.no_grad, nn.MultiheadAttention


def copy_from_torch(ours: nn.Module, torch_mha: nn.MultiheadAttention) -> None:
    """Load nn.MultiheadAttention's weights into the course's q/k/v/out projections."""
    load_torch_attention(ours, torch_mha)


def expect(actual: Any, expected: Any, *, mistakes: Sequence[tuple[Any, str]] = (), atol: float = 1e-6,
           rtol: float = 1e-5, name: str = "result") -> None:
    """``close(actual, expected)``; when that fails and ``actual`` is what a known mistake gives, say which.

    ``mistakes``: (what the wrong answer returns on this very input, worked out by hand in the test cell;
    the sentence that names the mistake and where the notebook explains it). Nothing here computes the
    right answer: the test cell passes it in.
    """
    try:
        close(actual, expected, atol=atol, rtol=rtol, name=name)
    except AssertionError as err:
        for wrong, message in mistakes:
            try:
                close(actual, wrong, atol=atol, rtol=rtol, name=name)
            except AssertionError:
                continue
            raise AssertionError(f"{name}: {message}") from None
        raise err from None


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
                            python=("course.blocks.causal_mask", "torch.nn.Transformer.generate_square_subsequent_mask",
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
