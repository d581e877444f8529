"""Chapter 06 (position encoding) in Chinese: the visible checks' messages and those of the chapter's test cells."""

MESSAGES = {
    # course/checks/ch06_position_encoding.py
    "assemble R_m from your own 2×2 rotations: the course's RoPE is the reference":
        "请用你自己的 2×2 旋转矩阵拼出 R_m：课程自带的 RoPE 就是参考答案",
    "build the 2×2 blocks from cos and sin yourself: the course's sinusoidal table and RoPE would hand you the "
    "rotation":
        "请自己用 cos 和 sin 构建 2×2 分块：课程自带的正弦位置编码表和 RoPE 会直接把旋转交给你",
    "build the table from sin and cos yourself: the course's SinusoidalPositions is what chapter 08 uses, not what "
    "this exercise may call":
        "请自己用 sin 和 cos 构建这张表：课程自带的 SinusoidalPositions 是给第 08 章用的，这个练习不能调用它",
    "rotate the pairs yourself: the course's RotaryEmbedding (and the experiments' copies of it) are the reference":
        "请自己旋转各个特征对：课程自带的 RotaryEmbedding（以及实验代码中它的副本）就是参考答案",
    "sum the cosines of the closed form yourself (no table): the course's sinusoidal table is what it is checked "
    "against":
        "请自己把闭式表达中的余弦加起来（不要用表）：检查正是拿课程自带的正弦位置编码表来核对它",
    "write the 2×2 rotation from cos and sin yourself: the course's RoPE is the reference":
        "请自己用 cos 和 sin 写出 2×2 旋转矩阵：课程自带的 RoPE 就是参考答案",
    "{name} returned a tensor on {got} for inputs on {device}: keep it on x.device":
        "输入在 {device} 上时，{name} 返回的张量却在 {got} 上：请让它留在 x.device 上",
    "{name} with its inputs on another device than the CPU (here {device}) failed: {error}. Build every new tensor "
    "(frequencies, angles, positions) on x.device, e.g. torch.arange(..., device=x.device), and do not read values out "
    "of a tensor (.item(), int(...), .tolist()): on a GPU the model's inputs are not on the CPU, and chapter 08 runs "
    "your function there":
        "输入不在 CPU 上（这里在 {device} 上）时，{name} 运行失败：{error}。每个新建的张量（频率、角度、位置）"
        "都要建在 x.device 上，例如 torch.arange(..., device=x.device)，也不要从张量中读出数值（.item()、int(...)、"
        ".tolist()）：在 GPU 上，模型的输入不在 CPU 上，而第 08 章正是在那里运行你的函数",
    # chapters/06-position-encoding.py, test cells
    "on a sequence whose tokens are all equal, reversing it and permuting it both change nothing, so the answer for "
    "that x is True, but you returned False: the x argument was ignored; run the layer on the x you are given":
        "对于所有词元都相同的序列，反转和置换都不会改变它，所以对这个 x 的答案是 True，但你返回了 False：x "
        "参数被忽略了；请在给定的 x 上运行这一层",
    "perm = [0, 1, ..., 5] moves no token, so every layer is equivariant for it, reversal included, but you returned "
    "False: the perm argument was ignored; reorder the tokens with the perm you are given":
        "perm = [0, 1, ..., 5] 不移动任何词元，所以对它而言每一层都是等变的，反转也不例外，但你返回了 False：perm "
        "参数被忽略了；请用给定的 perm 重排词元",
    "return a Python bool (wrap the comparison in bool(...)), got {got}":
        "请返回 Python 的 bool（把比较结果包在 bool(...) 中），实际得到 {got}",
    "reversing the sequence depends on the positions, so it is not equivariant, but you returned True: compare the two "
    "outputs token by token (sums or means over the sequence hide the order), see Part 1":
        "反转序列依赖于位置，所以它不是等变的，但你返回了 True：请逐个词元比较两个输出（沿序列求和或求均值会掩盖顺序）"
        "，见第 1 部分",
    "self-attention without positions is equivariant but you returned False: the two orders round differently (here "
    "by about 1e-16), so compare with a tolerance (torch.allclose), not exactly":
        "不带位置信息的自注意力是等变的，但你返回了 False：两种顺序的舍入误差不同（这里相差约 1e-16），"
        "所以要带容差比较（torch.allclose），而不是要求完全相等",
    "the identity layer is equivariant but you returned False: compare the layer's output on the permuted input with "
    "its PERMUTED output (comparing with the unpermuted output tests invariance), see Part 1":
        "恒等层是等变的，但你返回了 False：请把这一层在置换后的输入上的输出与它置换后的输出比较（与未置换的输出比较，"
        "检验的是不变性），见第 1 部分",
    "every column has its own frequency: columns 2i and 2i + 1 share w_i (use the pair index, not the column index)":
        "每一列都有自己的频率：第 2i 列和第 2i + 1 列共用 w_i（用的是特征对的下标，而不是列的下标）",
    "row 0 is position 0 (PE(0) = [0, 1, 0, 1]): positions start at 0":
        "第 0 行是位置 0（PE(0) = [0, 1, 0, 1]）：位置从 0 开始",
    "row 1 of sinusoidal_table(2, 3) (odd d: the last column is the sin of the next pair)":
        "sinusoidal_table(2, 3) 的第 1 行（d 为奇数：最后一列是下一对的 sin）",
    "sin and cos are swapped: sin goes in the even columns, so row 0 is [0, 1, 0, 1]":
        "sin 和 cos 弄反了：sin 放在偶数列，所以第 0 行是 [0, 1, 0, 1]",
    "sinusoidal_table(3, 4) should have shape (3, 4), got {got}":
        "sinusoidal_table(3, 4) 的形状应为 (3, 4)，实际为 {got}",
    "the base is 10000, not 1000": "底数是 10000，而不是 1000",
    "the second pair turns at 0.1 rad per position: the exponent is -2i/d with i the PAIR index, so w_1 = "
    "10000^(-2/4) = 0.01":
        "第二对每个位置转 0.1 弧度：指数是 -2i/d，其中 i 是特征对的下标，所以 w_1 = 10000^(-2/4) = 0.01",
    "the sines and the cosines sit in two halves: they must be interleaved, sin in column 2i and cos in column 2i + 1":
        "正弦和余弦被分成了前后两半：它们必须交错排列，sin 在第 2i 列，cos 在第 2i + 1 列",
    "The derivation holds for every real k, and PE(5.5) exists (the same formula at p = 5.5), but no table of integer "
    "positions contains it: a matrix fitted to rows of sinusoidal_table (least squares) or built from a table row "
    "cannot follow. Build each 2x2 block from cos(kw_i) and sin(kw_i), see the text above Exercise 3":
        "这个推导对任意实数 k 都成立，PE(5.5) 也存在（同一个公式取 p = 5.5），但任何由整数位置构成的表都不包含它：用 "
        "sinusoidal_table 的行拟合出来的矩阵（最小二乘法）或由表中某一行构建的矩阵都做不到。请用 cos(kw_i) 和 "
        "sin(kw_i) 构建每个 2x2 分块，见练习 3 上方的正文",
    "shift_matrix(-1.25, 8) @ PE(3) should be PE(1.75)": "shift_matrix(-1.25, 8) @ PE(3) 应当等于 PE(1.75)",
    "shift_matrix(-2, 8) @ PE(7) should be PE(5)": "shift_matrix(-2, 8) @ PE(7) 应当等于 PE(5)",
    "shift_matrix(0, 4) is the identity": "shift_matrix(0, 4) 是单位矩阵",
    "shift_matrix(0.5, 4) @ PE(5) should be PE(5.5)": "shift_matrix(0.5, 4) @ PE(5) 应当等于 PE(5.5)",
    "shift_matrix(1, 3): for an odd d the last sin has no cos partner, so it":
        "shift_matrix(1, 3)：d 为奇数时，最后一个 sin 没有与之配对的 cos，所以它",
    "shift_matrix(3, 4) @ PE(5) should be PE(8)": "shift_matrix(3, 4) @ PE(5) 应当等于 PE(8)",
    "shift_matrix(3, 4) should have shape (4, 4), got {got}": "shift_matrix(3, 4) 的形状应为 (4, 4)，实际为 {got}",
    "you got PE(2): your matrix shifts by -k; the sin(kω) terms have the wrong signs (expand sin(a + b) and "
    "cos(a + b) again)":
        "你得到的是 PE(2)：你的矩阵平移了 -k；sin(kω) 项的符号错了（请重新展开 sin(a + b) 和 cos(a + b)）",
    "you got PE(5) back: the matrix does not shift at all": "你得到的还是 PE(5)：这个矩阵根本没有平移",
    "The closed form holds for every real offset: PE(10)·PE(12.5) is a sum of cosines of 2.5·w_i, but no table of "
    "integer positions has a row for 12.5, so a dot product of two rows of sinusoidal_table (or a rounded offset) "
    "cannot give it. Compute the closed form from offset and d, see the text above Exercise 4":
        "这个闭式表达对任意实数偏移都成立：PE(10)·PE(12.5) 是若干个 2.5·w_i 的余弦之和，"
        "但任何由整数位置构成的表都没有 12.5 这一行，所以 sinusoidal_table 中两行的点积（或取整后的偏移）给不出它。"
        "请由 offset 和 d 计算闭式表达，见练习 4 上方的正文",
    "cos is even: the dot product is the same for +offset and -offset":
        "cos 是偶函数：+offset 和 -offset 的点积相同",
    "pe_dot(-7, 2) = PE(10)·PE(3) for d = 2": "d = 2 时 pe_dot(-7, 2) = PE(10)·PE(3)",
    "pe_dot(0, 8): a row with itself, one 1 per pair": "pe_dot(0, 8)：一行与它自己的点积，每一对贡献一个 1",
    "pe_dot(7, 2) = PE(10)·PE(17) for d = 2, which is cos 7": "d = 2 时 pe_dot(7, 2) = PE(10)·PE(17)，即 cos 7",
    "sin instead of cos? sin(pw)sin(qw) + cos(pw)cos(qw) is the cosine of (q - p)w":
        "用了 sin 而不是 cos？sin(pw)sin(qw) + cos(pw)cos(qw) 是 (q - p)w 的余弦",
    "the second pair turns at w_1 = 10000^(-2/4) = 0.01: the exponent is -2i/d with i the pair index":
        "第二对的转速是 w_1 = 10000^(-2/4) = 0.01：指数是 -2i/d，其中 i 是特征对的下标",
    "there are d/2 pairs, not d terms: each (sin, cos) pair contributes ONE cosine":
        "共有 d/2 对，而不是 d 项：每个 (sin, cos) 对只贡献一个余弦",
    "you averaged over the pairs: each of the d/2 pairs adds its own cosine to the sum":
        "你对各对取了平均：d/2 对中的每一对都要把自己的余弦加进和里",
    "rope_matrix(1, 4): blocks for theta_0 = 1 and theta_1 = 0.01":
        "rope_matrix(1, 4)：theta_0 = 1 和 theta_1 = 0.01 对应的分块",
    "rope_matrix(1, 4, base=100.0): theta_1 = 100^(-2/4) = 0.1":
        "rope_matrix(1, 4, base=100.0)：theta_1 = 100^(-2/4) = 0.1",
    "rope_matrix(1, 6) should be (6, 6), got {got}: the d argument was ignored? one 2x2 block per pair of the d "
    "features":
        "rope_matrix(1, 6) 的形状应为 (6, 6)，实际为 {got}：d 参数被忽略了？d 个特征中的每一对对应一个 2x2 分块",
    "rope_matrix(1, 6): theta_i = 10000^(-2i/6)": "rope_matrix(1, 6)：theta_i = 10000^(-2i/6)",
    "rope_rotation(pi/2): turns (1, 0) into (0, 1)": "rope_rotation(pi/2)：把 (1, 0) 转到 (0, 1)",
    "the blocks are in reverse order: block i uses theta_i, and the fast theta_0 = 1 comes first":
        "分块的顺序反了：第 i 个分块使用 theta_i，转得快的 theta_0 = 1 排在最前面",
    "the blocks rotate clockwise (by -m·theta): use counter-clockwise rotations":
        "这些分块是顺时针旋转的（转了 -m·theta）：请使用逆时针旋转",
    "the second block turns by 0.1: theta_i = base^(-2i/d) with i the pair index (theta_1 = 10000^(-2/4) = 0.01)":
        "第二个分块转了 0.1：theta_i = base^(-2i/d)，其中 i 是特征对的下标（theta_1 = 10000^(-2/4) = 0.01）",
    "these are the blocks of base 10000: the base argument was ignored; theta_i = base^(-2i/d) with the base you are "
    "given":
        "这些是底数为 10000 时的分块：base 参数被忽略了；theta_i = base^(-2i/d)，其中的底数用给定的 base",
    "theta_i = 10000^(-2i/4): the exponent must divide by the d argument (6 here), not by a fixed 4":
        "theta_i = 10000^(-2i/4)：指数必须除以 d 参数（这里是 6），而不是固定的 4",
    "this pairs feature i with feature i + d/2 (rotate half); here the pairs are (2i, 2i + 1), neighbours":
        "这是把特征 i 与特征 i + d/2 配成一对（rotate half）；这里的特征对是相邻的 (2i, 2i + 1)",
    "this turns (1, 0) into (0, -1): clockwise; the rotation is counter-clockwise":
        "这把 (1, 0) 转到了 (0, -1)：是顺时针的；旋转应当是逆时针的",
    "apply_rope at position 0 changes nothing (angle 0)": "apply_rope 在位置 0 上不改变任何东西（角度为 0）",
    "apply_rope at position 5 (pairs (0, 1) and (2, 3) rotated by 5 and 0.05 rad)":
        "apply_rope 在位置 5 上（特征对 (0, 1) 和 (2, 3) 分别旋转 5 和 0.05 弧度）",
    "apply_rope with base=100.0 at position 5 (pairs rotated by 5 and 0.5 rad)":
        "base=100.0 时 apply_rope 在位置 5 上（各对分别旋转 5 和 0.5 弧度）",
    "the pairs turned by their index in the sequence (2), not by the given position (5): use `positions`":
        "各对旋转的角度用的是它们在序列中的下标（2），而不是给定的位置（5）：请使用 `positions`",
    "the pairs turned clockwise (by -m·theta): RoPE turns them counter-clockwise":
        "各对是顺时针旋转的（转了 -m·theta）：RoPE 是把它们逆时针旋转",
    "the second pair turned by 0.05, as with base 10000: the base argument was ignored; use the base you are given":
        "第二对转了 0.05，与底数为 10000 时一样：base 参数被忽略了；请使用给定的 base",
    "this pairs feature i with feature i + d/2 (rotate half); here the pairs are (2i, 2i + 1), see Part 4":
        "这是把特征 i 与特征 i + d/2 配成一对（rotate half）；这里的特征对是 (2i, 2i + 1)，见第 4 部分",
}
