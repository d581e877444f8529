"""Chapter 03's experiments: a deep stack trained with and without LayerNorm, LayerNorm vs BatchNorm (batch
neighbours, future tokens, train/eval), diagrams of the Post-LN and Pre-LN blocks, and Pre-LN vs Post-LN training."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch, Rectangle
from torch import nn

from course.experiments import one_thread
from course.language import pick
from course.plotting import new_figure, show  # noqa: F401  (show: used as ex.show in the notebook)

NormFn = Callable[..., torch.Tensor]


# --------------------------------------------------------------------------- LayerNorm vs BatchNorm

def ln_vs_bn(layer_norm: NormFn, d: int = 8, seed: int = 0) -> tuple[Figure, dict[str, float]]:
    """Normalise the same token inside two different batches, with LayerNorm and with BatchNorm.

    Batch A holds the token and 3 other random tokens. Batch B holds it with 3 different tokens
    and 4 padding tokens (zeros), as a shorter sequence padded to length 8 would.
    """
    g = torch.Generator().manual_seed(seed)
    token = torch.randn(d, generator=g) * 2 + 1  # (d,)
    batch_a = torch.cat([token[None], torch.randn(3, d, generator=g)])  # (4, d)
    batch_b = torch.cat([token[None], torch.randn(3, d, generator=g) * 3, torch.zeros(4, d)])  # (8, d)
    ones, zeros = torch.ones(d), torch.zeros(d)
    bn = nn.BatchNorm1d(d, affine=False)  # training mode: statistics of the batch, per feature
    out = {
        "LN, batch A": layer_norm(batch_a, ones, zeros)[0],
        "LN, batch B": layer_norm(batch_b, ones, zeros)[0],
        "BN, batch A": bn(batch_a)[0].detach(),
        "BN, batch B": bn(batch_b)[0].detach(),
    }
    fig = new_figure(9.0, 3.4)
    for k, kind in enumerate(["LN", "BN"]):
        ax = fig.add_subplot(1, 2, k + 1)
        for j, batch in enumerate(["A", "B"]):
            ax.bar((torch.arange(d) + (j - 0.5) * 0.38).numpy(), out[f"{kind}, batch {batch}"].numpy(), width=0.38,
                   label=pick(f"in batch {batch}", f"在批量 {batch} 中"))
        norm = pick("LayerNorm", "层归一化") if kind == "LN" else pick("BatchNorm", "批归一化")
        ax.set(title=pick(f"{norm}: the same token", f"{norm}：同一个词元"), xlabel=pick("feature", "特征"),
               ylabel=pick("normalised value", "归一化后的值"))
        ax.legend(fontsize=8)
    fig.tight_layout()
    diffs = {kind: float((out[f"{kind}, batch A"] - out[f"{kind}, batch B"]).abs().max()) for kind in ("LN", "BN")}
    return fig, {"ln_max_diff": diffs["LN"], "bn_max_diff": diffs["BN"]}


# ---------------------------------------------------------------- BatchNorm: future tokens, train vs eval

def _influence(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    """M[t, s] = how far output token t moves when only input token s is moved by ``delta``.

    ``x`` is (batch, seq, d); tokens are numbered sequence by sequence. Finite differences rather than
    autograd, so that any layer_norm (even one that leaves the graph) can be measured.
    """
    n, d = x.shape[0] * x.shape[1], x.shape[-1]
    with torch.no_grad():
        base = fn(x).reshape(n, d)
        m = torch.zeros(n, n)
        for s in range(n):
            moved = x.clone().reshape(n, d)
            moved[s] += delta
            m[:, s] = (fn(moved.reshape(x.shape)).reshape(n, d) - base).norm(dim=-1)
    return m  # (tokens, tokens)


def batchnorm_future_leak(layer_norm: NormFn, batch: int = 2, seq: int = 6, d: int = 8,
                          seed: int = 0) -> tuple[Figure, dict[str, float]]:
    """Which input tokens does each output token depend on, with LayerNorm and with BatchNorm (training mode)?

    Two sequences of ``seq`` tokens; one input token at a time is moved and every output token's change is
    measured. BatchNorm normalises each feature over all batch·seq tokens, so every output depends on every
    input: on later tokens of its own sequence (the "future" a causal model must not see) and on the other
    sequence. LayerNorm's outputs depend on their own token only.
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, seq, d, generator=g) * 1.5 + 0.5  # (batch, seq, d)
    delta = torch.randn(d, generator=g)  # one fixed change of one token, (d,)
    ones, zeros = torch.ones(d), torch.zeros(d)
    bn = nn.BatchNorm1d(d, affine=False)  # training mode: each feature over every token of the batch
    maps = {
        "LayerNorm": _influence(lambda t: layer_norm(t, ones, zeros), x, delta),
        "BatchNorm (training mode)": _influence(lambda t: bn(t.reshape(-1, d)).reshape(t.shape), x, delta),
    }
    n = batch * seq
    same_seq = torch.zeros(n, n, dtype=torch.bool)
    for b in range(batch):
        same_seq[b * seq:(b + 1) * seq, b * seq:(b + 1) * seq] = True
    future = same_seq & torch.ones(n, n, dtype=torch.bool).triu(1)  # column s later than row t, same sequence
    other = ~same_seq
    fig = new_figure(10.0, 4.2)
    vmax = max(float(m.max()) for m in maps.values())
    for k, (title, m) in enumerate(maps.items()):
        ax = fig.add_subplot(1, 2, k + 1)
        im = ax.imshow(m.numpy(), cmap="viridis", norm=PowerNorm(0.4, vmin=0.0, vmax=vmax))
        for b in range(1, batch):
            ax.axhline(b * seq - 0.5, color="white", lw=1.5)
            ax.axvline(b * seq - 0.5, color="white", lw=1.5)
        ax.plot([-0.5, seq - 0.5], [-0.5, seq - 0.5], color="w", lw=0.8, ls=":")
        ax.set(title=_name(title), xlabel=pick("input token moved (s)", "被移动的输入词元 (s)"),
               ylabel=pick("output token (t)", "输出词元 (t)"))
        ax.grid(False)
        ax.text(seq - 0.6, 0.0, pick("future of t", "t 的未来"), color="w", ha="right", va="center", fontsize=8)
    fig.colorbar(im, ax=fig.axes, shrink=0.8, label=pick("change of output token t", "输出词元 t 的变化"))
    stats = {}
    for key, m in (("ln", maps["LayerNorm"]), ("bn", maps["BatchNorm (training mode)"])):
        stats[f"{key}_future"] = float(m[future].max())
        stats[f"{key}_other_sequence"] = float(m[other].max())
        stats[f"{key}_first_from_last"] = float(m[0, seq - 1])  # position 0's output when the last token moves
        stats[f"{key}_self"] = float(m.diagonal().mean())
    return fig, stats


def batchnorm_train_eval(d: int = 8, seq: int = 6, batches: int = 60, batch: int = 4,
                         seed: int = 0) -> tuple[Figure, dict]:
    """BatchNorm's two modes: batch statistics in training, running averages after ``.eval()``.

    Training batches of ``batch`` sequences update the running mean and variance (an exponential moving
    average, momentum 0.1 by default); then one test sentence of ``seq`` tokens is normalised in both modes.
    """
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(d, generator=g) * 2  # the true mean and spread of each feature, (d,)
    sigma = torch.rand(d, generator=g) * 2 + 0.5

    def tokens(n: int) -> torch.Tensor:
        return mu + sigma * torch.randn(n, d, generator=g)  # (n, d)

    bn = nn.BatchNorm1d(d, affine=False)
    error = []
    with torch.no_grad():
        for _ in range(batches):
            bn.train()(tokens(batch * seq))
            error.append(float((bn.running_mean - mu).abs().mean()))
        sentence = tokens(seq)  # (seq, d)
        evaluated = bn.eval()(sentence)
        trained = nn.functional.batch_norm(sentence, None, None, training=True)  # the sentence's own statistics
        try:
            bn.train()(sentence[:1])
            single = pick("no error", "没有报错")
        except ValueError as err:  # one token: no variance to divide by
            single = pick(str(err), f"ValueError：训练模式下每个通道需要多于 1 个值，"
                                    f"而输入的大小为 {sentence[:1].shape}")
    fig = new_figure(10.0, 3.6)
    ax = fig.add_subplot(1, 2, 1)
    ax.plot(range(1, batches + 1), error, "o-", ms=3)
    ax.set(title=pick("Running mean: average error per feature", "滑动均值：每个特征的平均误差"),
           xlabel=pick("training batches seen", "已见过的训练批量"),
           ylabel=pick("|running mean - true mean|", "|滑动均值 - 真实均值|"))
    ax = fig.add_subplot(1, 2, 2)
    feats = torch.arange(d).numpy()
    ax.bar(feats - 0.2, trained[0].numpy(), width=0.4, label=pick("training mode (this sentence's statistics)",
                                                                           "训练模式（这句话自身的统计量）"))
    ax.bar(feats + 0.2, evaluated[0].numpy(), width=0.4, label=pick("eval mode (running averages)",
                                                                    "评估模式（滑动平均）"))
    ax.set(title=pick("The same token, BatchNorm in the two modes", "同一个词元：两种模式下的批归一化"),
           xlabel=pick("feature", "特征"), ylabel=pick("normalised value", "归一化后的值"))
    ax.legend(fontsize=8)
    fig.tight_layout()
    stats = {"max_diff": float((trained - evaluated).abs().max()), "final_error": error[-1], "first_error": error[0],
             "single_token": single, "batches": batches}
    return fig, stats


# ----------------------------------------------------------------------------- block diagrams

def _box(ax, x: float, y: float, text: str, color: str, w: float = 2.2, h: float = 0.7) -> None:
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05", fc=color, ec="k", lw=1))
    ax.text(x, y, _name(text), ha="center", va="center", fontsize=9)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "lw": 1.2, "color": "k"})


def _line(ax, *points: tuple[float, float]) -> None:
    xs, ys = zip(*points)
    ax.plot(xs, ys, color="k", lw=1.2)


NORM_COLOR, SUB_COLOR, DROP_COLOR = "#f6e3a1", "#bcd7f0", "#f3c1c1"

# The Chinese of the names this module draws as they are (boxes, map titles, legend entries)
NAMES_ZH = {"LayerNorm": "层归一化", "final LayerNorm": "最终层归一化",
            "Sublayer\n(attention or FFN)": "子层\n（注意力或前馈网络）", "Dropout": "Dropout",
            "BatchNorm (training mode)": "批归一化（训练模式）"}


def _name(text: str) -> str:
    return pick(text, NAMES_ZH.get(text, text))


def _draw_block(ax, pre: bool, dropout: bool) -> float:
    """One residual block, drawn bottom to top as in the 2017 paper's Figure 1, plus the stack around it."""
    cx, skip = 1.5, 3.3
    y = 0.4
    ax.text(cx, y, "x (batch, seq, d_model)", ha="center", va="center", fontsize=9)
    split = 1.2
    _line(ax, (cx, y + 0.25), (cx, split))
    ax.plot([cx], [split], "ko", ms=3)
    boxes = (["LayerNorm"] if pre else []) + ["Sublayer\n(attention or FFN)"] + (["Dropout"] if dropout else [])
    colors = {"LayerNorm": NORM_COLOR, "Dropout": DROP_COLOR}
    top = split
    for name in boxes:
        centre = top + 1.15
        _arrow(ax, (cx, top if top == split else top + 0.35), (cx, centre - 0.35))
        _box(ax, cx, centre, name, colors.get(name, SUB_COLOR))
        top = centre
    add = top + 1.1
    _arrow(ax, (cx, top + 0.35), (cx, add - 0.22))
    ax.add_patch(Circle((cx, add), 0.22, fc="w", ec="k", lw=1.2))
    ax.text(cx, add, "+", ha="center", va="center", fontsize=12)
    _line(ax, (cx, split), (skip, split), (skip, add))
    _arrow(ax, (skip, add), (cx + 0.22, add))
    ax.text(skip + 0.1, (split + add) / 2, pick("residual\nstream", "残差流"), fontsize=8, va="center", ha="left")
    out = add
    if not pre:
        out = add + 1.1
        _arrow(ax, (cx, add + 0.22), (cx, out - 0.35))
        _box(ax, cx, out, "LayerNorm", NORM_COLOR)
    block_top = out + (0.35 if not pre else 0.22) + 0.15
    ax.add_patch(Rectangle((0.1, split - 0.35), 4.3, block_top - split + 0.35, fill=False, ls="--", lw=1, ec="grey"))
    ax.text(4.45, (split + block_top) / 2, "× N", fontsize=11, va="center")
    y = block_top + 0.8
    _arrow(ax, (cx, out + (0.35 if not pre else 0.22)), (cx, y - 0.35))
    if pre:
        _box(ax, cx, y, "final LayerNorm", NORM_COLOR)
        y += 1.1
        _arrow(ax, (cx, y - 1.1 + 0.35), (cx, y - 0.25))
    else:
        y += 0.3
    ax.text(cx, y, pick("output layer", "输出层"), ha="center", va="center", fontsize=9)
    ax.set_xlim(-0.2, 5.2)
    ax.set_aspect("equal")
    ax.axis("off")
    return y + 0.5


def block_diagrams(dropout: bool = False) -> Figure:
    """The Post-LN and Pre-LN residual blocks side by side, in a stack of N (drawn, not a picture file).

    ``dropout=True`` adds the residual dropout of the 2017 paper (§5.4) on each sublayer's output.
    """
    fig = new_figure(8.0, 6.6)
    heights = []
    for k, pre in enumerate((False, True)):
        ax = fig.add_subplot(1, 2, k + 1)
        heights.append(_draw_block(ax, pre, dropout))
        ax.set_title(pick("Pre-LN (GPT-2 and later)", "Pre-LN（GPT-2 及之后）") if pre
                     else pick("Post-LN (2017 paper, BERT)", "Post-LN（2017 年论文、BERT）"), fontsize=10)
    for ax in fig.axes:
        ax.set_ylim(0.0, max(heights))  # one scale for both drawings
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------ Pre-LN vs Post-LN

VOCAB, SEQ = 16, 16
N_LAYER = 5




def make_stack(norm_first: bool, n_layer: int = N_LAYER, d_model: int = 32, seed: int = 0) -> nn.Module:
    """Embedding + position table + a stack of encoder layers + output head, Pre-LN or Post-LN."""
    torch.manual_seed(seed)
    layer = nn.TransformerEncoderLayer(d_model, 4, 4 * d_model, dropout=0.0, batch_first=True, norm_first=norm_first)
    model = nn.ModuleDict({
        "embed": nn.Embedding(VOCAB, d_model),
        "layers": nn.TransformerEncoder(layer, n_layer, norm=nn.LayerNorm(d_model) if norm_first else None,
                                        enable_nested_tensor=False),
        "head": nn.Linear(d_model, VOCAB),
    })
    model.register_buffer("positions", torch.randn(1, SEQ, d_model))  # fixed, so only the blocks differ
    return model


def _features(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return model["layers"](model["embed"](x) + model.positions)  # (batch, seq, d_model)


def _loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(model["head"](_features(model, x)).flatten(0, 1), y.flatten())


def task_batch(g: torch.Generator, batch: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """Predict the previous token: y[t] = x[t - 1] (cyclically). Needs attention to the left neighbour."""
    x = torch.randint(0, VOCAB, (batch, SEQ), generator=g)  # (batch, seq)
    return x, torch.roll(x, 1, dims=1)


def grad_norms_at_init(norm_first: bool, n_layer: int = N_LAYER, seed: int = 0) -> list[float]:
    """Norm of the gradient of each layer's weight matrices, on one batch, at initialisation."""
    model = make_stack(norm_first, n_layer, seed=seed)
    _loss(model, *task_batch(torch.Generator().manual_seed(seed + 1))).backward()
    return [float(torch.stack([p.grad.norm() for p in layer.parameters() if p.dim() == 2]).norm())
            for layer in model["layers"].layers]


def adam_first_step(norm_first: bool, lr: float = 1e-3, n_layer: int = N_LAYER, seed: int = 0) -> dict[str, float]:
    """One Adam step on the blocks from initialisation: how far does each weight move, and the stack's output?

    Adam's first update is lr · g / (|g| + eps) per weight, so every weight with a gradient moves by about lr,
    whatever the gradient's size. Returns the median of |Δw| / lr and the relative change of the stack's output.
    """
    model = make_stack(norm_first, n_layer, seed=seed)
    x, y = task_batch(torch.Generator().manual_seed(seed + 1))
    params = list(model["layers"].parameters())
    with torch.no_grad():
        before = _features(model, x)
        weights = [p.clone() for p in params]
    opt = torch.optim.Adam(params, lr=lr)
    _loss(model, x, y).backward()
    opt.step()
    with torch.no_grad():
        after = _features(model, x)
        moved = torch.cat([(p - w).abs().flatten() for p, w in zip(params, weights)]) / lr
    change = float((after - before).norm() / before.norm())
    return {"median_step_over_lr": float(moved.median()), "output_change": change}


def train_previous_token(norm_first: bool, lr: float = 1e-2, warmup: int = 0, steps: int = 120,
                         n_layer: int = N_LAYER, seed: int = 0) -> list[float]:
    """Train a Pre-LN or Post-LN stack on the previous-token task with Adam (linear warm-up over ``warmup``
    steps, then a constant rate). Returns the loss of every step."""
    return _train(make_stack(norm_first, n_layer, seed=seed), lr, steps, seed, warmup)


def without_norms(model: nn.Module) -> nn.Module:
    """``model`` (from :func:`make_stack`) with every LayerNorm of its blocks, and the final one, replaced by
    the identity: the same residual stack, nothing normalised."""
    for layer in model["layers"].layers:
        layer.norm1, layer.norm2 = nn.Identity(), nn.Identity()
    model["layers"].norm = None
    return model


def stream_scale(model: nn.Module, seed: int = 0) -> list[float]:
    """Standard deviation of the residual stream on one batch at initialisation: the input of the first
    block, then the output of every block (before any final LayerNorm)."""
    x, _ = task_batch(torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        h = model["embed"](x) + model.positions  # (batch, seq, d_model)
        scale = [float(h.std())]
        for layer in model["layers"].layers:
            h = layer(h)
            scale.append(float(h.std()))
    return scale


def _train(model: nn.Module, lr: float, steps: int, seed: int, warmup: int = 0) -> list[float]:
    """Adam on the previous-token task (linear warm-up over ``warmup`` steps, then a constant rate); every loss."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup) if warmup else 1.0)
    g = torch.Generator().manual_seed(seed + 1)
    losses = []
    for _ in range(steps):
        loss = _loss(model, *task_batch(g))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses


def norm_or_not(n_layer: int = 8, steps: int = 80, lr: float = 1e-2, seed: int = 0,
                tail: int = 10) -> tuple[Figure, dict]:
    """The same Pre-LN stack of ``n_layer`` encoder layers twice, from the same initial weights: once as it is,
    once with every LayerNorm removed. Measures the residual stream's scale block by block at initialisation,
    then trains both on the previous-token task (Adam, constant ``lr``, no warm-up).

    ``scale``, ``first_loss`` and ``final_loss`` are keyed by the runs' names, which the notebook prints: "LayerNorm"
    and "no LayerNorm", in the Chinese edition "有层归一化" and "无层归一化" (as wide as each other, so the printed
    columns line up). ``final_loss``: the mean loss of the last ``tail`` steps (nan if a run overflowed). One
    thread, so the numbers repeat on every machine.
    """
    with_norm, without_norm = pick("LayerNorm", "有层归一化"), pick("no LayerNorm", "无层归一化")
    with one_thread():
        models = {with_norm: make_stack(True, n_layer, seed=seed),
                  without_norm: without_norms(make_stack(True, n_layer, seed=seed))}
        scale = {name: stream_scale(m, seed) for name, m in models.items()}
        losses = {name: _train(m, lr, steps, seed) for name, m in models.items()}
    fig = new_figure(10.0, 3.8)
    ax = fig.add_subplot(1, 2, 1)
    for k, (name, s) in enumerate(scale.items()):
        ax.plot(range(n_layer + 1), s, "o-", color=f"C{k}", label=name)
    ax.set_yscale("log")
    ax.set(title=pick("Scale of the residual stream at initialisation", "初始化时残差流的尺度"),
           xlabel=pick("after block (0 = the input)", "经过的块（0 = 输入）"),
           ylabel=pick("standard deviation", "标准差"))
    ax.legend(fontsize=8)
    ax = fig.add_subplot(1, 2, 2)
    for k, (name, l) in enumerate(losses.items()):
        finite = [v if math.isfinite(v) else float("nan") for v in l]
        ax.plot(finite, lw=1.2, color=f"C{k}", label=name)
    ax.axhline(math.log(VOCAB), color="grey", lw=0.8, ls=":", label=pick("chance: ln 16", "随机猜测：ln 16"))
    ax.set_yscale("log")
    ax.set(title=pick(f"Training loss, {n_layer} layers, Adam lr={lr:g}", f"训练损失：{n_layer} 层，Adam lr={lr:g}"),
           xlabel=pick("step", "步数"), ylabel=pick("cross-entropy", "交叉熵"))
    ax.legend(fontsize=8)
    fig.tight_layout()
    tail = min(tail, steps)
    return fig, {"scale": scale, "first_loss": {name: l[0] for name, l in losses.items()},
                 "final_loss": {name: sum(l[-tail:]) / tail for name, l in losses.items()}, "tail": tail,
                 "n_layer": n_layer, "steps": steps}


def _run_name(norm_first: bool, warmup: int) -> str:
    """A run of :func:`pre_vs_post` by name, as the notebook prints it: "post_nowarmup", "pre_warmup", ...; in the
    Chinese edition "Post-LN，无预热", "Pre-LN，有预热", ... (their printed columns line up)."""
    return pick(f"{'pre' if norm_first else 'post'}_{'warmup' if warmup else 'nowarmup'}",
                f"{'Pre-LN' if norm_first else 'Post-LN'}，{'有预热' if warmup else '无预热'}")


def pre_vs_post(steps: int = 120, warmup: int = 40, lr: float = 1e-2, n_layer: int = N_LAYER,
                tail: int = 20) -> tuple[Figure, dict]:
    """Train both variants with and without warm-up; plot the losses and the gradient norms at initialisation.

    Runs on one thread (see :func:`one_thread`), so the result is the same on every machine.
    ``final_loss`` is the mean loss of the last ``tail`` steps of each run, keyed by the run's name (:func:`_run_name`).
    """
    with one_thread():
        runs = {(nf, wu): train_previous_token(nf, lr, wu, steps, n_layer)
                for nf in (False, True) for wu in (0, warmup)}
        grads = {nf: grad_norms_at_init(nf, n_layer) for nf in (False, True)}
        first = {nf: adam_first_step(nf, n_layer=n_layer) for nf in (False, True)}
    fig = new_figure(10.0, 3.8)
    ax = fig.add_subplot(1, 2, 1)
    for (nf, wu), losses in runs.items():
        ax.plot(losses, lw=1.2, ls="-" if wu else "--",
                label=f"{'Pre-LN' if nf else 'Post-LN'}{pick(', ', '，')}"
                      + (pick(f"warm-up {wu}", f"预热 {wu} 步") if wu else pick("no warm-up", "无预热")),
                color="C1" if nf else "C0", alpha=1.0 if wu else 0.7)
    ax.axhline(math.log(VOCAB), color="grey", lw=0.8, ls=":", label=pick("chance: ln 16", "随机猜测：ln 16"))
    ax.set(title=pick(f"Training loss, {n_layer} layers, Adam lr={lr:g}", f"训练损失：{n_layer} 层，Adam lr={lr:g}"),
           xlabel=pick("step", "步数"), ylabel=pick("cross-entropy", "交叉熵"))
    ax.legend(fontsize=8)
    ax = fig.add_subplot(1, 2, 2)
    for nf, norms in grads.items():
        ax.plot(range(1, n_layer + 1), norms, "o-", color="C1" if nf else "C0", label="Pre-LN" if nf else "Post-LN")
    ax.set(title=pick("Gradient norm per layer at initialisation", "初始化时每层的梯度范数"),
           xlabel=pick("layer (1 = next to the input)", "层（1 = 紧挨输入）"),
           ylabel=pick("||dL/dW|| of the layer's matrices", "该层各矩阵的 ||dL/dW||"))
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    fig.tight_layout()
    tail = min(tail, steps)
    last = {_run_name(nf, wu): sum(l[-tail:]) / tail for (nf, wu), l in runs.items()}
    return fig, {"final_loss": last, "tail": tail, "grad_norms": {"post": grads[False], "pre": grads[True]},
                 "first_step": {"post": first[False], "pre": first[True]}}
