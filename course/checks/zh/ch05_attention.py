"""Chapter 05 (attention) in Chinese: the visible checks' messages and those of the chapter's test cells."""

MESSAGES = {
    # course/checks/ch05_attention.py
    "MultiHeadAttention({d}, {heads}) computes {h} head(s), not {heads}: the n_heads argument was ignored; split "
    "d_model into the n_heads heads you are given":
        "MultiHeadAttention({d}, {heads}) 计算的是 {h} 个头，而不是 {heads} 个：n_heads 参数被忽略了；请把 d_model "
        "拆分成给定的 n_heads 个头",
    "MultiHeadAttention({d}, {heads}) should have nn.Linear({d}, {d}) layers q_proj, k_proj, v_proj and out_proj, "
    "with biases: a layer of another width ignored the d_model argument":
        "MultiHeadAttention({d}, {heads}) 应当有带偏置的 nn.Linear({d}, {d}) 层 q_proj、k_proj、v_proj 和 out_proj："
        "宽度不对的层忽略了 d_model 参数",
    "build the mask yourself: the course's causal_mask is the reference":
        "请自己构建掩码：课程自带的 causal_mask 就是参考答案",
    "build the mask yourself: the course's padding_mask is the reference":
        "请自己构建掩码：课程自带的 padding_mask 就是参考答案",
    "compute the scores, mask, softmax and weighted sum yourself: F.scaled_dot_product_attention and the course's own "
    "attention are the references":
        "请自己计算分数、掩码、softmax 和加权和：F.scaled_dot_product_attention 和课程自带的注意力实现就是参考答案",
    "cross-attention of {what} (5 queries, 3 keys) with a padding mask of shape (batch, 1, 1, k_len), against "
    "nn.MultiheadAttention with key_padding_mask=~mask":
        "{what} 的交叉注意力（5 个查询，3 个键），带形状为 (batch, 1, 1, k_len) 的填充掩码，与使用 "
        "key_padding_mask=~mask 的 nn.MultiheadAttention 对比",
    "project, split into heads, attend with your own scaled_dot_product_attention and merge yourself: "
    "nn.MultiheadAttention and the course's MultiHeadAttention (given in chapter 07) are the references":
        "请自己完成投影、拆分注意力头、用你自己的 scaled_dot_product_attention 计算注意力以及合并各头："
        "nn.MultiheadAttention 和课程自带的 MultiHeadAttention（第 07 章给出）就是参考答案",
    "self-attention of {what}, against nn.MultiheadAttention({d}, {heads}) with the same weights":
        "{what} 的自注意力，与权重相同的 nn.MultiheadAttention({d}, {heads}) 对比",
    "{what} gave the same output with a padding mask as without one: the mask argument of forward was ignored; pass "
    "it on to scaled_dot_product_attention":
        "{what} 加不加填充掩码输出都一样：forward 的 mask 参数被忽略了；请把它传给 scaled_dot_product_attention",
    # chapters/05-attention.py, test cells
    "about 1/d_k: you averaged the d_k products; q·k is their sum, see Part 1":
        "约为 1/d_k：你对 d_k 个乘积取了平均；q·k 是它们的和，见第 1 部分",
    "about 1: that is the variance of the SCALED score q·k/√d_k (or of q·k divided by d_k); the question is the raw "
    "q·k, see Part 1":
        "约为 1：这是缩放后的分数 q·k/√d_k（或 q·k 除以 d_k）的方差；题目问的是未缩放的 q·k，见第 1 部分",
    "about 2·d_k: q and k must be independent draws (q·q = |q|² has variance 2·d_k)":
        "约为 2·d_k：q 和 k 必须是相互独立的两次抽样（q·q = |q|² 的方差是 2·d_k）",
    "about 3.1: the entries must be standard normal (torch.randn), not uniform on [0, 1) (torch.rand)":
        "约为 3.1：各分量必须服从标准正态分布（torch.randn），而不是 [0, 1) 上的均匀分布（torch.rand）",
    "about √d_k = 8: that is the standard deviation; return the variance":
        "约为 √d_k = 8：这是标准差；请返回方差",
    "dot_product_variance(4, 20000 samples)": "dot_product_variance(4, 20000 个样本)",
    "dot_product_variance(64, 20000 samples)": "dot_product_variance(64, 20000 个样本)",
    "return a Python float (use .item()), got {got}": "请返回 Python 的 float（用 .item()），实际得到 {got}",
    "the same number as for d_k = 64: the d_k argument was ignored; draw vectors of the size d_k you are given":
        "与 d_k = 64 时的数相同：d_k 参数被忽略了；请抽取长度为给定 d_k 的向量",
    "two different seeds gave exactly the same number: the exercise measures the variance by sampling; returning a "
    "formula (such as d_k) checks nothing, see Exercise 1":
        "两个不同的种子给出了完全相同的数：这个练习是通过抽样来测量方差的；直接返回一个公式（例如 d_k）"
        "什么也检验不了，见练习 1",
    "two generators with the same seed gave different answers: draw every random number from `generator` (pass "
    "generator=generator to each torch.randn), not from the global random state":
        "种子相同的两个生成器给出了不同的答案：每个随机数都要从 `generator` 中抽取（给每次 torch.randn 传入 "
        "generator=generator），而不是用全局随机状态",
    "with n = 3 pairs the estimate should jump from seed to seed, but 6 seeds gave {low:.3g} .. {high:.3g}: the n "
    "argument was ignored; draw n pairs, as many as you are given":
        "只有 n = 3 对时，估计值应当随种子大幅跳动，但 6 个种子给出的是 {low:.3g} .. {high:.3g}：n 参数被忽略了；"
        "请抽取给定的 n 对",
    "your number is the variance of ONE vector's entries summed (also about d_k): q·k multiplies q and k entry by "
    "entry and then sums the products, see Part 1":
        "你的数是一个向量各分量之和的方差（它也约为 d_k）：q·k 是把 q 和 k 逐分量相乘，再把乘积加起来，见第 1 部分",
    "a query with no allowed key gave NaN: softmax of a row of -inf is 0/0; by the course's rule it gets zero weights "
    "and a zero output (Part 2)":
        "没有任何可关注键的查询得到了 NaN：对一整行 -inf 做 softmax 就是 0/0；按课程的约定，"
        "这样的查询得到全零的权重和全零的输出（第 2 部分）",
    "each COLUMN sums to 1: the softmax must run over the keys (the last dim), not over the queries (Part 2)":
        "每一列的和为 1：softmax 必须沿键（最后一维）计算，而不是沿查询（第 2 部分）",
    "output of queries with no allowed key (zeros)": "没有可关注键的查询的输出（全零）",
    "output of the hand-worked case": "手算示例的输出",
    "scaled by √(number of keys)? d_k is the size of each query and key vector (Part 2)":
        "除以的是 √(键的个数)？d_k 是每个查询向量和键向量的长度（第 2 部分）",
    "the allowed key got no weight: True means the query MAY attend (Part 2)":
        "允许关注的键没有得到权重：True 表示查询可以关注该键（第 2 部分）",
    "the masked key still gets weight: a masked score must be -inf, not 0 (Part 2)":
        "被遮蔽的键仍然得到了权重：被遮蔽的分数必须是 -inf，而不是 0（第 2 部分）",
    "the rows no longer sum to 1: the weights were zeroed AFTER the softmax; set masked scores to -inf before it "
    "(Part 2)":
        "各行的和不再是 1：权重是在 softmax 之后才置零的；请在 softmax 之前把被遮蔽的分数设为 -inf（第 2 部分）",
    "they match scores divided by d_k: the scale is 1/√d_k; 1/d_k over-flattens the softmax (Part 1)":
        "它们与除以 d_k 的分数一致：缩放因子是 1/√d_k；用 1/d_k 会让 softmax 过度平滑（第 1 部分）",
    "they match the unscaled scores q·kᵀ: divide by √d_k, d_k = the last dim of q and k (Part 1)":
        "它们与未缩放的分数 q·kᵀ 一致：请除以 √d_k，d_k 是 q 和 k 的最后一维（第 1 部分）",
    "uniform weights: a large negative fill (not -inf) leaves a fully masked row with equal scores; such a row must "
    "get zeros (Part 2)":
        "权重是均匀的：用一个很大的负数（而不是 -inf）填充，会让整行都被遮蔽的分数彼此相等；这样的行必须得到全零（第 "
        "2 部分）",
    "weights of queries with no allowed key": "没有可关注键的查询的权重",
    "weights of the hand-worked case": "手算示例的权重",
    "weights should have shape (batch, heads, q_len, k_len) = (1, 1, 2, 2), got {got}":
        "权重的形状应为 (batch, heads, q_len, k_len) = (1, 1, 2, 2)，实际为 {got}",
    "weights with the second key masked": "遮蔽第二个键之后的权重",
    "True and False are swapped: True marks the real keys": "True 和 False 弄反了：True 标记的是真实的键",
    "True and False are swapped: True means the query MAY attend":
        "True 和 False 弄反了：True 表示查询可以关注该键",
    "causal_mask should return a bool tensor (True = may attend), got {got}":
        "causal_mask 应当返回布尔张量（True = 可以关注），实际得到 {got}",
    "nothing is masked: key j is real only when j < length (positions start at 0, so a sequence of length 2 has keys "
    "0 and 1)":
        "什么都没有被遮蔽：只有当 j < length 时键 j 才是真实的（位置从 0 开始，所以长度为 2 的序列有键 0 和 1）",
    "padding_mask has shape (batch, 1, max_len, 1): that masks queries; the keys are the LAST dim of the scores, so "
    "the shape is (batch, 1, 1, max_len) (Part 3)":
        "padding_mask 的形状是 (batch, 1, max_len, 1)：这遮蔽的是查询；键在分数的最后一维，所以形状应为 (batch, 1, 1, "
        "max_len)（第 3 部分）",
    "padding_mask([1, 2], 4) has 2 keys, the longest length: the max_len argument was ignored; a batch may be padded "
    "beyond its longest sequence, so the last dim is max_len":
        "padding_mask([1, 2], 4) 只有 2 个键，即最长的长度：max_len 参数被忽略了；"
        "一个批量可以填充到比其中最长的序列还长，所以最后一维是 max_len",
    "padding_mask([2, 3], 3) should have shape (batch, 1, 1, max_len) = (2, 1, 1, 3) so that it broadcasts over heads "
    "and queries; got {shape}":
        "padding_mask([2, 3], 3) 的形状应为 (batch, 1, 1, max_len) = (2, 1, 1, 3)，"
        "这样它才能在头和查询两个维度上广播；实际为 {shape}",
    "query i may see key i + 1: one future token leaks": "查询 i 能看到键 i + 1：泄漏了一个未来的词元",
    "shape of causal_mask(2, 4) (q_len, k_len)": "causal_mask(2, 4) 的形状 (q_len, k_len)",
    "shape of padding_mask & causal_mask (broadcast)": "padding_mask & causal_mask 的形状（广播）",
    "shape of padding_mask([1, 2], 4)": "padding_mask([1, 2], 4) 的形状",
    "that is the top-left alignment (what is_causal does for a non-square mask): here the 2 queries are the LAST 2 of "
    "the 4 positions, so query 0 sits at position 2 (Part 3)":
        "这是左上角对齐（is_causal 对非方阵掩码就是这样做的）：这里的 2 个查询是 4 个位置中的最后 2 个，所以查询 0 "
        "位于位置 2（第 3 部分）",
    "the diagonal is missing: query i may attend to itself (key j = i)":
        "缺少对角线：查询 i 可以关注它自己（键 j = i）",
    "this is the upper triangle: rows are queries and columns keys; query i sees keys j <= i":
        "这是上三角：行是查询，列是键；查询 i 能看到键 j <= i",
    "MultiHeadAttention(10, 4): 10 features cannot be split into 4 equal heads, so the constructor":
        "MultiHeadAttention(10, 4)：10 个特征无法均分成 4 个头，所以构造函数",
    "parameters of MultiHeadAttention(8, 2) (four d×d projections, each with a bias: 4d² + 4d)":
        "MultiHeadAttention(8, 2) 的参数个数（四个 d×d 的投影，各带一个偏置：4d² + 4d）",
    "self-attention, against nn.MultiheadAttention with the same weights":
        "自注意力，与权重相同的 nn.MultiheadAttention 对比",
    "with ONE head your layer matches nn.MultiheadAttention and with two it does not: the heads are split or merged "
    "along the wrong axis (view as (batch, seq, heads, d_head), then move the head axis next to batch; undo both when "
    "merging), or the scale uses d_model instead of d_head (Part 4)":
        "只有一个头时你的层与 nn.MultiheadAttention 一致，两个头时却不一致：拆分或合并注意力头时用错了轴（先 view 成 "
        "(batch, seq, heads, d_head)，再把头所在的轴移到 batch 旁边；合并时把这两步都撤销），或者缩放用的是 d_model "
        "而不是 d_head（第 4 部分）",
    "your layer matches nn.MultiheadAttention only when out_proj is the identity: apply self.out_proj to the merged "
    "heads (Part 4, step 5)":
        "只有当 out_proj 是恒等映射时你的层才与 nn.MultiheadAttention 一致：请对合并后的各头应用 self.out_proj（第 4 "
        "部分，第 5 步）",
}
