"""Helpers the visible tests of chapter 05 use."""

from __future__ import annotations

from torch import nn

from course.attention import load_torch_attention
from course.checks.borrowed import Borrowed, MHA_PY, SDPA, SDPA_ATEN
from course.checks.core import call  # noqa: F401  (used as ref.call)


def copy_from_torch(ours: nn.Module, torch_mha: nn.MultiheadAttention) -> None:
    """Load nn.MultiheadAttention's weights into the course's q/k/v/out projections."""
    load_torch_attention(ours, torch_mha)


# what would do each exercise's work (switched off while the student's code runs under the checks)
BORROWED = {
    "scaled_dot_product_attention": Borrowed("compute the scores, mask, softmax and weighted sum yourself: "
                          "F.scaled_dot_product_attention and the course's own attention are the references",
                          python=(*MHA_PY, "course.attention.attention", "course.attention.MultiHeadAttention",
                                  "course.blocks.MultiHeadAttention"),
                          torch=SDPA, aten=SDPA_ATEN,
                          given=("course.attention.attention",)),
    "causal_mask": Borrowed("build the mask yourself: the course's causal_mask is the reference",
                            python=("course.blocks.causal_mask", "torch.nn.Transformer.generate_square_subsequent_mask"),
                            given=("course.blocks.causal_mask",)),
    "padding_mask": Borrowed("build the mask yourself: the course's padding_mask is the reference",
                             python=("course.blocks.padding_mask",), given=("course.blocks.padding_mask",)),
    "MultiHeadAttention": Borrowed("project, split into heads, attend and merge yourself: nn.MultiheadAttention "
                                   "and the course's MultiHeadAttention (given in chapter 07) are the references",
                                   python=(*MHA_PY, "course.attention.MultiHeadAttention",
                                           "course.blocks.MultiHeadAttention"),
                                   torch=SDPA, aten=SDPA_ATEN,
                                   given=("course.attention.MultiHeadAttention", "course.blocks.MultiHeadAttention")),
}
