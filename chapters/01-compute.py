# %% [markdown]
# # Compute: units and counting · 算力的统计与单位
#
# Every claim about a model's cost ("GPT-3 took 3,640 PF-days", "PaLM trained at 46.2% MFU") is a
# count of arithmetic divided by a rate of arithmetic. This chapter makes you fluent in both:
#
# * **FLOP** (浮点运算) is one floating-point add or multiply, a *count*; **FLOP/s** is a *rate*.
#   A model needs FLOPs; a chip delivers FLOP/s; time = FLOPs ÷ (FLOP/s).
# * You will count the FLOPs of a matmul and of a whole Transformer, from its architecture alone, and
#   check every count against PyTorch's own FLOP counter,
# * time real matmuls on this machine with a harness you write (warm-up, median, GPU
#   synchronisation),
# * and place the result on a **roofline** (屋顶线模型), the picture that says whether an operation is
#   limited by arithmetic or by memory.

# %% [markdown] lang="zh"
# # 算力的统计与单位 · Compute: units and counting
#
# 关于模型开销的每一个说法（“GPT-3 的训练用了 3,640 PF-天”“PaLM 训练时的 MFU 为 46.2%”），
# 都是用一个运算次数除以一个运算速率。本章的目标是让读者熟练掌握这两者：
#
# * **FLOP**（浮点运算）指一次浮点加法或乘法，是一个*次数*；**FLOP/s** 则是*速率*。模型需要的是 FLOP，芯片提供的是
#   FLOP/s；时间 = FLOP ÷ (FLOP/s)。
# * 我们只根据结构来统计一次矩阵乘法乃至整个 Transformer 的 FLOP，并用 PyTorch 自带的 FLOP 计数器逐一核对；
# * 用自己编写的计时工具（预热、取中位数、GPU 同步）在这台机器上测量真实的矩阵乘法；
# * 最后把结果画到**屋顶线模型**（roofline）上：它告诉我们一个运算受限于计算还是受限于内存。

# %% [markdown]
# ## Before you start · 开始之前
#
# **You will build:**
# * `matmul_flops`: the FLOPs of a (batched) matrix product, from the two operands' shapes;
# * `layer_params`: the number of parameters of one encoder layer;
# * `encoder_flops`: the forward FLOPs of a whole encoder language model, part by part, from its
#   architecture, matched against `FlopCounterMode`;
# * `training_flops`: the same for a training step (forward and backward);
# * `measure_seconds`: a timing harness with warm-up, median and GPU synchronisation;
# * `mfu` and `days_to_train`: utilisation, and how long a training run takes;
# * `roofline_point`: a matmul's arithmetic intensity and what limits it.
#
# **Prerequisites:** Python, and matrix multiplication (an output entry is a row times a column). This is
# the first chapter: no earlier one is needed. LayerNorm (chapter 03) and attention (chapter 05) appear
# here only as boxes whose matmuls we count; what they compute comes later.
#
# **Time:** about 110 minutes (reading 35, exercises 60, experiments 15).

# %% [markdown] lang="zh"
# ## 开始之前 · Before you start
#
# **本章要实现：**
# * `matmul_flops`：根据两个操作数的形状，计算（批量）矩阵乘法的 FLOP；
# * `layer_params`：一个编码器层的参数数量；
# * `encoder_flops`：只根据结构，分部分统计整个编码器语言模型前向传播的 FLOP，并与 `FlopCounterMode` 对照；
# * `training_flops`：训练一步（前向加反向）的 FLOP；
# * `measure_seconds`：带预热、中位数和 GPU 同步的计时工具；
# * `mfu` 与 `days_to_train`：算力利用率，以及一次训练需要多少天；
# * `roofline_point`：一次矩阵乘法的算术强度，以及限制它的是哪一个上限。
#
# **预备知识：** Python 和矩阵乘法（输出的一个元素是一行乘一列）。这是第一章，不依赖前面的章节。层归一化（第 03 章）
# 和注意力机制（第 05 章）在这里只是一些方框，我们只统计其中的矩阵乘法；它们具体算什么，留到后面再讲。
#
# **用时：** 约 110 分钟（阅读 35 分钟，练习 60 分钟，实验 15 分钟）。

# %% [markdown]
# Run the set-up cell first: it imports PyTorch and this chapter's helpers and fixes the seed.

# %% [markdown] lang="zh"
# 先运行下面的初始化单元格：它导入 PyTorch 和本章用到的辅助函数，并固定随机种子。

# %%
import time

import torch

from course import benchmarking, glossary, hardware
from course.experiments import ch01_compute as ex
from course.notebook import setup, needs
from course.widgets.ch01_compute import roofline

setup()

# %% [markdown]
# ## Part 1 — Units · 单位
#
# Prefixes are powers of **ten** (SI), not of two: kilo 10³, mega 10⁶, giga 10⁹, tera 10¹², peta 10¹⁵,
# exa 10¹⁸. A GPU "with 989 TFLOP/s" (the H100 SXM in bf16, dense, from NVIDIA's datasheet [8]) can do
# at most 9.89·10¹⁴ floating-point operations per second.
#
# Training budgets are often quoted in **PF-days** (PF-天): the work a machine sustaining 1 PFLOP/s
# (10¹⁵ FLOP/s) does in one day of 86,400 seconds. Note the mix: "PF" names a rate, "PF-day" a rate
# times a time, so a *count*. GPT-3 took about 3.14·10²³ FLOPs to train (Brown et al. 2020, Table D.1).
#
# **Predict · 预测:** how many PF-days is that: tens, thousands or millions? Write your guess down, then
# run the next cell.

# %% [markdown] lang="zh"
# ## 第 1 部分 单位 · Part 1 — Units
#
# 单位前缀是 **10** 的幂（国际单位制），而不是 2 的幂：千（kilo）10³、兆（mega）10⁶、吉（giga）10⁹、太（tera）10¹²、
# 拍（peta）10¹⁵、艾（exa）10¹⁸。一块“989 TFLOP/s”的 GPU（H100 SXM，bf16，稠密运算，数据取自 NVIDIA 的规格书 [8]）
# 每秒最多能做 9.89·10¹⁴ 次浮点运算。
#
# 训练预算常用 **PF-天**（PF-day）来表示：一台机器以 1 PFLOP/s（10¹⁵ FLOP/s）的速率持续运行一天（86,400 秒）
# 所完成的运算量。注意这里的区别：“PF”是速率，“PF-天”是速率乘以时间，因此是一个*次数*。GPT-3 的训练大约用了 3.14·10²³
# 次浮点运算（Brown et al. 2020，表 D.1）。
#
# **预测 · Predict：** 这相当于多少 PF-天：几十、几千，还是几百万？先写下你的猜测，再运行下一个单元格。

# %%
pf_day = 1e15 * 24 * 60 * 60      # FLOP/s times seconds: a count of FLOPs
print(f"one PF-day = {pf_day:.3e} FLOPs")
print(f"GPT-3: 3.14e23 FLOPs = {3.14e23 / pf_day:,.0f} PF-days")

# %% lang="zh"
pf_day = 1e15 * 24 * 60 * 60      # FLOP/s 乘以秒数：得到的是 FLOP 的次数
print(f"1 PF-天 = {pf_day:.3e} FLOP")
print(f"GPT-3：3.14e23 FLOP = {3.14e23 / pf_day:,.0f} PF-天")

# %% [markdown]
# A PF-day is 8.64·10¹⁹ FLOPs, and GPT-3's count is about 3.63 thousand of them: the paper's table lists
# 3.64·10³ PF-days next to 3.14·10²³ FLOPs, the difference being the rounding of the FLOP count.
#
# ## Part 2 — Counting a matmul · 矩阵乘法的计算量
#
# Multiplying an `(m, k)` matrix by a `(k, n)` matrix produces `m·n` outputs, and each output is a dot
# product of length `k`: `k` multiplications, and `k − 1` additions to sum the products. Written out
# exactly that is `2k − 1` operations per output.
#
# That is not how FLOPs are counted. Hardware computes a dot product as `k` **fused multiply-adds**
# (FMA, 乘加融合: `acc ← acc + a·b` in one instruction, starting from `acc = 0`), and datasheets count one
# FMA as **2 FLOPs**, as do papers (Kaplan et al. 2020, §2.1) and PyTorch's counter. So the convention is
# *two FLOPs per multiply-add*: one less add than the exact count per output, which vanishes next to `2k`
# as `k` grows, and makes the numbers of datasheets, papers and counters comparable.
#
# PyTorch can count for you: `torch.utils.flop_counter.FlopCounterMode` records the matmuls a piece of
# code runs; `ex.counted_flops(fn)` wraps it.
#
# **Predict · 预测:** for a `(64, 32)` by `(32, 16)` product, which of the three counts printed below
# will FlopCounterMode report? Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# 一个 PF-天是 8.64·10¹⁹ 次浮点运算，GPT-3 的运算量大约是它的 3,630 倍：论文的表格在 3.14·10²³ FLOP 旁边写的是 3.64·10³
# PF-天，差别来自 FLOP 数的舍入。
#
# ## 第 2 部分 矩阵乘法的计算量 · Part 2 — Counting a matmul
#
# 一个 `(m, k)` 矩阵乘以一个 `(k, n)` 矩阵，得到 `m·n` 个输出，每个输出是长度为 `k` 的点积：`k` 次乘法，
# 再加上把乘积求和的 `k − 1` 次加法。严格地数，每个输出需要 `2k − 1` 次运算。
#
# 但 FLOP 并不是这样统计的。硬件把点积算成 `k` 次**乘加融合**（fused multiply-add，FMA：一条指令完成
# `acc ← acc + a·b`，从 `acc = 0` 开始），而规格书把一次 FMA 记为 **2 FLOP**，论文（Kaplan et al. 2020，§2.1）和
# PyTorch 的计数器也是如此。所以约定是*每次乘加记 2 FLOP*：每个输出比严格计数多算一次加法，随着 `k` 增大，
# 这一点差别相对 `2k` 可以忽略不计，而规格书、论文和计数器的数字因此可以直接比较。
#
# PyTorch 可以替我们计数：`torch.utils.flop_counter.FlopCounterMode` 记录一段代码执行的矩阵乘法；`ex.counted_flops(fn)`
# 对它做了封装。
#
# **预测 · Predict：** 对于 `(64, 32)` 乘 `(32, 16)` 的矩阵乘法，下面打印的三种计数中，FlopCounterMode 会报告哪一个？
# 先写下你的猜测，再运行下一个单元格。

# %%
a, b = torch.randn(64, 32), torch.randn(32, 16)
print("multiply-adds m·k·n            :", 64 * 32 * 16)
print("exact count m·n·(2k − 1)       :", 64 * 16 * (2 * 32 - 1))
print("two per multiply-add, 2·m·k·n  :", 2 * 64 * 32 * 16)
print("FlopCounterMode counts         :", ex.counted_flops(lambda: a @ b))

# %% lang="zh"
a, b = torch.randn(64, 32), torch.randn(32, 16)
print("乘加次数 m·k·n：          ", 64 * 32 * 16)
print("严格计数 m·n·(2k − 1)：   ", 64 * 16 * (2 * 32 - 1))
print("每次乘加记 2 次，2·m·k·n：", 2 * 64 * 32 * 16)
print("FlopCounterMode 的计数：  ", ex.counted_flops(lambda: a @ b))


# %% [markdown]
# The counter reports 65,536: two FLOPs per multiply-add. That is the convention for the rest of the
# course.
#
# In a Transformer most matmuls are not between two plain matrices. Activations have shape
# `(batch, seq, d_model)` and meet a weight of shape `(d_model, d_out)`; attention multiplies a
# `(batch·heads, seq, d_head)` stack of matrices by another stack. `torch.matmul` treats every dim before
# the last two as a **batch** dim: it multiplies matching matrices of the two stacks, and a plain 2-D
# operand is used for every matrix of the other one.
#
# ### Exercise 1 · 练习 1: `matmul_flops`
#
# **Difficulty:** ●○○ · **Importance:** ●●● · **Time:** ~10 min
#
# Count the FLOPs of `torch.matmul(A, B)` from the two shapes alone. Return a Python `int`; raise
# `ValueError` for shapes that cannot be multiplied (see the docstring).
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# How many output entries does one `(m, k)·(k, n)` product have, and how many multiply-adds does each
# cost? How many such products does a stack of them hold?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Python can split a tuple into its leading items and its last two in one starred assignment. Count the
# products in each of the docstring's cases (both operands have batch dims, one has, neither has), and
# list its error cases before writing any arithmetic.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# 计数器报告的是 65,536：每次乘加记 2 FLOP。本课程后面都沿用这一约定。
#
# 在 Transformer 中，大多数矩阵乘法并不是两个普通矩阵相乘。激活值的形状是 `(batch, seq, d_model)`，它与形状为
# `(d_model, d_out)` 的权重相乘；注意力机制则把一叠 `(batch·heads, seq, d_head)` 的矩阵与另一叠矩阵相乘。`torch.matmul`
# 把最后两维之前的所有维度都当作**批量**维：它把两叠中对应的矩阵两两相乘；如果一个操作数只是普通的二维矩阵，
# 它就与另一叠中的每个矩阵相乘。
#
# ### 练习 1 · Exercise 1: `matmul_flops`
#
# **难度：** ●○○ · **重要性：** ●●● · **用时：** 约 10 分钟
#
# 只根据两个形状，统计 `torch.matmul(A, B)` 的 FLOP。返回 Python 的 `int`；对于无法相乘的形状，抛出
# `ValueError`（见文档字符串）。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 一次 `(m, k)·(k, n)` 乘法有多少个输出元素？每个元素需要多少次乘加？一叠矩阵里一共有多少次这样的乘法？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# Python 可以用一条带星号的赋值语句，把元组拆成前面的元素和最后两个元素。
# 先按文档字符串列出的几种情况（两个操作数都有批量维、只有一个有、都没有）数一数乘法的次数，
# 再在写任何算式之前列出所有出错的情况。
#
# </details>
# </details>

# %% answer="matmul_flops"
def matmul_flops(a_shape, b_shape):
    """FLOPs of torch.matmul(A, B) for A of shape a_shape and B of shape b_shape.

    a_shape: tuple of ints (..., m, k); b_shape: tuple of ints (..., k, n); each has at least 2 dims.
    The dims before the last two are batch dims: either both operands have the same batch dims, or one
    of them has none (a plain matrix, such as a weight, used for every matrix of the other's batch).
    Returns an int, counting a multiply-add as 2 FLOPs (the convention of datasheets and FlopCounterMode).
    Raises ValueError if a shape has fewer than 2 dims or a negative size, if the inner sizes (k) differ,
    or if both operands have batch dims and they differ.
    """
    ### BEGIN SOLUTION
    import math

    for shape in (a_shape, b_shape):
        if len(shape) < 2 or min(shape) < 0:
            raise ValueError(f"need shapes of at least 2 non-negative sizes, got {a_shape} and {b_shape}")
    *batch_a, m, k = a_shape
    *batch_b, k_b, n = b_shape
    if k != k_b:
        raise ValueError(f"inner sizes differ: {a_shape} @ {b_shape}")
    if batch_a and batch_b and batch_a != batch_b:
        raise ValueError(f"batch dims differ: {a_shape} @ {b_shape}")
    matrices = math.prod(batch_a or batch_b)  # how many (m, k) @ (k, n) products
    return 2 * matrices * m * k * n  # m·n outputs, k multiply-adds each, 2 FLOPs per multiply-add
    ### END SOLUTION


# %% answer="matmul_flops" lang="zh"
def matmul_flops(a_shape, b_shape):
    """A 的形状为 a_shape、B 的形状为 b_shape 时，torch.matmul(A, B) 的 FLOP 数。

    a_shape：整数元组 (..., m, k)；b_shape：整数元组 (..., k, n)；两者都至少有 2 维。
    最后两维之前的维度是批量维：要么两个操作数的批量维相同，要么其中一个没有批量维
    （一个普通矩阵，例如权重，与另一个操作数批量中的每个矩阵相乘）。
    返回一个 int，每次乘加记 2 FLOP（规格书和 FlopCounterMode 的约定）。
    以下情况抛出 ValueError：某个形状少于 2 维或含有负的大小；内部大小（k）不相等；
    两个操作数都有批量维，但批量维不相同。
    """
    ### BEGIN SOLUTION
    import math

    for shape in (a_shape, b_shape):
        if len(shape) < 2 or min(shape) < 0:
            raise ValueError(f"need shapes of at least 2 non-negative sizes, got {a_shape} and {b_shape}")
    *batch_a, m, k = a_shape
    *batch_b, k_b, n = b_shape
    if k != k_b:
        raise ValueError(f"inner sizes differ: {a_shape} @ {b_shape}")
    if batch_a and batch_b and batch_a != batch_b:
        raise ValueError(f"batch dims differ: {a_shape} @ {b_shape}")
    matrices = math.prod(batch_a or batch_b)  # (m, k) @ (k, n) 乘法的个数
    return 2 * matrices * m * k * n  # m·n 个输出，每个输出 k 次乘加，每次乘加 2 FLOP
    ### END SOLUTION


# %% tests="matmul_flops_tests" points=2
from course.checks import call, raises
from course.checks.ch01_compute import expect

expect(call(matmul_flops, (2, 3), (3, 4)), 48, name="matmul_flops((2, 3), (3, 4))", mistakes={
    24: "That is m·k·n, one per multiply-add: a multiply-add counts as 2 FLOPs (Part 2).",
    40: "That is m·n·(2k − 1), the exact count of k multiplications and k − 1 additions; the convention "
        "counts 2 FLOPs per multiply-add, as FlopCounterMode printed above (Part 2)."})
expect(call(matmul_flops, (5, 2, 3), (5, 3, 4)), 240, name="matmul_flops((5, 2, 3), (5, 3, 4))", mistakes={
    48: "That is one (2, 3)·(3, 4) product: a stack of 5 matrices means 5 products (Part 2, batch dims)."})
expect(call(matmul_flops, (5, 2, 3), (3, 4)), 240, name="matmul_flops((5, 2, 3), (3, 4)), a weight used for "
       "every matrix", mistakes={48: "The plain (3, 4) matrix is used for each of the 5 matrices of A: count "
                                     "5 products (Part 2, batch dims)."})
expect(call(matmul_flops, (2, 3), (7, 3, 4)), 336, name="matmul_flops((2, 3), (7, 3, 4))", mistakes={
    48: "Here B holds the batch: 7 products of (2, 3)·(3, 4) (Part 2, batch dims)."})
raises(ValueError, matmul_flops, (2, 3), (4, 5), name="matmul_flops((2, 3), (4, 5)): inner sizes 3 and 4 differ")
raises(ValueError, matmul_flops, (2, 2, 3), (5, 3, 4), name="matmul_flops((2, 2, 3), (5, 3, 4)): batch dims differ")
raises(ValueError, matmul_flops, (3,), (3, 4), name="matmul_flops((3,), (3, 4)): a 1-D operand")
raises(ValueError, matmul_flops, (2, -3), (-3, 4), name="matmul_flops((2, -3), (-3, 4)): a negative size")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch01_compute as hidden
hidden.check_matmul_flops(matmul_flops)
### END HIDDEN TESTS

# %% [markdown]
# ## Part 3 — Counting a Transformer · Transformer 的计算量
#
# The model we count is an encoder language model built from PyTorch's own layers: token ids of shape
# `(batch, seq)` go through an embedding (a table lookup, `vocab × d_model`), then `n_layer` copies of
# `nn.TransformerEncoderLayer`, then a linear **head** (输出层) from `d_model` to `vocab` logits. One
# encoder layer holds:
#
# * **attention** (chapter 05): query, key and value projections and an output projection, each a
#   `d_model → d_model` linear layer with a bias; between them, per head, the scores `Q·Kᵀ` and the
#   weighted sum `weights·V`. The `n_head` heads split `d_model` into slices of `d_head = d_model / n_head`;
# * a **feed-forward network** (前馈网络): a linear layer `d_model → d_ff` with a bias, a ReLU, and a linear
#   layer `d_ff → d_model` with a bias;
# * two **LayerNorms** (chapter 03), each with a scale and a shift of `d_model` numbers.
#
# You have not met these layers yet; for counting you only need the shapes that meet in each matrix
# product. The next cell draws the model for one sequence, box by box, with the shapes of every matmul:
# coloured boxes are matmuls (the colour is the part of Exercise 3 they belong to), grey boxes are work
# that is not a matmul. The frame is one layer, repeated `n_layer` times; the lines on its right are the
# two **residual connections** (残差连接, chapter 04): the layer adds its input back after attention and
# again after the FFN.

# %% [markdown] lang="zh"
# ## 第 3 部分 Transformer 的计算量 · Part 3 — Counting a Transformer
#
# 我们要统计的模型，是用 PyTorch 自带的层搭成的编码器语言模型：形状为 `(batch, seq)` 的词元编号先经过嵌入层（查表，
# `vocab × d_model`），再经过 `n_layer` 个 `nn.TransformerEncoderLayer`，最后经过一个线性的**输出层**（head），把
# `d_model` 维映射为 `vocab` 个 logits。一个编码器层包含：
#
# * **注意力机制**（第 05 章）：查询、键、值三个投影和一个输出投影，每个都是带偏置的 `d_model → d_model` 线性层；
#   它们之间，每个头计算分数 `Q·Kᵀ` 和加权和 `weights·V`。`n_head` 个头把 `d_model` 切成大小为
#   `d_head = d_model / n_head` 的若干片；
# * 一个**前馈网络**（feed-forward network）：带偏置的线性层 `d_model → d_ff`、一个 ReLU、再一个带偏置的线性层
#   `d_ff → d_model`；
# * 两个**层归一化**（LayerNorm，第 03 章），各有 `d_model` 个缩放参数和 `d_model` 个平移参数。
#
# 这些层我们还没有学过；不过计数时只需要知道每次矩阵乘法中相遇的形状。下一个单元格把单个序列经过的模型逐框画出来，
# 并标出每次矩阵乘法的形状：彩色方框是矩阵乘法（颜色表示它在练习 3 中属于哪一部分），灰色方框是矩阵乘法以外的计算。
# 外框是一个层，重复 `n_layer` 次；它右侧的两条线是两个**残差连接**（residual connection，第 04 章）：
# 层在注意力之后把输入加回来一次，在前馈网络之后再加一次。

# %%
ex.show(ex.layer_diagram())


# %% [markdown]
# ### Exercise 2 · 练习 2: `layer_params`
#
# **Difficulty:** ●○○ · **Importance:** ●●○ · **Time:** ~10 min
#
# Count the parameters of one such layer from `d_model` and `d_ff`. The test compares your count with
# PyTorch's layer.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# A linear layer from `n_in` to `n_out` features holds a weight matrix and a bias: how many numbers each?
# How many linear layers does the list above name?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# In the drawing, go through one layer's boxes: which of them hold a weight matrix, and what are its
# input and output sizes? The LayerNorms sit in the grey boxes. Then ask whether `n_head` appears in any
# of those sizes.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ### 练习 2 · Exercise 2: `layer_params`
#
# **难度：** ●○○ · **重要性：** ●●○ · **用时：** 约 10 分钟
#
# 根据 `d_model` 和 `d_ff` 统计这样一个层的参数数量。测试会把你的结果与 PyTorch 的层进行比较。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 一个从 `n_in` 维到 `n_out` 维的线性层有一个权重矩阵和一个偏置：各有多少个数？上面的列表一共提到了几个线性层？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 在图中逐个查看一个层里的方框：哪些带有权重矩阵，它的输入和输出大小各是多少？层归一化在灰色方框里。然后想一想：
# 这些大小中有没有出现 `n_head`？
#
# </details>
# </details>

# %% answer="layer_params"
def layer_params(d_model, d_ff):
    """Number of parameters of one Transformer encoder layer (attention, FFN, two LayerNorms).

    d_model: int, model width; d_ff: int, hidden width of the feed-forward network.
    Returns an int, equal to sum(p.numel() for p in nn.TransformerEncoderLayer(d_model, heads, d_ff).parameters()).
    """
    ### BEGIN SOLUTION
    attention = 4 * d_model * d_model + 4 * d_model
    ffn = d_model * d_ff + d_ff + d_ff * d_model + d_model
    norms = 2 * 2 * d_model
    return attention + ffn + norms
    ### END SOLUTION


# %% answer="layer_params" lang="zh"
def layer_params(d_model, d_ff):
    """一个 Transformer 编码器层（注意力、前馈网络、两个层归一化）的参数数量。

    d_model：int，模型宽度；d_ff：int，前馈网络隐藏层的宽度。
    返回一个 int，等于 sum(p.numel() for p in nn.TransformerEncoderLayer(d_model, heads, d_ff).parameters())。
    """
    ### BEGIN SOLUTION
    attention = 4 * d_model * d_model + 4 * d_model
    ffn = d_model * d_ff + d_ff + d_ff * d_model + d_model
    norms = 2 * 2 * d_model
    return attention + ffn + norms
    ### END SOLUTION


# %% tests="layer_params_tests" points=2
from torch import nn
from course.checks import call
from course.checks.ch01_compute import expect

layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=20, batch_first=True)
n = sum(p.numel() for p in layer.parameters())
expect(call(layer_params, 8, 20), n, name="layer_params(8, 20) against nn.TransformerEncoderLayer(8, 2, 20)", mistakes={
    n - 32: "You are 4·d_model short: either the two LayerNorms (a scale and a shift each) or the four "
            "projection biases are missing (Part 3, the list of what a layer holds).",
    n - 60 - 32: "You counted only the weight matrices: every linear layer also has a bias, and the two "
                 "LayerNorms have a scale and a shift each (Part 3).",
    n - 60: "You counted only the weight matrices and the LayerNorms: every linear layer also has a bias (Part 3).",
    872: "That is the count for d_ff = 4·d_model = 32: use the d_ff you are given (here 20).",
    n - 72: "Three projections: attention also has an output projection, d_model → d_model with a bias (Part 3).",
    n - 8 + 20: "The FFN's second bias belongs to its d_model outputs, not d_ff (Part 3).",
    n - 20 + 8: "The FFN's first bias belongs to its d_ff outputs, not d_model (Part 3).",
    n - 16: "Only one LayerNorm, or LayerNorms without their shift: there are two, each with a scale and a "
            "shift of d_model (Part 3)."})
layer = nn.TransformerEncoderLayer(d_model=12, nhead=3, dim_feedforward=7, batch_first=True)
n = sum(p.numel() for p in layer.parameters())
expect(call(layer_params, 12, 7), n, name="layer_params(12, 7) against nn.TransformerEncoderLayer(12, 3, 7)", mistakes={
    sum(p.numel() for p in nn.TransformerEncoderLayer(12, 3, 48).parameters()):
        "That is the count for d_ff = 4·d_model = 48: the d_ff argument was ignored; use the d_ff you are given.",
    sum(p.numel() for p in nn.TransformerEncoderLayer(8, 2, 7).parameters()):
        "That is the count for d_model = 8: the d_model argument was ignored."})
### BEGIN HIDDEN TESTS
from course_grader.checks import ch01_compute as hidden
hidden.check_layer_params(layer_params)
### END HIDDEN TESTS

# %% [markdown]
# ### What the counter counts · 计数器数的是什么
#
# Before counting a whole model, be precise about what "its FLOPs" means, because we will check your
# count against `FlopCounterMode`. The counter has a formula only for some ATen operators (the next cell
# lists them): matrix products (`mm`, `addmm`, `bmm`, `baddbmm`, `_scaled_mm`), convolutions and the GPU
# attention kernels. Everything else counts **0**: softmax, LayerNorm, ReLU/GELU, dropout, residual
# additions, the embedding lookup, and even the bias added by `addmm` (it is counted as `2·m·k·n`, the
# matmul alone). Those operations do a few arithmetic operations per element of the tensor they touch,
# and their tensors are not all of one size: per layer and sequence, LayerNorm, the residual additions
# and dropout touch `seq·d_model` elements each, the activation `seq·d_ff`, and softmax the
# `n_head·seq²` attention scores, the one that grows with the square of the context. The second cell
# below counts them for one layer of GPT-2 small's size (d_model 768, 12 heads, d_ff 3072; the sources
# come with the model after Exercise 3) on 1,024 tokens, beside the layer's matmul FLOPs. Papers leave
# them out of their FLOP counts too (Kaplan et al. 2020, §2.1).
#
# Two more things the counter does not count. On a CPU, PyTorch's default attention kernel
# (`_scaled_dot_product_flash_attention_for_cpu`) is not in the list, so attention's two matmuls count 0
# there; `ex.counted_flops` therefore asks for PyTorch's "math" attention backend, which runs them as
# `bmm`s. And the GPU attention formulas do not account for a causal mask (their source says so): they
# count the full `seq × seq` square.

# %% [markdown] lang="zh"
# ### 计数器数的是什么 · What the counter counts
#
# 在统计整个模型之前，先要把“它的 FLOP”说清楚，因为我们会用 `FlopCounterMode` 来核对你的结果。计数器只为一部分 ATen
# 算子提供了公式（下一个单元格把它们列出来）：矩阵乘法（`mm`、`addmm`、`bmm`、`baddbmm`、`_scaled_mm`）、卷积和 GPU
# 上的注意力内核。其余运算一律计为 **0**：softmax、层归一化、ReLU/GELU、dropout、残差相加、嵌入查表，甚至 `addmm`
# 加上的偏置也不算（它被计为 `2·m·k·n`，只算矩阵乘法本身）。这些运算对所处理张量的每个元素只做少数几次运算，
# 而且张量大小各不相同：对每一层、每个序列而言，层归一化、残差相加和 dropout 各处理 `seq·d_model` 个元素，激活函数处理
# `seq·d_ff` 个，softmax 处理 `n_head·seq²` 个注意力分数，只有它随上下文长度的平方增长。下面第二个单元格以 GPT-2 small
# 大小的一个层（d_model 768，12 个头，d_ff 3072；出处在练习 3 之后介绍该模型时给出）和 1,024 个词元为例统计这些运算，
# 并列出该层矩阵乘法的 FLOP 作对比。论文在统计 FLOP 时同样不计这些运算（Kaplan et al. 2020，§2.1）。
#
# 计数器还有两处不计。在 CPU 上，PyTorch 默认的注意力内核（`_scaled_dot_product_flash_attention_for_cpu`）不在列表中，
# 所以注意力的两次矩阵乘法在那里计为 0；因此 `ex.counted_flops` 会要求 PyTorch 使用 “math” 注意力后端，把它们作为 `bmm`
# 执行。另外，GPU 注意力的公式不考虑因果掩码（源代码中注明了这一点）：它们统计的是完整的 `seq × seq` 方阵。

# %%
print("FlopCounterMode has formulas for:", ", ".join(ex.counted_ops()))

# %% lang="zh"
print("FlopCounterMode 有 FLOP 公式的算子：", ", ".join(ex.counted_ops()))

# %%
work = ex.elementwise_share(seq=1024, d_model=768, n_head=12, d_ff=3072)
matmuls = work.pop("matmul FLOPs")
print(f"one layer, one sequence of 1,024 tokens: {matmuls:,} matmul FLOPs")
for what, elements in work.items():
    print(f"  {what:50s} {elements:>12,} elements, {elements / matmuls:.3%} of the matmul FLOPs")
print(f"  all of them at 10 operations per element: {10 * sum(work.values()) / matmuls:.1%} of the matmul FLOPs")

# %% lang="zh"
work = ex.elementwise_share(seq=1024, d_model=768, n_head=12, d_ff=3072)
matmuls = work.pop("matmul FLOPs")
print(f"一个层，一条 1,024 个词元的序列：矩阵乘法共 {matmuls:,} FLOP")
for what, elements in work.items():
    print(f"  {elements:>12,} 个元素，相当于矩阵乘法 FLOP 的 {elements / matmuls:.3%}：{what:50s}")
print(f"  全部按每个元素 10 次运算计算：相当于矩阵乘法 FLOP 的 {10 * sum(work.values()) / matmuls:.1%}")


# %% [markdown]
# So "FLOPs" below means **matmul FLOPs, two per multiply-add**: every product inside the projections,
# attention, the FFN and the head, and nothing else.
#
# ### Exercise 3 · 练习 3: `encoder_flops`
#
# **Difficulty:** ●●● · **Importance:** ●●● · **Time:** ~20 min
#
# Count the forward FLOPs of the encoder language model described at the start of Part 3, for a batch of
# `batch` sequences of `seq` tokens, from its architecture alone. Return them by part, as a dict with
# the keys `"projections"` (Q, K, V and output), `"attention"` (`Q·Kᵀ` and `weights·V`), `"ffn"` and
# `"head"`, each a Python `int`. Use your `matmul_flops` with the shapes each matmul has. The test
# builds the real model and counts it with `FlopCounterMode`.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Write down every matmul of one layer with the shapes of its two operands: the activations are
# `(batch, seq, d_model)`. Which of them involve a weight, and which multiply two activations? How does
# splitting into heads change the shapes of the attention matmuls, and does it change their total?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# The drawing before Exercise 2 shows every matmul for one sequence, with its operands' shapes. Turn
# each into a call of your `matmul_flops` for the whole batch: where does `batch` go when one operand is
# a weight, and where when both are activations split into heads? Then decide which boxes repeat
# `n_layer` times and which run once. Check the docstring's error case first.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# 因此，下文所说的“FLOP”指**矩阵乘法的 FLOP，每次乘加记 2**：包括投影、注意力、前馈网络和输出层中的每一次矩阵乘法，
# 此外一概不计。
#
# ### 练习 3 · Exercise 3: `encoder_flops`
#
# **难度：** ●●● · **重要性：** ●●● · **用时：** 约 20 分钟
#
# 只根据结构，统计第 3 部分开头描述的编码器语言模型在 `batch` 个长度为 `seq` 的序列上前向传播的 FLOP。
# 按部分返回一个字典，键为 `"projections"`（Q、K、V 和输出投影）、`"attention"`（`Q·Kᵀ` 与 `weights·V`）、`"ffn"` 和
# `"head"`，每个值都是 Python 的 `int`。请用你的 `matmul_flops` 处理每次矩阵乘法的实际形状。测试会构建真实的模型，并用
# `FlopCounterMode` 计数。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 写出一个层中的每次矩阵乘法及其两个操作数的形状：激活值的形状是 `(batch, seq, d_model)`。哪些乘法涉及权重，
# 哪些是两个激活值相乘？拆分成多个头会怎样改变注意力中矩阵乘法的形状？会改变它们的总量吗？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 练习 2 之前的图给出了单个序列的每次矩阵乘法及其操作数的形状。把每一次都改写成对整个批量调用你的 `matmul_flops`：
# 当一个操作数是权重时，`batch` 放在哪里？当两个操作数都是拆分成多头的激活值时，又放在哪里？然后判断哪些方框重复
# `n_layer` 次，哪些只运行一次。先检查文档字符串中的出错情况。
#
# </details>
# </details>

# %% answer="encoder_flops"
def encoder_flops(n_layer, d_model, n_head, d_ff, seq, vocab, batch=1):
    """Forward matmul FLOPs of an encoder language model, by part.

    The model: token ids (batch, seq) -> nn.Embedding(vocab, d_model) -> n_layer layers of
    nn.TransformerEncoderLayer(d_model, n_head, d_ff) -> nn.Linear(d_model, vocab).
    n_layer, d_model, n_head, d_ff, seq, vocab, batch: positive ints (vocab may be 0: no head).
    Returns a dict {"projections": int, "attention": int, "ffn": int, "head": int}: the FLOPs that
    FlopCounterMode counts (matmuls only, 2 per multiply-add) in each part, summed over the layers.
    Raises ValueError if n_head does not divide d_model.
    """
    ### BEGIN SOLUTION
    if d_model % n_head:
        raise ValueError(f"n_head={n_head} does not divide d_model={d_model}")
    d_head = d_model // n_head
    x = (batch, seq, d_model)  # the activations entering each matmul with a weight
    stack = batch * n_head  # attention multiplies one (seq, d_head) matrix per sequence and head
    projections = 4 * matmul_flops(x, (d_model, d_model))  # Q, K, V and the output projection
    attention = matmul_flops((stack, seq, d_head), (stack, d_head, seq)) \
        + matmul_flops((stack, seq, seq), (stack, seq, d_head))  # Q·Kᵀ, then weights·V
    ffn = matmul_flops(x, (d_model, d_ff)) + matmul_flops((batch, seq, d_ff), (d_ff, d_model))
    return {"projections": n_layer * projections, "attention": n_layer * attention, "ffn": n_layer * ffn,
            "head": matmul_flops(x, (d_model, vocab))}
    ### END SOLUTION


# %% answer="encoder_flops" lang="zh"
def encoder_flops(n_layer, d_model, n_head, d_ff, seq, vocab, batch=1):
    """编码器语言模型前向传播中矩阵乘法的 FLOP，按部分统计。

    模型：词元编号 (batch, seq) -> nn.Embedding(vocab, d_model) -> n_layer 层
    nn.TransformerEncoderLayer(d_model, n_head, d_ff) -> nn.Linear(d_model, vocab)。
    n_layer, d_model, n_head, d_ff, seq, vocab, batch：正整数（vocab 可以为 0：没有输出层）。
    返回一个字典 {"projections": int, "attention": int, "ffn": int, "head": int}：每一部分中
    FlopCounterMode 统计的 FLOP（只计矩阵乘法，每次乘加记 2），对所有层求和。
    如果 n_head 不能整除 d_model，抛出 ValueError。
    """
    ### BEGIN SOLUTION
    if d_model % n_head:
        raise ValueError(f"n_head={n_head} does not divide d_model={d_model}")
    d_head = d_model // n_head
    x = (batch, seq, d_model)  # 与权重做矩阵乘法的激活值
    stack = batch * n_head  # 注意力对每条序列的每个头各乘一个 (seq, d_head) 矩阵
    projections = 4 * matmul_flops(x, (d_model, d_model))  # Q、K、V 投影和输出投影
    attention = matmul_flops((stack, seq, d_head), (stack, d_head, seq)) \
        + matmul_flops((stack, seq, seq), (stack, seq, d_head))  # 先算 Q·Kᵀ，再算 weights·V
    ffn = matmul_flops(x, (d_model, d_ff)) + matmul_flops((batch, seq, d_ff), (d_ff, d_model))
    return {"projections": n_layer * projections, "attention": n_layer * attention, "ffn": n_layer * ffn,
            "head": matmul_flops(x, (d_model, vocab))}
    ### END SOLUTION


# %% tests="encoder_flops_tests" points=3
import torch
from course.checks import call, check, raises
from course.checks.ch01_compute import call_or_explain, expect
from course.experiments import ch01_compute as ex

# The real model, counted by PyTorch: 2 layers, d_model 16, 4 heads, d_ff 40, vocab 11; 3 sequences of 7 tokens.
counted = ex.counted_by_part(ex.encoder_lm(2, 16, 4, 40, 11), torch.zeros(3, 7, dtype=torch.long))
got = call(encoder_flops, 2, 16, 4, 40, 7, 11, 3)
check(type(got) is dict and sorted(got) == sorted(counted),
      "encoder_flops should return a dict with the keys {keys}, got {got!r}", keys=sorted(counted), got=got)
name = "encoder_flops(n_layer=2, d_model=16, n_head=4, d_ff=40, seq=7, vocab=11, batch=3)"
whole_batch = "You counted one sequence: the batch holds 3, and each costs the same (Part 3)."
halved = ("Half of it: did you count one of the 2 layers, or one FLOP per multiply-add instead of two (Part 2)?")
expect(got["projections"], counted["projections"], name=name + "['projections']", mistakes={
    counted["projections"] * 3 / 4: "Three projections: count Q, K, V and the output projection (Part 3).",
    counted["projections"] / 3: whole_batch, counted["projections"] / 2: halved})
expect(got["attention"], counted["attention"], name=name + "['attention']", mistakes={
    counted["attention"] * 4: "n_head times too much: the heads split d_model into slices of d_head, they do "
                              "not multiply the work (Part 3).",
    counted["attention"] / 2: "Exactly half: did you count only Q·Kᵀ and forget weights·V, halve it for a causal "
                              "mask, or count one of the 2 layers? An encoder computes both matmuls over the "
                              "whole seq × seq square in every layer (Part 3, 'What the counter counts').",
    counted["attention"] / 7: "seq times too little: per sequence, Q·Kᵀ compares every one of the seq queries "
                              "with every one of the seq keys (Part 3).",
    counted["attention"] / 3: whole_batch})
expect(got["ffn"], counted["ffn"], name=name + "['ffn']", mistakes={
    counted["ffn"] / 2: "Half of it: each of the 2 layers has two FFN matmuls, d_model → d_ff and d_ff → d_model, "
                        "at 2 FLOPs per multiply-add (Part 3).",
    counted["ffn"] / 3: whole_batch})
expect(got["head"], counted["head"], name=name + "['head']", mistakes={
    0: "The head (d_model → vocab, after the last layer) is a matmul too (Part 3).",
    counted["head"] * 2: "The head runs once, after the last layer, not once per layer (Part 3).",
    counted["head"] / 3: whole_batch})
one_head, eight_heads = call(encoder_flops, 2, 16, 1, 40, 7, 11, 3), call(encoder_flops, 2, 16, 8, 40, 7, 11, 3)
check(sum(one_head.values()) == sum(eight_heads.values()) == sum(counted.values()),
      "encoder_flops should not depend on n_head (1, 4 and 8 heads gave different totals): the heads split the "
      "same work (Part 3)")
# vocab = 0: the same stack without a head, which Exercise 4 and the cells after it count this way.
no_head = call_or_explain(encoder_flops, 2, 16, 4, 40, 7, 0, 3, errors={
    "raised": "vocab = 0 is allowed (the docstring): a model without a head, as Exercise 4 counts it; its 'head' "
              "part is 0"})
check(no_head.get("head") == 0 and all(no_head.get(k) == got[k] for k in ("projections", "attention", "ffn")),
      "encoder_flops(2, 16, 4, 40, 7, vocab=0, batch=3) gave {got!r}: vocab = 0 means no head, so 'head' is 0 "
      "and the other parts are those of vocab = 11", got=no_head)
# Other sizes, batch left at its default (1): 3 layers, d_model 8, 2 heads, d_ff 12, 5 tokens, vocab 7.
counted = ex.counted_by_part(ex.encoder_lm(3, 8, 2, 12, 7), torch.zeros(1, 5, dtype=torch.long))
got = call(encoder_flops, 3, 8, 2, 12, 5, 7)
for part in ("projections", "attention", "ffn"):
    expect(got[part], counted[part], name=f"encoder_flops(3, 8, 2, 12, 5, 7)[{part!r}]", mistakes={
        counted[part] * 2 // 3: "Two thirds of it: 2 layers counted instead of 3, the n_layer argument was ignored.",
        counted[part] // 3: "A third of it: one layer counted instead of n_layer = 3."})
expect(got["head"], counted["head"], name="encoder_flops(3, 8, 2, 12, 5, 7)['head'] (vocab 7)")
raises(ValueError, encoder_flops, 2, 16, 3, 40, 7, 11, name="encoder_flops with d_model=16, n_head=3")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch01_compute as hidden
hidden.check_encoder_flops(encoder_flops)
### END HIDDEN TESTS

# %% [markdown]
# Now a model the size of GPT-2 small (12 layers, d_model = 768 and a vocabulary of 50,257: Radford et al.
# 2019, Table 2 and §2.3; 12 heads and d_ff = 3072, as in GPT-1: Radford et al. 2018, §4.1) on a sequence
# of 1,024 tokens. PyTorch builds it on the `meta`
# device, which has shapes but no data, so FlopCounterMode can count it without computing anything.
#
# **Predict · 预测:** which part takes the most FLOPs: the projections, attention, the FFN or the head?
# And if a small layer runs on the CPU with PyTorch's default attention kernel, how many of its attention
# FLOPs will the counter see? Write your guesses down, then run the next cell.

# %% [markdown] lang="zh"
# 现在来看一个与 GPT-2 small 一样大的模型（12 层，d_model = 768，词表大小 50,257：Radford et al. 2019，表 2 和 §2.3；12
# 个头，d_ff = 3072，与 GPT-1 相同：Radford et al. 2018，§4.1），输入是长度为 1,024 的序列。PyTorch 在 `meta`
# 设备上构建它：这种张量只有形状、没有数据，所以 FlopCounterMode 无需真正计算就能统计。
#
# **预测 · Predict：** 投影、注意力、前馈网络和输出层中，哪一部分的 FLOP 最多？如果一个小层在 CPU 上使用 PyTorch
# 默认的注意力内核，计数器能看到它多少注意力 FLOP？先写下你的猜测，再运行下一个单元格。

# %%
with needs("encoder_flops"):
    gpt2 = ex.gpt2_small_counts(encoder_flops)
    print("part           FlopCounterMode     encoder_flops")
    for part, n in gpt2["counted"].items():
        print(f"{part:12}{n:18,}{gpt2['yours'][part]:18,}")
    print(f"total       {sum(gpt2['counted'].values()):18,}")
    missing = gpt2["small_math_kernel"] - gpt2["small_default_kernel"]
    print(f"one layer (d_model 64, 4 heads, 128 tokens) on the CPU, counted with the math attention kernel: "
          f"{gpt2['small_math_kernel']:,}; with the default kernel: {gpt2['small_default_kernel']:,} "
          f"({missing:,} fewer)")

# %% lang="zh"
with needs("encoder_flops"):
    gpt2 = ex.gpt2_small_counts(encoder_flops)
    print("部分           FlopCounterMode     encoder_flops")
    for part, n in gpt2["counted"].items():
        print(f"{part:12}{n:18,}{gpt2['yours'][part]:18,}")
    print(f"总计        {sum(gpt2['counted'].values()):18,}")
    missing = gpt2["small_math_kernel"] - gpt2["small_default_kernel"]
    print(f"CPU 上的一个层（d_model 64，4 个头，128 个词元），用 math 注意力内核统计："
          f"{gpt2['small_math_kernel']:,}；用默认内核：{gpt2['small_default_kernel']:,}"
          f"（少了 {missing:,}）")

# %% [markdown]
# Your columns agree with PyTorch's. The FFN is the largest part at this length, then the head (the
# vocabulary is large), then the projections, then attention. With the default CPU kernel the small layer counts
# fewer FLOPs, and the difference is exactly its attention (`4·seq²·d_model` = 4,194,304): the fused kernel
# is invisible to the counter, as Part 3 said.
#
# ### Per token: 2N, and attention · 每个 token：2N 与注意力
#
# A token meeting a weight matrix with `P` entries costs `2P` FLOPs (one multiply-add per entry), so the
# projections and the FFN together cost **about 2N FLOPs per token**, where N is the number of
# non-embedding parameters (Kaplan et al. 2020, Table 1, "C_forward ≈ 2N"); "about", because N also
# counts biases and LayerNorms, which do no matmul. Attention's two matmuls have no weights: per token
# they cost `2·seq·d_model` each per layer, so their share grows with the context length.
#
# **Predict · 预测:** for the GPT-2-sized stack, at what context length does attention cost as much per
# token as the weight matmuls: near 1,000, 5,000 or 50,000 tokens? Write your guess down, then run the
# next cell.

# %% [markdown] lang="zh"
# 你的各列与 PyTorch 的结果一致。在这个长度下，前馈网络是最大的部分，其次是输出层（词表很大），再次是投影，
# 最后是注意力。使用默认的 CPU 内核时，小层统计到的 FLOP 更少，差额恰好是它的注意力部分（`4·seq²·d_model` =
# 4,194,304）：正如第 3 部分所说，融合内核对计数器是不可见的。
#
# ### 每个词元：2N 与注意力 · Per token: 2N, and attention
#
# 一个词元与一个有 `P` 个元素的权重矩阵相乘，需要 `2P` FLOP（每个元素一次乘加），
# 所以投影和前馈网络合起来**每个词元大约需要 2N FLOP**，其中 N 是非嵌入参数的数量（Kaplan et al. 2020，表 1，“C_forward
# ≈ 2N”）；说“大约”，是因为 N 还包括偏置和层归一化的参数，而它们不参与矩阵乘法。注意力的两次矩阵乘法没有权重：
# 每个词元在每一层各需 `2·seq·d_model`，因此它们所占的比例随上下文长度增长。
#
# **预测 · Predict：** 对于 GPT-2 大小的模型，上下文长度达到多少时，注意力每个词元的开销与权重矩阵乘法相当：接近
# 1,000、5,000 还是 50,000 个词元？先写下你的猜测，再运行下一个单元格。

# %%
with needs("encoder_flops", "layer_params"):
    fig, split = ex.flops_split_figure(encoder_flops, layer_params)
    ex.show(fig)
    print(f"N = {split['n_params']:,} non-embedding parameters; 2N = {split['two_n']:,}; weight matmuls per "
          f"token = {split['weights_per_token']:,.0f}")
    print(f"attention equals the weight matmuls at seq = {split['crossover_seq']:,.0f} (6 · d_model = {6 * 768:,})")
    print(f"attention adds 10% to the weight matmuls at seq = {split['crossover_seq'] / 10:,.0f}")

# %% lang="zh"
with needs("encoder_flops", "layer_params"):
    fig, split = ex.flops_split_figure(encoder_flops, layer_params)
    ex.show(fig)
    print(f"N = {split['n_params']:,} 个非嵌入参数；2N = {split['two_n']:,}；每个词元的权重矩阵乘法 = "
          f"{split['weights_per_token']:,.0f}")
    print(f"seq = {split['crossover_seq']:,.0f} 时，注意力与权重矩阵乘法相等（6 · d_model = {6 * 768:,}）")
    print(f"seq = {split['crossover_seq'] / 10:,.0f} 时，注意力在权重矩阵乘法之外多出 10%")

# %% [markdown]
# Reading the figure: the weight matmuls per token do not depend on `seq` and sit just under the 2N line
# (N includes the biases and LayerNorms). Attention grows linearly and catches up at exactly
# `seq = 2·d_model + d_ff`, which is `6·d_model` = 4,608 for `d_ff = 4·d_model`: per token and layer,
# attention costs `4·seq·d_model` and the weight matmuls `2·(4·d_model² + 2·d_model·d_ff)`, and their
# ratio is `seq / (2·d_model + d_ff)`.
#
# So how long may the context be before "2N per token" is a poor budget? That depends on the width, not
# on a fixed number of tokens. Say we accept attention adding up to 10% to the weight matmuls: the next
# cell computes that length for a few widths (with `d_ff = 4·d_model`; the widths of GPT-2 small and
# GPT-2 XL, Radford et al. 2019, Table 2, and of GPT-3 175B, Brown et al. 2020, Table 2.1).

# %% [markdown] lang="zh"
# 读图：每个词元的权重矩阵乘法与 `seq` 无关，略低于 2N 那条线（N 包括偏置和层归一化的参数）。注意力线性增长，恰好在
# `seq = 2·d_model + d_ff` 处追上；当 `d_ff = 4·d_model` 时，这等于 `6·d_model` = 4,608。这是因为每个词元在每一层中，
# 注意力的开销是 `4·seq·d_model`，权重矩阵乘法的开销是 `2·(4·d_model² + 2·d_model·d_ff)`，二者之比为
# `seq / (2·d_model + d_ff)`。
#
# 那么，上下文多长时，“每个词元 2N”就不再是一个好的估计？这取决于模型宽度，而不是某个固定的词元数。
# 假设我们允许注意力在权重矩阵乘法之外最多再增加 10%：下一个单元格对几种宽度计算出这个长度（取 `d_ff = 4·d_model`；
# 宽度分别是 GPT-2 small 和 GPT-2 XL 的，见 Radford et al. 2019，表 2，以及 GPT-3 175B 的，见 Brown et al. 2020，表
# 2.1）。

# %%
for name, width in (("GPT-2 small", 768), ("GPT-2 XL", 1600), ("GPT-3 175B", 12288)):
    ten, equal = ex.attention_share_seq(width, share=0.1), ex.attention_share_seq(width, share=1.0)
    print(f"{name:12} d_model {width:6,}: attention adds 10% at seq = {ten:6,.0f}, as much as the weights at "
          f"seq = {equal:7,.0f}")

# %% lang="zh"
for name, width in (("GPT-2 small", 768), ("GPT-2 XL", 1600), ("GPT-3 175B", 12288)):
    ten, equal = ex.attention_share_seq(width, share=0.1), ex.attention_share_seq(width, share=1.0)
    print(f"{name:12} d_model {width:6,}：seq = {ten:6,.0f} 时注意力多出 10%，seq = {equal:7,.0f} 时"
          f"与权重一样多")

# %% [markdown]
# The threshold is `0.6·d_model` tokens, a few hundred for a small model and several thousand for a wide
# one; past it, training costs noticeably more per token than 2N says.
#
# **Kaplan's factor of two.** Our attention term is `4·n_layer·seq·d_model` per token (two matmuls, each
# `2·seq·d_model`). Kaplan et al. (2020, Table 1, the "Attention: Mask" row) write
# `2·n_layer·n_ctx·d_attn`, half of it (with `d_attn = d_model`), and accordingly say the term is small
# when `d_model ≫ n_ctx/12` (§2.1), twice the crossover length we found. That is a convention of their
# accounting: the paper gives the formula without deriving it. One reading, ours and not theirs: a
# *causal* language model's token `i` only needs the `i` keys up to its own position, on average `seq/2`
# of them, in both matmuls, which halves the count. PaLM's accounting counts the full square instead,
# `6N + 12·L·H·Q·T` per token for training with `H·Q = d_model` and `T = seq` (Chowdhery et al. 2022,
# App. B), three times our forward term. Which convention matches the work done depends on whether the
# kernel skips the masked half. FlopCounterMode counts what PyTorch's kernels compute:
#
# **Predict · 预测:** does adding a causal mask (`is_causal=True`) change FlopCounterMode's count of an
# encoder stack? Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# 这个阈值是 `0.6·d_model` 个词元：小模型只有几百，宽模型则有几千；超过它之后，每个词元的训练开销会明显高于 2N 的估计。
#
# **Kaplan 的二倍之差。** 我们的注意力项是每个词元 `4·n_layer·seq·d_model`（两次矩阵乘法，各 `2·seq·d_model`）。Kaplan
# et al.（2020，表 1 中 “Attention: Mask” 一行）写的是 `2·n_layer·n_ctx·d_attn`，只有它的一半（其中
# `d_attn = d_model`），并据此说当 `d_model ≫ n_ctx/12` 时这一项很小（§2.1），这是我们求得的交叉长度的两倍。
# 这是他们计数时的约定：论文给出了公式，但没有推导。一种解读（这是我们的解读，不是论文的）是：在*因果*语言模型中，第
# `i` 个词元只需要它所在位置及之前的 `i` 个键，平均为 `seq/2` 个，两次矩阵乘法都是如此，于是计数减半。PaLM
# 的统计则计入完整的方阵：训练时每个词元 `6N + 12·L·H·Q·T`，其中 `H·Q = d_model`、`T = seq`（Chowdhery et al. 2022，
# 附录 B），是我们前向注意力项的三倍。哪种约定符合实际的计算量，取决于内核是否跳过被掩码的那一半。FlopCounterMode
# 统计的是 PyTorch 内核实际计算的量：
#
# **预测 · Predict：** 加上因果掩码（`is_causal=True`）会改变 FlopCounterMode 对编码器堆栈的计数吗？先写下你的猜测，
# 再运行下一个单元格。

# %%
print(ex.causal_count())


# %% [markdown]
# The two counts are equal: the kernels compute all `seq × seq` scores and then mask half of them, so
# the causal saving is a saving only for kernels written to skip the masked blocks (FlashAttention-2
# skips the blocks above the diagonal; Dao 2023, §3.1.1).
#
# ### The backward pass · 反向传播
#
# Training runs the forward pass, then the backward pass (反向传播). For each matmul `Y = X·W` of the
# forward pass, the backward pass receives `∂L/∂Y` (the shape of `Y`) and computes up to two matmuls:
# `∂L/∂X = ∂L/∂Y · Wᵀ`, needed to keep going backwards, and `∂L/∂W = Xᵀ · ∂L/∂Y`, the gradient of the
# weights. Look at their shapes: each multiplies the same three sizes as the forward matmul. Attention's
# `Q·Kᵀ` and `weights·V` have two activations as inputs, and both need gradients. This is where the
# "backward ≈ 2 × forward, training ≈ 6N per token" rule comes from (Kaplan et al. 2020, §2.1).
#
# But autograd only computes a gradient that something needs. A tensor that does not require a
# gradient, such as the float input of a model, gets none.
#
# ### Exercise 4 · 练习 4: `training_flops`
#
# **Difficulty:** ●●○ · **Importance:** ●●● · **Time:** ~15 min
#
# Count the FLOPs of one training step, `stack(x).sum().backward()`, of an encoder stack
# (`ex.encoder_stack`: `n_layer` `nn.TransformerEncoderLayer`s, no embedding, no head) fed a float input
# `x` of shape `(batch, seq, d_model)` that does **not** require a gradient: forward and backward
# together, as FlopCounterMode counts them.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Start from the forward count (your `encoder_flops`, with no head). Which backward matmuls does each
# forward matmul cause, and how large are they? Then ask which of them autograd can skip here.
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Every matmul whose inputs all need gradients costs twice its forward FLOPs backwards. Exactly one
# matmul of the stack has `x` itself as an input: which one, in which layer, and what is the size of the
# `∂L/∂x` it would have produced? (PyTorch packs the Q, K and V projections into one matmul.)
#
# </details>
# </details>

# %% [markdown] lang="zh"
# 两个计数相等：内核计算了全部 `seq × seq` 个分数，然后再把其中一半掩掉；
# 所以只有专门跳过被掩码块的内核才能真正节省这一半（FlashAttention-2 跳过对角线以上的块；Dao 2023，§3.1.1）。
#
# ### 反向传播 · The backward pass
#
# 训练时先做前向传播，再做反向传播（backward pass）。对于前向传播中的每次矩阵乘法 `Y = X·W`，反向传播接收
# `∂L/∂Y`（形状与 `Y` 相同），并最多计算两次矩阵乘法：`∂L/∂X = ∂L/∂Y · Wᵀ`，用于继续向后传播；`∂L/∂W = Xᵀ · ∂L/∂Y`，
# 即权重的梯度。看一看它们的形状：每一次乘的都是与前向矩阵乘法相同的三个大小。注意力中的 `Q·Kᵀ` 和 `weights·V`
# 的两个输入都是激活值，两者都需要梯度。“反向 ≈ 2 × 前向，训练 ≈ 每个词元 6N”的经验法则就是这么来的（Kaplan et al.
# 2020，§2.1）。
#
# 但自动求导只计算有用处的梯度。不需要梯度的张量（例如模型的浮点输入）就不会得到梯度。
#
# ### 练习 4 · Exercise 4: `training_flops`
#
# **难度：** ●●○ · **重要性：** ●●● · **用时：** 约 15 分钟
#
# 统计编码器堆栈（`ex.encoder_stack`：`n_layer` 个 `nn.TransformerEncoderLayer`，没有嵌入层，也没有输出层）训练一步
# `stack(x).sum().backward()` 的 FLOP。输入 `x` 是形状为 `(batch, seq, d_model)` 的浮点张量，它**不**需要梯度。按
# FlopCounterMode 的统计方式，把前向和反向加在一起。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 从前向的计数出发（你的 `encoder_flops`，不含输出层）。每次前向矩阵乘法会引起哪些反向矩阵乘法？它们各有多大？
# 再想一想：在这里自动求导可以跳过其中哪些？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 如果一次矩阵乘法的所有输入都需要梯度，它在反向传播中的开销是前向的两倍。堆栈中恰好有一次矩阵乘法以 `x` 本身作为输入：
# 是哪一次，在哪一层？它本来要计算的 `∂L/∂x` 有多大？（PyTorch 把 Q、K、V 三个投影打包成一次矩阵乘法。）
#
# </details>
# </details>

# %% answer="training_flops"
def training_flops(n_layer, d_model, n_head, d_ff, seq, batch=1):
    """FLOPs of one forward and backward pass of an encoder stack on an input that needs no gradient.

    The model: n_layer layers of nn.TransformerEncoderLayer(d_model, n_head, d_ff) (no embedding, no head);
    the step: stack(x).sum().backward() for a float x of shape (batch, seq, d_model), requires_grad=False.
    n_layer, d_model, n_head, d_ff, seq, batch: positive ints.
    Returns an int: the matmul FLOPs FlopCounterMode counts for that step (2 per multiply-add).
    """
    ### BEGIN SOLUTION
    forward = sum(encoder_flops(n_layer, d_model, n_head, d_ff, seq, 0, batch).values())
    # backward: ∂L/∂input and ∂L/∂weight for every matmul, each as large as the forward matmul ...
    # ... except ∂L/∂x of layer 0's packed Q/K/V projection: x needs no gradient, autograd skips it
    skipped = matmul_flops((batch, seq, d_model), (d_model, 3 * d_model))
    return 3 * forward - skipped
    ### END SOLUTION


# %% answer="training_flops" lang="zh"
def training_flops(n_layer, d_model, n_head, d_ff, seq, batch=1):
    """编码器堆栈在一个不需要梯度的输入上做一次前向和反向传播的 FLOP。

    模型：n_layer 层 nn.TransformerEncoderLayer(d_model, n_head, d_ff)（没有嵌入层，也没有输出层）；
    这一步：对形状为 (batch, seq, d_model)、requires_grad=False 的浮点张量 x 执行 stack(x).sum().backward()。
    n_layer, d_model, n_head, d_ff, seq, batch：正整数。
    返回一个 int：FlopCounterMode 对这一步统计的矩阵乘法 FLOP（每次乘加记 2）。
    """
    ### BEGIN SOLUTION
    forward = sum(encoder_flops(n_layer, d_model, n_head, d_ff, seq, 0, batch).values())
    # 反向：每次矩阵乘法都要算 ∂L/∂input 和 ∂L/∂weight，两者都与前向的那次矩阵乘法一样大……
    # ……只有第 0 层合并在一起的 Q/K/V 投影的 ∂L/∂x 例外：x 不需要梯度，autograd 会跳过它
    skipped = matmul_flops((batch, seq, d_model), (d_model, 3 * d_model))
    return 3 * forward - skipped
    ### END SOLUTION


# %% tests="training_flops_tests" points=2
import torch
from course.checks import call, msg
from course.checks.ch01_compute import expect
from course.experiments import ch01_compute as ex

for n_layer, d, heads, d_ff, seq, batch in [(2, 16, 4, 40, 7, 3), (1, 8, 2, 12, 5, 2)]:
    stack = ex.encoder_stack(n_layer, d, heads, d_ff)
    x = torch.randn(batch, seq, d)
    forward = ex.counted_flops(lambda: stack(x))  # noqa: B023 - called right here, inside this iteration
    step = ex.counted_flops(lambda: stack(x).sum().backward())  # noqa: B023
    skip = 2 * batch * seq * d * 3 * d
    expect(call(training_flops, n_layer, d, heads, d_ff, seq, batch), step,
           name=msg("training_flops(n_layer={n_layer}, d_model={d}, n_head={heads}, d_ff={d_ff}, seq={seq}, "
                    "batch={batch}) against FlopCounterMode", n_layer=n_layer, d=d, heads=heads, d_ff=d_ff, seq=seq,
                    batch=batch), mistakes={
               3 * forward: "Three times the forward is right for every matmul whose inputs all need gradients, "
                            "but x needs none: autograd skips one ∂L/∂x (Part 3, 'The backward pass').",
               2 * forward: "Backward = forward: each matmul causes two backward matmuls, ∂L/∂X and ∂L/∂W, each "
                            "as large as itself (Part 3, 'The backward pass').",
               forward: "That is the forward pass only: add the backward pass (Part 3, 'The backward pass').",
               3 * forward - n_layer * skip: "Only the first layer sees x itself; later layers' inputs depend on "
                                             "weights and need gradients (Part 3, 'The backward pass').",
               3 * forward - skip / 3: "The skipped ∂L/∂x belongs to the packed Q/K/V projection, three "
                                       "d_model → d_model matmuls in one (Part 3, 'The backward pass').",
               3 * forward - 4 * skip / 3: "Only the Q/K/V projection reads x; the output projection reads "
                                           "attention's result, which needs a gradient (Part 3)."})
### BEGIN HIDDEN TESTS
from course_grader.checks import ch01_compute as hidden
hidden.check_training_flops(training_flops)
### END HIDDEN TESTS

# %% [markdown]
# ## Part 4 — Measuring FLOP/s · 测量算力
#
# To know what a machine *achieves* we time a known amount of work. Three traps:
#
# 1. **Warm-up** (预热). The first calls pay for one-off costs: memory allocation, library
#    initialisation, kernel selection, cold caches. Run a few untimed calls first.
# 2. **Noise.** Other processes interrupt; a single time is unreliable. Repeat and take the
#    **median**, which ignores a few slow outliers (the mean does not).
# 3. **Asynchrony.** On a GPU, `a @ b` only *queues* the work and returns at once (PyTorch's CUDA
#    semantics [9]). Reading the clock right after measures the queueing, not the matmul. Call
#    `torch.cuda.synchronize()` before starting the clock (so earlier work is done) and again before
#    stopping it (so this work is done).
#
# ### Exercise 5 · 练习 5: `measure_seconds`
#
# **Difficulty:** ●●○ · **Importance:** ●●● · **Time:** ~15 min
#
# Write the harness. `sync` is a function to call before each clock reading (`None` on a CPU);
# `clock` is the clock to read (the tests pass a fake one). Use `statistics.median`.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Two loops: one that only calls `fn`, and one that records a duration per call. Where exactly must the
# two clock readings and the `sync()` calls sit around `fn()`?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Trap 3 says where a `sync()` belongs relative to each clock reading; traps 1 and 2 say which calls are
# timed and how the timings become one number. Run the test cell's `FakeMachine` in your head through
# your loop: which durations end up in your list? Check the docstring for what to validate, and for the
# type to return.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ## 第 4 部分 测量算力 · Part 4 — Measuring FLOP/s
#
# 要知道一台机器*实际达到*的算力，我们给一份已知的计算量计时。这里有三个陷阱：
#
# 1. **预热**（warm-up）。最初几次调用要支付一次性的开销：分配内存、初始化库、选择内核、缓存是冷的（数据还不在缓存中）。
#    先运行几次不计时的调用。
# 2. **噪声。** 其他进程会打断运行，单次计时并不可靠。重复多次，取**中位数**：
#    它不受少数几个偏慢的离群值影响（平均值则会受影响）。
# 3. **异步。** 在 GPU 上，`a @ b` 只是把计算*放进队列*就立即返回（PyTorch 的 CUDA 语义 [9]）。紧接着读时钟，
#    测到的是排队的时间，而不是矩阵乘法的时间。开始计时之前调用 `torch.cuda.synchronize()`（确保之前的工作已经完成），
#    停止计时之前再调用一次（确保这次的工作已经完成）。
#
# ### 练习 5 · Exercise 5: `measure_seconds`
#
# **难度：** ●●○ · **重要性：** ●●● · **用时：** 约 15 分钟
#
# 编写这个计时工具。`sync` 是每次读时钟之前要调用的函数（在 CPU 上为 `None`）；`clock`
# 是要读取的时钟（测试会传入一个假的时钟）。请使用 `statistics.median`。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 两个循环：一个只调用 `fn`，另一个为每次调用记录一个时长。两次读时钟和 `sync()` 调用应该分别放在 `fn()`
# 前后的什么位置？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 陷阱 3 说明了 `sync()` 相对于每次读时钟应放在哪里；陷阱 1 和 2 说明了哪些调用需要计时，以及这些计时如何变成一个数。
# 在脑子里让测试单元格中的 `FakeMachine` 走一遍你的循环：哪些时长会进入你的列表？再查看文档字符串，看需要检查哪些参数、
# 返回什么类型。
#
# </details>
# </details>

# %% answer="measure_seconds"
import statistics
import time


def measure_seconds(fn, warmup=2, repeats=5, sync=None, clock=time.perf_counter):
    """Median wall-clock seconds of one call of fn().

    fn: a function of no arguments (the work to time).
    warmup: int >= 0, untimed calls made first; repeats: int >= 1, timed calls.
    sync: None, or a function of no arguments that waits until queued work is finished
        (torch.cuda.synchronize on a GPU); call it right before each reading of the clock.
    clock: a function returning the current time in seconds.
    Returns a float: the median of the `repeats` timed durations.
    Raises ValueError if repeats < 1 or warmup < 0.
    """
    ### BEGIN SOLUTION
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}")
    for _ in range(warmup):
        fn()
    durations = []
    for _ in range(repeats):
        if sync is not None:
            sync()
        start = clock()
        fn()
        if sync is not None:
            sync()
        durations.append(clock() - start)
    return float(statistics.median(durations))
    ### END SOLUTION


# %% answer="measure_seconds" lang="zh"
import statistics
import time


def measure_seconds(fn, warmup=2, repeats=5, sync=None, clock=time.perf_counter):
    """调用一次 fn() 所用挂钟时间（秒）的中位数。

    fn：无参数的函数（要计时的工作）。
    warmup：int >= 0，先执行、不计时的调用次数；repeats：int >= 1，计时的调用次数。
    sync：None，或一个无参数的函数，它一直等到已排队的工作全部完成
        （在 GPU 上是 torch.cuda.synchronize）；每次读时钟之前都要紧接着调用它。
    clock：返回当前时间（秒）的函数。
    返回一个 float：`repeats` 次计时时长的中位数。
    如果 repeats < 1 或 warmup < 0，抛出 ValueError。
    """
    ### BEGIN SOLUTION
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}")
    for _ in range(warmup):
        fn()
    durations = []
    for _ in range(repeats):
        if sync is not None:
            sync()
        start = clock()
        fn()
        if sync is not None:
            sync()
        durations.append(clock() - start)
    return float(statistics.median(durations))
    ### END SOLUTION


# %% tests="measure_seconds_tests" points=3
from course.checks import call, check, equal, raises
from course.checks.ch01_compute import expect


class FakeMachine:
    """A fake clock and workload: call k of work() takes durations[k] seconds. With queued=True, work() only
    queues it (like a CUDA kernel launch) and sync() waits for everything queued."""
    def __init__(self, durations, queued=False):
        self.durations, self.queued, self.now, self.pending, self.calls = list(durations), queued, 0.0, 0.0, 0

    def clock(self):
        return self.now

    def work(self):
        seconds = self.durations[self.calls]
        self.calls += 1
        if self.queued:
            self.pending += seconds
        else:
            self.now += seconds

    def sync(self):
        self.now, self.pending = self.now + self.pending, 0.0


m = FakeMachine([100.0, 100.0, 2.5, 1.0, 3.0, 50.0, 2.0])   # 2 slow warm-up calls, then 5 timed ones
result = call(measure_seconds, m.work, warmup=2, repeats=5, clock=m.clock)
check(m.calls != 5, "fn was called 5 times, not 7: make the warmup calls (untimed) before the timed ones "
                    "(Part 4, trap 1)")
equal(m.calls, 7, name="number of calls of fn (2 warm-up + 5 timed)")
check(type(result) is float, "measure_seconds should return a float, got {got}", got=type(result).__name__)
expect(result, 2.5, name="measure_seconds of the timed calls [2.5, 1, 3, 50, 2]", mistakes={
    11.7: "That is the mean: the one slow call (50 s) drags it up; take the median (Part 4, trap 2).",
    1.0: "That is the fastest call; take the median of the timed calls (Part 4, trap 2).",
    3.0: "The warm-up calls were timed too: time only the `repeats` calls after them (Part 4, trap 1).",
    2.0: "That is the last call only: keep every timed duration and take their median (Part 4, trap 2).",
    58.5: "That is the total of the timed calls: return the median of one call's time (Part 4)."})
m = FakeMachine([100.0, 100.0, 2.5, 1.0, 3.0, 50.0, 2.0], queued=True)  # a GPU: work() returns at once
result = call(measure_seconds, m.work, warmup=2, repeats=5, sync=m.sync, clock=m.clock)
expect(result, 2.5, name="measure_seconds with sync, on work that is queued like a GPU kernel", mistakes={
    0.0: "Every timing is 0: the clock was read before the queued work finished; call sync() before the "
         "second clock reading (Part 4, trap 3).",
    3.0: "The warm-up's queued work leaked into the first timing: call sync() right before starting the clock "
         "too (Part 4, trap 3)."})
m = FakeMachine([4.0, 1.0, 2.0, 9.0, 9.0])              # no warm-up, 3 timed calls: [4, 1, 2]
expect(call(measure_seconds, m.work, warmup=0, repeats=3, clock=m.clock), 2.0,
       name="measure_seconds(warmup=0, repeats=3) of the calls [4, 1, 2]", mistakes={
           9.0: "That is the median of calls 3 to 5: the warmup argument was ignored (2 warm-up calls made anyway).",
           4.0: "That is the median of 5 timed calls: the repeats argument was ignored."})
raises(ValueError, measure_seconds, m.work, repeats=0, name="measure_seconds(repeats=0)")
raises(ValueError, measure_seconds, m.work, warmup=-1, name="measure_seconds(warmup=-1)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch01_compute as hidden
hidden.check_measure_seconds(measure_seconds)
### END HIDDEN TESTS

# %% [markdown]
# Now time real matmuls on this machine with your harness. `benchmarking.matmul_throughput` builds
# two random `n×n` matrices on the chosen device and passes `sync=torch.cuda.synchronize` when that
# device is a GPU. On this course's laptops and CI it runs on the CPU.
#
# **Predict · 预测:** of the sizes 64 to 1024, which reaches the most GFLOP/s, and roughly how much
# slower is the smallest? Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# 现在用你的计时工具在这台机器上测量真实的矩阵乘法。`benchmarking.matmul_throughput` 在所选设备上构造两个随机的 `n×n`
# 矩阵；当设备是 GPU 时，它会传入 `sync=torch.cuda.synchronize`。在本课程的笔记本电脑和 CI 上，它运行在 CPU 上。
#
# **预测 · Predict：** 在 64 到 1024 这几种大小中，哪一种能达到最高的 GFLOP/s？最小的那种大约慢多少？先写下你的猜测，
# 再运行下一个单元格。

# %%
device = benchmarking.pick_device("auto")
print("device:", device)
with needs("measure_seconds"):
    results = ex.throughput_sweep(measure_seconds, sizes=(64, 128, 256, 512, 1024), device=str(device))
    for r in results:
        print(f"n = {r['n']:5d}: {r['seconds'] * 1e3:8.3f} ms  ->  {r['flops_per_s'] / 1e9:8.1f} GFLOP/s")
    best = max(r["flops_per_s"] for r in results)
    ex.show(ex.throughput_figure(results, best=best))

# %% lang="zh"
device = benchmarking.pick_device("auto")
print("设备：", device)
with needs("measure_seconds"):
    results = ex.throughput_sweep(measure_seconds, sizes=(64, 128, 256, 512, 1024), device=str(device))
    for r in results:
        print(f"n = {r['n']:5d}：{r['seconds'] * 1e3:8.3f} ms  ->  {r['flops_per_s'] / 1e9:8.1f} GFLOP/s")
    best = max(r["flops_per_s"] for r in results)
    ex.show(ex.throughput_figure(results, best=best))


# %% [markdown]
# Reading the figure: compare the smallest size with the best one in the printed list. A `64×64`
# product is over in microseconds, and fixed costs (Python, dispatch, starting the threads) are a
# large share of that; larger ones keep the cores' vector units busy. On some runs the largest size
# falls back a little. This notebook does not measure why, so take any explanation as a hypothesis:
# matrices too large for the processor's caches, or other work interrupting long calls on a shared
# machine, would both do it, and the five timings above cannot tell them apart. The printed numbers
# are *this* machine today; a laptop, a CI runner and a GPU differ by orders of magnitude.
#
# ## Part 5 — Model FLOPs utilisation · 模型算力利用率 (MFU)
#
# MFU is the fraction of the hardware's peak that goes into the model's *useful* FLOPs
# (Chowdhery et al. 2022, §4.1 and App. B):
#
# $$\text{MFU} = \frac{\text{model FLOPs per step} / \text{seconds per step}}{\text{peak FLOP/s}}.$$
#
# "Model FLOPs" come from counting the model (as you did), not from what the hardware executed, so
# recomputation or wasted padding do not count as useful. For scale: PaLM 540B trained at 46.2% MFU on
# TPU v4 (Chowdhery et al. 2022, Table 3), Llama 3 405B at 38–43% in bf16 on H100s (Llama Team 2024,
# §3.3.2, Table 4).
#
# ### Exercise 6 · 练习 6: `mfu` and `days_to_train`
#
# **Difficulty:** ●○○ · **Importance:** ●●○ · **Time:** ~10 min
#
# Two functions in one cell. `mfu` is the definition above. `days_to_train` turns a FLOP budget into
# wall-clock days on `n_chips` chips, each with a peak of `peak_flops_per_s`, running at MFU
# `utilisation`. With one chip of 10¹⁵ FLOP/s at full utilisation it gives PF-days (Part 1).
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Write the units next to each quantity: FLOPs, seconds, FLOP/s, and a fraction. Which combination has
# no units left (MFU), and which has seconds left (then convert to days)?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Check your formula on the case above: one chip of 10¹⁵ FLOP/s at full utilisation must turn a PF-day
# of FLOPs into 1.0. Then ask which way the answer must move when `n_chips` grows, and when the
# utilisation falls. The docstrings list what to validate.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# 读图：把打印列表中最小的大小与最好的那个比较一下。一次 `64×64` 的乘法几微秒就完成了，固定开销（Python、算子分派、
# 启动线程）在其中占了很大比例；更大的矩阵则能让各个核心的向量单元保持忙碌。有些运行中，最大的那种大小会稍有回落。
# 本笔记本没有测量其原因，所以任何解释都只是假设：矩阵太大、放不进处理器的缓存，
# 或者在共享的机器上有其他工作打断了较长的调用，都可能造成这种现象，而上面的五次计时无法区分它们。
# 打印出的数字只代表*这台*机器今天的情况；笔记本电脑、CI 运行器和 GPU 之间可以相差几个数量级。
#
# ## 第 5 部分 模型算力利用率 · Part 5 — Model FLOPs utilisation (MFU)
#
# MFU 是硬件峰值中用于模型*有效* FLOP 的比例（Chowdhery et al. 2022，§4.1 和附录 B）：
#
# $$\text{MFU} = \frac{\text{model FLOPs per step} / \text{seconds per step}}{\text{peak FLOP/s}}.$$
#
# “模型 FLOP”来自对模型的统计（就像你刚才做的），而不是硬件实际执行的运算，所以重计算或浪费在填充上的运算都不算有效。
# 作为参照：PaLM 540B 在 TPU v4 上训练时的 MFU 为 46.2%（Chowdhery et al. 2022，表 3），Llama 3 405B 在 H100 上以 bf16
# 训练时为 38–43%（Llama Team 2024，§3.3.2，表 4）。
#
# ### 练习 6 · Exercise 6: `mfu` 与 `days_to_train`
#
# **难度：** ●○○ · **重要性：** ●●○ · **用时：** 约 10 分钟
#
# 一个单元格里写两个函数。`mfu` 就是上面的定义。`days_to_train` 把 FLOP 预算换算成在 `n_chips` 块芯片上所需的实际天数，
# 每块芯片的峰值为 `peak_flops_per_s`，以 MFU `utilisation` 运行。只用一块 10¹⁵ FLOP/s 的芯片、利用率为 100% 时，
# 它给出的就是 PF-天（第 1 部分）。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 在每个量旁边写上单位：FLOP、秒、FLOP/s，以及一个比例。哪种组合的单位正好消去（MFU）？
# 哪种组合最后剩下秒（再换算成天）？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 用上面的情形检验你的公式：一块 10¹⁵ FLOP/s、利用率 100% 的芯片，必须把一个 PF-天的 FLOP 换算成 1.0。再想一想：
# `n_chips` 增大时、利用率下降时，答案应该朝哪个方向变化。需要检查哪些参数，文档字符串里都列出来了。
#
# </details>
# </details>

# %% answer="mfu"
def mfu(flops, seconds, peak_flops_per_s):
    """Model FLOPs utilisation: achieved FLOP/s as a fraction of the peak.

    flops: float, useful model FLOPs done; seconds: float > 0, the time it took;
    peak_flops_per_s: float > 0, the hardware's peak for the precision used.
    Returns a float (0.45 means 45%).
    Raises ValueError if seconds or peak_flops_per_s is not positive.
    """
    ### BEGIN SOLUTION
    if seconds <= 0 or peak_flops_per_s <= 0:
        raise ValueError(f"seconds and peak must be positive, got seconds={seconds}, peak={peak_flops_per_s}")
    return flops / seconds / peak_flops_per_s
    ### END SOLUTION


def days_to_train(flops, peak_flops_per_s, utilisation, n_chips=1):
    """Wall-clock days to do `flops` FLOPs on n_chips chips of the given peak, running at that MFU.

    flops: float, the training budget; peak_flops_per_s: float > 0, one chip's peak;
    utilisation: float in (0, 1], the MFU reached; n_chips: int >= 1.
    Returns a float, in days.
    Raises ValueError if peak_flops_per_s <= 0, utilisation is not in (0, 1] or n_chips < 1.
    """
    ### BEGIN SOLUTION
    if peak_flops_per_s <= 0 or not 0 < utilisation <= 1 or n_chips < 1:
        raise ValueError(f"need peak > 0, 0 < utilisation <= 1 and n_chips >= 1, got {peak_flops_per_s}, "
                         f"{utilisation}, {n_chips}")
    seconds = flops / (n_chips * peak_flops_per_s * utilisation)
    return seconds / (24 * 60 * 60)
    ### END SOLUTION


# %% answer="mfu" lang="zh"
def mfu(flops, seconds, peak_flops_per_s):
    """模型算力利用率（MFU）：实际达到的 FLOP/s 占峰值的比例。

    flops：float，完成的有效模型 FLOP；seconds：float > 0，所用的时间；
    peak_flops_per_s：float > 0，硬件在所用精度下的峰值。
    返回一个 float（0.45 表示 45%）。
    如果 seconds 或 peak_flops_per_s 不是正数，抛出 ValueError。
    """
    ### BEGIN SOLUTION
    if seconds <= 0 or peak_flops_per_s <= 0:
        raise ValueError(f"seconds and peak must be positive, got seconds={seconds}, peak={peak_flops_per_s}")
    return flops / seconds / peak_flops_per_s
    ### END SOLUTION


def days_to_train(flops, peak_flops_per_s, utilisation, n_chips=1):
    """在 n_chips 块给定峰值的芯片上以该 MFU 运行，完成 `flops` 次浮点运算所需的挂钟时间（天）。

    flops：float，训练预算；peak_flops_per_s：float > 0，一块芯片的峰值；
    utilisation：(0, 1] 中的 float，达到的 MFU；n_chips：int >= 1。
    返回一个 float，单位为天。
    如果 peak_flops_per_s <= 0、utilisation 不在 (0, 1] 中或 n_chips < 1，抛出 ValueError。
    """
    ### BEGIN SOLUTION
    if peak_flops_per_s <= 0 or not 0 < utilisation <= 1 or n_chips < 1:
        raise ValueError(f"need peak > 0, 0 < utilisation <= 1 and n_chips >= 1, got {peak_flops_per_s}, "
                         f"{utilisation}, {n_chips}")
    seconds = flops / (n_chips * peak_flops_per_s * utilisation)
    return seconds / (24 * 60 * 60)
    ### END SOLUTION


# %% tests="mfu_tests" points=2
from course.checks import call, raises
from course.checks.ch01_compute import expect

# 6e14 FLOPs in 2 s on a 1e15 FLOP/s chip: 3e14 FLOP/s achieved, 30% of the peak.
expect(call(mfu, 6e14, 2.0, 1e15), 0.3, name="mfu(6e14 FLOPs, 2 s, peak 1e15)", mistakes={
    30.0: "That is a percentage: return the fraction (0.3 means 30%) (Part 5).",
    0.6: "You forgot the time: FLOPs ÷ seconds is the achieved rate (Part 5).",
    1 / 0.3: "Upside down: achieved ÷ peak (Part 5)."})
raises(ValueError, mfu, 1e12, 1.0, 0.0, name="mfu with a peak of 0")
raises(ValueError, mfu, 1e12, 0.0, 1e15, name="mfu with seconds = 0")
expect(call(days_to_train, 8.64e19, 1e15, 1.0), 1.0, name="days_to_train(one PF-day of FLOPs, 1e15 FLOP/s, 100%)",
       mistakes={24.0: "That is hours: convert the seconds to days (Part 1).",
                 86400.0: "That is seconds: convert to days (Part 1).", 1440.0: "That is minutes: convert to days."})
days = 3.14e23 / (1024 * 312e12 * 0.4) / 86400
expect(call(days_to_train, 3.14e23, 312e12, 0.4, n_chips=1024), days,
       name="days_to_train(3.14e23, A100 bf16 peak 312e12, 40% MFU, 1024 chips)", mistakes={
           days * 0.16: "You multiplied by the utilisation: a run at 40% MFU takes longer than at 100%, not shorter.",
           days * 0.4: "You left out the utilisation: the chips reach only that fraction of their peak (Part 5).",
           days * 1024: "You left out n_chips: the chips share the work (Part 5)."})
raises(ValueError, days_to_train, 1e20, 1e15, 1.5, name="days_to_train with utilisation 1.5")
raises(ValueError, days_to_train, 1e20, 1e15, 0.0, name="days_to_train with utilisation 0")
raises(ValueError, days_to_train, 1e20, 1e15, 0.5, 0, name="days_to_train with n_chips = 0")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch01_compute as hidden
hidden.check_mfu(mfu, days_to_train)
### END HIDDEN TESTS

# %% [markdown]
# GPT-3's budget on 1,024 A100s (312 TFLOP/s in bf16, NVIDIA's datasheet [7]) at 40% MFU, and a training
# step of a small encoder stack (2 layers, d_model = 128, 8 sequences of 64 tokens), timed with your
# harness and counted with your `training_flops`. The step's MFU is measured against the best matmul
# throughput you measured above: a *practical* ceiling of this machine, not a datasheet peak (a CPU's
# real peak depends on its clock and vector units, which we do not know here).
#
# **Predict · 预测:** will the small model's step reach more or less than half of the best matmul's
# GFLOP/s? And what MFU would the same step time be on an H100 (989 TFLOP/s in bf16)? Write your guesses
# down, then run the next cell.

# %% [markdown] lang="zh"
# 下面计算 GPT-3 的预算在 1,024 块 A100（bf16 下 312 TFLOP/s，NVIDIA 规格书 [7]）上、MFU 为 40% 时需要多少天，
# 并测量一个小型编码器堆栈（2 层，d_model = 128，8 个长度为 64 的序列）的一个训练步：用你的计时工具计时，用你的
# `training_flops` 计数。这个训练步的 MFU 是相对于前面测得的最好的矩阵乘法吞吐量来计算的：
# 这是这台机器*实际可达*的上限，而不是规格书上的峰值（CPU 的真实峰值取决于它的时钟频率和向量单元，
# 而我们在这里并不知道这些）。
#
# **预测 · Predict：** 这个小模型的训练步能达到最好的矩阵乘法 GFLOP/s 的一半以上还是以下？如果 H100（bf16 下 989
# TFLOP/s）也用同样的时间完成这一步，MFU 是多少？先写下你的猜测，再运行下一个单元格。

# %%
with needs("days_to_train"):
    a100 = hardware.A100_SXM.peak("bf16")
    print(f"GPT-3 on 1024 A100s at 40% MFU: {days_to_train(3.14e23, a100, 0.4, 1024):.1f} days")
with needs("measure_seconds", "training_flops", "mfu"):
    step = ex.training_step(measure_seconds, training_flops, device=str(device))
    print(f"{step['tokens']} tokens per step, {step['flops'] / 1e9:.3f} GFLOPs per step (training_flops; "
          f"FlopCounterMode: {step['counted'] / 1e9:.3f}), {step['seconds'] * 1e3:.1f} ms per step "
          f"-> {step['flops_per_s'] / 1e9:.1f} GFLOP/s")
    h100 = hardware.H100_SXM.peak("bf16")
    print(f"MFU against the best measured matmul ({best / 1e9:.1f} GFLOP/s): "
          f"{mfu(step['flops'], step['seconds'], best):.1%}")
    print(f"MFU if an H100 (bf16) took as long: {mfu(step['flops'], step['seconds'], h100):.2e}")

# %% lang="zh"
with needs("days_to_train"):
    a100 = hardware.A100_SXM.peak("bf16")
    print(f"GPT-3 在 1024 块 A100 上、MFU 为 40%：{days_to_train(3.14e23, a100, 0.4, 1024):.1f} 天")
with needs("measure_seconds", "training_flops", "mfu"):
    step = ex.training_step(measure_seconds, training_flops, device=str(device))
    print(f"每步 {step['tokens']} 个词元，每步 {step['flops'] / 1e9:.3f} GFLOP（training_flops；"
          f"FlopCounterMode：{step['counted'] / 1e9:.3f}），每步 {step['seconds'] * 1e3:.1f} ms "
          f"-> {step['flops_per_s'] / 1e9:.1f} GFLOP/s")
    h100 = hardware.H100_SXM.peak("bf16")
    print(f"相对于实测最佳矩阵乘法（{best / 1e9:.1f} GFLOP/s）的 MFU："
          f"{mfu(step['flops'], step['seconds'], best):.1%}")
    print(f"假如一块 H100（bf16）也用这么长时间，MFU 为：{mfu(step['flops'], step['seconds'], h100):.2e}")

# %% [markdown]
# Reading the output: the step reaches only a fraction of the best matmul's rate (its matmuls are small,
# and LayerNorm, softmax and the backward bookkeeping add time without FLOPs), and against an H100's
# peak its MFU is a vanishingly small number: a model this small cannot keep a big GPU busy.
#
# ## Part 6 — Arithmetic intensity and the roofline · 算术强度与屋顶线
#
# A chip can only compute on numbers that have arrived from memory. **Arithmetic intensity** (算术强度)
# is FLOPs per byte moved. The **roofline model** (Williams, Waterman & Patterson 2009) says the
# attainable rate is
#
# $$\min(\text{peak FLOP/s},\; \text{intensity} \times \text{memory bandwidth}).$$
#
# Left of the **ridge point** (peak ÷ bandwidth) an operation is *memory-bound*: faster arithmetic would
# not help. Right of it, *compute-bound*. The next cell computes the ridge of two datasheet GPUs.

# %% [markdown] lang="zh"
# 读输出：训练步只达到了最好的矩阵乘法速率的一小部分（它的矩阵乘法都很小，而层归一化、softmax
# 和反向传播的簿记工作只增加时间、不增加 FLOP）；相对于 H100 的峰值，它的 MFU 小得几乎可以忽略：
# 这么小的模型无法让一块大 GPU 忙起来。
#
# ## 第 6 部分 算术强度与屋顶线 · Part 6 — Arithmetic intensity and the roofline
#
# 芯片只能对已经从内存中取来的数做计算。**算术强度**（arithmetic intensity）是每搬运一个字节所做的 FLOP 数。
# **屋顶线模型**（Williams, Waterman & Patterson 2009）说，可达到的速率是
#
# $$\min(\text{peak FLOP/s},\; \text{intensity} \times \text{memory bandwidth}).$$
#
# 在**脊点**（峰值 ÷ 带宽）左边，运算是*访存受限*的：算得再快也无济于事。在脊点右边则是*计算受限*的。
# 下一个单元格计算两款 GPU 按规格书数据得到的脊点。

# %%
for chip in (hardware.A100_SXM, hardware.H100_SXM):
    print(f"{chip.name}: {chip.peak('bf16') / 1e12:.0f} TFLOP/s bf16, {chip.memory_bandwidth / 1e12:.2f} TB/s "
          f"-> ridge {chip.peak('bf16') / chip.memory_bandwidth:.0f} FLOP/byte")

# %% lang="zh"
for chip in (hardware.A100_SXM, hardware.H100_SXM):
    print(f"{chip.name}：bf16 {chip.peak('bf16') / 1e12:.0f} TFLOP/s，{chip.memory_bandwidth / 1e12:.2f} TB/s "
          f"-> 脊点 {chip.peak('bf16') / chip.memory_bandwidth:.0f} FLOP/字节")


# %% [markdown]
# An operation must do about 300 FLOPs per byte it touches to use an H100 fully in bf16.
#
# ### Exercise 7 · 练习 7: `roofline_point`
#
# **Difficulty:** ●●○ · **Importance:** ●●● · **Time:** ~15 min
#
# Place a matmul on the roofline. Assume each element of A and B is read from memory once and each
# element of the result C written once, `bytes_per_element` bytes per number (4 for fp32, 2 for bf16).
# Return a dict with the intensity, the attainable FLOP/s and which roof limits it.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# You already count the FLOPs (Exercise 1). How many elements do A, B and C hold, for these shapes,
# and how many bytes is that? Which of the two roofs is lower at that intensity?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Work the first visible test on paper: a 600 × 600 by 600 × 600 matmul in fp32 (FLOPs, bytes read and
# written, their ratio, then both roofs at that ratio). C's shape follows from Exercise 1's batch rules.
# The docstring says which bound to report when the two roofs tie.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# 一个运算大约要对它访问的每个字节做 300 FLOP，才能在 bf16 下充分利用一块 H100。
#
# ### 练习 7 · Exercise 7: `roofline_point`
#
# **难度：** ●●○ · **重要性：** ●●● · **用时：** 约 15 分钟
#
# 把一次矩阵乘法放到屋顶线上。假设 A 和 B 的每个元素从内存中读取一次，结果 C 的每个元素写入一次，每个数占
# `bytes_per_element` 个字节（fp32 为 4，bf16 为 2）。返回一个字典，包含算术强度、可达到的 FLOP/s，
# 以及起限制作用的是哪一个上限。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# FLOP 你已经会统计了（练习 1）。对于给定的形状，A、B、C 各有多少个元素，合多少字节？在这个算术强度下，
# 两个上限中哪一个更低？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 在纸上算一遍第一个可见测试：fp32 下 600 × 600 乘 600 × 600 的矩阵乘法（FLOP、读写的字节数、两者之比，
# 再算出这个比值下的两个上限）。C 的形状可以由练习 1 的批量规则推出。两个上限相等时报告哪一个，文档字符串里有说明。
#
# </details>
# </details>

# %% answer="roofline_point"
def roofline_point(a_shape, b_shape, bytes_per_element, peak_flops_per_s, bandwidth):
    """Where torch.matmul(A, B) sits on a chip's roofline.

    a_shape, b_shape: shapes as for matmul_flops; bytes_per_element: int, e.g. 4 (fp32) or 2 (bf16);
    peak_flops_per_s: float, the chip's peak; bandwidth: float, its memory bandwidth in bytes/s.
    Assumes every element of A and B is read once and every element of the result C written once.
    Returns a dict {"intensity": float, FLOPs per byte moved; "attainable": float, the FLOP/s the
    roofline allows; "bound": "memory" or "compute", the roof that sets it ("memory" when the memory
    roof is strictly lower)}.
    """
    ### BEGIN SOLUTION
    import math

    flops = matmul_flops(a_shape, b_shape)
    *batch_a, m, k = a_shape
    *batch_b, _, n = b_shape
    c_shape = (*(batch_a or batch_b), m, n)
    moved = bytes_per_element * (math.prod(a_shape) + math.prod(b_shape) + math.prod(c_shape))  # read A, B; write C
    intensity = flops / moved
    memory_roof = intensity * bandwidth
    return {"intensity": intensity, "attainable": min(peak_flops_per_s, memory_roof),
            "bound": "memory" if memory_roof < peak_flops_per_s else "compute"}
    ### END SOLUTION


# %% answer="roofline_point" lang="zh"
def roofline_point(a_shape, b_shape, bytes_per_element, peak_flops_per_s, bandwidth):
    """torch.matmul(A, B) 在一块芯片的屋顶线上的位置。

    a_shape, b_shape：形状，同 matmul_flops；bytes_per_element：int，例如 4（fp32）或 2（bf16）；
    peak_flops_per_s：float，芯片的峰值；bandwidth：float，芯片的内存带宽，单位为字节/秒。
    假设 A 和 B 的每个元素读取一次，结果 C 的每个元素写入一次。
    返回一个字典 {"intensity": float，每搬运一字节对应的 FLOP；"attainable": float，屋顶线允许的
    FLOP/s；"bound": "memory" 或 "compute"，决定它的是哪个上限（内存上限严格更低时为 "memory"）}。
    """
    ### BEGIN SOLUTION
    import math

    flops = matmul_flops(a_shape, b_shape)
    *batch_a, m, k = a_shape
    *batch_b, _, n = b_shape
    c_shape = (*(batch_a or batch_b), m, n)
    moved = bytes_per_element * (math.prod(a_shape) + math.prod(b_shape) + math.prod(c_shape))  # 读 A、B；写 C
    intensity = flops / moved
    memory_roof = intensity * bandwidth
    return {"intensity": intensity, "attainable": min(peak_flops_per_s, memory_roof),
            "bound": "memory" if memory_roof < peak_flops_per_s else "compute"}
    ### END SOLUTION


# %% tests="roofline_point_tests" points=2
from course.checks import call, check
from course.checks.ch01_compute import expect

H100 = (989e12, 3.35e12)  # bf16 peak, memory bandwidth
out = call(roofline_point, (600, 600), (600, 600), 4, *H100)
check(type(out) is dict and sorted(out) == ["attainable", "bound", "intensity"],
      "roofline_point should return a dict with the keys 'attainable', 'bound', 'intensity', got {got!r}", got=out)
# n x n by n x n: 2n³ FLOPs over 3n² elements moved; in fp32 that is n/6 FLOP/byte.
expect(out["intensity"], 100.0, name="intensity of a 600³ matmul in fp32", mistakes={
    400.0: "That is FLOPs per element: multiply the elements by bytes_per_element (Part 6).",
    150.0: "You left out writing C: the result crosses the memory bus too (Part 6).",
    50.0: "Half of it: a multiply-add is 2 FLOPs (Part 2)."})
expect(out["attainable"], 100.0 * 3.35e12, name="attainable FLOP/s of a 600³ fp32 matmul on an H100", mistakes={
    989e12: "That is the peak: at 100 FLOP/byte the memory roof, intensity × bandwidth, is lower (Part 6)."})
expect(out["bound"], "memory", name="bound of a 600³ fp32 matmul on an H100 (below the ridge of 295)",
       mistakes={"compute": "Reversed: below the ridge the memory roof is the lower one (Part 6)."})
big = call(roofline_point, (8192, 8192), (8192, 8192), 2, *H100)
expect(big["attainable"], 989e12, name="attainable FLOP/s of an 8192³ bf16 matmul on an H100", mistakes={
    8192 / 3 * 3.35e12: "That is above the chip's peak: the attainable rate is the lower of the two roofs (Part 6)."})
expect(big["bound"], "compute", name="bound of an 8192³ bf16 matmul on an H100 (intensity 2731, right of the ridge)",
       mistakes={"memory": "Reversed: right of the ridge the peak is the lower roof (Part 6)."})
A100 = (312e12, 2.039e12)  # another chip: bf16 peak, memory bandwidth
vector = call(roofline_point, (1000, 1000), (1000, 1), 4, *A100)  # a matrix times a vector, fp32
expect(vector["attainable"], 2e6 / (4 * 1_002_000) * 2.039e12, name="attainable FLOP/s of a matrix-vector product on "
       "an A100", mistakes={2e6 / (4 * 1_002_000) * 3.35e12: "That is the H100's bandwidth: the bandwidth argument "
                                                             "was ignored."})
expect(call(roofline_point, (8192, 8192), (8192, 8192), 2, *A100)["attainable"], 312e12,
       name="attainable FLOP/s of an 8192³ bf16 matmul on an A100",
       mistakes={989e12: "That is the H100's peak: the peak_flops_per_s argument was ignored."})
weights = 2 * 16 * 128 * 64 * 128 / (4 * (16 * 128 * 64 + 64 * 128 + 16 * 128 * 128))
expect(call(roofline_point, (16, 128, 64), (64, 128), 4, *H100)["intensity"], weights,
       name="intensity of (16, 128, 64) @ (64, 128) in fp32 (a weight read once)", mistakes={
           2 * 16 * 128 * 64 * 128 / (4 * (16 * 128 * 64 + 16 * 64 * 128 + 16 * 128 * 128)):
               "You counted the weight B once per batch matrix: it is read once (Part 6)."})
### BEGIN HIDDEN TESTS
from course_grader.checks import ch01_compute as hidden
hidden.check_roofline_point(roofline_point)
### END HIDDEN TESTS

# %% [markdown]
# Now measure this machine's memory bandwidth (a large copy: each byte read once and written once)
# and draw its roofline with the matmuls you timed. Then explore: switch to the A100 or H100, change
# the operation and its size, and watch the point cross the ridge.
#
# **Predict · 预测:** will the measured matmuls sit on this machine's roof, or below it? Write your guess
# down, then run the next cell.

# %% [markdown] lang="zh"
# 现在测量这台机器的内存带宽（一次大的复制：每个字节读一次、写一次），并把你计时过的矩阵乘法和它的屋顶线画在一起。
# 然后动手探索：切换到 A100 或 H100，改变运算及其大小，观察数据点如何越过脊点。
#
# **预测 · Predict：** 测得的矩阵乘法会落在这台机器的屋顶上，还是在它下方？先写下你的猜测，再运行下一个单元格。

# %%
with needs("measure_seconds", "roofline_point"):
    bandwidth = benchmarking.copy_bandwidth(measure=measure_seconds, device=str(device))
    points = [(roofline_point((r["n"], r["n"]), (r["n"], r["n"]), 4, best, bandwidth)["intensity"], r["flops_per_s"],
               f"n={r['n']}") for r in results]
    print(f"copy bandwidth: {bandwidth / 1e9:.1f} GB/s; best matmul: {best / 1e9:.1f} GFLOP/s; "
          f"ridge of this machine: {best / bandwidth:.1f} FLOP/byte")
    for i, achieved, label in points:
        print(f"{label:7}: intensity {i:6.1f} FLOP/byte, achieved {achieved / 1e9:7.1f} GFLOP/s")
    measured = {"peak": best, "bandwidth": bandwidth, "points": points}
widget = roofline(measured if "measured" in globals() else None)
widget

# %% lang="zh"
with needs("measure_seconds", "roofline_point"):
    bandwidth = benchmarking.copy_bandwidth(measure=measure_seconds, device=str(device))
    points = [(roofline_point((r["n"], r["n"]), (r["n"], r["n"]), 4, best, bandwidth)["intensity"], r["flops_per_s"],
               f"n={r['n']}") for r in results]
    print(f"复制带宽：{bandwidth / 1e9:.1f} GB/s；最佳矩阵乘法：{best / 1e9:.1f} GFLOP/s；"
          f"本机的脊点：{best / bandwidth:.1f} FLOP/字节")
    for i, achieved, label in points:
        print(f"{label:7} 算术强度 {i:6.1f} FLOP/字节，实际达到 {achieved / 1e9:7.1f} GFLOP/s")
    measured = {"peak": best, "bandwidth": bandwidth, "points": points}
widget = roofline(measured if "measured" in globals() else None)
widget

# %% [markdown]
# Reading it: the crosses are this machine's matmuls. The best one touches the roof by construction (its
# rate *is* our roof); the small ones sit far below it: overheads, not the roof, limit them.
#
# Things to try in the widget:
#
# * On an H100 in bf16, how large must a square matmul be to reach the ridge? (Its intensity in bf16 is
#   `n/3`: solve `n/3 ≈ 295`.)
# * An elementwise add of two `n×n` fp32 tensors does `n²` FLOPs and moves `3n²` elements of 4 bytes: an
#   intensity of 1/12 FLOP/byte whatever its size, always memory-bound. LayerNorm, softmax and dropout
#   are of that kind, which is why they take a share of a Transformer's time far above their share of
#   its FLOPs (Ivanov et al. 2021 measured this for BERT), and why fused kernels such as FlashAttention,
#   which avoid writing intermediate results to memory, pay off (Dao et al. 2022, §3).
#
# ## Summary · 小结
#
# * FLOPs count work, FLOP/s measure a rate; prefixes are powers of ten; a PF-day is 8.64·10¹⁹ FLOPs.
# * A matmul costs two FLOPs per multiply-add. FlopCounterMode counts matmuls only, and not the fused CPU
#   attention kernel or a causal saving.
# * A Transformer's forward pass costs about 2N FLOPs per token for its weights plus
#   4·n_layer·seq·d_model for attention's two matmuls (Kaplan et al.'s convention counts half of that,
#   PaLM's the full square); 2N stops being a good budget past about 0.6·d_model tokens; training costs
#   about 3× the forward, less the gradients nobody needs.
# * Time with warm-up, a median of repeats and, on a GPU, `synchronize` before every clock reading.
# * MFU = useful model FLOP/s ÷ peak FLOP/s; large runs reach about 40–46%.
# * The roofline: attainable FLOP/s = min(peak, intensity × bandwidth); below the ridge, memory is the
#   limit.
#
# **Next:** tensors, and the reductions and memory layouts that these FLOPs run on.

# %% [markdown] lang="zh"
# 读图：叉号是这台机器上的矩阵乘法。最好的那一个按构造正好碰到屋顶（它的速率*就是*我们的屋顶）；
# 小的矩阵乘法远在屋顶之下：限制它们的是各种开销，而不是屋顶。
#
# 在交互组件中可以尝试：
#
# * 在 bf16 的 H100 上，方阵乘法要多大才能到达脊点？（它在 bf16 下的算术强度是 `n/3`：解 `n/3 ≈ 295`。）
# * 两个 `n×n` fp32 张量的逐元素加法做 `n²` FLOP，搬运 `3n²` 个 4 字节的元素：无论大小如何，算术强度都是 1/12
#   FLOP/字节，总是访存受限。层归一化、softmax 和 dropout 都属于这一类，所以它们在 Transformer
#   运行时间中所占的比例远高于它们在 FLOP 中所占的比例（Ivanov et al. 2021 对 BERT 做过测量）；这也是 FlashAttention
#   这类融合内核（避免把中间结果写回内存）能带来收益的原因（Dao et al. 2022，§3）。
#
# ## 小结 · Summary
#
# * FLOP 统计计算量，FLOP/s 衡量速率；单位前缀是 10 的幂；一个 PF-天是 8.64·10¹⁹ FLOP。
# * 矩阵乘法每次乘加记 2 FLOP。FlopCounterMode 只统计矩阵乘法，不统计 CPU 上的融合注意力内核，
#   也不计因果掩码带来的节省。
# * Transformer 的前向传播每个词元大约需要 2N FLOP 用于权重，外加注意力两次矩阵乘法的 4·n_layer·seq·d_model（Kaplan et
#   al. 的约定只计其一半，PaLM 的约定计入完整的方阵）；词元数超过大约 0.6·d_model 之后，2N 就不再是一个好的估计；
#   训练的开销约为前向的 3 倍，减去没有用处的梯度。
# * 计时要预热、取多次重复的中位数；在 GPU 上，每次读时钟之前都要 `synchronize`。
# * MFU = 模型的有效 FLOP/s ÷ 峰值 FLOP/s；大规模训练能达到大约 40–46%。
# * 屋顶线：可达 FLOP/s = min(峰值, 算术强度 × 带宽)；在脊点以下，限制来自内存。
#
# **下一章：** 张量，以及这些 FLOP 所依赖的归约操作和内存布局。

# %% [markdown]
# ## References · 参考文献
#
# 1. Brown, T. et al. (2020). Language Models are Few-Shot Learners. NeurIPS 2020, arXiv:2005.14165.
#    Table 2.1 (GPT-3 175B: d_model 12,288), Appendix D, Table D.1 (GPT-3's training compute: 3.14·10²³
#    FLOPs, 3.64·10³ PF-days).
# 2. Kaplan, J. et al. (2020). Scaling Laws for Neural Language Models. arXiv:2001.08361. §2.1 and
#    Table 1 (parameter and FLOP counts per token, C_forward ≈ 2N + 2·n_layer·n_ctx·d_attn, the
#    d_model ≫ n_ctx/12 condition, ≈ 6N with the backward pass; 2 FLOPs per multiply-accumulate).
# 3. Chowdhery, A. et al. (2022). PaLM: Scaling Language Modeling with Pathways. arXiv:2204.02311.
#    §4.1 and Table 3 (MFU, 46.2% for PaLM 540B), Appendix B (model FLOPs: 6N + 12·L·H·Q·T per token).
# 4. Llama Team, AI @ Meta (2024). The Llama 3 Herd of Models. arXiv:2407.21783. §3.3.2, Table 4
#    (38–43% BF16 MFU for Llama 3 405B).
# 5. Radford, A. et al. (2019). Language Models are Unsupervised Multitask Learners. OpenAI technical
#    report. Table 2 (the smallest model: 12 layers, d_model 768; the largest: d_model 1600), §2.3
#    (vocabulary of 50,257).
#    Radford, A. et al. (2018). Improving Language Understanding by Generative Pre-Training. OpenAI
#    technical report. §4.1 (12 attention heads, 3072-dimensional feed-forward inner states).
# 6. Williams, S., Waterman, A. & Patterson, D. (2009). Roofline: An Insightful Visual Performance Model
#    for Multicore Architectures. Communications of the ACM 52(4), 65–76.
# 7. NVIDIA A100 Tensor Core GPU datasheet (2021): 312 TFLOP/s bf16 dense, 2,039 GB/s (80 GB SXM).
# 8. NVIDIA H100 Tensor Core GPU datasheet (2023): 989 TFLOP/s bf16 dense (SXM), 3.35 TB/s.
# 9. PyTorch documentation, "CUDA semantics: Asynchronous execution", and `torch.utils.flop_counter`
#    (its source lists the operators with FLOP formulas and notes that causal attention is not accounted for).
# 10. Dao, T. et al. (2022). FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness.
#     NeurIPS 2022, arXiv:2205.14135. §3 (tiling, avoiding writes of the attention matrix), App. B.
# 11. Ivanov, A., Dryden, N., Ben-Nun, T., Li, S. & Hoefler, T. (2021). Data Movement Is All You Need: A
#     Case Study on Optimizing Transformers. MLSys 2021, arXiv:2007.00072.
# 12. Dao, T. (2023). FlashAttention-2: Faster Attention with Better Parallelism and Work Partitioning.
#     arXiv:2307.08691. §3.1.1 (causal masking: blocks above the diagonal are skipped).

# %% [markdown] lang="zh"
# ## 参考文献 · References
#
# 1. Brown, T. et al. (2020). Language Models are Few-Shot Learners. NeurIPS 2020, arXiv:2005.14165.
#    表 2.1（GPT-3 175B：d_model 12,288），附录 D，表 D.1（GPT-3 的训练算力：3.14·10²³ FLOP，3.64·10³ PF-天）。
# 2. Kaplan, J. et al. (2020). Scaling Laws for Neural Language Models. arXiv:2001.08361. §2.1 和表
#    1（每个词元的参数量与 FLOP 计数，C_forward ≈ 2N + 2·n_layer·n_ctx·d_attn，d_model ≫ n_ctx/12 的条件，
#    加上反向传播约为 6N；每次乘累加记 2 FLOP）。
# 3. Chowdhery, A. et al. (2022). PaLM: Scaling Language Modeling with Pathways. arXiv:2204.02311.
#    §4.1 和表 3（MFU，PaLM 540B 为 46.2%），附录 B（模型 FLOP：每个词元 6N + 12·L·H·Q·T）。
# 4. Llama Team, AI @ Meta (2024). The Llama 3 Herd of Models. arXiv:2407.21783. §3.3.2，表 4（Llama 3 405B 的 BF16 MFU
#    为 38–43%）。
# 5. Radford, A. et al. (2019). Language Models are Unsupervised Multitask Learners. OpenAI technical report. 表
#    2（最小的模型：12 层，d_model 768；最大的模型：d_model 1600），§2.3（词表大小 50,257）。
#    Radford, A. et al. (2018). Improving Language Understanding by Generative Pre-Training. OpenAI technical report.
#    §4.1（12 个注意力头，前馈网络内部 3072 维）。
# 6. Williams, S., Waterman, A. & Patterson, D. (2009). Roofline: An Insightful Visual Performance Model for Multicore
#    Architectures. Communications of the ACM 52(4), 65–76.
# 7. NVIDIA A100 Tensor Core GPU 规格书（2021）：bf16 稠密 312 TFLOP/s，2,039 GB/s（80 GB SXM）。
# 8. NVIDIA H100 Tensor Core GPU 规格书（2023）：bf16 稠密 989 TFLOP/s（SXM），3.35 TB/s。
# 9. PyTorch 文档，“CUDA semantics: Asynchronous execution”，以及 `torch.utils.flop_counter`（其源代码列出了带 FLOP
#    公式的算子，并注明不考虑因果注意力）。
# 10. Dao, T. et al. (2022). FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness. NeurIPS 2022,
#     arXiv:2205.14135. §3（分块计算，避免写出注意力矩阵），附录 B。
# 11. Ivanov, A., Dryden, N., Ben-Nun, T., Li, S. & Hoefler, T. (2021). Data Movement Is All You Need: A Case Study on
#     Optimizing Transformers. MLSys 2021, arXiv:2007.00072.
# 12. Dao, T. (2023). FlashAttention-2: Faster Attention with Better Parallelism and Work Partitioning.
#     arXiv:2307.08691. §3.1.1（因果掩码：跳过对角线以上的块）。

# %%
glossary.show("01-compute")
