# %% [markdown]
# # Dropout and residual connections · dropout 与残差连接
#
# A Transformer layer is two sublayers (attention, chapter 05, and a feed-forward network, chapter 07)
# plus two small pieces of plumbing that decide whether a deep stack of them can be trained at all:
#
# * **dropout** (随机失活; Srivastava et al. 2014) — during training, randomly silence some numbers so
#   the network cannot lean on any single one of them;
# * **residual connections** (残差连接; He et al. 2016) — add each layer's input back to its output,
#   `x + F(x)`, so that signals and gradients have a straight road through the whole stack.
#
# By the end of this chapter you will have written both, placed dropout where the Transformer puts it
# in both arrangements of chapter 03, seen dropout close the gap between training and test loss, and
# *measured* why the skip path matters: a 40-layer stack without it hardly sends any gradient back to
# its first layers.

# %% [markdown] lang="zh"
# # dropout 与残差连接 · Dropout and residual connections
#
# 一个 Transformer 层由两个子层（注意力，见第 05 章；前馈网络，见第 07 章）和两个不起眼的“管道”部件组成，
# 而正是这两个部件决定了把许多这样的层堆叠起来之后，整个堆栈还能不能训练：
#
# * **dropout**（也译作“随机失活”或“暂退法”；Srivastava et al. 2014）：训练时随机让一些数变成零，
#   使网络无法依赖其中任何一个；
# * **残差连接**（residual connection；He et al. 2016）：把每一层的输入加回到它的输出上，即 `x + F(x)`，
#   让信号和梯度有一条直通整个堆栈的大路。
#
# 学完本章，你将亲手实现这两者；按 Transformer 的做法，在第 03 章的两种排列方式中放好 dropout；看到 dropout
# 缩小训练损失与测试损失之间的差距；并通过*测量*弄清跳跃连接为什么重要：在一个没有它的 40 层堆栈中，
# 几乎没有梯度能传回最前面的几层。

# %% [markdown]
# ## Before you start · 开始之前
#
# **You will build:**
#
# * `dropout(x, p, training, generator)`: inverted dropout as a function;
# * `Dropout`: the same as an `nn.Module`, switched by `model.train()` / `model.eval()`;
# * `embed_with_dropout`: the input of the first layer, from token ids, an embedding table and a
#   position table, with the paper's dropout;
# * `PostNormResidual` and `PreNormResidual`: one residual sublayer each way, with residual dropout;
# * `grad_norms_per_layer`: the gradient norm of every layer of a deep stack.
#
# **Prerequisites:** chapter 02 (broadcasting, indexing a table with a tensor of ids), chapter 03
# (LayerNorm, the Post-LN and Pre-LN blocks); `nn.Module`, `.backward()` and `.grad`; expected value
# and variance of a random variable.
#
# **Time:** about 110 minutes (reading 35, exercises 55, experiments 20).

# %% [markdown] lang="zh"
# ## 开始之前 · Before you start
#
# **本章要实现：**
#
# * `dropout(x, p, training, generator)`：函数形式的反向缩放 dropout；
# * `Dropout`：同样的功能写成 `nn.Module`，由 `model.train()` / `model.eval()` 切换；
# * `embed_with_dropout`：第一层的输入，由词元 id、嵌入表和位置表算出，并按论文的做法施加 dropout；
# * `PostNormResidual` 与 `PreNormResidual`：两种排列方式各一个残差子层，都带有残差 dropout；
# * `grad_norms_per_layer`：深层堆栈中每一层的梯度范数。
#
# **预备知识：** 第 02 章（广播，用 id 张量索引一张表）、第 03 章（层归一化，Post-LN 块与 Pre-LN
# 块）；`nn.Module`、`.backward()` 和 `.grad`；随机变量的期望和方差。
#
# **用时：** 约 110 分钟（阅读 35 分钟，练习 55 分钟，实验 20 分钟）。

# %% [markdown]
# Run the set-up cell first. It imports PyTorch, the course helpers, and `DeepStack` (a deep
# stack of `tanh(Linear)` layers we use in Part 4), then fixes the random seed.

# %% [markdown] lang="zh"
# 先运行初始化单元格。它导入 PyTorch、课程的辅助工具和 `DeepStack`（由 `tanh(Linear)` 层组成的深层堆栈，第 4
# 部分会用到），然后固定随机种子。

# %%
import math

import torch
from torch import nn

from course import glossary
from course.experiments import ch04_dropout_residual as ex
from course.notebook import grading, needs, setup
from course.experiments.ch04_dropout_residual import DeepStack

setup()

# %% [markdown]
# ## Part 1 — Why switch units off? · 为什么要随机关闭神经元
#
# A large network can memorise its training set by building fragile teams of features that only work
# together ("co-adaptation"). Dropout breaks those teams: on every training step, each number in a
# chosen tensor is set to zero with probability `p`, independently, with a fresh random choice each
# step. No feature can count on its partners being present, so each one has to be useful on its own.
#
# Another way to see it: every random pattern of zeros is a different thinned sub-network, and training
# with dropout trains a huge family of them that share weights. At test time we want the *average*
# of that family, without running it thousands of times.

# %% [markdown] lang="zh"
# ## 第 1 部分 为什么要随机关闭神经元 · Part 1 — Why switch units off?
#
# 大型网络可以靠构建脆弱的特征“小团体”来记住训练集：这些特征只有凑在一起才起作用（称为“共适应”，co-adaptation）。dropout
# 拆散了这些小团体：在每个训练步中，选定张量里的每个数都以概率 `p` 独立地被置为零，而且每一步都重新随机选择。
# 没有哪个特征能指望它的搭档一定在场，所以每个特征都必须单独有用。
#
# 换个角度看：每一种随机的置零模式都对应一个不同的精简子网络（thinned network），用 dropout 训练，
# 就是在训练一个共享权重的庞大子网络族。测试时我们想要的是这一族网络的*平均*，但又不想把它们运行成千上万遍。

# %% [markdown]
# ### The scaling problem · 缩放问题
#
# Suppose a unit outputs the value `x`. With dropout it outputs `x` with probability `1 − p` and `0`
# with probability `p`, so its **expected** output is `(1 − p)·x`. The next layer is trained on
# numbers that are, on average, too small by a factor `1 − p`. If at test time we simply stop
# dropping, the next layer suddenly receives inputs that are `1/(1 − p)` times larger than anything
# it saw during training.
#
# **Inverted dropout** (反向缩放 dropout) fixes this during training: every survivor is divided by
# `1 − p`. With a random keep-mask `m` (each entry 1 with probability `1 − p`, else 0):
#
# $$\text{dropout}(x) = \frac{m \odot x}{1-p}, \qquad
# \mathbb{E}[\text{dropout}(x)] = \frac{(1-p)\,x}{1-p} = x .$$
#
# The expected value is unchanged, so at test time dropout does **nothing at all** — the deployed
# model does not even need to know `p`.

# %% [markdown] lang="zh"
# ### 缩放问题 · The scaling problem
#
# 假设某个单元输出的值是 `x`。加上 dropout 后，它以概率 `1 − p` 输出 `x`，以概率 `p` 输出 `0`，因此它输出的**期望**是
# `(1 − p)·x`。下一层训练时看到的数，平均而言都偏小，只有原来的 `1 − p` 倍。如果测试时直接停止丢弃，
# 下一层收到的输入就会突然变成它在训练中见过的 `1/(1 − p)` 倍。
#
# **反向缩放 dropout**（inverted dropout）在训练时就解决了这个问题：每个保留下来的数都除以 `1 − p`。设随机保留掩码为
# `m`（每个元素以概率 `1 − p` 取 1，否则取 0），则
#
# $$\text{dropout}(x) = \frac{m \odot x}{1-p}, \qquad
# \mathbb{E}[\text{dropout}(x)] = \frac{(1-p)\,x}{1-p} = x .$$
#
# 期望值保持不变，所以测试时 dropout **什么也不做**：部署的模型甚至不需要知道 `p`。

# %% [markdown]
# Here is that formula by hand on four numbers, with a mask we choose ourselves (`p = 0.25`, the
# second entry dropped). Check the printed result against the formula before moving on: the
# survivors `1, 3, 4` become `1/0.75, 3/0.75, 4/0.75`.

# %% [markdown] lang="zh"
# 下面在四个数上手工套用这个公式，掩码由我们自己选定（`p = 0.25`，丢弃第二个元素）。继续之前，先对照公式核对打印的结果：
# 保留下来的 `1, 3, 4` 变成了 `1/0.75, 3/0.75, 4/0.75`。

# %%
x = torch.tensor([1.0, 2.0, 3.0, 4.0])
p = 0.25
mask = torch.tensor([1.0, 0.0, 1.0, 1.0])    # 1 = keep, 0 = drop (normally random)
print("x               :", x)
print("mask * x / (1-p):", mask * x / (1 - p))

# %% lang="zh"
x = torch.tensor([1.0, 2.0, 3.0, 4.0])
p = 0.25
mask = torch.tensor([1.0, 0.0, 1.0, 1.0])    # 1 = 保留，0 = 丢弃（通常是随机的）
print("x               :", x)
print("mask * x / (1-p):", mask * x / (1 - p))


# %% [markdown]
# ### Exercise 1 — `dropout` as a function · 练习 1：dropout 函数
#
# **Difficulty:** ●●○ · **Importance:** ●●● · **Time:** ~20 min
#
# Write inverted dropout. The specification, which the tests check one by one:
#
# 1. **Training** (`training=True`): each element is zeroed with probability `p`, independently;
#    survivors become exactly `x / (1 − p)`. The output has the shape and dtype of `x`.
# 2. **Eval** (`training=False`): return `x` unchanged, for any `p` (PyTorch returns the very same
#    tensor object; so may you).
# 3. **Edge cases:** `p = 0` returns `x` unchanged; `p = 1` returns all zeros — without dividing by
#    `1 − p = 0`, so no `NaN`.
# 4. **Randomness:** draw the mask with `torch.rand(x.shape, generator=generator)`. With
#    `generator=None` this uses PyTorch's global generator, so `torch.manual_seed(s)` makes a call
#    reproducible; with a `torch.Generator` it uses that one instead. Every call draws a *new* mask —
#    never reset a seed inside the function, never keep a mask from an earlier call.
# 5. **Gradients** must flow: do not detach, do not use `.data`. (Multiplying by the mask does it
#    for you: the gradient is `1/(1 − p)` where kept and `0` where dropped.)
# 6. **Bad `p`:** raise `ValueError` if `p` is not an `int`/`float` (a string, `None`) or lies
#    outside `[0, 1]` (NaN included) — in both modes.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# `torch.rand` is uniform on `[0, 1)`. Which comparison with `p` is `True` with probability `1 − p`?
# Deal with the special cases (bad `p`, eval, `p = 0`, `p = 1`) before drawing anything.
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# A comparison of a tensor with a number gives a boolean tensor, and arithmetic with a boolean tensor
# treats it as 0s and 1s: that is your mask, and multiplying by it keeps the graph (spec 5). Put the
# early returns in an order where no later line can divide by zero. In the validation, remember that a
# string cannot be compared with a number and that `True` is an `int` in Python.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ### 练习 1 · Exercise 1：`dropout` 函数
#
# **难度：** ●●○ · **重要性：** ●●● · **用时：** 约 20 分钟
#
# 编写反向缩放 dropout。规格如下，测试会逐条检查：
#
# 1. **训练**（`training=True`）：每个元素独立地以概率 `p` 被置零；保留下来的元素恰好变为 `x / (1 − p)`。输出的形状和
#    dtype 与 `x` 相同。
# 2. **评估**（`training=False`）：无论 `p` 是多少，都原样返回 `x`（PyTorch 返回的就是同一个张量对象，你也可以这样做）。
# 3. **边界情况：** `p = 0` 时原样返回 `x`；`p = 1` 时返回全零，而且不能除以 `1 − p = 0`，因此不会出现 `NaN`。
# 4. **随机性：** 用 `torch.rand(x.shape, generator=generator)` 抽取掩码。`generator=None` 时它使用 PyTorch
#    的全局生成器，因此 `torch.manual_seed(s)` 能让一次调用的结果可以复现；传入一个 `torch.Generator` 时则改用它。
#    每次调用都要抽取一个*新的*掩码：不要在函数内部重设种子，也不要保留之前某次调用的掩码。
# 5. **梯度**必须能传回去：不要 detach，也不要用 `.data`。（乘以掩码自然就做到了这一点：保留处的梯度是 `1/(1 − p)`，
#    丢弃处是 `0`。）
# 6. **不合法的 `p`：** 如果 `p` 不是 `int`/`float`（例如字符串、`None`），或者不在 `[0, 1]` 之内（NaN 也算在内），
#    就抛出 `ValueError`；两种模式下都是如此。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# `torch.rand` 在 `[0, 1)` 上均匀分布。它与 `p` 做哪一种比较，结果以概率 `1 − p` 为 `True`？先处理特殊情况（不合法的
# `p`、评估模式、`p = 0`、`p = 1`），再抽取随机数。
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 张量与一个数比较，得到的是布尔张量；布尔张量参与算术运算时被当作 0 和 1：这就是你的掩码，而且乘以它会保留计算图（规格
# 5）。把几个提前返回的分支排好顺序，使后面的任何一行都不可能除以零。做参数检查时，记住字符串不能与数比较，而且在 Python
# 中 `True` 是一个 `int`。
#
# </details>
# </details>

# %% answer="dropout"
def dropout(x, p, training=True, generator=None):
    """Inverted dropout.

    Args:
        x: tensor of any shape, e.g. (batch, seq, d_model).
        p: float in [0, 1], the probability of DROPPING each element (an int 0 or 1 is fine too).
        training: bool; when False dropout is switched off.
        generator: optional torch.Generator for the random mask; None means PyTorch's global
            generator (then torch.manual_seed makes the result reproducible).

    Returns:
        A tensor of the same shape and dtype as x: in training, each element is 0 with
        probability p and x / (1 - p) otherwise; in eval (or with p = 0), x itself.

    Raises:
        ValueError: if p is not an int/float or is outside [0, 1] (NaN counts as outside).
    """
    ### BEGIN SOLUTION
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability p must be a number in [0, 1], got {p!r}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0  # all dropped; keeps the graph, avoids 0 / 0
    keep = torch.rand(x.shape, generator=generator, device=x.device) >= p  # same shape as x, True w.p. 1 - p
    return x * keep / (1.0 - p)
    ### END SOLUTION


# %% answer="dropout" lang="zh"
def dropout(x, p, training=True, generator=None):
    """反向缩放 dropout。

    参数：
        x：任意形状的张量，例如 (batch, seq, d_model)。
        p：[0, 1] 中的 float，每个元素被丢弃（而不是保留）的概率（int 0 或 1 也可以）。
        training：bool；为 False 时关闭 dropout。
        generator：可选的 torch.Generator，用于生成随机掩码；None 表示使用 PyTorch 的全局生成器
            （此时 torch.manual_seed 能让结果可复现）。

    返回：
        与 x 形状和 dtype 都相同的张量：训练时，每个元素以概率 p 为 0，否则为 x / (1 - p)；
        评估时（或 p = 0 时）就是 x 本身。

    异常：
        ValueError：若 p 不是 int/float，或不在 [0, 1] 之内（NaN 也算不在其中）。
    """
    ### BEGIN SOLUTION
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability p must be a number in [0, 1], got {p!r}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0  # 全部丢弃；保留计算图，并避免 0 / 0
    keep = torch.rand(x.shape, generator=generator, device=x.device) >= p  # 与 x 形状相同，以概率 1 - p 为 True
    return x * keep / (1.0 - p)
    ### END SOLUTION


# %% tests="dropout_tests" points=4
import torch
from course.checks import call, check, close, msg, raises

x = torch.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])
out = call(dropout, x, 0.5, training=False)
check(torch.equal(out, x), "dropout(x, 0.5, training=False) changed x: in eval mode dropout returns x unchanged "
      "(spec 2)")
close(call(dropout, x, 0.0), x, atol=0.0, name="dropout(x, p=0) (nothing dropped, nothing rescaled, spec 3)")
out = call(dropout, x, 1.0)
check(not bool(torch.isnan(out).any()), "dropout(x, p=1) gave NaN: that is 0 / (1 - p) with p = 1; return zeros "
      "without dividing (spec 3)")
close(out, torch.zeros(2, 3), atol=0.0, name="dropout(x, p=1) (all zeros, spec 3)")

torch.manual_seed(0)
out = call(dropout, torch.ones(100_000), 0.25)
frac_zero = (out == 0).float().mean().item()
check(abs(frac_zero - 0.75) > 0.01, "with p=0.25, {frac:.3f} of the elements were zeroed: p is the probability of "
      "DROPPING an element, you kept each one with probability p (spec 1)", frac=frac_zero)
check(abs(frac_zero - 0.25) < 0.01, "with p=0.25, {frac:.3f} of the elements were zeroed, expected about 0.25",
      frac=frac_zero)
survivor = out[out != 0][0].item()
check(abs(survivor - 1.0) > 1e-4, "the survivors of dropout(ones, p=0.25) are 1: they must be divided by 1 - p = 0.75 "
      "(inverted dropout, see 'The scaling problem')")
check(abs(survivor - 0.75) > 1e-4, "the survivors are 0.75: you multiplied by 1 - p; inverted dropout divides by it")
check(abs(survivor - 0.25) > 1e-4, "the survivors are 0.25: you scaled by p; inverted dropout divides by 1 - p")
check(abs(survivor - 4.0) > 1e-4, "the survivors are 4: you divided by p; inverted dropout divides by 1 - p")
close(out[out != 0], torch.full(((out != 0).sum().item(),), 1 / 0.75),
      name="survivors of dropout(ones, p=0.25) (1/0.75)")

ones = torch.ones(1000)
check(not torch.equal(call(dropout, ones, 0.5) == 0, call(dropout, ones, 0.5) == 0),
      "two calls in a row gave the same mask: draw a fresh mask on every call, do not reset the seed inside the "
      "function or keep an old mask (spec 4)")
a = call(dropout, ones, 0.5, generator=torch.Generator().manual_seed(3))
b = call(dropout, ones, 0.5, generator=torch.Generator().manual_seed(3))
check(torch.equal(a, b), "two generators seeded alike gave different masks: pass generator to torch.rand (spec 4)")
leaf = torch.ones(10, requires_grad=True)
check(call(dropout, leaf, 0.5).requires_grad, "the output does not require grad, so no gradient would reach x: "
      "do not detach and do not use .data (spec 5)")
raises(ValueError, dropout, x, 1.5, name="dropout(x, p=1.5) (spec 6)")
raises(ValueError, dropout, x, "0.5", name="dropout(x, p='0.5') (spec 6: check the type of p before comparing it)")
print(msg("Visible tests passed: eval, p=0, p=1, zero fraction, rescaling, fresh masks, generator, gradient, "
          "ValueError."))
### BEGIN HIDDEN TESTS
from course_grader.checks import ch04_dropout_residual as hidden
hidden.check_dropout_function(dropout)
### END HIDDEN TESTS

# %% [markdown]
# ### Experiment — what dropout does to a tensor · 实验：dropout 对张量的影响
#
# Below, 200,000 values drawn around 1 go through your `dropout` with `p = 0.3`, and a tensor of ones
# goes through it for `p` from 0 to 0.9.
#
# **Predict · 预测:** where will the dropped values show up in the histogram, and which way will the
# rest of the histogram move? Will the mean change with `p`? Write your guess down, then run the next
# cell.

# %% [markdown] lang="zh"
# ### 实验：dropout 对张量的影响 · Experiment — what dropout does to a tensor
#
# 下面，在 1 附近随机抽取的 200,000 个值经过你的 `dropout`（`p = 0.3`）；一个全 1 张量也经过它，`p` 从 0 取到 0.9。
#
# **预测 · Predict：** 被丢弃的值会出现在直方图的什么位置？直方图的其余部分会朝哪个方向移动？均值会随 `p` 变化吗？
# 先写下你的猜测，再运行下一个单元格。

# %%
with needs("dropout"):
    fig, stats = ex.dropout_statistics(dropout, p=0.3)
    ex.show(fig)
    print(f"p = 0.3: fraction zeroed {stats['frac_zero']:.4f}, mean before {stats['mean_in']:.4f}, "
          f"mean after {stats['mean_out']:.4f}")
    for q, m, s in zip(stats["ps"], stats["means"], stats["stds"]):
        print(f"  p = {q:.1f}: mean of dropout(ones) = {m:.4f}, std = {s:.3f}")

# %% lang="zh"
with needs("dropout"):
    fig, stats = ex.dropout_statistics(dropout, p=0.3)
    ex.show(fig)
    print(f"p = 0.3：置零的比例 {stats['frac_zero']:.4f}，dropout 之前的均值 {stats['mean_in']:.4f}，"
          f"之后的均值 {stats['mean_out']:.4f}")
    for q, m, s in zip(stats["ps"], stats["means"], stats["stds"]):
        print(f"  p = {q:.1f}：dropout(ones) 的均值 = {m:.4f}，标准差 = {s:.3f}")

# %% [markdown]
# **Reading the figure.** Left: about 30% of the values collapse onto a spike at 0, and the rest of
# the bell is stretched to the right by `1/0.7`, which is exactly what keeps the mean where it was
# (compare the two printed means). Middle: the mean of `dropout(ones)` stays at 1 for every `p`,
# while the zero fraction climbs along the diagonal; without the rescaling it would follow the dotted
# line `1 − p`. Right: the price of dropout is noise, and its standard deviation follows
# `sqrt(p/(1 − p))` — small for the Transformer's `p = 0.1`, huge as `p → 1`.

# %% [markdown] lang="zh"
# **读图。** 左图：大约 30% 的值塌缩到 0 处的一个尖峰上，钟形分布的其余部分则被 `1/0.7` 向右拉伸，
# 这恰好让均值保持原位（比较打印出的两个均值）。中图：对每个 `p`，`dropout(ones)` 的均值都保持为 1，
# 而被置零的比例沿对角线上升；如果不做重新缩放，均值就会沿着虚线 `1 − p` 下降。右图：dropout 的代价是噪声，其标准差为
# `sqrt(p/(1 − p))`：对 Transformer 使用的 `p = 0.1` 来说很小，而当 `p → 1` 时则非常大。

# %% [markdown]
# ### Training mode vs eval mode · 训练模式与评估模式
#
# Now one fixed input goes through a tiny network `y = w₂ · dropout(relu(W₁ x))` two thousand times in
# training mode, and once in eval mode.
#
# **Predict · 预测:** in training mode, is `y` the same every time? How does the average of the training
# outputs compare with the eval output? Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# ### 训练模式与评估模式 · Training mode vs eval mode
#
# 现在让一个固定的输入在训练模式下经过一个小网络 `y = w₂ · dropout(relu(W₁ x))` 两千次，再在评估模式下经过一次。
#
# **预测 · Predict：** 训练模式下，`y` 每次都一样吗？训练输出的平均值与评估输出相比如何？先写下你的猜测，
# 再运行下一个单元格。

# %%
with needs("dropout"):
    fig, stats = ex.train_vs_eval(dropout, p=0.3)
    ex.show(fig)
    print(f"eval output: {stats['eval']:.4f}   mean of {stats['passes']} training outputs: "
          f"{stats['train_mean']:.4f}   std of training outputs: {stats['train_std']:.4f}")

# %% lang="zh"
with needs("dropout"):
    fig, stats = ex.train_vs_eval(dropout, p=0.3)
    ex.show(fig)
    print(f"评估模式的输出：{stats['eval']:.4f}   {stats['passes']} 次训练模式输出的均值："
          f"{stats['train_mean']:.4f}   训练模式输出的标准差：{stats['train_std']:.4f}")


# %% [markdown]
# In training mode the output is a random variable (its spread is the printed std); in eval mode it is
# a single number, and it sits at the centre of the training distribution — the printed mean of the
# training passes is close to the eval output. Because only a *linear* layer follows the dropout here,
# the two agree exactly in expectation. With nonlinear layers after the dropout they agree only
# approximately; Srivastava et al. (2014, §7.5) compare the eval-mode network with averaging many
# sampled thinned networks and find the two close.

# %% [markdown] lang="zh"
# 在训练模式下，输出是一个随机变量（它的离散程度就是打印出的标准差）；在评估模式下，它是一个确定的数，
# 而且正好位于训练分布的中心：打印出的训练输出均值与评估输出很接近。由于这里 dropout 之后只有一个*线性*层，
# 两者的期望完全相等。如果 dropout 之后还有非线性层，两者就只是近似相等；Srivastava et al.（2014，§7.5）
# 把评估模式下的网络与对大量采样出的精简子网络求平均的结果做了比较，发现两者很接近。

# %% [markdown]
# ## Part 2 — Dropout as a module · dropout 模块
#
# In a model you do not pass `training=...` by hand to every dropout. Every `nn.Module` carries a
# flag `self.training`; `model.train()` sets it to `True` and `model.eval()` sets it to `False` on
# the module **and all its submodules, recursively**. A dropout module only has to read that flag.
#
# ### Exercise 2 — `Dropout(nn.Module)` · 练习 2：Dropout 模块
#
# **Difficulty:** ●○○ · **Importance:** ●●● · **Time:** ~10 min
#
# * `__init__(self, p=0.5)`: check `p` (same `ValueError` rules as before), store it as `self.p`.
# * `forward(self, x)`: inverted dropout in training mode, identity in eval mode — read
#   `self.training`, do not invent your own flag. You may call your `dropout` function.
#
# The test compares your module with `nn.Dropout`: same zero fraction in training, both the identity
# after `.eval()`, even when your module sits inside an `nn.Sequential`.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Which attribute does `.eval()` change on every submodule? Your `forward` only has to pass it on.
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Everything the function of Exercise 1 needs is either the input or stored on `self`, the mode
# included. Read `extra_repr` below: it tells you the name under which `p` must be stored. The
# validation rules are those of Exercise 1.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ## 第 2 部分 dropout 模块 · Part 2 — Dropout as a module
#
# 在模型中，你不会手动给每个 dropout 传入 `training=...`。每个 `nn.Module` 都带有一个标志
# `self.training`；`model.train()` 把它设为 `True`，`model.eval()` 把它设为 `False`，
# 作用于这个模块**及其所有子模块（递归地）**。dropout 模块只需读取这个标志。
#
# ### 练习 2 · Exercise 2：`Dropout(nn.Module)`
#
# **难度：** ●○○ · **重要性：** ●●● · **用时：** 约 10 分钟
#
# * `__init__(self, p=0.5)`：检查 `p`（`ValueError` 的规则与前面相同），并把它存为 `self.p`。
# * `forward(self, x)`：训练模式下做反向缩放 dropout，评估模式下为恒等映射。读取 `self.training`，不要自己另设标志。
#   你可以调用你的 `dropout` 函数。
#
# 测试会把你的模块与 `nn.Dropout` 比较：训练时置零的比例相同，`.eval()` 之后两者都是恒等映射，即使你的模块位于一个
# `nn.Sequential` 之中也是如此。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# `.eval()` 会修改每个子模块的哪个属性？你的 `forward` 只需把它传下去。
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 练习 1 的函数所需要的一切，要么是输入，要么存放在 `self` 上，模式也不例外。读一读下面的 `extra_repr`：它告诉你 `p`
# 必须以什么名字存放。参数检查的规则与练习 1 相同。
#
# </details>
# </details>

# %% answer="Dropout"
class Dropout(nn.Module):
    """Inverted dropout as a module, switched by model.train() / model.eval().

    Args:
        p: float in [0, 1], the probability of dropping each element (default 0.5).

    forward(x): x of any shape, e.g. (batch, seq, d_model) -> a tensor of the same shape:
    dropout(x, p) when self.training is True, x unchanged when it is False.

    Raises:
        ValueError: (in __init__) if p is not an int/float or is outside [0, 1] (NaN counts as outside).
    """

    def __init__(self, p=0.5):
        super().__init__()
        ### BEGIN SOLUTION
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability p must be a number in [0, 1], got {p!r}")
        self.p = p
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        return dropout(x, self.p, training=self.training)
        ### END SOLUTION

    def extra_repr(self):
        return f"p={self.p}"


# %% answer="Dropout" lang="zh"
class Dropout(nn.Module):
    """写成模块的反向缩放 dropout，由 model.train() / model.eval() 切换。

    参数：
        p：[0, 1] 中的 float，每个元素被丢弃的概率（默认 0.5）。

    forward(x)：任意形状的 x，例如 (batch, seq, d_model) -> 形状相同的张量：
    self.training 为 True 时是 dropout(x, p)，为 False 时原样返回 x。

    异常：
        ValueError：（在 __init__ 中）若 p 不是 int/float，或不在 [0, 1] 之内（NaN 也算不在其中）。
    """

    def __init__(self, p=0.5):
        super().__init__()
        ### BEGIN SOLUTION
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability p must be a number in [0, 1], got {p!r}")
        self.p = p
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        return dropout(x, self.p, training=self.training)
        ### END SOLUTION

    def extra_repr(self):
        return f"p={self.p}"


# %% tests="Dropout_tests" points=2
import torch
from torch import nn
from course.checks import call, check, close, msg, raises

layer = call(Dropout, 0.5)
check(isinstance(layer, nn.Module), "Dropout must subclass nn.Module")
check(call(Dropout).p == 0.5, "Dropout() should default to p = 0.5, as nn.Dropout does")
x = torch.tensor([1.0, 2.0, 3.0, 4.0])
layer.eval()
check(torch.equal(call(layer, x), x), "after .eval() your Dropout still changed its input: read self.training in "
      "forward, the flag .eval() sets (not a flag of your own)")
layer.train()
torch.manual_seed(0)
out = call(layer, torch.ones(10_000))
check(0.45 < (out == 0).float().mean().item() < 0.55, "Dropout(0.5) in training should zero about half the elements")
check(not bool((out[out != 0] == 1.0).all()), "Dropout(0.5)'s survivors are 1: divide them by 1 - p = 0.5")
close(out[out != 0], torch.full(((out != 0).sum().item(),), 2.0), name="Dropout(0.5) survivors (1 / 0.5 = 2)")
torch.manual_seed(1)
frac = (call(call(Dropout, 0.2), torch.ones(10_000)) == 0).float().mean().item()
check(not 0.45 < frac < 0.55, "Dropout(0.2) zeroed {frac:.2f} of the elements, as Dropout(0.5) would: the p "
      "argument was ignored; forward must use the p the module was built with", frac=frac)
check(0.17 < frac < 0.23, "Dropout(0.2) in training should zero about 0.2 of the elements, it zeroed {frac:.2f}",
      frac=frac)
model = nn.Sequential(nn.Identity(), call(Dropout, 0.5)).eval()
check(torch.equal(call(model, x), x), "model.eval() on an nn.Sequential holding your Dropout did not switch it off: "
      "read self.training")
raises(ValueError, Dropout, 1.5, name="Dropout(1.5) (check p in __init__)")
print(msg("Visible tests passed: default p, eval identity, train drops and rescales, inside a model, ValueError."))
### BEGIN HIDDEN TESTS
from course_grader.checks import ch04_dropout_residual as hidden
hidden.check_dropout_module(Dropout)
### END HIDDEN TESTS

# %% [markdown]
# Side by side with PyTorch's own `nn.Dropout`, inside a small model. `print(model)` shows the
# modules; then we count zeros in training mode and compare outputs in eval mode.

# %% [markdown] lang="zh"
# 把它与 PyTorch 自己的 `nn.Dropout` 放进一个小模型中并排比较。`print(model)` 显示各个模块；接着统计训练模式下零的比例，
# 并比较评估模式下的输出。

# %%
with needs("Dropout"):
    torch.manual_seed(0)
    ours = nn.Sequential(nn.Linear(8, 8), Dropout(0.1))
    theirs = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.1))
    print(ours)
    h = torch.rand(100_000, 8) + 1.0                      # positive inputs: a zero means "dropped"
    print(f"zeroed in training: ours {(ours[1](h) == 0).float().mean():.4f}, "
          f"nn.Dropout {(theirs[1](h) == 0).float().mean():.4f}")
    ours.eval()
    theirs.eval()
    print("identity in eval:", torch.equal(ours[1](h), h), torch.equal(theirs[1](h), h))

# %% lang="zh"
with needs("Dropout"):
    torch.manual_seed(0)
    ours = nn.Sequential(nn.Linear(8, 8), Dropout(0.1))
    theirs = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.1))
    print(ours)
    h = torch.rand(100_000, 8) + 1.0                      # 输入都是正数：出现 0 就说明被丢弃了
    print(f"训练时被置零的比例：我们的 {(ours[1](h) == 0).float().mean():.4f}，"
          f"nn.Dropout {(theirs[1](h) == 0).float().mean():.4f}")
    ours.eval()
    theirs.eval()
    print("评估时是否为恒等映射：", torch.equal(ours[1](h), h), torch.equal(theirs[1](h), h))

# %% [markdown]
# ### Play: a dropout mask · 交互：dropout 掩码
#
# A grid of ones after dropout, drawn by **your** `dropout` with a seeded generator. Move `p`
# and the seed, and switch between train and eval. Watch the status line: the fraction kept wanders
# around `1 − p`, and the mean of the grid wanders around 1 — a small grid is noisy, which is the
# point of the right-hand panel in the statistics figure above.

# %% [markdown] lang="zh"
# ### 交互：dropout 掩码 · Play: a dropout mask
#
# 一个全 1 网格经过 dropout 之后的样子，由**你的** `dropout` 用一个设定了种子的生成器画出。调节 `p` 和种子，
# 并在训练与评估之间切换。留意状态行：保留的比例在 `1 − p` 附近波动，网格的均值在 1 附近波动。小网格的噪声很大，
# 这正是上面统计图中右图要说明的。

# %%
from IPython.display import display

from course.widgets.ch04_dropout_residual import dropout_explorer

with needs("dropout"):
    display(dropout_explorer(dropout))

# %% [markdown]
# ### Experiment — dropout against overfitting · 实验：dropout 抑制过拟合
#
# What is dropout *for*? A model with far more parameters than training examples can fit the noise in
# them: the training loss keeps falling while the loss on new data rises. Below, an MLP with two hidden
# layers of 128 units (about 17,000 weights) is trained on 24 noisy points of `y = sin(2x)`, twice from
# the same initial weights: once without dropout and once with **your** `Dropout(0.5)` after each hidden
# layer. Both losses are measured in eval mode, on the 24 training points and on 500 fresh test points
# (the noise alone puts a floor of 0.25 under the test loss). Full-batch Adam, 600 steps, a few seconds.
#
# **Predict · 预测:** which run ends with the lower *training* loss, and which with the lower *test*
# loss? Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# ### 实验：dropout 抑制过拟合 · Experiment — dropout against overfitting
#
# dropout 究竟是*用来*做什么的？参数远多于训练样本的模型能够拟合样本中的噪声：训练损失不断下降，
# 而在新数据上的损失却在上升。下面在 `y = sin(2x)` 的 24 个带噪声的点上训练一个有两个隐藏层、每层 128 个单元的 MLP（约
# 17,000 个权重）。从相同的初始权重出发训练两次：一次不用 dropout，一次在每个隐藏层之后加上**你的** `Dropout(0.5)`。
# 两种损失都在评估模式下测量，分别在 24 个训练点和 500 个新的测试点上计算（仅噪声本身就给测试损失设了 0.25 的下限）。
# 使用全批量 Adam 训练 600 步，只需几秒钟。
#
# **预测 · Predict：** 哪一次运行最终的*训练*损失更低？哪一次的*测试*损失更低？先写下你的猜测，再运行下一个单元格。

# %%
# while the notebook is autograded, a shorter run: no grade depends on it (course.notebook.grading)
with needs("Dropout"):
    fig, fit = ex.overfitting_experiment(Dropout, p=0.5, **({"steps": 150} if grading() else {}))
    ex.show(fig)
    for run in ("plain", "dropout"):
        print(f"{run:>8}: training loss {fit[run + '_train']:.3f}, test loss {fit[run + '_test']:.3f}, "
              f"gap {fit[run + '_gap']:.3f}")
    print(f"the dropout model evaluated with dropout still on (model.eval() forgotten): test loss "
          f"{fit['dropout_test_in_train_mode']:.3f}")

# %% lang="zh"
# 自动评分时运行一个更短的版本：没有任何分数取决于它（course.notebook.grading）
with needs("Dropout"):
    fig, fit = ex.overfitting_experiment(Dropout, p=0.5, **({"steps": 150} if grading() else {}))
    ex.show(fig)
    # plain：不用 dropout 的网络；dropout：每个隐藏层之后都有 Dropout(0.5) 的网络
    for run in ("plain", "dropout"):
        print(f"{run:>8}：训练损失 {fit[run + '_train']:.3f}，测试损失 {fit[run + '_test']:.3f}，"
              f"差距 {fit[run + '_gap']:.3f}")
    print(f"dropout 模型在 dropout 仍然开启时评估（忘了调用 model.eval()）：测试损失 "
          f"{fit['dropout_test_in_train_mode']:.3f}")

# %% [markdown]
# **Reading the figure.** Without dropout (blue) the training loss falls far below the noise floor:
# the network threads its curve through every noisy point (right panel), and the test loss rises as it
# does. With dropout (orange) the training loss stays higher, the fit is smoother, and the test loss
# ends well below the plain network's: the printed gap between test and training loss shrinks to a
# fraction of the plain network's. Evaluating the dropout model without `model.eval()` gives a
# somewhat worse test loss (last printed line): each pass is one random thinned network, not their
# average. The
# 2017 Transformer relies on the same effect: removing dropout (row D of its Table 3, P_drop = 0)
# makes the base model worse (Vaswani et al. 2017, §6.2: "dropout is very helpful in avoiding
# over-fitting").

# %% [markdown] lang="zh"
# **读图。** 不用 dropout 时（蓝色），训练损失降到远低于噪声下限的水平：网络让曲线穿过每一个带噪声的点（右图），
# 测试损失也随之上升。使用 dropout 时（橙色），训练损失保持在较高水平，拟合的曲线更平滑，测试损失最终远低于普通网络：
# 打印出的测试损失与训练损失之差缩小到普通网络的几分之一。如果评估 dropout 模型时没有调用 `model.eval()`，
# 测试损失会差一些（打印的最后一行）：每次前向传播都只是一个随机的精简子网络，而不是它们的平均。2017 年的 Transformer
# 依靠的也是这一效果：去掉 dropout（论文表 3 的 D 行，P_drop = 0）会让基础模型变差（Vaswani et al. 2017，§6.2：“dropout
# is very helpful in avoiding over-fitting”，即 dropout 对避免过拟合非常有帮助）。

# %% [markdown]
# ## Part 3 — Where dropout goes in a Transformer · dropout 在 Transformer 中的位置
#
# The original Transformer applies dropout in exactly two kinds of place (Vaswani et al. 2017, §5.4,
# "Residual Dropout"):
#
# 1. on the **sum of the token embeddings and the positional encodings**, at the bottom of the encoder
#    and of the decoder;
# 2. on the **output of every sublayer** (attention, feed-forward), *before* it is added to the
#    sublayer's input and normalised.
#
# The rate is `P_drop = 0.1` for the base model; the big model used 0.3 for English-German (Table 3,
# row "big") and 0.1 for English-French (§6.1). Many implementations also drop the attention weights
# after the softmax (PyTorch's `nn.MultiheadAttention` has a `dropout` argument for that); §5.4 does
# not mention it.
#
# Between those places the stack carries a **residual stream** (残差流): a tensor `x` of shape
# `(batch, seq, d_model)` that each sublayer reads and adds its result to. Here are chapter 03's two
# arrangements again, without dropout; where does it go in each?

# %% [markdown] lang="zh"
# ## 第 3 部分 dropout 在 Transformer 中的位置 · Part 3 — Where dropout goes in a Transformer
#
# 原始的 Transformer 只在两类位置上使用 dropout（Vaswani et al. 2017，§5.4，“Residual Dropout”）：
#
# 1. **词元嵌入与位置编码之和**上，位于编码器和解码器的最底部；
# 2. **每个子层（注意力、前馈网络）的输出**上，在它与子层的输入相加并归一化*之前*。
#
# 基础模型的丢弃率为 `P_drop = 0.1`；大模型在英德翻译上用 0.3（表 3，“big”行），在英法翻译上用 0.1（§6.1）。
# 许多实现还会在 softmax 之后对注意力权重做 dropout（PyTorch 的 `nn.MultiheadAttention` 有一个 `dropout`
# 参数专门做这件事）；§5.4 并没有提到这一点。
#
# 在这些位置之间，堆栈传递着一条**残差流**（residual stream）：一个形状为 `(batch, seq, d_model)` 的张量 `x`，
# 每个子层都读取它，并把自己的结果加到它上面。下面再画一次第 03 章的两种排列方式，这次没有 dropout。在每种方式中，
# dropout 应该放在哪里？

# %%
ex.show(ex.block_diagrams(dropout=False))


# %% [markdown]
# ### Exercise 3a — the input of the first layer · 练习 3a：第一层的输入
#
# **Difficulty:** ●●○ · **Importance:** ●●○ · **Time:** ~15 min
#
# The first layer's input is built from three things: `token_ids` of shape `(batch, seq)` (integers in
# `[0, vocab)`), the token embedding table `tok_table` of shape `(vocab, d_model)` (row `v` is token
# `v`'s vector), and the position table `pos_table` of shape `(max_len, d_model)` (row `t` is the vector
# of position `t`; `max_len` may be longer than `seq`). Build the `(batch, seq, d_model)` input as §5.4
# describes it: each token's embedding plus its position's vector, with the given dropout module applied
# once to that sum (item 1 above). Use the tables as they are given: the paper also multiplies the
# embedding weights by √d_model (§3.4), but that scaling is not part of this exercise (chapter 08 adds
# it to its model and says why). A sequence longer than the position table has no position vector for
# its later tokens: raise a `ValueError` that says so, naming both lengths.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Two lookups: which rows of each table does position `t` of sequence `b` need? Which tensor must
# dropout see so that every element of the input gets its own coin flip?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Chapter 02: what shape does indexing a `(vocab, d_model)` table with a `(batch, seq)` tensor of ids
# give? Which rows of the position table does a sequence of `seq` tokens use, and does their shape
# broadcast against the first lookup (Part 3 of chapter 02)? Dropout must come last: think about what
# would share one mask if it came earlier.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ### 练习 3a · Exercise 3a：第一层的输入
#
# **难度：** ●●○ · **重要性：** ●●○ · **用时：** 约 15 分钟
#
# 第一层的输入由三样东西构成：形状为 `(batch, seq)` 的 `token_ids`（取值在 `[0, vocab)` 内的整数）；形状为
# `(vocab, d_model)` 的词元嵌入表 `tok_table`（第 `v` 行是词元 `v` 的向量）；形状为 `(max_len, d_model)` 的位置表
# `pos_table`（第 `t` 行是位置 `t` 的向量；`max_len` 可以比 `seq` 大）。按 §5.4 的描述构建形状为 `(batch, seq, d_model)`
# 的输入：每个词元的嵌入加上它所在位置的向量，再对这个和施加一次给定的 dropout 模块（上面的第 1 条）。
# 两张表原样使用即可：论文还把嵌入权重乘以 √d_model（§3.4），但这个缩放不属于本练习（第 08 章会在它的模型中加上，
# 并说明原因）。如果序列比位置表长，后面的词元就没有位置向量：这时抛出 `ValueError` 指出这一点，并在消息中写明两个长度。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 两次查表：序列 `b` 的位置 `t` 分别需要每张表的哪一行？dropout 必须作用在哪个张量上，
# 才能让输入的每个元素都有自己独立的一次“抛硬币”？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 回忆第 02 章：用一个 `(batch, seq)` 的 id 张量去索引一张 `(vocab, d_model)` 的表，得到的是什么形状？一个有 `seq`
# 个词元的序列要用位置表的哪些行？它们的形状能与第一次查表的结果广播吗（第 02 章第 3 部分）？dropout 必须放在最后：
# 想一想，如果它放得更早，哪些元素会共用同一个掩码？
#
# </details>
# </details>

# %% answer="embed_with_dropout"
def embed_with_dropout(token_ids, tok_table, pos_table, dropout):
    """The input of the first Transformer layer, with the 2017 paper's dropout (§5.4).

    Args:
        token_ids: int64 tensor (batch, seq), token ids in [0, vocab).
        tok_table: tensor (vocab, d_model), one embedding per token id.
        pos_table: tensor (max_len, d_model), one vector per position; max_len >= seq.
        dropout: a callable module such as nn.Dropout(0.1), applied exactly once.

    Returns:
        Tensor (batch, seq, d_model): every token's embedding with its position's vector, after dropout.

    Raises:
        ValueError: if seq > max_len.
    """
    ### BEGIN SOLUTION
    seq = token_ids.shape[1]
    if seq > pos_table.shape[0]:
        raise ValueError(f"a sequence of {seq} tokens needs {seq} position vectors; the table has {pos_table.shape[0]}")
    return dropout(tok_table[token_ids] + pos_table[:seq])  # (batch, seq, d) + (seq, d) -> (batch, seq, d)
    ### END SOLUTION


# %% answer="embed_with_dropout" lang="zh"
def embed_with_dropout(token_ids, tok_table, pos_table, dropout):
    """第一个 Transformer 层的输入，带有 2017 年论文中的 dropout（§5.4）。

    参数：
        token_ids：int64 张量 (batch, seq)，词元 id，取值在 [0, vocab) 中。
        tok_table：张量 (vocab, d_model)，每个词元 id 一个嵌入。
        pos_table：张量 (max_len, d_model)，每个位置一个向量；max_len >= seq。
        dropout：一个可调用的模块，例如 nn.Dropout(0.1)，恰好应用一次。

    返回：
        张量 (batch, seq, d_model)：每个词元的嵌入加上它所在位置的向量，再经过 dropout。

    异常：
        ValueError：若 seq > max_len。
    """
    ### BEGIN SOLUTION
    seq = token_ids.shape[1]
    if seq > pos_table.shape[0]:
        raise ValueError(f"a sequence of {seq} tokens needs {seq} position vectors; the table has {pos_table.shape[0]}")
    return dropout(tok_table[token_ids] + pos_table[:seq])  # (batch, seq, d) + (seq, d) -> (batch, seq, d)
    ### END SOLUTION


# %% tests="embed_with_dropout_tests" points=2
import torch
from torch import nn
from course.checks import call, check, close, msg, raises
from course.checks.ch04_dropout_residual import RecordingDropout, expect

ids = torch.tensor([[0, 1, 2], [2, 2, 0]])                                  # (batch=2, seq=3)
tok_table = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.0], [0.0, 2.0]])  # (vocab=5, d_model=2)
pos_table = torch.tensor([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8]])  # (max_len=4, d_model=2)
# row b, position t: tok_table[ids[b, t]] + pos_table[t]
expected = torch.tensor([[[1.1, 0.2], [0.3, 1.4], [1.5, 1.6]], [[1.1, 1.2], [1.3, 1.4], [1.5, 0.6]]])
try:
    out = call(embed_with_dropout, ids, tok_table, pos_table, nn.Dropout(0.1).eval())
except AssertionError as err:
    check("must match the size" not in str(err), "the token embeddings (2, 3, 2) and the position table (4, 2) do "
          "not broadcast: a sequence of 3 tokens uses only the first 3 position vectors")
    raise
SCALED = ("you multiplied the token embeddings by √d_model, as the paper's §3.4 does: this exercise uses the tables "
          "as given, the sum of §5.4 without that scaling (chapter 08 adds it)")
expect(out, expected, atol=1e-5, name="embed_with_dropout with dropout in eval mode", mistakes=[
    (torch.tensor([[[1.1, 0.2], [0.3, 1.4], [1.5, 1.6]], [[1.5, 1.6], [1.5, 1.6], [1.1, 0.2]]]),
     "the position vectors were looked up by token id: position t's vector is pos_table[t], whichever token sits "
     "there"), (tok_table[ids] * 2 ** 0.5 + pos_table[:3], SCALED),
    ((tok_table[ids] + pos_table[:3]) * 2 ** 0.5, SCALED)])
rec = RecordingDropout()                                                    # records its input, returns twice it
out = call(embed_with_dropout, ids, tok_table, pos_table, rec)
check(len(rec.calls) == 1, "the dropout module was called {n} times: call it once, on the sum (two calls draw two "
      "independent masks)", n=len(rec.calls))
check(tuple(rec.calls[0].shape) != (5, 2), "dropout was applied to the embedding table, not to the sum: every "
      "occurrence of a token would then share one mask")
expect(rec.calls[0], expected, atol=1e-5, name="what the dropout module was applied to", mistakes=[
    (tok_table[ids], "dropout saw the token embeddings only: the position vectors must be dropped with them, on "
     "the sum (Vaswani et al. 2017, §5.4)"),
    (pos_table[:3], "dropout saw the position vectors only: drop the sum of both"),
    (tok_table[ids] * 2 ** 0.5 + pos_table[:3], SCALED)])
close(out, 2 * expected, atol=1e-5, name="embed_with_dropout must return what the dropout returns")
close(call(embed_with_dropout, ids, tok_table, pos_table, nn.Dropout(1.0).train()), torch.zeros(2, 3, 2), atol=0.0,
      name="p=1 in training: everything is dropped, the positions too")
raises(ValueError, embed_with_dropout, torch.zeros(1, 5, dtype=torch.long), tok_table, pos_table, nn.Dropout(0.1),
       match=r"(?s)(?=.*5)(?=.*4)", name="embed_with_dropout on 5 tokens with a position table of 4 rows (the "
       "message names both lengths)")
print(msg("Visible tests passed: the lookups, what dropout sees, p=1, a sequence longer than the table."))
### BEGIN HIDDEN TESTS
from course_grader.checks import ch04_dropout_residual as hidden
hidden.check_embed_with_dropout(embed_with_dropout)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3b — residual dropout, both ways · 练习 3b：两种残差 dropout
#
# **Difficulty:** ●●○ · **Importance:** ●●● · **Time:** ~15 min
#
# Write `forward` for one residual sublayer in each arrangement of chapter 03, with the dropout of
# item 2 above: `PostNormResidual` as in the 2017 paper (Post-LN) and `PreNormResidual` as in GPT-2
# (Pre-LN). The constructors are written for you; each wraps any sublayer `F` (here a `Linear`; later
# an attention or a feed-forward block). Two behaviours follow from the right placement, and the
# tests check both: with `p = 1` in training the branch is wiped out (Pre-LN returns exactly `x`,
# Post-LN the normalised `x`), and a sublayer that outputs zeros leaves the stream undropped whatever
# `p` is.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Follow §5.4's sentence through each drawing: dropout acts on what the sublayer returns, and on
# nothing else. What does the sublayer read in each arrangement, and what happens after the add?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Write the block of chapter 03's drawing as one expression, innermost call first, then find the
# sublayer's output in it: that is the only thing the dropout wraps. Each forward uses each of the
# three modules the constructor made exactly once.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ### 练习 3b · Exercise 3b：两种排列方式下的残差 dropout
#
# **难度：** ●●○ · **重要性：** ●●● · **用时：** 约 15 分钟
#
# 为第 03 章的两种排列方式各写一个残差子层的 `forward`，带上上面第 2 条所说的 dropout：`PostNormResidual` 按 2017
# 年论文的方式（Post-LN），`PreNormResidual` 按 GPT-2 的方式（Pre-LN）。构造函数已经替你写好；每个类都可以包装任意子层
# `F`（这里是一个 `Linear`，以后会是注意力块或前馈块）。放对位置会带来两个性质，测试会检查这两点：训练模式下 `p = 1`
# 时，分支被完全抹掉（Pre-LN 恰好返回 `x`，Post-LN 返回归一化后的 `x`）；而子层输出全零时，无论 `p` 是多少，
# 流都不会有任何元素被丢弃。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 拿 §5.4 的那句话去对照每张图：dropout 作用于子层返回的结果，而且只作用于它。在每种排列方式中，子层读取的是什么？
# 相加之后又发生了什么？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 把第 03 章图中的块写成一个表达式，从最内层的调用写起，然后在其中找出子层的输出：dropout 包裹的只有它。每个 `forward`
# 对构造函数创建的三个模块各恰好使用一次。
#
# </details>
# </details>

# %% answer="PreNormResidual"
class PostNormResidual(nn.Module):
    """One Post-LN residual sublayer with the 2017 paper's residual dropout (§5.4).

    Args:
        d_model: int, the size of the last dimension of x.
        sublayer: an nn.Module mapping (batch, seq, d_model) to (batch, seq, d_model).
        p: float in [0, 1], the dropout probability (default 0.1).

    forward(x): x of shape (batch, seq, d_model) -> a tensor of the same shape.
    """

    def __init__(self, d_model, sublayer, p=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.sublayer = sublayer
        self.dropout = nn.Dropout(p)

    def forward(self, x):
        ### BEGIN SOLUTION
        return self.norm(x + self.dropout(self.sublayer(x)))
        ### END SOLUTION


class PreNormResidual(nn.Module):
    """One Pre-LN residual sublayer with residual dropout in the place §5.4 gives it.

    Args:
        d_model: int, the size of the last dimension of x.
        sublayer: an nn.Module mapping (batch, seq, d_model) to (batch, seq, d_model).
        p: float in [0, 1], the dropout probability (default 0.1).

    forward(x): x of shape (batch, seq, d_model) -> a tensor of the same shape.
    """

    def __init__(self, d_model, sublayer, p=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.sublayer = sublayer
        self.dropout = nn.Dropout(p)

    def forward(self, x):
        ### BEGIN SOLUTION
        return x + self.dropout(self.sublayer(self.norm(x)))
        ### END SOLUTION


# %% answer="PreNormResidual" lang="zh"
class PostNormResidual(nn.Module):
    """一个 Post-LN 残差子层，带有 2017 年论文中的残差 dropout（§5.4）。

    参数：
        d_model：int，x 最后一维的大小。
        sublayer：一个 nn.Module，把 (batch, seq, d_model) 映射为 (batch, seq, d_model)。
        p：[0, 1] 中的 float，dropout 的概率（默认 0.1）。

    forward(x)：形状为 (batch, seq, d_model) 的 x -> 形状相同的张量。
    """

    def __init__(self, d_model, sublayer, p=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.sublayer = sublayer
        self.dropout = nn.Dropout(p)

    def forward(self, x):
        ### BEGIN SOLUTION
        return self.norm(x + self.dropout(self.sublayer(x)))
        ### END SOLUTION


class PreNormResidual(nn.Module):
    """一个 Pre-LN 残差子层，残差 dropout 放在 §5.4 给出的位置上。

    参数：
        d_model：int，x 最后一维的大小。
        sublayer：一个 nn.Module，把 (batch, seq, d_model) 映射为 (batch, seq, d_model)。
        p：[0, 1] 中的 float，dropout 的概率（默认 0.1）。

    forward(x)：形状为 (batch, seq, d_model) 的 x -> 形状相同的张量。
    """

    def __init__(self, d_model, sublayer, p=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.sublayer = sublayer
        self.dropout = nn.Dropout(p)

    def forward(self, x):
        ### BEGIN SOLUTION
        return x + self.dropout(self.sublayer(self.norm(x)))
        ### END SOLUTION


# %% tests="PreNormResidual_tests" points=4
import torch
from torch import nn
from torch.nn.functional import layer_norm
from course.checks import call, check, close, msg
from course.checks.ch04_dropout_residual import RecordingDropout, expect

torch.manual_seed(0)
x = torch.randn(2, 5, 8)                                  # (batch, seq, d_model)
linear = nn.Linear(8, 8)
with torch.no_grad():
    normed = layer_norm(x, (8,))                          # what a fresh nn.LayerNorm(8) gives
    branch = {"Post": linear(x), "Pre": linear(normed)}
    stream_after_add = {"Post": x + linear(x), "Pre": x + linear(normed)}
    expected = {"Post": lambda k: layer_norm(x + k * linear(x), (8,)), "Pre": lambda k: x + k * linear(normed)}
for kind, cls in (("Post", PostNormResidual), ("Pre", PreNormResidual)):
    name = f"{kind}NormResidual"
    with torch.no_grad():
        close(call(cls(8, linear, p=0.1).eval(), x), expected[kind](1.0), atol=1e-5,
              name=msg("{name} in eval mode (dropout off: chapter 03's block)", name=name))
        block = cls(8, linear, p=0.1).train()
        block.dropout = RecordingDropout()                # records what it is applied to, returns twice it
        out = call(block, x)
        seen = block.dropout.calls
        check(len(seen) == 1, "{name} applied its dropout {n} times: once, to the sublayer's output", name=name,
              n=len(seen))
        expect(seen[0], branch[kind], atol=1e-5, name=msg("what {name}'s dropout was applied to", name=name), mistakes=[
            (x, "the dropout was applied to x, the residual stream itself: it belongs on the sublayer's output"),
            (stream_after_add[kind], "the dropout came after the add: it belongs on the sublayer's output, "
             "before the add"),
            (normed, "the dropout was applied to the normalised input, before the sublayer: it belongs on the "
             "sublayer's output"),
            (layer_norm(stream_after_add[kind], (8,)), "the dropout came after the norm: it belongs on the "
             "sublayer's output, before the add and the norm")])
        close(out, expected[kind](2.0), atol=1e-5,
              name=msg("{name} with a stand-in dropout that doubles its input", name=name))
        close(call(cls(8, linear, p=1.0).train(), x), expected[kind](0.0), atol=1e-5,
              name=msg("{name} with p=1 in training (the branch is dropped, the stream passes)", name=name))
print(msg("Visible tests passed: eval mode, p=1, what the dropout sees, in both arrangements."))
### BEGIN HIDDEN TESTS
from course_grader.checks import ch04_dropout_residual as hidden
hidden.check_postnorm_residual(PostNormResidual)
hidden.check_prenorm_residual(PreNormResidual)
### END HIDDEN TESTS

# %% [markdown]
# Here is where your code put the dropout, drawn: on the sublayer's output, before the add, in both
# arrangements. Post-LN then normalises the stream (chapter 03); nothing ever drops it.

# %% [markdown] lang="zh"
# 下面把你的代码放置 dropout 的位置画了出来：两种排列方式中，dropout 都在子层的输出上、相加之前。随后 Post-LN
# 对流做归一化（第 03 章）；但流本身从来不会被丢弃。

# %%
ex.show(ex.block_diagrams(dropout=True))

# %% [markdown]
# ### Experiment — a misplaced dropout · 实验：放错位置的 dropout
#
# What would go wrong with `dropout(x + F(norm(x)))`, dropout *after* the add? Take 12 Pre-LN blocks
# whose sublayers output zeros (blocks that have not learned anything yet, so the ideal stack is the
# identity) and run them in training mode with `p = 0.1`. Your `PreNormResidual` is compared with the
# misplaced version.
#
# **Predict · 预测:** after 12 blocks, what fraction of the stream's entries will the misplaced version
# have zeroed? Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# ### 实验：放错位置的 dropout · Experiment — a misplaced dropout
#
# 如果写成 `dropout(x + F(norm(x)))`，即把 dropout 放在相加*之后*，会出什么问题？取 12 个 Pre-LN 块，
# 它们的子层都输出零（这些块还什么都没学到，所以理想的堆栈就是恒等映射），在训练模式下以 `p = 0.1` 运行。你的
# `PreNormResidual` 会与放错位置的版本进行比较。
#
# **预测 · Predict：** 经过 12 个块之后，放错位置的版本会把流中多大比例的元素置零？先写下你的猜测，再运行下一个单元格。

# %%
with needs("PreNormResidual"):
    fig, stats = ex.placement_experiment(PreNormResidual, depth=12, p=0.1)
    ex.show(fig)
    k = stats["depth"]
    print(f"after {k} blocks: zeroed entries {stats['good_zero'][-1]:.3f} (yours) vs "
          f"{stats['bad_zero'][-1]:.3f} (dropout after the add); 1 - 0.9^{k} = {1 - 0.9 ** k:.3f}")
    print(f"relative drift ||h - x|| / ||x||: {stats['good_err'][-1]:.3f} (yours) vs {stats['bad_err'][-1]:.3f}")

# %% lang="zh"
with needs("PreNormResidual"):
    fig, stats = ex.placement_experiment(PreNormResidual, depth=12, p=0.1)
    ex.show(fig)
    k = stats["depth"]
    print(f"经过 {k} 个块之后，被置零的元素比例：{stats['good_zero'][-1]:.3f}（你的）对比 "
          f"{stats['bad_zero'][-1]:.3f}（dropout 在相加之后）；1 - 0.9^{k} = {1 - 0.9 ** k:.3f}")
    print(f"相对偏移 ||h - x|| / ||x||：{stats['good_err'][-1]:.3f}（你的）对比 {stats['bad_err'][-1]:.3f}")


# %% [markdown]
# **Reading the figure.** With dropout on the branch, the stream arrives untouched (both curves for
# your block sit at 0). With dropout after the add, every block punches its own holes into the stream
# and they accumulate: the zero fraction follows `1 − (1 − p)^k`, and the survivors are rescaled by
# `1/(1 − p)` at every block, so the stream drifts further and further from `x` (right panel, printed
# above). In a real model this would erase information that earlier layers wrote, and — as Part 4
# shows — it would also cut the gradient's straight road back to the input.

# %% [markdown] lang="zh"
# **读图。** dropout 放在分支上时，流原封不动地到达终点（你的块的两条曲线都停在 0）。dropout 放在相加之后时，
# 每个块都会在流上打出自己的洞，而且这些洞不断累积：置零的比例遵循 `1 − (1 − p)^k`，保留下来的元素在每个块都要乘以
# `1/(1 − p)`，所以流离 `x` 越来越远（右图，以及上面打印的数字）。在真实模型中，这会抹掉前面各层写入的信息，而且正如第 4
# 部分将要说明的，它还会切断梯度返回输入的那条直路。

# %% [markdown]
# ## Part 4 — Residual connections and gradient flow · 残差连接与梯度流
#
# Why is the residual stream so precious? Follow a gradient backwards through a stack of layers.
#
# * **Plain stack:** `h_{l+1} = f_l(h_l)`. By the chain rule the gradient reaching layer 1 is a
#   product of Jacobians, `J_L · J_{L−1} ⋯ J_2`. If each factor shrinks vectors a little (a `tanh`
#   saturates, weights with small variance), forty of them shrink it enormously: the gradient
#   **vanishes** (梯度消失) towards the input.
# * **Residual stack:** `h_{l+1} = h_l + f_l(h_l)`, so each factor becomes `I + J_l`. Multiplying
#   out the product gives the identity plus a sum of products of `J`s. The identity term is a path on
#   which the gradient from the loss reaches *every* layer without passing through any `J` (He et al.
#   2016b, eq. 5), so it cannot vanish the way a long product of shrinking factors does. The other
#   terms add to it, and nothing in this argument makes them small: they can make the gradient *grow*
#   towards the input. The experiment below measures which happens.
#
# Your job: measure it.
#
# ### Exercise 4 — gradient norm per layer · 练习 4：每层的梯度范数
#
# **Difficulty:** ●●○ · **Importance:** ●●○ · **Time:** ~15 min
#
# `DeepStack(depth, width, residual, seed)` (imported in the set-up cell from
# `course.experiments.ch04_dropout_residual`) holds its `nn.Linear` layers
# in `model.layers`, input side first; `model(x)` maps `(batch, width)` to `(batch, width)`.
# Write `grad_norms_per_layer(model, x)`:
#
# 1. clear any gradients left over from earlier calls with `model.zero_grad()` — otherwise `backward`
#    **adds** to them;
# 2. compute the fixed loss `L = mean(model(x) ** 2)` and call `L.backward()`;
# 3. only now read `layer.weight.grad` of each layer and return the Frobenius norms
#    (`tensor.norm()`) as a 1-D tensor of shape `(depth,)`, layer 1 first.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Where does PyTorch leave a parameter's gradient after `backward()`, and what does a second
# `backward()` do to it? Which attribute of each layer is the weight (not the bias)?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# The three numbered steps are the whole function, in that order. For the last one: a list of 0-d
# tensors becomes one 1-D tensor with a single torch function, and the docstring asks for a result
# that carries no graph.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ## 第 4 部分 残差连接与梯度流 · Part 4 — Residual connections and gradient flow
#
# 残差流为什么如此宝贵？跟着梯度沿一个层堆栈反向走一遍。
#
# * **普通堆栈：** `h_{l+1} = f_l(h_l)`。由链式法则，到达第 1 层的梯度是一串雅可比矩阵的乘积 `J_L · J_{L−1} ⋯ J_2`。
#   如果每个因子都把向量缩小一点（`tanh` 饱和，或者权重的方差较小），四十个这样的因子就会把它缩小得非常厉害：
#   梯度在靠近输入的一端**消失**（梯度消失）。
# * **残差堆栈：** `h_{l+1} = h_l + f_l(h_l)`，于是每个因子都变成 `I + J_l`。把乘积展开，得到恒等矩阵加上一系列 `J`
#   的乘积之和。恒等项是一条路径：损失的梯度沿着它不经过任何 `J` 就能到达*每*一层（He et al. 2016b，式 5），
#   所以它不会像一长串不断缩小的因子之积那样消失。其余各项叠加在它上面，而上面的论证中没有任何东西让它们变小：
#   它们可能让梯度越靠近输入越*大*。下面的实验会测量实际发生的是哪一种情况。
#
# 你的任务：把它测出来。
#
# ### 练习 4 · Exercise 4：每层的梯度范数
#
# **难度：** ●●○ · **重要性：** ●●○ · **用时：** 约 15 分钟
#
# `DeepStack(depth, width, residual, seed)`（在初始化单元格中从 `course.experiments.ch04_dropout_residual` 导入）把它的
# `nn.Linear` 层存放在 `model.layers` 中，从输入端开始排列；`model(x)` 把 `(batch, width)` 映射为 `(batch, width)`。编写
# `grad_norms_per_layer(model, x)`：
#
# 1. 用 `model.zero_grad()` 清除之前的调用留下的梯度，否则 `backward` 会把新梯度**累加**上去；
# 2. 计算固定的损失 `L = mean(model(x) ** 2)`，并调用 `L.backward()`；
# 3. 到这时才读取每一层的 `layer.weight.grad`，把它们的 Frobenius 范数（`tensor.norm()`）作为形状为 `(depth,)`
#    的一维张量返回，第 1 层在前。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 调用 `backward()` 之后，PyTorch 把参数的梯度放在哪里？第二次调用 `backward()` 会对它做什么？
# 每一层的哪个属性是权重（而不是偏置）？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 上面编号的三步就是整个函数，而且顺序就是那样。关于最后一步：一组 0 维张量只需一个 torch 函数就能合成一个一维张量；
# 而文档字符串要求结果不带计算图。
#
# </details>
# </details>

# %% answer="grad_norms_per_layer"
def grad_norms_per_layer(model, x):
    """The norm of dL/dW for every layer's weight, for L = mean(model(x) ** 2), at the current weights.

    Args:
        model: a DeepStack (or any module with .layers, a list of nn.Linear, input side first).
        x: tensor (batch, width), the input.

    Returns:
        Tensor of shape (depth,), float, no grad: entry i is the Frobenius norm of the gradient
        of L with respect to model.layers[i].weight. Gradients left in the model by earlier calls
        must not change the result.
    """
    ### BEGIN SOLUTION
    model.zero_grad()
    loss = model(x).pow(2).mean()
    loss.backward()
    return torch.stack([layer.weight.grad.norm() for layer in model.layers]).detach()
    ### END SOLUTION


# %% answer="grad_norms_per_layer" lang="zh"
def grad_norms_per_layer(model, x):
    """在当前权重下，对 L = mean(model(x) ** 2) 求每一层权重的梯度 dL/dW 的范数。

    参数：
        model：一个 DeepStack（或任何带有 .layers 的模块，.layers 是 nn.Linear 的列表，靠近输入的在前）。
        x：张量 (batch, width)，即输入。

    返回：
        形状为 (depth,) 的浮点张量，不带梯度：第 i 项是 L 对 model.layers[i].weight 的梯度的 Frobenius 范数。
        之前的调用留在模型中的梯度不得改变结果。
    """
    ### BEGIN SOLUTION
    model.zero_grad()
    loss = model(x).pow(2).mean()
    loss.backward()
    return torch.stack([layer.weight.grad.norm() for layer in model.layers]).detach()
    ### END SOLUTION


# %% tests="grad_norms_per_layer_tests" points=3
import math
import torch
from course.checks import call, check, close, msg
from course.experiments.ch04_dropout_residual import DeepStack

# one layer, one weight w = 0.5, bias 0, two inputs equal to 2: L = mean(h²), worked out by hand
for residual in (False, True):
    model = DeepStack(1, width=1, residual=residual)
    with torch.no_grad():
        model.layers[0].weight.fill_(0.5)
        model.layers[0].bias.zero_()
    t = math.tanh(0.5 * 2.0)
    h = 2.0 + t if residual else t                      # the output for x = 2
    by_hand = 2 * h * (1 - t ** 2) * 2.0                # dL/dh · dtanh · d(w·x)/dw, the same for both inputs
    x = torch.full((2, 1), 2.0)                         # (batch=2, width=1)
    result = call(grad_norms_per_layer, model, x)
    check(not torch.allclose(result, torch.tensor([0.0])), "all norms are 0: read the gradients after "
          "L.backward(), not before (step 3)")
    check(not torch.allclose(result, torch.tensor([2 * by_hand])), "the norms are 2 times too large: L is the MEAN "
          "of model(x) ** 2 over its 2 elements, not the sum (step 2)")
    check(not torch.allclose(result, torch.tensor([by_hand / 2.0])), "that is the norm of the bias gradient: read "
          "layer.weight.grad (step 3)")
    close(result, torch.tensor([by_hand]), rtol=1e-4, name=msg("one-weight stack, residual={residual}",
                                                                 residual=residual))
    again = call(grad_norms_per_layer, model, x)
    check(not torch.allclose(again, torch.tensor([2 * by_hand])), "the second call gave twice the first: backward "
          "adds to .grad, so clear the old gradients first with model.zero_grad() (step 1)")
    close(again, torch.tensor([by_hand]), rtol=1e-4,
          name=msg("one-weight stack, residual={residual}, second call", residual=residual))
# two layers, w1 = 0.5 then w2 = -1.5, no skip path, x = 1: the chain rule once more, layer 1 first
model = DeepStack(2, width=1)
with torch.no_grad():
    for layer, w in zip(model.layers, (0.5, -1.5)):
        layer.weight.fill_(w)
        layer.bias.zero_()
h1 = math.tanh(0.5)
h2 = math.tanh(-1.5 * h1)
g2 = 2 * h2 * (1 - h2 ** 2) * h1                        # dL/dw2
g1 = 2 * h2 * (1 - h2 ** 2) * -1.5 * (1 - h1 ** 2)      # dL/dw1 (its norm: the absolute value)
result = call(grad_norms_per_layer, model, torch.ones(1, 1))
check(not torch.allclose(result, torch.tensor([abs(g2), abs(g1)])), "the norms are in reverse order: entry 0 is "
      "model.layers[0], the layer next to the input")
close(result, torch.tensor([abs(g1), abs(g2)]), rtol=1e-4, name="two-layer stack, by hand")
print(msg("Visible tests passed: one-weight stacks with and without the skip path (twice), a two-layer stack."))
### BEGIN HIDDEN TESTS
from course_grader.checks import ch04_dropout_residual as hidden
hidden.check_grad_norms(grad_norms_per_layer)
### END HIDDEN TESTS

# %% [markdown]
# ### Experiment — 40 layers, with and without the skip path · 实验：40 层，有无跳跃连接
#
# Both stacks get identical weights (same seed) and the same input; the only difference is `h + f(h)`
# versus `f(h)`.
#
# **Predict · 预测:** how many times smaller is the gradient at layer 1 than at layer 40 in the plain
# stack — 2×, 100×, or something else? Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# ### 实验：40 层，有无跳跃连接 · Experiment — 40 layers, with and without the skip path
#
# 两个堆栈的权重完全相同（相同的种子），输入也相同；唯一的区别是 `h + f(h)` 与 `f(h)`。
#
# **预测 · Predict：** 在普通堆栈中，第 1 层的梯度比第 40 层小多少倍：2 倍、100 倍，还是别的什么？先写下你的猜测，
# 再运行下一个单元格。

# %%
with needs("grad_norms_per_layer"):
    fig, stats = ex.residual_experiment(grad_norms_per_layer, depth=40)
    ex.show(fig)
    for name in ("plain", "residual"):
        g = stats[name]
        print(f"{name:>8}: layer 1 {g[0]:.2e}, layer 20 {g[19]:.2e}, layer 40 {g[-1]:.2e}, "
              f"ratio layer 40 / layer 1 = {g[-1] / g[0]:.2e}")
    print(f"back-of-envelope shrink factor for the plain stack, sqrt(3)^39 = {math.sqrt(3) ** 39:.1e}")

# %% lang="zh"
with needs("grad_norms_per_layer"):
    fig, stats = ex.residual_experiment(grad_norms_per_layer, depth=40)
    ex.show(fig)
    # plain：普通堆栈 h = tanh(W h + b)；residual：残差堆栈 h = h + tanh(W h + b)
    for name in ("plain", "residual"):
        g = stats[name]
        print(f"{name:>8}：第 1 层 {g[0]:.2e}，第 20 层 {g[19]:.2e}，第 40 层 {g[-1]:.2e}，"
              f"第 40 层 / 第 1 层 = {g[-1] / g[0]:.2e}")
    print(f"粗略估算普通堆栈的缩小倍数：sqrt(3)^39 = {math.sqrt(3) ** 39:.1e}")

# %% [markdown]
# **Reading the figure** (the y axis is logarithmic: equal distances are equal factors). The plain
# stack's curve falls steeply from the output side to the input side: the printed ratio between the
# last and the first layer spans many orders of magnitude, so a gradient step would change the first
# layers by practically nothing — they would not learn.
#
# Where does the factor come from? PyTorch's default `nn.Linear` initialisation draws weights
# uniformly from `±1/√fan_in` (its documentation), a variance of `1/(3 · fan_in)`, so multiplying a
# gradient by `Wᵀ` shrinks its length by about `√3`, and `tanh' ≤ 1` can only shrink it further.
# Between layer 40 and layer 1 there are 39 such factors: compare the printed estimate `√3³⁹` with the
# measured ratio. The residual stack's curve does not fall towards the input; it rises a little: its
# printed ratio layer 40 / layer 1 is below 1, so layer 1 gets a *larger* gradient than layer 40 (the
# `J` terms adding to the identity, as Part 4 said they may), but only by a small factor, not by
# orders of magnitude. Every layer gets a useful gradient. Same weights, same input, one `+ h` per
# layer.
#
# This is why a Transformer with dozens of layers trains at all, and why no Transformer ever *drops*
# the residual stream. Pre-LN leaves it untouched inside the blocks; Post-LN does normalise it after
# every add (chapter 03), which is one reason it is harder to train deep.

# %% [markdown] lang="zh"
# **读图**（纵轴是对数刻度：相等的距离代表相等的倍数）。普通堆栈的曲线从输出端到输入端急剧下降：
# 打印出的末层与首层梯度之比跨越许多个数量级，所以一步梯度更新几乎不会改变最前面的几层：它们学不到东西。
#
# 这个倍数从何而来？PyTorch 默认的 `nn.Linear` 初始化从 `±1/√fan_in` 范围内均匀地抽取权重（见其文档），方差为
# `1/(3 · fan_in)`，所以梯度每乘一次 `Wᵀ`，长度大约要除以 `√3`，而 `tanh' ≤ 1` 只会让它进一步缩小。第 40 层与第 1
# 层之间有 39 个这样的因子：把打印的估计值 `√3³⁹` 与实测的比值比较一下。残差堆栈的曲线并不朝输入端下降，反而略有上升：
# 它打印出的第 40 层/第 1 层之比小于 1，所以第 1 层得到的梯度比第 40 层*更大*（这来自叠加在恒等项上的 `J` 项，第 4
# 部分说过这是可能的），但只大一个很小的倍数，而不是好几个数量级。每一层都得到了有用的梯度。同样的权重，同样的输入，
# 每层只多了一个 `+ h`。
#
# 这就是几十层的 Transformer 能够训练的原因，也是没有任何 Transformer 会*丢弃*残差流的原因。Pre-LN 在块内完全不碰它；
# Post-LN 则在每次相加之后都对它做归一化（第 03 章），这正是 Post-LN 的深层模型更难训练的原因之一。

# %% [markdown]
# ## Summary · 小结
#
# * **Inverted dropout** zeroes each element with probability `p` and divides the survivors by
#   `1 − p`, so the expected value is unchanged and eval mode is the identity. `p = 1` must not
#   divide by zero; every call draws a new mask.
# * An `nn.Module` reads `self.training`; `model.train()` / `model.eval()` set it recursively, which
#   is how one call switches off every dropout in a model.
# * On a small model that overfits, dropout trades a higher training loss for a lower test loss.
# * The 2017 Transformer puts dropout on the **embedding sum** and on **each sublayer's output before
#   the residual add** (§5.4; `P_drop = 0.1` for the base model): `LayerNorm(x + dropout(F(x)))` in
#   Post-LN, `x + dropout(F(LayerNorm(x)))` in Pre-LN. Dropping the stream itself punches holes that
#   accumulate with depth.
# * A **residual connection** turns each backward factor `J` into `I + J`; a deep plain stack's
#   gradients vanish toward the input, a residual stack's stay within a small factor (here they grow a
#   little toward the input).
#
# **Next:** attention (chapter 05), the first of the two sublayers these blocks wrap.

# %% [markdown] lang="zh"
# ## 小结 · Summary
#
# * **反向缩放 dropout** 以概率 `p` 把每个元素置零，并把保留下来的元素除以 `1 − p`，因此期望值不变，
#   评估模式下就是恒等映射。`p = 1` 时不能除以零；每次调用都要抽取新的掩码。
# * `nn.Module` 读取 `self.training`；`model.train()` / `model.eval()` 递归地设置它，所以一次调用就能关掉模型中所有的
#   dropout。
# * 在一个会过拟合的小模型上，dropout 以更高的训练损失换来更低的测试损失。
# * 2017 年的 Transformer 把 dropout 放在**嵌入之和**上，以及**每个子层的输出上、残差相加之前**（§5.4；基础模型
#   `P_drop = 0.1`）：Post-LN 中为 `LayerNorm(x + dropout(F(x)))`，Pre-LN 中为 `x + dropout(F(LayerNorm(x)))`。
#   对流本身做 dropout 会打出随深度累积的洞。
# * **残差连接**把反向传播中的每个因子 `J` 变成 `I + J`；深层普通堆栈的梯度在靠近输入的一端消失，
#   而残差堆栈的梯度只在一个很小的倍数内变化（这里越靠近输入略微变大）。
#
# **下一章：** 注意力（第 05 章），这些块所包装的两个子层中的第一个。

# %% [markdown]
# ### Check your understanding · 自测
#
# 1. You evaluate a trained model but forget `model.eval()`. What do you observe?
# 2. Why is the base Transformer's `p = 0.1` and not `0.5`? (Look at the noise panel of the statistics
#    figure.)
# 3. In the residual stack, compare the printed gradients of layer 1 and layer 40. Why can the skip
#    path make gradients grow toward the input?
#
# <details><summary>Answers</summary>
#
# 1. Predictions change from run to run and are usually worse: every forward pass still drops units,
#    so you are looking at one random thinned network instead of their average (the overfitting
#    experiment printed the test loss both ways).
# 2. Every dropout layer adds noise with standard deviation `sqrt(p/(1 − p))` per element (1.0 at
#    `p = 0.5`, about 0.33 at `p = 0.1`), and a Transformer has one in every sublayer. The right rate
#    is found by experiment: the paper varies it (Table 3, row D) and used 0.1 for the base model, 0.3
#    for the big English-German model and 0.1 for the big English-French one (§6.1).
# 3. Each backward factor is `I + J`, not `I`: the identity passes the gradient on unchanged, and the
#    `J` term adds a little more at every layer, so the gradient collects contributions from all the
#    layers above it. Without anything to rein in the stream's scale, this growth compounds with
#    depth.
# </details>

# %% [markdown] lang="zh"
# ### 自测 · Check your understanding
#
# 1. 你评估一个训练好的模型，却忘了调用 `model.eval()`。你会观察到什么？
# 2. 基础 Transformer 为什么用 `p = 0.1` 而不是 `0.5`？（看看统计图中的噪声那一幅。）
# 3. 在残差堆栈中，比较打印出的第 1 层和第 40 层的梯度。为什么跳跃连接会让梯度越靠近输入越大？
#
# <details><summary>答案 · Answers</summary>
#
# 1. 预测结果每次运行都不一样，而且通常更差：每次前向传播仍然在丢弃单元，所以你看到的是一个随机的精简子网络，
#    而不是它们的平均（过拟合实验把两种方式下的测试损失都打印了出来）。
# 2. 每个 dropout 层都会给每个元素加上标准差为 `sqrt(p/(1 − p))` 的噪声（`p = 0.5` 时为 1.0，`p = 0.1` 时约为 0.33），而
#    Transformer 的每个子层都有一个 dropout。合适的丢弃率要靠实验来确定：论文对它做了变化（表 3，D 行），基础模型用
#    0.1，英德翻译的大模型用 0.3，英法翻译的大模型用 0.1（§6.1）。
# 3. 反向传播中的每个因子是 `I + J`，而不是 `I`：恒等项把梯度原样传下去，`J` 项则在每一层再添上一点，
#    所以梯度汇集了它上面所有层的贡献。如果没有什么东西约束流的尺度，这种增长就会随深度不断累积。
# </details>

# %%
glossary.show("04-dropout-residual")

# %% [markdown]
# ## References · 参考文献
#
# 1. Srivastava, N., Hinton, G., Krizhevsky, A., Sutskever, I., Salakhutdinov, R. (2014). Dropout: A
#    Simple Way to Prevent Neural Networks from Overfitting. JMLR 15, 1929–1958. §1–2 (co-adaptation,
#    thinned networks), §4 (scaling at test time), §7.5 (averaging vs weight scaling).
# 2. Vaswani, A. et al. (2017). Attention Is All You Need. NeurIPS 2017, arXiv:1706.03762. §3.1
#    (LayerNorm(x + Sublayer(x))), §5.4 (residual dropout, P_drop = 0.1), §6.1 (big EN-FR: 0.1),
#    §6.2 and Table 3 (row D: dropout rates; big model: 0.3).
# 3. He, K., Zhang, X., Ren, S., Sun, J. (2016a). Deep Residual Learning for Image Recognition. CVPR
#    2016, arXiv:1512.03385. §3.2 (identity shortcuts).
# 4. He, K., Zhang, X., Ren, S., Sun, J. (2016b). Identity Mappings in Deep Residual Networks. ECCV
#    2016, arXiv:1603.05027. §3, eq. 4–5 (the gradient through the identity path).
# 5. Radford, A. et al. (2019). Language Models are Unsupervised Multitask Learners. OpenAI technical
#    report. §2.3 (Pre-LN).
# 6. PyTorch 2.13 documentation: `torch.nn.Dropout` (zeroes with probability p, scales by 1/(1 − p)),
#    `torch.nn.Module.train` / `eval`, `torch.nn.Linear` (initialisation), `torch.nn.MultiheadAttention`
#    (`dropout` on the attention weights).

# %% [markdown] lang="zh"
# ## 参考文献 · References
#
# 1. Srivastava, N., Hinton, G., Krizhevsky, A., Sutskever, I., Salakhutdinov, R. (2014). Dropout: A Simple Way to
#    Prevent Neural Networks from Overfitting. JMLR 15, 1929–1958. §1–2（共适应，精简子网络），§4（测试时的缩放），
#    §7.5（求平均与权重缩放的比较）。
# 2. Vaswani, A. et al. (2017). Attention Is All You Need. NeurIPS 2017, arXiv:1706.03762. §3.1（LayerNorm(x +
#    Sublayer(x))），§5.4（残差 dropout，P_drop = 0.1），§6.1（英法大模型：0.1），§6.2 和表 3（D 行：丢弃率；大模型：
#    0.3）。
# 3. He, K., Zhang, X., Ren, S., Sun, J. (2016a). Deep Residual Learning for Image Recognition. CVPR 2016,
#    arXiv:1512.03385. §3.2（恒等捷径）。
# 4. He, K., Zhang, X., Ren, S., Sun, J. (2016b). Identity Mappings in Deep Residual Networks. ECCV 2016,
#    arXiv:1603.05027. §3，式 4–5（经由恒等路径的梯度）。
# 5. Radford, A. et al. (2019). Language Models are Unsupervised Multitask Learners. OpenAI technical report.
#    §2.3（Pre-LN）。
# 6. PyTorch 2.13 文档：`torch.nn.Dropout`（以概率 p 置零，并乘以 1/(1 − p)），`torch.nn.Module.train` /
#    `eval`，`torch.nn.Linear`（初始化），`torch.nn.MultiheadAttention`（对注意力权重做 `dropout`）。
