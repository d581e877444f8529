"""Experiments of chapter 04 (dropout and residual connections).

Each function takes the student's code as an argument, runs a short experiment on the CPU
(a second or two) and returns ``(figure, stats)``: a matplotlib Figure for the notebook and the
numbers behind it, which the notebook prints so that the prose can quote measured values.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from matplotlib.figure import Figure
from torch import nn

from course.experiments import one_thread
from course.language import pick
from course.plotting import new_figure, show  # noqa: F401  (show: used as ex.show in the notebook)

DropoutFn = Callable[..., torch.Tensor]


class DeepStack(nn.Module):
    """The model of the residual experiment: every layer computes ``f(h) = tanh(W h + b)``; the plain
    stack feeds ``f(h)`` to the next layer, the residual stack ``h + f(h)``. PyTorch's default
    ``nn.Linear`` initialisation is kept on purpose: it is what a beginner gets without thinking, and
    it makes the plain stack's gradients vanish.

    ``depth`` blocks of ``tanh(Linear(width, width))``, optionally wrapped as ``h + f(h)``.

    Args:
        depth: number of layers (int >= 1).
        width: features per layer (int >= 1).
        residual: add the skip path ``h + f(h)`` (True) or not (False).
        seed: seed for the weights, so that two stacks with the same seed start identical.

    ``self.layers`` is an ``nn.ModuleList`` of the ``nn.Linear`` layers, input side first.
    ``forward`` maps ``(batch, width)`` to ``(batch, width)``.
    """

    def __init__(self, depth: int, width: int = 64, residual: bool = False, seed: int = 0):
        super().__init__()
        for name, value in (("depth", depth), ("width", width)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not isinstance(residual, bool):
            raise ValueError(f"residual must be True or False, got {residual!r}")
        generator_state = torch.random.get_rng_state()
        torch.manual_seed(seed)  # nn.Linear draws its weights from the global generator
        try:
            self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        finally:
            torch.random.set_rng_state(generator_state)  # building a stack leaves the caller's RNG alone
        self.residual = residual
        self.width = width

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if h.dim() != 2 or h.shape[-1] != self.width:
            raise ValueError(f"expected input of shape (batch, {self.width}), got {tuple(h.shape)}")
        for layer in self.layers:
            f = torch.tanh(layer(h))  # (batch, width)
            h = h + f if self.residual else f
        return h

    def extra_repr(self) -> str:
        return f"depth={len(self.layers)}, width={self.width}, residual={self.residual}"


def _check_p(p: float, *, allow_one: bool = True) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not (0 <= p < 1 or (allow_one and p == 1)):
        raise ValueError(f"p must be a float in [0, 1{']' if allow_one else ')'}, got {p!r}")


# ----------------------------------------------------------------------------- dropout statistics

def dropout_statistics(dropout_fn: DropoutFn, p: float = 0.3, n: int = 200_000, seed: int = 0,
                       ps: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
                       ) -> tuple[Figure, dict]:
    """Histogram of ``dropout_fn(x, p)``, and the output's mean, zero fraction and spread against p.

    ``x`` is ``n`` draws from N(1, 0.5²) for the histogram and ``n`` ones for the curves (so the
    expected mean is exactly 1 and the spread is the dropout noise alone).
    """
    _check_p(p, allow_one=False)
    if not isinstance(n, int) or n < 1000:
        raise ValueError(f"n must be an int >= 1000, got {n!r}")
    gen = torch.Generator().manual_seed(seed)
    x = 1.0 + 0.5 * torch.randn(n, generator=gen)                      # (n,)
    y = dropout_fn(x, p, training=True, generator=gen)                # (n,)
    ones = torch.ones(n)
    means, zeros, stds = [], [], []
    for q in ps:
        out = dropout_fn(ones, q, training=True, generator=gen)       # (n,)
        means.append(out.mean().item())
        zeros.append((out == 0).float().mean().item())
        stds.append(out.std().item())

    fig = new_figure(13.5, 3.8)
    ax1, ax2, ax3 = fig.subplots(1, 3)
    bins = torch.linspace(-1.0, 4.5, 111).tolist()
    ax1.hist(x.numpy(), bins=bins, histtype="step", lw=1.5, label=pick("input x", "输入 x"))
    ax1.hist(y.numpy(), bins=bins, histtype="step", lw=1.5, label=f"dropout(x, p={p})")
    ax1.set(xlabel=pick("value", "值"), ylabel=pick("count (log scale)", "个数（对数刻度）"), yscale="log",
            title=pick(f"{n:,} values before and after dropout", f"dropout 前后的 {n:,} 个值"))
    ax1.legend(loc="upper right", fontsize=8)

    ax2.plot(ps, means, "o-", label=pick("mean of dropout(ones)", "dropout(ones) 的均值"))
    ax2.plot(ps, zeros, "s-", label=pick("fraction set to zero", "被置零的比例"))
    ax2.plot(ps, [1 - q for q in ps], "k:", label=pick("mean without 1/(1-p) rescaling", "不做 1/(1-p) 缩放时的均值"))
    ax2.set(xlabel=pick("drop probability p", "丢弃概率 p"), ylabel=pick("value", "值"),
            title=pick("Mean is preserved, zeros grow with p", "均值不变，零的比例随 p 增长"),
            ylim=(-0.05, 1.25))
    ax2.legend(loc="lower left", fontsize=8)

    ax3.plot(ps, stds, "o-", label=pick("measured std", "实测标准差"))
    qs = torch.linspace(0, max(ps), 100).tolist()
    ax3.plot(qs, [math.sqrt(q / (1 - q)) for q in qs], "k:", label="sqrt(p / (1 - p))")
    ax3.set(xlabel=pick("drop probability p", "丢弃概率 p"), ylabel=pick("std of dropout(ones)",
                                                                         "dropout(ones) 的标准差"),
            title=pick("The price: noise grows with p", "代价：噪声随 p 增长"))
    ax3.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    stats = {"p": p, "n": n, "mean_in": x.mean().item(), "mean_out": y.mean().item(),
             "frac_zero": (y == 0).float().mean().item(), "ps": list(ps), "means": means,
             "zero_fracs": zeros, "stds": stds}
    return fig, stats


def train_vs_eval(dropout_fn: DropoutFn, p: float = 0.3, passes: int = 2000, d_hidden: int = 64,
                  seed: int = 0) -> tuple[Figure, dict]:
    """One input through a tiny fixed net ``y = w2 · dropout(relu(W1 x))``, many times.

    In training mode each pass draws a new mask, so ``y`` is random; in eval mode it is one number.
    Because only a linear map follows the dropout, the average training output equals the eval
    output in expectation: that is what the 1/(1-p) rescaling buys.
    """
    _check_p(p, allow_one=False)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(16, generator=gen)                                  # (d_in,)
    w1 = torch.randn(d_hidden, 16, generator=gen) / 4                   # (d_hidden, d_in)
    w2 = torch.randn(d_hidden, generator=gen) / math.sqrt(d_hidden)     # (d_hidden,)
    h = torch.relu(w1 @ x)                                              # (d_hidden,)
    train = torch.stack([w2 @ dropout_fn(h, p, training=True, generator=gen) for _ in range(passes)])
    evaluated = (w2 @ dropout_fn(h, p, training=False)).item()

    fig = new_figure(7.0, 3.8)
    ax = fig.subplots()
    ax.hist(train.numpy(), bins=50, color="C0", alpha=0.7, label=pick(f"training mode, {passes} passes",
                                                                   f"训练模式，{passes} 次前向"))
    ax.axvline(evaluated, color="C3", lw=2, label=pick("eval mode (every pass)", "评估模式（每次都一样）"))
    ax.axvline(train.mean().item(), color="k", ls="--", lw=1.5, label=pick("mean of the training passes",
                                                                             "训练模式各次前向的均值"))
    ax.set(xlabel=pick("network output y", "网络输出 y"), ylabel=pick("number of passes", "前向次数"),
           title=pick(f"Same input, dropout p={p}: random in training, fixed in eval",
                      f"同一输入，dropout p={p}：训练时随机，评估时固定"))
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    stats = {"eval": evaluated, "train_mean": train.mean().item(), "train_std": train.std().item(),
             "passes": passes}
    return fig, stats


# ----------------------------------------------------------------------------- dropout placement

class ZeroSublayer(nn.Module):
    """A sublayer that has learned nothing yet: returns zeros of its input's shape."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


class DropoutAfterAdd(nn.Module):
    """The WRONG placement, for comparison: ``dropout(x + sublayer(norm(x)))``."""

    def __init__(self, d_model: int, sublayer: nn.Module, p: float = 0.1):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.sublayer = sublayer
        self.dropout = nn.Dropout(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(x + self.sublayer(self.norm(x)))


def _stream_damage(block_cls: type, depth: int, p: float, d_model: int, n_tokens: int,
                   x: torch.Tensor) -> tuple[list[float], list[float]]:
    blocks = [block_cls(d_model, ZeroSublayer(), p).train() for _ in range(depth)]
    zeroed, err = [], []
    h = x
    for block in blocks:
        h = block(h)                                                    # (n_tokens, d_model)
        zeroed.append((h == 0).float().mean().item())
        err.append(((h - x).norm() / x.norm()).item())
    return zeroed, err


def placement_experiment(good_block: type, depth: int = 12, p: float = 0.1, d_model: int = 64,
                         n_tokens: int = 512, seed: int = 0) -> tuple[Figure, dict]:
    """Pass x through ``depth`` blocks whose sublayers output zeros, in training mode.

    A well-placed dropout (on the branch) leaves x untouched; dropout after the add punches holes
    into the residual stream at every block, and rescales what survives.
    """
    _check_p(p, allow_one=False)
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive int, got {depth!r}")
    torch.manual_seed(seed)
    x = torch.randn(n_tokens, d_model)                                  # (tokens, d_model)
    with torch.no_grad():
        good_zero, good_err = _stream_damage(good_block, depth, p, d_model, n_tokens, x)
        bad_zero, bad_err = _stream_damage(DropoutAfterAdd, depth, p, d_model, n_tokens, x)
    layers = list(range(1, depth + 1))
    fig = new_figure(11.0, 3.8)
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(layers, good_zero, "o-", label="x + dropout(F(norm(x)))")
    ax1.plot(layers, bad_zero, "s-", label="dropout(x + F(norm(x)))")
    ax1.plot(layers, [1 - (1 - p) ** k for k in layers], "k:", label="1 - (1 - p)^k")
    ax1.set(xlabel=pick("blocks passed k", "经过的块数 k"), ylabel=pick("fraction of stream entries = 0",
                                                                        "残差流中为 0 的元素比例"),
            title=pick(f"Holes in the residual stream (p={p})", f"残差流中的空洞（p={p}）"))
    ax1.legend(loc="upper left", fontsize=8)
    ax2.plot(layers, good_err, "o-", label=pick("dropout on the branch", "dropout 在分支上"))
    ax2.plot(layers, bad_err, "s-", label=pick("dropout after the add", "dropout 在相加之后"))
    ax2.set(xlabel=pick("blocks passed k", "经过的块数 k"), ylabel="||h - x|| / ||x||",
            title=pick("How far the stream drifts from x", "残差流偏离 x 有多远"))
    ax2.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    stats = {"depth": depth, "p": p, "good_zero": good_zero, "bad_zero": bad_zero,
             "good_err": good_err, "bad_err": bad_err}
    return fig, stats


# ----------------------------------------------------------------------------- residual gradients

def residual_experiment(grad_fn: Callable[[nn.Module, torch.Tensor], torch.Tensor], depth: int = 40,
                        width: int = 64, batch: int = 32, seed: int = 0) -> tuple[Figure, dict]:
    """Gradient norm of every layer's weight at initialisation, plain stack vs residual stack.

    ``grad_fn(model, x)`` is the student's ``grad_norms_per_layer``. Both stacks start from the
    same weights (same seed) and see the same input.
    """
    if not isinstance(depth, int) or depth < 2:
        raise ValueError(f"depth must be an int >= 2, got {depth!r}")
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, width, generator=gen)                       # (batch, width)
    norms = {}
    for residual in (False, True):
        model = DeepStack(depth, width, residual=residual, seed=seed)
        norms[residual] = torch.as_tensor(grad_fn(model, x), dtype=torch.float64).tolist()
    layers = list(range(1, depth + 1))
    fig = new_figure(7.5, 4.0)
    ax = fig.subplots()
    ax.semilogy(layers, norms[False], "o-", ms=3, label=pick("plain: h = tanh(W h + b)", "普通：h = tanh(W h + b)"))
    ax.semilogy(layers, norms[True], "s-", ms=3, label=pick("residual: h = h + tanh(W h + b)",
                                                                 "残差：h = h + tanh(W h + b)"))
    ax.set(xlabel=pick("layer (1 = next to the input)", "层（1 = 紧挨输入）"),
           ylabel=pick("||dL/dW|| (log scale)", "||dL/dW||（对数刻度）"),
           title=pick(f"Gradient norm per layer at initialisation, {depth} layers",
                      f"初始化时每层的梯度范数，共 {depth} 层"))
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    stats = {"plain": norms[False], "residual": norms[True]}
    return fig, stats


# ----------------------------------------------------------------------------- dropout against overfitting

def _regression_data(n_train: int, n_test: int, noise: float, seed: int):
    """y = sin(2x) + noise on x in [-2, 2]: few noisy training points, many test points."""
    g = torch.Generator().manual_seed(seed)

    def draw(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.rand(n, 1, generator=g) * 4 - 2                         # (n, 1)
        return x, torch.sin(2 * x) + noise * torch.randn(n, 1, generator=g)

    return draw(n_train), draw(n_test)


def _train_mlp(dropout_cls: type, rate: float, steps: int, width: int, lr: float, eval_every: int, seed: int,
               x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor, y_test: torch.Tensor,
               grid: torch.Tensor) -> dict:
    """One run of :func:`overfitting_experiment`: the curves, the final fit on ``grid``, the train-mode test loss."""
    torch.manual_seed(seed)  # the same initial weights for both runs; dropout draws from the global RNG
    hidden = [nn.Linear(1, width), nn.ReLU(), dropout_cls(rate), nn.Linear(width, width), nn.ReLU(),
              dropout_cls(rate), nn.Linear(width, 1)]
    net = nn.Sequential(*hidden)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    curve = {"step": [], "train": [], "test": []}
    for step in range(1, steps + 1):
        net.train()
        loss = ((net(x_train) - y_train) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % eval_every == 0 or step == steps:
            net.eval()
            with torch.no_grad():
                curve["step"].append(step)
                curve["train"].append(((net(x_train) - y_train) ** 2).mean().item())
                curve["test"].append(((net(x_test) - y_test) ** 2).mean().item())
    with torch.no_grad():
        curve["fit"] = net(grid).squeeze(1)                          # (200,), eval mode
        net.train()  # the same model, evaluated with dropout still switched on (model.eval() forgotten)
        curve["test_in_train_mode"] = ((net(x_test) - y_test) ** 2).mean().item()
    return curve


def overfitting_experiment(dropout_cls: type, p: float = 0.5, steps: int = 600, width: int = 128,
                           n_train: int = 24, noise: float = 0.5, lr: float = 1e-2, eval_every: int = 20,
                           seed: int = 0) -> tuple[Figure, dict]:
    """Train the same MLP twice on 24 noisy points, without dropout and with ``dropout_cls(p)`` after each hidden
    layer; record the training and test loss (in eval mode) along the way.

    ``dropout_cls`` is the student's ``Dropout`` module. Both runs start from the same weights and see the same
    data (full batch, Adam). The test set is 500 fresh points from the same curve, so the best possible test
    loss is the noise variance, ``noise ** 2``.
    """
    _check_p(p, allow_one=False)
    if not isinstance(steps, int) or steps < eval_every:
        raise ValueError(f"steps must be an int >= {eval_every}, got {steps!r}")
    (x_train, y_train), (x_test, y_test) = _regression_data(n_train, 500, noise, seed)
    grid = torch.linspace(-2, 2, 200)[:, None]                           # (200, 1)
    with one_thread():  # a tiny model: one thread is faster, and the run repeats exactly on every machine
        runs = {rate: _train_mlp(dropout_cls, rate, steps, width, lr, eval_every, seed, x_train, y_train, x_test,
                                 y_test, grid) for rate in (0.0, p)}


    fig = new_figure(11.0, 3.8)
    ax1, ax2 = fig.subplots(1, 2)
    for rate, color in ((0.0, "C0"), (p, "C1")):
        c = runs[rate]
        label = pick("no dropout", "无 dropout") if rate == 0 else f"dropout p={p}"
        ax1.plot(c["step"], c["train"], "--", color=color, label=pick(f"{label}: training loss", f"{label}：训练损失"))
        ax1.plot(c["step"], c["test"], "-", color=color, label=pick(f"{label}: test loss", f"{label}：测试损失"))
    ax1.axhline(noise ** 2, color="grey", ls=":", lw=1, label=pick(f"noise floor {noise ** 2:g}",
                                                                    f"噪声下限 {noise ** 2:g}"))
    ax1.set(xlabel=pick("step", "步数"), ylabel=pick("mean squared error (eval mode)",
                                                     "均方误差（评估模式）"), yscale="log",
            title=pick(f"{n_train} noisy points, MLP of width {width}",
                       f"{n_train} 个带噪声的点，宽度为 {width} 的 MLP"))
    ax1.legend(fontsize=7)
    ax2.plot(x_train.squeeze(1).numpy(), y_train.squeeze(1).numpy(), "k.", ms=6,
             label=pick("training points", "训练点"))
    ax2.plot(grid.squeeze(1).numpy(), torch.sin(2 * grid).squeeze(1).numpy(), color="grey", lw=1, label="sin(2x)")
    for rate, color in ((0.0, "C0"), (p, "C1")):
        ax2.plot(grid.squeeze(1).numpy(), runs[rate]["fit"].numpy(), color=color, lw=1.5,
                 label=pick("fit, no dropout", "拟合，无 dropout") if rate == 0
                 else pick(f"fit, dropout p={p}", f"拟合，dropout p={p}"))
    ax2.set(xlabel="x", ylabel="y", title=pick(f"The fits after {steps} steps (eval mode)",
                                                f"{steps} 步之后的拟合（评估模式）"))
    ax2.legend(fontsize=8)
    fig.tight_layout()
    stats = {"p": p, "noise_floor": noise ** 2,
             **{f"{'plain' if rate == 0 else 'dropout'}_{k}": (c[k][-1] if isinstance(c[k], list) else c[k])
                for rate, c in runs.items() for k in ("train", "test", "test_in_train_mode")}, "steps": steps}
    stats["plain_gap"] = stats["plain_test"] - stats["plain_train"]
    stats["dropout_gap"] = stats["dropout_test"] - stats["dropout_train"]
    return fig, stats


# ----------------------------------------------------------------------------- block diagrams

def block_diagrams(dropout: bool = True) -> Figure:
    """The Post-LN and Pre-LN blocks of chapter 03, with the residual dropout of the 2017 paper (§5.4)."""
    from course.experiments.ch03_layernorm import block_diagrams as draw

    return draw(dropout=dropout)
