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

# %% [markdown]
# Run the set-up cell first. It imports PyTorch, the course helpers, and `DeepStack` (a deep
# stack of `tanh(Linear)` layers we use in Part 4), then fixes the random seed.

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

# %% [markdown]
# Here is that formula by hand on four numbers, with a mask we choose ourselves (`p = 0.25`, the
# second entry dropped). Check the printed result against the formula before moving on: the
# survivors `1, 3, 4` become `1/0.75, 3/0.75, 4/0.75`.

# %%
x = torch.tensor([1.0, 2.0, 3.0, 4.0])
p = 0.25
mask = torch.tensor([1.0, 0.0, 1.0, 1.0])    # 1 = keep, 0 = drop (normally random)
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


# %% tests="dropout_tests" points=4
import torch
from course.checks import call, check, close, raises

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
check(abs(frac_zero - 0.75) > 0.01, f"with p=0.25, {frac_zero:.3f} of the elements were zeroed: p is the "
      "probability of DROPPING an element, you kept each one with probability p (spec 1)")
check(abs(frac_zero - 0.25) < 0.01, f"with p=0.25, {frac_zero:.3f} of the elements were zeroed, expected about 0.25")
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
print("Visible tests passed: eval, p=0, p=1, zero fraction, rescaling, fresh masks, generator, gradient, ValueError.")
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

# %%
with needs("dropout"):
    fig, stats = ex.dropout_statistics(dropout, p=0.3)
    ex.show(fig)
    print(f"p = 0.3: fraction zeroed {stats['frac_zero']:.4f}, mean before {stats['mean_in']:.4f}, "
          f"mean after {stats['mean_out']:.4f}")
    for q, m, s in zip(stats["ps"], stats["means"], stats["stds"]):
        print(f"  p = {q:.1f}: mean of dropout(ones) = {m:.4f}, std = {s:.3f}")

# %% [markdown]
# **Reading the figure.** Left: about 30% of the values collapse onto a spike at 0, and the rest of
# the bell is stretched to the right by `1/0.7`, which is exactly what keeps the mean where it was
# (compare the two printed means). Middle: the mean of `dropout(ones)` stays at 1 for every `p`,
# while the zero fraction climbs along the diagonal; without the rescaling it would follow the dotted
# line `1 − p`. Right: the price of dropout is noise, and its standard deviation follows
# `sqrt(p/(1 − p))` — small for the Transformer's `p = 0.1`, huge as `p → 1`.

# %% [markdown]
# ### Training mode vs eval mode · 训练模式与评估模式
#
# Now one fixed input goes through a tiny network `y = w₂ · dropout(relu(W₁ x))` two thousand times in
# training mode, and once in eval mode.
#
# **Predict · 预测:** in training mode, is `y` the same every time? How does the average of the training
# outputs compare with the eval output? Write your guess down, then run the next cell.

# %%
with needs("dropout"):
    fig, stats = ex.train_vs_eval(dropout, p=0.3)
    ex.show(fig)
    print(f"eval output: {stats['eval']:.4f}   mean of {stats['passes']} training outputs: "
          f"{stats['train_mean']:.4f}   std of training outputs: {stats['train_std']:.4f}")


# %% [markdown]
# In training mode the output is a random variable (its spread is the printed std); in eval mode it is
# a single number, and it sits at the centre of the training distribution — the printed mean of the
# training passes is close to the eval output. Because only a *linear* layer follows the dropout here,
# the two agree exactly in expectation. With nonlinear layers after the dropout they agree only
# approximately; Srivastava et al. (2014, §7.5) compare the eval-mode network with averaging many
# sampled thinned networks and find the two close.

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


# %% tests="Dropout_tests" points=2
import torch
from torch import nn
from course.checks import call, check, close, raises

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
check(not 0.45 < frac < 0.55, f"Dropout(0.2) zeroed {frac:.2f} of the elements, as Dropout(0.5) would: the p "
      "argument was ignored; forward must use the p the module was built with")
check(0.17 < frac < 0.23, f"Dropout(0.2) in training should zero about 0.2 of the elements, it zeroed {frac:.2f}")
model = nn.Sequential(nn.Identity(), call(Dropout, 0.5)).eval()
check(torch.equal(call(model, x), x), "model.eval() on an nn.Sequential holding your Dropout did not switch it off: "
      "read self.training")
raises(ValueError, Dropout, 1.5, name="Dropout(1.5) (check p in __init__)")
print("Visible tests passed: default p, eval identity, train drops and rescales, inside a model, ValueError.")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch04_dropout_residual as hidden
hidden.check_dropout_module(Dropout)
### END HIDDEN TESTS

# %% [markdown]
# Side by side with PyTorch's own `nn.Dropout`, inside a small model. `print(model)` shows the
# modules; then we count zeros in training mode and compare outputs in eval mode.

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

# %% [markdown]
# ### Play: a dropout mask · 交互：dropout 掩码
#
# A grid of ones after dropout, drawn by **your** `dropout` with a seeded generator. Move `p`
# and the seed, and switch between train and eval. Watch the status line: the fraction kept wanders
# around `1 − p`, and the mean of the grid wanders around 1 — a small grid is noisy, which is the
# point of the right-hand panel in the statistics figure above.

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


# %% tests="embed_with_dropout_tests" points=2
import torch
from torch import nn
from course.checks import call, check, close, raises
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
check(len(rec.calls) == 1, f"the dropout module was called {len(rec.calls)} times: call it once, on the sum "
      "(two calls draw two independent masks)")
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
print("Visible tests passed: the lookups, what dropout sees, p=1, a sequence longer than the table.")
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


# %% tests="PreNormResidual_tests" points=4
import torch
from torch import nn
from torch.nn.functional import layer_norm
from course.checks import call, check, close
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
              name=f"{name} in eval mode (dropout off: chapter 03's block)")
        block = cls(8, linear, p=0.1).train()
        block.dropout = RecordingDropout()                # records what it is applied to, returns twice it
        out = call(block, x)
        seen = block.dropout.calls
        check(len(seen) == 1, f"{name} applied its dropout {len(seen)} times: once, to the sublayer's output")
        expect(seen[0], branch[kind], atol=1e-5, name=f"what {name}'s dropout was applied to", mistakes=[
            (x, "the dropout was applied to x, the residual stream itself: it belongs on the sublayer's output"),
            (stream_after_add[kind], "the dropout came after the add: it belongs on the sublayer's output, "
             "before the add"),
            (normed, "the dropout was applied to the normalised input, before the sublayer: it belongs on the "
             "sublayer's output"),
            (layer_norm(stream_after_add[kind], (8,)), "the dropout came after the norm: it belongs on the "
             "sublayer's output, before the add and the norm")])
        close(out, expected[kind](2.0), atol=1e-5, name=f"{name} with a stand-in dropout that doubles its input")
        close(call(cls(8, linear, p=1.0).train(), x), expected[kind](0.0), atol=1e-5,
              name=f"{name} with p=1 in training (the branch is dropped, the stream passes)")
print("Visible tests passed: eval mode, p=1, what the dropout sees, in both arrangements.")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch04_dropout_residual as hidden
hidden.check_postnorm_residual(PostNormResidual)
hidden.check_prenorm_residual(PreNormResidual)
### END HIDDEN TESTS

# %% [markdown]
# Here is where your code put the dropout, drawn: on the sublayer's output, before the add, in both
# arrangements. Post-LN then normalises the stream (chapter 03); nothing ever drops it.

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

# %%
with needs("PreNormResidual"):
    fig, stats = ex.placement_experiment(PreNormResidual, depth=12, p=0.1)
    ex.show(fig)
    k = stats["depth"]
    print(f"after {k} blocks: zeroed entries {stats['good_zero'][-1]:.3f} (yours) vs "
          f"{stats['bad_zero'][-1]:.3f} (dropout after the add); 1 - 0.9^{k} = {1 - 0.9 ** k:.3f}")
    print(f"relative drift ||h - x|| / ||x||: {stats['good_err'][-1]:.3f} (yours) vs {stats['bad_err'][-1]:.3f}")


# %% [markdown]
# **Reading the figure.** With dropout on the branch, the stream arrives untouched (both curves for
# your block sit at 0). With dropout after the add, every block punches its own holes into the stream
# and they accumulate: the zero fraction follows `1 − (1 − p)^k`, and the survivors are rescaled by
# `1/(1 − p)` at every block, so the stream drifts further and further from `x` (right panel, printed
# above). In a real model this would erase information that earlier layers wrote, and — as Part 4
# shows — it would also cut the gradient's straight road back to the input.

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


# %% tests="grad_norms_per_layer_tests" points=3
import math
import torch
from course.checks import call, check, close
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
    close(result, torch.tensor([by_hand]), rtol=1e-4, name=f"one-weight stack, residual={residual}")
    again = call(grad_norms_per_layer, model, x)
    check(not torch.allclose(again, torch.tensor([2 * by_hand])), "the second call gave twice the first: backward "
          "adds to .grad, so clear the old gradients first with model.zero_grad() (step 1)")
    close(again, torch.tensor([by_hand]), rtol=1e-4, name=f"one-weight stack, residual={residual}, second call")
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
print("Visible tests passed: one-weight stacks with and without the skip path (twice), a two-layer stack.")
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

# %%
with needs("grad_norms_per_layer"):
    fig, stats = ex.residual_experiment(grad_norms_per_layer, depth=40)
    ex.show(fig)
    for name in ("plain", "residual"):
        g = stats[name]
        print(f"{name:>8}: layer 1 {g[0]:.2e}, layer 20 {g[19]:.2e}, layer 40 {g[-1]:.2e}, "
              f"ratio layer 40 / layer 1 = {g[-1] / g[0]:.2e}")
    print(f"back-of-envelope shrink factor for the plain stack, sqrt(3)^39 = {math.sqrt(3) ** 39:.1e}")

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
