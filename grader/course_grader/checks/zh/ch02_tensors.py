"""The hidden checks of chapter 02 (tensors) in Chinese."""

MESSAGES = {
    "broadcast_shape({a}, {b}) must hold Python ints, got {got!r}":
        "broadcast_shape({a}, {b}) 的元素必须是 Python 的 int，实际得到 {got!r}",
    "broadcast_shape({a}, {b}) must return a tuple, got {kind}":
        "broadcast_shape({a}, {b}) 必须返回 tuple，实际得到 {kind}",
    "center_rows on a {rows}x{cols} input": "在 {rows}x{cols} 输入上的 center_rows",
    "contiguous_strides({shape}) must return a tuple, got {kind}":
        "contiguous_strides({shape}) 必须返回 tuple，实际得到 {kind}",
    "distance of each point to itself": "每个点到它自身的距离",
    "head {h} of split_heads (should be x[..., {start}:{stop}])": "split_heads 的头 {h}（应为 x[..., {start}:{stop}]）",
    "is_contiguous({shape}, {strides}) must return a Python bool (True or False), got {kind} {got!r}":
        "is_contiguous({shape}, {strides}) 必须返回 Python 的 bool（True 或 False），实际得到 {kind} {got!r}",
    "log_sum_exp(x of shape {shape}, dim={dim})": "log_sum_exp(形状为 {shape} 的 x, dim={dim})",
    "log_sum_exp(x) with the default dim": "dim 取默认值时的 log_sum_exp(x)",
    "merge_heads(contiguous tensor of shape {shape})": "merge_heads(形状为 {shape} 的连续张量)",
    "merge_heads(split of a {batch}x{seq}x{d_model} tensor)": "merge_heads(对 {batch}x{seq}x{d_model} 张量拆分的结果)",
    "merge_heads(split of a {batch}x{seq}x{d_model} tensor) copied: undoing a split can be a view (reshape and "
    ".contiguous() copy only when they must; torch.cat and .clone() always copy)":
        "merge_heads(对 {batch}x{seq}x{d_model} 张量拆分的结果) 做了复制：撤销拆分可以得到一个视图（reshape 和 "
        ".contiguous() 只在必要时复制；torch.cat 和 .clone() 总会复制）",
    "pairwise_sq_distances on float32 input": "float32 输入上的 pairwise_sq_distances",
    "pairwise_sq_distances(x {n}x{d}, y {m}x{d})": "pairwise_sq_distances(x 为 {n}x{d}, y 为 {m}x{d})",
    "pairwise_sq_distances(x, x) (should be symmetric)": "pairwise_sq_distances(x, x)（应当是对称的）",
    "row means of center_rows' output (should be 0)": "center_rows 输出的行均值（应为 0）",
    "shape of split_heads(x of shape {shape}, n_heads={n_heads})":
        "split_heads(形状为 {shape} 的 x, n_heads={n_heads}) 的形状",
    "slice_view with the default step": "步进取默认值时的 slice_view",
    "split_heads must return a tensor, got {kind}": "split_heads 必须返回张量，实际得到 {kind}",
    "split_heads should return a view of x (same storage), not a copy":
        "split_heads 应返回 x 的视图（同一块存储），而不是副本",
    "split_heads with d_model={d_model}, n_heads={n_heads}": "d_model={d_model}、n_heads={n_heads} 时的 split_heads",
    "stable_softmax(x of shape {shape}, dim={dim})": "stable_softmax(形状为 {shape} 的 x, dim={dim})",
    "stable_softmax(x) with the default dim": "dim 取默认值时的 stable_softmax(x)",
    "{args} against the real view's (shape, stride(), storage_offset())":
        "{args} 与真实视图的 (shape, stride(), storage_offset()) 对比",
    "{args} should return (a tuple, a tuple, an int), got {got!r}":
        "{args} 应返回（tuple，tuple，int），实际得到 {got!r}",
    "{args} should return a tuple of three, got {got!r}": "{args} 应返回包含三项的 tuple，实际得到 {got!r}",
}
