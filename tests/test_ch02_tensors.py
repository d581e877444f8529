"""Chapter 02 (tensors): the graded cells reject the usual wrong answers and accept correct ones
written differently; the chapter's experiments and the stride explorer behave."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from course_grader.checks import ch02_tensors as ref
from hints import answers_given_away
from matplotlib.figure import Figure
from notebooks import assert_rejected, graded_cells, run_test_cell

from course.experiments import ch02_tensors as ex
from course.widgets import ch02_tensors as sw

A = "02-tensors"


def rejected_with(grade_id: str, phrase: str, **substitutes) -> None:
    """The test cell rejects the substitute, and its message is the one written for that mistake."""
    err = assert_rejected(A, grade_id, **substitutes)
    assert phrase in str(err), f"{grade_id}: expected a message containing {phrase!r}, got {str(err)!r}"


def test_graded_cells_and_points():
    points = {gid: c.metadata["nbgrader"]["points"] for gid, c in graded_cells(A).items()}
    assert points == {"center_rows_tests": 2, "log_sum_exp_tests": 2, "stable_softmax_tests": 2,
                      "broadcast_shape_tests": 2, "pairwise_sq_distances_tests": 2, "contiguous_strides_tests": 2,
                      "slice_view_tests": 2, "is_contiguous_tests": 2, "split_heads_tests": 2,
                      "merge_heads_tests": 1}


# ------------------------------------------------------------------------ exercise 1: center_rows

def center_rows_sub(x):
    return x - x.sum(dim=-1, keepdim=True) / x.shape[-1]


def center_rows_loop(x):
    return torch.stack([row - row.mean() for row in x])


@pytest.mark.parametrize("fn", [center_rows_sub, center_rows_loop])
def test_center_rows_accepts(fn):
    run_test_cell(A, "center_rows_tests", center_rows=fn)


@pytest.mark.parametrize("wrong", [
    lambda x: x - x.mean(dim=0),                    # column means
    lambda x: x - x.mean(dim=0, keepdim=True),      # column means, keepdim
    lambda x: x - x.mean(dim=1),                    # no keepdim: broadcasts along the wrong axis on squares
    lambda x: x - x.mean(),                         # global mean
])
def test_center_rows_rejects(wrong):
    assert_rejected(A, "center_rows_tests", center_rows=wrong)


@pytest.mark.parametrize("wrong, phrase", [
    (lambda x: x - x.mean(dim=0), "You subtracted the column means: dim=0"),
    (lambda x: x - x.mean(), "the mean of the whole matrix"),
    (lambda x: x - x.mean(dim=1), "(2, 3) minus (2,) does not broadcast"),
    (lambda x: x - (x.mean(dim=1) if x.shape[0] == x.shape[1] else x.mean(dim=1, keepdim=True)),
     "This is the missing keepdim"),
    (lambda x: x - (x.mean(dim=0, keepdim=True) if x.shape[0] == x.shape[1] else x.mean(dim=1, keepdim=True)),
     "reduce over dim 1, the columns of each row"),
])
def test_center_rows_messages(wrong, phrase):
    rejected_with("center_rows_tests", phrase, center_rows=wrong)


def test_center_rows_hidden_catch_square_only_bug():
    """A version that is right on non-square input but wrong on squares is caught by the checks."""
    def square_bug(x):
        return x - (x.mean(dim=1) if x.shape[0] == x.shape[1] else x.mean(dim=1, keepdim=True))
    with pytest.raises(AssertionError, match="center_rows"):
        ref.check_center_rows(square_bug)


# --------------------------------------------------------------- exercise 2: log_sum_exp / softmax

def lse_via_softmax_free(x, dim=-1):
    m = torch.amax(x, dim=dim)
    return m + torch.log(torch.exp(x - m.unsqueeze(dim)).sum(dim))


def lse_loop_free_double(x, dim=-1):
    x64 = x.double()
    m = x64.max(dim=dim, keepdim=True).values
    return (m + (x64 - m).exp().sum(dim=dim, keepdim=True).log()).squeeze(dim).to(x.dtype)


def lse_naive(x, dim=-1):
    return torch.log(torch.exp(x).sum(dim=dim))


def lse_global_max(x, dim=-1):
    m = x.max()
    return m + torch.log(torch.exp(x - m).sum(dim=dim))


def lse_ignores_dim(x, dim=-1):
    m = x.max(dim=-1, keepdim=True).values
    return (m + torch.log(torch.exp(x - m).sum(dim=-1, keepdim=True))).squeeze(-1)


def lse_no_keepdim(x, dim=-1):
    m = x.max(dim=dim).values
    return m + torch.log(torch.exp(x - m).sum(dim=dim))


def lse_keeps_dim(x, dim=-1):
    m = x.max(dim=dim, keepdim=True).values
    return m + torch.log(torch.exp(x - m).sum(dim=dim, keepdim=True))


def lse_mean_shift(x, dim=-1):
    c = x.mean(dim=dim, keepdim=True)
    return (c + torch.log(torch.exp(x - c).sum(dim=dim, keepdim=True))).squeeze(dim)


def lse_min_shift(x, dim=-1):
    c = x.min(dim=dim, keepdim=True).values
    return (c + torch.log(torch.exp(x - c).sum(dim=dim, keepdim=True))).squeeze(dim)


@pytest.mark.parametrize("fn", [lse_via_softmax_free, lse_loop_free_double])
def test_log_sum_exp_accepts(fn):
    run_test_cell(A, "log_sum_exp_tests", log_sum_exp=fn)


@pytest.mark.parametrize("wrong", [lse_naive, lse_global_max, lse_ignores_dim, lse_no_keepdim, lse_keeps_dim,
                                   lse_mean_shift, lse_min_shift])
def test_log_sum_exp_rejects(wrong):
    assert_rejected(A, "log_sum_exp_tests", log_sum_exp=wrong)


def lse_no_keepdim_square_only(x, dim=-1):  # right on non-square input, so the square case shows its message
    return lse_no_keepdim(x, dim) if x.dim() == 2 and x.shape[0] == x.shape[1] else lse_via_softmax_free(x, dim)


@pytest.mark.parametrize("wrong, phrase", [
    (lse_keeps_dim, "log_sum_exp removes the reduced dim"),
    (lse_naive, "exp overflowed to inf"),
    (lse_global_max, "Row [0, 0] came out infinite"),
    (lse_mean_shift, "did you shift by the row's mean or minimum?"),
    (lse_min_shift, "did you shift by the row's mean or minimum?"),
    (lse_no_keepdim_square_only, "was lined up with the columns"),
    (lse_no_keepdim, "x (2, 3) minus a (2,) maximum does not broadcast"),
    (lse_ignores_dim, "Shape (2,) is a reduction over the last dim"),
])
def test_log_sum_exp_messages(wrong, phrase):
    rejected_with("log_sum_exp_tests", phrase, log_sum_exp=wrong)


def softmax_via_lse(x, dim=-1):
    m = x.max(dim=dim, keepdim=True).values
    return torch.exp(x - m - torch.log(torch.exp(x - m).sum(dim=dim, keepdim=True)))


def softmax_moved_dim(x, dim=-1):
    y = x.movedim(dim, -1)
    e = (y - y.amax(-1, keepdim=True)).exp()
    return (e / e.sum(-1, keepdim=True)).movedim(-1, dim)


def softmax_naive(x, dim=-1):
    e = torch.exp(x)
    return e / e.sum(dim=dim, keepdim=True)


def softmax_global_max(x, dim=-1):
    e = torch.exp(x - x.max())
    return e / e.sum(dim=dim, keepdim=True)


def softmax_ignores_dim(x, dim=-1):
    e = torch.exp(x - x.max(dim=-1, keepdim=True).values)
    return e / e.sum(dim=-1, keepdim=True)


def softmax_no_keepdim(x, dim=-1):
    e = torch.exp(x - x.max(dim=dim).values)
    return e / e.sum(dim=dim, keepdim=True)


def softmax_max_over_dim0(x, dim=-1):
    e = torch.exp(x - x.max(dim=0, keepdim=True).values)
    return e / e.sum(dim=dim, keepdim=True)


def softmax_mean_shift(x, dim=-1):
    e = torch.exp(x - x.mean(dim=dim, keepdim=True))
    return e / e.sum(dim=dim, keepdim=True)


def softmax_min_shift(x, dim=-1):
    e = torch.exp(x - x.min(dim=dim, keepdim=True).values)
    return e / e.sum(dim=dim, keepdim=True)


def softmax_no_keepdim_square_only(x, dim=-1):
    return softmax_no_keepdim(x, dim) if x.dim() == 2 and x.shape[0] == x.shape[1] else softmax_via_lse(x, dim)


@pytest.mark.parametrize("fn", [softmax_via_lse, softmax_moved_dim])
def test_stable_softmax_accepts(fn):
    run_test_cell(A, "stable_softmax_tests", stable_softmax=fn)


@pytest.mark.parametrize("wrong", [softmax_naive, softmax_global_max, softmax_ignores_dim, softmax_no_keepdim,
                                   softmax_max_over_dim0, softmax_mean_shift, softmax_min_shift])
def test_stable_softmax_rejects(wrong):
    assert_rejected(A, "stable_softmax_tests", stable_softmax=wrong)


@pytest.mark.parametrize("wrong, phrase", [
    (softmax_naive, "exp overflowed (inf / inf = nan)"),
    (softmax_global_max, "Row [0, 0] became 0 / 0"),
    (softmax_mean_shift, "did you shift by the row's mean or minimum?"),
    (softmax_min_shift, "did you shift by the row's mean or minimum?"),
    (softmax_no_keepdim_square_only, "subtracted along the columns"),
    (softmax_no_keepdim, "x (2, 3) minus a (2,) maximum does not broadcast"),
    (softmax_ignores_dim, "The rows sum to 1 instead"),
])
def test_stable_softmax_messages(wrong, phrase):
    rejected_with("stable_softmax_tests", phrase, stable_softmax=wrong)


def test_softmax_no_keepdim_caught_by_hidden_checks_on_square_input():
    with pytest.raises(AssertionError):
        ref.check_stable_softmax(softmax_no_keepdim)
    with pytest.raises(AssertionError):
        ref.check_log_sum_exp(lse_no_keepdim)


# -------------------------------------------------------------------- exercise 3: broadcast_shape

def broadcast_padded(a, b):
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    out = []
    for da, db in zip(a, b):
        if da != db and 1 not in (da, db):
            raise ValueError("cannot broadcast")
        out.append(db if da == 1 else da)
    return tuple(out)


def broadcast_padded_msg(a, b):
    try:
        return broadcast_padded(a, b)
    except ValueError:
        raise ValueError(f"shapes {a} and {b} are not broadcastable") from None


def broadcast_via_torch(a, b):
    try:
        return tuple(torch.broadcast_shapes(a, b))
    except RuntimeError:
        raise ValueError(f"{a} vs {b}") from None


def broadcast_by_adding_tensors(a, b):
    try:
        return tuple((torch.zeros(a) + torch.zeros(b)).shape)
    except RuntimeError:
        raise ValueError(f"{a} vs {b}") from None


@pytest.mark.parametrize("borrowed", [broadcast_via_torch, broadcast_by_adding_tensors])
def test_broadcast_shape_rejects_borrowed(borrowed):
    err = assert_rejected(A, "broadcast_shape_tests", broadcast_shape=borrowed)
    assert "may not call" in str(err)


@pytest.mark.parametrize("fn", [broadcast_padded_msg])
def test_broadcast_shape_accepts(fn):
    run_test_cell(A, "broadcast_shape_tests", broadcast_shape=fn)


def broadcast_left_aligned(a, b):
    n = max(len(a), len(b))
    a = tuple(a) + (1,) * (n - len(a))
    b = tuple(b) + (1,) * (n - len(b))
    out = []
    for da, db in zip(a, b):
        if da != db and 1 not in (da, db):
            raise ValueError(f"shapes {a} and {b} cannot be broadcast")
        out.append(db if da == 1 else da)
    return tuple(out)


def broadcast_any_mismatch(a, b):
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    return tuple(max(x, y) for x, y in zip(a, b))


def broadcast_zero_like_one(a, b):
    n = max(len(a), len(b))
    pa = (1,) * (n - len(a)) + tuple(a)
    pb = (1,) * (n - len(b)) + tuple(b)
    out = []
    for da, db in zip(pa, pb):
        if da != db and not ({da, db} & {0, 1}):
            raise ValueError(f"shapes {a} and {b} cannot be broadcast")
        out.append(max(da, db))
    return tuple(out)


def broadcast_list(a, b):
    return list(broadcast_padded_msg(a, b))


def broadcast_vague_message(a, b):
    try:
        return broadcast_padded(a, b)
    except ValueError:
        raise ValueError("incompatible shapes") from None


@pytest.mark.parametrize("wrong", [broadcast_left_aligned, broadcast_any_mismatch, broadcast_zero_like_one,
                                   broadcast_list, broadcast_vague_message])
def test_broadcast_shape_rejects(wrong):
    assert_rejected(A, "broadcast_shape_tests", broadcast_shape=wrong)


def broadcast_left_no_errors(a, b):
    n = max(len(a), len(b))
    a, b = tuple(a) + (1,) * (n - len(a)), tuple(b) + (1,) * (n - len(b))
    return tuple(max(x, y) for x, y in zip(a, b))


def broadcast_no_error(a, b):
    try:
        return broadcast_padded(a, b)
    except ValueError:
        return tuple(max(x, y) for x, y in zip((1,) * (len(b) - len(a)) + tuple(a), (1,) * (len(a) - len(b)) + tuple(b)))


def broadcast_zero_stretches(a, b):  # right for 0 against 1, but lets 0 meet 2 as well
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for da, db in zip(pa, pb):
        if da != db and 1 not in (da, db) and 0 not in (da, db):
            raise ValueError(f"shapes {a} and {b} cannot be broadcast")
        out.append(0 if 0 in (da, db) else max(da, db))
    return tuple(out)


def broadcast_zero_becomes_one(a, b):
    out = broadcast_padded_msg(a, b)
    return tuple(1 if n == 0 and 1 in (a + b) else n for n in out) if a == (0, 3) else out


@pytest.mark.parametrize("wrong, phrase", [
    (broadcast_left_aligned, "(5, 1, 4) and (3, 1) do broadcast"),
    (broadcast_left_no_errors, "Line the shapes up from the right"),
    (broadcast_list, "must return a tuple"),
    (broadcast_no_error, "sizes 2 and 4 differ and neither is 1"),
    (broadcast_vague_message, "the ValueError's message should contain both shapes"),
    (broadcast_zero_becomes_one, "A size-0 dim meeting a size-1 dim stays 0"),
    (broadcast_zero_like_one, "A size-0 dim meeting a size-1 dim stays 0"),
    (broadcast_zero_stretches, "0 is not 1"),
])
def test_broadcast_shape_messages(wrong, phrase):
    rejected_with("broadcast_shape_tests", phrase, broadcast_shape=wrong)


# -------------------------------------------------------------- exercise 4: pairwise_sq_distances

def dist_expansion(x, y):
    return (x ** 2).sum(1, keepdim=True) - 2 * x @ y.T + (y ** 2).sum(1)


def dist_loops(x, y):
    out = torch.empty(x.shape[0], y.shape[0], dtype=x.dtype)
    for i in range(x.shape[0]):
        for j in range(y.shape[0]):
            out[i, j] = ((x[i] - y[j]) ** 2).sum()
    return out


@pytest.mark.parametrize("fn", [dist_expansion, dist_loops])
def test_pairwise_accepts(fn):
    run_test_cell(A, "pairwise_sq_distances_tests", pairwise_sq_distances=fn)


@pytest.mark.parametrize("wrong", [
    lambda x, y: ((x[:, None, :] - y[None, :, :]) ** 2).sum(dim=1),  # sums over the points of y: (n, d)
    lambda x, y: (x ** 2).sum(1) + (y ** 2).sum(1)[:, None] - 2 * x @ y.T,  # (n,) + (m, 1): wrong shape
    lambda x, y: torch.cdist(y, x) ** 2,  # transposed
    lambda x, y: torch.cdist(x, y),  # not squared
    lambda x, y: ((x[:, None, :] - y[None, :, :]).abs()).sum(dim=-1),  # L1
    lambda x, y: torch.cdist(x, y) ** 2,  # right, but torch.cdist is the reference (borrowed)
    lambda x, y: ex._loop_sq_distances(x, y).to(x.dtype),  # right, but it is the course's own loop
])
def test_pairwise_rejects(wrong):
    assert_rejected(A, "pairwise_sq_distances_tests", pairwise_sq_distances=wrong)


@pytest.mark.parametrize("wrong, phrase", [
    (lambda x, y: dist_expansion(y, x), "Shape (3, 2) is (m, n)"),
    (lambda x, y: ((x[:, None, :] - y[None, :, :]) ** 2).sum(dim=1), "you summed over the points of y"),
    (lambda x, y: dist_expansion(x, y).clamp(min=0).sqrt(), "These are distances"),
    (lambda x, y: (x[:, None, :] - y[None, :, :]).abs().sum(dim=-1), "sums of absolute differences"),
    (lambda x, y: (x ** 2).sum(1) + (y ** 2).sum(1)[:, None] - 2 * x @ y.T, "A (n,) term met an (m, 1) term"),
])
def test_pairwise_messages(wrong, phrase):
    rejected_with("pairwise_sq_distances_tests", phrase, pairwise_sq_distances=wrong)


# -------------------------------------------------------------------- exercise 5: contiguous_strides

def strides_cumprod(shape):
    sizes = [max(n, 1) for n in shape[1:]] + [1]
    return tuple(int(np.prod(sizes[i:])) for i in range(len(shape)))


def strides_recursive(shape):
    if not shape:
        return ()
    rest = strides_recursive(shape[1:])
    return ((rest[0] * max(shape[1], 1)) if rest else 1,) + rest


@pytest.mark.parametrize("fn", [strides_cumprod, strides_recursive])
def test_contiguous_strides_accepts(fn):
    run_test_cell(A, "contiguous_strides_tests", contiguous_strides=fn)


def strides_column_major(shape):
    out, step = [], 1
    for n in shape:
        out.append(step)
        step *= max(n, 1)
    return tuple(out)


def strides_including_own(shape):
    out, step = [], 1
    for n in reversed(shape):
        step *= max(n, 1)
        out.append(step)
    return tuple(reversed(out))


def strides_plain_product(shape):  # a size-0 dim zeroes every stride to its left
    out, step = [], 1
    for n in reversed(shape):
        out.append(step)
        step *= n
    return tuple(reversed(out))


def strides_list(shape):
    return list(strides_cumprod(shape))


@pytest.mark.parametrize("wrong", [strides_column_major, strides_including_own, strides_plain_product, strides_list])
def test_contiguous_strides_rejects(wrong):
    assert_rejected(A, "contiguous_strides_tests", contiguous_strides=wrong)


@pytest.mark.parametrize("wrong, phrase", [
    (strides_column_major, "column-major (Fortran-order)"),
    (strides_including_own, "Each stride includes its own dim's size"),
    (strides_plain_product, "A size-0 dim counts as size 1"),
    (strides_list, "must return a tuple"),
    (lambda shape: tuple(reversed(strides_cumprod(shape))), "The right strides in reverse order"),
])
def test_contiguous_strides_messages(wrong, phrase):
    rejected_with("contiguous_strides_tests", phrase, contiguous_strides=wrong)


# ---------------------------------------------------------------------------- exercise 6: slice_view

def _check_slice(shape, dim, start, stop, step):
    if not -len(shape) <= dim < len(shape) or not (0 <= start <= stop <= shape[dim]) or step < 1:
        raise ValueError("bad slice")
    return dim % len(shape)


def slice_ok(shape, strides, offset, dim, start, stop, step=1):
    d = _check_slice(shape, dim, start, stop, step)
    shape, strides = list(shape), list(strides)
    shape[d] = len(range(start, stop, step))
    first = offset + start * strides[d]
    strides[d] *= step
    return tuple(shape), tuple(strides), first


def slice_with(**change):
    def fn(shape, strides, offset, dim, start, stop, step=1):
        d = _check_slice(shape, dim, start, stop, step)
        new_shape, new_strides, new_offset = slice_ok(shape, strides, offset, dim, start, stop, step)
        new_shape, new_strides = list(new_shape), list(new_strides)
        if "size" in change:
            new_shape[d] = change["size"](start, stop, step)
        if "stride" in change:
            new_strides[d] = change["stride"](strides[d], step)
        if "offset" in change:
            new_offset = change["offset"](offset, start, strides[d])
        return tuple(new_shape), tuple(new_strides), new_offset
    return fn


def slice_loop(shape, strides, offset, dim, start, stop, step=1):
    d = _check_slice(shape, dim, start, stop, step)
    count = sum(1 for _ in range(start, stop, step))
    return (tuple(count if k == d else n for k, n in enumerate(shape)),
            tuple(s * step if k == d else s for k, s in enumerate(strides)), offset + start * strides[d])


@pytest.mark.parametrize("fn", [slice_ok, slice_loop])
def test_slice_view_accepts(fn):
    run_test_cell(A, "slice_view_tests", slice_view=fn)


def slice_ignores_negative_dim(shape, strides, offset, dim, start, stop, step=1):
    if dim < 0:
        return tuple(shape), tuple(strides), offset
    return slice_ok(shape, strides, offset, dim, start, stop, step)


@pytest.mark.parametrize("wrong, phrase", [
    (slice_with(size=lambda start, stop, step: (stop - start) // step), "The size is one short"),
    (slice_with(stride=lambda stride, step: stride), "the stride along dim grows with the step"),
    (slice_with(size=lambda start, stop, step: stop - start, stride=lambda stride, step: stride), "You ignored the step"),
    (slice_with(offset=lambda offset, start, stride: offset + start), "one step along dim 0 is stride[0] = 6"),
    (slice_with(offset=lambda offset, start, stride: offset), "The offset did not move"),
    (slice_with(offset=lambda offset, start, stride: start * stride), "The new offset counts from the old one"),
    (slice_ignores_negative_dim, "dim=-1 is the last dim"),
    (lambda *a, **k: list(slice_ok(*a, **k)), "should return (a tuple, a tuple, an int)"),
])
def test_slice_view_messages(wrong, phrase):
    rejected_with("slice_view_tests", phrase, slice_view=wrong)


@pytest.mark.parametrize("wrong", [
    lambda shape, strides, offset, dim, start, stop, step=1: slice_ok(shape, strides, offset, dim, start,
                                                                      min(stop, shape[dim]), max(step, 1)),  # no errors
    lambda shape, strides, offset, dim, start, stop, step=1: (lambda v: (tuple(v.shape), v.stride(), v.storage_offset()))(
        torch.arange(10 ** 4).as_strided(shape, strides, offset).narrow(dim, start, stop - start)[
            (slice(None),) * (dim % len(shape)) + (slice(None, None, step),)]),  # a real view (borrowed)
])
def test_slice_view_rejects(wrong):
    assert_rejected(A, "slice_view_tests", slice_view=wrong)


# ------------------------------------------------------------------------- exercise 7: is_contiguous

def contiguous_filtered(shape, strides):
    if 0 in shape:
        return True
    kept = [(n, s) for n, s in zip(shape, strides) if n != 1]
    sizes = tuple(n for n, _ in kept)
    return tuple(s for _, s in kept) == tuple(torch.empty(sizes).stride()) if kept else True


def contiguous_by_torch(shape, strides):
    need = 1 + sum((n - 1) * s for n, s in zip(shape, strides)) if 0 not in shape else 1
    return torch.empty(need).as_strided(shape, strides).is_contiguous()


@pytest.mark.parametrize("fn", [contiguous_filtered])
def test_is_contiguous_accepts(fn):
    run_test_cell(A, "is_contiguous_tests", is_contiguous=fn)


def contiguous_exact(shape, strides):
    return tuple(strides) == tuple(torch.empty(shape).stride())


def contiguous_last_stride(shape, strides):
    return len(strides) == 0 or strides[-1] == 1


def contiguous_no_empty_rule(shape, strides):
    kept = [(n, s) for n, s in zip(shape, strides) if n != 1]
    expected = 1
    for n, s in reversed(kept):
        if s != expected:
            return False
        expected *= n
    return True


def contiguous_numpy_bool(shape, strides):
    return np.bool_(contiguous_filtered(shape, strides))


@pytest.mark.parametrize("wrong", [contiguous_exact, contiguous_last_stride, contiguous_no_empty_rule,
                                   contiguous_numpy_bool, contiguous_by_torch])  # the last: borrowed
def test_is_contiguous_rejects(wrong):
    assert_rejected(A, "is_contiguous_tests", is_contiguous=wrong)


def contiguous_size_one_counts(shape, strides):
    return True if 0 in shape else contiguous_exact(shape, strides)


@pytest.mark.parametrize("wrong, phrase", [
    (contiguous_size_one_counts, "A size-1 dim's stride never matters"),
    (contiguous_last_stride, "there is a gap. Check every dim"),
    (contiguous_no_empty_rule, "An empty tensor (a size-0 dim) holds no elements"),
    (contiguous_numpy_bool, "must return a Python bool"),
])
def test_is_contiguous_messages(wrong, phrase):
    rejected_with("is_contiguous_tests", phrase, is_contiguous=wrong)


# --------------------------------------------------------------- exercise 8: split_heads / merge_heads

def _check_div(d_model, n_heads):
    if d_model % n_heads:
        raise ValueError(f"{d_model} % {n_heads} != 0")


def split_unflatten(x, n_heads):
    _check_div(x.shape[-1], n_heads)
    return x.unflatten(-1, (n_heads, x.shape[-1] // n_heads)).permute(0, 2, 1, 3)


def split_reshape(x, n_heads):
    b, s, d = x.shape
    _check_div(d, n_heads)
    return x.reshape(b, s, n_heads, -1).transpose(2, 1)


@pytest.mark.parametrize("fn", [split_unflatten, split_reshape])
def test_split_heads_accepts(fn):
    run_test_cell(A, "split_heads_tests", split_heads=fn)


def split_direct_view(x, n_heads):
    b, s, d = x.shape
    _check_div(d, n_heads)
    return x.view(b, n_heads, s, d // n_heads)


def split_no_transpose(x, n_heads):
    b, s, d = x.shape
    _check_div(d, n_heads)
    return x.view(b, s, n_heads, d // n_heads)


def split_copy(x, n_heads):
    return split_reshape(x, n_heads).contiguous()


def split_no_check(x, n_heads):
    b, s, d = x.shape
    return x.view(b, s, n_heads, d // n_heads).transpose(1, 2)


@pytest.mark.parametrize("wrong", [split_direct_view, split_no_transpose, split_copy, split_no_check])
def test_split_heads_rejects(wrong):
    assert_rejected(A, "split_heads_tests", split_heads=wrong)


def slice_row_major(shape, strides, offset, dim, start, stop, step=1):  # the given strides ignored
    if not -len(shape) <= dim < len(shape) or not (0 <= start <= stop <= shape[dim] and step >= 1):
        raise ValueError("out of range")
    own = [1] * len(shape)
    for k in range(len(shape) - 2, -1, -1):
        own[k] = own[k + 1] * max(shape[k + 1], 1)
    new_shape, new_strides = list(shape), list(own)
    new_shape[dim] = len(range(start, stop, step))
    new_strides[dim] = own[dim] * step
    return tuple(new_shape), tuple(new_strides), offset + start * own[dim]


def test_slice_view_that_ignores_the_strides_is_named():
    rejected_with("slice_view_tests", "the strides argument was ignored", slice_view=slice_row_major)


def split_two_heads(x, n_heads):  # n_heads ignored: always 2
    b, s, d = x.shape
    if d % n_heads:
        raise ValueError(f"{d} % {n_heads}")
    return x.view(b, s, 2, d // 2).transpose(1, 2)


def test_split_heads_that_ignores_n_heads_is_named():
    rejected_with("split_heads_tests", "the n_heads argument was ignored", split_heads=split_two_heads)


def merge_contiguous_view(x):  # .contiguous() returns x itself when it already is: a copy only when it must
    b, h, s, dh = x.shape
    return x.transpose(1, 2).contiguous().view(b, s, h * dh)


def merge_flatten(x):
    return x.permute(0, 2, 1, 3).flatten(2)


def merge_reshape(x):
    b, h, s, dh = x.shape
    return x.transpose(1, 2).reshape(b, s, h * dh)


@pytest.mark.parametrize("fn", [merge_reshape, merge_flatten, merge_contiguous_view])
def test_merge_heads_accepts(fn):
    run_test_cell(A, "merge_heads_tests", merge_heads=fn)


@pytest.mark.parametrize("wrong", [lambda x: torch.cat(x.unbind(1), dim=-1), lambda x: merge_reshape(x).clone(),
                                   lambda x: merge_reshape(x.clone())], ids=["cat", "clone-after", "clone-before"])
def test_merge_heads_that_always_copies_is_rejected(wrong):
    # its own values are right, but the cell after the tests prints that undoing a split shares x's storage,
    # and the text says so: a merge that always copies silently changed that cell
    rejected_with("merge_heads_tests", "merge_heads copied a split it could have glued back as a view",
                  merge_heads=wrong)
    with pytest.raises(AssertionError, match="copied: undoing a split can be a view"):
        ref.check_merge_heads(wrong)


@pytest.mark.parametrize("wrong", [
    lambda x: x.transpose(1, 2).view(x.shape[0], x.shape[2], -1),  # view of a non-contiguous tensor: error
    lambda x: x.reshape(x.shape[0], x.shape[2], -1),  # no transpose: mixes tokens
    lambda x: x.permute(0, 2, 3, 1).reshape(x.shape[0], x.shape[2], -1),  # interleaves the heads' features
])
def test_merge_heads_rejects(wrong):
    assert_rejected(A, "merge_heads_tests", merge_heads=wrong)


@pytest.mark.parametrize("wrong, phrase", [
    (split_direct_view, "that is the tempting shortcut"),
    (split_no_transpose, "the heads must come before seq"),
    (split_copy, "but it copied"),
    (split_no_check, "check that n_heads divides d_model"),
])
def test_split_heads_messages(wrong, phrase):
    rejected_with("split_heads_tests", phrase, split_heads=wrong)


@pytest.mark.parametrize("wrong, phrase", [
    (lambda x: x.transpose(1, 2).view(x.shape[0], x.shape[2], -1), "no view can glue its last two dims"),
    (lambda x: x.reshape(x.shape[0], x.shape[2], -1), "The tokens got mixed"),
    (lambda x: x.permute(0, 2, 3, 1).reshape(x.shape[0], x.shape[2], -1), "The heads' features are interleaved"),
])
def test_merge_heads_messages(wrong, phrase):
    rejected_with("merge_heads_tests", phrase, merge_heads=wrong)


# ------------------------------------------------------------------------------- checks module

def test_call_turns_errors_into_assertions_and_passes_not_implemented():
    def broken(x):
        raise RuntimeError("boom")

    def stub(x):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match=r"broken\(tensor\(2, 3\)\) raised RuntimeError: boom"):
        ref.call(broken, torch.zeros(2, 3))
    with pytest.raises(NotImplementedError):
        ref.call(stub, torch.zeros(1))
    assert ref.call(lambda a, b=0: a + b, 1, b=2) == 3


@pytest.mark.parametrize("check,borrowed", [
    ("check_log_sum_exp", lambda x, dim=-1: torch.logsumexp(x, dim)),
    ("check_log_sum_exp", lambda x, dim=-1: x.logsumexp(dim)),
    ("check_log_sum_exp", lambda x, dim=-1: torch.ops.aten.logsumexp(x, [dim])),
    ("check_log_sum_exp", lambda x, dim=-1: (x - torch.log_softmax(x, dim)).select(dim, 0)),
    ("check_stable_softmax", lambda x, dim=-1: torch.softmax(x, dim)),
    ("check_stable_softmax", lambda x, dim=-1: torch.nn.functional.softmax(x, dim)),
    ("check_stable_softmax", lambda x, dim=-1: ex.naive_softmax(x - x.amax(dim, keepdim=True), dim)),
    ("check_pairwise_sq_distances", lambda x, y: torch.cdist(x, y) ** 2),
    ("check_contiguous_strides", lambda shape: tuple(torch.empty(shape).stride())),
    ("check_slice_view", lambda shape, strides, offset, dim, start, stop, step=1: (
        lambda v: (tuple(v.shape), tuple(v.stride()), v.storage_offset()))(
        torch.arange(10 ** 4).as_strided(shape, strides, offset).narrow(dim, start, stop - start))),
    ("check_is_contiguous", lambda shape, strides: torch.empty(0).as_strided(shape, strides).is_contiguous()),
    ("check_split_heads", lambda x, n: __import__("course.blocks").blocks.MultiHeadAttention._split(
        type("H", (), {"n_heads": n, "d_head": x.shape[-1] // n})(), x) if x.shape[-1] % n == 0 else 1 / 0),
])
def test_hidden_checks_reject_borrowed_answers(check, borrowed):
    with pytest.raises(AssertionError, match="may not call"):
        getattr(ref, check)(borrowed)


def test_checks_do_not_touch_the_global_random_state():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    ref.check_center_rows(lambda x: x - x.mean(dim=1, keepdim=True))
    ref.check_split_heads(split_reshape)
    assert torch.equal(torch.rand(3), expected)


# ----------------------------------------------------------------------------------- experiments

def test_softmax_scale_experiment_finds_the_overflow():
    fig, stats = ex.softmax_scale_experiment(lambda x, dim=-1: torch.softmax(x, dim=dim))
    assert isinstance(fig, Figure)
    # float32 exp overflows just above 88.72
    assert stats["largest_finite_logit"] < 88.8 < stats["top_logit_at_first_nan"]
    assert stats["stable_top_prob_at_first_nan"] > 0.99
    assert math.isclose(stats["top_logit_at_first_nan"], 3 * stats["first_nan_scale"], rel_tol=1e-6)


def test_softmax_scale_experiment_without_overflow_reports_nan():
    _, stats = ex.softmax_scale_experiment(lambda x, dim=-1: torch.softmax(x, dim=dim), scales=torch.tensor([1.0, 2.0]))
    assert math.isnan(stats["first_nan_scale"])


@pytest.mark.parametrize("kwargs", [{"scales": torch.tensor([1.0])}, {"scales": torch.tensor([1.0, -2.0])},
                                    {"logits": (1.0,)}])
def test_softmax_scale_experiment_rejects_bad_input(kwargs):
    with pytest.raises(ValueError):
        ex.softmax_scale_experiment(torch.softmax, **kwargs)


def test_naive_softmax_matches_torch_on_small_logits_and_overflows_on_large():
    x = torch.randn(3, 5)
    assert torch.allclose(ex.naive_softmax(x), torch.softmax(x, -1), atol=1e-6)
    assert torch.isnan(ex.naive_softmax(torch.tensor([[1e4, 0.0]]))).any()


def test_distance_timing_experiment():
    fig, stats = ex.distance_timing_experiment(lambda x, y: torch.cdist(x, y) ** 2, sizes=(3, 6), d=4)
    assert isinstance(fig, Figure)
    assert stats["n"] == 6 and stats["loop_ms"] > 0 and stats["broadcast_ms"] > 0
    with pytest.raises(ValueError):
        ex.distance_timing_experiment(torch.cdist, sizes=(5,))


def test_loop_reference_is_right():
    x, y = torch.randn(4, 3), torch.randn(2, 3)
    assert torch.allclose(ex._loop_sq_distances(x, y), torch.cdist(x, y) ** 2, atol=1e-5)


def test_layout_figure():
    fig = ex.layout_figure(torch.arange(12).view(3, 4).T, 12, highlight=5, title="t")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    fig3 = ex.layout_figure(torch.arange(24).view(2, 3, 4), 24, slice_label="head {}")
    assert [a.get_title() for a in fig3.axes[:2]] == ["head 0", "head 1"]
    with pytest.raises(ValueError):
        ex.layout_figure(torch.zeros(3, 4), 12)


# --------------------------------------------------------------------------------- stride explorer

def test_make_view_values_are_storage_positions():
    for shape in sw.SHAPES.values():
        for op in sw.OPERATIONS:
            try:
                base, view = sw.make_view(shape, op)
            except ValueError:
                assert (op == "permute(2, 0, 1)" and len(shape) != 3) or (op.startswith("expand") and 1 not in shape)
                continue
            assert view.untyped_storage().data_ptr() == base.untyped_storage().data_ptr()  # a view
            for flat in range(view.numel()):
                idx = sw.logical_index(tuple(view.shape), flat)
                pos = view.storage_offset() + sum(i * s for i, s in zip(idx, view.stride()))
                assert int(view[idx]) == pos


def test_make_view_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown operation"):
        sw.make_view((3, 4), "flip")
    with pytest.raises(ValueError, match="positive ints"):
        sw.make_view((3, 0), "none")
    with pytest.raises(ValueError, match="3-D"):
        sw.make_view((3, 4), "permute(2, 0, 1)")


def test_logical_index_and_formula():
    assert sw.logical_index((2, 3, 4), 0) == (0, 0, 0)
    assert sw.logical_index((2, 3, 4), 23) == (1, 2, 3)
    assert sw.logical_index((3, 4), 6) == (1, 2)
    assert sw.offset_formula((1, 2), (1, 4), 0) == "0 + 1·1 + 2·4 = 9"


def test_describe():
    t = torch.arange(12).view(3, 4)
    text = sw.describe(t.T, highlight=5)
    assert "strides (1, 4)" in text and "is_contiguous() False" in text and "view(-1) fails" in text
    assert "index (1, 2) reads storage 0 + 1·1 + 2·4 = 9" in text
    assert "view(-1) works" in sw.describe(t)
    assert "empty view" in sw.describe(t[1:1])


def test_draw_layout_rejects_bad_input():
    from course.plotting import new_figure
    with pytest.raises(ValueError):
        sw.draw_layout(new_figure(), torch.arange(16).view(2, 2, 2, 2), 16)
    with pytest.raises(ValueError):
        sw.draw_layout(new_figure(), torch.arange(4), 0)


def test_stride_explorer_rejects_unknown_defaults():
    with pytest.raises(ValueError):
        sw.stride_explorer(shape="(9, 9)")
    with pytest.raises(ValueError):
        sw.stride_explorer(operation="flip")


def test_stride_explorer_shape_control():
    w = sw.stride_explorer("(3, 4)", "none")
    before, count = w.png, w.redraw_count
    w.controls["shape"].value = "(4, 6)"
    assert w.png != before and w.redraw_count > count
    assert "shape (4, 6)" in w.status.value and "strides (6, 1)" in w.status.value
    assert w.controls["index"].max == 23


def test_stride_explorer_operation_control():
    w = sw.stride_explorer("(3, 4)", "none")
    before = w.png
    w.controls["operation"].value = "transpose(-2, -1)"
    assert w.png != before
    assert "strides (1, 4)" in w.status.value and "is_contiguous() False" in w.status.value
    w.controls["operation"].value = "offset slice [1:, 1:]"
    assert "storage offset 5" in w.status.value and w.controls["index"].max == 5
    w.controls["operation"].value = "columns [::2]"
    assert "strides (4, 2)" in w.status.value and "view(-1) works" in w.status.value


def test_stride_explorer_index_control():
    w = sw.stride_explorer("(3, 4)", "transpose(-2, -1)")
    w.controls["index"].value = 0
    before = w.png
    w.controls["index"].value = 5
    assert w.png != before
    assert "index (1, 2) reads storage 0 + 1·1 + 2·4 = 9" in w.status.value


def test_stride_explorer_slider_follows_the_view_and_clamps():
    w = sw.stride_explorer("(4, 6)", "none")
    w.controls["index"].value = 23
    w.controls["operation"].value = "rows [::2]"  # 12 elements
    assert w.controls["index"].max == 11 and w.controls["index"].value == 11
    assert "index (1, 5)" in w.status.value
    w.controls["shape"].value = "(2, 1, 3)"
    w.controls["operation"].value = "expand size-1 dims to 3"
    assert w.controls["index"].max == 17 and "strides (3, 0, 1)" in w.status.value


def test_stride_explorer_unsupported_combinations_give_a_message():
    w = sw.stride_explorer("(3, 4)", "none")
    w.controls["operation"].value = "permute(2, 0, 1)"
    assert "needs a 3-D tensor" in w.status.value and "showing the base tensor" in w.status.value
    w.controls["operation"].value = "expand size-1 dims to 3"
    assert "no size-1 dim" in w.status.value
    w.controls["shape"].value = "(3, 1)"  # now expand applies
    assert "strides (1, 0)" in w.status.value
    w.controls["operation"].value = "offset slice [1:, 1:]"  # (2, 0): empty
    assert "empty view" in w.status.value and w.controls["index"].max == 0


def test_stride_explorer_every_combination_draws():
    w = sw.stride_explorer()
    for shape in sw.SHAPES:
        for op in sw.OPERATIONS:
            w.controls["shape"].value = shape
            w.controls["operation"].value = op
            assert w.png.startswith(b"\x89PNG") and w.status.value


def test_stride_explorer_export_png(tmp_path):
    w = sw.stride_explorer("(2, 3, 4)", "permute(2, 0, 1)")
    path = w.export_png(tmp_path / "strides.png")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") and data == w.png


def test_hints_and_demos_do_not_type_the_answers():
    # a hint points the way and a demo shows the idea on another example (issue 30): neither may type a
    # solution's line or run its expression with other names (tests/hints.py)
    assert answers_given_away(A) == []
