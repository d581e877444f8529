"""Chapter 01 (compute) in Chinese: the visible checks' messages and those of the chapter's test cells."""

MESSAGES = {
    # course/checks/ch01_compute.py
    "count the FLOPs and the bytes moved yourself: the roofline widget's intensity() is the reference":
        "请自己统计 FLOP 数和搬运的字节数：屋顶线控件的 intensity() 就是参考答案",
    "count the FLOPs from the shapes: torch's FlopCounterMode is what the count is checked against":
        "请根据形状统计 FLOP 数：检查正是拿 torch 的 FlopCounterMode 来核对你的计数",
    "count the parameters from d_model and d_ff: nn.TransformerEncoderLayer is what the count is checked against":
        "请根据 d_model 和 d_ff 统计参数量：检查正是拿 nn.TransformerEncoderLayer 来核对你的计数",
    "write the warm-up, sync and median timing loop yourself: the course's benchmarking.median_seconds is the "
    "reference harness":
        "请自己写出预热、同步和取中位数的计时循环：课程的 benchmarking.median_seconds 就是参考的计时工具",
    # chapters/01-compute.py, test cells
    "A third of it: one layer counted instead of n_layer = 3.":
        "只有正确值的三分之一：只算了一层，而不是 n_layer = 3 层。",
    "Backward = forward: each matmul causes two backward matmuls, ∂L/∂X and ∂L/∂W, each as large as itself (Part 3, "
    "'The backward pass').":
        "你把反向传播算成了与前向传播一样多：每个矩阵乘法在反向传播中会引出两个矩阵乘法，∂L/∂X 和 ∂L/∂W，"
        "每个都和它本身一样大（第 3 部分“反向传播”）。",
    "Every timing is 0: the clock was read before the queued work finished; call sync() before the second clock "
    "reading (Part 4, trap 3).":
        "每次计时都是 0：排队的计算还没完成就读了时钟；在第二次读时钟之前调用 sync()（第 4 部分，陷阱 3）。",
    "Exactly half: did you count only Q·Kᵀ and forget weights·V, halve it for a causal mask, or count one of the 2 "
    "layers? An encoder computes both matmuls over the whole seq × seq square in every layer (Part 3, 'What the "
    "counter counts').":
        "恰好是一半：你是不是只算了 Q·Kᵀ 而漏了 weights·V，或者因为因果掩码把它减半了，又或者只算了 2 "
        "层中的一层？编码器在每一层都要在完整的 seq × seq 方阵上计算这两个矩阵乘法（第 3 部分“计数器数的是什么”）。",
    "Half of it: a multiply-add is 2 FLOPs (Part 2).": "只有一半：一次乘加是 2 FLOP（第 2 部分）。",
    "Half of it: did you count one of the 2 layers, or one FLOP per multiply-add instead of two (Part 2)?":
        "只有一半：你是只算了 2 层中的一层，还是把每次乘加记成了 1 FLOP 而不是 2 FLOP（第 2 部分）？",
    "Half of it: each of the 2 layers has two FFN matmuls, d_model → d_ff and d_ff → d_model, at 2 FLOPs per "
    "multiply-add (Part 3).":
        "只有一半：2 层中的每一层都有两个前馈网络矩阵乘法，d_model → d_ff 和 d_ff → d_model，每次乘加记 2 FLOP（第 3 "
        "部分）。",
    "Here B holds the batch: 7 products of (2, 3)·(3, 4) (Part 2, batch dims).":
        "这里批量在 B 中：一共是 7 个 (2, 3)·(3, 4) 乘积（第 2 部分，批量维）。",
    "Only one LayerNorm, or LayerNorms without their shift: there are two, each with a scale and a shift of d_model "
    "(Part 3).":
        "只有一个 LayerNorm，或者 LayerNorm 缺了平移参数：一共有两个 LayerNorm，每个都有长度为 d_model "
        "的缩放参数和平移参数（第 3 部分）。",
    "Only the Q/K/V projection reads x; the output projection reads attention's result, which needs a gradient (Part "
    "3).": "只有 Q/K/V 投影读取 x；输出投影读取的是注意力的结果，而它需要梯度（第 3 部分）。",
    "Only the first layer sees x itself; later layers' inputs depend on weights and need gradients (Part 3, 'The "
    "backward pass').": "只有第一层直接看到 x；后面各层的输入依赖于权重，需要梯度（第 3 部分“反向传播”）。",
    "Reversed: below the ridge the memory roof is the lower one (Part 6).":
        "弄反了：在脊点左侧，内存屋顶更低（第 6 部分）。",
    "Reversed: right of the ridge the peak is the lower roof (Part 6).":
        "弄反了：在脊点右侧，峰值算力是更低的那个屋顶（第 6 部分）。",
    "That is FLOPs per element: multiply the elements by bytes_per_element (Part 6).":
        "这是每个元素的 FLOP 数：要把元素个数乘以 bytes_per_element（第 6 部分）。",
    "That is a percentage: return the fraction (0.3 means 30%) (Part 5).":
        "这是百分数：请返回比例（0.3 表示 30%）（第 5 部分）。",
    "That is above the chip's peak: the attainable rate is the lower of the two roofs (Part 6).":
        "这超过了芯片的峰值：可达算力是两个屋顶中较低的那个（第 6 部分）。",
    "That is hours: convert the seconds to days (Part 1).": "这是小时数：请把秒换算成天（第 1 部分）。",
    "That is minutes: convert to days.": "这是分钟数：请换算成天。",
    "That is m·k·n, one per multiply-add: a multiply-add counts as 2 FLOPs (Part 2).":
        "这是 m·k·n，每次乘加只记了 1：一次乘加要记 2 FLOP（第 2 部分）。",
    "That is m·n·(2k − 1), the exact count of k multiplications and k − 1 additions; the convention counts 2 FLOPs "
    "per multiply-add, as FlopCounterMode printed above (Part 2).":
        "这是 m·n·(2k − 1)，即 k 次乘法和 k − 1 次加法的精确次数；按惯例每次乘加记 2 FLOP，正如上面 FlopCounterMode "
        "打印的那样（第 2 部分）。",
    "That is one (2, 3)·(3, 4) product: a stack of 5 matrices means 5 products (Part 2, batch dims).":
        "这只是一个 (2, 3)·(3, 4) 乘积：5 个矩阵叠在一起，就是 5 个乘积（第 2 部分，批量维）。",
    "That is seconds: convert to days (Part 1).": "这是秒数：请换算成天（第 1 部分）。",
    "That is the H100's bandwidth: the bandwidth argument was ignored.": "这是 H100 的带宽：bandwidth 参数被忽略了。",
    "That is the H100's peak: the peak_flops_per_s argument was ignored.":
        "这是 H100 的峰值：peak_flops_per_s 参数被忽略了。",
    "That is the count for d_ff = 4·d_model = 32: use the d_ff you are given (here 20).":
        "这是 d_ff = 4·d_model = 32 时的参数量：请使用传入的 d_ff（这里是 20）。",
    "That is the count for d_ff = 4·d_model = 48: the d_ff argument was ignored; use the d_ff you are given.":
        "这是 d_ff = 4·d_model = 48 时的参数量：d_ff 参数被忽略了；请使用传入的 d_ff。",
    "That is the count for d_model = 8: the d_model argument was ignored.":
        "这是 d_model = 8 时的参数量：d_model 参数被忽略了。",
    "That is the fastest call; take the median of the timed calls (Part 4, trap 2).":
        "这是最快的那次调用；请取计时调用的中位数（第 4 部分，陷阱 2）。",
    "That is the forward pass only: add the backward pass (Part 3, 'The backward pass').":
        "这只是前向传播：还要加上反向传播（第 3 部分“反向传播”）。",
    "That is the last call only: keep every timed duration and take their median (Part 4, trap 2).":
        "这只是最后一次调用：请保留每次计时的时长，再取它们的中位数（第 4 部分，陷阱 2）。",
    "That is the mean: the one slow call (50 s) drags it up; take the median (Part 4, trap 2).":
        "这是平均值：那一次很慢的调用（50 s）把它拉高了；请取中位数（第 4 部分，陷阱 2）。",
    "That is the median of 5 timed calls: the repeats argument was ignored.":
        "这是 5 次计时调用的中位数：repeats 参数被忽略了。",
    "That is the median of calls 3 to 5: the warmup argument was ignored (2 warm-up calls made anyway).":
        "这是第 3 到第 5 次调用的中位数：warmup 参数被忽略了（不管怎样都做了 2 次预热调用）。",
    "That is the peak: at 100 FLOP/byte the memory roof, intensity × bandwidth, is lower (Part 6).":
        "这是峰值：在 100 FLOP/byte 处，内存屋顶（算术强度 × 带宽）更低（第 6 部分）。",
    "That is the total of the timed calls: return the median of one call's time (Part 4).":
        "这是所有计时调用的总时长：请返回单次调用用时的中位数（第 4 部分）。",
    "The FFN's first bias belongs to its d_ff outputs, not d_model (Part 3).":
        "前馈网络的第一个偏置对应它的 d_ff 个输出，而不是 d_model 个（第 3 部分）。",
    "The FFN's second bias belongs to its d_model outputs, not d_ff (Part 3).":
        "前馈网络的第二个偏置对应它的 d_model 个输出，而不是 d_ff 个（第 3 部分）。",
    "The head (d_model → vocab, after the last layer) is a matmul too (Part 3).":
        "输出层（d_model → vocab，位于最后一层之后）也是一个矩阵乘法（第 3 部分）。",
    "The head runs once, after the last layer, not once per layer (Part 3).":
        "输出层只在最后一层之后运行一次，而不是每层一次（第 3 部分）。",
    "The plain (3, 4) matrix is used for each of the 5 matrices of A: count 5 products (Part 2, batch dims).":
        "这个普通的 (3, 4) 矩阵要与 A 中 5 个矩阵中的每一个相乘：请算 5 个乘积（第 2 部分，批量维）。",
    "The skipped ∂L/∂x belongs to the packed Q/K/V projection, three d_model → d_model matmuls in one (Part 3, 'The "
    "backward pass').":
        "被跳过的 ∂L/∂x 属于打包在一起的 Q/K/V 投影，它是三个 d_model → d_model 矩阵乘法合而为一（第 3 "
        "部分“反向传播”）。",
    "The warm-up calls were timed too: time only the `repeats` calls after them (Part 4, trap 1).":
        "预热调用也被计时了：只对它们之后的 `repeats` 次调用计时（第 4 部分，陷阱 1）。",
    "The warm-up's queued work leaked into the first timing: call sync() right before starting the clock too (Part 4, "
    "trap 3).": "预热排队的计算混进了第一次计时：在开始计时之前也要调用一次 sync()（第 4 部分，陷阱 3）。",
    "Three projections: attention also has an output projection, d_model → d_model with a bias (Part 3).":
        "只有三个投影：注意力还有一个输出投影，即带偏置的 d_model → d_model（第 3 部分）。",
    "Three projections: count Q, K, V and the output projection (Part 3).":
        "只有三个投影：请把 Q、K、V 和输出投影都算上（第 3 部分）。",
    "Three times the forward is right for every matmul whose inputs all need gradients, but x needs none: autograd "
    "skips one ∂L/∂x (Part 3, 'The backward pass').":
        "对于所有输入都需要梯度的矩阵乘法，前向的三倍是对的，但 x 不需要梯度：autograd 会跳过一个 ∂L/∂x（第 3 "
        "部分“反向传播”）。",
    "Two thirds of it: 2 layers counted instead of 3, the n_layer argument was ignored.":
        "只有正确值的三分之二：算了 2 层而不是 3 层，n_layer 参数被忽略了。",
    "Upside down: achieved ÷ peak (Part 5).": "颠倒了：应为实际算力 ÷ 峰值（第 5 部分）。",
    "You are 4·d_model short: either the two LayerNorms (a scale and a shift each) or the four projection biases are "
    "missing (Part 3, the list of what a layer holds).":
        "少了 4·d_model：要么漏了两个 LayerNorm（各有缩放参数和平移参数），要么漏了四个投影的偏置（第 3 部分，"
        "一层包含哪些东西的清单）。",
    "You counted one sequence: the batch holds 3, and each costs the same (Part 3).":
        "你只算了一个序列：这个批量有 3 个序列，每个的计算量都一样（第 3 部分）。",
    "You counted only the weight matrices and the LayerNorms: every linear layer also has a bias (Part 3).":
        "你只算了权重矩阵和 LayerNorm：每个线性层还有一个偏置（第 3 部分）。",
    "You counted only the weight matrices: every linear layer also has a bias, and the two LayerNorms have a scale "
    "and a shift each (Part 3).":
        "你只算了权重矩阵：每个线性层还有一个偏置，两个 LayerNorm 也各有缩放参数和平移参数（第 3 部分）。",
    "You counted the weight B once per batch matrix: it is read once (Part 6).":
        "你为批量中的每个矩阵都算了一次权重 B：它只被读取一次（第 6 部分）。",
    "You forgot the time: FLOPs ÷ seconds is the achieved rate (Part 5).":
        "你忘了时间：FLOP 数 ÷ 秒数才是实际达到的算力（第 5 部分）。",
    "You left out n_chips: the chips share the work (Part 5).": "你漏了 n_chips：这些芯片分担计算量（第 5 部分）。",
    "You left out the utilisation: the chips reach only that fraction of their peak (Part 5).":
        "你漏了利用率：芯片只能达到其峰值的这个比例（第 5 部分）。",
    "You left out writing C: the result crosses the memory bus too (Part 6).":
        "你漏了写回 C：结果也要经过内存总线（第 6 部分）。",
    "You multiplied by the utilisation: a run at 40% MFU takes longer than at 100%, not shorter.":
        "你乘上了利用率：MFU 为 40% 的训练比 100% 时用时更长，而不是更短。",
    "attainable FLOP/s of a 600³ fp32 matmul on an H100": "600³ 的 fp32 矩阵乘法在 H100 上的可达 FLOP/s",
    "attainable FLOP/s of a matrix-vector product on an A100": "矩阵与向量之积在 A100 上的可达 FLOP/s",
    "attainable FLOP/s of an 8192³ bf16 matmul on an A100": "8192³ 的 bf16 矩阵乘法在 A100 上的可达 FLOP/s",
    "attainable FLOP/s of an 8192³ bf16 matmul on an H100": "8192³ 的 bf16 矩阵乘法在 H100 上的可达 FLOP/s",
    "bound of a 600³ fp32 matmul on an H100 (below the ridge of 295)":
        "600³ 的 fp32 矩阵乘法在 H100 上受什么限制（低于脊点 295）",
    "bound of an 8192³ bf16 matmul on an H100 (intensity 2731, right of the ridge)":
        "8192³ 的 bf16 矩阵乘法在 H100 上受什么限制（算术强度 2731，位于脊点右侧）",
    "days_to_train with n_chips = 0": "n_chips = 0 时的 days_to_train",
    "days_to_train with utilisation 0": "利用率为 0 时的 days_to_train",
    "days_to_train with utilisation 1.5": "利用率为 1.5 时的 days_to_train",
    "days_to_train(3.14e23, A100 bf16 peak 312e12, 40% MFU, 1024 chips)":
        "days_to_train(3.14e23，A100 bf16 峰值 312e12，MFU 40%，1024 块芯片)",
    "days_to_train(one PF-day of FLOPs, 1e15 FLOP/s, 100%)": "days_to_train(一个 PF-天的 FLOP 数，1e15 FLOP/s，100%)",
    "encoder_flops should not depend on n_head (1, 4 and 8 heads gave different totals): the heads split the same "
    "work (Part 3)":
        "encoder_flops 不应依赖于 n_head（1、4、8 个头给出了不同的总数）：这些头是在分担同一份计算（第 3 部分）",
    "encoder_flops should return a dict with the keys {keys}, got {got!r}":
        "encoder_flops 应返回键为 {keys} 的 dict，实际得到 {got!r}",
    "encoder_flops with d_model=16, n_head=3": "d_model=16、n_head=3 时的 encoder_flops",
    "encoder_flops(2, 16, 4, 40, 7, vocab=0, batch=3) gave {got!r}: vocab = 0 means no head, so 'head' is 0 and the "
    "other parts are those of vocab = 11":
        "encoder_flops(2, 16, 4, 40, 7, vocab=0, batch=3) 给出了 {got!r}：vocab = 0 表示没有输出层，所以 'head' 为 0，"
        "其余各部分与 vocab = 11 时相同",
    "encoder_flops(3, 8, 2, 12, 5, 7)['head'] (vocab 7)": "encoder_flops(3, 8, 2, 12, 5, 7)['head']（vocab 为 7）",
    "fn was called 5 times, not 7: make the warmup calls (untimed) before the timed ones (Part 4, trap 1)":
        "fn 被调用了 5 次，而不是 7 次：在计时调用之前先做 warmup 次（不计时的）预热调用（第 4 部分，陷阱 1）",
    "intensity of (16, 128, 64) @ (64, 128) in fp32 (a weight read once)":
        "fp32 下 (16, 128, 64) @ (64, 128) 的算术强度（权重只读一次）",
    "intensity of a 600³ matmul in fp32": "fp32 下 600³ 矩阵乘法的算术强度",
    "layer_params(12, 7) against nn.TransformerEncoderLayer(12, 3, 7)":
        "layer_params(12, 7) 与 nn.TransformerEncoderLayer(12, 3, 7) 对比",
    "layer_params(8, 20) against nn.TransformerEncoderLayer(8, 2, 20)":
        "layer_params(8, 20) 与 nn.TransformerEncoderLayer(8, 2, 20) 对比",
    "matmul_flops((2, -3), (-3, 4)): a negative size": "matmul_flops((2, -3), (-3, 4))：大小为负",
    "matmul_flops((2, 2, 3), (5, 3, 4)): batch dims differ": "matmul_flops((2, 2, 3), (5, 3, 4))：批量维不一致",
    "matmul_flops((2, 3), (4, 5)): inner sizes 3 and 4 differ":
        "matmul_flops((2, 3), (4, 5))：内侧的大小 3 和 4 不相等",
    "matmul_flops((3,), (3, 4)): a 1-D operand": "matmul_flops((3,), (3, 4))：有一个一维的操作数",
    "matmul_flops((5, 2, 3), (3, 4)), a weight used for every matrix":
        "matmul_flops((5, 2, 3), (3, 4))，一个权重用于每个矩阵",
    "measure_seconds of the timed calls [2.5, 1, 3, 50, 2]": "计时调用为 [2.5, 1, 3, 50, 2] 时的 measure_seconds",
    "measure_seconds should return a float, got {got}": "measure_seconds 应返回 float，实际得到 {got}",
    "measure_seconds with sync, on work that is queued like a GPU kernel":
        "带 sync 的 measure_seconds，计算像 GPU 内核那样排队执行",
    "measure_seconds(warmup=0, repeats=3) of the calls [4, 1, 2]":
        "调用为 [4, 1, 2] 时的 measure_seconds(warmup=0, repeats=3)",
    "mfu with a peak of 0": "峰值为 0 时的 mfu",
    "mfu with seconds = 0": "seconds = 0 时的 mfu",
    "mfu(6e14 FLOPs, 2 s, peak 1e15)": "mfu(6e14 FLOP，2 s，峰值 1e15)",
    "n_head times too much: the heads split d_model into slices of d_head, they do not multiply the work (Part 3).":
        "多了 n_head 倍：这些头把 d_model 切成长度为 d_head 的若干片，并不会成倍增加计算量（第 3 部分）。",
    "number of calls of fn (2 warm-up + 5 timed)": "fn 的调用次数（2 次预热 + 5 次计时）",
    "roofline_point should return a dict with the keys 'attainable', 'bound', 'intensity', got {got!r}":
        "roofline_point 应返回键为 'attainable'、'bound'、'intensity' 的 dict，实际得到 {got!r}",
    "seq times too little: per sequence, Q·Kᵀ compares every one of the seq queries with every one of the seq keys "
    "(Part 3).": "少了 seq 倍：对每个序列，Q·Kᵀ 都要把 seq 个查询中的每一个与 seq 个键中的每一个作比较（第 3 部分）。",
    "training_flops(n_layer={n_layer}, d_model={d}, n_head={heads}, d_ff={d_ff}, seq={seq}, batch={batch}) against "
    "FlopCounterMode":
        "training_flops(n_layer={n_layer}, d_model={d}, n_head={heads}, d_ff={d_ff}, seq={seq}, batch={batch}) 与 "
        "FlopCounterMode 对比",
    "vocab = 0 is allowed (the docstring): a model without a head, as Exercise 4 counts it; its 'head' part is 0":
        "vocab = 0 是允许的（见文档字符串）：这是一个没有输出层的模型，练习 4 就是这样计数的；它的 'head' 部分为 0",
}
