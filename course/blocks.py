"""The course's reference encoder–decoder Transformer, built from small blocks.

Conventions shared with the notebooks:

* masks are boolean and **True means "may attend"** (the same meaning as the boolean
  ``attn_mask`` of ``F.scaled_dot_product_attention``; the opposite of ``nn.Transformer``'s masks);
* the source padding mask comes from ``src_lengths`` and has shape (batch, 1, 1, src_len);
* the decoder's self-attention is causal only: target padding sits at the end, so a causal mask
  already keeps every real token from seeing it (what the pad positions compute is ignored by the loss);
* position information is either a sinusoidal table added to the embeddings or RoPE
  (interleaved pairs 2i, 2i+1 rotated by p·θ_i, θ_i = 10000^(−2i/d_head)) applied to the queries
  and keys of self-attention (cross-attention gets none: source and target positions are
  different axes).

The layers mirror ``nn.TransformerEncoderLayer`` / ``nn.TransformerDecoderLayer`` (same
sub-module names, LayerNorm ε = 1e-5, ReLU feed-forward, dropout in the same places), so their
weights can be copied one to one. The code is device- and dtype-agnostic and works under
``torch.autocast("cuda", dtype=torch.bfloat16)``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from course.tokenizer import BOS, EOS, PAD

POSITIONS = ("sinusoidal", "rope")


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def _check_heads(d_model: int, n_heads: int) -> int:
    _positive_int("d_model", d_model)
    _positive_int("n_heads", n_heads)
    if d_model % n_heads:
        raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
    return d_model // n_heads


def _check_dropout(p: float) -> float:
    # 1.0 is allowed, as in nn.Dropout: chapter 07's visible tests drop everything to see where dropout sits
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout must be a number in [0, 1], got {p!r}")
    return float(p)


def padding_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """True where a key is a real token: lengths (batch,) → mask (batch, 1, 1, max_len), bool."""
    keys = torch.arange(max_len, device=lengths.device)  # (max_len,)
    return (keys[None, :] < lengths[:, None])[:, None, None, :]


def causal_mask(size: int, device: torch.device | str | None = None) -> torch.Tensor:
    """True on and below the diagonal: (size, size) bool; query t may attend to keys 0..t."""
    return torch.ones(size, size, dtype=torch.bool, device=device).tril()


def _help(text: str, shape: bool = True, **more) -> dict:
    """Field metadata: the help text (the CLI's too) and whether the field fixes parameter shapes."""
    return {"help": text, "shape": shape, **more}


@dataclass(frozen=True)
class ModelConfig:
    """The hyperparameters of :class:`Seq2SeqTransformer`, said once (like nanoGPT's ``GPTConfig``).

    The vocabulary sizes are not here: they belong to the task. ``TrainConfig.model`` holds one of
    these, checkpoints save it, and ``python -m course.train`` makes one flag per field.
    """

    d_model: int = field(default=128, metadata=_help("model width"))
    n_heads: int = field(default=4, metadata=_help("attention heads (a divisor of d_model)"))
    n_encoder_layers: int = field(default=2, metadata=_help("encoder layers"))
    n_decoder_layers: int = field(default=2, metadata=_help("decoder layers"))
    d_ff: int = field(default=512, metadata=_help("feed-forward width"))
    dropout: float = field(default=0.1, metadata=_help("dropout probability", shape=False))
    norm_first: bool = field(default=True, metadata=_help("Pre-LN (True) or Post-LN (False)"))
    position: str = field(default="sinusoidal", metadata=_help("sinusoidal table or RoPE", choices=POSITIONS))
    tie_output: bool = field(default=False, metadata=_help("share the output projection with the target embedding"))

    def replace(self, **changes) -> ModelConfig:
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown ModelConfig field(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def validate(self) -> ModelConfig:
        """Raise ValueError naming the first bad field; return self when all is well."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type == "int":
                _positive_int(f.name, value)
            elif f.type == "bool" and not isinstance(value, bool):
                raise ValueError(f"{f.name} must be True or False, got {value!r}")
        d_head = _check_heads(self.d_model, self.n_heads)
        _check_dropout(self.dropout)
        if self.position not in POSITIONS:
            raise ValueError(f"position must be one of {POSITIONS}, got {self.position!r}")
        if self.position == "rope" and d_head % 2:
            raise ValueError(f"RoPE needs an even head size; d_model/n_heads = {d_head}")
        return self

    def kwargs(self) -> dict:
        """Every field by name: the keyword arguments of ``Seq2SeqTransformer`` (and of a student's class)."""
        return dataclasses.asdict(self)

    def shape(self) -> dict:
        """The fields that fix the parameters' shapes (all but dropout): what a checkpoint must match."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.metadata.get("shape", True)}


class RotaryEmbedding(nn.Module):
    """RoPE with interleaved pairs: features (2i, 2i+1) rotate by angle p·θ_i, θ_i = base^(−2i/d_head)."""

    def __init__(self, d_head: int, base: float = 10000.0):
        super().__init__()
        _positive_int("d_head", d_head)
        if d_head % 2:
            raise ValueError(f"RoPE rotates feature pairs, so d_head must be even, got {d_head}")
        self.d_head, self.base = d_head, float(base)
        i = torch.arange(d_head // 2, dtype=torch.float64)
        self.register_buffer("theta", (self.base ** (-2 * i / d_head)).float(), persistent=False)  # (d_head/2,)

    def angles(self, seq_len: int, device: torch.device, offset: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """cos and sin of p·θ_i for positions offset..offset+seq_len−1: each (seq_len, d_head/2), float32."""
        pos = torch.arange(offset, offset + seq_len, device=device, dtype=torch.float32)
        angle = pos[:, None] * self.theta.to(device)[None, :]
        return angle.cos(), angle.sin()

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """x (batch, heads, seq, d_head) → same shape; the feature at position p (counted from
        ``offset``) rotated by p·θ."""
        if x.shape[-1] != self.d_head:
            raise ValueError(f"RoPE was built for d_head={self.d_head}, got features of size {x.shape[-1]}")
        cos, sin = self.angles(x.shape[-2], x.device, offset)
        cos, sin = cos.to(x.dtype), sin.to(x.dtype)
        pairs = x.unflatten(-1, (-1, 2))  # (batch, heads, seq, d_head/2, 2)
        even, odd = pairs[..., 0], pairs[..., 1]
        return torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1).flatten(-2)


class SinusoidalPositions(nn.Module):
    """Adds PE(p, 2i) = sin(p·ω_i), PE(p, 2i+1) = cos(p·ω_i), ω_i = 10000^(−2i/d_model)."""

    def __init__(self, d_model: int, max_len: int = 256):
        super().__init__()
        self.d_model = _positive_int("d_model", d_model)
        self.register_buffer("table", self.build(max_len, d_model), persistent=False)

    @staticmethod
    def build(n: int, d: int) -> torch.Tensor:
        """The table for positions 0..n−1: (n, d), float32 (computed in float64)."""
        omega = 10000.0 ** (-2 * torch.arange((d + 1) // 2, dtype=torch.float64) / d)
        angle = torch.arange(n, dtype=torch.float64)[:, None] * omega[None, :]
        table = torch.zeros(n, d, dtype=torch.float64)
        table[:, 0::2] = angle.sin()
        table[:, 1::2] = angle.cos()[:, : d // 2]
        return table.float()

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """x (batch, seq, d_model) → x + PE[offset : offset + seq]."""
        end = offset + x.shape[1]
        if end > self.table.shape[0]:  # grow once, on the same device
            self.table = self.build(max(end, 2 * self.table.shape[0]), self.d_model).to(self.table.device)
        return x + self.table[offset:end].to(x.dtype)


class MultiHeadAttention(nn.Module):
    """The reference model's attention: packed, fused and cached (the fast twin of chapter 05's).

    Same mathematics as :class:`course.attention.MultiHeadAttention`, the readable version students
    write in chapter 05 (four ``nn.Linear`` layers, an explicit softmax, the weights kept for
    plotting). This one is built for training and decoding instead:

    * packed: ``in_proj`` holds W_q, W_k, W_v stacked as rows (3·d_model, d_model), as in
      ``nn.MultiheadAttention`` (so weights copy one to one); self-attention projects once,
      cross-attention projects the queries with the first third and the memory with the rest;
    * fused: ``F.scaled_dot_product_attention`` (flash / memory-efficient kernels on a GPU), with
      ``is_causal`` and attention dropout; :meth:`forward_with_weights` is the explicit-softmax path
      for inspection;
    * cached: :meth:`memory_kv` / :meth:`attend_memory` project the encoder memory once, and
      :meth:`step` keeps the keys and values of earlier positions, for KV-cached greedy decoding;
    * RoPE can be applied to the queries and keys (``rope=``).
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        self.d_head = _check_heads(d_model, n_heads)
        self.d_model, self.n_heads = d_model, n_heads
        self.dropout = _check_dropout(dropout)
        self.in_proj = nn.Linear(d_model, 3 * d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)
        nn.init.xavier_uniform_(self.in_proj.weight)
        if bias:
            nn.init.zeros_(self.in_proj.bias)
            nn.init.zeros_(self.out_proj.bias)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, seq, d_model) → (batch, heads, seq, d_head)."""
        return x.unflatten(-1, (self.n_heads, self.d_head)).transpose(1, 2)

    def _qkv(self, query: torch.Tensor, memory: torch.Tensor | None, rope: RotaryEmbedding | None):
        if query.dim() != 3 or query.shape[-1] != self.d_model:
            raise ValueError(f"attention expects (batch, seq, {self.d_model}) inputs, got {tuple(query.shape)}")
        if memory is None:
            q, k, v = self.in_proj(query).chunk(3, dim=-1)
        else:
            d, w, b = self.d_model, self.in_proj.weight, self.in_proj.bias
            q = F.linear(query, w[:d], None if b is None else b[:d])
            k, v = F.linear(memory, w[d:], None if b is None else b[d:]).chunk(2, dim=-1)
        q, k, v = self._split(q), self._split(k), self._split(v)
        if rope is not None:
            q, k = rope(q), rope(k)
        return q, k, v

    def _merge(self, out: torch.Tensor) -> torch.Tensor:
        """(batch, heads, seq, d_head) → output projection of (batch, seq, d_model)."""
        return self.out_proj(out.transpose(1, 2).flatten(2))

    def forward(self, query: torch.Tensor, memory: torch.Tensor | None = None, mask: torch.Tensor | None = None,
                is_causal: bool = False, rope: RotaryEmbedding | None = None) -> torch.Tensor:
        """query (batch, q_len, d_model), memory (batch, k_len, d_model) or None for self-attention,
        mask broadcastable to (batch, heads, q_len, k_len), True = may attend → (batch, q_len, d_model)."""
        q, k, v = self._qkv(query, memory, rope)
        if is_causal and mask is not None:  # SDPA takes one or the other
            mask = mask & causal_mask(k.shape[-2], q.device)[-q.shape[-2]:]
            is_causal = False
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal,
                                             dropout_p=self.dropout if self.training else 0.0)
        return self._merge(out)

    def memory_kv(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values of a memory, projected once: each (batch, heads, k_len, d_head)."""
        d, w, b = self.d_model, self.in_proj.weight, self.in_proj.bias
        k, v = F.linear(memory, w[d:], None if b is None else b[d:]).chunk(2, dim=-1)
        return self._split(k), self._split(v)

    def attend_memory(self, query: torch.Tensor, kv: tuple[torch.Tensor, torch.Tensor],
                      mask: torch.Tensor | None = None) -> torch.Tensor:
        """Cross-attention over projected keys/values from :meth:`memory_kv`: (batch, q_len, d_model) → same."""
        d, w, b = self.d_model, self.in_proj.weight, self.in_proj.bias
        q = self._split(F.linear(query, w[:d], None if b is None else b[:d]))
        out = F.scaled_dot_product_attention(q, kv[0], kv[1], attn_mask=mask,
                                             dropout_p=self.dropout if self.training else 0.0)
        return self._merge(out)

    def step(self, query: torch.Tensor, cache: dict, rope: RotaryEmbedding | None = None) -> torch.Tensor:
        """Causal self-attention for new positions only: query (batch, new, d_model) → (batch, new, d_model).

        ``cache`` holds the keys and values of the earlier positions (filled in here). With one new
        position per call (greedy decoding), every cached key is in its past and no mask is needed.
        """
        offset = cache["k"].shape[-2] if "k" in cache else 0
        q, k, v = (self._split(t) for t in self.in_proj(query).chunk(3, dim=-1))
        if rope is not None:
            q, k = rope(q, offset), rope(k, offset)
        if "k" in cache:
            k, v = torch.cat([cache["k"], k], dim=-2), torch.cat([cache["v"], v], dim=-2)
        cache["k"], cache["v"] = k, v
        new = q.shape[-2]
        mask = None if new == 1 else causal_mask(k.shape[-2], q.device)[-new:]  # (new, total): past and self
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                             dropout_p=self.dropout if self.training else 0.0)
        return self._merge(out)

    def forward_with_weights(self, query: torch.Tensor, memory: torch.Tensor | None = None,
                             mask: torch.Tensor | None = None, is_causal: bool = False,
                             rope: RotaryEmbedding | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The same attention with an explicit softmax: (output (batch, q_len, d_model),
        weights (batch, heads, q_len, k_len)). No dropout on the weights (meant for inspection)."""
        q, k, v = self._qkv(query, memory, rope)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)  # (batch, heads, q_len, k_len)
        if is_causal:
            causal = causal_mask(scores.shape[-1], scores.device)[-scores.shape[-2]:]
            mask = causal if mask is None else mask & causal
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        weights = scores.float().softmax(dim=-1).to(q.dtype)
        return self._merge(weights @ v), weights


class FeedForward(nn.Module):
    """Position-wise d_model → d_ff → d_model with ReLU (names as in nn.TransformerEncoderLayer)."""

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0):
        super().__init__()
        self.linear1 = nn.Linear(_positive_int("d_model", d_model), _positive_int("d_ff", d_ff))
        self.dropout = nn.Dropout(_check_dropout(dropout))
        self.linear2 = nn.Linear(d_ff, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, seq, d_model) → (batch, seq, d_model)."""
        return self.linear2(self.dropout(F.relu(self.linear1(x))))


def _sublayer(norm_first: bool, x: torch.Tensor, norm: nn.Module, dropout: nn.Module,
              fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """One sublayer with its residual connection: Pre-LN ``x + dropout(fn(norm(x)))`` or Post-LN
    ``norm(x + dropout(fn(x)))`` (the layers below and the decoder's cached step all wire it here)."""
    if norm_first:
        return x + dropout(fn(norm(x)))
    return norm(x + dropout(fn(x)))


class EncoderLayer(nn.Module):
    """Self-attention then feed-forward, each with residual + LayerNorm (Pre-LN or Post-LN) + dropout."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.1, norm_first: bool = True):
        super().__init__()
        self.norm_first = bool(norm_first)
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.ff = FeedForward(d_model, d_ff, dropout)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                rope: RotaryEmbedding | None = None) -> torch.Tensor:
        """x (batch, src_len, d_model), mask (batch, 1, 1, src_len) True = real key → (batch, src_len, d_model)."""
        x = _sublayer(self.norm_first, x, self.norm1, self.dropout1, lambda h: self.self_attn(h, mask=mask, rope=rope))
        return _sublayer(self.norm_first, x, self.norm2, self.dropout2, self.ff)


class DecoderLayer(nn.Module):
    """Causal self-attention, cross-attention over the encoder output, feed-forward; each with residual + LayerNorm."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.1, norm_first: bool = True):
        super().__init__()
        self.norm_first = bool(norm_first)
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.cross_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.ff = FeedForward(d_model, d_ff, dropout)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))
        self.dropout1, self.dropout2, self.dropout3 = (nn.Dropout(dropout) for _ in range(3))

    def _cross(self, x: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor | None, keep: list | None):
        if keep is None:
            return self.cross_attn(x, memory, mask=memory_mask)
        out, weights = self.cross_attn.forward_with_weights(x, memory, mask=memory_mask)
        keep.append(weights)
        return out

    def forward(self, x: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor | None = None,
                rope: RotaryEmbedding | None = None, keep_weights: list | None = None) -> torch.Tensor:
        """x (batch, tgt_len, d_model), memory (batch, src_len, d_model), memory_mask (batch, 1, 1, src_len)
        → (batch, tgt_len, d_model). With ``keep_weights`` (a list), the cross-attention weights
        (batch, heads, tgt_len, src_len) are appended to it."""
        x = _sublayer(self.norm_first, x, self.norm1, self.dropout1,
                      lambda h: self.self_attn(h, is_causal=True, rope=rope))
        x = _sublayer(self.norm_first, x, self.norm2, self.dropout2,
                      lambda h: self._cross(h, memory, memory_mask, keep_weights))
        return _sublayer(self.norm_first, x, self.norm3, self.dropout3, self.ff)


def _decoder_layer_step(layer: DecoderLayer, x: torch.Tensor, cache: dict, memory_mask: torch.Tensor | None,
                        rope: RotaryEmbedding | None) -> torch.Tensor:
    """One incremental step of ``layer``: x (batch, 1, d_model) at the next position → (batch, 1, d_model)."""
    kv = cache["memory_kv"]
    x = _sublayer(layer.norm_first, x, layer.norm1, layer.dropout1, lambda h: layer.self_attn.step(h, cache, rope))
    x = _sublayer(layer.norm_first, x, layer.norm2, layer.dropout2,
                  lambda h: layer.cross_attn.attend_memory(h, kv, memory_mask))
    return _sublayer(layer.norm_first, x, layer.norm3, layer.dropout3, layer.ff)


class Encoder(nn.Module):
    """A stack of encoder layers, with a final LayerNorm when Pre-LN (whose residual stream is otherwise
    never normalised)."""

    def __init__(self, n_layers: int, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.1,
                 norm_first: bool = True):
        super().__init__()
        _positive_int("n_encoder_layers", n_layers)
        self.layers = nn.ModuleList(EncoderLayer(d_model, n_heads, d_ff, dropout, norm_first) for _ in range(n_layers))
        self.norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                rope: RotaryEmbedding | None = None) -> torch.Tensor:
        """(batch, src_len, d_model) → (batch, src_len, d_model)."""
        for layer in self.layers:
            x = layer(x, mask, rope)
        return self.norm(x)


class Decoder(nn.Module):
    """A stack of decoder layers, with a final LayerNorm when Pre-LN."""

    def __init__(self, n_layers: int, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.1,
                 norm_first: bool = True):
        super().__init__()
        _positive_int("n_decoder_layers", n_layers)
        self.layers = nn.ModuleList(DecoderLayer(d_model, n_heads, d_ff, dropout, norm_first) for _ in range(n_layers))
        self.norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()

    def forward(self, x: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor | None = None,
                rope: RotaryEmbedding | None = None, keep_weights: list | None = None) -> torch.Tensor:
        """(batch, tgt_len, d_model) and memory (batch, src_len, d_model) → (batch, tgt_len, d_model)."""
        for layer in self.layers:
            x = layer(x, memory, memory_mask, rope, keep_weights)
        return self.norm(x)


class Seq2SeqTransformer(nn.Module):
    """Embeddings × √d_model, positions, encoder, decoder, and an output projection (optionally tied to
    the target embedding)."""

    def __init__(self, src_vocab: int, tgt_vocab: int, config: ModelConfig | None = None, **changes):
        """``config`` (default ``ModelConfig()``) with ``changes`` (ModelConfig field names) applied:
        ``Seq2SeqTransformer(11, 13, d_model=64, dropout=0.0)`` works as well."""
        super().__init__()
        _positive_int("src_vocab", src_vocab)
        _positive_int("tgt_vocab", tgt_vocab)
        if config is not None and not isinstance(config, ModelConfig):
            raise TypeError(f"config must be a ModelConfig (or None), got {type(config).__name__}")
        c = (config or ModelConfig()).replace(**changes).validate()
        self.config, self.src_vocab, self.tgt_vocab = c, src_vocab, tgt_vocab
        self.d_model, self.position = c.d_model, c.position
        self.src_embed = nn.Embedding(src_vocab, c.d_model)
        self.tgt_embed = nn.Embedding(tgt_vocab, c.d_model)
        for emb in (self.src_embed, self.tgt_embed):  # × √d_model then gives unit-variance vectors
            nn.init.normal_(emb.weight, std=c.d_model ** -0.5)
        self.positions = SinusoidalPositions(c.d_model) if c.position == "sinusoidal" else None
        self.rope = RotaryEmbedding(c.d_model // c.n_heads) if c.position == "rope" else None
        self.embed_dropout = nn.Dropout(c.dropout)
        layers = (c.d_model, c.n_heads, c.d_ff, c.dropout, c.norm_first)
        self.encoder = Encoder(c.n_encoder_layers, *layers)
        self.decoder = Decoder(c.n_decoder_layers, *layers)
        self.output = nn.Linear(c.d_model, tgt_vocab)
        if c.tie_output:
            self.output.weight = self.tgt_embed.weight

    # ------------------------------------------------------------------------- input checks

    def _check_ids(self, name: str, ids: torch.Tensor, vocab: int) -> None:
        if not isinstance(ids, torch.Tensor) or ids.dtype != torch.long or ids.dim() != 2:
            shown = (f"{ids.dtype} tensor of shape {tuple(ids.shape)}" if isinstance(ids, torch.Tensor)
                     else type(ids).__name__)
            raise TypeError(f"{name} must be a (batch, seq) LongTensor of token ids, got {shown}")
        if ids.shape[1] == 0:
            raise ValueError(f"{name} has no positions (shape {tuple(ids.shape)})")
        if ids.device.type == "cpu" and ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= vocab):
            raise ValueError(f"{name} holds ids outside 0..{vocab - 1}: min {int(ids.min())}, max {int(ids.max())}")

    def _check_lengths(self, src: torch.Tensor, src_lengths: torch.Tensor) -> None:
        if not isinstance(src_lengths, torch.Tensor) or src_lengths.shape != (src.shape[0],):
            shown = tuple(src_lengths.shape) if isinstance(src_lengths, torch.Tensor) else type(src_lengths).__name__
            raise ValueError(f"src_lengths must be a ({src.shape[0]},) tensor, one length per row of src; got {shown}")
        if src_lengths.device.type == "cpu" and (int(src_lengths.min()) < 1 or int(src_lengths.max()) > src.shape[1]):
            raise ValueError(f"src_lengths must lie in 1..{src.shape[1]} (the padded length), got "
                             f"{src_lengths.tolist()[:8]}")

    # ------------------------------------------------------------------------- the model

    def _embed(self, embedding: nn.Embedding, ids: torch.Tensor, offset: int = 0) -> torch.Tensor:
        x = embedding(ids) * math.sqrt(self.d_model)  # (batch, seq, d_model)
        if self.positions is not None:
            x = self.positions(x, offset)
        return self.embed_dropout(x)

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """src (batch, src_len), src_lengths (batch,) → memory (batch, src_len, d_model),
        src_mask (batch, 1, 1, src_len) bool, True = real token."""
        self._check_ids("src", src, self.src_embed.num_embeddings)
        self._check_lengths(src, src_lengths)
        src_mask = padding_mask(src_lengths.to(src.device), src.shape[1])
        return self.encoder(self._embed(self.src_embed, src), src_mask, self.rope), src_mask

    def decode(self, tgt_in: torch.Tensor, memory: torch.Tensor, src_mask: torch.Tensor | None,
               keep_weights: list | None = None) -> torch.Tensor:
        """tgt_in (batch, tgt_len), memory (batch, src_len, d_model) → logits (batch, tgt_len, tgt_vocab)."""
        self._check_ids("tgt_in", tgt_in, self.tgt_embed.num_embeddings)
        if tgt_in.shape[0] != memory.shape[0]:
            raise ValueError(f"tgt_in has {tgt_in.shape[0]} rows but the source batch has {memory.shape[0]}")
        h = self.decoder(self._embed(self.tgt_embed, tgt_in), memory, src_mask, self.rope, keep_weights)
        return self.output(h)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """src (batch, src_len), src_lengths (batch,), tgt_in (batch, tgt_len)
        → logits (batch, tgt_len, tgt_vocab)."""
        memory, src_mask = self.encode(src, src_lengths)
        return self.decode(tgt_in, memory, src_mask)

    @torch.no_grad()
    def greedy_decode(self, src: torch.Tensor, src_lengths: torch.Tensor, max_len: int) -> torch.Tensor:
        """Most likely token at each step, fed back in: src (batch, src_len), src_lengths (batch,)
        → (batch, n ≤ max_len) ids after <bos>.

        Each row ends with <eos> (unless it ran out of steps) and is padded with <pad> after it;
        decoding stops early once every row has produced <eos>.
        """
        _positive_int("max_len", max_len)
        memory, src_mask = self.encode(src, src_lengths)
        batch = src.shape[0]
        tokens = torch.full((batch, 1), BOS, dtype=torch.long, device=src.device)
        done = torch.zeros(batch, dtype=torch.bool, device=src.device)
        # cached decoding: each step runs only the newest token; keys/values of the past are kept
        caches = [{"memory_kv": layer.cross_attn.memory_kv(memory)} for layer in self.decoder.layers]
        for t in range(max_len):
            x = self._embed(self.tgt_embed, tokens[:, -1:], offset=t)  # (batch, 1, d_model)
            for layer, cache in zip(self.decoder.layers, caches):
                x = _decoder_layer_step(layer, x, cache, src_mask, self.rope)
            logits = self.output(self.decoder.norm(x))[:, -1]  # (batch, tgt_vocab)
            nxt = logits.argmax(dim=-1).masked_fill(done, PAD)
            tokens = torch.cat([tokens, nxt[:, None]], dim=1)
            done |= nxt == EOS
            if bool(done.all()):
                break
        return tokens[:, 1:]

    @torch.no_grad()
    def cross_attention_weights(self, src: torch.Tensor, src_lengths: torch.Tensor,
                                tgt_in: torch.Tensor) -> list[torch.Tensor]:
        """Cross-attention weights of every decoder layer, through an explicit softmax:
        one (batch, heads, tgt_len, src_len) tensor per layer; pad source columns are 0."""
        memory, src_mask = self.encode(src, src_lengths)
        kept: list[torch.Tensor] = []
        self.decode(tgt_in, memory, src_mask, keep_weights=kept)
        return [w.float() for w in kept]

    def num_parameters(self) -> int:
        """Trainable parameters, each shared tensor counted once."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


__all__ = ["POSITIONS", "ModelConfig", "padding_mask", "causal_mask", "RotaryEmbedding", "SinusoidalPositions",
           "MultiHeadAttention", "FeedForward", "EncoderLayer", "DecoderLayer", "Encoder", "Decoder",
           "Seq2SeqTransformer"]
