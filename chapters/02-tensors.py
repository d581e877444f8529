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
# | 4 | `contiguous_strides`, `slice_view`, `is_contiguous` | strides and offsets; why `view` fails after `transpose` |
# | 5 | `split_heads`, `merge_heads` | the reshaping inside multi-head attention |

# %% [markdown]
# ## Before you start · 开始之前
#
# **You will build:**
# * `center_rows`: a reduction with `keepdim`;
# * `log_sum_exp` and `stable_softmax`: softmax and its log-denominator, safe from overflow;
# * `broadcast_shape` and `pairwise_sq_distances`: PyTorch's broadcasting rule, and a use of it;
# * `contiguous_strides`, `slice_view` and `is_contiguous`: the bookkeeping of storage, strides and offset;
# * `split_heads` and `merge_heads`: the reshaping inside multi-head attention.
#
# **Prerequisites:** chapter 01 (what a matmul costs, and why moving bytes matters); Python and basic
# PyTorch (`torch.tensor`, indexing, `.shape`); the exponential and the logarithm.
#
# **Time:** about 120 minutes (reading 40, exercises 65, experiments 15).

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
# **Predict · 预测:** for a `(2, 3)` tensor, what are the shapes of `x.sum(dim=0)`, `x.sum(dim=1)` and
# `x.sum(dim=1, keepdim=True)`? Write your guess down, then run the next cell.

# %%
x = torch.arange(6.0).reshape(2, 3)
print(x)
print("x.sum()                      ", tuple(x.sum().shape))
print("x.sum(dim=0)                 ", tuple(x.sum(dim=0).shape), x.sum(dim=0))
print("x.sum(dim=1)                 ", tuple(x.sum(dim=1).shape), x.sum(dim=1))
print("x.sum(dim=1, keepdim=True)   ", tuple(x.sum(dim=1, keepdim=True).shape))
print("x.max(dim=1) gives values and indices:", x.max(dim=1))

# %% [markdown]
# The named dim is gone: `(3,)` after summing over dim 0, `(2,)` over dim 1, and `(2, 1)` when
# `keepdim=True` keeps it with size 1. That matters the moment you combine the result with the
# original tensor. To divide each row by that row's sum (so that every row sums to 1), the sums must
# have shape `(rows, 1)`: one number per row, stretched along the columns. Without `keepdim` they have
# shape `(rows,)`, and broadcasting (Part 3) lines a `(rows,)` vector up with the **columns**.
#
# For a non-square matrix that mistake at least raises an error. For a square one it runs and
# returns wrong numbers.
#
# **Predict · 预测:** for the square matrix below, with row sums 4 and 40, what is row 0 of
# `sq / sq.sum(dim=1)`? Write your guess down, then run the next cell.

# %%
sq = torch.tensor([[1.0, 3.0],
                   [10.0, 30.0]])              # row sums: 4 and 40
print("row sums         :", sq.sum(dim=1))
print("without keepdim  :\n", sq / sq.sum(dim=1))                # divides EVERY row by [4, 40]
print("with keepdim     :\n", sq / sq.sum(dim=1, keepdim=True))   # divides row 0 by 4, row 1 by 40


# %% [markdown]
# The first result does not sum to 1 along its rows: row 0 became `[0.25, 0.075]`, its first entry
# divided by row 0's sum and its second by row 1's. Nothing warned us, because `(2, 2) / (2,)` is a
# perfectly legal broadcast.
#
# ### Exercise 1 · 练习 1: `center_rows`
#
# **Difficulty:** ●○○ · **Importance:** ●●● · **Time:** ~5 min
#
# Subtract from every row of a `(rows, cols)` matrix the mean of **that row**, so each row of the
# result has mean 0. The tests use square and non-square inputs.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Which dim runs along a row: the one the mean must reduce over? What shape must the means have to be
# subtracted row by row?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Go back to the row-sum cell above: of its two lines, which one lined each row's statistic up with its
# own row? Your function needs the same pattern with a different statistic and a different operation.
# Test it on that cell's `sq` before running the tests.
#
# </details>
# </details>

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
from course.checks.ch02_tensors import call_or_explain, close_or_explain

# A non-square matrix: row means are 2 and 20.
x = torch.tensor([[1.0, 2.0, 3.0],
                  [10.0, 20.0, 30.0]])
got = call_or_explain(center_rows, x, errors={"must match the size": (
    "(2, 3) minus (2,) does not broadcast: without keepdim=True the row means line up with the columns (Part 1).")})
close_or_explain(got, torch.tensor([[-1.0, 0.0, 1.0], [-10.0, 0.0, 10.0]]), atol=1e-5,
                 name="center_rows on a 2x3 matrix", mistakes=[
    (torch.tensor([[-4.5, -9.0, -13.5], [4.5, 9.0, 13.5]]),
     "You subtracted the column means: dim=0 reduces over the rows; a row's mean reduces over dim 1 (Part 1)."),
    (torch.tensor([[-10.0, -9.0, -8.0], [-1.0, 9.0, 19.0]]),
     "You subtracted the mean of the whole matrix: reduce over one dim only (Part 1).")])
# A square matrix, where the wrong dim or a missing keepdim still gives a (2, 2) result.
sq = torch.tensor([[0.0, 2.0],
                   [10.0, 30.0]])
close_or_explain(call_or_explain(center_rows, sq, errors={}), torch.tensor([[-1.0, 1.0], [-10.0, 10.0]]), atol=1e-5,
                 name="center_rows on a square matrix", mistakes=[
    (torch.tensor([[-1.0, -18.0], [9.0, 10.0]]),
     "This is the missing keepdim: the (2,) row means were lined up with the columns, as the row sums were in the "
     "square example of Part 1."),
    (torch.tensor([[-5.0, -14.0], [5.0, 14.0]]),
     "You subtracted the column means: reduce over dim 1, the columns of each row (Part 1).")])
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
# A floating-point format has a largest finite number, and $e^{x}$ passes it at $x = \ln(\max)$; beyond
# it `exp` returns `inf`, and `inf / inf` is `nan` (IEEE 754). The next cell computes that limit for the
# three formats you will meet.

# %%
import math

for dtype in (torch.float32, torch.bfloat16, torch.float16):
    biggest = torch.finfo(dtype).max
    print(f"{str(dtype):15} largest finite number {biggest:.4g}: exp overflows above x = {math.log(biggest):.2f}")
logits16 = torch.tensor([[12.0, 0.0]], dtype=torch.float16)
print("float16 exp([12, 0])         :", torch.exp(logits16))
print("float16 naive softmax([12, 0]):", ex.naive_softmax(logits16))
print("float16 torch.softmax([12, 0]):", torch.softmax(logits16, dim=-1))

# %% [markdown]
# In float32 (and bfloat16, which keeps float32's range) the limit is $x \approx 88.7$; in float16, the
# half precision of mixed-precision training (Micikevicius et al. 2018, §3), it is only $x \approx 11.1$.
# A logit of 12 against 0 is an ordinary confident prediction, probability 0.99999 for the first class,
# and the naive formula already turns it into `nan`.
#
# **Predict · 预测:** what will the naive formula return for the float32 row `[10000, 9999, 9998]`, and
# what will `torch.softmax`? Write your guess down, then run the next cell.

# %%
big = torch.tensor([[1e4, 1e4 - 1.0, 1e4 - 2.0]])
print("exp(big)            :", torch.exp(big))
print("naive softmax(big)  :", ex.naive_softmax(big))
print("torch.softmax(big)  :", torch.softmax(big, dim=-1))


# %% [markdown]
# The naive formula returns `nan` everywhere (PyTorch does not raise), `torch.softmax` returns
# `[0.665, 0.245, 0.090]`, the softmax of `[2, 1, 0]`.
#
# **The fix.** Softmax does not change if you subtract the same number $c$ from every logit of a
# row: $e^{x_i - c} / \sum_j e^{x_j - c}$, because the factor $e^{-c}$ cancels. Choose $c$ = the row's
# maximum. Then the largest exponent is exactly 0, so nothing overflows, and one term of the sum is
# $e^0 = 1$, so the sum is at least 1 and we never divide by zero (Goodfellow et al. 2016, §4.1). Any
# other choice of $c$, the row's mean or minimum for example, leaves a positive exponent
# $\max_j x_j - c$, which overflows once a row's logits spread by more than the limit above.
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
# **Difficulty:** ●●○ · **Importance:** ●●● · **Time:** ~15 min
#
# Both take a `dim` argument: the dim to reduce over (softmax is normalised along it). `log_sum_exp`
# returns the reduced shape (the `dim` disappears, like `torch.logsumexp`); `stable_softmax` returns the
# input's shape. `torch.exp`, `torch.log`, `.sum` and `.max` are all you need (`torch.logsumexp` and
# `torch.softmax` are what the tests compare against, and are switched off while your code runs).
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Which number do you subtract before `exp`, and over which dim is it taken? What shape must it have to
# be subtracted from `x` along `dim`, and what shape must `log_sum_exp` return?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# `torch.max` with a `dim` returns two things (print one to see); you need one of them, shaped so that
# it lines up with `x` along `dim` (Part 1). Write the steps of 'The fix' one per line (shift,
# exponentiate, sum, log, undo the shift) and print each line's shape on a small input: the last one
# must have the shape the docstring asks for.
#
# </details>
# </details>

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
from course.checks.ch02_tensors import call_or_explain, close_or_explain

overflow = (lambda g: bool(torch.isinf(g).any() | torch.isnan(g).any()),
            "exp overflowed to inf: subtract the row's maximum before exp and add it back after the log (Part 2).")
keepdim = (lambda g: g.dim() == 2, "log_sum_exp removes the reduced dim, like torch.logsumexp: squeeze it (Part 2).")
# A non-square input along the last dim.
close_or_explain(call_or_explain(log_sum_exp, torch.tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]), dim=-1, errors={
    "must match the size": "x (2, 3) minus a (2,) maximum does not broadcast: keep the reduced dim (keepdim=True) "
                           "so the maximum lines up with the rows (Part 1)."}),
                 torch.tensor([3.407606, 1.0 + math.log(3.0)]), atol=1e-5, name="log_sum_exp of a 2x3 input",
                 mistakes=[keepdim])
# A square input on which a missing keepdim still gives the right shape.
close_or_explain(call_or_explain(log_sum_exp, torch.tensor([[0.0, 2.0], [3.0, 0.0]]), dim=-1, errors={}),
                 torch.tensor([2.126928, 3.048587]), atol=1e-5, name="log_sum_exp of [[0, 2], [3, 0]]", mistakes=[
                     keepdim, (torch.tensor([1.3133, 4.0181]),
                      "The maximum has shape (2,) without keepdim, and was lined up with the columns: keep the "
                      "reduced dim until the end (Part 1).")])
x = torch.tensor([[0.0, 0.0],
                  [1.0, 2.0]])
close_or_explain(call_or_explain(log_sum_exp, x, dim=-1, errors={}),
                 torch.tensor([math.log(2.0), 2.0 + math.log(1.0 + math.exp(-1.0))]),
                 name="log_sum_exp of [[0, 0], [1, 2]] along dim -1", mistakes=[keepdim])
# Huge logits: log(e^10000 + e^10000) = 10000 + log 2 (exp(10000) alone would be inf).
close_or_explain(call_or_explain(log_sum_exp, torch.tensor([[1e4, 1e4]]), dim=-1, errors={}),
                 torch.tensor([1e4 + math.log(2.0)]), name="log_sum_exp at logits of 1e4", mistakes=[keepdim, overflow])
# Rows of very different scale: each row needs its own maximum.
close_or_explain(call_or_explain(log_sum_exp, torch.tensor([[0.0, 0.0], [1000.0, 1000.0]]), dim=-1, errors={}),
                 torch.tensor([math.log(2.0), 1000.0 + math.log(2.0)]), atol=1e-3,
                 name="log_sum_exp of rows [0, 0] and [1000, 1000]", mistakes=[keepdim, (
                     lambda g: bool(torch.isinf(g[0]) | torch.isnan(g[0])),
                     "Row [0, 0] came out infinite: shifted by the global maximum 1000, its exp underflowed to 0 "
                     "and log 0 = -inf. Each row needs its own maximum (Part 2, 'Per row, not global').")])
# A row whose logits spread over 200: only the maximum is a safe shift.
close_or_explain(call_or_explain(log_sum_exp, torch.tensor([[0.0, 100.0, 200.0]]), dim=-1, errors={}),
                 torch.tensor([200.0]), atol=1e-3, name="log_sum_exp of [[0, 100, 200]]", mistakes=[keepdim, (
                     lambda g: bool(torch.isinf(g).any() | torch.isnan(g).any()),
                     "exp overflowed on a row that spreads over 200: did you shift by the row's mean or minimum? "
                     "Only the maximum makes the largest exponent 0 (Part 2, 'The fix').")])
# dim=0 on a non-square input reduces the columns: 3 results.
close_or_explain(call_or_explain(log_sum_exp, torch.zeros(2, 3), dim=0, errors={}), torch.full((3,), math.log(2.0)),
                 name="log_sum_exp(zeros(2, 3), dim=0)", mistakes=[(
                     lambda g: tuple(g.shape) == (2,), "Shape (2,) is a reduction over the last dim: reduce over "
                                                       "the dim you are given (Part 1).")])
### BEGIN HIDDEN TESTS
from course_grader.checks import ch02_tensors as hidden
hidden.check_log_sum_exp(log_sum_exp)
### END HIDDEN TESTS

# %% tests="stable_softmax_tests" points=2
import torch
from course.checks.ch02_tensors import call_or_explain, close_or_explain

no_keepdim = {"must match the size": "x (2, 3) minus a (2,) maximum does not broadcast: keep the reduced dim "
                                     "(keepdim=True) so the maximum lines up with the rows (Part 1)."}
close_or_explain(call_or_explain(stable_softmax, torch.tensor([[0.0, 0.0, 0.0, 0.0]]), dim=-1, errors={}),
                 torch.full((1, 4), 0.25), name="softmax of equal logits")
x = torch.tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
close_or_explain(call_or_explain(stable_softmax, x, dim=-1, errors=no_keepdim),
                 torch.tensor([[0.090031, 0.244728, 0.665241], [1 / 3, 1 / 3, 1 / 3]]), atol=1e-5,
                 name="stable_softmax of a 2x3 input")
close_or_explain(call_or_explain(stable_softmax, torch.tensor([[0.0, 2.0], [3.0, 0.0]]), dim=-1, errors={}),
                 torch.tensor([[0.119203, 0.880797], [0.952574, 0.047426]]), atol=1e-5,
                 name="stable_softmax of [[0, 2], [3, 0]]", mistakes=[(
                     torch.tensor([[0.2689, 0.7311], [0.9820, 0.0180]]),
                     "The maximum has shape (2,) without keepdim, and was subtracted along the columns: keep the "
                     "reduced dim (Part 1).")])
close_or_explain(call_or_explain(stable_softmax, torch.tensor([[1e4, 1e4]]), dim=-1, errors={}),
                 torch.tensor([[0.5, 0.5]]), name="stable_softmax at logits of 1e4", mistakes=[(
                     lambda g: bool(torch.isnan(g).any()),
                     "exp overflowed (inf / inf = nan): subtract the row's maximum before exp (Part 2).")])
close_or_explain(call_or_explain(stable_softmax, torch.tensor([[0.0, 0.0], [1000.0, 1000.0]]), dim=-1, errors={}),
                 torch.tensor([[0.5, 0.5], [0.5, 0.5]]), name="stable_softmax of rows [0, 0] and [1000, 1000]",
                 mistakes=[(lambda g: bool(torch.isnan(g[0]).any()) and not bool(torch.isnan(g[1]).any()),
                            "Row [0, 0] became 0 / 0: shifted by the global maximum 1000, its exps underflowed. Each "
                            "row needs its own maximum (Part 2, 'Per row, not global').")])
close_or_explain(call_or_explain(stable_softmax, torch.tensor([[0.0, 100.0, 200.0]]), dim=-1, errors={}),
                 torch.tensor([[0.0, 0.0, 1.0]]), name="stable_softmax of [[0, 100, 200]]", mistakes=[(
                     lambda g: bool(torch.isnan(g).any()),
                     "nan on a row that spreads over 200: did you shift by the row's mean or minimum? Only the "
                     "maximum makes the largest exponent 0 (Part 2, 'The fix').")])
x = torch.tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
p = call_or_explain(stable_softmax, x, dim=0, errors={})
close_or_explain(p.sum(dim=0), torch.ones(3), name="columns of stable_softmax(x, dim=0) should sum to 1", mistakes=[(
    lambda s: bool(torch.allclose(p.sum(dim=1), torch.ones(2))),
    "The rows sum to 1 instead: normalise along the dim you are given (Part 2).")])
### BEGIN HIDDEN TESTS
from course_grader.checks import ch02_tensors as hidden
hidden.check_stable_softmax(stable_softmax)
### END HIDDEN TESTS

# %% [markdown]
# ### Experiment: how large can logits get? · 实验：logits 能有多大？
#
# We multiply a fixed row of logits `[1, 2, 3, 0.5]` by a growing scale `s` and plot the probability
# softmax gives the largest logit, naive formula against yours, in float32. Larger `s` means a more
# confident softmax, so that probability should climb smoothly to 1.
#
# **Predict · 预测:** at which scale `s` will the naive formula first return NaN? (The largest logit is
# `3·s`; use the float32 limit printed above.) Write your guess down, then run the next cell.

# %%
with needs("stable_softmax"):
    fig, stats = ex.softmax_scale_experiment(stable_softmax)
    ex.show(fig)
    print(f"naive softmax first returns NaN at scale s = {stats['first_nan_scale']:.1f}, where the largest logit "
          f"is {stats['top_logit_at_first_nan']:.1f} (the largest that still worked: "
          f"{stats['largest_finite_logit']:.1f}); "
          f"stable_softmax there gives the top logit p = {stats['stable_top_prob_at_first_nan']:.6f}")

# %% [markdown]
# Reading the figure: both curves agree while the logits are small. Once the largest logit passes
# about 88.7 (compare the two printed logits), `exp` overflows and the naive version returns NaN (red
# crosses), while the stable curve simply keeps approaching 1. `torch.softmax` returned finite values
# where the naive formula did not, so it shifts the logits too; fused attention kernels keep a running
# maximum of each row for the same reason (Milakov & Gimelshein 2018; Dao et al. 2022, §3.1).

# %% [markdown]
# ## Part 3 — Broadcasting · 广播
#
# When two tensors of different shapes meet in `+`, `-`, `*`, `==`, ..., PyTorch **broadcasts** them
# to one common shape, without copying any data (PyTorch's "Broadcasting semantics", which follow
# NumPy's rules):
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
#
# **Predict · 预测:** what shape does `(5, 1, 4) + (3, 1)` have, and does `(2, 3) + (4, 3)` work? Write
# your guess down, then run the next cell.

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
# `(5, 3, 4)`, as worked out above; `(2, 3) + (4, 3)` fails, because 2 and 4 differ and neither is 1.
#
# ### The classic bug: `(n,)` meets `(n, 1)` · 经典错误
#
# A linear layer with one output returns predictions of shape `(n, 1)`; labels usually come as
# shape `(n,)`. Aligned from the right, these are `(1, n)` against `(n, 1)`, and both size-1 dims
# stretch: the difference is an `(n, n)` matrix of *every prediction minus every label*. Its mean is
# a number, so the loss "works", but it is the wrong number and the model learns the wrong thing.
#
# **Predict · 预测:** the predictions below are perfect. What mean squared error will the buggy line
# print? Write your guess down, then run the next cell.

# %%
pred = torch.tensor([[1.0], [2.0], [3.0]])      # (3, 1), e.g. from nn.Linear(d, 1)
target = torch.tensor([1.0, 2.0, 3.0])          # (3,)   a perfect prediction!
diff = pred - target
print("shape of pred - target:", tuple(diff.shape))
print("MSE with the bug      :", ((pred - target) ** 2).mean().item())
print("MSE, shapes fixed     :", ((pred.squeeze(-1) - target) ** 2).mean().item())


# %% [markdown]
# A perfect prediction gets a loss of 1.33 instead of 0: the mean over all nine pairs. The cure is a
# habit: when a result's shape is not the one you expected, stop. Printing `.shape` is cheap; an assert
# like `assert pred.shape == target.shape` is cheaper than a wasted training run.
#
# ### Exercise 3 · 练习 3: `broadcast_shape`
#
# **Difficulty:** ●●○ · **Importance:** ●●● · **Time:** ~15 min
#
# Implement the three rules above for two shapes given as tuples of ints. Return a **tuple** (not a
# list). If the shapes are incompatible, raise `ValueError` whose message contains both shapes as
# Python prints them, e.g. `shapes (2, 3) and (4, 3) cannot be broadcast`.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Walk the positions from the right. What size does a shape have at a position it does not reach? For
# each pair of sizes, which results are possible, and when is it an error?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Negative indices count from the right, so `a[-1]` faces `b[-1]`. Decide what a position a shape does
# not reach counts as (rule 1), then write rule 2 for one pair of sizes as three cases. Work the example
# `(5, 1, 4)` with `(3, 1)` by hand with your loop, and watch the order in which you collect the sizes.
#
# </details>
# </details>

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
from course.checks import call, check, raises
from course.checks.ch02_tensors import call_or_explain, expect

left = "Line the shapes up from the right: the shorter one is padded with 1s on the left (Part 3, rule 1)."
expect(call_or_explain(broadcast_shape, (5, 1, 4), (3, 1), errors={"raised ValueError": (
    "(5, 1, 4) and (3, 1) do broadcast. " + left)}), (5, 3, 4), name="broadcast_shape((5, 1, 4), (3, 1))",
    mistakes={(5, 3, 1): left, (3, 1, 4): left, (5, 1, 4): left})
expect(call(broadcast_shape, (3,), (3, 1)), (3, 3), name="broadcast_shape((3,), (3, 1)), the (n,) + (n, 1) trap",
       mistakes={(3, 1): left})
expect(call_or_explain(broadcast_shape, (2, 3, 4), (4,), errors={"raised ValueError": (
    "(2, 3, 4) and (4,) do broadcast. " + left)}), (2, 3, 4), name="broadcast_shape((2, 3, 4), (4,))")
expect(call(broadcast_shape, (0, 3), (1, 3)), (0, 3), name="broadcast_shape((0, 3), (1, 3))", mistakes={
    (1, 3): "A size-0 dim meeting a size-1 dim stays 0: the result takes the size that is not 1 (Part 3, rule 3)."})
out = call(broadcast_shape, (2, 1), (1, 2))
check(type(out) is tuple, f"broadcast_shape must return a tuple, got {type(out).__name__} {out!r}: "
                          "wrap it in tuple(...)")
err = raises(ValueError, broadcast_shape, (2, 3), (4, 3),
             name="broadcast_shape((2, 3), (4, 3)): sizes 2 and 4 differ and neither is 1 (Part 3, rule 2)")
check("(2, 3)" in str(err) and "(4, 3)" in str(err),
      f"the ValueError's message should contain both shapes, (2, 3) and (4, 3); it was {str(err)!r}")
raises(ValueError, broadcast_shape, (0,), (2,),
       name="broadcast_shape((0,), (2,)): 0 is not 1, a size-0 dim broadcasts only with 0 or 1 (Part 3, rule 3)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch02_tensors as hidden
hidden.check_broadcast_shape(broadcast_shape)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4 · 练习 4: `pairwise_sq_distances` without loops
#
# **Difficulty:** ●●○ · **Importance:** ●●○ · **Time:** ~10 min
#
# Given `n` points `x` of shape `(n, d)` and `m` points `y` of shape `(m, d)`, return the `(n, m)`
# matrix of squared Euclidean distances: entry `[i, j]` is $\sum_k (x_{ik} - y_{jk})^2$.
# (Attention's `Q @ K.T` has the same "every row of one against every row of the other" structure.)
# No Python loops.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Broadcasting can pair every point of `x` with every point of `y` if their shapes are made to face each
# other: which new size-1 dims does each need, and where?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Indexing with `None` inserts a size-1 dim where you put it (try `torch.zeros(2, 3)[None].shape`).
# Aim for a difference of shape `(n, m, d)`: by rule 3, which input must have a size-1 dim in position
# 0, and which in position 1? Then one reduction, over the right dim.
#
# </details>
# </details>

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
from course.checks.ch02_tensors import call_or_explain, close_or_explain

x = torch.tensor([[0.0, 0.0],
                  [1.0, 0.0]])             # n = 2 points
y = torch.tensor([[0.0, 0.0],
                  [0.0, 2.0],
                  [3.0, 4.0]])             # m = 3 points
expected = torch.tensor([[0.0, 4.0, 25.0],
                         [1.0, 5.0, 20.0]])  # (n, m) = (2, 3)
got = call_or_explain(pairwise_sq_distances, x, y, errors={"must match the size": (
    "A (n,) term met an (m, 1) term: give each term the shape you mean, (n, 1) and (1, m) (Part 3, the classic bug).")})
close_or_explain(got, expected, name="pairwise_sq_distances of 2 and 3 points in 2-D", mistakes=[
    (lambda g: tuple(g.shape) == (3, 2), "Shape (3, 2) is (m, n): rows index the points of x, columns those of y."),
    (lambda g: tuple(g.shape) == (2, 2), "Shape (2, 2) is (n, d): you summed over the points of y; reduce over "
                                         "the coordinates, the last dim (Part 3)."),
    (lambda g: bool(torch.allclose(g ** 2, expected)), "These are distances: the exercise wants them squared."),
    (torch.tensor([[0.0, 2.0, 7.0], [1.0, 3.0, 6.0]]), "Those are sums of absolute differences: square them.")])
### BEGIN HIDDEN TESTS
from course_grader.checks import ch02_tensors as hidden
hidden.check_pairwise_sq_distances(pairwise_sq_distances)
### END HIDDEN TESTS

# %% [markdown]
# How much do loops cost? Below, a double Python loop and your function compute the same `n × n`
# matrix for growing `n`. (Your function builds an `(n, m, d)` intermediate tensor; for big inputs
# libraries use the expansion $\lVert x\rVert^2 - 2\,x \cdot y + \lVert y\rVert^2$, which is one matrix
# multiply but can return tiny negative numbers from rounding.)
#
# **Predict · 预测:** for 80 × 80 points, how many times faster will the broadcasting version be: 2, 20
# or 200? Write your guess down, then run the next cell.

# %%
with needs("pairwise_sq_distances"):
    fig, stats = ex.distance_timing_experiment(pairwise_sq_distances)
    ex.show(fig)
    print(f"n = {stats['n']}: loop {stats['loop_ms']:.1f} ms ({stats['loop_ms'] * 1e3 / stats['n'] ** 2:.1f} µs per "
          f"pair), broadcasting {stats['broadcast_ms']:.3f} ms, {stats['speedup']:.0f}x faster")

# %% [markdown]
# The loop's time grows with the number of pairs, and each pair pays Python's and PyTorch's per-call
# overhead, the microseconds per pair printed above; the broadcasting version pays that overhead once
# and lets one C++ kernel do the arithmetic. The printed speed-up is for the largest `n`; the gap keeps
# widening with `n`.

# %% [markdown]
# ## Part 4 — Storage, strides and offset · 存储、步长与偏移
#
# Memory is one-dimensional. A tensor is a flat block of numbers, its **storage** (存储), plus three
# pieces of bookkeeping that say how to read it as a grid (PyTorch's "Tensor Views" documentation):
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
# use it all the way through this part. A freshly created tensor is laid out **row-major** (C order):
# the last dim is adjacent in memory (stride 1), and each earlier dim jumps over one whole block of the
# dims after it. For shape `(2, 3, 4)` that gives strides `(12, 4, 1)`.
#
# ### Exercise 5 · 练习 5: `contiguous_strides`
#
# **Difficulty:** ●○○ · **Importance:** ●●○ · **Time:** ~10 min
#
# Return the row-major strides of a shape, as a tuple, in elements (not bytes).
#
# One corner case: PyTorch counts a **size-0 dim as if it were size 1** in that product, so
# `torch.empty(2, 0, 3).stride()` is `(3, 3, 1)`, not `(0, 3, 1)`. Match that.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# What is the stride of the last dim? To move one step along dim `k`, how many elements of the dims
# after it do you skip?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Do `(2, 3, 4)` by hand: the last stride is 1; what do you multiply to get the stride before it, and
# the one before that? A loop that walks the shape backwards can keep that product as it goes. Then
# check `(2, 0, 3)` against the corner case, and the order of what you return.
#
# </details>
# </details>

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
from course.checks import call, check
from course.checks.ch02_tensors import expect

out = call(contiguous_strides, (2, 3, 4))
check(type(out) is tuple, f"contiguous_strides must return a tuple, got {type(out).__name__} {out!r}")
expect(out, (12, 4, 1), name="contiguous_strides((2, 3, 4))", mistakes={
    (1, 2, 6): "Those are column-major (Fortran-order) strides: in PyTorch the LAST dim has stride 1 (Part 4).",
    (1, 4, 12): "The right strides in reverse order: list them in the order of the dims, first dim first.",
    (24, 12, 4): "Each stride includes its own dim's size: the last stride is 1, and each earlier one skips the "
                 "dims after it only (Part 4)."})
expect(call(contiguous_strides, (3, 2)), (2, 1), name="contiguous_strides((3, 2))")
expect(call(contiguous_strides, (5,)), (1,), name="contiguous_strides((5,))")
expect(call(contiguous_strides, ()), (), name="contiguous_strides(()) (a scalar has no strides)")
expect(call(contiguous_strides, (2, 0, 3)), tuple(torch.empty(2, 0, 3).stride()), name="contiguous_strides((2, 0, 3))",
       mistakes={(0, 3, 1): "A size-0 dim counts as size 1 in the product, as PyTorch does (Part 4, the corner case)."})
### BEGIN HIDDEN TESTS
from course_grader.checks import ch02_tensors as hidden
hidden.check_contiguous_strides(contiguous_strides)
### END HIDDEN TESTS

# %% [markdown]
# ### Views: new bookkeeping, same storage · 视图
#
# Many operations do not touch the numbers at all; they return a **view** (视图): a new tensor object
# with its own shape, strides and offset over the **same storage**. Two addresses tell them apart:
# `untyped_storage().data_ptr()` is where the storage starts, the same for every view of it;
# `data_ptr()` is the address of the view's own first element `[0, 0]`, the storage start plus
# `storage_offset() × element_size()` bytes (8 per element for the int64 `t`).
#
# * `t.T` swaps the strides: stepping along a row of the transpose jumps 4 elements in memory;
# * `t[::2]` (every other row) doubles the row stride;
# * `t[1:, 1:]` keeps the strides and moves the offset to where `[1, 1]` was;
# * `t[:, :1].expand(3, 4)` repeats a column by giving the new dim **stride 0**: moving along it
#   never moves in memory.
#
# **Predict · 预测:** what offset will `t[1:, 1:]` have, and how many bytes after `t`'s first element will
# its `data_ptr()` be? Write your guess down, then run the next cell.

# %%
views = {"t": t, "t.T": t.T, "t[::2]": t[::2], "t[:, ::2]": t[:, ::2], "t[1:, 1:]": t[1:, 1:],
         "t[:, :1].expand(3, 4)": t[:, :1].expand(3, 4)}
print(f"{'view':24}{'shape':10}{'stride':10}{'offset':>6}{'data_ptr - t.data_ptr':>24}  same storage as t?")
for name, v in views.items():
    same = v.untyped_storage().data_ptr() == t.untyped_storage().data_ptr()
    print(f"{name:24}{str(tuple(v.shape)):10}{str(v.stride()):10}{v.storage_offset():>6}"
          f"{v.data_ptr() - t.data_ptr():>20} B   {same}")


# %% [markdown]
# Every view shares `t`'s storage, and its `data_ptr()` is exactly `8 × offset` bytes further: `t[1:, 1:]`
# starts at offset 5, 40 bytes in. Nothing was copied.
#
# ### Exercise 6 · 练习 6: `slice_view`
#
# **Difficulty:** ●●○ · **Importance:** ●●○ · **Time:** ~15 min
#
# Slicing is one of those bookkeeping operations. Given a tensor's shape, strides and offset, work out
# the shape, strides and offset of the view `t[..., start:stop:step, ...]`, the slice taken on dim
# `dim`, without making any tensor. The tests compare your answer with real slices of real views.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Which of the three pieces of bookkeeping can a slice on one dim change, and for which dims? Where does
# the view's element `[0, 0, ...]` sit in the storage, and how far apart in memory are two neighbours
# along `dim` now? How many indices does a `start:stop:step` slice keep?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Make the first test's view for real, `torch.arange(24).view(4, 6)[:, 1:6:2]`, and print its shape,
# `stride()` and `storage_offset()` next to `t`'s: which numbers changed, and by how much? Python's own
# `range` can count the indices of a `start:stop:step` for you. Validate the arguments first.
#
# </details>
# </details>

# %% answer="slice_view"
def slice_view(shape, strides, offset, dim, start, stop, step=1):
    """Shape, strides and storage offset of t[..., start:stop:step, ...], the slice on dim `dim` of a tensor t.

    shape, strides: tuples of ints of the same length, t's shape and t.stride(); offset: int, t.storage_offset().
    dim: int, the dim sliced; negative counts from the end, as in PyTorch.
    start, stop, step: ints with 0 <= start <= stop <= shape[dim] and step >= 1.
    Returns a tuple (new_shape, new_strides, new_offset), two tuples of ints and an int: what v.shape,
    v.stride() and v.storage_offset() give for the view v.
    Raises ValueError if dim is out of range, or start, stop or step are outside those ranges.
    """
    ### BEGIN SOLUTION
    if not -len(shape) <= dim < len(shape):
        raise ValueError(f"dim {dim} is out of range for a {len(shape)}-dim shape")
    if not (0 <= start <= stop <= shape[dim] and step >= 1):
        raise ValueError(f"need 0 <= start <= stop <= {shape[dim]} and step >= 1, got {start}:{stop}:{step}")
    new_shape, new_strides = list(shape), list(strides)  # a negative dim indexes these lists from the end too
    new_shape[dim] = len(range(start, stop, step))  # counts the last, partial step too
    new_strides[dim] = strides[dim] * step  # neighbours along dim are now `step` old steps apart
    return tuple(new_shape), tuple(new_strides), offset + start * strides[dim]  # element [0, ...] moved by `start`
    ### END SOLUTION


# %% tests="slice_view_tests" points=2
import torch
from course.checks import call, check, raises
from course.checks.ch02_tensors import expect

t = torch.arange(24).view(4, 6)


def real(v):
    return tuple(v.shape), v.stride(), v.storage_offset()


out = call(slice_view, (4, 6), (6, 1), 0, 1, 1, 6, 2)          # t[:, 1:6:2]
check(type(out) is tuple and len(out) == 3 and type(out[0]) is tuple and type(out[1]) is tuple and type(out[2]) is int,
      f"slice_view should return (a tuple, a tuple, an int), got {out!r}")
expect(out, real(t[:, 1:6:2]), name="slice_view for t[:, 1:6:2] of t = arange(24).view(4, 6)", mistakes={
    ((4, 2), (6, 2), 1): "The size is one short: 1:6:2 keeps the columns 1, 3 and 5, three of them; count the last, "
                         "partial step too (Part 4, Exercise 6).",
    ((4, 3), (6, 2), 0): "The offset did not move: the view's element [0, 0] is t[0, 1] (Part 4, Exercise 6).",
    ((4, 3), (6, 1), 1): "Stepping by 2 along dim 1 skips every other element: the stride along dim grows with the "
                         "step (Part 4, Exercise 6).",
    ((4, 5), (6, 1), 1): "You ignored the step: 1:6:2 keeps every second column (Part 4, Exercise 6)."})
expect(call(slice_view, (4, 6), (6, 1), 0, 0, 1, 4), real(t[1:4]), name="slice_view for t[1:4]", mistakes={
    ((3, 6), (6, 1), 1): "The offset moved by start = 1 element, but one step along dim 0 is stride[0] = 6 elements "
                         "(Part 4, Exercise 6).",
    ((3, 6), (6, 1), 0): "The offset did not move: the view's element [0, 0] is t[1, 0] (Part 4, Exercise 6)."})
v = t[1:]                                                        # offset 6
expect(call(slice_view, tuple(v.shape), v.stride(), v.storage_offset(), 1, 2, 5), real(v[:, 2:5]),
       name="slice_view for t[1:][:, 2:5] (a view of a view, offset 6)", mistakes={
           ((3, 3), (6, 1), 2): "The new offset counts from the old one: the view starts where t[1:] did, at "
                                "offset 6 (Part 4, Exercise 6)."})
expect(call(slice_view, (4, 6), (6, 1), 0, -1, 2, 5), real(t[:, 2:5]), name="slice_view with dim=-1 (the last dim)",
       mistakes={((4, 6), (6, 1), 0): "Nothing changed: dim=-1 is the last dim, as in PyTorch (Part 4, Exercise 6)."})
expect(call(slice_view, (4, 6), (6, 1), 0, 1, 3, 3), real(t[:, 3:3]), name="slice_view for t[:, 3:3] (empty)")
expect(call(slice_view, (6, 4), (1, 6), 0, 1, 1, 4, 2), real(t.T[:, 1:4:2]), name="slice_view for t.T[:, 1:4:2] "
       "(t.T has shape (6, 4) and strides (1, 6))", mistakes={
           ((6, 2), (4, 2), 1): "Those are the strides of a fresh (6, 4) tensor: the strides argument was ignored; a "
                                "view's strides need not be row-major (Part 4, Exercise 6)."})
raises(ValueError, slice_view, (4, 6), (6, 1), 0, 1, 4, 2, name="slice_view with start 4 > stop 2")
raises(ValueError, slice_view, (4, 6), (6, 1), 0, 1, 0, 7, name="slice_view with stop 7 > size 6")
raises(ValueError, slice_view, (4, 6), (6, 1), 0, 1, 0, 6, 0, name="slice_view with step 0")
raises(ValueError, slice_view, (4, 6), (6, 1), 0, 2, 0, 1, name="slice_view with dim 2 of a 2-dim shape")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch02_tensors as hidden
hidden.check_slice_view(slice_view)
### END HIDDEN TESTS

# %% [markdown]
# Here is a picture of the transpose `t.T` of the `(3, 4)` tensor from the table. The grid is the view,
# each cell labelled and coloured by the storage position it reads; the strip below is the storage
# itself. The red frame marks element `[1, 2]` of the view.
#
# **Predict · 预测:** which storage position does `t.T[1, 2]` read? Write your guess down, then run the
# next cell.

# %%
t = torch.arange(12).reshape(3, 4)
print("t.T[1, 2] reads storage position", t.T[1, 2].item(), "=", t.T.storage_offset(), "+ 1 ·", t.T.stride(0),
      "+ 2 ·", t.T.stride(1))
ex.show(ex.layout_figure(t.T, storage_size=12, highlight=5, title="t.T: shape (4, 3), strides (1, 4)"))

# %% [markdown]
# Reading it: position 9, and walking along a row of `t.T` (left to right) jumps 4 cells in the strip,
# walking down a column moves 1 cell. The storage is untouched, only the bookkeeping changed.
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
# ### Exercise 7 · 练习 7: `is_contiguous`
#
# **Difficulty:** ●●○ · **Importance:** ●●○ · **Time:** ~10 min
#
# Implement that rule. Return a Python `bool`.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Compare each stride with what Exercise 5 would give. Which dims may be skipped in that comparison, and
# does skipping them change what the other dims' strides should be?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Reuse the idea of your `contiguous_strides`: walking the shape backwards, you know at each dim which
# stride a row-major layout would have there. Decide which dims take no part in the comparison, and
# whether skipping them should change the product you carry. One of the two exceptions can be settled
# before the loop.
#
# </details>
# </details>

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
from course.checks import call, check
from course.checks.ch02_tensors import expect

out = call(is_contiguous, (3, 4), (4, 1))
check(type(out) is bool, f"is_contiguous must return a Python bool, got {type(out).__module__}.{type(out).__name__} "
                         f"{out!r}: wrap the result in bool(...)")
expect(out, True, name="is_contiguous((3, 4), (4, 1))")
expect(call(is_contiguous, (4, 3), (1, 4)), False, name="is_contiguous((4, 3), (1, 4)) (a transpose)")
expect(call(is_contiguous, (2, 4), (8, 1)), False, name="is_contiguous((2, 4), (8, 1)) (rows [::2])", mistakes={
    True: "The last stride is 1, but the rows are 8 elements apart, not 4: there is a gap. Check every dim "
          "(Part 4, 'Contiguous or not')."})
expect(call(is_contiguous, (3, 1), (1, 7)), True, name="is_contiguous((3, 1), (1, 7))", mistakes={
    False: "A size-1 dim's stride never matters, you never step along it (Part 4, 'Contiguous or not')."})
expect(call(is_contiguous, (1, 3), (99, 1)), True, name="is_contiguous((1, 3), (99, 1))", mistakes={
    False: "A size-1 dim's stride never matters, you never step along it (Part 4, 'Contiguous or not')."})
expect(call(is_contiguous, (0, 3), (5, 5)), True, name="is_contiguous((0, 3), (5, 5))", mistakes={
    False: "An empty tensor (a size-0 dim) holds no elements and is always contiguous (Part 4, 'Contiguous or not')."})
v = torch.arange(24).reshape(2, 3, 4).permute(1, 0, 2)
expect(call(is_contiguous, tuple(v.shape), v.stride()), v.is_contiguous(), name="is_contiguous of a permuted (2, 3, 4)")
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
# cannot be a view. `x.reshape(...)` returns a view when one exists and **copies** when it must;
# `x.contiguous()` copies into fresh row-major storage (and returns `x` itself if it already is
# contiguous). Comparing storage addresses tells you which happened.
#
# **Predict · 预测:** of `tt.reshape(12)`, `t.reshape(12)` and `tt.contiguous()`, which ones copy? Write
# your guess down, then run the next cell.

# %%
def same_storage(a, b):
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


tt = t.T                                   # (4, 3), strides (1, 4): not contiguous
try:
    tt.view(12)
except RuntimeError as err:
    print("tt.view(12) failed:", err)
flat = tt.reshape(12)
print("tt.reshape(12)     :", flat.tolist(), "| copied:", not same_storage(flat, t))
print("t.reshape(12)      : copied:", not same_storage(t.reshape(12), t), "(t is contiguous: a view)")
fixed = tt.contiguous()
print("tt.contiguous()    : strides", fixed.stride(), "| copied:", not same_storage(fixed, t),
      "| then .view(12) works:", tuple(fixed.view(12).shape))

# %% [markdown]
# The transpose's `reshape` and `contiguous` copy; `t.reshape(12)` is a view. Why care? Copies cost
# memory traffic (chapter 01: moving bytes is often the bottleneck), and a view **shares** its numbers:
# writing into a view writes into the original. That is a feature when you mean it (an in-place update
# of a slice) and a nasty bug when you don't.

# %% [markdown]
# ## Part 5 — Splitting attention heads · 拆分注意力头
#
# Multi-head attention runs `n_heads` small attentions side by side (Vaswani et al. 2017, §3.2.2). The
# `d_model` features of each token are cut into `n_heads` consecutive groups of
# `d_head = d_model / n_heads`: head 0 gets features `0 .. d_head-1`, head 1 the next `d_head`, and so
# on. For the batched matmuls we want the heads as a dim *in front of* the sequence:
# `(batch, n_heads, seq, d_head)`.
#
# Two steps, both views, no copy:
#
# 1. split the **last** dim in two, `n_heads` groups of `d_head`. Legal as a view, because the last
#    dim is contiguous;
# 2. swap the `seq` and `n_heads` dims. Strides swap, the result is not contiguous.
#
# Merging back is the reverse: swap the two dims back to `(batch, seq, n_heads, d_head)`, then glue the
# last two dims. Whether the glue can be a view depends on the layout it gets. Undoing your own
# `split_heads` restores `x`'s row-major layout, and the glue is a view again. But in a real model
# `merge_heads` receives the output of the attention matmul, a *fresh contiguous*
# `(batch, n_heads, seq, d_head)` tensor; after the transpose that one is not contiguous, `.view`
# raises, and only `.reshape` (or `.contiguous().view`) works, with a copy.
#
# **The tempting shortcut is wrong.** `x.view(batch, n_heads, seq, d_head)` has the right shape, but
# it re-reads memory in order.
#
# **Predict · 预测:** in the tiny example below (each value is its storage position), which numbers will
# the shortcut put in head 0? Write your guess down, then run the next cell.

# %%
x = torch.arange(12).view(1, 3, 4)        # batch 1, seq 3, d_model 4 -> 2 heads of d_head 2
print("x[0] (rows = tokens):\n", x[0])
print("what head 0 must hold, features 0-1 of every token (sliced out, a view of another shape):\n", x[0, :, 0:2])
print("wrong: x.view(1, 2, 3, 2)[0, 0] mixes tokens:\n", x.view(1, 2, 3, 2)[0, 0])


# %% [markdown]
# The shortcut's "head 0" holds `0 .. 5`: all the features of the first one and a half tokens.
#
# ### Exercise 8 · 练习 8: `split_heads` and `merge_heads`
#
# **Difficulty:** ●●○ · **Importance:** ●●● · **Time:** ~15 min
#
# `split_heads` must return a **view** of `x` (the tests check that it shares storage) and raise
# `ValueError` when `d_model` is not divisible by `n_heads`. `merge_heads` is its inverse, and must also
# work on a fresh contiguous `(batch, n_heads, seq, d_head)` tensor, as attention's output is. It copies
# only when it must: undoing your own split gives back a view of `x` (the tests and the cell after them
# check that).
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Which dim must be split, and into which two sizes, so that each head gets a consecutive block of
# features? After the split, which two dims are in the wrong order? For `merge_heads`, which of
# `view` and `reshape` works on every layout it may get?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Each of the two steps above is one of the operations of Part 4's table and of 'view versus reshape'.
# Check your `split_heads` on the tiny example: head 0 must print what the slice printed. For
# `merge_heads`, undo the steps in the reverse order, and pick the gluing operation that survives a
# non-contiguous input but does not copy when it need not (the cell after the tests checks both).
#
# </details>
# </details>

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

    x: tensor of shape (batch, n_heads, seq, d_head), of any layout (a split view, or a fresh contiguous tensor).
    Returns a tensor of shape (batch, seq, n_heads * d_head).
    """
    ### BEGIN SOLUTION
    batch, n_heads, seq, d_head = x.shape
    return x.transpose(1, 2).reshape(batch, seq, n_heads * d_head)  # a view when the layout allows, else a copy
    ### END SOLUTION


# %% tests="split_heads_tests" points=2
import torch
from course.checks import call, check, equal, raises
from course.checks.ch02_tensors import close_or_explain

x = torch.arange(24.0).view(1, 3, 8)                 # batch 1, seq 3, d_model 8
out = call(split_heads, x, 2)                    # 2 heads of d_head 4
check(tuple(out.shape) != (1, 3, 2, 4), "split_heads returned shape (batch, seq, n_heads, d_head) = (1, 3, 2, 4): "
                                        "the heads must come before seq, so swap those two dims (Part 5)")
equal(tuple(out.shape), (1, 2, 3, 4), name="shape of split_heads(x of shape (1, 3, 8), n_heads=2)")
close_or_explain(out[0, 0], x[0, :, 0:4], atol=0, name="head 0 (should be features 0-3 of every token)", mistakes=[
    (torch.arange(12.0).view(3, 4), "Head 0 holds all the features of the first tokens: that is the tempting "
                                    "shortcut, a view straight to (batch, n_heads, seq, d_head) (Part 5).")])
close_or_explain(out[0, 1], x[0, :, 4:8], atol=0, name="head 1 (should be features 4-7 of every token)")
check(out.untyped_storage().data_ptr() == x.untyped_storage().data_ptr(),
      "split_heads should return a view of x, but it copied (reshape of a non-contiguous tensor, .contiguous() or "
      ".clone() copy): use view and transpose (Part 5)")
out = call(split_heads, x, 4)                    # the same x in 4 heads of d_head 2
check(tuple(out.shape) != (1, 2, 3, 4), "split_heads(x, 4) returned 2 heads: the n_heads argument was ignored")
equal(tuple(out.shape), (1, 4, 3, 2), name="shape of split_heads(x of shape (1, 3, 8), n_heads=4)")
close_or_explain(out[0, 3], x[0, :, 6:8], atol=0, name="head 3 of 4 (should be features 6-7 of every token)")
raises(ValueError, split_heads, torch.zeros(1, 3, 10), 4,
       name="split_heads with d_model=10, n_heads=4: check that n_heads divides d_model and raise ValueError")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch02_tensors as hidden
hidden.check_split_heads(split_heads)
### END HIDDEN TESTS

# %% tests="merge_heads_tests" points=1
import torch
from course.checks import check
from course.checks.ch02_tensors import call_or_explain, close_or_explain

# Attention's output is a fresh, contiguous (batch, n_heads, seq, d_head) tensor: here the transpose
# inside merge_heads makes it non-contiguous, and .view alone fails.
out = torch.arange(24.0).view(1, 2, 3, 4)           # head h, token s: out[0, h, s]
expected = torch.tensor([[[0.0, 1, 2, 3, 12, 13, 14, 15],
                          [4, 5, 6, 7, 16, 17, 18, 19],
                          [8, 9, 10, 11, 20, 21, 22, 23]]])
got = call_or_explain(merge_heads, out, errors={"view size is not compatible": (
    "After the transpose this tensor is not contiguous, and no view can glue its last two dims: reshape (or "
    ".contiguous().view) copies when it must (Part 5).")})
close_or_explain(got, expected, atol=0, name="merge_heads of a contiguous (1, 2, 3, 4) tensor", mistakes=[
    (torch.arange(24.0).view(1, 3, 8), "The tokens got mixed: bring seq back in front of the heads (transpose) "
                                       "before gluing the last two dims (Part 5)."),
    (torch.tensor([[[0.0, 12, 1, 13, 2, 14, 3, 15], [4, 16, 5, 17, 6, 18, 7, 19], [8, 20, 9, 21, 10, 22, 11, 23]]]),
     "The heads' features are interleaved: keep each head's d_head features together, head 0's first (Part 5).")])
x = torch.arange(24.0).view(1, 3, 8)
heads = x.view(1, 3, 2, 4).transpose(1, 2)          # a correct split: (1, 2, 3, 4), not contiguous
merged = call_or_explain(merge_heads, heads, errors={})
close_or_explain(merged, x, atol=0, name="merge_heads of a split (1, 3, 8) tensor")
check(merged.untyped_storage().data_ptr() == x.untyped_storage().data_ptr(),
      "merge_heads copied a split it could have glued back as a view: undoing a split is free, and the cell after "
      "these tests prints that it is. torch.cat and .clone() always copy; reshape and .contiguous() copy only "
      "when they must (Part 4, 'view versus reshape')")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch02_tensors as hidden
hidden.check_merge_heads(merge_heads)
### END HIDDEN TESTS

# %% [markdown]
# Here is your `split_heads` on the same small `arange` tensor, drawn like the stride explorer: one
# grid per head (rows = tokens, columns = that head's features), above the storage they read. The red
# frame is head 0, token 1, feature 1.
#
# **Predict · 预测:** does `merge_heads(split_heads(x))` copy `x`, and does `merge_heads` copy a fresh
# contiguous `(1, 2, 3, 4)` tensor? Write your guesses down, then run the next cell.

# %%
with needs("split_heads", "merge_heads"):
    x = torch.arange(24).view(1, 3, 8)
    heads = split_heads(x, 2)                                 # (1, 2, 3, 4)
    print("split: shape", tuple(heads.shape), "strides", heads.stride(), "contiguous:", heads.is_contiguous())
    merged = merge_heads(heads)
    print("merge_heads(split_heads(x)) == x:", torch.equal(merged, x), "| shares x's storage:", same_storage(merged, x))
    fresh = torch.arange(24).view(1, 2, 3, 4)                 # like attention's output
    print("merge_heads(fresh contiguous tensor) shares its storage:", same_storage(merge_heads(fresh), fresh))
    ex.show(ex.layout_figure(heads[0], storage_size=24, highlight=5, slice_label="head {}",
                             title="split_heads(arange(24).view(1, 3, 8), 2)[0]"))

# %% [markdown]
# Reading it: undoing your own split is free (the result shares `x`'s storage), merging attention's
# fresh output copies. In the picture, head 1's first row reads storage 4 to 7, the next row jumps to
# 12: a stride of 8 between tokens, exactly `d_model`. The printed strides say the same thing.
#
# ## Summary · 小结
#
# * A reduction removes the dim you name; `keepdim=True` keeps it as size 1 so the result broadcasts
#   back against its input along the right axis.
# * Softmax and log-sum-exp are stable once you subtract a **per-row maximum** first; the mean or the
#   minimum is not enough, and float16 overflows already at `exp(11.1)`.
# * Broadcasting aligns shapes from the right and stretches size-1 dims; `(n,)` with `(n, 1)` gives
#   `(n, n)` without any error, so check shapes.
# * A tensor is storage + shape + strides + offset. Transpose, permute, slicing and expand only
#   change the bookkeeping; `view` needs compatible strides, `reshape` and `contiguous()` copy when
#   they must.
# * Head splitting is `view` + `transpose`; merging needs `reshape` (or `contiguous().view`), which
#   copies attention's fresh output.
#
# Later chapters put these pieces together in scaled dot-product attention and multi-head attention.

# %% [markdown]
# ## References · 参考文献
#
# 1. Goodfellow, I., Bengio, Y. & Courville, A. (2016). Deep Learning. MIT Press. §4.1 (overflow and
#    underflow; softmax evaluated as softmax(x − max_i x_i)).
# 2. IEEE Std 754-2019, IEEE Standard for Floating-Point Arithmetic (binary16 and binary32; overflow to
#    infinity, inf/inf = NaN). The limits printed in Part 2 come from `torch.finfo`.
# 3. Micikevicius, P. et al. (2018). Mixed Precision Training. ICLR 2018, arXiv:1710.03740. §3 (FP16
#    training and its range).
# 4. Milakov, M. & Gimelshein, N. (2018). Online normalizer calculation for softmax. arXiv:1805.02867.
#    §2 (the "safe" softmax, shifted by the maximum), §3 (a running maximum).
# 5. Dao, T. et al. (2022). FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness.
#    NeurIPS 2022, arXiv:2205.14135. §3.1 (softmax in blocks, with a running row maximum).
# 6. PyTorch documentation: "Broadcasting semantics"; "Tensor Views"; `torch.Tensor.stride`,
#    `storage_offset`, `is_contiguous`, `view`, `reshape`, `contiguous`.
# 7. NumPy documentation: "Broadcasting" (the general broadcasting rules PyTorch follows).
# 8. Vaswani, A. et al. (2017). Attention Is All You Need. NeurIPS 2017, arXiv:1706.03762. §3.2.2
#    (multi-head attention, d_k = d_v = d_model / h).

# %%
glossary.show("02-tensors")
