"""Chapter 04 (dropout and residual connections) in Chinese: the visible checks' messages and those of the chapter's
test cells."""

MESSAGES = {
    # course/checks/ch04_dropout_residual.py
    "draw the mask and rescale yourself: F.dropout is what it is checked against":
        "请自己抽取掩码并做缩放：检查正是拿 F.dropout 来核对它",
    "read each layer's gradient and take its norm yourself: torch.nn.utils.clip_grad_norm_ / get_total_norm compute "
    "gradient norms for you":
        "请自己读取每一层的梯度并求它的范数：torch.nn.utils.clip_grad_norm_ / get_total_norm 会替你算出梯度范数",
    "write the module around your own dropout: nn.Dropout is the reference":
        "请围绕你自己的 dropout 写这个模块：nn.Dropout 就是参考答案",
    # chapters/04-dropout-residual.py, test cells
    "Dropout must subclass nn.Module": "Dropout 必须是 nn.Module 的子类",
    "Dropout() should default to p = 0.5, as nn.Dropout does": "Dropout() 的默认值应为 p = 0.5，与 nn.Dropout 一样",
    "Dropout(0.2) in training should zero about 0.2 of the elements, it zeroed {frac:.2f}":
        "训练模式下 Dropout(0.2) 应当把大约 0.2 的元素置零，实际置零了 {frac:.2f}",
    "Dropout(0.2) zeroed {frac:.2f} of the elements, as Dropout(0.5) would: the p argument was ignored; forward must "
    "use the p the module was built with":
        "Dropout(0.2) 把 {frac:.2f} 的元素置零了，和 Dropout(0.5) 一样：p 参数被忽略了；forward "
        "必须使用构建模块时给定的 p",
    "Dropout(0.5) in training should zero about half the elements": "训练模式下 Dropout(0.5) 应当把大约一半的元素置零",
    "Dropout(0.5) survivors (1 / 0.5 = 2)": "Dropout(0.5) 保留下来的元素（1 / 0.5 = 2）",
    "Dropout(0.5)'s survivors are 1: divide them by 1 - p = 0.5":
        "Dropout(0.5) 保留下来的元素是 1：要把它们除以 1 - p = 0.5",
    "Dropout(1.5) (check p in __init__)": "Dropout(1.5)（请在 __init__ 中检查 p）",
    "Visible tests passed: default p, eval identity, train drops and rescales, inside a model, ValueError.":
        "可见测试通过：默认 p、评估模式下是恒等映射、训练模式下丢弃并缩放、放在模型里、ValueError。",
    "Visible tests passed: eval mode, p=1, what the dropout sees, in both arrangements.":
        "可见测试通过：评估模式、p=1、dropout 看到的是什么，两种排列方式都已检查。",
    "Visible tests passed: eval, p=0, p=1, zero fraction, rescaling, fresh masks, generator, gradient, ValueError.":
        "可见测试通过：评估模式、p=0、p=1、置零比例、缩放、每次新的掩码、generator、梯度、ValueError。",
    "Visible tests passed: one-weight stacks with and without the skip path (twice), a two-layer stack.":
        "可见测试通过：有跳跃连接和没有跳跃连接的单权重堆栈（各两次）、一个两层堆栈。",
    "Visible tests passed: the lookups, what dropout sees, p=1, a sequence longer than the table.":
        "可见测试通过：两次查表、dropout 看到的是什么、p=1、比位置表更长的序列。",
    "after .eval() your Dropout still changed its input: read self.training in forward, the flag .eval() sets (not a "
    "flag of your own)":
        "调用 .eval() 之后你的 Dropout 仍然改变了它的输入：请在 forward 中读取 self.training，也就是 .eval() "
        "设置的那个标志（而不是你自己的标志）",
    "all norms are 0: read the gradients after L.backward(), not before (step 3)":
        "所有范数都是 0：要在 L.backward() 之后读取梯度，而不是之前（第 3 步）",
    "dropout saw the position vectors only: drop the sum of both": "dropout 只看到了位置向量：要对两者之和做 dropout",
    "dropout saw the token embeddings only: the position vectors must be dropped with them, on the sum (Vaswani et "
    "al. 2017, §5.4)":
        "dropout 只看到了词元嵌入：位置向量必须和它们一起，在两者之和上做 dropout（Vaswani et al. 2017，§5.4）",
    "dropout was applied to the embedding table, not to the sum: every occurrence of a token would then share one mask":
        "dropout 作用在了嵌入表上，而不是和上：那样同一个词元的每次出现都会共用一个掩码",
    "dropout(x, 0.5, training=False) changed x: in eval mode dropout returns x unchanged (spec 2)":
        "dropout(x, 0.5, training=False) 改变了 x：评估模式下 dropout 原样返回 x（规格第 2 条）",
    "dropout(x, p='0.5') (spec 6: check the type of p before comparing it)":
        "dropout(x, p='0.5')（规格第 6 条：先检查 p 的类型，再拿它作比较）",
    "dropout(x, p=0) (nothing dropped, nothing rescaled, spec 3)":
        "dropout(x, p=0)（什么都不丢弃，也不缩放，规格第 3 条）",
    "dropout(x, p=1) (all zeros, spec 3)": "dropout(x, p=1)（全为零，规格第 3 条）",
    "dropout(x, p=1) gave NaN: that is 0 / (1 - p) with p = 1; return zeros without dividing (spec 3)":
        "dropout(x, p=1) 得到了 NaN：这是 p = 1 时的 0 / (1 - p)；请直接返回全零，不要做除法（规格第 3 条）",
    "dropout(x, p=1.5) (spec 6)": "dropout(x, p=1.5)（规格第 6 条）",
    "embed_with_dropout must return what the dropout returns": "embed_with_dropout 必须返回 dropout 的返回值",
    "embed_with_dropout on 5 tokens with a position table of 4 rows (the message names both lengths)":
        "embed_with_dropout 作用于 5 个词元，而位置表只有 4 行（报错信息要写出这两个长度）",
    "embed_with_dropout with dropout in eval mode": "dropout 处于评估模式时的 embed_with_dropout",
    "model.eval() on an nn.Sequential holding your Dropout did not switch it off: read self.training":
        "对包含你的 Dropout 的 nn.Sequential 调用 model.eval() 并没有关掉它：请读取 self.training",
    "one-weight stack, residual={residual}": "单权重堆栈，residual={residual}",
    "one-weight stack, residual={residual}, second call": "单权重堆栈，residual={residual}，第二次调用",
    "p=1 in training: everything is dropped, the positions too": "训练模式下 p=1：一切都被丢弃，位置向量也一样",
    "survivors of dropout(ones, p=0.25) (1/0.75)": "dropout(ones, p=0.25) 保留下来的元素（1/0.75）",
    "that is the norm of the bias gradient: read layer.weight.grad (step 3)":
        "这是偏置梯度的范数：请读取 layer.weight.grad（第 3 步）",
    "the dropout came after the add: it belongs on the sublayer's output, before the add":
        "dropout 放在了相加之后：它应当作用在子层的输出上，在相加之前",
    "the dropout came after the norm: it belongs on the sublayer's output, before the add and the norm":
        "dropout 放在了归一化之后：它应当作用在子层的输出上，在相加和归一化之前",
    "the dropout module was called {n} times: call it once, on the sum (two calls draw two independent masks)":
        "dropout 模块被调用了 {n} 次：只在和上调用一次（调用两次会抽取两个相互独立的掩码）",
    "the dropout was applied to the normalised input, before the sublayer: it belongs on the sublayer's output":
        "dropout 作用在了归一化后的输入上，在子层之前：它应当作用在子层的输出上",
    "the dropout was applied to x, the residual stream itself: it belongs on the sublayer's output":
        "dropout 作用在了 x，也就是残差流本身上：它应当作用在子层的输出上",
    "the norms are 2 times too large: L is the MEAN of model(x) ** 2 over its 2 elements, not the sum (step 2)":
        "范数大了 2 倍：L 是 model(x) ** 2 在它的 2 个元素上的均值，而不是和（第 2 步）",
    "the norms are in reverse order: entry 0 is model.layers[0], the layer next to the input":
        "范数的顺序反了：第 0 项是 model.layers[0]，即紧挨着输入的那一层",
    "the output does not require grad, so no gradient would reach x: do not detach and do not use .data (spec 5)":
        "输出不需要梯度，于是梯度传不到 x：不要 detach，也不要用 .data（规格第 5 条）",
    "the position vectors were looked up by token id: position t's vector is pos_table[t], whichever token sits there":
        "位置向量是按词元 id 查的：位置 t 的向量是 pos_table[t]，不管那里是哪个词元",
    "the second call gave twice the first: backward adds to .grad, so clear the old gradients first with "
    "model.zero_grad() (step 1)":
        "第二次调用的结果是第一次的两倍：backward 会累加到 .grad 上，所以要先用 model.zero_grad() 清除旧的梯度（第 1 "
        "步）",
    "the survivors are 0.25: you scaled by p; inverted dropout divides by 1 - p":
        "保留下来的元素是 0.25：你乘了 p；反向缩放 dropout 要除以 1 - p",
    "the survivors are 0.75: you multiplied by 1 - p; inverted dropout divides by it":
        "保留下来的元素是 0.75：你乘了 1 - p；反向缩放 dropout 要除以它",
    "the survivors are 4: you divided by p; inverted dropout divides by 1 - p":
        "保留下来的元素是 4：你除以了 p；反向缩放 dropout 要除以 1 - p",
    "the survivors of dropout(ones, p=0.25) are 1: they must be divided by 1 - p = 0.75 (inverted dropout, see 'The "
    "scaling problem')":
        "dropout(ones, p=0.25) 保留下来的元素是 1：它们必须除以 1 - p = 0.75（反向缩放 dropout，见“缩放问题”）",
    "the token embeddings (2, 3, 2) and the position table (4, 2) do not broadcast: a sequence of 3 tokens uses only "
    "the first 3 position vectors": "词元嵌入 (2, 3, 2) 和位置表 (4, 2) 无法广播：含 3 个词元的序列只用前 3 个位置向量",
    "two calls in a row gave the same mask: draw a fresh mask on every call, do not reset the seed inside the "
    "function or keep an old mask (spec 4)":
        "连续两次调用得到了相同的掩码：每次调用都要抽取新的掩码，不要在函数内部重设随机种子，"
        "也不要保留旧的掩码（规格第 4 条）",
    "two generators seeded alike gave different masks: pass generator to torch.rand (spec 4)":
        "两个种子相同的 generator 给出了不同的掩码：请把 generator 传给 torch.rand（规格第 4 条）",
    "two-layer stack, by hand": "两层堆栈，手算结果",
    "what the dropout module was applied to": "dropout 模块作用的对象",
    "what {name}'s dropout was applied to": "{name} 的 dropout 作用的对象",
    "with p=0.25, {frac:.3f} of the elements were zeroed, expected about 0.25":
        "p=0.25 时有 {frac:.3f} 的元素被置零，应为大约 0.25",
    "with p=0.25, {frac:.3f} of the elements were zeroed: p is the probability of DROPPING an element, you kept each "
    "one with probability p (spec 1)":
        "p=0.25 时有 {frac:.3f} 的元素被置零：p 是“丢弃”一个元素的概率，而你是以概率 p 保留每个元素（规格第 1 条）",
    "you multiplied the token embeddings by √d_model, as the paper's §3.4 does: this exercise uses the tables as "
    "given, the sum of §5.4 without that scaling (chapter 08 adds it)":
        "你像论文 §3.4 那样把词元嵌入乘以了 √d_model：本练习按给定的样子使用两张表，即 §5.4 中不带这个缩放的和（第 08 "
        "章会加上它）",
    "{name} applied its dropout {n} times: once, to the sublayer's output":
        "{name} 用了 {n} 次 dropout：应当只用一次，作用在子层的输出上",
    "{name} in eval mode (dropout off: chapter 03's block)": "评估模式下的 {name}（dropout 关闭：即第 03 章的块）",
    "{name} with a stand-in dropout that doubles its input": "{name} 配一个把输入翻倍的替身 dropout",
    "{name} with p=1 in training (the branch is dropped, the stream passes)":
        "训练模式下 p=1 时的 {name}（分支被丢弃，残差流直接通过）",
}
