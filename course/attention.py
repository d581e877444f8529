"""Multi-head attention as a finished building block (students wrote it themselves in chapter 05).

Chapters from 07 on import it instead of each student's own version, so that a mistake left in
chapter 05 does not spread. The code is written to be read: explicit projections, explicit
softmax, no fused kernels. The reference model trained in chapter 08 uses the fast twin in
``course.blocks`` (packed projection, fused kernel, key/value cache), which computes the same thing.

Mask convention of the course: a boolean tensor, **True where a query may attend to a key**,
broadcastable to the scores' shape ``(batch, heads, q_len, k_len)``. This is the opposite of the
masks of ``nn.MultiheadAttention`` and ``nn.Transformer*`` (True = blocked there).
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["MultiHeadAttention", "attention", "load_torch_attention"]


def _check_mask(mask: torch.Tensor | None, scores_shape: tuple[int, ...]) -> None:
    if mask is None:
        return
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        kind = mask.dtype if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise TypeError(f"mask must be a bool tensor (True = may attend), got {kind}")
    try:
        torch.broadcast_shapes(tuple(mask.shape), scores_shape)
    except RuntimeError:
        raise ValueError(f"mask of shape {tuple(mask.shape)} does not broadcast to the scores' shape "
                         f"{scores_shape} = (batch, heads, q_len, k_len)") from None


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
              mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention softmax(q kᵀ / √d_k) v.

    q: (batch, heads, q_len, d_k); k: (batch, heads, k_len, d_k); v: (batch, heads, k_len, d_v);
    mask: None or bool broadcastable to (batch, heads, q_len, k_len), True = may attend.
    Returns (output (batch, heads, q_len, d_v), weights (batch, heads, q_len, k_len)). A query with
    no allowed key gets zero weights and a zero output instead of NaN.
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (batch, heads, q_len, k_len)
    _check_mask(mask, tuple(scores.shape))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    weights = torch.nan_to_num(weights, nan=0.0)  # a fully masked row is 0/0 = NaN: make it zeros
    return weights @ v, weights


class MultiHeadAttention(nn.Module):
    """Multi-head attention written to be read: project, split into heads, attend, merge, project out.

    The version of chapter 05, one step per line: separate ``q_proj`` / ``k_proj`` / ``v_proj``,
    an explicit softmax (:func:`attention`), the weights kept in ``last_weights`` for plotting.
    The reference model of chapters 07–08 uses its fast twin, :class:`course.blocks.MultiHeadAttention`
    (one packed input projection like ``nn.MultiheadAttention``, the fused
    ``F.scaled_dot_product_attention`` kernel, a key/value cache for decoding, optional RoPE); the two
    compute the same function with the same weights.

    Args:
        d_model: model width (int >= 1).
        n_heads: number of heads, a divisor of d_model.

    ``forward(query, key, value, mask=None)``: query (batch, q_len, d_model); key and value
    (batch, k_len, d_model); mask None or bool broadcastable to (batch, n_heads, q_len, k_len),
    True = may attend. Returns (batch, q_len, d_model) and keeps the attention weights
    (batch, n_heads, q_len, k_len), detached, in ``self.last_weights``. A query with no allowed key
    gets zero weights and a zero attention output (so its result is just ``out_proj``'s bias).

    Parameters: four ``nn.Linear(d_model, d_model)`` named ``q_proj``, ``k_proj``, ``v_proj`` and
    ``out_proj`` (4·d² + 4·d numbers).
    """

    def __init__(self, d_model: int, n_heads: int):
        super().__init__()
        for name, value in (("d_model", d_model), ("n_heads", n_heads)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if d_model % n_heads != 0:
            raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}")
        self.d_model, self.n_heads, self.d_head = d_model, n_heads, d_model // n_heads
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.last_weights: torch.Tensor | None = None

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, seq, d_model) -> (batch, n_heads, seq, d_head)."""
        batch, seq, _ = x.shape
        return x.view(batch, seq, self.n_heads, self.d_head).transpose(1, 2)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, torch.Tensor) or t.dim() != 3 or t.shape[-1] != self.d_model:
                got = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
                raise ValueError(f"{name} must have shape (batch, seq, {self.d_model}), got {got}")
        if key.shape[:2] != value.shape[:2] or key.shape[0] != query.shape[0]:
            raise ValueError(f"query {tuple(query.shape)}, key {tuple(key.shape)} and value {tuple(value.shape)} "
                             "must share the batch size, and key and value the length")
        batch, q_len, _ = query.shape
        q = self._split(self.q_proj(query))  # (batch, heads, q_len, d_head)
        k = self._split(self.k_proj(key))  # (batch, heads, k_len, d_head)
        v = self._split(self.v_proj(value))  # (batch, heads, k_len, d_head)
        out, weights = attention(q, k, v, mask)  # (batch, heads, q_len, d_head)
        self.last_weights = weights.detach()
        out = out.transpose(1, 2).reshape(batch, q_len, self.d_model)  # merge the heads
        return self.out_proj(out)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, n_heads={self.n_heads}"


def load_torch_attention(ours: MultiHeadAttention, torch_mha: nn.MultiheadAttention) -> MultiHeadAttention:
    """Copy the weights of ``nn.MultiheadAttention`` into the course's ``MultiHeadAttention``.

    PyTorch keeps the three input projections stacked in ``in_proj_weight`` (3·d_model, d_model) and
    ``in_proj_bias`` (3·d_model,), in the order query, key, value. Returns ``ours``.
    """
    if not isinstance(torch_mha, nn.MultiheadAttention):
        raise TypeError(f"expected an nn.MultiheadAttention to copy from, got {type(torch_mha).__name__}")
    d = torch_mha.embed_dim
    if torch_mha.in_proj_weight is None or torch_mha.in_proj_bias is None:
        raise ValueError("only nn.MultiheadAttention with one packed in_proj_weight and biases can be copied "
                         "(kdim = vdim = embed_dim, bias=True)")
    names = ("q_proj", "k_proj", "v_proj", "out_proj")
    missing = [n for n in names if not isinstance(getattr(ours, n, None), nn.Linear)]
    if missing:
        raise TypeError(f"{type(ours).__name__} needs nn.Linear layers {', '.join(missing)} to receive the weights")
    if tuple(ours.q_proj.weight.shape) != (d, d):
        raise ValueError(f"width mismatch: the target's q_proj is {tuple(ours.q_proj.weight.shape)}, "
                         f"nn.MultiheadAttention has embed_dim={d}")
    if getattr(ours, "n_heads", torch_mha.num_heads) != torch_mha.num_heads:
        raise ValueError(f"head count mismatch: {ours.n_heads} vs nn.MultiheadAttention's {torch_mha.num_heads}")
    w, b = torch_mha.in_proj_weight, torch_mha.in_proj_bias
    with torch.no_grad():
        for i, name in enumerate(("q_proj", "k_proj", "v_proj")):
            getattr(ours, name).weight.copy_(w[i * d:(i + 1) * d])
            getattr(ours, name).bias.copy_(b[i * d:(i + 1) * d])
        ours.out_proj.weight.copy_(torch_mha.out_proj.weight)
        ours.out_proj.bias.copy_(torch_mha.out_proj.bias)
    return ours
