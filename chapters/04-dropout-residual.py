# %% [markdown]
# # Dropout and residual connections · dropout 与残差连接
#
# A Transformer layer is two ideas you have already met (attention, a feed-forward network) plus two
# small pieces of plumbing that decide whether a deep stack of them can be trained at all:
#
# * **dropout** (随机失活) — during training, randomly silence some numbers so the network cannot lean
#   on any single one of them;
# * **residual connections** (残差连接) — add each layer's input back to its output, `x + F(x)`, so that
#   signals and gradients have a straight road through the whole stack.
#
# By the end of this chapter you will have written both, placed dropout where the Transformer puts it,
# and *measured* why the skip path matters: a 40-layer stack without it hardly sends any gradient back
# to its first layers.
#
# | | you write | you see |
# |---|---|---|
# | 1 | `dropout(x, p, training, generator)` | dropped values, mean vs p, training vs eval |
# | 2 | `Dropout` as an `nn.Module` | `model.eval()` switching it off |
# | 3 | `embed_with_dropout`, `PreNormResidual.forward` | what happens to the residual stream when dropout is misplaced |
# | 4 | `grad_norms_per_layer` | gradient norm per layer, plain vs residual, 40 layers |

# %% [markdown]
# Run the set-up cell first. It imports PyTorch, the course helpers, and `DeepStack` (a deep
# stack of `tanh(Linear)` layers we use in Part 4), then fixes the random seed.

# %%
import math

import torch
from torch import nn

from course import glossary
from course.experiments import ch04_dropout_residual as ex
from course.notebook import setup, needs
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
#    never reset a seed inside the function.
# 5. **Gradients** must flow: do not detach, do not use `.data`. (Multiplying by the mask does it
#    for you: the gradient is `1/(1 − p)` where kept and `0` where dropped.)
# 6. **Bad `p`:** raise `ValueError` if `p` is not an `int`/`float` (a string, `None`) or lies
#    outside `[0, 1]` (NaN included) — in both modes.
#
# *Hint:* `torch.rand` is uniform on `[0, 1)`, so `torch.rand(...) >= p` is `True` with probability
# `1 − p`.

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
close(dropout(x, 0.5, training=False), x, atol=0.0, name="dropout(x, 0.5, training=False) (eval: x unchanged)")
close(dropout(x, 0.0), x, atol=0.0, name="dropout(x, p=0) (nothing dropped, nothing rescaled)")
close(dropout(x, 1.0), torch.zeros(2, 3), atol=0.0, name="dropout(x, p=1) (all zeros, no NaN)")

torch.manual_seed(0)
ones = torch.ones(100_000)
out = dropout(ones, 0.25)
frac_zero = (out == 0).float().mean().item()
check(abs(frac_zero - 0.25) < 0.01, f"with p=0.25, {frac_zero:.3f} of the elements were zeroed, expected about 0.25")
close(out[out != 0], torch.full(((out != 0).sum().item(),), 1 / 0.75), name="survivors of dropout(ones, p=0.25) (1/0.75)")
raises(ValueError, dropout, x, 1.5, name="dropout(x, p=1.5)")
print("Visible tests passed: eval, p=0, p=1, zero fraction, rescaling, ValueError.")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch04_dropout_residual as hidden
hidden.check_dropout_function(dropout)
### END HIDDEN TESTS

# %% [markdown]
# ### Experiment — what dropout does to a tensor · 实验：dropout 对张量的影响
#
# Below, 200,000 values drawn around 1 go through your `dropout` with `p = 0.3`, and a tensor of ones
# goes through it for `p` from 0 to 0.9. **Predict first:** where will the dropped values show up in
# the histogram, and which way will the rest of the histogram move? Will the mean change with `p`?

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
# training mode, and once in eval mode. **Predict:** in training mode, is `y` the same every time? How
# does the average of the training outputs compare with the eval output?

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
# approximately, and in practice that approximation works well.

# %% [markdown]
# ## Part 2 — Dropout as a module · dropout 模块
#
# In a model you do not pass `training=...` by hand to every dropout. Every `nn.Module` carries a
# flag `self.training`; `model.train()` sets it to `True` and `model.eval()` sets it to `False` on
# the module **and all its submodules, recursively**. A dropout module only has to read that flag.
#
# ### Exercise 2 — `Dropout(nn.Module)` · 练习 2：Dropout 模块
#
# * `__init__(self, p=0.5)`: check `p` (same `ValueError` rules as before), store it as `self.p`.
# * `forward(self, x)`: inverted dropout in training mode, identity in eval mode — read
#   `self.training`, do not invent your own flag. You may call your `dropout` function.
#
# The test compares your module with `nn.Dropout`: same zero fraction in training, both the identity
# after `.eval()`, even when your module sits inside an `nn.Sequential`.

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

layer = Dropout(0.5)
check(isinstance(layer, nn.Module), "Dropout must subclass nn.Module")
x = torch.tensor([1.0, 2.0, 3.0, 4.0])
layer.eval()
close(layer(x), x, atol=0.0, name="Dropout(0.5) after .eval() (identity)")
layer.train()
torch.manual_seed(0)
out = layer(torch.ones(10_000))
check(0.45 < (out == 0).float().mean().item() < 0.55, "Dropout(0.5) in training should zero about half the elements")
close(out[out != 0], torch.full(((out != 0).sum().item(),), 2.0), name="Dropout(0.5) survivors (1 / 0.5 = 2)")
raises(ValueError, Dropout, 1.5, name="Dropout(1.5)")
print("Visible tests passed: eval identity, train drops and rescales, ValueError.")
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
    ours.eval(); theirs.eval()
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
# ## Part 3 — Where dropout goes in a Transformer · dropout 在 Transformer 中的位置
#
# The original Transformer ("Attention Is All You Need") uses `p = 0.1` in exactly two kinds of place:
#
# 1. on the **sum of the token embeddings and the positional encodings**, before the first layer;
# 2. on the **output of every sublayer** (attention, feed-forward), *before* it is added to the
#    residual stream.
#
# Many implementations also drop attention weights after the softmax; we come back to that in the
# attention chapter. The stack of layers in between carries a **residual stream** (残差流): a tensor
# `x` of shape `(batch, seq, d_model)` that each sublayer reads (through a normalisation) and adds
# its result to. In the Pre-LN arrangement used by most modern models:
#
# ```
# x ──────────────────────────────(+)──▶ x + dropout(F(norm(x)))
#  └─▶ norm ─▶ F (sublayer) ─▶ dropout ─┘
# ```
#
# Dropout sits on the branch only. The stream itself is never dropped: it is the road that carries
# both the signal forward and the gradient back (Part 4).

# %% [markdown]
# ### Exercise 3a — dropout on the embeddings · 练习 3a：嵌入上的 dropout
#
# `tok_emb` has shape `(batch, seq, d_model)` and `pos_emb` has shape `(seq, d_model)`
# (broadcasting adds the same position vectors to every sequence in the batch). Apply the dropout
# module `dropout` **once**, to their sum, and return the result.

# %% answer="embed_with_dropout"
def embed_with_dropout(tok_emb, pos_emb, dropout):
    """Token embeddings plus positional embeddings, then dropout (as in the original Transformer).

    Args:
        tok_emb: tensor (batch, seq, d_model), the token embeddings.
        pos_emb: tensor (seq, d_model), the positional embeddings (broadcast over the batch).
        dropout: a callable module such as nn.Dropout(0.1), applied exactly once.

    Returns:
        Tensor (batch, seq, d_model): dropout(tok_emb + pos_emb).
    """
    ### BEGIN SOLUTION
    return dropout(tok_emb + pos_emb)
    ### END SOLUTION


# %% tests="embed_with_dropout_tests" points=1
import torch
from torch import nn
from course.checks import call, close

tok = torch.ones(2, 3, 4)                       # (batch, seq, d_model)
pos = torch.arange(12.0).reshape(3, 4)          # (seq, d_model)
close(embed_with_dropout(tok, pos, nn.Dropout(0.1).eval()), tok + pos, name="eval mode: tok_emb + pos_emb")
close(embed_with_dropout(tok, pos, nn.Dropout(1.0).train()), torch.zeros(2, 3, 4), atol=0.0,
      name="p=1 in training: everything is dropped, including the positions")
print("Visible tests passed: eval sum, p=1 gives zeros.")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch04_dropout_residual as hidden
hidden.check_embed_with_dropout(embed_with_dropout)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3b — the residual sublayer wrapper · 练习 3b：残差子层包装
#
# `PreNormResidual` wraps any sublayer `F` (here it will be a `Linear`; later an attention or a
# feed-forward block). The constructor is written for you; write `forward` so that it returns
# `x + dropout(F(norm(x)))`. Two behaviours follow from the right placement, and the tests check
# both:
#
# * with `p = 1` in training the branch is wiped out and the block returns **exactly** `x`;
# * if the sublayer outputs zeros, the block returns **exactly** `x`, whatever `p` is.

# %% answer="PreNormResidual"
class PreNormResidual(nn.Module):
    """Pre-LN residual sublayer: x + dropout(sublayer(norm(x))).

    Args:
        d_model: int, the size of the last dimension of x.
        sublayer: an nn.Module mapping (batch, seq, d_model) to (batch, seq, d_model).
        p: float in [0, 1], dropout probability on the sublayer's output (default 0.1).

    forward(x): x of shape (batch, seq, d_model) -> a tensor of the same shape. Dropout is
    applied to the sublayer's output only, never to x (the residual stream) itself.
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


# %% tests="PreNormResidual_tests" points=3
import torch
from torch import nn
from course.checks import call, close

torch.manual_seed(0)
x = torch.randn(2, 5, 8)                                  # (batch, seq, d_model)
linear = nn.Linear(8, 8)
block = PreNormResidual(8, linear, p=1.0).train()
close(block(x), x, atol=0.0, rtol=0.0, name="p=1 in training: the branch is dropped, the block returns x")
block = PreNormResidual(8, linear, p=0.1).eval()
with torch.no_grad():
    expected = x + linear(nn.functional.layer_norm(x, (8,)))
close(block(x), expected, atol=1e-5, name="eval mode: x + sublayer(norm(x))")
print("Visible tests passed: p=1 returns x, eval mode is x + sublayer(norm(x)).")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch04_dropout_residual as hidden
hidden.check_prenorm_residual(PreNormResidual)
### END HIDDEN TESTS

# %% [markdown]
# ### Experiment — a misplaced dropout · 实验：放错位置的 dropout
#
# What would go wrong with `dropout(x + F(norm(x)))`, dropout *after* the add? Take 12 blocks whose
# sublayers output zeros (blocks that have not learned anything yet, so the ideal stack is the
# identity) and run them in training mode with `p = 0.1`. Your `PreNormResidual` is compared with the
# misplaced version. **Predict:** after 12 blocks, what fraction of the stream's entries will the
# misplaced version have zeroed?

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
#   out the product gives the identity plus smaller terms; the identity term is a path on which the
#   gradient from the loss arrives at *every* layer undiminished.
#
# Your job: measure it.
#
# ### Exercise 4 — gradient norm per layer · 练习 4：每层的梯度范数
#
# `DeepStack(depth, width, residual, seed)` (from `course/residual.py`) holds its `nn.Linear` layers
# in `model.layers`, input side first; `model(x)` maps `(batch, width)` to `(batch, width)`.
# Write `grad_norms_per_layer(model, x)`:
#
# 1. clear any gradients left over from earlier calls with `model.zero_grad()` — otherwise `backward`
#    **adds** to them;
# 2. compute the fixed loss `L = mean(model(x) ** 2)` and call `L.backward()`;
# 3. only now read `layer.weight.grad` of each layer and return the Frobenius norms
#    (`tensor.norm()`) as a 1-D tensor of shape `(depth,)`, layer 1 first.

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
from course.checks import call, close
from course.experiments.ch04_dropout_residual import DeepStack

# one layer, one weight w = 0.5, bias 0, input 1: L = h², worked out by hand with the chain rule
for residual in (False, True):
    model = DeepStack(1, width=1, residual=residual)
    with torch.no_grad():
        model.layers[0].weight.fill_(0.5)
        model.layers[0].bias.zero_()
    t = math.tanh(0.5)
    h = 1.0 + t if residual else t                      # the output for x = 1
    by_hand = 2 * h * (1 - t ** 2) * 1.0                # dL/dh · dtanh · d(w·x)/dw
    result = grad_norms_per_layer(model, torch.ones(1, 1))
    close(result, torch.tensor([by_hand]), rtol=1e-4, name=f"one-weight stack, residual={residual}")
    close(grad_norms_per_layer(model, torch.ones(1, 1)), torch.tensor([by_hand]), rtol=1e-4,
          name=f"one-weight stack, residual={residual}, second call (did the gradients accumulate?)")
print("Visible tests passed: the one-weight stack, with and without the skip path, twice.")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch04_dropout_residual as hidden
hidden.check_grad_norms(grad_norms_per_layer)
### END HIDDEN TESTS

# %% [markdown]
# ### Experiment — 40 layers, with and without the skip path · 实验：40 层，有无跳跃连接
#
# Both stacks get identical weights (same seed) and the same input; the only difference is `h + f(h)`
# versus `f(h)`. **Predict:** how many times smaller is the gradient at layer 1 than at layer 40 in the
# plain stack — 2×, 100×, or something else?

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
# Where does the factor come from? PyTorch's default `nn.Linear` initialisation draws weights with
# variance `1/(3 · fan_in)`, so multiplying a gradient by `Wᵀ` shrinks its length by about `√3`, and
# `tanh' ≤ 1` can only shrink it further. Between layer 40 and layer 1 there are 39 such factors: the
# printed estimate `√3³⁹` has the same order of magnitude as the measured ratio. The residual stack's curve is nearly flat: the printed
# ratio stays within a small factor, every layer gets a useful gradient. Same weights, same input,
# one `+ h` per layer.
#
# This is why a Transformer with dozens of layers trains at all, and why nothing — not dropout, not
# normalisation — is ever put directly on the residual stream.

# %% [markdown]
# ## Summary · 小结
#
# * **Inverted dropout** zeroes each element with probability `p` and divides the survivors by
#   `1 − p`, so the expected value is unchanged and eval mode is the identity. `p = 1` must not
#   divide by zero; every call draws a new mask.
# * An `nn.Module` reads `self.training`; `model.train()` / `model.eval()` set it recursively, which
#   is how one call switches off every dropout in a model.
# * In the Transformer, dropout (`p = 0.1`) goes on the **embedding sum** and on **each sublayer's
#   output before the residual add**: `x + dropout(F(norm(x)))`. Dropping the stream itself
#   punches holes that accumulate with depth.
# * A **residual connection** turns each backward factor `J` into `I + J`; a deep plain stack's
#   gradients vanish toward the input, a residual stack's stay nearly level.
#
# **Next:** the `norm` in `x + dropout(F(norm(x)))` — layer normalisation.

# %% [markdown]
# ### Check your understanding · 自测
#
# 1. You evaluate a trained model but forget `model.eval()`. What do you observe?
# 2. Why is the Transformer's `p = 0.1` and not `0.5`? (Look at the noise panel of the statistics figure.)
# 3. In the residual stack, layer 1 received a *larger* gradient than layer 40. Why can the skip path
#    make gradients grow toward the input?
#
# <details><summary>Answers</summary>
#
# 1. Predictions change from run to run and are usually a little worse: every forward pass still drops
#    units, so you are looking at one random thinned network instead of the average.
# 2. Every dropout layer adds noise with standard deviation `sqrt(p/(1 − p))` per element (1.0 at
#    `p = 0.5`, about 0.33 at `p = 0.1`); a Transformer has a dropout in every sublayer, and with
#    large data sets it needs only a little regularisation.
# 3. Each backward factor is `I + J`, not `I`: the identity passes the gradient on unchanged, and
#    the `J` term adds a little more at every layer, so the gradient collects contributions from all
#    the layers above it. Without normalisation this growth compounds with depth — one reason
#    Transformers put a normalisation inside every branch.
# </details>

# %%
glossary.show("04-dropout-residual")
