# %% [markdown]
# # Attention · 注意力机制
#
# Attention lets every token build its new representation as a **weighted average of the other tokens'
# values**, with weights it computes from how well its *query* matches their *keys*:
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V .$$
#
# In this chapter you will
#
# * measure why the scores are divided by $\sqrt{d_k}$,
# * write scaled dot-product attention with masks and match PyTorch's fused kernel,
# * build the padding and causal masks,
# * assemble multi-head attention and match `torch.nn.MultiheadAttention` weight for weight,
# * and explore attention maps of a hand-built layer in a widget.

# %% [markdown]
# Run the set-up cell first.

# %%
import math

import torch
import torch.nn.functional as F
from torch import nn

from course import glossary
from course.experiments import ch05_attention as ex
from course.notebook import setup, needs
from course.widgets.ch05_attention import attention_map

setup()


# %% [markdown]
# ## Part 1 — Why divide by √d_k · 为什么要除以 √d_k
#
# Take a query $q$ and a key $k$ with $d_k$ independent entries of mean 0 and variance 1. Their dot
# product $q \cdot k = \sum_i q_i k_i$ is a sum of $d_k$ independent terms, each with mean 0 and
# variance $E[q_i^2]E[k_i^2] = 1$. Variances of independent terms add, so
#
# $$\mathrm{Var}(q \cdot k) = d_k, \qquad \text{standard deviation } \sqrt{d_k}.$$
#
# With $d_k = 64$ the raw scores are typically ±8: softmax of such numbers is nearly one-hot.
# Dividing by $\sqrt{d_k}$ brings the variance back to 1, whatever the head size.
#
# ### Exercise 1 · 练习 1: `dot_product_variance`
# Check the claim by sampling: draw `n` pairs of vectors with `torch.randn(..., generator=generator)`,
# take their dot products and return the sample variance as a Python float.

# %% answer="dot_product_variance"
def dot_product_variance(d_k, n, generator):
    """Sample variance of q·k for n random pairs of d_k-dim vectors with N(0, 1) entries.

    d_k: int, vector size; n: int, number of pairs; generator: a torch.Generator (pass it to randn).
    Returns a float, close to d_k for large n.
    """
    ### BEGIN SOLUTION
    q = torch.randn(n, d_k, generator=generator)  # (n, d_k)
    k = torch.randn(n, d_k, generator=generator)  # (n, d_k)
    dots = (q * k).sum(dim=-1)  # (n,)
    return dots.var().item()
    ### END SOLUTION


# %% tests="dot_product_variance_tests" points=2
import torch
from course.checks import call, check, close

v = call(dot_product_variance, 64, 20000, torch.Generator().manual_seed(0))
check(isinstance(v, float), f"return a Python float (use .item()), got {type(v).__name__}")
close(v, 64.0, rtol=0.1, name="dot_product_variance(64, 20000 samples) (expected about d_k = 64)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch05_attention as hidden
hidden.check_dot_product_variance(dot_product_variance)
### END HIDDEN TESTS

# %% [markdown]
# What does an unscaled score do to softmax? The experiment draws random queries and 16 random keys for
# several $d_k$ and measures, with and without the scale, (left) the entropy of the attention row (2.77
# nats = uniform over 16 keys, 0 = all weight on one key) and (right) the size of the softmax's
# Jacobian, the factor by which a change in the scores reaches the weights during backprop.

# %%
fig, sat = ex.saturation_experiment()
ex.show(fig)
for d, e_raw, e_sc, g_raw, g_sc in zip(sat["d_values"], sat["entropy_raw"], sat["entropy_scaled"],
                                       sat["grad_raw"], sat["grad_scaled"]):
    print(f"d_k = {d:5d}: entropy {e_raw:.2f} (raw) vs {e_sc:.2f} (scaled); softmax gradient {g_raw:.3f} vs {g_sc:.3f}")


# %% [markdown]
# Reading the figure: without the scale, the entropy falls towards 0 as $d_k$ grows (the softmax
# saturates on the largest score) and the gradient through the softmax shrinks by the printed factor
# between the smallest and largest $d_k$: a saturated softmax barely passes gradient to the scores,
# so the queries and keys learn slowly. With the scale, both curves are flat: the head's *temperature*
# no longer depends on its size. That is the whole job of $1/\sqrt{d_k}$.
#
# ## Part 2 — Scaled dot-product attention · 缩放点积注意力
#
# Shapes: queries `q` are `(batch, heads, q_len, d_k)`, keys `k` are `(batch, heads, k_len, d_k)`,
# values `v` are `(batch, heads, k_len, d_v)`. The scores `q @ k.transpose(-2, -1)` are
# `(batch, heads, q_len, k_len)`: one row per query, one column per key. The softmax normalises
# **each row over the keys** (the last dim).
#
# **Masks.** In this course a mask is a boolean tensor, broadcastable to the scores' shape, with
# **True where the query may attend to the key** (the convention of
# `F.scaled_dot_product_attention`). Masked scores are set to $-\infty$ *before* the softmax, so they
# get exactly zero weight and the remaining weights still sum to 1.
#
# **A row with no allowed key** (every key masked) would be softmax of all $-\infty$, which is NaN.
# We decide: such a query gets **zero weights and a zero output**, as PyTorch's fused kernel does on
# the CPU. (`torch.nan_to_num` or `masked_fill` after the softmax does it.)
#
# ### Exercise 2 · 练习 2: `scaled_dot_product_attention`

# %% answer="scaled_dot_product_attention"
def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q kᵀ / sqrt(d_k)) v, with an optional boolean mask.

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


# %% tests="attention_tests" points=4
import math
import torch
from course.checks import call, close

# Hand-worked: one query, two keys. Scores [0, 2] / sqrt(2) -> weights softmax([0, 1.414]).
q = torch.tensor([[[[1.0, 1.0]]]])                  # (1, 1, 1, 2)
k = torch.tensor([[[[1.0, -1.0], [1.0, 1.0]]]])     # (1, 1, 2, 2)
v = torch.tensor([[[[10.0], [20.0]]]])               # (1, 1, 2, 1)
w1 = 1 / (1 + math.exp(-2 / math.sqrt(2)))
out, weights = call(scaled_dot_product_attention, q, k, v)
close(weights, torch.tensor([[[[1 - w1, w1]]]]), name="weights of the hand-worked case (scale by sqrt(d_k) = sqrt(2))")
close(out, torch.tensor([[[[10 * (1 - w1) + 20 * w1]]]]), name="output of the hand-worked case")
# Masking the second key leaves all the weight on the first.
out, weights = call(scaled_dot_product_attention, q, k, v, torch.tensor([True, False]))
close(weights, torch.tensor([[[[1.0, 0.0]]]]), name="weights with the second key masked (True = may attend)")
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
#   may attend to keys 0..i, itself included: a lower-triangular `(seq, seq)` mask.
#
# Combined with `&`, a `(batch, 1, 1, seq)` padding mask and a `(seq, seq)` causal mask broadcast to
# `(batch, 1, seq, seq)`: exactly what a decoder's self-attention needs.
#
# ### Exercise 3 · 练习 3: `causal_mask` and `padding_mask`

# %% answer="masks"
def causal_mask(seq):
    """Bool mask (seq, seq), True where query i may attend to key j, i.e. j <= i."""
    ### BEGIN SOLUTION
    return torch.ones(seq, seq, dtype=torch.bool).tril()
    ### END SOLUTION


def padding_mask(lengths, max_len):
    """Bool mask (batch, 1, 1, max_len), True for real keys: key j of sequence b is kept if j < lengths[b].

    lengths: long tensor (batch,); max_len: int >= max(lengths).
    """
    ### BEGIN SOLUTION
    keep = torch.arange(max_len)[None, :] < lengths[:, None]  # (batch, max_len)
    return keep[:, None, None, :]  # (batch, 1, 1, max_len)
    ### END SOLUTION


# %% tests="masks_tests" points=3
import torch
from course.checks import call, check, equal

m = call(causal_mask, 3)
check(isinstance(m, torch.Tensor) and m.dtype == torch.bool, f"causal_mask should return a bool tensor, got {getattr(m, 'dtype', type(m))}")
check(torch.equal(m, torch.tensor([[True, False, False], [True, True, False], [True, True, True]])),
      f"causal_mask(3) should be lower-triangular with the diagonal included, got\n{m}")
p = call(padding_mask, torch.tensor([2, 3]), 3)
equal(tuple(p.shape), (2, 1, 1, 3), name="shape of padding_mask([2, 3], 3)")
check(torch.equal(p[:, 0, 0], torch.tensor([[True, True, False], [True, True, True]])),
      f"padding_mask([2, 3], 3): the first sequence has one padding key at the end, got\n{p[:, 0, 0]}")
both = p & m
equal(tuple(both.shape), (2, 1, 3, 3), name="shape of padding_mask & causal_mask (broadcast)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch05_attention as hidden
hidden.check_masks(causal_mask, padding_mask)
### END HIDDEN TESTS

# %% [markdown]
# See the combined mask for a batch of two sequences of lengths 4 and 2, padded to 4 (white = may
# attend). Row = query, column = key.

# %%
with needs("causal_mask", "padding_mask"):
    combined = padding_mask(torch.tensor([4, 2]), 4) & causal_mask(4)   # (2, 1, 4, 4)
    print(combined[:, 0].int())
    print("queries 2 and 3 of the short sequence are padding themselves; they may still attend to the real keys 0-1")


# %% [markdown]
# ## Part 4 — Multi-head attention · 多头注意力
#
# One attention head can only compute one weighting per query. Multi-head attention runs `h` heads
# in parallel on `d_model / h`-dim slices, so different heads can track different relations:
#
# 1. **Project**: `Q = x_q W_q + b_q`, `K = x_k W_k + b_k`, `V = x_v W_v + b_v`, each `d_model → d_model`.
# 2. **Split heads** (chapter 02): `(batch, seq, d_model)` → `view(batch, seq, h, d_head)` →
#    `transpose(1, 2)` → `(batch, h, seq, d_head)`. Viewing directly as `(batch, h, seq, d_head)`
#    would mix tokens into heads: the wrong axis.
# 3. **Attend** with your function (masks broadcast over heads).
# 4. **Merge**: `transpose(1, 2)` back, then `reshape` (or `contiguous().view`) to `(batch, seq, d_model)`.
# 5. **Output projection** `W_o`, `d_model → d_model`.
#
# Four `d_model × d_model` matrices with biases: $4d^2 + 4d$ parameters.
#
# ### Exercise 4 · 练习 4: `MultiHeadAttention`
# Keep the four `nn.Linear` layers named `q_proj`, `k_proj`, `v_proj`, `out_proj` (the tests copy
# `nn.MultiheadAttention`'s weights into them). Raise `ValueError` when `d_model` is not divisible by
# `n_heads`. Also keep the last attention weights in `self.last_weights` (the widget uses them).

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


# %% tests="MultiHeadAttention_tests" points=4
import torch
from torch import nn
from course.checks import close, equal, raises
from course.checks import ch05_attention as ref

mha = ref.call(MultiHeadAttention, 8, 2)
equal(sum(p.numel() for p in mha.parameters()), 4 * 8 * 8 + 4 * 8, name="parameters of MultiHeadAttention(8, 2)")
torch_mha = nn.MultiheadAttention(8, 2, batch_first=True)
ref.copy_from_torch(mha, torch_mha)
x = torch.randn(2, 5, 8)
close(ref.call(mha, x, x, x), torch_mha(x, x, x, need_weights=False)[0], atol=1e-5,
      name="self-attention, against nn.MultiheadAttention with the same weights")
raises(ValueError, MultiHeadAttention, 10, 4, name="MultiHeadAttention(10, 4)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch05_attention as hidden
hidden.check_mha(MultiHeadAttention)
### END HIDDEN TESTS

# %% [markdown]
# `nn.MultiheadAttention` stores the three input projections stacked in one `in_proj_weight` of
# shape `(3·d_model, d_model)` and uses the **opposite** mask convention: its `attn_mask` and
# `key_padding_mask` are True where attention is *forbidden*. `ref.copy_from_torch` copies the
# weights for you; when you pass a mask to PyTorch's module, pass `~mask`.
#
# ## Part 5 — Looking at attention · 观察注意力
#
# Attention maps are easiest to read when you know what to expect. `ex.toy_scores` builds a layer by
# hand, with real queries and keys made of one-hot vectors, whose three heads do three clear jobs:
#
# * head 0: every token attends to the **previous** token;
# * head 1: every token attends to **earlier copies of the same word** (or to itself if none);
# * head 2: every token attends to the **first** token (a common "resting place" in trained models).
#
# In the widget: type your own sentence, switch heads, switch on the causal mask (the three heads
# hardly change: each already looks only backwards; the mask matters for a trained decoder whose
# scores would otherwise reach into the future), add `<pad>` words at the end and toggle their mask, and slide the
# temperature: low temperature sharpens each row towards one key (entropy → 0), high temperature
# flattens it (entropy → log of the number of keys). Red squares mark the top key of every query;
# the orange bars are each row's entropy. "Export PNG" saves the view.

# %%
attention_map(ex.toy_tokens(), scores_fn=ex.toy_scores, title="Hand-built layer")

# %% [markdown]
# The same widget takes the weights of any model. Here is your multi-head attention, untrained
# (random projections), on random embeddings of the same sentence: with random weights the rows are
# close to uniform, high entropy and no structure. Training is what creates the patterns above.

# %%
with needs("MultiHeadAttention", "scaled_dot_product_attention"):
    torch.manual_seed(0)
    words = ex.toy_tokens()
    layer = MultiHeadAttention(16, 4)
    x = torch.randn(1, len(words), 16)
    layer(x, x, x)
    display(attention_map(words, weights=layer.last_weights[0], title="Random MultiHeadAttention"))

# %% [markdown]
# ## Summary · 小结
#
# * For unit-variance entries, Var(q·k) = d_k; dividing by √d_k keeps the softmax from saturating and
#   its gradients from vanishing, independent of the head size.
# * Attention = softmax over keys of the scaled scores, masked with −∞ before the softmax; a row with
#   no allowed key gives zeros (our convention), never NaN.
# * Padding masks `(batch, 1, 1, k_len)` and causal masks `(q_len, k_len)` combine with `&` by
#   broadcasting.
# * Multi-head attention: project, split heads with view + transpose, attend, merge with transpose +
#   reshape, project out: 4d² + 4d parameters.
#
# **Next:** attention is blind to order. Chapter 06 gives the tokens positions.

# %%
glossary.show("05-attention")
