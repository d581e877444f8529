# %% [markdown]
# # Layer normalization · 层归一化
#
# Deep networks train badly when the scale of their activations drifts from layer to layer. A
# Transformer keeps them in check with **layer normalisation** (层归一化): every token's feature vector
# is shifted to mean 0 and scaled to variance 1, then given a learned scale γ and shift β.
#
# In this chapter you will
#
# * write LayerNorm yourself and match `torch.nn.LayerNorm` to 1e-5,
# * see why NLP models use it rather than BatchNorm (批归一化),
# * build the two ways of wiring it into a residual block, **Post-LN** and **Pre-LN**, and train a
#   deep stack both ways to see why modern models chose Pre-LN.

# %% [markdown]
# Run the set-up cell first.

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
# ## Part 1 — The formula · 公式
#
# For one token with features $x_1, \dots, x_d$ (the last dim of a `(batch, seq, d_model)` tensor):
#
# $$\mu = \frac{1}{d}\sum_i x_i, \qquad \sigma^2 = \frac{1}{d}\sum_i (x_i - \mu)^2, \qquad
# y_i = \gamma_i \, \frac{x_i - \mu}{\sqrt{\sigma^2 + \varepsilon}} + \beta_i .$$
#
# Three details decide whether you match PyTorch:
#
# 1. **Biased variance**: divide by `d`, not `d − 1`. `torch.var` and `torch.std` divide by `d − 1` by
#    default (`correction=1`); pass `correction=0` (or `unbiased=False`) or compute the mean of squares.
#    With `d = 2` the two differ by a factor of 2.
# 2. **ε inside the square root**: `sqrt(var + eps)`, not `sqrt(var) + eps`. It only matters when the
#    variance is tiny, and that is exactly when it must protect you from dividing by ~0.
# 3. **One mean and variance per token**, over the last dim only (`keepdim=True` so they broadcast back).
#
# γ and β are vectors of length `d` (γ starts at ones, β at zeros), so a LayerNorm has `2·d`
# parameters.
#
# ### Exercise 1 · 练习 1: `layer_norm`
# Write it with reductions, not with PyTorch's `F.layer_norm` (the tests switch that off and tell you).

# %% answer="layer_norm"
def layer_norm(x, weight, bias, eps=1e-5):
    """Layer normalisation over the last dim.

    x: float tensor of shape (..., d_model), e.g. (batch, seq, d_model).
    weight: gamma, shape (d_model,); bias: beta, shape (d_model,); eps: float added to the variance.
    Returns a tensor of the same shape as x: (x - mean) / sqrt(var + eps) * weight + bias, with the
    mean and the biased variance (divide by d_model) of each token's features.
    """
    ### BEGIN SOLUTION
    mean = x.mean(dim=-1, keepdim=True)  # (..., 1)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)  # (..., 1), biased: divides by d_model
    return (x - mean) / torch.sqrt(var + eps) * weight + bias  # (..., d_model)
    ### END SOLUTION


# %% tests="layer_norm_tests" points=3
import torch
from course.checks import call, close

ones, zeros = torch.ones(2), torch.zeros(2)
# One token [1, 3]: mean 2, biased variance 1, so the output is [-1, 1] (up to eps).
close(call(layer_norm, torch.tensor([[1.0, 3.0]]), ones, zeros), torch.tensor([[-1.0, 1.0]]), atol=1e-4,
      name="layer_norm([[1, 3]]) (divide by d, not d - 1: the unbiased variance would give ±0.707)")
# gamma and beta are applied per feature after normalising.
close(call(layer_norm, torch.tensor([[1.0, 3.0]]), torch.tensor([2.0, 3.0]), torch.tensor([0.5, -1.0])),
      torch.tensor([[-1.5, 2.0]]), atol=1e-4, name="layer_norm with gamma [2, 3] and beta [0.5, -1]")
# Each token separately: the second token is the first one times 10 plus 5, same output.
x = torch.tensor([[1.0, 2.0, 6.0], [15.0, 25.0, 65.0]])
out = call(layer_norm, x, torch.ones(3), torch.zeros(3))
close(out[1], out[0], atol=1e-4, name="layer_norm normalises each token (row) on its own")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch03_layernorm as hidden
hidden.check_layer_norm(layer_norm)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2 · 练习 2: the `LayerNorm` module
# Wrap it as an `nn.Module` with two parameters named exactly like PyTorch's, `weight` (γ, ones) and
# `bias` (β, zeros), so that `load_state_dict` from an `nn.LayerNorm` works. Raise a `ValueError` with
# a clear message when the input's last dim is not `d_model`.

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


# %% tests="LayerNorm_tests" points=2
import torch
from torch import nn
from course.checks import call, close, equal, raises

ln = call(LayerNorm, 4)
equal(sorted(name for name, _ in ln.named_parameters()), ["bias", "weight"], name="parameter names of LayerNorm(4)")
equal(sum(p.numel() for p in ln.parameters()), 8, name="number of parameters of LayerNorm(4) (2 · d_model)")
torch_ln = nn.LayerNorm(4)
x = torch.randn(2, 3, 4)
close(call(ln, x), torch_ln(x), atol=1e-5, name="LayerNorm(4) against nn.LayerNorm(4) at initialisation")
raises(ValueError, ln, torch.randn(2, 5), name="LayerNorm(4) on an input with last dim 5")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch03_layernorm as hidden
hidden.check_layernorm_module(LayerNorm)
### END HIDDEN TESTS

# %% [markdown]
# ### Look at one token · 看一个词元
# The widget shows one token's 256 features as a histogram, before and after normalisation. Move the
# input's scale and shift: the right-hand histogram does not move. Then move γ and β: they set the
# output's spread and centre. Notice that the *shape* of the histogram never changes: LayerNorm is an
# affine map of each token (shift, then scale), so it cannot make a skewed distribution symmetric.

# %%
layernorm_explorer()

# %% [markdown]
# ## Part 2 — Why not BatchNorm? · 为什么不用批归一化
#
# BatchNorm normalises each **feature** over the **batch** (and, for sequences, over every token in
# it). So a token's output depends on which other tokens share its batch, including padding tokens
# added only to make sequences the same length; and at evaluation time BatchNorm switches to running
# averages, so training and inference compute different functions. LayerNorm uses one token's own
# features only.
#
# The experiment normalises one fixed token inside two batches: batch A with 3 other tokens, batch B
# with 3 different tokens and 4 padding tokens. It prints the largest change in that token's output.

# %%
with needs("layer_norm"):
    fig, diff = ex.ln_vs_bn(layer_norm)
    ex.show(fig)
    print(f"largest change of the token's output between the batches: LayerNorm {diff['ln_max_diff']:.2e}, "
          f"BatchNorm {diff['bn_max_diff']:.2f}")


# %% [markdown]
# Reading the figure: the LayerNorm bars of the two batches are identical (the printed change is
# zero), the BatchNorm bars are not: the same token gets a different representation because its
# neighbours in the batch changed. Sequences in NLP vary in length and content, so a Transformer uses
# LayerNorm.
#
# ## Part 3 — Post-LN and Pre-LN · 后置与前置层归一化
#
# Every sublayer (attention or feed-forward) sits in a residual block. Where does the LayerNorm go?
#
# * **Post-LN** (the 2017 paper): add first, then normalise: `LayerNorm(x + sublayer(x))`. Every
#   block's output is normalised, including the path the residual carries.
# * **Pre-LN** (GPT-2 and most models since): normalise the sublayer's *input*, leave the residual
#   path untouched: `x + sublayer(LayerNorm(x))`. Because the stream itself is never normalised, a
#   Pre-LN stack ends with one final LayerNorm before the output layer.
#
# ### Exercise 3 · 练习 3: `PostLN` and `PreLN`
# Both take `d_model` and any `sublayer` module mapping `(batch, seq, d_model)` to the same shape;
# the `__init__` is given (it uses `nn.LayerNorm`, so this exercise does not depend on yours).

# %% answer="PostLN"
class PostLN(nn.Module):
    """Post-LN residual block: LayerNorm(x + sublayer(x)).

    forward(x): x of shape (batch, seq, d_model) -> tensor of the same shape.
    """

    def __init__(self, d_model, sublayer):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.sublayer = sublayer

    def forward(self, x):
        ### BEGIN SOLUTION
        return self.norm(x + self.sublayer(x))
        ### END SOLUTION


class PreLN(nn.Module):
    """Pre-LN residual block: x + sublayer(LayerNorm(x)).

    forward(x): x of shape (batch, seq, d_model) -> tensor of the same shape.
    """

    def __init__(self, d_model, sublayer):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.sublayer = sublayer

    def forward(self, x):
        ### BEGIN SOLUTION
        return x + self.sublayer(self.norm(x))
        ### END SOLUTION


# %% tests="residual_blocks_tests" points=3
import torch
from torch import nn
from course.checks import call, close

identity = nn.Identity()  # with sublayer = identity: Post-LN gives norm(2x), Pre-LN gives x + norm(x)
x = torch.tensor([[[1.0, 3.0], [0.0, 4.0]]])  # (batch=1, seq=2, d_model=2)
norm = nn.LayerNorm(2)
close(call(PostLN(2, identity), x), norm(x + x), atol=1e-5, name="PostLN with an identity sublayer: norm(x + x)")
close(call(PreLN(2, identity), x), x + norm(x), atol=1e-5, name="PreLN with an identity sublayer: x + norm(x)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch03_layernorm as hidden
hidden.check_post_ln(PostLN)
hidden.check_pre_ln(PreLN)
### END HIDDEN TESTS

# %% [markdown]
# ### The experiment: train a deep stack both ways · 实验：两种方式训练深层网络
# Xiong et al. (2020) showed that in a Post-LN Transformer the gradients of the last layers are large
# at initialisation, so large learning rates blow training up unless the learning rate is **warmed
# up** (raised gradually over the first steps); Pre-LN does not need that.
#
# Here we test it on a small task: 8 layers (PyTorch's `nn.TransformerEncoderLayer` with
# `norm_first=False` for Post-LN or `True` for Pre-LN, d_model = 32), each token must output the
# token before it. Adam with learning rate 0.01, 300 steps, with no warm-up and with a linear warm-up
# over 100 steps. The four runs take about half a minute; the cell prints the mean loss of the last 50
# steps of each and the gradient norm per layer at initialisation.

# %%
# while the notebook is autograded, a shorter run: no grade depends on it (course.notebook.grading)
fig, result = ex.pre_vs_post(**({"steps": 60, "warmup": 20} if grading() else {}))
ex.show(fig)
for name, loss in result["final_loss"].items():
    print(f"{name:15s} mean loss of the last 50 steps: {loss:.4f}   (chance level ln 16 = 2.7726)")
post, pre = result["grad_norms"]["post"], result["grad_norms"]["pre"]
print("gradient norm, last / first layer:  Post-LN %.2f   Pre-LN %.2f" % (post[-1] / post[0], pre[-1] / pre[0]))


# %% [markdown]
# Reading the figure, with the printed numbers:
#
# * **Left.** Compare each run's final loss with chance level (2.77, guessing among 16 tokens). The
#   run that stays at chance has failed: it never found the task. Look at which combination that is,
#   and whether warm-up rescued it. Any run that ends near zero solved the task.
# * **Right.** For Post-LN, the gradient norm grows towards the output layers (the printed
#   last/first ratio is well above 1); for Pre-LN it is nearly flat. With one learning rate for all
#   layers, the layers with the largest gradients take the largest Adam steps early on, before the
#   optimiser's statistics have settled; warm-up keeps those first steps small.
#
# In our run, Post-LN without warm-up stayed at chance while the other three solved the task (a
# different seed or learning rate changes the details: try `ex.pre_vs_post(lr=3e-3)`, and read the
# printed numbers rather than trusting this sentence). This is why GPT-2 and its successors moved
# the LayerNorm inside the branch and added a final LayerNorm.
#
# ## Part 4 — RMSNorm (optional) · 均方根归一化
#
# Many recent models (LLaMA, for one) drop the mean subtraction and β: RMSNorm divides each token by
# its root mean square, $y_i = \gamma_i\, x_i / \sqrt{\tfrac1d \sum_j x_j^2 + \varepsilon}$. It is
# cheaper and works as well in practice.
#
# ### Exercise 4 · 练习 4: `rms_norm` (1 point)

# %% answer="rms_norm"
def rms_norm(x, weight, eps=1e-6):
    """RMS normalisation over the last dim (no mean subtraction, no bias).

    x: float tensor of shape (..., d_model); weight: gamma, shape (d_model,); eps: float.
    Returns x / sqrt(mean(x ** 2 over the last dim) + eps) * weight, same shape as x.
    """
    ### BEGIN SOLUTION
    rms = torch.sqrt((x ** 2).mean(dim=-1, keepdim=True) + eps)  # (..., 1)
    return x / rms * weight
    ### END SOLUTION


# %% tests="rms_norm_tests" points=1
import torch
from course.checks import call, close

# [3, 4]: mean of squares 12.5, rms 3.5355; the mean (3.5) is NOT subtracted.
close(call(rms_norm, torch.tensor([[3.0, 4.0]]), torch.ones(2)), torch.tensor([[3.0, 4.0]]) / 12.5 ** 0.5,
      atol=1e-5, name="rms_norm([[3, 4]])")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch03_layernorm as hidden
hidden.check_rms_norm(rms_norm)
### END HIDDEN TESTS

# %% [markdown]
# ## Summary · 小结
#
# * LayerNorm normalises each token over its own features: biased variance, ε inside the square root,
#   then γ and β (2·d parameters, initialised to ones and zeros).
# * BatchNorm's statistics depend on the other tokens in the batch and on padding; LayerNorm's do not.
# * Post-LN = `norm(x + F(x))`, Pre-LN = `x + F(norm(x))` plus a final LayerNorm. Post-LN's large
#   gradients near the output make it depend on learning-rate warm-up; Pre-LN trains stably without.
# * RMSNorm keeps only the scaling.
#
# **Next:** dropout and the residual connections these blocks are built on.

# %%
glossary.show("03-layernorm")
