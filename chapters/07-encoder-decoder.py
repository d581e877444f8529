# %% [markdown]
# # Encoder and decoder · 编码器与解码器
#
# The Transformer of 2017 translates in two halves. The **encoder** (编码器) reads the whole source
# sentence and turns every source token into a vector that knows about its context. The **decoder**
# (解码器) writes the target sentence one token at a time; at each step it looks at what it has
# written so far and at the encoder's vectors. Both halves are stacks of identical layers, and every
# layer is made of pieces you have already built:
#
# * multi-head attention (chapter 05),
# * LayerNorm and the Pre-LN / Post-LN placements (chapter 03),
# * dropout and residual connections (chapter 04).
#
# In this chapter you will
#
# * write the position-wise feed-forward block,
# * assemble an encoder layer and a decoder layer, each in both the Post-LN and Pre-LN arrangement,
#   and match PyTorch's `nn.TransformerEncoderLayer` / `nn.TransformerDecoderLayer` weight for weight,
# * stack them, with the final LayerNorm a Pre-LN stack needs,
# * build the masks a batch of padded sentences needs, and check, by experiment, that the decoder
#   cannot peek at the future and that padding changes nothing.

# %% [markdown]
# Run the set-up cell first.

# %%
import torch
from torch import nn

from course import glossary
from course.attention import MultiHeadAttention
from course.experiments import ch07_encoder_decoder as ex
from course.notebook import setup, needs

setup()

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
#   **True where the query may attend to the key**.
#
# The same module does self-attention (`query = key = value = x`) and cross-attention (queries from
# one sequence, keys and values from another): only the arguments differ.

# %%
mha = MultiHeadAttention(16, 4)
x = torch.randn(2, 5, 16)        # (batch, seq, d_model)
other = torch.randn(2, 3, 16)    # another sequence, 3 tokens
print("self-attention :", tuple(mha(x, x, x).shape))
print("cross-attention:", tuple(mha(x, other, other).shape), "  (one output per query, whatever the key count)")
print("parameters     :", sum(p.numel() for p in mha.parameters()), "= 4·16² + 4·16")


# %% [markdown]
# ## Part 1 — The position-wise feed-forward block · 逐位置前馈网络
#
# Attention mixes information **between** tokens; the feed-forward block then processes each token
# **on its own**: two linear maps with a non-linearity in between,
#
# $$\mathrm{FFN}(x) = W_2\,\mathrm{ReLU}(W_1 x + b_1) + b_2, \qquad d_\text{model} \to d_\text{ff} \to d_\text{model}.$$
#
# "Position-wise" means the same weights are applied at every position, independently: on a
# `(batch, seq, d_model)` tensor that is just `nn.Linear` acting on the last dim. The hidden width
# is usually four times the model width (2048 for d_model = 512 in the paper). The block has
# $2\,d\,d_\text{ff} + d_\text{ff} + d$ parameters: with $d_\text{ff} = 4d$ that is $8d^2$ against attention's
# $4d^2$, two thirds of an encoder layer.
#
# The paper uses ReLU; BERT and GPT use **GELU** (`nn.GELU`), a smooth curve that lets small negative
# values through a little. We use ReLU, PyTorch's default for its transformer layers, so that the
# tests can compare with them.
#
# **Dropout inside the block.** PyTorch (and this course) drops hidden units between the activation
# and the second linear map: `linear2(dropout(relu(linear1(x))))`. The layer will add another dropout
# on the block's output before the residual add; that one is not part of `FeedForward`.
#
# ### Exercise 1 · 练习 1: `FeedForward`
# Write the whole class. Use exactly these attribute names (the tests copy weights into them):
# `linear1 = nn.Linear(d_model, d_ff)`, `linear2 = nn.Linear(d_ff, d_model)`,
# `dropout = nn.Dropout(dropout)`.

# %% answer="FeedForward"
class FeedForward(nn.Module):
    """Position-wise feed-forward block: linear2(dropout(relu(linear1(x)))).

    d_model: int, model width; d_ff: int, hidden width; dropout: float in [0, 1], the hidden units' dropout.
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
from course.checks import close, equal
from course.checks import ch07_encoder_decoder as ref

ff = ref.call(FeedForward, 8, 32, 0.1)
equal(ref.n_params(ff), 2 * 8 * 32 + 32 + 8, name="parameters of FeedForward(8, 32, 0.1) (2·d·d_ff + d_ff + d)")
# Hand-worked: d_model = 1, d_ff = 2, hidden units x and -x, summed: relu(x) + relu(-x) = |x|.
linear1, linear2 = nn.Linear(1, 2), nn.Linear(2, 1)
with torch.no_grad():
    linear1.weight.copy_(torch.tensor([[1.0], [-1.0]]))
    linear1.bias.zero_()
    linear2.weight.copy_(torch.tensor([[1.0, 1.0]]))
    linear2.bias.zero_()
ff = ref.call(FeedForward, 1, 2, 0.1).eval()
ref.copy_feed_forward(ff, linear1, linear2)
x = torch.tensor([[[-2.0], [3.0], [0.5]]])  # (batch=1, seq=3, d_model=1)
close(ref.call(ff, x), torch.tensor([[[2.0], [3.0], [0.5]]]),
      name="hand-worked FeedForward in eval mode: relu(x) + relu(-x) = |x| (without the ReLU you would get 0)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch07_encoder_decoder as hidden
hidden.check_feed_forward(FeedForward)
### END HIDDEN TESTS

# %% [markdown]
# "Position-wise", checked: running the block on the whole sequence gives the same result as running
# it on each token separately. (In eval mode: dropout would draw different masks in the two runs.)

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
# ## Part 2 — The encoder layer · 编码器层
#
# An encoder layer has two **sublayers**: self-attention, then the feed-forward block. Each sits in a
# residual block with dropout on its output and a LayerNorm, in one of two arrangements
# (chapter 03):
#
# | | Post-LN (2017 paper, `norm_first=False`) | Pre-LN (GPT-2 and later, `norm_first=True`) |
# |---|---|---|
# | each sublayer | `x = norm(x + dropout(sublayer(x)))` | `x = x + dropout(sublayer(norm(x)))` |
#
# In Pre-LN the residual path carries `x` itself, untouched: only the sublayer's *input* is
# normalised. A classic slip is to write `x = norm(x)` first and then add the sublayer to the
# *normalised* `x`: the residual path then passes through every LayerNorm, which is a different
# model.
#
# Self-attention means the queries, keys and values are all the same tensor: `x` in Post-LN, the
# normalised `x` in Pre-LN. The `mask` (course convention, True = may attend) goes to the attention
# unchanged: for an encoder that is usually a padding mask of shape `(batch, 1, 1, seq)`.
#
# ### Exercise 2 · 练习 2: `EncoderLayer.forward`
# The `__init__` is written for you, with PyTorch's names, so that the tests can copy the weights of
# an `nn.TransformerEncoderLayer` (PyTorch keeps `linear1`, `dropout`, `linear2` on the layer itself;
# here they live in `self.ff`). Use `norm1` and `dropout1` around the attention, `norm2` and
# `dropout2` around the feed-forward block.

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
from course.checks import close, equal
from course.checks import ch07_encoder_decoder as ref

keep = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])  # (batch, seq): sequence 1 ends with 2 padding tokens
x = torch.randn(2, 5, 8, dtype=torch.float64)
for norm_first in (False, True):
    theirs = ref.torch_encoder_layer(8, 2, 16, norm_first)  # nn.TransformerEncoderLayer with random weights
    ours = ref.call(EncoderLayer, 8, 2, 16, 0.1, norm_first)
    equal(ref.n_params(ours), ref.n_params(theirs), name="parameters of EncoderLayer(8, 2, 16)")
    ours = ours.double().eval()
    ref.copy_encoder_layer(ours, theirs)
    close(ref.call(ours, x), theirs(x), atol=1e-6,
          name=f"EncoderLayer(norm_first={norm_first}), no mask, against nn.TransformerEncoderLayer")
    close(ref.call(ours, x, keep[:, None, None, :]), theirs(x, src_key_padding_mask=~keep), atol=1e-6,
          name=f"EncoderLayer(norm_first={norm_first}) with a padding mask, against nn.TransformerEncoderLayer")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch07_encoder_decoder as hidden
hidden.check_encoder_layer(EncoderLayer)
### END HIDDEN TESTS

# %% [markdown]
# ### Talking to PyTorch's masks · 与 PyTorch 掩码互换
#
# PyTorch's transformer modules use the **opposite** convention: True means *blocked*. The test
# above passes `~keep`. The full recipe, for a course mask `m` (True = may attend):
#
# | course mask `m` | PyTorch argument |
# |---|---|
# | padding, `(batch, 1, 1, k_len)` | `src_key_padding_mask` / `tgt_key_padding_mask` / `memory_key_padding_mask` = `~m[:, 0, 0, :]`, shape `(batch, k_len)` |
# | the same for every sequence, `(q_len, k_len)` (e.g. causal) | `src_mask` / `tgt_mask` / `memory_mask` = `~m` |
# | one per sequence, `(batch, 1, q_len, k_len)` | `~m.expand(batch, heads, q_len, k_len).reshape(batch * heads, q_len, k_len)` |
#
# A float mask in PyTorch is *added* to the scores (0 = keep, −∞ = block), yet another convention.
# Forgetting the `~` is silent: the code runs and attends to exactly the wrong keys.

# %%
with needs("EncoderLayer", "FeedForward"), torch.no_grad():
    from course.checks import ch07_encoder_decoder as ref  # the helper that copies PyTorch's weights

    theirs = nn.TransformerEncoderLayer(16, 4, 64, dropout=0.1, batch_first=True).eval()
    ours = EncoderLayer(16, 4, 64, 0.1, norm_first=False).eval()
    ref.copy_encoder_layer(ours, theirs)
    x = torch.randn(2, 6, 16)
    keep = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])  # (batch, seq), True = real token
    mine = ours(x, keep[:, None, None, :])
    print("with ~keep  :", float((mine - theirs(x, src_key_padding_mask=~keep)).abs().max()))
    wrong = theirs(x, src_key_padding_mask=keep)  # the course's mask handed over unchanged
    print("with keep   :", float((mine - wrong).abs().max()),
          "(wrong: sentence 0 now blocks all its keys, a row of -inf, so NaN)")


# %% [markdown]
# ## Part 3 — The decoder layer · 解码器层
#
# A decoder layer has three sublayers, each wrapped like the encoder's:
#
# 1. **Masked self-attention** (掩码自注意力) over the target tokens written so far, with a **causal
#    mask**: position t may attend to positions 0..t only.
# 2. **Cross-attention** (交叉注意力): the queries come from the decoder (its current `x`), the keys and
#    values from the **memory** (记忆), the encoder's output. This is where the decoder reads the source
#    sentence. Its mask is the *source* padding mask: no causal mask, the whole source is known.
# 3. The **feed-forward block**.
#
# In Pre-LN only the decoder's own `x` is normalised before each sublayer; the memory is passed as it
# comes (a Pre-LN encoder already ends with its final LayerNorm).
#
# **Why causal: teacher forcing** (教师强制). At generation time the decoder produces token t+1 from
# tokens 0..t, one step after another. In training we know the whole target sentence, so we feed it
# in at once (shifted right by one: `<bos> y1 y2 …` in, `y1 y2 y3 …` expected out) and compute the
# prediction of every position in **one parallel pass**. The causal mask makes each position's
# output depend only on the tokens before and at it, exactly as at generation time; without it
# position t would simply read the answer y_{t+1} from its input and learn nothing useful.
#
# | | encoder layer | decoder layer |
# |---|---|---|
# | self-attention | sees every real token (padding mask) | causal + padding mask |
# | cross-attention | — | queries: decoder; keys, values: memory (source padding mask) |
# | sublayers, norms, dropouts | 2 | 3 |
#
# ### Exercise 3 · 练习 3: `DecoderLayer.forward`
# Again the `__init__` is given. PyTorch calls the cross-attention `multihead_attn`; here it is
# `cross_attn`. Use `norm1`/`dropout1` for self-attention, `norm2`/`dropout2` for cross-attention and
# `norm3`/`dropout3` for the feed-forward block.

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
from course.checks import close, equal
from course.checks import ch07_encoder_decoder as ref

causal = torch.ones(5, 5, dtype=torch.bool).tril()  # (tgt_len, tgt_len): query t sees keys 0..t
src_keep = torch.tensor([[True] * 4, [True] * 2 + [False] * 2])  # (batch, src_len): 2 padded source tokens
x = torch.randn(2, 5, 8, dtype=torch.float64)  # target side, 5 tokens
memory = torch.randn(2, 4, 8, dtype=torch.float64)  # encoder output, 4 tokens
for norm_first in (False, True):
    theirs = ref.torch_decoder_layer(8, 2, 16, norm_first)  # nn.TransformerDecoderLayer with random weights
    ours = ref.call(DecoderLayer, 8, 2, 16, 0.1, norm_first)
    equal(ref.n_params(ours), ref.n_params(theirs), name="parameters of DecoderLayer(8, 2, 16)")
    ours = ours.double().eval()
    ref.copy_decoder_layer(ours, theirs)
    close(ref.call(ours, x, memory), theirs(x, memory), atol=1e-6,
          name=f"DecoderLayer(norm_first={norm_first}), no masks, against nn.TransformerDecoderLayer")
    close(ref.call(ours, x, memory, causal, src_keep[:, None, None, :]),
          theirs(x, memory, tgt_mask=~causal, memory_key_padding_mask=~src_keep), atol=1e-6,
          name=f"DecoderLayer(norm_first={norm_first}) with a causal target mask and a memory padding mask")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch07_encoder_decoder as hidden
hidden.check_decoder_layer(DecoderLayer)
### END HIDDEN TESTS

# %% [markdown]
# ### Seeing causality · 观察因果性
# `ex.influence` perturbs one input position at a time and records which output positions change.
# For an encoder layer every output depends on every input (a full square). For a decoder layer
# with a causal mask, output t changes only when an input at or before t changes: a lower triangle.
# Both pictures are computed from your layers.

# %%
with needs("EncoderLayer", "DecoderLayer"), torch.no_grad():
    torch.manual_seed(0)
    enc_layer = EncoderLayer(16, 4, 32, 0.1).eval()
    dec_layer = DecoderLayer(16, 4, 32, 0.1).eval()
    x = torch.randn(1, 7, 16)
    memory = torch.randn(1, 4, 16)
    causal = torch.ones(7, 7, dtype=torch.bool).tril()
    fig = ex.influence_figure({
        "encoder layer": ex.influence(lambda t: enc_layer(t), x),
        "decoder layer, causal mask": ex.influence(lambda t: dec_layer(t, memory, causal), x),
        "decoder layer, no mask": ex.influence(lambda t: dec_layer(t, memory), x),
    })
    ex.show(fig)


# %% [markdown]
# The third panel is the bug the mask prevents: without it, in training, every position could copy
# the next target token from its input.
#
# ## Part 4 — Stacks · 堆叠
#
# An encoder is N encoder layers applied one after the other (N = 6 in the paper), all with the
# same mask; a decoder is N decoder layers, each receiving the **same memory** (the encoder's final
# output) and the same two masks.
#
# **The final LayerNorm** (Pre-LN only). In a Post-LN layer the last operation is a LayerNorm, so a
# Post-LN stack's output is already normalised. In Pre-LN the residual stream is never normalised:
# every layer adds to it, so its size grows with depth, and the last layer's output is a raw sum.
# Pre-LN stacks therefore end with one extra LayerNorm (PyTorch: `nn.TransformerEncoder(..., norm=nn.LayerNorm(d))`).
# Adding it to a Post-LN stack would not match the 2017 design. (PyTorch's all-in-one `nn.Transformer`
# adds a final norm to both stacks whatever `norm_first` is, which is why the tests compare with
# `nn.TransformerEncoder` / `nn.TransformerDecoder` built by hand.)
#
# ### Exercise 4 · 练习 4: `Encoder` and `Decoder`
# Write both classes. Attributes: `layers`, an `nn.ModuleList` of `n_layers` **separate** layers
# (each with its own weights: one layer object repeated would share them); `norm`, an
# `nn.LayerNorm(d_model)` when `norm_first` is True and `None` otherwise.

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
from course.checks import check, close, equal
from course.checks import ch07_encoder_decoder as ref

keep = torch.tensor([[True] * 5, [True] * 2 + [False] * 3])  # (batch, seq)
x = torch.randn(2, 5, 8, dtype=torch.float64)
for norm_first in (False, True):
    theirs = ref.torch_encoder(2, 8, 2, 16, norm_first)  # nn.TransformerEncoder, norm=LayerNorm for Pre-LN only
    ours = ref.call(Encoder, 2, 8, 2, 16, 0.1, norm_first)
    equal(ref.n_params(ours), ref.n_params(theirs),
          name=f"parameters of Encoder(2, 8, 2, 16, norm_first={norm_first}) (2 separate layers, final norm for Pre-LN only)")
    ours = ours.double().eval()
    ref.copy_encoder(ours, theirs)
    close(ref.call(ours, x, keep[:, None, None, :]), theirs(x, src_key_padding_mask=~keep), atol=1e-6,
          name=f"Encoder(norm_first={norm_first}) with a padding mask, against nn.TransformerEncoder")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch07_encoder_decoder as hidden
hidden.check_encoder(Encoder)
### END HIDDEN TESTS

# %% tests="Decoder_tests" points=2
import torch
from course.checks import close, equal
from course.checks import ch07_encoder_decoder as ref

causal = torch.ones(5, 5, dtype=torch.bool).tril()
x = torch.randn(2, 5, 8, dtype=torch.float64)
memory = torch.randn(2, 3, 8, dtype=torch.float64)
for norm_first in (False, True):
    theirs = ref.torch_decoder(2, 8, 2, 16, norm_first)  # nn.TransformerDecoder, norm=LayerNorm for Pre-LN only
    ours = ref.call(Decoder, 2, 8, 2, 16, 0.1, norm_first)
    equal(ref.n_params(ours), ref.n_params(theirs),
          name=f"parameters of Decoder(2, 8, 2, 16, norm_first={norm_first}) (2 separate layers, final norm for Pre-LN only)")
    ours = ours.double().eval()
    ref.copy_decoder(ours, theirs)
    close(ref.call(ours, x, memory, causal), theirs(x, memory, tgt_mask=~causal), atol=1e-6,
          name=f"Decoder(norm_first={norm_first}) with a causal mask, against nn.TransformerDecoder")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch07_encoder_decoder as hidden
hidden.check_decoder(Decoder)
### END HIDDEN TESTS

# %% [markdown]
# ### Data flow · 数据流
# Every layer maps `(batch, seq, d_model)` to the same shape; only cross-attention mixes two lengths
# (its output has the target's length, its keys the source's). `ex.trace_shapes` runs a module and
# prints, for each part in the order it runs, the shapes of the tensors going in (masks included,
# marked `bool`) and coming out. Dropout modules are left out of the listing. Follow the masks: the
# encoder's `3x1x1x7` padding mask, the decoder's `5x5` causal mask for self-attention, and the same
# source padding mask again for cross-attention, whose keys and values are the `3x7x16` memory.

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


# %% [markdown]
# Post-LN keeps the stream at RMS 1 after every layer (each layer ends with a LayerNorm whose γ starts
# at 1). In Pre-LN each layer adds its sublayers' outputs to the stream and nothing rescales it, so
# it keeps growing with depth; the final LayerNorm brings the output back to RMS 1 for whatever comes
# next (the output projection in chapter 08).
#
# ## Part 5 — Masks for a batch · 批量的掩码
#
# A batch holds sentences of different lengths, padded to the longest. From the true lengths we
# build everything the stacks need:
#
# * `source_mask(lengths, max_len)` → `(batch, 1, 1, S)`: key j of sentence b is real when
#   `j < lengths[b]`. The encoder's self-attention uses it, and so does the decoder's
#   cross-attention (its keys are the source positions): **memory mask = source mask**.
# * `target_mask(lengths, max_len)` → `(batch, 1, T, T)`: query i may attend to key j when
#   **j ≤ i (causal) and j < lengths[b] (not padding)**. Only *keys* are masked: a padding query
#   still attends to the real tokens before it (its output is ignored later by the loss), and none
#   of its rows is empty (as long as every sentence has at least one token), so no NaN can appear.
#
# Both raise `ValueError` when a length is larger than `max_len`.
#
# ### Exercise 5 · 练习 5: `source_mask` and `target_mask`

# %% answer="masks"
def source_mask(lengths, max_len):
    """Bool mask (batch, 1, 1, max_len), True for real source tokens: key j of sequence b if j < lengths[b].

    lengths: long tensor (batch,); max_len: int. Raises ValueError if a length exceeds max_len.
    """
    ### BEGIN SOLUTION
    if int(lengths.max()) > max_len:
        raise ValueError(f"a sequence of length {int(lengths.max())} does not fit in max_len={max_len}")
    keep = torch.arange(max_len)[None, :] < lengths[:, None]  # (batch, max_len)
    return keep[:, None, None, :]
    ### END SOLUTION


def target_mask(lengths, max_len):
    """Bool mask (batch, 1, max_len, max_len): query i may attend to key j if j <= i and j < lengths[b].

    lengths: long tensor (batch,); max_len: int. Raises ValueError if a length exceeds max_len.
    """
    ### BEGIN SOLUTION
    causal = torch.ones(max_len, max_len, dtype=torch.bool).tril()  # (T, T)
    return source_mask(lengths, max_len) & causal  # (batch, 1, 1, T) & (T, T) -> (batch, 1, T, T)
    ### END SOLUTION


# %% tests="masks_tests" points=3
import torch
from course.checks import call, check, equal, raises

s = call(source_mask, torch.tensor([3, 1]), 3)
check(isinstance(s, torch.Tensor) and s.dtype == torch.bool, f"source_mask should return a bool tensor, got {getattr(s, 'dtype', type(s))}")
equal(tuple(s.shape), (2, 1, 1, 3), name="shape of source_mask([3, 1], 3)")
check(torch.equal(s[:, 0, 0], torch.tensor([[True, True, True], [True, False, False]])),
      f"source_mask([3, 1], 3): the second sentence has one real token, got\n{s[:, 0, 0].int()}")
t = call(target_mask, torch.tensor([3, 1]), 3)
check(isinstance(t, torch.Tensor) and t.dtype == torch.bool, f"target_mask should return a bool tensor, got {getattr(t, 'dtype', type(t))}")
equal(tuple(t.shape), (2, 1, 3, 3), name="shape of target_mask([3, 1], 3)")
check(torch.equal(t[0, 0], torch.tensor([[True, False, False], [True, True, False], [True, True, True]])),
      f"target_mask, full-length sentence: lower triangle with the diagonal, got\n{t[0, 0].int()}")
check(torch.equal(t[1, 0], torch.tensor([[True, False, False]] * 3)),
      f"target_mask, sentence of length 1: every query may see key 0 only, got\n{t[1, 0].int()}")
raises(ValueError, source_mask, torch.tensor([4]), 3, name="source_mask([4], max_len=3)")
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
# ## Part 6 — Everything together · 组装起来
#
# A batch of two source sentences (lengths 7 and 4) and two target prefixes (lengths 5 and 3) through
# your encoder and decoder, with your masks. Two promises to check:
#
# * changing a target token after position t leaves the decoder's outputs 0..t unchanged;
# * changing padding tokens (source or target) leaves the outputs of all real tokens unchanged.
#
# Chapter 08 adds embeddings, positions and an output layer around exactly this and trains it.

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
    print("change target tokens 3-4, largest change of outputs 0-2:", float((run(src, changed) - out)[:, :3].abs().max()))
    print("                          largest change of outputs 3-4:", float((run(src, changed) - out)[0, 3:].abs().max()))
    padded = src.clone()
    padded[1, 4:] = torch.randn(3, 16)  # source padding of sentence 1
    tgt_pad = tgt.clone()
    tgt_pad[1, 3:] = torch.randn(2, 16)  # target padding of sentence 1
    diff = run(padded, tgt_pad) - out
    print("change only padding, largest change of real outputs:",
          float(max(diff[0].abs().max(), diff[1, :3].abs().max())))

# %% [markdown]
# ## Summary · 小结
#
# * Feed-forward block: `linear2(dropout(relu(linear1(x))))`, d → d_ff → d, the same weights at every
#   position; 2·d·d_ff + d_ff + d parameters. GELU is the common alternative to ReLU.
# * Every sublayer sits in a residual block with dropout on its output: Post-LN
#   `x = norm(x + dropout(f(x)))`, Pre-LN `x = x + dropout(f(norm(x)))`.
# * Encoder layer: self-attention + FFN. Decoder layer: causal self-attention + cross-attention
#   (queries from the decoder, keys and values from the memory) + FFN.
# * Stacks of N separate layers; a Pre-LN stack ends with a final LayerNorm, a Post-LN stack does not.
# * Masks: source `(batch, 1, 1, S)`; target `(batch, 1, T, T)` = causal AND key padding; the memory
#   mask is the source mask. The course's True = may attend is PyTorch's `~mask`.
# * The causal mask is what makes teacher forcing honest: all positions train in one pass, none sees
#   its own answer.
#
# **Next:** chapter 08 adds embeddings, positions and an output layer, and trains the whole model.

# %%
glossary.show("07-encoder-decoder")
