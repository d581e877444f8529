"""Stand-in layers the hidden checks hand to a student's code.

When a notebook is graded, a student's code runs in the grading sandbox, and whatever layer a check passes to
it is rebuilt there from its state; its class must therefore be importable there, in the course package.
They are test doubles (a fixed affine map, a recording dropout, attention with and without positions, a
fixed scale): seeing them tells nothing about the answers.
"""

from __future__ import annotations

import torch
from torch import nn


class Affine(nn.Module):
    """A sublayer with a visible effect and no normalisation of its own."""

    def __init__(self, d: int, g: torch.Generator):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(d, d, generator=g) / d ** 0.5)
        self.shift = nn.Parameter(torch.randn(d, generator=g))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x @ self.weight + self.shift)


class Recorder(nn.Module):
    """A stand-in dropout that records what it is applied to and returns 3 × its input."""

    def __init__(self):
        super().__init__()
        self.calls: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(x.detach().clone())
        return 3.0 * x


class Attention(nn.Module):
    def __init__(self, d: int, seed: int):
        super().__init__()
        torch.manual_seed(seed)
        self.mha = nn.MultiheadAttention(d, 2, batch_first=True).double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mha(x, x, x, need_weights=False)[0]


class WithPositions(Attention):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(x.shape[1], dtype=x.dtype)[None, :, None] * 0.1
        return super().forward(x + pos)


class Cumulative(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.cumsum(dim=1)


class Rolled(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.roll(1, dims=1)


class MarksFirst(nn.Module):
    """Zeros, except that output position 0 is raised by 1.5e-6: a position dependence just above the tolerance."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.zeros_like(x)
        out[:, 0] += 1.5e-6
        return out


class Scale(nn.Module):
    """A stand-in for a sublayer's dropout (a fixed factor instead of a random mask): the uncached decoder applies
    it, so an answer that skips the layer's dropout module (or a norm) computes other logits."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


class Zero(nn.Module):
    """A sublayer that outputs zeros: what is left is the residual stream."""

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(h)


__all__ = ["Affine", "Recorder", "Attention", "WithPositions", "Cumulative", "Rolled", "MarksFirst", "Scale", "Zero"]
