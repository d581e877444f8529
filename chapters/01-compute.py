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

# %% [markdown]
# Run the set-up cell first: it imports PyTorch and this chapter's helpers and fixes the seed.

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

# %%
pf_day = 1e15 * 24 * 60 * 60      # FLOP/s times seconds: a count of FLOPs
print(f"one PF-day = {pf_day:.3e} FLOPs")
print(f"GPT-3: 3.14e23 FLOPs = {3.14e23 / pf_day:,.0f} PF-days")

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

# %%
a, b = torch.randn(64, 32), torch.randn(32, 16)
print("multiply-adds m·k·n            :", 64 * 32 * 16)
print("exact count m·n·(2k − 1)       :", 64 * 16 * (2 * 32 - 1))
print("two per multiply-add, 2·m·k·n  :", 2 * 64 * 32 * 16)
print("FlopCounterMode counts         :", ex.counted_flops(lambda: a @ b))


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

# %%
print("FlopCounterMode has formulas for:", ", ".join(ex.counted_ops()))

# %%
work = ex.elementwise_share(seq=1024, d_model=768, n_head=12, d_ff=3072)
matmuls = work.pop("matmul FLOPs")
print(f"one layer, one sequence of 1,024 tokens: {matmuls:,} matmul FLOPs")
for what, elements in work.items():
    print(f"  {what:50s} {elements:>12,} elements, {elements / matmuls:.3%} of the matmul FLOPs")
print(f"  all of them at 10 operations per element: {10 * sum(work.values()) / matmuls:.1%} of the matmul FLOPs")


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


# %% tests="encoder_flops_tests" points=3
import torch
from course.checks import call, check, raises
from course.checks.ch01_compute import expect
from course.experiments import ch01_compute as ex

# The real model, counted by PyTorch: 2 layers, d_model 16, 4 heads, d_ff 40, vocab 11; 3 sequences of 7 tokens.
counted = ex.counted_by_part(ex.encoder_lm(2, 16, 4, 40, 11), torch.zeros(3, 7, dtype=torch.long))
got = call(encoder_flops, 2, 16, 4, 40, 7, 11, 3)
check(type(got) is dict and sorted(got) == sorted(counted),
      f"encoder_flops should return a dict with the keys {sorted(counted)}, got {got!r}")
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
try:
    no_head = call(encoder_flops, 2, 16, 4, 40, 7, 0, 3)
except AssertionError as err:
    check("raised" not in str(err), f"{err}: vocab = 0 is allowed (the docstring): a model without a head, as "
          "Exercise 4 counts it; its 'head' part is 0")
    raise
check(no_head.get("head") == 0 and all(no_head.get(k) == got[k] for k in ("projections", "attention", "ffn")),
      f"encoder_flops(2, 16, 4, 40, 7, vocab=0, batch=3) gave {no_head!r}: vocab = 0 means no head, so 'head' is 0 "
      "and the other parts are those of vocab = 11")
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

# %%
with needs("encoder_flops"):
    gpt2 = ex.gpt2_small_counts(encoder_flops)
    print(f"{'part':12}{'FlopCounterMode':>18}{'encoder_flops':>18}")
    for part, n in gpt2["counted"].items():
        print(f"{part:12}{n:18,}{gpt2['yours'][part]:18,}")
    print(f"{'total':12}{sum(gpt2['counted'].values()):18,}")
    missing = gpt2["small_math_kernel"] - gpt2["small_default_kernel"]
    print(f"one layer (d_model 64, 4 heads, 128 tokens) on the CPU, counted with the math attention kernel: "
          f"{gpt2['small_math_kernel']:,}; with the default kernel: {gpt2['small_default_kernel']:,} "
          f"({missing:,} fewer)")

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

# %%
with needs("encoder_flops", "layer_params"):
    fig, split = ex.flops_split_figure(encoder_flops, layer_params)
    ex.show(fig)
    print(f"N = {split['n_params']:,} non-embedding parameters; 2N = {split['two_n']:,}; weight matmuls per "
          f"token = {split['weights_per_token']:,.0f}")
    print(f"attention equals the weight matmuls at seq = {split['crossover_seq']:,.0f} (6 · d_model = {6 * 768:,})")
    print(f"attention adds 10% to the weight matmuls at seq = {split['crossover_seq'] / 10:,.0f}")

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

# %%
for name, width in (("GPT-2 small", 768), ("GPT-2 XL", 1600), ("GPT-3 175B", 12288)):
    ten, equal = ex.attention_share_seq(width, share=0.1), ex.attention_share_seq(width, share=1.0)
    print(f"{name:12} d_model {width:6,}: attention adds 10% at seq = {ten:6,.0f}, as much as the weights at "
          f"seq = {equal:7,.0f}")

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


# %% tests="training_flops_tests" points=2
import torch
from course.checks import call
from course.checks.ch01_compute import expect
from course.experiments import ch01_compute as ex

for n_layer, d, heads, d_ff, seq, batch in [(2, 16, 4, 40, 7, 3), (1, 8, 2, 12, 5, 2)]:
    stack = ex.encoder_stack(n_layer, d, heads, d_ff)
    x = torch.randn(batch, seq, d)
    forward = ex.counted_flops(lambda: stack(x))  # noqa: B023 - called right here, inside this iteration
    step = ex.counted_flops(lambda: stack(x).sum().backward())  # noqa: B023
    skip = 2 * batch * seq * d * 3 * d
    expect(call(training_flops, n_layer, d, heads, d_ff, seq, batch), step,
           name=f"training_flops(n_layer={n_layer}, d_model={d}, n_head={heads}, d_ff={d_ff}, seq={seq}, "
                f"batch={batch}) against FlopCounterMode", mistakes={
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
check(type(result) is float, f"measure_seconds should return a float, got {type(result).__name__}")
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

# %%
device = benchmarking.pick_device("auto")
print("device:", device)
with needs("measure_seconds"):
    results = ex.throughput_sweep(measure_seconds, sizes=(64, 128, 256, 512, 1024), device=str(device))
    for r in results:
        print(f"n = {r['n']:5d}: {r['seconds'] * 1e3:8.3f} ms  ->  {r['flops_per_s'] / 1e9:8.1f} GFLOP/s")
    best = max(r["flops_per_s"] for r in results)
    ex.show(ex.throughput_figure(results, {"best measured": best}))


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

# %%
for chip in (hardware.A100_SXM, hardware.H100_SXM):
    print(f"{chip.name}: {chip.peak('bf16') / 1e12:.0f} TFLOP/s bf16, {chip.memory_bandwidth / 1e12:.2f} TB/s "
          f"-> ridge {chip.peak('bf16') / chip.memory_bandwidth:.0f} FLOP/byte")


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


# %% tests="roofline_point_tests" points=2
from course.checks import call, check
from course.checks.ch01_compute import expect

H100 = (989e12, 3.35e12)  # bf16 peak, memory bandwidth
out = call(roofline_point, (600, 600), (600, 600), 4, *H100)
check(type(out) is dict and sorted(out) == ["attainable", "bound", "intensity"],
      f"roofline_point should return a dict with the keys 'attainable', 'bound', 'intensity', got {out!r}")
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

# %%
glossary.show("01-compute")
