"""Chapter 05's experiments: why scores are divided by √d_k (and not by d_k), why several heads, and a
hand-built attention layer."""

from __future__ import annotations

import math

import torch
from matplotlib.figure import Figure

from course.experiments import one_thread
from course.language import pick, rjust
from course.plotting import new_figure, show  # noqa: F401  (show: used as ex.show in the notebook)

# the three scales the saturation experiment compares: name -> factor applied to q·k for a head of size d
SCALES = {"no scale": lambda d: 1.0, "1/√d_k": lambda d: 1 / math.sqrt(d), "1/d_k": lambda d: 1 / d}
# the Chinese of the scale names the chapter prints (the others are formulas)
SCALE_NAMES_ZH = {"no scale": "不缩放"}


def scale_name(scale: str, width: int = 0) -> str:
    """A scale's name (a key of SCALES) in the edition's language, right-aligned in ``width`` terminal columns
    (a Chinese character takes two), as f"{scale:>{width}}" does for the English names."""
    return rjust(pick(scale, SCALE_NAMES_ZH.get(scale, scale)), width)


def toy_title() -> str:
    """The title of the view of the hand-built layer (``toy_scores``)."""
    return pick("Hand-built layer", "手工构造的注意力层")


def untrained_title() -> str:
    """The title of the view of the chapter's MultiHeadAttention before training."""
    return pick("Your MultiHeadAttention, untrained", "你的 MultiHeadAttention（未训练）")


def saturation_experiment(d_values: tuple[int, ...] = (4, 16, 64, 256, 1024), n_keys: int = 16,
                          trials: int = 1000, seed: int = 0) -> tuple[Figure, dict]:
    """Softmax over q·k of random unit-variance vectors under three scales: none, 1/√d_k and 1/d_k.

    For each d_k and scale: the mean entropy of the attention row (log n_keys = uniform, 0 = one-hot),
    the median size of ∂weights/∂q (the gradient a query receives through the softmax; the median,
    because a few unsaturated rows would dominate a mean), and the fraction of rows whose softmax is
    saturated (its Jacobian's norm below 0.01).
    """
    g = torch.Generator().manual_seed(seed)
    entropy: dict[str, list[float]] = {s: [] for s in SCALES}
    grad: dict[str, list[float]] = {s: [] for s in SCALES}
    saturated: dict[str, list[float]] = {s: [] for s in SCALES}
    top: dict[str, list[float]] = {s: [] for s in SCALES}
    for d in d_values:
        q = torch.randn(trials, 1, d, generator=g)  # (trials, 1, d_k)
        k = torch.randn(trials, n_keys, d, generator=g)  # (trials, n_keys, d_k)
        dots = (q @ k.transpose(1, 2)).squeeze(1)  # (trials, n_keys)
        for name, scale in SCALES.items():
            c = scale(d)
            p = torch.softmax(dots * c, dim=-1)  # (trials, n_keys)
            jacobian = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]  # ∂p/∂scores: (trials, n, n)
            to_query = jacobian @ (c * k)  # ∂p/∂q = J · c·K: (trials, n_keys, d_k)
            entropy[name].append(float(-(p * torch.log(p.clamp_min(1e-30))).sum(-1).mean()))
            grad[name].append(float(to_query.flatten(1).norm(dim=1).median()))
            saturated[name].append(float((jacobian.flatten(1).norm(dim=1) < 0.01).double().mean()))
            top[name].append(float(p.max(-1).values.mean()))
    fig = new_figure(10.0, 3.6)
    ax1, ax2 = fig.subplots(1, 2)
    for (name, style) in zip(SCALES, ("s--", "o-", "^:")):
        label = f"q·k × {name}" if name != "no scale" else pick("q·k (no scale)", "q·k（不缩放）")
        ax1.plot(d_values, entropy[name], style, label=label)
        ax2.plot(d_values, grad[name], style, label=label)
    ax1.axhline(math.log(n_keys), color="grey", ls=":", lw=1,
                label=pick(f"uniform over {n_keys} keys", f"在 {n_keys} 个键上均匀分布"))
    ax1.set(xscale="log", xlabel="d_k", ylabel=pick("mean entropy of a row (nats)", "每行的平均熵（nats）"),
            title=pick("Sharp or flat?", "尖锐还是平坦？"))
    ax2.set(xscale="log", xlabel="d_k", ylabel=pick("median ||∂weights / ∂q||", "||∂权重 / ∂q|| 的中位数"),
            title=pick("Gradient reaching the query", "传到查询的梯度"))
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig, {"d_values": list(d_values), "n_keys": n_keys, "entropy": entropy, "grad": grad,
                 "saturated": saturated, "top_weight": top}


def two_lookups_batch(g: torch.Generator, batch: int = 64, seq: int = 8, content: int = 8
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs x = [random content ; one-hot position] and targets y = [content of the previous token ;
    content of the first token] (token 0 has no previous token: it repeats its own content).

    Shapes: x (batch, seq, content + seq), y (batch, seq, 2·content); with the defaults both are 16 wide.
    """
    c = torch.randn(batch, seq, content, generator=g)
    x = torch.cat([c, torch.eye(seq).expand(batch, seq, seq)], dim=-1)
    previous = torch.cat([c[:, :1], c[:, :-1]], dim=1)
    first = c[:, :1].expand(batch, seq, content)
    return x, torch.cat([previous, first], dim=-1)


def heads_experiment(mha_class: type, heads: tuple[int, ...] = (1, 2, 4), steps: int = 200, seq: int = 8,
                     content: int = 8, lr: float = 0.03, seed: int = 0) -> tuple[Figure, dict]:
    """Train self-attention layers of the same width (d_model = content + seq) and different head counts on
    the two-lookups task: every output needs two different tokens' values side by side.

    ``mha_class(d_model, n_heads)`` is called like the chapter's MultiHeadAttention (forward(q, k, v)).
    Returns the loss curves and, per head count, the final loss (mean of the last 20 steps), the number of
    parameters, the multiply-adds of the score and weighted-sum products (h · 2 · seq² · d_head) and the number
    of attention weights one sequence stores (h · seq²).
    """
    d_model = content + seq
    curves, result = {}, {"final_loss": {}, "parameters": {}, "score_macs": {}, "weights_stored": {}}
    with one_thread():
        for h in heads:
            torch.manual_seed(seed)
            g = torch.Generator().manual_seed(seed + 1)
            layer = mha_class(d_model, h)
            opt = torch.optim.Adam(layer.parameters(), lr=lr)
            losses = []
            for _ in range(steps):
                x, y = two_lookups_batch(g, seq=seq, content=content)
                loss = ((layer(x, x, x) - y) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(loss.item())
            curves[h] = losses
            result["final_loss"][h] = sum(losses[-20:]) / len(losses[-20:])
            result["parameters"][h] = sum(p.numel() for p in layer.parameters())
            result["score_macs"][h] = h * 2 * seq * seq * (d_model // h)
            result["weights_stored"][h] = h * seq * seq
    fig = new_figure(6.4, 3.6)
    ax = fig.add_subplot()
    for h, losses in curves.items():
        ax.plot(losses, label=pick(f"{h} head{'s' if h > 1 else ''} of size {d_model // h}",
                                   f"{h} 个头，每个头维度 {d_model // h}"))
    ax.set(yscale="log", xlabel=pick("training step", "训练步数"), ylabel=pick("mean squared error", "均方误差"),
           title=pick(f"Two lookups per token, d_model = {d_model}", f"每个词元两次查找，d_model = {d_model}"))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, {"d_model": d_model, "curves": curves, **result}


def word_embeddings(words: list[str], d: int, seed: int = 0) -> torch.Tensor:
    """(1, len(words), d): one random vector per distinct word, the same vector wherever the word occurs."""
    vocab = sorted(set(words))
    table = torch.randn(len(vocab), d, generator=torch.Generator().manual_seed(seed))
    return table[[vocab.index(w) for w in words]][None]


def toy_tokens() -> list[str]:
    return "the cat sat on the mat and the cat slept".split()


def toy_scores(tokens: list[str], strength: float = 8.0) -> torch.Tensor:
    """Scores (1 layer, 3 heads, seq, seq) of a hand-built attention layer, as real Q·Kᵀ products.

    head 0: every token attends to the token before it (queries are the one-hot of position i-1,
            keys the one-hot of position j);
    head 1: every token attends to earlier copies of the same word (queries and keys are one-hot
            word identities; a token with no earlier copy falls back to itself);
    head 2: every token attends to the first token (a constant key on position 0).
    """
    n = len(tokens)
    pos = torch.eye(n)  # (seq, seq): one-hot positions
    vocab = sorted(set(tokens))
    word = torch.eye(len(vocab))[[vocab.index(t) for t in tokens]]  # (seq, vocab)
    q_prev = torch.roll(pos, -1, dims=1) * strength  # query i = one-hot(i - 1)
    q_prev[0] = pos[0] * strength  # the first token attends to itself
    s_prev = q_prev @ pos.T  # (seq, seq)
    earlier = torch.ones(n, n).tril(-1)  # key j < i
    s_same = (word @ word.T) * strength * earlier + torch.eye(n) * strength * 0.5  # itself as a fallback
    s_first = torch.zeros(n, n)
    s_first[:, 0] = strength
    return torch.stack([s_prev, s_same, s_first])[None]  # (layers=1, heads=3, seq, seq)
