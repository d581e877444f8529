"""Chapter 06's experiments: the sinusoidal dot product, and what a RoPE score does past its training range."""

from __future__ import annotations

import torch
from matplotlib.figure import Figure

from course.blocks import RotaryEmbedding, SinusoidalPositions
from course.plotting import new_figure, show  # noqa: F401  (show: used as ex.show in the notebook)


def frequencies(d: int, base: float = 10000.0) -> torch.Tensor:
    """θ_i = base^(−2i/d) for i = 0 .. ceil(d/2) − 1, float64 (the rates the figures and the rotate-half demo use)."""
    return base ** (-2 * torch.arange((d + 1) // 2, dtype=torch.float64) / d)


def sinusoidal_positions(n: int, d: int) -> torch.Tensor:
    """The course's given table (``course.blocks.SinusoidalPositions``, used by chapter 08), float64."""
    return SinusoidalPositions.build(n, d).double()


def _rope(x: torch.Tensor, positions: torch.Tensor, base: float) -> torch.Tensor:
    """The course's given RoPE (``course.blocks.RotaryEmbedding``) at arbitrary positions, float64."""
    rope = RotaryEmbedding(x.shape[-1], base).double()
    angles = positions.double()[:, None] * rope.theta.double()[None, :]
    cos, sin = angles.cos(), angles.sin()
    pairs = x.double().unflatten(-1, (-1, 2))
    even, odd = pairs[..., 0], pairs[..., 1]
    return torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1).flatten(-2)


def dot_product_figure(table: torch.Tensor, max_offset: int = 200) -> tuple[Figure, dict]:
    """Left: PE(p)·PE(q) for all pairs. Right: PE(50)·PE(50 + k) against k (both signs)."""
    table = table.double()
    gram = table @ table.T  # (n, n)
    fig = new_figure(10.0, 3.8)
    ax1, ax2 = fig.subplots(1, 2)
    im = ax1.imshow(gram.numpy(), cmap="viridis")
    fig.colorbar(im, ax=ax1, fraction=0.046)
    ax1.set(title="PE(p) · PE(q)", xlabel="position q", ylabel="position p")
    ax1.grid(False)
    center = min(max_offset, table.shape[0] // 2)
    ks = torch.arange(-center, table.shape[0] - center)
    row = gram[center, center + ks]
    ax2.plot(ks.numpy(), row.numpy())
    ax2.axvline(0, color="grey", lw=0.8)
    ax2.set(title=f"PE({center}) · PE({center} + k)", xlabel="offset k", ylabel="dot product")
    fig.tight_layout()
    both = ks[(ks > 0) & (ks <= center)]  # offsets available on both sides
    symmetric = float((gram[center, center + both] - gram[center, center - both]).abs().max())
    rises = int((row[1:] > row[:-1])[ks[1:] > 0].sum())
    return fig, {"max_asymmetry": symmetric, "rising_steps_after_zero": rises}


def rope_score(q: torch.Tensor, k: torch.Tensor, offsets: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """<R_0 q, R_n k> for each offset n, for q and k of shape (d,)."""
    rq = _rope(q[None], torch.zeros(1), base)[0]  # (d,)
    rk = _rope(k.expand(len(offsets), -1), offsets.double(), base)  # (n, d)
    return rk @ rq


def extrapolation_experiment(d: int = 16, train_offsets: int = 32, show_offsets: int = 256,
                             steps: int = 400, seed: int = 0, bases: tuple[float, ...] = (10000.0, 100.0)
                             ) -> tuple[Figure, dict]:
    """Fit q and k so that the RoPE score matches exp(−n/8) on offsets 0..train_offsets−1, then look further."""
    offsets = torch.arange(show_offsets)
    target = torch.exp(-offsets.double() / 8)
    fig = new_figure(8.0, 3.8)
    ax = fig.add_subplot()
    ax.plot(offsets.numpy(), target.numpy(), "k:", lw=1.2, label="target exp(-n/8)")
    errors = {}
    for j, base in enumerate(bases):
        torch.manual_seed(seed)
        q = torch.randn(d, dtype=torch.float64, requires_grad=True)
        k = torch.randn(d, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([q, k], lr=0.05)
        for _ in range(steps):
            loss = ((rope_score(q, k, offsets[:train_offsets], base) - target[:train_offsets]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            score = rope_score(q, k, offsets, base)
        errors[base] = {"train_rmse": float(((score - target)[:train_offsets] ** 2).mean().sqrt()),
                        "beyond_rmse": float(((score - target)[train_offsets:] ** 2).mean().sqrt())}
        ax.plot(offsets.numpy(), score.numpy(), color=f"C{j}", label=f"fitted RoPE score, base {base:g}")
    ax.axvspan(0, train_offsets - 1, color="grey", alpha=0.12, label="offsets seen in the fit")
    ax.set(xlabel="offset n - m", ylabel="score <R_m q, R_n k>", title=f"Fit on offsets < {train_offsets}, read beyond")
    ax.legend(fontsize=8)
    return fig, {"errors": errors, "lowest_frequency": {b: float(frequencies(d, b)[-1]) for b in bases}}


def rotate_half_rope(x: torch.Tensor, positions: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """RoPE in the "rotate half" convention: feature i is paired with feature i + d/2."""
    d = x.shape[-1]
    angles = positions.double()[:, None] * frequencies(d, base)[None, :]  # (seq, d/2)
    cos, sin = torch.cos(angles).to(x.dtype), torch.sin(angles).to(x.dtype)
    first, second = x[..., : d // 2], x[..., d // 2:]
    return torch.cat([first * cos - second * sin, second * cos + first * sin], dim=-1)


def half_to_interleaved(d: int) -> torch.Tensor:
    """Feature order (0, d/2, 1, d/2 + 1, ...): makes the rotate-half pairs neighbours."""
    return torch.stack([torch.arange(d // 2), torch.arange(d // 2) + d // 2], dim=1).flatten()


__all__ = ["rotate_half_rope", "half_to_interleaved", "dot_product_figure", "extrapolation_experiment", "sinusoidal_positions", "frequencies", "rope_score", "show"]
