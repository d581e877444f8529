"""The hidden checks of chapter 08 (the Transformer, trained) in Chinese."""

MESSAGES = {
    # embed
    "embed should return a tensor, got {kind}": "embed 应当返回一个张量，实际得到 {kind}",
    "shape of embed(ids {shape}, d_model={d})": "embed(ids {shape}, d_model={d}) 的输出形状",
    "with a sinusoidal table": "使用正弦位置表",
    "with positions=None (RoPE)": "positions=None（RoPE）",
    "embed, vocab {vocab}, d_model {d}, {what}: embedding × √d_model (+ table[:seq])":
        "embed，词表大小 {vocab}，d_model {d}，{what}：嵌入 × √d_model（+ table[:seq]）",
    # Transformer
    "number of parameters ({label})": "参数个数（{label}）",
    "with tie_output=True the output projection shares its weight with tgt_embed ({label})":
        "tie_output=True 时，输出投影与 tgt_embed 共享权重（{label}）",
    "tie_output=False: separate weights ({label})": "tie_output=False：权重各自独立（{label}）",
    "encode should return (memory, src_mask), got {kind} ({label})":
        "encode 应当返回 (memory, src_mask)，实际得到 {kind}（{label}）",
    "encode should return two tensors (memory, src_mask) ({label})":
        "encode 应当返回两个张量 (memory, src_mask)（{label}）",
    "shape of the source mask from encode ({label})": "encode 给出的源序列掩码的形状（{label}）",
    "encode's source mask should be True at real tokens, False at padding ({label})":
        "encode 给出的源序列掩码应当在真实词元处为 True，在填充处为 False（{label}）",
    "encoder output at real tokens ({label})": "真实词元处的编码器输出（{label}）",
    "logits of the whole model ({label})": "整个模型的 logits（{label}）",
    "two more padding tokens after the sources change the logits: the padding is not hidden ({label})":
        "在源序列后面多加两个填充词元会改变 logits：填充没有被遮住（{label}）",
    "logits in train mode (dropout {dropout}), same seed as the reference: dropout on each embedded input once, after "
    "the positions ({label})":
        "训练模式下（dropout {dropout}）的 logits，随机种子与参考实现相同：dropout 在加上位置之后，"
        "对每个嵌入后的输入作用一次（{label}）",
    # greedy_decode
    "greedy_decode should return a LongTensor, got {got}": "greedy_decode 应当返回 LongTensor，实际得到 {got}",
    "scripted model, max_len 6: expected (no <bos>, <pad> after each row's <eos>)\n{expected}\ngot\n{out}":
        "脚本模型，max_len 6：应为（不含 <bos>，每行的 <eos> 之后是 <pad>）\n{expected}\n实际得到\n{out}",
    "stop as soon as every row has produced <eos>: expected [[5, <eos>, <pad>], [6, 7, <eos>]], got\n{out}":
        "每一行都产生 <eos> 后就应立即停止：应为 [[5, <eos>, <pad>], [6, 7, <eos>]]，实际得到\n{out}",
    "3 decoding steps per row are enough there, the decoder was called {calls} times":
        "这里每行解码 3 步就够了，解码器却被调用了 {calls} 次",
    "random model ({position}): expected\n{want}\ngot\n{got}": "随机模型（{position}）：应为\n{want}\n实际得到\n{got}",
    # smoothed_cross_entropy
    "the loss should be a 0-d tensor, got {got}": "损失应当是 0 维张量，实际得到 {got}",
    "loss for logits {shape}, smoothing {eps} (mean over non-pad targets)":
        "logits 形状为 {shape}、平滑系数为 {eps} 时的损失（在非填充的目标上求平均）",
    "the loss should be a 0-d tensor that keeps its graph (no detach, no .item())":
        "损失应当是保留计算图的 0 维张量（不要 detach，也不要 .item()）",
    "the gradient of the loss": "损失的梯度",
    "padding positions must get no gradient": "填充位置不能得到梯度",
    # attention_step
    "d_model {d}, {heads} heads, {rope}": "d_model {d}，{heads} 个头，{rope}",
    "attention_step should return a tensor, got {kind}": "attention_step 应当返回一个张量，实际得到 {kind}",
    "attention_step at position {t} ({what})": "位置 {t} 上的 attention_step（{what}）",
    "after position {t} cache[{key!r}] should have shape {shape} (batch, heads, t + 1, d_head) ({what})":
        "位置 {t} 之后，cache[{key!r}] 的形状应为 {shape}，即 (batch, heads, t + 1, d_head)（{what}）",
    "cache[{key!r}] after position {t} ({what})": "位置 {t} 之后的 cache[{key!r}]（{what}）",
    "the last step vs causal attention over all positions ({what})": "最后一步与在所有位置上做因果注意力对比（{what}）",
    # cached_greedy_decode
    "cached_greedy_decode should return a LongTensor, got {got}":
        "cached_greedy_decode 应当返回 LongTensor，实际得到 {got}",
    "cached_greedy_decode ({label}, max_len {max_len}) vs the reference: expected\n{want}\ngot\n{got}":
        "cached_greedy_decode（{label}，max_len {max_len}）与参考实现对比：应为\n{want}\n实际得到\n{got}",
    "cached_greedy_decode ({label}, max_len {max_len}): no decoder layer ran (no layer's self_attn.in_proj or ff was "
    "called as a module): every step runs each layer of model.decoder.layers on the newest position (Part 11)":
        "cached_greedy_decode（{label}，max_len {max_len}）：没有任何解码器层运行过（没有哪一层的 self_attn.in_proj "
        "或 ff 被当作模块调用）：每一步都要在最新的位置上运行 model.decoder.layers 中的每一层（第 11 部分）",
    "a decoder layer processed {n} positions in one call: with the cache every step runs the layers on the newest "
    "position only ({label})":
        "一个解码器层在一次调用中处理了 {n} 个位置：有了缓存，每一步只在最新的位置上运行各层（{label}）",
    "the source should be encoded once, not {n} times": "源序列应当只编码一次，而不是 {n} 次",
    "rows that produce <eos> at different steps: after its <eos> a row holds <pad>, and decoding stops once every "
    "row has produced <eos>; expected\n{want}\ngot\n{got}":
        "各行在不同的步产生 <eos>：一行产生 <eos> 之后填 <pad>，所有行都产生 <eos> 后解码就停止；"
        "应为\n{want}\n实际得到\n{got}",
    "cached_greedy_decode ({label}, no row stops) should return (3, 5), got {shape}":
        "cached_greedy_decode（{label}，没有一行停止）应当返回形状 (3, 5)，实际为 {shape}",
    "cached_greedy_decode ({label}): model.output ran {n} times for 5 steps":
        "cached_greedy_decode（{label}）：解码 5 步，model.output 却运行了 {n} 次",
    "the logits of each cached step vs the uncached decoder at that position ({label}; each layer's dropout1-3 "
    "replaced by a fixed factor): every sublayer goes through its norm and its dropout module, as in chapter 07's "
    "Pre-LN / Post-LN wiring":
        "使用缓存的每一步的 logits 与不用缓存的解码器在该位置上的 logits 对比（{label}；每层的 dropout1-3 "
        "换成了固定的系数）：每个子层都要经过它的归一化层和 dropout 模块，与第 07 章 Pre-LN / Post-LN 的连接方式一致",
    "no staggered batch found (a bug in the check, not in the answer)":
        "没有找到各行在不同步结束的批量（这是检查本身的错误，不是答案的错误）",
    # beam_search
    "beam_search should return (tokens, score), got {kind}": "beam_search 应当返回 (tokens, score)，实际得到 {kind}",
    "tokens should be a 1-d LongTensor, got {got}": "tokens 应当是一维的 LongTensor，实际得到 {got}",
    "vocabulary {vocab}, beam {beam}, max_len {max_len}": "词表大小 {vocab}，束宽 {beam}，max_len {max_len}",
    "beam_search ({what}): expected {want} (score {score:.4f}), got {got}":
        "beam_search（{what}）：应为 {want}（分数 {score:.4f}），实际得到 {got}",
    "the score of the best sequence ({what})": "最好序列的分数（{what}）",
    "a beam wider than the tree must find the best sequence {best} ({what})":
        "比整棵搜索树还宽的束必须找到最好的序列 {best}（{what}）",
    "beam 2 on the scripted table: expected [5, <eos>] (0.4 · 0.8), got {tokens}":
        "在脚本概率表上用宽度为 2 的束：应为 [5, <eos>]（0.4 · 0.8），实际得到 {tokens}",
    "its score, log 0.32": "它的分数，log 0.32",
    "expected [<eos>] (0.5), got {tokens}": "应为 [<eos>]（0.5），实际得到 {tokens}",
    "its score, log 0.5": "它的分数，log 0.5",
    "the search went on to prefixes of length {n} after the best finished hypothesis scored AT LEAST as well as the "
    "best one left in the beam (a tie counts): stop there, since adding log-probabilities (<= 0) can only lower a "
    "score":
        "最好的已完成假设的分数已经不低于束中剩下的最好假设（相等也算），搜索却还继续到了长度为 {n} 的前缀："
        "此时就该停止，因为再加上对数概率（<= 0）只会让分数降低",
}
