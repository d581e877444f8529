"""The comparison primitives' messages (core, plain, borrowed) in Chinese."""

MESSAGES = {
    # core.py
    "a check's condition": "检查的条件",
    "array of shape {shape} and dtype {dtype}": "形状为 {shape}、dtype 为 {dtype} 的数组",
    "equal() compares plain Python values; use close() for arrays": "equal() 只比较普通的 Python 值；数组请用 close()",
    "tensor of shape {shape} and dtype {dtype}": "形状为 {shape}、dtype 为 {dtype} 的张量",
    "the function": "该函数",
    "what {name} returned": "{name} 的返回值",
    "{name} changed one of its input tensors in place; compute a new tensor instead (the caller still needs its input)":
        "{name} 原地修改了它的某个输入张量；请计算出一个新张量（调用者还要用到它的输入）",
    "{name}({arguments}) raised {kind}: {error}": "{name}({arguments}) 抛出了 {kind}：{error}",
    "{name}: contains NaN at {count} position(s)": "{name}：有 {count} 个位置是 NaN",
    "{name}: expected a number close to {expected!r}, got {got}": "{name}：应为接近 {expected!r} 的数，实际得到 {got}",
    "{name}: expected a tensor/array like {expected}, got {got}":
        "{name}：应为像 {expected} 这样的张量或数组，实际得到 {got}",
    "{name}: expected shape {expected}, got shape {got}": "{name}：形状应为 {expected}，实际为 {got}",
    "{name}: expected {expected!r}, got {got!r}": "{name}：应为 {expected!r}，实际得到 {got!r}",
    "{name}: expected {expected!r}, got {got!r}. {why}": "{name}：应为 {expected!r}，实际得到 {got!r}。{why}",
    "{name}: expected {expected!r}, got {got}": "{name}：应为 {expected!r}，实际得到 {got}",
    "{name}: expected {kind} to be raised, but it returned normally": "{name}：应当抛出 {kind}，但它正常返回了",
    "{name}: expected {kind}, got {got}: {error}": "{name}：应当抛出 {kind}，实际抛出了 {got}：{error}",
    "{name}: infinite values where the reference has none (or vice versa)":
        "{name}：在参考答案没有无穷大的位置出现了无穷大（或者反过来）",
    "{name}: raised {kind} but its message {message!r} does not mention {match!r}":
        "{name}：抛出了 {kind}，但它的报错信息 {message!r} 没有提到 {match!r}",
    "{name}: {bad} of {total} values differ from the reference; largest difference {largest:.3g} (tolerance {atol:g} "
    "+ {rtol:g}·|ref|), e.g. got {got:.6g} where {expected:.6g} was expected":
        "{name}：{total} 个值中有 {bad} 个与参考答案不符；最大差值为 {largest:.3g}（容差为 {atol:g} + {rtol:g}·|ref|）"
        "，例如应为 {expected:.6g} 的地方得到了 {got:.6g}",
    # plain.py
    "dict with string keys": "以字符串为键的 dict",
    "numpy array": "numpy 数组",
    "{name}: expected True or False, got {got}": "{name}：应为 True 或 False，实际得到 {got}",
    "{name}: nested more than {depth} levels deep": "{name}：嵌套超过了 {depth} 层",
    "{name}: return a plain {expected}, got {got} (the checks compare only plain tensors, numbers, strings and tuples "
    "of those)":
        "{name}：请返回普通的 {expected}，实际得到 {got}（检查只比较普通的张量、数、字符串以及由它们组成的元组）",
    "{name}: return an ordinary (strided) tensor, got a {layout} one":
        "{name}：请返回普通的（strided 布局的）张量，实际得到的是 {layout} 布局的张量",
    # borrowed.py
    "{exercise} may not call {name} while it is checked: {why}": "检查 {exercise} 时，它不能调用 {name}：{why}",
}
