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

# %% [markdown] lang="zh"
# # 张量：归约、广播与连续性 · Tensors: reduction, broadcasting, contiguity
#
# 缩放点积注意力只需一行代码：`softmax(Q @ K.transpose(-2, -1) / sqrt(d_head)) @ V`。这一行背后悄悄依赖着三项张量技能：
#
# * **归约**（reduction）：softmax 要除以*沿某一维的和*，而且不能溢出；
# * **广播**（broadcasting）：形状为 `(batch, seq, 1)` 的每行最大值，无需复制就能从形状为 `(batch, seq, seq)`
#   的分数矩阵中减去；
# * **步长**（stride）：形状为 `(batch, seq, d_model)` 的激活值被重新解读为 `(batch, heads, seq, d_head)`，
#   而数据一点也没有移动。
#
# 其中任何一项稍有差错，PyTorch 通常*不会*报错：你会得到一个形状错误的张量，或者形状正确但数值错误的张量。本章的目的，
# 就是在这些错误浪费一次训练之前把它们找出来。
#
# | | 你要写的 | 你会看到的 |
# |---|---|---|
# | 1 | `center_rows` | 归约会去掉哪一维，以及 `keepdim` 有什么用 |
# | 2 | `log_sum_exp`、`stable_softmax` | logits 很大时，朴素的 softmax 返回 NaN |
# | 3 | `broadcast_shape`、`pairwise_sq_distances` | PyTorch 使用的广播规则，以及 `(n,) + (n, 1)` 的陷阱 |
# | 4 | `contiguous_strides`、`slice_view`、`is_contiguous` | 步长与偏移；为什么 `transpose` 之后 `view` 会失败 |
# | 5 | `split_heads`、`merge_heads` | 多头注意力内部的形状变换 |

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

# %% [markdown] lang="zh"
# ## 开始之前 · Before you start
#
# **本章要实现：**
# * `center_rows`：一个使用 `keepdim` 的归约；
# * `log_sum_exp` 与 `stable_softmax`：softmax 及其分母的对数，不会溢出；
# * `broadcast_shape` 与 `pairwise_sq_distances`：PyTorch 的广播规则，以及它的一个应用；
# * `contiguous_strides`、`slice_view` 与 `is_contiguous`：存储、步长和偏移的簿记；
# * `split_heads` 与 `merge_heads`：多头注意力内部的形状变换。
#
# **预备知识：** 第 01 章（矩阵乘法的开销，以及为什么搬运字节很重要）；Python 和 PyTorch 基础（`torch.tensor`、索引、
# `.shape`）；指数函数和对数函数。
#
# **用时：** 约 120 分钟（阅读 40 分钟，练习 65 分钟，实验 15 分钟）。

# %% [markdown]
# Run the set-up cell first. It imports PyTorch, this chapter's experiments and widget, and fixes
# the random seed so the numbers you see match your classmates'.

# %% [markdown] lang="zh"
# 先运行初始化单元格。它导入 PyTorch、本章的实验和交互组件，并固定随机种子，这样你看到的数字与同学们的一致。

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

# %% [markdown] lang="zh"
# ## 第 1 部分 归约与保留维度 · Part 1 — Reductions and `keepdim`
#
# **归约**把沿某一维的所有值合并成一个值：`sum`、`mean`、`max`、`logsumexp`……你指定的那一维，
# 就是从形状中**消失**的那一维。`x.sum(dim=0)` 应读作“*沿*第 0 维求和”，而不是“保留第 0 维”。
#
# **预测 · Predict：** 对于形状为 `(2, 3)` 的张量，`x.sum(dim=0)`、`x.sum(dim=1)` 和 `x.sum(dim=1, keepdim=True)`
# 的形状分别是什么？先写下你的猜测，再运行下一个单元格。

# %%
x = torch.arange(6.0).reshape(2, 3)
print(x)
print("x.sum()                      ", tuple(x.sum().shape))
print("x.sum(dim=0)                 ", tuple(x.sum(dim=0).shape), x.sum(dim=0))
print("x.sum(dim=1)                 ", tuple(x.sum(dim=1).shape), x.sum(dim=1))
print("x.sum(dim=1, keepdim=True)   ", tuple(x.sum(dim=1, keepdim=True).shape))
print("x.max(dim=1) gives values and indices:", x.max(dim=1))

# %% lang="zh"
x = torch.arange(6.0).reshape(2, 3)
print(x)
print("x.sum()                      ", tuple(x.sum().shape))
print("x.sum(dim=0)                 ", tuple(x.sum(dim=0).shape), x.sum(dim=0))
print("x.sum(dim=1)                 ", tuple(x.sum(dim=1).shape), x.sum(dim=1))
print("x.sum(dim=1, keepdim=True)   ", tuple(x.sum(dim=1, keepdim=True).shape))
print("x.max(dim=1) 同时给出最大值和下标：", x.max(dim=1))

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

# %% [markdown] lang="zh"
# 指定的维度不见了：沿第 0 维求和得到 `(3,)`，沿第 1 维得到 `(2,)`；而 `keepdim=True` 把这一维以大小 1 保留下来，得到
# `(2, 1)`。一旦要把结果与原张量一起运算，这一点就很关键。要把每一行除以该行的和（使每行之和为 1），这些和的形状必须是
# `(rows, 1)`：每行一个数，沿列方向拉伸。如果不用 `keepdim`，它们的形状是 `(rows,)`，而广播（第 3 部分）会把 `(rows,)`
# 向量与**列**对齐。
#
# 对于非方阵，这个错误至少会引发报错；对于方阵，代码照常运行，却返回错误的数值。
#
# **预测 · Predict：** 下面这个方阵的两行之和分别是 4 和 40，`sq / sq.sum(dim=1)` 的第 0 行是什么？先写下你的猜测，
# 再运行下一个单元格。

# %%
sq = torch.tensor([[1.0, 3.0],
                   [10.0, 30.0]])              # row sums: 4 and 40
print("row sums         :", sq.sum(dim=1))
print("without keepdim  :\n", sq / sq.sum(dim=1))                # divides EVERY row by [4, 40]
print("with keepdim     :\n", sq / sq.sum(dim=1, keepdim=True))   # divides row 0 by 4, row 1 by 40

# %% lang="zh"
sq = torch.tensor([[1.0, 3.0],
                   [10.0, 30.0]])              # 行和：4 和 40
print("行和：        ", sq.sum(dim=1))
print("不用 keepdim：\n", sq / sq.sum(dim=1))                # 每一行都除以 [4, 40]
print("使用 keepdim：\n", sq / sq.sum(dim=1, keepdim=True))   # 第 0 行除以 4，第 1 行除以 40


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

# %% [markdown] lang="zh"
# 第一个结果的各行之和并不是 1：第 0 行变成了 `[0.25, 0.075]`，它的第一个元素除以的是第 0 行的和，
# 第二个元素除以的却是第 1 行的和。没有任何警告，因为 `(2, 2) / (2,)` 是完全合法的广播。
#
# ### 练习 1 · Exercise 1: `center_rows`
#
# **难度：** ●○○ · **重要性：** ●●● · **用时：** 约 5 分钟
#
# 从形状为 `(rows, cols)` 的矩阵的每一行中减去**该行**的均值，使结果的每一行均值为 0。测试会用到方阵和非方阵输入。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 沿一行方向的是哪一维，也就是均值要归约的那一维？均值必须是什么形状，才能逐行相减？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 回到上面求行和的单元格：它的两行代码中，哪一行把每行的统计量与它自己的行对齐了？你的函数需要同样的写法，
# 只是换一个统计量、换一种运算。运行测试之前，先在那个单元格的 `sq` 上试一试。
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


# %% answer="center_rows" lang="zh"
def center_rows(x):
    """每一行减去该行的均值。

    x：形状为 (rows, cols) 的浮点张量。
    返回一个形状为 (rows, cols) 的新张量，它的每一行均值都为 0。
    函数本身不抛出异常（输入有误时由张量运算报错即可）。
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

# %% [markdown] lang="zh"
# ## 第 2 部分 数值稳定的 softmax · Part 2 — A softmax that does not overflow
#
# softmax 把一行分数（“logits”）变成概率：$\mathrm{softmax}(x)_i = e^{x_i} / \sum_j e^{x_j}$。直接照公式写，就是
# `torch.exp(x) / torch.exp(x).sum(dim, keepdim=True)`。
#
# 浮点格式有一个最大的有限数，$e^{x}$ 在 $x = \ln(\max)$ 处超过它；再往上，`exp` 返回 `inf`，而 `inf / inf` 是
# `nan`（IEEE 754）。下一个单元格计算你会遇到的三种格式的这个界限。

# %%
import math

for dtype in (torch.float32, torch.bfloat16, torch.float16):
    biggest = torch.finfo(dtype).max
    print(f"{str(dtype):15} largest finite number {biggest:.4g}: exp overflows above x = {math.log(biggest):.2f}")
logits16 = torch.tensor([[12.0, 0.0]], dtype=torch.float16)
print("float16 exp([12, 0])         :", torch.exp(logits16))
print("float16 naive softmax([12, 0]):", ex.naive_softmax(logits16))
print("float16 torch.softmax([12, 0]):", torch.softmax(logits16, dim=-1))

# %% lang="zh"
import math

for dtype in (torch.float32, torch.bfloat16, torch.float16):
    biggest = torch.finfo(dtype).max
    print(f"{str(dtype):15} 最大的有限数 {biggest:.4g}：x 超过 {math.log(biggest):.2f} 时 exp 上溢")
logits16 = torch.tensor([[12.0, 0.0]], dtype=torch.float16)
print("float16 exp([12, 0])：          ", torch.exp(logits16))
print("float16 朴素 softmax([12, 0])： ", ex.naive_softmax(logits16))
print("float16 torch.softmax([12, 0])：", torch.softmax(logits16, dim=-1))

# %% [markdown]
# In float32 (and bfloat16, which keeps float32's range) the limit is $x \approx 88.7$; in float16, the
# half precision of mixed-precision training (Micikevicius et al. 2018, §3), it is only $x \approx 11.1$.
# A logit of 12 against 0 is an ordinary confident prediction, probability 0.99999 for the first class,
# and the naive formula already turns it into `nan`.
#
# **Predict · 预测:** what will the naive formula return for the float32 row `[10000, 9999, 9998]`, and
# what will `torch.softmax`? Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# 在 float32 中（以及保留了 float32 数值范围的 bfloat16 中），这个界限是 $x \approx 88.7$；在 float16 中，
# 即混合精度训练所用的半精度（Micikevicius et al. 2018，§3），只有 $x \approx 11.1$。logit 为 12 对 0，
# 不过是一个普通的、很有把握的预测（第一类的概率为 0.99999），朴素公式却已经把它变成了 `nan`。
#
# **预测 · Predict：** 对于 float32 的一行 `[10000, 9999, 9998]`，朴素公式会返回什么？`torch.softmax` 又会返回什么？
# 先写下你的猜测，再运行下一个单元格。

# %%
big = torch.tensor([[1e4, 1e4 - 1.0, 1e4 - 2.0]])
print("exp(big)            :", torch.exp(big))
print("naive softmax(big)  :", ex.naive_softmax(big))
print("torch.softmax(big)  :", torch.softmax(big, dim=-1))

# %% lang="zh"
big = torch.tensor([[1e4, 1e4 - 1.0, 1e4 - 2.0]])
print("exp(big)：          ", torch.exp(big))
print("朴素 softmax(big)： ", ex.naive_softmax(big))
print("torch.softmax(big)：", torch.softmax(big, dim=-1))


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

# %% [markdown] lang="zh"
# 朴素公式处处返回 `nan`（PyTorch 并不报错），`torch.softmax` 返回 `[0.665, 0.245, 0.090]`，即 `[2, 1, 0]` 的 softmax。
#
# **解决办法。** 把一行中每个 logit 都减去同一个数 $c$，softmax 不变：$e^{x_i - c} / \sum_j e^{x_j - c}$，因为因子
# $e^{-c}$ 被约掉了。取 $c$ 为该行的最大值。这样最大的指数恰好为 0，不会溢出；而且和中有一项是 $e^0 = 1$，所以和至少为
# 1，永远不会除以零（Goodfellow et al. 2016，§4.1）。$c$ 的其他任何取法，例如取该行的均值或最小值，都会留下一个正的指数
# $\max_j x_j - c$：一旦一行 logits 的跨度超过上面的界限，它就会溢出。
#
# 同样的思路给出数值稳定的**对数求和指数**（log-sum-exp），即 softmax 分母的对数，交叉熵会用到它：记 $m = \max_j x_j$，
# 则
#
# $$\log \sum_j e^{x_j} = m + \log \sum_j e^{x_j - m}.$$
#
# **按行，而不是全局。** 每一行都需要*它自己的*最大值。以 `[0, 0]` 和 `[1000, 1000]` 两行为例。
# 第一行减去全局最大值（1000）得到 `[-1000, -1000]`；$e^{-1000}$ 下溢为 0，这一行的 softmax 就成了 `0 / 0 = nan`。
# 每行的最大值来自一个 `keepdim=True` 的归约，和第 1 部分完全一样。

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

# %% [markdown] lang="zh"
# ### 练习 2 · Exercise 2: `log_sum_exp` 与 `stable_softmax`
#
# **难度：** ●●○ · **重要性：** ●●● · **用时：** 约 15 分钟
#
# 两个函数都有参数 `dim`：要归约的那一维（softmax 沿这一维归一化）。`log_sum_exp` 返回归约后的形状（`dim` 这一维消失，
# 与 `torch.logsumexp` 相同）；`stable_softmax` 返回与输入相同的形状。你只需要 `torch.exp`、`torch.log`、`.sum` 和
# `.max`（测试用 `torch.logsumexp` 和 `torch.softmax` 作对照，你的代码运行时它们是被禁用的）。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 在 `exp` 之前要减去哪个数？它是沿哪一维取的？它必须是什么形状，才能沿 `dim` 从 `x` 中减去？`log_sum_exp`
# 又必须返回什么形状？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 带 `dim` 参数的 `torch.max` 返回两样东西（打印一个看看）；你需要其中之一，并且它的形状要能沿 `dim` 与 `x` 对齐（第 1
# 部分）。把“解决办法”中的步骤逐行写出来（平移、取指数、求和、取对数、撤销平移），在一个小输入上打印每一行的形状：
# 最后一行必须是文档字符串要求的形状。
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


# %% answer="log_sum_exp" lang="zh"
def log_sum_exp(x, dim=-1):
    """沿 `dim` 计算 log(sum(exp(x)))，且不会上溢。

    x：任意形状的浮点张量，例如 (batch, classes)；dim：int，要归约的维度（可以为负数）。
    返回一个张量，其形状是 x 的形状去掉 `dim` 这一维，例如 (batch,)。
    """
    ### BEGIN SOLUTION
    m = x.max(dim=dim, keepdim=True).values  # (..., 1, ...)：沿 dim 的每个切片取一个最大值
    total = torch.exp(x - m).sum(dim=dim, keepdim=True)  # >= 1，因为其中一项是 exp(0)
    return (m + torch.log(total)).squeeze(dim)
    ### END SOLUTION


def stable_softmax(x, dim=-1):
    """x 沿 `dim` 的 softmax，先减去每个切片的最大值。

    x：任意形状的浮点张量，例如 (batch, seq, seq)；dim：int，求和为 1 的那一维。
    返回一个与 x 形状相同的张量，元素非负，沿 `dim` 求和为 1。
    """
    ### BEGIN SOLUTION
    e = torch.exp(x - x.max(dim=dim, keepdim=True).values)  # 形状与 x 相同，取值在 (0, 1] 内
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

# %% [markdown] lang="zh"
# ### 实验：logits 能有多大？ · Experiment: how large can logits get?
#
# 我们把一行固定的 logits `[1, 2, 3, 0.5]` 乘以一个逐渐增大的缩放因子 `s`，在 float32 下画出 softmax 给最大 logit
# 的概率，比较朴素公式和你的实现。`s` 越大，softmax 越有把握，所以这个概率应当平滑地上升到 1。
#
# **预测 · Predict：** 缩放因子 `s` 为多少时，朴素公式第一次返回 NaN？（最大的 logit 是 `3·s`；请用上面打印的 float32
# 界限。）先写下你的猜测，再运行下一个单元格。

# %%
with needs("stable_softmax"):
    fig, stats = ex.softmax_scale_experiment(stable_softmax)
    ex.show(fig)
    print(f"naive softmax first returns NaN at scale s = {stats['first_nan_scale']:.1f}, where the largest logit "
          f"is {stats['top_logit_at_first_nan']:.1f} (the largest that still worked: "
          f"{stats['largest_finite_logit']:.1f}); "
          f"stable_softmax there gives the top logit p = {stats['stable_top_prob_at_first_nan']:.6f}")

# %% lang="zh"
with needs("stable_softmax"):
    fig, stats = ex.softmax_scale_experiment(stable_softmax)
    ex.show(fig)
    print(f"朴素 softmax 在缩放系数 s = {stats['first_nan_scale']:.1f} 时首次返回 NaN，此时最大的 logit 为 "
          f"{stats['top_logit_at_first_nan']:.1f}（还能正常计算的最大 logit 是 "
          f"{stats['largest_finite_logit']:.1f}）；"
          f"在这里，stable_softmax 给出的最大 logit 的概率 p = {stats['stable_top_prob_at_first_nan']:.6f}")

# %% [markdown]
# Reading the figure: both curves agree while the logits are small. Once the largest logit passes
# about 88.7 (compare the two printed logits), `exp` overflows and the naive version returns NaN (red
# crosses), while the stable curve simply keeps approaching 1. `torch.softmax` returned finite values
# where the naive formula did not, so it shifts the logits too; fused attention kernels keep a running
# maximum of each row for the same reason (Milakov & Gimelshein 2018; Dao et al. 2022, §3.1).

# %% [markdown] lang="zh"
# 读图：logits 较小时，两条曲线重合。一旦最大的 logit 超过约 88.7（比较打印出的两个 logit），`exp` 就会溢出，
# 朴素版本返回 NaN（红色叉号），而稳定版本的曲线只是继续趋近 1。在朴素公式失败的地方，`torch.softmax` 返回了有限值，
# 所以它同样平移了 logits；融合注意力内核为每一行维护一个随计算逐块更新的最大值，也是出于同样的原因
# （Milakov & Gimelshein 2018；Dao et al. 2022，§3.1）。

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

# %% [markdown] lang="zh"
# ## 第 3 部分 广播 · Part 3 — Broadcasting
#
# 当两个形状不同的张量在 `+`、`-`、`*`、`==` 等运算中相遇时，PyTorch 会把它们**广播**成一个共同的形状，
# 而不复制任何数据（见 PyTorch 文档 “Broadcasting semantics”，其规则与 NumPy 相同）：
#
# 1. 把两个形状**从右边**对齐（最后一维彼此相对）。维数较少的形状在左边补 1。
# 2. 每个位置上的两个大小必须**相等**，或者其中一个为 **1**。大小为 1 的维被拉伸到另一个大小。其他情况都是错误。
# 3. 结果在每个位置上取不为 1 的那个大小。特别地，大小为 0 的维只能与 0 或 1 广播（结果为空），不能与 2 广播。
#
# 举个例子：`(5, 1, 4)` 与 `(3, 1)` → 补齐为 `(1, 3, 1)` → 逐位配对 `(5, 1)`、`(1, 3)`、`(4, 1)` → 结果为 `(5, 3, 4)`。
#
# **预测 · Predict：** `(5, 1, 4) + (3, 1)` 的形状是什么？`(2, 3) + (4, 3)` 能运行吗？先写下你的猜测，
# 再运行下一个单元格。

# %%
a = torch.zeros(5, 1, 4)
b = torch.zeros(3, 1)
print("(5, 1, 4) + (3, 1)     ->", tuple((a + b).shape))
print("torch.broadcast_shapes ->", tuple(torch.broadcast_shapes((5, 1, 4), (3, 1))))
try:
    torch.zeros(2, 3) + torch.zeros(4, 3)
except RuntimeError as err:
    print("(2, 3) + (4, 3) fails  ->", err)

# %% lang="zh"
a = torch.zeros(5, 1, 4)
b = torch.zeros(3, 1)
print("(5, 1, 4) + (3, 1)     ->", tuple((a + b).shape))
print("torch.broadcast_shapes ->", tuple(torch.broadcast_shapes((5, 1, 4), (3, 1))))
try:
    torch.zeros(2, 3) + torch.zeros(4, 3)
except RuntimeError as err:
    print("(2, 3) + (4, 3) 报错   ->", err)

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

# %% [markdown] lang="zh"
# 结果是 `(5, 3, 4)`，与上面推算的一样；`(2, 3) + (4, 3)` 会失败，因为 2 和 4 不相等，而且都不是 1。
#
# ### 经典错误：`(n,)` 遇上 `(n, 1)` · The classic bug
#
# 只有一个输出的线性层返回形状为 `(n, 1)` 的预测；而标签的形状通常是 `(n,)`。从右边对齐后，二者是 `(1, n)` 对
# `(n, 1)`，两个大小为 1 的维都被拉伸：差值成了一个 `(n, n)` 矩阵，里面是*每个预测减去每个标签*。它的均值是一个数，
# 所以损失“能算”，但这个数是错的，模型也就学错了东西。
#
# **预测 · Predict：** 下面的预测完全正确。有错误的那一行会打印出多大的均方误差？先写下你的猜测，再运行下一个单元格。

# %%
pred = torch.tensor([[1.0], [2.0], [3.0]])      # (3, 1), e.g. from nn.Linear(d, 1)
target = torch.tensor([1.0, 2.0, 3.0])          # (3,)   a perfect prediction!
diff = pred - target
print("shape of pred - target:", tuple(diff.shape))
print("MSE with the bug      :", ((pred - target) ** 2).mean().item())
print("MSE, shapes fixed     :", ((pred.squeeze(-1) - target) ** 2).mean().item())

# %% lang="zh"
pred = torch.tensor([[1.0], [2.0], [3.0]])      # (3, 1)，例如来自 nn.Linear(d, 1)
target = torch.tensor([1.0, 2.0, 3.0])          # (3,)   完美的预测！
diff = pred - target
print("pred - target 的形状：", tuple(diff.shape))
print("有 bug 的 MSE：       ", ((pred - target) ** 2).mean().item())
print("修正形状后的 MSE：    ", ((pred.squeeze(-1) - target) ** 2).mean().item())


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

# %% [markdown] lang="zh"
# 完全正确的预测得到的损失是 1.33，而不是 0：它是全部九对之差的均值。解决办法是养成一个习惯：
# 结果的形状和你预期的不一样时，停下来。打印 `.shape` 的代价很小；像 `assert pred.shape == target.shape` 这样的断言，
# 比白白浪费一次训练要便宜得多。
#
# ### 练习 3 · Exercise 3: `broadcast_shape`
#
# **难度：** ●●○ · **重要性：** ●●● · **用时：** 约 15 分钟
#
# 对以整数元组给出的两个形状，实现上面的三条规则。返回一个**元组**（而不是列表）。如果两个形状不兼容，抛出
# `ValueError`，其消息中要包含 Python 打印出的两个形状，例如 `shapes (2, 3) and (4, 3) cannot be broadcast`。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 从右往左逐个位置地走。一个形状够不到的位置，它的大小算作多少？对于每一对大小，可能得到哪些结果？什么时候是错误？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 负索引从右边数起，所以 `a[-1]` 与 `b[-1]` 相对。先确定形状够不到的位置算作什么（规则 1），再把一对大小的规则 2
# 写成三种情况。用你的循环手工推一遍 `(5, 1, 4)` 与 `(3, 1)` 的例子，注意你收集各个大小的顺序。
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


# %% answer="broadcast_shape" lang="zh"
def broadcast_shape(a, b):
    """形状为 `a` 的张量与形状为 `b` 的张量广播后得到的形状。

    a, b：由非负整数组成的元组，例如 (5, 1, 4) 和 (3, 1)。
    返回一个整数元组，例如 (5, 3, 4)（是元组，不是列表）。
    如果两个形状不兼容，抛出 ValueError，其消息中要包含 str(a) 和 str(b)。
    """
    ### BEGIN SOLUTION
    result = []
    for i in range(1, max(len(a), len(b)) + 1):  # 从右往左逐维比较
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
from course.checks import call, check, msg, raises
from course.checks.ch02_tensors import call_or_explain, expect

left = "Line the shapes up from the right: the shorter one is padded with 1s on the left (Part 3, rule 1)."
expect(call_or_explain(broadcast_shape, (5, 1, 4), (3, 1), errors={"raised ValueError": msg(
    "(5, 1, 4) and (3, 1) do broadcast. {rule}", rule=left)}), (5, 3, 4), name="broadcast_shape((5, 1, 4), (3, 1))",
    mistakes={(5, 3, 1): left, (3, 1, 4): left, (5, 1, 4): left})
expect(call(broadcast_shape, (3,), (3, 1)), (3, 3), name="broadcast_shape((3,), (3, 1)), the (n,) + (n, 1) trap",
       mistakes={(3, 1): left})
expect(call_or_explain(broadcast_shape, (2, 3, 4), (4,), errors={"raised ValueError": msg(
    "(2, 3, 4) and (4,) do broadcast. {rule}", rule=left)}), (2, 3, 4), name="broadcast_shape((2, 3, 4), (4,))")
expect(call(broadcast_shape, (0, 3), (1, 3)), (0, 3), name="broadcast_shape((0, 3), (1, 3))", mistakes={
    (1, 3): "A size-0 dim meeting a size-1 dim stays 0: the result takes the size that is not 1 (Part 3, rule 3)."})
out = call(broadcast_shape, (2, 1), (1, 2))
check(type(out) is tuple, "broadcast_shape must return a tuple, got {kind} {got!r}: wrap it in tuple(...)",
      kind=type(out).__name__, got=out)
err = raises(ValueError, broadcast_shape, (2, 3), (4, 3),
             name="broadcast_shape((2, 3), (4, 3)): sizes 2 and 4 differ and neither is 1 (Part 3, rule 2)")
check("(2, 3)" in str(err) and "(4, 3)" in str(err),
      "the ValueError's message should contain both shapes, (2, 3) and (4, 3); it was {message!r}", message=str(err))
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

# %% [markdown] lang="zh"
# ### 练习 4 · Exercise 4: 不用循环的 `pairwise_sq_distances`
#
# **难度：** ●●○ · **重要性：** ●●○ · **用时：** 约 10 分钟
#
# 给定形状为 `(n, d)` 的 `n` 个点 `x` 和形状为 `(m, d)` 的 `m` 个点 `y`，返回由欧氏距离的平方组成的 `(n, m)` 矩阵：元素
# `[i, j]` 为 $\sum_k (x_{ik} - y_{jk})^2$。（注意力中的 `Q @ K.T` 也是这种“一方的每一行对另一方的每一行”的结构。）
# 不要使用 Python 循环。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 只要让两者的形状彼此相对，广播就能把 `x` 的每个点与 `y` 的每个点配成对：各自需要在哪里插入新的大小为 1 的维？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 用 `None` 索引会在所写的位置插入一个大小为 1 的维（试试 `torch.zeros(2, 3)[None].shape`）。目标是得到形状为
# `(n, m, d)` 的差值：按规则 3，哪个输入要在第 0 个位置有大小为 1 的维，哪个要在第 1 个位置有？
# 然后沿正确的那一维做一次归约。
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


# %% answer="pairwise_sq_distances" lang="zh"
def pairwise_sq_distances(x, y):
    """x 的每一行与 y 的每一行之间欧氏距离的平方。

    x：形状为 (n, d) 的浮点张量；y：形状为 (m, d) 的浮点张量。
    返回一个形状为 (n, m) 的张量，其中 out[i, j] = ((x[i] - y[j]) ** 2).sum()。
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

# %% [markdown] lang="zh"
# 循环的代价有多大？下面用两重 Python 循环和你的函数，对逐渐增大的 `n` 计算同一个 `n × n` 矩阵。（你的函数会构造一个
# `(n, m, d)` 的中间张量；对于大的输入，程序库会用展开式 $\lVert x\rVert^2 - 2\,x \cdot y + \lVert y\rVert^2$，
# 它只需一次矩阵乘法，但舍入误差可能使结果出现很小的负数。）
#
# **预测 · Predict：** 对于 80 × 80 个点，广播版本会快多少倍：2 倍、20 倍还是 200 倍？先写下你的猜测，
# 再运行下一个单元格。

# %%
with needs("pairwise_sq_distances"):
    fig, stats = ex.distance_timing_experiment(pairwise_sq_distances)
    ex.show(fig)
    print(f"n = {stats['n']}: loop {stats['loop_ms']:.1f} ms ({stats['loop_ms'] * 1e3 / stats['n'] ** 2:.1f} µs per "
          f"pair), broadcasting {stats['broadcast_ms']:.3f} ms, {stats['speedup']:.0f}x faster")

# %% lang="zh"
with needs("pairwise_sq_distances"):
    fig, stats = ex.distance_timing_experiment(pairwise_sq_distances)
    ex.show(fig)
    print(f"n = {stats['n']}：循环 {stats['loop_ms']:.1f} ms"
          f"（每对 {stats['loop_ms'] * 1e3 / stats['n'] ** 2:.1f} µs），"
          f"广播 {stats['broadcast_ms']:.3f} ms，快 {stats['speedup']:.0f} 倍")

# %% [markdown]
# The loop's time grows with the number of pairs, and each pair pays Python's and PyTorch's per-call
# overhead, the microseconds per pair printed above; the broadcasting version pays that overhead once
# and lets one C++ kernel do the arithmetic. The printed speed-up is for the largest `n`; the gap keeps
# widening with `n`.

# %% [markdown] lang="zh"
# 循环的耗时随点对的数量增长，而且每一对都要付出 Python 和 PyTorch 每次调用的开销，也就是上面打印的每对若干微秒；
# 广播版本只付一次这样的开销，然后由一个 C++ 内核完成全部运算。打印的加速比对应最大的 `n`；随着 `n` 增大，
# 差距还会继续拉大。

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

# %% [markdown] lang="zh"
# ## 第 4 部分 存储、步长与偏移 · Part 4 — Storage, strides and offset
#
# 内存是一维的。张量就是一块扁平的数，即它的**存储**（storage），再加上三项簿记信息，说明如何把它读成一个网格（见
# PyTorch 文档 “Tensor Views”）：
#
# * `shape`：每一维的大小；
# * `stride()`：**沿每一维移动一步**时，要在存储中跳过多少个元素；
# * `storage_offset()`：元素 `[0, 0, ...]` 在存储中的位置。
#
# 二维张量的元素 `[i, j]` 位于存储中的位置 `offset + i * stride[0] + j * stride[1]`。

# %%
t = torch.arange(12).reshape(3, 4)
print(t)
print("shape", tuple(t.shape), " stride", t.stride(), " offset", t.storage_offset())
print("t[1, 2] =", t[1, 2].item(), "= 0 + 1*4 + 2*1")

# %% lang="zh"
t = torch.arange(12).reshape(3, 4)
print(t)
print("形状", tuple(t.shape), " 步长", t.stride(), " 存储偏移", t.storage_offset())
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

# %% [markdown] lang="zh"
# `t` 是用 `arange` 构造的，所以每个值*就是*它在存储中的位置；记住这个技巧，本部分会一直用到它。
# 新创建的张量按**行优先**（C 顺序）排列：最后一维在内存中相邻（步长为 1），前面的每一维都要跳过其后各维组成的一整块。
# 对于形状 `(2, 3, 4)`，步长是 `(12, 4, 1)`。
#
# ### 练习 5 · Exercise 5: `contiguous_strides`
#
# **难度：** ●○○ · **重要性：** ●●○ · **用时：** 约 10 分钟
#
# 以元组形式返回一个形状的行优先步长，单位是元素（不是字节）。
#
# 有一个边界情况：PyTorch 在这个乘积中把**大小为 0 的维当作大小为 1**，所以 `torch.empty(2, 0, 3).stride()` 是
# `(3, 3, 1)`，而不是 `(0, 3, 1)`。你的结果要与它一致。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 最后一维的步长是多少？沿第 `k` 维移动一步，要跳过它后面各维的多少个元素？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 手工算一遍 `(2, 3, 4)`：最后一个步长是 1；要得到它前面的那个步长，再前面的那个，各要乘什么？
# 一个从后往前遍历形状的循环可以边走边维护这个乘积。然后用边界情况检查 `(2, 0, 3)`，并检查你返回的顺序。
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


# %% answer="contiguous_strides" lang="zh"
def contiguous_strides(shape):
    """形状为 shape 的张量按行优先（C 顺序）存放时的步长，以元素为单位。

    shape：由非负整数组成的元组，例如 (2, 3, 4)；标量为 ()。
    返回一个同样长度的整数元组，例如 (12, 4, 1)；与 PyTorch 一样，大小为 0 的维度在累乘中
    按大小 1 计算：(2, 0, 3) -> (3, 3, 1)。
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
check(type(out) is tuple, "contiguous_strides must return a tuple, got {kind} {got!r}", kind=type(out).__name__,
      got=out)
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

# %% [markdown] lang="zh"
# ### 视图：新的簿记，同一块存储 · Views
#
# 许多操作根本不碰数值，而是返回一个**视图**（view）：一个新的张量对象，有自己的形状、步长和偏移，
# 但共享**同一块存储**。有两个地址可以把它们区分开：`untyped_storage().data_ptr()` 是存储的起始地址，
# 它的所有视图都相同；`data_ptr()` 是视图自己的第一个元素 `[0, 0]` 的地址，等于存储起始地址加上
# `storage_offset() × element_size()` 个字节（对于 int64 的 `t`，每个元素 8 字节）。
#
# * `t.T` 交换步长：沿转置的一行走一步，在内存中跳过 4 个元素；
# * `t[::2]`（隔一行取一行）使行步长加倍；
# * `t[1:, 1:]` 保持步长不变，把偏移移到原来 `[1, 1]` 所在的位置；
# * `t[:, :1].expand(3, 4)` 通过给新维设置**步长 0** 来重复一列：沿这一维移动时，在内存中根本不动。
#
# **预测 · Predict：** `t[1:, 1:]` 的偏移是多少？它的 `data_ptr()` 比 `t` 的第一个元素靠后多少字节？先写下你的猜测，
# 再运行下一个单元格。

# %%
views = {"t": t, "t.T": t.T, "t[::2]": t[::2], "t[:, ::2]": t[:, ::2], "t[1:, 1:]": t[1:, 1:],
         "t[:, :1].expand(3, 4)": t[:, :1].expand(3, 4)}
print("view                    shape     stride    offset   data_ptr - t.data_ptr  same storage as t?")
for name, v in views.items():
    same = v.untyped_storage().data_ptr() == t.untyped_storage().data_ptr()
    print(f"{name:24}{str(tuple(v.shape)):10}{str(v.stride()):10}{v.storage_offset():>6}"
          f"{v.data_ptr() - t.data_ptr():>20} B   {same}")

# %% lang="zh"
views = {"t": t, "t.T": t.T, "t[::2]": t[::2], "t[:, ::2]": t[:, ::2], "t[1:, 1:]": t[1:, 1:],
         "t[:, :1].expand(3, 4)": t[:, :1].expand(3, 4)}
print("视图                    形状      步长        偏移   data_ptr - t.data_ptr  与 t 共享存储？")
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

# %% [markdown] lang="zh"
# 每个视图都共享 `t` 的存储，其 `data_ptr()` 恰好靠后 `8 × offset` 个字节：`t[1:, 1:]` 从偏移 5 开始，即第 40
# 个字节处。什么都没有复制。
#
# ### 练习 6 · Exercise 6: `slice_view`
#
# **难度：** ●●○ · **重要性：** ●●○ · **用时：** 约 15 分钟
#
# 切片就是这种簿记操作之一。给定一个张量的形状、步长和偏移，在不创建任何张量的情况下，求出视图
# `t[..., start:stop:step, ...]`（在第 `dim` 维上取切片）的形状、步长和偏移。
# 测试会把你的答案与真实视图上真实切片的结果进行比较。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 在一维上切片，能改变三项簿记中的哪几项？改变的是哪些维？视图的元素 `[0, 0, ...]` 位于存储中的什么位置？现在沿 `dim`
# 相邻的两个元素在内存中相距多远？一个 `start:stop:step` 切片保留了多少个索引？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 把第一个测试中的视图真的构造出来：`torch.arange(24).view(4, 6)[:, 1:6:2]`，把它的形状、`stride()` 和
# `storage_offset()` 与 `t` 的并排打印：哪些数变了，变了多少？Python 自带的 `range` 可以帮你数出 `start:stop:step`
# 的索引个数。先检查参数是否合法。
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


# %% answer="slice_view" lang="zh"
def slice_view(shape, strides, offset, dim, start, stop, step=1):
    """张量 t 在第 `dim` 维上的切片 t[..., start:stop:step, ...] 的形状、步长和存储偏移。

    shape, strides：长度相同的整数元组，即 t 的形状和 t.stride()；offset：int，即 t.storage_offset()。
    dim：int，被切片的维度；负数表示从末尾数起，与 PyTorch 相同。
    start, stop, step：满足 0 <= start <= stop <= shape[dim] 且 step >= 1 的整数。
    返回一个元组 (new_shape, new_strides, new_offset)，即两个整数元组和一个 int：对这个视图 v，
    v.shape、v.stride() 和 v.storage_offset() 给出的值。
    如果 dim 超出范围，或者 start、stop、step 超出上述范围，抛出 ValueError。
    """
    ### BEGIN SOLUTION
    if not -len(shape) <= dim < len(shape):
        raise ValueError(f"dim {dim} is out of range for a {len(shape)}-dim shape")
    if not (0 <= start <= stop <= shape[dim] and step >= 1):
        raise ValueError(f"need 0 <= start <= stop <= {shape[dim]} and step >= 1, got {start}:{stop}:{step}")
    new_shape, new_strides = list(shape), list(strides)  # 负的 dim 在这两个列表中同样从末尾数起
    new_shape[dim] = len(range(start, stop, step))  # 最后一段不足一步的也算一个元素
    new_strides[dim] = strides[dim] * step  # 沿 dim 相邻的两个元素现在相隔原来的 `step` 步
    return tuple(new_shape), tuple(new_strides), offset + start * strides[dim]  # 元素 [0, ...] 移动了 `start` 步
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
      "slice_view should return (a tuple, a tuple, an int), got {got!r}", got=out)
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

# %% [markdown] lang="zh"
# 下面是表中那个 `(3, 4)` 张量的转置 `t.T` 的示意图。网格就是这个视图，每个格子都标注了它读取的存储位置，
# 并按该位置着色；下方的长条是存储本身。红框标出的是视图的元素 `[1, 2]`。
#
# **预测 · Predict：** `t.T[1, 2]` 读取的是存储中的哪个位置？先写下你的猜测，再运行下一个单元格。

# %%
t = torch.arange(12).reshape(3, 4)
print("t.T[1, 2] reads storage position", t.T[1, 2].item(), "=", t.T.storage_offset(), "+ 1 ·", t.T.stride(0),
      "+ 2 ·", t.T.stride(1))
ex.show(ex.layout_figure(t.T, storage_size=12, highlight=5, name="t.T"))

# %% lang="zh"
t = torch.arange(12).reshape(3, 4)
print("t.T[1, 2] 读取的存储位置是", t.T[1, 2].item(), "=", t.T.storage_offset(), "+ 1 ·", t.T.stride(0),
      "+ 2 ·", t.T.stride(1))
ex.show(ex.layout_figure(t.T, storage_size=12, highlight=5, name="t.T"))

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

# %% [markdown] lang="zh"
# 读图：是位置 9。沿 `t.T` 的一行（从左到右）走，每一步在长条上跳 4 格；沿一列向下走，每一步移动 1 格。存储原封未动，
# 变的只是簿记。
#
# ### 步长浏览器 · Stride explorer
#
# 选择一个形状、一个操作和一个元素。状态行会给出视图的形状、步长、偏移、是否连续、`.view(-1)` 能否成功，
# 以及所选元素的偏移计算式。可以试试：
#
# * `(3, 4)` 配 `rows [::2]`（菜单中的“每隔一行 [::2]”）：长条中的灰色格子就是被跳过的那一行；
# * `(4, 6)` 配 `offset slice [1:, 1:]`（“带偏移的切片 [1:, 1:]”）：偏移变成 7；视图读取的 15 个格子分布在
#   17 个格子的范围内；
# * `(2, 1, 3)` 配 `expand size-1 dims to 3`（“把大小为 1 的维扩展到 3”）：视图中有几个格子读取同一个存储格子；
# * `(2, 3, 4)` 配 `permute(2, 0, 1)`：拖动元素滑块，观察红框如何跳动。

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

# %% [markdown] lang="zh"
# ### 连续与否 · Contiguous or not
#
# 如果按逻辑（行优先）顺序读取一个张量的元素时，在存储中是一步一步、没有空隙地走过去的，
# 这个张量就是**连续的**（contiguous）：它的步长就是其形状的行优先步长。PyTorch 的 `is_contiguous()`
# 另外加了两条合理的例外：
#
# * **大小为 1 的维**的步长无关紧要（你永远不会沿它走一步），所以步长为 `(1, 7)` 的 `(3, 1)` 张量算作连续的；
# * 含有**大小为 0 的维**的张量不包含任何元素，总是连续的。
#
# ### 练习 7 · Exercise 7: `is_contiguous`
#
# **难度：** ●●○ · **重要性：** ●●○ · **用时：** 约 10 分钟
#
# 实现这条规则。返回 Python 的 `bool`。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 把每个步长与练习 5 会给出的步长相比较。比较时可以跳过哪些维？跳过它们会不会改变其他维应有的步长？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 沿用你的 `contiguous_strides` 的思路：从后往前遍历形状时，你在每一维都知道行优先布局在这里应有的步长。
# 确定哪些维不参与比较，以及跳过它们时要不要改变你维护的乘积。两条例外中，有一条可以在循环之前就处理掉。
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


# %% answer="is_contiguous" lang="zh"
def is_contiguous(shape, strides):
    """按 PyTorch 的规则，具有这个形状和这些步长的张量是否连续。

    shape：由非负整数组成的元组，例如 (3, 4)；strides：长度相同的整数元组。
    返回一个 Python bool：当每个大小 > 1 的维度都具有行优先的步长，或者有某个维度大小为 0 时，
    返回 True。大小为 1 的维度，其步长不予考虑。
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
check(type(out) is bool, "is_contiguous must return a Python bool, got {kind} {got!r}: wrap the result in bool(...)",
      kind=f"{type(out).__module__}.{type(out).__name__}", got=out)
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

# %% [markdown] lang="zh"
# ### `view` 与 `reshape` · `view` versus `reshape`
#
# `x.view(new_shape)` 永远只是给存储重新贴标签：它为同一块内存计算新的步长；如果没有任何步长能描述结果，
# 它就拒绝执行（抛出 `RuntimeError`）。转置之后，逻辑顺序 `0, 4, 8, 1, 5, 9, ...` 不是在内存中匀速行走，
# 所以把它展平不可能是一个视图。`x.reshape(...)` 在视图存在时返回视图，在必要时则**复制**；`x.contiguous()`
# 把数据复制到新的行优先存储中（如果 `x` 已经是连续的，就返回 `x` 本身）。比较存储地址就能知道发生的是哪一种。
#
# **预测 · Predict：** `tt.reshape(12)`、`t.reshape(12)` 和 `tt.contiguous()` 中，哪些会复制？先写下你的猜测，
# 再运行下一个单元格。

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


# %% lang="zh"
def same_storage(a, b):
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


tt = t.T                                   # (4, 3)，步长 (1, 4)：不连续
try:
    tt.view(12)
except RuntimeError as err:
    print("tt.view(12) 失败：", err)
flat = tt.reshape(12)
print("tt.reshape(12)： ", flat.tolist(), "| 复制了：", not same_storage(flat, t))
print("t.reshape(12)：  复制了：", not same_storage(t.reshape(12), t), "（t 是连续的：得到视图）")
fixed = tt.contiguous()
print("tt.contiguous()：步长", fixed.stride(), "| 复制了：", not same_storage(fixed, t),
      "| 之后 .view(12) 可以运行：", tuple(fixed.view(12).shape))

# %% [markdown]
# The transpose's `reshape` and `contiguous` copy; `t.reshape(12)` is a view. Why care? Copies cost
# memory traffic (chapter 01: moving bytes is often the bottleneck), and a view **shares** its numbers:
# writing into a view writes into the original. That is a feature when you mean it (an in-place update
# of a slice) and a nasty bug when you don't.

# %% [markdown] lang="zh"
# 转置的 `reshape` 和 `contiguous` 会复制；`t.reshape(12)` 是视图。为什么要在意？复制会产生内存流量（第 01 章：
# 搬运字节往往是瓶颈）；而视图与原张量**共享**数值：写入视图就是写入原张量。你有意为之时，
# 这是一个特性（对切片做原地更新）；无意为之时，这就是一个棘手的错误。

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

# %% [markdown] lang="zh"
# ## 第 5 部分 拆分注意力头 · Part 5 — Splitting attention heads
#
# 多头注意力让 `n_heads` 个小的注意力并排运行（Vaswani et al. 2017，§3.2.2）。每个词元的 `d_model` 个特征被切成
# `n_heads` 个连续的组，每组 `d_head = d_model / n_heads` 个：头 0 得到特征 `0 .. d_head-1`，头 1 得到接下来的 `d_head`
# 个，依此类推。为了做批量矩阵乘法，我们希望头这一维位于序列维*之前*：`(batch, n_heads, seq, d_head)`。
#
# 分两步，都是视图，不复制：
#
# 1. 把**最后**一维一分为二：`n_heads` 组，每组 `d_head` 个。这可以作为视图完成，因为最后一维是连续的；
# 2. 交换 `seq` 和 `n_heads` 两维。步长随之交换，结果不是连续的。
#
# 合并则是反过来：先把两维换回 `(batch, seq, n_heads, d_head)`，再把最后两维粘合起来。粘合能否是视图，
# 取决于它拿到的布局。撤销你自己的 `split_heads` 会恢复 `x` 的行优先布局，粘合又可以是视图。但在真实的模型中，
# `merge_heads` 收到的是注意力矩阵乘法的输出，一个*新建的、连续的* `(batch, n_heads, seq, d_head)` 张量；
# 转置之后它就不连续了，`.view` 会报错，只有 `.reshape`（或 `.contiguous().view`）能行，而且要复制。
#
# **诱人的捷径是错的。** `x.view(batch, n_heads, seq, d_head)` 的形状没错，但它是按内存顺序重新读取的。
#
# **预测 · Predict：** 在下面这个小例子中（每个值就是它的存储位置），捷径会把哪些数放进头 0？先写下你的猜测，
# 再运行下一个单元格。

# %%
x = torch.arange(12).view(1, 3, 4)        # batch 1, seq 3, d_model 4 -> 2 heads of d_head 2
print("x[0] (rows = tokens):\n", x[0])
print("what head 0 must hold, features 0-1 of every token (sliced out, a view of another shape):\n", x[0, :, 0:2])
print("wrong: x.view(1, 2, 3, 2)[0, 0] mixes tokens:\n", x.view(1, 2, 3, 2)[0, 0])

# %% lang="zh"
x = torch.arange(12).view(1, 3, 4)        # batch 1，seq 3，d_model 4 -> 2 个头，每个头 d_head 2
print("x[0]（每一行是一个词元）：\n", x[0])
print("头 0 应当包含的内容，即每个词元的第 0-1 个特征（切片得到，是另一种形状的视图）：\n", x[0, :, 0:2])
print("错误做法：x.view(1, 2, 3, 2)[0, 0] 把不同词元混在了一起：\n", x.view(1, 2, 3, 2)[0, 0])


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

# %% [markdown] lang="zh"
# 捷径的“头 0”里是 `0 .. 5`：前一个半词元的全部特征。
#
# ### 练习 8 · Exercise 8: `split_heads` 与 `merge_heads`
#
# **难度：** ●●○ · **重要性：** ●●● · **用时：** 约 15 分钟
#
# `split_heads` 必须返回 `x` 的一个**视图**（测试会检查它是否共享存储），并在 `d_model` 不能被 `n_heads` 整除时抛出
# `ValueError`。`merge_heads` 是它的逆操作，而且必须也能处理新建的、连续的 `(batch, n_heads, seq, d_head)` 张量，
# 因为注意力的输出就是这样的张量。它只在必要时复制：撤销你自己的拆分时，要返回 `x`
# 的一个视图（测试以及测试之后的单元格都会检查这一点）。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 要拆分哪一维，拆成哪两个大小，才能让每个头得到一块连续的特征？拆分之后，哪两维的顺序不对？对于 `merge_heads`，`view`
# 和 `reshape` 中哪一个对它可能拿到的每种布局都有效？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 上面两步中的每一步，都是第 4 部分的表格以及“`view` 与 `reshape`”中的某个操作。在小例子上检查你的 `split_heads`：头 0
# 打印出的内容必须与切片打印出的相同。对于 `merge_heads`，按相反的顺序撤销各步，并选择这样一种粘合操作：
# 遇到不连续的输入也能工作，而不必复制时又不复制（测试之后的单元格会检查这两点）。
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


# %% answer="split_heads" lang="zh"
def split_heads(x, n_heads):
    """把每个词元的特征拆分到各个头。

    x：形状为 (batch, seq, d_model) 的张量；n_heads：能整除 d_model 的 int。
    返回 x 的一个形状为 (batch, n_heads, seq, d_head) 的视图，其中 d_head = d_model // n_heads，
    且 out[:, h] == x[..., h * d_head:(h + 1) * d_head]。
    如果 d_model 不能被 n_heads 整除，抛出 ValueError。
    """
    ### BEGIN SOLUTION
    batch, seq, d_model = x.shape
    if d_model % n_heads != 0:
        raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}")
    d_head = d_model // n_heads
    return x.view(batch, seq, n_heads, d_head).transpose(1, 2)  # (batch, n_heads, seq, d_head)
    ### END SOLUTION


def merge_heads(x):
    """撤销 split_heads：把各个头的特征重新并排拼在一起。

    x：形状为 (batch, n_heads, seq, d_head) 的张量，布局任意（拆分得到的视图，或新建的连续张量）。
    返回一个形状为 (batch, seq, n_heads * d_head) 的张量。
    """
    ### BEGIN SOLUTION
    batch, n_heads, seq, d_head = x.shape
    return x.transpose(1, 2).reshape(batch, seq, n_heads * d_head)  # 布局允许时得到视图，否则得到副本
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

# %% [markdown] lang="zh"
# 下面把你的 `split_heads` 作用在同一个小的 `arange` 张量上，像步长浏览器那样画出来：每个头一个网格（行是词元，
# 列是该头的特征），下方是它们读取的存储。红框是头 0、词元 1、特征 1。
#
# **预测 · Predict：** `merge_heads(split_heads(x))` 会复制 `x` 吗？`merge_heads` 会复制一个新建的、连续的
# `(1, 2, 3, 4)` 张量吗？先写下你的猜测，再运行下一个单元格。

# %%
with needs("split_heads", "merge_heads"):
    x = torch.arange(24).view(1, 3, 8)
    heads = split_heads(x, 2)                                 # (1, 2, 3, 4)
    print("split: shape", tuple(heads.shape), "strides", heads.stride(), "contiguous:", heads.is_contiguous())
    merged = merge_heads(heads)
    print("merge_heads(split_heads(x)) == x:", torch.equal(merged, x), "| shares x's storage:", same_storage(merged, x))
    fresh = torch.arange(24).view(1, 2, 3, 4)                 # like attention's output
    print("merge_heads(fresh contiguous tensor) shares its storage:", same_storage(merge_heads(fresh), fresh))
    ex.show(ex.layout_figure(heads[0], storage_size=24, highlight=5, slice_label=ex.head_label(),
                             title="split_heads(arange(24).view(1, 3, 8), 2)[0]"))

# %% lang="zh"
with needs("split_heads", "merge_heads"):
    x = torch.arange(24).view(1, 3, 8)
    heads = split_heads(x, 2)                                 # (1, 2, 3, 4)
    print("拆分后：形状", tuple(heads.shape), "步长", heads.stride(), "是否连续：", heads.is_contiguous())
    merged = merge_heads(heads)
    print("merge_heads(split_heads(x)) == x：", torch.equal(merged, x), "| 与 x 共享存储：", same_storage(merged, x))
    fresh = torch.arange(24).view(1, 2, 3, 4)                 # 就像注意力的输出
    print("merge_heads(新建的连续张量) 与该张量共享存储：", same_storage(merge_heads(fresh), fresh))
    ex.show(ex.layout_figure(heads[0], storage_size=24, highlight=5, slice_label=ex.head_label(),
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

# %% [markdown] lang="zh"
# 读图：撤销你自己的拆分不需要任何代价（结果与 `x` 共享存储），合并注意力的新输出则要复制。图中，头 1
# 的第一行读取存储位置 4 到 7，下一行跳到 12：词元之间的步长是 8，恰好是 `d_model`。打印出的步长说明的是同一件事。
#
# ## 小结 · Summary
#
# * 归约会去掉你指定的那一维；`keepdim=True` 把它以大小 1 保留下来，使结果能沿正确的轴与输入广播。
# * 先减去**每行的最大值**，softmax 和对数求和指数就是数值稳定的；减去均值或最小值并不够，而 float16 在 `exp(11.1)`
#   时就已经溢出。
# * 广播从右边对齐形状，并拉伸大小为 1 的维；`(n,)` 与 `(n, 1)` 会得到 `(n, n)`，而且不报任何错，所以要检查形状。
# * 张量 = 存储 + 形状 + 步长 + 偏移。转置、`permute`、切片和 `expand` 只改变簿记；`view` 需要相容的步长，`reshape` 和
#   `contiguous()` 在必要时复制。
# * 拆分注意力头是 `view` + `transpose`；合并需要 `reshape`（或 `contiguous().view`），它会复制注意力的新输出。
#
# 后面的章节会把这些部件组合成缩放点积注意力和多头注意力。

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

# %% [markdown] lang="zh"
# ## 参考文献 · References
#
# 1. Goodfellow, I., Bengio, Y. & Courville, A. (2016). Deep Learning. MIT Press. §4.1（上溢和下溢；softmax 按
#    softmax(x − max_i x_i) 计算）。
# 2. IEEE Std 754-2019, IEEE Standard for Floating-Point Arithmetic（binary16 与 binary32；上溢为无穷大，inf/inf =
#    NaN）。第 2 部分打印的界限来自 `torch.finfo`。
# 3. Micikevicius, P. et al. (2018). Mixed Precision Training. ICLR 2018, arXiv:1710.03740. §3（FP16
#    训练及其数值范围）。
# 4. Milakov, M. & Gimelshein, N. (2018). Online normalizer calculation for softmax. arXiv:1805.02867.
#    §2（减去最大值的“安全” softmax），§3（逐步更新的最大值）。
# 5. Dao, T. et al. (2022). FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness. NeurIPS 2022,
#    arXiv:2205.14135. §3.1（分块计算 softmax，逐块更新每行的最大值）。
# 6. PyTorch 文档：“Broadcasting semantics”；“Tensor Views”；`torch.Tensor.stride`、`storage_offset`、`is_contiguous`、
#    `view`、`reshape`、`contiguous`。
# 7. NumPy 文档：“Broadcasting”（PyTorch 所遵循的通用广播规则）。
# 8. Vaswani, A. et al. (2017). Attention Is All You Need. NeurIPS 2017, arXiv:1706.03762. §3.2.2（多头注意力，d_k =
#    d_v = d_model / h）。

# %%
glossary.show("02-tensors")
