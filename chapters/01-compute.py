# %% [markdown]
# # Compute: units and counting · 算力的统计与单位
#
# Every claim about a model's cost ("GPT-3 took 3,640 PF-days", "this run reached 45% MFU") is a
# count of arithmetic divided by a rate of arithmetic. This chapter makes you fluent in both:
#
# * **FLOP** (浮点运算) is one floating-point add or multiply, a *count*; **FLOP/s** is a *rate*.
#   A model needs FLOPs; a chip delivers FLOP/s; time = FLOPs ÷ (FLOP/s).
# * You will count the FLOPs of a matmul, of attention and of a whole Transformer,
# * time real matmuls on this machine with a harness you write (warm-up, median, GPU
#   synchronisation),
# * and place the result on a **roofline** (屋顶线模型), the picture that says whether an operation is
#   limited by arithmetic or by memory.

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
# exa 10¹⁸. A GPU "with 989 TFLOP/s" can do at most 9.89·10¹⁴ floating-point operations per second.
#
# Training budgets are often quoted in **PF-days** (PF-天): the work a machine sustaining 1 PFLOP/s
# (10¹⁵ FLOP/s) does in one day of 86,400 seconds, i.e. 8.64·10¹⁹ FLOPs. Note the mix: "PF" names a
# rate, "PF-day" a rate times a time, so a *count*.
#
# ### Exercise 1 · 练习 1: `pf_days`
# Convert a FLOP count to PF-days.

# %% answer="pf_days"
def pf_days(flops):
    """How many PF-days a number of floating-point operations is.

    flops: float, a count of FLOPs (e.g. 3.14e23).
    Returns a float: flops / (1e15 FLOP/s * 86,400 s).
    """
    ### BEGIN SOLUTION
    return flops / (1e15 * 24 * 60 * 60)
    ### END SOLUTION


# %% tests="pf_days_tests" points=2
from course.checks import call, close

close(call(pf_days, 8.64e19), 1.0, rtol=1e-9, name="pf_days(8.64e19), exactly one PF-day")
# GPT-3's training compute, about 3.14e23 FLOPs, is the often quoted "3,640 PF-days".
close(call(pf_days, 3.14e23), 3.14e23 / 8.64e19, rtol=1e-9, name="pf_days(3.14e23)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch01_compute as hidden
hidden.check_pf_days(pf_days)
### END HIDDEN TESTS

# %% [markdown]
# ## Part 2 — Counting a matmul · 矩阵乘法的计算量
#
# Multiplying an `(m, k)` matrix by a `(k, n)` matrix produces `m·n` outputs, and each output is a dot
# product of length `k`: `k` multiplications and `k − 1` additions. Counting a multiply-add as **two**
# FLOPs (the convention of every paper and every datasheet) gives **2·m·k·n** FLOPs.
#
# ### Exercise 2 · 练习 2: `matmul_flops`
# Return the count as a Python `int`. Negative sizes make no sense: raise `ValueError`.

# %% answer="matmul_flops"
def matmul_flops(m, k, n):
    """FLOPs of multiplying an (m, k) matrix by a (k, n) matrix.

    m, k, n: non-negative ints.
    Returns an int: 2 * m * k * n (one multiply and one add per term of every dot product).
    Raises ValueError if any size is negative.
    """
    ### BEGIN SOLUTION
    if min(m, k, n) < 0:
        raise ValueError(f"matrix sizes must be non-negative, got m={m}, k={k}, n={n}")
    return 2 * m * k * n
    ### END SOLUTION


# %% tests="matmul_flops_tests" points=2
from course.checks import call, equal, raises

equal(call(matmul_flops, 2, 3, 4), 48, name="matmul_flops(2, 3, 4): 8 outputs, each 3 multiplies and 3 adds")
equal(call(matmul_flops, 1, 1, 1), 2, name="matmul_flops(1, 1, 1)")
raises(ValueError, matmul_flops, 2, -3, 4, name="matmul_flops(2, -3, 4)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch01_compute as hidden
hidden.check_matmul_flops(matmul_flops)
### END HIDDEN TESTS

# %% [markdown]
# PyTorch can count for you: `torch.utils.flop_counter.FlopCounterMode` records every matmul a piece
# of code runs. `ex.counted_flops(fn)` wraps it. Compare its count with yours:

# %%
a, b = torch.randn(64, 32), torch.randn(32, 16)
print("FlopCounterMode counts:", ex.counted_flops(lambda: a @ b))
with needs("matmul_flops"):
    print("matmul_flops says     :", matmul_flops(64, 32, 16))


# %% [markdown]
# ## Part 3 — Counting a Transformer · Transformer 的计算量
#
# In one Transformer layer every token goes through matmuls with the layer's weight matrices: the
# query, key, value and output projections (`d×d` each) and the two feed-forward matrices
# (`d×d_ff` and `d_ff×d`). A token meeting a weight matrix with `P` entries costs `2P` FLOPs
# (Exercise 2 with `m = 1`). Summed over all weights: **about 2·N FLOPs per token in the forward
# pass**, where N is the number of (non-embedding) parameters.
#
# Attention adds work that has no weights: every query is compared with every key, `Q·Kᵀ`, and the
# weights are applied to the values, `weights·V`. For a sequence of `seq` tokens, each is a matmul of
# `seq × d_model` by `d_model × seq` (or `seq × seq` by `seq × d_model`), so each costs
# `2·seq²·d_model` FLOPs per layer. Per token, that is `2·n_layer·seq·d_model` for `Q·Kᵀ` and the same
# again for `weights·V`. (We count the whole `d_model`: the heads split it, they do not shrink it.
# Softmax, LayerNorm and biases add only O(seq·d) and are ignored.)
#
# ### Exercise 3 · 练习 3: `attention_flops`
# Forward FLOPs of the two attention matmuls for **one sequence**, summed over all layers.

# %% answer="attention_flops"
def attention_flops(seq, d_model, n_layer=1):
    """Forward FLOPs of Q·Kᵀ and weights·V for one sequence, over all layers.

    seq: int, tokens in the sequence; d_model: int, model width (all heads together);
    n_layer: int, number of layers.
    Returns an int: n_layer * (2·seq·d_model·seq + 2·seq·seq·d_model).
    """
    ### BEGIN SOLUTION
    scores = matmul_flops(seq, d_model, seq)  # (seq, d_model) @ (d_model, seq)
    mix = matmul_flops(seq, seq, d_model)  # (seq, seq) @ (seq, d_model)
    return n_layer * (scores + mix)
    ### END SOLUTION


# %% tests="attention_flops_tests" points=2
from course.checks import call, equal

equal(call(attention_flops, 2, 3, 1), 48, name="attention_flops(seq=2, d_model=3): 24 for Q·Kᵀ plus 24 for weights·V")
equal(call(attention_flops, 2, 3, 4), 4 * 48, name="attention_flops(seq=2, d_model=3, n_layer=4)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch01_compute as hidden
hidden.check_attention_flops(attention_flops)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4 · 练习 4: `layer_params`
# The N in "2N" has to be counted. One encoder layer, as in `torch.nn.TransformerEncoderLayer`, holds:
#
# * attention: four `d×d` projections (Q, K, V, output), each with a bias of `d`: `4d² + 4d`;
# * feed-forward: `d×d_ff` with a bias of `d_ff`, then `d_ff×d` with a bias of `d`;
# * two LayerNorms, each with a scale and a shift of `d` (chapter 03).
#
# Count them all (the test compares with PyTorch's own layer).

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
from course.checks import call, equal

layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=32, batch_first=True)
equal(call(layer_params, 8, 32), sum(p.numel() for p in layer.parameters()),
      name="layer_params(8, 32) against nn.TransformerEncoderLayer(8, 2, 32)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch01_compute as hidden
hidden.check_layer_params(layer_params)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5 · 练习 5: FLOPs per token, forward and training
# Put it together. Per token, the forward pass costs
#
# $$C_\text{forward} = 2N + 4 \cdot n_\text{layer} \cdot \text{seq} \cdot d_\text{model}.$$
#
# Training adds the backward pass, which costs about **twice** the forward (for every matmul
# `Y = X·W` it computes both `∂L/∂X` and `∂L/∂W`, each a matmul of the same size). So training costs
# `3 × C_forward` per token, the famous **≈ 6N** when the attention term is small.

# %% answer="forward_flops_per_token"
def forward_flops_per_token(n_params, n_layer, seq, d_model):
    """Forward FLOPs per token of a Transformer.

    n_params: int, N, the non-embedding parameters; n_layer: int; seq: int, context length;
    d_model: int.
    Returns a number: 2·N + 4·n_layer·seq·d_model.
    """
    ### BEGIN SOLUTION
    return 2 * n_params + 4 * n_layer * seq * d_model
    ### END SOLUTION


def training_flops_per_token(n_params, n_layer, seq, d_model):
    """Training FLOPs per token (forward + backward): three times the forward cost."""
    ### BEGIN SOLUTION
    return 3 * forward_flops_per_token(n_params, n_layer, seq, d_model)
    ### END SOLUTION


# %% tests="flops_per_token_tests" points=2
from course.checks import call, close

close(call(forward_flops_per_token, 1000, 2, 10, 4), 2 * 1000 + 4 * 2 * 10 * 4,
      name="forward_flops_per_token(N=1000, n_layer=2, seq=10, d_model=4)")
close(call(training_flops_per_token, 1000, 2, 10, 4), 3 * (2 * 1000 + 4 * 2 * 10 * 4),
      name="training_flops_per_token(N=1000, n_layer=2, seq=10, d_model=4)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch01_compute as hidden
hidden.check_flops_per_token(forward_flops_per_token, training_flops_per_token)
### END HIDDEN TESTS

# %% [markdown]
# Which part dominates? For a GPT-2-small-sized stack (d_model = 768, 12 layers, d_ff = 3072) the
# figure plots both parts against the context length. The attention part grows linearly with `seq`
# per token; it equals the 2N part where `4·n_layer·seq·d = 2N`. With N ≈ 12·n_layer·d² (from
# Exercise 4 with d_ff = 4d) that is at **seq ≈ 6·d_model**.

# %%
with needs("forward_flops_per_token", "layer_params"):
    fig, split = ex.flops_split_figure(forward_flops_per_token, layer_params)
    ex.show(fig)
    print(f"N = {split['n_params']:,} non-embedding parameters; the two parts are equal at seq = "
          f"{split['crossover_seq']:,.0f} (6 · d_model = {6 * 768:,})")

# %% [markdown]
# Reading the figure: below a few thousand tokens the weights dominate and "6N per token" is a good
# budget; the printed crossover is close to 6·d_model (a little above, because the biases and
# LayerNorms make N slightly more than 12·n_layer·d²). For long contexts the attention part takes
# over, which is why long-context training is more expensive per token than the 6N rule says.
#
# PyTorch's counter agrees on the training side too. A forward plus backward pass of a small stack
# of linear layers, counted by `FlopCounterMode`, against `3 × 2N` per token:

# %%
stack = torch.nn.Sequential(*[torch.nn.Linear(64, 64, bias=False) for _ in range(4)])
tokens = torch.randn(32, 64)
n_weights = sum(p.numel() for p in stack.parameters())
counted = ex.counted_flops(lambda: stack(tokens).sum().backward())
print(f"counted: {counted:,} FLOPs; 3 x 2N x tokens = {3 * 2 * n_weights * 32:,}")

# %% [markdown]
# The two numbers are close but not equal: the first layer's input does not need a gradient, so its
# `∂L/∂X` matmul is skipped. "3 × forward" is an upper estimate, accurate for deep models.
#
# ## Part 4 — Measuring FLOP/s · 测量算力
#
# To know what a machine *achieves* we time a known amount of work. Three traps:
#
# 1. **Warm-up** (预热). The first calls pay for one-off costs: memory allocation, library
#    initialisation, kernel selection, cold caches. Run a few untimed calls first.
# 2. **Noise.** Other processes interrupt; a single time is unreliable. Repeat and take the
#    **median**, which ignores a few slow outliers (the mean does not).
# 3. **Asynchrony.** On a GPU, `a @ b` only *queues* the work and returns at once. Reading the clock
#    right after measures the queueing, not the matmul. Call `torch.cuda.synchronize()` before
#    starting the clock (so earlier work is done) and again before stopping it (so this work is done).
#
# ### Exercise 6 · 练习 6: `measure_seconds`
# Write the harness. `sync` is a function to call before each clock reading (`None` on a CPU);
# `clock` is the clock to read (the tests pass a fake one). Use `statistics.median`.

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
from course.checks import call, close, equal, raises

# A fake clock: each call of `work` advances it by the next duration in the list.
durations = iter([100.0, 100.0, 3.0, 1.0, 2.0, 50.0, 2.5])   # 2 slow warm-up calls, then 5 timed ones
now = [0.0]
calls = []
def work():
    calls.append(1)
    now[0] += next(durations)
result = call(measure_seconds, work, warmup=2, repeats=5, clock=lambda: now[0])
equal(len(calls), 7, name="number of calls of fn (2 warm-up + 5 timed)")
close(result, 2.5, name="median of the timed calls [3, 1, 2, 50, 2.5] (warm-up not timed; median, not mean)")
raises(ValueError, measure_seconds, work, repeats=0, name="measure_seconds(repeats=0)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch01_compute as hidden
hidden.check_measure_seconds(measure_seconds)
### END HIDDEN TESTS

# %% [markdown]
# Now time real matmuls on this machine with your harness. `benchmarking.matmul_throughput` builds
# two random `n×n` matrices on the chosen device and passes `sync=torch.cuda.synchronize` when that
# device is a GPU. On this course's laptops and CI it runs on the CPU.

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
# large share of that; mid-sized ones keep the cores' vector units busy. The largest size may fall
# back a little: its matrices no longer fit in the processor's caches, and on a shared machine other
# work interrupts long calls. The printed numbers are *this* machine today; a laptop, a CI runner
# and a GPU differ by orders of magnitude.
#
# ## Part 5 — Model FLOPs utilisation · 模型算力利用率 (MFU)
#
# MFU is the fraction of the hardware's peak that goes into the model's *useful* FLOPs:
#
# $$\text{MFU} = \frac{\text{model FLOPs per step} / \text{seconds per step}}{\text{peak FLOP/s}}.$$
#
# "Model FLOPs" come from the formula (6N-style), not from what the hardware executed, so
# recomputation or wasted padding do not count as useful. Well-tuned large training runs reach
# roughly 40–60% on modern GPUs.
#
# ### Exercise 7 · 练习 7: `mfu`

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


# %% tests="mfu_tests" points=2
from course.checks import call, close, raises

# 6e14 FLOPs in 2 s on a 1e15 FLOP/s chip: 3e14 FLOP/s achieved, 30% of the peak.
close(call(mfu, 6e14, 2.0, 1e15), 0.3, name="mfu(6e14 FLOPs, 2 s, peak 1e15)")
raises(ValueError, mfu, 1e12, 1.0, 0.0, name="mfu with a peak of 0")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch01_compute as hidden
hidden.check_mfu(mfu)
### END HIDDEN TESTS

# %% [markdown]
# A training step of a small encoder stack (2 layers, d_model = 128, 8 sequences of 64 tokens),
# timed with your harness and counted with your formula. Its MFU is measured against the best matmul
# throughput you measured above: a *practical* ceiling of this machine, not a datasheet peak (a CPU's
# real peak depends on its clock and vector units, which we do not know here). Against an H100's
# 989 TFLOP/s (bf16), the same step time would be a vanishingly small MFU: a model this small cannot
# keep a big GPU busy.

# %%
with needs("measure_seconds", "training_flops_per_token", "layer_params", "mfu"):
    step = ex.training_step(measure_seconds, training_flops_per_token, layer_params, device=str(device))
    print(f"{step['tokens']} tokens per step, {step['flops'] / 1e9:.2f} GFLOPs per step (formula), "
          f"{step['seconds'] * 1e3:.1f} ms per step -> {step['flops_per_s'] / 1e9:.1f} GFLOP/s")
    print(f"MFU against the best measured matmul ({best / 1e9:.1f} GFLOP/s): {mfu(step['flops'], step['seconds'], best):.1%}")
    print(f"MFU if an H100 (bf16) took as long: {mfu(step['flops'], step['seconds'], hardware.H100_SXM.peak('bf16')):.2e}")


# %% [markdown]
# ## Part 6 — Arithmetic intensity and the roofline · 算术强度与屋顶线
#
# A chip can only compute on numbers that have arrived from memory. **Arithmetic intensity** (算术强度)
# is FLOPs per byte moved. The **roofline model** says the attainable rate is
#
# $$\min(\text{peak FLOP/s},\; \text{intensity} \times \text{memory bandwidth}).$$
#
# Left of the **ridge point** (peak ÷ bandwidth) an operation is *memory-bound*: faster arithmetic would
# not help. Right of it, *compute-bound*. An H100 SXM has 989 TFLOP/s (bf16) and 3.35 TB/s, a ridge
# near 295 FLOP/byte: an operation must do ~300 FLOPs per byte it touches to use the chip fully.
#
# ### Exercise 8 · 练习 8: `matmul_intensity`
# For an `(m, k)·(k, n)` matmul, assume each of A, B and C crosses the memory bus exactly once
# (read A and B, write C), `bytes_per_element` bytes per number (4 for fp32, 2 for bf16).

# %% answer="matmul_intensity"
def matmul_intensity(m, k, n, bytes_per_element=4):
    """Arithmetic intensity (FLOPs per byte) of an (m, k) @ (k, n) matmul.

    m, k, n: positive ints; bytes_per_element: int, e.g. 4 (fp32) or 2 (bf16).
    Returns a float: 2·m·k·n / (bytes_per_element · (m·k + k·n + m·n)).
    """
    ### BEGIN SOLUTION
    moved = bytes_per_element * (m * k + k * n + m * n)  # read A and B, write C
    return matmul_flops(m, k, n) / moved
    ### END SOLUTION


# %% tests="matmul_intensity_tests" points=2
from course.checks import call, close

# n x n by n x n in fp32: 2n^3 FLOPs over 12 n^2 bytes = n / 6.
close(call(matmul_intensity, 600, 600, 600, 4), 100.0, name="matmul_intensity(600, 600, 600, fp32)")
close(call(matmul_intensity, 600, 600, 600, 2), 200.0, name="matmul_intensity(600, 600, 600, bf16)")
# a matrix-vector product (n = 1) is memory-bound: about 0.5 FLOP per byte in fp32
close(call(matmul_intensity, 1000, 1000, 1, 4), 2e6 / (4 * (1e6 + 1000 + 1000)), name="matmul_intensity(1000, 1000, 1)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch01_compute as hidden
hidden.check_matmul_intensity(matmul_intensity)
### END HIDDEN TESTS

# %% [markdown]
# Now measure this machine's memory bandwidth (a large copy: each byte read once and written once)
# and draw its roofline with the matmuls you timed. Then explore: switch to the A100 or H100, change
# the operation and its size, and watch the point cross the ridge.

# %%
with needs("measure_seconds", "matmul_intensity"):
    bandwidth = benchmarking.copy_bandwidth(measure=measure_seconds, device=str(device))
    points = [(matmul_intensity(r["n"], r["n"], r["n"], 4), r["flops_per_s"], f"n={r['n']}") for r in results]
    print(f"copy bandwidth: {bandwidth / 1e9:.1f} GB/s; best matmul: {best / 1e9:.1f} GFLOP/s; "
          f"ridge of this machine: {best / bandwidth:.1f} FLOP/byte")
    measured = {"peak": best, "bandwidth": bandwidth, "points": points}
widget = roofline(measured if "measured" in globals() else None)
widget

# %% [markdown]
# Things to try in the widget:
#
# * On an H100 in bf16, how large must a square matmul be to reach the ridge? (Solve n/3 ≈ 295.)
# * An elementwise add has an intensity of 1/12 FLOP/byte in fp32 whatever its size: it is always
#   memory-bound. This is why LayerNorm, softmax and dropout take a visible share of a Transformer's
#   time although they do almost no FLOPs, and why fused kernels (FlashAttention) that avoid writing
#   intermediate results to memory pay off.
# * On this machine, do the measured crosses sit under the roof? The small matmuls sit far below it:
#   overheads, not the roof, limit them.
#
# ## Summary · 小结
#
# * FLOPs count work, FLOP/s measure a rate; prefixes are powers of ten; a PF-day is 8.64·10¹⁹ FLOPs.
# * A matmul costs 2·m·k·n. A Transformer's forward pass costs ≈ 2N per token plus
#   4·n_layer·seq·d_model for attention; training ≈ 3× that, the 6N rule.
# * Time with warm-up, a median of repeats and, on a GPU, `synchronize` before every clock reading.
# * MFU = useful model FLOP/s ÷ peak FLOP/s.
# * The roofline: attainable FLOP/s = min(peak, intensity × bandwidth); below the ridge, memory is the
#   limit.
#
# **Next:** tensors, and the reductions and memory layouts that these FLOPs run on.

# %%
glossary.show("01-compute")
