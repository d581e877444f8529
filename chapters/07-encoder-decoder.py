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

# %% [markdown]
# Run the set-up cell first.

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

# %%
mha = MultiHeadAttention(16, 4)
x = torch.randn(2, 5, 16)        # (batch, seq, d_model)
other = torch.randn(2, 3, 16)    # another sequence, 3 tokens
print("self-attention :", tuple(mha(x, x, x).shape))
print("cross-attention:", tuple(mha(x, other, other).shape), "  (one output per query, whatever the key count)")
print("parameters     :", sum(p.numel() for p in mha.parameters()), "=", 4 * 16**2 + 4 * 16, "= 4·16² + 4·16")

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

# %% [markdown]
# **Predict · 预测:** at the paper's base sizes (d_model = 512, d_ff = 2048, 8 heads), what fraction of
# an encoder layer's parameters sits in the feed-forward block: a quarter, a half, two thirds? Write
# your guess down, then run the next cell.

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

# %%
with needs("FeedForward"), torch.no_grad():
    ff = FeedForward(8, 32, 0.1).eval()
    x = torch.randn(2, 6, 8)
    together = ff(x)
    one_by_one = torch.stack([ff(x[:, t]) for t in range(6)], dim=1)
    print("largest difference, whole sequence vs token by token:", float((together - one_by_one).abs().max()))
    ff.train()
    print("train mode, two calls differ (dropout):", not torch.equal(ff(x), ff(x)))


# %% [markdown]
# Zero, or a rounding error of order 1e-7: no token's output depends on another token. In train mode
# the two calls differ, because each draws its own dropout mask.

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


# %% [markdown]
# No error either way. In eval mode under `no_grad`, PyTorch's layer takes its fused "fast path"
# (its documentation lists the conditions), whose softmax turns a row with no allowed key into NaN:
# all 96 outputs of sentence 0. With gradients on it runs the general path through
# `F.scaled_dot_product_attention`, which gives such a row zero attention (the convention of chapter
# 05 and of `course.attention`): finite numbers, just wrong. Sentence 1, which now attends only to its
# two padding tokens, is wrong on both paths.

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

# %%
with needs("EncoderLayer", "DecoderLayer"), torch.no_grad():
    torch.manual_seed(0)
    enc_layer = EncoderLayer(16, 4, 32, 0.1).eval()
    dec_layer = DecoderLayer(16, 4, 32, 0.1).eval()
    x = torch.randn(1, 7, 16)
    memory = torch.randn(1, 4, 16)
    causal = torch.ones(7, 7, dtype=torch.bool).tril()
    panels = {
        "encoder layer": ex.influence(lambda t: enc_layer(t), x),
        "decoder layer, causal mask": ex.influence(lambda t: dec_layer(t, memory, causal), x),
        "decoder layer, no mask": ex.influence(lambda t: dec_layer(t, memory), x),
    }
    ex.show(ex.influence_figure(panels))
    for name, matrix in panels.items():
        print(f"{name:27s}: {int((matrix > 1e-6).sum())} of 49 (output, input) pairs connected")


# %% [markdown]
# The encoder layer and the unmasked decoder layer connect all 49 pairs (a full square); the causal
# decoder layer connects the 28 pairs on and below the diagonal (a lower triangle): output t depends on
# inputs 0..t only. The third panel is the bug the mask prevents: without it, in training, every
# position could copy the next target token from its input.

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

# %% [markdown]
# ### Why Pre-LN needs the final norm · 为什么前置归一化需要最后的层归一化
# Twelve freshly initialised layers of each kind, on random unit-variance inputs: the size (root mean
# square) of the residual stream after each layer, and of the stack's output (the star).
#
# **Predict · 预测:** after layer 12, is the Pre-LN stream's RMS still about 1, or larger, and by
# roughly how much? What does the final LayerNorm make of it? Write your guess down, then run the next
# cell.

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


# %% [markdown]
# Post-LN keeps the stream at RMS 1 after every layer (each layer ends with a LayerNorm whose γ starts
# at 1). In Pre-LN each layer adds its sublayers' outputs to the stream and nothing rescales it, so
# it keeps growing with depth (here from about 1.1 after the first layer to about 1.6 after the
# twelfth); the final
# LayerNorm brings the output back to RMS 1 for whatever comes next (the output projection in chapter
# 08). The last line shows PyTorch's all-in-one model adding final norms to a Post-LN stack too.

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

# %%
with needs("source_mask", "target_mask"):
    lengths = torch.tensor([6, 4])
    src_m, tgt_m = source_mask(lengths, 6), target_mask(lengths, 6)   # (2, 1, 1, 6), (2, 1, 6, 6)
    ex.show(ex.mask_figure(
        {"target mask, length 6": tgt_m[0, 0], "target mask, length 4": tgt_m[1, 0],
         "memory mask, source length 4": src_m[1, 0].expand(6, 6)},
        lengths={"target mask, length 4": 4, "memory mask, source length 4": 4}))

# %% [markdown]
# The map of the chapter again, now with your masks in place (a source of 4 real tokens out of 6 and a
# target of 4 out of 5, as in the example).

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

# %%
from IPython.display import display

with needs("Encoder", "Decoder", "source_mask", "target_mask"):
    torch.manual_seed(0)  # the two stacks of the cell above, built again: same seed, same weights
    encoder = Encoder(2, 16, 4, 32, 0.1, norm_first=True).eval()
    decoder = Decoder(2, 16, 4, 32, 0.1, norm_first=True).eval()
    src_tokens = ["s0", "s1", "s2", "s3", "<pad>", "<pad>", "<pad>"]  # sentence 1: source length 4 of 7
    tgt_tokens = ["t0", "t1", "t2", "<pad>", "<pad>"]                # target length 3 of 5
    display(attention_of({"encoder": encoder, "decoder": decoder}, lambda: run(src, tgt), tokens=tgt_tokens,
                         source_tokens=src_tokens, batch=1, title="Your encoder and decoder, sentence 2"))

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

# %%
glossary.show("07-encoder-decoder")
