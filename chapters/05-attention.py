# %% [markdown]
# # Attention · 注意力机制
#
# Attention lets every token build its new representation as a **weighted average of the other tokens'
# values**, with weights it computes from how well its *query* matches their *keys* (Vaswani et al.
# 2017, §3.2.1, eq. 1):
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V .$$
#
# In this chapter you will measure why the scores are divided by $\sqrt{d_k}$ (and not by $d_k$), write
# attention with masks, build the padding and causal masks, assemble multi-head attention, see why
# several small heads beat one wide one, and explore attention maps of a hand-built layer in an interactive view.

# %% [markdown] lang="zh"
# # 注意力机制 · Attention
#
# 注意力机制让每个词元都把自己的新表示构造成**其他词元的值的加权平均**，
# 而权重由它的*查询*与这些词元的*键*匹配得有多好来决定（Vaswani et al. 2017，§3.2.1，式 1）：
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V .$$
#
# 本章中，你将通过测量弄清分数为什么要除以 $\sqrt{d_k}$（而不是除以 $d_k$），实现带掩码的注意力，
# 构造填充掩码和因果掩码，搭建多头注意力，看看为什么几个小头胜过一个宽头，
# 最后在交互视图中探索一个手工构造的注意力层所给出的注意力图。

# %% [markdown]
# ## Before you start · 开始之前
#
# **You will build:**
# * `dot_product_variance`, a sampling experiment that measures the variance of q·k;
# * `scaled_dot_product_attention`, with masks and a rule for queries that may attend to nothing,
#   matched against `F.scaled_dot_product_attention`;
# * `causal_mask` (also for a block of queries at the end of a longer sequence) and `padding_mask`;
# * `MultiHeadAttention`, matched weight for weight against `torch.nn.MultiheadAttention`.
#
# **Prerequisites:** chapter 02 (tensors: reductions, broadcasting, the stable softmax, splitting heads
# with `view` + `transpose`). Maths: dot products, the variance of a sum of independent terms, softmax.
#
# **Time:** about 100 minutes (reading 30, exercises 55, experiments 15).

# %% [markdown] lang="zh"
# ## 开始之前 · Before you start
#
# **本章要实现：**
# * `dot_product_variance`：一个测量 q·k 方差的采样实验；
# * `scaled_dot_product_attention`：支持掩码，并对无键可关注的查询有明确的处理规则，结果与
#   `F.scaled_dot_product_attention` 逐项核对；
# * `causal_mask`（也适用于位于一个更长序列末尾的一组查询）和 `padding_mask`；
# * `MultiHeadAttention`：逐个权重地与 `torch.nn.MultiheadAttention` 对照。
#
# **预备知识：** 第 02 章（张量：归约、广播、数值稳定的 softmax、用 `view` + `transpose` 拆分多头）。数学：点积、
# 独立项之和的方差、softmax。
#
# **用时：** 约 100 分钟（阅读 30 分钟，练习 55 分钟，实验 15 分钟）。

# %% [markdown]
# Run the set-up cell first.

# %% [markdown] lang="zh"
# 先运行初始化单元格。

# %%
import math

import torch
import torch.nn.functional as F
from torch import nn

from course import glossary
from course.experiments import ch05_attention as ex
from course.notebook import grading, needs, setup
from course.widgets.ch05_attention import attention_of, attention_view

setup()


# %% [markdown]
# ## Part 1 — Why divide by √d_k · 为什么要除以 √d_k
#
# Take a query $q$ and a key $k$ with $d_k$ independent entries of mean 0 and variance 1. Their dot
# product $q \cdot k = \sum_i q_i k_i$ is a sum of $d_k$ independent terms. Each term has mean
# $E[q_i]E[k_i] = 0$ and variance $E[q_i^2]E[k_i^2] - 0 = 1$, and variances of independent terms add, so
#
# $$\mathrm{Var}(q \cdot k) = d_k, \qquad \text{standard deviation } \sqrt{d_k}$$
#
# (the argument of the paper's footnote 4, Vaswani et al. 2017, §3.2.1). With $d_k = 64$ the raw scores
# have a standard deviation of 8; the experiment after the exercise shows what softmax does with such
# numbers. Dividing by $\sqrt{d_k}$ brings the variance back to 1, whatever the head size.
#
# ### Exercise 1 · 练习 1: `dot_product_variance`
#
# **Difficulty:** ●○○ · **Importance:** ●●○ · **Time:** ~10 min
#
# Check the claim by sampling, not by formula: draw `n` independent pairs of vectors with standard
# normal entries, take their dot products and return the sample variance of those `n` numbers as a
# Python float. Draw every random number from `generator` so that the same seed gives the same answer.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Two tensors of shape `(n, d_k)` hold the n queries and the n keys. Which reduction turns each pair of
# rows into one number, and along which dim? Which `torch` function draws N(0, 1) entries (and which
# one draws uniform ones, the wrong distribution here)?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Multiply elementwise and **sum** over the feature dim (a mean would divide the variance by d_k²).
# `torch.randn(..., generator=generator)` for q and, separately, for k (q·q is not q·k). Then
# `.var()` of the n dot products and `.item()`; the standard deviation would be √d_k, not d_k.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ## 第 1 部分 为什么要除以 √d_k · Part 1 — Why divide by √d_k
#
# 取一个查询 $q$ 和一个键 $k$，它们各有 $d_k$ 个相互独立、均值为 0、方差为 1 的分量。它们的点积
# $q \cdot k = \sum_i q_i k_i$ 是 $d_k$ 个独立项之和。每一项的均值为 $E[q_i]E[k_i] = 0$，方差为
# $E[q_i^2]E[k_i^2] - 0 = 1$；而独立项的方差可以相加，所以
#
# $$\mathrm{Var}(q \cdot k) = d_k, \qquad \text{标准差为 } \sqrt{d_k}$$
#
# （这就是论文脚注 4 的论证，Vaswani et al. 2017，§3.2.1）。当 $d_k = 64$ 时，原始分数的标准差为 8；练习之后的实验会展示
# softmax 遇到这样大的数时会发生什么。除以 $\sqrt{d_k}$ 能让方差回到 1，不论头的大小是多少。
#
# ### 练习 1 · Exercise 1：`dot_product_variance`
#
# **难度：** ●○○ · **重要性：** ●●○ · **用时：** 约 10 分钟
#
# 用采样而不是公式来检验这个结论：抽取 `n` 对相互独立、分量服从标准正态分布的向量，计算它们的点积，并以 Python float
# 的形式返回这 `n` 个数的样本方差。所有随机数都要从 `generator` 中抽取，这样相同的种子就会得到相同的答案。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 两个形状为 `(n, d_k)` 的张量分别存放 n 个查询和 n 个键。哪一种归约能把每一对行变成一个数？沿哪一维做？哪个 `torch`
# 函数抽取服从 N(0, 1) 的元素（哪个抽取的是均匀分布，也就是这里用错的分布）？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 逐元素相乘，再沿特征维**求和**（求平均会让方差除以 d_k²）。对 q 用 `torch.randn(..., generator=generator)` 抽取，对 k
# 再单独抽取一次（q·q 不是 q·k）。然后对这 n 个点积取 `.var()`，再调用 `.item()`；若取的是标准差，得到的会是 √d_k 而不是
# d_k。
#
# </details>
# </details>

# %% answer="dot_product_variance"
def dot_product_variance(d_k, n, generator):
    """The sample variance of q·k over n independent pairs (q, k) of d_k-dim vectors with N(0, 1) entries.

    d_k: int, vector size; n: int, number of pairs; generator: a torch.Generator, the only source of randomness.
    Returns a Python float.
    """
    ### BEGIN SOLUTION
    q = torch.randn(n, d_k, generator=generator)  # (n, d_k)
    k = torch.randn(n, d_k, generator=generator)  # (n, d_k)
    dots = (q * k).sum(dim=-1)  # (n,)
    return dots.var().item()
    ### END SOLUTION


# %% answer="dot_product_variance" lang="zh"
def dot_product_variance(d_k, n, generator):
    """n 对相互独立的 d_k 维向量 (q, k)（分量服从 N(0, 1)）上 q·k 的样本方差。

    d_k：int，向量的大小；n：int，向量对的个数；generator：一个 torch.Generator，唯一的随机数来源。
    返回一个 Python float。
    """
    ### BEGIN SOLUTION
    q = torch.randn(n, d_k, generator=generator)  # (n, d_k)
    k = torch.randn(n, d_k, generator=generator)  # (n, d_k)
    dots = (q * k).sum(dim=-1)  # (n,)
    return dots.var().item()
    ### END SOLUTION


# %% tests="dot_product_variance_tests" points=2
import torch
from course.checks import call, check
from course.checks import ch05_attention as ref

v = call(dot_product_variance, 64, 20000, torch.Generator().manual_seed(0))
check(isinstance(v, float), "return a Python float (use .item()), got {got}", got=type(v).__name__)
again = call(dot_product_variance, 64, 20000, torch.Generator().manual_seed(0))
check(again == v, "two generators with the same seed gave different answers: draw every random number from "
      "`generator` (pass generator=generator to each torch.randn), not from the global random state")
other = call(dot_product_variance, 64, 20000, torch.Generator().manual_seed(1))
check(other != v, "two different seeds gave exactly the same number: the exercise measures the variance by "
      "sampling; returning a formula (such as d_k) checks nothing, see Exercise 1")
g = torch.Generator().manual_seed(0)  # the same draws a solution makes: q first, then k
q_only, k_only = (torch.randn(20000, 64, generator=g).sum(dim=-1).var().item() for _ in range(2))
check(min(abs(v - q_only), abs(v - k_only)) > 1e-9, "your number is the variance of ONE vector's entries summed "
      "(also about d_k): q·k multiplies q and k entry by entry and then sums the products, see Part 1")
ref.expect(v, 64.0, rtol=0.1, name="dot_product_variance(64, 20000 samples)", mistakes=[
    (8.0, "about √d_k = 8: that is the standard deviation; return the variance"),
    (1.0, "about 1: that is the variance of the SCALED score q·k/√d_k (or of q·k divided by d_k); the "
          "question is the raw q·k, see Part 1"),
    (1 / 64, "about 1/d_k: you averaged the d_k products; q·k is their sum, see Part 1"),
    (128.0, "about 2·d_k: q and k must be independent draws (q·q = |q|² has variance 2·d_k)"),
    (64 * 7 / 144, "about 3.1: the entries must be standard normal (torch.randn), not uniform on [0, 1) (torch.rand)"),
])
ref.expect(call(dot_product_variance, 4, 20000, torch.Generator().manual_seed(0)), 4.0, rtol=0.1,
           name="dot_product_variance(4, 20000 samples)", mistakes=[
    (v, "the same number as for d_k = 64: the d_k argument was ignored; draw vectors of the size d_k you are given"),
])
few = [call(dot_product_variance, 4, 3, torch.Generator().manual_seed(seed)) for seed in range(6)]
check(max(few) - min(few) > 1.0, "with n = 3 pairs the estimate should jump from seed to seed, but 6 seeds gave "
      "{low:.3g} .. {high:.3g}: the n argument was ignored; draw n pairs, as many as you are given", low=min(few),
      high=max(few))
### BEGIN HIDDEN TESTS
from course_grader.checks import ch05_attention as hidden
hidden.check_dot_product_variance(dot_product_variance)
### END HIDDEN TESTS

# %% [markdown]
# What does the scale do to softmax? The experiment draws random unit-variance queries and 16 random
# keys for several $d_k$ and applies softmax to $q \cdot k$ three ways: unscaled, divided by $\sqrt{d_k}$,
# and divided by $d_k$ (a tempting "normalise by the size" that over-corrects). It measures (left) the
# entropy of the attention row (2.77 nats = uniform over 16 keys, 0 = all weight on one key) and
# (right) the median size of $\partial\,\text{weights} / \partial q$, the gradient a query receives
# through the softmax.
#
# **Predict · 预测:** as $d_k$ grows from 4 to 1024, which of the three curves stays flat in both
# panels, which one goes to 0 entropy and which one to uniform weights? Write your guess down, then run
# the next cell.

# %% [markdown] lang="zh"
# 这个缩放对 softmax 有什么影响？实验针对若干个 $d_k$ 抽取方差为 1 的随机查询和 16 个随机键，并用三种方式对 $q \cdot k$
# 做 softmax：不缩放、除以 $\sqrt{d_k}$、除以 $d_k$（一种看似顺理成章的“按大小归一化”，实则矫枉过正）。它测量（左图）
# 注意力行的熵（2.77 nats 表示在 16 个键上均匀分布，0 表示全部权重都落在一个键上），以及（右图）
# $\partial\,\text{weights} / \partial q$ 大小的中位数，即查询经由 softmax 得到的梯度。
#
# **预测 · Predict：** 当 $d_k$ 从 4 增大到 1024 时，三条曲线中哪一条在两幅图中都保持平坦，哪一条的熵趋于 0，
# 哪一条趋于均匀的权重？先写下你的猜测，再运行下一个单元格。

# %%
fig, sat = ex.saturation_experiment()
ex.show(fig)
for name in sat["entropy"]:
    print(f"{ex.scale_name(name, 8)}: entropy", " ".join(f"{e:.2f}" for e in sat["entropy"][name]),
          "| median gradient", " ".join(f"{g:.3f}" for g in sat["grad"][name]),
          "| saturated rows", " ".join(f"{s:.0%}" for s in sat["saturated"][name]))
print("d_k:", sat["d_values"])

# %% lang="zh"
fig, sat = ex.saturation_experiment()
ex.show(fig)
for name in sat["entropy"]:
    print(f"{ex.scale_name(name, 8)}：熵", " ".join(f"{e:.2f}" for e in sat["entropy"][name]),
          "| 梯度中位数", " ".join(f"{g:.3f}" for g in sat["grad"][name]),
          "| 饱和行占比", " ".join(f"{s:.0%}" for s in sat["saturated"][name]))
print("d_k：", sat["d_values"])

# %% [markdown]
# Reading the run: **no scale**, the entropy falls from 1.78 to 0.09 nats and three rows in four are
# saturated at $d_k = 1024$ (a softmax Jacobian below 0.01): the median query gets no gradient at all
# (0.000), though the unsaturated rows still get a large one. This is the paper's "regions where it has
# extremely small gradients" (Vaswani et al. 2017, §3.2.1). **Divided by $d_k$**, the opposite failure:
# the scores shrink to a variance of $1/d_k$, every row tends to uniform (2.77 nats: the head cannot
# pick a key) and the gradient shrinks like $1/\sqrt{d_k}$ (0.128 → 0.008). **Divided by $\sqrt{d_k}$**
# both curves are flat (2.36 nats, 0.30): the head's *temperature* no longer depends on its size. That
# is the whole job of $1/\sqrt{d_k}$, and it is a statement about initialisation: a trained model can
# still sharpen or flatten its heads through $W_q$ and $W_k$.
#
# ## Part 2 — Scaled dot-product attention · 缩放点积注意力
#
# Shapes: queries `q` are `(batch, heads, q_len, d_k)`, keys `k` are `(batch, heads, k_len, d_k)`,
# values `v` are `(batch, heads, k_len, d_v)`. The scores $q k^\top$ are `(batch, heads, q_len, k_len)`:
# one row per query, one column per key. The softmax normalises **each row over the keys** (the last
# dim), so that each query's weights sum to 1.
#
# **Masks.** In this course a mask is a boolean tensor, broadcastable to the scores' shape, with
# **True where the query may attend to the key** (the convention of `F.scaled_dot_product_attention`).
# Masked scores are set to $-\infty$ *before* the softmax (the paper's decoder does the same, §3.2.3), so
# they get exactly zero weight and the remaining weights still sum to 1. Zeroing weights *after* the
# softmax leaves rows that no longer sum to 1; setting masked scores to 0 keeps them in the race.
#
# **A row with no allowed key** (every key masked) is softmax of all $-\infty$: $0/0$.
#
# **Predict · 预测:** what does `torch.softmax` return for a row of $-\infty$, and what does PyTorch's
# own attention function return for a query whose keys are all masked? Write your guess down, then run
# the next cell.

# %% [markdown] lang="zh"
# 解读运行结果：**不缩放**时，熵从 1.78 nats 降到 0.09 nats，在 $d_k = 1024$ 时每四行中就有三行饱和（softmax
# 的雅可比矩阵小于 0.01）：处于中位数的查询根本得不到梯度（0.000），尽管那些未饱和的行仍然能得到很大的梯度。
# 这就是论文所说的“梯度极小的区域”（regions where it has extremely small gradients；Vaswani et al. 2017，§3.2.1）。
# **除以 $d_k$** 则是相反的失败：分数缩小到方差只有 $1/d_k$，每一行都趋于均匀分布（2.77 nats：
# 这个头无法挑出任何一个键），梯度也按 $1/\sqrt{d_k}$ 缩小（0.128 → 0.008）。**除以 $\sqrt{d_k}$**
# 时两条曲线都是平的（2.36 nats，0.30）：头的*温度*不再依赖于头的大小。这就是 $1/\sqrt{d_k}$ 的全部作用，
# 而且它说的是初始化时的情形：训练好的模型仍然可以通过 $W_q$ 和 $W_k$ 让它的头变得更尖锐或更平坦。
#
# ## 第 2 部分 缩放点积注意力 · Part 2 — Scaled dot-product attention
#
# 形状：查询 `q` 为 `(batch, heads, q_len, d_k)`，键 `k` 为 `(batch, heads, k_len, d_k)`，值 `v` 为
# `(batch, heads, k_len, d_v)`。分数 $q k^\top$ 的形状为 `(batch, heads, q_len, k_len)`：每个查询一行，每个键一列。
# softmax 对**每一行在所有键上**（最后一维）做归一化，使每个查询的权重之和为 1。
#
# **掩码。** 在本课程中，掩码是一个可以广播到分数形状的布尔张量，**在查询可以关注该键的位置为 True**（这是
# `F.scaled_dot_product_attention` 的约定）。被掩蔽的分数在 softmax *之前*被设为 $-\infty$（论文的解码器也是这样做的，
# §3.2.3），因此它们得到的权重恰好为零，而其余的权重之和仍为 1。如果在 softmax *之后*才把权重置零，行之和就不再是 1；
# 如果把被掩蔽的分数设为 0，它们就仍然参与竞争。
#
# **没有任何允许的键的一行**（所有键都被掩蔽）就是对一行 $-\infty$ 做 softmax：$0/0$。
#
# **预测 · Predict：** 对一行 $-\infty$，`torch.softmax` 返回什么？对一个所有键都被掩蔽的查询，PyTorch
# 自己的注意力函数又返回什么？先写下你的猜测，再运行下一个单元格。

# %%
row = torch.full((1, 3), float("-inf"))
print("torch.softmax of a row of -inf            :", torch.softmax(row, dim=-1))
q_demo, kv_demo = torch.randn(1, 1, 1, 4), torch.randn(1, 1, 3, 4)
nothing_allowed = torch.zeros(1, 3, dtype=torch.bool)
print("F.scaled_dot_product_attention, no key allowed:",
      F.scaled_dot_product_attention(q_demo, kv_demo, kv_demo, attn_mask=nothing_allowed))

# %% lang="zh"
row = torch.full((1, 3), float("-inf"))
print("对一行 -inf 做 torch.softmax                ：", torch.softmax(row, dim=-1))
q_demo, kv_demo = torch.randn(1, 1, 1, 4), torch.randn(1, 1, 3, 4)
nothing_allowed = torch.zeros(1, 3, dtype=torch.bool)
print("F.scaled_dot_product_attention，没有允许的键：",
      F.scaled_dot_product_attention(q_demo, kv_demo, kv_demo, attn_mask=nothing_allowed))


# %% [markdown]
# Plain softmax gives NaN; PyTorch's function (version 2.13 here, CPU) gives a zero output. We adopt the
# same rule: **a query with no allowed key gets zero weights and a zero output**, never NaN. (Filling
# masked scores with a large negative number instead of $-\infty$ does not do it: a fully masked row
# then has equal scores and gets *uniform* weights.)
#
# ### Exercise 2 · 练习 2: `scaled_dot_product_attention`
#
# **Difficulty:** ●●○ · **Importance:** ●●● · **Time:** ~20 min
#
# Return the output and the weights, for any batch and head dims, with or without a mask.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Four steps: scores, mask, softmax, weighted sum of values. Which dims of `k` must swap so that
# `q @ k...` gives `(…, q_len, k_len)`? Which number is $d_k$: the size of what? Along which dim do the
# weights of one query live?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Only the last two dims of `k` swap; $d_k$ is the size of a query vector, not the number of keys. A
# score the mask forbids must get zero weight after the softmax: which value does that? A row whose
# keys are all forbidden then holds NaN (the cell above shows it): make its weights zero before they multiply
# `v`.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# 普通的 softmax 给出 NaN；PyTorch 的函数（这里是 2.13 版，CPU）给出零输出。我们采用同样的规则：
# **没有任何允许的键的查询，权重为零，输出也为零**，绝不是 NaN。（用一个很大的负数代替 $-\infty$
# 来填充被掩蔽的分数是做不到这一点的：那样一来，完全被掩蔽的一行分数全都相等，得到的是*均匀*的权重。）
#
# ### 练习 2 · Exercise 2：`scaled_dot_product_attention`
#
# **难度：** ●●○ · **重要性：** ●●● · **用时：** 约 20 分钟
#
# 返回输出和权重；要适用于任意的批量维和头维，有没有掩码都要能处理。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 分四步：分数、掩码、softmax、对值加权求和。`k` 的哪两维要交换，才能让 `q @ k...` 得到 `(…, q_len, k_len)`？$d_k$
# 是哪个数，是什么东西的大小？一个查询的各个权重位于哪一维上？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 只交换 `k` 的最后两维；$d_k$ 是一个查询向量的大小，而不是键的个数。被掩码禁止的分数在 softmax 之后必须得到零权重：
# 取什么值能做到这一点？这样一来，所有键都被禁止的一行就会是 NaN（上面的单元格展示了这一点）：在这些权重与 `v`
# 相乘之前，先把它们变成零。
#
# </details>
# </details>

# %% answer="scaled_dot_product_attention"
def scaled_dot_product_attention(q, k, v, mask=None):
    """Each query's output: the average of the values, weighted by the softmax over the keys of the
    query–key dot products divided by √d_k, where the mask allows it.

    q: (batch, heads, q_len, d_k); k: (batch, heads, k_len, d_k); v: (batch, heads, k_len, d_v).
    mask: None or a bool tensor broadcastable to (batch, heads, q_len, k_len), True where the
        query MAY attend to the key.
    Returns (output, weights): output (batch, heads, q_len, d_v); weights (batch, heads, q_len, k_len),
    each row summing to 1, or all zeros (and a zero output) for a query with no allowed key.
    """
    ### BEGIN SOLUTION
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)  # (batch, heads, q_len, k_len)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # rows over keys
    weights = torch.nan_to_num(weights, nan=0.0)  # fully masked rows: 0/0 -> 0
    return weights @ v, weights  # (batch, heads, q_len, d_v), (batch, heads, q_len, k_len)
    ### END SOLUTION


# %% answer="scaled_dot_product_attention" lang="zh"
def scaled_dot_product_attention(q, k, v, mask=None):
    """每个查询的输出：值的加权平均，权重是查询与各个键的点积除以 √d_k 之后在键上做 softmax
    的结果，只在掩码允许的位置计入。

    q：(batch, heads, q_len, d_k)；k：(batch, heads, k_len, d_k)；v：(batch, heads, k_len, d_v)。
    mask：None，或一个可以广播到 (batch, heads, q_len, k_len) 的 bool 张量，在查询可以关注该键的位置
        为 True。
    返回 (output, weights)：output 形状为 (batch, heads, q_len, d_v)；weights 形状为 (batch, heads, q_len, k_len)，
    每一行之和为 1；对没有任何允许的键的查询，这一行全为零（输出也为零）。
    """
    ### BEGIN SOLUTION
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)  # (batch, heads, q_len, k_len)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # 每一行在键上做 softmax
    weights = torch.nan_to_num(weights, nan=0.0)  # 完全被掩蔽的行：0/0 -> 0
    return weights @ v, weights  # (batch, heads, q_len, d_v), (batch, heads, q_len, k_len)
    ### END SOLUTION


# %% tests="attention_tests" points=4
import math
import torch
from course.checks import call, check, close
from course.checks import ch05_attention as ref

# Hand-worked, d_k = 4 (scale 1/2), two keys. Query 0 scores q·k = [0, 4]; query 1 (all zeros) scores [0, 0].
q = torch.tensor([[[[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]]]])    # (1, 1, 2, 4)
k = torch.tensor([[[[1.0, -1.0, 1.0, -1.0], [1.0, 1.0, 1.0, 1.0]]]])  # (1, 1, 2, 4)
v = torch.tensor([[[[10.0], [20.0]]]])                                 # (1, 1, 2, 1)
s = lambda x: 1 / (1 + math.exp(-x))                                   # softmax([0, x]) = [1 - s(x), s(x)]
rows = lambda x: torch.tensor([[[[1 - s(x), s(x)], [0.5, 0.5]]]])      # the weights if query 0's scores are [0, x]
out, weights = call(scaled_dot_product_attention, q, k, v)
check(tuple(weights.shape) == (1, 1, 2, 2), "weights should have shape (batch, heads, q_len, k_len) = (1, 1, 2, 2), "
      "got {got}", got=tuple(getattr(weights, "shape", ())))
ref.expect(weights, rows(2.0), name="weights of the hand-worked case", mistakes=[
    (rows(4.0), "they match the unscaled scores q·kᵀ: divide by √d_k, d_k = the last dim of q and k (Part 1)"),
    (rows(1.0), "they match scores divided by d_k: the scale is 1/√d_k; 1/d_k over-flattens the softmax (Part 1)"),
    (rows(4 / math.sqrt(2)), "scaled by √(number of keys)? d_k is the size of each query and key vector (Part 2)"),
    (torch.tensor([[[[0.5, s(2.0)], [0.5, 1 - s(2.0)]]]]),
     "each COLUMN sums to 1: the softmax must run over the keys (the last dim), not over the queries (Part 2)"),
])
close(out, torch.tensor([[[[10 * (1 - s(2.0)) + 20 * s(2.0)], [15.0]]]]), name="output of the hand-worked case")
# Mask the second key: all the weight goes to the first one.
out, weights = call(scaled_dot_product_attention, q, k, v, torch.tensor([True, False]))
ref.expect(weights, torch.tensor([[[[1.0, 0.0], [1.0, 0.0]]]]), name="weights with the second key masked", mistakes=[
    (torch.tensor([[[[0.0, 1.0], [0.0, 1.0]]]]), "the allowed key got no weight: True means the query MAY attend "
                                                 "(Part 2)"),
    (torch.tensor([[[[1 - s(2.0), 0.0], [0.5, 0.0]]]]), "the rows no longer sum to 1: the weights were zeroed AFTER "
                                                        "the softmax; set masked scores to -inf before it (Part 2)"),
    (torch.tensor([[[[0.5, 0.5], [0.5, 0.5]]]]), "the masked key still gets weight: a masked score must be -inf, "
                                                 "not 0 (Part 2)"),
])
# No key allowed at all.
out, weights = call(scaled_dot_product_attention, q, k, v, torch.tensor([False, False]))
check(not bool(torch.isnan(weights).any()) and not bool(torch.isnan(out).any()),
      "a query with no allowed key gave NaN: softmax of a row of -inf is 0/0; by the course's rule it gets zero "
      "weights and a zero output (Part 2)")
ref.expect(weights, torch.zeros(1, 1, 2, 2), name="weights of queries with no allowed key", mistakes=[
    (torch.full((1, 1, 2, 2), 0.5), "uniform weights: a large negative fill (not -inf) leaves a fully masked row "
                                    "with equal scores; such a row must get zeros (Part 2)"),
])
close(out, torch.zeros(1, 1, 2, 1), name="output of queries with no allowed key (zeros)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch05_attention as hidden
hidden.check_attention(scaled_dot_product_attention)
### END HIDDEN TESTS

# %% [markdown]
# ## Part 3 — Masks · 掩码
#
# Two masks cover almost every use:
#
# * **Padding mask** (填充掩码). A batch holds sequences of different lengths, padded to the longest.
#   No query should attend to a padding key. From the true `lengths` (shape `(batch,)`) build a
#   mask of shape `(batch, 1, 1, max_len)`: one row per sequence, broadcast over heads and queries.
# * **Causal mask** (因果掩码). A decoder predicting token t must not look at tokens after t. Query i
#   may attend to keys 0..i, itself included.
#
# **Queries at the end of a longer sequence.** When a decoder generates text it keeps the keys and
# values of the tokens already processed and feeds only the newest tokens as queries. Then there are
# `q_len` queries and `k_len > q_len` keys, and the queries are the **last** `q_len` positions of the
# sequence. Which keys may each of them see? Work it out from the square case: the mask is not the
# top-left corner of a `k_len × k_len` causal mask. (PyTorch's `is_causal=True` does use the top-left
# alignment for non-square masks; `torch.nn.attention.bias.causal_lower_right` is the other one:
# PyTorch docs, `scaled_dot_product_attention` and `CausalBias`.)
#
# Combined with `&`, a `(batch, 1, 1, seq)` padding mask and a `(seq, seq)` causal mask broadcast to
# `(batch, 1, seq, seq)`: exactly what a decoder's self-attention needs.
#
# ### Exercise 3 · 练习 3: `causal_mask` and `padding_mask`
#
# **Difficulty:** ●●○ · **Importance:** ●●● · **Time:** ~15 min
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Rows are queries, columns keys. For the rectangular case: at which absolute position does query i sit
# when the q_len queries are the last ones of k_len positions? For the padding mask: compare a row of
# key positions with each sequence's length; what shape makes that comparison broadcast?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Query i sits at position `k_len - q_len + i`, so it may see keys `j <= i + (k_len - q_len)`: a
# lower-triangular mask shifted to the right (look at what `tril`'s `diagonal` argument does, or compare
# a column of query positions with a row of key positions). Padding: compare a row of key positions with
# a column of lengths, minding that key j is real when j < length (strictly); then give the result the
# singleton dims that the scores' (batch, heads, queries, keys) shape needs.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ## 第 3 部分 掩码 · Part 3 — Masks
#
# 有两种掩码几乎涵盖了所有用途：
#
# * **填充掩码**（padding mask）。一个批量中的序列长度各不相同，都被填充到最长的那个。任何查询都不应关注填充出来的键。
#   根据真实长度 `lengths`（形状为 `(batch,)`）构造一个形状为 `(batch, 1, 1, max_len)` 的掩码：每个序列一行，
#   在头和查询上广播。
# * **因果掩码**（causal mask）。预测第 t 个词元的解码器不能看到 t 之后的词元。查询 i 可以关注键 0..i，包括它自己。
#
# **位于更长序列末尾的查询。** 解码器生成文本时，会保留已经处理过的词元的键和值，只把最新的词元作为查询送进去。这时有
# `q_len` 个查询和 `k_len > q_len` 个键，而这些查询是序列的**最后** `q_len` 个位置。它们各自可以看到哪些键？
# 从方阵的情形推导出来：这个掩码并不是 `k_len × k_len` 因果掩码的左上角。（对于非方阵的掩码，PyTorch 的 `is_causal=True`
# 采用的确实是左上角对齐；`torch.nn.attention.bias.causal_lower_right` 则是另一种：见 PyTorch 文档的
# `scaled_dot_product_attention` 和 `CausalBias`。）
#
# 用 `&` 组合时，形状为 `(batch, 1, 1, seq)` 的填充掩码和形状为 `(seq, seq)` 的因果掩码会广播成 `(batch, 1, seq, seq)`：
# 这正是解码器的自注意力所需要的。
#
# ### 练习 3 · Exercise 3：`causal_mask` 和 `padding_mask`
#
# **难度：** ●●○ · **重要性：** ●●● · **用时：** 约 15 分钟
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 行是查询，列是键。对于矩形的情形：当 q_len 个查询是 k_len 个位置中的最后几个时，查询 i 位于哪个绝对位置？
# 对于填充掩码：把一行键位置与每个序列的长度相比较；什么样的形状能让这个比较广播起来？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 查询 i 位于位置 `k_len - q_len + i`，所以它可以看到满足 `j <= i + (k_len - q_len)` 的键：
# 这是一个向右平移的下三角掩码（看看 `tril` 的 `diagonal` 参数起什么作用，或者把一列查询位置与一行键位置相比较）。
# 填充掩码：把一行键位置与一列长度相比较，注意只有当 j < length（严格小于）时键 j 才是真实的；然后给结果补上分数的形状
# (batch, heads, queries, keys) 所需要的大小为 1 的维度。
#
# </details>
# </details>

# %% answer="masks"
def causal_mask(q_len, k_len=None):
    """Bool mask (q_len, k_len), True where query i may attend to key j.

    The q_len queries are the LAST q_len positions of a sequence whose k_len keys are its positions
    0 .. k_len - 1; each query may attend to its own position and every earlier one. k_len=None means k_len = q_len.
    """
    ### BEGIN SOLUTION
    k_len = q_len if k_len is None else k_len
    return torch.ones(q_len, k_len, dtype=torch.bool).tril(diagonal=k_len - q_len)
    ### END SOLUTION


def padding_mask(lengths, max_len):
    """Bool mask (batch, 1, 1, max_len), True for real keys: key j of sequence b is kept if j < lengths[b].

    lengths: long tensor (batch,); max_len: int >= max(lengths).
    """
    ### BEGIN SOLUTION
    keep = torch.arange(max_len)[None, :] < lengths[:, None]  # (batch, max_len)
    return keep[:, None, None, :]  # (batch, 1, 1, max_len)
    ### END SOLUTION


# %% answer="masks" lang="zh"
def causal_mask(q_len, k_len=None):
    """布尔掩码 (q_len, k_len)，在查询 i 可以关注键 j 的位置为 True。

    这 q_len 个查询是一个序列末尾的 q_len 个位置，该序列的 k_len 个键就是它的位置
    0 .. k_len - 1；每个查询可以关注它自己的位置以及之前的每一个位置。k_len=None 表示 k_len = q_len。
    """
    ### BEGIN SOLUTION
    k_len = q_len if k_len is None else k_len
    return torch.ones(q_len, k_len, dtype=torch.bool).tril(diagonal=k_len - q_len)
    ### END SOLUTION


def padding_mask(lengths, max_len):
    """布尔掩码 (batch, 1, 1, max_len)，真实的键为 True：若 j < lengths[b]，则保留序列 b 的键 j。

    lengths：long 张量 (batch,)；max_len：int，>= max(lengths)。
    """
    ### BEGIN SOLUTION
    keep = torch.arange(max_len)[None, :] < lengths[:, None]  # (batch, max_len)
    return keep[:, None, None, :]  # (batch, 1, 1, max_len)
    ### END SOLUTION


# %% tests="masks_tests" points=3
import torch
from course.checks import call, check, equal
from course.checks import ch05_attention as ref

T, F_ = True, False
m = call(causal_mask, 3)
check(isinstance(m, torch.Tensor) and m.dtype == torch.bool,
      "causal_mask should return a bool tensor (True = may attend), got {got}", got=getattr(m, "dtype", type(m)))
lower = torch.tensor([[T, F_, F_], [T, T, F_], [T, T, T]])
ref.expect(m, lower, name="causal_mask(3)", mistakes=[
    (lower & ~torch.eye(3, dtype=torch.bool), "the diagonal is missing: query i may attend to itself (key j = i)"),
    (torch.ones(3, 3, dtype=torch.bool).tril(1), "query i may see key i + 1: one future token leaks"),
    (lower.T, "this is the upper triangle: rows are queries and columns keys; query i sees keys j <= i"),
    (~lower, "True and False are swapped: True means the query MAY attend"),
])
r = call(causal_mask, 2, 4)
equal(tuple(r.shape), (2, 4), name="shape of causal_mask(2, 4) (q_len, k_len)")
ref.expect(r, torch.tensor([[T, T, T, F_], [T, T, T, T]]), name="causal_mask(2, 4)", mistakes=[
    (torch.tensor([[T, F_, F_, F_], [T, T, F_, F_]]),
     "that is the top-left alignment (what is_causal does for a non-square mask): here the 2 queries are the LAST "
     "2 of the 4 positions, so query 0 sits at position 2 (Part 3)"),
])
p = call(padding_mask, torch.tensor([2, 3]), 3)
shape = tuple(getattr(p, "shape", ()))
check(shape != (2, 1, 3, 1), "padding_mask has shape (batch, 1, max_len, 1): that masks "
      "queries; the keys are the LAST dim of the scores, so the shape is (batch, 1, 1, max_len) (Part 3)")
check(shape == (2, 1, 1, 3), "padding_mask([2, 3], 3) should have shape (batch, 1, 1, max_len) = (2, 1, 1, 3) "
      "so that it broadcasts over heads and queries; got {shape}", shape=shape)
ref.expect(p[:, 0, 0], torch.tensor([[T, T, F_], [T, T, T]]), name="padding_mask([2, 3], 3)", mistakes=[
    (torch.tensor([[F_, F_, T], [F_, F_, F_]]), "True and False are swapped: True marks the real keys"),
    (torch.tensor([[T, T, T], [T, T, T]]), "nothing is masked: key j is real only when j < length (positions start "
                                           "at 0, so a sequence of length 2 has keys 0 and 1)"),
])
both = p & m
equal(tuple(both.shape), (2, 1, 3, 3), name="shape of padding_mask & causal_mask (broadcast)")
p = call(padding_mask, torch.tensor([1, 2]), 4)  # padded beyond the longest sequence
check(tuple(getattr(p, "shape", ()))[-1:] != (2,), "padding_mask([1, 2], 4) has 2 keys, the longest length: the "
      "max_len argument was ignored; a batch may be padded beyond its longest sequence, so the last dim is max_len")
equal(tuple(p.shape), (2, 1, 1, 4), name="shape of padding_mask([1, 2], 4)")
ref.expect(p[:, 0, 0], torch.tensor([[T, F_, F_, F_], [T, T, F_, F_]]), name="padding_mask([1, 2], 4)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch05_attention as hidden
hidden.check_masks(causal_mask, padding_mask)
### END HIDDEN TESTS

# %% [markdown]
# See the combined mask for a batch of two sequences of lengths 4 and 2, padded to 4 (1 = may attend),
# and the mask of the last 2 of 5 positions. Row = query, column = key.

# %% [markdown] lang="zh"
# 下面是一个批量的组合掩码：两个序列，长度分别为 4 和 2，都填充到 4（1 = 可以关注）；还有 5 个位置中最后 2
# 个位置的掩码。行 = 查询，列 = 键。

# %%
with needs("causal_mask", "padding_mask"):
    combined = padding_mask(torch.tensor([4, 2]), 4) & causal_mask(4)   # (2, 1, 4, 4)
    print(combined[:, 0].int())
    print("queries 2 and 3 of the short sequence are padding themselves; they may still attend to the real keys 0-1")
    print(causal_mask(2, 5).int())

# %% lang="zh"
with needs("causal_mask", "padding_mask"):
    combined = padding_mask(torch.tensor([4, 2]), 4) & causal_mask(4)   # (2, 1, 4, 4)
    print(combined[:, 0].int())
    print("短序列的查询 2 和 3 本身就是填充；它们仍然可以关注真实的键 0-1")
    print(causal_mask(2, 5).int())


# %% [markdown]
# ## Part 4 — Multi-head attention · 多头注意力
#
# One attention head computes one weighting per query, so its output is one average: "with a single
# attention head, averaging inhibits" attending to different things at different positions (Vaswani et
# al. 2017, §3.2.2). Multi-head attention runs `h` heads in parallel on `d_model / h`-dim slices:
#
# 1. **Project**: `Q = x_q W_q + b_q`, `K = x_k W_k + b_k`, `V = x_v W_v + b_v`, each `d_model → d_model`.
# 2. **Split heads** (chapter 02): `(batch, seq, d_model)` → `view(batch, seq, h, d_head)` →
#    `transpose(1, 2)` → `(batch, h, seq, d_head)`. Viewing directly as `(batch, h, seq, d_head)`
#    would mix tokens into heads: the wrong axis.
# 3. **Attend** with your function (masks broadcast over heads; the scale uses `d_head`).
# 4. **Merge**: `transpose(1, 2)` back, then `reshape` (or `contiguous().view`) to `(batch, seq, d_model)`.
# 5. **Output projection** `W_o`, `d_model → d_model`.
#
# Four `d_model × d_model` matrices with biases: $4d^2 + 4d$ parameters. The paper's base model uses
# $h = 8$ heads of $d_k = d_v = 64$ for $d_{model} = 512$ (§3.2.2).
#
# ### Exercise 4 · 练习 4: `MultiHeadAttention`
#
# **Difficulty:** ●●● · **Importance:** ●●● · **Time:** ~20 min
#
# Keep the four `nn.Linear` layers named `q_proj`, `k_proj`, `v_proj`, `out_proj` (the tests copy
# `nn.MultiheadAttention`'s weights into them). Raise `ValueError` when `d_model` is not divisible by
# `n_heads`. Also keep the last attention weights in `self.last_weights` (the attention view reads them).
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Write down the shape after every step of the list above, for query and key of different lengths
# (cross-attention). Where does the head axis have to be when you call your attention function, and
# where must it go before the output projection?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Splitting is a reshape of the last dim into (heads, d_head) followed by swapping the heads in front
# of the positions; merging undoes both, in the reverse order. The keys and values may have another
# length than the queries, so take each tensor's own length. The output projection comes last. A
# check that helps: with `n_heads = 1` the split and merge do nothing, so a layer right for one head and
# wrong for two has its split or merge wrong.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ## 第 4 部分 多头注意力 · Part 4 — Multi-head attention
#
# 一个注意力头对每个查询只计算一组权重，所以它的输出只是一个平均值：论文写道，“使用单个注意力头时，
# 求平均会抑制”模型在不同位置关注不同的信息（Vaswani et al. 2017，§3.2.2）。多头注意力在 `d_model / h`
# 维的切片上并行地运行 `h` 个头：
#
# 1. **投影**：`Q = x_q W_q + b_q`，`K = x_k W_k + b_k`，`V = x_v W_v + b_v`，每个都是 `d_model → d_model`。
# 2. **拆分多头**（第 02 章）：`(batch, seq, d_model)` → `view(batch, seq, h, d_head)` → `transpose(1, 2)` →
#    `(batch, h, seq, d_head)`。直接 view 成 `(batch, h, seq, d_head)` 会把不同词元混进同一个头里：轴用错了。
# 3. **计算注意力**：用你写的函数（掩码在头上广播；缩放用的是 `d_head`）。
# 4. **合并**：先用 `transpose(1, 2)` 换回来，再 `reshape`（或 `contiguous().view`）成 `(batch, seq, d_model)`。
# 5. **输出投影** `W_o`，`d_model → d_model`。
#
# 四个带偏置的 `d_model × d_model` 矩阵：共 $4d^2 + 4d$ 个参数。论文的基础模型在 $d_{model} = 512$ 时使用 $h = 8$ 个头，
# $d_k = d_v = 64$（§3.2.2）。
#
# ### 练习 4 · Exercise 4：`MultiHeadAttention`
#
# **难度：** ●●● · **重要性：** ●●● · **用时：** 约 20 分钟
#
# 保留四个 `nn.Linear` 层，分别命名为 `q_proj`、`k_proj`、`v_proj`、`out_proj`（测试会把 `nn.MultiheadAttention`
# 的权重复制进去）。当 `d_model` 不能被 `n_heads` 整除时抛出 `ValueError`。还要把最近一次的注意力权重保存在
# `self.last_weights` 中（注意力视图会读取它）。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 针对查询与键长度不同的情形（交叉注意力），写下上面列表中每一步之后的形状。调用你的注意力函数时，头这一轴必须在哪里？
# 在输出投影之前，它又必须回到哪里？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 拆分就是先把最后一维 reshape 成 (heads, d_head)，再把头这一维换到位置维的前面；合并则按相反的顺序撤销这两步。
# 键和值的长度可以与查询不同，所以要取每个张量自己的长度。输出投影放在最后。一个有用的检查：`n_heads = 1`
# 时拆分和合并什么也不做，所以一个层如果在一个头时正确、在两个头时出错，那么错就出在拆分或合并上。
#
# </details>
# </details>

# %% answer="MultiHeadAttention"
class MultiHeadAttention(nn.Module):
    """Multi-head attention with separate q/k/v projections and an output projection.

    d_model: int; n_heads: int dividing d_model.
    forward(query, key, value, mask=None):
        query (batch, q_len, d_model); key and value (batch, k_len, d_model);
        mask: None or bool, broadcastable to (batch, n_heads, q_len, k_len), True = may attend.
        Returns (batch, q_len, d_model); stores the weights (batch, n_heads, q_len, k_len) in self.last_weights.
    Raises ValueError if d_model % n_heads != 0.
    """

    def __init__(self, d_model, n_heads):
        super().__init__()
        ### BEGIN SOLUTION
        if d_model % n_heads != 0:
            raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}")
        self.n_heads = n_heads
        self.d_head = d_model // n_heads
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.last_weights = None
        ### END SOLUTION

    def forward(self, query, key, value, mask=None):
        ### BEGIN SOLUTION
        batch, q_len, d_model = query.shape
        k_len = key.shape[1]
        q = self.q_proj(query).view(batch, q_len, self.n_heads, self.d_head).transpose(1, 2)  # (b, h, q_len, d_head)
        k = self.k_proj(key).view(batch, k_len, self.n_heads, self.d_head).transpose(1, 2)  # (b, h, k_len, d_head)
        v = self.v_proj(value).view(batch, k_len, self.n_heads, self.d_head).transpose(1, 2)  # (b, h, k_len, d_head)
        out, weights = scaled_dot_product_attention(q, k, v, mask)  # (b, h, q_len, d_head)
        self.last_weights = weights.detach()
        out = out.transpose(1, 2).reshape(batch, q_len, d_model)  # merge heads: (b, q_len, d_model)
        return self.out_proj(out)
        ### END SOLUTION


# %% answer="MultiHeadAttention" lang="zh"
class MultiHeadAttention(nn.Module):
    """多头注意力：q、k、v 各有独立的投影，另有一个输出投影。

    d_model：int；n_heads：能整除 d_model 的 int。
    forward(query, key, value, mask=None)：
        query 形状为 (batch, q_len, d_model)；key 和 value 形状为 (batch, k_len, d_model)；
        mask：None，或可以广播到 (batch, n_heads, q_len, k_len) 的 bool 张量，True = 可以关注。
        返回 (batch, q_len, d_model)；把权重 (batch, n_heads, q_len, k_len) 保存在 self.last_weights 中。
    若 d_model % n_heads != 0，抛出 ValueError。
    """

    def __init__(self, d_model, n_heads):
        super().__init__()
        ### BEGIN SOLUTION
        if d_model % n_heads != 0:
            raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}")
        self.n_heads = n_heads
        self.d_head = d_model // n_heads
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.last_weights = None
        ### END SOLUTION

    def forward(self, query, key, value, mask=None):
        ### BEGIN SOLUTION
        batch, q_len, d_model = query.shape
        k_len = key.shape[1]
        q = self.q_proj(query).view(batch, q_len, self.n_heads, self.d_head).transpose(1, 2)  # (b, h, q_len, d_head)
        k = self.k_proj(key).view(batch, k_len, self.n_heads, self.d_head).transpose(1, 2)  # (b, h, k_len, d_head)
        v = self.v_proj(value).view(batch, k_len, self.n_heads, self.d_head).transpose(1, 2)  # (b, h, k_len, d_head)
        out, weights = scaled_dot_product_attention(q, k, v, mask)  # (b, h, q_len, d_head)
        self.last_weights = weights.detach()
        out = out.transpose(1, 2).reshape(batch, q_len, d_model)  # 合并多头：(b, q_len, d_model)
        return self.out_proj(out)
        ### END SOLUTION


# %% tests="MultiHeadAttention_tests" points=4
import torch
from course.checks import check, close, equal, raises
from course.checks import ch05_attention as ref

mha = ref.call(MultiHeadAttention, 8, 2)
equal(sum(p.numel() for p in mha.parameters()), 4 * 8 * 8 + 4 * 8,
      name="parameters of MultiHeadAttention(8, 2) (four d×d projections, each with a bias: 4d² + 4d)")
fits = lambda got, want: bool(((got - want).abs() <= 1e-5).all())
got, want = ref.against_torch(MultiHeadAttention, 8, 2)
if tuple(getattr(got, "shape", ())) == tuple(want.shape) and not fits(got, want):
    ref.expect_n_heads_used(MultiHeadAttention, 8, 2)
    one, one_ref = ref.against_torch(MultiHeadAttention, 8, 1)
    check(not fits(one, one_ref), "with ONE head your layer matches nn.MultiheadAttention and with two it does not: "
          "the heads are split or merged along the wrong axis (view as (batch, seq, heads, d_head), then move the "
          "head axis next to batch; undo both when merging), or the scale uses d_model instead of d_head (Part 4)")
    bare, bare_ref = ref.against_torch(MultiHeadAttention, 8, 2, identity_out=True)
    check(not fits(bare, bare_ref), "your layer matches nn.MultiheadAttention only when out_proj is the identity: "
          "apply self.out_proj to the merged heads (Part 4, step 5)")
close(got, want, atol=1e-5, name="self-attention, against nn.MultiheadAttention with the same weights")
# another width and head count, then cross-attention with a padding mask: every argument must be used
ref.expect_arguments_used(MultiHeadAttention, 12, 3)
raises(ValueError, MultiHeadAttention, 10, 4,
       name="MultiHeadAttention(10, 4): 10 features cannot be split into 4 equal heads, so the constructor")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch05_attention as hidden
hidden.check_mha(MultiHeadAttention)
### END HIDDEN TESTS

# %% [markdown]
# `nn.MultiheadAttention` stores the three input projections stacked in one `in_proj_weight` of
# shape `(3·d_model, d_model)` and uses the **opposite** mask convention: its `attn_mask` and
# `key_padding_mask` are True where attention is *forbidden* (PyTorch docs, `MultiheadAttention`).
# `ref.copy_from_torch` copies the weights for you; when you pass a mask to PyTorch's module, pass `~mask`.
#
# ### Several heads or one wide one? · 多个头还是一个宽头？
#
# A task that needs two lookups per token: the input is 8 random content features and a one-hot
# position (16 features in all); the target is the previous token's content next to the first token's
# content. One head can only average; two heads can each fetch one token. The experiment trains your
# `MultiHeadAttention(16, h)` for h = 1, 2, 4 (same width, so the same parameters) and counts the cost.
#
# **Predict · 预测:** will one head of size 16 reach the same error as two heads of size 8? What does
# splitting cost: more parameters, more multiply-adds, or something else? Write your guess down, then run
# the next cell.

# %% [markdown] lang="zh"
# `nn.MultiheadAttention` 把三个输入投影堆叠起来，存放在一个形状为 `(3·d_model, d_model)` 的 `in_proj_weight` 中，
# 并且使用**相反**的掩码约定：它的 `attn_mask` 和 `key_padding_mask` 在*禁止*注意力的位置为 True（PyTorch 文档，
# `MultiheadAttention`）。`ref.copy_from_torch` 会替你复制权重；把掩码传给 PyTorch 的模块时，要传 `~mask`。
#
# ### 多个头还是一个宽头？ · Several heads or one wide one?
#
# 下面这个任务要求每个词元查找两次：输入是 8 个随机的内容特征加上一个独热编码的位置（共 16 个特征）；
# 目标是把前一个词元的内容和第一个词元的内容并排拼在一起。一个头只能求平均；两个头则可以各取一个词元。实验对 h = 1、2、4
# 训练你的 `MultiHeadAttention(16, h)`（宽度相同，因此参数也相同），并统计各自的代价。
#
# **预测 · Predict：** 一个大小为 16 的头，能达到与两个大小为 8 的头相同的误差吗？拆分要付出什么代价：更多的参数、
# 更多的乘加运算，还是别的什么？先写下你的猜测，再运行下一个单元格。

# %%
with needs("MultiHeadAttention", "scaled_dot_product_attention"):
    fig, heads = ex.heads_experiment(MultiHeadAttention, **({"steps": 30} if grading() else {}))
    ex.show(fig)
    for h in heads["final_loss"]:
        print(f"{h} head(s) of size {heads['d_model'] // h:2d}: final error {heads['final_loss'][h]:.4f}; "
              f"{heads['parameters'][h]} parameters, {heads['score_macs'][h]} multiply-adds for the scores and "
              f"the weighted sum, {heads['weights_stored'][h]} attention weights stored per sequence")

# %% lang="zh"
with needs("MultiHeadAttention", "scaled_dot_product_attention"):
    fig, heads = ex.heads_experiment(MultiHeadAttention, **({"steps": 30} if grading() else {}))
    ex.show(fig)
    for h in heads["final_loss"]:
        print(f"{h} 个头，每个头大小 {heads['d_model'] // h:2d}：最终误差 {heads['final_loss'][h]:.4f}；"
              f"{heads['parameters'][h]} 个参数，分数与加权求和共 {heads['score_macs'][h]} 次乘加，"
              f"每个序列存储 {heads['weights_stored'][h]} 个注意力权重")

# %% [markdown]
# Reading the run: one head stalls near 0.38 while two and four heads fall below 0.01; the parameters
# (1088) and the multiply-adds of the attention products (2048) are the same for every h, because the
# heads share the width (the paper's "total computational cost is similar to that of single-head
# attention with full dimensionality", §3.2.2). The cost is elsewhere: h attention matrices to store and
# softmax (64 → 128 → 256 weights per sequence here, $h \cdot n^2$ in general), and narrower heads: a head
# of size $d/h$ smaller than the sequence length cannot express every attention pattern (Bhojanapalli et
# al. 2020). So more heads is not always better: in the paper a single head was 0.9 BLEU worse than the
# best setting and quality also dropped with too many heads (§6.2, Table 3 rows (A)), and many heads of a
# trained model can be pruned at test time (Michel et al. 2019).
#
# ## Part 5 — Looking at attention · 观察注意力
#
# Attention maps are easiest to read when you know what to expect. `ex.toy_scores` builds a layer by
# hand, with real queries and keys made of one-hot vectors, whose three heads do three jobs that
# analyses of trained models report:
#
# * head 0: every token attends to the **previous** token (such heads appear in BERT: Clark et al. 2019, §3);
# * head 1: every token attends to **earlier copies of the same word**, or to itself if none
#   ("duplicate token" heads of GPT-2 small: Wang et al. 2022, §3);
# * head 2: every token attends to the **first** token, a "sink" that trained language models put large
#   weights on (Xiao et al. 2023, §3.1).
#
# The view below shows every head of the layer as a small map (rows: queries, columns: keys; brighter =
# more weight, colour map viridis). Click a map (or tab to it and press Enter) to open it large. Hover a
# word in the sentence, or tab along it with the arrow keys: in every head its row (what it attends to)
# and its column (what attends to it) stay bright and the rest fades; click the word to keep it lit.
# Then type your own sentence, switch on the causal mask (the three heads hardly change: each already
# looks only backwards; the mask matters for a trained decoder whose scores would otherwise reach into
# the future), add `<pad>` words at the end and toggle their mask, and slide the temperature: low
# temperature sharpens each row towards one key (entropy → 0), high temperature flattens it. The bars
# beside the large map are each row's entropy; the tick on each bar is the most that row can reach, the
# log of the number of keys it may see (masked keys, hatched, do not count). A static picture of the
# view is saved in the notebook for readers without a running kernel.

# %% [markdown] lang="zh"
# 解读运行结果：一个头停滞在 0.38 附近，而两个头和四个头都降到了 0.01 以下；对每个 h，参数量（1088）
# 和注意力中两次矩阵乘积的乘加次数（2048）都相同，因为这些头分摊的是同一个宽度（论文中说“总计算代价与全维度的单头注意力
# 相近”，§3.2.2）。代价在别处：要存储 h 个注意力矩阵并对它们做 softmax（这里每个序列的权重个数为 64 → 128 → 256，一般为
# $h \cdot n^2$），而且头变窄了：大小为 $d/h$ 的头如果比序列长度还小，就无法表达所有的注意力模式（Bhojanapalli et al.
# 2020）。所以头并不是越多越好：在论文中，单个头比最佳设置低 0.9 BLEU，头太多时质量也会下降（§6.2，表 3 的 (A) 行）；
# 而且训练好的模型中有许多头在测试时可以剪掉（Michel et al. 2019）。
#
# ## 第 5 部分 观察注意力 · Part 5 — Looking at attention
#
# 事先知道会看到什么，注意力图就最容易读懂。`ex.toy_scores` 手工构造了一个层，其中的查询和键是真正的查询和键，
# 只是由独热向量拼成；它的三个头各做一件事，这三件事在对训练好的模型的分析中都有报告：
#
# * 头 0：每个词元都关注**前一个**词元（BERT 中就有这样的头：Clark et al. 2019，§3）；
# * 头 1：每个词元都关注**同一个词在前面出现过的副本**，如果没有，就关注它自己（GPT-2 small 中的“重复词元”头，duplicate
#   token heads：Wang et al. 2022，§3）；
# * 头 2：每个词元都关注**第一个**词元，即训练好的语言模型会给予很大权重的“汇聚点”（sink；Xiao et al. 2023，§3.1）。
#
# 下面的视图把这个层的每个头都画成一幅小图（行：查询，列：键；越亮表示权重越大，颜色映射为 viridis）。点击一幅小图（或用
# Tab 键移到它上面再按 Enter）即可把它放大。把鼠标悬停在句子中的某个词上，或者用方向键在句子中逐词移动：在每个头中，
# 这个词的行（它关注什么）和列（什么关注它）保持明亮，其余部分变暗；点击这个词可以让它一直保持高亮。
# 然后输入你自己的句子，打开因果掩码（三个头几乎不变：每个头本来就只往回看；对训练好的解码器来说掩码才至关重要，
# 否则它的分数就会伸到未来），在末尾加上几个 `<pad>` 词并切换它们的掩码，再拖动温度滑块：温度低时，每一行都变尖锐，
# 集中到一个键上（熵 → 0）；温度高时，行变得平坦。大图旁边的条形是每一行的熵；每个条形上的刻度是这一行所能达到的最大值，
# 即它能看到的键的个数的对数（被掩蔽的键画有斜线，不计在内）。笔记本中保存了这个视图的一张静态图片，
# 供没有运行内核的读者查看。

# %%
attention_view(ex.toy_tokens(), scores_fn=ex.toy_scores, title=ex.toy_title())

# %% [markdown]
# The same view can watch a module run: `attention_of(module, run, tokens=...)` calls `run()` and records
# every attention layer inside `module` from its `q_proj`, `k_proj` and `last_weights`. Here is your
# multi-head attention, untrained (random projections), on random word embeddings of the same sentence:
# one vector per distinct word, so the three "the" are the same vector, and no positions. Because it
# recorded your queries and keys, the large map can take one score apart: click a cell (or move to it
# with the arrow keys) to see q and k of that pair, their product feature by feature, the sum divided by
# √d_k, and the softmax over the row.
#
# **Predict · 预测:** will the rows of the three "the" differ? Will the rows be sharp or close to uniform?
# Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# 同一个视图还可以观察一个模块的运行：`attention_of(module, run, tokens=...)` 调用 `run()`，并根据 `module`
# 中每个注意力层的 `q_proj`、`k_proj` 和 `last_weights` 把它们记录下来。下面是你的多头注意力，未经训练（投影是随机的），
# 作用在同一个句子的随机词嵌入上：每个不同的词一个向量，所以三个 "the" 是同一个向量，而且没有位置信息。
# 由于视图记录了你的查询和键，大图可以把一个分数拆开来看：点击一个格子（或用方向键移到它上面），就能看到这一对的 q 和
# k、它们逐个特征的乘积、求和后除以 √d_k 的结果，以及这一行上的 softmax。
#
# **预测 · Predict：** 三个 "the" 的行会不同吗？这些行是尖锐的，还是接近均匀？先写下你的猜测，再运行下一个单元格。

# %%
from IPython.display import display

with needs("MultiHeadAttention", "scaled_dot_product_attention"):
    torch.manual_seed(0)
    words = ex.toy_tokens()
    layer = MultiHeadAttention(16, 4)
    x = ex.word_embeddings(words, 16)  # (1, seq, 16), equal words -> equal vectors
    layer(x, x, x)
    w = layer.last_weights[0]  # (heads, seq, seq)
    the = [i for i, t in enumerate(words) if t == "the"]
    print(f"positions of 'the': {the}; their rows equal in every head: "
          f"{all(torch.allclose(w[:, the[0]], w[:, i]) for i in the[1:])}")
    entropy = -(w * w.clamp_min(1e-30).log()).sum(-1).mean()
    print(f"mean entropy of a row: {entropy:.2f} nats (uniform over {len(words)} keys: {math.log(len(words)):.2f})")
    display(attention_of(layer, lambda: layer(x, x, x), tokens=words, title=ex.untrained_title()))

# %% lang="zh"
from IPython.display import display

with needs("MultiHeadAttention", "scaled_dot_product_attention"):
    torch.manual_seed(0)
    words = ex.toy_tokens()
    layer = MultiHeadAttention(16, 4)
    x = ex.word_embeddings(words, 16)  # (1, seq, 16)，相同的词 -> 相同的向量
    layer(x, x, x)
    w = layer.last_weights[0]  # (heads, seq, seq)
    the = [i for i, t in enumerate(words) if t == "the"]
    print(f"'the' 所在的位置：{the}；它们的行在每个头中都相同："
          f"{all(torch.allclose(w[:, the[0]], w[:, i]) for i in the[1:])}")
    entropy = -(w * w.clamp_min(1e-30).log()).sum(-1).mean()
    print(f"一行的平均熵：{entropy:.2f} nats（在 {len(words)} 个键上均匀分布时为 {math.log(len(words)):.2f}）")
    display(attention_of(layer, lambda: layer(x, x, x), tokens=words, title=ex.untrained_title()))

# %% [markdown]
# Reading the run: the rows of the three "the" are identical (True): without positions, attention
# cannot tell equal words apart, wherever they stand (chapter 06 starts from this). With random weights
# the rows are close to uniform (the printed entropy is near its maximum) and show no structure.
# Training is what creates patterns like those of the hand-built layer.
#
# ## Summary · 小结
#
# * For unit-variance entries, Var(q·k) = d_k. Dividing by √d_k keeps a head's softmax at the same
#   temperature for every head size; no scale saturates it (no gradient for most rows), 1/d_k flattens
#   it to uniform (and shrinks its gradient).
# * Attention = softmax over keys of the scaled scores, masked with −∞ before the softmax; a row with
#   no allowed key gives zeros (our convention and PyTorch's function), never NaN.
# * Padding masks `(batch, 1, 1, k_len)` and causal masks `(q_len, k_len)` combine with `&` by
#   broadcasting; queries at the end of a longer sequence need the lower-right causal alignment.
# * Multi-head attention: project, split heads with view + transpose, attend, merge with transpose +
#   reshape, project out: 4d² + 4d parameters. Splitting the width into heads costs no parameters and
#   no multiply-adds, only h attention matrices; it lets one layer fetch several things at once.
#
# **Next:** attention is blind to order. Chapter 06 gives the tokens positions.

# %% [markdown] lang="zh"
# 解读运行结果：三个 "the" 的行完全相同（True）：没有位置信息，注意力就无法区分相同的词，无论它们位于何处（第 06
# 章就从这里出发）。权重随机时，各行都接近均匀（打印出的熵接近其最大值），看不出任何结构。
# 手工构造的那个层所呈现的模式，要靠训练才能形成。
#
# ## 小结 · Summary
#
# * 对方差为 1 的分量，Var(q·k) = d_k。除以 √d_k 让一个头的 softmax 在任何头大小下都保持相同的温度；
#   不缩放会使它饱和（大多数行没有梯度），乘以 1/d_k 则把它压平成均匀分布（梯度也随之缩小）。
# * 注意力 = 对缩放后的分数在键上做 softmax，并在 softmax 之前用 −∞ 做掩蔽；
#   没有任何允许的键的一行输出零（这是我们的约定，也是 PyTorch 函数的约定），绝不是 NaN。
# * 填充掩码 `(batch, 1, 1, k_len)` 和因果掩码 `(q_len, k_len)` 通过广播用 `&` 组合；
#   位于更长序列末尾的查询需要右下角对齐的因果掩码。
# * 多头注意力：投影，用 view + transpose 拆分多头，计算注意力，用 transpose + reshape 合并，再做输出投影：共 4d² + 4d
#   个参数。把宽度拆成多个头不增加参数，也不增加乘加运算，只是多出 h 个注意力矩阵；它让一个层能同时取回好几样东西。
#
# **下一章：** 注意力对顺序视而不见。第 06 章给词元加上位置。

# %%
glossary.show("05-attention")

# %% [markdown]
# ## References · 参考文献
#
# 1. Vaswani, A. et al. (2017). Attention Is All You Need. NeurIPS 2017, arXiv:1706.03762. §3.2.1 and
#    footnote 4 (the scale, Var(q·k) = d_k), §3.2.2 (multi-head attention, h = 8, d_k = 64, the cost),
#    §3.2.3 (masking with −∞), §6.2 and Table 3 rows (A) (the number of heads).
# 2. Bhojanapalli, S., Yun, C., Rawat, A. S., Reddi, S., Kumar, S. (2020). Low-Rank Bottleneck in
#    Multi-head Attention Models. ICML 2020, arXiv:2002.07028.
# 3. Michel, P., Levy, O., Neubig, G. (2019). Are Sixteen Heads Really Better than One? NeurIPS 2019,
#    arXiv:1905.10650.
# 4. Clark, K., Khandelwal, U., Levy, O., Manning, C. D. (2019). What Does BERT Look At? An Analysis of
#    BERT's Attention. BlackboxNLP 2019, arXiv:1906.04341. §3 (heads that attend to the previous token).
# 5. Wang, K., Variengien, A., Conmy, A., Shlegeris, B., Steinhardt, J. (2022). Interpretability in the
#    Wild: a Circuit for Indirect Object Identification in GPT-2 small. arXiv:2211.00593. §3 (duplicate
#    token heads).
# 6. Xiao, G., Tian, Y., Chen, B., Han, S., Lewis, M. (2023). Efficient Streaming Language Models with
#    Attention Sinks. ICLR 2024, arXiv:2309.17453. §3.1 (attention sinks on the initial tokens).
# 7. PyTorch 2.13 documentation: `torch.nn.functional.scaled_dot_product_attention` (`attn_mask` True =
#    may attend; `is_causal` is top-left aligned for non-square masks), `torch.nn.attention.bias.CausalBias`
#    (`causal_lower_right`), `torch.nn.MultiheadAttention` (masks True = not allowed).

# %% [markdown] lang="zh"
# ## 参考文献 · References
#
# 1. Vaswani, A. et al. (2017). Attention Is All You Need. NeurIPS 2017, arXiv:1706.03762. §3.2.1 和脚注 4（缩放，
#    Var(q·k) = d_k），§3.2.2（多头注意力，h = 8，d_k = 64，计算代价），§3.2.3（用 −∞ 做掩蔽），§6.2 和表 3 的 (A)
#    行（头的个数）。
# 2. Bhojanapalli, S., Yun, C., Rawat, A. S., Reddi, S., Kumar, S. (2020). Low-Rank Bottleneck in Multi-head Attention
#    Models. ICML 2020, arXiv:2002.07028.
# 3. Michel, P., Levy, O., Neubig, G. (2019). Are Sixteen Heads Really Better than One? NeurIPS 2019, arXiv:1905.10650.
# 4. Clark, K., Khandelwal, U., Levy, O., Manning, C. D. (2019). What Does BERT Look At? An Analysis of BERT's
#    Attention. BlackboxNLP 2019, arXiv:1906.04341. §3（关注前一个词元的头）。
# 5. Wang, K., Variengien, A., Conmy, A., Shlegeris, B., Steinhardt, J. (2022). Interpretability in the Wild: a Circuit
#    for Indirect Object Identification in GPT-2 small. arXiv:2211.00593. §3（重复词元头）。
# 6. Xiao, G., Tian, Y., Chen, B., Han, S., Lewis, M. (2023). Efficient Streaming Language Models with Attention Sinks.
#    ICLR 2024, arXiv:2309.17453. §3.1（初始词元上的注意力汇聚点）。
# 7. PyTorch 2.13 文档：`torch.nn.functional.scaled_dot_product_attention`（`attn_mask` 为 True 表示可以关注；
#    对于非方阵的掩码，`is_causal` 采用左上角对齐），`torch.nn.attention.bias.CausalBias`（`causal_lower_right`），
#    `torch.nn.MultiheadAttention`（掩码为 True 表示不允许关注）。
