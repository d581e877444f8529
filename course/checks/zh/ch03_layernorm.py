"""Chapter 03 (layer normalisation) in Chinese: the visible checks' messages and those of the chapter's test cells."""

MESSAGES = {
    # course/checks/ch03_layernorm.py
    "build LayerNorm from your rms_norm: F.layer_norm is what it is checked against":
        "请用你的 rms_norm 搭出层归一化：检查正是拿 F.layer_norm 来核对它",
    "write RMSNorm from the mean of the squares: F.rms_norm is the reference":
        "请用平方的均值写出 RMSNorm：F.rms_norm 就是参考答案",
    "write layer normalisation from mean and variance: F.layer_norm is what it is checked against":
        "请用均值和方差写出层归一化：检查正是拿 F.layer_norm 来核对它",
    "write the module around your own layer_norm: nn.LayerNorm is the reference":
        "请围绕你自己的 layer_norm 写这个模块：nn.LayerNorm 就是参考答案",
    "{name}: expected a tensor, got {got}": "{name}：应为张量，实际得到 {got}",
    "{name}: its tokens have mean {mean:.3g} and std {std:.3g}, not 0 and 1: {why}":
        "{name}：它的词元均值为 {mean:.3g}、标准差为 {std:.3g}，而不是 0 和 1：{why}",
    # chapters/03-layernorm.py, test cells
    "LayerNorm(2, eps=3.0) ignored its eps: forward must pass self.eps on to layer_norm, not a fixed 1e-5 (and "
    "layer_norm must use its eps argument: see its own test)":
        "LayerNorm(2, eps=3.0) 忽略了它的 eps：forward 必须把 self.eps 传给 layer_norm，而不是固定的 1e-5（layer_norm "
        "也必须使用它的 eps 参数：见它自己的测试）",
    "LayerNorm(2, eps=3.0) on [[1, 3]] (1 / sqrt(1 + 3) = 0.5)":
        "LayerNorm(2, eps=3.0) 作用于 [[1, 3]]（1 / sqrt(1 + 3) = 0.5）",
    "LayerNorm(4) has the parameters {names}: γ and β must be nn.Parameter attributes named weight and bias, as in "
    "nn.LayerNorm, so that load_state_dict works (buffers and plain tensors are not learnable)":
        "LayerNorm(4) 的参数是 {names}：γ 和 β 必须是名为 weight 和 bias 的 nn.Parameter 属性，与 nn.LayerNorm 一致，"
        "这样 load_state_dict 才能工作（缓冲区和普通张量是不可学习的）",
    "LayerNorm(4) on an input with last dim 5 (the message names both sizes)":
        "LayerNorm(4) 作用于最后一维为 5 的输入（报错信息要写出这两个大小）",
    "LayerNorm(4) with nn.LayerNorm's γ and β loaded, against nn.LayerNorm":
        "载入 nn.LayerNorm 的 γ 和 β 之后的 LayerNorm(4)，与 nn.LayerNorm 对比",
    "PostLN(4, two sublayers) has {n} parameters, expected 16 (two LayerNorms of 8): {why}":
        "PostLN(4, 两个子层) 有 {n} 个参数，应为 16（两个 LayerNorm，各 8 个）：{why}",
    "PreLN(4, two sublayers) has {n} parameters, expected 24 (three LayerNorms of 8): {why}":
        "PreLN(4, 两个子层) 有 {n} 个参数，应为 24（三个 LayerNorm，各 8 个）：{why}",
    "a Post-LN stack ends with its last block's LayerNorm, applied after the add (Part 3)":
        "Post-LN 堆栈以最后一个块的 LayerNorm 结尾，它作用在相加之后（第 3 部分）",
    "a Post-LN stack needs no final LayerNorm, its last block already ends in one (Part 3)":
        "Post-LN 堆栈不需要最终层归一化，它的最后一个块本身就以一个 LayerNorm 结尾（第 3 部分）",
    "a Pre-LN stack's output is that of its final LayerNorm: did you forget it (Part 3)?":
        "Pre-LN 堆栈的输出是它的最终层归一化的输出：你是不是忘了它（第 3 部分）？",
    "after load_state_dict the output is still that of γ = 1, β = 0: forward must use self.weight and self.bias":
        "load_state_dict 之后，输出仍然是 γ = 1、β = 0 时的结果：forward 必须使用 self.weight 和 self.bias",
    "at initialisation weight (γ) must be ones and bias (β) zeros, so that a new LayerNorm only normalises":
        "初始化时 weight（γ）必须全为 1，bias（β）必须全为 0，这样新建的 LayerNorm 只做归一化",
    "bias (β) was not added": "没有加上 bias（β）",
    "bias (β) was not added: RMSNorm has none, so you add it": "没有加上 bias（β）：RMSNorm 没有偏置，所以要由你来加",
    "count the norms in the left-hand drawing": "数一数左边图中的归一化层",
    "count the norms in the right-hand drawing": "数一数右边图中的归一化层",
    "eps had no effect: with a mean square this small it must (Part 4)":
        "eps 没有起作用：均方这么小时，它必须起作用（第 4 部分）",
    "eps had no effect: with a variance this tiny it must, added to the variance under the square root (Part 1, "
    "detail 2)": "eps 没有起作用：方差这么小时，它必须起作用，方法是在平方根下加到方差上（第 1 部分，细节 2）",
    "gamma and beta are swapped: weight (γ) scales the normalised token, bias (β) is added to it":
        "gamma 和 beta 弄反了：weight（γ）用来缩放归一化后的词元，bias（β）是加上去的",
    "layer_norm on three tokens that differ by scale and shift": "layer_norm 作用于只相差缩放和平移的三个词元",
    "layer_norm with gamma [2, 3] and beta [0.5, -1]": "gamma 为 [2, 3]、beta 为 [0.5, -1] 时的 layer_norm",
    "layer_norm([[0, 0.002]]) with eps = 1e-5": "eps = 1e-5 时的 layer_norm([[0, 0.002]])",
    "layer_norm_from_rms called rms_norm {n} times: call it exactly once":
        "layer_norm_from_rms 调用了 rms_norm {n} 次：只能调用一次",
    "layer_norm_from_rms with gamma [2, 3] and beta [0.5, -1]":
        "gamma 为 [2, 3]、beta 为 [0.5, -1] 时的 layer_norm_from_rms",
    "layer_norm_from_rms([[0, 0.002]]) with eps = 1e-5": "eps = 1e-5 时的 layer_norm_from_rms([[0, 0.002]])",
    "layer_norm_from_rms([[1, 3]]) with eps = 3 (1 / sqrt(1 + 3))":
        "eps = 3 时的 layer_norm_from_rms([[1, 3]])（1 / sqrt(1 + 3)）",
    "number of parameters of LayerNorm(4) (2 · d_model)": "LayerNorm(4) 的参数个数（2 · d_model）",
    "one LayerNorm is shared by every block: each block needs its own, with its own γ and β":
        "所有块共用了同一个 LayerNorm：每个块都需要自己的 LayerNorm，带有自己的 γ 和 β",
    "one LayerNorm per block is not enough: the residual stream is never normalised inside a Pre-LN block, so the "
    "stack needs a final LayerNorm (Part 3)":
        "每个块一个 LayerNorm 还不够：在 Pre-LN 块内部残差流从不被归一化，所以堆栈还需要一个最终层归一化（第 3 部分）",
    "rms_norm on two tokens": "rms_norm 作用于两个词元",
    "rms_norm used its own default eps (1e-6) instead of the eps argument: pass eps on":
        "rms_norm 用的是它自己的默认 eps（1e-6），而不是传入的 eps 参数：请把 eps 传下去",
    "rms_norm([[3, 4]]) with weight [2, 0.5]": "weight 为 [2, 0.5] 时的 rms_norm([[3, 4]])",
    "that is the Post-LN arrangement: in Pre-LN the norm is applied to the sublayer's input only":
        "这是 Post-LN 的排列方式：在 Pre-LN 中，归一化只作用于子层的输入",
    "that is the Pre-LN arrangement: in Post-LN the norm is applied to the sum x + sublayer(x)":
        "这是 Pre-LN 的排列方式：在 Post-LN 中，归一化作用于和 x + sublayer(x)",
    "the eps argument was ignored (a fixed 1e-6?)": "eps 参数被忽略了（用了固定的 1e-6？）",
    "the eps argument was ignored (a fixed eps, or rms_norm's own default): pass the eps you are given on to rms_norm":
        "eps 参数被忽略了（用了固定的 eps，或者 rms_norm 自己的默认值）：请把传入的 eps 传给 rms_norm",
    "the eps argument was ignored: with eps = 3 the output must change; use the eps you are given, not a fixed 1e-5 "
    "(Part 1, detail 2)":
        "eps 参数被忽略了：eps = 3 时输出必须改变；请使用传入的 eps，而不是固定的 1e-5（第 1 部分，细节 2）",
    "the mean and variance lost their last dim (no keepdim=True), so they broadcast along the wrong axis (Part 1, "
    "detail 3)": "均值和方差丢掉了最后一维（没有 keepdim=True），于是沿着错误的轴广播了（第 1 部分，细节 3）",
    "the mean square lost its last dim (no keepdim=True), so it broadcast along the wrong axis":
        "均方丢掉了最后一维（没有 keepdim=True），于是沿着错误的轴广播了",
    "the residual path is missing: each block adds its input to the sublayer's output":
        "缺少残差路径：每个块都要把它的输入加到子层的输出上",
    "the residual path is missing: each block adds its input to the sublayer's output before normalising":
        "缺少残差路径：每个块都要先把它的输入加到子层的输出上，再做归一化",
    "the skip path carried LayerNorm(h) instead of h: in Pre-LN the residual stream itself is never normalised inside "
    "a block": "跳跃连接传递的是 LayerNorm(h) 而不是 h：在 Pre-LN 中，残差流本身在块内部从不被归一化",
    "the sublayers ran in reverse order: sublayers[0] belongs to the first block, next to the input":
        "子层的运行顺序反了：sublayers[0] 属于第一个块，紧挨着输入",
    "the tokens passed to rms_norm were not centred: subtract each token's mean over its own features first":
        "传给 rms_norm 的词元没有中心化：先让每个词元减去它自身各特征的均值",
    "weight (γ) was not applied": "没有乘上 weight（γ）",
    "with two nn.Linear(4, 4) sublayers the stacks should also hold their 2 × 20 parameters: keep the sublayers in an "
    "nn.ModuleList (a plain Python list is not registered, so an optimiser would not train them)":
        "用两个 nn.Linear(4, 4) 作子层时，堆栈还应包含它们的 2 × 20 个参数：请把子层放在 nn.ModuleList 中（普通的 "
        "Python 列表不会被注册，优化器也就不会训练它们）",
    "you added eps outside the square root: it goes under the root, with the mean square (Part 4)":
        "你把 eps 加在了平方根外面：它应当和均方一起放在根号下（第 4 部分）",
    "you added eps to the standard deviation, outside the square root: it belongs inside, under the root with the "
    "variance (Part 1, detail 2)":
        "你把 eps 加到了标准差上，也就是平方根外面：它应当放在里面，与方差一起在根号下（第 1 部分，细节 2）",
    "you averaged over the tokens (dim 0): each token is normalised over its own features, the last dim":
        "你对各个词元求了平均（第 0 维）：每个词元应当在它自己的特征上，也就是最后一维上做归一化",
    "you divided by d - 1 (the unbiased variance, torch.var's default): LayerNorm divides by d, see Part 1, detail 1":
        "你除以了 d - 1（无偏方差，torch.var 的默认做法）：层归一化除以 d，见第 1 部分，细节 1",
    "you divided by the mean absolute value: RMSNorm uses the root of the mean square (Part 4)":
        "你除以的是绝对值的均值：RMSNorm 用的是均方的平方根（第 4 部分）",
    "you divided by the root of the SUM of the squares (the length of the vector): RMSNorm uses their MEAN (Part 4)":
        "你除以的是平方“和”的平方根（即向量的长度）：RMSNorm 用的是平方的“均值”（第 4 部分）",
    "you normalised each feature over the tokens (dim 0, BatchNorm's direction): LayerNorm normalises each token over "
    "its own features, the last dim (Part 1, detail 3)":
        "你让每个特征在各个词元上做了归一化（第 0 维，批归一化的方向）：层归一化是让每个词元在它自己的特征上，"
        "也就是最后一维上做归一化（第 1 部分，细节 3）",
    "you subtracted the mean: that is LayerNorm; RMSNorm does not centre (Part 4)":
        "你减去了均值：那是层归一化；RMSNorm 不做中心化（第 4 部分）",
    "you used one mean and one variance for the whole tensor: every token (row) gets its own (Part 1, detail 3)":
        "你对整个张量只用了一个均值和一个方差：每个词元（每一行）都有它自己的均值和方差（第 1 部分，细节 3）",
    "{cls}(3, [Zeros()]) built LayerNorms of another size than d_model = 3: the d_model argument was ignored; use "
    "nn.LayerNorm(d_model)":
        "{cls}(3, [Zeros()]) 建出的 LayerNorm 大小不是 d_model = 3：d_model 参数被忽略了；请用 nn.LayerNorm(d_model)",
    "{cls}(4, [Zeros(), Zeros()])(x) (sublayers that have learned nothing)":
        "{cls}(4, [Zeros(), Zeros()])(x)（子层什么都没学到）",
    "β was added before scaling by γ: scale first, then shift": "β 是在乘以 γ 之前加上的：应当先缩放，再平移",
}
