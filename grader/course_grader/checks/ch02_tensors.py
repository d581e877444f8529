"""Hidden checks of chapter 02 (reductions, broadcasting, strides, slices, head splitting).

Every ``check_*`` function takes the student's function(s) as arguments, runs randomized cases
against an independent reference (a torch built-in or a real tensor view) plus targeted traps,
and raises ``AssertionError`` with a message that says what went wrong. Random cases come from a
private generator, so calling a check does not change the notebook's random state. The student's
code runs through :func:`course.checks.core.call`: what the exercise may not borrow
(:data:`course.checks.ch02_tensors.BORROWED`) is switched off, and results are plain values.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import torch

from course.checks.borrowed import switched_off_for
from course.checks.core import call, check, close, equal, exercise, raises
from course.checks.messages import msg

_Tensor = torch.Tensor


def _raises(exercise_name: str, exc_type: type[BaseException], fn: Callable[..., Any], *args: Any, name: str) -> None:
    """:func:`raises`, with what ``exercise_name`` may not borrow switched off (as :func:`call` does)."""
    with switched_off_for(exercise_name):
        raises(exc_type, fn, *args, name=name)


def _rng(seed: int) -> tuple[torch.Generator, random.Random]:
    return torch.Generator().manual_seed(seed), random.Random(seed)


# ------------------------------------------------------------------------------------ reductions

@exercise("center_rows")
def check_center_rows(center_rows: Callable[[_Tensor], _Tensor], seed: int = 0) -> None:
    g, r = _rng(seed)
    for trial in range(6):
        rows = r.randint(2, 6)
        cols = rows if trial % 2 else r.choice([c for c in range(2, 8) if c != rows])  # square AND non-square
        x = torch.randn(rows, cols, generator=g, dtype=torch.float64) * 3 + torch.randn(rows, 1, generator=g,
                                                                                      dtype=torch.float64) * 10
        out = call(center_rows, x.clone())
        close(out, x - x.mean(dim=1, keepdim=True), atol=1e-9,
              name=msg("center_rows on a {rows}x{cols} input", rows=rows, cols=cols))
    x = torch.randn(5, 3, generator=g)
    out = call(center_rows, x.clone())
    close(out.mean(dim=1), torch.zeros(5), atol=1e-5, name="row means of center_rows' output (should be 0)")


def _reference_lse(x: _Tensor, dim: int) -> _Tensor:
    return torch.logsumexp(x.double(), dim=dim)


def _lse_cases(g: torch.Generator) -> list[tuple[_Tensor, int]]:
    """(x, dim) pairs: non-square 2-D both dims, a 3-D case, huge logits, rows of very different scale."""
    cases = [
        (torch.randn(3, 5, generator=g), -1),
        (torch.randn(3, 5, generator=g), 0),
        (torch.randn(4, 4, generator=g) * 5 + torch.arange(4.0).unsqueeze(1) * 30, -1),  # square, per-row scale
        (torch.randn(2, 3, 4, generator=g), 1),
        (torch.randn(2, 3, 4, generator=g), -1),
        (torch.randn(2, 3, 4, generator=g), 0),
        (torch.randn(3, 6, generator=g) * 10 + 1e4, -1),  # exp overflows without the max trick
        (torch.tensor([[0.0, 0.0], [1000.0, 1000.0], [-1000.0, -999.0]]), -1),  # one global max is not enough
        (torch.tensor([[0.0, 1000.0, -1000.0], [0.0, 1000.0, -999.0]]), 0),
        # rows that spread over more than exp's range: a shift by the mean or the minimum still overflows
        (torch.tensor([[0.0, 100.0, 200.0], [-300.0, 0.0, 5.0], [50.0, 50.0, -150.0]]), -1),
        (torch.tensor([[0.0, 100.0, 200.0], [-300.0, 0.0, 5.0], [50.0, 50.0, -150.0]]).T.contiguous(), 0),
        (torch.randn(2, 5, 3, generator=g) * 120, 1),
    ]
    return cases


@exercise("log_sum_exp")
def check_log_sum_exp(log_sum_exp: Callable[..., _Tensor], seed: int = 0) -> None:
    g, _ = _rng(seed)
    for x, dim in _lse_cases(g):
        out = call(log_sum_exp, x.clone(), dim=dim)
        close(out, _reference_lse(x, dim), atol=1e-4, rtol=1e-5,
              name=msg("log_sum_exp(x of shape {shape}, dim={dim})", shape=tuple(x.shape), dim=dim))
    x = torch.randn(4, 7, generator=g)
    close(call(log_sum_exp, x.clone()), _reference_lse(x, -1), atol=1e-4, name="log_sum_exp(x) with the default dim")


@exercise("stable_softmax")
def check_stable_softmax(stable_softmax: Callable[..., _Tensor], seed: int = 0) -> None:
    g, _ = _rng(seed)
    for x, dim in _lse_cases(g):
        out = call(stable_softmax, x.clone(), dim=dim)
        close(out, torch.softmax(x.double(), dim=dim), atol=1e-6, rtol=1e-4,
              name=msg("stable_softmax(x of shape {shape}, dim={dim})", shape=tuple(x.shape), dim=dim))
    x = torch.randn(4, 7, generator=g)
    close(call(stable_softmax, x.clone()), torch.softmax(x.double(), dim=-1), atol=1e-6, rtol=1e-4,
          name="stable_softmax(x) with the default dim")


# ---------------------------------------------------------------------------------- broadcasting

def _random_shape_pair(r: random.Random) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes that may or may not broadcast (sizes 0..4, up to 4 dims)."""
    n = r.randint(0, 4)
    full = [r.choice([0, 1, 2, 3, 4]) for _ in range(n)]

    def variant() -> tuple[int, ...]:
        dims = full[r.randint(0, n):] if n else []
        out = []
        for d in dims:
            roll = r.random()
            out.append(1 if roll < 0.3 else r.choice([0, 2, 3]) if roll < 0.4 else d)
        return tuple(out)

    return variant(), variant()


def _torch_broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        return tuple(torch.broadcast_shapes(a, b))
    except RuntimeError:
        return None


@exercise("broadcast_shape")
def check_broadcast_shape(broadcast_shape: Callable[..., tuple[int, ...]], seed: int = 0) -> None:
    _, r = _rng(seed)
    fixed = [((2, 3, 4), (3, 4)), ((3, 4), (2, 3, 4)), ((4, 1), (3,)), ((1,), (0,)), ((0, 3), (1, 3)),
             ((0,), (2,)), ((2, 3), (4, 3)), ((3,), (3, 1)), ((), ()), ((5, 1, 1), (1, 6, 1)), ((2, 1), (1, 0))]
    pairs = fixed + [_random_shape_pair(r) for _ in range(120)]
    for a, b in pairs:
        expected = _torch_broadcast(a, b)
        if expected is None:
            _raises("broadcast_shape", ValueError, broadcast_shape, a, b, name=f"broadcast_shape({a}, {b})")
            continue
        out = call(broadcast_shape, a, b)
        check(isinstance(out, tuple), "broadcast_shape({a}, {b}) must return a tuple, got {kind}", a=a, b=b,
              kind=type(out).__name__)
        check(all(isinstance(n, int) and not isinstance(n, bool) for n in out),
              "broadcast_shape({a}, {b}) must hold Python ints, got {got!r}", a=a, b=b, got=out)
        equal(tuple(out), expected, name=f"broadcast_shape({a}, {b})")


@exercise("pairwise_sq_distances")
def check_pairwise_sq_distances(pairwise_sq_distances: Callable[[_Tensor, _Tensor], _Tensor], seed: int = 0) -> None:
    g, r = _rng(seed)
    for _ in range(5):
        n, m, d = r.randint(1, 7), r.randint(1, 7), r.randint(1, 5)
        if n == m:
            m += 1  # a transposed answer must show up as a wrong shape
        x = torch.randn(n, d, generator=g, dtype=torch.float64)
        y = torch.randn(m, d, generator=g, dtype=torch.float64) * 2
        out = call(pairwise_sq_distances, x.clone(), y.clone())
        close(out, torch.cdist(x, y) ** 2, atol=1e-9, rtol=1e-7,
              name=msg("pairwise_sq_distances(x {n}x{d}, y {m}x{d})", n=n, m=m, d=d))
    x = torch.randn(6, 3, generator=g)  # same cloud twice: zero diagonal, symmetric
    out = call(pairwise_sq_distances, x.clone(), x.clone())
    close(torch.diagonal(out), torch.zeros(6), atol=1e-4, name="distance of each point to itself")
    close(out, out.T, atol=1e-4, name="pairwise_sq_distances(x, x) (should be symmetric)")
    x = torch.randn(9, 4, generator=g)
    y = torch.randn(5, 4, generator=g)
    close(call(pairwise_sq_distances, x, y), torch.cdist(x.double(), y.double()) ** 2, atol=1e-4, rtol=1e-4,
          name="pairwise_sq_distances on float32 input")


# --------------------------------------------------------------------------- strides and storage

def _random_shape(r: random.Random, max_dims: int = 4, sizes: tuple[int, ...] = (1, 2, 3, 4, 5)) -> tuple[int, ...]:
    return tuple(r.choice(sizes) for _ in range(r.randint(0, max_dims)))


@exercise("contiguous_strides")
def check_contiguous_strides(contiguous_strides: Callable[[tuple[int, ...]], tuple[int, ...]], seed: int = 0) -> None:
    _, r = _rng(seed)
    shapes = [(), (7,), (2, 3), (3, 2), (2, 3, 4), (4, 1, 3), (1, 1), (2, 0, 3), (0,), (3, 0), (5, 0, 0)]
    shapes += [_random_shape(r, 5, (0, 1, 2, 3, 4, 5, 6)) for _ in range(60)]
    for shape in shapes:
        out = call(contiguous_strides, shape)
        check(isinstance(out, tuple), "contiguous_strides({shape}) must return a tuple, got {kind}", shape=shape,
              kind=type(out).__name__)
        equal(tuple(out), tuple(torch.empty(shape).stride()), name=f"contiguous_strides({shape})")


def _slice(v: _Tensor, dim: int, start: int, stop: int, step: int) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    index = [slice(None)] * v.dim()
    index[dim] = slice(start, stop, step)
    w = v[tuple(index)]
    return tuple(w.shape), tuple(w.stride()), w.storage_offset()


@exercise("slice_view")
def check_slice_view(slice_view: Callable[..., tuple], seed: int = 0) -> None:
    _, r = _rng(seed)
    t = torch.arange(4000)
    views = [t[:24].view(4, 6), t[:24].view(2, 3, 4).transpose(0, 2), t[:60].view(3, 4, 5)[:, 1:, 2:],
             t[:30].view(5, 6)[::2, 1::3], t[:12].view(3, 4).T, t[:6].view(2, 3)[1:].expand(4, 3), t[:7]]
    for _ in range(12):
        shape = tuple(r.randint(1, 9) for _ in range(r.randint(1, 4)))
        views.append(t.as_strided(shape, tuple(r.randint(0, 9) for _ in shape), r.randint(0, 50)))
    for v in views:
        shape, strides, offset = tuple(v.shape), tuple(v.stride()), v.storage_offset()
        for _ in range(4):
            dim = r.randrange(-len(shape), len(shape))
            size = shape[dim]
            start = r.randint(0, size)
            stop = r.randint(start, size)
            step = r.choice([1, 1, 2, 3, 4])
            got = call(slice_view, shape, strides, offset, dim, start, stop, step)
            args = f"slice_view({shape}, {strides}, {offset}, dim={dim}, start={start}, stop={stop}, step={step})"
            check(type(got) is tuple and len(got) == 3, "{args} should return a tuple of three, got {got!r}",
                  args=args, got=got)
            check(type(got[0]) is tuple and type(got[1]) is tuple and type(got[2]) is int,
                  "{args} should return (a tuple, a tuple, an int), got {got!r}", args=args, got=got)
            equal(got, _slice(v, dim, start, stop, step),
                  name=msg("{args} against the real view's (shape, stride(), storage_offset())", args=args))
    equal(call(slice_view, (4, 6), (6, 1), 3, 1, 0, 5), ((4, 5), (6, 1), 3), name="slice_view with the default step")
    for args in [((4, 6), (6, 1), 0, 1, 3, 2, 1), ((4, 6), (6, 1), 0, 1, 0, 7, 1), ((4, 6), (6, 1), 0, 1, -1, 3, 1),
                 ((4, 6), (6, 1), 0, 0, 0, 4, 0), ((4, 6), (6, 1), 0, 0, 0, 4, -1), ((4, 6), (6, 1), 0, 2, 0, 1, 1),
                 ((4, 6), (6, 1), 0, -3, 0, 1, 1)]:
        _raises("slice_view", ValueError, slice_view, *args, name=f"slice_view{args}")


def _with_type(fn: Callable[..., Any]) -> Callable[..., tuple[str, Any]]:
    """``fn`` that also says the exact type of what it returned (plain() turns a numpy bool into a bool)."""
    def run(*args: Any, **kwargs: Any) -> tuple[str, Any]:
        out = fn(*args, **kwargs)
        cls = type(out)
        return f"{type.__getattribute__(cls, '__module__')}.{type.__getattribute__(cls, '__qualname__')}", out
    run.__name__ = getattr(fn, "__name__", "the function") if type(getattr(fn, "__name__", None)) is str else "fn"
    return run


def _torch_is_contiguous(shape: tuple[int, ...], strides: tuple[int, ...]) -> bool:
    need = 1 + sum((n - 1) * s for n, s in zip(shape, strides)) if all(n > 0 for n in shape) else 1
    return torch.empty(max(need, 1)).as_strided(shape, strides).is_contiguous()


@exercise("is_contiguous")
def check_is_contiguous(is_contiguous: Callable[..., bool], seed: int = 0) -> None:
    _, r = _rng(seed)
    base = torch.arange(120.0)
    cases: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    for v in (base[:12].view(3, 4), base[:12].view(3, 4).T, base[:24].view(2, 3, 4).permute(1, 0, 2),
              base[:24].view(4, 6)[::2], base[:24].view(4, 6)[:, ::2], base[:24].view(4, 6)[1:],
              base[:24].view(4, 6)[:, 1:], base[:4].view(4, 1).expand(4, 5), base[:4].view(1, 4).expand(3, 4),
              base[:24].view(2, 3, 4)[:, :1], base[:24].view(2, 3, 4)[:, :, :1], base[:0].view(0, 3),
              base[:12].view(3, 4)[1:2], base[:5].view(5, 1)[::2]):
        cases.append((tuple(v.shape), tuple(v.stride())))
    cases += [((3, 1), (1, 7)), ((1, 3), (99, 1)), ((1, 1), (0, 0)), ((), ()), ((1,), (5,)), ((3,), (2,)),
              ((0, 3), (5, 5)), ((2, 0), (0, 9)), ((2, 3), (0, 1)), ((2, 1, 3), (3, 100, 1)), ((4, 3), (3, 2))]
    for _ in range(60):
        shape = _random_shape(r, 4, (0, 1, 1, 2, 3, 4))
        strides = list(torch.empty(shape).stride())
        for i in range(len(shape)):  # perturb some strides: sometimes harmless (size-1 / size-0), sometimes not
            if r.random() < 0.3:
                strides[i] = r.randint(0, 30)
        cases.append((shape, tuple(strides)))
    for shape, strides in cases:
        kind, out = call(_with_type(is_contiguous), shape, strides)
        check(kind == "builtins.bool", "is_contiguous({shape}, {strides}) must return a Python bool (True or False), "
                                       "got {kind} {got!r}", shape=shape, strides=strides, kind=kind, got=out)
        equal(out, _torch_is_contiguous(shape, strides), name=f"is_contiguous({shape}, {strides})")


# --------------------------------------------------------------------------------- head splitting

def _reference_split(x: _Tensor, n_heads: int) -> _Tensor:
    b, s, d = x.shape
    return x.reshape(b, s, n_heads, d // n_heads).permute(0, 2, 1, 3)


def _shares_storage(a: _Tensor, b: _Tensor) -> bool:
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


@exercise("split_heads")
def check_split_heads(split_heads: Callable[[_Tensor, int], _Tensor], seed: int = 0) -> None:
    g, r = _rng(seed)
    for batch, seq, n_heads, d_head in [(2, 5, 3, 4), (1, 7, 2, 3), (3, 4, 6, 2), (2, 3, 1, 5), (1, 6, 4, 1)]:
        d_model = n_heads * d_head
        x = torch.randn(batch, seq, d_model, generator=g)
        out = call(split_heads, x, n_heads)
        check(isinstance(out, _Tensor), "split_heads must return a tensor, got {kind}", kind=type(out).__name__)
        equal(tuple(out.shape), (batch, n_heads, seq, d_head),
              name=msg("shape of split_heads(x of shape {shape}, n_heads={n_heads})", shape=tuple(x.shape),
                       n_heads=n_heads))
        for h in range(n_heads):
            close(out[:, h], x[..., h * d_head:(h + 1) * d_head], atol=0, rtol=0,
                  name=msg("head {h} of split_heads (should be x[..., {start}:{stop}])", h=h, start=h * d_head,
                           stop=(h + 1) * d_head))
        check(_shares_storage(out, x), "split_heads should return a view of x (same storage), not a copy")
    for d_model, n_heads in [(10, 4), (6, 4), (7, 2)]:
        _raises("split_heads", ValueError, split_heads, torch.zeros(1, 2, d_model), n_heads,
                name=msg("split_heads with d_model={d_model}, n_heads={n_heads}", d_model=d_model, n_heads=n_heads))


@exercise("merge_heads")
def check_merge_heads(merge_heads: Callable[[_Tensor], _Tensor], seed: int = 0) -> None:
    g, _ = _rng(seed)
    for batch, seq, n_heads, d_head in [(2, 5, 3, 4), (1, 7, 2, 3), (3, 4, 6, 2), (2, 3, 1, 5)]:
        d_model = n_heads * d_head
        x = torch.randn(batch, seq, d_model, generator=g)
        out = call(merge_heads, _reference_split(x, n_heads))  # a non-contiguous input, as in attention
        close(out, x, atol=0, rtol=0, name=msg("merge_heads(split of a {batch}x{seq}x{d_model} tensor)", batch=batch,
                                               seq=seq, d_model=d_model))
        check(_shares_storage(out, x), "merge_heads(split of a {batch}x{seq}x{d_model} tensor) copied: undoing a "
              "split can be a view (reshape and .contiguous() copy only when they must; torch.cat and .clone() always "
              "copy)", batch=batch, seq=seq, d_model=d_model)
        heads = torch.randn(batch, n_heads, seq, d_head, generator=g)  # a contiguous input
        expected = heads.transpose(1, 2).reshape(batch, seq, d_model)
        close(call(merge_heads, heads.clone()), expected, atol=0, rtol=0,
              name=msg("merge_heads(contiguous tensor of shape {shape})", shape=tuple(heads.shape)))
