"""Deep stacks of Linear+Tanh layers, with or without skip connections (chapter 04).

``DeepStack`` is the model of the residual experiment: every layer computes
``f(h) = tanh(W h + b)``; the plain stack feeds ``f(h)`` to the next layer, the residual stack
feeds ``h + f(h)``. PyTorch's default ``nn.Linear`` initialisation is kept on purpose: it is
what a beginner gets without thinking, and it makes the plain stack's gradients vanish.
"""

from __future__ import annotations

import torch
from torch import nn


class DeepStack(nn.Module):
    """``depth`` blocks of ``tanh(Linear(width, width))``, optionally wrapped as ``h + f(h)``.

    Args:
        depth: number of layers (int >= 1).
        width: features per layer (int >= 1).
        residual: add the skip path ``h + f(h)`` (True) or not (False).
        seed: seed for the weights, so that two stacks with the same seed start identical.

    ``self.layers`` is an ``nn.ModuleList`` of the ``nn.Linear`` layers, input side first.
    ``forward`` maps ``(batch, width)`` to ``(batch, width)``.
    """

    def __init__(self, depth: int, width: int = 64, residual: bool = False, seed: int = 0):
        super().__init__()
        for name, value in (("depth", depth), ("width", width)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not isinstance(residual, bool):
            raise ValueError(f"residual must be True or False, got {residual!r}")
        generator_state = torch.random.get_rng_state()
        torch.manual_seed(seed)  # nn.Linear draws its weights from the global generator
        try:
            self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        finally:
            torch.random.set_rng_state(generator_state)  # building a stack leaves the caller's RNG alone
        self.residual = residual
        self.width = width

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if h.dim() != 2 or h.shape[-1] != self.width:
            raise ValueError(f"expected input of shape (batch, {self.width}), got {tuple(h.shape)}")
        for layer in self.layers:
            f = torch.tanh(layer(h))  # (batch, width)
            h = h + f if self.residual else f
        return h

    def extra_repr(self) -> str:
        return f"depth={len(self.layers)}, width={self.width}, residual={self.residual}"

