"""The hidden checks of chapter 04 (dropout and residual connections) in Chinese."""

MESSAGES = {
    "Dropout has no learnable parameters": "Dropout 没有可学习的参数",
    "Dropout().p (the default, as in nn.Dropout)": "Dropout().p（默认值，与 nn.Dropout 一致）",
    "Dropout(0.0) in training must return x unchanged": "训练模式下 Dropout(0.0) 必须原样返回 x",
    "Dropout(0.3) in training mode": "训练模式下的 Dropout(0.3)",
    "Dropout(0.3) survivors (x / 0.7)": "Dropout(0.3) 保留下来的元素（x / 0.7）",
    "Dropout(0.3) zeroed {ours:.3f} of the elements, nn.Dropout(0.3) zeroed {theirs:.3f}":
        "Dropout(0.3) 把 {ours:.3f} 的元素置零了，而 nn.Dropout(0.3) 置零了 {theirs:.3f}",
    "Dropout(1.0) in training must return zeros": "训练模式下 Dropout(1.0) 必须返回全零",
    "after .eval(), Dropout must return its input unchanged": "调用 .eval() 之后，Dropout 必须原样返回它的输入",
    "after .train() again, Dropout must drop again (read self.training in forward)":
        "再次调用 .train() 之后，Dropout 必须重新开始丢弃（请在 forward 中读取 self.training）",
    "after torch.manual_seed(7), two calls should give the same mask (draw the randomness from torch's random number "
    "generator)": "每次 torch.manual_seed(7) 之后的两次调用应当给出相同的掩码（请从 torch 的随机数生成器中抽取随机数）",
    "dropout(float64 x, p=0.5)": "dropout(float64 的 x, p=0.5)",
    "dropout(x, p=0) in training must return x unchanged": "训练模式下 dropout(x, p=0) 必须原样返回 x",
    "dropout(x, p=1) must return all zeros": "dropout(x, p=1) 必须返回全零",
    "dropout(x, p={p}): the output does not require grad, so no gradient reaches x (do not detach, do not use .data)":
        "dropout(x, p={p})：输出不需要梯度，于是梯度传不到 x（不要 detach，也不要用 .data）",
    "dropout(x, p={p}): x.grad is None after backward": "dropout(x, p={p})：backward 之后 x.grad 是 None",
    "dropout(x, p={p}, training=False) changed x: eval mode is the identity":
        "dropout(x, p={p}, training=False) 改变了 x：评估模式下它是恒等映射",
    "embed_with_dropout on token ids of shape ({batch}, {seq}), a position table of 9 rows":
        "embed_with_dropout 作用于形状为 ({batch}, {seq}) 的词元 id，位置表有 9 行",
    "embed_with_dropout on {seq} tokens with a position table of 9 rows (raise ValueError: there is no position "
    "vector for the later tokens)":
        "embed_with_dropout 作用于 {seq} 个词元，而位置表只有 9 行（请抛出 ValueError：后面的词元没有位置向量）",
    "generators with different seeds gave the same mask": "种子不同的 generator 给出了相同的掩码",
    "grad_norms_per_layer on a model whose .grad already held old values (zero the gradients, then run forward and "
    "backward, then read them)":
        "模型的 .grad 中已有旧值时的 grad_norms_per_layer（先把梯度清零，再做前向和反向传播，然后读取梯度）",
    "grad_norms_per_layer on a model with stale gradients": "模型带有过时梯度时的 grad_norms_per_layer",
    "gradient of dropout(x, p={p}).sum() (1/(1-p) where kept, 0 where dropped)":
        "dropout(x, p={p}).sum() 的梯度（保留处为 1/(1-p)，丢弃处为 0）",
    "model.eval() on an nn.Sequential holding Dropout must switch dropout off (use self.training, which .eval() sets "
    "on every submodule)":
        "对包含 Dropout 的 nn.Sequential 调用 model.eval() 必须关掉 dropout（请使用 self.training，.eval() "
        "会在每个子模块上设置它）",
    "model.train() on an nn.Sequential holding Dropout must switch it back on":
        "对包含 Dropout 的 nn.Sequential 调用 model.train() 必须重新打开它",
    "nn.Dropout in eval is the identity too": "评估模式下的 nn.Dropout 也是恒等映射",
    "only the normalised stream is left": "只剩下归一化后的残差流",
    "the same token at different positions got the same dropout mask: drop the sum for each position, not the "
    "embedding table": "同一个词元在不同位置得到了相同的 dropout 掩码：要对每个位置上的和做 dropout，而不是对嵌入表",
    "two calls in a row gave the same mask: draw a new random mask every call (do not reset the seed inside the "
    "function)": "连续两次调用得到了相同的掩码：每次调用都要抽取新的随机掩码（不要在函数内部重设随机种子）",
    "two generators with the same seed gave different masks: pass `generator` to the function that draws the random "
    "numbers": "两个种子相同的 generator 给出了不同的掩码：请把 `generator` 传给抽取随机数的那个函数",
    "with nn.Dropout(0.5), every output element must be 0 or 2·(tok_emb + pos_emb)":
        "用 nn.Dropout(0.5) 时，输出的每个元素都必须是 0 或 2·(tok_emb + pos_emb)",
    "with p=0.5 in training, every element of block(x) - x must be 0 (dropped) or 2 · sublayer(norm(x)) (kept and "
    "rescaled): apply dropout to the sublayer's output only":
        "训练模式下 p=0.5 时，block(x) - x 的每个元素都必须是 0（被丢弃）或 2 · sublayer(norm(x))（被保留并缩放）："
        "dropout 只作用在子层的输出上",
    "with p=0.5, {frac:.2f} of the branch was dropped, expected about 0.5":
        "p=0.5 时分支中有 {frac:.2f} 被丢弃，应为大约 0.5",
    "x passes unchanged": "x 原样通过",
    "{block} should keep the nn.LayerNorm its __init__ makes in self.norm":
        "{block} 应当把它的 __init__ 建出的 nn.LayerNorm 保存在 self.norm 中",
    "{label} applied its dropout {n} times; once, to the sublayer's output":
        "{label} 用了 {n} 次 dropout；应当只用一次，作用在子层的输出上",
    "{label} with a stand-in dropout that triples: the dropout's result is what gets added":
        "{label} 配一个把输入变为三倍的替身 dropout：加上去的应当是 dropout 的结果",
    "{label}(x) in eval mode (dropout off: {arrangement})": "评估模式下的 {label}(x)（dropout 关闭：{arrangement}）",
    "{label}(x) when the sublayer outputs zeros, p=0.5 in training (the residual stream must pass undropped)":
        "子层输出全零、训练模式下 p=0.5 时的 {label}(x)（残差流必须不经 dropout 地通过）",
    "{label}(x) with p=1 in training (dropout removes the whole branch; {left})":
        "训练模式下 p=1 时的 {label}(x)（dropout 去掉了整个分支；{left}）",
    "{label}: what its dropout is applied to (the sublayer's output, {arrangement})":
        "{label}：它的 dropout 作用的对象（子层的输出，{arrangement}）",
    "{what} called a second time": "第二次调用 {what}",
    "{what} called a second time (gradients accumulate: zero them before backward)":
        "第二次调用 {what}（梯度会累加：在 backward 之前把它们清零）",
    "{what}, dropout in eval mode": "{what}，dropout 处于评估模式",
    "{what}, nn.Dropout(p=1) (all zeros)": "{what}，nn.Dropout(p=1)（全为零）",
    "{what}: dropout was applied to the embedding table, not to the sum: every occurrence of a token would then share "
    "one mask": "{what}：dropout 作用在了嵌入表上，而不是和上：那样同一个词元的每次出现都会共用一个掩码",
    "{what}: embed_with_dropout must return what the dropout returns":
        "{what}：embed_with_dropout 必须返回 dropout 的返回值",
    "{what}: expected a tensor of shape ({depth},), got {kind}":
        "{what}：应为形状为 ({depth},) 的张量，实际得到 {kind}",
    "{what}: expected a tensor, got {kind}": "{what}：应为张量，实际得到 {kind}",
    "{what}: mean(output) / mean(x) = {ratio:.4f}, expected 1 (inverted dropout preserves the expected value)":
        "{what}：mean(output) / mean(x) = {ratio:.4f}，应为 1（反向缩放 dropout 保持期望值不变）",
    "{what}: output dtype {got}, input dtype {dtype} (keep the input's dtype)":
        "{what}：输出的 dtype 为 {got}，输入的 dtype 为 {dtype}（请保持输入的 dtype）",
    "{what}: output shape": "{what}：输出的形状",
    "{what}: surviving elements (should be x / (1 - p))": "{what}：保留下来的元素（应为 x / (1 - p)）",
    "{what}: the dropout module was called {n} times; call it once, on the sum of the two embeddings":
        "{what}：dropout 模块被调用了 {n} 次；只能调用一次，作用在两种嵌入之和上",
    "{what}: the output contains NaN": "{what}：输出中含有 NaN",
    "{what}: the token embeddings were multiplied by √d_model, as the paper's §3.4 does; this exercise uses the "
    "tables as given (the sum of §5.4, without that scaling)":
        "{what}：词元嵌入像论文 §3.4 那样乘以了 √d_model；本练习按给定的样子使用两张表（即 §5.4 中不带这个缩放的和）",
    "{what}: what dropout is applied to (each token's embedding plus its position's vector, positions 0 .. seq - 1)":
        "{what}：dropout 作用的对象（每个词元的嵌入加上它所在位置的向量，位置为 0 .. seq - 1）",
    "{what}: {frac:.3f} of the elements were set to zero, expected about p = {p} (is p the probability of DROPPING an "
    "element?)": "{what}：有 {frac:.3f} 的元素被置零，应为大约 p = {p}（p 是“丢弃”一个元素的概率吗？）",
}
