"""Chapter 05's experiments: why scores are divided by √d_k, and a hand-built attention layer."""

from __future__ import annotations

import math

import torch
from matplotlib.figure import Figure

from course.plotting import new_figure, show  # noqa: F401  (show: used as ex.show in the notebook)


def saturation_experiment(d_values: tuple[int, ...] = (4, 16, 64, 256, 1024), n_keys: int = 16,
                          trials: int = 2000, seed: int = 0) -> tuple[Figure, dict]:
    """Softmax over q·k of random unit-variance vectors, with and without the 1/√d_k scale.

    For each d_k: the mean entropy of the attention row (log n_keys = uniform, 0 = one-hot) and the
    mean size of the softmax's Jacobian (how much a small change of the scores moves the weights).
    """
    g = torch.Generator().manual_seed(seed)
    stats: dict[str, list[float]] = {"entropy_raw": [], "entropy_scaled": [], "grad_raw": [], "grad_scaled": []}
    for d in d_values:
        q = torch.randn(trials, 1, d, generator=g)  # (trials, 1, d_k)
        k = torch.randn(trials, n_keys, d, generator=g)  # (trials, n_keys, d_k)
        scores = (q @ k.transpose(1, 2)).squeeze(1)  # (trials, n_keys)
        for kind, s in (("raw", scores), ("scaled", scores / math.sqrt(d))):
            p = torch.softmax(s, dim=-1)  # (trials, n_keys)
            entropy = -(p * torch.log(p.clamp_min(1e-30))).sum(-1)
            jacobian = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]  # d softmax / d scores
            stats[f"entropy_{kind}"].append(float(entropy.mean()))
            stats[f"grad_{kind}"].append(float(jacobian.flatten(1).norm(dim=1).mean()))
    fig = new_figure(10.0, 3.6)
    ax1, ax2 = fig.subplots(1, 2)
    for kind, style in (("raw", "s--"), ("scaled", "o-")):
        label = "q·k (no scale)" if kind == "raw" else "q·k / √d_k"
        ax1.plot(d_values, stats[f"entropy_{kind}"], style, label=label)
        ax2.plot(d_values, stats[f"grad_{kind}"], style, label=label)
    ax1.axhline(math.log(n_keys), color="grey", ls=":", lw=1, label=f"uniform over {n_keys} keys")
    ax1.set(xscale="log", xlabel="d_k", ylabel="mean entropy of a row (nats)", title="Softmax saturation")
    ax2.set(xscale="log", yscale="log", xlabel="d_k", ylabel="mean ||d softmax / d scores||",
            title="Gradient through the softmax")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig, {"d_values": list(d_values), **stats}


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
