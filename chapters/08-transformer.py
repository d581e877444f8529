# %% [markdown]
# # The Transformer, trained · 组装并训练
#
# Every part of the model now exists: attention (chapter 05), positions (06), LayerNorm and residual
# blocks (03, 04), encoder and decoder layers (07). In this chapter you put them together into one
# encoder–decoder Transformer, teach it to **read Arabic numerals aloud in Chinese**
# (`1204 → 一千二百零四`), and look inside the trained model.
#
# You will write four pieces:
#
# 1. the input embedding, scaled by √d_model, plus positions;
# 2. the model itself: embeddings → encoder → decoder → output projection, with the source mask and
#    (optionally) tied output weights;
# 3. greedy decoding, which turns a trained model into a translator;
# 4. the training loss: cross-entropy with label smoothing, ignoring padding.
#
# Then the course's training loop trains *your* model (on a laptop CPU in a few minutes), you score it
# on numbers it has never seen, and the attention-map widget of chapter 05 shows which digit each
# Chinese character was read from.

# %% [markdown]
# Run the set-up cell first.

# %%
import math

import torch
import torch.nn.functional as F
from IPython.display import display
from torch import nn

from course import glossary, training
from course.blocks import Decoder, Encoder, RotaryEmbedding, SinusoidalPositions, padding_mask
from course.evaluation import evaluate
from course.experiments import ch08_transformer as ex
from course.notebook import needs, setup, training_budget
from course.numerals import to_chinese, to_english
from course.tasks import Task
from course.tokenizer import BOS, EOS, PAD
from course.widgets.ch05_attention import attention_map
from course.widgets.ch08_transformer import LiveLossPlot

setup()

# %% [markdown]
# ## Part 1 — The task and the data · 任务与数据
#
# The source is a string of 1 to 8 digits; the target is how the number is read in Chinese. The
# course's converter follows one rule, stated here so that the model has a single right answer:
#
# * **二, never 两**: 2 → 二, 20000 → 二万, 200 → 二百 (spoken Chinese often says 两万 / 两百; a
#   model can only learn a rule the data follow consistently);
# * a leading 一十 drops its 一 (10 → 十, 12 → 十二, 100000 → 十万), but not inside a number
#   (110 → 一百一十);
# * a run of zeros inside a number is read as one 零 (1204 → 一千二百零四, 10010 → 一万零一十),
#   trailing zeros are silent (1200 → 一千二百).
#
# The same digits also go to English words (task `"en"`), and two warm-up tasks copy or reverse the
# digit string.

# %%
for n in [7, 10, 12, 110, 1204, 20000, 10010, 30000100, 99999999]:
    print(f"{n:>9} → {to_chinese(n):<16} {to_english(n)}")

# %% [markdown]
# Everything is generated on the fly, so nothing is downloaded. A **character tokenizer** (字符级分词)
# gives every character an id; four ids are special: `<pad>` = 0 fills short rows of a batch, `<bos>` =
# 1 starts every target, `<eos>` = 2 ends it, `<unk>` = 3 stands for characters outside the alphabet.
#
# A batch holds the source ids padded to the longest source, the lengths, and the target twice:
# `tgt_in` = `<bos>` + target (what the decoder reads) and `tgt_out` = target + `<eos>` (what it must
# predict at each position). This shift by one is **teacher forcing** (教师强制): during training the
# decoder always reads the true previous characters.

# %%
task = Task("zh")
batch = task.make_batch(["1204", "20000", "7"])
print("source alphabet:", task.source_tokenizer.alphabet, " target alphabet:", task.target_tokenizer.alphabet)
print("src        ", batch.src.tolist(), " lengths", batch.src_lengths.tolist())
print("tgt_in     ", batch.tgt_in.tolist())
print("tgt_out    ", batch.tgt_out.tolist())
print("decoded    ", [task.target_tokenizer.decode(row) for row in batch.tgt_out.tolist()])

# %% [markdown]
# **Held-out data, honestly.** The test set must contain numbers training never sees, or the score
# measures memory, not reading. But a test set drawn like the training data would swallow most of the
# 110 one- and two-digit strings, and a model that never saw "7" cannot read it. So the test set is a
# fixed set of 4- to 8-digit numbers (a tiny share of their 10⁸ possibilities) that the training sampler
# refuses to produce, and short numbers 0–99 are checked separately as the "short" split.

# %%
test = task.split("test")
print(len(test), "held-out numbers, e.g.", test[:5])
print("digit counts in the test set:", sorted({len(s) for s in test}))
train_sample = task.sample(20000, torch.Generator().manual_seed(1))
print("overlap of 20000 training draws with the test set:", len(set(train_sample) & set(test)))


# %% [markdown]
# ## Part 2 — Embeddings × √d_model · 嵌入与缩放
#
# An embedding table maps each id to a vector of size d_model. The course initialises it with standard
# deviation $1/\sqrt{d_\text{model}}$ (so the output projection starts small when it shares those
# weights), which makes each embedding vector have length about 1. The sinusoidal position vectors
# have entries of size about 1 and length $\sqrt{d_\text{model}/2}$. Multiplying the embedding by
# $\sqrt{d_\text{model}}$ puts the two on the same scale, so that neither the token nor its position
# drowns the other:
#
# $$x_p = \sqrt{d_\text{model}}\;E[\text{id}_p] + PE(p).$$
#
# With RoPE (chapter 06) nothing is added here: the positions enter inside attention instead, by
# rotating queries and keys.
#
# ### Exercise 1 · 练习 1: `embed`

# %% answer="embed"
def embed(ids, embedding, positions=None):
    """Token embeddings scaled by sqrt(d_model), plus positions.

    ids: (batch, seq) LongTensor; embedding: nn.Embedding(vocab, d_model);
    positions: None (RoPE: no additive positions) or a (max_len, d_model) table, max_len >= seq,
    whose first seq rows are added.
    Returns (batch, seq, d_model).
    """
    ### BEGIN SOLUTION
    x = embedding(ids) * math.sqrt(embedding.embedding_dim)  # (batch, seq, d_model)
    if positions is not None:
        x = x + positions[: ids.shape[1]]  # (seq, d_model) broadcasts over the batch
    return x
    ### END SOLUTION


# %% tests="embed_tests" points=2
import math
import torch
from torch import nn
from course.checks import call, close, equal

emb = nn.Embedding(5, 4)
with torch.no_grad():
    emb.weight.copy_(torch.arange(20.0).view(5, 4) / 10)
table = torch.ones(6, 4)
x = call(embed, torch.tensor([[1, 2, 3]]), emb, table)
equal(tuple(x.shape), (1, 3, 4), name="shape of embed(ids (1, 3), d_model 4)")
close(x[0, 0], emb.weight[1] * 2 + 1, name="position 0 of token 1: E[1]·√4 + PE(0)")
close(call(embed, torch.tensor([[4]]), emb, None), (emb.weight[4] * 2)[None, None],
      name="with positions=None only the scaled embedding")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch08_transformer as hidden
hidden.check_embed(embed)
### END HIDDEN TESTS

# %% [markdown]
# ## Part 3 — Assembling the model · 组装模型
#
# The whole model, from ids to logits:
#
# ```
# src ids ─ embed ─ encoder (source padding mask) ─────────────┐ memory
# tgt ids ─ embed ─ decoder (causal self-attention; cross-attention to memory, source padding mask)
#                     └─ output projection → logits (batch, tgt_len, tgt_vocab)
# ```
#
# The course gives you its own `Encoder` and `Decoder` stacks (chapter 07's design; the decoder builds
# its causal mask itself) and `padding_mask(lengths, max_len)` → `(batch, 1, 1, max_len)`, True at real
# tokens. Their call signatures:
#
# * `self.encoder(x, mask, rope)` with `x` (batch, src_len, d_model) → (batch, src_len, d_model);
# * `self.decoder(y, memory, memory_mask, rope)` → (batch, tgt_len, d_model);
# * `rope` is `self.rope`: `None` for sinusoidal positions, a `RotaryEmbedding` that the attention
#   layers apply to queries and keys otherwise.
#
# **Tied output weights** (权重共享): the output projection maps a vector to one score per target
# token, $W_\text{out} h$ with $W_\text{out}$ of shape (tgt_vocab, d_model): the same shape as the
# target embedding table. Sharing one matrix for both saves tgt_vocab × d_model parameters and ties
# "which vector means 万" on the way in and out. In PyTorch, tying is assigning the *same*
# `nn.Parameter` to both modules.
#
# ### Exercise 2 · 练习 2: `Transformer`
# `__init__` is written for you except the tying; keep its attribute names (the tests load the course's
# reference weights into your model by name). Write the tying, `encode`, `decode` and `forward`. Apply
# `self.embed_dropout` to both embedded inputs.

# %% answer="Transformer"
class Transformer(nn.Module):
    """Encoder–decoder Transformer over token ids.

    forward(src, src_lengths, tgt_in):
        src (batch, src_len) ids, right-padded with PAD; src_lengths (batch,) real lengths;
        tgt_in (batch, tgt_len) ids starting with BOS.
        Returns logits (batch, tgt_len, tgt_vocab).
    encode(src, src_lengths) -> (memory (batch, src_len, d_model), src_mask (batch, 1, 1, src_len) bool)
    decode(tgt_in, memory, src_mask) -> logits (batch, tgt_len, tgt_vocab)
    """

    def __init__(self, src_vocab, tgt_vocab, d_model=128, n_heads=4, n_encoder_layers=2, n_decoder_layers=2,
                 d_ff=512, dropout=0.1, norm_first=True, position="sinusoidal", tie_output=False):
        super().__init__()
        if position not in ("sinusoidal", "rope"):
            raise ValueError(f"position must be 'sinusoidal' or 'rope', got {position!r}")
        self.d_model = d_model
        self.src_embed = nn.Embedding(src_vocab, d_model)
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model)
        for table in (self.src_embed, self.tgt_embed):
            nn.init.normal_(table.weight, std=d_model ** -0.5)
        # sinusoidal: a (256, d_model) table added to the embeddings; RoPE: rotations inside attention
        pe = SinusoidalPositions.build(256, d_model) if position == "sinusoidal" else None
        self.register_buffer("pe", pe, persistent=False)
        self.rope = RotaryEmbedding(d_model // n_heads) if position == "rope" else None
        self.embed_dropout = nn.Dropout(dropout)
        self.encoder = Encoder(n_encoder_layers, d_model, n_heads, d_ff, dropout, norm_first)
        self.decoder = Decoder(n_decoder_layers, d_model, n_heads, d_ff, dropout, norm_first)
        self.output = nn.Linear(d_model, tgt_vocab)
        ### BEGIN SOLUTION
        if tie_output:
            self.output.weight = self.tgt_embed.weight  # one Parameter, used twice
        ### END SOLUTION

    def encode(self, src, src_lengths):
        ### BEGIN SOLUTION
        src_mask = padding_mask(src_lengths.to(src.device), src.shape[1])  # (batch, 1, 1, src_len)
        x = self.embed_dropout(embed(src, self.src_embed, self.pe))  # (batch, src_len, d_model)
        return self.encoder(x, src_mask, self.rope), src_mask
        ### END SOLUTION

    def decode(self, tgt_in, memory, src_mask):
        ### BEGIN SOLUTION
        y = self.embed_dropout(embed(tgt_in, self.tgt_embed, self.pe))  # (batch, tgt_len, d_model)
        return self.output(self.decoder(y, memory, src_mask, self.rope))  # (batch, tgt_len, tgt_vocab)
        ### END SOLUTION

    def forward(self, src, src_lengths, tgt_in):
        ### BEGIN SOLUTION
        memory, src_mask = self.encode(src, src_lengths)
        return self.decode(tgt_in, memory, src_mask)
        ### END SOLUTION

    def greedy_decode(self, src, src_lengths, max_len):
        """Given: your greedy_decode from exercise 3, as a method (the course's evaluation calls it)."""
        return greedy_decode(self, src, src_lengths, max_len)


# %% tests="Transformer_tests" points=4
import torch
from course.blocks import Seq2SeqTransformer
from course.checks import check, close, equal
from course.checks import ch08_transformer as ref

config = dict(d_model=16, n_heads=2, n_encoder_layers=1, n_decoder_layers=1, d_ff=32, position="sinusoidal")
reference, model = ref.paired_models(Transformer, dict(config, norm_first=True, tie_output=False), 12, 14, seed=0)
src = torch.tensor([[5, 6, 7], [8, 9, 0]])  # the second source has one padding token
lengths = torch.tensor([3, 2])
tgt = torch.tensor([[1, 4, 5, 6], [1, 7, 8, 0]])
with torch.no_grad():
    logits = ref.call(model, src, lengths, tgt)
    equal(tuple(logits.shape), (2, 4, 14), name="logits shape (batch 2, tgt_len 4, tgt_vocab 14)")
    close(logits, reference(src, lengths, tgt), atol=1e-4,
          name="logits vs the course's reference model (same weights; it hides the source padding from attention)")
tied = ref.call(Transformer, 12, 14, tie_output=True, **config)
check(tied.output.weight is tied.tgt_embed.weight, "tie_output=True: output.weight is tgt_embed.weight")
equal(sum(p.numel() for p in tied.parameters()), sum(p.numel() for p in model.parameters()) - 14 * 16,
      name="parameters with tied output weights (tgt_vocab × d_model fewer)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch08_transformer as hidden
hidden.check_transformer(Transformer)
### END HIDDEN TESTS

# %% [markdown]
# The model on a real batch, untrained: the shapes line up, and every position's output is a nearly
# uniform guess over the target alphabet (cross-entropy close to $\ln V$).

# %%
with needs("Transformer", "embed"):
    torch.manual_seed(0)
    model = Transformer(len(task.source_tokenizer), len(task.target_tokenizer))
    logits = model(batch.src, batch.src_lengths, batch.tgt_in)
    loss0 = F.cross_entropy(logits.flatten(0, 1), batch.tgt_out.flatten(), ignore_index=PAD)
    print("logits", tuple(logits.shape), f"  parameters {sum(p.numel() for p in model.parameters()):,}")
    print(f"loss at initialisation {loss0.item():.3f}  vs  ln(vocab) = {math.log(len(task.target_tokenizer)):.3f}")


# %% [markdown]
# ## Part 4 — Greedy decoding · 贪心解码
#
# At test time there is no target to read. The decoder writes one character at a time: start with
# `<bos>`, run the decoder on everything written so far, take the **most likely** next token
# (argmax of the last position's logits), append it, repeat. Encode the source only once: the memory
# does not change while decoding.
#
# A batch decodes together: a row that has produced `<eos>` is finished, and from then on it gets
# `<pad>` while the others carry on; stop when every row is finished or after `max_len` steps.
#
# (Greedy is not always the best sequence: beam search keeps the k best prefixes instead of one. For
# this task, where each character is nearly certain once the model is trained, greedy is enough.)
#
# ### Exercise 3 · 练习 3: `greedy_decode`

# %% answer="greedy_decode"
@torch.no_grad()
def greedy_decode(model, src, src_lengths, max_len):
    """Greedy decoding with a model that has encode() and decode() like Transformer above.

    src (batch, src_len), src_lengths (batch,), max_len: int, the most tokens to produce.
    Returns a LongTensor (batch, n) with n <= max_len: the produced tokens WITHOUT the leading BOS;
    each row ends at its first EOS (included) and is PAD after it. Stops early once every row
    has produced EOS.
    """
    ### BEGIN SOLUTION
    memory, src_mask = model.encode(src, src_lengths)
    tokens = torch.full((src.shape[0], 1), BOS, dtype=torch.long, device=src.device)  # (batch, 1)
    finished = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
    for _ in range(max_len):
        logits = model.decode(tokens, memory, src_mask)  # (batch, t, vocab)
        nxt = logits[:, -1].argmax(dim=-1)  # (batch,)
        nxt = torch.where(finished, torch.full_like(nxt, PAD), nxt)
        tokens = torch.cat([tokens, nxt[:, None]], dim=1)
        finished = finished | (nxt == EOS)
        if finished.all():
            break
    return tokens[:, 1:]
    ### END SOLUTION


# %% tests="greedy_decode_tests" points=3
import torch
from course.checks import check
from course.checks import ch08_transformer as ref
from course.tokenizer import EOS, PAD

# a scripted model: row 0 says 5, 6, <eos>; row 1 says 7, 8, 9, 9, ... and never stops
model = ref.ScriptedModel(torch.tensor([[5, 6, EOS, 9], [7, 8, 9, 9]]), vocab=10)
out = ref.call(greedy_decode, model, ref.scripted_sources(2, 3), torch.tensor([3, 1]), 4)
want = torch.tensor([[5, 6, EOS, PAD], [7, 8, 9, 9]])
check(isinstance(out, torch.Tensor) and torch.equal(out, want),
      f"scripted model, max_len 4: expected (no <bos>; <pad> after <eos>)\n{want}\ngot\n{out}")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch08_transformer as hidden
hidden.check_greedy(greedy_decode)
### END HIDDEN TESTS

# %% [markdown]
# ## Part 5 — The loss, with label smoothing · 标签平滑
#
# Training minimises the cross-entropy between the model's distribution $p$ and a target distribution
# $q$ at every non-padding position. Plain cross-entropy uses a one-hot $q$. **Label smoothing** moves
# a fraction ε of the target's probability to a uniform distribution over all V classes:
#
# $$q = (1-\varepsilon)\,\text{onehot}(y) + \frac{\varepsilon}{V}, \qquad
# \ell = -\sum_c q_c \log p_c = (1-\varepsilon)\,(-\log p_y) + \varepsilon \cdot \frac{1}{V}\sum_c (-\log p_c).$$
#
# The model is then never pushed towards infinite confidence (the paper used ε = 0.1). The loss is the
# mean over real target positions: padding positions (`targets == PAD`) count neither in the sum nor
# in the count.
#
# ### Exercise 4 · 练习 4: `smoothed_cross_entropy`
# Write it from `torch.log_softmax` (the test compares with `F.cross_entropy(..., label_smoothing=ε,
# ignore_index=PAD)`, which is switched off while your function runs).

# %% answer="smoothed_cross_entropy"
def smoothed_cross_entropy(logits, targets, smoothing):
    """Mean label-smoothed cross-entropy over non-padding targets.

    logits (batch, seq, vocab) floats; targets (batch, seq) ids, PAD where there is no target;
    smoothing: float in [0, 1). Returns a 0-d tensor.
    """
    ### BEGIN SOLUTION
    logp = torch.log_softmax(logits, dim=-1)  # (batch, seq, vocab)
    nll = -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (batch, seq): -log p_y
    uniform = -logp.mean(dim=-1)  # (batch, seq): (1/V) Σ_c -log p_c
    loss = (1 - smoothing) * nll + smoothing * uniform
    return loss[targets != PAD].mean()
    ### END SOLUTION


# %% tests="smoothed_cross_entropy_tests" points=3
import math
import torch
from course.checks import close
from course.checks import ch08_transformer as ref
from course.tokenizer import PAD

# two classes, logits (0, 0): p = (1/2, 1/2), so every loss is ln 2, smoothed or not
logits = torch.zeros(1, 2, 2)
with ref.no_builtin_cross_entropy():
    close(ref.call(smoothed_cross_entropy, logits, torch.tensor([[1, 1]]), 0.1), math.log(2),
          name="uniform prediction: the loss is ln 2")
    # hand-worked: logits (0, ln 6, ln 3) -> p = (0.1, 0.6, 0.3); target 1, eps 0.2:
    # 0.8·(-ln 0.6) + 0.2·(-ln 0.1 - ln 0.6 - ln 0.3)/3; the second position is padding
    logits = torch.tensor([[[0.0, math.log(6), math.log(3)], [5.0, -5.0, 0.0]]])
    want = -0.8 * math.log(0.6) - 0.2 * (math.log(0.1) + math.log(0.6) + math.log(0.3)) / 3
    close(ref.call(smoothed_cross_entropy, logits, torch.tensor([[1, PAD]]), 0.2), want,
          name="hand-worked case with one padding position (which must not count)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch08_transformer as hidden
hidden.check_smoothed_loss(smoothed_cross_entropy)
### END HIDDEN TESTS

# %% [markdown]
# ## Part 6 — Training · 训练
#
# The course's training loop (`course/training.py`) does what the original paper did, scaled down:
#
# * **AdamW** (β = (0.9, 0.98)) with a **warm-up then decay** learning-rate schedule: the rate rises
#   linearly for the first steps (chapter 03: a Post-LN model diverges without it; a Pre-LN model
#   trains faster with it) and then decays to zero;
# * **label smoothing** (your loss, in PyTorch's fused form; the CPU preset leaves it at 0, since
#   this task has exactly one right answer, but `label_smoothing=0.1` is one argument away) and
#   **gradient clipping** (the global gradient norm is capped, so one bad batch cannot throw the
#   weights far);
# * fresh random batches every step (the data never repeat), a **tqdm** progress bar, a periodic
#   evaluation on the held-out set, a **checkpoint** (the whole training state: weights, optimizer,
#   schedule, step, random-number state) that lets a stopped run resume exactly where it was;
# * on a GPU: **bf16 autocast** and PyTorch's fused attention kernel.
#
# The configuration below is the course's CPU preset. It is seeded, so a rerun gives the same curve.

# %%
config = training.preset("cpu")
print(config)
ex.show(ex.schedule_figure(config))

# %% [markdown]
# Now train **your** `Transformer`: `train` builds it with the preset's sizes, and calls the live plot
# (which appears once training starts) after every few steps. On two laptop cores this takes a few minutes; on a GPU seconds.
# (When the notebook is autograded, `training_budget` cuts the run to a few dozen steps: grades never
# depend on the training, and the grader should not spend minutes per student on it.)

# %%
config = training_budget(training.preset("cpu", eval_interval=250, eval_size=300, target_exact=0.99,
                                         checkpoint="checkpoints/08-zh.pt"))
plot = LiveLossPlot(title="numerals → Chinese")
result = None
with needs("Transformer", "embed", "greedy_decode"):
    result = training.train(config, callbacks=[plot], model_class=Transformer)
    print(f"{result.steps} steps in {result.train_seconds:.0f} s of training "
          f"(+{result.eval_seconds:.0f} s of evaluation), stopped by: {result.stopped_by}")

# %% [markdown]
# The checkpoint makes training resumable: run the same configuration with `resume=True` and it
# continues from the saved step (with the same data and dropout stream it would have had), so an
# interrupted run loses nothing. The command line has the same switch (`--resume`).
#
# ## Part 7 — How good is it? · 评估
#
# Three scores on the held-out numbers:
#
# * **token accuracy** (逐词准确率): with teacher forcing, how often the most likely next character
#   is right;
# * **exact match** (完全匹配): the greedy output equals the whole target, character for character.
#   This is what a user of the translator sees;
# * **BLEU** (corpus-level, from the `sacrebleu` package; Chinese text is split per character): the
#   machine-translation score, 0–100, which gives partial credit for overlapping n-grams.
#
# Token accuracy is always the most flattering: one wrong character early in greedy decoding derails
# the rest, which teacher forcing hides.

# %%
if result is not None:
    scores = result.metrics  # train() ends by scoring both splits with evaluate(model, task, split)
    for r in scores.values():
        print(r.summary())
else:
    print("(Train the model above first.)")

# %% [markdown]
# **Error analysis** (错误分析): the wrong outputs themselves teach more than the percentage. Look
# for patterns: are the errors long numbers? Zeros in the middle (the 零 rule)? The 万 boundary?

# %%
if result is not None:
    display(ex.error_table(scores["test"].errors))

# %% [markdown]
# ## Part 8 — Looking inside: cross-attention · 交叉注意力可视化
#
# Each row below is one step of the decoder: the character it was about to write (→ 万 …), and
# how much its cross-attention looked at each source digit. What to look for in the trained model:
# the rows that write a digit character (三, 二, 一, 四) put most of their weight on **their own
# digit** or right next to it, so those rows form a band that walks down the source from left to
# right: the model has learnt to align, nobody told it where. (How sharp the band is varies from run
# to run and from head to head.) The rows that write 千, 百, 万 or 零 have no digit of their
# own; they spread their weight over the neighbourhood they are counting in, and the heads and layers
# split this work differently (use the sliders; the entropy bars show which rows are sharp). Try other
# numbers by changing the string in the cell. (The course's reference model, loaded with your trained
# weights, returns its attention weights.)

# %%
if result is not None:
    viewer = ex.as_reference(result.model, config, result.task)
    queries, keys, weights = ex.cross_attention(viewer, result.task, "30201204")
    display(attention_map(queries, weights=weights, key_tokens=keys, title="cross-attention, 30201204"))

# %% [markdown]
# ## Part 9 — The same training from the command line · 命令行训练
#
# `python -m course.train` runs exactly this loop outside Jupyter, with every setting as an option
# (`--task en` for English words, `--position rope`, `--preset gpu` for a model of the paper's width
# on a GPU, `--checkpoint` / `--resume`). With `torchrun --nproc_per_node=N -m course.train ...` it runs
# on N processes with **distributed data parallel** (数据并行): each process draws different batches,
# the gradients are averaged across processes after every backward pass, and so every replica keeps
# identical weights.

# %%
from course.train import build_parser

print(build_parser().format_help())

# %% [markdown]
# ## Summary · 小结
#
# * Input: $\sqrt{d_\text{model}}\,E[\text{id}] + PE(p)$ (or RoPE inside attention); the scale puts
#   token and position on the same footing.
# * The model: embed → encoder (source padding mask) → decoder (causal self-attention, cross-attention
#   with the source mask) → output projection, optionally tied to the target embedding.
# * Greedy decoding feeds the argmax back, encodes once, pads finished rows, stops at `<eos>`.
# * Label smoothing: $(1-\varepsilon)\cdot$NLL + $\varepsilon\cdot$ mean over classes of $-\log p$, averaged
#   over real tokens only.
# * Evaluate on inputs training never saw, and report exact match, not just token accuracy.
#
# ## Glossary · 术语表

# %%
glossary.show("08-transformer")
