"""The hidden checks of chapter 07 (encoder and decoder) in Chinese."""

MESSAGES = {
    # helpers
    "{what}: expected a tensor, got {got}": "{what}：应为张量，实际得到 {got}",
    "{what} should be an nn.Module, got {got}": "{what} 应当是一个 nn.Module，实际得到 {got}",
    "number of parameters of {what}: expected {want} (PyTorch's equivalent has this many), got {got}{hint}":
        "{what} 的参数个数：应为 {want}（PyTorch 中对应的模块就有这么多），实际为 {got}{hint}",
    "{what} with {label}": "{label}的 {what}",
    # FeedForward
    "FeedForward needs a parameter {name} (nn.Linear layers linear1 and linear2 with biases), found {found}":
        "FeedForward 需要参数 {name}（带偏置的 nn.Linear 层 linear1 和 linear2），实际找到的是 {found}",
    "{what}: (in, out) features of linear1 and linear2 (d -> d_ff -> d)":
        "{what}：linear1 和 linear2 的 (输入, 输出) 特征数（d -> d_ff -> d）",
    "{what}: self.dropout should be nn.Dropout(0.1), found p={p!r}":
        "{what}：self.dropout 应当是 nn.Dropout(0.1)，实际为 p={p!r}",
    "parameters of {what} (2·d·d_ff + d_ff + d)": "{what} 的参数个数（2·d·d_ff + d_ff + d）",
    "{what} in eval mode": "评估模式下的 {what}",
    "{what} in eval mode: linear2(relu(linear1(x)))": "评估模式下的 {what}：linear2(relu(linear1(x)))",
    "{what}: a second call in eval mode (no dropout in eval)": "{what}：评估模式下的第二次调用（评估时没有 dropout）",
    "FeedForward with dropout p = 1 in train mode (every hidden unit dropped: only linear2's bias is left)":
        "训练模式下 dropout p = 1 的 FeedForward（所有隐藏单元都被丢弃：只剩下 linear2 的偏置）",
    "FeedForward(16, 16, 0.5) in train mode": "训练模式下的 FeedForward(16, 16, 0.5)",
    "FeedForward in train mode: with linear2 = identity and bias b, every output should be b (hidden unit dropped) or "
    "b + h/(1 - p) (kept), where h = relu(linear1(x)): dropout belongs between the activation and linear2, applied "
    "with self.dropout":
        "训练模式下的 FeedForward：当 linear2 是恒等映射、偏置为 b 时，每个输出都应当是 b（隐藏单元被丢弃）或 b + "
        "h/(1 - p)（被保留），其中 h = relu(linear1(x))：dropout 应位于激活函数和 linear2 之间，用 self.dropout 实现",
    "FeedForward(p=0.5) in train mode dropped {frac:.2f} of the hidden units, expected about 0.5":
        "训练模式下 FeedForward(p=0.5) 丢弃了 {frac:.2f} 的隐藏单元，应约为 0.5",
    # the layers
    "a padding mask (batch, 1, 1, seq)": "带填充掩码 (batch, 1, 1, seq)",
    "a causal mask (seq, seq)": "带因果掩码 (seq, seq)",
    "a mask (batch, 1, seq, seq)": "带掩码 (batch, 1, seq, seq)",
    "{kind} {what} with {label}, against nn.TransformerEncoderLayer with the same weights":
        "{label}的 {kind} {what}，与权重相同的 nn.TransformerEncoderLayer 对比",
    "{what}: outputs of real tokens after changing only padding tokens (they are masked keys)":
        "{what}：只改变填充词元之后真实词元的输出（填充词元是被遮蔽的键）",
    "{name}({d}, {h}, {d_ff}, dropout=1.0, norm_first={norm_first}) in train mode":
        "训练模式下的 {name}({d}, {h}, {d_ff}, dropout=1.0, norm_first={norm_first})",
    "{what}: norm{i}.eps should be a float, got {got}": "{what}：norm{i}.eps 应当是 float，实际得到 {got}",
    "{what}: every sublayer output dropped, so the layer computes {rule} with nothing left of the sublayer; dropout "
    "goes on the sublayer's output, before the residual add":
        "{what}：每个子层的输出都被丢弃了，所以这一层计算的是 {rule}，而子层什么也没留下；dropout 作用在子层的输出上，"
        "位于残差相加之前",
    "a causal target mask": "带因果目标序列掩码",
    "causal + padding target mask and a memory padding mask": "带因果 + 填充的目标序列掩码以及记忆填充掩码",
    "{kind} {what} with {label}, against nn.TransformerDecoderLayer with the same weights":
        "{label}的 {kind} {what}，与权重相同的 nn.TransformerDecoderLayer 对比",
    "{what} with a memory as long as the target, causal target mask":
        "记忆与目标序列一样长、带因果目标序列掩码的 {what}",
    "{what}: outputs at positions 0..{pos} after changing the target tokens after position {pos} (with a causal mask, "
    "position t may only see tokens up to t)":
        "{what}：改变位置 {pos} 之后的目标词元后，位置 0..{pos} 上的输出（有因果掩码时，位置 t 只能看到直到 t 的词元）",
    "{what}: the last position's output should depend on the first target token":
        "{what}：最后一个位置的输出应当依赖于第一个目标词元",
    "{what}: outputs after changing only padded memory positions (masked by memory_mask)":
        "{what}：只改变记忆中填充位置之后的输出（这些位置被 memory_mask 遮蔽）",
    "{what}: the output should depend on the memory (cross-attention reads the encoder output)":
        "{what}：输出应当依赖于记忆（交叉注意力读取的是编码器的输出）",
    # the stacks
    "{what} (separate layers, a final LayerNorm for Pre-LN only)":
        "{what}（相互独立的层，仅在 Pre-LN 时有最终层归一化）",
    "target and memory masks": "带目标序列掩码和记忆掩码",
    "{kind} {what} with {label}, against nn.TransformerDecoder with the same weights":
        "{label}的 {kind} {what}，与权重相同的 nn.TransformerDecoder 对比",
    "{kind} {what} with {label}, against nn.TransformerEncoder with the same weights":
        "{label}的 {kind} {what}，与权重相同的 nn.TransformerEncoder 对比",
    # the masks
    "{what}: expected a bool tensor (True = may attend), got dtype {dtype}":
        "{what}：应为布尔张量（True = 可以关注），实际的 dtype 是 {dtype}",
    "shape of {what}": "{what} 的形状",
    "{what}: key j of sequence b may be attended to exactly when j < lengths[b]; got\n{got}":
        "{what}：序列 b 的键 j 可以被关注，当且仅当 j < lengths[b]；实际得到\n{got}",
    "a query may attend to a later position (the causal part lets query i see keys 0..i only)":
        "有查询能关注到它之后的位置（因果部分只让查询 i 看到键 0..i）",
    "a real query may not attend to itself (key i must be allowed for query i)":
        "有真实的查询不能关注它自己（对查询 i，键 i 必须是允许的）",
    "a query may attend to a padding key": "有查询能关注到填充的键",
    "some allowed key is masked: keep key j for query i when j <= i and j < length, for every query, padding queries "
    "included (only keys are masked for padding)":
        "有本应允许的键被遮蔽了：当 j <= i 且 j < length 时，要为查询 i 保留键 j，对每个查询都是如此，"
        "填充位置上的查询也不例外（填充只遮蔽键）",
    "{what}, sequence {b} (length {n}): {reason}; got\n{got}\nexpected\n{expected}":
        "{what}，序列 {b}（长度为 {n}）：{reason}；实际得到\n{got}\n应为\n{expected}",
    "source_mask({lengths}, max_len={max_len}) (a length longer than max_len)":
        "source_mask({lengths}, max_len={max_len})（有长度超过了 max_len）",
    "target_mask({lengths}, max_len={max_len}) (a length longer than max_len)":
        "target_mask({lengths}, max_len={max_len})（有长度超过了 max_len）",
}
