# %% [markdown]
# # Position encoding · 位置编码
#
# Attention compares every query with every key, and nothing in that comparison says *where* the
# tokens are. "dog bites man" and "man bites dog" contain the same tokens. The 2017 paper therefore adds
# "positional encodings" to the input embeddings (Vaswani et al. 2017, §3.5). In this chapter you will
# prove with a check that self-attention without positions is **permutation-equivariant**, watch naive
# position codes fail where learned and sinusoidal ones work, derive the shift and dot-product
# properties of the sinusoidal encoding, implement **RoPE** (rotary position embedding, 旋转位置编码), and
# check five properties of a good position code against five encodings.

# %% [markdown] lang="zh"
# # 位置编码 · Position encoding
#
# 注意力把每个查询与每个键进行比较，而这种比较本身完全不涉及词元位于*何处*。“dog bites man”（狗咬人）和“man bites
# dog”（人咬狗）包含的词元完全相同。因此，2017 年的论文把“位置编码”（positional encodings）加到了输入嵌入上（Vaswani et
# al. 2017，§3.5）。本章中，你将用一个检查来证明不带位置信息的自注意力是**置换等变**的，
# 看到朴素的位置编码在可学习编码和正弦编码都能胜任的地方失败，推导正弦位置编码的平移性质和点积性质，实现
# **RoPE**（rotary position embedding，旋转位置编码），并用五种编码逐一检验一个好的位置编码应有的五条性质。

# %% [markdown]
# ## Before you start · 开始之前
#
# **You will build:**
# * `is_permutation_equivariant`, a check that a layer ignores order;
# * `sinusoidal_table`, the encoding of the 2017 paper (odd widths included);
# * `shift_matrix`, the fixed linear map that moves the encoding k positions (you derive it);
# * `pe_dot`, the dot product of two encodings in closed form (you derive it);
# * `rope_rotation`, `rope_matrix` and `apply_rope`, rotary embeddings as matrices and without them.
#
# **Prerequisites:** chapters 02 (tensors: indexing with strides `0::2`, broadcasting) and 05
# (attention, scores as dot products of queries and keys). Maths: sin and cos, the angle-addition
# formulas, 2×2 rotation matrices; complex numbers $e^{i\theta}$ help in Part 4 but are not required.
#
# **Time:** about 110 minutes (reading 35, exercises 55, experiments 20).

# %% [markdown] lang="zh"
# ## 开始之前 · Before you start
#
# **本章要实现：**
# * `is_permutation_equivariant`：检查一个层是否忽略顺序；
# * `sinusoidal_table`：2017 年论文中的编码（包括宽度为奇数的情形）；
# * `shift_matrix`：把编码移动 k 个位置的固定线性映射（由你推导）；
# * `pe_dot`：两个编码的点积的闭式表达（由你推导）；
# * `rope_rotation`、`rope_matrix` 和 `apply_rope`：分别用矩阵和不用矩阵实现的旋转位置编码。
#
# **预备知识：** 第 02 章（张量：用步长 `0::2` 索引、广播）和第 05 章（注意力，作为查询与键的点积的分数）。数学：
# 正弦和余弦、两角和公式、2×2 旋转矩阵；复数 $e^{i\theta}$ 对理解第 4 部分有帮助，但不是必需的。
#
# **用时：** 约 110 分钟（阅读 35 分钟，练习 55 分钟，实验 20 分钟）。

# %% [markdown]
# Run the set-up cell first.

# %% [markdown] lang="zh"
# 先运行初始化单元格。

# %%
import math

import torch
from torch import nn

from course import glossary
from course.experiments import ch06_position_encoding as ex
from course.notebook import grading, needs, setup
from course.widgets.ch06_position_encoding import sinusoidal_explorer
from course.widgets.rope_view import rope_view

setup()


# %% [markdown]
# ## Part 1 — Attention cannot see order · 注意力看不见顺序
#
# A layer is **permutation-equivariant** (置换等变) when permuting its input tokens permutes its output
# tokens the same way: `layer(x[:, perm]) == layer(x)[:, perm]`. Self-attention is: each output is a
# weighted average whose weights depend only on the *contents* of the query and keys, and a sum does
# not care about the order of its terms. So without position information, a Transformer treats a
# sentence as a bag of words. (Equivariance is not *invariance*, `layer(x[:, perm]) == layer(x)`: the
# outputs move with their tokens.)
#
# ### Exercise 1 · 练习 1: `is_permutation_equivariant`
#
# **Difficulty:** ●○○ · **Importance:** ●●○ · **Time:** ~10 min
#
# Return a Python `bool`. The two sides are computed in different orders, so they can differ by
# rounding: compare with `torch.allclose(..., atol=1e-6)`.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Two tensors to compare: one where you permute first and apply the layer after, one where you apply
# the layer first. Along which dim of `(batch, seq, d_model)` do the tokens sit?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# `perm` is a list of positions: indexing the sequence dim with it reorders the tokens, on the input of
# one side and on the output of the other. Compare the two results token by token (not their sums or
# means, which hide the order) with a tolerance, and return a Python `bool`. No gradients are needed.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ## 第 1 部分 注意力看不见顺序 · Part 1 — Attention cannot see order
#
# 如果把一个层的输入词元做一次置换，它的输出词元也以同样的方式被置换，即 `layer(x[:, perm]) == layer(x)[:, perm]`，
# 那么这个层就是**置换等变**（permutation-equivariant）的。自注意力正是如此：每个输出都是一个加权平均，
# 其权重只取决于查询和键的*内容*，而求和并不在乎各项的顺序。所以，没有位置信息时，Transformer 把一个句子当作一袋词（bag
# of words）。（等变不是*不变*，后者是 `layer(x[:, perm]) == layer(x)`：等变时，输出随着各自的词元一起移动。）
#
# ### 练习 1 · Exercise 1：`is_permutation_equivariant`
#
# **难度：** ●○○ · **重要性：** ●●○ · **用时：** 约 10 分钟
#
# 返回一个 Python `bool`。等式两边是按不同的顺序计算的，因此可能存在舍入误差：用 `torch.allclose(..., atol=1e-6)`
# 来比较。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 要比较两个张量：一个先置换、再经过这个层；另一个先经过这个层。在 `(batch, seq, d_model)` 中，词元排列在哪一维上？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# `perm` 是一个位置列表：用它索引序列维，就会重新排列词元，一边是对输入这样做，另一边是对输出这样做。
# 带容差地逐个词元比较两个结果（不要比较它们的和或均值，那样会掩盖顺序），并返回一个 Python `bool`。不需要梯度。
#
# </details>
# </details>

# %% answer="is_permutation_equivariant"
def is_permutation_equivariant(layer, x, perm):
    """Whether the layer is permutation-equivariant on x for this permutation of the tokens.

    layer: a module mapping (batch, seq, d_model) to (batch, seq, d_model).
    x: tensor (batch, seq, d_model); perm: long tensor (seq,), a permutation of 0..seq-1.
    Returns a Python bool.
    """
    ### BEGIN SOLUTION
    with torch.no_grad():
        permuted_then_layer = layer(x[:, perm])  # (batch, seq, d_model)
        layer_then_permuted = layer(x)[:, perm]  # (batch, seq, d_model)
    return bool(torch.allclose(permuted_then_layer, layer_then_permuted, atol=1e-6))
    ### END SOLUTION


# %% answer="is_permutation_equivariant" lang="zh"
def is_permutation_equivariant(layer, x, perm):
    """对词元的这个排列而言，该层在 x 上是否置换等变。

    layer：一个把 (batch, seq, d_model) 映射为 (batch, seq, d_model) 的模块。
    x：张量 (batch, seq, d_model)；perm：long 张量 (seq,)，0..seq-1 的一个排列。
    返回一个 Python bool。
    """
    ### BEGIN SOLUTION
    with torch.no_grad():
        permuted_then_layer = layer(x[:, perm])  # (batch, seq, d_model)
        layer_then_permuted = layer(x)[:, perm]  # (batch, seq, d_model)
    return bool(torch.allclose(permuted_then_layer, layer_then_permuted, atol=1e-6))
    ### END SOLUTION


# %% tests="is_permutation_equivariant_tests" points=2
import torch
from torch import nn
from course.checks import call, check

g = torch.Generator().manual_seed(0)
x = torch.randn(2, 6, 8, generator=g, dtype=torch.float64)
perm = torch.tensor([3, 0, 5, 1, 4, 2])
got = call(is_permutation_equivariant, nn.Identity(), x, perm)
check(type(got) is bool, "return a Python bool (wrap the comparison in bool(...)), got {got}",
      got=type(got).__name__)
check(got is True, "the identity layer is equivariant but you returned False: compare the layer's output on the "
      "permuted input with its PERMUTED output (comparing with the unpermuted output tests invariance), see Part 1")
flip = lambda t: t.flip(1)  # reverses the sequence: depends on positions
check(call(is_permutation_equivariant, flip, x, perm) is False,
      "reversing the sequence depends on the positions, so it is not equivariant, but you returned True: compare "
      "the two outputs token by token (sums or means over the sequence hide the order), see Part 1")
torch.manual_seed(0)
attn = nn.MultiheadAttention(8, 2, batch_first=True).double()
self_attention = lambda t: attn(t, t, t, need_weights=False)[0]
check(call(is_permutation_equivariant, self_attention, x, perm) is True,
      "self-attention without positions is equivariant but you returned False: the two orders round differently "
      "(here by about 1e-16), so compare with a tolerance (torch.allclose), not exactly")
check(call(is_permutation_equivariant, flip, x, torch.arange(6)) is True,
      "perm = [0, 1, ..., 5] moves no token, so every layer is equivariant for it, reversal included, but you returned "
      "False: the perm argument was ignored; reorder the tokens with the perm you are given")
same_tokens = x[:, :1].expand(2, 6, 8).clone()  # every token of a sequence equal: reversal cannot be seen
check(call(is_permutation_equivariant, flip, same_tokens, perm) is True,
      "on a sequence whose tokens are all equal, reversing it and permuting it both change nothing, so the answer for "
      "that x is True, but you returned False: the x argument was ignored; run the layer on the x you are given")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch06_position_encoding as hidden
hidden.check_equivariance(is_permutation_equivariant)
### END HIDDEN TESTS

# %% [markdown]
# **Predict · 预测:** PyTorch's `nn.MultiheadAttention` on its own, and the same layer with the sinusoidal
# positions of Part 3 added to its input first: which is equivariant? Write your guess down, then run the
# next cell.

# %% [markdown] lang="zh"
# **预测 · Predict：** 单独的 PyTorch `nn.MultiheadAttention`，以及先在输入上加上第 3 部分的正弦位置编码、
# 再送入同一个层：哪一个是等变的？先写下你的猜测，再运行下一个单元格。

# %%
with needs("is_permutation_equivariant"):
    torch.manual_seed(0)
    attn = nn.MultiheadAttention(8, 2, batch_first=True).double()
    layer = lambda t: attn(t, t, t, need_weights=False)[0]
    x = torch.randn(1, 5, 8, dtype=torch.float64)
    perm = torch.randperm(5)
    print("self-attention, no positions :", is_permutation_equivariant(layer, x, perm))
    pe = ex.sinusoidal_positions(5, 8)
    print("with positions added first   :", is_permutation_equivariant(lambda t: layer(t + pe), x, perm))

# %% lang="zh"
with needs("is_permutation_equivariant"):
    torch.manual_seed(0)
    attn = nn.MultiheadAttention(8, 2, batch_first=True).double()
    layer = lambda t: attn(t, t, t, need_weights=False)[0]
    x = torch.randn(1, 5, 8, dtype=torch.float64)
    perm = torch.randperm(5)
    print("自注意力，不加位置：", is_permutation_equivariant(layer, x, perm))
    pe = ex.sinusoidal_positions(5, 8)
    print("先加上位置编码    ：", is_permutation_equivariant(lambda t: layer(t + pe), x, perm))

# %% [markdown]
# Reading the run: True, then False. Adding a different vector at each position breaks the symmetry:
# moving a token now changes the vector it carries.
#
# ## Part 2 — First attempts · 初步尝试
#
# What should a position code do? Be **unique** per position, **bounded** (so that it does not swamp the
# token embeddings), **deterministic**, defined for **any length** (also longer than in training), and
# let the model read **relative offsets** easily (Part 6 checks all five for every encoding). Three
# candidates come to mind first:
#
# * **raw integers**: add p to every feature of the token at position p;
# * **normalised positions**: add p / (n − 1), so that the code stays in [0, 1] for a length-n sequence;
# * **a learned table**: one trained vector per position, `nn.Embedding(max_len, d)`. GPT used it
#   "instead of the sinusoidal version proposed in the original work" (Radford et al. 2018, §4.1) and
#   GPT-2 kept it for 1024 positions (Radford et al. 2019, §2.3); the 2017 paper found learned and
#   sinusoidal positions "nearly identical" in BLEU (Vaswani et al. 2017, §3.5, Table 3 row (E)).
#
# The raw and normalised codes share a flaw you can derive. The position part of the score of query i
# with key j is $(W_q x_i) \cdot (W_k\, p_j \mathbf{1})= p_j\, b_i$: **linear in the key's position**. A
# linear function of j is monotone, so it can favour the first or the last key, never "the key just
# before me". A task that needs exactly that: copy the previous token. The experiment trains one
# single-head attention layer per code (sinusoidal: the 2017 table of Part 3) on sequences of length 12,
# then also reads sequences of length 24.
#
# **Predict · 预测:** which codes will copy the previous token almost perfectly at the trained length?
# Which will do no better than no positions at all, and which has nothing to offer at position 12 and
# beyond? Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# 解读运行结果：先是 True，然后是 False。在每个位置上加一个不同的向量就打破了对称性：现在移动一个词元，
# 会改变它所携带的向量。
#
# ## 第 2 部分 初步尝试 · Part 2 — First attempts
#
# 位置编码应当做到什么？每个位置的编码**唯一**；**有界**（这样才不会淹没词元嵌入）；**确定**；
# 对**任意长度**都有定义（包括比训练时更长的序列）；并且让模型能方便地读出**相对偏移**（第 6
# 部分会针对每种编码检查这五条）。最先想到的候选有三个：
#
# * **原始整数**：给位置 p 上的词元的每个特征都加上 p；
# * **归一化的位置**：加上 p / (n − 1)，使长度为 n 的序列的编码保持在 [0, 1] 之内；
# * **可学习的表**：每个位置一个经过训练的向量，即 `nn.Embedding(max_len, d)`。GPT 使用了它，
#   “而不是原始工作中提出的正弦版本”（Radford et al. 2018，§4.1），GPT-2 也沿用了它，共 1024 个位置（Radford et al.
#   2019，§2.3）；2017 年的论文发现，可学习位置与正弦位置的 BLEU “几乎相同”（Vaswani et al. 2017，§3.5，表 3 的 (E)
#   行）。
#
# 原始整数编码和归一化编码有一个共同的缺陷，你可以把它推导出来。查询 i 与键 j 的分数中与位置有关的部分是
# $(W_q x_i) \cdot (W_k\, p_j \mathbf{1})= p_j\, b_i$：它是**键位置的线性函数**。j 的线性函数是单调的，
# 所以它只能偏向第一个键或最后一个键，而永远无法偏向“紧挨在我前面的那个键”。恰好需要这种能力的任务是：复制前一个词元。
# 实验针对每种编码训练一个单头注意力层（正弦编码用的是第 3 部分中 2017 年的那张表），训练序列长度为 12，
# 然后还让它读取长度为 24 的序列。
#
# **预测 · Predict：** 在训练长度上，哪些编码几乎能完美地复制前一个词元？哪些并不比完全不用位置更好？哪一种在位置 12
# 及以后根本无从提供信息？先写下你的猜测，再运行下一个单元格。

# %%
fig, first = ex.previous_token_experiment(**({"steps": 20} if grading() else {}))
ex.show(fig)
for kind in ex.CODES:
    far = first["beyond"][kind]
    print(f"{ex.name(kind, 11)}: accuracy {first['accuracy'][kind]:.2f} at the trained length; positions 12-23 of a "
          f"longer sequence: {ex.beyond_text(far)}")
print(f"chance: {first['chance']:.3f}")

# %% lang="zh"
fig, first = ex.previous_token_experiment(**({"steps": 20} if grading() else {}))
ex.show(fig)
for kind in ex.CODES:
    far = first["beyond"][kind]
    print(f"{ex.name(kind, 11)}：训练长度上的准确率 {first['accuracy'][kind]:.2f}；更长序列中位置 12-23 的准确率："
          f"{ex.beyond_text(far)}")
print(f"随机猜测：{first['chance']:.3f}")


# %% [markdown]
# Reading the run: learned and sinusoidal positions copy the previous token perfectly (1.00) at the
# trained length; the raw integers (about 0.15) do worse than no positions at all (about 0.22, what
# guessing from the bag of tokens gives): adding p = 11 to every feature swamps the token embeddings;
# the normalised code (about 0.33) is barely better than none. Beyond the trained length the learned
# table has no row, and the sinusoidal model falls to about 0.4: a code defined at every position does
# not mean a model that works there (the paper chose sinusoids because they "may allow the model to
# extrapolate", §3.5; Part 5 comes back to this).
#
# ## Part 3 — The sinusoidal encoding · 正弦位置编码
#
# The 2017 paper's answer (Vaswani et al. 2017, §3.5): for position p and feature pair i,
#
# $$PE(p, 2i) = \sin(p\,\omega_i), \qquad PE(p, 2i+1) = \cos(p\,\omega_i), \qquad \omega_i = 10000^{-2i/d}.$$
#
# The first pair turns fast (1 radian per position), the last pair very slowly (the wavelengths run from
# 2π to nearly 10000·2π, §3.5): like the hands of a clock, together they tell positions apart over a
# long range. Sin goes in the **even** columns, cos in the **odd** ones, interleaved. For an **odd** `d`
# the last column is column `2i` with `i = (d − 1)/2`: a sin of the next frequency without its cos partner.
#
# ### Exercise 2 · 练习 2: `sinusoidal_table`
#
# **Difficulty:** ●●○ · **Importance:** ●●● · **Time:** ~15 min
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Build a `(n_positions, number of pairs)` table of angles by broadcasting a column of positions against
# a row of frequencies. How many pairs are there for an odd d, and how many cos columns?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# The exponent uses the pair index i = 0, 1, … (not the column index). For d = 5 there are three sin
# columns and two cos columns: slicing with a step of 2 selects the even or the odd columns, and the
# number of frequencies is the number of sin columns. Positions start at 0: what must row 0 be?
#
# </details>
# </details>

# %% [markdown] lang="zh"
# 解读运行结果：在训练长度上，可学习位置和正弦位置都能完美地复制前一个词元（1.00）；原始整数（约 0.15）
# 比完全不用位置（约 0.22，即仅凭词元袋去猜能达到的水平）还要差：给每个特征加上 p = 11 淹没了词元嵌入；归一化编码（约
# 0.33）只比不用位置略好一点。超出训练长度后，可学习的表没有对应的行，而正弦编码的模型跌到约 0.4：
# 一种在每个位置上都有定义的编码，并不意味着模型在那里也能正常工作（论文选择正弦函数，是因为它“可能让模型能够外推”，
# §3.5；第 5 部分会回到这个问题）。
#
# ## 第 3 部分 正弦位置编码 · Part 3 — The sinusoidal encoding
#
# 2017 年论文的答案（Vaswani et al. 2017，§3.5）：对位置 p 和特征对 i，
#
# $$PE(p, 2i) = \sin(p\,\omega_i), \qquad PE(p, 2i+1) = \cos(p\,\omega_i), \qquad \omega_i = 10000^{-2i/d}.$$
#
# 第一对转得很快（每个位置 1 弧度），最后一对转得非常慢（波长从 2π 一直到将近 10000·2π，§3.5）：就像时钟的几根指针，
# 它们合在一起就能在很大的范围内区分不同的位置。sin 放在**偶数**列，cos 放在**奇数**列，交错排列。当 `d` 为**奇数**时，
# 最后一列是第 `2i` 列，其中 `i = (d − 1)/2`：它是下一个频率的 sin，却没有与之配对的 cos。
#
# ### 练习 2 · Exercise 2：`sinusoidal_table`
#
# **难度：** ●●○ · **重要性：** ●●● · **用时：** 约 15 分钟
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 把一列位置与一行频率做广播，构造一张形状为 `(n_positions, number of pairs)` 的角度表。d 为奇数时有多少对？有多少个 cos
# 列？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 指数中用的是特征对的下标 i = 0, 1, …（而不是列的下标）。d = 5 时有三个 sin 列和两个 cos 列：步长为 2
# 的切片可以选出偶数列或奇数列，而频率的个数等于 sin 列的个数。位置从 0 开始：第 0 行必须是什么？
#
# </details>
# </details>

# %% answer="sinusoidal_table"
def sinusoidal_table(n_positions, d):
    """The sinusoidal position encoding of positions 0 .. n_positions - 1.

    n_positions: int; d: int >= 1 (odd allowed: the last column is a sin).
    Returns a float tensor (n_positions, d): row p is PE(p), pair i (columns 2i, 2i+1) turning at ω_i = 10000^(-2i/d).
    """
    ### BEGIN SOLUTION
    position = torch.arange(n_positions, dtype=torch.float64)[:, None]  # (n, 1)
    i = torch.arange((d + 1) // 2, dtype=torch.float64)  # pairs, the last one maybe half
    omega = 10000.0 ** (-2 * i / d)  # (ceil(d/2),)
    angles = position * omega  # (n, ceil(d/2))
    table = torch.zeros(n_positions, d, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angles)
    table[:, 1::2] = torch.cos(angles[:, : d // 2])
    return table.float()
    ### END SOLUTION


# %% answer="sinusoidal_table" lang="zh"
def sinusoidal_table(n_positions, d):
    """位置 0 .. n_positions - 1 的正弦位置编码。

    n_positions：int；d：int >= 1（允许为奇数：最后一列是 sin）。
    返回 float 张量 (n_positions, d)：第 p 行是 PE(p)，第 i 对（第 2i、2i+1 列）以 ω_i = 10000^(-2i/d) 的速率旋转。
    """
    ### BEGIN SOLUTION
    position = torch.arange(n_positions, dtype=torch.float64)[:, None]  # (n, 1)
    i = torch.arange((d + 1) // 2, dtype=torch.float64)  # 各个特征对，最后一对可能只有一半
    omega = 10000.0 ** (-2 * i / d)  # (ceil(d/2),)
    angles = position * omega  # (n, ceil(d/2))
    table = torch.zeros(n_positions, d, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angles)
    table[:, 1::2] = torch.cos(angles[:, : d // 2])
    return table.float()
    ### END SOLUTION


# %% tests="sinusoidal_table_tests" points=3
import math
import torch
from course.checks import call, check, close
from course.checks import ch06_position_encoding as ref

# d = 4: w_0 = 1, w_1 = 10000^(-1/2) = 0.01. Row p = [sin p, cos p, sin 0.01p, cos 0.01p].
rows = lambda f, w: torch.tensor([[f[c](p * w[c]) for c in range(4)] for p in range(3)])  # columns c = 0..3
sin, cos = math.sin, math.cos
t = call(sinusoidal_table, 3, 4)
check(tuple(getattr(t, "shape", ())) == (3, 4), "sinusoidal_table(3, 4) should have shape (3, 4), got {got}",
      got=tuple(getattr(t, "shape", ())))
ref.expect(t, rows([sin, cos, sin, cos], [1, 1, 0.01, 0.01]), atol=1e-6, name="sinusoidal_table(3, 4)", mistakes=[
    (rows([cos, sin, cos, sin], [1, 1, 0.01, 0.01]), "sin and cos are swapped: sin goes in the even columns, so "
                                                     "row 0 is [0, 1, 0, 1]"),
    (rows([sin, sin, cos, cos], [1, 0.01, 1, 0.01]), "the sines and the cosines sit in two halves: they must be "
                                                     "interleaved, sin in column 2i and cos in column 2i + 1"),
    (rows([sin, cos, sin, cos], [1, 1, 0.1, 0.1]), "the second pair turns at 0.1 rad per position: the exponent is "
                                                   "-2i/d with i the PAIR index, so w_1 = 10000^(-2/4) = 0.01"),
    (rows([sin, cos, sin, cos], [1, 0.1, 0.01, 0.001]), "every column has its own frequency: columns 2i and 2i + 1 "
                                                        "share w_i (use the pair index, not the column index)"),
    (rows([sin, cos, sin, cos], [1, 1, 1000 ** -0.5, 1000 ** -0.5]), "the base is 10000, not 1000"),
    (torch.tensor([[f(p * w) for f, w in zip([sin, cos, sin, cos], [1, 1, 0.01, 0.01])] for p in (1, 2, 3)]),
     "row 0 is position 0 (PE(0) = [0, 1, 0, 1]): positions start at 0"),
])
# d = 3 (odd): w_1 = 10000^(-2/3); the last column is a sin.
close(call(sinusoidal_table, 2, 3)[1], torch.tensor([math.sin(1), math.cos(1), math.sin(10000 ** (-2 / 3))]),
      atol=1e-6, name="row 1 of sinusoidal_table(2, 3) (odd d: the last column is the sin of the next pair)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch06_position_encoding as hidden
hidden.check_sinusoidal_table(sinusoidal_table)
### END HIDDEN TESTS

# %% [markdown]
# The widget shows the table (left) and the dot products of all its rows (right). Change d and the
# number of positions.

# %% [markdown] lang="zh"
# 下面的控件显示这张表（左图）以及它所有行两两之间的点积（右图）。改变 d 和位置的个数试试。

# %%
sinusoidal_explorer()


# %% [markdown]
# ### A shift is a linear map · 平移是线性映射
#
# The paper chose sinusoids because "for any fixed offset k, $PE_{pos+k}$ can be represented as a linear
# function of $PE_{pos}$" (Vaswani et al. 2017, §3.5). Find that function. For one pair, expand
# $\sin((p+k)\omega)$ and $\cos((p+k)\omega)$ with the angle-addition formulas: each is a combination of
# $\sin(p\omega)$ and $\cos(p\omega)$ whose coefficients depend on k and ω **but not on p**. Those
# coefficients, written as a 2×2 matrix, shift the pair; one such block per frequency gives a `d×d`
# block-diagonal matrix $M_k$ with $PE(p+k) = M_k\,PE(p)$ for every p: exactly, not approximately. A
# layer can therefore move attention "k positions to the left" with one fixed linear map.
#
# ### Exercise 3 · 练习 3: `shift_matrix`
#
# **Difficulty:** ●●○ · **Importance:** ●●○ · **Time:** ~15 min
#
# Derive $M_k$ and build it for an even d. Raise `ValueError` for an odd d: there the last sin has no cos
# partner, so no linear map of PE(p) alone can shift it. The formula $PE(p) = (\sin p\omega_i, \cos p\omega_i)_i$
# makes sense for any real p, and your derivation holds for any real k: $M_{0.5}$ moves PE(5) to PE(5.5). The
# tests use such fractional shifts, which no table of integer positions contains, so a matrix fitted to rows
# of `sinusoidal_table` (by least squares, say) is not an answer: derive the blocks.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# The pair is the vector $(\sin p\omega, \cos p\omega)$, sin first. Row 1 of its block is the coefficients
# of the new sin, row 2 those of the new cos. In which rows and columns of the `d×d` matrix does the
# block of pair i go?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# $\sin(a + b) = \sin a \cos b + \cos a \sin b$ and $\cos(a + b) = \cos a \cos b - \sin a \sin b$, with
# $a = p\omega_i$ and $b = k\omega_i$. The block of pair i occupies rows and columns 2i and 2i + 1; the
# blocks of different pairs do not mix (zeros elsewhere). A shift by −k must undo a shift by k.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ### 平移是线性映射 · A shift is a linear map
#
# 论文选择正弦函数，是因为“对于任意固定的偏移 k，$PE_{pos+k}$ 都可以表示为 $PE_{pos}$ 的线性函数”（Vaswani et al. 2017，
# §3.5）。把这个函数找出来。对其中一对，用两角和公式展开 $\sin((p+k)\omega)$ 和 $\cos((p+k)\omega)$：每一个都是
# $\sin(p\omega)$ 与 $\cos(p\omega)$ 的线性组合，组合系数取决于 k 和 ω，**但与 p 无关**。把这些系数写成一个 2×2 矩阵，
# 它就能平移这一对；每个频率一个这样的块，就得到一个 `d×d` 的分块对角矩阵 $M_k$，对每个 p 都有 $PE(p+k) = M_k\,PE(p)$：
# 这是精确成立的，而不是近似。因此，一个层只需一个固定的线性映射，就能把注意力“向左移动 k 个位置”。
#
# ### 练习 3 · Exercise 3：`shift_matrix`
#
# **难度：** ●●○ · **重要性：** ●●○ · **用时：** 约 15 分钟
#
# 推导出 $M_k$，并针对偶数 d 把它构造出来。d 为奇数时抛出 `ValueError`：这时最后一个 sin 没有配对的 cos，
# 所以任何只作用于 PE(p) 的线性映射都无法平移它。公式 $PE(p) = (\sin p\omega_i, \cos p\omega_i)_i$ 对任意实数 p
# 都有意义，你的推导也对任意实数 k 成立：$M_{0.5}$ 把 PE(5) 移到 PE(5.5)。测试用的正是这种分数平移，
# 任何由整数位置构成的表都不包含它们，所以用 `sinusoidal_table` 的行拟合出来的矩阵（例如用最小二乘法）不算答案：
# 请推导出这些块。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 这一对是向量 $(\sin p\omega, \cos p\omega)$，sin 在前。它的块的第 1 行是新 sin 的系数，第 2 行是新 cos 的系数。第 i
# 对的块放在 `d×d` 矩阵的哪几行、哪几列？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# $\sin(a + b) = \sin a \cos b + \cos a \sin b$，$\cos(a + b) = \cos a \cos b - \sin a \sin b$，其中 $a = p\omega_i$，
# $b = k\omega_i$。第 i 对的块占据第 2i 和 2i + 1 行与列；不同对的块互不混合（其余位置为零）。平移 −k 必须撤销平移 k。
#
# </details>
# </details>

# %% answer="shift_matrix"
def shift_matrix(k, d):
    """The (d, d) matrix M_k with PE(p + k) = M_k @ PE(p) for every position p.

    k: offset, an int or a float (may be negative or fractional); d: even int.
    Returns a float tensor (d, d). Raises ValueError if d is odd.
    """
    ### BEGIN SOLUTION
    if d % 2:
        raise ValueError(f"shift_matrix needs an even d, got {d}")
    m = torch.zeros(d, d, dtype=torch.float64)
    for i in range(d // 2):
        a = k * 10000.0 ** (-2 * i / d)
        m[2 * i, 2 * i], m[2 * i, 2 * i + 1] = math.cos(a), math.sin(a)
        m[2 * i + 1, 2 * i], m[2 * i + 1, 2 * i + 1] = -math.sin(a), math.cos(a)
    return m.float()
    ### END SOLUTION


# %% answer="shift_matrix" lang="zh"
def shift_matrix(k, d):
    """(d, d) 矩阵 M_k，对每个位置 p 都满足 PE(p + k) = M_k @ PE(p)。

    k：偏移，int 或 float（可以是负数或小数）；d：偶数 int。
    返回 float 张量 (d, d)。若 d 为奇数，抛出 ValueError。
    """
    ### BEGIN SOLUTION
    if d % 2:
        raise ValueError(f"shift_matrix needs an even d, got {d}")
    m = torch.zeros(d, d, dtype=torch.float64)
    for i in range(d // 2):
        a = k * 10000.0 ** (-2 * i / d)
        m[2 * i, 2 * i], m[2 * i, 2 * i + 1] = math.cos(a), math.sin(a)
        m[2 * i + 1, 2 * i], m[2 * i + 1, 2 * i + 1] = -math.sin(a), math.cos(a)
    return m.float()
    ### END SOLUTION


# %% tests="shift_matrix_tests" points=3
import math
import torch
from course.checks import call, check, close, raises
from course.checks import ch06_position_encoding as ref

def pe4(p):  # PE(p) for d = 4, written out: frequencies 1 and 1/100 (p may be fractional)
    return torch.tensor([math.sin(p), math.cos(p), math.sin(p / 100), math.cos(p / 100)], dtype=torch.float64)

def pe8(p):  # PE(p) for d = 8: frequencies 10000^(-2i/8) = 1, 0.1, 0.01, 0.001
    return torch.tensor([f(p * 10.0 ** -i) for i in range(4) for f in (math.sin, math.cos)], dtype=torch.float64)

m3 = call(shift_matrix, 3, 4)
check(tuple(getattr(m3, "shape", ())) == (4, 4), "shift_matrix(3, 4) should have shape (4, 4), got {got}",
      got=tuple(getattr(m3, "shape", ())))
ref.expect(m3.double() @ pe4(5), pe4(8), atol=1e-5, name="shift_matrix(3, 4) @ PE(5) should be PE(8)", mistakes=[
    (pe4(2), "you got PE(2): your matrix shifts by -k; the sin(kω) terms have the wrong signs (expand sin(a + b) and "
             "cos(a + b) again)"),
    (pe4(5), "you got PE(5) back: the matrix does not shift at all"),
])
close(call(shift_matrix, 0, 4), torch.eye(4), atol=1e-6, name="shift_matrix(0, 4) is the identity")
close(call(shift_matrix, -2, 8).double() @ pe8(7), pe8(5), atol=1e-5,
      name="shift_matrix(-2, 8) @ PE(7) should be PE(5)")
with ref.beyond_integer_positions("The derivation holds for every real k, and PE(5.5) exists (the same formula at "
                                  "p = 5.5), but no table of integer positions contains it: a matrix fitted to "
                                  "rows of sinusoidal_table (least squares) or built from a table row cannot follow. "
                                  "Build each 2x2 block from cos(kw_i) and sin(kw_i), see the text above Exercise 3"):
    close(call(shift_matrix, 0.5, 4).double() @ pe4(5), pe4(5.5), atol=1e-5,
          name="shift_matrix(0.5, 4) @ PE(5) should be PE(5.5)")
    close(call(shift_matrix, -1.25, 8).double() @ pe8(3), pe8(1.75), atol=1e-5,
          name="shift_matrix(-1.25, 8) @ PE(3) should be PE(1.75)")
raises(ValueError, shift_matrix, 1, 3,
       name="shift_matrix(1, 3): for an odd d the last sin has no cos partner, so it")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch06_position_encoding as hidden
hidden.check_shift_matrix(shift_matrix)
### END HIDDEN TESTS

# %% [markdown]
# What you derived, for each pair:
#
# $$\begin{pmatrix}\sin((p+k)\omega)\\ \cos((p+k)\omega)\end{pmatrix}
# = \begin{pmatrix}\cos k\omega & \sin k\omega\\ -\sin k\omega & \cos k\omega\end{pmatrix}
# \begin{pmatrix}\sin p\omega\\ \cos p\omega\end{pmatrix}:$$
#
# a rotation of the pair by $k\omega$ (clockwise in the (sin, cos) plane), the same for every p.
#
# ### The dot product depends only on the offset · 点积只取决于相对位置
#
# Take two encodings PE(p) and PE(q) of an even d and multiply them feature by feature. Pair by pair,
# the product of the two (sin, cos) vectors is a familiar identity of one angle; summed over the pairs,
# p and q appear only through q − p (Yan et al. 2019, §3.2.1, "Property 1").
#
# ### Exercise 4 · 练习 4: `pe_dot`
#
# **Difficulty:** ●●○ · **Importance:** ●●○ · **Time:** ~10 min
#
# Derive PE(p) · PE(p + offset) in closed form and compute it from `offset` and `d` alone: no table, no
# position p. Like the shift, the closed form holds for any real offset (PE(10)·PE(12.5) has one too), and
# the tests use fractional offsets: a dot product read off rows of `sinusoidal_table` is not the answer.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Write out one pair: $\sin(p\omega)\sin(q\omega) + \cos(p\omega)\cos(q\omega)$. Which formula for the
# cosine of a difference does this look like? How many pairs does an even d have?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# $\cos(a - b) = \cos a \cos b + \sin a \sin b$: put $a = q\omega_i$ and $b = p\omega_i$. What is left of
# p and q once each pair is written this way? Then count the pairs of an even d, and decide whether the dot
# product sums or averages them (it is a plain dot product).
#
# </details>
# </details>

# %% [markdown] lang="zh"
# 你推导出的结果，对每一对都是：
#
# $$\begin{pmatrix}\sin((p+k)\omega)\\ \cos((p+k)\omega)\end{pmatrix}
# = \begin{pmatrix}\cos k\omega & \sin k\omega\\ -\sin k\omega & \cos k\omega\end{pmatrix}
# \begin{pmatrix}\sin p\omega\\ \cos p\omega\end{pmatrix}:$$
#
# 即把这一对旋转 $k\omega$（在 (sin, cos) 平面上顺时针旋转），对每个 p 都一样。
#
# ### 点积只取决于相对位置 · The dot product depends only on the offset
#
# 取偶数 d 下的两个编码 PE(p) 和 PE(q)，把它们逐个特征相乘。逐对来看，两个 (sin, cos) 向量的乘积是一个熟悉的单角恒等式；
# 对所有的对求和之后，p 和 q 只以 q − p 的形式出现（Yan et al. 2019，§3.2.1，“性质 1”，Property 1）。
#
# ### 练习 4 · Exercise 4：`pe_dot`
#
# **难度：** ●●○ · **重要性：** ●●○ · **用时：** 约 10 分钟
#
# 推导出 PE(p) · PE(p + offset) 的闭式表达，并且只用 `offset` 和 `d` 把它算出来：不用表，也不用位置 p。与平移一样，
# 这个闭式表达对任意实数偏移都成立（PE(10)·PE(12.5) 也有），而且测试用的是分数偏移：从 `sinusoidal_table`
# 的行读出来的点积不是答案。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 写出其中一对：$\sin(p\omega)\sin(q\omega) + \cos(p\omega)\cos(q\omega)$。它像哪个两角差的余弦公式？偶数 d 有多少对？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# $\cos(a - b) = \cos a \cos b + \sin a \sin b$：令 $a = q\omega_i$，$b = p\omega_i$。把每一对都这样写出来之后，p 和 q
# 还剩下什么？然后数一数偶数 d 有多少对，并想清楚点积是对它们求和还是求平均（它就是普通的点积）。
#
# </details>
# </details>

# %% answer="pe_dot"
def pe_dot(offset, d):
    """PE(p) · PE(p + offset) for an even d, computed from the closed form you derive (it does not depend on p).

    offset: an int or a float (may be negative or fractional); d: even int. Returns a Python float.
    """
    ### BEGIN SOLUTION
    return float(sum(math.cos(offset * 10000.0 ** (-2 * i / d)) for i in range(d // 2)))
    ### END SOLUTION


# %% answer="pe_dot" lang="zh"
def pe_dot(offset, d):
    """偶数 d 时的 PE(p) · PE(p + offset)，用你推导出的闭式计算（它与 p 无关）。

    offset：int 或 float（可以是负数或小数）；d：偶数 int。返回一个 Python float。
    """
    ### BEGIN SOLUTION
    return float(sum(math.cos(offset * 10000.0 ** (-2 * i / d)) for i in range(d // 2)))
    ### END SOLUTION


# %% tests="pe_dot_tests" points=2
import math
import torch
from course.checks import call, close
from course.checks import ch06_position_encoding as ref

ref.expect(call(pe_dot, 0, 8), 4.0, name="pe_dot(0, 8): a row with itself, one 1 per pair", mistakes=[
    (1.0, "you averaged over the pairs: each of the d/2 pairs adds its own cosine to the sum"),
    (8.0, "there are d/2 pairs, not d terms: each (sin, cos) pair contributes ONE cosine"),
    (0.0, "sin instead of cos? sin(pw)sin(qw) + cos(pw)cos(qw) is the cosine of (q - p)w"),
])
# d = 2: PE(p) = (sin p, cos p), so PE(p)·PE(p + k) = sin p sin(p + k) + cos p cos(p + k) = cos k
close(call(pe_dot, 7, 2), math.cos(7), atol=1e-6, name="pe_dot(7, 2) = PE(10)·PE(17) for d = 2, which is cos 7")
ref.expect(call(pe_dot, -7, 2), math.cos(7), atol=1e-6, name="pe_dot(-7, 2) = PE(10)·PE(3) for d = 2", mistakes=[
    (-math.cos(7), "cos is even: the dot product is the same for +offset and -offset"),
])
# d = 4: frequencies 1 and 0.01
ref.expect(call(pe_dot, 100, 4), math.cos(100) + math.cos(1), atol=1e-6, name="pe_dot(100, 4)", mistakes=[
    (math.cos(100) + math.cos(10), "the second pair turns at w_1 = 10000^(-2/4) = 0.01: the exponent is -2i/d "
                                   "with i the pair index"),
])
with ref.beyond_integer_positions("The closed form holds for every real offset: PE(10)·PE(12.5) is a sum of "
                                  "cosines of 2.5·w_i, but no table of integer positions has a row for 12.5, so a dot "
                                  "product of two rows of sinusoidal_table (or a rounded offset) cannot give it. "
                                  "Compute the closed form from offset and d, see the text above Exercise 4"):
    close(call(pe_dot, 2.5, 4), math.cos(2.5) + math.cos(0.025), atol=1e-6, name="pe_dot(2.5, 4)")
    close(call(pe_dot, -0.75, 2), math.cos(0.75), atol=1e-6, name="pe_dot(-0.75, 2)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch06_position_encoding as hidden
hidden.check_pe_dot(pe_dot)
### END HIDDEN TESTS

# %% [markdown]
# What you derived: $PE(p)\cdot PE(q) = \sum_{i=0}^{d/2-1} \cos\big((q-p)\,\omega_i\big)$, exact for every
# p and q. Two consequences: it is **symmetric** in the offset (cos is even: the plain dot product cannot
# tell "3 to the left" from "3 to the right", Yan et al. 2019, §3.2.1, "Property 2"), and it is **not
# monotone**: it wiggles as the fast frequencies wrap around.
#
# **Predict · 预测:** in the figure of $PE(p)\cdot PE(q)$ for all pairs, what pattern do you expect, and
# will the curve against the offset k fall steadily? Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# 你推导出的结果是：$PE(p)\cdot PE(q) = \sum_{i=0}^{d/2-1} \cos\big((q-p)\,\omega_i\big)$，对每个 p 和 q 都精确成立。
# 由此得到两个推论：它关于偏移是**对称**的（cos 是偶函数：普通的点积无法区分“左边 3 个”和“右边 3 个”，Yan et al. 2019，
# §3.2.1，“性质 2”，Property 2），而且它**不是单调**的：快频率一圈圈转回来时，它会上下起伏。
#
# **预测 · Predict：** 在所有位置对的 $PE(p)\cdot PE(q)$ 的图中，你预计会看到什么样的图案？它随偏移 k
# 变化的曲线会稳步下降吗？先写下你的猜测，再运行下一个单元格。

# %%
fig, dots = ex.dot_product_figure(ex.sinusoidal_positions(256, 64))
ex.show(fig)
print(f"largest difference between offsets +k and -k: {dots['max_asymmetry']:.1e}; "
      f"steps where the curve rises again for k > 0: {dots['rising_steps_after_zero']}")

# %% lang="zh"
fig, dots = ex.dot_product_figure(ex.sinusoidal_positions(256, 64))
ex.show(fig)
print(f"偏移 +k 与 -k 之间的最大差值：{dots['max_asymmetry']:.1e}；"
      f"k > 0 时曲线重新上升的步数：{dots['rising_steps_after_zero']}")

# %% [markdown]
# Reading the figure: the matrix on the left is constant along every diagonal (same offset, same
# value), and the curve on the right is a mirror image around k = 0 (the printed asymmetry is at the
# level of float32 rounding) that falls overall but rises again many times (the printed count of rising
# steps).
#
# ### Once W_q and W_k are applied · 加上 W_q 与 W_k 之后
#
# A model never takes the plain dot product of two encodings: the score is between a query and a key,
# $PE(p)^\top W_q^\top W_k\, PE(q)$, or $PE(p)^\top A\, PE(q)$ with $A = W_q^\top W_k$ (Yan et al. 2019,
# §3.2.1). For one frequency block $\begin{pmatrix}a & b\\ c & e\end{pmatrix}$ of A, expand the product
# with the product-to-sum formulas:
#
# $$\tfrac{a+e}{2}\cos((q-p)\omega) + \tfrac{c-b}{2}\sin((q-p)\omega) + \tfrac{e-a}{2}\cos((p+q)\omega)
# + \tfrac{b+c}{2}\sin((p+q)\omega).$$
#
# The sine of the offset is **odd**: a projected score can tell left from right. The terms in p + q (and
# the blocks of A that mix two frequencies) depend on the **absolute** positions: the score is no longer
# a function of the offset alone.
#
# **Predict · 预测:** with random $W_q$, $W_k$, will the score against the offset stay a mirror image?
# Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# 读图：左边的矩阵沿每一条对角线都是常数（偏移相同，值就相同）；右边的曲线以 k = 0
# 为轴左右镜像对称（打印出的不对称程度只在 float32 舍入误差的量级），总体在下降，但会多次回升（打印出的上升步数）。
#
# ### 加上 W_q 与 W_k 之后 · Once W_q and W_k are applied
#
# 模型从来不直接计算两个编码的普通点积：分数是在查询与键之间计算的，即 $PE(p)^\top W_q^\top W_k\, PE(q)$，或记作
# $PE(p)^\top A\, PE(q)$，其中 $A = W_q^\top W_k$（Yan et al. 2019，§3.2.1）。对 A 的一个频率块
# $\begin{pmatrix}a & b\\ c & e\end{pmatrix}$，用积化和差公式展开这个乘积：
#
# $$\tfrac{a+e}{2}\cos((q-p)\omega) + \tfrac{c-b}{2}\sin((q-p)\omega) + \tfrac{e-a}{2}\cos((p+q)\omega)
# + \tfrac{b+c}{2}\sin((p+q)\omega).$$
#
# 偏移的正弦是**奇**函数：投影之后的分数能够区分左和右。而含 p + q 的项（以及 A 中混合两个频率的块）取决于**绝对**位置：
# 分数不再只是偏移的函数。
#
# **预测 · Predict：** 在随机的 $W_q$、$W_k$ 下，分数随偏移变化的曲线还会保持镜像对称吗？先写下你的猜测，
# 再运行下一个单元格。

# %%
fig, projected = ex.projected_scores_figure()
ex.show(fig)
for kind in ("plain", "projected"):
    print(f"{ex.name(kind, 9)}: largest |s(+k) - s(-k)| {projected['asymmetry'][kind]:.2g}; spread of the score at "
          f"offset 5 over positions 0-200: {projected['spread_over_p'][kind]:.2g}")

# %% lang="zh"
fig, projected = ex.projected_scores_figure()
ex.show(fig)
for kind in ("plain", "projected"):
    print(f"{ex.name(kind, 9)}：最大的 |s(+k) - s(-k)| 为 {projected['asymmetry'][kind]:.2g}；偏移 5 处的分数在"
          f"位置 0-200 上的离散程度：{projected['spread_over_p'][kind]:.2g}")


# %% [markdown]
# Reading the run: the plain scores are symmetric and the same at every position (both printed numbers
# at rounding level); the projected ones are not symmetric (a difference of about 1) and change with the
# position (a spread of about 1). So direction is visible to a projected score, but mixed up with absolute
# position; this is why Yan et al. (2019, §3.2.1) replace it with a relative encoding, and why RoPE puts
# the position into the score itself.
#
# ## Part 4 — RoPE · 旋转位置编码
#
# RoPE (Su et al. 2021, §3.2) puts positions into the **attention score itself**. Split the query and
# key features into pairs and rotate pair i of a vector at position m by the angle $m\,\theta_i$,
# $\theta_i = 10000^{-2i/d}$. With $R_m$ the block-diagonal matrix of these rotations, RoPE scores a query
# at position m against a key at position n as $\langle R_m q, R_n k\rangle$.
#
# **Which features form a pair?** This course uses the **interleaved** pairing of the RoFormer paper
# (Su et al. 2021, eq. 15): features `2i` and `2i+1`. Some code instead pairs feature `i` with feature
# `i + d/2` ("rotate half", e.g. Hugging Face Transformers' LLaMA, `rotate_half`). That is the same idea
# with the features listed in another order; the two are *not* interchangeable on the same weights
# (see the end of this part).
#
# ### Exercise 5 · 练习 5: the rotation matrices
#
# **Difficulty:** ●○○ · **Importance:** ●●○ · **Time:** ~10 min
#
# `rope_rotation(angle)` is the 2×2 matrix that turns a 2-D vector counter-clockwise by `angle` radians;
# `rope_matrix(m, d)` is the `d×d` block-diagonal $R_m$ (block i rotates features 2i, 2i+1 by
# $m\theta_i$). `torch.block_diag` may help.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Where must (1, 0) land after a quarter turn counter-clockwise, and where (0, 1)? Those are the two
# columns of the matrix. Which block of $R_m$ uses the fastest angle?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Turn (1, 0) by a general angle a: its image is the first column; turn (0, 1) for the second. Check
# your matrix on a = π/2. Block i sits on rows and columns 2i, 2i + 1, and its angle is m times the
# rate θ_i of Part 4 (the fastest rate first; the `base` argument is the 10000).
#
# </details>
# </details>

# %% [markdown] lang="zh"
# 解读运行结果：普通点积的分数是对称的，并且在每个位置上都一样（打印出的两个数都在舍入误差的量级）；
# 投影后的分数则不对称（相差约 1），而且随位置变化（离散程度约为 1）。所以投影后的分数能看出方向，
# 但方向与绝对位置混杂在一起；这就是 Yan et al.（2019，§3.2.1）改用相对位置编码的原因，也是 RoPE
# 把位置直接放进分数本身的原因。
#
# ## 第 4 部分 旋转位置编码 · Part 4 — RoPE
#
# RoPE（Su et al. 2021，§3.2）把位置放进**注意力分数本身**。把查询和键的特征分成若干对，把位于位置 m 的向量的第 i
# 对旋转角度 $m\,\theta_i$，其中 $\theta_i = 10000^{-2i/d}$。记 $R_m$ 为由这些旋转组成的分块对角矩阵，RoPE 把位于位置 m
# 的查询与位于位置 n 的键的分数记为 $\langle R_m q, R_n k\rangle$。
#
# **哪些特征组成一对？** 本课程采用 RoFormer 论文中的**交错**配对（Su et al. 2021，式 15）：特征 `2i` 与 `2i+1`。
# 有些代码则把特征 `i` 与特征 `i + d/2` 配成一对（即“rotate half”，例如 Hugging Face Transformers 中 LLaMA 的
# `rotate_half`）。两者思想相同，只是特征的排列顺序不同；但对同一组权重来说，两者*不能*互换（见本部分末尾）。
#
# ### 练习 5 · Exercise 5：旋转矩阵
#
# **难度：** ●○○ · **重要性：** ●●○ · **用时：** 约 10 分钟
#
# `rope_rotation(angle)` 是把一个二维向量逆时针旋转 `angle` 弧度的 2×2 矩阵；`rope_matrix(m, d)` 是 `d×d` 的分块对角矩阵
# $R_m$（第 i 个块把特征 2i、2i+1 旋转 $m\theta_i$）。`torch.block_diag` 或许能帮上忙。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 逆时针旋转四分之一圈之后，(1, 0) 必须落在哪里？(0, 1) 又落在哪里？它们就是矩阵的两列。$R_m$
# 的哪一个块用的角度转得最快？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 把 (1, 0) 旋转一个一般的角度 a：它的像就是第一列；把 (0, 1) 旋转得到第二列。在 a = π/2 上检查你的矩阵。第 i 个块位于第
# 2i、2i + 1 行与列，它的角度是 m 乘以第 4 部分中的转速 θ_i（最快的转速在最前面；参数 `base` 就是那个 10000）。
#
# </details>
# </details>

# %% answer="rope_matrices"
def rope_rotation(angle):
    """The 2x2 matrix (float tensor) that rotates a 2-D vector counter-clockwise by `angle` radians."""
    ### BEGIN SOLUTION
    c, s = math.cos(angle), math.sin(angle)
    return torch.tensor([[c, -s], [s, c]])
    ### END SOLUTION


def rope_matrix(m, d, base=10000.0):
    """R_m: (d, d) block-diagonal; block i rotates features (2i, 2i + 1) by m * base ** (-2i / d). d even."""
    ### BEGIN SOLUTION
    return torch.block_diag(*[rope_rotation(m * base ** (-2 * i / d)) for i in range(d // 2)])
    ### END SOLUTION


# %% answer="rope_matrices" lang="zh"
def rope_rotation(angle):
    """把一个二维向量逆时针旋转 `angle` 弧度的 2x2 矩阵（float 张量）。"""
    ### BEGIN SOLUTION
    c, s = math.cos(angle), math.sin(angle)
    return torch.tensor([[c, -s], [s, c]])
    ### END SOLUTION


def rope_matrix(m, d, base=10000.0):
    """R_m：(d, d) 分块对角矩阵；第 i 块把特征 (2i, 2i + 1) 旋转 m * base ** (-2i / d)。d 为偶数。"""
    ### BEGIN SOLUTION
    return torch.block_diag(*[rope_rotation(m * base ** (-2 * i / d)) for i in range(d // 2)])
    ### END SOLUTION


# %% tests="rope_matrices_tests" points=3
import math
import torch
from course.checks import call, check, close
from course.checks import ch06_position_encoding as ref

ref.expect(call(rope_rotation, math.pi / 2), torch.tensor([[0.0, -1.0], [1.0, 0.0]]), atol=1e-6,
           name="rope_rotation(pi/2): turns (1, 0) into (0, 1)", mistakes=[
    (torch.tensor([[0.0, 1.0], [-1.0, 0.0]]), "this turns (1, 0) into (0, -1): clockwise; the rotation is "
                                              "counter-clockwise"),
])
block = lambda a: torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
r = call(rope_matrix, 1, 4)
order = torch.tensor([0, 2, 1, 3])
ref.expect(r, torch.block_diag(block(1.0), block(0.01)), atol=1e-6,
           name="rope_matrix(1, 4): blocks for theta_0 = 1 and theta_1 = 0.01", mistakes=[
    (torch.block_diag(block(-1.0), block(-0.01)), "the blocks rotate clockwise (by -m·theta): use counter-clockwise "
                                                  "rotations"),
    (torch.block_diag(block(1.0), block(0.1)), "the second block turns by 0.1: theta_i = base^(-2i/d) with i the "
                                               "pair index (theta_1 = 10000^(-2/4) = 0.01)"),
    (torch.block_diag(block(0.01), block(1.0)), "the blocks are in reverse order: block i uses theta_i, and the "
                                                "fast theta_0 = 1 comes first"),
    (torch.block_diag(block(1.0), block(0.01))[order][:, order], "this pairs feature i with feature i + d/2 (rotate "
                                                                 "half); here the pairs are (2i, 2i + 1), neighbours"),
])
close(call(rope_matrix, 2, 4) @ call(rope_matrix, 3, 4), call(rope_matrix, 5, 4), atol=1e-5,
      name="R_2 R_3 = R_5")
ref.expect(call(rope_matrix, 1, 4, base=100.0), torch.block_diag(block(1.0), block(0.1)), atol=1e-6,
           name="rope_matrix(1, 4, base=100.0): theta_1 = 100^(-2/4) = 0.1", mistakes=[
    (torch.block_diag(block(1.0), block(0.01)), "these are the blocks of base 10000: the base argument was ignored; "
                                                "theta_i = base^(-2i/d) with the base you are given"),
])
r = call(rope_matrix, 1, 6)
check(tuple(getattr(r, "shape", ())) == (6, 6), "rope_matrix(1, 6) should be (6, 6), got {got}: the d argument "
      "was ignored? one 2x2 block per pair of the d features", got=tuple(getattr(r, "shape", ())))
ref.expect(r, torch.block_diag(block(1.0), block(10000 ** (-2 / 6)), block(10000 ** (-4 / 6))), atol=1e-6,
           name="rope_matrix(1, 6): theta_i = 10000^(-2i/6)", mistakes=[
    (torch.block_diag(block(1.0), block(0.01), block(1e-4)), "theta_i = 10000^(-2i/4): the exponent must divide by "
                                                             "the d argument (6 here), not by a fixed 4"),
])
### BEGIN HIDDEN TESTS
from course_grader.checks import ch06_position_encoding as hidden
hidden.check_rope_rotation(rope_rotation)
hidden.check_rope_matrix(rope_matrix)
### END HIDDEN TESTS

# %% [markdown]
# ### The phases cancel, step by step · 相位如何抵消
#
# Why does $\langle R_m q, R_n k\rangle$ depend on m and n only through n − m? With $R(a)$ the 2×2
# rotation by a:
#
# 1. $R(a)^\top = R(-a)$: transposing swaps the two sines, and $\sin(-a) = -\sin a$, $\cos(-a) = \cos a$.
# 2. $R(a)\,R(b) = R(a+b)$: multiply out and use the angle-addition formulas (your check R_2 R_3 = R_5).
# 3. $R_m$ is block-diagonal, so transposes and products act block by block:
#    $R_m^\top = R_{-m}$ and $R_{-m} R_n = R_{n-m}$ (block i: $R(-m\theta_i)R(n\theta_i) = R((n-m)\theta_i)$).
# 4. Therefore $\langle R_m q, R_n k\rangle = (R_m q)^\top (R_n k) = q^\top R_m^\top R_n\, k = q^\top R_{n-m}\, k$
#    (Su et al. 2021, eq. 16): the absolute phases $m\theta_i$ and $n\theta_i$ cancel; only $(n-m)\theta_i$ is left.
#
# **The same in complex numbers.** Read pair i of a vector as one complex number,
# $z_i = x_{2i} + \mathrm{i}\,x_{2i+1}$. A counter-clockwise rotation by a is multiplication by
# $e^{\mathrm{i}a}$, and the dot product of two 2-D vectors is $\mathrm{Re}(\bar z\, w)$. So
#
# $$\langle R_m q, R_n k\rangle
# = \sum_i \mathrm{Re}\big(\overline{q_i e^{\mathrm{i}m\theta_i}}\; k_i e^{\mathrm{i}n\theta_i}\big)
# = \sum_i \mathrm{Re}\big(\bar q_i\, k_i\, e^{\mathrm{i}(n-m)\theta_i}\big),$$
#
# because $\overline{e^{\mathrm{i}m\theta}} = e^{-\mathrm{i}m\theta}$ and
# $e^{-\mathrm{i}m\theta} e^{\mathrm{i}n\theta} = e^{\mathrm{i}(n-m)\theta}$
# (the 2-D case of Su et al. 2021, §3.2.1, is written this way). Rotations also preserve
# lengths: $|e^{\mathrm{i}a}| = 1$.
#
# ### Exercise 6 · 练习 6: `apply_rope`, without d×d matrices
#
# **Difficulty:** ●●○ · **Importance:** ●●● · **Time:** ~15 min
#
# Building a `d×d` matrix per position wastes memory and FLOPs: each pair needs only the 2×2 rotation
# written out (Su et al. 2021, §3.4.2). Rotate every pair of `x` at once: the angles for every position
# and pair form a `(seq, d/2)` table, which broadcasts against `(batch, heads, seq, d/2)`.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Split x into its even and odd features (two tensors of `(…, seq, d/2)`). What are the two new
# coordinates of a pair (x_even, x_odd) after a counter-clockwise turn by a? How do you put the results
# back in the interleaved order?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# The new pair is the 2×2 rotation of Exercise 5 applied to (x_even, x_odd), written out as two
# formulas. The angles come from the GIVEN positions (not 0..seq−1). Stacking two tensors on a new last
# dim and flattening the last two dims interleaves them. Build every new tensor (theta, angles) on
# `x.device`, so that the function also runs when the model is on a GPU.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ### 相位如何抵消 · The phases cancel, step by step
#
# 为什么 $\langle R_m q, R_n k\rangle$ 只通过 n − m 依赖于 m 和 n？记 $R(a)$ 为旋转角度 a 的 2×2 旋转矩阵：
#
# 1. $R(a)^\top = R(-a)$：转置交换了两个正弦，而 $\sin(-a) = -\sin a$，$\cos(-a) = \cos a$。
# 2. $R(a)\,R(b) = R(a+b)$：把乘积展开，再用两角和公式（你检查过的 R_2 R_3 = R_5）。
# 3. $R_m$ 是分块对角矩阵，所以转置和乘积都是逐块进行的：$R_m^\top = R_{-m}$，$R_{-m} R_n = R_{n-m}$（第 i 块：
#    $R(-m\theta_i)R(n\theta_i) = R((n-m)\theta_i)$）。
# 4. 因此 $\langle R_m q, R_n k\rangle = (R_m q)^\top (R_n k) = q^\top R_m^\top R_n\, k = q^\top R_{n-m}\, k$（Su et al.
#    2021，式 16）：绝对相位 $m\theta_i$ 与 $n\theta_i$ 相互抵消，只剩下 $(n-m)\theta_i$。
#
# **用复数来看也一样。** 把向量的第 i 对看作一个复数 $z_i = x_{2i} + \mathrm{i}\,x_{2i+1}$。逆时针旋转 a 就是乘以
# $e^{\mathrm{i}a}$，而两个二维向量的点积是 $\mathrm{Re}(\bar z\, w)$。所以
#
# $$\langle R_m q, R_n k\rangle
# = \sum_i \mathrm{Re}\big(\overline{q_i e^{\mathrm{i}m\theta_i}}\; k_i e^{\mathrm{i}n\theta_i}\big)
# = \sum_i \mathrm{Re}\big(\bar q_i\, k_i\, e^{\mathrm{i}(n-m)\theta_i}\big),$$
#
# 因为 $\overline{e^{\mathrm{i}m\theta}} = e^{-\mathrm{i}m\theta}$，且
# $e^{-\mathrm{i}m\theta} e^{\mathrm{i}n\theta} = e^{\mathrm{i}(n-m)\theta}$（Su et al. 2021，§3.2.1
# 中的二维情形就是这样写的）。旋转还保持长度不变：$|e^{\mathrm{i}a}| = 1$。
#
# ### 练习 6 · Exercise 6：`apply_rope`，不使用 d×d 矩阵
#
# **难度：** ●●○ · **重要性：** ●●● · **用时：** 约 15 分钟
#
# 为每个位置构造一个 `d×d` 矩阵既浪费内存又浪费计算量：每一对只需要把 2×2 旋转展开写出来（Su et al. 2021，§3.4.2）。
# 一次性旋转 `x` 的所有对：所有位置和所有对的角度构成一张 `(seq, d/2)` 的表，它可以与 `(batch, heads, seq, d/2)` 广播。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 把 x 拆成偶数特征和奇数特征（两个形状为 `(…, seq, d/2)` 的张量）。一对 (x_even, x_odd) 逆时针旋转 a 之后，
# 两个新坐标是什么？怎样把结果放回交错的顺序？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 新的一对就是把练习 5 中的 2×2 旋转作用在 (x_even, x_odd) 上，展开写成两个公式。角度来自**给定的**位置（而不是
# 0..seq−1）。把两个张量沿一个新的最后一维堆叠起来，再把最后两维展平，就能把它们交错排列。所有新建的张量（theta、
# angles）都要建在 `x.device` 上，这样模型在 GPU 上时函数也能运行。
#
# </details>
# </details>

# %% answer="apply_rope"
def apply_rope(x, positions, base=10000.0):
    """Rotate each feature pair (2i, 2i+1) of x counter-clockwise by its position times base ** (-2i / d).

    x: float tensor (batch, heads, seq, d_head), d_head even; positions: tensor (seq,) of positions.
    Returns a tensor of the same shape: for each position m, R_m applied to x[..., m, :].
    """
    ### BEGIN SOLUTION
    d = x.shape[-1]
    theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64, device=x.device) / d)  # (d/2,), on x's device
    angles = positions.to(x.device, torch.float64)[:, None] * theta[None, :]  # (seq, d/2)
    cos, sin = torch.cos(angles).to(x.dtype), torch.sin(angles).to(x.dtype)
    even, odd = x[..., 0::2], x[..., 1::2]  # (batch, heads, seq, d/2) each
    rotated = torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1)  # (..., d/2, 2)
    return rotated.flatten(-2)  # interleave back: (batch, heads, seq, d_head)
    ### END SOLUTION


# %% answer="apply_rope" lang="zh"
def apply_rope(x, positions, base=10000.0):
    """把 x 的每个特征对 (2i, 2i+1) 逆时针旋转一个角度：所在位置乘以 base ** (-2i / d)。

    x：float 张量 (batch, heads, seq, d_head)，d_head 为偶数；positions：位置张量 (seq,)。
    返回同样形状的张量：对每个位置 m，把 R_m 作用于 x[..., m, :]。
    """
    ### BEGIN SOLUTION
    d = x.shape[-1]
    theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64, device=x.device) / d)  # (d/2,)，位于 x 所在的设备上
    angles = positions.to(x.device, torch.float64)[:, None] * theta[None, :]  # (seq, d/2)
    cos, sin = torch.cos(angles).to(x.dtype), torch.sin(angles).to(x.dtype)
    even, odd = x[..., 0::2], x[..., 1::2]  # 各为 (batch, heads, seq, d/2)
    rotated = torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1)  # (..., d/2, 2)
    return rotated.flatten(-2)  # 交错排回：(batch, heads, seq, d_head)
    ### END SOLUTION


# %% tests="apply_rope_tests" points=4
import math
import torch
from course.checks import call, close
from course.checks import ch06_position_encoding as ref

x = torch.randn(1, 1, 3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
positions = torch.tensor([0, 1, 5])
out = call(apply_rope, x, positions)
close(out[0, 0, 0], x[0, 0, 0], atol=1e-6, name="apply_rope at position 0 changes nothing (angle 0)")
def turn(a, b, angle):  # the pair (a, b) rotated counter-clockwise by angle, written out
    return [a * math.cos(angle) - b * math.sin(angle), a * math.sin(angle) + b * math.cos(angle)]

x0, x1, x2, x3 = x[0, 0, 2].tolist()
half = turn(x0, x2, 5.0) + turn(x1, x3, 0.05)  # pairs (0, 2) and (1, 3), in the order (0, 1, 2, 3) below
ref.expect(out[0, 0, 2], torch.tensor(turn(x0, x1, 5.0) + turn(x2, x3, 0.05), dtype=torch.float64), atol=1e-6,
           name="apply_rope at position 5 (pairs (0, 1) and (2, 3) rotated by 5 and 0.05 rad)", mistakes=[
    (torch.tensor(turn(x0, x1, -5.0) + turn(x2, x3, -0.05)), "the pairs turned clockwise (by -m·theta): RoPE turns "
                                                             "them counter-clockwise"),
    (torch.tensor(turn(x0, x1, 2.0) + turn(x2, x3, 0.02)), "the pairs turned by their index in the sequence (2), "
                                                           "not by the given position (5): use `positions`"),
    (torch.tensor([half[0], half[2], half[1], half[3]]), "this pairs feature i with feature i + d/2 (rotate half); "
                                                         "here the pairs are (2i, 2i + 1), see Part 4"),
])
out = call(apply_rope, x, positions, base=100.0)  # theta_1 = 100^(-2/4) = 0.1
ref.expect(out[0, 0, 2], torch.tensor(turn(x0, x1, 5.0) + turn(x2, x3, 0.5), dtype=torch.float64), atol=1e-6,
           name="apply_rope with base=100.0 at position 5 (pairs rotated by 5 and 0.5 rad)", mistakes=[
    (torch.tensor(turn(x0, x1, 5.0) + turn(x2, x3, 0.05)), "the second pair turned by 0.05, as with base 10000: the "
                                                           "base argument was ignored; use the base you are given"),
])
# PyTorch's "meta" device holds shapes and no data: a tensor your function builds on the CPU fails there, as it
# would next to a model on a GPU (chapter 08 runs your apply_rope inside the model)
ref.stays_on_device(apply_rope, torch.zeros(2, 2, 3, 4, device="meta"), torch.arange(3, device="meta"))
### BEGIN HIDDEN TESTS
from course_grader.checks import ch06_position_encoding as hidden
hidden.check_apply_rope(apply_rope)
### END HIDDEN TESTS

# %% [markdown]
# Checks you can read: the explicit matrix form against the fast one, norms, the relative property, and
# the complex form of the derivation above.
#
# **Predict · 预测:** the score of positions (3, 10), (103, 110) and (1003, 1010): equal, or drifting
# apart as the positions grow? Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# 下面是一些你能读懂的检查：显式矩阵形式与快速形式的对比、范数、相对位置性质，以及上面推导中的复数形式。
#
# **预测 · Predict：** 位置对 (3, 10)、(103, 110) 和 (1003, 1010) 的分数：是相等，还是随着位置增大而逐渐偏离？
# 先写下你的猜测，再运行下一个单元格。

# %%
with needs("apply_rope", "rope_matrix"):
    q, k = torch.randn(16, dtype=torch.float64), torch.randn(16, dtype=torch.float64)
    rq = apply_rope(q[None, None, None], torch.tensor([3]))[0, 0, 0]
    print("fast form == matrix form:", torch.allclose(rq.float(), rope_matrix(3, 16) @ q.float(), atol=1e-5))
    print("norm before / after     :", f"{q.norm():.6f} / {rq.norm():.6f}")
    score = lambda m, n: float(apply_rope(q[None, None, None], torch.tensor([m]))[0, 0, 0]
                               @ apply_rope(k[None, None, None], torch.tensor([n]))[0, 0, 0])
    print("score at (m, n) = (3, 10), (103, 110), (1003, 1010):", [round(score(m, m + 7), 8) for m in (3, 103, 1003)])
    zq, zk = torch.complex(q[0::2], q[1::2]), torch.complex(k[0::2], k[1::2])  # pair i as one complex number
    theta = ex.frequencies(16)
    # sum over pairs of Re(conj(q_i) k_i e^{i (n - m) θ_i}), with n - m = 7
    complex_form = float((zq.conj() * zk * torch.exp(1j * 7 * theta)).real.sum())
    print("complex form, n - m = 7 :", round(complex_form, 8))
rope_view(apply_rope)  # your function draws the view (the course's own if yours is not ready: the view says so)

# %% lang="zh"
with needs("apply_rope", "rope_matrix"):
    q, k = torch.randn(16, dtype=torch.float64), torch.randn(16, dtype=torch.float64)
    rq = apply_rope(q[None, None, None], torch.tensor([3]))[0, 0, 0]
    print("快速形式 == 矩阵形式：", torch.allclose(rq.float(), rope_matrix(3, 16) @ q.float(), atol=1e-5))
    print("旋转前 / 后的范数   ：", f"{q.norm():.6f} / {rq.norm():.6f}")
    score = lambda m, n: float(apply_rope(q[None, None, None], torch.tensor([m]))[0, 0, 0]
                               @ apply_rope(k[None, None, None], torch.tensor([n]))[0, 0, 0])
    print("(m, n) = (3, 10)、(103, 110)、(1003, 1010) 处的分数：", [round(score(m, m + 7), 8) for m in (3, 103, 1003)])
    zq, zk = torch.complex(q[0::2], q[1::2]), torch.complex(k[0::2], k[1::2])  # 把第 i 对看作一个复数
    theta = ex.frequencies(16)
    # 对所有特征对求 Re(conj(q_i) k_i e^{i (n - m) θ_i}) 之和，其中 n - m = 7
    complex_form = float((zq.conj() * zk * torch.exp(1j * 7 * theta)).real.sum())
    print("复数形式，n - m = 7 ：", round(complex_form, 8))
rope_view(apply_rope)  # 由你的函数绘制这个视图（若你的函数还没写好，就用课程自带的版本，视图会注明）

# %% [markdown]
# Reading the run: the fast and the matrix forms agree, the norm is unchanged, the three scores are equal
# to 8 decimals, and the complex form gives the same number without any position but n − m. The view
# runs your `apply_rope`: it rotates two random vectors q and k at every position once, and everything
# it draws comes from those rotated vectors. (If your function raises, changes the shape or disagrees
# with the course's RoPE, a note at the top says so and the course's own rotation is drawn instead.)
# Move m and n and watch the arrows of one feature pair rotate; the right panel is the score of all
# pairs as a function of n − m. "shift both" adds the same number to m and n: the arrows turn, the
# score (printed below the panels) does not change.
#
# **The other convention.** "Rotate half" pairs feature `i` with `i + d/2`. Apply it to the same
# vector and you get a different result; but if you first reorder the features so that
# `(0, d/2, 1, d/2 + 1, ...)` become neighbours, the two agree exactly. A checkpoint trained with one
# convention therefore needs its q/k projection weights permuted before it can run with the other.

# %% [markdown] lang="zh"
# 解读运行结果：快速形式与矩阵形式一致，范数不变，三个分数在小数点后 8 位都相等，而复数形式除了 n − m
# 之外不需要任何位置就能给出同一个数。下面的视图运行的是你的 `apply_rope`：它在每个位置上把两个随机向量 q 和 k
# 各旋转一次，画出的所有内容都来自这些旋转后的向量。（如果你的函数抛出异常、改变了形状或者与课程的 RoPE 不一致，
# 视图顶部会有一条说明，并改为画出课程自己的旋转。）移动 m 和 n，观察一个特征对的箭头如何旋转；
# 右侧的面板是所有特征对的分数随 n − m 变化的曲线。“两者同时平移”滑块给 m 和 n 加上同一个数：箭头转动了，
# 分数（打印在面板下方）却不变。
#
# **另一种约定。** “rotate half”把特征 `i` 与 `i + d/2` 配成一对。把它作用在同一个向量上，得到的结果不同；
# 但如果先重新排列特征，使 `(0, d/2, 1, d/2 + 1, ...)` 彼此相邻，两者就完全一致。因此，用一种约定训练出来的检查点，
# 要先置换它的 q/k 投影权重，才能在另一种约定下运行。

# %%
with needs("apply_rope"):
    x = torch.randn(1, 1, 4, 8, dtype=torch.float64)
    pos = torch.arange(4)
    half = ex.rotate_half_rope(x, pos)
    print("rotate-half == interleaved on the same features:", torch.allclose(half, apply_rope(x, pos)))
    order = ex.half_to_interleaved(8)   # feature order that makes i and i + d/2 neighbours
    print("after permuting the features                   :",
          torch.allclose(half[..., order], apply_rope(x[..., order], pos)))

# %% lang="zh"
with needs("apply_rope"):
    x = torch.randn(1, 1, 4, 8, dtype=torch.float64)
    pos = torch.arange(4)
    half = ex.rotate_half_rope(x, pos)
    print("在相同特征上，rotate-half == 交错配对：", torch.allclose(half, apply_rope(x, pos)))
    order = ex.half_to_interleaved(8)   # 让特征 i 与 i + d/2 相邻的特征顺序
    print("把特征重新排列之后                   ：",
          torch.allclose(half[..., order], apply_rope(x[..., order], pos)))

# %% [markdown]
# ## Part 5 — Beyond the training length · 超出训练长度
#
# A model only ever sees offsets up to its training context. What do RoPE scores do further out?
# A toy fit: choose q and k (d = 16) so that the score matches a decaying target `exp(−n/8)` on the
# offsets 0–31 only, for two bases, then plot the fitted score up to offset 255.
#
# **Predict · 预测:** beyond offset 31, will the fitted scores keep following the target? Write your
# guess down, then run the next cell.

# %% [markdown] lang="zh"
# ## 第 5 部分 超出训练长度 · Part 5 — Beyond the training length
#
# 模型见过的偏移最多只到它的训练上下文长度。在更远的地方，RoPE 的分数会怎样？一个玩具拟合：对两种基数，各选一组 q 和 k
# （d = 16），使分数只在偏移 0–31 上拟合一个衰减的目标 `exp(−n/8)`，然后把拟合出的分数一直画到偏移 255。
#
# **预测 · Predict：** 在偏移 31 之后，拟合出的分数还会继续跟随目标吗？先写下你的猜测，再运行下一个单元格。

# %%
fig, fit = ex.extrapolation_experiment()
ex.show(fig)
for base, err in fit["errors"].items():
    print(f"base {base:>7g}: RMSE on the fitted offsets {err['train_rmse']:.3f}, beyond them {err['beyond_rmse']:.3f}; "
          f"slowest frequency {fit['lowest_frequency'][base]:.2e} rad/position")

# %% lang="zh"
fig, fit = ex.extrapolation_experiment()
ex.show(fig)
for base, err in fit["errors"].items():
    print(f"基数 {base:>7g}：拟合所用偏移上的 RMSE 为 {err['train_rmse']:.3f}，更远处为 {err['beyond_rmse']:.3f}；"
          f"最慢的频率 {fit['lowest_frequency'][base]:.2e} rad/位置")

# %% [markdown]
# Reading the figure: inside the grey band both fits follow the target (the small printed RMSE);
# beyond it the scores swing far away from it (the much larger printed RMSE): nothing in the fit
# constrained them there. The rotation angles at offsets never seen are new combinations of phases,
# and nothing makes a fitted score behave sensibly on them. This toy (one 16-dim query–key pair, not a
# trained model) shows **one reason** models degrade beyond their training context, and why
# context-extension methods rescale the positions or the base (position interpolation, Chen et al. 2023;
# "NTK-aware" scaling and YaRN, Peng et al. 2023): they map long offsets back onto angles the model has
# seen. The base sets the slowest frequency (printed): a larger base turns more slowly, so a longer
# range of offsets stays within the first turn of the slowest pair.
#
# ### Relative position biases · 相对位置偏置
#
# Parts 3 and 4 asked for scores that depend on the offset j − i. Three schemes put the offset into the
# score directly, with no code added to the embeddings. **Relative position representations** (Shaw et al.
# 2018, §3): a learned vector per offset is added to the key (and the value) inside attention, and offsets
# farther than a clip distance k share the vector of ±k (§3.2), so the table has 2k + 1 rows whatever the
# length. **T5's buckets** (Raffel et al. 2020, §2.1): one learned scalar per bucket and head, added to the
# score; 32 buckets whose ranges "increase in size logarithmically up to an offset of 128", and every farther
# offset shares one bucket. **ALiBi** (Press et al. 2022, §3): nothing learned, a bias −m·(i − j) that grows
# linearly with the distance, with a fixed slope m per head (a geometric sequence 2^(−8/n), …, 2^(−8) for n
# heads), defined at every offset. The next cell shows which entry each scheme uses for a few offsets, and
# how many distinct entries the offsets 0 to 1000 need (Shaw with k = 4, T5's 32 buckets, the first of 8
# ALiBi heads).

# %% [markdown] lang="zh"
# 读图：在灰色带内，两种拟合都跟随目标（打印出的 RMSE 很小）；在灰色带以外，分数大幅偏离目标（打印出的 RMSE 大得多）：
# 拟合时没有任何东西约束那里的分数。在从未见过的偏移上，旋转角度是相位的新组合，
# 没有什么能保证拟合出的分数在这些组合上表现合理。这个玩具例子（只有一对 16 维的查询和键，而不是训练好的模型）
# 展示了模型在超出训练上下文后性能下降的**一个原因**，也说明了上下文扩展方法为什么要重新缩放位置或基数（位置插值，Chen
# et al. 2023；“NTK-aware”缩放和 YaRN，Peng et al. 2023）：它们把长偏移映射回模型见过的角度上。
# 基数决定了最慢的频率（已打印）：基数越大，转得越慢，于是更长范围的偏移都落在最慢那一对的第一圈之内。
#
# ### 相对位置偏置 · Relative position biases
#
# 第 3 部分和第 4 部分要求分数取决于偏移 j − i。有三种方案直接把偏移放进分数，而不往嵌入上添加任何编码。
# **相对位置表示**（Shaw et al. 2018，§3）：在注意力内部，给键（以及值）加上每个偏移对应的一个可学习向量，超过截断距离 k
# 的偏移共用 ±k 的向量（§3.2），所以不论长度多少，这张表都只有 2k + 1 行。**T5 的分桶**（Raffel et al. 2020，§2.1）：
# 每个桶、每个头一个可学习的标量，加到分数上；共 32 个桶，其范围“以对数方式增大，直到偏移 128”，
# 更远的偏移全都共用一个桶。**ALiBi**（Press et al. 2022，§3）：不学习任何东西，偏置为 −m·(i − j)，随距离线性增长，
# 每个头有一个固定的斜率 m（对 n 个头是等比数列 2^(−8/n), …, 2^(−8)），在每个偏移上都有定义。
# 下一个单元格展示每种方案对几个偏移分别使用哪一项，以及偏移 0 到 1000 一共需要多少个不同的项（Shaw 取 k = 4，T5 用 32
# 个桶，ALiBi 取 8 个头中的第一个）。

# %%
rel = ex.relative_bias_demo()
print("  offset  Shaw row  T5 bucket  ALiBi bias")
for offset, shaw, bucket, bias in zip(rel["offsets"], rel["shaw"], rel["t5"], rel["alibi_first_head"]):
    print(f"{offset:>8} {shaw:>9} {bucket:>10} {bias + 0.0:>11.1f}")  # + 0.0 prints -0.0 as 0.0
print("ALiBi slopes of 8 heads:", [f"1/{round(1 / m)}" for m in rel["slopes"]])
print("distinct entries for offsets 0-1000:", rel["distinct"])

# %% lang="zh"
rel = ex.relative_bias_demo()
print("    偏移 Shaw 行号    T5 桶号  ALiBi 偏置")
for offset, shaw, bucket, bias in zip(rel["offsets"], rel["shaw"], rel["t5"], rel["alibi_first_head"]):
    print(f"{offset:>8} {shaw:>9} {bucket:>10} {bias + 0.0:>11.1f}")  # 加上 0.0，-0.0 就会打印成 0.0
print("8 个头的 ALiBi 斜率：", [f"1/{round(1 / m)}" for m in rel["slopes"]])
print("偏移 0-1000 需要的不同项数：", rel["distinct"])

# %% [markdown]
# Reading the run: Shaw's table stops telling offsets apart at 4 (5 rows for offsets 0–1000); T5 keeps
# one bucket per offset near the query and ever wider ones further out, and from 128 on every offset
# shares bucket 31 (16 buckets for the keys on one side); ALiBi gives every offset its own bias (1001
# values), a straight line with no parameter to learn, which is why its paper can test on sequences
# longer than those it trained on (the title: "Train Short, Test Long").
#
# ## Part 6 — Five properties, five encodings · 五条性质，五种编码
#
# Back to the list of Part 2, now with every encoding you have met. For RoPE, which adds nothing to the
# embeddings, the "code" of position p is $R_p$ applied to one fixed unit vector: the rotation every
# query and key at p goes through. "learned" is a random table of 64 rows, as before training (training
# changes its values, not its shape). All measured on d = 16, 64 positions, and 256 where a longer
# sequence is needed.

# %% [markdown] lang="zh"
# 解读运行结果：Shaw 的表从偏移 4 开始就不再区分偏移（偏移 0–1000 只有 5 行）；T5 在查询附近每个偏移一个桶，
# 越往远处桶越宽，从 128 起所有偏移都共用第 31 号桶（单侧的键共 16 个桶）；ALiBi 给每个偏移各自的偏置（1001 个值），
# 是一条没有参数需要学习的直线，这就是它的论文能在比训练序列更长的序列上测试的原因（标题即“Train Short, Test Long”，
# 短训练，长测试）。
#
# ## 第 6 部分 五条性质，五种编码 · Part 6 — Five properties, five encodings
#
# 回到第 2 部分的列表，这次用上你见过的每一种编码。RoPE 不往嵌入上加任何东西，对它而言，位置 p 的“编码”是把 $R_p$
# 作用在一个固定单位向量上的结果：也就是位置 p 上的每个查询和键都要经历的那个旋转。“learned”（可学习）是一张 64
# 行的随机表，与训练之前一样（训练改变的是它的值，而不是它的形状）。所有测量都在 d = 16、64 个位置上进行，
# 需要更长序列的地方用 256 个位置。

# %%
props = ex.five_properties()


def show_property(name):
    for e in ex.ENCODINGS:
        holds, why = props[name][e]
        print(f"  {ex.name(e, 11)}: {ex.yes_no(holds, 3)}  ({why})")


# %% lang="zh"
props = ex.five_properties()


def show_property(name):
    for e in ex.ENCODINGS:  # 每种编码一行：这条性质是否成立，以及测量到了什么
        holds, why = props[name][e]
        print(f"  {ex.name(e, 11)}：{ex.yes_no(holds, 3)}（{why}）")


# %% [markdown]
# **1. Unique** (唯一). Two positions with the same code are the same position to the model.

# %% [markdown] lang="zh"
# **1. 唯一**（Unique）。两个编码相同的位置，对模型来说就是同一个位置。

# %%
show_property("unique")

# %% [markdown]
# All five are unique, but the normalised code puts neighbours only 0.06 apart (1/63 in each of 16
# features): the longer the sequence, the harder neighbours are to tell apart.
#
# **2. Bounded** (有界). The code is added to embeddings of norm about √d; it should not outgrow them.

# %% [markdown] lang="zh"
# 五种编码都是唯一的，但归一化编码让相邻位置只相差 0.06（16 个特征中每一个都相差 1/63）：序列越长，相邻位置就越难区分。
#
# **2. 有界**（Bounded）。编码要加到范数约为 √d 的嵌入上，它不应该比嵌入还大。

# %%
show_property("bounded")

# %% [markdown]
# Only the raw integers grow with the length (252 at 64 positions, about 1020 at 256). The sinusoidal
# norm is exactly √(d/2) ≈ 2.83 at every position (each pair has norm 1), and a rotation keeps RoPE's at 1.
#
# **3. Deterministic** (确定性). The same position gets the same code in every model, with no training.

# %% [markdown] lang="zh"
# 只有原始整数会随长度增长（64 个位置时为 252，256 个位置时约为 1020）。正弦编码的范数在每个位置上都恰好是 √(d/2) ≈ 2.83
# （每一对的范数为 1），而旋转让 RoPE 的范数保持为 1。
#
# **3. 确定性**（Deterministic）。同一个位置在每个模型中都得到同样的编码，无需训练。

# %%
show_property("deterministic")

# %% [markdown]
# Only the learned table depends on a seed and on training; the other four are formulas.
#
# **4. Any length** (任意长度). A code exists for every position, and the codes of the first positions
# do not change when the sequence gets longer.

# %% [markdown] lang="zh"
# 只有可学习的表依赖于随机种子和训练；其他四种都是公式。
#
# **4. 任意长度**（Any length）。每个位置都有编码，而且序列变长时，前面那些位置的编码不会改变。

# %%
show_property("any length")

# %% [markdown]
# The learned table has no row past its size (GPT-2: 1024), and the normalised code of position 10
# changes with the sequence's length, so a model trained on one length reads another length's positions
# wrongly. Raw integers, sinusoids and RoPE are defined everywhere (which, Part 2 and Part 5 showed,
# is not the same as working everywhere).
#
# **5. Relative offsets** (相对位置). One fixed linear map moves every code by one position (Exercise 3),
# so a layer can attend "one to the left" with fixed weights.

# %% [markdown] lang="zh"
# 可学习的表超出它的大小就没有对应的行（GPT-2：1024），而位置 10 的归一化编码会随序列长度而变，
# 所以在一种长度上训练的模型会读错另一种长度下的位置。原始整数、正弦编码和 RoPE 在每个位置上都有定义（但第 2 部分和第 5
# 部分已经表明，有定义并不等于处处都能正常工作）。
#
# **5. 相对偏移**（Relative offsets）。一个固定的线性映射能把每个编码移动一个位置（练习 3），
# 这样一个层用固定的权重就能关注“左边一个”。

# %%
show_property("relative")
ex.show(ex.properties_figure(props))

# %% [markdown]
# Reading the run: only the sinusoidal table (the shift matrix of Exercise 3, exact up to float32
# rounding) and RoPE (a rotation, exact) can be shifted by one fixed linear map; the raw and normalised
# codes miss by a whole step (a linear map sends the zero code of position 0 to zero, never to the code of
# position 1), and a random table misses by most of a step. The grid: sinusoidal and RoPE pass all five,
# and RoPE also puts the offset directly into the score.
#
# ## Summary · 小结
#
# * Self-attention without positions is permutation-equivariant: order must be injected.
# * Raw or normalised integer positions give scores linear in the key's position (monotone: they cannot
#   pick "the previous token"); raw ones also swamp the embeddings; a learned table (GPT, GPT-2) works
#   within its size and has no row beyond it.
# * Sinusoidal PE: sin in even, cos in odd columns, ω_i = 10000^(−2i/d). Shifting by k is the exact
#   linear map M_k, and PE(p)·PE(q) = Σ cos((q − p)ω_i): offset-only, symmetric, not monotone. Once
#   projected by W_q, W_k the score can tell direction but also depends on absolute position.
# * RoPE rotates q and k pairs (interleaved 2i, 2i+1) by m·θ_i; R_mᵀR_n = R_(n−m) (in complex form,
#   the phases e^{−imθ}e^{inθ} = e^{i(n−m)θ}) makes scores depend on n − m only; apply it with cos/sin on
#   even/odd features, never with d×d matrices.
# * Scores at offsets longer than in training are unconstrained: one reason long inputs fail, and why
#   context extension rescales positions or the base.
#
# **Next:** the encoder and decoder layers that put attention, feed-forward networks, LayerNorm and
# residuals together.

# %% [markdown] lang="zh"
# 解读运行结果：只有正弦编码表（练习 3 的平移矩阵，在 float32 舍入误差范围内精确）和 RoPE（一个旋转，精确）
# 能用一个固定的线性映射平移一个位置；原始整数编码和归一化编码差了整整一步（线性映射总是把位置 0 的零编码映射为零，
# 永远得不到位置 1 的编码），随机表也差了大半步。汇总表格：正弦编码和 RoPE 五条全部通过，而且 RoPE
# 还把偏移直接放进了分数。
#
# ## 小结 · Summary
#
# * 不带位置信息的自注意力是置换等变的：必须把顺序信息注入进去。
# * 原始整数位置或归一化的整数位置使分数成为键位置的线性函数（单调：无法挑出“前一个词元”）；原始整数还会淹没嵌入；
#   可学习的表（GPT、GPT-2）在它的大小之内有效，超出之后就没有对应的行。
# * 正弦位置编码：sin 放在偶数列，cos 放在奇数列，ω_i = 10000^(−2i/d)。平移 k 是精确的线性映射 M_k，且 PE(p)·PE(q) = Σ
#   cos((q − p)ω_i)：只取决于偏移，对称，不单调。经过 W_q、W_k 投影之后，分数能分辨方向，但也依赖于绝对位置。
# * RoPE 把 q 和 k 的各个特征对（交错的 2i、2i+1）旋转 m·θ_i；R_mᵀR_n = R_(n−m)（写成复数形式，就是相位
#   e^{−imθ}e^{inθ} = e^{i(n−m)θ}）使分数只取决于 n − m；实现时在偶数/奇数特征上用 cos/sin 计算，绝不构造 d×d 矩阵。
# * 比训练时更长的偏移上，分数不受任何约束：这是长输入失效的一个原因，也是上下文扩展要重新缩放位置或基数的原因。
#
# **下一章：** 编码器层和解码器层，把注意力、前馈网络、层归一化和残差连接组装到一起。

# %%
glossary.show("06-position-encoding")

# %% [markdown]
# ## References · 参考文献
#
# 1. Vaswani, A. et al. (2017). Attention Is All You Need. NeurIPS 2017, arXiv:1706.03762. §3.5
#    (positional encoding: the formula, the wavelengths, the linear shift, learned vs sinusoidal),
#    §6.2 and Table 3 row (E).
# 2. Radford, A., Narasimhan, K., Salimans, T., Sutskever, I. (2018). Improving Language Understanding by
#    Generative Pre-Training. OpenAI report. §4.1 (learned position embeddings).
# 3. Radford, A., Wu, J., Child, R., Luan, D., Amodei, D., Sutskever, I. (2019). Language Models are
#    Unsupervised Multitask Learners. OpenAI report. §2.3 (a context of 1024 tokens).
# 4. Yan, H., Deng, B., Li, X., Qiu, X. (2019). TENER: Adapting Transformer Encoder for Named Entity
#    Recognition. arXiv:1911.04474. §3.2.1 (Properties 1 and 2, the projected score $PE^\top W PE$).
# 5. Su, J., Lu, Y., Pan, S., Murtadha, A., Wen, B., Liu, Y. (2021). RoFormer: Enhanced Transformer with
#    Rotary Position Embedding. arXiv:2104.09864. §3.2.1 (the 2-D case in complex form), §3.2.2 eqs. 14–16
#    (the block-diagonal R and the relative score), §3.4.2 (the efficient form).
# 6. Chen, S., Wong, S., Chen, L., Tian, Y. (2023). Extending Context Window of Large Language Models via
#    Positional Interpolation. arXiv:2306.15595.
# 7. Peng, B., Quesnelle, J., Fan, H., Shippole, E. (2023). YaRN: Efficient Context Window Extension of
#    Large Language Models. arXiv:2309.00071 (also describes "NTK-aware" scaling).
# 8. Hugging Face Transformers, `models/llama/modeling_llama.py`, function `rotate_half` (the rotate-half
#    pairing).
# 9. Shaw, P., Uszkoreit, J., Vaswani, A. (2018). Self-Attention with Relative Position Representations.
#    NAACL 2018, arXiv:1803.02155. §3 (relative position representations), §3.2 (clipping at distance k).
# 10. Raffel, C. et al. (2020). Exploring the Limits of Transfer Learning with a Unified Text-to-Text
#     Transformer. JMLR 21(140), arXiv:1910.10683. §2.1 (32 relative position buckets up to offset 128).
# 11. Press, O., Smith, N. A., Lewis, M. (2022). Train Short, Test Long: Attention with Linear Biases Enables
#     Input Length Extrapolation. ICLR 2022, arXiv:2108.12409. §3 (ALiBi's biases and slopes).

# %% [markdown] lang="zh"
# ## 参考文献 · References
#
# 1. Vaswani, A. et al. (2017). Attention Is All You Need. NeurIPS 2017, arXiv:1706.03762. §3.5（位置编码：公式、波长、
#    线性平移、可学习编码与正弦编码的比较），§6.2 和表 3 的 (E) 行。
# 2. Radford, A., Narasimhan, K., Salimans, T., Sutskever, I. (2018). Improving Language Understanding by Generative
#    Pre-Training. OpenAI report. §4.1（可学习的位置嵌入）。
# 3. Radford, A., Wu, J., Child, R., Luan, D., Amodei, D., Sutskever, I. (2019). Language Models are Unsupervised
#    Multitask Learners. OpenAI report. §2.3（1024 个词元的上下文）。
# 4. Yan, H., Deng, B., Li, X., Qiu, X. (2019). TENER: Adapting Transformer Encoder for Named Entity Recognition.
#    arXiv:1911.04474. §3.2.1（性质 1 和性质 2，投影后的分数 $PE^\top W PE$）。
# 5. Su, J., Lu, Y., Pan, S., Murtadha, A., Wen, B., Liu, Y. (2021). RoFormer: Enhanced Transformer with Rotary Position
#    Embedding. arXiv:2104.09864. §3.2.1（复数形式的二维情形），§3.2.2 式 14–16（分块对角矩阵 R 与相对分数），§3.4.2
#    （高效的计算形式）。
# 6. Chen, S., Wong, S., Chen, L., Tian, Y. (2023). Extending Context Window of Large Language Models via Positional
#    Interpolation. arXiv:2306.15595.
# 7. Peng, B., Quesnelle, J., Fan, H., Shippole, E. (2023). YaRN: Efficient Context Window Extension of Large Language
#    Models. arXiv:2309.00071（其中也介绍了“NTK-aware”缩放）。
# 8. Hugging Face Transformers，`models/llama/modeling_llama.py`，函数 `rotate_half`（rotate-half 配对方式）。
# 9. Shaw, P., Uszkoreit, J., Vaswani, A. (2018). Self-Attention with Relative Position Representations. NAACL 2018,
#    arXiv:1803.02155. §3（相对位置表示），§3.2（在距离 k 处截断）。
# 10. Raffel, C. et al. (2020). Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer. JMLR
#     21(140), arXiv:1910.10683. §2.1（32 个相对位置桶，直到偏移 128）。
# 11. Press, O., Smith, N. A., Lewis, M. (2022). Train Short, Test Long: Attention with Linear Biases Enables Input
#     Length Extrapolation. ICLR 2022, arXiv:2108.12409. §3（ALiBi 的偏置与斜率）。
