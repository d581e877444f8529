# %% [markdown]
# # Position encoding · 位置编码
#
# Attention compares every query with every key, and nothing in that comparison says *where* the
# tokens are. "dog bites man" and "man bites dog" contain the same tokens. In this chapter you will
#
# * prove with a check that self-attention without positions is **permutation-equivariant**,
# * build the sinusoidal encoding of the 2017 paper and show, exactly, that a shift by k positions is
#   a rotation and that the dot product of two encodings depends only on their offset,
# * implement **RoPE** (rotary position embedding, 旋转位置编码), which rotates queries and keys so that
#   attention scores depend only on relative positions,
# * and see what happens to scores at offsets longer than any seen in training.

# %% [markdown]
# Run the set-up cell first.

# %%
import math

import torch
from torch import nn

from course import glossary
from course.experiments import ch06_position_encoding as ex
from course.notebook import setup, needs
from course.widgets.ch06_position_encoding import rope_explorer, sinusoidal_explorer

setup()


# %% [markdown]
# ## Part 1 — Attention cannot see order · 注意力看不见顺序
#
# A layer is **permutation-equivariant** (置换等变) when permuting its input tokens permutes its output
# tokens the same way: `layer(x[:, perm]) == layer(x)[:, perm]`. Self-attention is: each output is a
# weighted average whose weights depend only on the *contents* of the query and keys, and a sum does
# not care about the order of its terms. So without position information, a Transformer treats a
# sentence as a bag of words.
#
# ### Exercise 1 · 练习 1: `is_permutation_equivariant`
# Return a Python `bool`. Compare with `torch.allclose(..., atol=1e-6)`.

# %% answer="is_permutation_equivariant"
def is_permutation_equivariant(layer, x, perm):
    """Whether layer(x[:, perm]) equals layer(x)[:, perm].

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


# %% tests="is_permutation_equivariant_tests" points=2
import torch
from torch import nn
from course.checks import call, check

x = torch.randn(1, 4, 6, dtype=torch.float64)
perm = torch.tensor([1, 0, 2, 3])  # swap the first two tokens
check(call(is_permutation_equivariant, nn.Identity(), x, perm) is True, "the identity layer is equivariant")
flip = lambda t: t.flip(1)  # reverses the sequence: depends on positions
check(call(is_permutation_equivariant, flip, x, perm) is False, "reversing the sequence is not equivariant")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch06_position_encoding as hidden
hidden.check_equivariance(is_permutation_equivariant)
### END HIDDEN TESTS

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


# %% [markdown]
# ## Part 2 — The sinusoidal encoding · 正弦位置编码
#
# What should a position code do? Be **unique** per position, **bounded** (raw integers 0, 1, ...,
# 5000 would swamp the embeddings), **deterministic**, defined for **any length** (also longer than
# in training), and let the model read **relative offsets** easily. The 2017 paper's answer: for
# position p and feature pair i,
#
# $$PE(p, 2i) = \sin(p\,\omega_i), \qquad PE(p, 2i+1) = \cos(p\,\omega_i), \qquad \omega_i = 10000^{-2i/d}.$$
#
# The first pair turns fast (1 radian per position), the last pair very slowly: like the hands of a
# clock, together they tell positions apart over a long range. Sin goes in the **even** columns, cos
# in the **odd** ones, interleaved. For an **odd** `d` the last column is column `2i` with
# `i = (d − 1)/2`: a sin of the next frequency without its cos partner.
#
# ### Exercise 2 · 练习 2: `sinusoidal_table`

# %% answer="sinusoidal_table"
def sinusoidal_table(n_positions, d):
    """The sinusoidal position encoding table.

    n_positions: int; d: int >= 1 (odd allowed: the last column is a sin).
    Returns a float tensor (n_positions, d): row p is PE(p), with PE(p, 2i) = sin(p·w_i),
    PE(p, 2i+1) = cos(p·w_i), w_i = 10000 ** (-2i / d).
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


# %% tests="sinusoidal_table_tests" points=3
import math
import torch
from course.checks import call, close

# d = 4: w_0 = 1, w_1 = 10000^(-1/2) = 0.01. Row p = [sin p, cos p, sin 0.01p, cos 0.01p].
expected = torch.tensor([[0.0, 1.0, 0.0, 1.0],
                         [math.sin(1), math.cos(1), math.sin(0.01), math.cos(0.01)],
                         [math.sin(2), math.cos(2), math.sin(0.02), math.cos(0.02)]])
close(call(sinusoidal_table, 3, 4), expected, atol=1e-6, name="sinusoidal_table(3, 4)")
# d = 3 (odd): w_1 = 10000^(-2/3); the last column is a sin.
close(call(sinusoidal_table, 2, 3)[1], torch.tensor([math.sin(1), math.cos(1), math.sin(10000 ** (-2 / 3))]),
      atol=1e-6, name="row 1 of sinusoidal_table(2, 3)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch06_position_encoding as hidden
hidden.check_sinusoidal_table(sinusoidal_table)
### END HIDDEN TESTS

# %% [markdown]
# The widget shows the table (left) and the dot products of all its rows (right). Change d and the
# number of positions.

# %%
sinusoidal_explorer()


# %% [markdown]
# ### A shift is a rotation · 平移就是旋转
#
# By the angle-addition formulas, for each pair,
#
# $$\begin{pmatrix}\sin((p+k)\omega)\\ \cos((p+k)\omega)\end{pmatrix}
# = \begin{pmatrix}\cos k\omega & \sin k\omega\\ -\sin k\omega & \cos k\omega\end{pmatrix}
# \begin{pmatrix}\sin p\omega\\ \cos p\omega\end{pmatrix}.$$
#
# The matrix depends on k but **not on p**. Stacking one such block per frequency gives a `d×d`
# block-diagonal matrix $M_k$ with $PE(p+k) = M_k\,PE(p)$ for every p: exactly, not approximately.
# A layer can therefore move attention "k positions to the left" with one fixed linear map.
#
# ### Exercise 3 · 练习 3: `shift_matrix`
# Build $M_k$ for an even d (raise `ValueError` for an odd d: there the last sin has no cos partner,
# so no linear map of PE(p) alone can shift it).

# %% answer="shift_matrix"
def shift_matrix(k, d):
    """The (d, d) matrix M_k with PE(p + k) = M_k @ PE(p) for every position p.

    k: int offset (may be negative); d: even int.
    Returns a float tensor (d, d), block-diagonal with 2x2 blocks [[cos kw_i, sin kw_i], [-sin kw_i, cos kw_i]].
    Raises ValueError if d is odd.
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
from course.checks import call, close, raises

def pe4(p):  # PE(p) for d = 4, written out: frequencies 1 and 1/100
    return torch.tensor([math.sin(p), math.cos(p), math.sin(p / 100), math.cos(p / 100)], dtype=torch.float64)

m3 = call(shift_matrix, 3, 4)
close(m3.double() @ pe4(5), pe4(8), atol=1e-5, name="shift_matrix(3, 4) @ PE(5) should be PE(8)")
close(call(shift_matrix, 0, 4), torch.eye(4), atol=1e-6, name="shift_matrix(0, 4) is the identity")
raises(ValueError, shift_matrix, 1, 3, name="shift_matrix(1, 3) (odd d)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch06_position_encoding as hidden
hidden.check_shift_matrix(shift_matrix)
### END HIDDEN TESTS

# %% [markdown]
# ### The dot product depends only on the offset · 点积只取决于相对位置
#
# Multiply out one pair: $\sin(p\omega)\sin(q\omega) + \cos(p\omega)\cos(q\omega) = \cos((q-p)\omega)$.
# Summing over the pairs (even d):
#
# $$PE(p)\cdot PE(q) = \sum_{i=0}^{d/2-1} \cos\big((q-p)\,\omega_i\big).$$
#
# Exact, for every p and q. Two consequences: it is **symmetric** in the offset (cos is even: the dot
# product cannot tell "3 to the left" from "3 to the right"), and it is **not monotone**: it wiggles
# as the fast frequencies wrap around.
#
# ### Exercise 4 · 练习 4: `pe_dot`

# %% answer="pe_dot"
def pe_dot(offset, d):
    """PE(p) · PE(p + offset) for an even d, by the closed form (no table).

    offset: int (may be negative); d: even int.
    Returns a float: sum over i < d/2 of cos(offset * 10000 ** (-2i / d)).
    """
    ### BEGIN SOLUTION
    return float(sum(math.cos(offset * 10000.0 ** (-2 * i / d)) for i in range(d // 2)))
    ### END SOLUTION


# %% tests="pe_dot_tests" points=2
import math
import torch
from course.checks import call, close

close(call(pe_dot, 0, 8), 4.0, name="pe_dot(0, 8): a row with itself, d/2 = 4")
# d = 2: PE(p) = (sin p, cos p), so PE(p)·PE(p + k) = sin p sin(p + k) + cos p cos(p + k) = cos k
close(call(pe_dot, 7, 2), math.cos(7), atol=1e-6, name="pe_dot(7, 2) = PE(10)·PE(17) for d = 2, which is cos 7")
close(call(pe_dot, -7, 2), math.cos(7), atol=1e-6, name="pe_dot(-7, 2) = PE(10)·PE(3) for d = 2, also cos 7")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch06_position_encoding as hidden
hidden.check_pe_dot(pe_dot)
### END HIDDEN TESTS

# %%
fig, dots = ex.dot_product_figure(ex.sinusoidal_positions(256, 64))
ex.show(fig)
print(f"largest difference between offsets +k and -k: {dots['max_asymmetry']:.1e}; "
      f"steps where the curve rises again for k > 0: {dots['rising_steps_after_zero']}")


# %% [markdown]
# Reading the figure: the matrix on the left is constant along every diagonal (same offset, same
# value), and the curve on the right is a mirror image around k = 0 (the printed asymmetry is at the
# level of rounding) that falls overall but rises again many times (the printed count of rising
# steps). Position information is there, but added to the token embeddings it reaches the attention
# scores only mixed with the content.
#
# ## Part 3 — RoPE · 旋转位置编码
#
# RoPE (Su et al., 2021) puts positions into the **attention score itself**. Split the query and key
# features into pairs and rotate pair i of a vector at position m by the angle $m\,\theta_i$,
# $\theta_i = 10000^{-2i/d}$. With $R_m$ the block-diagonal matrix of these rotations:
#
# * rotations compose, $R_a R_b = R_{a+b}$, and preserve lengths;
# * $R_m^\top = R_{-m}$, so $\langle R_m q, R_n k\rangle = q^\top R_m^\top R_n k = q^\top R_{n-m} k$:
#   the score depends on the positions **only through n − m**. The absolute phases cancel.
#
# **Which features form a pair?** This course uses the **interleaved** pairing of the RoFormer
# paper: features `2i` and `2i+1`. Some libraries instead pair feature `i` with feature `i + d/2`
# ("rotate half"). That is the same idea with the features listed in another order; the two are
# *not* interchangeable on the same weights (see the end of this part).
#
# ### Exercise 5 · 练习 5: the rotation matrices
# `rope_rotation(angle)` is the 2×2 counter-clockwise rotation `[[cos, −sin], [sin, cos]]`;
# `rope_matrix(m, d)` is the `d×d` block-diagonal $R_m$ (block i rotates features 2i, 2i+1 by
# $m\theta_i$). `torch.block_diag` may help.

# %% answer="rope_matrices"
def rope_rotation(angle):
    """2x2 rotation by `angle` radians (counter-clockwise): [[cos, -sin], [sin, cos]], float tensor."""
    ### BEGIN SOLUTION
    c, s = math.cos(angle), math.sin(angle)
    return torch.tensor([[c, -s], [s, c]])
    ### END SOLUTION


def rope_matrix(m, d, base=10000.0):
    """R_m: (d, d) block-diagonal; block i is rope_rotation(m * base ** (-2i / d)). d even."""
    ### BEGIN SOLUTION
    return torch.block_diag(*[rope_rotation(m * base ** (-2 * i / d)) for i in range(d // 2)])
    ### END SOLUTION


# %% tests="rope_matrices_tests" points=3
import math
import torch
from course.checks import call, close

close(call(rope_rotation, math.pi / 2), torch.tensor([[0.0, -1.0], [1.0, 0.0]]), atol=1e-6,
      name="rope_rotation(pi/2): turns (1, 0) into (0, 1)")
r = call(rope_matrix, 1, 4)
expected = torch.zeros(4, 4)
expected[:2, :2] = torch.tensor([[math.cos(1), -math.sin(1)], [math.sin(1), math.cos(1)]])
expected[2:, 2:] = torch.tensor([[math.cos(0.01), -math.sin(0.01)], [math.sin(0.01), math.cos(0.01)]])
close(r, expected, atol=1e-6, name="rope_matrix(1, 4): blocks for theta_0 = 1 and theta_1 = 0.01")
close(call(rope_matrix, 2, 4) @ call(rope_matrix, 3, 4), call(rope_matrix, 5, 4), atol=1e-5,
      name="R_2 R_3 = R_5")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch06_position_encoding as hidden
hidden.check_rope_rotation(rope_rotation)
hidden.check_rope_matrix(rope_matrix)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 6 · 练习 6: `apply_rope`, without d×d matrices
# Building a `d×d` matrix per position wastes memory and FLOPs: each pair needs only
# `(x_even·cos − x_odd·sin, x_even·sin + x_odd·cos)`. Take the even features `x[..., 0::2]` and the
# odd ones `x[..., 1::2]`, compute the angles for every position and pair (shape `(seq, d/2)`, which
# broadcasts against `(batch, heads, seq, d/2)`), and interleave the results back.

# %% answer="apply_rope"
def apply_rope(x, positions, base=10000.0):
    """Rotate each feature pair (2i, 2i+1) of x by positions * base ** (-2i / d).

    x: float tensor (batch, heads, seq, d_head), d_head even; positions: tensor (seq,) of positions.
    Returns a tensor of the same shape: for each position m, x[..., m, :] @ R_m.T (= R_m applied to it).
    """
    ### BEGIN SOLUTION
    d = x.shape[-1]
    theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # (d/2,)
    angles = positions.to(torch.float64)[:, None] * theta[None, :]  # (seq, d/2)
    cos, sin = torch.cos(angles).to(x.dtype), torch.sin(angles).to(x.dtype)
    even, odd = x[..., 0::2], x[..., 1::2]  # (batch, heads, seq, d/2) each
    rotated = torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1)  # (..., d/2, 2)
    return rotated.flatten(-2)  # interleave back: (batch, heads, seq, d_head)
    ### END SOLUTION


# %% tests="apply_rope_tests" points=4
import math
import torch
from course.checks import call, close

x = torch.randn(1, 1, 3, 4, dtype=torch.float64)
positions = torch.tensor([0, 1, 5])
out = call(apply_rope, x, positions)
close(out[0, 0, 0], x[0, 0, 0], atol=1e-6, name="apply_rope at position 0 changes nothing")
def turn(a, b, angle):  # the pair (a, b) rotated by angle, written out
    return [a * math.cos(angle) - b * math.sin(angle), a * math.sin(angle) + b * math.cos(angle)]

x2 = x[0, 0, 2].tolist()
close(out[0, 0, 2], torch.tensor(turn(x2[0], x2[1], 5.0) + turn(x2[2], x2[3], 0.05), dtype=torch.float64), atol=1e-6,
      name="apply_rope at position 5 (pairs (0, 1) and (2, 3) rotated by 5 and 0.05 rad)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch06_position_encoding as hidden
hidden.check_apply_rope(apply_rope)
### END HIDDEN TESTS

# %% [markdown]
# Checks you can read: the explicit matrix form against the fast one, norms, and the relative
# property. Then the widget: move m and n and watch the arrows of one feature pair rotate; the right
# panel is the score of all pairs as a function of n − m. "shift both" adds the same number to m and
# n: the arrows turn, the score (printed below the figure) does not change.

# %%
with needs("apply_rope", "rope_matrix"):
    q, k = torch.randn(16, dtype=torch.float64), torch.randn(16, dtype=torch.float64)
    rq = apply_rope(q[None, None, None], torch.tensor([3]))[0, 0, 0]
    print("fast form == matrix form:", torch.allclose(rq.float(), rope_matrix(3, 16) @ q.float(), atol=1e-5))
    print("norm before / after     :", f"{q.norm():.6f} / {rq.norm():.6f}")
    score = lambda m, n: float(apply_rope(q[None, None, None], torch.tensor([m]))[0, 0, 0]
                               @ apply_rope(k[None, None, None], torch.tensor([n]))[0, 0, 0])
    print("score at (m, n) = (3, 10), (103, 110), (1003, 1010):", [round(score(m, m + 7), 8) for m in (3, 103, 1003)])
rope_explorer()

# %% [markdown]
# **The other convention.** "Rotate half" pairs feature `i` with `i + d/2`. Apply it to the same
# vector and you get a different result; but if you first reorder the features so that
# `(0, d/2, 1, d/2 + 1, ...)` become neighbours, the two agree exactly. A checkpoint trained with one
# convention therefore needs its q/k projection weights permuted before it can run with the other.

# %%
with needs("apply_rope"):
    x = torch.randn(1, 1, 4, 8, dtype=torch.float64)
    pos = torch.arange(4)
    half = ex.rotate_half_rope(x, pos)
    print("rotate-half == interleaved on the same features:", torch.allclose(half, apply_rope(x, pos)))
    order = ex.half_to_interleaved(8)   # feature order that makes i and i + d/2 neighbours
    print("after permuting the features                   :",
          torch.allclose(half[..., order], apply_rope(x[..., order], pos)))

# %% [markdown]
# ## Part 4 — Beyond the training length · 超出训练长度
#
# A model only ever sees offsets up to its training context. What do RoPE scores do further out?
# A toy fit: choose q and k (d = 16) so that the score matches a decaying target `exp(−n/8)` on the
# offsets 0–31 only, for two bases, then plot the fitted score up to offset 255.

# %%
fig, fit = ex.extrapolation_experiment()
ex.show(fig)
for base, err in fit["errors"].items():
    print(f"base {base:>7g}: RMSE on the fitted offsets {err['train_rmse']:.3f}, beyond them {err['beyond_rmse']:.3f}; "
          f"slowest frequency {fit['lowest_frequency'][base]:.2e} rad/position")

# %% [markdown]
# Reading the figure: inside the grey band both fits follow the target (the small printed RMSE);
# beyond it the scores swing far away from it (the much larger printed RMSE): nothing in the fit
# constrained them there. The rotation angles at offsets never seen are new combinations of phases,
# and the model has no reason to score them sensibly. This is why models fail beyond their training
# context, and why context-extension methods rescale the positions or the base (position
# interpolation, "NTK-aware" scaling, YaRN): they map long offsets back onto angles the model has
# seen. The base sets the slowest frequency (printed): a larger base turns more slowly, so a longer
# range of offsets stays within the first turn of the slowest pair.
#
# ## Summary · 小结
#
# * Self-attention without positions is permutation-equivariant: order must be injected.
# * Sinusoidal PE: sin in even, cos in odd columns, ω_i = 10000^(−2i/d). Shifting by k is the exact
#   linear map M_k, and PE(p)·PE(q) = Σ cos((q − p)ω_i): offset-only, symmetric, not monotone.
# * RoPE rotates q and k pairs (interleaved 2i, 2i+1) by m·θ_i; R_m^T R_n = R_(n−m) makes scores
#   depend on n − m only; apply it with cos/sin on even/odd features, never with d×d matrices.
# * Scores at offsets longer than in training are unconstrained: extrapolation needs rescaling.
#
# **Next:** the encoder and decoder layers that put attention, feed-forward networks, LayerNorm and
# residuals together.

# %%
glossary.show("06-position-encoding")
