"""The hidden checks of chapter 05 (attention) in Chinese."""

MESSAGES = {
    # dot_product_variance
    "dot_product_variance should return a float, got {got}": "dot_product_variance 应当返回 float，实际得到 {got}",
    "dot_product_variance gave about the same number for d_k = 1 and d_k = 256 ({one:.4g} and {many:.4g}): the d_k "
    "argument was ignored; draw vectors of the size d_k you are given":
        "dot_product_variance 对 d_k = 1 和 d_k = 256 给出的数差不多（{one:.4g} 和 {many:.4g}）：d_k 参数被忽略了；"
        "请抽取长度为给定 d_k 的向量",
    "dot_product_variance(d_k={d_k}, 20000 samples): Var(q·k) for unit-variance entries is d_k":
        "dot_product_variance(d_k={d_k}, 20000 个样本)：各分量方差为 1 时，Var(q·k) 等于 d_k",
    "dot_product_variance with two generators seeded alike gave different results: draw every random number from the "
    "generator argument":
        "用种子相同的两个生成器，dot_product_variance 给出了不同的结果：每个随机数都要从 generator 参数中抽取",
    "dot_product_variance(16, n=50) over 8 seeds ranged only {low:.4g}..{high:.4g}: with 50 samples the estimate "
    "should vary from seed to seed (was the n argument ignored?); sample n pairs, do not compute the variance":
        "dot_product_variance(16, n=50) 在 8 个种子下只在 {low:.4g}..{high:.4g} 之间变化：只有 50 个样本时，"
        "估计值应当随种子变化（n 参数是不是被忽略了？）；请抽取 n 对样本，而不是直接算出方差",
    "dot_product_variance(16, n=50): the average over 8 seeds should be near 16":
        "dot_product_variance(16, n=50)：8 个种子的平均值应当接近 16",
    # scaled_dot_product_attention
    "attention with q {q}, k {k}, mask {kind}": "q 为 {q}、k 为 {k}、掩码为 {kind} 的 attention",
    "output of {label}, against F.scaled_dot_product_attention":
        "{label}的输出，与 F.scaled_dot_product_attention 对比",
    "weights of {label}": "{label}的权重",
    "a query that may attend to no key at all (a fully masked row) must not produce NaN":
        "不能关注任何键的查询（整行都被遮蔽）不能产生 NaN",
    "weights of a fully masked row (zeros, by the course's convention)": "整行都被遮蔽时的权重（按课程的约定为全零）",
    "output of a fully masked row (zeros)": "整行都被遮蔽时的输出（全零）",
    # masks
    "causal_mask should return a bool tensor": "causal_mask 应当返回布尔张量",
    "shape of causal_mask({seq})": "causal_mask({seq}) 的形状",
    "causal_mask({seq}): query i may attend to keys 0..i (itself included), never to later ones":
        "causal_mask({seq})：查询 i 可以关注键 0..i（包括它自己），但不能关注之后的键",
    "shape of causal_mask({q_len}, {k_len})": "causal_mask({q_len}, {k_len}) 的形状",
    "causal_mask({q_len}, {k_len}): the queries are the last {q_len} of {k_len} positions; query i sits at position "
    "{first} + i and may attend to keys up to that position":
        "causal_mask({q_len}, {k_len})：这些查询是 {k_len} 个位置中的最后 {q_len} 个；查询 i 位于位置 {first} + i，"
        "可以关注直到该位置的键",
    "padding_mask should return a bool tensor": "padding_mask 应当返回布尔张量",
    "padding_mask({lengths}, {max_len}) has {keys} keys: the max_len argument was ignored (the longest length is not "
    "max_len: a batch may be padded beyond its longest sequence)":
        "padding_mask({lengths}, {max_len}) 有 {keys} 个键：max_len 参数被忽略了（最长的长度并不等于 max_len："
        "一个批量可以填充到比其中最长的序列还长）",
    "shape of padding_mask({lengths}, {max_len})": "padding_mask({lengths}, {max_len}) 的形状",
    "padding_mask({lengths}, {max_len}): key j is allowed when j < length of its sequence":
        "padding_mask({lengths}, {max_len})：当 j 小于所在序列的长度时，键 j 是允许关注的",
    # MultiHeadAttention
    "MultiHeadAttention({d}, {heads}) should build an nn.Module":
        "MultiHeadAttention({d}, {heads}) 应当构建出一个 nn.Module",
    "MultiHeadAttention should have nn.Linear layers q_proj, k_proj, v_proj and out_proj; found {names}":
        "MultiHeadAttention 应当有 nn.Linear 层 q_proj、k_proj、v_proj 和 out_proj；实际找到的是 {names}",
    "parameters of MultiHeadAttention({d}, {heads}) (4d² + 4d)":
        "MultiHeadAttention({d}, {heads}) 的参数个数（4d² + 4d）",
    "MultiHeadAttention({d}, {heads}) has n_heads = {got!r}: the n_heads argument was ignored":
        "MultiHeadAttention({d}, {heads}) 的 n_heads = {got!r}：n_heads 参数被忽略了",
    "self-attention of MultiHeadAttention({d}, {heads}) vs nn.MultiheadAttention, copied weights":
        "MultiHeadAttention({d}, {heads}) 的自注意力与复制了相同权重的 nn.MultiheadAttention 对比",
    "cross-attention (5 queries, 3 keys) of MultiHeadAttention({d}, {heads})":
        "MultiHeadAttention({d}, {heads}) 的交叉注意力（5 个查询，3 个键）",
    "MultiHeadAttention({d}, {heads}) gave the same output with a causal mask as without one: the mask argument of "
    "forward was ignored; pass it on to the attention":
        "MultiHeadAttention({d}, {heads}) 加不加因果掩码输出都一样：forward 的 mask 参数被忽略了；请把它传给注意力计算",
    "MultiHeadAttention({d}, {heads}) with a causal mask (True = may attend)":
        "带因果掩码的 MultiHeadAttention({d}, {heads})（True = 可以关注）",
    "MultiHeadAttention({d}, {heads}) with a padding mask of shape (batch, 1, 1, k_len)":
        "带形状为 (batch, 1, 1, k_len) 的填充掩码的 MultiHeadAttention({d}, {heads})",
    "MultiHeadAttention(10, 3) (10 is not divisible by 3)": "MultiHeadAttention(10, 3)（10 不能被 3 整除）",
}
