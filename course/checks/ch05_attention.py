"""Helpers the visible tests of chapter 05 use."""

from __future__ import annotations

from torch import nn

from course.attention import load_torch_attention
from course.checks.core import call  # noqa: F401  (used as ref.call)


def copy_from_torch(ours: nn.Module, torch_mha: nn.MultiheadAttention) -> None:
    """Load nn.MultiheadAttention's weights into the course's q/k/v/out projections."""
    load_torch_attention(ours, torch_mha)
