"""The hidden checks of chapter 06 (position encoding) in Chinese."""

MESSAGES = {
    # is_permutation_equivariant: the layers it is tried on
    "self-attention without positions": "不带位置信息的自注意力",
    "a position-wise linear layer": "逐位置的线性层",
    "self-attention with positions added": "加上了位置信息的自注意力",
    "a running sum over the sequence": "沿序列的累加和",
    "a layer that marks position 0 by 1.5e-6 (above the tolerance atol=1e-6)":
        "把位置 0 标记上 1.5e-6 的层（超过了容差 atol=1e-6）",
    "is_permutation_equivariant on {label}: expected {expected}, got {got!r}":
        "is_permutation_equivariant 作用于{label}：应为 {expected}，实际得到 {got!r}",
    "a running sum with perm = 0..5 (no token moves: every layer is equivariant for it); the perm argument was ignored":
        "perm = 0..5 时的累加和（没有词元移动：对它而言每一层都是等变的）；perm 参数被忽略了",
    "a layer that rolls the sequence by one, with a cyclic perm (rolls commute); the perm argument was ignored":
        "把序列循环移动一位的层，配上循环置换的 perm（循环移动可以交换次序）；perm 参数被忽略了",
    "a layer that rolls the sequence, on an x whose tokens are all equal (nothing can move); the x argument was ignore"
    "d":
        "循环移动序列的层，作用在所有词元都相同的 x 上（什么都不会移动）；x 参数被忽略了",
    "is_permutation_equivariant on {label}? expected True, got {got!r}":
        "is_permutation_equivariant 作用于{label}？应为 True，实际得到 {got!r}",
    # the sinusoidal table and its shift
    "sinusoidal_table({n}, {d}) should be a tensor of shape ({n}, {d})":
        "sinusoidal_table({n}, {d}) 应当是形状为 ({n}, {d}) 的张量",
    "sinusoidal_table({n}, {d}) (sin in even columns, cos in odd ones, ω_i = 10000^(-2i/d))":
        "sinusoidal_table({n}, {d})（偶数列为 sin，奇数列为 cos，ω_i = 10000^(-2i/d)）",
    "shift_matrix({k}, {d}) should be (d, d)": "shift_matrix({k}, {d}) 的形状应为 (d, d)",
    "shift_matrix({k}, {d}) @ PE(p) against PE(p + {k}), for every p":
        "对每个 p，把 shift_matrix({k}, {d}) @ PE(p) 与 PE(p + {k}) 对比",
    "The closed form holds for every real offset and PE exists at fractional positions, which no table of integer "
    "positions contains: an answer read off or fitted to rows of sinusoidal_table, or one that rounds the offset, "
    "cannot follow. Derive the closed form.":
        "闭式表达对任意实数偏移都成立，PE 在小数位置上也有定义，而任何由整数位置构成的表都不包含这些位置：从 "
        "sinusoidal_table 的行中读出或拟合出来的答案，或者把偏移取整的答案，都做不到这一点。请推导出闭式表达。",
    "shift_matrix({k}, {d}) @ PE(p) against PE(p + {k}) at fractional positions":
        "在小数位置上把 shift_matrix({k}, {d}) @ PE(p) 与 PE(p + {k}) 对比",
    "shift_matrix for an odd d": "d 为奇数时的 shift_matrix",
    "pe_dot({offset}, {d}) against PE({p})·PE({q})": "pe_dot({offset}, {d}) 与 PE({p})·PE({q}) 对比",
    "pe_dot({offset:g}, {d}) against PE({p:g})·PE({q:g})": "pe_dot({offset:g}, {d}) 与 PE({p:g})·PE({q:g}) 对比",
    # RoPE
    "rope_rotation({angle:.3g}) (counter-clockwise: [[cos, -sin], [sin, cos]])":
        "rope_rotation({angle:.3g})（逆时针：[[cos, -sin], [sin, cos]]）",
    "rope_matrix({m}, {d}) should be (d, d)": "rope_matrix({m}, {d}) 的形状应为 (d, d)",
    "rope_matrix({m}, {d}) (block i rotates features 2i, 2i+1 by m·θ_i)":
        "rope_matrix({m}, {d})（第 i 个分块把特征 2i、2i+1 旋转 m·θ_i）",
    "rope_matrix({m}, {d}, base={base:g}) (θ_i = base^(-2i/d): use the base argument)":
        "rope_matrix({m}, {d}, base={base:g})（θ_i = base^(-2i/d)：请使用 base 参数）",
    "apply_rope should keep the shape {shape}": "apply_rope 应当保持形状 {shape}",
    "apply_rope turned a {dtype} input into {got}: keep the input's dtype (compute the angles in float64 if you like, "
    "then cast cos and sin to x.dtype)":
        "apply_rope 把 {dtype} 的输入变成了 {got}：请保持输入的 dtype（愿意的话可以用 float64 计算角度，再把 cos 和 "
        "sin 转换成 x.dtype）",
    "apply_rope on {shape} with positions {positions}... (interleaved pairs)":
        "apply_rope 作用于形状 {shape}，位置为 {positions}...（交错配对）",
    "apply_rope preserves each vector's norm": "apply_rope 保持每个向量的范数不变",
    "apply_rope with base=100 (θ_i = base^(-2i/d): use the base argument)":
        "base=100 时的 apply_rope（θ_i = base^(-2i/d)：请使用 base 参数）",
    "<R_m q, R_n k> with (m, n) = ({m}, {n}) and shifted by {shift}: depends only on n - m":
        "(m, n) = ({m}, {n}) 时以及整体平移 {shift} 之后的 <R_m q, R_n k>：只取决于 n - m",
}
