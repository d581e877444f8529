"""Hidden checks of chapter 06 (permutation equivariance, sinusoidal encoding, RoPE).

References are closed forms computed here in float64: the sinusoidal table, the per-frequency
rotation that shifts it, the offset-only dot product, and RoPE with the INTERLEAVED pairing
(features 2i and 2i+1 rotate together by m·θ_i, θ_i = base^(−2i/d)).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from course.checks.ch06_position_encoding import beyond_integer_positions, stays_on_device
from course.checks.core import call, check, close, exercise, raises
from course.checks.doubles import Attention as _Attention
from course.checks.doubles import Cumulative as _Cumulative
from course.checks.doubles import MarksFirst as _MarksFirst
from course.checks.doubles import Rolled as _Rolled
from course.checks.doubles import WithPositions as _WithPositions
from course.checks.messages import msg


def frequencies(d: int, base: float = 10000.0) -> torch.Tensor:
    """ω_i = base^(−2i/d) for i = 0 .. ceil(d/2) − 1, float64."""
    i = torch.arange((d + 1) // 2, dtype=torch.float64)
    return base ** (-2 * i / d)


def reference_table(n: int, d: int) -> torch.Tensor:
    angles = torch.arange(n, dtype=torch.float64)[:, None] * frequencies(d)[None, :]  # (n, ceil(d/2))
    table = torch.zeros(n, d, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angles)
    table[:, 1::2] = torch.cos(angles[:, : d // 2])
    return table


def reference_pe(positions, d: int) -> torch.Tensor:
    """PE at real (also fractional) positions: the closed form, which no table of integer positions contains."""
    angles = torch.as_tensor(positions, dtype=torch.float64)[:, None] * frequencies(d)[None, :]
    pe = torch.zeros(len(angles), d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles[:, : d // 2])
    return pe


_FRACTIONAL = ("The closed form holds for every real offset and PE exists at fractional positions, which no table "
               "of integer positions contains: an answer read off or fitted to rows of sinusoidal_table, or one that "
               "rounds the offset, cannot follow. Derive the closed form.")


def reference_rope(x: torch.Tensor, positions: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    d = x.shape[-1]
    angles = positions.double()[:, None] * frequencies(d, base)[None, :]  # (seq, d/2)
    cos, sin = torch.cos(angles), torch.sin(angles)
    x = x.double()
    even, odd = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out


@exercise("is_permutation_equivariant")
def check_equivariance(is_permutation_equivariant: Callable[..., bool], seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 6, 8, generator=g, dtype=torch.float64)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    for layer, expected, label in [(_Attention(8, seed), True, "self-attention without positions"),
                                   (nn.Linear(8, 8).double(), True, "a position-wise linear layer"),
                                   (_WithPositions(8, seed), False, "self-attention with positions added"),
                                   (_Cumulative(), False, "a running sum over the sequence"),
                                   (_MarksFirst(), False, "a layer that marks position 0 by 1.5e-6 (above the "
                                                          "tolerance atol=1e-6)")]:
        got = call(is_permutation_equivariant, layer, x, perm)
        check(type(got) is bool and got is expected,
              "is_permutation_equivariant on {label}: expected {expected}, got {got!r}", label=label,
              expected=expected, got=got)
    # the answer depends on perm and on x, not only on the layer
    cyclic = torch.tensor([1, 2, 3, 4, 5, 0])
    for layer, x_, perm_, label in [
            (_Cumulative(), x, torch.arange(6), "a running sum with perm = 0..5 (no token moves: every layer is "
                                                "equivariant for it); the perm argument was ignored"),
            (_Rolled(), x, cyclic, "a layer that rolls the sequence by one, with a cyclic perm (rolls commute); "
                                   "the perm argument was ignored"),
            (_Rolled(), x[:, :1].expand(2, 6, 8).clone(), perm,
             "a layer that rolls the sequence, on an x whose tokens are all equal (nothing can move); the x "
             "argument was ignored")]:
        got = call(is_permutation_equivariant, layer, x_, perm_)
        check(type(got) is bool and got is True, "is_permutation_equivariant on {label}? expected True, got {got!r}",
              label=label, got=got)


@exercise("sinusoidal_table")
def check_sinusoidal_table(sinusoidal_table: Callable[[int, int], torch.Tensor]) -> None:
    for n, d in [(1, 2), (7, 4), (50, 16), (9, 5), (12, 1), (30, 64)]:
        out = call(sinusoidal_table, n, d)
        check(isinstance(out, torch.Tensor) and tuple(out.shape) == (n, d),
              "sinusoidal_table({n}, {d}) should be a tensor of shape ({n}, {d})", n=n, d=d)
        close(out, reference_table(n, d), atol=1e-5,
              name=msg("sinusoidal_table({n}, {d}) (sin in even columns, cos in odd ones, ω_i = 10000^(-2i/d))", n=n,
                       d=d))


@exercise("shift_matrix")
def check_shift_matrix(shift_matrix: Callable[[int, int], torch.Tensor]) -> None:
    for d in (2, 8, 32):
        table = reference_table(200, d)
        for k in (0, 1, 5, 37, -3):
            m = call(shift_matrix, k, d)
            check(isinstance(m, torch.Tensor) and tuple(m.shape) == (d, d), "shift_matrix({k}, {d}) should be (d, d)",
                  k=k, d=d)
            p = torch.arange(max(0, -k), 200 - max(k, 0))
            close(table[p] @ m.double().T, table[p + k], atol=1e-5,
                  name=msg("shift_matrix({k}, {d}) @ PE(p) against PE(p + {k}), for every p", k=k, d=d))
        positions = torch.linspace(0.0, 150.0, 61, dtype=torch.float64)
        for k in (0.5, -2.25, 7.3, 1e-3):
            with beyond_integer_positions(_FRACTIONAL):
                m = call(shift_matrix, k, d)
                check(isinstance(m, torch.Tensor) and tuple(m.shape) == (d, d),
                      "shift_matrix({k}, {d}) should be (d, d)", k=k, d=d)
                close(reference_pe(positions, d) @ m.double().T, reference_pe(positions + k, d), atol=1e-5,
                      name=msg("shift_matrix({k}, {d}) @ PE(p) against PE(p + {k}) at fractional positions", k=k,
                               d=d))
    raises(ValueError, shift_matrix, 1, 5, name="shift_matrix for an odd d")


@exercise("pe_dot")
def check_pe_dot(pe_dot: Callable[[int, int], float]) -> None:
    for d in (2, 16, 64):
        table = reference_table(300, d)
        for p, q in [(0, 0), (3, 10), (10, 3), (100, 250), (7, 7), (299, 0)]:
            close(call(pe_dot, q - p, d), float(table[p] @ table[q]), atol=1e-6,
                  name=msg("pe_dot({offset}, {d}) against PE({p})·PE({q})", offset=q - p, d=d, p=p, q=q))
        for p, q in [(10.0, 12.5), (3.0, 2.25), (0.0, 0.1), (40.0, 77.7)]:
            pe = reference_pe([p, q], d)
            with beyond_integer_positions(_FRACTIONAL):
                close(call(pe_dot, q - p, d), float(pe[0] @ pe[1]), atol=1e-6,
                      name=msg("pe_dot({offset:g}, {d}) against PE({p:g})·PE({q:g})", offset=q - p, d=d, p=p, q=q))


@exercise("rope_rotation")
def check_rope_rotation(rope_rotation: Callable[[float], torch.Tensor]) -> None:
    for angle in (0.0, 0.3, math.pi / 2, -1.7, 5.0):
        r = call(rope_rotation, angle)
        expected = torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        close(r, expected, atol=1e-5,
              name=msg("rope_rotation({angle:.3g}) (counter-clockwise: [[cos, -sin], [sin, cos]])", angle=angle))


@exercise("rope_matrix")
def check_rope_matrix(rope_matrix: Callable[..., torch.Tensor]) -> None:
    for d in (2, 6, 16):
        eye = torch.eye(d, dtype=torch.float64)
        for m in (0, 1, 7, 123):
            r = call(rope_matrix, m, d)
            check(isinstance(r, torch.Tensor) and tuple(r.shape) == (d, d), "rope_matrix({m}, {d}) should be (d, d)",
                  m=m, d=d)
            close(r, reference_rope(eye, torch.full((d,), float(m))).T, atol=1e-5,
                  name=msg("rope_matrix({m}, {d}) (block i rotates features 2i, 2i+1 by m·θ_i)", m=m, d=d))
    for m, d, base in [(3, 8, 100.0), (1, 4, 10.0)]:
        r = call(rope_matrix, m, d, base=base)
        close(r, reference_rope(torch.eye(d, dtype=torch.float64), torch.full((d,), float(m)), base).T, atol=1e-5,
              name=msg("rope_matrix({m}, {d}, base={base:g}) (θ_i = base^(-2i/d): use the base argument)", m=m, d=d,
                       base=base))


@exercise("apply_rope")
def check_apply_rope(apply_rope: Callable[..., torch.Tensor], seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    for shape in [(1, 1, 4, 2), (2, 3, 5, 8), (1, 2, 7, 64)]:
        x = torch.randn(*shape, generator=g)
        positions = torch.randint(0, 1000, (shape[2],), generator=g)
        out = call(apply_rope, x.clone(), positions)
        check(isinstance(out, torch.Tensor) and tuple(out.shape) == tuple(x.shape),
              "apply_rope should keep the shape {shape}", shape=tuple(shape))
        check(out.dtype == x.dtype, "apply_rope turned a {dtype} input into {got}: keep the input's dtype (compute the "
                                    "angles in float64 if you like, then cast cos and sin to x.dtype)", dtype=x.dtype,
              got=out.dtype)
        close(out, reference_rope(x, positions), atol=1e-4, rtol=1e-4,
              name=msg("apply_rope on {shape} with positions {positions}... (interleaved pairs)", shape=tuple(shape),
                       positions=positions.tolist()[:4]))
        close(out.norm(dim=-1), x.norm(dim=-1), atol=1e-4, rtol=1e-4, name="apply_rope preserves each vector's norm")
    x = torch.randn(1, 2, 3, 8, generator=g, dtype=torch.float64)
    positions = torch.tensor([2, 7, 11])
    close(call(apply_rope, x, positions, base=100.0), reference_rope(x, positions, 100.0), atol=1e-6,
          name="apply_rope with base=100 (θ_i = base^(-2i/d): use the base argument)")
    q = torch.randn(1, 1, 1, 16, generator=g)
    k = torch.randn(1, 1, 1, 16, generator=g)
    for m, n, shift in [(3, 10, 50), (0, 7, 400)]:
        s1 = (call(apply_rope, q, torch.tensor([m])) * call(apply_rope, k, torch.tensor([n]))).sum()
        s2 = (call(apply_rope, q, torch.tensor([m + shift])) * call(apply_rope, k, torch.tensor([n + shift]))).sum()
        close(s2, float(s1), atol=1e-4, rtol=1e-4,
              name=msg("<R_m q, R_n k> with (m, n) = ({m}, {n}) and shifted by {shift}: depends only on n - m", m=m,
                       n=n, shift=shift))
    # chapter 08 runs apply_rope inside the model, on the model's device: nothing may be built on the CPU
    stays_on_device(apply_rope, torch.zeros(1, 2, 5, 8, dtype=torch.float64, device="meta"),
                    torch.arange(4, 9, device="meta"))
    stays_on_device(apply_rope, torch.zeros(2, 1, 3, 6, device="meta"), torch.tensor([0, 2, 9], device="meta"))
