"""Helpers the visible tests of chapter 05 use."""

from __future__ import annotations

from torch import nn

from course.attention import load_torch_attention
from course.checks.borrowed import MHA_PY, SDPA, SDPA_ATEN, Borrowed
from course.checks.core import call  # noqa: F401  (used as ref.call)


def copy_from_torch(ours: nn.Module, torch_mha: nn.MultiheadAttention) -> None:
    """Load nn.MultiheadAttention's weights into the course's q/k/v/out projections."""
    load_torch_attention(ours, torch_mha)


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
                                    "torch.nn.modules.transformer._generate_square_subsequent_mask"),
                            given=("course.blocks.causal_mask",)),
    "padding_mask": Borrowed("build the mask yourself: the course's padding_mask is the reference",
                             python=("course.blocks.padding_mask",), given=("course.blocks.padding_mask",)),
    "MultiHeadAttention": Borrowed("project, split into heads, attend with your own scaled_dot_product_attention "
                                   "and merge yourself: nn.MultiheadAttention and the course's MultiHeadAttention "
                                   "(given in chapter 07) are the references",
                                   python=(*MHA_PY, *_COURSE_ATTENTION, *_COURSE_MHA), torch=_SDPA, aten=_SDPA_ATEN,
                                   given=_COURSE_MHA),
}
