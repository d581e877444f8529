"""Chapter 08 (the Transformer, trained) in Chinese: the visible checks' messages and those of the chapter's test
cells."""

MESSAGES = {
    # course/checks/ch08_transformer.py: what is borrowed
    "scale the embedding and add the table yourself: the course's Seq2SeqTransformer does it in its _embed":
        "请自己缩放嵌入并加上位置表：课程自带的 Seq2SeqTransformer 在它的 _embed 中做的正是这件事",
    "assemble the model yourself: the course's Seq2SeqTransformer is the reference":
        "请自己组装模型：课程自带的 Seq2SeqTransformer 就是参考答案",
    "write the decoding loop yourself: the course's greedy_decode is the reference":
        "请自己写出解码循环：课程自带的 greedy_decode 就是参考答案",
    "write the smoothed loss from log_softmax yourself: F.cross_entropy / F.nll_loss (and nn.CrossEntropyLoss, which "
    "calls them) are the reference":
        "请自己用 log_softmax 写出平滑后的损失：F.cross_entropy / F.nll_loss（以及调用它们的 nn.CrossEntropyLoss）"
        "就是参考答案",
    "project, rotate, cache and attend yourself: the course's MultiHeadAttention.step is the reference":
        "请自己完成投影、旋转、缓存和注意力计算：课程自带的 MultiHeadAttention.step 就是参考答案",
    "run the layers step by step yourself: the course's cached greedy_decode (and its layer step) is the reference; "
    "the full-prefix decoder is what the cache replaces":
        "请自己逐步运行各层：课程自带的使用缓存的 greedy_decode（及其逐层的单步计算）就是参考答案；"
        "而对整个前缀运行的解码器，正是缓存要取代的东西",
    "search the beam yourself: the exhaustive search of the checks is the reference":
        "请自己实现束搜索：检查中的穷举搜索就是参考答案",
    # the reference model, the scripted models, the teaching messages
    "Transformer(...) should build an nn.Module, got {kind}":
        "Transformer(...) 应当构建出一个 nn.Module，实际得到 {kind}",
    "the model's parameters should keep the names given in __init__: {error}":
        "模型的参数应当保留 __init__ 中给出的名字：{error}",
    "the model should have parameters {a} and {b}; found {found}": "模型应当有参数 {a} 和 {b}；实际找到的是 {found}",
    "tie_output=True changed the target embedding's starting values: the embedding took the output layer's weight "
    "(std 1/√(3·d_model), nn.Linear's) instead of the output layer taking the embedding's (std 1/√d_model), so the "
    "token/position scale of Part 2 and Part 10 changes. Tie in the other direction: the output projection shares "
    "the embedding's Parameter (Part 3)":
        "tie_output=True 改变了目标嵌入的初始值：嵌入拿走了输出层的权重（标准差 1/√(3·d_model)，即 nn.Linear "
        "的初始化），而不是输出层用上嵌入的权重（标准差 1/√d_model），"
        "于是第 2 部分和第 10 部分中词元与位置的尺度都变了。"
        "请反过来共享：让输出投影共用嵌入的那个 Parameter（第 3 部分）",
    "greedy decoding starts every row with <bos>": "贪心解码让每一行都以 <bos> 开头",
    "at step {t}, source {row} was fed {fed}; the tokens produced so far were {produced} (feed back the argmax)":
        "第 {t} 步时，源序列 {row} 读入的是 {fed}；而到目前为止产生的词元是 {produced}（请把 argmax 送回输入）",
    "the result": "结果",
    "Transformer(dropout={p:g}): your embeddings were dropped with probability 0.1 whatever the model was given: the "
    "dropout argument was ignored; apply self.embed_dropout, built with it (Part 3)":
        "Transformer(dropout={p:g})：不论模型拿到的是多少，你的嵌入都以概率 0.1 被丢弃：dropout 参数被忽略了；"
        "请使用由它构建的 self.embed_dropout（第 3 部分）",
    "every hypothesis starts with <bos>": "每个假设都以 <bos> 开头",
    "decode got {name} of shape {got} beside {n} target row(s): pass what encode returned, one row per hypothesis "
    "{rows} (or its single row, {row})":
        "decode 收到的 {name} 形状为 {got}，而目标序列有 {n} 行：请传入 encode 返回的内容，每个假设一行，即 {rows}"
        "（或者只有一行，即 {row}）",
    # chapters/08-transformer.py, test cells: embed
    "shape of embed(ids (1, 3), d_model 4)": "embed 作用于形状为 (1, 3) 的 ids、d_model 为 4 时的输出形状",
    "embed: the token embeddings are not scaled; multiply them by √d_model (Part 2)":
        "embed：词元嵌入没有缩放；请把它们乘以 √d_model（第 2 部分）",
    "embed: you multiplied by d_model; the factor is its square root, √d_model (Part 2)":
        "embed：你乘的是 d_model；系数应是它的平方根 √d_model（第 2 部分）",
    "embed: you divided by √d_model; the token embedding is multiplied by it (Part 2)":
        "embed：你除以了 √d_model；词元嵌入应当乘以它（第 2 部分）",
    "embed: you scaled the positions too; only the token embedding is multiplied by √d_model (Part 2)":
        "embed：你把位置也缩放了；只有词元嵌入要乘以 √d_model（第 2 部分）",
    "embed: the positions are shifted; the token at position p gets row p of the table, from row 0 (Part 2)":
        "embed：位置错开了；位于位置 p 的词元得到表的第 p 行，从第 0 行算起（第 2 部分）",
    "embed: the positions were not added; with a table, x = √d_model·E[id] + PE(p) (Part 2)":
        "embed：没有加上位置；有位置表时，x = √d_model·E[id] + PE(p)（第 2 部分）",
    "embed of tokens 1, 2, 3: E[id]·√4 + table[p]": "词元 1、2、3 的 embed：E[id]·√4 + table[p]",
    "with positions=None only the scaled embedding": "positions=None 时只有缩放后的嵌入",
    "embed(ids (2, 2), embedding=nn.Embedding(3, 9), positions (4, 9))":
        "embed(形状为 (2, 2) 的 ids, embedding=nn.Embedding(3, 9), 形状为 (4, 9) 的 positions)",
    "the factor is √9 = 3 here: √d_model comes from the embedding given (embedding.embedding_dim), not a fixed "
    "number":
        "这里的系数是 √9 = 3：√d_model 取自传入的嵌入（embedding.embedding_dim），而不是一个固定的数",
    # Transformer
    "logits shape (batch 2, tgt_len 4, tgt_vocab 14)": "logits 的形状（batch 2，tgt_len 4，tgt_vocab 14）",
    "Transformer: two more padding tokens after the sources changed the logits, so the padding is not hidden: encode "
    "builds padding_mask(src_lengths, src_len) (True at real tokens) for the encoder, and decode gives the same mask "
    "to the decoder's cross-attention (Part 3)":
        "Transformer：在源序列后面多加两个填充词元，logits 就变了，说明填充没有被遮住：encode 要为编码器构造 "
        "padding_mask(src_lengths, src_len)（真实词元处为 True），decode 要把同一个掩码交给解码器的交叉注意力"
        "（第 3 部分）",
    "logits vs the course's reference model (same weights, eval mode)":
        "logits 与课程的参考模型对比（相同的权重，评估模式）",
    "logits in train mode (dropout on, same seed as the reference): self.embed_dropout goes once on each embedded "
    "input, √d_model·E + PE, before the stack; forward encodes, then decodes (Part 3)":
        "训练模式下的 logits（开启 dropout，随机种子与参考实现相同）：self.embed_dropout 在进入堆叠之前，"
        "对每个嵌入后的输入 √d_model·E + PE 作用一次；forward 先编码，再解码（第 3 部分）",
    "Transformer(src_vocab=10, tgt_vocab=9, d_model=12, n_heads=3, n_encoder_layers=2, n_decoder_layers=2, d_ff=20, "
    "dropout=0.3, norm_first=False, position='rope') on src (3, 4), src_lengths [4, 2, 1], tgt_in (3, 3)":
        "Transformer(src_vocab=10, tgt_vocab=9, d_model=12, n_heads=3, n_encoder_layers=2, n_decoder_layers=2, "
        "d_ff=20, dropout=0.3, norm_first=False, position='rope') 作用于形状为 (3, 4) 的 src、src_lengths [4, 2, 1] "
        "和形状为 (3, 3) 的 tgt_in",
    "Transformer(position='rope'): your logits are those of a model with no positions at all; pass self.rope to the "
    "encoder and the decoder (Part 3)":
        "Transformer(position='rope')：你的 logits 与一个完全没有位置信息的模型相同；请把 self.rope 传给编码器和解码器"
        "（第 3 部分）",
    "logits vs the reference": "logits 与参考实现对比",
    "logits in train mode (dropout on), same seed as the reference":
        "训练模式下（开启 dropout）的 logits，随机种子与参考实现相同",
    "tie_output=True: you tied the output to the SOURCE embedding; the output scores target tokens, so it shares "
    "tgt_embed's matrix (Part 3)":
        "tie_output=True：你把输出与源序列的嵌入共享了；输出给目标词元打分，所以它应共用 tgt_embed 的矩阵（第 3 部分）",
    "tie_output=True: output.weight should be the very Parameter tgt_embed.weight (assign it; copying the values is "
    "not tying; Part 3)":
        "tie_output=True：output.weight 应当就是 tgt_embed.weight 这个 Parameter 本身（直接赋值；复制数值不算共享；"
        "第 3 部分）",
    "parameters with tied output weights (tgt_vocab × d_model fewer)":
        "共享输出权重时的参数个数（少 tgt_vocab × d_model 个）",
    # greedy_decode
    "greedy_decode: the output starts with <bos>; return only the tokens produced after it (Part 4)":
        "greedy_decode：输出以 <bos> 开头了；只需返回它之后产生的词元（第 4 部分）",
    "greedy_decode: after a row's <eos> it gets <pad>, not more predictions (Part 4)":
        "greedy_decode：一行产生 <eos> 之后得到的是 <pad>，而不是更多的预测（第 4 部分）",
    "greedy_decode: max_len=4 allows at most 4 tokens; you produced one more (Part 4)":
        "greedy_decode：max_len=4 最多允许 4 个词元；你多产生了一个（第 4 部分）",
    "scripted model, max_len 4: expected (no <bos>; <pad> after <eos>)\n{want}\ngot\n{out}":
        "脚本模型，max_len 4：应为（不含 <bos>；<eos> 之后是 <pad>）\n{want}\n实际得到\n{out}",
    "greedy_decode: stop as soon as every row has produced <eos> (here after 3 steps), even when max_len allows more "
    "(Part 4); got an output of shape {shape}":
        "greedy_decode：每一行都产生 <eos> 后就应立即停止（这里是 3 步之后），即使 max_len 还允许更多步（第 4 部分）；"
        "实际输出的形状为 {shape}",
    "greedy_decode(model, src of ONE row (1, 3), src_lengths=[2], max_len=2)":
        "greedy_decode(model, 只有一行的 src (1, 3), src_lengths=[2], max_len=2)",
    "expected [[7, 8]]: at most max_len = 2 tokens, for the one row of src; got\n{out}":
        "应为 [[7, 8]]：src 只有一行，最多 max_len = 2 个词元；实际得到\n{out}",
    "model.encode got src_lengths {got}; pass it the src_lengths given":
        "model.encode 收到的 src_lengths 是 {got}；请把传入的 src_lengths 交给它",
    # smoothed_cross_entropy
    "smoothed_cross_entropy: you summed over the positions; the loss is their MEAN (Part 5)":
        "smoothed_cross_entropy：你对各个位置求了和；损失是它们的平均值（第 5 部分）",
    "uniform prediction over two real positions: the loss is ln 2": "在两个真实位置上做均匀预测：损失是 ln 2",
    "smoothed_cross_entropy: the padding position was counted; average over targets != PAD only (Part 5)":
        "smoothed_cross_entropy：填充位置被计入了；只在 targets != PAD 的位置上求平均（第 5 部分）",
    "smoothed_cross_entropy: ε/(V − 1) on the other classes is another smoothing; this one spreads ε/V over all V "
    "classes, the target included (Part 5)":
        "smoothed_cross_entropy：把 ε/(V − 1) 分给其余类别是另一种平滑；这里的平滑把 ε/V 分给全部 V 个类别，"
        "目标类别也包括在内（第 5 部分）",
    "smoothed_cross_entropy: the result is unsmoothed cross-entropy; add the ε-weighted mean over classes (Part 5)":
        "smoothed_cross_entropy：结果是未经平滑的交叉熵；请加上在所有类别上求的平均，权重为 ε（第 5 部分）",
    "smoothed_cross_entropy: ε and 1 − ε are swapped (Part 5)":
        "smoothed_cross_entropy：ε 和 1 − ε 弄反了（第 5 部分）",
    "smoothed_cross_entropy: you smoothed p instead of the target q: the formula mixes the two log terms, not the "
    "probabilities (Part 5)":
        "smoothed_cross_entropy：你平滑的是 p 而不是目标分布 q：公式混合的是两个对数项，而不是概率（第 5 部分）",
    "hand-worked case with one padding position (which must not count)": "含一个填充位置的手算示例（填充位置不能计入）",
    "smoothed_cross_entropy(..., smoothing=0.5) gave the loss of smoothing {eps}: use the smoothing argument, not a "
    "fixed number (Part 5)":
        "smoothed_cross_entropy(..., smoothing=0.5) 给出的是平滑系数为 {eps} 时的损失：请使用 smoothing 参数，"
        "而不是一个固定的数（第 5 部分）",
    "the hand-worked case with smoothing=0.5: (1 − ε)·(−log p_y) + ε·mean(−log p)":
        "smoothing=0.5 时的手算示例：(1 − ε)·(−log p_y) + ε·mean(−log p)",
    # attention_step
    "shape of attention_step at position {t}": "位置 {t} 上 attention_step 的输出形状",
    "attention_step at position {t} ({rope}) vs the course's step(): the new position attends to every cached one":
        "位置 {t} 上的 attention_step（{rope}）与课程的 step() 对比：新位置要关注缓存中的每一个位置",
    "no RoPE": "不用 RoPE",
    "after 4 positions the cache holds keys and values of shape (batch 2, heads 2, 4 positions, d_head 4); got "
    "{shapes}":
        "4 个位置之后，缓存中的键和值的形状应为 (batch 2, heads 2, 4 个位置, d_head 4)；实际为 {shapes}",
    "the cached keys (rotated with RoPE) vs the course's cache": "缓存中的键（经 RoPE 旋转）与课程的缓存对比",
    "the last step equals causal attention over the whole sequence": "最后一步等于在整个序列上做因果注意力",
    "attention_step(attn=MultiHeadAttention(18, 3), x (1, 1, 18), cache, rope=RotaryEmbedding(6))":
        "attention_step(attn=MultiHeadAttention(18, 3), 形状为 (1, 1, 18) 的 x, cache, rope=RotaryEmbedding(6))",
    "position {t}: the heads and their size come from attn (attn.n_heads, attn.d_head), the batch from x":
        "位置 {t}：头数和每个头的大小取自 attn（attn.n_heads、attn.d_head），批量大小取自 x",
    # cached_greedy_decode
    "cached_greedy_decode(model ({config}), src {shape}, src_lengths {lengths}, max_len={max_len})":
        "cached_greedy_decode(模型 ({config}), 形状为 {shape} 的 src, src_lengths {lengths}, max_len={max_len})",
    "cached_greedy_decode ({config}, src {shape}, src_lengths {lengths}, max_len={max_len}) vs the course's "
    "greedy_decode: expected\n{want}\ngot\n{got}":
        "cached_greedy_decode（{config}，src {shape}，src_lengths {lengths}，max_len={max_len}）与课程的 greedy_decode "
        "对比：应为\n{want}\n实际得到\n{got}",
    "cached_greedy_decode: no decoder layer ran (no layer's self_attn.in_proj or ff was called as a module); each "
    "step runs every layer of model.decoder.layers on the newest position (Part 11)":
        "cached_greedy_decode：没有任何解码器层运行过（没有哪一层的 self_attn.in_proj 或 ff 被当作模块调用）；"
        "每一步都要在最新的位置上运行 model.decoder.layers 中的每一层（第 11 部分）",
    "cached_greedy_decode: a decoder layer processed {n} positions in one call; with the cache each step runs the "
    "layers on the newest position only (Part 11)":
        "cached_greedy_decode：一个解码器层在一次调用中处理了 {n} 个位置；有了缓存，每一步只在最新的位置上运行各层"
        "（第 11 部分）",
    "cached_greedy_decode: encode the source once, not {n} times":
        "cached_greedy_decode：源序列只需编码一次，而不是 {n} 次",
    # beam_search
    "beam_size 1 is greedy: A, A, <eos> (0.5 · 0.4 · 1); got {tokens}":
        "beam_size 为 1 就是贪心解码：A, A, <eos>（0.5 · 0.4 · 1）；实际得到 {tokens}",
    "the score of A A <eos>: the SUM of its log-probabilities": "A A <eos> 的分数：它的各个对数概率之和",
    "beam_size 2 finds B <eos> (0.4 · 0.9 = 0.36 beats 0.2), which greedy misses; got {tokens}":
        "beam_size 为 2 时能找到贪心解码错过的 B <eos>（0.4 · 0.9 = 0.36 胜过 0.2）；实际得到 {tokens}",
    "the score of B <eos>": "B <eos> 的分数",
    "a beam of 125 = 5³ keeps every candidate of a 3-token search over 5 tokens, so it returns the best sequence "
    "{best}; got {tokens}":
        "在 5 个词元上搜索长为 3 的序列时，宽度为 125 = 5³ 的束会保留所有候选，所以它返回最好的序列 {best}；"
        "实际得到 {tokens}",
    "its score": "它的分数",
    "one step only, after which no hypothesis has finished, so the best prefix, A alone (0.5); got {tokens}":
        "只走一步，之后没有任何假设完成，所以返回最好的前缀，即单独一个 A（0.5）；实际得到 {tokens}",
    "the score of the prefix A after one step": "一步之后前缀 A 的分数",
    "the search went on to prefixes of length {n} after the best finished hypothesis scored AT LEAST as well as the "
    "best one left in the beam (a tie counts): stop there, see the rules":
        "最好的已完成假设的分数已经不低于束中剩下的最好假设（相等也算），搜索却还继续到了长度为 {n} 的前缀："
        "此时就该停止，见上面的规则",
}
