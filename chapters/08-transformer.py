# %% [markdown]
# # The Transformer, trained · 组装并训练
#
# Every part of the model now exists: attention (chapter 05), positions (06), LayerNorm and residual
# blocks (03, 04), encoder and decoder layers (07). In this chapter you put them together into one
# encoder–decoder Transformer, teach it to **read Arabic numerals aloud in Chinese**
# (`1204 → 一千二百零四`), score it honestly, and look inside it. The model you train is built from
# **your own** answers of chapters 05–07, read from your copies of those notebooks, and trained with
# your own loss.

# %% [markdown] lang="zh"
# # 组装并训练 · The Transformer, trained
#
# 模型的每个部件现在都有了：注意力（第 05 章）、位置（第 06 章）、层归一化和残差块（第 03、04 章）、
# 编码器层和解码器层（第 07 章）。本章把它们组装成一个完整的编码器-解码器 Transformer，
# 教它**用中文读出阿拉伯数字**（`1204 → 一千二百零四`），对它做诚实的评估，再看看它的内部。你训练的模型由**你自己**在第
# 05–07 章写的答案搭建而成（从你那几章的笔记本中读取），并用你自己写的损失函数来训练。

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

# %% [markdown] lang="zh"
# ## 开始之前 · Before you start
#
# **本章要实现：**
# * `embed`：词元嵌入 × √d_model，再加上位置；
# * `Transformer`：嵌入 → 编码器 → 解码器 → 输出投影，带源序列掩码和共享的权重；
# * `greedy_decode`：把训练好的模型变成一个翻译器；
# * `smoothed_cross_entropy`：带标签平滑、并忽略填充的交叉熵；
# * 附加练习：`attention_step` 和 `cached_greedy_decode`（使用键值缓存的解码），以及 `beam_search`。
#
# **预备知识：** 第 05 章（多头注意力，掩码）、第 06 章（正弦位置表，RoPE）和第 07 章（编码器层与解码器层，堆叠）；第
# 03 章关于预热的讨论。数学：softmax、对数概率、交叉熵、随机向量长度平方的期望。
#
# **用时：** 约 150 分钟（阅读 45 分钟，练习 60 分钟，附加练习 30 分钟，实验 15 分钟；在两个 CPU
# 核心上训练还要再多几分钟）。

# %% [markdown]
# Run the set-up cell first.

# %% [markdown] lang="zh"
# 先运行初始化单元格。

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

# %% [markdown] lang="zh"
# ## 第 1 部分 任务与数据 · Part 1 — The task and the data
#
# 源序列是一个 1 到 8 位的数字串；目标序列是这个数用中文的读法。课程的转换程序遵循一套规则，这里先写明，
# 好让模型只有唯一的正确答案：
#
# * **只用“二”，从不用“两”**：2 → 二，20000 → 二万，200 → 二百（口语中常说两万 / 两百；
#   但模型只能学会数据始终一致遵循的规则）；
# * 开头的“一十”省去“一”（10 → 十，12 → 十二，100000 → 十万），但在数的中间不省（110 → 一百一十）；
# * 数中间连续的若干个零只读一个“零”（1204 → 一千二百零四，10010 → 一万零一十），末尾的零不读（1200 → 一千二百）。
#
# 同样的数字串也可以转换成英文单词（任务 `"en"`），另外还有两个热身任务：原样复制或反转数字串。

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

# %% [markdown] lang="zh"
# 所有数据都是现场生成的，无需下载任何东西。**字符级分词器**（character tokenizer）给每个字符一个 id；其中四个 id
# 是特殊符号：`<pad>` = 0 用来填满批量中较短的行，`<bos>` = 1 位于每个目标序列的开头，`<eos>` = 2 表示序列结束，
# `<unk>` = 3 代表字母表之外的字符。
#
# 一个批量包含：填充到最长源序列长度的源序列 id、各序列的长度，以及目标序列的两种形式：`tgt_in` = `<bos>` +
# 目标（解码器读入的内容）和 `tgt_out` = 目标 + `<eos>`（它在每个位置上必须预测的内容）。
# 这种错开一位的做法就是**教师强制**（teacher forcing；Williams & Zipser 1989）：训练时，
# 解码器读到的始终是真实的前面那些字符。

# %%
task = Task("zh")
batch = task.make_batch(["1204", "20000", "7"])
print("source alphabet:", task.source_tokenizer.alphabet, " target alphabet:", task.target_tokenizer.alphabet)
print("src        ", batch.src.tolist(), " lengths", batch.src_lengths.tolist())
print("tgt_in     ", batch.tgt_in.tolist())
print("tgt_out    ", batch.tgt_out.tolist())
print("decoded    ", [task.target_tokenizer.decode(row) for row in batch.tgt_out.tolist()])

# %% lang="zh"
task = Task("zh")
batch = task.make_batch(["1204", "20000", "7"])
print("源字母表：", task.source_tokenizer.alphabet, " 目标字母表：", task.target_tokenizer.alphabet)
print("src        ", batch.src.tolist(), " 长度", batch.src_lengths.tolist())
print("tgt_in     ", batch.tgt_in.tolist())
print("tgt_out    ", batch.tgt_out.tolist())
print("解码结果   ", [task.target_tokenizer.decode(row) for row in batch.tgt_out.tolist()])

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

# %% [markdown] lang="zh"
# **诚实地使用留出数据。** 分数必须来自训练中从未见过的数，而且这些数不能同时被用来决定何时停止训练。
# 因此数据分成四部分（下面的单元格会统计它们）：
#
# * **valid**（验证集）：4 到 8 位、训练时从不抽取的数；定期评估和提前停止只用这一部分；
# * **test**（测试集）：另一组这样的数，只在最后评估**一次**：这才是模型的分数；
# * **hard**：第二个测试集，独立抽取，并按五种难点分层，各占相等的份额（每五分之一按其中一种情况构造）：数中间有一个零、
#   数中间有连续的零、“万”的边界、数中间十位上是 1（此时“一十”的“一”要读出来），以及以十位上的 1 开头的数（此时这个“一”
#   要省去：150000 → 十五万）；
# * **short**：所有一位数和两位数。如果像训练数据那样抽取测试集，这为数不多的字符串大多会被测试集占去，而从没见过“7”
#   的模型不可能读出它，所以它们留在训练数据中；这一部分检查的是**训练中见过的**内容，并不是测试。

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

# %% lang="zh"
splits = {name: task.split(name) for name in ("valid", "test", "hard", "short")}
for name, sources in splits.items():
    print(f"{task.split_label(name):<26} {len(sources):>5} 个数，例如 {sources[:4]}")
print("valid ∩ test：", len(set(splits["valid"]) & set(splits["test"])),
      " test ∩ hard：", len(set(splits["test"]) & set(splits["hard"])),
      " valid ∩ hard：", len(set(splits["valid"]) & set(splits["hard"])))
train_sample = task.sample(20000, torch.Generator().manual_seed(1))
print("20000 次训练抽样中落在 valid/test/hard 里的个数：",
      len(set(train_sample) & (set(splits["valid"]) | set(splits["test"]) | set(splits["hard"]))),
      "  ……落在 short 里的个数：", len(set(train_sample) & set(splits["short"])))
print(f"{len(HARD_CASES)} 种难点；hard 数据集中分别有多少个数属于每一种：",
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

# %% [markdown] lang="zh"
# 三个留出集之间没有共同的数，训练从不抽取其中的数，而 100 个短数在训练中一直被抽到（最后两个计数）。最后打印的是 hard
# 集的五个层：每种情况至少占该集的五分之一；若为某一种情况构造的数恰好也是另一种情况的例子，占比就更多。
#
# ## 第 2 部分 嵌入与缩放 · Part 2 — Embeddings × √d_model
#
# 嵌入表把每个 id 映射为一个大小为 d_model 的向量。课程以标准差 $1/\sqrt{d_\text{model}}$ 初始化嵌入表，
# 所以每个嵌入向量的长度平方约为 $d \cdot \tfrac{1}{d} = 1$。正弦位置向量 $PE(p)$ 由同一组角度的 $d/2$ 个正弦和 $d/2$
# 个余弦组成，所以它的长度平方恰好是 $d/2$。把嵌入乘以 $\sqrt{d_\text{model}}$，词元向量的长度平方就变为约 $d$，
# 与位置向量同一量级，两者谁也不会淹没谁（Vaswani et al. 2017 在 §3.4 中乘以 $\sqrt{d_\text{model}}$，在 §3.5
# 中加上位置）：
#
# $$x_p = \sqrt{d_\text{model}}\;E[\text{id}_p] + PE(p).$$
#
# 使用 RoPE（第 06 章）时，这里什么也不加：位置改为在注意力内部通过旋转查询和键进入模型。第 10
# 部分会测量两种尺度不匹配时会发生什么。
#
# ### 练习 1 · Exercise 1：`embed`
#
# **难度：** ●○○ · **重要性：** ●●● · **用时：** 约 5 分钟
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 两项中哪一项要乘以系数？表的行数比序列的位置数多：哪些行属于位置 0, 1, …, seq − 1？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 表的形状是 (max_len, d)，嵌入后的 id 是 (batch, seq, d)：取表的前 `seq` 行得到 (seq, d)，它会在批量维上广播。d
# 可以从嵌入模块本身读出（看看它的属性），不需要另外传入。
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


# %% answer="embed" lang="zh"
def embed(ids, embedding, positions=None):
    """模型的输入向量：缩放到与位置向量同一量级的词元嵌入，再加上位置。

    ids：(batch, seq) LongTensor；embedding：nn.Embedding(vocab, d_model)；
    positions：None（RoPE：没有相加的位置），或一张 (max_len, d_model) 的表，max_len >= seq。
    返回 (batch, seq, d_model)。
    """
    ### BEGIN SOLUTION
    x = embedding(ids) * math.sqrt(embedding.embedding_dim)  # (batch, seq, d_model)
    if positions is not None:
        x = x + positions[: ids.shape[1]]  # (seq, d_model) 在批量维度上广播
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
ref.explain(x[0], [
    ("embed: the token embeddings are not scaled; multiply them by √d_model (Part 2)", E + table[:3]),
    ("embed: you multiplied by d_model; the factor is its square root, √d_model (Part 2)", E * 4 + table[:3]),
    ("embed: you divided by √d_model; the token embedding is multiplied by it (Part 2)", E / 2 + table[:3]),
    ("embed: you scaled the positions too; only the token embedding is multiplied by √d_model (Part 2)",
     (E + table[:3]) * 2),
    ("embed: the positions are shifted; the token at position p gets row p of the table, from row 0 (Part 2)",
     E * 2 + table[1:4]),
    ("embed: the positions were not added; with a table, x = √d_model·E[id] + PE(p) (Part 2)", E * 2),
])
close(x[0], E * 2 + table[:3], name="embed of tokens 1, 2, 3: E[id]·√4 + table[p]")
close(call(embed, torch.tensor([[4]]), emb, None), (emb.weight[4] * 2)[None, None],
      name="with positions=None only the scaled embedding")
# a second embedding (d_model 9, so √d_model = 3), a batch of two and another table
emb9, ids, table9 = nn.Embedding(3, 9), torch.tensor([[2, 0], [1, 1]]), torch.arange(36.0).view(4, 9) / 100
with ref.second_values("embed(ids (2, 2), embedding=nn.Embedding(3, 9), positions (4, 9))"):
    close(call(embed, ids, emb9, table9), emb9.weight.detach()[ids] * 3 + table9[:2],
          name="the factor is √9 = 3 here: √d_model comes from the embedding given (embedding.embedding_dim), "
               "not a fixed number")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch08_transformer as hidden
hidden.check_embed(embed)
### END HIDDEN TESTS

# %% [markdown]
# ## Part 3 — Assembling the model · 组装模型
#
# The whole model, from ids to logits:
#
#     src ids ─ embed ─ dropout ─ encoder (source padding mask) ──────────┐ memory
#     tgt ids ─ embed ─ dropout ─ decoder (causal self-attention; cross-attention to memory, source padding mask)
#                                  └─ output projection → logits (batch, tgt_len, tgt_vocab)
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

# %% [markdown] lang="zh"
# ## 第 3 部分 组装模型 · Part 3 — Assembling the model
#
# 整个模型，从 id 到 logits：
#
#     src ids ─ embed ─ dropout ─ encoder (source padding mask) ──────────┐ memory
#     tgt ids ─ embed ─ dropout ─ decoder (causal self-attention; cross-attention to memory, source padding mask)
#                                  └─ output projection → logits (batch, tgt_len, tgt_vocab)
#
# 模型由若干**部件**组成（`parts=`，默认为 `course_parts`）：课程的 `Encoder` 和 `Decoder` 堆叠（第 07 章的设计；
# 解码器自己构造因果掩码）、课程的正弦位置表和 RoPE。
# 第 6 部分会换上你在第 05–07 章写的部件。`padding_mask(lengths,
# max_len)` → `(batch, 1, 1, max_len)`，真实词元处为 True。调用方式如下：
#
# * `self.encoder(x, mask, rope)`，其中 `x` 为 (batch, src_len, d_model)，返回 (batch, src_len, d_model)；
# * `self.decoder(y, memory, memory_mask, rope)`，返回 (batch, tgt_len, d_model)；
# * `rope` 就是 `self.rope`：使用正弦位置时为 `None`，否则是一个 RoPE 模块，由注意力层把它作用在查询和键上。
#
# **输入上的 dropout。** 论文把 dropout 作用于“嵌入与位置编码之和”（Vaswani et al. 2017, §5.4）：每个输入一次，
# 在加上位置之后、进入第一层之前。（下面的 CPU 训练方案用的 dropout 为 0；测试会在训练模式下、
# 用与参考实现相同的随机种子检查 dropout 的位置。）
#
# **共享输出权重**（weight tying）：输出投影把一个向量映射为每个目标词元的一个分数，即 $W_\text{out} h$，其中
# $W_\text{out}$ 的形状为 (tgt_vocab, d_model)，与目标嵌入表的形状相同。两者共用一个矩阵，可以省下 tgt_vocab × d_model
# 个参数，并且把输入和输出两端“哪个向量表示‘万’”绑定在一起（Press & Wolf 2017）。在 PyTorch 中，共享权重就是把*同一个*
# `nn.Parameter` 赋给两个模块。
#
# ### 练习 2 · Exercise 2：`Transformer`
# `__init__` 除权重共享之外都已写好；请保留其中的属性名（测试会按名字把课程的参考权重加载到你的模型中）。
# 请写出权重共享、`encode`、`decode` 和 `forward`（`forward` 先编码，再解码）。
#
# **难度：** ●●○ · **重要性：** ●●● · **用时：** 约 20 分钟
#
# <details><summary>提示 1 · Hint 1</summary>
#
# `encode` 需要哪个掩码，它由什么构造出来？有哪两个地方读取源序列，因而需要这个掩码？`encode` 要交给 `decode` 什么？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# `encode` 返回记忆和源序列掩码，这样 `decode` 就能把掩码传给解码器的交叉注意力。你的 `embed` 接收位置表
# `self.pe`（使用 RoPE 时为 None）；dropout 作用在 `embed` 的返回值上。共享权重只需一次对 Parameter 的赋值，
# 方向要能保留嵌入层的初始化。
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


# %% answer="Transformer" lang="zh"
class Transformer(nn.Module):
    """作用在词元 id 上的编码器-解码器 Transformer。

    forward(src, src_lengths, tgt_in)：
        src (batch, src_len) 为 id，右侧用 PAD 填充；src_lengths (batch,) 为真实长度；
        tgt_in (batch, tgt_len) 为以 BOS 开头的 id。
        返回 logits (batch, tgt_len, tgt_vocab)。
    encode(src, src_lengths) -> (memory (batch, src_len, d_model), src_mask (batch, 1, 1, src_len) bool)
    decode(tgt_in, memory, src_mask) -> logits (batch, tgt_len, tgt_vocab)
    """

    def __init__(self, src_vocab, tgt_vocab, d_model=128, n_heads=4, n_encoder_layers=2, n_decoder_layers=2,
                 d_ff=512, dropout=0.1, norm_first=True, position="sinusoidal", tie_output=False, parts=None):
        super().__init__()
        if position not in ("sinusoidal", "rope"):
            raise ValueError(f"position must be 'sinusoidal' or 'rope', got {position!r}")
        parts = course_parts if parts is None else parts  # 各个构件（第 6 部分换成你自己的）
        self.d_model = d_model
        self.src_embed = nn.Embedding(src_vocab, d_model)
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model)
        for table in (self.src_embed, self.tgt_embed):
            nn.init.normal_(table.weight, std=d_model ** -0.5)
        # sinusoidal：一张加到嵌入上的 (256, d_model) 表；RoPE：在注意力内部做旋转
        pe = parts.positions(256, d_model) if position == "sinusoidal" else None
        self.register_buffer("pe", pe, persistent=False)
        self.rope = parts.Rotary(d_model // n_heads) if position == "rope" else None
        self.embed_dropout = nn.Dropout(dropout)
        self.encoder = parts.Encoder(n_encoder_layers, d_model, n_heads, d_ff, dropout, norm_first)
        self.decoder = parts.Decoder(n_decoder_layers, d_model, n_heads, d_ff, dropout, norm_first)
        self.output = nn.Linear(d_model, tgt_vocab)
        ### BEGIN SOLUTION
        if tie_output:
            self.output.weight = self.tgt_embed.weight  # 同一个 Parameter，用了两次
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
        """已给出：把你在练习 3 中写的 greedy_decode 作为方法（课程的评估会调用它）。"""
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
# every size a second time, and other inputs: a batch of 3, sources of length 4, targets of length 3
src3, lengths3 = torch.tensor([[5, 6, 7, 8], [9, 4, 0, 0], [6, 0, 0, 0]]), torch.tensor([4, 2, 1])
tgt3 = torch.tensor([[1, 4, 5], [1, 6, 7], [1, 8, 0]])
with ref.second_values("Transformer(src_vocab=10, tgt_vocab=9, d_model=12, n_heads=3, n_encoder_layers=2, "
                       "n_decoder_layers=2, d_ff=20, dropout=0.3, norm_first=False, position='rope') on src (3, 4), "
                       "src_lengths [4, 2, 1], tgt_in (3, 3)"):
    reference, model = ref.paired_models(Transformer, dict(d_model=12, n_heads=3, n_encoder_layers=2,
                                                           n_decoder_layers=2, d_ff=20, norm_first=False,
                                                           tie_output=False, position="rope"), 10, 9, seed=1,
                                         dropout=0.3)
    with torch.no_grad():
        logits = ref.call(model, src3, lengths3, tgt3)
        rope, reference.rope = reference.rope, None
        without_positions = reference(src3, lengths3, tgt3)
        reference.rope = rope
        ref.explain(logits, [("Transformer(position='rope'): your logits are those of a model with no positions at "
                              "all; pass self.rope to the encoder and the decoder (Part 3)", without_positions)],
                    atol=1e-4)
        close(logits, reference(src3, lengths3, tgt3), atol=1e-4, name="logits vs the reference")
    ref.expect_train_mode(reference, model, src3, lengths3, tgt3, seed=2,
                          what="logits in train mode (dropout on), same seed as the reference")
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

# %% [markdown] lang="zh"
# **预测 · Predict：** 未经训练的模型只能瞎猜。在 V 个目标词元上均匀猜测，交叉熵是多少？先写下你的猜测，
# 再运行下一个单元格。

# %%
with needs("Transformer", "embed"):
    torch.manual_seed(0)
    model = Transformer(len(task.source_tokenizer), len(task.target_tokenizer))
    logits = model(batch.src, batch.src_lengths, batch.tgt_in)
    loss0 = F.cross_entropy(logits.flatten(0, 1), batch.tgt_out.flatten(), ignore_index=PAD)
    print("logits", tuple(logits.shape), f"  parameters {sum(p.numel() for p in model.parameters()):,}")
    print(f"loss at initialisation {loss0.item():.3f}  vs  ln(vocab) = {math.log(len(task.target_tokenizer)):.3f}")

# %% lang="zh"
with needs("Transformer", "embed"):
    torch.manual_seed(0)
    model = Transformer(len(task.source_tokenizer), len(task.target_tokenizer))
    logits = model(batch.src, batch.src_lengths, batch.tgt_in)
    loss0 = F.cross_entropy(logits.flatten(0, 1), batch.tgt_out.flatten(), ignore_index=PAD)
    print("logits", tuple(logits.shape), f"  参数个数 {sum(p.numel() for p in model.parameters()):,}")
    print(f"初始化时的损失 {loss0.item():.3f}，而 ln(vocab) = {math.log(len(task.target_tokenizer)):.3f}")


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

# %% [markdown] lang="zh"
# 打印出的损失接近 $\ln V$：未经训练的模型的猜测在目标字母表上接近均匀分布。
#
# ## 第 4 部分 贪心解码 · Part 4 — Greedy decoding
#
# 测试时没有目标序列可读。解码器一次写出一个字符：从 `<bos>` 开始，让解码器读入目前写出的全部内容，
# 取**最可能**的下一个词元（最后一个位置的 logits 的 argmax），把它接到后面，如此重复。源序列只需编码一次：
# 解码过程中记忆不会改变。
#
# 一个批量一起解码：某一行产生 `<eos>` 之后就算完成了，此后它只得到 `<pad>`，而其他行继续解码；当每一行都完成或者走完
# `max_len` 步时停止。
#
# 贪心解码得到的不一定是最可能的序列；第 11 部分会实现保留多个前缀的束搜索，并与贪心解码做比较。
#
# ### 练习 3 · Exercise 3：`greedy_decode`
#
# **难度：** ●●○ · **重要性：** ●●● · **用时：** 约 15 分钟
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 第一步时解码器读入的是什么？logits 的哪个位置预测下一个词元？一行怎样记住它已经完成了？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 维护一个 (batch, t) 的词元张量，它一开始是一列 `<bos>`；再维护一个 (batch,) 的布尔张量，记录哪些行已经完成。
# 每一步追加一列（已完成的行填 `<pad>`），并更新这些标志。答案就是去掉第一列之后的词元。
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


# %% answer="greedy_decode" lang="zh"
@torch.no_grad()
def greedy_decode(model, src, src_lengths, max_len):
    """用一个像上面的 Transformer 那样带有 encode() 和 decode() 的模型做贪心解码。

    src (batch, src_len)，src_lengths (batch,)，max_len：int，最多生成的词元数。
    返回 LongTensor (batch, n)，n <= max_len：生成的词元，不含开头的 BOS；
    每一行在它的第一个 EOS 处结束（包括这个 EOS），其后为 PAD。一旦每一行都已生成 EOS，
    就提前停止。
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
ref.explain(out, [
    ("greedy_decode: the output starts with <bos>; return only the tokens produced after it (Part 4)",
     torch.tensor([[BOS, 5, 6, EOS, PAD], [BOS, 7, 8, 9, 9]])),
    ("greedy_decode: after a row's <eos> it gets <pad>, not more predictions (Part 4)",
     torch.tensor([[5, 6, EOS, 9], [7, 8, 9, 9]])),
    ("greedy_decode: max_len=4 allows at most 4 tokens; you produced one more (Part 4)",
     torch.tensor([[5, 6, EOS, PAD, PAD], [7, 8, 9, 9, 9]])),
], atol=0)
want = torch.tensor([[5, 6, EOS, PAD], [7, 8, 9, 9]])
check(isinstance(out, torch.Tensor) and torch.equal(out, want),
      "scripted model, max_len 4: expected (no <bos>; <pad> after <eos>)\n{want}\ngot\n{out}", want=want, out=out)
model = ref.ScriptedModel(torch.tensor([[5, EOS, 9, 9], [6, 7, EOS, 9]]), vocab=10)
out = ref.call(greedy_decode, model, ref.scripted_sources(2, 3), torch.tensor([3, 2]), 10)
check(isinstance(out, torch.Tensor) and tuple(out.shape) == (2, 3),
      "greedy_decode: stop as soon as every row has produced <eos> (here after 3 steps), even when max_len "
      "allows more (Part 4); got an output of shape {shape}", shape=tuple(getattr(out, "shape", ())))
# one source alone, max_len 2: the batch size comes from src, the limit from max_len, the lengths go to encode
model = ref.ScriptedModel(torch.tensor([[5, 6, EOS, 9], [7, 8, 9, 9]]), vocab=10)
with ref.second_values("greedy_decode(model, src of ONE row (1, 3), src_lengths=[2], max_len=2)"):
    out = ref.call(greedy_decode, model, ref.scripted_sources(2, 3)[1:], torch.tensor([2]), 2)
    check(isinstance(out, torch.Tensor) and out.tolist() == [[7, 8]],
          "expected [[7, 8]]: at most max_len = 2 tokens, for the one row of src; got\n{out}", out=out)
    check(model.src_lengths == [2], "model.encode got src_lengths {got}; pass it the src_lengths given",
          got=model.src_lengths)
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

# %% [markdown] lang="zh"
# ## 第 5 部分 标签平滑 · Part 5 — The loss, with label smoothing
#
# 训练在每个非填充位置上最小化模型分布 $p$ 与目标分布 $q$ 之间的交叉熵。普通的交叉熵使用独热的 $q$。**标签平滑**（label
# smoothing；Szegedy et al. 2016, §7，最初用于单标签的 ImageNet 分类）把目标概率中的一部分 ε 挪给全部 V
# 个类别上的均匀分布：
#
# $$q = (1-\varepsilon)\,\text{onehot}(y) + \frac{\varepsilon}{V}, \qquad
# \ell = -\sum_c q_c \log p_c = (1-\varepsilon)\,(-\log p_y) + \varepsilon \cdot \frac{1}{V}\sum_c (-\log p_c).$$
#
# 这样一来，模型就永远不会被推向无穷大的置信度。论文使用 ε = 0.1，并报告它“损害了困惑度，因为模型学会了更不确定，
# 但提高了准确率和 BLEU 分数”（Vaswani et al. 2017, §5.4）。损失是在真实目标位置上求的平均：填充位置（`targets == PAD`）
# 既不计入总和，也不计入个数。
#
# ### 练习 4 · Exercise 4：`smoothed_cross_entropy`
# 用 `torch.log_softmax` 来写（测试会与 `F.cross_entropy(..., label_smoothing=ε,
# ignore_index=PAD)` 比较，而在你的函数运行期间，这个函数是被禁用的）。
#
# **难度：** ●●○ · **重要性：** ●●○ · **用时：** 约 15 分钟
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 公式在每个位置上有两项：哪一项需要目标的 id，哪一项要用到每个类别？你要对什么求平均，又有什么必须排除在平均之外？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 在最后一维上用 `gather` 取出 −log p_y；在最后一维上求平均得到 (1/V) Σ_c −log p_c。在每个位置上把两者组合起来，
# 然后只在 `targets != PAD` 的位置上求平均（用布尔索引，或者用带掩码的求和除以真实词元的个数）。
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


# %% answer="smoothed_cross_entropy" lang="zh"
def smoothed_cross_entropy(logits, targets, smoothing):
    """在非填充目标上取平均的标签平滑交叉熵。

    logits (batch, seq, vocab)，浮点数；targets (batch, seq)，id，没有目标的位置为 PAD；
    smoothing：[0, 1) 中的 float。返回一个 0 维张量。
    """
    ### BEGIN SOLUTION
    logp = torch.log_softmax(logits, dim=-1)  # (batch, seq, vocab)
    nll = -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (batch, seq)：-log p_y
    uniform = -logp.mean(dim=-1)  # (batch, seq)：(1/V) Σ_c -log p_c
    loss = (1 - smoothing) * nll + smoothing * uniform
    return loss[targets != PAD].mean()
    ### END SOLUTION


# %% tests="smoothed_cross_entropy_tests" points=3
import math
import torch
from course.checks import close, msg
from course.checks import ch08_transformer as ref
from course.tokenizer import PAD

with ref.no_builtin_cross_entropy():
    # two classes, logits (0, 0): p = (1/2, 1/2), so every loss is ln 2, smoothed or not
    got = ref.call(smoothed_cross_entropy, torch.zeros(1, 2, 2), torch.tensor([[1, 1]]), 0.1)
    ref.explain(got, [("smoothed_cross_entropy: you summed over the positions; the loss is their MEAN (Part 5)",
                       2 * math.log(2))])
    close(got, math.log(2), name="uniform prediction over two real positions: the loss is ln 2")
    # hand-worked: logits (0, ln 6, ln 3) -> p = (0.1, 0.6, 0.3); target 1, eps 0.2; the second position is padding
    logits = torch.tensor([[[0.0, math.log(6), math.log(3)], [5.0, -5.0, 0.0]]])
    logp = [math.log(0.1), math.log(0.6), math.log(0.3)]
    want = -0.8 * logp[1] - 0.2 * sum(logp) / 3
    lp_pad = torch.log_softmax(logits[0, 1], -1).tolist()  # the padding position, if it were counted (target 0)
    got = ref.call(smoothed_cross_entropy, logits, torch.tensor([[1, PAD]]), 0.2)
    ref.explain(got, [
        ("smoothed_cross_entropy: the padding position was counted; average over targets != PAD only (Part 5)",
         (want - 0.8 * lp_pad[0] - 0.2 * sum(lp_pad) / 3) / 2),
        ("smoothed_cross_entropy: ε/(V − 1) on the other classes is another smoothing; this one spreads ε/V over "
         "all V classes, the target included (Part 5)", -0.8 * logp[1] - 0.1 * (logp[0] + logp[2])),
        ("smoothed_cross_entropy: the result is unsmoothed cross-entropy; add the ε-weighted mean over classes "
         "(Part 5)", -logp[1]),
        ("smoothed_cross_entropy: ε and 1 − ε are swapped (Part 5)", -0.2 * logp[1] - 0.8 * sum(logp) / 3),
        ("smoothed_cross_entropy: you smoothed p instead of the target q: the formula mixes the two log terms, not "
         "the probabilities (Part 5)", -math.log(0.8 * 0.6 + 0.2 / 3)),
    ])
    close(got, want, name="hand-worked case with one padding position (which must not count)")
    # the same case with smoothing 0.5: the weights 1 − ε and ε come from the argument
    got = ref.call(smoothed_cross_entropy, logits, torch.tensor([[1, PAD]]), 0.5)
    ref.explain(got, [(msg("smoothed_cross_entropy(..., smoothing=0.5) gave the loss of smoothing {eps}: use the "
                           "smoothing argument, not a fixed number (Part 5)", eps=eps),
                       -(1 - eps) * logp[1] - eps * sum(logp) / 3) for eps in (0.1, 0.2)])
    close(got, -0.5 * logp[1] - 0.5 * sum(logp) / 3,
          name="the hand-worked case with smoothing=0.5: (1 − ε)·(−log p_y) + ε·mean(−log p)")
### BEGIN HIDDEN TESTS
from course_grader.checks import ch08_transformer as hidden
hidden.check_smoothed_loss(smoothed_cross_entropy)
### END HIDDEN TESTS

# %% [markdown]
# **Where the ε goes.** ε/V lands on every class, including the special tokens `<pad>`, `<bos>` and
# `<unk>`, which are never a target here. The next cell counts how much of each target position's
# probability the smoothed target puts on them.

# %% [markdown] lang="zh"
# **ε 去了哪里。** ε/V 落在每一个类别上，包括特殊符号 `<pad>`、`<bos>` 和 `<unk>`，而它们在这里从来不是目标。
# 下一个单元格统计平滑后的目标在每个目标位置上分给它们多少概率。

# %%
V = len(task.target_tokenizer)
never = [PAD, BOS, UNK]
print(f"V = {V} target classes; {len(never)} of them are never targets; with ε = 0.1 the smoothed target puts "
      f"{100 * 0.1 * len(never) / V:.2f} % of every position's probability on them")

# %% lang="zh"
V = len(task.target_tokenizer)
never = [PAD, BOS, UNK]
print(f"V = {V} 个目标类别，其中 {len(never)} 个从来不是目标；ε = 0.1 时，平滑后的目标在每个位置上把 "
      f"{100 * 0.1 * len(never) / V:.2f} % 的概率放在它们上面")

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

# %% [markdown] lang="zh"
# 因此，朝着这个目标训练的模型被要求在不可能正确的词元上保留一些概率；argmax 解码并不在乎这一点，但损失永远降不到零。
# （Müller et al. 2019 研究了平滑对网络的表示和校准有什么影响。）
#
# ## 第 6 部分 用你自己的代码组装模型 · Part 6 — Your model, built from your chapters
#
# 这个模型中的一切都可以是你自己写的。下一个单元格读取你在第 05–07 章的笔记本（就在本章旁边的文件夹里：
# `../05-attention/05-attention.ipynb` 等；如果你的笔记本放在别处，把 `STUDENT_NOTEBOOKS` 设为那个文件夹），
# 从中取出你的 `MultiHeadAttention` 和 `causal_mask`（第 05 章）、你的 `sinusoidal_table` 和 `apply_rope`（第 06 章），
# 以及你的 `FeedForward`、`EncoderLayer`、`DecoderLayer`、`Encoder` 和 `Decoder`（第 07 章）。只运行答案单元格，
# 每个笔记本在一个全新的命名空间中运行，而且每个部件都必须先通过它所在章节的可见测试。缺失的、
# 尚未完成的或未通过测试的部件，只在这一个部件上换成课程的版本；表格会说明换了哪些、为什么换，
# 并展示实际使用的代码（打开 *source*）。你在练习 2 中写的 `Transformer` 把这些部件组装起来，训练时用的是你的
# `smoothed_cross_entropy`。

# %%
STUDENT_NOTEBOOKS = None  # None: the notebooks next to this one (../05-attention/...); or a folder like "~/course"
build = None
with needs("Transformer", "embed", "greedy_decode", "smoothed_cross_entropy"):
    build = ex.your_model(STUDENT_NOTEBOOKS, training.preset("cpu"), Transformer, smoothed_cross_entropy)
    display(build)

# %% lang="zh"
STUDENT_NOTEBOOKS = None  # None：与本笔记本并列的那些笔记本（../05-attention/...）；或者一个文件夹，比如 "~/course"
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

# %% [markdown] lang="zh"
# ### 训练流程 · How it is trained
#
# 训练循环（`course/training.py`，如下图所示）重复同一个步骤：抽取一个新的批量（数据从不重复），运行模型，计算损失，
# 反向传播，裁剪梯度的全局范数（这样一个坏批量不会把权重甩得太远），然后按调度器为这一步给出的学习率执行一步优化。每隔
# `eval_interval` 步，它就在**验证集**上评估一次，保存一个**检查点**（完整的训练状态：权重、优化器、调度器、步数、
# 随机数状态，因此中断的训练可以精确地恢复），并在验证集完全匹配率达到目标后提前停止。直到这时，才对测试集评估一次。

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

# %% [markdown] lang="zh"
# **训练方案，以及论文的做法。** 论文用 Adam（β₁ = 0.9，β₂ = 0.98，ε = 10⁻⁹；Kingma & Ba 2015）训练，学习率调度为
# $\text{lrate} = d_\text{model}^{-0.5}\cdot\min(\text{step}^{-0.5},\ \text{step}\cdot\text{warmup}^{-1.5})$
# 其中 warmup = 4000：先线性预热，再按 $1/\sqrt{\text{step}}$ 衰减，永远不会降到零（Vaswani et al. 2017, §5.3；
# 基础模型训练了 100 000 步，§5.2）。下面打印的课程 CPU 训练方案有意与之不同：使用 **AdamW**（权重衰减解耦的 Adam；
# Loshchilov & Hutter 2019），betas 相同；先线性预热，再在固定的总步数内按**余弦衰减**降到零（Loshchilov & Hutter
# 2017），这适合事先知道长度的短时间训练。`course.training` 也提供论文的调度形状（`decay="inverse_sqrt"`）。第 03
# 章讨论过 Post-LN 和 Pre-LN 的预热（Xiong et al. 2020）；这个模型是 Pre-LN，但仍然做一小段预热，
# 这是一种成本很低的预防措施，因为在最初几步，Adam 的二阶矩估计只由很少的梯度得来（Liu et al. 2020）。
#
# **标签平滑**只是一个字段（`label_smoothing`）；预设配置把它设为 0。它对这个任务是否有帮助，要靠实验回答：
# `benchmarks/student_model.py --smoothing` 分别以 ε = 0 和 ε = 0.1 训练参考模型，并报告达到 99 %
# 验证集完全匹配率所需的步数。在课程机器上的一次运行中（种子 0，2026-12-03，使用预设配置以前的方案：宽度 128，lr 2e-3，
# 不抽取难例），ε = 0.1 在 600 步中的最后一步达到 99.1 %，而 ε = 0 最终为 98.2 %；在分层的 hard 集上，两者分别得到 88.6
# % 和 78.1 %。一个种子下不了定论，但这足以成为你自己试试 `label_smoothing=0.1` 的理由。
#
# 在 GPU 上，训练循环在 **bf16 autocast** 下执行前向计算（`course.training`）。运行哪个注意力内核取决于模型：
# 课程的参考模型（`course.blocks`，即第 12 部分中 `--preset gpu` 的训练）调用 `F.scaled_dot_product_attention`，
# 它可以选用融合内核；而你在这里训练的模型使用你在第 05 章写的注意力，它由矩阵乘积和 softmax 写成，
# 所以不会用到任何融合内核。
#
# **预测 · Predict：** 下图在峰值和预热相同的条件下比较两种调度。哪一种最后更高？论文的调度会降到零吗？先写下你的猜测，
# 再运行下一个单元格。

# %%
config = training.preset("cpu")
print(config)
fig, schedules = ex.schedule_figure(config)
ex.show(fig)
print(f"last step of the run: cosine {schedules['cosine_end']:.2e}, "
      f"inverse square root {schedules['inv_sqrt_end']:.2e}; "
      f"the paper's rate at step 100 000: {schedules['paper_at_100k']:.2e} (peak {schedules['paper_peak']:.2e})")

# %% lang="zh"
config = training.preset("cpu")
print(config)
fig, schedules = ex.schedule_figure(config)
ex.show(fig)
print(f"本次运行的最后一步：余弦 {schedules['cosine_end']:.2e}，"
      f"平方根倒数 {schedules['inv_sqrt_end']:.2e}；"
      f"论文的学习率在第 100 000 步：{schedules['paper_at_100k']:.2e}（峰值 {schedules['paper_peak']:.2e}）")

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

# %% [markdown] lang="zh"
# 余弦曲线在最后一步降到零；平方根倒数曲线只降到了其峰值的某个比例（已打印出来），而论文的学习率在训练 100 000 步之后，
# 仍是打印出的那个非零值。
#
# 现在训练**你的**模型：它按预设配置的规模搭建，实时曲线（训练开始后出现）跟踪损失和验证集完全匹配率。
# 单元格会打印训练用了多长时间：在课程的两个 CPU 核心上，预设配置用 17–21 s 的训练就达到了 99 %（三个种子，
# 课程自己的参考模型；`benchmarks/race_nn_transformer.py`，2026-12-03），另外还要加上评估的时间。（笔记本被自动评分时，
# `ex.budget`，即课程的 `training_budget`，会把训练缩短到几步，并把评估集缩减到 50 个数：成绩从不依赖于训练，
# 评分程序也不该在每个学生身上花几分钟来训练。）

# %%
config = ex.budget(training.preset("cpu", eval_interval=100, eval_size=300, target_exact=0.99,
                                  checkpoint="checkpoints/08-zh.pt"))
plot = LiveLossPlot(title=ex.task_title(config))
result = None
with needs("Transformer", "embed", "greedy_decode", "smoothed_cross_entropy"):
    model_class = build.model_class if build is not None else Transformer
    result = ex.train(config, model_class, loss=smoothed_cross_entropy, callbacks=[plot])
    print(f"{result.steps} steps in {result.train_seconds:.0f} s of training "
          f"(+{result.eval_seconds:.0f} s of evaluation), stopped by: {ex.stop_reason(result)}")

# %% lang="zh"
config = ex.budget(training.preset("cpu", eval_interval=100, eval_size=300, target_exact=0.99,
                                  checkpoint="checkpoints/08-zh.pt"))
plot = LiveLossPlot(title=ex.task_title(config))
result = None
with needs("Transformer", "embed", "greedy_decode", "smoothed_cross_entropy"):
    model_class = build.model_class if build is not None else Transformer
    result = ex.train(config, model_class, loss=smoothed_cross_entropy, callbacks=[plot])
    print(f"训练 {result.steps} 步，用时 {result.train_seconds:.0f} 秒"
          f"（另有 {result.eval_seconds:.0f} 秒用于评估），停止原因：{ex.stop_reason(result)}")

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

# %% [markdown] lang="zh"
# 检查点让训练可以接着进行：用同样的配置加上 `resume=True` 再运行一次，它就从保存的那一步继续（数据流和 dropout
# 的随机数流都与不中断时完全相同），所以中断的训练不会有任何损失。命令行也有同样的开关（`--resume`）。
#
# ## 第 7 部分 评估 · Part 7 — How good is it?
#
# 每个数据集有三个分数：
#
# * **逐词准确率**（token accuracy）：在教师强制下，最可能的下一个字符有多大比例是正确的；
# * **完全匹配**（exact match）：贪心解码的输出与整个目标逐字符完全相同。这才是翻译器的用户所看到的；
# * **BLEU**（Papineni et al. 2002；语料级，由 `sacrebleu` 程序包计算，Post 2018，使用它按字符切分的中文分词器）：
#   机器翻译的评价分数，范围 0–100，对重叠的 n 元组给予部分分数。课程调用它时设置了 `effective_order=True`：
#   只有一两个字符的输出没有 4 元组，而普通 BLEU 对 1 元到 4 元精确率取几何平均，此时无论输出是什么都得 0；
#   有效阶数只在实际存在的阶上求平均。
#
# 逐词准确率通常是三者中最好看的：贪心解码时早早错一个字符，就可能让后面全部跑偏，而教师强制掩盖了这一点；
# 完全匹配则把整个输出都算作错误。但这并非定律：逐词准确率是在教师强制下测量的，完全匹配则不是，
# 所以模型的分数也可能反过来（单元格会打印全部三个分数；请自己比较）。
#
# **预测 · Predict：** 哪个数据集的分数最低，低多少？先写下你的猜测，再运行下一个单元格。

# %%
if result is not None:
    scores = result.metrics  # scored once, at the end of training
    for name in ("test", "hard", "short", "valid"):
        print(scores[name].summary())
    print("token accuracy minus exact match, in points:",
          {name: round(100 * (scores[name].token_accuracy - scores[name].exact), 2) for name in ("test", "hard")})
else:
    print("(Train the model above first.)")

# %% lang="zh"
if result is not None:
    scores = result.metrics  # 在训练结束时评分一次
    for name in ("test", "hard", "short", "valid"):
        print(scores[name].summary())
    print("逐词准确率减去完全匹配（百分点）：",
          {name: round(100 * (scores[name].token_accuracy - scores[name].exact), 2) for name in ("test", "hard")})
else:
    print("（请先训练上面的模型。）")

# %% [markdown]
# The test line is the model's score. The hard split is where errors concentrate when there are any
# (compare its exact match with the test's), the short split was seen in training, and the validation
# line is the split that decided when to stop, so it is not a fair score.
#
# **Error analysis** (错误分析): the wrong outputs themselves teach more than the percentage. Look
# for patterns: are the errors long numbers? Zeros in the middle (the 零 rule)? The 万 boundary?

# %% [markdown] lang="zh"
# 测试集那一行就是模型的分数。如果有错误，错误会集中在 hard 集上（比较它和测试集的完全匹配率），short 集在训练中见过，
# 而验证集那一行是用来决定何时停止训练的数据集，因此不是一个公平的分数。
#
# **错误分析**（error analysis）：错误的输出本身比百分比更有启发。找找规律：出错的是不是长数？是不是中间有零（“零”
# 的规则）？还是“万”的边界？

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

# %% [markdown] lang="zh"
# ## 第 8 部分 交叉注意力可视化 · Part 8 — Looking inside: cross-attention
#
# 下面的视图让你训练好的模型在 30201204 上运行一次，并记录下每一个注意力层：编码器在数字上的自注意力、
# 解码器在自己输出上的因果自注意力，以及交叉注意力，每一层、每一个头都有。在交叉注意力图中，每一行是解码器的一个位置，
# 标签是它读入的词元（先是 `<bos>`，然后是到目前为止的输出）；它写出的是下一个字符。所以标为“三”的那一行，是写出“三”
# 后面那个字符的那一步。在训练好的模型中，写出数字字符（三、二、一、四）
# 的那些步往往把大部分权重放在它自己对应的数字上或其旁边，于是形成一条沿源序列向下走的带；写出“千”“百”“万”或“零”
# 的那些步没有自己对应的数字，权重比较分散（大图旁边的熵条显示哪些行比较尖锐）。这条带有多清晰，每次训练、
# 每个头都不一样。把鼠标悬停在源序列的某个数字上，就能在所有头中同时看到哪些步读取了它；点击大图中的一个格子，
# 可以把它的分数拆开来看（q、k、q·k/√d_k、softmax）。这些权重、查询和键都来自你的 `MultiHeadAttention`（第 05 章），
# 是在它运行时读取的。
#
# **预测 · Predict：** 哪些输出字符会最尖锐地关注某一个数字？先写下你的猜测，再运行下一个单元格。

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

# %% [markdown] lang="zh"
# 把数字字符所在的行与它们各自数字所在的列对照着看：在训练到最后的模型中，其中大多数的峰值都落在自己的数字上或其旁边。
# （nbgrader 评分时，模型只训练几步，视图也不会画出来：用一行文字代替。）
#
# ## 第 9 部分 三重权重共享 · Part 9 — One vocabulary, three-way tying
#
# 第 3 部分把输出投影与目标嵌入共享。论文更进一步：“我们在两个嵌入层和 softmax 之前的线性变换之间共享同一个权重矩阵”
# （Vaswani et al. 2017, §3.4）。这需要两种语言共用一个词表：英德翻译使用了一个约 37 000
# 个词元的共享字节对词表（§5.1）。我们称之为三重权重共享；Press & Wolf（2017）表明，
# 这样的共享能把翻译模型缩小到不足原来的一半，而性能不受损失。下图统计论文基础规模（d_model 512，6 + 6 层，d_ff 2048）、
# 词表为 37 000 个词元时的参数量，分三种情况：不共享，输出与目标嵌入共享，以及三者全部共享。
#
# **预测 · Predict：** 在不共享权重的基础模型中，三个词表矩阵占参数总量的多大比例？先写下你的猜测，再运行下一个单元格。

# %%
fig, tying = ex.tying_figure()
ex.show(fig)
for name, n in tying["total"].items():
    share = 100 * tying["vocabulary"][name] / n
    print(f"{name:<28} {n / 1e6:6.1f} M parameters ({share:.0f} % in vocabulary matrices)")
print("the paper's Table 3 lists 65 M for the base model")

# %% lang="zh"
fig, tying = ex.tying_figure()
ex.show(fig)
for name, n in tying["total"].items():
    share = 100 * tying["vocabulary"][name] / n
    print(f"{name:<28} {n / 1e6:6.1f} M 个参数（{share:.0f} % 在词表矩阵中）")
print("论文的表 3 给出的基础模型参数量是 65 M")

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

# %% [markdown] lang="zh"
# 不共享时，三个词表矩阵占了模型的一半以上；三重权重共享只留下其中一个，参数量落在论文表 3 中的 65 M
# 附近（其余的差别来自确切的词表大小以及偏置之类的细节）。
#
# 我们的中文任务无法共享：它的源序列是数字，目标序列是汉字。**反转**任务则可以，因为源序列和目标序列都是数字串。
# 下一个单元格为它搭建三者全部共享的 `Transformer`，检查这三者确实是同一个张量，
# 并与不共享的模型并排做一次简短的训练（两个模型都很小，各训练 120 步）。
#
# **预测 · Predict：** 词表参数少了三分之二，共享权重的模型在相同步数内能把反转任务学得和不共享的模型一样好吗？
# 先写下你的猜测，再运行下一个单元格。

# %%
with needs("Transformer", "embed", "greedy_decode"):
    tie_config = ex.budget(training.preset("cpu", task="reverse", d_model=64, n_heads=4, d_ff=256, steps=120,
                                           warmup_steps=30, eval_interval=0, progress=False, valid_size=200,
                                           test_size=200, hard_size=100))
    tie_runs = ex.tying_runs(Transformer, tie_config)
    for name, run in tie_runs.items():
        print(f"{name:<22} {run['parameters']:>7,} parameters, embedding tables shared: {run['shared']}, "
              f"validation exact match {100 * run['exact']:.1f} % after {run['steps']} steps")

# %% lang="zh"
with needs("Transformer", "embed", "greedy_decode"):
    tie_config = ex.budget(training.preset("cpu", task="reverse", d_model=64, n_heads=4, d_ff=256, steps=120,
                                           warmup_steps=30, eval_interval=0, progress=False, valid_size=200,
                                           test_size=200, hard_size=100))
    tie_runs = ex.tying_runs(Transformer, tie_config)
    for name, run in tie_runs.items():
        print(f"{name:<22} {run['parameters']:>7,} 个参数，嵌入表共享：{run['shared']}，"
              f"{run['steps']} 步之后验证集完全匹配 {100 * run['exact']:.1f} %")

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

# %% [markdown] lang="zh"
# 共享权重的模型参数更少，而且 `src_embed`、`tgt_embed` 和 `output` 是同一个张量；在这个小任务上，
# 比较的结果就是上面打印的两个验证集分数（Press & Wolf 的结果针对的是数千个词的真实词表，而不是 14 个词元）。
#
# ## 第 10 部分 嵌入尺度的教训 · Part 10 — The lesson in the measurement: the embedding scale
#
# PyTorch 的 `nn.Embedding` 从标准正态分布（标准差为 1）开始，而 `nn.Transformer` 把嵌入留给你自己处理。像第 2
# 部分那样乘以 √d_model 之后，词元向量的长度约为 $\sqrt{d}\cdot\sqrt{d} = d$，而位置向量的长度仍是 $\sqrt{d/2}$：
# 位置信号只是词元向量上的一点小波纹。若标准差取 $1/\sqrt{d_\text{model}}$（课程的选择），两者就在同一量级。
# 下图在你的模型初始化时测量这两个长度。

# %%
with needs("Transformer", "embed"):
    fig, norms = ex.embedding_scale_figure(model_class if result is not None else Transformer, task)
    ex.show(fig)
    for name, row in norms.items():
        print(f"{name:<30} token vectors ‖√d·E‖ ≈ {row['token']:6.1f}, positions ‖PE‖ = {row['position']:.1f}, "
              f"position's share of ‖x‖²: {100 * row['share']:.1f} %")

# %% lang="zh"
with needs("Transformer", "embed"):
    fig, norms = ex.embedding_scale_figure(model_class if result is not None else Transformer, task)
    ex.show(fig)
    for name, row in norms.items():
        print(f"{name:<30} 词元向量 ‖√d·E‖ ≈ {row['token']:6.1f}，位置 ‖PE‖ = {row['position']:.1f}，"
              f"位置在 ‖x‖² 中所占比例：{100 * row['share']:.1f} %")

# %% [markdown]
# With std 1 the positions carry under 1 % of each input vector's squared length; with
# $1/\sqrt{d}$ about a third. Does the model notice? Two short runs of your model, identical but for
# the embedding's initial std, scored on the validation split as they go.
#
# **Predict · 预测:** after the same 120 steps, how far apart are the two runs' validation
# exact match? Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# 标准差为 1 时，位置只占每个输入向量长度平方的不到 1 %；标准差为 $1/\sqrt{d}$ 时约占三分之一。模型会察觉到这个差别吗？
# 下面是你的模型的两次短时间训练，除嵌入的初始标准差外完全相同，训练过程中在验证集上评估。
#
# **预测 · Predict：** 在同样的 120 步之后，两次训练的验证集完全匹配率相差多少？先写下你的猜测，再运行下一个单元格。

# %%
with needs("Transformer", "embed", "greedy_decode", "smoothed_cross_entropy"):
    init_config = ex.budget(training.preset("cpu", steps=120, warmup_steps=40, eval_interval=20, eval_size=100,
                                            valid_size=300, test_size=200, hard_size=100, progress=False))
    runs = ex.embedding_init_runs(model_class if result is not None else Transformer, init_config,
                                  loss=smoothed_cross_entropy)
    ex.show(ex.init_figure(runs))
    for name, run in runs.items():
        print(f"{name:<30} validation exact match after {run['steps']} steps: {100 * run['exact']:.1f} %")

# %% lang="zh"
with needs("Transformer", "embed", "greedy_decode", "smoothed_cross_entropy"):
    init_config = ex.budget(training.preset("cpu", steps=120, warmup_steps=40, eval_interval=20, eval_size=100,
                                            valid_size=300, test_size=200, hard_size=100, progress=False))
    runs = ex.embedding_init_runs(model_class if result is not None else Transformer, init_config,
                                  loss=smoothed_cross_entropy)
    ex.show(ex.init_figure(runs))
    for name, run in runs.items():
        print(f"{name:<30} {run['steps']} 步之后的验证集完全匹配：{100 * run['exact']:.1f} %")


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

# %% [markdown] lang="zh"
# 打印出的完全匹配率就是答案：采用课程的标准差，模型早早就学会了读数，而标准差为 1 的模型远远落在后面，
# 它的输入几乎说不出每个数字在哪个位置。区别只在一行初始化代码，而吃亏的恰恰是 PyTorch 的 `nn.Embedding`
# 默认值（标准差为 1）。
#
# ## 第 11 部分 超越贪心解码 · Part 11 — Decoding beyond greedy
#
# ### 键值缓存 · The key/value cache
#
# `greedy_decode` 在每一步都让解码器把整个前缀重新算一遍：第 t 步计算 t 个位置，其中 t − 1 个之前已经算过，
# 所以一个 n 个词元的序列大约要做 n²/2 次位置计算。但在因果解码器中，一个位置的键和值一旦算出就不会再变
# （后面的词元影响不到前面的位置）。那就把它们保存下来：每一步只投影最新的位置，把它的键和值追加到一个**缓存**
# （cache）中，再让它关注缓存中的所有内容。交叉注意力的键和值来自记忆，可以在第一步之前一次性投影好。这样，
# 投影和前馈层的开销就只有约 n 次位置计算，而不是 n²/2 次。注意力本身并不会变成线性的：
# 第 t 步仍然要把它的一个查询与缓存中的全部 t 个键比较，工作量为 O(t)，所以整个序列仍然需要 1 + 2 + … + n ≈ n²/2
# 次查询–键乘积，即 O(n²)，只是省掉了重复计算的位置（不用缓存时，第 t 步要计算 t 个查询与至多 t 个键的乘积，为 O(t²)，
# 总共 O(n³)）。代价是缓存所占的内存，对于长序列和大批量，它可能超过权重本身的大小（Pope et al. 2023）。
#
# 课程的高效注意力 `course.blocks.MultiHeadAttention` 把 W_q、W_k、W_v 合并为一个 `in_proj`（第 0:d 行是 W_q，d:2d 行是
# W_k，2d:3d 行是 W_v），然后是 `out_proj`；它有 `n_heads` 和 `d_head` 两个属性。使用 RoPE 时，
# 新位置的查询和键按它自己的位置旋转，t = 缓存中已有的位置数（`rope(x, offset)`）。
#
# ### 附加练习 5 · Bonus exercise 5：`attention_step`
#
# **难度：** ●●○ · **重要性：** ●●○ · **用时：** 约 15 分钟
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 要让新位置关注之前的每一个位置，需要从缓存中取出什么？键以什么形状保存，沿哪一维追加？新位置需要因果掩码吗？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 跟着形状走：`in_proj` 给出一个 (batch, 1, 3·d) 的张量，其中并排放着 q、k 和 v，而注意力需要的是 (batch, heads,
# positions, d_head)。RoPE 所需的偏移量 t 可以从缓存中读出。q、k、v 中哪些要存起来？新的应该放在缓存中已有内容的哪一边？
# 剩下的交给不带掩码的第 05 章注意力。
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


# %% answer="attention_step" lang="zh"
def attention_step(attn, x, cache, rope=None):
    """带键值缓存、针对一个新位置的因果自注意力。

    attn：一个 course.blocks.MultiHeadAttention（in_proj：按行堆叠的 W_q、W_k、W_v；out_proj；n_heads；d_head）。
    x：(batch, 1, d_model)，最新的位置。cache：一个 dict，在第一个位置之前为空，保存 "k" 和 "v"，
    二者形状均为 (batch, n_heads, t, d_head)，对应之前的 t 个位置；请原地更新它。
    rope：None，或一个 RoPE 模块，rope(q_or_k, offset)，其中 offset = t。
    返回 (batch, 1, d_model)：新位置上的注意力输出。
    """
    ### BEGIN SOLUTION
    batch, new, d = x.shape
    t = cache["k"].shape[-2] if "k" in cache else 0
    q, k, v = attn.in_proj(x).chunk(3, dim=-1)  # 各为 (batch, 1, d)
    q, k, v = (z.view(batch, new, attn.n_heads, attn.d_head).transpose(1, 2) for z in (q, k, v))
    if rope is not None:
        q, k = rope(q, t), rope(k, t)
    if t:
        k, v = torch.cat([cache["k"], k], dim=-2), torch.cat([cache["v"], v], dim=-2)
    cache["k"], cache["v"] = k, v  # (batch, heads, t + 1, d_head)
    out = F.scaled_dot_product_attention(q, k, v)  # 新位置能看到每一个缓存的位置
    return attn.out_proj(out.transpose(1, 2).reshape(batch, new, d))
    ### END SOLUTION


# %% tests="attention_step_tests" points=2
import torch
from course.blocks import MultiHeadAttention, RotaryEmbedding
from course.checks import check, close, equal, msg
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
        equal(tuple(got.shape), (2, 1, 8), name=msg("shape of attention_step at position {t}", t=t))
        close(got, want, atol=1e-5, name=msg("attention_step at position {t} ({rope}) vs the course's step(): the new "
                                             "position attends to every cached one", t=t,
                                             rope="RoPE" if rope else "no RoPE"))
    check(set(mine) >= {"k", "v"} and tuple(mine["k"].shape) == (2, 2, 4, 4),
          "after 4 positions the cache holds keys and values of shape (batch 2, heads 2, 4 positions, d_head 4); "
          "got {shapes}", shapes={k: tuple(v.shape) for k, v in mine.items() if hasattr(v, "shape")})
    close(mine["k"], theirs["k"], atol=1e-5, name="the cached keys (rotated with RoPE) vs the course's cache")
    with torch.no_grad():
        full = attn(x, is_causal=True, rope=rope)  # all positions at once, causal
    close(got, full[:, -1:], atol=1e-5, name="the last step equals causal attention over the whole sequence")
# another attention (3 heads of 6 features), a batch of one, RoPE on pairs of 6
attn, rope, x, mine, theirs = MultiHeadAttention(18, 3).eval(), RotaryEmbedding(6), torch.randn(1, 3, 18), {}, {}
with ref.second_values("attention_step(attn=MultiHeadAttention(18, 3), x (1, 1, 18), cache, rope=RotaryEmbedding(6))"):
    for t in range(3):
        got = ref.call(attention_step, attn, x[:, t:t + 1], mine, rope)
        with torch.no_grad():
            want = attn.step(x[:, t:t + 1], theirs, rope)
        close(got, want, atol=1e-5, name=msg("position {t}: the heads and their size come from attn (attn.n_heads, "
                                             "attn.d_head), the batch from x", t=t))
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

# %% [markdown] lang="zh"
# ### 附加练习 6 · Bonus exercise 6：`cached_greedy_decode`
# 与练习 3 相同的贪心解码，但对象是课程的 `Seq2SeqTransformer`，并且每个解码器层每次只运行一个位置。
# 你需要从模型中用到的东西：
#
# * `model.encode(src, src_lengths)` → memory, src_mask（只调用一次）；
# * `model._embed(model.tgt_embed, ids, offset)`：把形状为 (batch, 1) 的 ids 作为位于位置 `offset` 的词元嵌入（×
#   √d_model、加位置、dropout）；
# * `model.decoder.layers` 中的每一层：`layer.norm_first`、`norm1`–`norm3`、`dropout1`–`dropout3`、
#   `self_attn`（使用你的 `attention_step`，配合 `model.rope`）、`cross_attn.memory_kv(memory)`（记忆的键和值，
#   每层算一次）和 `cross_attn.attend_memory(h, kv, src_mask)`，以及 `ff`：与第 07 章相同的三个子层，Pre-LN 或 Post-LN；
# * 最后是 `model.decoder.norm` 和 `model.output`。
#
# **难度：** ●●● · **重要性：** ●●○ · **用时：** 约 25 分钟
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 每一层在两步之间要保存什么状态？哪些东西只需计算一次？第 t 步送入哪个词元，它位于哪个位置？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 把工作分成只做一次的（源序列，以及每一层由它导出的东西）和每一步都做的（送入一个词元，得到一个词元）。
# 每一层都有自己的缓存。在层的内部，完全按照第 07 章 `DecoderLayer` 的连接方式写出三个子层，`norm_first`
# 的两种取值都要处理，归一化和 dropout 模块也都要用上。已完成的行按练习 3 的方式处理。
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


# %% answer="cached_greedy_decode" lang="zh"
@torch.no_grad()
def cached_greedy_decode(model, src, src_lengths, max_len):
    """对 course.blocks.Seq2SeqTransformer 做贪心解码，解码器每一步只处理最新的词元。

    参数、结果和约定都与 greedy_decode 相同：<bos> 之后的 (batch, n <= max_len) 个词元，
    每一行的 <eos> 之后为 <pad>，一旦每一行都已生成 <eos> 就提前停止。
    """
    ### BEGIN SOLUTION
    memory, src_mask = model.encode(src, src_lengths)
    batch = src.shape[0]
    memory_kv = [layer.cross_attn.memory_kv(memory) for layer in model.decoder.layers]  # 每层只算一次
    caches = [{} for _ in model.decoder.layers]  # 自注意力的键和值，由 attention_step 填入
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
from course.checks import check, msg
from course.checks import ch08_transformer as ref
from course.tokenizer import EOS

torch.manual_seed(0)
# two models, two batches (2 sources, then 3), two limits (max_len 6, then 3)
cases = [(dict(norm_first=True, position="sinusoidal"), torch.tensor([[5, 6, 7, 8], [9, 4, 0, 0]]),
          torch.tensor([4, 2]), 6),
         (dict(norm_first=False, position="rope"), torch.tensor([[7, 5, 0], [4, 4, 4], [6, 0, 0]]),
          torch.tensor([2, 3, 1]), 3)]
for config, src, lengths, max_len in cases:
    model = Seq2SeqTransformer(11, 13, d_model=16, n_heads=2, n_encoder_layers=1, n_decoder_layers=2, d_ff=32,
                               dropout=0.0, **config).eval()
    with torch.no_grad():
        model.output.bias[EOS] -= 3.0  # rarely stop, so that most steps are compared
    with ref.PositionCounter(model) as seen, ref.second_values(msg(
            "cached_greedy_decode(model ({config}), src {shape}, src_lengths {lengths}, max_len={max_len})",
            config=config, shape=tuple(src.shape), lengths=lengths.tolist(), max_len=max_len)):
        got = ref.call(cached_greedy_decode, model, src, lengths, max_len)
    want = model.greedy_decode(src, lengths, max_len)
    check(isinstance(got, torch.Tensor) and torch.equal(got, want),
          "cached_greedy_decode ({config}, src {shape}, src_lengths {lengths}, max_len={max_len}) vs the course's "
          "greedy_decode: expected\n{want}\ngot\n{got}", config=config, shape=tuple(src.shape),
          lengths=lengths.tolist(), max_len=max_len, want=want, got=got)
    check(len(seen.projected) > 0, "cached_greedy_decode: no decoder layer ran (no layer's self_attn.in_proj or ff "
          "was called as a module); each step runs every layer of model.decoder.layers on the newest position "
          "(Part 11)")
    check(max(seen.projected) == 1,
          "cached_greedy_decode: a decoder layer processed {n} positions in one call; with the cache each step runs "
          "the layers on the newest position only (Part 11)", n=max(seen.projected))
    check(seen.encoder_calls == 1, "cached_greedy_decode: encode the source once, not {n} times", n=seen.encoder_calls)
### BEGIN HIDDEN TESTS
from course_grader.checks import ch08_transformer as hidden
hidden.check_cached_greedy(cached_greedy_decode)
### END HIDDEN TESTS

# %% [markdown]
# **Predict · 预测:** decoding 40 tokens for 100 sources, how much faster is the cached loop than your
# `greedy_decode`? Write your guess down, then run the next cell.

# %% [markdown] lang="zh"
# **预测 · Predict：** 为 100 个源序列各解码 40 个词元，使用缓存的循环比你的 `greedy_decode` 快多少？先写下你的猜测，
# 再运行下一个单元格。

# %%
with needs("greedy_decode", "cached_greedy_decode", "attention_step"):
    speed = ex.decoding_speed(greedy_decode, cached_greedy_decode, training.preset("cpu"), task)
    print(f"same tokens: {speed['same']};  uncached {speed['uncached_ms']:.0f} ms, cached {speed['cached_ms']:.0f} ms "
          f"({speed['uncached_ms'] / speed['cached_ms']:.1f}× faster)")

# %% lang="zh"
with needs("greedy_decode", "cached_greedy_decode", "attention_step"):
    speed = ex.decoding_speed(greedy_decode, cached_greedy_decode, training.preset("cpu"), task)
    print(f"词元相同：{speed['same']}；不用缓存 {speed['uncached_ms']:.0f} ms，使用缓存 {speed['cached_ms']:.0f} ms"
          f"（快 {speed['uncached_ms'] / speed['cached_ms']:.1f} 倍）")


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

# %% [markdown] lang="zh"
# 两个循环产生相同的词元，打印出的时间显示了缓存带来的收益：它随序列长度增长，
# 因为不用缓存的循环的工作量随长度的平方增长。
#
# ### 束搜索 · Beam search
#
# 贪心解码在每一步都只选定最可能的那个词元，但最可能的**序列**却可能以一个可能性较小的词元开头。
# **束搜索**（beam search）保留 `beam_size` 个最好的前缀，而不是只保留一个
# （论文用束宽 4 加长度惩罚来解码，Vaswani et al. 2017, §6.1；这里是不带长度惩罚的朴素版本）。
# 规则如下，测试严格按它们检查：
#
# * 一个前缀的分数是其中各词元的对数概率之和；束一开始是一个空前缀（位于 `<bos>` 之后），分数为 0；
# * 每一步用词表中的**每一个**词元扩展束中的**每一个**前缀，并在所有扩展中保留总体上最好的 `beam_size` 个；以 `<eos>`
#   结尾的扩展就完成了，离开束，其余的组成下一步的束；
# * 当束为空、走完 `max_len` 步，或者已完成的最好分数不低于束中的最好分数时停止（对数概率 ≤ 0，
#   所以没有哪个前缀还能追上）；
# * 返回最好的已完成序列（如果没有完成的，就返回最好的前缀）及其分数。
#
# ### 附加练习 7 · Bonus exercise 7：`beam_search`
#
# **难度：** ●●● · **重要性：** ●●○ · **用时：** 约 25 分钟
#
# <details><summary>提示 1 · Hint 1</summary>
#
# 每个假设要保存什么？怎样一次性地给所有假设的所有扩展打分，并从中挑出最好的几个？
#
# <details><summary>提示 2 · Hint 2</summary>
#
# 把所有扩展一次性打分，得到一张 (hypotheses, V) 的表：第 h 行放的是什么，还必须给它加上什么，才能成为整个前缀的分数？
# 在展平的表中挑出最好的几项，得到的是展平后的下标：怎样从一个下标还原出假设和词元？已完成的假设放到哪里去？
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


# %% answer="beam_search" lang="zh"
@torch.no_grad()
def beam_search(model, src, src_lengths, beam_size, max_len):
    """只对一个源序列做束搜索：src (1, src_len)，src_lengths (1,)；beam_size >= 1；max_len >= 1。

    返回 (tokens, score)：tokens 是一个 LongTensor (n,)，为 <bos> 之后的 id，若某个假设已经结束，
    则以 <eos> 结尾；score 是一个 Python float，即这些词元的对数概率之和。
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
      "beam_size 1 is greedy: A, A, <eos> (0.5 · 0.4 · 1); got {tokens}", tokens=tokens)
close(score, math.log(0.5 * 0.4), atol=1e-5, name="the score of A A <eos>: the SUM of its log-probabilities")
tokens, score = ref.call(beam_search, model, src, lengths, 2, 5)
check(isinstance(tokens, torch.Tensor) and tokens.tolist() == [5, EOS],
      "beam_size 2 finds B <eos> (0.4 · 0.9 = 0.36 beats 0.2), which greedy misses; got {tokens}", tokens=tokens)
close(score, math.log(0.36), atol=1e-5, name="the score of B <eos>")
# a beam as wide as the whole tree keeps every candidate, so it must find what trying every sequence finds
wide = ref.ScriptedLM(5, seed=3)
best, best_score = ref.brute_force_best(wide, 3)
with ref.second_values("beam_search(model, src, src_lengths, beam_size=125, max_len=3)"):
    tokens, score = ref.call(beam_search, wide, src, lengths, 125, 3)
    check(isinstance(tokens, torch.Tensor) and tokens.tolist() == best,
          "a beam of 125 = 5³ keeps every candidate of a 3-token search over 5 tokens, so it returns the best "
          "sequence {best}; got {tokens}", best=best, tokens=tokens)
    close(score, best_score, atol=1e-4, name="its score")
# back to the first model, max_len=1 (and a source of length 3): one step, after which nothing has finished, so
# the best prefix, A (0.5), without <eos>
with ref.second_values("beam_search(model, src (1, 3), src_lengths=[3], beam_size=2, max_len=1)"):
    tokens, score = ref.call(beam_search, model, torch.tensor([[4, 5, 4]]), torch.tensor([3]), 2, 1)
    check(isinstance(tokens, torch.Tensor) and tokens.tolist() == [4],
          "one step only, after which no hypothesis has finished, so the best prefix, A alone (0.5); got {tokens}",
          tokens=tokens)
    close(score, math.log(0.5), atol=1e-5, name="the score of the prefix A after one step")
# the early stop: after one step, <eos> (0.5) ties the best live prefix A (0.5), and no prefix can catch up
model = ref.ScriptedLM(6, {(): [0, 0, 0.5, 0, 0.5, 0], (4,): [0, 0, 0.6, 0, 0.4, 0]})
tokens, score = ref.call(beam_search, model, src, lengths, 2, 5)
check(model.longest == 1, "the search went on to prefixes of length {n} after the best finished hypothesis scored "
      "AT LEAST as well as the best one left in the beam (a tie counts): stop there, see the rules",
      n=model.longest - 1)
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

# %% [markdown] lang="zh"
# 在训练好的模型上，把贪心解码和束搜索（束宽 4）并排比较，并给出每个输出的对数概率。
#
# **预测 · Predict：** 对于一个读数读得很好的模型，宽度为 4 的束有多大概率会改变输出？先写下你的猜测，
# 再运行下一个单元格。

# %%
if result is not None:
    with needs("beam_search"):
        for row in ex.greedy_vs_beam(result.model, result.task, ["30201204", "10010", "1015", "7", "99999999"],
                                     beam_search, beam_size=4):
            print(f"{row['source']:>9}  greedy {row['greedy']:<14} {row['greedy_score']:8.3f}   "
                  f"beam {row['beam']:<14} {row['beam_score']:8.3f}")

# %% lang="zh"
if result is not None:
    with needs("beam_search"):
        for row in ex.greedy_vs_beam(result.model, result.task, ["30201204", "10010", "1015", "7", "99999999"],
                                     beam_search, beam_size=4):
            print(f"{row['source']:>9}  贪心 {row['greedy']:<14} {row['greedy_score']:8.3f}   "
                  f"束搜索 {row['beam']:<14} {row['beam_score']:8.3f}")

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

# %% [markdown] lang="zh"
# 在训练得好的模型上，两列的结果一致，分数接近 0（概率接近 1）：每个字符几乎都是确定的。当模型拿不准时，
# 束搜索才能发挥作用，比如在自动评分时只训练了几步的模型上。
#
# ### 采样 · Sampling
#
# 想得到**多样的**输出而不是最可能的那一个，就从模型的分布中采样下一个词元。**温度**（temperature）T：在 softmax 之前把
# logits 除以 T，T < 1 时分布向 argmax 集中，T > 1 时分布变得平坦。**Top-k 采样**（Fan et al. 2018）只在最可能的 k
# 个词元中采样。Holtzman et al.（2020）说明了为什么从语言模型中直接采样会漂移到不太可能的文本上，
# 并提出改为保留总概率达到给定值的最小词元集合（核采样，nucleus sampling）。
#
# **预测 · Predict：** 在哪个温度下，对同一个数采样 8 次，结果彼此之间最不一致？先写下你的猜测，再运行下一个单元格。

# %%
if result is not None:
    for temperature, top_k in [(0.5, None), (1.0, None), (2.0, None), (2.0, 3)]:
        outs = ex.sample_outputs(result.model, result.task, "30201204", n=8, temperature=temperature, top_k=top_k)
        print(f"T = {temperature}, top-k = {top_k}: {len(set(outs))} distinct of 8: {sorted(set(outs))[:4]}")

# %% lang="zh"
if result is not None:
    for temperature, top_k in [(0.5, None), (1.0, None), (2.0, None), (2.0, 3)]:
        outs = ex.sample_outputs(result.model, result.task, "30201204", n=8, temperature=temperature, top_k=top_k)
        print(f"T = {temperature}，top-k = {top_k}：8 个中有 {len(set(outs))} 个不同：{sorted(set(outs))[:4]}")

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

# %% [markdown] lang="zh"
# 低温度重现贪心解码的输出；高温度产生互不相同、大多错误的读法；在同样的温度下，top-k = 3 截掉了长尾，
# 因此不同输出的个数比 T = 2 时的纯采样少。对于只有一个正确答案的任务，你要的是贪心解码（或束搜索）；
# 采样适用于有许多好输出的任务。
#
# ## 第 12 部分 命令行训练 · Part 12 — The same training from the command line
#
# `python -m course.train` 在 Jupyter 之外运行同样的训练循环，每个设置都是一个命令行选项（`--task en` 训练英文单词任务，
# `--position rope`，`--preset gpu` 在 GPU 上训练论文宽度的模型，`--checkpoint` / `--resume`）；
# `--student-notebooks DIR` 用 DIR 中你的笔记本搭建模型，与第 6 部分相同。用
# `torchrun --nproc_per_node=N -m course.train ...` 启动时，它在 N 个进程上以**分布式数据并行**（distributed data
# parallel）运行：每个进程抽取不同的批量，每次反向传播之后在进程间对梯度求平均，因此每个副本的权重始终保持一致。

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

# %% [markdown] lang="zh"
# ## 小结 · Summary
#
# * 输入：$\sqrt{d_\text{model}}\,E[\text{id}] + PE(p)$（或在注意力内部使用 RoPE），对这个和做一次 dropout；
#   嵌入的标准差取 $1/\sqrt{d_\text{model}}$ 时，词元和位置处于同一尺度，第 10 部分测量了标准差取 1 的代价。
# * 模型：嵌入 → 编码器（源序列填充掩码）→ 解码器（因果自注意力，使用源序列掩码的交叉注意力）→ 输出投影，
#   输出投影可以与目标嵌入共享权重（如果词表共享，还可以三者共享）。
# * 贪心解码把 argmax 送回输入，源序列只编码一次，已完成的行用填充补齐，遇到 `<eos>` 停止；
#   键值缓存让每一步只需计算一个位置；束搜索保留最好的几个前缀；带温度和 top-k 的采样给出多样的输出。
# * 标签平滑：$(1-\varepsilon)\cdot$NLL + $\varepsilon\cdot$ 在所有类别上对 $-\log p$ 求平均，只在真实词元上求平均；
#   它的 ε/V 也会落到特殊符号上。
# * 在验证集上决定何时停止，只对测试集评估一次，并报告完全匹配率，而不仅仅是逐词准确率。
#
# ## 术语表 · Glossary

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

# %% [markdown] lang="zh"
# ## 参考文献 · References
#
# 1. Vaswani, A. et al. (2017). Attention Is All You Need. NeurIPS. arXiv:1706.03762 — §3.4（嵌入 × √d_model，
#    嵌入与输出共享权重），§3.5（正弦位置编码），§5.1（37 000 个词元的共享词表），§5.2（100 000 步），§5.3（Adam，β₂ =
#    0.98，ε = 10⁻⁹，预热与平方根倒数调度），§5.4（对嵌入之和做 dropout，标签平滑 0.1），§6.1（束宽 4），表 3（65 M
#    个参数）。
# 2. Press, O. & Wolf, L. (2017). Using the Output Embedding to Improve Language Models. EACL. arXiv:1608.05859 —
#    权重共享；翻译模型缩小到不足原来的一半（摘要）。
# 3. Szegedy, C. et al. (2016). Rethinking the Inception Architecture for Computer Vision. CVPR. arXiv:1512.00567 — §7，
#    标签平滑正则化。
# 4. Müller, R., Kornblith, S. & Hinton, G. (2019). When Does Label Smoothing Help? NeurIPS. arXiv:1906.02629.
# 5. Kingma, D. P. & Ba, J. (2015). Adam: A Method for Stochastic Optimization. ICLR. arXiv:1412.6980.
# 6. Loshchilov, I. & Hutter, F. (2019). Decoupled Weight Decay Regularization. ICLR. arXiv:1711.05101 — AdamW。
# 7. Loshchilov, I. & Hutter, F. (2017). SGDR: Stochastic Gradient Descent with Warm Restarts. ICLR. arXiv:1608.03983 —
#    余弦调度。
# 8. Xiong, R. et al. (2020). On Layer Normalization in the Transformer Architecture. ICML. arXiv:2002.04745 — 预热，
#    Post-LN 与 Pre-LN 的比较。
# 9. Liu, L. et al. (2020). On the Variance of the Adaptive Learning Rate and Beyond. ICLR. arXiv:1908.03265 — Adam
#    最初几步为何噪声大（RAdam）。
# 10. Williams, R. J. & Zipser, D. (1989). A Learning Algorithm for Continually Running Fully Recurrent Neural
#     Networks. Neural Computation 1(2) — 教师强制。
# 11. Papineni, K. et al. (2002). BLEU: a Method for Automatic Evaluation of Machine Translation. ACL.
# 12. Post, M. (2018). A Call for Clarity in Reporting BLEU Scores. WMT. arXiv:1804.08771 — sacreBLEU。
# 13. Pope, R. et al. (2023). Efficiently Scaling Transformer Inference. MLSys. arXiv:2211.05102 —
#     推理时键值缓存占用的内存。
# 14. Fan, A., Lewis, M. & Dauphin, Y. (2018). Hierarchical Neural Story Generation. ACL. arXiv:1805.04833 — Top-k
#     采样。
# 15. Holtzman, A. et al. (2020). The Curious Case of Neural Text Degeneration. ICLR. arXiv:1904.09751 — 温度，核采样。
