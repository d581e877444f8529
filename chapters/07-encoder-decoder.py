# %% [markdown]
# # Encoder and decoder · 编码器与解码器
#
# The Transformer of 2017 translates in two halves (Vaswani et al. 2017, §3.1). The **encoder** (编码器)
# reads the whole source sentence and turns every source token into a vector that knows about its
# context. The **decoder** (解码器) writes the target sentence one token at a time; at each step it looks
# at what it has written so far and at the encoder's vectors. Both halves are stacks of identical
# layers, and every layer is made of pieces you have already built:
#
# * multi-head attention (chapter 05),
# * LayerNorm and the Pre-LN / Post-LN placements (chapter 03),
# * dropout and residual connections (chapter 04).

# %% [markdown] lang="zh"
# # 编码器与解码器 · Encoder and decoder
#
# 2017 年的 Transformer 分成两半来完成翻译（Vaswani et al. 2017, §3.1）。**编码器**（encoder）读入整个源句子，
# 把每个源词元变成一个融入了上下文信息的向量。**解码器**（decoder）每次写出目标句子的一个词元；
# 每一步它既要看自己已经写出的内容，也要看编码器给出的那些向量。两半都是由相同的层堆叠而成的，
# 而每一层都由你已经实现过的部件组成：
#
# * 多头注意力（第 05 章），
# * 层归一化以及 Pre-LN / Post-LN 两种放置方式（第 03 章），
# * dropout 与残差连接（第 04 章）。

# %% [markdown]
# ## Before you start · 开始之前
#
# **You will build:**
# * `FeedForward`, the position-wise feed-forward block;
# * `EncoderLayer.forward` and `DecoderLayer.forward`, each in both the Post-LN and the Pre-LN
#   arrangement, matched weight for weight against PyTorch's `nn.TransformerEncoderLayer` /
#   `nn.TransformerDecoderLayer`;
# * `Encoder` and `Decoder`, stacks of separate layers with the final LayerNorm a Pre-LN stack needs;
# * `source_mask` and `target_mask`, the masks of a batch of padded sentences;
#
# and you will check by experiment that the decoder cannot peek at the future and that padding changes
# nothing.
#
# **Prerequisites:** chapters 02 (tensors: broadcasting, `tril`, bool masks), 03 (LayerNorm, Post-LN
# and Pre-LN), 04 (dropout, residual connections) and 05 (attention, masks with True = may attend).
# No new maths: every piece is a sum, a matrix product or a LayerNorm you have met.
#
# **Time:** about 110 minutes (reading 35, exercises 60, experiments 15).

# %% [markdown] lang="zh"
# ## 开始之前 · Before you start
#
# **本章要实现：**
# * `FeedForward`：逐位置前馈网络；
# * `EncoderLayer.forward` 和 `DecoderLayer.forward`：各自都要写出 Post-LN 和 Pre-LN 两种排列，并逐个权重地与 PyTorch
#   的 `nn.TransformerEncoderLayer` / `nn.TransformerDecoderLayer` 对照；
# * `Encoder` 和 `Decoder`：由各自独立的层组成的堆叠，外加 Pre-LN 堆叠所需的最终层归一化；
# * `source_mask` 和 `target_mask`：一批经过填充的句子所用的掩码；
#
# 你还将通过实验验证：解码器无法偷看未来，填充也不会改变任何结果。
#
# **预备知识：** 第 02 章（张量：广播、`tril`、布尔掩码）、第 03 章（层归一化，Post-LN 与 Pre-LN）、第 04 章（dropout，
# 残差连接）和第 05 章（注意力，True 表示可以关注的掩码）。没有新的数学：每个部件都是你见过的求和、矩阵乘积或层归一化。
#
# **用时：** 约 110 分钟（阅读 35 分钟，练习 60 分钟，实验 15 分钟）。

# %% [markdown]
# Run the set-up cell first.

# %% [markdown] lang="zh"
# 先运行初始化单元格。

# %%
import torch
from torch import nn

from course import glossary
from course.attention import MultiHeadAttention
from course.experiments import ch07_encoder_decoder as ex
from course.notebook import setup, needs
from course.widgets.attention_view import attention_of

setup()

# %% [markdown]
# ### The whole model at a glance · 全局图
#
# The picture below is the chapter's map. The source goes up the encoder stack; its output, the
# **memory** (记忆), feeds the cross-attention of *every* decoder layer. The target goes up the decoder
# stack. Each attention block has its own mask, drawn beside it (white = may attend, dark = blocked):
# the source padding mask on the encoder's self-attention and on the cross-attention, and the causal
# mask combined with the target padding mask on the decoder's self-attention. Parts 2 to 5 build each
# box, and Part 5 builds the masks; the figure is drawn by `ex.data_flow_figure` from small example
# masks (a source of 4 real tokens out of 6, a target of 4 out of 5).

# %% [markdown] lang="zh"
# ### 全局图 · The whole model at a glance
#
# 下图是本章的地图。源序列沿编码器堆叠向上传递；它的输出，即**记忆**（memory），送入*每一个*解码器层的交叉注意力。
# 目标序列沿解码器堆叠向上传递。每个注意力模块都有自己的掩码，画在它的旁边（白色 = 可以关注，深色 = 被屏蔽）：
# 编码器的自注意力和交叉注意力用的是源序列的填充掩码，解码器的自注意力用的是因果掩码与目标序列填充掩码的组合。第 2 到第
# 5 部分逐个搭建图中的方框，第 5 部分构造这些掩码；这张图由 `ex.data_flow_figure` 根据几个小的示例掩码画出（源序列 6
# 个位置中有 4 个真实词元，目标序列 5 个位置中有 4 个）。

# %%
ex.show(ex.data_flow_figure())

# %% [markdown]
# ## Part 0 — The attention block you are given · 现成的注意力模块
#
# So that a slip left in chapter 05 does not follow you here, `MultiHeadAttention` is imported from
# the course package (`course/attention.py`, worth reading: it is the chapter 05 design written out).
# It has the same interface as yours:
#
# * `MultiHeadAttention(d_model, n_heads)`, four `nn.Linear` layers `q_proj`, `k_proj`, `v_proj`,
#   `out_proj`;
# * `forward(query, key, value, mask=None)` with query `(batch, q_len, d_model)` and key/value
#   `(batch, k_len, d_model)`, returning `(batch, q_len, d_model)`;
# * the course's **mask convention**: a bool tensor broadcastable to `(batch, heads, q_len, k_len)`,
#   **True where the query may attend to the key**; a query with no allowed key gets a zero output
#   (chapter 05).
#
# The same module does self-attention (`query = key = value = x`) and cross-attention (queries from
# one sequence, keys and values from another): only the arguments differ (Vaswani et al. 2017, §3.2.3).

# %% [markdown] lang="zh"
# ## 第 0 部分 现成的注意力模块 · Part 0 — The attention block you are given
#
# 为了不让第 05 章里遗留的小错误跟到这里来，`MultiHeadAttention` 从课程的程序包中导入（`course/attention.py`，值得一读：
# 它就是把第 05 章的设计完整地写了出来）。它的接口与你的实现相同：
#
# * `MultiHeadAttention(d_model, n_heads)`，包含四个 `nn.Linear` 层 `q_proj`、`k_proj`、`v_proj`、`out_proj`；
# * `forward(query, key, value, mask=None)`，其中 query 的形状为 `(batch, q_len, d_model)`，key/value 的形状为
#   `(batch, k_len, d_model)`，返回 `(batch, q_len, d_model)`；
# * 课程的**掩码约定**：一个可以广播到 `(batch, heads, q_len, k_len)` 的布尔张量，**查询可以关注该键的位置为 True**；
#   没有任何可关注键的查询，输出为零（第 05 章）。
#
# 同一个模块既能做自注意力（`query = key = value = x`），也能做交叉注意力（查询来自一个序列，键和值来自另一个序列）：
# 不同的只是传入的参数（Vaswani et al. 2017, §3.2.3）。

# %%
mha = MultiHeadAttention(16, 4)
x = torch.randn(2, 5, 16)        # (batch, seq, d_model)
other = torch.randn(2, 3, 16)    # another sequence, 3 tokens
print("self-attention :", tuple(mha(x, x, x).shape))
print("cross-attention:", tuple(mha(x, other, other).shape), "  (one output per query, whatever the key count)")
print("parameters     :", sum(p.numel() for p in mha.parameters()), "=", 4 * 16**2 + 4 * 16, "= 4·16² + 4·16")

# %% lang="zh"
mha = MultiHeadAttention(16, 4)
x = torch.randn(2, 5, 16)        # (batch, seq, d_model)
other = torch.randn(2, 3, 16)    # 另一个序列，3 个词元
print("自注意力  ：", tuple(mha(x, x, x).shape))
print("交叉注意力：", tuple(mha(x, other, other).shape), "  （每个查询一个输出，与键的个数无关）")
print("参数个数  ：", sum(p.numel() for p in mha.parameters()), "=", 4 * 16**2 + 4 * 16, "= 4·16² + 4·16")

# %% [markdown]
# ## Part 1 — The position-wise feed-forward block · 逐位置前馈网络
#
# Attention mixes information **between** tokens; the feed-forward block then processes each token
# **on its own**: two linear maps with a ReLU in between (Vaswani et al. 2017, §3.3, eq. 2),
#
# $$\mathrm{FFN}(x) = \max(0,\; x W_1 + b_1)\, W_2 + b_2, \qquad d_\text{model} \to d_\text{ff} \to d_\text{model}.$$
#
# "Position-wise" means the same weights are applied at every position, independently: on a
# `(batch, seq, d_model)` tensor that is just `nn.Linear` acting on the last dim. The paper's hidden
# width is four times the model width: d_ff = 2048 for d_model = 512 in the base model, 4096 for 1024
# in the big one (§3.3 and Table 3). The block has $2\,d\,d_\text{ff} + d_\text{ff} + d$ parameters,
# attention $4d^2 + 4d$ (four d × d projections with biases).
#
# The paper uses ReLU; GPT (Radford et al. 2018, §4.1) and BERT (Devlin et al. 2019, App. A.2) use
# **GELU**, $x\,\Phi(x)$ (Hendrycks and Gimpel 2016), a smooth curve that lets small negative values
# through a little. We use ReLU, the default `activation` of PyTorch's transformer layers, so that the
# tests can compare with them.
#
# **Dropout inside the block.** The paper's dropout (§5.4) acts on each sublayer's output; PyTorch's
# layers also drop the block's **hidden units**, the activations between the ReLU and the second
# linear map (`_ff_block` in `torch/nn/modules/transformer.py`), and so does this course. The dropout on
# the block's *output* belongs to the layer (Part 2), not to `FeedForward`.

# %% [markdown] lang="zh"
# ## 第 1 部分 逐位置前馈网络 · Part 1 — The position-wise feed-forward block
#
# 注意力在词元**之间**混合信息；随后前馈网络**单独**处理每个词元：两个线性映射，中间夹一个 ReLU（Vaswani et al. 2017,
# §3.3，式 2），
#
# $$\mathrm{FFN}(x) = \max(0,\; x W_1 + b_1)\, W_2 + b_2, \qquad d_\text{model} \to d_\text{ff} \to d_\text{model}.$$
#
# “逐位置”是指在每个位置上独立地使用同一组权重：对形状为 `(batch, seq, d_model)` 的张量来说，
# 这不过就是作用在最后一维上的 `nn.Linear`。论文中隐藏层宽度是模型宽度的四倍：基础模型中 d_model = 512，d_ff = 2048；
# 大模型中 d_model = 1024，d_ff = 4096（§3.3 和表 3）。这个模块有 $2\,d\,d_\text{ff} + d_\text{ff} + d$ 个参数，
# 注意力则有 $4d^2 + 4d$ 个（四个带偏置的 d × d 投影）。
#
# 论文使用 ReLU；GPT（Radford et al. 2018, §4.1）和 BERT（Devlin et al. 2019, 附录 A.2）使用 **GELU**，即
# $x\,\Phi(x)$（Hendrycks and Gimpel 2016），这是一条平滑的曲线，会让较小的负值稍稍漏过去一些。我们使用 ReLU，它是
# PyTorch 各个 Transformer 层默认的 `activation`，这样测试就能与它们对比。
#
# **模块内部的 dropout。** 论文的 dropout（§5.4）作用在每个子层的输出上；PyTorch 的层还会丢弃这个模块的**隐藏单元**，即
# ReLU 与第二个线性映射之间的激活值（见 `torch/nn/modules/transformer.py` 中的 `_ff_block`），本课程也这样做。
# 模块*输出*上的 dropout 属于层（第 2 部分），而不属于 `FeedForward`。

# %% [markdown]
# **Predict · 预测:** at the paper's base sizes (d_model = 512, d_ff = 2048, 8 heads), what fraction of
# an encoder layer's parameters sits in the feed-forward block: a quarter, a half, two thirds? Write
# your guess down, then run the next cell.

# %% [markdown] lang="zh"
# **预测 · Predict：** 在论文的基础规模下（d_model = 512，d_ff = 2048，8 个头），
# 编码器层的参数中有多大比例位于前馈网络：四分之一、一半，还是三分之二？先写下你的猜测，再运行下一个单元格。

# %%
d, d_ff = 512, 2048  # the base model (Vaswani et al. 2017, Table 3)
ffn_params = sum(t.numel() for layer in (nn.Linear(d, d_ff), nn.Linear(d_ff, d)) for t in layer.parameters())
attn_params = sum(p.numel() for p in MultiHeadAttention(d, 8).parameters())
norm_params = 2 * sum(p.numel() for p in nn.LayerNorm(d).parameters())
torch_layer = nn.TransformerEncoderLayer(d, 8, d_ff, batch_first=True)
print(f"feed-forward {ffn_params:,} = 2·512·2048 + 2048 + 512; attention {attn_params:,}; "
      f"two LayerNorms {norm_params:,}")
print(f"total {ffn_params + attn_params + norm_params:,} (nn.TransformerEncoderLayer(512, 8, 2048): "
      f"{sum(p.numel() for p in torch_layer.parameters()):,})")
print(f"share of the feed-forward block: {ffn_params / (ffn_params + attn_params + norm_params):.3f}")

# %% lang="zh"
d, d_ff = 512, 2048  # 基础模型（Vaswani et al. 2017, 表 3）
ffn_params = sum(t.numel() for layer in (nn.Linear(d, d_ff), nn.Linear(d_ff, d)) for t in layer.parameters())
attn_params = sum(p.numel() for p in MultiHeadAttention(d, 8).parameters())
norm_params = 2 * sum(p.numel() for p in nn.LayerNorm(d).parameters())
torch_layer = nn.TransformerEncoderLayer(d, 8, d_ff, batch_first=True)
print(f"前馈网络 {ffn_params:,} = 2·512·2048 + 2048 + 512；注意力 {attn_params:,}；"
      f"两个层归一化 {norm_params:,}")
print(f"合计 {ffn_params + attn_params + norm_params:,}（nn.TransformerEncoderLayer(512, 8, 2048)："
      f"{sum(p.numel() for p in torch_layer.parameters()):,}）")
print(f"前馈网络所占比例：{ffn_params / (ffn_params + attn_params + norm_params):.3f}")


# %% [markdown]
# Two thirds (0.666): with d_ff = 4d the block has about 8d² parameters against attention's 4d², and
# the count matches PyTorch's own layer exactly.
#
# ### Exercise 1 · 练习 1: `FeedForward`
#
# **Difficulty:** ●○○ · **Importance:** ●●● · **Time:** ~10 min
#
# Write the whole class. Use exactly these attribute names (the tests copy weights into them):
# `linear1` (d_model → d_ff), `linear2` (d_ff → d_model), both `nn.Linear` with biases, and `dropout`,
# an `nn.Dropout` with the given probability.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Eq. 2 has three steps; where does each one act, on d_model or on d_ff features? Which of the
# three tensors in between is "the hidden units" that the dropout drops?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# The hidden units are the ReLU's output, shape `(batch, seq, d_ff)`. Drop them with the module
# `self.dropout` (so that `.eval()` switches it off) before the second linear map; nothing else is
# dropped inside the block.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# 三分之二（0.666）：d_ff = 4d 时，前馈网络约有 8d² 个参数，而注意力只有 4d²；这个总数与 PyTorch 自己的层完全一致。
#
# ### 练习 1 · Exercise 1：`FeedForward`
#
# **难度：** ●○○ · **重要性：** ●●● · **用时：** 约 10 分钟
#
# 写出整个类。属性名必须与下面的完全一致（测试会把权重复制进去）：`linear1`（d_model → d_ff）和 `linear2`（d_ff →
# d_model），两者都是带偏置的 `nn.Linear`；还有 `dropout`，一个以给定概率丢弃的 `nn.Dropout`。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 式 2 有三步；每一步分别作用在哪里，是 d_model 个特征还是 d_ff 个特征？中间出现的三个张量里，哪一个是 dropout
# 要丢弃的“隐藏单元”？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 隐藏单元就是 ReLU 的输出，形状为 `(batch, seq, d_ff)`。在第二个线性映射之前用模块 `self.dropout` 丢弃它们（这样
# `.eval()` 才能把它关掉）；模块内部不再丢弃别的东西。
#
# </details>
# </details>

# %% answer="FeedForward"
class FeedForward(nn.Module):
    """Position-wise feed-forward block: each token is widened from d_model to d_ff features, passed through
    a ReLU, its hidden units dropped with probability `dropout`, and projected back to d_model.

    d_model: int, model width; d_ff: int, hidden width; dropout: float in [0, 1].
    Attributes: linear1 (d_model -> d_ff), linear2 (d_ff -> d_model), dropout (nn.Dropout).
    forward(x): x (batch, seq, d_model) -> (batch, seq, d_model).
    """

    def __init__(self, d_model, d_ff, dropout=0.1):
        super().__init__()
        ### BEGIN SOLUTION
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        hidden = torch.relu(self.linear1(x))  # (batch, seq, d_ff)
        return self.linear2(self.dropout(hidden))  # (batch, seq, d_model)
        ### END SOLUTION


# %% answer="FeedForward" lang="zh"
class FeedForward(nn.Module):
    """逐位置前馈网络：每个词元先从 d_model 个特征扩展到 d_ff 个，经过 ReLU，其隐藏单元以概率 `dropout`
    被丢弃，再投影回 d_model 个特征。

    d_model：int，模型宽度；d_ff：int，隐藏层宽度；dropout：[0, 1] 中的 float。
    属性：linear1（d_model -> d_ff），linear2（d_ff -> d_model），dropout（nn.Dropout）。
    forward(x)：x (batch, seq, d_model) -> (batch, seq, d_model)。
    """

    def __init__(self, d_model, d_ff, dropout=0.1):
        super().__init__()
        ### BEGIN SOLUTION
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        hidden = torch.relu(self.linear1(x))  # (batch, seq, d_ff)
        return self.linear2(self.dropout(hidden))  # (batch, seq, d_model)
        ### END SOLUTION


# %% tests="FeedForward_tests" points=2
import torch
from torch import nn
from course.checks import ch07_encoder_decoder as ref

ref.expect_ff_parameters(ref.call(FeedForward, 8, 32, 0.1), 8, 32)  # 2·d·d_ff + d_ff + d
# Hand-worked: d_model = 1, d_ff = 2, hidden units x and -x, summed: relu(x) + relu(-x) = |x|.
linear1, linear2 = nn.Linear(1, 2), nn.Linear(2, 1)
with torch.no_grad():
    linear1.weight.copy_(torch.tensor([[1.0], [-1.0]]))
    linear1.bias.zero_()
    linear2.weight.copy_(torch.tensor([[1.0, 1.0]]))
    linear2.bias.zero_()
ff = ref.call(FeedForward, 1, 2, 0.5).eval()
ref.copy_feed_forward(ff, linear1, linear2)
x = torch.tensor([[[-2.0], [3.0], [0.5]]])  # (batch=1, seq=3, d_model=1)
ref.expect_ff_hand_worked(ref.call(ff, x), ref.call(ff, x), x)  # two eval-mode calls: equal, and |x|
# Train mode, dropout p = 1: every hidden unit is dropped, so only linear2's bias is left.
ref.expect_ff_dropout(FeedForward)
### BEGIN HIDDEN TESTS
from course_grader.checks import ch07_encoder_decoder as hidden
hidden.check_feed_forward(FeedForward)
### END HIDDEN TESTS

# %% [markdown]
# "Position-wise", checked: the block is run on the whole sequence at once and on each token
# separately. (In eval mode: dropout would draw different masks in the two runs.)
#
# **Predict · 预测:** how large is the largest difference between the two results: about 1, about 0.01,
# or zero up to rounding? And in train mode, do two calls on the same input agree? Write your guess
# down, then run the next cell.

# %% [markdown] lang="zh"
# 验证“逐位置”：把模块一次作用于整个序列，再逐个作用于每个词元，比较两者。（在评估模式下进行：否则 dropout
# 在两次运行中会抽取不同的掩码。）
#
# **预测 · Predict：** 两种结果之间最大的差异有多大：约 1、约 0.01，还是在舍入误差范围内为零？在训练模式下，
# 对同一输入的两次调用结果一致吗？先写下你的猜测，再运行下一个单元格。

# %%
with needs("FeedForward"), torch.no_grad():
    ff = FeedForward(8, 32, 0.1).eval()
    x = torch.randn(2, 6, 8)
    together = ff(x)
    one_by_one = torch.stack([ff(x[:, t]) for t in range(6)], dim=1)
    print("largest difference, whole sequence vs token by token:", float((together - one_by_one).abs().max()))
    ff.train()
    print("train mode, two calls differ (dropout):", not torch.equal(ff(x), ff(x)))

# %% lang="zh"
with needs("FeedForward"), torch.no_grad():
    ff = FeedForward(8, 32, 0.1).eval()
    x = torch.randn(2, 6, 8)
    together = ff(x)
    one_by_one = torch.stack([ff(x[:, t]) for t in range(6)], dim=1)
    print("整个序列与逐个词元计算之间的最大差异：", float((together - one_by_one).abs().max()))
    ff.train()
    print("训练模式下两次调用的结果不同（dropout）：", not torch.equal(ff(x), ff(x)))


# %% [markdown]
# Zero, or a rounding error of order 1e-7: no token's output depends on another token. In train mode
# the two calls differ, because each draws its own dropout mask.

# %% [markdown] lang="zh"
# 为零，或者只是 1e-7 量级的舍入误差：没有哪个词元的输出依赖于其他词元。在训练模式下两次调用的结果不同，
# 因为每次调用都会抽取自己的 dropout 掩码。

# %% [markdown]
# ## Part 2 — The encoder layer · 编码器层
#
# An encoder layer has two **sublayers**: self-attention, then the feed-forward block (Vaswani et al.
# 2017, §3.1). Each sits in a residual block with dropout on the sublayer's output and a LayerNorm, in
# one of the two arrangements of chapter 03:
#
# | | Post-LN (the 2017 paper, `norm_first=False`) | Pre-LN (GPT-2 and later, `norm_first=True`) |
# |---|---|---|
# | each sublayer | `x = norm(x + dropout(sublayer(x)))` | `x = x + dropout(sublayer(norm(x)))` |
#
# Post-LN is the paper's LayerNorm(x + Sublayer(x)) (§3.1), with dropout applied "to the output of each
# sub-layer, before it is added to the sub-layer input and normalized" (§5.4). In Pre-LN the
# normalisation is "moved to the input of each sub-block" (Radford et al. 2019, §2.3; Xiong et al.
# 2020, Table 1).
#
# In Pre-LN the residual path carries `x` itself, untouched: only the sublayer's *input* is
# normalised. A classic slip is to write `x = norm(x)` first and then add the sublayer to the
# *normalised* `x`: the residual path then passes through every LayerNorm, which is a different
# model. The other classic slip is to put the dropout on the sum `x + sublayer(...)` rather than on the
# sublayer's output alone; in eval mode both look the same, so the tests also run your layer in train
# mode with p = 1, where every sublayer's output is dropped and only the residual path is left.
#
# Self-attention means the queries, keys and values are all the same tensor: `x` in Post-LN, the
# normalised `x` in Pre-LN. The `mask` (course convention, True = may attend) goes to the attention
# unchanged: for an encoder that is usually a padding mask of shape `(batch, 1, 1, seq)`.
#
# ### Exercise 2 · 练习 2: `EncoderLayer.forward`
#
# **Difficulty:** ●●○ · **Importance:** ●●● · **Time:** ~20 min
#
# The `__init__` is written for you, with PyTorch's names, so that the tests can copy the weights of
# an `nn.TransformerEncoderLayer` (PyTorch keeps `linear1`, `dropout`, `linear2` on the layer itself;
# here they live in `self.ff`). Use `norm1` and `dropout1` around the attention, `norm2` and
# `dropout2` around the feed-forward block.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Write the two arrangements as two branches on `self.norm_first`. In each branch, name the tensor
# that travels along the residual path and the tensor that goes into the sublayer: are they the same
# tensor in Post-LN? In Pre-LN?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# In Pre-LN keep the normalised tensor in a separate variable (say `h`) and never assign it to `x`:
# `x` is only ever updated by adding a dropped-out sublayer output to it. In Post-LN the norm wraps
# the whole sum. The attention is called with `(h, h, h, mask)` or `(x, x, x, mask)`.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ## 第 2 部分 编码器层 · Part 2 — The encoder layer
#
# 编码器层有两个**子层**：先是自注意力，然后是前馈网络（Vaswani et al. 2017, §3.1）。每个子层都处在一个残差块中，
# 子层的输出上有 dropout，另外还有一个层归一化，按第 03 章两种排列方式之一组织起来：
#
# | | Post-LN（2017 年的论文，`norm_first=False`） | Pre-LN（GPT-2 及以后，`norm_first=True`） |
# |---|---|---|
# | 每个子层 | `x = norm(x + dropout(sublayer(x)))` | `x = x + dropout(sublayer(norm(x)))` |
#
# Post-LN 就是论文中的 LayerNorm(x + Sublayer(x))（§3.1），dropout 作用于“每个子层的输出，
# 在它与子层的输入相加并归一化之前”（§5.4）。在 Pre-LN 中，归一化被“移到每个子块的输入处”（Radford et al. 2019, §2.3；
# Xiong et al. 2020, 表 1）。
#
# 在 Pre-LN 中，残差路径上传递的是 `x` 本身，原封不动：只有子层的*输入*被归一化。一个典型的错误是先写 `x = norm(x)`，
# 再把子层的结果加到*归一化之后*的 `x` 上：这样残差路径就要经过每一个层归一化，那就成了另一个模型。另一个典型的错误是把
# dropout 放在相加的结果 `x + sublayer(...)` 上，而不是只放在子层的输出上；两者在评估模式下看起来一样，
# 所以测试还会在训练模式下以 p = 1 运行你的层，此时每个子层的输出都被丢弃，只剩下残差路径。
#
# 自注意力是指查询、键和值都是同一个张量：Post-LN 中是 `x`，Pre-LN 中是归一化之后的 `x`。`mask`（课程约定，True =
# 可以关注）原样传给注意力：对编码器来说，它通常是形状为 `(batch, 1, 1, seq)` 的填充掩码。
#
# ### 练习 2 · Exercise 2：`EncoderLayer.forward`
#
# **难度：** ●●○ · **重要性：** ●●● · **用时：** 约 20 分钟
#
# `__init__` 已经替你写好了，沿用 PyTorch 的命名，以便测试复制 `nn.TransformerEncoderLayer` 的权重（PyTorch 把
# `linear1`、`dropout`、`linear2` 直接放在层上；这里它们位于 `self.ff` 之中）。注意力周围使用 `norm1` 和 `dropout1`，
# 前馈网络周围使用 `norm2` 和 `dropout2`。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 按 `self.norm_first` 把两种排列写成两个分支。在每个分支中，分别指出沿残差路径传递的张量和送进子层的张量：在 Post-LN
# 中它们是同一个张量吗？在 Pre-LN 中呢？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 在 Pre-LN 中，把归一化之后的张量存进一个单独的变量（比如 `h`），并且永远不要把它赋给 `x`：`x` 只能通过加上经过
# dropout 的子层输出来更新。在 Post-LN 中，归一化包住整个和。调用注意力时传入 `(h, h, h, mask)` 或 `(x, x, x, mask)`。
#
# </details>
# </details>

# %% answer="EncoderLayer"
class EncoderLayer(nn.Module):
    """Self-attention and a feed-forward block, each with dropout, a residual add and a LayerNorm.

    d_model, n_heads, d_ff: ints; dropout: float; norm_first: False = Post-LN, True = Pre-LN.
    forward(x, mask=None): x (batch, seq, d_model); mask None or bool broadcastable to
        (batch, n_heads, seq, seq), True = may attend. Returns (batch, seq, d_model).
    """

    def __init__(self, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.ff = FeedForward(d_model, d_ff, dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.norm_first = norm_first

    def forward(self, x, mask=None):
        ### BEGIN SOLUTION
        if self.norm_first:
            h = self.norm1(x)  # (batch, seq, d_model)
            x = x + self.dropout1(self.self_attn(h, h, h, mask))
            x = x + self.dropout2(self.ff(self.norm2(x)))
        else:
            x = self.norm1(x + self.dropout1(self.self_attn(x, x, x, mask)))
            x = self.norm2(x + self.dropout2(self.ff(x)))
        return x
        ### END SOLUTION


# %% answer="EncoderLayer" lang="zh"
class EncoderLayer(nn.Module):
    """自注意力和前馈网络，各自带有 dropout、残差相加和层归一化。

    d_model、n_heads、d_ff：int；dropout：float；norm_first：False = Post-LN，True = Pre-LN。
    forward(x, mask=None)：x (batch, seq, d_model)；mask 为 None，或可广播到
        (batch, n_heads, seq, seq) 的 bool 张量，True = 可以关注。返回 (batch, seq, d_model)。
    """

    def __init__(self, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.ff = FeedForward(d_model, d_ff, dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.norm_first = norm_first

    def forward(self, x, mask=None):
        ### BEGIN SOLUTION
        if self.norm_first:
            h = self.norm1(x)  # (batch, seq, d_model)
            x = x + self.dropout1(self.self_attn(h, h, h, mask))
            x = x + self.dropout2(self.ff(self.norm2(x)))
        else:
            x = self.norm1(x + self.dropout1(self.self_attn(x, x, x, mask)))
            x = self.norm2(x + self.dropout2(self.ff(x)))
        return x
        ### END SOLUTION


# %% tests="EncoderLayer_tests" points=4
import torch
from course.checks import equal
from course.checks import ch07_encoder_decoder as ref

keep = torch.tensor([[True] * 4 + [False], [True] * 3 + [False] * 2])  # (batch, seq): 1 and 2 padding tokens
x = torch.randn(2, 5, 8, dtype=torch.float64)
for norm_first in (False, True):
    theirs = ref.torch_encoder_layer(8, 2, 16, norm_first)  # nn.TransformerEncoderLayer with random weights
    ours = ref.call(EncoderLayer, 8, 2, 16, 0.1, norm_first)
    equal(ref.n_params(ours), ref.n_params(theirs), name="parameters of EncoderLayer(8, 2, 16)")
    ours = ours.double().eval()
    ref.copy_encoder_layer(ours, theirs)
    ref.compare_encoder_layer(ours, theirs, x, None)  # no mask
    ref.compare_encoder_layer(ours, theirs, x, keep[:, None, None, :])  # padding mask (batch, 1, 1, seq)
# Another width, head count and feed-forward width: each size argument must reach the part it sizes.
theirs = ref.torch_encoder_layer(12, 3, 20, False)
ours = ref.call(EncoderLayer, 12, 3, 20, 0.1, False)
ref.expect_same_size(ours, theirs, "EncoderLayer(12, 3, 20)")
ref.copy_encoder_layer(ours.double().eval(), theirs)
ref.compare_encoder_layer(ours, theirs, torch.randn(2, 5, 12, dtype=torch.float64), keep[:, None, None, :])
# Train mode, every dropout p = 1: each sublayer's output is dropped, only the residual path is left.
ref.expect_sublayer_dropout(EncoderLayer, decoder=False)
### BEGIN HIDDEN TESTS
from course_grader.checks import ch07_encoder_decoder as hidden
hidden.check_encoder_layer(EncoderLayer)
### END HIDDEN TESTS

# %% [markdown]
# ### Talking to PyTorch's masks · 与 PyTorch 掩码互换
#
# PyTorch's transformer modules use the **opposite** convention: in a bool mask True means *blocked*
# (PyTorch documentation of `nn.MultiheadAttention`, arguments `key_padding_mask` and `attn_mask`).
# The tests hand them `~keep`. The full recipe, for a course mask `m` (True = may attend):
#
# * a padding mask `(batch, 1, 1, k_len)` becomes `src_key_padding_mask`, `tgt_key_padding_mask` or
#   `memory_key_padding_mask` = `~m[:, 0, 0, :]`, shape `(batch, k_len)`;
# * a mask shared by every sequence, `(q_len, k_len)` (e.g. causal), becomes `src_mask`, `tgt_mask` or
#   `memory_mask` = `~m`;
# * one mask per sequence, `(batch, 1, q_len, k_len)`, becomes
#   `~m.expand(batch, heads, q_len, k_len).reshape(batch * heads, q_len, k_len)`.
#
# A float mask in PyTorch is *added* to the scores (0 = keep, −∞ = block), yet another convention.
# Forgetting the `~` raises no error: the code runs and attends to exactly the wrong keys.
#
# **Predict · 预测:** the cell below hands PyTorch's layer the course's mask unchanged, without the
# `~`. Sentence 0 is a full 6-token sentence, so its mask is all True, which PyTorch reads as "every key
# blocked". What will PyTorch return for sentence 0: an error, NaN, or ordinary-looking numbers? Does
# the answer depend on whether gradients are on? Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# ### 与 PyTorch 掩码互换 · Talking to PyTorch's masks
#
# PyTorch 的 Transformer 模块使用**相反**的约定：在布尔掩码中，True 表示*被屏蔽*（见 PyTorch 文档中
# `nn.MultiheadAttention` 的参数 `key_padding_mask` 和 `attn_mask`）。测试交给它们的是 `~keep`。对一个课程掩码
# `m`（True = 可以关注），完整的换算方法是：
#
# * 填充掩码 `(batch, 1, 1, k_len)` 变成 `src_key_padding_mask`、`tgt_key_padding_mask` 或 `memory_key_padding_mask` =
#   `~m[:, 0, 0, :]`，形状为 `(batch, k_len)`；
# * 所有序列共用的掩码 `(q_len, k_len)`（例如因果掩码）变成 `src_mask`、`tgt_mask` 或 `memory_mask` = `~m`；
# * 每个序列各有一个的掩码 `(batch, 1, q_len, k_len)` 变成
#   `~m.expand(batch, heads, q_len, k_len).reshape(batch * heads, q_len, k_len)`。
#
# PyTorch 的浮点掩码则是*加*到分数上的（0 = 保留，−∞ = 屏蔽），这又是另一种约定。忘了写 `~` 不会引发任何错误：
# 代码照常运行，关注的却恰恰是错误的那些键。
#
# **预测 · Predict：** 下面的单元格把课程的掩码原样交给 PyTorch 的层，没有加 `~`。句子 0 是一个完整的 6 词元句子，
# 所以它的掩码全为 True，而 PyTorch 会把它理解为“每个键都被屏蔽”。对句子 0，PyTorch 会返回什么：报错、NaN，
# 还是看上去很正常的数？答案是否取决于梯度是否开启？先写下你的猜测，再运行下一个单元格。

# %%
with needs("EncoderLayer", "FeedForward"), torch.no_grad():
    from course.checks import ch07_encoder_decoder as ref  # the helper that copies PyTorch's weights

    theirs = nn.TransformerEncoderLayer(16, 4, 64, dropout=0.1, batch_first=True).eval()
    ours = EncoderLayer(16, 4, 64, 0.1, norm_first=False).eval()
    ref.copy_encoder_layer(ours, theirs)
    x = torch.randn(2, 6, 16)
    keep = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])  # (batch, seq), True = real token
    mine = ours(x, keep[:, None, None, :])
    right = theirs(x, src_key_padding_mask=~keep)
    print("with ~keep (right)       : largest difference", float((mine - right).abs().max()))
    wrong = theirs(x, src_key_padding_mask=keep)  # the course's mask handed over unchanged
    print("with keep, eval + no_grad: sentence 0 has NaN in", int(torch.isnan(wrong[0]).sum()), "of",
          wrong[0].numel(), "outputs; sentence 1 differs by", round(float((mine[1] - wrong[1]).abs().max()), 2))
    with torch.enable_grad():
        wrong = theirs(x, src_key_padding_mask=keep).detach()  # the same call with gradients on
    print("with keep, gradients on  : sentence 0 has NaN in", int(torch.isnan(wrong[0]).sum()),
          "outputs and differs by", round(float((mine[0] - wrong[0]).abs().max()), 2), "; sentence 1 differs by",
          round(float((mine[1] - wrong[1]).abs().max()), 2))

# %% lang="zh"
with needs("EncoderLayer", "FeedForward"), torch.no_grad():
    from course.checks import ch07_encoder_decoder as ref  # 复制 PyTorch 权重的辅助函数

    theirs = nn.TransformerEncoderLayer(16, 4, 64, dropout=0.1, batch_first=True).eval()
    ours = EncoderLayer(16, 4, 64, 0.1, norm_first=False).eval()
    ref.copy_encoder_layer(ours, theirs)
    x = torch.randn(2, 6, 16)
    keep = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])  # (batch, seq)，True = 真实词元
    mine = ours(x, keep[:, None, None, :])
    right = theirs(x, src_key_padding_mask=~keep)
    print("传入 ~keep（正确）           ：最大差异", float((mine - right).abs().max()))
    wrong = theirs(x, src_key_padding_mask=keep)  # 把课程的掩码原样交出去
    print("传入 keep，评估模式 + no_grad：句子 0 有", int(torch.isnan(wrong[0]).sum()), "/",
          wrong[0].numel(), "个输出为 NaN · 句子 1 的差异为", round(float((mine[1] - wrong[1]).abs().max()), 2))
    with torch.enable_grad():
        wrong = theirs(x, src_key_padding_mask=keep).detach()  # 同样的调用，但开启梯度
    print("传入 keep，开启梯度          ：句子 0 有", int(torch.isnan(wrong[0]).sum()),
          "个输出为 NaN，差异为", round(float((mine[0] - wrong[0]).abs().max()), 2), "· 句子 1 的差异为",
          round(float((mine[1] - wrong[1]).abs().max()), 2))


# %% [markdown]
# No error either way. In eval mode under `no_grad`, PyTorch's layer takes its fused "fast path"
# (its documentation lists the conditions), whose softmax turns a row with no allowed key into NaN:
# all 96 outputs of sentence 0. With gradients on it runs the general path through
# `F.scaled_dot_product_attention`, which gives such a row zero attention (the convention of chapter
# 05 and of `course.attention`): finite numbers, just wrong. Sentence 1, which now attends only to its
# two padding tokens, is wrong on both paths.

# %% [markdown] lang="zh"
# 两种情况下都不会报错。在评估模式且 `no_grad` 下，PyTorch 的层会走融合的“快速路径”（fast path，
# 其文档列出了走这条路径的条件），其中的 softmax 把没有任何可关注键的行变成 NaN：句子 0 的全部 96 个输出都是如此。
# 开启梯度时，它走的是经由 `F.scaled_dot_product_attention` 的一般路径，给这样的行零注意力（第 05 章和
# `course.attention` 的约定）：得到的是有限的数，只不过是错的。句子 1 现在只关注它的两个填充词元，在两条路径上都是错的。

# %% [markdown]
# ## Part 3 — The decoder layer · 解码器层
#
# A decoder layer has three sublayers, each wrapped like the encoder's (Vaswani et al. 2017, §3.1 and
# §3.2.3):
#
# 1. **Masked self-attention** (掩码自注意力) over the target tokens written so far, with a **causal
#    mask**: position t may attend to positions 0..t only.
# 2. **Cross-attention** (交叉注意力): the queries come from the decoder (its current `x`), the keys and
#    values from the **memory** (记忆), the encoder's output. This is where the decoder reads the source
#    sentence. Its mask is the *source* padding mask: no causal mask, the whole source is known.
# 3. The **feed-forward block**.
#
# In Pre-LN only the decoder's own `x` is normalised before each sublayer; the memory is passed as it
# comes (a Pre-LN encoder already ends with its final LayerNorm, Part 4; PyTorch's
# `nn.TransformerDecoderLayer` does the same).
#
# **Why causal: teacher forcing** (教师强制; Goodfellow et al. 2016, §10.2.1). At generation time the
# decoder produces token t+1 from tokens 0..t, one step after another. In training we know the whole
# target sentence, so we feed it in at once, shifted right by one (`<bos> y1 y2 …` in, `y1 y2 y3 …`
# expected out), and compute the prediction of every position in **one parallel pass**. The causal
# mask makes each position's output depend only on the tokens before and at it, exactly as at
# generation time: the paper's masking "combined with fact that the output embeddings are offset by
# one position" (§3.1). Without it position t could simply read the answer y_{t+1} from its input.
#
# | | encoder layer | decoder layer |
# |---|---|---|
# | self-attention | sees every real token (padding mask) | causal + padding mask |
# | cross-attention | — | queries: decoder; keys, values: memory (source padding mask) |
# | sublayers, norms, dropouts | 2 | 3 |
#
# ### Exercise 3 · 练习 3: `DecoderLayer.forward`
#
# **Difficulty:** ●●○ · **Importance:** ●●● · **Time:** ~20 min
#
# Again the `__init__` is given. PyTorch calls the cross-attention `multihead_attn`; here it is
# `cross_attn`. Use `norm1`/`dropout1` for self-attention, `norm2`/`dropout2` for cross-attention and
# `norm3`/`dropout3` for the feed-forward block.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Start from your encoder layer and insert a sublayer between the two. For the new one, ask: which
# tensor has one row per *target* token (the queries), and which one has one row per *source* token
# (the keys and values)? Which mask belongs to which attention?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# `self.cross_attn(q, memory, memory, memory_mask)` with `q` the decoder's current stream (`x` in
# Post-LN, its normalised copy in Pre-LN); `tgt_mask` goes to the self-attention only. Never normalise
# `memory`.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ## 第 3 部分 解码器层 · Part 3 — The decoder layer
#
# 解码器层有三个子层，每一个都像编码器的子层那样包装起来（Vaswani et al. 2017, §3.1 和 §3.2.3）：
#
# 1. 在目前已写出的目标词元上做**掩码自注意力**（masked self-attention），使用**因果掩码**：位置 t 只能关注位置 0..t。
# 2. **交叉注意力**（cross-attention）：查询来自解码器（它当前的 `x`），键和值来自**记忆**，即编码器的输出。
#    解码器正是在这里读取源句子。它的掩码是*源序列*的填充掩码：没有因果掩码，因为整个源序列都是已知的。
# 3. **前馈网络**。
#
# 在 Pre-LN 中，每个子层之前只对解码器自己的 `x` 做归一化；记忆按原样传入（Pre-LN 编码器本身就以最终层归一化结尾，见第
# 4 部分；PyTorch 的 `nn.TransformerDecoderLayer` 也是这样做的）。
#
# **为什么要用因果掩码：教师强制**（teacher forcing；Goodfellow et al. 2016, §10.2.1）。生成时，解码器由词元 0..t
# 产生词元 t+1，一步接一步地进行。训练时我们知道整个目标句子，所以把它一次性送进去，并右移一位（输入 `<bos> y1 y2 …`，
# 期望输出 `y1 y2 y3 …`），在**一次并行计算**中算出每个位置的预测。
# 因果掩码使每个位置的输出只依赖于它之前以及它本身位置上的词元，与生成时完全一样：
# 论文中的掩码“与输出嵌入偏移一个位置这一事实相结合”（§3.1）。没有它，位置 t 就可以直接从输入中读到答案 y_{t+1}。
#
# | | 编码器层 | 解码器层 |
# |---|---|---|
# | 自注意力 | 能看到每个真实词元（填充掩码） | 因果掩码 + 填充掩码 |
# | 交叉注意力 | — | 查询：解码器；键、值：记忆（源序列填充掩码） |
# | 子层、归一化、dropout 的个数 | 2 | 3 |
#
# ### 练习 3 · Exercise 3：`DecoderLayer.forward`
#
# **难度：** ●●○ · **重要性：** ●●● · **用时：** 约 20 分钟
#
# `__init__` 同样已经给出。PyTorch 把交叉注意力叫作 `multihead_attn`，这里叫作 `cross_attn`。自注意力使用
# `norm1`/`dropout1`，交叉注意力使用 `norm2`/`dropout2`，前馈网络使用 `norm3`/`dropout3`。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 从你的编码器层出发，在它的两个子层之间插入一个新的子层。对这个新子层，问问自己：哪个张量每个*目标*词元占一行（查询），
# 哪个张量每个*源*词元占一行（键和值）？哪个掩码属于哪个注意力？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# `self.cross_attn(q, memory, memory, memory_mask)`，其中 `q` 是解码器当前的流（Post-LN 中是 `x`，Pre-LN
# 中是它归一化之后的副本）；`tgt_mask` 只传给自注意力。永远不要对 `memory` 做归一化。
#
# </details>
# </details>

# %% answer="DecoderLayer"
class DecoderLayer(nn.Module):
    """Masked self-attention, cross-attention over the memory, and a feed-forward block.

    d_model, n_heads, d_ff: ints; dropout: float; norm_first: False = Post-LN, True = Pre-LN.
    forward(x, memory, tgt_mask=None, memory_mask=None):
        x (batch, tgt_len, d_model): the target side; memory (batch, src_len, d_model): the encoder output;
        tgt_mask: None or bool broadcastable to (batch, n_heads, tgt_len, tgt_len);
        memory_mask: None or bool broadcastable to (batch, n_heads, tgt_len, src_len); True = may attend.
        Returns (batch, tgt_len, d_model).
    """

    def __init__(self, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.cross_attn = MultiHeadAttention(d_model, n_heads)
        self.ff = FeedForward(d_model, d_ff, dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)
        self.norm_first = norm_first

    def forward(self, x, memory, tgt_mask=None, memory_mask=None):
        ### BEGIN SOLUTION
        if self.norm_first:
            h = self.norm1(x)  # (batch, tgt_len, d_model)
            x = x + self.dropout1(self.self_attn(h, h, h, tgt_mask))
            h = self.norm2(x)
            x = x + self.dropout2(self.cross_attn(h, memory, memory, memory_mask))
            x = x + self.dropout3(self.ff(self.norm3(x)))
        else:
            x = self.norm1(x + self.dropout1(self.self_attn(x, x, x, tgt_mask)))
            x = self.norm2(x + self.dropout2(self.cross_attn(x, memory, memory, memory_mask)))
            x = self.norm3(x + self.dropout3(self.ff(x)))
        return x
        ### END SOLUTION


# %% answer="DecoderLayer" lang="zh"
class DecoderLayer(nn.Module):
    """掩码自注意力、在记忆上的交叉注意力，以及前馈网络。

    d_model、n_heads、d_ff：int；dropout：float；norm_first：False = Post-LN，True = Pre-LN。
    forward(x, memory, tgt_mask=None, memory_mask=None)：
        x (batch, tgt_len, d_model)：目标序列一侧；memory (batch, src_len, d_model)：编码器的输出；
        tgt_mask：None，或可广播到 (batch, n_heads, tgt_len, tgt_len) 的 bool 张量；
        memory_mask：None，或可广播到 (batch, n_heads, tgt_len, src_len) 的 bool 张量；True = 可以关注。
        返回 (batch, tgt_len, d_model)。
    """

    def __init__(self, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.cross_attn = MultiHeadAttention(d_model, n_heads)
        self.ff = FeedForward(d_model, d_ff, dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)
        self.norm_first = norm_first

    def forward(self, x, memory, tgt_mask=None, memory_mask=None):
        ### BEGIN SOLUTION
        if self.norm_first:
            h = self.norm1(x)  # (batch, tgt_len, d_model)
            x = x + self.dropout1(self.self_attn(h, h, h, tgt_mask))
            h = self.norm2(x)
            x = x + self.dropout2(self.cross_attn(h, memory, memory, memory_mask))
            x = x + self.dropout3(self.ff(self.norm3(x)))
        else:
            x = self.norm1(x + self.dropout1(self.self_attn(x, x, x, tgt_mask)))
            x = self.norm2(x + self.dropout2(self.cross_attn(x, memory, memory, memory_mask)))
            x = self.norm3(x + self.dropout3(self.ff(x)))
        return x
        ### END SOLUTION


# %% tests="DecoderLayer_tests" points=4
import torch
from course.checks import equal
from course.checks import ch07_encoder_decoder as ref

causal = torch.ones(5, 5, dtype=torch.bool).tril()  # (tgt_len, tgt_len): query t sees keys 0..t
src_keep = torch.tensor([[True] * 3 + [False], [True] * 2 + [False] * 2])  # (batch, src_len): padded sources
x = torch.randn(2, 5, 8, dtype=torch.float64)  # target side, 5 tokens
memory = torch.randn(2, 4, 8, dtype=torch.float64)  # encoder output, 4 tokens
for norm_first in (False, True):
    theirs = ref.torch_decoder_layer(8, 2, 16, norm_first)  # nn.TransformerDecoderLayer with random weights
    ours = ref.call(DecoderLayer, 8, 2, 16, 0.1, norm_first)
    equal(ref.n_params(ours), ref.n_params(theirs), name="parameters of DecoderLayer(8, 2, 16)")
    ours = ours.double().eval()
    ref.copy_decoder_layer(ours, theirs)
    ref.compare_decoder_layer(ours, theirs, x, memory, None, None)  # no masks
    ref.compare_decoder_layer(ours, theirs, x, memory, causal, src_keep[:, None, None, :])  # causal + memory padding
# Another width, head count and feed-forward width: each size argument must reach the part it sizes.
theirs = ref.torch_decoder_layer(12, 3, 20, False)
ours = ref.call(DecoderLayer, 12, 3, 20, 0.1, False)
ref.expect_same_size(ours, theirs, "DecoderLayer(12, 3, 20)")
ref.copy_decoder_layer(ours.double().eval(), theirs)
ref.compare_decoder_layer(ours, theirs, torch.randn(2, 5, 12, dtype=torch.float64),
                          torch.randn(2, 4, 12, dtype=torch.float64), causal, src_keep[:, None, None, :])
# Train mode, every dropout p = 1: each sublayer's output is dropped, only the residual path is left.
ref.expect_sublayer_dropout(DecoderLayer, decoder=True)
### BEGIN HIDDEN TESTS
from course_grader.checks import ch07_encoder_decoder as hidden
hidden.check_decoder_layer(DecoderLayer)
### END HIDDEN TESTS

# %% [markdown]
# ### Seeing causality · 观察因果性
# `ex.influence` perturbs one input position at a time and records which output positions change
# (dark = this input changes that output). The three panels are computed from your layers: an
# encoder layer, a decoder layer with a causal mask, and the same decoder layer without its mask.
#
# **Predict · 预测:** sketch each panel as a 7 × 7 grid (rows: output positions, columns: the input
# position changed). Which cells are dark? Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# ### 观察因果性 · Seeing causality
# `ex.influence` 每次扰动一个输入位置，记录哪些输出位置随之改变（深色 = 这个输入会改变那个输出）。三幅图都由你的层算出：
# 一个编码器层，一个带因果掩码的解码器层，以及去掉掩码的同一个解码器层。
#
# **预测 · Predict：** 把每幅图画成一个 7 × 7 的网格（行：输出位置，列：被改动的输入位置）。哪些格子是深色的？
# 先写下你的猜测，再运行下一个单元格。

# %%
with needs("EncoderLayer", "DecoderLayer"), torch.no_grad():
    torch.manual_seed(0)
    enc_layer = EncoderLayer(16, 4, 32, 0.1).eval()
    dec_layer = DecoderLayer(16, 4, 32, 0.1).eval()
    x = torch.randn(1, 7, 16)
    memory = torch.randn(1, 4, 16)
    causal = torch.ones(7, 7, dtype=torch.bool).tril()
    encoder_title, causal_title, no_mask_title = ex.influence_titles()  # the three panels' titles
    panels = {
        encoder_title: ex.influence(lambda t: enc_layer(t), x),
        causal_title: ex.influence(lambda t: dec_layer(t, memory, causal), x),
        no_mask_title: ex.influence(lambda t: dec_layer(t, memory), x),
    }
    ex.show(ex.influence_figure(panels))
    for name, matrix in panels.items():
        print(f"{name:27s}: {int((matrix > 1e-6).sum())} of 49 (output, input) pairs connected")

# %% lang="zh"
with needs("EncoderLayer", "DecoderLayer"), torch.no_grad():
    torch.manual_seed(0)
    enc_layer = EncoderLayer(16, 4, 32, 0.1).eval()
    dec_layer = DecoderLayer(16, 4, 32, 0.1).eval()
    x = torch.randn(1, 7, 16)
    memory = torch.randn(1, 4, 16)
    causal = torch.ones(7, 7, dtype=torch.bool).tril()
    encoder_title, causal_title, no_mask_title = ex.influence_titles()  # 三幅图的标题
    panels = {
        encoder_title: ex.influence(lambda t: enc_layer(t), x),
        causal_title: ex.influence(lambda t: dec_layer(t, memory, causal), x),
        no_mask_title: ex.influence(lambda t: dec_layer(t, memory), x),
    }
    ex.show(ex.influence_figure(panels))
    for name, matrix in panels.items():
        print(f"{int((matrix > 1e-6).sum())} / 49 个（输出，输入）对相连：{name:27s}")


# %% [markdown]
# The encoder layer and the unmasked decoder layer connect all 49 pairs (a full square); the causal
# decoder layer connects the 28 pairs on and below the diagonal (a lower triangle): output t depends on
# inputs 0..t only. The third panel is the bug the mask prevents: without it, in training, every
# position could copy the next target token from its input.

# %% [markdown] lang="zh"
# 编码器层和不带掩码的解码器层把全部 49 对都连通了（一个满的正方形）；带因果掩码的解码器层只连通对角线上及其下方的 28
# 对（一个下三角）：输出 t 只依赖于输入 0..t。第三幅图正是掩码所防止的错误：没有掩码，
# 训练时每个位置都能从自己的输入中抄到下一个目标词元。

# %% [markdown]
# ## Part 4 — Stacks · 堆叠
#
# An encoder is N encoder layers applied one after the other (N = 6 in the paper, §3.1), all with the
# same mask; a decoder is N decoder layers, each receiving the **same memory** (the encoder's final
# output) and the same two masks. The layers are identical in shape but not in weights: each has its
# own parameters.
#
# **The final LayerNorm** (Pre-LN only). In a Post-LN layer the last operation is a LayerNorm, so a
# Post-LN stack's output is already normalised. In Pre-LN the residual stream is never normalised:
# every layer adds to it, and the last layer's output is a raw sum. Pre-LN stacks therefore end with
# one extra LayerNorm after the last layer: GPT-2 "added after the final self-attention block"
# (Radford et al. 2019, §2.3), and the Pre-LN Transformer of Xiong et al. (2020, Table 1) ends with a
# "Final LayerNorm". In PyTorch it is `nn.TransformerEncoder(..., norm=nn.LayerNorm(d))`. Adding it to
# a Post-LN stack would not match the 2017 design. (PyTorch's all-in-one `nn.Transformer` gives both of
# its stacks a final norm whatever `norm_first` is, as the stream experiment below prints; that is why
# the tests compare with `nn.TransformerEncoder` / `nn.TransformerDecoder` built by hand.)
#
# ### Exercise 4 · 练习 4: `Encoder` and `Decoder`
#
# **Difficulty:** ●●○ · **Importance:** ●●○ · **Time:** ~15 min
#
# Write both classes. Attributes: `layers`, an `nn.ModuleList` of `n_layers` **separate** layers;
# `norm`, an `nn.LayerNorm(d_model)` when `norm_first` is True and `None` otherwise.
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# How many layer objects does `[layer] * n` create, and how many sets of weights do they have? Where in
# `forward` does the final norm run: inside the loop or after it?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Build the list with a comprehension that calls `EncoderLayer(...)` (or `DecoderLayer(...)`) once per
# layer. In `forward`, feed each layer's output to the next; every decoder layer gets the same
# `memory`, `tgt_mask` and `memory_mask`; apply `self.norm` once, after the loop, when it is not None.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ## 第 4 部分 堆叠 · Part 4 — Stacks
#
# 编码器就是依次作用的 N 个编码器层（论文中 N = 6，§3.1），它们都使用同一个掩码；解码器是 N 个解码器层，
# 每一层都接收**同一份记忆**（编码器的最终输出）和同样的两个掩码。这些层形状相同，权重却不同：每一层都有自己的参数。
#
# **最终层归一化**（仅限 Pre-LN）。Post-LN 层的最后一个操作是层归一化，所以 Post-LN 堆叠的输出已经归一化过了。在 Pre-LN
# 中，残差流从来不被归一化：每一层都往上面加东西，最后一层的输出是一个原始的和。因此 Pre-LN
# 堆叠在最后一层之后要多加一个层归一化：GPT-2 把它“添加在最后一个自注意力块之后”（Radford et al. 2019, §2.3），Xiong et
# al.（2020, 表 1）的 Pre-LN Transformer 也以一个“Final LayerNorm”结尾。在 PyTorch 中，它就是
# `nn.TransformerEncoder(..., norm=nn.LayerNorm(d))`。把它加到 Post-LN 堆叠上，就与 2017 年的设计不符了。（PyTorch
# 的一体化模型 `nn.Transformer` 不管 `norm_first` 取什么值，都会给它的两个堆叠各加一个最终归一化，
# 下面的残差流实验会把这一点打印出来；正因如此，测试才拿手工搭建的 `nn.TransformerEncoder` / `nn.TransformerDecoder`
# 来比较。）
#
# ### 练习 4 · Exercise 4：`Encoder` 和 `Decoder`
#
# **难度：** ●●○ · **重要性：** ●●○ · **用时：** 约 15 分钟
#
# 写出这两个类。属性：`layers`，一个包含 `n_layers` 个**各自独立**的层的 `nn.ModuleList`；`norm`，当 `norm_first` 为
# True 时是 `nn.LayerNorm(d_model)`，否则是 `None`。
#
# <details><summary>提示 1 · Hint 1</summary>
#
# `[layer] * n` 创建了几个层对象，它们有几组权重？最终归一化在 `forward` 中的什么位置执行：在循环之内还是循环之后？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 用列表推导式构造这个列表，每一层调用一次 `EncoderLayer(...)`（或 `DecoderLayer(...)`）。在 `forward` 中，
# 把每一层的输出送进下一层；每个解码器层都得到同样的 `memory`、`tgt_mask` 和 `memory_mask`；当 `self.norm` 不为 None
# 时，在循环之后调用它一次。
#
# </details>
# </details>

# %% answer="stacks"
class Encoder(nn.Module):
    """n_layers encoder layers, plus a final LayerNorm for Pre-LN.

    forward(src, src_mask=None): src (batch, src_len, d_model); src_mask None or bool broadcastable to
        (batch, n_heads, src_len, src_len), True = may attend. Returns (batch, src_len, d_model).
    """

    def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
        super().__init__()
        ### BEGIN SOLUTION
        self.layers = nn.ModuleList(
            [EncoderLayer(d_model, n_heads, d_ff, dropout, norm_first) for _ in range(n_layers)])
        self.norm = nn.LayerNorm(d_model) if norm_first else None
        ### END SOLUTION

    def forward(self, src, src_mask=None):
        ### BEGIN SOLUTION
        x = src
        for layer in self.layers:
            x = layer(x, src_mask)
        if self.norm is not None:
            x = self.norm(x)
        return x
        ### END SOLUTION


class Decoder(nn.Module):
    """n_layers decoder layers, plus a final LayerNorm for Pre-LN.

    forward(tgt, memory, tgt_mask=None, memory_mask=None): tgt (batch, tgt_len, d_model);
        memory (batch, src_len, d_model); masks as in DecoderLayer. Returns (batch, tgt_len, d_model).
    """

    def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
        super().__init__()
        ### BEGIN SOLUTION
        self.layers = nn.ModuleList(
            [DecoderLayer(d_model, n_heads, d_ff, dropout, norm_first) for _ in range(n_layers)])
        self.norm = nn.LayerNorm(d_model) if norm_first else None
        ### END SOLUTION

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None):
        ### BEGIN SOLUTION
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask, memory_mask)
        if self.norm is not None:
            x = self.norm(x)
        return x
        ### END SOLUTION


# %% answer="stacks" lang="zh"
class Encoder(nn.Module):
    """n_layers 个编码器层，Pre-LN 时再加一个最终层归一化。

    forward(src, src_mask=None)：src (batch, src_len, d_model)；src_mask 为 None，或可广播到
        (batch, n_heads, src_len, src_len) 的 bool 张量，True = 可以关注。返回 (batch, src_len, d_model)。
    """

    def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
        super().__init__()
        ### BEGIN SOLUTION
        self.layers = nn.ModuleList(
            [EncoderLayer(d_model, n_heads, d_ff, dropout, norm_first) for _ in range(n_layers)])
        self.norm = nn.LayerNorm(d_model) if norm_first else None
        ### END SOLUTION

    def forward(self, src, src_mask=None):
        ### BEGIN SOLUTION
        x = src
        for layer in self.layers:
            x = layer(x, src_mask)
        if self.norm is not None:
            x = self.norm(x)
        return x
        ### END SOLUTION


class Decoder(nn.Module):
    """n_layers 个解码器层，Pre-LN 时再加一个最终层归一化。

    forward(tgt, memory, tgt_mask=None, memory_mask=None)：tgt (batch, tgt_len, d_model)；
        memory (batch, src_len, d_model)；掩码与 DecoderLayer 中的相同。返回 (batch, tgt_len, d_model)。
    """

    def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
        super().__init__()
        ### BEGIN SOLUTION
        self.layers = nn.ModuleList(
            [DecoderLayer(d_model, n_heads, d_ff, dropout, norm_first) for _ in range(n_layers)])
        self.norm = nn.LayerNorm(d_model) if norm_first else None
        ### END SOLUTION

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None):
        ### BEGIN SOLUTION
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask, memory_mask)
        if self.norm is not None:
            x = self.norm(x)
        return x
        ### END SOLUTION


# %% tests="Encoder_tests" points=2
import torch
from course.checks import ch07_encoder_decoder as ref

keep = torch.tensor([[True] * 5, [True] * 2 + [False] * 3])  # (batch, seq)
x = torch.randn(2, 5, 8, dtype=torch.float64)
for norm_first in (False, True):
    theirs = ref.torch_encoder(3, 8, 2, 16, norm_first)  # nn.TransformerEncoder, norm=LayerNorm for Pre-LN only
    ours = ref.call(Encoder, 3, 8, 2, 16, 0.1, norm_first)
    ref.expect_stack_parameters(ours, theirs, f"Encoder(3, 8, 2, 16, norm_first={norm_first})", 3, 8)
    ours = ours.double().eval()
    ref.copy_encoder(ours, theirs)
    ref.compare_encoder(ours, theirs, x, keep[:, None, None, :])
# Another width, head count and feed-forward width, passed on to every layer
theirs = ref.torch_encoder(2, 12, 3, 20, False)
ours = ref.call(Encoder, 2, 12, 3, 20, 0.1, False)
ref.expect_stack_parameters(ours, theirs, "Encoder(2, 12, 3, 20)", 2, 12)
ref.copy_encoder(ours.double().eval(), theirs)
ref.compare_encoder(ours, theirs, torch.randn(2, 5, 12, dtype=torch.float64), keep[:, None, None, :])
# Train mode, dropout = 1.0: every sublayer of every layer is dropped, only the residual path is left.
ref.expect_stack_dropout(Encoder, decoder=False)
### BEGIN HIDDEN TESTS
from course_grader.checks import ch07_encoder_decoder as hidden
hidden.check_encoder(Encoder)
### END HIDDEN TESTS

# %% tests="Decoder_tests" points=2
import torch
from course.checks import ch07_encoder_decoder as ref

causal = torch.ones(5, 5, dtype=torch.bool).tril()
src_keep = torch.tensor([[True] * 3, [True] * 2 + [False]])  # (batch, src_len)
x = torch.randn(2, 5, 8, dtype=torch.float64)
memory = torch.randn(2, 3, 8, dtype=torch.float64)
for norm_first in (False, True):
    theirs = ref.torch_decoder(3, 8, 2, 16, norm_first)  # nn.TransformerDecoder, norm=LayerNorm for Pre-LN only
    ours = ref.call(Decoder, 3, 8, 2, 16, 0.1, norm_first)
    ref.expect_stack_parameters(ours, theirs, f"Decoder(3, 8, 2, 16, norm_first={norm_first})", 3, 8)
    ours = ours.double().eval()
    ref.copy_decoder(ours, theirs)
    ref.compare_decoder(ours, theirs, x, memory, causal, src_keep[:, None, None, :])
# Another width, head count and feed-forward width, passed on to every layer
theirs = ref.torch_decoder(2, 12, 3, 20, False)
ours = ref.call(Decoder, 2, 12, 3, 20, 0.1, False)
ref.expect_stack_parameters(ours, theirs, "Decoder(2, 12, 3, 20)", 2, 12)
ref.copy_decoder(ours.double().eval(), theirs)
x, memory = torch.randn(2, 5, 12, dtype=torch.float64), torch.randn(2, 3, 12, dtype=torch.float64)
ref.compare_decoder(ours, theirs, x, memory, causal, src_keep[:, None, None, :])
# Train mode, dropout = 1.0: every sublayer of every layer is dropped, only the residual path is left.
ref.expect_stack_dropout(Decoder, decoder=True)
### BEGIN HIDDEN TESTS
from course_grader.checks import ch07_encoder_decoder as hidden
hidden.check_decoder(Decoder)
### END HIDDEN TESTS

# %% [markdown]
# ### Data flow · 数据流
# Every layer maps `(batch, seq, d_model)` to the same shape; only cross-attention mixes two lengths
# (its output has the target's length, its keys the source's). `ex.trace_shapes` runs a module and
# prints, for each part in the order it runs, the shapes of the tensors going in (masks included,
# marked `bool`) and coming out. Dropout modules are left out of the listing. Follow the masks of the
# map at the top of the chapter: the encoder's `3x1x1x7` padding mask, the decoder's `5x5` causal mask
# for self-attention, and the same source padding mask again for cross-attention, whose keys and values
# are the `3x7x16` memory.

# %% [markdown] lang="zh"
# ### 数据流 · Data flow
# 每一层都把 `(batch, seq, d_model)` 映射为同样的形状；只有交叉注意力混合了两种长度（它的输出长度与目标序列相同，
# 它的键长度与源序列相同）。`ex.trace_shapes` 运行一个模块，并按执行顺序对其中每个部件打印输入张量（包括掩码，标为
# `bool`）和输出张量的形状。列表中略去了 dropout 模块。对照本章开头那张图里的掩码：编码器的 `3x1x1x7` 填充掩码，
# 解码器自注意力的 `5x5` 因果掩码，以及交叉注意力再次用到的同一个源序列填充掩码，交叉注意力的键和值就是 `3x7x16`
# 的记忆。

# %%
with needs("Encoder", "Decoder"), torch.no_grad():
    encoder = Encoder(2, 16, 4, 32, 0.1, norm_first=True).eval()
    decoder = Decoder(2, 16, 4, 32, 0.1, norm_first=True).eval()
    src = torch.randn(3, 7, 16)  # (batch=3, src_len=7, d_model=16)
    tgt = torch.randn(3, 5, 16)  # (batch=3, tgt_len=5, d_model=16)
    src_m = (torch.arange(7) < torch.tensor([7, 5, 3])[:, None])[:, None, None, :]  # (3, 1, 1, 7) padding mask
    tgt_m = torch.ones(5, 5, dtype=torch.bool).tril()  # (5, 5) causal mask
    print("Encoder (a 3x7x16 batch of sources):")
    ex.print_trace(ex.trace_shapes(encoder, src, src_m))
    memory = encoder(src, src_m)
    print("\nDecoder (targets of 5 positions, a memory of 7):")
    ex.print_trace(ex.trace_shapes(decoder, tgt, memory, tgt_m, src_m))

# %% lang="zh"
with needs("Encoder", "Decoder"), torch.no_grad():
    encoder = Encoder(2, 16, 4, 32, 0.1, norm_first=True).eval()
    decoder = Decoder(2, 16, 4, 32, 0.1, norm_first=True).eval()
    src = torch.randn(3, 7, 16)  # (batch=3, src_len=7, d_model=16)
    tgt = torch.randn(3, 5, 16)  # (batch=3, tgt_len=5, d_model=16)
    src_m = (torch.arange(7) < torch.tensor([7, 5, 3])[:, None])[:, None, None, :]  # (3, 1, 1, 7) 填充掩码
    tgt_m = torch.ones(5, 5, dtype=torch.bool).tril()  # (5, 5) 因果掩码
    print("编码器（一批 3x7x16 的源序列）：")
    ex.print_trace(ex.trace_shapes(encoder, src, src_m))
    memory = encoder(src, src_m)
    print("\n解码器（5 个位置的目标序列，7 个位置的记忆）：")
    ex.print_trace(ex.trace_shapes(decoder, tgt, memory, tgt_m, src_m))

# %% [markdown]
# ### Why Pre-LN needs the final norm · 为什么前置归一化需要最后的层归一化
# Twelve freshly initialised layers of each kind, on random unit-variance inputs: the size (root mean
# square) of the residual stream after each layer, and of the stack's output (the star).
#
# **Predict · 预测:** after layer 12, is the Pre-LN stream's RMS still about 1, or larger, and by
# roughly how much? What does the final LayerNorm make of it? Write your guess down, then run the next
# cell.

# %% [markdown] lang="zh"
# ### 为什么 Pre-LN 需要最终层归一化 · Why Pre-LN needs the final norm
# 两种排列各取十二个刚初始化的层，输入是方差为 1 的随机数：图中画出每一层之后残差流的大小（均方根），
# 以及整个堆叠输出的大小（星号）。
#
# **预测 · Predict：** 在第 12 层之后，Pre-LN 残差流的 RMS 仍然约为 1，还是更大？大约大多少？
# 最终层归一化会把它变成什么样？先写下你的猜测，再运行下一个单元格。

# %%
with needs("Encoder"), torch.no_grad():
    torch.manual_seed(0)
    x = torch.randn(4, 10, 32)
    curves = {}
    for norm_first in (False, True):
        stack = Encoder(12, 32, 4, 64, 0.1, norm_first=norm_first).eval()
        curves["Pre-LN" if norm_first else "Post-LN"] = ex.stream_rms(stack, x)
    ex.show(ex.stream_figure(curves))
    for name, values in curves.items():
        print(f"{name}: after layer 1 {values[0]:.2f}, after layer 12 {values[-2]:.2f}, output {values[-1]:.2f}")
    post_ln_transformer = nn.Transformer(32, 4, 1, 1, 64, batch_first=True, norm_first=False)
    print("nn.Transformer(norm_first=False) still has final norms:",
          type(post_ln_transformer.encoder.norm).__name__, type(post_ln_transformer.decoder.norm).__name__)

# %% lang="zh"
with needs("Encoder"), torch.no_grad():
    torch.manual_seed(0)
    x = torch.randn(4, 10, 32)
    curves = {}
    for norm_first in (False, True):
        stack = Encoder(12, 32, 4, 64, 0.1, norm_first=norm_first).eval()
        curves["Pre-LN" if norm_first else "Post-LN"] = ex.stream_rms(stack, x)
    ex.show(ex.stream_figure(curves))
    for name, values in curves.items():
        print(f"{name}：第 1 层之后 {values[0]:.2f}，第 12 层之后 {values[-2]:.2f}，输出 {values[-1]:.2f}")
    post_ln_transformer = nn.Transformer(32, 4, 1, 1, 64, batch_first=True, norm_first=False)
    print("nn.Transformer(norm_first=False) 仍然带有最终归一化：",
          type(post_ln_transformer.encoder.norm).__name__, type(post_ln_transformer.decoder.norm).__name__)


# %% [markdown]
# Post-LN keeps the stream at RMS 1 after every layer (each layer ends with a LayerNorm whose γ starts
# at 1). In Pre-LN each layer adds its sublayers' outputs to the stream and nothing rescales it, so
# it keeps growing with depth (here from about 1.1 after the first layer to about 1.6 after the
# twelfth); the final
# LayerNorm brings the output back to RMS 1 for whatever comes next (the output projection in chapter
# 08). The last line shows PyTorch's all-in-one model adding final norms to a Post-LN stack too.

# %% [markdown] lang="zh"
# Post-LN 在每一层之后都把残差流保持在 RMS 1（每层都以一个层归一化结尾，其 γ 初始为 1）。在 Pre-LN 中，
# 每一层都把子层的输出加到流上，却没有任何东西对它重新缩放，所以它随深度不断增长（这里从第一层之后的约 1.1
# 增长到第十二层之后的约 1.6）；最终层归一化把输出拉回到 RMS 1，再交给后面的部件（第 08 章中的输出投影）。最后一行显示，
# PyTorch 的一体化模型给 Post-LN 堆叠也加上了最终归一化。

# %% [markdown]
# ## Part 5 — Masks for a batch · 批量的掩码
#
# A batch holds sentences of different lengths, padded to the longest. From the true lengths we
# build everything the stacks need:
#
# * `source_mask(lengths, max_len)` → `(batch, 1, 1, S)`: which keys of each source sentence are real
#   tokens (the padding comes after them). The encoder's self-attention uses it, and so does the
#   decoder's cross-attention (its keys are the source positions): **memory mask = source mask**.
#   The two 1s broadcast over the heads and over the queries.
# * `target_mask(lengths, max_len)` → `(batch, 1, T, T)`: what each target query may attend to, the
#   causal rule of Part 3 (no later position; the query itself is allowed) **and** no padding key.
#   Only *keys* are masked for padding: a padding query still attends to the real tokens before it
#   (its output is ignored by the loss in chapter 08), so none of its rows is empty as long as every
#   sentence has at least one token. An empty row is the case that gives NaN on PyTorch's fast path
#   and zeros in the course's attention (Part 2).
#
# Both raise `ValueError` when a length is larger than `max_len`.
#
# ### Exercise 5 · 练习 5: `source_mask` and `target_mask`
#
# **Difficulty:** ●●○ · **Importance:** ●●● · **Time:** ~15 min
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Both masks are comparisons of position indices. For the source: which position index, compared with
# which length, says "real"? For the target: which two conditions must hold, and along which axes
# (queries, keys) does each one vary?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Positions against lengths, compared by broadcasting, give one row per sequence; the mask then needs
# the size-1 axes of the (batch, heads, queries, keys) scores. The causal part is a triangle (does it
# include the diagonal?), and the target mask is both conditions at once.
#
# </details>
# </details>

# %% [markdown] lang="zh"
# ## 第 5 部分 批量的掩码 · Part 5 — Masks for a batch
#
# 一个批量中的句子长短不一，都填充到最长句子的长度。由真实长度，我们可以构造出两个堆叠所需的一切：
#
# * `source_mask(lengths, max_len)` → `(batch, 1, 1, S)`：每个源句子的哪些键是真实词元（填充位于真实词元之后）。
#   编码器的自注意力使用它，解码器的交叉注意力也使用它（交叉注意力的键就是源序列的各个位置）：**记忆掩码 =
#   源序列掩码**。两个 1 分别在头和查询这两个维度上广播。
# * `target_mask(lengths, max_len)` → `(batch, 1, T, T)`：每个目标查询可以关注什么，即第 3
#   部分的因果规则（不能关注后面的位置；查询自身可以）**并且**不能关注填充键。填充只屏蔽*键*：
#   填充位置上的查询仍然关注它前面的真实词元（它的输出在第 08 章会被损失函数忽略），所以只要每个句子至少有一个词元，
#   掩码的任何一行都不会是空的。空行正是会在 PyTorch 的快速路径上产生 NaN、在课程的注意力中产生零的那种情况（第 2
#   部分）。
#
# 当某个长度大于 `max_len` 时，两者都抛出 `ValueError`。
#
# ### 练习 5 · Exercise 5：`source_mask` 和 `target_mask`
#
# **难度：** ●●○ · **重要性：** ●●● · **用时：** 约 15 分钟
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 两个掩码都是位置下标的比较。对源序列：哪个位置下标与哪个长度相比较，能说明“这是真实词元”？对目标序列：
# 哪两个条件必须同时成立，每个条件又沿哪个轴（查询、键）变化？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 通过广播把位置与长度相比较，每个序列得到一行；然后掩码还需要补上 (batch, heads, queries, keys) 分数中那几个大小为 1
# 的轴。因果部分是一个三角形（包不包括对角线？），而目标掩码就是两个条件同时成立。
#
# </details>
# </details>

# %% answer="masks"
def source_mask(lengths, max_len):
    """Which keys of each padded source sentence are real tokens (the padding follows the real tokens).

    lengths: long tensor (batch,), the true lengths; max_len: int, the padded length.
    Returns a bool tensor (batch, 1, 1, max_len), True where the key is a real token (may be attended to).
    Raises ValueError if a length exceeds max_len.
    """
    ### BEGIN SOLUTION
    if int(lengths.max()) > max_len:
        raise ValueError(f"a sequence of length {int(lengths.max())} does not fit in max_len={max_len}")
    keep = torch.arange(max_len)[None, :] < lengths[:, None]  # (batch, max_len)
    return keep[:, None, None, :]
    ### END SOLUTION


def target_mask(lengths, max_len):
    """What each query of a padded target sentence may attend to: no later position, and no padding key.

    lengths: long tensor (batch,); max_len: int. Returns a bool tensor (batch, 1, max_len, max_len) whose
    entry [b, 0, i, j] is True where query i of sentence b may attend to key j.
    Raises ValueError if a length exceeds max_len.
    """
    ### BEGIN SOLUTION
    causal = torch.ones(max_len, max_len, dtype=torch.bool).tril()  # (T, T)
    return source_mask(lengths, max_len) & causal  # (batch, 1, 1, T) & (T, T) -> (batch, 1, T, T)
    ### END SOLUTION


# %% answer="masks" lang="zh"
def source_mask(lengths, max_len):
    """每个经过填充的源句子中，哪些键是真实词元（填充位于真实词元之后）。

    lengths：long 张量 (batch,)，真实长度；max_len：int，填充后的长度。
    返回 bool 张量 (batch, 1, 1, max_len)，键为真实词元（可以被关注）的位置为 True。
    若某个长度超过 max_len，抛出 ValueError。
    """
    ### BEGIN SOLUTION
    if int(lengths.max()) > max_len:
        raise ValueError(f"a sequence of length {int(lengths.max())} does not fit in max_len={max_len}")
    keep = torch.arange(max_len)[None, :] < lengths[:, None]  # (batch, max_len)
    return keep[:, None, None, :]
    ### END SOLUTION


def target_mask(lengths, max_len):
    """经过填充的目标句子中，每个查询可以关注什么：不能关注后面的位置，也不能关注填充键。

    lengths：long 张量 (batch,)；max_len：int。返回 bool 张量 (batch, 1, max_len, max_len)，
    当句子 b 的查询 i 可以关注键 j 时，元素 [b, 0, i, j] 为 True。
    若某个长度超过 max_len，抛出 ValueError。
    """
    ### BEGIN SOLUTION
    causal = torch.ones(max_len, max_len, dtype=torch.bool).tril()  # (T, T)
    return source_mask(lengths, max_len) & causal  # (batch, 1, 1, T) & (T, T) -> (batch, 1, T, T)
    ### END SOLUTION


# %% tests="masks_tests" points=3
import torch
from course.checks import call, raises
from course.checks import ch07_encoder_decoder as ref

T, F = True, False
ref.expect_mask(call(source_mask, torch.tensor([3, 1]), 3), torch.tensor([[T, T, T], [T, F, F]])[:, None, None, :],
               "source_mask([3, 1], 3)")
ref.expect_mask(call(target_mask, torch.tensor([3, 1]), 3),
               torch.tensor([[[T, F, F], [T, T, F], [T, T, T]],    # full length: causal, diagonal included
                             [[T, F, F], [T, F, F], [T, F, F]]])[:, None],  # length 1: every query sees key 0 only
               "target_mask([3, 1], 3)")
ref.expect_mask(call(target_mask, torch.tensor([2, 4]), 4),
               torch.tensor([[[T, F, F, F], [T, T, F, F], [T, T, F, F], [T, T, F, F]],
                             [[T, F, F, F], [T, T, F, F], [T, T, T, F], [T, T, T, T]]])[:, None],
               "target_mask([2, 4], 4)")
raises(ValueError, source_mask, torch.tensor([4]), 3,
       name="source_mask([4], max_len=3) (a length over max_len, Part 5)")
raises(ValueError, target_mask, torch.tensor([2, 4]), 3,
       name="target_mask([2, 4], max_len=3) (a length over max_len, Part 5)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch07_encoder_decoder as hidden
hidden.check_masks(source_mask, target_mask)
### END HIDDEN TESTS

# %% [markdown]
# Your masks for a batch of two: a full sentence of 6 tokens and one of 4 (2 padding positions).
# White = may attend; the dashed line marks where padding starts. Each row is one query.

# %% [markdown] lang="zh"
# 你的掩码，作用在一个包含两个句子的批量上：一个 6 个词元的完整句子，一个 4 个词元的句子（2 个填充位置）。白色 =
# 可以关注；虚线标出填充开始的地方。每一行是一个查询。

# %%
with needs("source_mask", "target_mask"):
    lengths = torch.tensor([6, 4])
    src_m, tgt_m = source_mask(lengths, 6), target_mask(lengths, 6)   # (2, 1, 1, 6), (2, 1, 6, 6)
    full_title, short_title, memory_title = ex.mask_titles(6, 4)  # the three pictures' titles
    ex.show(ex.mask_figure({full_title: tgt_m[0, 0], short_title: tgt_m[1, 0], memory_title: src_m[1, 0].expand(6, 6)},
                           lengths={short_title: 4, memory_title: 4}))

# %% lang="zh"
with needs("source_mask", "target_mask"):
    lengths = torch.tensor([6, 4])
    src_m, tgt_m = source_mask(lengths, 6), target_mask(lengths, 6)   # (2, 1, 1, 6), (2, 1, 6, 6)
    full_title, short_title, memory_title = ex.mask_titles(6, 4)  # 三幅图的标题
    ex.show(ex.mask_figure({full_title: tgt_m[0, 0], short_title: tgt_m[1, 0], memory_title: src_m[1, 0].expand(6, 6)},
                           lengths={short_title: 4, memory_title: 4}))

# %% [markdown]
# The map of the chapter again, now with your masks in place (a source of 4 real tokens out of 6 and a
# target of 4 out of 5, as in the example).

# %% [markdown] lang="zh"
# 再看一遍本章的地图，这次换上了你自己的掩码（与前面的示例一样，源序列 6 个位置中有 4 个真实词元，目标序列 5 个位置中有
# 4 个）。

# %%
with needs("source_mask", "target_mask"):
    s, t = source_mask(torch.tensor([4]), 6), target_mask(torch.tensor([4]), 5)  # (1, 1, 1, 6), (1, 1, 5, 5)
    ex.show(ex.data_flow_figure(encoder_mask=s[0, 0].expand(6, 6), self_mask=t[0, 0], cross_mask=s[0, 0].expand(5, 6)))

# %% [markdown]
# ## Part 6 — Everything together · 组装起来
#
# A batch of two source sentences (lengths 7 and 4) and two target prefixes (lengths 5 and 3) through
# your encoder and decoder, with your masks. Two promises to check:
#
# * changing a target token after position t leaves the decoder's outputs 0..t unchanged;
# * changing padding tokens (source or target) leaves the outputs of all real tokens unchanged.
#
# **Predict · 预测:** the cell replaces target tokens 3 and 4. Which of the three printed numbers will
# be zero (up to rounding), and which clearly not? Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# ## 第 6 部分 组装起来 · Part 6 — Everything together
#
# 把一个批量（两个源句子，长度为 7 和 4；两个目标前缀，长度为 5 和 3）用你的掩码送进你的编码器和解码器。要验证两个承诺：
#
# * 改动位置 t 之后的目标词元，解码器在位置 0..t 上的输出不变；
# * 改动填充词元（无论在源序列还是目标序列中），所有真实词元的输出都不变。
#
# **预测 · Predict：** 这个单元格替换了目标词元 3 和 4。打印出的三个数中，哪些会是零（在舍入误差范围内），哪些明显不是？
# 先写下你的猜测，再运行下一个单元格。

# %%
with needs("Encoder", "Decoder", "source_mask", "target_mask"), torch.no_grad():
    torch.manual_seed(0)
    encoder = Encoder(2, 16, 4, 32, 0.1, norm_first=True).eval()
    decoder = Decoder(2, 16, 4, 32, 0.1, norm_first=True).eval()
    src_len, tgt_len = torch.tensor([7, 4]), torch.tensor([5, 3])
    src, tgt = torch.randn(2, 7, 16), torch.randn(2, 5, 16)

    def run(src, tgt):
        s_mask = source_mask(src_len, 7)
        memory = encoder(src, s_mask)
        return decoder(tgt, memory, target_mask(tgt_len, 5), s_mask)  # memory mask = source mask

    out = run(src, tgt)
    changed = tgt.clone()
    changed[:, 3:] = torch.randn(2, 2, 16)  # new target tokens at positions 3 and 4
    moved = run(src, changed) - out
    print("change target tokens 3-4, largest change of outputs 0-2:", float(moved[:, :3].abs().max()))
    print("                          largest change of outputs 3-4:", float(moved[0, 3:].abs().max()))
    padded = src.clone()
    padded[1, 4:] = torch.randn(3, 16)  # source padding of sentence 1
    tgt_pad = tgt.clone()
    tgt_pad[1, 3:] = torch.randn(2, 16)  # target padding of sentence 1
    diff = run(padded, tgt_pad) - out
    print("change only padding, largest change of real outputs:",
          float(max(diff[0].abs().max(), diff[1, :3].abs().max())))

# %% lang="zh"
with needs("Encoder", "Decoder", "source_mask", "target_mask"), torch.no_grad():
    torch.manual_seed(0)
    encoder = Encoder(2, 16, 4, 32, 0.1, norm_first=True).eval()
    decoder = Decoder(2, 16, 4, 32, 0.1, norm_first=True).eval()
    src_len, tgt_len = torch.tensor([7, 4]), torch.tensor([5, 3])
    src, tgt = torch.randn(2, 7, 16), torch.randn(2, 5, 16)

    def run(src, tgt):
        s_mask = source_mask(src_len, 7)
        memory = encoder(src, s_mask)
        return decoder(tgt, memory, target_mask(tgt_len, 5), s_mask)  # 记忆掩码 = 源序列掩码

    out = run(src, tgt)
    changed = tgt.clone()
    changed[:, 3:] = torch.randn(2, 2, 16)  # 位置 3 和 4 上换成新的目标词元
    moved = run(src, changed) - out
    print("改动目标词元 3-4，输出 0-2 的最大变化：", float(moved[:, :3].abs().max()))
    print("                  输出 3-4 的最大变化：", float(moved[0, 3:].abs().max()))
    padded = src.clone()
    padded[1, 4:] = torch.randn(3, 16)  # 句子 1 的源序列填充
    tgt_pad = tgt.clone()
    tgt_pad[1, 3:] = torch.randn(2, 16)  # 句子 1 的目标序列填充
    diff = run(padded, tgt_pad) - out
    print("只改动填充，真实词元输出的最大变化：",
          float(max(diff[0].abs().max(), diff[1, :3].abs().max())))

# %% [markdown]
# The first and third numbers are zero up to rounding (at most about 1e-7): the outputs 0-2 cannot see
# tokens 3-4, and no real token sees padding. The second is clearly not (a few units here): outputs 3-4
# do read the new tokens. Chapter 08 adds embeddings, positions and an output layer around exactly this and trains it.
#
# ### The masks at work · 掩码的效果
# The attention view records every attention layer of your two stacks while they run on the second
# sentence of the batch (source: 4 real tokens `s0`–`s3` and 3 `<pad>`; target: 3 real tokens and 2
# `<pad>`): the encoder's self-attention, the decoder's causal self-attention and its cross-attention,
# each 2 layers × 4 heads. Hatched cells are the keys your masks forbid; no weight lands on them. The
# entropy bars of the large map are measured over the keys each row may see, so a query that sees 2 keys
# can reach at most log 2. Hover `s2` in the source row: it lights up a row and a column of the encoder's
# maps and a column of the cross-attention maps (the decoder queries that read it). The weights are
# untrained and close to uniform over the allowed keys; what to read here is where they are zero.

# %% [markdown] lang="zh"
# 第一个和第三个数在舍入误差范围内为零（最多约 1e-7）：输出 0-2 看不到词元 3-4，真实词元也看不到填充。
# 第二个数明显不是零（这里是几个单位）：输出 3-4 确实读取了新的词元。第 08 章正是在这个结构的外面加上嵌入、
# 位置和输出层，然后训练它。
#
# ### 掩码的效果 · The masks at work
# 注意力视图记录下你的两个堆叠在处理批量中第二个句子时的每一个注意力层（源序列：4 个真实词元 `s0`–`s3` 和 3 个 `<pad>`；
# 目标序列：3 个真实词元和 2 个 `<pad>`）：编码器的自注意力、解码器的因果自注意力和它的交叉注意力，各为 2 层 × 4 个头。
# 带斜线阴影的格子是你的掩码所禁止的键；没有任何权重落在上面。大图的熵条是在每一行可以看到的那些键上计算的，
# 所以一个能看到 2 个键的查询，熵最多只能达到 log 2。把鼠标悬停在源序列那一行的 `s2` 上：
# 它会点亮编码器各图中的一行和一列，以及交叉注意力各图中的一列（读取它的那些解码器查询）。这些权重没有经过训练，
# 在允许的键上接近均匀分布；这里要看的是它们在哪里为零。

# %%
from IPython.display import display

with needs("Encoder", "Decoder", "source_mask", "target_mask"):
    torch.manual_seed(0)  # the two stacks of the cell above, built again: same seed, same weights
    encoder = Encoder(2, 16, 4, 32, 0.1, norm_first=True).eval()
    decoder = Decoder(2, 16, 4, 32, 0.1, norm_first=True).eval()
    src_tokens = ["s0", "s1", "s2", "s3", "<pad>", "<pad>", "<pad>"]  # sentence 1: source length 4 of 7
    tgt_tokens = ["t0", "t1", "t2", "<pad>", "<pad>"]                # target length 3 of 5
    display(attention_of({"encoder": encoder, "decoder": decoder}, lambda: run(src, tgt), tokens=tgt_tokens,
                         source_tokens=src_tokens, batch=1, title=ex.attention_title()))

# %% lang="zh"
from IPython.display import display

with needs("Encoder", "Decoder", "source_mask", "target_mask"):
    torch.manual_seed(0)  # 重新搭建上一个单元格中的两个堆叠：同样的种子，同样的权重
    encoder = Encoder(2, 16, 4, 32, 0.1, norm_first=True).eval()
    decoder = Decoder(2, 16, 4, 32, 0.1, norm_first=True).eval()
    src_tokens = ["s0", "s1", "s2", "s3", "<pad>", "<pad>", "<pad>"]  # 句子 1：源序列长度为 4（共 7）
    tgt_tokens = ["t0", "t1", "t2", "<pad>", "<pad>"]                # 目标序列长度为 3（共 5）
    display(attention_of({"encoder": encoder, "decoder": decoder}, lambda: run(src, tgt), tokens=tgt_tokens,
                         source_tokens=src_tokens, batch=1, title=ex.attention_title()))

# %% [markdown]
# ## Summary · 小结
#
# * Feed-forward block: `linear2(dropout(relu(linear1(x))))`, d → d_ff → d, the same weights at every
#   position; 2·d·d_ff + d_ff + d parameters, two thirds of an encoder layer at d_ff = 4d. GELU is the
#   common alternative to ReLU.
# * Every sublayer sits in a residual block with dropout on its output: Post-LN
#   `x = norm(x + dropout(f(x)))`, Pre-LN `x = x + dropout(f(norm(x)))`.
# * Encoder layer: self-attention + FFN. Decoder layer: causal self-attention + cross-attention
#   (queries from the decoder, keys and values from the memory) + FFN.
# * Stacks of N separate layers; a Pre-LN stack ends with a final LayerNorm, a Post-LN stack does not.
# * Masks: source `(batch, 1, 1, S)`; target `(batch, 1, T, T)` = causal AND key padding; the memory
#   mask is the source mask. The course's True = may attend is PyTorch's `~mask`; a row with no
#   allowed key gives NaN on PyTorch's fast path, zeros on its general path and in the course.
# * The causal mask is what makes teacher forcing honest: all positions train in one pass, none sees
#   its own answer.
#
# **Next:** chapter 08 adds embeddings, positions and an output layer, and trains the whole model.

# %% [markdown] lang="zh"
# ## 小结 · Summary
#
# * 前馈网络：`linear2(dropout(relu(linear1(x))))`，d → d_ff → d，每个位置使用同一组权重；共 2·d·d_ff + d_ff + d
#   个参数，d_ff = 4d 时占编码器层参数的三分之二。GELU 是 ReLU 的常见替代。
# * 每个子层都处在一个残差块中，子层输出上有 dropout：Post-LN 为 `x = norm(x + dropout(f(x)))`，Pre-LN 为
#   `x = x + dropout(f(norm(x)))`。
# * 编码器层：自注意力 + 前馈网络。解码器层：因果自注意力 + 交叉注意力（查询来自解码器，键和值来自记忆）+ 前馈网络。
# * 堆叠由 N 个各自独立的层组成；Pre-LN 堆叠以一个最终层归一化结尾，Post-LN 堆叠则没有。
# * 掩码：源序列掩码 `(batch, 1, 1, S)`；目标序列掩码 `(batch, 1, T, T)` = 因果掩码与键填充掩码的逻辑与；
#   记忆掩码就是源序列掩码。课程的 True = 可以关注，相当于 PyTorch 的 `~mask`；没有任何可关注键的行，在 PyTorch
#   的快速路径上得到 NaN，在它的一般路径上和课程中得到零。
# * 因果掩码让教师强制名副其实：所有位置在一次计算中一起训练，却没有哪个位置能看到自己的答案。
#
# **下一章：** 第 08 章加上嵌入、位置和输出层，并训练整个模型。

# %% [markdown]
# ## References · 参考文献
#
# 1. Vaswani, A., Shazeer, N., Parmar, N., Uszkoreit, J., Jones, L., Gomez, A. N., Kaiser, Ł. and
#    Polosukhin, I. (2017). Attention Is All You Need. NeurIPS 2017, arXiv:1706.03762. §3.1 (encoder and
#    decoder stacks, N = 6, LayerNorm(x + Sublayer(x)), the decoder's masking with the outputs offset by
#    one position), §3.2.3 (self-, masked self- and encoder-decoder attention), §3.3 and eq. 2 (the
#    feed-forward block, d_model = 512, d_ff = 2048), §5.4 (residual dropout), Table 3 (base and big sizes).
# 2. Xiong, R., Yang, Y., He, D., Zheng, K., Zheng, S., Xing, C., Zhang, H., Lan, Y., Wang, L. and Liu, T.-Y.
#    (2020). On Layer Normalization in the Transformer Architecture. ICML 2020, arXiv:2002.04745. Table 1
#    (Post-LN and Pre-LN layers; the Pre-LN stack's final LayerNorm).
# 3. Radford, A., Wu, J., Child, R., Luan, D., Amodei, D. and Sutskever, I. (2019). Language Models are
#    Unsupervised Multitask Learners. OpenAI technical report. §2.3 (LayerNorm moved to each sub-block's
#    input, an additional LayerNorm after the final block).
# 4. Radford, A., Narasimhan, K., Salimans, T. and Sutskever, I. (2018). Improving Language Understanding
#    by Generative Pre-Training. OpenAI technical report. §4.1 (GELU activation).
# 5. Devlin, J., Chang, M.-W., Lee, K. and Toutanova, K. (2019). BERT: Pre-training of Deep Bidirectional
#    Transformers for Language Understanding. NAACL 2019, arXiv:1810.04805. Appendix A.2 (GELU activation).
# 6. Hendrycks, D. and Gimpel, K. (2016). Gaussian Error Linear Units (GELUs). arXiv:1606.08415. §2
#    (GELU(x) = x·Φ(x)).
# 7. Goodfellow, I., Bengio, Y. and Courville, A. (2016). Deep Learning. MIT Press. §10.2.1 (teacher forcing).
# 8. PyTorch documentation and source, version 2.x: `torch.nn.TransformerEncoderLayer` (default
#    `activation="relu"`, the fast-path conditions), `torch.nn.MultiheadAttention` (bool masks with True =
#    not allowed, float masks added), `torch/nn/modules/transformer.py` (`_ff_block`: dropout on the hidden
#    units; `Transformer.__init__`: final norms on both stacks).

# %% [markdown] lang="zh"
# ## 参考文献 · References
#
# 1. Vaswani, A., Shazeer, N., Parmar, N., Uszkoreit, J., Jones, L., Gomez, A. N., Kaiser, Ł. and Polosukhin, I.
#    (2017). Attention Is All You Need. NeurIPS 2017, arXiv:1706.03762. §3.1（编码器与解码器堆叠，N = 6，LayerNorm(x +
#    Sublayer(x))，解码器的掩码以及偏移一个位置的输出），§3.2.3（自注意力、掩码自注意力与编码器-解码器注意力），§3.3
#    和式 2（前馈网络，d_model = 512，d_ff = 2048），§5.4（残差 dropout），表 3（基础模型与大模型的规模）。
# 2. Xiong, R., Yang, Y., He, D., Zheng, K., Zheng, S., Xing, C., Zhang, H., Lan, Y., Wang, L. and Liu, T.-Y. (2020).
#    On Layer Normalization in the Transformer Architecture. ICML 2020, arXiv:2002.04745. 表 1（Post-LN 层与 Pre-LN 层；
#    Pre-LN 堆叠的最终层归一化）。
# 3. Radford, A., Wu, J., Child, R., Luan, D., Amodei, D. and Sutskever, I. (2019). Language Models are Unsupervised
#    Multitask Learners. OpenAI technical report. §2.3（层归一化移到每个子块的输入处，
#    并在最后一个块之后再加一个层归一化）。
# 4. Radford, A., Narasimhan, K., Salimans, T. and Sutskever, I. (2018). Improving Language Understanding by Generative
#    Pre-Training. OpenAI technical report. §4.1（GELU 激活函数）。
# 5. Devlin, J., Chang, M.-W., Lee, K. and Toutanova, K. (2019). BERT: Pre-training of Deep Bidirectional Transformers
#    for Language Understanding. NAACL 2019, arXiv:1810.04805. 附录 A.2（GELU 激活函数）。
# 6. Hendrycks, D. and Gimpel, K. (2016). Gaussian Error Linear Units (GELUs). arXiv:1606.08415. §2（GELU(x) =
#    x·Φ(x)）。
# 7. Goodfellow, I., Bengio, Y. and Courville, A. (2016). Deep Learning. MIT Press. §10.2.1（教师强制）。
# 8. PyTorch 文档与源代码，2.x 版：`torch.nn.TransformerEncoderLayer`（默认 `activation="relu"`，快速路径的条件），
#    `torch.nn.MultiheadAttention`（布尔掩码中 True = 不允许关注，浮点掩码加到分数上），
#    `torch/nn/modules/transformer.py`（`_ff_block`：对隐藏单元做 dropout；`Transformer.__init__`：
#    两个堆叠都有最终归一化）。

# %%
glossary.show("07-encoder-decoder")
