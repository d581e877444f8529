# %% [markdown]
# # Tensors: reduction, broadcasting, contiguity · 张量：归约、广播与连续性
#
# Scaled dot-product attention fits in one line, `softmax(Q @ K.transpose(-2, -1) / sqrt(d_head)) @ V`,
# and that line quietly relies on three tensor skills:
#
# * **reductions** (归约): softmax divides by a *sum over one dim*, and must do it without overflowing;
# * **broadcasting** (广播): a `(batch, seq, 1)` row maximum is subtracted from a `(batch, seq, seq)`
#   score matrix without copying it;
# * **strides** (步长): the `(batch, seq, d_model)` activations are re-read as
#   `(batch, heads, seq, d_head)` with no data moved at all.
#
# Get any of them slightly wrong and PyTorch usually does *not* complain: you get a tensor of the
# wrong shape, or of the right shape with the wrong numbers. This chapter is about seeing those
# mistakes before they cost you a training run.
#
# | | you write | you see |
# |---|---|---|
# | 1 | `center_rows` | which dim a reduction removes, and what `keepdim` is for |
# | 2 | `log_sum_exp`, `stable_softmax` | naive softmax returning NaN at large logits |
# | 3 | `broadcast_shape`, `pairwise_sq_distances` | the rules PyTorch applies, and the `(n,) + (n, 1)` trap |
# | 4 | `contiguous_strides`, `storage_offset`, `is_contiguous` | storage, strides and offsets; why `view` fails after `transpose` |
# | 5 | `split_heads`, `merge_heads` | the reshaping inside multi-head attention |

# %% [markdown]
# Run the set-up cell first. It imports PyTorch, this chapter's experiments and widget, and fixes
# the random seed so the numbers you see match your classmates'.

# %%
import torch

from course.experiments import ch02_tensors as ex
from course import glossary
from course.notebook import setup, needs
from course.widgets.ch02_tensors import stride_explorer

setup()

# %% [markdown]
# ## Part 1 — Reductions and `keepdim` · 归约与保留维度
#
# A **reduction** combines all the values along one dim into one value: `sum`, `mean`, `max`,
# `logsumexp`, ... The dim you name is the dim that **disappears** from the shape. Read
# `x.sum(dim=0)` as "sum *over* dim 0", not "keep dim 0".
#
# The cell below prints the shapes for a `(2, 3)` tensor, so you can check that rule yourself.

# %%
x = torch.arange(6.0).reshape(2, 3)
print(x)
print("x.sum()                      ", tuple(x.sum().shape))
print("x.sum(dim=0)                 ", tuple(x.sum(dim=0).shape), x.sum(dim=0))
print("x.sum(dim=1)                 ", tuple(x.sum(dim=1).shape), x.sum(dim=1))
print("x.sum(dim=1, keepdim=True)   ", tuple(x.sum(dim=1, keepdim=True).shape))
print("x.max(dim=1) gives values and indices:", x.max(dim=1))

# %% [markdown]
# With `keepdim=True` the reduced dim stays, with size 1. That matters the moment you combine the
# result with the original tensor. To subtract each row's mean from that row, the mean must have
# shape `(rows, 1)`: one number per row, stretched along the columns. Without `keepdim` it has
# shape `(rows,)`, and broadcasting (Part 3) lines a `(rows,)` vector up with the **columns**.
#
# For a non-square matrix that mistake at least raises an error. For a square one it runs and
# returns wrong numbers. Watch:

# %%
sq = torch.tensor([[0.0, 2.0],
                   [10.0, 30.0]])              # row means: 1 and 20
print("row means        :", sq.mean(dim=1))
print("without keepdim  :\n", sq - sq.mean(dim=1))               # subtracts [1, 20] from EVERY row
print("with keepdim     :\n", sq - sq.mean(dim=1, keepdim=True))  # subtracts 1 from row 0, 20 from row 1


# %% [markdown]
# The first result is not centred at all: row 0 became `[-1, -18]`. Nothing warned us, because
# `(2, 2) - (2,)` is a perfectly legal broadcast.
#
# ### Exercise 1 · 练习 1: `center_rows`
#
# Subtract from every row of a `(rows, cols)` matrix the mean of **that row**, so each row of the
# result has mean 0. One line, with `keepdim`. The tests use square and non-square inputs.

# %% answer="center_rows"
def center_rows(x):
    """Subtract each row's mean from that row.

    x: float tensor of shape (rows, cols).
    Returns a new tensor of shape (rows, cols) whose rows each have mean 0.
    Raises nothing on its own (any tensor error from bad input is fine).
    """
    ### BEGIN SOLUTION
    return x - x.mean(dim=1, keepdim=True)  # (rows, cols) - (rows, 1)
    ### END SOLUTION


# %% tests="center_rows_tests" points=2
import torch
from course.checks import call, close

# A non-square matrix: row means are 2 and 20.
x = torch.tensor([[1.0, 2.0, 3.0],
                  [10.0, 20.0, 30.0]])
close(call(center_rows, x), torch.tensor([[-1.0, 0.0, 1.0], [-10.0, 0.0, 10.0]]),
      atol=1e-5, name="center_rows on a 2x3 matrix")
# A square matrix, where the wrong dim or a missing keepdim still gives a (2, 2) result.
sq = torch.tensor([[0.0, 2.0],
                   [10.0, 30.0]])
close(call(center_rows, sq), torch.tensor([[-1.0, 1.0], [-10.0, 10.0]]),
      atol=1e-5, name="center_rows on a square matrix (did you reduce over dim 1 with keepdim=True?)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch02_tensors as hidden
hidden.check_center_rows(center_rows)
### END HIDDEN TESTS

# %% [markdown]
# ## Part 2 — A softmax that does not overflow · 数值稳定的 softmax
#
# Softmax turns a row of scores ("logits") into probabilities:
# $\mathrm{softmax}(x)_i = e^{x_i} / \sum_j e^{x_j}$. Straight from the formula, that is
# `torch.exp(x) / torch.exp(x).sum(dim, keepdim=True)`.
#
# A float32 number cannot exceed about $3.4 \times 10^{38}$, and $e^{x}$ passes that already at
# $x \approx 88.7$. Then `exp` returns `inf`, and `inf / inf` is `nan`. Attention logits of a few
# hundred are not unusual early in training or with a badly scaled model. Here is the naive formula
# on a row of large logits (PyTorch returns `inf`/`nan` silently, it does not raise):

# %%
big = torch.tensor([[1e4, 1e4 - 1.0, 1e4 - 2.0]])
print("exp(big)            :", torch.exp(big))
print("naive softmax(big)  :", ex.naive_softmax(big))
print("torch.softmax(big)  :", torch.softmax(big, dim=-1))


# %% [markdown]
# **The fix.** Softmax does not change if you subtract the same number $c$ from every logit of a
# row: $e^{x_i - c} / \sum_j e^{x_j - c}$, because the factor $e^{-c}$ cancels. Choose $c$ = the row's
# maximum. Then the largest exponent is exactly 0, so nothing overflows, and one term of the sum is
# $e^0 = 1$, so the sum is at least 1 and we never divide by zero.
#
# The same idea gives a stable **log-sum-exp** (对数求和指数), the log of softmax's denominator, used by
# cross-entropy: with $m = \max_j x_j$,
#
# $$\log \sum_j e^{x_j} = m + \log \sum_j e^{x_j - m}.$$
#
# **Per row, not global.** Each row needs *its own* maximum. Take the two rows `[0, 0]` and
# `[1000, 1000]`. Subtracting the global maximum (1000) from the first row gives `[-1000, -1000]`;
# $e^{-1000}$ underflows to 0, and that row's softmax becomes `0 / 0 = nan`. A per-row maximum comes
# from a reduction with `keepdim=True`, exactly as in Part 1.

# %% [markdown]
# ### Exercise 2 · 练习 2: `log_sum_exp` and `stable_softmax`
#
# Both take a `dim` argument: the dim to reduce over (softmax is normalised along it). Use
# `x.max(dim=dim, keepdim=True).values`. `log_sum_exp` returns the reduced shape (the `dim`
# disappears, like `torch.logsumexp`); `stable_softmax` returns the input's shape.
# `torch.exp`, `torch.log`, `.sum` and `.max` are all you need. (Calling `torch.logsumexp` or
# `torch.softmax` would pass, since they are what the tests compare against, but the point is to
# build them yourself and see why they cannot overflow.)

# %% answer="log_sum_exp"
def log_sum_exp(x, dim=-1):
    """log(sum(exp(x))) along `dim`, computed without overflow.

    x: float tensor of any shape, e.g. (batch, classes); dim: int, the dim to reduce (may be negative).
    Returns a tensor with the shape of x without `dim`, e.g. (batch,).
    """
    ### BEGIN SOLUTION
    m = x.max(dim=dim, keepdim=True).values  # (..., 1, ...): one max per slice along dim
    total = torch.exp(x - m).sum(dim=dim, keepdim=True)  # >= 1, since one term is exp(0)
    return (m + torch.log(total)).squeeze(dim)
    ### END SOLUTION


def stable_softmax(x, dim=-1):
    """softmax of x along `dim`, with the per-slice maximum subtracted first.

    x: float tensor of any shape, e.g. (batch, seq, seq); dim: int, the dim that sums to 1.
    Returns a tensor with the same shape as x, non-negative, summing to 1 along `dim`.
    """
    ### BEGIN SOLUTION
    e = torch.exp(x - x.max(dim=dim, keepdim=True).values)  # same shape as x, values in (0, 1]
    return e / e.sum(dim=dim, keepdim=True)
    ### END SOLUTION


# %% tests="log_sum_exp_tests" points=2
import math
import torch
from course.checks import call, close

x = torch.tensor([[0.0, 0.0],
                  [1.0, 2.0]])
close(call(log_sum_exp, x, dim=-1), torch.tensor([math.log(2.0), 2.0 + math.log(1.0 + math.exp(-1.0))]),
      name="log_sum_exp of [[0, 0], [1, 2]] along dim -1")
# Huge logits: log(e^10000 + e^10000) = 10000 + log 2 (exp(10000) alone would be inf).
close(call(log_sum_exp, torch.tensor([[1e4, 1e4]]), dim=-1), torch.tensor([1e4 + math.log(2.0)]),
      name="log_sum_exp at logits of 1e4")
# Rows of very different scale: each row needs its own maximum.
close(call(log_sum_exp, torch.tensor([[0.0, 0.0], [1000.0, 1000.0]]), dim=-1),
      torch.tensor([math.log(2.0), 1000.0 + math.log(2.0)]), atol=1e-3,
      name="log_sum_exp of rows [0, 0] and [1000, 1000] (a global max kills the small row)")
# dim=0 on a non-square input reduces the columns: 3 results.
close(call(log_sum_exp, torch.zeros(2, 3), dim=0), torch.full((3,), math.log(2.0)),
      name="log_sum_exp(zeros(2, 3), dim=0)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch02_tensors as hidden
hidden.check_log_sum_exp(log_sum_exp)
### END HIDDEN TESTS

# %% tests="stable_softmax_tests" points=2
import torch
from course.checks import call, close

close(call(stable_softmax, torch.tensor([[0.0, 0.0, 0.0, 0.0]]), dim=-1), torch.full((1, 4), 0.25),
      name="softmax of equal logits")
close(call(stable_softmax, torch.tensor([[1e4, 1e4]]), dim=-1), torch.tensor([[0.5, 0.5]]),
      name="stable_softmax at logits of 1e4 (subtract the max before exp)")
close(call(stable_softmax, torch.tensor([[0.0, 0.0], [1000.0, 1000.0]]), dim=-1),
      torch.tensor([[0.5, 0.5], [0.5, 0.5]]),
      name="stable_softmax of rows [0, 0] and [1000, 1000] (each row needs its own max)")
p = call(stable_softmax, torch.tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]), dim=0)
close(p.sum(dim=0), torch.ones(3), name="columns of stable_softmax(x, dim=0) should sum to 1")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch02_tensors as hidden
hidden.check_stable_softmax(stable_softmax)
### END HIDDEN TESTS

# %% [markdown]
# ### Experiment: how large can logits get? · 实验：logits 能有多大？
#
# We multiply a fixed row of logits `[1, 2, 3, 0.5]` by a growing scale `s` and plot the probability
# softmax gives the largest logit, naive formula against yours. Larger `s` means a more confident
# softmax, so that probability should climb smoothly to 1.

# %%
with needs("stable_softmax"):
    fig, stats = ex.softmax_scale_experiment(stable_softmax)
    ex.show(fig)
    print(f"naive softmax first returns NaN at scale s = {stats['first_nan_scale']:.1f}, where the largest logit "
          f"is {stats['top_logit_at_first_nan']:.1f} (the largest that still worked: {stats['largest_finite_logit']:.1f}); "
          f"stable_softmax there gives the top logit p = {stats['stable_top_prob_at_first_nan']:.6f}")

# %% [markdown]
# Reading the figure: both curves agree while the logits are small. Once the largest logit passes
# about 88.7 (compare the two printed logits), `exp` overflows and the naive version returns NaN (red
# crosses), while the stable curve simply keeps approaching 1. `torch.softmax`, `F.cross_entropy`
# and every attention kernel do this max subtraction for you; now you know why they must.

# %% [markdown]
# ## Part 3 — Broadcasting · 广播
#
# When two tensors of different shapes meet in `+`, `-`, `*`, `==`, ..., PyTorch **broadcasts** them
# to one common shape, without copying any data:
#
# 1. Line the two shapes up **from the right** (the last dims face each other). A shape with fewer
#    dims is padded on the left with 1s.
# 2. In each position the two sizes must be **equal**, or one of them must be **1**. A size-1 dim
#    is stretched to the other size. Anything else is an error.
# 3. The result takes, in each position, the size that is not 1. In particular a size-0 dim
#    broadcasts only against 0 or 1 (the result is empty), never against 2.
#
# A worked example: `(5, 1, 4)` with `(3, 1)` → pad to `(1, 3, 1)` → pairs `(5, 1)`, `(1, 3)`,
# `(4, 1)` → result `(5, 3, 4)`.

# %%
a = torch.zeros(5, 1, 4)
b = torch.zeros(3, 1)
print("(5, 1, 4) + (3, 1)     ->", tuple((a + b).shape))
print("torch.broadcast_shapes ->", tuple(torch.broadcast_shapes((5, 1, 4), (3, 1))))
try:
    torch.zeros(2, 3) + torch.zeros(4, 3)
except RuntimeError as err:
    print("(2, 3) + (4, 3) fails  ->", err)

# %% [markdown]
# ### The classic bug: `(n,)` meets `(n, 1)` · 经典错误
#
# A linear layer with one output returns predictions of shape `(n, 1)`; labels usually come as
# shape `(n,)`. Aligned from the right, these are `(1, n)` against `(n, 1)`, and both size-1 dims
# stretch: the difference is an `(n, n)` matrix of *every prediction minus every label*. Its mean is
# a number, so the loss "works", but it is the wrong number and the model learns the wrong thing.

# %%
pred = torch.tensor([[1.0], [2.0], [3.0]])      # (3, 1), e.g. from nn.Linear(d, 1)
target = torch.tensor([1.0, 2.0, 3.0])          # (3,)   a perfect prediction!
diff = pred - target
print("shape of pred - target:", tuple(diff.shape))
print("MSE with the bug      :", ((pred - target) ** 2).mean().item())
print("MSE, shapes fixed     :", ((pred.squeeze(-1) - target) ** 2).mean().item())


# %% [markdown]
# A perfect prediction gets a non-zero loss. The cure is a habit: when a result's shape is not the
# one you expected, stop. Printing `.shape` is cheap; an assert like
# `assert pred.shape == target.shape` is cheaper than a wasted training run.
#
# ### Exercise 3 · 练习 3: `broadcast_shape`
#
# Implement the three rules above for two shapes given as tuples of ints. Return a **tuple** (not a
# list). If the shapes are incompatible, raise `ValueError` whose message contains both shapes as
# Python prints them, e.g. `shapes (2, 3) and (4, 3) cannot be broadcast`.

# %% answer="broadcast_shape"
def broadcast_shape(a, b):
    """The shape that a tensor of shape `a` and one of shape `b` broadcast to.

    a, b: tuples of non-negative ints, e.g. (5, 1, 4) and (3, 1).
    Returns a tuple of ints, e.g. (5, 3, 4) (a tuple, not a list).
    Raises ValueError, with a message containing str(a) and str(b), if the shapes are incompatible.
    """
    ### BEGIN SOLUTION
    result = []
    for i in range(1, max(len(a), len(b)) + 1):  # walk from the right
        da = a[-i] if i <= len(a) else 1
        db = b[-i] if i <= len(b) else 1
        if da == db or db == 1:
            result.append(da)
        elif da == 1:
            result.append(db)
        else:
            raise ValueError(f"shapes {a} and {b} cannot be broadcast: sizes {da} and {db} at dim {-i}")
    return tuple(reversed(result))
    ### END SOLUTION


# %% tests="broadcast_shape_tests" points=2
from course.checks import call, check, equal, raises

equal(call(broadcast_shape, (5, 1, 4), (3, 1)), (5, 3, 4), name="broadcast_shape((5, 1, 4), (3, 1))")
equal(call(broadcast_shape, (3,), (3, 1)), (3, 3), name="broadcast_shape((3,), (3, 1)), the (n,) + (n, 1) trap")
equal(call(broadcast_shape, (2, 3, 4), (4,)), (2, 3, 4), name="broadcast_shape((2, 3, 4), (4,)) (align from the right)")
equal(call(broadcast_shape, (0, 3), (1, 3)), (0, 3), name="broadcast_shape((0, 3), (1, 3)) (a 0-size dim stays 0)")
check(type(call(broadcast_shape, (2, 1), (1, 2))) is tuple, "broadcast_shape must return a tuple")
err = raises(ValueError, broadcast_shape, (2, 3), (4, 3), name="broadcast_shape((2, 3), (4, 3))")
check("(2, 3)" in str(err) and "(4, 3)" in str(err),
      f"the ValueError's message should contain both shapes, (2, 3) and (4, 3); it was {str(err)!r}")
raises(ValueError, broadcast_shape, (0,), (2,), name="broadcast_shape((0,), (2,)) (0 is not 1)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch02_tensors as hidden
hidden.check_broadcast_shape(broadcast_shape)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4 · 练习 4: `pairwise_sq_distances` without loops
#
# Given `n` points `x` of shape `(n, d)` and `m` points `y` of shape `(m, d)`, return the `(n, m)`
# matrix of squared Euclidean distances: entry `[i, j]` is $\sum_k (x_{ik} - y_{jk})^2$.
# (Attention's `Q @ K.T` has the same "every row of one against every row of the other" structure.)
#
# The broadcasting recipe: give `x` a new dim in the middle, `x[:, None, :]` is `(n, 1, d)`, and `y`
# a new dim in front, `y[None, :, :]` is `(1, m, d)`. Their difference broadcasts to `(n, m, d)`;
# then reduce over the last dim. No Python loops.

# %% answer="pairwise_sq_distances"
def pairwise_sq_distances(x, y):
    """Squared Euclidean distance between every row of x and every row of y.

    x: float tensor of shape (n, d); y: float tensor of shape (m, d).
    Returns a tensor of shape (n, m) with out[i, j] = ((x[i] - y[j]) ** 2).sum().
    """
    ### BEGIN SOLUTION
    diff = x[:, None, :] - y[None, :, :]  # (n, 1, d) - (1, m, d) -> (n, m, d)
    return (diff ** 2).sum(dim=-1)  # (n, m)
    ### END SOLUTION


# %% tests="pairwise_sq_distances_tests" points=2
import torch
from course.checks import call, close

x = torch.tensor([[0.0, 0.0],
                  [1.0, 0.0]])             # n = 2 points
y = torch.tensor([[0.0, 0.0],
                  [0.0, 2.0],
                  [3.0, 4.0]])             # m = 3 points
expected = torch.tensor([[0.0, 4.0, 25.0],
                         [1.0, 5.0, 20.0]])  # (n, m) = (2, 3)
close(call(pairwise_sq_distances, x, y), expected, name="pairwise_sq_distances of 2 and 3 points in 2-D")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch02_tensors as hidden
hidden.check_pairwise_sq_distances(pairwise_sq_distances)
### END HIDDEN TESTS

# %% [markdown]
# How much do loops cost? Below, a double Python loop and your function compute the same `n × n`
# matrix for growing `n`. (Your function builds an `(n, m, d)` intermediate tensor; for big inputs
# libraries use the expansion $\lVert x\rVert^2 - 2\,x \cdot y + \lVert y\rVert^2$, which is one matrix
# multiply but can return tiny negative numbers from rounding.)

# %%
with needs("pairwise_sq_distances"):
    fig, stats = ex.distance_timing_experiment(pairwise_sq_distances)
    ex.show(fig)
    print(f"n = {stats['n']}: loop {stats['loop_ms']:.1f} ms, broadcasting {stats['broadcast_ms']:.3f} ms, "
          f"{stats['speedup']:.0f}x faster")

# %% [markdown]
# The loop's time grows with the number of pairs, and each pair pays Python's overhead of several
# microseconds; the broadcasting version pays that overhead once and lets one C++ kernel do the
# arithmetic. The printed speed-up is for the largest `n`; the gap keeps widening with `n`.

# %% [markdown]
# ## Part 4 — Storage, strides and offset · 存储、步长与偏移
#
# Memory is one-dimensional. A tensor is a flat block of numbers, its **storage** (存储), plus three
# pieces of bookkeeping that say how to read it as a grid:
#
# * `shape`: the size of each dim;
# * `stride()`: how many storage elements to jump to move **one step along each dim**;
# * `storage_offset()`: where element `[0, 0, ...]` sits in the storage.
#
# Element `[i, j]` of a 2-D tensor lives at storage position `offset + i * stride[0] + j * stride[1]`.

# %%
t = torch.arange(12).reshape(3, 4)
print(t)
print("shape", tuple(t.shape), " stride", t.stride(), " offset", t.storage_offset())
print("t[1, 2] =", t[1, 2].item(), "= 0 + 1*4 + 2*1")


# %% [markdown]
# `t` was built with `arange`, so each value *is* its storage position; keep that trick in mind, we
# use it all the way through this part. A freshly created tensor is laid out **row-major**: the last
# dim is adjacent in memory (stride 1), and each earlier dim jumps over one whole block of the dims
# after it. For shape `(2, 3, 4)` that gives strides `(12, 4, 1)`.
#
# ### Exercise 5 · 练习 5: `contiguous_strides`
#
# Return the row-major strides of a shape, as a tuple, in elements (not bytes). Work from the last
# dim to the first: the last stride is 1, each earlier one is the next stride times the next size.
#
# One corner case: PyTorch counts a **size-0 dim as if it were size 1** in that product, so
# `torch.empty(2, 0, 3).stride()` is `(3, 3, 1)`, not `(0, 3, 1)`. Match that: use `max(size, 1)`.

# %% answer="contiguous_strides"
def contiguous_strides(shape):
    """Row-major (C-order) strides, in elements, of a tensor with this shape.

    shape: tuple of non-negative ints, e.g. (2, 3, 4); () for a scalar.
    Returns a tuple of ints of the same length, e.g. (12, 4, 1); a size-0 dim counts as size 1
    in the running product, as in PyTorch: (2, 0, 3) -> (3, 3, 1).
    """
    ### BEGIN SOLUTION
    strides = []
    step = 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))
    ### END SOLUTION


# %% tests="contiguous_strides_tests" points=2
import torch
from course.checks import call, check, equal

equal(call(contiguous_strides, (2, 3, 4)), (12, 4, 1), name="contiguous_strides((2, 3, 4))")
equal(call(contiguous_strides, (3, 2)), (2, 1), name="contiguous_strides((3, 2)) (row-major: last dim has stride 1)")
equal(call(contiguous_strides, (5,)), (1,), name="contiguous_strides((5,))")
equal(call(contiguous_strides, ()), (), name="contiguous_strides(()) (a scalar has no strides)")
equal(call(contiguous_strides, (2, 0, 3)), tuple(torch.empty(2, 0, 3).stride()),
      name="contiguous_strides((2, 0, 3)) (a size-0 dim counts as 1)")
check(type(call(contiguous_strides, (2, 3))) is tuple, "contiguous_strides must return a tuple")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch02_tensors as hidden
hidden.check_contiguous_strides(contiguous_strides)
### END HIDDEN TESTS

# %% [markdown]
# ### Views: new bookkeeping, same storage · 视图
#
# Many operations do not touch the numbers at all; they return a **view** (视图): a new tensor object
# with its own shape, strides and offset over the **same storage**. Look at the table below:
#
# * `t.T` swaps the strides: stepping along a row of the transpose jumps 4 elements in memory;
# * `t[::2]` (every other row) doubles the row stride;
# * `t[1:, 1:]` keeps the strides and moves the offset to where `[1, 1]` was;
# * `t[:, :1].expand(3, 4)` repeats a column by giving the new dim **stride 0**: moving along it
#   never moves in memory.
#
# The last column shows that every view starts inside `t`'s memory: `data_ptr()` is the address of
# element `[0, 0]`, so nothing was copied.

# %%
views = {"t": t, "t.T": t.T, "t[::2]": t[::2], "t[:, ::2]": t[:, ::2], "t[1:, 1:]": t[1:, 1:],
         "t[:, :1].expand(3, 4)": t[:, :1].expand(3, 4)}
print(f"{'view':24}{'shape':10}{'stride':10}{'offset':>6}  same storage as t?")
for name, v in views.items():
    same = v.untyped_storage().data_ptr() == t.untyped_storage().data_ptr()
    print(f"{name:24}{str(tuple(v.shape)):10}{str(v.stride()):10}{v.storage_offset():>6}  {same}")


# %% [markdown]
# ### Exercise 6 · 练习 6: `storage_offset`
#
# Given a multi-index, the strides and the offset, return the storage position the element is read
# from (a Python `int`). This is the one formula every tensor library evaluates on every access.
# The tests check it against real views: index a view of `torch.arange(...)` and the value you get
# **is** the storage position.

# %% answer="storage_offset"
def storage_offset(index, strides, offset=0):
    """The storage position read by `index` in a tensor with these strides and offset.

    index: tuple of ints, one per dim, e.g. (1, 2); strides: tuple of ints of the same length,
    e.g. (4, 1); offset: int, the view's storage_offset().
    Returns an int: offset + sum(index[k] * strides[k]).
    """
    ### BEGIN SOLUTION
    return offset + sum(i * s for i, s in zip(index, strides))
    ### END SOLUTION


# %% tests="storage_offset_tests" points=2
import torch
from course.checks import call, equal

equal(call(storage_offset, (1, 2), (4, 1)), 6, name="storage_offset((1, 2), (4, 1))")
equal(call(storage_offset, (1, 2), (1, 4)), 9, name="storage_offset((1, 2), (1, 4)) (a transposed 3x4)")
equal(call(storage_offset, (0, 0), (4, 1), 5), 5, name="storage_offset((0, 0), (4, 1), offset=5)")
v = torch.arange(24).reshape(4, 6)[1:, ::2]      # offset 6, strides (6, 2)
equal(call(storage_offset, (2, 1), v.stride(), v.storage_offset()), v[2, 1].item(),
      name="storage_offset for arange(24).reshape(4, 6)[1:, ::2] at index (2, 1)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch02_tensors as hidden
hidden.check_storage_offset(storage_offset)
### END HIDDEN TESTS

# %% [markdown]
# Here is a picture of the transpose `t.T`. The grid is the view, each cell labelled and coloured by
# the storage position it reads; the strip below is the storage itself. The red frame marks element
# `[1, 2]` of the view: your formula gives `0 + 1·1 + 2·4 = 9`.

# %%
ex.show(ex.layout_figure(t.T, storage_size=12, highlight=5, title="t.T: shape (4, 3), strides (1, 4)"))

# %% [markdown]
# Reading it: walking along a row of `t.T` (left to right) jumps 4 cells in the strip, walking down
# a column moves 1 cell. The storage is untouched, only the bookkeeping changed.
#
# ### Stride explorer · 步长浏览器
#
# Pick a shape, an operation and an element. The status line gives the view's shape, strides,
# offset, whether it is contiguous, whether `.view(-1)` would work, and the offset formula for the
# selected element. Things to try:
#
# * `(3, 4)` with `rows [::2]`: the grey cells in the strip are the skipped row;
# * `(4, 6)` with `offset slice [1:, 1:]`: the offset becomes 7; the view reads 15 cells spread over 17;
# * `(2, 1, 3)` with `expand size-1 dims to 3`: several cells of the view read the same storage cell;
# * `(2, 3, 4)` with `permute(2, 0, 1)`: walk the element slider and watch the red frame hop.

# %%
stride_explorer()


# %% [markdown]
# ### Contiguous or not · 连续与否
#
# A tensor is **contiguous** (连续的) when reading its elements in logical (row-major) order walks the
# storage one step at a time with no gaps: its strides are the row-major strides of its shape.
# PyTorch's `is_contiguous()` adds two sensible exceptions:
#
# * a **size-1 dim**'s stride does not matter (you never step along it), so `(3, 1)` with strides
#   `(1, 7)` counts as contiguous;
# * a tensor with a **size-0 dim** holds no elements and is always contiguous.
#
# So the check is: skip size-1 dims, and compare every other stride with the running product of the
# sizes to its right.
#
# ### Exercise 7 · 练习 7: `is_contiguous`
#
# Implement that rule. Return a Python `bool`.

# %% answer="is_contiguous"
def is_contiguous(shape, strides):
    """Whether a tensor with this shape and these strides is contiguous, by PyTorch's rule.

    shape: tuple of non-negative ints, e.g. (3, 4); strides: tuple of ints of the same length.
    Returns a Python bool: True when every dim of size > 1 has the row-major stride, or when any
    dim has size 0. Strides of size-1 dims are ignored.
    """
    ### BEGIN SOLUTION
    if any(size == 0 for size in shape):
        return True
    expected = 1
    for size, stride in zip(reversed(shape), reversed(strides)):
        if size != 1:
            if stride != expected:
                return False
            expected *= size
    return True
    ### END SOLUTION


# %% tests="is_contiguous_tests" points=2
import torch
from course.checks import call, check, equal

out = call(is_contiguous, (3, 4), (4, 1))
check(type(out) is bool, f"is_contiguous must return a Python bool, got {type(out).__module__}.{type(out).__name__} {out!r}")
equal(out, True, name="is_contiguous((3, 4), (4, 1))")
equal(call(is_contiguous, (4, 3), (1, 4)), False, name="is_contiguous((4, 3), (1, 4)) (a transpose)")
equal(call(is_contiguous, (2, 4), (8, 1)), False,
      name="is_contiguous((2, 4), (8, 1)) (rows [::2]: last stride is 1, but there is a gap)")
equal(call(is_contiguous, (3, 1), (1, 7)), True, name="is_contiguous((3, 1), (1, 7)) (size-1 dims' strides do not matter)")
equal(call(is_contiguous, (0, 3), (5, 5)), True, name="is_contiguous((0, 3), (5, 5)) (an empty tensor)")
v = torch.arange(24).reshape(2, 3, 4).permute(1, 0, 2)
equal(call(is_contiguous, tuple(v.shape), v.stride()), v.is_contiguous(), name="is_contiguous of a permuted (2, 3, 4)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch02_tensors as hidden
hidden.check_is_contiguous(is_contiguous)
### END HIDDEN TESTS

# %% [markdown]
# ### `view` versus `reshape` · view 与 reshape
#
# `x.view(new_shape)` only ever re-labels storage: it computes new strides for the same memory and
# refuses (with a `RuntimeError`) when no strides can describe the result. After a transpose, the
# logical order `0, 4, 8, 1, 5, 9, ...` is not a steady walk through memory, so flattening it
# cannot be a view. `x.reshape(...)` tries a view first and **copies** when it must;
# `x.contiguous()` copies into fresh row-major storage (and is free if `x` already is contiguous).
# `data_ptr()` tells you which happened.

# %%
tt = t.T                                   # (4, 3), strides (1, 4): not contiguous
try:
    tt.view(12)
except RuntimeError as err:
    print("tt.view(12) failed:", err)
flat = tt.reshape(12)
print("tt.reshape(12)     :", flat.tolist(), "| copied:", flat.data_ptr() != t.data_ptr())
print("t.reshape(12)      : copied:", t.reshape(12).data_ptr() != t.data_ptr(), "(t is contiguous: a view)")
fixed = tt.contiguous()
print("tt.contiguous()    : strides", fixed.stride(), "| copied:", fixed.data_ptr() != t.data_ptr(),
      "| then .view(12) works:", tuple(fixed.view(12).shape))

# %% [markdown]
# Why care whether something copies? Copies cost memory traffic (chapter 01: moving bytes is usually
# the bottleneck), and a view **shares** its numbers: writing into a view writes into the original.
# That is a feature when you mean it (an in-place update of a slice) and a nasty bug when you don't.

# %% [markdown]
# ## Part 5 — Splitting attention heads · 拆分注意力头
#
# Multi-head attention runs `n_heads` small attentions side by side. The `d_model` features of each
# token are cut into `n_heads` consecutive groups of `d_head = d_model / n_heads`: head 0 gets
# features `0 .. d_head-1`, head 1 the next `d_head`, and so on. For the batched matmuls we want the
# heads as a dim *in front of* the sequence: `(batch, n_heads, seq, d_head)`.
#
# Two steps, both views, no copy:
#
# 1. `x.view(batch, seq, n_heads, d_head)`: split the **last** dim in two. Legal as a view, because
#    the last dim is contiguous;
# 2. `.transpose(1, 2)`: swap `seq` and `n_heads`. Strides swap, the result is not contiguous.
#
# Merging back is the reverse: `transpose(1, 2)` to `(batch, seq, n_heads, d_head)`, then glue the
# last two dims. That glue cannot be a `view` (the tensor is not contiguous), so use `.reshape` or
# `.contiguous().view`.
#
# **The tempting shortcut is wrong.** `x.view(batch, n_heads, seq, d_head)` has the right shape, but
# it re-reads memory in order: "head 0" would get all the features of the first `seq / n_heads`
# tokens. The tiny example below shows it with `arange`, where each value is its storage position:

# %%
x = torch.arange(12).view(1, 3, 4)        # batch 1, seq 3, d_model 4 -> 2 heads of d_head 2
print("x[0] (rows = tokens):\n", x[0])
print("right: head 0 = features 0-1 of every token:\n", x.view(1, 3, 2, 2).transpose(1, 2)[0, 0])
print("wrong: x.view(1, 2, 3, 2)[0, 0] mixes tokens:\n", x.view(1, 2, 3, 2)[0, 0])


# %% [markdown]
# ### Exercise 8 · 练习 8: `split_heads` and `merge_heads`
#
# `split_heads` must return a **view** of `x` (the tests check that it shares storage) and raise
# `ValueError` when `d_model` is not divisible by `n_heads`. `merge_heads` is its inverse. In a real
# model it receives the output of the attention matmul, a fresh contiguous
# `(batch, n_heads, seq, d_head)` tensor; after your `transpose(1, 2)` that tensor is no longer
# contiguous, so think about which of `view` / `reshape` you can use.

# %% answer="split_heads"
def split_heads(x, n_heads):
    """Split the features of each token into heads.

    x: tensor of shape (batch, seq, d_model); n_heads: int that divides d_model.
    Returns a view of x of shape (batch, n_heads, seq, d_head), d_head = d_model // n_heads,
    where out[:, h] == x[..., h * d_head:(h + 1) * d_head].
    Raises ValueError if d_model is not divisible by n_heads.
    """
    ### BEGIN SOLUTION
    batch, seq, d_model = x.shape
    if d_model % n_heads != 0:
        raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}")
    d_head = d_model // n_heads
    return x.view(batch, seq, n_heads, d_head).transpose(1, 2)  # (batch, n_heads, seq, d_head)
    ### END SOLUTION


def merge_heads(x):
    """Undo split_heads: put the heads' features side by side again.

    x: tensor of shape (batch, n_heads, seq, d_head), usually not contiguous.
    Returns a tensor of shape (batch, seq, n_heads * d_head).
    """
    ### BEGIN SOLUTION
    batch, n_heads, seq, d_head = x.shape
    return x.transpose(1, 2).reshape(batch, seq, n_heads * d_head)  # copies: x.transpose is not contiguous
    ### END SOLUTION


# %% tests="split_heads_tests" points=2
import torch
from course.checks import call, check, close, equal, raises

x = torch.arange(24.0).view(1, 3, 8)                 # batch 1, seq 3, d_model 8
out = call(split_heads, x, 2)                    # 2 heads of d_head 4
equal(tuple(out.shape), (1, 2, 3, 4), name="shape of split_heads(x of shape (1, 3, 8), n_heads=2)")
close(out[0, 0], x[0, :, 0:4], atol=0, name="head 0 (should be features 0-3 of every token)")
close(out[0, 1], x[0, :, 4:8], atol=0, name="head 1 (should be features 4-7 of every token)")
check(out.untyped_storage().data_ptr() == x.untyped_storage().data_ptr(),
      "split_heads should return a view of x (no copy): use view and transpose")
raises(ValueError, split_heads, torch.zeros(1, 3, 10), 4, name="split_heads with d_model=10, n_heads=4")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch02_tensors as hidden
hidden.check_split_heads(split_heads)
### END HIDDEN TESTS

# %% tests="merge_heads_tests" points=1
import torch
from course.checks import call, close

x = torch.arange(24.0).view(1, 3, 8)
heads = x.view(1, 3, 2, 4).transpose(1, 2)          # a correct split: (1, 2, 3, 4), not contiguous
close(call(merge_heads, heads), x, atol=0, name="merge_heads of a split (1, 3, 8) tensor")
# Attention's output is a fresh, contiguous (batch, n_heads, seq, d_head) tensor: here the transpose
# inside merge_heads makes it non-contiguous, and .view alone fails.
out = torch.arange(24.0).view(1, 2, 3, 4)           # head h, token s: out[0, h, s]
expected = torch.tensor([[[0.0, 1, 2, 3, 12, 13, 14, 15],
                          [4, 5, 6, 7, 16, 17, 18, 19],
                          [8, 9, 10, 11, 20, 21, 22, 23]]])
close(call(merge_heads, out), expected, atol=0, name="merge_heads of a contiguous (1, 2, 3, 4) tensor")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch02_tensors as hidden
hidden.check_merge_heads(merge_heads)
### END HIDDEN TESTS

# %% [markdown]
# Here is your `split_heads` on the same small `arange` tensor, drawn like the stride explorer: one
# grid per head (rows = tokens, columns = that head's features), above the storage they read. Each
# head reads a band of every token's features, strided through memory, and nothing moved. The red
# frame is head 0, token 1, feature 1.

# %%
with needs("split_heads", "merge_heads"):
    x = torch.arange(24).view(1, 3, 8)
    heads = split_heads(x, 2)                                 # (1, 2, 3, 4)
    print("split: shape", tuple(heads.shape), "strides", heads.stride(), "contiguous:", heads.is_contiguous())
    print("merge_heads(split_heads(x)) == x:", torch.equal(merge_heads(heads), x))
    ex.show(ex.layout_figure(heads[0], storage_size=24, highlight=5, slice_label="head {}",
                             title="split_heads(arange(24).view(1, 3, 8), 2)[0]"))

# %% [markdown]
# Reading it: in head 1 the first row reads storage 4 to 7, the next row jumps to 12:
# a stride of 8 between tokens, exactly `d_model`. The printed strides say the same thing.
#
# ## Summary · 小结
#
# * A reduction removes the dim you name; `keepdim=True` keeps it as size 1 so the result broadcasts
#   back against its input along the right axis.
# * Softmax and log-sum-exp are stable once you subtract a **per-row** maximum first.
# * Broadcasting aligns shapes from the right and stretches size-1 dims; `(n,)` with `(n, 1)` gives
#   `(n, n)` without any error, so check shapes.
# * A tensor is storage + shape + strides + offset. Transpose, permute, slicing and expand only
#   change the bookkeeping; `view` needs compatible strides, `reshape` and `contiguous()` copy when
#   they must.
# * Head splitting is `view` + `transpose`; merging needs `reshape` (or `contiguous().view`).
#
# Later chapters put these pieces together in scaled dot-product attention and multi-head attention.

# %%
glossary.show("02-tensors")
