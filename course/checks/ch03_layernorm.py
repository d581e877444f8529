"""What the visible tests of chapter 03 (layer normalisation) use, and what its exercises may not borrow.

The helpers below compare a result with hand-worked values and, where it equals what a known mistake gives,
name that mistake; they hold no reference implementation."""

import functools
from typing import Any

import torch
from torch import nn

from course.checks import core
from course.checks.borrowed import NORM_ATEN, NORM_C, NORM_PY, Borrowed
from course.checks.core import check
from course.checks.messages import fail
from course.checks.plain import plain

_WIDGET = "course.widgets.ch03_layernorm.normalise"  # the explorer's layer norm of one token

# what would do each exercise's work (switched off while the student's code runs under the checks);
# PostLN / PreLN build their norms from nn.LayerNorm (given), so they declare nothing
BORROWED = {
    "layer_norm": Borrowed("write layer normalisation from mean and variance: "
                           "F.layer_norm is what it is checked against",
                           python=(*NORM_PY, _WIDGET), torch=NORM_C, aten=NORM_ATEN, given=(_WIDGET,)),
    "LayerNorm": Borrowed("write the module around your own layer_norm: nn.LayerNorm is the reference",
                          python=(*NORM_PY, _WIDGET), torch=NORM_C, aten=NORM_ATEN, given=(_WIDGET,)),
    "rms_norm": Borrowed("write RMSNorm from the mean of the squares: F.rms_norm is the reference",
                         python=(*NORM_PY, _WIDGET), torch=NORM_C, aten=NORM_ATEN),
    "layer_norm_from_rms": Borrowed("build LayerNorm from your rms_norm: F.layer_norm is what it is checked against",
                                    python=(*NORM_PY, _WIDGET), torch=NORM_C, aten=NORM_ATEN),
}


# ------------------------------------------------------------------ helpers of the visible tests (nothing hidden)

# the test cells' expect(): core.expect with an absolute tolerance only, 1e-4 unless a cell gives its own atol
expect = functools.partial(core.expect, atol=1e-4, rtol=0.0)


def normalised_tokens(out: Any, message: str, *, name: str = "result") -> None:
    """Every token (last dim) of ``out`` has mean 0 and biased std 1, as LayerNorm's output at initialisation."""
    out = plain(out, name, modules=False)
    check(isinstance(out, torch.Tensor), "{name}: expected a tensor, got {got}", name=name, got=type(out).__name__)
    out = out.detach().double()
    mean = out.mean(-1)
    std = ((out - mean[..., None]) ** 2).mean(-1).sqrt()
    if not bool((mean.abs() < 1e-4).all() and ((std - 1).abs() < 1e-3).all()):
        raise fail("{name}: its tokens have mean {mean:.3g} and std {std:.3g}, not 0 and 1: {why}", name=name,
                   mean=float(mean.flatten()[0]), std=float(std.flatten()[0]), why=message)


class Square(nn.Module):
    """A fixed sublayer for the tests: h ** 2 (no parameters, shape kept)."""

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h ** 2


class Mix(nn.Module):
    """A fixed sublayer for the tests: -3 times the features rolled by two places (no parameters)."""

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return -3.0 * h.roll(2, dims=-1)


class Zeros(nn.Module):
    """A sublayer that has learned nothing: zeros of its input's shape."""

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(h)
