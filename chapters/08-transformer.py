# %% [markdown]
# # The Transformer, trained · 组装并训练
#
# Every part of the model now exists: attention (chapter 05), positions (06), LayerNorm and residual
# blocks (03, 04), encoder and decoder layers (07). In this chapter you put them together into one
# encoder–decoder Transformer, teach it to **read Arabic numerals aloud in Chinese**
# (`1204 → 一千二百零四`), score it honestly, and look inside it. The model you train is built from
# **your own** answers of chapters 05–07, read from your copies of those notebooks, and trained with
# your own loss.

# %% [markdown]
# ## Before you start · 开始之前
#
# **You will build:**
# * `embed`: token embeddings × √d_model plus positions;
# * `Transformer`: embeddings → encoder → decoder → output projection, with the source mask and tied weights;
# * `greedy_decode`: a trained model turned into a translator;
# * `smoothed_cross_entropy`: cross-entropy with label smoothing that ignores padding;
# * bonus: `attention_step` and `cached_greedy_decode` (decoding with a key/value cache) and `beam_search`.
#
# **Prerequisites:** chapters 05 (multi-head attention, masks), 06 (sinusoidal table, RoPE) and 07
# (encoder and decoder layers, stacks); chapter 03's warm-up discussion. Maths: softmax, log-probabilities,
# cross-entropy, expected squared length of a random vector.
#
# **Time:** about 150 minutes (reading 45, exercises 60, bonus exercises 30, experiments 15; training
# runs on two CPU cores take a few minutes more).

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
from course.experiments import ch08_transformer as ex
from course.notebook import needs, setup
from course.numerals import to_chinese, to_english
from course.student_code import course_parts
from course.tasks import HARD_CASES, Task, hard_cases
from course.tokenizer import BOS, EOS, PAD, UNK
from course.widgets.ch05_attention import model_attention
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
# predict at each position). This shift by one is **teacher forcing** (教师强制; Williams & Zipser
# 1989): during training the decoder always reads the true previous characters.

# %%
task = Task("zh")
batch = task.make_batch(["1204", "20000", "7"])
print("source alphabet:", task.source_tokenizer.alphabet, " target alphabet:", task.target_tokenizer.alphabet)
print("src        ", batch.src.tolist(), " lengths", batch.src_lengths.tolist())
print("tgt_in     ", batch.tgt_in.tolist())
print("tgt_out    ", batch.tgt_out.tolist())
print("decoded    ", [task.target_tokenizer.decode(row) for row in batch.tgt_out.tolist()])

# %% [markdown]
# **Held-out data, honestly.** A score must come from numbers training never sees, and it must not
# also have been used to decide when to stop. So there are four splits (the cell below counts them):
#
# * **valid** (验证集): numbers of 4 to 8 digits that training never samples; the periodic evaluations
#   and the early stop use this split only;
# * **test** (测试集): another such set, scored **once**, at the end: this is the score;
# * **hard**: a second test split, drawn independently and stratified over five hard cases, in equal
#   turns (each fifth of the split is built as one of them): a zero inside the number, a run of zeros,
#   the 万 boundary, a 1 in the tens place inside a number (where the 一 of 一十 is spoken), and a
#   number that starts with a 1 in a tens place (where that 一 is dropped: 150000 → 十五万);
# * **short**: every number with one or two digits. A test set drawn like the training data would
#   swallow most of these few strings, and a model that never saw "7" cannot read it, so they stay in
#   training, and this split is a check of something **seen in training**, not a test.

# %%
splits = {name: task.split(name) for name in ("valid", "test", "hard", "short")}
for name, sources in splits.items():
    print(f"{task.split_label(name):<26} {len(sources):>5} numbers, e.g. {sources[:4]}")
print("valid ∩ test:", len(set(splits["valid"]) & set(splits["test"])),
      " test ∩ hard:", len(set(splits["test"]) & set(splits["hard"])),
      " valid ∩ hard:", len(set(splits["valid"]) & set(splits["hard"])))
train_sample = task.sample(20000, torch.Generator().manual_seed(1))
print("20000 training draws that fall in valid/test/hard:",
      len(set(train_sample) & (set(splits["valid"]) | set(splits["test"]) | set(splits["hard"]))),
      "  ... that fall in short:", len(set(train_sample) & set(splits["short"])))
print(f"{len(HARD_CASES)} hard cases; how many numbers of the hard split are an example of each:",
      {case: sum(case in hard_cases(s) for s in splits["hard"]) for case in HARD_CASES})


# %% [markdown]
# The three held-out splits share no number, training never draws one of them, and the 100 short
# numbers are drawn all the time (the last two counts). The hard split's five strata are printed last:
# each case has at least a fifth of the split, and more where a number built for one case is also an
# example of another.
#
# ## Part 2 — Embeddings × √d_model · 嵌入与缩放
#
# An embedding table maps each id to a vector of size d_model. The course initialises it with standard
# deviation $1/\sqrt{d_\text{model}}$, so each embedding vector has squared length about
# $d \cdot \tfrac{1}{d} = 1$. The sinusoidal position vector $PE(p)$ has $d/2$ sines and $d/2$
# cosines of the same angles, so its squared length is exactly $d/2$. Multiplying the embedding by
# $\sqrt{d_\text{model}}$ brings the token's squared length to about $d$, the same order as the
# position's, so that neither drowns the other (Vaswani et al. 2017, §3.4 multiplies by
# $\sqrt{d_\text{model}}$; §3.5 adds the positions):
#
# $$x_p = \sqrt{d_\text{model}}\;E[\text{id}_p] + PE(p).$$
#
# With RoPE (chapter 06) nothing is added here: the positions enter inside attention instead, by
# rotating queries and keys. Part 10 measures what happens when the two scales do not match.
#
# ### Exercise 1 · 练习 1: `embed`
#
# **Difficulty:** ●○○ · **Importance:** ●●● · **Time:** ~5 min
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Which of the two terms gets multiplied? The table has more rows than the sequence has positions:
# which rows belong to positions 0, 1, …, seq − 1?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# The table is (max_len, d) and the embedded ids are (batch, seq, d): slicing the table's first
# `seq` rows gives (seq, d), which broadcasts over the batch. d can be read off the embedding module
# itself (look at its attributes), not passed in.
#
# </details>
# </details>

# %% answer="embed"
def embed(ids, embedding, positions=None):
    """The model's input vectors: token embeddings on the scale of the positions, plus positions.

    ids: (batch, seq) LongTensor; embedding: nn.Embedding(vocab, d_model);
    positions: None (RoPE: no additive positions) or a (max_len, d_model) table, max_len >= seq.
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
from course.checks import ch08_transformer as ref

emb = nn.Embedding(5, 4)
with torch.no_grad():
    emb.weight.copy_(torch.arange(20.0).view(5, 4) / 10)
table = torch.arange(24.0).view(6, 4) / 100  # row p is position p's vector (rows differ)
x = call(embed, torch.tensor([[1, 2, 3]]), emb, table)
equal(tuple(x.shape), (1, 3, 4), name="shape of embed(ids (1, 3), d_model 4)")
E = emb.weight.detach()[[1, 2, 3]]  # (3, 4): the three tokens' rows; √d_model = 2
ref.explain(x[0], {
    "embed: the token embeddings are not scaled; multiply them by √d_model (Part 2)": E + table[:3],
    "embed: you multiplied by d_model; the factor is its square root, √d_model (Part 2)": E * 4 + table[:3],
    "embed: you divided by √d_model; the token embedding is multiplied by it (Part 2)": E / 2 + table[:3],
    "embed: you scaled the positions too; only the token embedding is multiplied by √d_model (Part 2)":
        (E + table[:3]) * 2,
    "embed: the positions are shifted; the token at position p gets row p of the table, from row 0 (Part 2)":
        E * 2 + table[1:4],
    "embed: the positions were not added; with a table, x = √d_model·E[id] + PE(p) (Part 2)": E * 2,
})
close(x[0], E * 2 + table[:3], name="embed of tokens 1, 2, 3: E[id]·√4 + table[p]")
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
# src ids ─ embed ─ dropout ─ encoder (source padding mask) ──────────┐ memory
# tgt ids ─ embed ─ dropout ─ decoder (causal self-attention; cross-attention to memory, source padding mask)
#                              └─ output projection → logits (batch, tgt_len, tgt_vocab)
# ```
#
# The model is made of **parts** (`parts=`, default `course_parts`): the course's `Encoder` and
# `Decoder` stacks (chapter 07's design; the decoder builds its causal mask itself), its sinusoidal
# table and its RoPE. Part 6 swaps in the ones you wrote in chapters 05–07. `padding_mask(lengths,
# max_len)` → `(batch, 1, 1, max_len)`, True at real tokens. The call signatures:
#
# * `self.encoder(x, mask, rope)` with `x` (batch, src_len, d_model) → (batch, src_len, d_model);
# * `self.decoder(y, memory, memory_mask, rope)` → (batch, tgt_len, d_model);
# * `rope` is `self.rope`: `None` for sinusoidal positions, a RoPE module that the attention layers
#   apply to queries and keys otherwise.
#
# **Dropout on the inputs.** The paper applies dropout "to the sums of the embeddings and the
# positional encodings" (Vaswani et al. 2017, §5.4): once per input, after the positions are added,
# before the first layer. (The CPU recipe below trains with dropout 0; the tests check the placement
# in train mode, with the same random seed as the reference.)
#
# **Tied output weights** (权重共享): the output projection maps a vector to one score per target
# token, $W_\text{out} h$ with $W_\text{out}$ of shape (tgt_vocab, d_model): the same shape as the
# target embedding table. Sharing one matrix for both saves tgt_vocab × d_model parameters and ties
# "which vector means 万" on the way in and out (Press & Wolf 2017). In PyTorch, tying is assigning
# the *same* `nn.Parameter` to both modules.
#
# ### Exercise 2 · 练习 2: `Transformer`
# `__init__` is written for you except the tying; keep its attribute names (the tests load the course's
# reference weights into your model by name). Write the tying, `encode`, `decode` and `forward`
# (`forward` encodes, then decodes).
#
# **Difficulty:** ●●○ · **Importance:** ●●● · **Time:** ~20 min
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# Which mask does `encode` need, and from what is it built? Which two places read the source, and so
# need that mask? What does `encode` hand to `decode`?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# `encode` returns the memory and the source mask, so that `decode` can pass the mask on to the
# decoder's cross-attention. Your `embed` takes the table `self.pe` (None with RoPE); the dropout
# goes around what `embed` returns. Tying is one assignment of a Parameter, in the direction that
# keeps the embedding's initialisation.
#
# </details>
# </details>

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
                 d_ff=512, dropout=0.1, norm_first=True, position="sinusoidal", tie_output=False, parts=None):
        super().__init__()
        if position not in ("sinusoidal", "rope"):
            raise ValueError(f"position must be 'sinusoidal' or 'rope', got {position!r}")
        parts = course_parts if parts is None else parts  # the building blocks (Part 6 swaps in yours)
        self.d_model = d_model
        self.src_embed = nn.Embedding(src_vocab, d_model)
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model)
        for table in (self.src_embed, self.tgt_embed):
            nn.init.normal_(table.weight, std=d_model ** -0.5)
        # sinusoidal: a (256, d_model) table added to the embeddings; RoPE: rotations inside attention
        pe = parts.positions(256, d_model) if position == "sinusoidal" else None
        self.register_buffer("pe", pe, persistent=False)
        self.rope = parts.Rotary(d_model // n_heads) if position == "rope" else None
        self.embed_dropout = nn.Dropout(dropout)
        self.encoder = parts.Encoder(n_encoder_layers, d_model, n_heads, d_ff, dropout, norm_first)
        self.decoder = parts.Decoder(n_decoder_layers, d_model, n_heads, d_ff, dropout, norm_first)
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
from course.checks import check, close, equal
from course.checks import ch08_transformer as ref

config = dict(d_model=16, n_heads=2, n_encoder_layers=1, n_decoder_layers=1, d_ff=32)
reference, model = ref.paired_models(Transformer, dict(config, norm_first=True, tie_output=False,
                                                       position="sinusoidal"), 12, 14, seed=0)
src = torch.tensor([[5, 6, 7], [8, 9, 0]])  # the second source has one padding token
lengths = torch.tensor([3, 2])
tgt = torch.tensor([[1, 4, 5, 6], [1, 7, 8, 0]])
with torch.no_grad():
    logits = ref.call(model, src, lengths, tgt)
    equal(tuple(logits.shape), (2, 4, 14), name="logits shape (batch 2, tgt_len 4, tgt_vocab 14)")
    check(ref.padding_probe(model, src, lengths, tgt) < 1e-5,
          "Transformer: two more padding tokens after the sources changed the logits, so the padding is not "
          "hidden: encode builds padding_mask(src_lengths, src_len) (True at real tokens) for the encoder, and "
          "decode gives the same mask to the decoder's cross-attention (Part 3)")
    close(logits, reference(src, lengths, tgt), atol=1e-4,
          name="logits vs the course's reference model (same weights, eval mode)")
want, got = ref.train_mode_outputs(reference, model, src, lengths, tgt, seed=1)
close(got, want, atol=1e-4,
      name="logits in train mode (dropout on, same seed as the reference): self.embed_dropout goes once on each "
           "embedded input, √d_model·E + PE, before the stack; forward encodes, then decodes (Part 3)")
reference, model = ref.paired_models(Transformer, dict(config, norm_first=False, tie_output=False,
                                                       position="rope"), 12, 14, seed=1, dropout=0.3)
with torch.no_grad():
    logits = ref.call(model, src, lengths, tgt)
    rope, reference.rope = reference.rope, None
    without_positions = reference(src, lengths, tgt)
    reference.rope = rope
    ref.explain(logits, {"Transformer(position='rope'): your logits are those of a model with no positions at "
                         "all; pass self.rope to the encoder and the decoder (Part 3)": without_positions}, atol=1e-4)
    close(logits, reference(src, lengths, tgt), atol=1e-4, name="logits of a Post-LN RoPE model vs the reference")
ref.expect_train_mode(reference, model, src, lengths, tgt, seed=2,
                      what="logits in train mode of Transformer(dropout=0.3), same seed as the reference")
tied = ref.call(Transformer, 12, 14, tie_output=True, **config)
check(not ref.same_parameter(tied, "output.weight", "src_embed.weight"),
      "tie_output=True: you tied the output to the SOURCE embedding; the output scores target tokens, so it "
      "shares tgt_embed's matrix (Part 3)")
check(ref.same_parameter(tied, "output.weight", "tgt_embed.weight"),
      "tie_output=True: output.weight should be the very Parameter tgt_embed.weight (assign it; copying the "
      "values is not tying; Part 3)")
untied = ref.call(Transformer, 12, 14, tie_output=False, **config)
equal(ref.n_params(tied), ref.n_params(untied) - 14 * 16,
      name="parameters with tied output weights (tgt_vocab × d_model fewer)")
ref.keeps_embedding_init(Transformer, config, 12, 14, seed=3)  # same seed, tied or not: the same embedding
### BEGIN HIDDEN TESTS
from course_grader.checks import ch08_transformer as hidden
hidden.check_transformer(Transformer)
### END HIDDEN TESTS

# %% [markdown]
# **Predict · 预测:** an untrained model guesses. What cross-entropy does a uniform guess over the V
# target tokens have? Write your guess down, then run the next cell.

# %%
with needs("Transformer", "embed"):
    torch.manual_seed(0)
    model = Transformer(len(task.source_tokenizer), len(task.target_tokenizer))
    logits = model(batch.src, batch.src_lengths, batch.tgt_in)
    loss0 = F.cross_entropy(logits.flatten(0, 1), batch.tgt_out.flatten(), ignore_index=PAD)
    print("logits", tuple(logits.shape), f"  parameters {sum(p.numel() for p in model.parameters()):,}")
    print(f"loss at initialisation {loss0.item():.3f}  vs  ln(vocab) = {math.log(len(task.target_tokenizer)):.3f}")


# %% [markdown]
# The printed loss sits near $\ln V$: the untrained model's guesses are close to uniform over the
# target alphabet.
#
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
# Greedy is not always the most likely sequence; Part 11 writes beam search, which keeps several
# prefixes, and compares.
#
# ### Exercise 3 · 练习 3: `greedy_decode`
#
# **Difficulty:** ●●○ · **Importance:** ●●● · **Time:** ~15 min
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# What does the decoder read at the first step? Which position of the logits predicts the next
# token? How does a row remember that it has finished?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Keep a (batch, t) tensor of tokens that starts as a column of `<bos>` and a (batch,) bool tensor
# of finished rows; each step appends one column (`<pad>` where finished) and updates the flags. The
# answer is the tokens without the first column.
#
# </details>
# </details>

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
from course.tokenizer import BOS, EOS, PAD

# a scripted model: row 0 says 5, 6, <eos>; row 1 says 7, 8, 9, 9, ... and never stops
model = ref.ScriptedModel(torch.tensor([[5, 6, EOS, 9], [7, 8, 9, 9]]), vocab=10)
out = ref.call(greedy_decode, model, ref.scripted_sources(2, 3), torch.tensor([3, 1]), 4)
ref.explain(out, {
    "greedy_decode: the output starts with <bos>; return only the tokens produced after it (Part 4)":
        torch.tensor([[BOS, 5, 6, EOS, PAD], [BOS, 7, 8, 9, 9]]),
    "greedy_decode: after a row's <eos> it gets <pad>, not more predictions (Part 4)":
        torch.tensor([[5, 6, EOS, 9], [7, 8, 9, 9]]),
    "greedy_decode: max_len=4 allows at most 4 tokens; you produced one more (Part 4)":
        torch.tensor([[5, 6, EOS, PAD, PAD], [7, 8, 9, 9, 9]]),
}, atol=0)
want = torch.tensor([[5, 6, EOS, PAD], [7, 8, 9, 9]])
check(isinstance(out, torch.Tensor) and torch.equal(out, want),
      f"scripted model, max_len 4: expected (no <bos>; <pad> after <eos>)\n{want}\ngot\n{out}")
model = ref.ScriptedModel(torch.tensor([[5, EOS, 9, 9], [6, 7, EOS, 9]]), vocab=10)
out = ref.call(greedy_decode, model, ref.scripted_sources(2, 3), torch.tensor([3, 2]), 10)
check(isinstance(out, torch.Tensor) and tuple(out.shape) == (2, 3),
      "greedy_decode: stop as soon as every row has produced <eos> (here after 3 steps), even when max_len "
      f"allows more (Part 4); got an output of shape {tuple(getattr(out, 'shape', ()))}")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch08_transformer as hidden
hidden.check_greedy(greedy_decode)
### END HIDDEN TESTS

# %% [markdown]
# ## Part 5 — The loss, with label smoothing · 标签平滑
#
# Training minimises the cross-entropy between the model's distribution $p$ and a target distribution
# $q$ at every non-padding position. Plain cross-entropy uses a one-hot $q$. **Label smoothing**
# (Szegedy et al. 2016, §7, introduced for single-label ImageNet classification) moves a fraction ε
# of the target's probability to a uniform distribution over all V classes:
#
# $$q = (1-\varepsilon)\,\text{onehot}(y) + \frac{\varepsilon}{V}, \qquad
# \ell = -\sum_c q_c \log p_c = (1-\varepsilon)\,(-\log p_y) + \varepsilon \cdot \frac{1}{V}\sum_c (-\log p_c).$$
#
# The model is then never pushed towards infinite confidence. The paper used ε = 0.1 and reports that
# it "hurts perplexity, as the model learns to be more unsure, but improves accuracy and BLEU score"
# (Vaswani et al. 2017, §5.4). The loss is the mean over real target positions: padding positions
# (`targets == PAD`) count neither in the sum nor in the count.
#
# ### Exercise 4 · 练习 4: `smoothed_cross_entropy`
# Write it from `torch.log_softmax` (the test compares with `F.cross_entropy(..., label_smoothing=ε,
# ignore_index=PAD)`, which is switched off while your function runs).
#
# **Difficulty:** ●●○ · **Importance:** ●●○ · **Time:** ~15 min
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# The formula has two terms per position: which one needs the target's id, and which one uses every
# class? What do you average over, and what must be left out of the average?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# `gather` on the last dim picks −log p_y; a mean over the last dim gives (1/V) Σ_c −log p_c. Combine
# them per position, then average over the positions where `targets != PAD` only (a boolean index
# or a masked sum divided by the count of real tokens).
#
# </details>
# </details>

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

with ref.no_builtin_cross_entropy():
    # two classes, logits (0, 0): p = (1/2, 1/2), so every loss is ln 2, smoothed or not
    got = ref.call(smoothed_cross_entropy, torch.zeros(1, 2, 2), torch.tensor([[1, 1]]), 0.1)
    ref.explain(got, {"smoothed_cross_entropy: you summed over the positions; the loss is their MEAN (Part 5)":
                      2 * math.log(2)})
    close(got, math.log(2), name="uniform prediction over two real positions: the loss is ln 2")
    # hand-worked: logits (0, ln 6, ln 3) -> p = (0.1, 0.6, 0.3); target 1, eps 0.2; the second position is padding
    logits = torch.tensor([[[0.0, math.log(6), math.log(3)], [5.0, -5.0, 0.0]]])
    logp = [math.log(0.1), math.log(0.6), math.log(0.3)]
    want = -0.8 * logp[1] - 0.2 * sum(logp) / 3
    lp_pad = torch.log_softmax(logits[0, 1], -1).tolist()  # the padding position, if it were counted (target 0)
    got = ref.call(smoothed_cross_entropy, logits, torch.tensor([[1, PAD]]), 0.2)
    ref.explain(got, {
        "smoothed_cross_entropy: the padding position was counted; average over targets != PAD only (Part 5)":
            (want - 0.8 * lp_pad[0] - 0.2 * sum(lp_pad) / 3) / 2,
        "smoothed_cross_entropy: ε/(V − 1) on the other classes is another smoothing; this one spreads ε/V over "
        "all V classes, the target included (Part 5)": -0.8 * logp[1] - 0.1 * (logp[0] + logp[2]),
        "smoothed_cross_entropy: the result is unsmoothed cross-entropy; add the ε-weighted mean over classes "
        "(Part 5)": -logp[1],
        "smoothed_cross_entropy: ε and 1 − ε are swapped (Part 5)": -0.2 * logp[1] - 0.8 * sum(logp) / 3,
        "smoothed_cross_entropy: you smoothed p instead of the target q: the formula mixes the two log terms, not "
        "the probabilities (Part 5)": -math.log(0.8 * 0.6 + 0.2 / 3),
    })
    close(got, want, name="hand-worked case with one padding position (which must not count)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch08_transformer as hidden
hidden.check_smoothed_loss(smoothed_cross_entropy)
### END HIDDEN TESTS

# %% [markdown]
# **Where the ε goes.** ε/V lands on every class, including the special tokens `<pad>`, `<bos>` and
# `<unk>`, which are never a target here. The next cell counts how much of each target position's
# probability the smoothed target puts on them.

# %%
V = len(task.target_tokenizer)
never = [PAD, BOS, UNK]
print(f"V = {V} target classes; {len(never)} of them are never targets; with ε = 0.1 the smoothed target puts "
      f"{100 * 0.1 * len(never) / V:.2f} % of every position's probability on them")

# %% [markdown]
# So a model trained towards that target is asked to keep some probability on tokens that cannot be
# right; argmax decoding does not care, but the loss never reaches zero. (Müller et al. 2019 study
# what smoothing does to a network's representations and calibration.)
#
# ## Part 6 — Your model, built from your chapters · 用你自己的代码组装模型
#
# Everything in this model can be yours. The next cell reads your own notebooks of chapters 05–07
# (the folders next to this one: `../05-attention/05-attention.ipynb` and so on; set
# `STUDENT_NOTEBOOKS` to another folder if yours live elsewhere) and takes from them your
# `MultiHeadAttention` and `causal_mask` (05), your `sinusoidal_table` and `apply_rope` (06), and your
# `FeedForward`, `EncoderLayer`, `DecoderLayer`, `Encoder` and `Decoder` (07). Only the answer cells
# run, each notebook into a fresh namespace, and each piece must first pass the visible tests of its
# own chapter. A piece that is missing, not done yet, or failing its tests is replaced by the course's
# version for that piece only; the table says which, and why, and shows the code used
# (open *source*). Your `Transformer` from Exercise 2 puts the pieces together, and training uses
# your `smoothed_cross_entropy`.

# %%
STUDENT_NOTEBOOKS = None  # None: the notebooks next to this one (../05-attention/...); or a folder like "~/course"
build = None
with needs("Transformer", "embed", "greedy_decode", "smoothed_cross_entropy"):
    build = ex.your_model(STUDENT_NOTEBOOKS, training.preset("cpu"), Transformer, smoothed_cross_entropy)
    display(build)

# %% [markdown]
# ### How it is trained · 训练流程
#
# The training loop (`course/training.py`, drawn below) repeats one step: draw a fresh batch (the data
# never repeat), run the model, compute the loss, backpropagate, clip the gradient's global norm (so
# one bad batch cannot throw the weights far), and take an optimizer step with the learning rate the
# schedule gives for that step. Every `eval_interval` steps it scores the **validation** split, saves
# a **checkpoint** (the whole training state: weights, optimizer, schedule, step, random-number state,
# so a stopped run resumes exactly), and stops early once validation exact match reaches the target.
# Only then are the test splits scored, once.

# %%
ex.show(ex.training_loop_diagram())

# %% [markdown]
# **The recipe, and what the paper did.** The paper trained with Adam (β₁ = 0.9, β₂ = 0.98,
# ε = 10⁻⁹; Kingma & Ba 2015) and the schedule
# $\text{lrate} = d_\text{model}^{-0.5}\cdot\min(\text{step}^{-0.5},\ \text{step}\cdot\text{warmup}^{-1.5})$
# with warmup = 4000: a linear warm-up, then a decay as $1/\sqrt{\text{step}}$ that never reaches zero
# (Vaswani et al. 2017, §5.3; the base model ran 100 000 steps, §5.2). The course's CPU recipe,
# printed below, differs on purpose: **AdamW** (Adam with decoupled weight decay; Loshchilov & Hutter
# 2019) with the same betas, and a linear warm-up followed by a **cosine decay** to zero over the run's
# fixed number of steps (Loshchilov & Hutter 2017), which suits a short run whose length is known in
# advance. `course.training` also has the paper's shape (`decay="inverse_sqrt"`). Chapter 03 discussed
# warm-up for Post-LN and Pre-LN (Xiong et al. 2020); this model is Pre-LN and still warms up
# briefly, a cheap precaution while Adam's second-moment estimates are built from few gradients
# (Liu et al. 2020).
#
# **Label smoothing** is one field (`label_smoothing`); the preset leaves it at 0. Whether it helps on
# this task is an experiment: `benchmarks/student_model.py --smoothing` trains the reference model
# with ε = 0 and ε = 0.1 and reports the steps to 99 % validation exact match. In one run on the
# course machine (seed 0, 2026-12-03, with the preset's former recipe: width 128, lr 2e-3, no hard
# draws), ε = 0.1 reached 99.1 % at the last of its 600 steps and ε = 0
# ended at 98.2 %; on the stratified hard split the two scored 88.6 % and 78.1 %. One seed is not a
# verdict, but it is a reason to try `label_smoothing=0.1` yourself.
#
# On a GPU the loop runs the forward pass under **bf16 autocast** (`course.training`). Which attention
# kernel runs depends on the model: the course's reference model (`course.blocks`, the `--preset gpu`
# runs of Part 12) calls `F.scaled_dot_product_attention`, which can pick a fused kernel; the model you
# train here uses your chapter 05 attention, written out as matrix products and a softmax, so no fused
# kernel runs in it.
#
# **Predict · 预测:** the figure compares the two schedules with the same peak and warm-up. Which one
# ends higher, and does the paper's ever reach zero? Write your guess down, then run the next cell.

# %%
config = training.preset("cpu")
print(config)
fig, schedules = ex.schedule_figure(config)
ex.show(fig)
print(f"last step of the run: cosine {schedules['cosine_end']:.2e}, "
      f"inverse square root {schedules['inv_sqrt_end']:.2e}; "
      f"the paper's rate at step 100 000: {schedules['paper_at_100k']:.2e} (peak {schedules['paper_peak']:.2e})")

# %% [markdown]
# The cosine curve ends at zero at the last step; the inverse-square-root curve has only fallen to
# the printed fraction of its peak, and the paper's rate after its 100 000 steps is still the printed
# nonzero value.
#
# Now train **your** model: it is built with the preset's sizes, and the live plot (which appears once
# training starts) follows the loss and the validation exact match. The cell prints how long it took:
# on the course's two CPU cores the preset reached 99 % in 17–21 s of training (three seeds, the
# course's own reference model; `benchmarks/race_nn_transformer.py`, 2026-12-03), plus the
# evaluations. (When the notebook is autograded, `ex.budget`, the course's `training_budget`, cuts the
# run to a few steps and the evaluation splits to 50 numbers: grades never depend on the training, and
# the grader should not spend minutes per student on it.)

# %%
config = ex.budget(training.preset("cpu", eval_interval=100, eval_size=300, target_exact=0.99,
                                  checkpoint="checkpoints/08-zh.pt"))
plot = LiveLossPlot(title="numerals → Chinese")
result = None
with needs("Transformer", "embed", "greedy_decode", "smoothed_cross_entropy"):
    model_class = build.model_class if build is not None else Transformer
    result = ex.train(config, model_class, loss=smoothed_cross_entropy, callbacks=[plot])
    print(f"{result.steps} steps in {result.train_seconds:.0f} s of training "
          f"(+{result.eval_seconds:.0f} s of evaluation), stopped by: {result.stopped_by}")

# %% [markdown]
# The checkpoint makes training resumable: run the same configuration with `resume=True` and it
# continues from the saved step (with the same data and dropout stream it would have had), so an
# interrupted run loses nothing. The command line has the same switch (`--resume`).
#
# ## Part 7 — How good is it? · 评估
#
# Three scores per split:
#
# * **token accuracy** (逐词准确率): with teacher forcing, how often the most likely next character
#   is right;
# * **exact match** (完全匹配): the greedy output equals the whole target, character for character.
#   This is what a user of the translator sees;
# * **BLEU** (Papineni et al. 2002; corpus-level, computed by the `sacrebleu` package, Post 2018,
#   with its Chinese tokenizer that splits per character): the machine-translation score, 0–100, which
#   gives partial credit for overlapping n-grams. The course calls it with `effective_order=True`:
#   outputs of one or two characters have no 4-grams, and plain BLEU's geometric mean over 1- to
#   4-gram precisions would then be 0 whatever the output; the effective order averages over the
#   orders that exist.
#
# Token accuracy is usually the most flattering of the three: one wrong character early in greedy
# decoding can derail the rest, which teacher forcing hides, while exact match counts the whole output
# as wrong. It is not a law: token accuracy is measured with teacher forcing and exact match without, so
# a model can score the other way round (the cell prints all three; compare them yourself).
#
# **Predict · 预测:** which split scores lowest, and by how much? Write your guess down, then run the
# next cell.

# %%
if result is not None:
    scores = result.metrics  # scored once, at the end of training
    for name in ("test", "hard", "short", "valid"):
        print(scores[name].summary())
    print("token accuracy minus exact match, in points:",
          {name: round(100 * (scores[name].token_accuracy - scores[name].exact), 2) for name in ("test", "hard")})
else:
    print("(Train the model above first.)")

# %% [markdown]
# The test line is the model's score. The hard split is where errors concentrate when there are any
# (compare its exact match with the test's), the short split was seen in training, and the validation
# line is the split that decided when to stop, so it is not a fair score.
#
# **Error analysis** (错误分析): the wrong outputs themselves teach more than the percentage. Look
# for patterns: are the errors long numbers? Zeros in the middle (the 零 rule)? The 万 boundary?

# %%
if result is not None:
    display(ex.error_table(scores["hard"].errors + scores["test"].errors))

# %% [markdown]
# ## Part 8 — Looking inside: cross-attention · 交叉注意力可视化
#
# The view below runs your trained model once on 30201204 and records every attention layer: the
# encoder's self-attention over the digits, the decoder's causal self-attention over its own output, and
# the cross-attention, every layer and head. In the cross-attention maps each row is one decoder
# position, labelled with the token it reads (`<bos>`, then the output so far); it writes the next
# character. So the row labelled 三 is the step that wrote the character after 三. In a trained model,
# the steps that write a digit character (三, 二, 一, 四) tend to put most of their weight on their own
# digit or next to it, so they form a band that walks down the source; the steps that write 千, 百, 万 or
# 零 have no digit of their own and spread their weight (the entropy bars beside the large map show which
# rows are sharp). How sharp the band is varies from run to run and from head to head. Hover a digit of
# the source to see which steps read it, in every head at once; click a cell of the large map to take its
# score apart (q, k, q·k/√d_k, softmax). The weights, queries and keys are those of your
# `MultiHeadAttention` (chapter 05), read while it runs.
#
# **Predict · 预测:** which output characters will attend most sharply to one digit? Write your guess
# down, then run the next cell.

# %%
if result is not None:
    display(model_attention(result.model, result.task, "30201204"))

# %% [markdown]
# Read the rows of the digit characters against the columns of their digits: in a model trained to
# the end most of them peak on or beside their own digit. (While nbgrader grades, the model trains for a
# few steps only and the view is not drawn: a line of text stands in for it.)
#
# ## Part 9 — One vocabulary, three-way tying · 三重权重共享
#
# Part 3 tied the output projection to the target embedding. The paper goes one step further: "we
# share the same weight matrix between the two embedding layers and the pre-softmax linear
# transformation" (Vaswani et al. 2017, §3.4). That needs one vocabulary
# for both languages: English–German used a shared byte-pair vocabulary of about 37 000 tokens (§5.1).
# We call it three-way tying; Press & Wolf (2017) showed that such tying cuts a translation model to
# less than half its size without hurting it. The figure counts the parameters of the paper's
# base sizes (d_model 512, 6 + 6 layers, d_ff 2048) with a 37 000-token vocabulary, untied, with the
# output tied to the target embedding, and with all three tied.
#
# **Predict · 预测:** what share of the untied base model's parameters are the three vocabulary
# matrices? Write your guess down, then run the next cell.

# %%
fig, tying = ex.tying_figure()
ex.show(fig)
for name, n in tying["total"].items():
    share = 100 * tying["vocabulary"][name] / n
    print(f"{name:<28} {n / 1e6:6.1f} M parameters ({share:.0f} % in vocabulary matrices)")
print("the paper's Table 3 lists 65 M for the base model")

# %% [markdown]
# Untied, the three vocabulary matrices are more than half of the model; three-way tying leaves one
# of them, and the count lands near the 65 M of the paper's Table 3 (the exact vocabulary size and
# details such as biases explain the rest).
#
# Our zh task cannot share: its source is digits and its target Chinese characters. The **reverse**
# task can, since source and target are both digit strings. The next cell builds your `Transformer`
# for it with all three tied, checks that the three are one tensor, and trains it briefly beside the
# untied model (both small, 120 steps each).
#
# **Predict · 预测:** with two thirds of its vocabulary parameters gone, does the tied model learn the
# reversal as well as the untied one in the same steps? Write your guess down, then run the next cell.

# %%
with needs("Transformer", "embed", "greedy_decode"):
    tie_config = ex.budget(training.preset("cpu", task="reverse", d_model=64, n_heads=4, d_ff=256, steps=120,
                                           warmup_steps=30, eval_interval=0, progress=False, valid_size=200,
                                           test_size=200, hard_size=100))
    tie_runs = ex.tying_runs(Transformer, tie_config)
    for name, run in tie_runs.items():
        print(f"{name:<22} {run['parameters']:>7,} parameters, embedding tables shared: {run['shared']}, "
              f"validation exact match {100 * run['exact']:.1f} % after {run['steps']} steps")

# %% [markdown]
# The tied model has fewer parameters and `src_embed`, `tgt_embed` and `output` are one tensor; on
# this small task the two validation scores printed above are what the comparison shows (Press &
# Wolf's results are for real vocabularies of thousands of words, not for 14 tokens).
#
# ## Part 10 — The lesson in the measurement: the embedding scale · 嵌入尺度的教训
#
# PyTorch's `nn.Embedding` starts from a standard normal, std 1, and `nn.Transformer` leaves the
# embedding to you. Scaled by √d_model as in Part 2, a token vector then has length about
# $\sqrt{d}\cdot\sqrt{d} = d$, while a position vector keeps its length $\sqrt{d/2}$: the position
# signal is a small ripple on the token vector. With std $1/\sqrt{d_\text{model}}$ (the course's
# choice) the two are of the same order. The figure measures both on your model at initialisation.

# %%
with needs("Transformer", "embed"):
    fig, norms = ex.embedding_scale_figure(model_class if result is not None else Transformer, task)
    ex.show(fig)
    for name, row in norms.items():
        print(f"{name:<30} token vectors ‖√d·E‖ ≈ {row['token']:6.1f}, positions ‖PE‖ = {row['position']:.1f}, "
              f"position's share of ‖x‖²: {100 * row['share']:.1f} %")

# %% [markdown]
# With std 1 the positions carry under 1 % of each input vector's squared length; with
# $1/\sqrt{d}$ about a third. Does the model notice? Two short runs of your model, identical but for
# the embedding's initial std, scored on the validation split as they go.
#
# **Predict · 预测:** after the same 120 steps, how far apart are the two runs' validation
# exact match? Write your guess down, then run the next cell.

# %%
with needs("Transformer", "embed", "greedy_decode", "smoothed_cross_entropy"):
    init_config = ex.budget(training.preset("cpu", steps=120, warmup_steps=40, eval_interval=20, eval_size=100,
                                            valid_size=300, test_size=200, hard_size=100, progress=False))
    runs = ex.embedding_init_runs(model_class if result is not None else Transformer, init_config,
                                  loss=smoothed_cross_entropy)
    ex.show(ex.init_figure(runs))
    for name, run in runs.items():
        print(f"{name:<30} validation exact match after {run['steps']} steps: {100 * run['exact']:.1f} %")


# %% [markdown]
# The printed exact matches are the answer: with the course's std the model reads numbers long before
# the std-1 model does, whose inputs hardly say where each digit is. One initialisation line, and
# PyTorch's `nn.Embedding` default (std 1) is the one that hurts here.
#
# ## Part 11 — Decoding beyond greedy · 超越贪心解码
#
# ### The key/value cache · 键值缓存
#
# `greedy_decode` reruns the decoder over the whole prefix at every step: step t computes t positions,
# t − 1 of which it computed before, so a sequence of n tokens costs about n²/2 position-passes. But in
# a causal decoder, a position's keys and values never change once computed (later tokens cannot
# affect earlier positions). Keep them: at each step, project only the newest position, append its key
# and value to a **cache** (缓存), and attend from it to everything cached. The cross-attention's keys
# and values come from the memory and can be projected once, before the first step. The projections
# and feed-forward layers then cost about n position-passes instead of n²/2. Attention itself does not
# become linear: step t still compares its one query with all t cached keys, O(t) work, so the whole
# sequence still costs 1 + 2 + … + n ≈ n²/2 query–key products, O(n²), only without the recomputed
# positions (uncached, step t computes t queries against up to t keys, O(t²), O(n³) in all). The price is
# memory for the cache, which for long sequences and large batches can exceed the size of the weights
# themselves (Pope et al. 2023).
#
# The course's fast attention, `course.blocks.MultiHeadAttention`, packs W_q, W_k, W_v into one
# `in_proj` (rows 0:d are W_q, d:2d W_k, 2d:3d W_v), then `out_proj`; it has `n_heads` and `d_head`.
# With RoPE, the new position's query and key are rotated for its own position, t = the number of
# positions already cached (`rope(x, offset)`).
#
# ### Bonus exercise 5 · 附加练习 5: `attention_step`
#
# **Difficulty:** ●●○ · **Importance:** ●●○ · **Time:** ~15 min
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# What must come out of the cache for the new position to attend to every earlier one? In which
# shape are keys kept, and along which dim do you append? Does the new position need a causal mask?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Follow the shapes: `in_proj` gives one (batch, 1, 3·d) tensor, which holds q, k and v side by side,
# and attention wants (batch, heads, positions, d_head). t, the offset RoPE needs, can be read off the
# cache. Which of q, k, v are stored, and where do the new ones go relative to the cached ones?
# Chapter 05's attention, without a mask, does the rest.
#
# </details>
# </details>

# %% answer="attention_step"
def attention_step(attn, x, cache, rope=None):
    """Causal self-attention for one new position, with a key/value cache.

    attn: a course.blocks.MultiHeadAttention (in_proj: W_q, W_k, W_v stacked as rows; out_proj; n_heads; d_head).
    x: (batch, 1, d_model), the newest position. cache: a dict, empty before the first position, that holds
    "k" and "v", each (batch, n_heads, t, d_head) for the t earlier positions; update it in place.
    rope: None or a RoPE module, rope(q_or_k, offset) with offset = t.
    Returns (batch, 1, d_model): the attention output at the new position.
    """
    ### BEGIN SOLUTION
    batch, new, d = x.shape
    t = cache["k"].shape[-2] if "k" in cache else 0
    q, k, v = attn.in_proj(x).chunk(3, dim=-1)  # each (batch, 1, d)
    q, k, v = (z.view(batch, new, attn.n_heads, attn.d_head).transpose(1, 2) for z in (q, k, v))
    if rope is not None:
        q, k = rope(q, t), rope(k, t)
    if t:
        k, v = torch.cat([cache["k"], k], dim=-2), torch.cat([cache["v"], v], dim=-2)
    cache["k"], cache["v"] = k, v  # (batch, heads, t + 1, d_head)
    out = F.scaled_dot_product_attention(q, k, v)  # the new position sees every cached one
    return attn.out_proj(out.transpose(1, 2).reshape(batch, new, d))
    ### END SOLUTION


# %% tests="attention_step_tests" points=2
import torch
from course.blocks import MultiHeadAttention, RotaryEmbedding
from course.checks import check, close, equal
from course.checks import ch08_transformer as ref

torch.manual_seed(0)
attn = MultiHeadAttention(8, 2).eval()
x = torch.randn(2, 4, 8)
for rope in (None, RotaryEmbedding(4)):
    mine, theirs = {}, {}
    for t in range(4):
        got = ref.call(attention_step, attn, x[:, t:t + 1], mine, rope)
        with torch.no_grad():
            want = attn.step(x[:, t:t + 1], theirs, rope)  # the course's cached step
        equal(tuple(got.shape), (2, 1, 8), name=f"shape of attention_step at position {t}")
        close(got, want, atol=1e-5, name=f"attention_step at position {t} ({'RoPE' if rope else 'no RoPE'}) vs the "
                                         "course's step(): the new position attends to every cached one")
    check(set(mine) >= {"k", "v"} and tuple(mine["k"].shape) == (2, 2, 4, 4),
          "after 4 positions the cache holds keys and values of shape (batch 2, heads 2, 4 positions, d_head 4); "
          f"got {({k: tuple(v.shape) for k, v in mine.items() if hasattr(v, 'shape')})}")
    close(mine["k"], theirs["k"], atol=1e-5, name="the cached keys (rotated with RoPE) vs the course's cache")
    with torch.no_grad():
        full = attn(x, is_causal=True, rope=rope)  # all positions at once, causal
    close(got, full[:, -1:], atol=1e-5, name="the last step equals causal attention over the whole sequence")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch08_transformer as hidden
hidden.check_attention_step(attention_step)
### END HIDDEN TESTS

# %% [markdown]
# ### Bonus exercise 6 · 附加练习 6: `cached_greedy_decode`
# The same greedy decoding as Exercise 3, for the course's `Seq2SeqTransformer`, with every decoder
# layer run one position at a time. What you need from the model:
#
# * `model.encode(src, src_lengths)` → memory, src_mask (once);
# * `model._embed(model.tgt_embed, ids, offset)`: ids (batch, 1) embedded as the token at position
#   `offset` (× √d_model, positions, dropout);
# * per layer in `model.decoder.layers`: `layer.norm_first`, `norm1`–`norm3`, `dropout1`–`dropout3`,
#   `self_attn` (use your `attention_step`, with `model.rope`), `cross_attn.memory_kv(memory)` (the
#   memory's keys and values, once per layer) and `cross_attn.attend_memory(h, kv, src_mask)`, and `ff`:
#   the same three sublayers as chapter 07, Pre-LN or Post-LN;
# * then `model.decoder.norm` and `model.output`.
#
# **Difficulty:** ●●● · **Importance:** ●●○ · **Time:** ~25 min
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# What state does each layer keep between steps, and what is computed only once? Which token do you
# feed at step t, and at which position does it sit?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Split the work into what happens once (the source, and what each layer derives from it) and what
# happens per step (one token in, one token out). Each layer keeps its own cache. Inside a layer, write
# the three sublayers exactly as chapter 07's `DecoderLayer` wires them, for both values of
# `norm_first`, norms and dropout modules included. The rows that have finished are handled as in
# Exercise 3.
#
# </details>
# </details>

# %% answer="cached_greedy_decode"
@torch.no_grad()
def cached_greedy_decode(model, src, src_lengths, max_len):
    """Greedy decoding of a course.blocks.Seq2SeqTransformer that runs the decoder on the newest token only.

    Same arguments, result and conventions as greedy_decode: (batch, n <= max_len) tokens after <bos>,
    <pad> after each row's <eos>, early stop once every row has produced <eos>.
    """
    ### BEGIN SOLUTION
    memory, src_mask = model.encode(src, src_lengths)
    batch = src.shape[0]
    memory_kv = [layer.cross_attn.memory_kv(memory) for layer in model.decoder.layers]  # once per layer
    caches = [{} for _ in model.decoder.layers]  # the self-attention keys/values, filled by attention_step
    tokens = torch.full((batch, 1), BOS, dtype=torch.long, device=src.device)
    done = torch.zeros(batch, dtype=torch.bool, device=src.device)
    for t in range(max_len):
        x = model._embed(model.tgt_embed, tokens[:, -1:], t)  # (batch, 1, d_model)
        for layer, cache, kv in zip(model.decoder.layers, caches, memory_kv):
            if layer.norm_first:
                x = x + layer.dropout1(attention_step(layer.self_attn, layer.norm1(x), cache, model.rope))
                x = x + layer.dropout2(layer.cross_attn.attend_memory(layer.norm2(x), kv, src_mask))
                x = x + layer.dropout3(layer.ff(layer.norm3(x)))
            else:
                x = layer.norm1(x + layer.dropout1(attention_step(layer.self_attn, x, cache, model.rope)))
                x = layer.norm2(x + layer.dropout2(layer.cross_attn.attend_memory(x, kv, src_mask)))
                x = layer.norm3(x + layer.dropout3(layer.ff(x)))
        nxt = model.output(model.decoder.norm(x))[:, -1].argmax(dim=-1).masked_fill(done, PAD)
        tokens = torch.cat([tokens, nxt[:, None]], dim=1)
        done = done | (nxt == EOS)
        if bool(done.all()):
            break
    return tokens[:, 1:]
    ### END SOLUTION


# %% tests="cached_greedy_decode_tests" points=3
import torch
from course.blocks import Seq2SeqTransformer
from course.checks import check
from course.checks import ch08_transformer as ref
from course.tokenizer import EOS

torch.manual_seed(0)
src = torch.tensor([[5, 6, 7, 8], [9, 4, 0, 0]])
lengths = torch.tensor([4, 2])
for config in (dict(norm_first=True, position="sinusoidal"), dict(norm_first=False, position="rope")):
    model = Seq2SeqTransformer(11, 13, d_model=16, n_heads=2, n_encoder_layers=1, n_decoder_layers=2, d_ff=32,
                               dropout=0.0, **config).eval()
    with torch.no_grad():
        model.output.bias[EOS] -= 3.0  # rarely stop, so that most steps are compared
    with ref.PositionCounter(model) as seen:
        got = ref.call(cached_greedy_decode, model, src, lengths, 6)
    want = model.greedy_decode(src, lengths, 6)
    check(isinstance(got, torch.Tensor) and torch.equal(got, want),
          f"cached_greedy_decode ({config}) vs the course's greedy_decode: expected\n{want}\ngot\n{got}")
    check(max(seen.projected, default=0) == 1,
          f"cached_greedy_decode: a decoder layer processed {max(seen.projected, default=0)} positions in one call; "
          "with the cache each step runs the layers on the newest position only (Part 11)")
    check(seen.encoder_calls == 1, f"cached_greedy_decode: encode the source once, not {seen.encoder_calls} times")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch08_transformer as hidden
hidden.check_cached_greedy(cached_greedy_decode)
### END HIDDEN TESTS

# %% [markdown]
# **Predict · 预测:** decoding 40 tokens for 100 sources, how much faster is the cached loop than your
# `greedy_decode`? Write your guess down, then run the next cell.

# %%
with needs("greedy_decode", "cached_greedy_decode", "attention_step"):
    speed = ex.decoding_speed(greedy_decode, cached_greedy_decode, training.preset("cpu"), task)
    print(f"same tokens: {speed['same']};  uncached {speed['uncached_ms']:.0f} ms, cached {speed['cached_ms']:.0f} ms "
          f"({speed['uncached_ms'] / speed['cached_ms']:.1f}× faster)")


# %% [markdown]
# The two loops produce the same tokens, and the printed times show the cache's gain: it grows with
# the sequence length, since the uncached loop's work grows with its square.
#
# ### Beam search · 束搜索
#
# Greedy commits to the most likely token at each step, but the most likely **sequence** can start
# with a less likely token. **Beam search** (束搜索) keeps the `beam_size` best prefixes instead of one
# (the paper decoded with beam size 4 and a length penalty, Vaswani et al. 2017, §6.1; here the plain
# version, no length penalty). The rules, which the tests follow exactly:
#
# * a prefix's score is the sum of the log-probabilities of its tokens; the beam starts as one
#   empty prefix (after `<bos>`) with score 0;
# * each step extends **every** prefix in the beam by **every** token of the vocabulary and keeps the
#   `beam_size` best extensions overall; those that end in `<eos>` are finished and leave the beam,
#   the others form the next beam;
# * stop when the beam is empty, after `max_len` steps, or once the best finished score is at least
#   the best score in the beam (log-probabilities are ≤ 0, so no prefix can catch up);
# * return the best finished sequence (or, if none finished, the best prefix) and its score.
#
# ### Bonus exercise 7 · 附加练习 7: `beam_search`
#
# **Difficulty:** ●●● · **Importance:** ●●○ · **Time:** ~25 min
#
# <details><summary>Hint 1 · 提示 1</summary>
#
# What do you keep per hypothesis? How do you score all extensions of all hypotheses at once, and
# pick the best ones among them?
#
# <details><summary>Hint 2 · 提示 2</summary>
#
# Score every extension at once as a (hypotheses, V) table: what goes in row h, and what must be added
# to it so that it is a whole prefix's score? Picking the best entries of the flattened table gives flat
# indices: how do you get back the hypothesis and the token from one? Where do finished hypotheses go?
#
# </details>
# </details>

# %% answer="beam_search"
@torch.no_grad()
def beam_search(model, src, src_lengths, beam_size, max_len):
    """Beam search for ONE source: src (1, src_len), src_lengths (1,); beam_size >= 1; max_len >= 1.

    Returns (tokens, score): tokens a LongTensor (n,) of ids after <bos>, ending with <eos> when a
    hypothesis finished; score a Python float, the sum of the log-probabilities of those tokens.
    """
    ### BEGIN SOLUTION
    memory, src_mask = model.encode(src, src_lengths)
    beam, finished = [([], 0.0)], []
    for _ in range(max_len):
        if not beam:
            break
        n = len(beam)
        tgt = torch.tensor([[BOS] + seq for seq, _ in beam], device=src.device)  # (n, t)
        logits = model.decode(tgt, memory.expand(n, *memory.shape[1:]), src_mask.expand(n, *src_mask.shape[1:]))
        logp = torch.log_softmax(logits[:, -1].double(), dim=-1)  # (n, V)
        total = logp + torch.tensor([score for _, score in beam], dtype=torch.float64, device=logp.device)[:, None]
        best = total.flatten().topk(min(beam_size, total.numel()))
        vocab = logp.shape[-1]
        beam = []
        for value, index in zip(best.values.tolist(), best.indices.tolist()):
            row, token = divmod(index, vocab)
            seq = tgt[row, 1:].tolist() + [token]
            (finished if token == EOS else beam).append((seq, value))
        if finished and beam and max(s for _, s in finished) >= beam[0][1]:
            break
    tokens, score = max(finished or beam, key=lambda hyp: hyp[1])
    return torch.tensor(tokens, dtype=torch.long), float(score)
    ### END SOLUTION


# %% tests="beam_search_tests" points=3
import math
import torch
from course.checks import check, close
from course.checks import ch08_transformer as ref
from course.tokenizer import EOS

# a scripted model (ids 4 = A, 5 = B): from <bos>, p(A) = 0.5, p(B) = 0.4, p(<eos>) = 0.1; after A: A 0.4, B 0.3,
# <eos> 0.3; after B: <eos> 0.9, A 0.1; after two tokens, <eos> for sure
table = {(): [0, 0, 0.1, 0, 0.5, 0.4], (4,): [0, 0, 0.3, 0, 0.4, 0.3], (5,): [0, 0, 0.9, 0, 0.1, 0],
         (4, 4): [0, 0, 1, 0, 0, 0], (4, 5): [0, 0, 1, 0, 0, 0], (5, 4): [0, 0, 1, 0, 0, 0]}
model = ref.ScriptedLM(6, table)
src, lengths = torch.tensor([[4, 5]]), torch.tensor([2])
tokens, score = ref.call(beam_search, model, src, lengths, 1, 5)
check(isinstance(tokens, torch.Tensor) and tokens.tolist() == [4, 4, EOS],
      f"beam_size 1 is greedy: A, A, <eos> (0.5 · 0.4 · 1); got {tokens}")
close(score, math.log(0.5 * 0.4), atol=1e-5, name="the score of A A <eos>: the SUM of its log-probabilities")
tokens, score = ref.call(beam_search, model, src, lengths, 2, 5)
check(isinstance(tokens, torch.Tensor) and tokens.tolist() == [5, EOS],
      f"beam_size 2 finds B <eos> (0.4 · 0.9 = 0.36 beats 0.2), which greedy misses; got {tokens}")
close(score, math.log(0.36), atol=1e-5, name="the score of B <eos>")
# a beam as wide as the whole tree keeps every candidate, so it must find what trying every sequence finds
model = ref.ScriptedLM(5, seed=3)
best, best_score = ref.brute_force_best(model, 3)
tokens, score = ref.call(beam_search, model, src, lengths, 125, 3)
check(isinstance(tokens, torch.Tensor) and tokens.tolist() == best,
      f"a beam of 125 = 5³ keeps every candidate of a 3-token search over 5 tokens, so it returns the best "
      f"sequence {best}; got {tokens}")
close(score, best_score, atol=1e-4, name="its score")
# the early stop: after one step, <eos> (0.5) ties the best live prefix A (0.5), and no prefix can catch up
model = ref.ScriptedLM(6, {(): [0, 0, 0.5, 0, 0.5, 0], (4,): [0, 0, 0.6, 0, 0.4, 0]})
tokens, score = ref.call(beam_search, model, src, lengths, 2, 5)
check(model.longest == 1, f"the search went on to prefixes of length {model.longest - 1} after the best finished "
      "hypothesis scored AT LEAST as well as the best one left in the beam (a tie counts): stop there, see the rules")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch08_transformer as hidden
hidden.check_beam_search(beam_search)
### END HIDDEN TESTS

# %% [markdown]
# On the trained model: greedy and beam search (beam size 4) side by side, with the log-probability
# of each output.
#
# **Predict · 预测:** on a model that reads numbers well, how often does a beam of 4 change the
# output? Write your guess down, then run the next cell.

# %%
if result is not None:
    with needs("beam_search"):
        for row in ex.greedy_vs_beam(result.model, result.task, ["30201204", "10010", "1015", "7", "99999999"],
                                     beam_search, beam_size=4):
            print(f"{row['source']:>9}  greedy {row['greedy']:<14} {row['greedy_score']:8.3f}   "
                  f"beam {row['beam']:<14} {row['beam_score']:8.3f}")

# %% [markdown]
# On a well-trained model the two columns agree and the scores are close to 0 (probability close to
# 1): each character is nearly certain. Beam search pays off when the model is unsure, e.g. after the
# few steps of an autograded run.
#
# ### Sampling · 采样
#
# To get **varied** outputs instead of the most likely one, sample the next token from the model's
# distribution. **Temperature** T divides the logits before the softmax: T < 1 sharpens the
# distribution towards the argmax, T > 1 flattens it. **Top-k** sampling (Fan et al. 2018) samples
# only among the k most likely tokens. Holtzman et al. (2020) show why pure sampling from a language
# model drifts into unlikely text and propose keeping the smallest set of tokens with a given total
# probability instead (nucleus sampling).
#
# **Predict · 预测:** at which temperature will 8 samples of the same number disagree most? Write your
# guess down, then run the next cell.

# %%
if result is not None:
    for temperature, top_k in [(0.5, None), (1.0, None), (2.0, None), (2.0, 3)]:
        outs = ex.sample_outputs(result.model, result.task, "30201204", n=8, temperature=temperature, top_k=top_k)
        print(f"T = {temperature}, top-k = {top_k}: {len(set(outs))} distinct of 8: {sorted(set(outs))[:4]}")

# %% [markdown]
# Low temperature reproduces the greedy output; high temperature produces distinct, mostly wrong
# readings; top-k = 3 at the same temperature cuts the tail, so fewer distinct outputs than pure
# sampling at T = 2. For a task with one right answer, greedy (or beam) is what you want; sampling is
# for tasks where many outputs are good.
#
# ## Part 12 — The same training from the command line · 命令行训练
#
# `python -m course.train` runs the same loop outside Jupyter, with every setting as an option
# (`--task en` for English words, `--position rope`, `--preset gpu` for a model of the paper's width
# on a GPU, `--checkpoint` / `--resume`); `--student-notebooks DIR` builds the model from your
# notebooks in DIR, as in Part 6. With `torchrun --nproc_per_node=N -m course.train ...` it runs on N
# processes with **distributed data parallel** (数据并行): each process draws different batches, the
# gradients are averaged across processes after every backward pass, and so every replica keeps
# identical weights.

# %%
from course.train import build_parser

print(build_parser().format_help())

# %% [markdown]
# ## Summary · 小结
#
# * Input: $\sqrt{d_\text{model}}\,E[\text{id}] + PE(p)$ (or RoPE inside attention), dropout once on the
#   sum; with the embedding's std $1/\sqrt{d_\text{model}}$ token and position are on the same scale,
#   and Part 10 measured what a std of 1 costs.
# * The model: embed → encoder (source padding mask) → decoder (causal self-attention, cross-attention
#   with the source mask) → output projection, optionally tied to the target embedding (or, with a
#   shared vocabulary, three ways).
# * Greedy decoding feeds the argmax back, encodes once, pads finished rows, stops at `<eos>`; a
#   key/value cache makes each step cost one position; beam search keeps the best prefixes; sampling
#   with temperature and top-k gives varied outputs.
# * Label smoothing: $(1-\varepsilon)\cdot$NLL + $\varepsilon\cdot$ mean over classes of $-\log p$, averaged
#   over real tokens only; its ε/V lands on special tokens too.
# * Stop on a validation split, score the test splits once, and report exact match, not just token
#   accuracy.
#
# ## Glossary · 术语表

# %%
glossary.show("08-transformer")

# %% [markdown]
# ## References · 参考文献
#
# 1. Vaswani, A. et al. (2017). Attention Is All You Need. NeurIPS. arXiv:1706.03762 — §3.4 (embeddings
#    × √d_model, shared embedding and output weights), §3.5 (sinusoidal positions), §5.1 (shared
#    37 000-token vocabulary), §5.2 (100 000 steps), §5.3 (Adam, β₂ = 0.98, ε = 10⁻⁹, the warm-up and
#    inverse-square-root schedule), §5.4 (dropout on the embedding sums, label smoothing 0.1), §6.1
#    (beam size 4), Table 3 (65 M parameters).
# 2. Press, O. & Wolf, L. (2017). Using the Output Embedding to Improve Language Models. EACL.
#    arXiv:1608.05859 — weight tying; translation models under half their size (abstract).
# 3. Szegedy, C. et al. (2016). Rethinking the Inception Architecture for Computer Vision. CVPR.
#    arXiv:1512.00567 — §7, label-smoothing regularisation.
# 4. Müller, R., Kornblith, S. & Hinton, G. (2019). When Does Label Smoothing Help? NeurIPS.
#    arXiv:1906.02629.
# 5. Kingma, D. P. & Ba, J. (2015). Adam: A Method for Stochastic Optimization. ICLR. arXiv:1412.6980.
# 6. Loshchilov, I. & Hutter, F. (2019). Decoupled Weight Decay Regularization. ICLR. arXiv:1711.05101 — AdamW.
# 7. Loshchilov, I. & Hutter, F. (2017). SGDR: Stochastic Gradient Descent with Warm Restarts. ICLR.
#    arXiv:1608.03983 — the cosine schedule.
# 8. Xiong, R. et al. (2020). On Layer Normalization in the Transformer Architecture. ICML.
#    arXiv:2002.04745 — warm-up and Post-LN vs Pre-LN.
# 9. Liu, L. et al. (2020). On the Variance of the Adaptive Learning Rate and Beyond. ICLR.
#    arXiv:1908.03265 — why Adam's first steps are noisy (RAdam).
# 10. Williams, R. J. & Zipser, D. (1989). A Learning Algorithm for Continually Running Fully Recurrent
#     Neural Networks. Neural Computation 1(2) — teacher forcing.
# 11. Papineni, K. et al. (2002). BLEU: a Method for Automatic Evaluation of Machine Translation. ACL.
# 12. Post, M. (2018). A Call for Clarity in Reporting BLEU Scores. WMT. arXiv:1804.08771 — sacreBLEU.
# 13. Pope, R. et al. (2023). Efficiently Scaling Transformer Inference. MLSys. arXiv:2211.05102 — the
#     key/value cache's memory at inference.
# 14. Fan, A., Lewis, M. & Dauphin, Y. (2018). Hierarchical Neural Story Generation. ACL.
#     arXiv:1805.04833 — top-k sampling.
# 15. Holtzman, A. et al. (2020). The Curious Case of Neural Text Degeneration. ICLR. arXiv:1904.09751 —
#     temperature, nucleus sampling.
