"""Chapter 02 (tensors) in Chinese: the visible checks' messages and those of the chapter's test cells."""

MESSAGES = {
    # course/checks/ch02_tensors.py
    "compute the strides from the shape: a real tensor's .stride() is the reference":
        "请根据形状计算步长：真实张量的 .stride() 就是参考答案",
    "decide from shape and strides: Tensor.is_contiguous is the reference":
        "请根据形状和步长来判断：Tensor.is_contiguous 就是参考答案",
    "transpose and reshape x yourself: the course's MultiHeadAttention._merge is the reference":
        "请自己对 x 做转置和 reshape：课程的 MultiHeadAttention._merge 就是参考答案",
    "use broadcasting or the expansion |a|² − 2a·b + |b|² yourself: torch.cdist is the reference":
        "请自己用广播或展开式 |a|² − 2a·b + |b|² 来计算：torch.cdist 就是参考答案",
    "view and transpose x yourself: the course's MultiHeadAttention._split is the reference":
        "请自己对 x 做 view 和转置：课程的 MultiHeadAttention._split 就是参考答案",
    "work out the view's shape, strides and offset yourself: a real view (as_strided, then sliced) is the reference":
        "请自己算出视图的形状、步长和偏移：真实的视图（先 as_strided，再切片）就是参考答案",
    "work the broadcast shape out from the rule, on the tuples: torch.broadcast_shapes (or tensors of those shapes, "
    "broadcast by torch) is the reference":
        "请在元组上按规则推出广播后的形状：torch.broadcast_shapes（或由 torch 广播的这些形状的张量）就是参考答案",
    "write log-sum-exp yourself from max, exp, sum and log: torch.logsumexp is the reference":
        "请自己用 max、exp、sum 和 log 写出对数求和指数：torch.logsumexp 就是参考答案",
    "write the max-shifted softmax yourself: torch's softmax is what it is checked against":
        "请自己写出减去最大值的 softmax：检查正是拿 torch 的 softmax 来核对它",
    # chapters/02-tensors.py, test cells
    "(2, 3) minus (2,) does not broadcast: without keepdim=True the row means line up with the columns (Part 1).":
        "(2, 3) 减去 (2,) 无法广播：不加 keepdim=True，行均值会与列对齐（第 1 部分）。",
    "(2, 3, 4) and (4,) do broadcast. {rule}": "(2, 3, 4) 和 (4,) 是可以广播的。{rule}",
    "(5, 1, 4) and (3, 1) do broadcast. {rule}": "(5, 1, 4) 和 (3, 1) 是可以广播的。{rule}",
    "A (n,) term met an (m, 1) term: give each term the shape you mean, (n, 1) and (1, m) (Part 3, the classic bug).":
        "一个 (n,) 的项遇上了一个 (m, 1) 的项：给每一项你想要的形状，即 (n, 1) 和 (1, m)（第 3 部分，经典错误）。",
    "A size-0 dim counts as size 1 in the product, as PyTorch does (Part 4, the corner case).":
        "大小为 0 的维在乘积中按大小 1 计算，PyTorch 也是这样做的（第 4 部分，边界情况）。",
    "A size-0 dim meeting a size-1 dim stays 0: the result takes the size that is not 1 (Part 3, rule 3).":
        "大小为 0 的维遇上大小为 1 的维，结果仍是 0：结果取不为 1 的那个大小（第 3 部分，规则 3）。",
    "A size-1 dim's stride never matters, you never step along it (Part 4, 'Contiguous or not').":
        "大小为 1 的维的步长无关紧要，因为你从不沿它前进（第 4 部分“连续与否”）。",
    "After the transpose this tensor is not contiguous, and no view can glue its last two dims: reshape (or "
    ".contiguous().view) copies when it must (Part 5).":
        "转置之后这个张量不再连续，没有哪个视图能把它的最后两维拼起来：reshape（或 .contiguous().view）"
        "会在必要时复制（第 5 部分）。",
    "An empty tensor (a size-0 dim) holds no elements and is always contiguous (Part 4, 'Contiguous or not').":
        "空张量（有一个大小为 0 的维）不含任何元素，总是连续的（第 4 部分“连续与否”）。",
    "Each stride includes its own dim's size: the last stride is 1, and each earlier one skips the dims after it only "
    "(Part 4).":
        "每个步长都把自己那一维的大小也算进去了：最后一个步长是 1，前面每个步长只跨过它后面的那些维（第 4 部分）。",
    "Head 0 holds all the features of the first tokens: that is the tempting shortcut, a view straight to (batch, "
    "n_heads, seq, d_head) (Part 5).":
        "头 0 装的是前几个词元的全部特征：这就是那条诱人的捷径，直接 view 成 (batch, n_heads, seq, d_head)（第 5 "
        "部分）。",
    "Line the shapes up from the right: the shorter one is padded with 1s on the left (Part 3, rule 1).":
        "从右边对齐两个形状：较短的那个在左边补 1（第 3 部分，规则 1）。",
    "Nothing changed: dim=-1 is the last dim, as in PyTorch (Part 4, Exercise 6).":
        "什么都没变：dim=-1 是最后一维，与 PyTorch 一样（第 4 部分，练习 6）。",
    "Row [0, 0] became 0 / 0: shifted by the global maximum 1000, its exps underflowed. Each row needs its own "
    "maximum (Part 2, 'Per row, not global').":
        "行 [0, 0] 变成了 0 / 0：减去全局最大值 1000 之后，它的指数下溢了。每一行都需要它自己的最大值（第 2 "
        "部分“按行，而不是全局”）。",
    "Row [0, 0] came out infinite: shifted by the global maximum 1000, its exp underflowed to 0 and log 0 = -inf. "
    "Each row needs its own maximum (Part 2, 'Per row, not global').":
        "行 [0, 0] 的结果是无穷大：减去全局最大值 1000 之后，它的指数下溢为 0，而 log 0 = -inf。"
        "每一行都需要它自己的最大值（第 2 部分“按行，而不是全局”）。",
    "Shape (2, 2) is (n, d): you summed over the points of y; reduce over the coordinates, the last dim (Part 3).":
        "形状 (2, 2) 是 (n, d)：你对 y 的点求了和；应当对坐标，也就是最后一维做归约（第 3 部分）。",
    "Shape (2,) is a reduction over the last dim: reduce over the dim you are given (Part 1).":
        "形状 (2,) 是对最后一维归约的结果：请对传入的那一维做归约（第 1 部分）。",
    "Shape (3, 2) is (m, n): rows index the points of x, columns those of y.":
        "形状 (3, 2) 是 (m, n)：行应当对应 x 的点，列对应 y 的点。",
    "Stepping by 2 along dim 1 skips every other element: the stride along dim grows with the step (Part 4, Exercise "
    "6).": "沿第 1 维以 2 为步进，会隔一个取一个元素：沿 dim 的步长要随步进一起变大（第 4 部分，练习 6）。",
    "The heads' features are interleaved: keep each head's d_head features together, head 0's first (Part 5).":
        "各个头的特征交错在一起了：让每个头的 d_head 个特征挨在一起，头 0 的在最前面（第 5 部分）。",
    "The last stride is 1, but the rows are 8 elements apart, not 4: there is a gap. Check every dim (Part 4, "
    "'Contiguous or not').":
        "最后一个步长是 1，但相邻两行相隔 8 个元素而不是 4 个：中间有空隙。请检查每一维（第 4 部分“连续与否”）。",
    "The maximum has shape (2,) without keepdim, and was lined up with the columns: keep the reduced dim until the "
    "end (Part 1).":
        "不加 keepdim 时最大值的形状是 (2,)，它与列对齐了：请把被归约的那一维一直保留到最后（第 1 部分）。",
    "The maximum has shape (2,) without keepdim, and was subtracted along the columns: keep the reduced dim (Part 1).":
        "不加 keepdim 时最大值的形状是 (2,)，它被沿着列减去了：请保留被归约的那一维（第 1 部分）。",
    "The new offset counts from the old one: the view starts where t[1:] did, at offset 6 (Part 4, Exercise 6).":
        "新的偏移要从旧的偏移算起：这个视图从 t[1:] 开始的地方，即偏移 6 处开始（第 4 部分，练习 6）。",
    "The offset did not move: the view's element [0, 0] is t[0, 1] (Part 4, Exercise 6).":
        "偏移没有移动：视图的元素 [0, 0] 是 t[0, 1]（第 4 部分，练习 6）。",
    "The offset did not move: the view's element [0, 0] is t[1, 0] (Part 4, Exercise 6).":
        "偏移没有移动：视图的元素 [0, 0] 是 t[1, 0]（第 4 部分，练习 6）。",
    "The offset moved by start = 1 element, but one step along dim 0 is stride[0] = 6 elements (Part 4, Exercise 6).":
        "偏移移动了 start = 1 个元素，但沿第 0 维走一步是 stride[0] = 6 个元素（第 4 部分，练习 6）。",
    "The right strides in reverse order: list them in the order of the dims, first dim first.":
        "步长是对的，但顺序反了：请按维的顺序列出，第一维在前。",
    "The rows sum to 1 instead: normalise along the dim you are given (Part 2).":
        "结果是各行之和为 1：请沿传入的那一维做归一化（第 2 部分）。",
    "The size is one short: 1:6:2 keeps the columns 1, 3 and 5, three of them; count the last, partial step too (Part "
    "4, Exercise 6).":
        "大小少了一：1:6:2 保留第 1、3、5 列，共三列；最后那个不完整的步进也要算上（第 4 部分，练习 6）。",
    "The tokens got mixed: bring seq back in front of the heads (transpose) before gluing the last two dims (Part 5).":
        "词元被打乱了：在拼接最后两维之前，先把 seq 换回到头的前面（转置）（第 5 部分）。",
    "These are distances: the exercise wants them squared.": "这些是距离：本练习要的是距离的平方。",
    "This is the missing keepdim: the (2,) row means were lined up with the columns, as the row sums were in the "
    "square example of Part 1.":
        "这是漏了 keepdim：形状为 (2,) 的行均值与列对齐了，就像第 1 部分方阵例子中的行和那样。",
    "Those are column-major (Fortran-order) strides: in PyTorch the LAST dim has stride 1 (Part 4).":
        "这些是列优先（Fortran 顺序）的步长：在 PyTorch 中，步长为 1 的是最后一维（第 4 部分）。",
    "Those are sums of absolute differences: square them.": "这些是差的绝对值之和：请改为平方。",
    "Those are the strides of a fresh (6, 4) tensor: the strides argument was ignored; a view's strides need not be "
    "row-major (Part 4, Exercise 6).":
        "这些是新建的 (6, 4) 张量的步长：strides 参数被忽略了；视图的步长不一定是行优先的（第 4 部分，练习 6）。",
    "You ignored the step: 1:6:2 keeps every second column (Part 4, Exercise 6).":
        "你忽略了步进：1:6:2 每隔一列保留一列（第 4 部分，练习 6）。",
    "You subtracted the column means: dim=0 reduces over the rows; a row's mean reduces over dim 1 (Part 1).":
        "你减去的是列均值：dim=0 是对各行做归约；一行的均值要对第 1 维做归约（第 1 部分）。",
    "You subtracted the column means: reduce over dim 1, the columns of each row (Part 1).":
        "你减去的是列均值：请对第 1 维，也就是每一行中的各列做归约（第 1 部分）。",
    "You subtracted the mean of the whole matrix: reduce over one dim only (Part 1).":
        "你减去的是整个矩阵的均值：只对一维做归约（第 1 部分）。",
    "broadcast_shape must return a tuple, got {kind} {got!r}: wrap it in tuple(...)":
        "broadcast_shape 必须返回 tuple，实际得到 {kind} {got!r}：用 tuple(...) 包一下",
    "broadcast_shape((0,), (2,)): 0 is not 1, a size-0 dim broadcasts only with 0 or 1 (Part 3, rule 3)":
        "broadcast_shape((0,), (2,))：0 不是 1，大小为 0 的维只能与 0 或 1 广播（第 3 部分，规则 3）",
    "broadcast_shape((2, 3), (4, 3)): sizes 2 and 4 differ and neither is 1 (Part 3, rule 2)":
        "broadcast_shape((2, 3), (4, 3))：大小 2 和 4 不相等，且都不是 1（第 3 部分，规则 2）",
    "broadcast_shape((3,), (3, 1)), the (n,) + (n, 1) trap": "broadcast_shape((3,), (3, 1))，即 (n,) + (n, 1) 的陷阱",
    "center_rows on a 2x3 matrix": "在 2x3 矩阵上的 center_rows",
    "center_rows on a square matrix": "在方阵上的 center_rows",
    "columns of stable_softmax(x, dim=0) should sum to 1": "stable_softmax(x, dim=0) 的每一列之和应为 1",
    "contiguous_strides must return a tuple, got {kind} {got!r}":
        "contiguous_strides 必须返回 tuple，实际得到 {kind} {got!r}",
    "contiguous_strides(()) (a scalar has no strides)": "contiguous_strides(())（标量没有步长）",
    "exp overflowed (inf / inf = nan): subtract the row's maximum before exp (Part 2).":
        "exp 上溢了（inf / inf = nan）：在取 exp 之前先减去这一行的最大值（第 2 部分）。",
    "exp overflowed on a row that spreads over 200: did you shift by the row's mean or minimum? Only the maximum "
    "makes the largest exponent 0 (Part 2, 'The fix').":
        "在取值跨度达 200 的一行上 exp 上溢了：你平移用的是这一行的均值还是最小值？只有减去最大值才能让最大的指数为 "
        "0（第 2 部分“解决办法”）。",
    "exp overflowed to inf: subtract the row's maximum before exp and add it back after the log (Part 2).":
        "exp 上溢成了 inf：在取 exp 之前减去这一行的最大值，取 log 之后再把它加回来（第 2 部分）。",
    "head 0 (should be features 0-3 of every token)": "头 0（应为每个词元的第 0-3 个特征）",
    "head 1 (should be features 4-7 of every token)": "头 1（应为每个词元的第 4-7 个特征）",
    "head 3 of 4 (should be features 6-7 of every token)": "4 个头中的头 3（应为每个词元的第 6-7 个特征）",
    "is_contiguous must return a Python bool, got {kind} {got!r}: wrap the result in bool(...)":
        "is_contiguous 必须返回 Python 的 bool，实际得到 {kind} {got!r}：用 bool(...) 把结果包一下",
    "is_contiguous of a permuted (2, 3, 4)": "对经过 permute 的 (2, 3, 4) 调用 is_contiguous",
    "is_contiguous((4, 3), (1, 4)) (a transpose)": "is_contiguous((4, 3), (1, 4))（一个转置）",
    "log_sum_exp at logits of 1e4": "logits 为 1e4 时的 log_sum_exp",
    "log_sum_exp of [[0, 0], [1, 2]] along dim -1": "沿第 -1 维对 [[0, 0], [1, 2]] 求 log_sum_exp",
    "log_sum_exp of [[0, 100, 200]]": "[[0, 100, 200]] 的 log_sum_exp",
    "log_sum_exp of [[0, 2], [3, 0]]": "[[0, 2], [3, 0]] 的 log_sum_exp",
    "log_sum_exp of a 2x3 input": "2x3 输入的 log_sum_exp",
    "log_sum_exp of rows [0, 0] and [1000, 1000]": "两行 [0, 0] 和 [1000, 1000] 的 log_sum_exp",
    "log_sum_exp removes the reduced dim, like torch.logsumexp: squeeze it (Part 2).":
        "log_sum_exp 和 torch.logsumexp 一样会去掉被归约的那一维：请把它 squeeze 掉（第 2 部分）。",
    "merge_heads copied a split it could have glued back as a view: undoing a split is free, and the cell after these "
    "tests prints that it is. torch.cat and .clone() always copy; reshape and .contiguous() copy only when they must "
    "(Part 4, 'view versus reshape')":
        "merge_heads 复制了一个本可以作为视图拼回去的拆分结果：撤销拆分是不花代价的，"
        "这些测试之后的单元格会打印出这一点。torch.cat 和 .clone() 总会复制；reshape 和 .contiguous() "
        "只在必要时复制（第 4 部分“view 与 reshape”）",
    "merge_heads of a contiguous (1, 2, 3, 4) tensor": "对连续的 (1, 2, 3, 4) 张量调用 merge_heads",
    "merge_heads of a split (1, 3, 8) tensor": "对拆分后的 (1, 3, 8) 张量调用 merge_heads",
    "nan on a row that spreads over 200: did you shift by the row's mean or minimum? Only the maximum makes the "
    "largest exponent 0 (Part 2, 'The fix').":
        "在取值跨度达 200 的一行上出现了 nan：你平移用的是这一行的均值还是最小值？只有减去最大值才能让最大的指数为 "
        "0（第 2 部分“解决办法”）。",
    "pairwise_sq_distances of 2 and 3 points in 2-D": "二维空间中 2 个点与 3 个点之间的 pairwise_sq_distances",
    "shape of split_heads(x of shape (1, 3, 8), n_heads=2)": "split_heads(形状为 (1, 3, 8) 的 x, n_heads=2) 的形状",
    "shape of split_heads(x of shape (1, 3, 8), n_heads=4)": "split_heads(形状为 (1, 3, 8) 的 x, n_heads=4) 的形状",
    "slice_view for t.T[:, 1:4:2] (t.T has shape (6, 4) and strides (1, 6))":
        "t.T[:, 1:4:2] 的 slice_view（t.T 的形状为 (6, 4)，步长为 (1, 6)）",
    "slice_view for t[1:4]": "t[1:4] 的 slice_view",
    "slice_view for t[1:][:, 2:5] (a view of a view, offset 6)": "t[1:][:, 2:5] 的 slice_view（视图的视图，偏移为 6）",
    "slice_view for t[:, 1:6:2] of t = arange(24).view(4, 6)": "t = arange(24).view(4, 6) 时 t[:, 1:6:2] 的 slice_view",
    "slice_view for t[:, 3:3] (empty)": "t[:, 3:3] 的 slice_view（为空）",
    "slice_view should return (a tuple, a tuple, an int), got {got!r}":
        "slice_view 应返回（tuple，tuple，int），实际得到 {got!r}",
    "slice_view with dim 2 of a 2-dim shape": "对二维形状取第 2 维的 slice_view",
    "slice_view with dim=-1 (the last dim)": "dim=-1（最后一维）时的 slice_view",
    "slice_view with start 4 > stop 2": "start 4 > stop 2 时的 slice_view",
    "slice_view with step 0": "步进为 0 时的 slice_view",
    "slice_view with stop 7 > size 6": "stop 7 > 大小 6 时的 slice_view",
    "softmax of equal logits": "相等 logits 的 softmax",
    "split_heads returned shape (batch, seq, n_heads, d_head) = (1, 3, 2, 4): the heads must come before seq, so swap "
    "those two dims (Part 5)":
        "split_heads 返回的形状是 (batch, seq, n_heads, d_head) = (1, 3, 2, 4)：头要排在 seq 之前，"
        "所以请交换这两维（第 5 部分）",
    "split_heads should return a view of x, but it copied (reshape of a non-contiguous tensor, .contiguous() or "
    ".clone() copy): use view and transpose (Part 5)":
        "split_heads 应返回 x 的视图，但它做了复制（对不连续张量做 reshape、调用 .contiguous() 或 .clone() 都会复制）"
        "：请用 view 和转置（第 5 部分）",
    "split_heads with d_model=10, n_heads=4: check that n_heads divides d_model and raise ValueError":
        "d_model=10、n_heads=4 时的 split_heads：请检查 n_heads 能否整除 d_model，不能时抛出 ValueError",
    "split_heads(x, 4) returned 2 heads: the n_heads argument was ignored":
        "split_heads(x, 4) 返回了 2 个头：n_heads 参数被忽略了",
    "stable_softmax at logits of 1e4": "logits 为 1e4 时的 stable_softmax",
    "stable_softmax of [[0, 100, 200]]": "[[0, 100, 200]] 的 stable_softmax",
    "stable_softmax of [[0, 2], [3, 0]]": "[[0, 2], [3, 0]] 的 stable_softmax",
    "stable_softmax of a 2x3 input": "2x3 输入的 stable_softmax",
    "stable_softmax of rows [0, 0] and [1000, 1000]": "两行 [0, 0] 和 [1000, 1000] 的 stable_softmax",
    "the ValueError's message should contain both shapes, (2, 3) and (4, 3); it was {message!r}":
        "这个 ValueError 的报错信息应包含两个形状 (2, 3) 和 (4, 3)；实际是 {message!r}",
    "x (2, 3) minus a (2,) maximum does not broadcast: keep the reduced dim (keepdim=True) so the maximum lines up "
    "with the rows (Part 1).":
        "x (2, 3) 减去形状为 (2,) 的最大值无法广播：请保留被归约的那一维（keepdim=True），让最大值与各行对齐（第 1 "
        "部分）。",
}
