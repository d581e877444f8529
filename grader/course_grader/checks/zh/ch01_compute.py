"""The hidden checks of chapter 01 (compute) in Chinese."""

MESSAGES = {
    "days_to_train with the default n_chips (1)": "n_chips 取默认值（1）时的 days_to_train",
    "days_to_train(86400 FLOPs, 0.5 FLOP/s)": "days_to_train(86400 FLOP，0.5 FLOP/s)",
    "days_to_train(one PF-day, 1e15, 1.0)": "days_to_train(一个 PF-天，1e15，1.0)",
    "encoder_flops with d_model={d}, n_head={heads}": "d_model={d}、n_head={heads} 时的 encoder_flops",
    "encoder_flops{args} should count no head ('head': 0): vocab = 0 is a model without one, as training_flops counts "
    "it; got {got!r}":
        "encoder_flops{args} 不应计入输出层（'head': 0）：vocab = 0 是没有输出层的模型，training_flops "
        "就是这样计数的；实际得到 {got!r}",
    "encoder_flops{args} should return a dict with the keys {keys}, got {got!r}":
        "encoder_flops{args} 应返回键为 {keys} 的 dict，实际得到 {got!r}",
    "encoder_flops{args}, summed, against FlopCounterMode on the stack without embedding and head":
        "encoder_flops{args} 各部分之和，与 FlopCounterMode 在不含嵌入和输出层的堆栈上的计数对比",
    "encoder_flops{args}[{part!r}] against FlopCounterMode on the model":
        "encoder_flops{args}[{part!r}]，与 FlopCounterMode 在该模型上的计数对比",
    "encoder_flops{args}[{part!r}] should be an int, got {got!r}":
        "encoder_flops{args}[{part!r}] 应为 int，实际得到 {got!r}",
    "layer_params(d_model={d}, d_ff={d_ff}) against nn.TransformerEncoderLayer (four projections with biases, an FFN "
    "with both biases, two LayerNorms)":
        "layer_params(d_model={d}, d_ff={d_ff}) 与 nn.TransformerEncoderLayer 对比（四个带偏置的投影、"
        "一个两处都带偏置的前馈网络、两个 LayerNorm）",
    "matmul_flops({a}, {b}) against torch's FLOP counter": "matmul_flops({a}, {b}) 与 torch 的 FLOP 计数器对比",
    "matmul_flops({a}, {b}) should return an int, got {kind} {got!r}":
        "matmul_flops({a}, {b}) 应返回 int，实际得到 {kind} {got!r}",
    "measure_seconds (warmup={warmup}, repeats={repeats}): the median of the timed calls only":
        "measure_seconds（warmup={warmup}，repeats={repeats}）：只取计时调用的中位数",
    "measure_seconds should return a float, got {kind}": "measure_seconds 应返回 float，实际得到 {kind}",
    "measure_seconds with sync (warmup={warmup}, repeats={repeats}): call sync() before starting the clock and again "
    "before stopping it, as for CUDA":
        "带 sync 的 measure_seconds（warmup={warmup}，repeats={repeats}）：开始计时前调用一次 sync()，"
        "停止计时前再调用一次，和 CUDA 上一样",
    "mfu with peak = 0": "peak = 0 时的 mfu",
    "mfu with seconds < 0": "seconds < 0 时的 mfu",
    "mfu(2.6 FLOPs, 0.5 s, peak 0.8 FLOP/s)": "mfu(2.6 FLOP，0.5 s，峰值 0.8 FLOP/s)",
    "number of calls of fn with warmup={warmup}, repeats={repeats}":
        "warmup={warmup}、repeats={repeats} 时 fn 的调用次数",
    "roofline_point{args} should return a dict with the keys 'attainable', 'bound', 'intensity', got {got!r}":
        "roofline_point{args} 应返回键为 'attainable'、'bound'、'intensity' 的 dict，实际得到 {got!r}",
    "roofline_point{args}['attainable'] (the lower roof)": "roofline_point{args}['attainable']（较低的那个屋顶）",
    "roofline_point{args}['intensity'] (A and B read once, C written once)":
        "roofline_point{args}['intensity']（A 和 B 各读一次，C 写一次）",
    "training_flops should return an int, got {kind} {got!r}": "training_flops 应返回 int，实际得到 {kind} {got!r}",
    "training_flops(n_layer={n_layer}, d_model={d}, n_head={heads}, d_ff={d_ff}, seq={seq}, batch={batch}) against "
    "FlopCounterMode on a forward and backward pass":
        "training_flops(n_layer={n_layer}, d_model={d}, n_head={heads}, d_ff={d_ff}, seq={seq}, batch={batch}) 与 "
        "FlopCounterMode 在一次前向和反向传播上的计数对比",
}
