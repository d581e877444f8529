"""Chapter 07 (encoder and decoder) in Chinese: the visible checks' messages and those of the chapter's test cells."""

MESSAGES = {
    # course/checks/ch07_encoder_decoder.py: what is borrowed
    "build the mask from the lengths yourself: the course's padding_mask is the reference":
        "请自己根据长度构建掩码：课程自带的 padding_mask 就是参考答案",
    "build the mask yourself: the course's causal_mask and padding_mask (and "
    "nn.Transformer.generate_square_subsequent_mask) are the references":
        "请自己构建掩码：课程自带的 causal_mask 和 padding_mask（以及 nn.Transformer.generate_square_subsequent_mask）"
        "就是参考答案",
    "stack your own layers: nn.TransformerDecoder and the course's Decoder are the references":
        "请堆叠你自己的层：nn.TransformerDecoder 和课程自带的 Decoder 就是参考答案",
    "stack your own layers: nn.TransformerEncoder and the course's Encoder are the references":
        "请堆叠你自己的层：nn.TransformerEncoder 和课程自带的 Encoder 就是参考答案",
    "wire the sublayers yourself: nn.TransformerDecoderLayer and the course's DecoderLayer are the references":
        "请自己连接各个子层：nn.TransformerDecoderLayer 和课程自带的 DecoderLayer 就是参考答案",
    "wire the sublayers yourself: nn.TransformerEncoderLayer and the course's EncoderLayer are the references":
        "请自己连接各个子层：nn.TransformerEncoderLayer 和课程自带的 EncoderLayer 就是参考答案",
    "write the two linear layers yourself: the course's FeedForward and nn.TransformerEncoderLayer's feed-forward "
    "block are the references":
        "请自己写出这两个线性层：课程自带的 FeedForward 和 nn.TransformerEncoderLayer 中的前馈模块就是参考答案",
    # copying PyTorch's weights into the student's modules
    "{cls}.double() / .train() should return the module itself": "{cls}.double() / .train() 应当返回模块本身",
    "{owner} needs an attribute `{name}` of type {kind} (the tests copy PyTorch's weights into it), found {found}":
        "{owner} 需要一个类型为 {kind} 的属性 `{name}`（测试会把 PyTorch 的权重复制进去），实际找到的是 {found}",
    "{what} (a MultiHeadAttention)": "{what}（一个 MultiHeadAttention）",
    "{what}.{attr}: expected shape {shape}, found {found}": "{what}.{attr}：形状应为 {shape}，实际为 {found}",
    "{what}: head count mismatch, {heads} vs nn.MultiheadAttention's {theirs}: the n_heads argument was ignored; pass "
    "it on to MultiHeadAttention":
        "{what}：头数不一致，{heads} 对 nn.MultiheadAttention 的 {theirs}：n_heads 参数被忽略了；请把它传给 "
        "MultiHeadAttention",
    "{what} needs its layers in an nn.ModuleList called `layers`, found {found}":
        "{what} 需要把它的各层放在名为 `layers` 的 nn.ModuleList 中，实际找到的是 {found}",
    "number of layers in {what}.layers": "{what}.layers 中的层数",
    "a Post-LN {what} has no final LayerNorm: set `self.norm = None` (every layer already ends with a norm), found "
    "{found}":
        "Post-LN 的 {what} 没有最终层归一化：请设置 `self.norm = None`（每一层本身都以一个归一化层结尾），"
        "实际找到的是 {found}",
    "a Pre-LN {what} ends with a final nn.LayerNorm called `norm`, found {found}":
        "Pre-LN 的 {what} 以一个名为 `norm` 的最终 nn.LayerNorm 结尾，实际找到的是 {found}",
    # the feed-forward block
    "one bias is missing: both nn.Linear layers keep their bias (the paper's b1 and b2)":
        "少了一个偏置：两个 nn.Linear 层都保留各自的偏置（论文中的 b1 和 b2）",
    "both biases are missing: keep nn.Linear's default bias=True": "两个偏置都没有：请保留 nn.Linear 默认的 bias=True",
    "both linear maps are d_model -> d_model: linear1 widens to d_ff, linear2 brings it back to d_model":
        "两个线性映射都是 d_model -> d_model：linear1 要扩宽到 d_ff，linear2 再把它变回 d_model",
    "linear1 maps d_model -> d_ff and linear2 maps d_ff -> d_model, both with a bias":
        "linear1 把 d_model 映射到 d_ff，linear2 把 d_ff 映射回 d_model，两者都带偏置",
    "FeedForward({d_model}, {d_ff}) has {got} parameters, expected 2·d·d_ff + d_ff + d = {want}: {why} (Part 1)":
        "FeedForward({d_model}, {d_ff}) 有 {got} 个参数，应为 2·d·d_ff + d_ff + d = {want}：{why}（第 1 部分）",
    "hand-worked FeedForward in eval mode (hidden units x and -x, summed)":
        "评估模式下手算的 FeedForward（隐藏单元为 x 和 -x，再求和）",
    "{what}: two calls in eval mode gave different outputs. Dropout must follow the module's train/eval mode: use "
    "self.dropout (an nn.Dropout does nothing in eval mode), not a dropout that is always on such as F.dropout(..., "
    "training=True) (chapter 04)":
        "{what}：评估模式下两次调用给出了不同的输出。dropout 必须跟随模块的训练/评估模式：请使用 self.dropout（nn.Drop"
        "out 在评估模式下什么也不做），而不是始终开启的 dropout，例如 F.dropout(..., training=True)（第 04 章）",
    "{what}: every output is 0, but relu(x) + relu(-x) = |x|. The two hidden units cancel unless the ReLU acts on "
    "linear1's output, between the two linear maps (Part 1, eq. 2 of Vaswani et al.)":
        "{what}：所有输出都是 0，但 relu(x) + relu(-x) = |x|。除非 ReLU 作用在 linear1 的输出上、"
        "位于两个线性映射之间，否则这两个隐藏单元会相互抵消（第 1 部分，Vaswani 等人论文的式 (2)）",
    "{what}: the output is gelu(x) + gelu(-x): this block uses ReLU, as the paper (§3.3) and "
    "nn.TransformerEncoderLayer's default do (Part 1)":
        "{what}：输出是 gelu(x) + gelu(-x)：这个模块使用 ReLU，与论文（§3.3）以及 nn.TransformerEncoderLayer "
        "的默认设置一致（第 1 部分）",
    "{what}: relu(x) + relu(-x) = |x|": "{what}：relu(x) + relu(-x) = |x|",
    "FeedForward needs parameters {names} (nn.Linear layers linear1 and linear2 with biases), found {found} (Part 1)":
        "FeedForward 需要参数 {names}（带偏置的 nn.Linear 层 linear1 和 linear2），实际找到的是 {found}（第 1 部分）",
    "FeedForward(4, 6, dropout=1.0) in train mode": "训练模式下的 FeedForward(4, 6, dropout=1.0)",
    "{what}: every output is 0, so your dropout drops the block's output (after linear2). Here it drops the hidden "
    "units, between the activation and linear2; the dropout on the block's output belongs to the layer (its "
    "dropout1/dropout2), not to FeedForward (Part 1)":
        "{what}：所有输出都是 0，所以你的 dropout 丢弃的是模块的输出（在 linear2 之后）。这里它应当丢弃隐藏单元，"
        "位于激活函数和 linear2 之间；模块输出上的 dropout 属于层（它的 dropout1/dropout2），而不属于 FeedForward（第 "
        "1 部分）",
    "{what}: nothing was dropped. Call self.dropout on the hidden units in forward (nn.Dropout drops only in train "
    "mode, which this check uses) (Part 1)":
        "{what}：什么都没有被丢弃。请在 forward 中对隐藏单元调用 self.dropout（nn.Dropout 只在训练模式下丢弃，"
        "这项检查用的正是训练模式）（第 1 部分）",
    "{what}: your dropout acts on the block's input x. It belongs on the hidden units, between the activation and "
    "linear2 (Part 1)":
        "{what}：你的 dropout 作用在模块的输入 x 上。它应当作用在隐藏单元上，位于激活函数和 linear2 之间（第 1 部分）",
    "{what}: every hidden unit is dropped, so only linear2's bias should be left (Part 1)":
        "{what}：所有隐藏单元都被丢弃了，所以应当只剩下 linear2 的偏置（第 1 部分）",
    # the layers
    "Post-LN: the norm wraps the whole sum x + dropout(sublayer(x)), and the next sublayer reads that normalised sum; "
    "see the table in Part 2":
        "Post-LN：归一化包住整个和 x + dropout(sublayer(x))，下一个子层读取的是这个归一化之后的和；见第 2 部分的表格",
    "Pre-LN: only the sublayer's input is normalised, the residual adds to x itself; see the table in Part 2":
        "Pre-LN：只对子层的输入做归一化，残差加到 x 本身上；见第 2 部分的表格",
    "{what}: your output is the same for x and for 3·x + 1, so x passes through a LayerNorm on the residual path "
    "(`x = norm(x)` before the add). In Pre-LN the residual adds to x itself; only the sublayer's input is normalised "
    "(Part 2)":
        "{what}：你的输出对 x 和 3·x + 1 是一样的，所以 x 在残差路径上经过了一个 LayerNorm（相加之前的 `x = norm(x)`）"
        "。在 Pre-LN 中，残差加到 x 本身上；只有子层的输入被归一化（第 2 部分）",
    "{what}: your layer normalises its output (with {name}). A Pre-LN layer hands on the raw residual stream; the "
    "stack normalises once, after its last layer (Part 4)":
        "{what}：你的层（用 {name}）对它的输出做了归一化。Pre-LN 层向后传递的是未经归一化的残差流；"
        "整个堆叠只在最后一层之后归一化一次（第 4 部分）",
    "EncoderLayer(norm_first={nf}) with {masks}": "{masks}的 EncoderLayer(norm_first={nf})",
    "no mask": "不带掩码",
    "a padding mask": "带填充掩码",
    "the mask goes to self_attn unchanged; see Part 2": "掩码原样传给 self_attn；见第 2 部分",
    "{what}: your layer computes the {other} arrangement. Check which branch runs for norm_first={nf}: the table in "
    "Part 2 ({this} {does})":
        "{what}：你的层计算的是 {other} 的排列方式。请检查 norm_first={nf} 时运行的是哪个分支：见第 2 "
        "部分的表格（{this} {does}）",
    "normalises the sublayer input": "对子层的输入做归一化",
    "normalises the sum": "对和做归一化",
    "{what}: the output is the same as without the mask. Pass `mask` on to self.self_attn (Part 2)":
        "{what}：输出与不带掩码时一样。请把 `mask` 传给 self.self_attn（第 2 部分）",
    "{what}: your layer attends to exactly the blocked keys, as with an inverted mask. The course's masks are True = "
    "may attend and go to MultiHeadAttention unchanged: no `~` (Part 0 and Part 2)":
        "{what}：你的层关注的恰好是被屏蔽的键，就像用了取反的掩码一样。课程的掩码以 True 表示可以关注，原样传给 "
        "MultiHeadAttention：不要加 `~`（第 0 部分和第 2 部分）",
    "{what}, against nn.TransformerEncoderLayer with the same weights ({arranged})":
        "{what}，与权重相同的 nn.TransformerEncoderLayer 对比（{arranged}）",
    "a causal mask and a memory padding mask": "带因果掩码和记忆填充掩码",
    "no masks": "不带掩码",
    "DecoderLayer(norm_first={nf}) with {masks}": "{masks}的 DecoderLayer(norm_first={nf})",
    "tgt_mask belongs to the self-attention (tgt_len keys), memory_mask to the cross-attention (src_len keys), and the "
    "cross-attention's queries come from the decoder: one output row per target token; Part 3":
        "tgt_mask 属于自注意力（tgt_len 个键），memory_mask 属于交叉注意力（src_len 个键），"
        "交叉注意力的查询来自解码器：每个目标词元对应一行输出；见第 3 部分",
    "{what}: your layer computes the {other} arrangement. Check which branch runs for norm_first={nf} (the table in "
    "Part 2 applies to all three sublayers)":
        "{what}：你的层计算的是 {other} 的排列方式。请检查 norm_first={nf} 时运行的是哪个分支（第 2 "
        "部分的表格对三个子层都适用）",
    "{what}: the output is the same as without the causal mask. Pass tgt_mask to the self-attention (Part 3: without "
    "it every position reads the tokens after it)":
        "{what}：输出与不带因果掩码时一样。请把 tgt_mask 传给自注意力（第 3 部分：没有它，"
        "每个位置都会读到它之后的词元）",
    "{what}: your self-attention uses the inverted causal mask. The course's masks are True = may attend and go to "
    "MultiHeadAttention unchanged (Part 0)":
        "{what}：你的自注意力用的是取反的因果掩码。课程的掩码以 True 表示可以关注，原样传给 MultiHeadAttention（第 0 "
        "部分）",
    "{what}: the output is the same as without memory_mask. Pass it to the cross-attention: it keeps the queries off "
    "the source's padding (Part 3)":
        "{what}：输出与不带 memory_mask 时一样。请把它传给交叉注意力：它让查询避开源序列的填充（第 3 部分）",
    "{what}: your cross-attention uses the inverted memory mask. The course's masks are True = may attend and go to "
    "MultiHeadAttention unchanged (Part 0)":
        "{what}：你的交叉注意力用的是取反的记忆掩码。课程的掩码以 True 表示可以关注，原样传给 MultiHeadAttention（第 "
        "0 部分）",
    "{what}: the output does not change when the memory does. The cross-attention takes its keys and values from the "
    "memory, the encoder's output, and only its queries from the decoder (Part 3)":
        "{what}：记忆改变时输出却不变。交叉注意力的键和值取自记忆，即编码器的输出，只有查询来自解码器（第 3 部分）",
    "{what}: the output stays the same when the memory is replaced by 3·memory + 1, so your layer normalises the "
    "memory. In Pre-LN only the decoder's own x is normalised before each sublayer; the memory is used as it comes "
    "(Part 3)":
        "{what}：把记忆换成 3·memory + 1 之后输出不变，所以你的层对记忆做了归一化。在 Pre-LN 中，"
        "每个子层之前只对解码器自己的 x 做归一化；记忆按原样使用（第 3 部分）",
    "{what}, against nn.TransformerDecoderLayer with the same weights (the three sublayers in the order of Part 3: "
    "self-attention, cross-attention, feed-forward; {arranged})":
        "{what}，与权重相同的 nn.TransformerDecoderLayer 对比（三个子层按第 3 部分的顺序：自注意力、交叉注意力、前馈；"
        "{arranged}）",
    "{name}(8, 2, 16, dropout=1.0, norm_first={norm_first}) in train mode":
        "训练模式下的 {name}(8, 2, 16, dropout=1.0, norm_first={norm_first})",
    "{what}: norm{i} should be an nn.LayerNorm": "{what}：norm{i} 应当是一个 nn.LayerNorm",
    "{what}: with every sublayer dropped nothing of x is left (every token's output is the same), so the dropout also "
    "removes the residual path (dropout applied to the sum x + sublayer(...)), or the residual add is missing. Dropout "
    "goes on the sublayer's output only, before the add (Part 2; Vaswani et al. §5.4)":
        "{what}：所有子层都被丢弃后，x 一点也没有留下（每个词元的输出都相同），所以 dropout "
        "把残差路径也去掉了（dropout 作用在和 x + sublayer(...) 上），或者缺少残差相加。dropout 只作用在子层的输出上，"
        "位于相加之前（第 2 部分；Vaswani 等人 §5.4）",
    "{what}: every sublayer's output is dropped, so only the residual path should be left ({left}). A sublayer whose "
    "output still shows is missing its own dropout (dropout1, dropout2{third} on the sublayer outputs); see Part 2":
        "{what}：每个子层的输出都被丢弃了，所以应当只剩下残差路径（{left}）。输出仍然可见的子层缺少它自己的 "
        "dropout（作用在子层输出上的 dropout1、dropout2{third}）；见第 2 部分",
    "x itself": "x 本身",
    "x through the norms, in order": "x 依次经过各个归一化层",
    # parameter counts
    ": a feed-forward of width {width} instead of d_ff = {d_ff} explains it; the d_ff argument was ignored, pass it on "
    "to FeedForward":
        "：宽度为 {width} 而不是 d_ff = {d_ff} 的前馈网络可以解释这一点；d_ff 参数被忽略了，请把它传给 FeedForward",
    "parameters of {what}: expected {want} (as in PyTorch's equivalent), got {got}{hint}":
        "{what} 的参数个数：应为 {want}（与 PyTorch 中对应的模块相同），实际为 {got}{hint}",
    "parameters of {what}: expected {want}, got {got}{hint}": "{what} 的参数个数：应为 {want}，实际为 {got}{hint}",
    "parameters of {what}: expected {want}, got {got}; {why}": "{what} 的参数个数：应为 {want}，实际为 {got}；{why}",
    "a Post-LN stack has no final LayerNorm (each of its layers already ends with one): `self.norm = None` (Part 4)":
        "Post-LN 堆叠没有最终层归一化（它的每一层本身都以一个 LayerNorm 结尾）：`self.norm = None`（第 4 部分）",
    "a Pre-LN stack ends with one final nn.LayerNorm(d_model), `self.norm`, after the last layer (Part 4)":
        "Pre-LN 堆叠在最后一层之后以一个最终的 nn.LayerNorm(d_model) 结尾，即 `self.norm`（第 4 部分）",
    "that is one layer's parameters: your {n} layers are one object repeated, which shares its weights. Build a new "
    "layer for each position in the stack (Part 4)":
        "这是一层的参数个数：你的 {n} 层是同一个对象重复了多次，它们共享权重。请为堆叠中的每个位置新建一层（第 4 "
        "部分）",
    "{n} separate layers ({per_layer} parameters each) plus a final LayerNorm for Pre-LN only (Part 4)":
        "{n} 个相互独立的层（每层 {per_layer} 个参数），仅在 Pre-LN 时再加一个最终层归一化（第 4 部分）",
    # the stacks
    "{name}(2, 8, 2, 16, dropout=1.0, norm_first={norm_first}) in train mode":
        "训练模式下的 {name}(2, 8, 2, 16, dropout=1.0, norm_first={norm_first})",
    "{what}: layers.{i}.norm{j} should be an nn.LayerNorm": "{what}：layers.{i}.norm{j} 应当是一个 nn.LayerNorm",
    "{what}: every sublayer of every layer is dropped, so only the residual path should be left (x through the "
    "layers' norms for Post-LN, x and the final norm for Pre-LN). Hand the stack's `dropout` on to every layer "
    "(Part 4)":
        "{what}：每一层的每个子层都被丢弃了，所以应当只剩下残差路径（Post-LN 时是 x 经过各层的归一化层，Pre-LN 时是 x "
        "再经过最终归一化层）。请把堆叠的 `dropout` 传给每一层（第 4 部分）",
    "{what}: your Post-LN stack normalises its output once more. Its last layer already ends with a LayerNorm; only a "
    "Pre-LN stack adds a final one (Part 4)":
        "{what}：你的 Post-LN 堆叠对输出又做了一次归一化。它的最后一层本身已经以一个 LayerNorm 结尾；只有 Pre-LN "
        "堆叠才需要再加一个最终层归一化（第 4 部分）",
    "Encoder(norm_first={nf}) with a padding mask": "带填充掩码的 Encoder(norm_first={nf})",
    "each layer gets the same mask; see Part 4": "每一层都得到同一个掩码；见第 4 部分",
    "{what}: the output is the same as without the mask. Hand src_mask to every layer (Part 4)":
        "{what}：输出与不带掩码时一样。请把 src_mask 传给每一层（第 4 部分）",
    "{what}: the output is the last layer's raw residual stream: the final LayerNorm is missing or not applied. A "
    "Pre-LN stack normalises once, after its last layer (Part 4)":
        "{what}：输出是最后一层未经归一化的残差流：缺少最终层归一化，或者没有应用它。Pre-LN "
        "堆叠在最后一层之后归一化一次（第 4 部分）",
    "{what}: your stack applies the final LayerNorm after every layer. It comes once, after the last layer (Part 4)":
        "{what}：你的堆叠在每一层之后都应用了最终层归一化。它只出现一次，在最后一层之后（第 4 部分）",
    "{what}, against nn.TransformerEncoder with the same weights (Part 4)":
        "{what}，与权重相同的 nn.TransformerEncoder 对比（第 4 部分）",
    "Decoder(norm_first={nf}) with a causal mask and a memory padding mask":
        "带因果掩码和记忆填充掩码的 Decoder(norm_first={nf})",
    "every layer gets the same memory (the encoder's output) and the same two masks; see Part 4":
        "每一层都得到同一个记忆（编码器的输出）和同样的两个掩码；见第 4 部分",
    "{what}: the output is the same as without the causal mask. Hand tgt_mask to every layer (Part 4)":
        "{what}：输出与不带因果掩码时一样。请把 tgt_mask 传给每一层（第 4 部分）",
    "{what}: the output is the same as without memory_mask. Hand it to every layer (Part 4)":
        "{what}：输出与不带 memory_mask 时一样。请把它传给每一层（第 4 部分）",
    "{what}: the output does not change when the memory does. Every layer receives the same memory, the encoder's "
    "output, not the previous layer's output (Part 4)":
        "{what}：记忆改变时输出却不变。每一层接收的都是同一个记忆，即编码器的输出，而不是前一层的输出（第 4 部分）",
    "{what}, against nn.TransformerDecoder with the same weights (Part 4)":
        "{what}，与权重相同的 nn.TransformerDecoder 对比（第 4 部分）",
    # the masks
    "{what}: expected a bool tensor, got {got} (Part 5)": "{what}：应为布尔张量，实际得到 {got}（第 5 部分）",
    "{what}: the mask has dtype {dtype}. The course's masks are bool, True = may attend (a float mask means something "
    "else: PyTorch adds it to the scores); compare with `<` / `<=` and combine with `&` (Part 5)":
        "{what}：掩码的 dtype 是 {dtype}。课程的掩码是布尔型的，True = 可以关注（浮点掩码的含义不同：PyTorch "
        "会把它加到分数上）；请用 `<` / `<=` 比较，用 `&` 组合（第 5 部分）",
    "{what}: shape {got}: your mask lies along the query axis. A padding mask blocks keys, the last dim: shape "
    "(batch, 1, 1, max_len) = {shape} (Part 5)":
        "{what}：形状为 {got}：你的掩码沿着查询轴。填充掩码屏蔽的是键，即最后一维：形状应为 (batch, 1, 1, max_len) = "
        "{shape}（第 5 部分）",
    "{what}: expected shape {shape}, got {got} (batch, then 1 for the heads, then {axes}; Part 5)":
        "{what}：形状应为 {shape}，实际为 {got}（先是 batch，然后是头所在的 1，再是{axes}；第 5 部分）",
    "1 for the queries, then the keys": "查询所在的 1，最后是键",
    "queries, then keys": "查询，最后是键",
    "{what}: your mask is inverted. In the course True means the query MAY attend to the key (Part 0); "
    "got\n{got}\nexpected\n{expected}":
        "{what}：你的掩码是反的。在本课程中 True 表示查询可以关注该键（第 0 部分）；实际得到\n{got}\n应为\n{expected}",
    "{what}: key j of sentence b is real exactly when j < lengths[b] (positions count from 0; Part 5); "
    "got\n{got}\nexpected\n{expected}":
        "{what}：句子 b 的键 j 是真实的，当且仅当 j < lengths[b]（位置从 0 开始计数；第 5 部分）；"
        "实际得到\n{got}\n应为\n{expected}",
    "{what}: no query may attend to itself. The causal part keeps key j for query i when j <= i, the diagonal included "
    "(Part 5); got\n{got}\nexpected\n{expected}":
        "{what}：没有一个查询能关注它自己。因果部分在 j <= i 时为查询 i 保留键 j，包括对角线（第 5 部分）；"
        "实际得到\n{got}\n应为\n{expected}",
    "{what}: a query may attend to a later position. The causal part keeps key j for query i only when j <= i "
    "(Part 3, teacher forcing); got\n{got}\nexpected\n{expected}":
        "{what}：有查询能关注到它之后的位置。因果部分只在 j <= i 时为查询 i 保留键 j（第 3 部分，教师强制）；"
        "实际得到\n{got}\n应为\n{expected}",
    "{what}: your target mask has no padding part: padding keys must be blocked too (Part 5); "
    "got\n{got}\nexpected\n{expected}":
        "{what}：你的目标序列掩码没有填充部分：填充的键也必须被屏蔽（第 5 部分）；实际得到\n{got}\n应为\n{expected}",
    "{what}: a query may attend to a padding key (Part 5); got\n{got}\nexpected\n{expected}":
        "{what}：有查询能关注到填充的键（第 5 部分）；实际得到\n{got}\n应为\n{expected}",
    "{what}: some allowed key is blocked. Only keys are masked for padding: a padding query still attends to the real "
    "tokens at or before it (Part 5); got\n{got}\nexpected\n{expected}":
        "{what}：有本应允许的键被屏蔽了。填充只遮蔽键：填充位置上的查询仍然要关注它自己及之前的真实词元（第 5 部分）；"
        "实际得到\n{got}\n应为\n{expected}",
    # chapters/07-encoder-decoder.py, test cells
    "parameters of EncoderLayer(8, 2, 16)": "EncoderLayer(8, 2, 16) 的参数个数",
    "parameters of DecoderLayer(8, 2, 16)": "DecoderLayer(8, 2, 16) 的参数个数",
    "source_mask([4], max_len=3) (a length over max_len, Part 5)":
        "source_mask([4], max_len=3)（长度超过了 max_len，第 5 部分）",
    "target_mask([2, 4], max_len=3) (a length over max_len, Part 5)":
        "target_mask([2, 4], max_len=3)（长度超过了 max_len，第 5 部分）",
}
