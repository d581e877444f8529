"""The hidden checks of chapter 03 (layer normalisation) in Chinese."""

MESSAGES = {
    "LayerNorm(5, eps={eps:g}) against nn.LayerNorm(5, eps={eps:g}) (use self.eps in forward)":
        "LayerNorm(5, eps={eps:g}) 与 nn.LayerNorm(5, eps={eps:g}) 对比（请在 forward 中使用 self.eps）",
    "LayerNorm(x + sublayer(x)) per block": "每个块计算 LayerNorm(x + sublayer(x))",
    "LayerNorm({d}) on an input whose last dim is {wider} (the message names both sizes)":
        "LayerNorm({d}) 作用于最后一维为 {wider} 的输入（报错信息要写出这两个大小）",
    "LayerNorm({d}) on shape {shape} with nn.LayerNorm's (random) weight and bias copied in":
        "复制了 nn.LayerNorm 的（随机）weight 和 bias 之后，LayerNorm({d}) 作用于形状 {shape}",
    "LayerNorm({d}) should build an nn.Module, got {kind}": "LayerNorm({d}) 应当构建出一个 nn.Module，实际得到 {kind}",
    "LayerNorm({d}) should have exactly two parameters, 'weight' (gamma) and 'bias' (beta), like nn.LayerNorm; it has "
    "{names}":
        "LayerNorm({d}) 应当恰好有两个参数 'weight'（gamma）和 'bias'（beta），与 nn.LayerNorm 一致；它的参数是 "
        "{names}",
    "LayerNorm({d}).bias at initialisation (beta starts at zeros)":
        "初始化时的 LayerNorm({d}).bias（beta 从全 0 开始）",
    "LayerNorm({d}).weight at initialisation (gamma starts at ones)":
        "初始化时的 LayerNorm({d}).weight（gamma 从全 1 开始）",
    "a 2-D (tokens, d_model) input": "一个二维的 (tokens, d_model) 输入",
    "a 3-D (batch, seq, d_model) input": "一个三维的 (batch, seq, d_model) 输入",
    "a Post-LN stack needs no final LayerNorm: its last block already ends in one (Part 3)":
        "Post-LN 堆栈不需要最终层归一化：它的最后一个块本身就以一个 LayerNorm 结尾（第 3 部分）",
    "a constant token (zero variance)": "一个常数词元（方差为 0）",
    "d_model = 1 (every token equals its own mean)": "d_model = 1（每个词元都等于它自己的均值）",
    "d_model = 2 (biased vs unbiased variance differ by a factor 2 here)":
        "d_model = 2（此时有偏方差与无偏方差相差 2 倍）",
    "expected {expected}, one per block": "应为 {expected} 个，每个块一个",
    "expected {expected}, one per block plus the final LayerNorm": "应为 {expected} 个，每个块一个，再加上最终层归一化",
    "layer_norm on {label}, against F.layer_norm": "layer_norm 作用于{label}，与 F.layer_norm 对比",
    "layer_norm on {label}: expected a tensor of shape {shape}, got {got}":
        "layer_norm 作用于{label}：应为形状为 {shape} 的张量，实际得到 {got}",
    "layer_norm(x, weight, bias, {eps:g}) on features of size ~{scale:g}":
        "layer_norm(x, weight, bias, {eps:g}) 作用于大小约为 {scale:g} 的特征",
    "layer_norm_from_rms on {label}, eps={eps:g}": "layer_norm_from_rms 作用于{label}，eps={eps:g}",
    "number of parameters of LayerNorm({d})": "LayerNorm({d}) 的参数个数",
    "one per block is not enough: inside a Pre-LN block the residual stream is never normalised, so the stack needs "
    "one more LayerNorm after its last block, the final LayerNorm (Part 3)":
        "每个块一个还不够：在 Pre-LN 块内部残差流从不被归一化，所以堆栈在最后一个块之后还需要一个 LayerNorm，"
        "即最终层归一化（第 3 部分）",
    "rms_norm on shape {shape}, against F.rms_norm": "rms_norm 作用于形状 {shape}，与 F.rms_norm 对比",
    "rms_norm with eps={eps:g} on features of size ~{scale:g} (eps goes inside the square root, added to the mean "
    "square)": "eps={eps:g} 的 rms_norm 作用于大小约为 {scale:g} 的特征（eps 放在平方根里面，加到均方上）",
    "tiny features, variance close to eps (eps belongs inside the square root)":
        "很小的特征，方差接近 eps（eps 应放在平方根里面）",
    "what layer_norm returned": "layer_norm 的返回值",
    "what was passed to rms_norm": "传给 rms_norm 的值",
    "x + sublayer(LayerNorm(x)) per block, then the final LayerNorm":
        "每个块计算 x + sublayer(LayerNorm(x))，最后接最终层归一化",
    "{label} with {n_blocks} blocks holds {found} nn.LayerNorm module(s): {why}":
        "有 {n_blocks} 个块的 {label} 含有 {found} 个 nn.LayerNorm 模块：{why}",
    "{label}'s LayerNorm {k}": "{label} 的第 {k} 个 LayerNorm",
    "{label}(d_model={d}, {n_blocks} sublayers)": "{label}(d_model={d}, {n_blocks} 个子层)",
    "{what} gave what eps = 1e-5 gives: the eps argument was ignored; use the eps you are given":
        "{what} 得到的是 eps = 1e-5 时的结果：eps 参数被忽略了；请使用传入的 eps",
    "{what} should build an nn.Module, got {kind}": "{what} 应当构建出一个 nn.Module，实际得到 {kind}",
    "{what} with random γ and β in its LayerNorms, against {arrangement}, sublayers in list order":
        "各 LayerNorm 取随机的 γ 和 β 时的 {what}，与“{arrangement}”对比，子层按列表顺序排列",
    "{what}, against F.layer_norm": "{what}，与 F.layer_norm 对比",
    "{what}, against F.layer_norm (eps under the square root, added to the variance)":
        "{what}，与 F.layer_norm 对比（eps 在平方根下，加到方差上）",
    "{what}: every LayerNorm should be nn.LayerNorm(d_model), with weight and bias of shape ({d},)":
        "{what}：每个 LayerNorm 都应当是 nn.LayerNorm(d_model)，其 weight 和 bias 的形状为 ({d},)",
    "{what}: expected a tensor of shape {shape}, got {got}": "{what}：应为形状为 {shape} 的张量，实际得到 {got}",
    "{what}: its LayerNorms ran {runs} times in one forward pass ({modules} modules): call each of them once, as a "
    "module (norm(h))":
        "{what}：一次前向传播中它的 LayerNorm 共运行了 {runs} 次（有 {modules} 个模块）："
        "每个都要作为模块调用一次（norm(h)）",
    "{what}: rms_norm got eps={eps!r}; pass the eps argument on (rms_norm's own default is 1e-6)":
        "{what}：rms_norm 收到的是 eps={eps!r}；请把 eps 参数传下去（rms_norm 自己的默认值是 1e-6）",
    "{what}: rms_norm should receive a tensor shaped like x": "{what}：rms_norm 收到的张量应当与 x 形状相同",
    "{what}: rms_norm was called {n} times; call it exactly once, on the centred tokens":
        "{what}：rms_norm 被调用了 {n} 次；只能调用一次，作用在中心化之后的词元上",
    "{what}: the sublayers' parameters are not among the stack's parameters, so an optimiser would never train them: "
    "keep the sublayers in an nn.ModuleList (a plain Python list is not registered)":
        "{what}：子层的参数不在堆栈的参数之中，优化器永远不会训练它们：请把子层放在 nn.ModuleList 中（普通的 Python "
        "列表不会被注册）",
    "{what}: the tokens passed to rms_norm do not have mean 0; subtract each token's mean over its own features first "
    "(LayerNorm = centring, then RMSNorm)":
        "{what}：传给 rms_norm 的词元均值不为 0；先让每个词元减去它自身各特征的均值（层归一化 = 先中心化，再做 "
        "RMSNorm）",
}
