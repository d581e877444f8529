# %% [markdown]
# # Layer normalization · 层归一化
#
# Deep networks train badly when the scale of their activations drifts from layer to layer. A
# Transformer keeps them in check with **layer normalisation** (层归一化; Ba et al. 2016): every token's
# feature vector is shifted to mean 0 and scaled to variance 1, then given a learned scale γ and shift β.
#
# In this chapter you will write LayerNorm yourself and match `torch.nn.LayerNorm`, see why NLP models
# use it rather than BatchNorm (批归一化), wire it into stacks of residual blocks the two ways
# Transformers do, **Post-LN** and **Pre-LN**, and train a deep stack both ways.

# %% [markdown] lang="zh"
# # 层归一化 · Layer normalization
#
# 如果激活值的尺度在层与层之间不断漂移，深层网络就很难训练。Transformer 用**层归一化**（layer normalization；Ba et al.
# 2016）把它控制住：把每个词元的特征向量平移到均值 0、缩放到方差 1，再乘以可学习的缩放参数 γ、加上平移参数 β。
#
# 本章中，你将亲手实现层归一化并与 `torch.nn.LayerNorm` 对齐；
# 看到自然语言处理模型为什么用它而不用批归一化（BatchNorm）；把它按 Transformer 的两种方式，
# 即**后置层归一化**（Post-LN）和**前置层归一化**（Pre-LN），接入由残差块组成的堆栈；
# 并用这两种方式分别训练一个深层堆栈。

# %% [markdown]
# ## Before you start · 开始之前
#
# **You will build:**
#
# * `layer_norm(x, weight, bias, eps)`: LayerNorm from reductions, equal to `torch.nn.LayerNorm` to 1e-5;
# * `LayerNorm`: the same as an `nn.Module` whose parameters load from an `nn.LayerNorm`;
# * `PostLN` and `PreLN`: stacks of residual blocks wired the 2017 way and the GPT-2 way, the Pre-LN
#   one with its final LayerNorm;
# * `rms_norm` and `layer_norm_from_rms`: RMSNorm, and LayerNorm rebuilt from it.
#
# **Prerequisites:** chapter 02 (reductions over one dim, `keepdim`, broadcasting); `nn.Module`,
# `nn.Parameter` and `nn.ModuleList`; the mean and variance of a list of numbers. A residual
# connection here is just the sum `x + sublayer(x)`; chapter 04 shows why it matters.
#
# **Time:** about 100 minutes (reading 35, exercises 50, experiments 15).

# %% [markdown] lang="zh"
# ## 开始之前 · Before you start
#
# **本章要实现：**
#
# * `layer_norm(x, weight, bias, eps)`：用归约实现层归一化，与 `torch.nn.LayerNorm` 的误差在 1e-5 以内；
# * `LayerNorm`：同样的功能写成 `nn.Module`，其参数可以从 `nn.LayerNorm` 载入；
# * `PostLN` 与 `PreLN`：分别按 2017 年原论文和 GPT-2 的方式连接的残差块堆栈，Pre-LN 堆栈带有最终层归一化；
# * `rms_norm` 与 `layer_norm_from_rms`：均方根归一化（RMSNorm），以及用它重建的层归一化。
#
# **预备知识：** 第 02 章（沿一维的归约、`keepdim`、广播）；`nn.Module`、`nn.Parameter` 和 `nn.ModuleList`；
# 一组数的均值和方差。这里的残差连接只是求和 `x + sublayer(x)`；第 04 章会说明它为什么重要。
#
# **用时：** 约 100 分钟（阅读 35 分钟，练习 50 分钟，实验 15 分钟）。

# %% [markdown]
# Run the set-up cell first.

# %% [markdown] lang="zh"
# 先运行初始化单元格。

# %%
import torch
import torch.nn.functional as F
from torch import nn

from course import glossary
from course.experiments import ch03_layernorm as ex
from course.notebook import grading, needs, setup
from course.widgets.ch03_layernorm import layernorm_explorer

setup()

# %% [markdown]
# ## Why normalise at all? · 为什么需要归一化
#
# A residual block adds its sublayer's output to the stream it reads: `h ← h + F(h)` (chapter 04 shows why
# this sum is there). Nothing in that sum keeps the scale of `h` in check. If `F(h)` is about as large as
# `h` and not opposed to it, each block makes the stream larger, and over a stack of blocks the growth
# compounds: every later sublayer then reads inputs of a size it was not initialised for.
#
# The next cell builds one stack of 8 encoder layers twice, from the same initial weights: once as it is
# (PyTorch's `nn.TransformerEncoderLayer` with LayerNorm, arranged "Pre-LN" as Part 3 explains), once
# with every LayerNorm replaced by the identity. It prints the standard deviation of the residual
# stream after each block, then trains both copies for 80 steps on a small task (each of 16 possible
# tokens must be mapped to the token before it) with Adam at learning rate 0.01, no warm-up. It runs on
# one thread, so the numbers are the same on every machine (a few seconds).
#
# **Predict · 预测:** will the stack without LayerNorm learn the task more slowly, just as well, or not
# at all? Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# ## 为什么需要归一化 · Why normalise at all?
#
# 残差块把子层的输出加到它所读取的流上：`h ← h + F(h)`（第 04 章会说明为什么要有这个求和）。
# 这个求和中没有任何东西能控制 `h` 的尺度。如果 `F(h)` 与 `h` 差不多大，而且方向并不相反，那么每经过一个块，
# 流就变大一些；经过一整个堆栈，这种增长会层层累积：后面的每个子层读到的输入，其大小都不是它初始化时所预期的。
#
# 下一个单元格用相同的初始权重把同一个 8 层编码器堆栈构建两次：一次保持原样（PyTorch 的 `nn.TransformerEncoderLayer`，
# 带层归一化，按第 3 部分将要介绍的“Pre-LN”方式排列），一次把其中每个层归一化都换成恒等映射。
# 它打印出每个块之后残差流的标准差，然后在一个小任务上（16 个可能的词元，每个都要映射为它前面的那个词元）用学习率为
# 0.01、不预热的 Adam 把两份副本各训练 80 步。它只用一个线程运行，所以每台机器上的数字都相同（需要几秒钟）。
#
# **预测 · Predict：** 没有层归一化的堆栈学这个任务会更慢、一样好，还是根本学不会？先写下你的猜测，再运行下一个单元格。

# %%
# while the notebook is autograded, a shorter run: no grade depends on it (course.notebook.grading)
fig, why = ex.norm_or_not(**({"steps": 20} if grading() else {}))
ex.show(fig)
for name, scale in why["scale"].items():
    print(f"{name:13s} std of the stream, input then after each block: {', '.join(f'{s:.2f}' for s in scale)}"
          f"  (x{scale[-1] / scale[0]:.1f})")
for name in why["scale"]:
    print(f"{name:13s} loss at step 1: {why['first_loss'][name]:6.2f}   mean of the last {why['tail']} steps: "
          f"{why['final_loss'][name]:.3f}   (chance level ln 16 = 2.773)")

# %% lang="zh"
# 自动评分时运行一个更短的版本：没有任何分数取决于它（course.notebook.grading）
fig, why = ex.norm_or_not(**({"steps": 20} if grading() else {}))
ex.show(fig)
for name, scale in why["scale"].items():
    print(f"{name:13s} 残差流的标准差（先是输入，然后是每个块之后）：{', '.join(f'{s:.2f}' for s in scale)}"
          f"（末层/首层之比 {scale[-1] / scale[0]:.1f}）")
for name in why["scale"]:
    print(f"{name:13s} 第 1 步的损失：{why['first_loss'][name]:6.2f}   最后 {why['tail']} 步的平均损失："
          f"{why['final_loss'][name]:.3f}   （随机猜测水平 ln 16 = 2.773）")


# %% [markdown]
# Reading it, with the printed numbers:
#
# * **Left.** Without LayerNorm the stream grows at every block, and by a larger factor at each block
#   than at the one before: the printed last/first ratio is several times the one with LayerNorm. With
#   LayerNorm the stream grows too (Pre-LN never normalises the stream itself), but slowly, and every
#   sublayer reads a normalised copy of it.
# * **Right.** The output layer reads the unnormalised stream, so its logits are large from the first
#   step: the first loss is several times chance level. In our run the stack without LayerNorm never
#   recovered and ended at chance level, and the stack with LayerNorm solved the task (a loss near 0).
#   Read your own printed numbers rather than trusting this sentence.
#
# Normalisation is what lets a deep stack start, and stay, at a scale its layers were built for. The rest
# of the chapter writes it and asks where to put it.

# %% [markdown] lang="zh"
# 结合打印出的数字来读图：
#
# * **左图。** 没有层归一化时，流在每个块都会变大，而且每个块放大的倍数都比前一个块更大：
#   打印出的末层/首层之比是有层归一化时的好几倍。有层归一化时流也会变大（Pre-LN 从不对流本身做归一化），但增长缓慢，
#   而且每个子层读到的都是它的一份归一化副本。
# * **右图。** 输出层读取的是未归一化的流，所以从第一步起它的 logits 就很大：第一步的损失是随机猜测水平的好几倍。
#   在我们的运行中，没有层归一化的堆栈始终没有恢复过来，最后停在随机猜测水平；
#   有层归一化的堆栈则解决了这个任务（损失接近 0）。请以你自己打印出的数字为准，不要轻信这句话。
#
# 归一化让深层堆栈从一开始、并且始终处在其各层设计时所预期的尺度上。本章其余部分就来实现它，并讨论它应该放在哪里。

# %% [markdown]
# ## Part 1 — The formula · 公式
#
# For one token with features $x_1, \dots, x_d$ (the last dim of a `(batch, seq, d_model)` tensor),
# LayerNorm computes (Ba et al. 2016, §3, eq. 3, with the ε of PyTorch's `nn.LayerNorm`):
#
# $$\mu = \frac{1}{d}\sum_i x_i, \qquad \sigma^2 = \frac{1}{d}\sum_i (x_i - \mu)^2, \qquad
# y_i = \gamma_i \, \frac{x_i - \mu}{\sqrt{\sigma^2 + \varepsilon}} + \beta_i .$$
#
# Three details decide whether you match PyTorch:
#
# 1. **Biased variance**: divide by `d`, not `d − 1` (PyTorch's `nn.LayerNorm` documentation says it
#    uses the biased estimator). `torch.var` and `torch.std` divide by `d − 1` by default
#    (`correction=1`); pass `correction=0` or compute the mean of the squared deviations. With `d = 2`
#    the two variances differ by a factor of 2.
# 2. **ε inside the square root**: `sqrt(var + eps)`, not `sqrt(var) + eps`. It only matters when the
#    variance is tiny, and that is exactly when it must protect you from dividing by ~0.
# 3. **One mean and variance per token**, over the last dim only, with `keepdim=True` so that they
#    broadcast back against `x`.
#
# γ and β are vectors of length `d` (γ starts at ones, β at zeros), so a LayerNorm has `2·d`
# parameters.

# %% [markdown] lang="zh"
# ## 第 1 部分 公式 · Part 1 — The formula
#
# 对于一个特征为 $x_1, \dots, x_d$ 的词元（即 `(batch, seq, d_model)` 张量的最后一维），层归一化的计算如下（Ba et al.
# 2016，§3，式 3，ε 采用 PyTorch 的 `nn.LayerNorm` 的写法）：
#
# $$\mu = \frac{1}{d}\sum_i x_i, \qquad \sigma^2 = \frac{1}{d}\sum_i (x_i - \mu)^2, \qquad
# y_i = \gamma_i \, \frac{x_i - \mu}{\sqrt{\sigma^2 + \varepsilon}} + \beta_i .$$
#
# 能否与 PyTorch 对齐，取决于三个细节：
#
# 1. **有偏方差**：除以 `d`，而不是 `d − 1`（PyTorch 的 `nn.LayerNorm` 文档说明它使用有偏估计）。`torch.var` 和
#    `torch.std` 默认除以 `d − 1`（`correction=1`）；请传入 `correction=0`，或者直接计算偏差平方的均值。当 `d = 2` 时，
#    两种方差相差 2 倍。
# 2. **ε 在平方根之内**：`sqrt(var + eps)`，而不是 `sqrt(var) + eps`。只有方差极小时它才起作用，
#    而恰恰在那时，它必须防止你除以一个接近 0 的数。
# 3. **每个词元一个均值和一个方差**，只沿最后一维计算，并使用 `keepdim=True`，使它们能与 `x` 广播。
#
# γ 和 β 都是长度为 `d` 的向量（γ 初始化为全 1，β 初始化为全 0），所以一个层归一化有 `2·d` 个参数。

# %% [markdown]
# ### Exercise 1 · 练习 1: `layer_norm`
#
# **Difficulty:** ●○○ · **Importance:** ●●● · **Time:** ~15 min
#
# Write it with reductions, not with PyTorch's `F.layer_norm` (the tests switch that off and tell you).
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Which dim holds one token's features? You need two statistics over that dim, and both must keep a
# size-1 dim there so that they broadcast against `x`.
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Work the first visible test, the token `[1, 3]`, by hand with the formula of Part 1 and compare each
# of your statistics with what your code computes for it. Which of the three details of Part 1 does
# each intermediate result depend on? And which of the four arguments has your code not used yet?
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ### 练习 1 · Exercise 1: `layer_norm`
#
# **难度：** ●○○ · **重要性：** ●●● · **用时：** 约 15 分钟
#
# 用归约来实现，不要用 PyTorch 的 `F.layer_norm`（测试会禁用它，并告诉你这一点）。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 哪一维存放一个词元的特征？你需要沿这一维计算两个统计量，而且两者都必须在那里保留一个大小为 1 的维，才能与 `x` 广播。
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 用第 1 部分的公式手工算一遍第一个可见测试中的词元 `[1, 3]`，把每个统计量与你的代码算出的结果相比较。
# 每个中间结果分别取决于第 1 部分三个细节中的哪一个？四个参数中，还有哪一个你的代码没有用到？
#
# </details>
# </details>

# %% answer="layer_norm"
def layer_norm(x, weight, bias, eps=1e-5):
    """Layer normalisation over the last dim, as in Part 1.

    x: float tensor of shape (..., d_model), e.g. (batch, seq, d_model).
    weight: gamma, shape (d_model,); bias: beta, shape (d_model,); eps: float, the variance's guard.
    Returns a tensor of the same shape as x: each token normalised over its own d_model features
    (biased variance, eps under the square root), then scaled by weight and shifted by bias.
    """
    ### BEGIN SOLUTION
    mean = x.mean(dim=-1, keepdim=True)  # (..., 1)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)  # (..., 1), biased: divides by d_model
    return (x - mean) / torch.sqrt(var + eps) * weight + bias  # (..., d_model)
    ### END SOLUTION


# %% answer="layer_norm" lang="zh"
def layer_norm(x, weight, bias, eps=1e-5):
    """沿最后一维做层归一化，如第 1 部分所述。

    x：形状为 (..., d_model) 的浮点张量，例如 (batch, seq, d_model)。
    weight：γ，形状为 (d_model,)；bias：β，形状为 (d_model,)；eps：float，防止方差过小的保护项。
    返回与 x 形状相同的张量：每个词元在它自己的 d_model 个特征上做归一化（有偏方差，eps 在平方根之内），
    然后乘以 weight 缩放，再加上 bias 平移。
    """
    ### BEGIN SOLUTION
    mean = x.mean(dim=-1, keepdim=True)  # (..., 1)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)  # (..., 1)，有偏：除以 d_model
    return (x - mean) / torch.sqrt(var + eps) * weight + bias  # (..., d_model)
    ### END SOLUTION


# %% tests="layer_norm_tests" points=3
import torch
from course.checks import call
from course.checks.ch03_layernorm import expect

SWAPPED = "gamma and beta are swapped: weight (γ) scales the normalised token, bias (β) is added to it"
DIM_0 = ("you normalised each feature over the tokens (dim 0, BatchNorm's direction): LayerNorm normalises each "
         "token over its own features, the last dim (Part 1, detail 3)")
ones, zeros = torch.ones(2), torch.zeros(2)
# One token [1, 3]: mean 2, biased variance ((1 - 2)² + (3 - 2)²) / 2 = 1, so the output is [-1, 1] (up to eps).
expect(call(layer_norm, torch.tensor([[1.0, 3.0]]), ones, zeros), torch.tensor([[-1.0, 1.0]]), atol=1e-3,
       mistakes=[(torch.tensor([[-0.7071, 0.7071]]), "you divided by d - 1 (the unbiased variance, torch.var's "
                  "default): LayerNorm divides by d, see Part 1, detail 1"),
                 (torch.tensor([[1.0, 1.0]]), SWAPPED), (torch.tensor([[0.0, 0.0]]), DIM_0)],
       name="layer_norm([[1, 3]])")
# A token with variance 1e-6 < eps = 1e-5: 0.001 / sqrt(1e-6 + 1e-5) = 0.3015.
expect(call(layer_norm, torch.tensor([[0.0, 0.002]]), ones, zeros), torch.tensor([[-0.3015, 0.3015]]), atol=1e-3,
       mistakes=[(torch.tensor([[-0.9901, 0.9901]]), "you added eps to the standard deviation, outside the square "
                  "root: it belongs inside, under the root with the variance (Part 1, detail 2)"),
                 (torch.tensor([[-1.0, 1.0]]), "eps had no effect: with a variance this tiny it must, added to the "
                  "variance under the square root (Part 1, detail 2)")],
       name="layer_norm([[0, 0.002]]) with eps = 1e-5")
# The token [1, 3] again, with eps = 3 passed in: 1 / sqrt(1 + 3) = 0.5.
expect(call(layer_norm, torch.tensor([[1.0, 3.0]]), ones, zeros, eps=3.0), torch.tensor([[-0.5, 0.5]]), atol=1e-3,
       mistakes=[(torch.tensor([[-1.0, 1.0]]), "the eps argument was ignored: with eps = 3 the output must change; "
                  "use the eps you are given, not a fixed 1e-5 (Part 1, detail 2)"),
                 (torch.tensor([[-0.25, 0.25]]), "you added eps to the standard deviation, outside the square root: "
                  "it belongs inside, under the root with the variance (Part 1, detail 2)")],
       name="layer_norm([[1, 3]], eps=3.0)")
# gamma [2, 3] and beta [0.5, -1] on the normalised token [-1, 1]: [-1 · 2 + 0.5, 1 · 3 - 1].
expect(call(layer_norm, torch.tensor([[1.0, 3.0]]), torch.tensor([2.0, 3.0]), torch.tensor([0.5, -1.0])),
       torch.tensor([[-1.5, 2.0]]), atol=1e-3,
       mistakes=[(torch.tensor([[1.5, 2.0]]), SWAPPED),
                 (torch.tensor([[-2.0, 3.0]]), "bias (β) was not added"),
                 (torch.tensor([[-0.5, 0.0]]), "weight (γ) was not applied"),
                 (torch.tensor([[-1.0, 0.0]]), "β was added before scaling by γ: scale first, then shift")],
       name="layer_norm with gamma [2, 3] and beta [0.5, -1]")
# Three tokens; the second is 10 × the first + 5, the third 2 × the first - 7: all three give the same output.
x = torch.tensor([[1.0, 2.0, 6.0], [15.0, 25.0, 65.0], [-5.0, -3.0, 5.0]])
expect(call(layer_norm, x, torch.ones(3), torch.zeros(3)), torch.tensor([[-0.9258, -0.4629, 1.3887]] * 3),
       atol=1e-3, mistakes=[
           (torch.tensor([[-0.3182, -0.4921, -0.6892], [1.3525, 1.3943, 1.4141], [-1.0342, -0.9022, -0.7249]]), DIM_0),
           (torch.tensor([[-0.9258, -1.5276, 1.6202], [5.5549, -0.4629, 15.2760], [-3.7033, -1.7591, 1.3887]]),
            "the mean and variance lost their last dim (no keepdim=True), so they broadcast along the wrong "
            "axis (Part 1, detail 3)"),
           (torch.tensor([[-0.5511, -0.5025, -0.3080], [0.1297, 0.6160, 2.5611], [-0.8429, -0.7456, -0.3566]]),
            "you used one mean and one variance for the whole tensor: every token (row) gets its own "
            "(Part 1, detail 3)")],
       name="layer_norm on three tokens that differ by scale and shift")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch03_layernorm as hidden
hidden.check_layer_norm(layer_norm)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2 · 练习 2: the `LayerNorm` module
#
# **Difficulty:** ●○○ · **Importance:** ●●○ · **Time:** ~10 min
#
# Wrap it as an `nn.Module` with two parameters named exactly like PyTorch's, `weight` (γ, ones) and
# `bias` (β, zeros), so that `load_state_dict` from an `nn.LayerNorm` works. Raise a `ValueError` with
# a clear message, naming both sizes, when the input's last dim is not `d_model`.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# What makes a tensor attribute of a module learnable, so that `.parameters()` and `state_dict()`
# list it? Which values make a new LayerNorm change nothing but the normalisation?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Print `nn.LayerNorm(3).state_dict()`: its keys are the names your attributes need, and its values
# the starting values. In `forward`, everything Exercise 1's function needs is already stored on
# `self`, including the ε this module was built with.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ### 练习 2 · Exercise 2: `LayerNorm` 模块
#
# **难度：** ●○○ · **重要性：** ●●○ · **用时：** 约 10 分钟
#
# 把它封装成一个 `nn.Module`，带有两个与 PyTorch 完全同名的参数：`weight`（γ，全 1）和 `bias`（β，全 0），这样就能通过
# `load_state_dict` 从 `nn.LayerNorm` 载入参数。当输入的最后一维不等于 `d_model` 时，抛出 `ValueError`，
# 并给出清楚的消息，写明两个大小。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 模块的张量属性怎样才是可学习的，从而能被 `.parameters()` 和 `state_dict()` 列出来？取什么值，
# 才能让一个新建的层归一化除了归一化之外什么都不改变？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 打印 `nn.LayerNorm(3).state_dict()`：它的键就是你的属性需要的名字，它的值就是初始值。在 `forward` 中，练习 1
# 的函数所需要的一切都已经存放在 `self` 上了，包括构建这个模块时给定的 ε。
#
# </details>
# </details>

# %% answer="LayerNorm"
class LayerNorm(nn.Module):
    """Layer normalisation with learnable gamma (weight) and beta (bias).

    d_model: int, the size of the last dim; eps: float.
    forward(x): x of shape (..., d_model) -> tensor of the same shape.
    Raises ValueError in forward if x.shape[-1] != d_model.
    """

    def __init__(self, d_model, eps=1e-5):
        super().__init__()
        self.d_model = d_model
        self.eps = eps
        ### BEGIN SOLUTION
        self.weight = nn.Parameter(torch.ones(d_model))
        self.bias = nn.Parameter(torch.zeros(d_model))
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        if x.shape[-1] != self.d_model:
            raise ValueError(f"LayerNorm({self.d_model}) got an input with last dim {x.shape[-1]}")
        return layer_norm(x, self.weight, self.bias, self.eps)
        ### END SOLUTION


# %% answer="LayerNorm" lang="zh"
class LayerNorm(nn.Module):
    """带可学习参数 γ（weight）和 β（bias）的层归一化。

    d_model：int，最后一维的大小；eps：float。
    forward(x)：形状为 (..., d_model) 的 x -> 形状相同的张量。
    若 x.shape[-1] != d_model，forward 抛出 ValueError。
    """

    def __init__(self, d_model, eps=1e-5):
        super().__init__()
        self.d_model = d_model
        self.eps = eps
        ### BEGIN SOLUTION
        self.weight = nn.Parameter(torch.ones(d_model))
        self.bias = nn.Parameter(torch.zeros(d_model))
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        if x.shape[-1] != self.d_model:
            raise ValueError(f"LayerNorm({self.d_model}) got an input with last dim {x.shape[-1]}")
        return layer_norm(x, self.weight, self.bias, self.eps)
        ### END SOLUTION


# %% tests="LayerNorm_tests" points=2
import torch
from torch import nn
from course.checks import call, check, close, equal, raises
from course.checks.ch03_layernorm import expect

ln = call(LayerNorm, 4)
names = sorted(name for name, _ in ln.named_parameters())
check(names == ["bias", "weight"], "LayerNorm(4) has the parameters {names}: γ and β must be nn.Parameter "
      "attributes named weight and bias, as in nn.LayerNorm, so that load_state_dict works (buffers and plain "
      "tensors are not learnable)", names=names)
equal(sum(p.numel() for p in ln.parameters()), 8, name="number of parameters of LayerNorm(4) (2 · d_model)")
check(torch.equal(ln.weight.detach(), torch.ones(4)) and torch.equal(ln.bias.detach(), torch.zeros(4)),
      "at initialisation weight (γ) must be ones and bias (β) zeros, so that a new LayerNorm only normalises")
torch_ln = nn.LayerNorm(4)
with torch.no_grad():
    torch_ln.weight.copy_(torch.tensor([2.0, 0.5, 1.0, -1.0]))
    torch_ln.bias.copy_(torch.tensor([0.1, 0.2, 0.3, 0.4]))
ln.load_state_dict(torch_ln.state_dict())
x = torch.randn(2, 3, 4)
out = call(ln, x)
check(not torch.allclose(out, nn.functional.layer_norm(x, (4,)), atol=1e-4),
      "after load_state_dict the output is still that of γ = 1, β = 0: forward must use self.weight and self.bias")
close(out, torch_ln(x), atol=1e-5, name="LayerNorm(4) with nn.LayerNorm's γ and β loaded, against nn.LayerNorm")
expect(call(call(LayerNorm, 2, eps=3.0), torch.tensor([[1.0, 3.0]])), torch.tensor([[-0.5, 0.5]]), atol=1e-3,
       mistakes=[(torch.tensor([[-1.0, 1.0]]), "LayerNorm(2, eps=3.0) ignored its eps: forward must pass self.eps on "
                  "to layer_norm, not a fixed 1e-5 (and layer_norm must use its eps argument: see its own test)")],
       name="LayerNorm(2, eps=3.0) on [[1, 3]] (1 / sqrt(1 + 3) = 0.5)")
raises(ValueError, ln, torch.randn(2, 5), match=r"(?s)(?=.*4)(?=.*5)",
       name="LayerNorm(4) on an input with last dim 5 (the message names both sizes)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch03_layernorm as hidden
hidden.check_layernorm_module(LayerNorm)
### END HIDDEN TESTS

# %% [markdown]
# ### Look at one token · 看一个词元
# The widget shows one token's 256 features as a histogram, before and after normalisation. Move the
# input's scale and shift: the right-hand histogram does not move. Then move γ and β: they set the
# output's spread and centre. Notice that the *shape* of the histogram never changes: for one token,
# LayerNorm subtracts a number and divides by a number, so it cannot make a skewed distribution
# symmetric.

# %% [markdown] lang="zh"
# ### 看一个词元 · Look at one token
# 这个交互组件用直方图显示一个词元的 256 个特征在归一化前后的分布。调节输入的缩放和平移：右边的直方图纹丝不动。再调节 γ
# 和 β：它们决定了输出的分散程度和中心位置。注意，直方图的*形状*始终不变：对一个词元而言，层归一化只是减去一个数、
# 再除以一个数，所以它无法把一个偏斜的分布变成对称的。

# %%
layernorm_explorer()

# %% [markdown]
# ## Part 2 — Why not BatchNorm? · 为什么不用批归一化
#
# BatchNorm (Ioffe & Szegedy 2015, §3) normalises each **feature** over the **batch** (and, for
# sequences, over every token in it). So a token's output depends on which other tokens share its
# batch, including padding tokens added only to make sequences the same length. LayerNorm uses one
# token's own features only. Three experiments show what that costs.
#
# The first normalises one fixed token inside two batches: batch A with 3 other tokens, batch B with
# 3 different tokens and 4 padding tokens (zeros), and prints the largest change in that token's output.
#
# **Predict · 预测:** will the token's normalised features change between batch A and batch B with
# LayerNorm? With BatchNorm? Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# ## 第 2 部分 为什么不用批归一化 · Part 2 — Why not BatchNorm?
#
# 批归一化（Ioffe & Szegedy 2015，§3）对每个**特征**沿**批量**做归一化（对于序列，则沿其中的每个词元）。因此，
# 一个词元的输出取决于与它同处一个批量的其他词元，包括那些只是为了让序列等长而补上的填充词元。
# 层归一化只用这个词元自己的特征。下面三个实验说明了其中的代价。
#
# 第一个实验把同一个固定的词元放在两个批量中分别做归一化：批量 A 中另有 3 个词元，批量 B 中另有 3 个不同的词元和 4
# 个填充词元（全零），然后打印这个词元输出的最大变化。
#
# **预测 · Predict：** 使用层归一化时，这个词元归一化后的特征在批量 A 和批量 B 之间会变化吗？使用批归一化时呢？
# 先写下你的猜测，再运行下一个单元格。

# %%
with needs("layer_norm"):
    fig, diff = ex.ln_vs_bn(layer_norm)
    ex.show(fig)
    print(f"largest change of the token's output between the batches: LayerNorm {diff['ln_max_diff']:.2e}, "
          f"BatchNorm {diff['bn_max_diff']:.2f}")

# %% lang="zh"
with needs("layer_norm"):
    fig, diff = ex.ln_vs_bn(layer_norm)
    ex.show(fig)
    print(f"这个词元的输出在两个批量之间的最大变化：层归一化 {diff['ln_max_diff']:.2e}，"
          f"批归一化 {diff['bn_max_diff']:.2f}")

# %% [markdown]
# Reading the figure: the LayerNorm bars of the two batches are identical (the printed change is
# zero); the BatchNorm bars are not, and the printed change is of the order of the values
# themselves: the same token gets a different representation because its neighbours in the batch
# changed.
#
# ### BatchNorm sees the future · 批归一化会看到未来
# A language model predicts token t from tokens 0 … t only; chapter 05's causal mask enforces that in
# attention. A normalisation must not undo it. Below, two sequences of 6 tokens are normalised; one
# input token at a time is moved and the change of every output token is measured (a 12 × 12 map:
# row = output token, column = the input token that moved).
#
# **Predict · 预测:** when only the *last* token of the first sequence moves, does the output at
# position 0 move, with LayerNorm? With BatchNorm? And when a token of the *other* sequence moves?
# Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# 读图：两个批量中层归一化的柱子完全相同（打印出的变化为零）；批归一化的柱子则不同，
# 打印出的变化与数值本身是同一个量级：同一个词元仅仅因为批量中的邻居变了，就得到了不同的表示。
#
# ### 批归一化会看到未来 · BatchNorm sees the future
# 语言模型只根据词元 0 … t 来预测词元 t；在注意力中，这由第 05 章的因果掩码来保证。归一化不能破坏这一点。下面对两个各含
# 6 个词元的序列做归一化；每次只改变一个输入词元，测量每个输出词元的变化（得到一张 12 × 12 的图：行是输出词元，
# 列是被改变的输入词元）。
#
# **预测 · Predict：** 只改变第一个序列的*最后*一个词元时，使用层归一化，位置 0 的输出会变吗？使用批归一化呢？
# 改变*另一个*序列中的词元时又如何？先写下你的猜测，再运行下一个单元格。

# %%
with needs("layer_norm"):
    fig, leak = ex.batchnorm_future_leak(layer_norm)
    ex.show(fig)
    print(f"output at position 0 when the last token of its sequence moves: "
          f"LayerNorm {leak['ln_first_from_last']:.2e}, BatchNorm {leak['bn_first_from_last']:.3f}")
    print(f"largest change from a later token of the same sequence: LayerNorm {leak['ln_future']:.2e}, "
          f"BatchNorm {leak['bn_future']:.3f}")
    print(f"largest change from a token of the other sequence:     LayerNorm {leak['ln_other_sequence']:.2e}, "
          f"BatchNorm {leak['bn_other_sequence']:.3f}")
    print(f"(for scale: a token's own change moves its output by {leak['bn_self']:.2f} on average with BatchNorm)")

# %% lang="zh"
with needs("layer_norm"):
    fig, leak = ex.batchnorm_future_leak(layer_norm)
    ex.show(fig)
    print(f"改变所在序列的最后一个词元时，位置 0 的输出变化："
          f"层归一化 {leak['ln_first_from_last']:.2e}，批归一化 {leak['bn_first_from_last']:.3f}")
    print(f"同一序列中后面的词元带来的最大变化：层归一化 {leak['ln_future']:.2e}，"
          f"批归一化 {leak['bn_future']:.3f}")
    print(f"另一个序列中的词元带来的最大变化：  层归一化 {leak['ln_other_sequence']:.2e}，"
          f"批归一化 {leak['bn_other_sequence']:.3f}")
    print(f"（作为参照：使用批归一化时，一个词元自身的变化平均使它的输出改变 {leak['bn_self']:.2f}）")

# %% [markdown]
# Reading the maps: LayerNorm's is diagonal, each output depends on its own token only (the printed
# changes are exactly 0). BatchNorm's is full: every output moves when any token of the batch moves,
# the later tokens of its own sequence (above the diagonal, the future a causal model must not see)
# and the tokens of the other sequence. The printed changes are a fair fraction of a token's own
# effect, not rounding noise.
#
# ### Training mode and eval mode · 训练模式与评估模式
# BatchNorm cannot use batch statistics when it serves one sentence at a time, so it keeps running
# averages of the mean and variance during training and switches to them after `model.eval()`
# (Ioffe & Szegedy 2015, §3.1; PyTorch's `nn.BatchNorm1d` uses an exponential moving average with
# momentum 0.1). Below, 60 training batches update those averages; then one 6-token test sentence is
# normalised in both modes.
#
# **Predict · 预测:** after 60 batches from the same distribution, will the sentence's output be the same
# in training mode and in eval mode? Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# 读图：层归一化的图是对角的，每个输出只依赖于它自己的词元（打印出的变化恰好为 0）。批归一化的图是满的：
# 批量中任何一个词元变化，每个输出都会随之变化，包括它自己序列中后面的词元（对角线以上，即因果模型不能看到的未来），
# 以及另一个序列中的词元。打印出的变化是一个词元对自身影响的相当一部分，而不是舍入噪声。
#
# ### 训练模式与评估模式 · Training mode and eval mode
# 批归一化在一次只处理一个句子时无法使用批量统计量，所以它在训练时维护均值和方差的滑动平均，并在 `model.eval()`
# 之后改用它们（Ioffe & Szegedy 2015，§3.1；PyTorch 的 `nn.BatchNorm1d` 使用动量为 0.1 的指数滑动平均）。下面用 60
# 个训练批量更新这些平均值，然后在两种模式下分别对一个含 6 个词元的测试句子做归一化。
#
# **预测 · Predict：** 用来自同一分布的 60 个批量训练之后，这个句子在训练模式和评估模式下的输出会相同吗？
# 先写下你的猜测，再运行下一个单元格。

# %%
fig, modes = ex.batchnorm_train_eval()
ex.show(fig)
print(f"running-mean error per feature: after 1 batch {modes['first_error']:.3f}, "
      f"after {modes['batches']} batches {modes['final_error']:.3f}")
print(f"largest difference between the two modes on the test sentence: {modes['max_diff']:.3f}")
print(f"one token in training mode: {modes['single_token']}")

# %% lang="zh"
fig, modes = ex.batchnorm_train_eval()
ex.show(fig)
print(f"滑动均值在每个特征上的误差：1 个批量之后 {modes['first_error']:.3f}，"
      f"{modes['batches']} 个批量之后 {modes['final_error']:.3f}")
print(f"两种模式在测试句子上的最大差异：{modes['max_diff']:.3f}")
print(f"训练模式下只有一个词元：{modes['single_token']}")

# %% [markdown]
# Reading it: the running mean settles after a few dozen batches (left), yet the two modes still
# disagree on the test sentence by the printed amount (right): six tokens give a noisy estimate of
# each feature's statistics, the running averages a smooth one. Training and inference therefore
# compute different functions, and a single token cannot be normalised at all in training mode (the
# printed error). LayerNorm has no modes and no running statistics: it does the same thing in
# training, in evaluation, for one token or for a thousand; the Transformer normalises with it
# (Vaswani et al. 2017, §3.1).
#
# ## Part 3 — Post-LN and Pre-LN · 后置与前置层归一化
#
# Every sublayer (attention or feed-forward) sits in a residual block, and a model is a stack of N
# such blocks. Where does the LayerNorm go? The two answers in use, drawn by the next cell:
#
# * **Post-LN** (Vaswani et al. 2017, §3.1; BERT, Devlin et al. 2019): add first, then normalise. Every
#   block's output is normalised, including the residual stream it passes on.
# * **Pre-LN** (GPT-2, Radford et al. 2019, §2.3; earlier in Baevski & Auli 2019, Child et al. 2019 and
#   Wang et al. 2019, whom Xiong et al. 2020, §1, credit for it; Wang et al., §2, compare the two as
#   "pre-norm" and "post-norm"): normalise the sublayer's *input* and leave the residual stream untouched.
#   Because the stream is never normalised inside the blocks, the stack ends with one **final
#   LayerNorm** before the output layer.

# %% [markdown] lang="zh"
# 读图：几十个批量之后，滑动均值就稳定下来了（左图），但两种模式对测试句子的结果仍然相差打印出的那么多（右图）：
# 六个词元对每个特征统计量的估计噪声很大，而滑动平均的估计是平滑的。因此，训练和推理计算的是两个不同的函数；
# 而且在训练模式下，单个词元根本无法归一化（见打印出的错误）。层归一化没有模式之分，也没有滑动统计量：
# 无论训练还是评估，无论一个词元还是一千个词元，它做的都是同一件事；Transformer 用的就是它（Vaswani et al. 2017，
# §3.1）。
#
# ## 第 3 部分 后置与前置层归一化 · Part 3 — Post-LN and Pre-LN
#
# 每个子层（注意力或前馈网络）都位于一个残差块中，而模型就是 N 个这样的块组成的堆栈。层归一化应该放在哪里？
# 目前使用的有两种答案，下一个单元格把它们画了出来：
#
# * **后置层归一化**（Post-LN；Vaswani et al. 2017，§3.1；BERT，Devlin et al. 2019）：先相加，再归一化。
#   每个块的输出都被归一化，包括它向后传递的残差流。
# * **前置层归一化**（Pre-LN；GPT-2，Radford et al. 2019，§2.3；更早见于 Baevski & Auli 2019、Child et al. 2019 和 Wang
#   et al. 2019，Xiong et al. 2020 在 §1 中把它归功于这几篇工作；Wang et al. 在 §2
#   中以“pre-norm”和“post-norm”之名比较了两者）：对子层的*输入*做归一化，残差流本身保持不动。由于流在块内从未被归一化，
#   堆栈最后、输出层之前要加一个**最终层归一化**。

# %%
ex.show(ex.block_diagrams())


# %% [markdown]
# ### Exercise 3 · 练习 3: the `PostLN` and `PreLN` stacks
#
# **Difficulty:** ●●○ · **Importance:** ●●● · **Time:** ~20 min
#
# Build both stacks from the drawings. Each takes `d_model` and a list of sublayer modules (block `i`
# uses `sublayers[i]`; each maps `(batch, seq, d_model)` to the same shape) and creates the
# LayerNorms its arrangement needs with `nn.LayerNorm(d_model)` (PyTorch's, so that this exercise
# does not depend on yours). The tests count your LayerNorms and give each one different γ and β, so
# every block needs its own.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Count the LayerNorm boxes in each drawing for a stack of N blocks. Then: how does a module make
# sure that `.parameters()` finds the sublayers and norms it holds in a list?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# `torch.nn` has a container made for a list of modules. In `forward`, follow one arrow of the drawing
# at a time with a single running tensor, block by block: which boxes does the straight (skip) line
# pass through in each drawing, and which does it go around? What is left to do after the last block
# of the right-hand drawing?
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ### 练习 3 · Exercise 3: `PostLN` 与 `PreLN` 堆栈
#
# **难度：** ●●○ · **重要性：** ●●● · **用时：** 约 20 分钟
#
# 按照示意图构建这两种堆栈。每种堆栈都接收 `d_model` 和一个子层模块的列表（第 `i` 个块使用 `sublayers[i]`；每个子层把
# `(batch, seq, d_model)` 映射为同样的形状），并用 `nn.LayerNorm(d_model)` 创建其排列方式所需的层归一化（用 PyTorch
# 的，这样本练习就不依赖于你自己的实现）。测试会数一数你的层归一化，并给每一个设置不同的 γ 和 β，
# 所以每个块都需要自己的层归一化。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 对于一个 N 块的堆栈，数一数每张图中层归一化方框的个数。然后想一想：一个模块怎样才能保证 `.parameters()`
# 找得到它存放在列表中的子层和归一化层？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# `torch.nn` 中有一个专门用来存放模块列表的容器。在 `forward` 中，用一个不断更新的张量，
# 逐块地每次沿图中的一个箭头前进：在每张图中，那条直线（跳跃连接）穿过了哪些方框，又绕过了哪些？
# 右边那张图在最后一个块之后还要做什么？
#
# </details>
# </details>

# %% answer="PostLN"
class PostLN(nn.Module):
    """A stack of Post-LN residual blocks (Part 3, left-hand drawing).

    d_model: int; sublayers: a list of nn.Module, block i's sublayer, each (batch, seq, d_model) -> same shape.
    forward(x): x of shape (batch, seq, d_model) -> tensor of the same shape, the blocks applied in list order.
    """

    def __init__(self, d_model, sublayers):
        super().__init__()
        ### BEGIN SOLUTION
        self.sublayers = nn.ModuleList(sublayers)
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in sublayers)  # one per block
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        h = x  # (batch, seq, d_model)
        for sublayer, norm in zip(self.sublayers, self.norms):
            h = norm(h + sublayer(h))
        return h
        ### END SOLUTION


class PreLN(nn.Module):
    """A stack of Pre-LN residual blocks ready to feed an output layer (Part 3, right-hand drawing).

    d_model: int; sublayers: a list of nn.Module, block i's sublayer, each (batch, seq, d_model) -> same shape.
    forward(x): x of shape (batch, seq, d_model) -> tensor of the same shape, the blocks applied in list order.
    """

    def __init__(self, d_model, sublayers):
        super().__init__()
        ### BEGIN SOLUTION
        self.sublayers = nn.ModuleList(sublayers)
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in sublayers)  # one per block
        self.final_norm = nn.LayerNorm(d_model)  # the stream is never normalised inside the blocks
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        h = x  # (batch, seq, d_model), the residual stream
        for sublayer, norm in zip(self.sublayers, self.norms):
            h = h + sublayer(norm(h))
        return self.final_norm(h)
        ### END SOLUTION


# %% answer="PostLN" lang="zh"
class PostLN(nn.Module):
    """由 Post-LN 残差块组成的堆栈（第 3 部分，左图）。

    d_model：int；sublayers：nn.Module 的列表，第 i 个是块 i 的子层，每个都把 (batch, seq, d_model) 映射为同样的形状。
    forward(x)：形状为 (batch, seq, d_model) 的 x -> 形状相同的张量，按列表顺序依次经过各个块。
    """

    def __init__(self, d_model, sublayers):
        super().__init__()
        ### BEGIN SOLUTION
        self.sublayers = nn.ModuleList(sublayers)
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in sublayers)  # 每个块一个
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        h = x  # (batch, seq, d_model)
        for sublayer, norm in zip(self.sublayers, self.norms):
            h = norm(h + sublayer(h))
        return h
        ### END SOLUTION


class PreLN(nn.Module):
    """由 Pre-LN 残差块组成的堆栈，其输出可以直接送入输出层（第 3 部分，右图）。

    d_model：int；sublayers：nn.Module 的列表，第 i 个是块 i 的子层，每个都把 (batch, seq, d_model) 映射为同样的形状。
    forward(x)：形状为 (batch, seq, d_model) 的 x -> 形状相同的张量，按列表顺序依次经过各个块。
    """

    def __init__(self, d_model, sublayers):
        super().__init__()
        ### BEGIN SOLUTION
        self.sublayers = nn.ModuleList(sublayers)
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in sublayers)  # 每个块一个
        self.final_norm = nn.LayerNorm(d_model)  # 残差流在块内从未被归一化
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        h = x  # (batch, seq, d_model)，残差流
        for sublayer, norm in zip(self.sublayers, self.norms):
            h = h + sublayer(norm(h))
        return self.final_norm(h)
        ### END SOLUTION


# %% tests="residual_blocks_tests" points=4
import torch
from torch import nn
from course.checks import call, check, msg
from course.checks.ch03_layernorm import Mix, Square, Zeros, expect, normalised_tokens


def n_params(module):
    return sum(p.numel() for p in module.parameters())


# Two parameter-free sublayers, d_model = 4: only the LayerNorms have parameters, 2 · 4 = 8 each.
post, pre = call(PostLN, 4, [Square(), Mix()]), call(PreLN, 4, [Square(), Mix()])
shared = "one LayerNorm is shared by every block: each block needs its own, with its own γ and β"
check(n_params(post) == 16, "PostLN(4, two sublayers) has {n} parameters, expected 16 (two LayerNorms of 8): {why}",
      n=n_params(post), why={8: shared, 24: "a Post-LN stack needs no final LayerNorm, its last block already ends "
                             "in one (Part 3)"}.get(n_params(post), "count the norms in the left-hand drawing"))
check(n_params(pre) == 24, "PreLN(4, two sublayers) has {n} parameters, expected 24 (three LayerNorms of 8): {why}",
      n=n_params(pre), why={8: shared, 16: "one LayerNorm per block is not enough: the residual stream is never "
                            "normalised inside a Pre-LN block, so the stack needs a final LayerNorm (Part 3)"}
      .get(n_params(pre), "count the norms in the right-hand drawing"))
linear = [nn.Linear(4, 4), nn.Linear(4, 4)]  # 20 parameters each
check(n_params(call(PostLN, 4, linear)) == 56 and n_params(call(PreLN, 4, linear)) == 64,
      "with two nn.Linear(4, 4) sublayers the stacks should also hold their 2 × 20 parameters: keep the "
      "sublayers in an nn.ModuleList (a plain Python list is not registered, so an optimiser would not train them)")
# Worked out with nn.LayerNorm (γ = 1, β = 0), blocks in order: Square first, then Mix.
x = torch.tensor([[[-1.0, 2.0, 6.0, 0.0]]])  # (batch=1, seq=1, d_model=4)
POST = torch.tensor([[[-1.6283, 0.4789, 1.0536, 0.0958]]])
PRE = torch.tensor([[[-1.3574, 0.2279, 1.4214, -0.2919]]])
out = call(post, x)
normalised_tokens(out, "a Post-LN stack ends with its last block's LayerNorm, applied after the add (Part 3)",
                  name="PostLN(4, [Square(), Mix()])(x)")
expect(out, POST, atol=1e-3, name="PostLN(4, [Square(), Mix()])(x)", mistakes=[
    (PRE, "that is the Pre-LN arrangement: in Post-LN the norm is applied to the sum x + sublayer(x)"),
    (torch.tensor([[[-0.2634, -0.1870, 1.6026, -1.1521]]]), "the sublayers ran in reverse order: sublayers[0] "
     "belongs to the first block, next to the input"),
    (torch.tensor([[[-1.7236, 0.6861, 0.6192, 0.4184]]]), "the residual path is missing: each block adds its input "
     "to the sublayer's output before normalising")])
out = call(pre, x)
normalised_tokens(out, "a Pre-LN stack's output is that of its final LayerNorm: did you forget it (Part 3)?",
                  name="PreLN(4, [Square(), Mix()])(x)")
expect(out, PRE, atol=1e-3, name="PreLN(4, [Square(), Mix()])(x)", mistakes=[
    (POST, "that is the Post-LN arrangement: in Pre-LN the norm is applied to the sublayer's input only"),
    (torch.tensor([[[-1.2068, 0.2504, 1.4841, -0.5277]]]), "the sublayers ran in reverse order: sublayers[0] "
     "belongs to the first block, next to the input"),
    (torch.tensor([[[-1.6682, 0.4519, 0.9778, 0.2384]]]), "the skip path carried LayerNorm(h) instead of h: in "
     "Pre-LN the residual stream itself is never normalised inside a block"),
    (torch.tensor([[[-1.5940, 0.6046, -0.0550, 1.0443]]]), "the residual path is missing: each block adds its "
     "input to the sublayer's output")])
# Sublayers that output zeros: the stream passes through, normalised: LayerNorm(x).
for cls in (PostLN, PreLN):
    expect(call(call(cls, 4, [Zeros(), Zeros()]), x), torch.tensor([[[-1.0258, 0.0933, 1.5853, -0.6528]]]),
           atol=1e-3, name=msg("{cls}(4, [Zeros(), Zeros()])(x) (sublayers that have learned nothing)",
                               cls=cls.__name__))
    # d_model = 3 this time: the token [1, 2, 6], normalised, is [-0.9258, -0.4629, 1.3887].
    try:
        out = call(call(cls, 3, [Zeros()]), torch.tensor([[[1.0, 2.0, 6.0]]]))
    except AssertionError as err:  # call() turns the error the stack raised into an AssertionError
        check("normalized_shape" not in str(err), "{cls}(3, [Zeros()]) built LayerNorms of another size than "
              "d_model = 3: the d_model argument was ignored; use nn.LayerNorm(d_model)", cls=cls.__name__)
        raise
    expect(out, torch.tensor([[[-0.9258, -0.4629, 1.3887]]]), atol=1e-3, name=f"{cls.__name__}(3, [Zeros()])")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch03_layernorm as hidden
hidden.check_post_ln(PostLN)
hidden.check_pre_ln(PreLN)
### END HIDDEN TESTS

# %% [markdown]
# ### The experiment: train a deep stack both ways · 实验：两种方式训练深层网络
# Xiong et al. (2020, §3.3, Theorem 1) prove a bound on the gradient of the *last* layer's weights at
# initialisation: for Post-LN it does not shrink with the number of layers L, for Pre-LN it shrinks like
# 1/√L. How the gradient norm varies from layer to layer they measure rather than prove (§3.4,
# Figure 3: growing towards the output for Post-LN, about level for Pre-LN). In their experiments Post-LN
# needs the learning rate **warmed up** (raised gradually over the first steps) while Pre-LN trains
# without it (§3.2, §4).
#
# Here we test it on a small task: 5 layers (PyTorch's `nn.TransformerEncoderLayer` with
# `norm_first=False` for Post-LN or `True` for Pre-LN, d_model = 32), where each token must output the
# token before it. Adam with learning rate 0.01, 120 steps, with no warm-up and with a linear warm-up
# over 40 steps. The cell also measures the gradient norm of every layer at initialisation, and what
# one Adam step (learning rate 0.001) does to the weights and to the stack's output. It runs on one
# thread, so the numbers are the same on every machine.
#
# **Predict · 预测:** of the four runs (Post-LN or Pre-LN, with or without warm-up), which will fail to
# learn the task? Write your guess down, then run the next cell (about 20 seconds).

# %% [markdown] lang="zh"
# ### 实验：两种方式训练深层网络 · The experiment: train a deep stack both ways
# Xiong et al.（2020，§3.3，定理 1）证明了初始化时*最后*一层权重梯度的一个界：对于 Post-LN，它不随层数 L 减小；对于
# Pre-LN，它按 1/√L 减小。至于梯度范数在各层之间如何变化，他们是测量的，而不是证明的（§3.4，图 3：Post-LN
# 越靠近输出越大，Pre-LN 大致持平）。在他们的实验中，Post-LN 需要对学习率做**预热**（在最初若干步中逐渐增大），而
# Pre-LN 不预热也能训练（§3.2，§4）。
#
# 这里我们在一个小任务上检验：5 层（PyTorch 的 `nn.TransformerEncoderLayer`，Post-LN 取 `norm_first=False`，Pre-LN 取
# `True`，d_model = 32），每个词元都要输出它前面的那个词元。使用学习率为 0.01 的 Adam 训练 120 步，分别不预热和在 40
# 步内线性预热。这个单元格还测量初始化时每一层的梯度范数，以及 Adam 走一步（学习率 0.001）对权重和堆栈输出的影响。
# 它只用一个线程运行，所以每台机器上的数字都相同。
#
# **预测 · Predict：** 四次运行（Post-LN 或 Pre-LN，预热或不预热）中，哪些学不会这个任务？先写下你的猜测，
# 再运行下一个单元格（大约 20 秒）。

# %%
# while the notebook is autograded, a shorter run: no grade depends on it (course.notebook.grading)
fig, result = ex.pre_vs_post(**({"steps": 40, "warmup": 15} if grading() else {}))
ex.show(fig)
for name, loss in result["final_loss"].items():
    print(f"{name:15s} mean loss of the last {result['tail']} steps: {loss:.4f}   (chance level ln 16 = 2.7726)")
post, pre = result["grad_norms"]["post"], result["grad_norms"]["pre"]
print(f"gradient norm, last / first layer:  Post-LN {post[-1] / post[0]:.2f}   Pre-LN {pre[-1] / pre[0]:.2f}")
step = result["first_step"]
print(f"one Adam step, median |change of a weight| / lr:  Post-LN {step['post']['median_step_over_lr']:.3f}   "
      f"Pre-LN {step['pre']['median_step_over_lr']:.3f}")
print(f"one Adam step, relative change of the stack's output:  Post-LN {step['post']['output_change']:.3f}   "
      f"Pre-LN {step['pre']['output_change']:.3f}")

# %% lang="zh"
# 自动评分时运行一个更短的版本：没有任何分数取决于它（course.notebook.grading）
fig, result = ex.pre_vs_post(**({"steps": 40, "warmup": 15} if grading() else {}))
ex.show(fig)
for name, loss in result["final_loss"].items():
    print(f"{name:15s} 最后 {result['tail']} 步的平均损失：{loss:.4f}   （随机猜测水平 ln 16 = 2.7726）")
post, pre = result["grad_norms"]["post"], result["grad_norms"]["pre"]
print(f"梯度范数，末层 / 首层：  Post-LN {post[-1] / post[0]:.2f}   Pre-LN {pre[-1] / pre[0]:.2f}")
step = result["first_step"]
print(f"Adam 走一步，|权重的变化量| / lr 的中位数：  Post-LN {step['post']['median_step_over_lr']:.3f}   "
      f"Pre-LN {step['pre']['median_step_over_lr']:.3f}")
print(f"Adam 走一步，堆栈输出的相对变化：  Post-LN {step['post']['output_change']:.3f}   "
      f"Pre-LN {step['pre']['output_change']:.3f}")


# %% [markdown]
# Reading the figure, with the printed numbers:
#
# * **Left.** Compare each run's final loss with chance level (2.77, guessing among 16 tokens). A run
#   that stays at chance has failed: it never found the task. A run that ends near zero solved it.
#   In our run, Post-LN without warm-up stayed at chance and the other three solved the task (read
#   your printed numbers rather than trusting this sentence; `ex.pre_vs_post(lr=3e-3)` changes the
#   details).
# * **Right.** For Post-LN the gradient norm grows towards the output layers (the printed last/first
#   ratio is above 1); for Pre-LN it is nearly flat: the same profile as Xiong et al.'s measurements
#   (§3.4, Figure 3), here on a 5-layer stack.
#
# Why would large gradients near the output need warm-up? With plain SGD a weight moves by lr times
# its gradient, so the layers with the largest gradients take the largest steps: that is Xiong et
# al.'s argument. **Adam is different.** It divides each gradient by the root of its running mean
# square (Kingma & Ba 2015, Algorithm 1), so its first step is lr · g / |g| = ±lr for every weight,
# whatever the size of g: the printed median |change| / lr is 1.000 for both stacks. The gradient's
# scale alone does not explain why Adam needs warm-up. Two explanations that do apply to Adam:
#
# 1. **The early second-moment estimate is noisy.** In the first steps Adam's running mean square
#    averages only a few squared gradients, so the adaptive step size has a large variance; warm-up
#    keeps the steps small until the estimate settles (Liu et al. 2020a, §3; their RAdam corrects for
#    it instead).
# 2. **Post-LN amplifies updates.** Each Post-LN block depends more heavily on its residual branch, so
#    the same small change to every weight moves the output of the stack much more than in Pre-LN
#    (Liu et al. 2020b, §4). The last printed line measures it here: after the same Adam step the
#    Post-LN stack's output changes by more than the Pre-LN stack's (about twice as much in our run).
#
# Warm-up keeps those first updates small in both stories, and Pre-LN makes them less harmful.
#
# ## Part 4 — RMSNorm · 均方根归一化
#
# RMSNorm (Zhang & Sennrich 2019) keeps LayerNorm's rescaling and drops its re-centring: no mean is
# subtracted and there is no β. Each token is divided by its **root mean square** (the square root of
# the mean of its squared features, with ε added under the root as in LayerNorm; PyTorch's
# `nn.RMSNorm` does the same), then scaled by γ. Zhang & Sennrich report that it trains as well as
# LayerNorm at a lower cost, and LLaMA uses it in every block (Touvron et al. 2023, §2.2).
#
# ### Exercise 4 · 练习 4: `rms_norm`, and LayerNorm from it
#
# **Difficulty:** ●●○ · **Importance:** ●●○ · **Time:** ~15 min
#
# Write `rms_norm`. Then show that LayerNorm is RMSNorm applied after centring: write
# `layer_norm_from_rms`, which must compute exactly `layer_norm` (same ε), calling the `rms_norm` it
# is given exactly once and doing nothing else than what that call does not.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# For `rms_norm`: one statistic over the last dim, kept for broadcasting; where does ε go? For the
# second function: what is the root mean square of a token whose mean has been subtracted? Compare it
# with the biased standard deviation of Part 1.
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Compute both for the token `[1, 3]` after centring it. Then list what LayerNorm does (Part 1) and
# cross out what one call of RMSNorm already does for you; check that every argument you were given,
# ε included, reaches the place that needs it.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# 结合打印出的数字来读图：
#
# * **左图。** 把每次运行的最终损失与随机猜测水平（2.77，在 16 个词元中随机猜）相比较。
#   停留在随机猜测水平的运行就是失败了：它始终没有找到这个任务的规律。最终接近零的运行则解决了它。在我们的运行中，
#   不预热的 Post-LN 停留在随机猜测水平，其余三次都解决了任务（请以你打印出的数字为准，不要轻信这句话；
#   `ex.pre_vs_post(lr=3e-3)` 会改变其中的细节）。
# * **右图。** 对于 Post-LN，梯度范数越靠近输出层越大（打印出的末层/首层之比大于 1）；对于 Pre-LN，它几乎是平的：与
#   Xiong et al. 的测量结果（§3.4，图 3）形态相同，这里是在一个 5 层的堆栈上。
#
# 为什么输出附近的大梯度会需要预热？使用普通的 SGD 时，权重的移动量是学习率乘以梯度，所以梯度最大的层步子也最大：这就是
# Xiong et al. 的论证。**Adam 则不同。** 它把每个梯度除以其滑动均方值的平方根（Kingma & Ba 2015，算法 1），所以无论 g
# 有多大，它的第一步对每个权重都是 lr · g / |g| = ±lr：打印出的 |变化量| / lr 的中位数对两种堆栈都是 1.000。
# 单凭梯度的尺度，解释不了 Adam 为什么需要预热。下面两种解释对 Adam 确实适用：
#
# 1. **早期的二阶矩估计噪声很大。** 在最初几步中，Adam 的滑动均方值只平均了少数几个梯度的平方，
#    所以自适应步长的方差很大；预热让步子保持很小，直到估计稳定下来（Liu et al. 2020a，§3；他们提出的 RAdam
#    则直接对此进行校正）。
# 2. **Post-LN 会放大更新。** 每个 Post-LN 块更依赖于它的残差分支，所以对每个权重做同样微小的改变，堆栈输出的变化要比
#    Pre-LN 大得多（Liu et al. 2020b，§4）。打印的最后一行在这里测量了这一点：在同样一步 Adam 更新之后，Post-LN
#    堆栈输出的变化比 Pre-LN 堆栈的大（在我们的运行中大约是两倍）。
#
# 在这两种解释中，预热都让最初的更新保持很小，而 Pre-LN 让这些更新的危害更小。
#
# ## 第 4 部分 均方根归一化 · Part 4 — RMSNorm
#
# 均方根归一化（RMSNorm；Zhang & Sennrich 2019）保留了层归一化的重新缩放，去掉了重新居中：不减去均值，也没有 β。
# 每个词元除以它的**均方根**（即各特征平方均值的平方根，与层归一化一样在根号下加上 ε；PyTorch 的 `nn.RMSNorm`
# 也是这样做的），再乘以 γ。Zhang & Sennrich 报告说，它训练效果与层归一化相当，而计算开销更低；LLaMA
# 在每个块中都使用它（Touvron et al. 2023，§2.2）。
#
# ### 练习 4 · Exercise 4: `rms_norm`，以及用它实现层归一化
#
# **难度：** ●●○ · **重要性：** ●●○ · **用时：** 约 15 分钟
#
# 编写 `rms_norm`。然后说明层归一化就是先居中、再做均方根归一化：编写 `layer_norm_from_rms`，它必须与 `layer_norm`
# 的计算结果完全相同（ε 也相同），对传入的 `rms_norm` 恰好调用一次，并且只做那次调用没有做的事。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 对于 `rms_norm`：沿最后一维计算一个统计量，保留维度以便广播；ε 放在哪里？对于第二个函数：一个已经减去均值的词元，
# 它的均方根是多少？把它与第 1 部分的有偏标准差比较一下。
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 把词元 `[1, 3]` 居中之后，分别计算两者。然后列出层归一化要做的事（第 1 部分），
# 划掉一次均方根归一化调用已经替你做了的；再检查你拿到的每个参数（包括 ε）都送到了需要它的地方。
#
# </details>
# </details>

# %% answer="rms_norm"
def rms_norm(x, weight, eps=1e-6):
    """RMS normalisation over the last dim (Part 4): no centring, no bias.

    x: float tensor of shape (..., d_model); weight: gamma, shape (d_model,); eps: float, the guard.
    Returns a tensor of the same shape as x: each token divided by its root mean square, then scaled by weight.
    """
    ### BEGIN SOLUTION
    rms = torch.sqrt((x ** 2).mean(dim=-1, keepdim=True) + eps)  # (..., 1)
    return x / rms * weight
    ### END SOLUTION


def layer_norm_from_rms(x, weight, bias, eps, rms_norm):
    """layer_norm(x, weight, bias, eps), computed with exactly one call of the given rms_norm.

    x: (..., d_model); weight, bias: (d_model,); eps: float; rms_norm: a function like yours above.
    Returns a tensor of the same shape as x.
    """
    ### BEGIN SOLUTION
    centred = x - x.mean(dim=-1, keepdim=True)  # (..., d_model), mean 0: its RMS is the biased std
    return rms_norm(centred, weight, eps) + bias
    ### END SOLUTION


# %% answer="rms_norm" lang="zh"
def rms_norm(x, weight, eps=1e-6):
    """沿最后一维做均方根归一化（第 4 部分）：不居中，没有 bias。

    x：形状为 (..., d_model) 的浮点张量；weight：γ，形状为 (d_model,)；eps：float，保护项。
    返回与 x 形状相同的张量：每个词元除以它的均方根，再乘以 weight 缩放。
    """
    ### BEGIN SOLUTION
    rms = torch.sqrt((x ** 2).mean(dim=-1, keepdim=True) + eps)  # (..., 1)
    return x / rms * weight
    ### END SOLUTION


def layer_norm_from_rms(x, weight, bias, eps, rms_norm):
    """计算 layer_norm(x, weight, bias, eps)，其中对传入的 rms_norm 恰好调用一次。

    x：(..., d_model)；weight、bias：(d_model,)；eps：float；rms_norm：一个与你上面写的函数同样用法的函数。
    返回与 x 形状相同的张量。
    """
    ### BEGIN SOLUTION
    centred = x - x.mean(dim=-1, keepdim=True)  # (..., d_model)，均值为 0：它的均方根就是有偏标准差
    return rms_norm(centred, weight, eps) + bias
    ### END SOLUTION


# %% tests="rms_norm_tests" points=2
import torch
from course.checks import call, check
from course.checks.ch03_layernorm import expect

RMS_DIM_0 = "you averaged over the tokens (dim 0): each token is normalised over its own features, the last dim"
ones = torch.ones(2)
# [3, 4]: mean of squares 12.5, rms 3.5355; the mean (3.5) is NOT subtracted.
expect(call(rms_norm, torch.tensor([[3.0, 4.0]]), ones), torch.tensor([[0.8485, 1.1314]]), atol=1e-3,
       name="rms_norm([[3, 4]])", mistakes=[
           (torch.tensor([[-1.0, 1.0]]), "you subtracted the mean: that is LayerNorm; RMSNorm does not centre "
            "(Part 4)"),
           (torch.tensor([[0.6, 0.8]]), "you divided by the root of the SUM of the squares (the length of the "
            "vector): RMSNorm uses their MEAN (Part 4)"),
           (torch.tensor([[0.8571, 1.1429]]), "you divided by the mean absolute value: RMSNorm uses the root of "
            "the mean square (Part 4)"),
           (torch.tensor([[1.0, 1.0]]), RMS_DIM_0)])
expect(call(rms_norm, torch.tensor([[3.0, 4.0]]), torch.tensor([2.0, 0.5])), torch.tensor([[1.6971, 0.5657]]),
       atol=1e-3, name="rms_norm([[3, 4]]) with weight [2, 0.5]",
       mistakes=[(torch.tensor([[0.8485, 1.1314]]), "weight (γ) was not applied")])
# [0.001, 0.001]: mean square 1e-6, as large as eps = 1e-6: 0.001 / sqrt(2e-6) = 0.7071.
expect(call(rms_norm, torch.tensor([[1e-3, 1e-3]]), ones, eps=1e-6), torch.tensor([[0.7071, 0.7071]]), atol=1e-4,
       name="rms_norm([[0.001, 0.001]], eps=1e-6)", mistakes=[
           (torch.tensor([[0.999, 0.999]]), "you added eps outside the square root: it goes under the root, with "
            "the mean square (Part 4)"),
           (torch.tensor([[1.0, 1.0]]), "eps had no effect: with a mean square this small it must (Part 4)")])
expect(call(rms_norm, torch.tensor([[0.1, 0.1]]), ones, eps=1e-2), torch.tensor([[0.7071, 0.7071]]), atol=1e-3,
       name="rms_norm([[0.1, 0.1]], eps=1e-2)",
       mistakes=[(torch.tensor([[1.0, 1.0]]), "the eps argument was ignored (a fixed 1e-6?)")])
# Two tokens, the second twice the first: same output.
expect(call(rms_norm, torch.tensor([[3.0, 4.0], [6.0, 8.0]]), ones), torch.tensor([[0.8485, 1.1314]] * 2),
       atol=1e-3, name="rms_norm on two tokens", mistakes=[
           (torch.tensor([[0.6325, 0.6325], [1.2649, 1.2649]]), RMS_DIM_0),
           (torch.tensor([[0.8485, 0.5657], [1.6971, 1.1314]]), "the mean square lost its last dim (no "
            "keepdim=True), so it broadcast along the wrong axis")])

calls = []


def recording_rms_norm(x, weight, eps=1e-6):  # your rms_norm, counting its calls
    calls.append(x.detach().clone())
    return rms_norm(x, weight, eps)


out = call(layer_norm_from_rms, torch.tensor([[1.0, 3.0]]), torch.tensor([2.0, 3.0]), torch.tensor([0.5, -1.0]),
           1e-5, recording_rms_norm)
check(len(calls) == 1, "layer_norm_from_rms called rms_norm {n} times: call it exactly once", n=len(calls))
check(bool(calls[0].mean(-1).abs().max() < 1e-6), "the tokens passed to rms_norm were not centred: subtract each "
      "token's mean over its own features first")
expect(out, torch.tensor([[-1.5, 2.0]]), atol=1e-3, name="layer_norm_from_rms with gamma [2, 3] and beta [0.5, -1]",
       mistakes=[(torch.tensor([[-2.0, 3.0]]), "bias (β) was not added: RMSNorm has none, so you add it")])
expect(call(layer_norm_from_rms, torch.tensor([[0.0, 0.002]]), ones, torch.zeros(2), 1e-5, rms_norm),
       torch.tensor([[-0.3015, 0.3015]]), atol=1e-3, name="layer_norm_from_rms([[0, 0.002]]) with eps = 1e-5",
       mistakes=[(torch.tensor([[-0.7071, 0.7071]]), "rms_norm used its own default eps (1e-6) instead of the eps "
                  "argument: pass eps on")])
expect(call(layer_norm_from_rms, torch.tensor([[1.0, 3.0]]), ones, torch.zeros(2), 3.0, rms_norm),
       torch.tensor([[-0.5, 0.5]]), atol=1e-3, name="layer_norm_from_rms([[1, 3]]) with eps = 3 (1 / sqrt(1 + 3))",
       mistakes=[(torch.tensor([[-1.0, 1.0]]), "the eps argument was ignored (a fixed eps, or rms_norm's own default): "
                  "pass the eps you are given on to rms_norm")])
### BEGIN HIDDEN TESTS
from course_grader.checks import ch03_layernorm as hidden
hidden.check_rms_norm(rms_norm)
hidden.check_layer_norm_from_rms(layer_norm_from_rms)
### END HIDDEN TESTS

# %% [markdown]
# ## Summary · 小结
#
# * LayerNorm normalises each token over its own features: biased variance, ε inside the square root,
#   then γ and β (2·d parameters, initialised to ones and zeros).
# * BatchNorm's statistics depend on the other tokens of the batch (padding, later tokens, other
#   sequences) and differ between training and eval mode; LayerNorm's do not.
# * Post-LN normalises after each residual add; Pre-LN normalises each sublayer's input and needs a
#   final LayerNorm. Post-LN's gradients grow towards the output, and with Adam its stronger
#   dependence on the residual branches makes the first updates more harmful; warm-up fixes it.
# * Pre-LN trained without warm-up in Xiong et al.'s experiments and in ours, but large Pre-LN models
#   still warm up (GPT-3, Brown et al. 2020, App. B; LLaMA, Touvron et al. 2023, §2.3: 2,000 steps),
#   and a Post-LN model that does train often ends better than its Pre-LN twin (Liu et al. 2020b;
#   Takase et al. 2023).
# * RMSNorm keeps only the scaling; LayerNorm is RMSNorm of the centred token, plus β.
#
# **Next:** dropout and the residual connections these blocks are built on.

# %% [markdown] lang="zh"
# ## 小结 · Summary
#
# * 层归一化沿每个词元自己的特征做归一化：有偏方差，ε 在平方根之内，然后乘以 γ、加上 β（2·d 个参数，分别初始化为全 1
#   和全 0）。
# * 批归一化的统计量取决于批量中的其他词元（填充词元、后面的词元、其他序列），并且在训练模式和评估模式下不同；
#   层归一化则不然。
# * 后置层归一化在每次残差相加之后做归一化；前置层归一化对每个子层的输入做归一化，并需要一个最终层归一化。Post-LN
#   的梯度越靠近输出越大；使用 Adam 时，它对残差分支更强的依赖使最初的更新危害更大；预热可以解决这个问题。
# * 在 Xiong et al. 的实验和我们的实验中，Pre-LN 不预热也能训练，但大型的 Pre-LN 模型仍然会预热（GPT-3，Brown et al.
#   2020，附录 B；LLaMA，Touvron et al. 2023，§2.3：2,000 步）；而一个能够训练成功的 Post-LN 模型，
#   最终效果往往优于对应的 Pre-LN 模型（Liu et al. 2020b；Takase et al. 2023）。
# * 均方根归一化只保留缩放；层归一化就是对居中后的词元做均方根归一化，再加上 β。
#
# **下一章：** dropout，以及这些块赖以构建的残差连接。

# %%
glossary.show("03-layernorm")

# %% [markdown]
# ## References · 参考文献
#
# 1. Ba, J. L., Kiros, J. R., Hinton, G. E. (2016). Layer Normalization. arXiv:1607.06450. §3, eq. 3.
# 2. Ioffe, S., Szegedy, C. (2015). Batch Normalization: Accelerating Deep Network Training by Reducing
#    Internal Covariate Shift. ICML 2015, arXiv:1502.03167. §3 (normalising over the mini-batch), §3.1
#    (population statistics at inference).
# 3. Vaswani, A. et al. (2017). Attention Is All You Need. NeurIPS 2017, arXiv:1706.03762. §3.1
#    (LayerNorm(x + Sublayer(x))).
# 4. Devlin, J. et al. (2019). BERT: Pre-training of Deep Bidirectional Transformers for Language
#    Understanding. NAACL 2019, arXiv:1810.04805. §3 (the original Transformer encoder).
# 5. Radford, A. et al. (2019). Language Models are Unsupervised Multitask Learners. OpenAI technical
#    report. §2.3 (LayerNorm moved to the input of each sub-block, a final LayerNorm added).
# 6. Xiong, R. et al. (2020). On Layer Normalization in the Transformer Architecture. ICML 2020,
#    arXiv:2002.04745. §1 (Pre-LN credited to Baevski & Auli, Child et al. and Wang et al.), §3.2
#    (warm-up), §3.3 and Theorem 1 (the gradient of the last layer at initialisation), §3.4 and Figure 3
#    (gradient norm per layer, measured), §4 (Pre-LN without warm-up).
# 7. Kingma, D. P., Ba, J. (2015). Adam: A Method for Stochastic Optimization. ICLR 2015,
#    arXiv:1412.6980. Algorithm 1.
# 8. Liu, L. et al. (2020a). On the Variance of the Adaptive Learning Rate and Beyond (RAdam). ICLR 2020,
#    arXiv:1908.03265. §3.
# 9. Liu, L. et al. (2020b). Understanding the Difficulty of Training Transformers. EMNLP 2020,
#    arXiv:2004.08249. §3 (unbalanced gradients are not the root cause), §4 (amplification through the
#    dependency on the residual branch; a light dependency gives worse trained models).
# 10. Takase, S. et al. (2023). B2T Connection: Serving Stability and Performance in Deep Transformers.
#     Findings of ACL 2023, arXiv:2206.00330. §1 (Post-LN better than Pre-LN in shallow models).
# 11. Brown, T. B. et al. (2020). Language Models are Few-Shot Learners. NeurIPS 2020, arXiv:2005.14165.
#     App. B (linear learning-rate warm-up).
# 12. Touvron, H. et al. (2023). LLaMA: Open and Efficient Foundation Language Models. arXiv:2302.13971.
#     §2.2 (pre-normalisation with RMSNorm), §2.3 (2,000 warm-up steps).
# 13. Zhang, B., Sennrich, R. (2019). Root Mean Square Layer Normalization. NeurIPS 2019,
#     arXiv:1910.07467. §3–4.
# 14. Baevski, A., Auli, M. (2019). Adaptive Input Representations for Neural Language Modeling. ICLR
#     2019, arXiv:1809.10853. The model description (layer normalisation before each block).
# 15. Child, R., Gray, S., Radford, A., Sutskever, I. (2019). Generating Long Sequences with Sparse
#     Transformers. arXiv:1904.10509. §5.2 (the normalisation moved to the input of each residual block).
# 16. Wang, Q. et al. (2019). Learning Deep Transformer Models for Machine Translation. ACL 2019,
#     arXiv:1906.01787. §2 (pre-norm and post-norm).
# 17. PyTorch 2.13 documentation: `torch.nn.LayerNorm` (biased variance, ε), `torch.var` (`correction`),
#     `torch.nn.BatchNorm1d` (running statistics, momentum 0.1), `torch.nn.RMSNorm`.

# %% [markdown] lang="zh"
# ## 参考文献 · References
#
# 1. Ba, J. L., Kiros, J. R., Hinton, G. E. (2016). Layer Normalization. arXiv:1607.06450. §3，式 3。
# 2. Ioffe, S., Szegedy, C. (2015). Batch Normalization: Accelerating Deep Network Training by Reducing Internal
#    Covariate Shift. ICML 2015, arXiv:1502.03167. §3（沿小批量归一化），§3.1（推理时使用总体统计量）。
# 3. Vaswani, A. et al. (2017). Attention Is All You Need. NeurIPS 2017, arXiv:1706.03762. §3.1（LayerNorm(x +
#    Sublayer(x))）。
# 4. Devlin, J. et al. (2019). BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding. NAACL
#    2019, arXiv:1810.04805. §3（原始的 Transformer 编码器）。
# 5. Radford, A. et al. (2019). Language Models are Unsupervised Multitask Learners. OpenAI technical report.
#    §2.3（层归一化移到每个子块的输入处，并增加一个最终层归一化）。
# 6. Xiong, R. et al. (2020). On Layer Normalization in the Transformer Architecture. ICML 2020, arXiv:2002.04745.
#    §1（Pre-LN 归功于 Baevski & Auli、Child et al. 和 Wang et al.），§3.2（预热），§3.3 和定理
#    1（初始化时最后一层的梯度），§3.4 和图 3（实测的每层梯度范数），§4（不预热的 Pre-LN）。
# 7. Kingma, D. P., Ba, J. (2015). Adam: A Method for Stochastic Optimization. ICLR 2015, arXiv:1412.6980. 算法 1。
# 8. Liu, L. et al. (2020a). On the Variance of the Adaptive Learning Rate and Beyond (RAdam). ICLR 2020,
#    arXiv:1908.03265. §3。
# 9. Liu, L. et al. (2020b). Understanding the Difficulty of Training Transformers. EMNLP 2020, arXiv:2004.08249.
#    §3（梯度不平衡并非根本原因），§4（通过对残差分支的依赖而放大；依赖较轻则训练出的模型更差）。
# 10. Takase, S. et al. (2023). B2T Connection: Serving Stability and Performance in Deep Transformers. Findings of ACL
#     2023, arXiv:2206.00330. §1（浅层模型中 Post-LN 优于 Pre-LN）。
# 11. Brown, T. B. et al. (2020). Language Models are Few-Shot Learners. NeurIPS 2020, arXiv:2005.14165. 附录
#     B（学习率线性预热）。
# 12. Touvron, H. et al. (2023). LLaMA: Open and Efficient Foundation Language Models. arXiv:2302.13971. §2.2（使用
#     RMSNorm 的前置归一化），§2.3（2,000 步预热）。
# 13. Zhang, B., Sennrich, R. (2019). Root Mean Square Layer Normalization. NeurIPS 2019, arXiv:1910.07467. §3–4。
# 14. Baevski, A., Auli, M. (2019). Adaptive Input Representations for Neural Language Modeling. ICLR 2019,
#     arXiv:1809.10853. 模型描述（每个块之前做层归一化）。
# 15. Child, R., Gray, S., Radford, A., Sutskever, I. (2019). Generating Long Sequences with Sparse Transformers.
#     arXiv:1904.10509. §5.2（归一化移到每个残差块的输入处）。
# 16. Wang, Q. et al. (2019). Learning Deep Transformer Models for Machine Translation. ACL 2019, arXiv:1906.01787.
#     §2（pre-norm 与 post-norm）。
# 17. PyTorch 2.13 文档：`torch.nn.LayerNorm`（有偏方差，ε），`torch.var`（`correction`），
#     `torch.nn.BatchNorm1d`（滑动统计量，动量 0.1），`torch.nn.RMSNorm`。
