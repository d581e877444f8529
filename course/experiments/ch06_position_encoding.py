"""Chapter 06's experiments: naive position codes against learned and sinusoidal ones on a task that needs
positions, the sinusoidal dot product with and without projections, what a RoPE score does past its training
range, and the five properties of a good position code checked for five encodings."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn

from course.blocks import RotaryEmbedding, SinusoidalPositions
from course.experiments import one_thread
from course.language import ljust, pick, rjust
from course.plotting import new_figure, show  # noqa: F401  (show: used as ex.show in the notebook)


def frequencies(d: int, base: float = 10000.0) -> torch.Tensor:
    """θ_i = base^(−2i/d) for i = 0 .. ceil(d/2) − 1, float64 (the rates the figures and the rotate-half demo use)."""
    return base ** (-2 * torch.arange((d + 1) // 2, dtype=torch.float64) / d)


def sinusoidal_positions(n: int, d: int) -> torch.Tensor:
    """The course's given table (``course.blocks.SinusoidalPositions``, used by chapter 08), float64."""
    return SinusoidalPositions.build(n, d).double()


def _rope(x: torch.Tensor, positions: torch.Tensor, base: float) -> torch.Tensor:
    """The course's given RoPE (``course.blocks.RotaryEmbedding``) at arbitrary positions, float64."""
    rope = RotaryEmbedding(x.shape[-1], base).double().to(x.device)
    angles = positions.to(x.device).double()[:, None] * rope.theta.double()[None, :]
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
    ax1.set(title="PE(p) · PE(q)", xlabel=pick("position q", "位置 q"), ylabel=pick("position p", "位置 p"))
    ax1.grid(False)
    center = min(max_offset, table.shape[0] // 2)
    ks = torch.arange(-center, table.shape[0] - center)
    row = gram[center, center + ks]
    ax2.plot(ks.numpy(), row.numpy())
    ax2.axvline(0, color="grey", lw=0.8)
    ax2.set(title=f"PE({center}) · PE({center} + k)", xlabel=pick("offset k", "偏移 k"),
            ylabel=pick("dot product", "点积"))
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
    ax.plot(offsets.numpy(), target.numpy(), "k:", lw=1.2, label=pick("target exp(-n/8)", "目标 exp(-n/8)"))
    errors = {}
    for j, base in enumerate(bases):
        torch.manual_seed(seed)
        q = torch.randn(d, dtype=torch.float64, requires_grad=True)
        k = torch.randn(d, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([q, k], lr=0.05)
        with one_thread():
            for _ in range(steps):
                loss = ((rope_score(q, k, offsets[:train_offsets], base) - target[:train_offsets]) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
        with torch.no_grad():
            score = rope_score(q, k, offsets, base)
        errors[base] = {"train_rmse": float(((score - target)[:train_offsets] ** 2).mean().sqrt()),
                        "beyond_rmse": float(((score - target)[train_offsets:] ** 2).mean().sqrt())}
        ax.plot(offsets.numpy(), score.numpy(), color=f"C{j}", label=pick(f"fitted RoPE score, base {base:g}",
                                                                        f"拟合的 RoPE 分数，基数 {base:g}"))
    ax.axvspan(0, train_offsets - 1, color="grey", alpha=0.12, label=pick("offsets seen in the fit",
                                                                          "拟合时见过的偏移"))
    ax.set(xlabel=pick("offset n - m", "偏移 n - m"), ylabel=pick("score <R_m q, R_n k>", "分数 <R_m q, R_n k>"),
           title=pick(f"Fit on offsets < {train_offsets}, read beyond", f"在偏移 < {train_offsets} 上拟合，读出更远处"))
    ax.legend(fontsize=8)
    return fig, {"errors": errors, "lowest_frequency": {b: float(frequencies(d, b)[-1]) for b in bases}}


def rotate_half_rope(x: torch.Tensor, positions: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """RoPE in the "rotate half" convention: feature i is paired with feature i + d/2."""
    d = x.shape[-1]
    angles = positions.to(x.device).double()[:, None] * frequencies(d, base).to(x.device)[None, :]  # (seq, d/2)
    cos, sin = torch.cos(angles).to(x.dtype), torch.sin(angles).to(x.dtype)
    first, second = x[..., : d // 2], x[..., d // 2:]
    return torch.cat([first * cos - second * sin, second * cos + first * sin], dim=-1)


def half_to_interleaved(d: int) -> torch.Tensor:
    """Feature order (0, d/2, 1, d/2 + 1, ...): makes the rotate-half pairs neighbours."""
    return torch.stack([torch.arange(d // 2), torch.arange(d // 2) + d // 2], dim=1).flatten()


__all__ = ["rotate_half_rope", "half_to_interleaved", "dot_product_figure", "extrapolation_experiment",
           "sinusoidal_positions", "frequencies", "rope_score", "show", "CODES", "position_code",
           "previous_token_experiment", "projected_scores_figure", "five_properties", "properties_figure",
           "PROPERTIES", "ENCODINGS", "name", "yes_no", "beyond_text"]


# ------------------------------------------------------------------ naive, learned and sinusoidal codes

CODES = ("none", "raw integer", "normalised", "learned", "sinusoidal")
# The Chinese of the names that figures show as tick labels and the chapter prints (position codes, their
# properties, the two scores of the projection figure)
NAMES_ZH = {"none": "无", "raw integer": "原始整数", "normalised": "归一化", "learned": "可学习",
            "sinusoidal": "正弦", "RoPE": "RoPE", "unique": "唯一", "bounded": "有界", "deterministic": "确定",
            "any length": "任意长度", "relative": "相对", "plain": "不投影", "projected": "投影后"}


def name(key: str, width: int = 0) -> str:
    """A position code's, property's or score's name (a key of the results) in the edition's language,
    right-aligned in ``width`` columns (as f"{key:>{width}}" does for the English names)."""
    return rjust(pick(key, NAMES_ZH.get(key, key)), width)


def _names(names) -> list[str]:
    return [name(n) for n in names]


def yes_no(holds: bool, width: int = 0) -> str:
    """Whether a property holds, as a word of the edition's language, left-aligned in ``width`` columns."""
    return ljust(pick("yes", "是") if holds else pick("no", "否"), width)


def beyond_text(accuracy: float | None) -> str:
    """An accuracy past the trained length, or what a code without rows there has instead."""
    return pick("no row in the table", "表中没有这一行") if accuracy is None else f"{accuracy:.2f}"


def position_code(kind: str, n: int, d: int) -> torch.Tensor:
    """The (n, d) vectors added to the token embeddings of a length-n sequence (not for "learned": a parameter).

    "raw integer": p in every feature; "normalised": p / (n − 1) in every feature (so it depends on n);
    "sinusoidal": the 2017 table; "none": zeros.
    """
    p = torch.arange(n, dtype=torch.float32)[:, None]
    if kind == "none":
        return torch.zeros(n, d)
    if kind == "raw integer":
        return p.expand(n, d).clone()
    if kind == "normalised":
        return (p / max(n - 1, 1)).expand(n, d).clone()
    if kind == "sinusoidal":
        return SinusoidalPositions.build(n, d)
    raise ValueError(f"no fixed code called {kind!r}; choose from {CODES[:3] + CODES[4:]}")


class _OneLayerEach(nn.Module):
    """One small model per position code, trained side by side (stacked along a leading "model" dim; Adam is
    elementwise and the losses add, so each model trains exactly as if alone). Each model: token embedding +
    position code, one single-head self-attention layer, a linear read-out."""

    def __init__(self, kinds: tuple[str, ...], vocab: int, d: int, max_len: int):
        super().__init__()
        self.kinds, self.d, m = kinds, d, len(kinds)
        bound = 1 / math.sqrt(d)  # nn.Linear's initialisation
        self.embed = nn.Parameter(torch.randn(m, vocab, d))
        self.w = nn.Parameter(torch.empty(m, 3, d, d).uniform_(-bound, bound))  # W_q, W_k, W_v
        self.b = nn.Parameter(torch.empty(m, 3, d).uniform_(-bound, bound))
        self.w_out = nn.Parameter(torch.empty(m, d, vocab).uniform_(-bound, bound))
        self.b_out = nn.Parameter(torch.empty(m, vocab).uniform_(-bound, bound))
        # the learned code: one trained vector per position 0 .. max_len − 1, nothing beyond
        self.table = nn.Parameter(0.5 * torch.randn(max_len, d))

    def codes(self, n: int) -> torch.Tensor:
        rows = []
        for kind in self.kinds:
            if kind != "learned":
                rows.append(position_code(kind, n, self.d))
            elif n > self.table.shape[0]:
                rows.append(torch.full((n, self.d), float("nan")))  # no row: poisons only this model's output
            else:
                rows.append(self.table[:n])
        return torch.stack(rows)  # (models, n, d)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (batch, n) → logits (models, batch, n, vocab)."""
        n = tokens.shape[1]
        x = self.embed[:, tokens] + self.codes(n)[:, None]  # (models, batch, n, d)
        q, k, v = (torch.einsum("mbnd,mde->mbne", x, self.w[:, i]) + self.b[:, i, None, None] for i in range(3))
        w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(self.d), dim=-1)  # (models, batch, n, n)
        return torch.einsum("mbnd,mdv->mbnv", w @ v, self.w_out) + self.b_out[:, None, None]


def previous_token_experiment(kinds: tuple[str, ...] = CODES, n: int = 12, d: int = 32, vocab: int = 16,
                              steps: int = 150, seed: int = 0, batch: int = 64, lr: float = 6e-3
                              ) -> tuple[Figure, dict]:
    """Train one attention layer per position code to output, at every position i >= 1, the token at i − 1.

    Returns a bar chart and {"accuracy": {kind: accuracy on positions 1..n−1 of length-n sequences},
    "beyond": {kind: accuracy on positions n..2n−1 of length-2n sequences, or None where the code has no row}}.
    Chance is 1/vocab.
    """
    with one_thread():
        torch.manual_seed(seed)
        g = torch.Generator().manual_seed(seed + 1)
        model = _OneLayerEach(tuple(kinds), vocab, d, n)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        for _ in range(steps):
            tokens = torch.randint(0, vocab, (batch, n), generator=g)
            logits = model(tokens)[:, :, 1:]  # predict token i − 1 at position i
            target = tokens[:, :-1].expand(len(kinds), -1, -1)
            loss = F.cross_entropy(logits.reshape(-1, vocab), target.reshape(-1)) * len(kinds)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            tokens = torch.randint(0, vocab, (256, n), generator=g)
            hits = model(tokens)[:, :, 1:].argmax(-1) == tokens[:, :-1]  # (models, batch, n − 1)
            long = torch.randint(0, vocab, (256, 2 * n), generator=g)
            far = model(long)[:, :, n:].argmax(-1) == long[:, n - 1:-1]
    accuracy = {kind: float(hits[i].double().mean()) for i, kind in enumerate(kinds)}
    beyond = {kind: None if kind == "learned" else float(far[i].double().mean()) for i, kind in enumerate(kinds)}
    fig = new_figure(8.0, 3.6)
    ax = fig.add_subplot()
    x = torch.arange(len(kinds)).numpy()
    ax.bar(x - 0.2, [accuracy[k] for k in kinds], width=0.4,
           label=pick(f"positions 1-{n - 1} (trained length {n})", f"位置 1-{n - 1}（训练长度 {n}）"))
    ax.bar(x + 0.2, [beyond[k] or 0.0 for k in kinds], width=0.4,
           label=pick(f"positions {n}-{2 * n - 1} (length {2 * n})", f"位置 {n}-{2 * n - 1}（长度 {2 * n}）"))
    for i, k in enumerate(kinds):
        if beyond[k] is None:
            ax.text(i + 0.2, 0.02, pick("no row", "没有这一行"), ha="center", fontsize=8, rotation=90)
    ax.axhline(1 / vocab, color="grey", ls=":", lw=1, label=pick("chance", "随机猜测"))
    ax.set_xticks(x, _names(kinds))
    ax.set(ylabel=pick("accuracy: copy the previous token", "准确率：复制前一个词元"), ylim=(0, 1.05),
           title=pick("Which position code lets attention look back?", "哪种位置编码能让注意力往回看？"))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, {"accuracy": accuracy, "beyond": beyond, "chance": 1 / vocab}


def projected_scores_figure(d: int = 64, center: int = 100, max_offset: int = 50, seed: int = 0
                            ) -> tuple[Figure, dict]:
    """PE(p)·PE(p + k) against PE(p)ᵀ W_qᵀ W_k PE(p + k) with random projections (nn.Linear's initialisation).

    Returns the figure and: the largest |s(k) − s(−k)| of each (direction), and the spread over p of the
    score at one offset (k = 5, p = 0..2·center): 0 for a score that depends only on the offset.
    """
    torch.manual_seed(seed)
    w_q, w_k = nn.Linear(d, d, bias=False).double(), nn.Linear(d, d, bias=False).double()
    table = sinusoidal_positions(2 * center + max_offset + 1, d)  # (n, d)
    with torch.no_grad():
        q, k = w_q(table), w_k(table)
    ks = torch.arange(-max_offset, max_offset + 1)
    plain = (table[center] * table[center + ks]).sum(-1)
    projected = (q[center] * k[center + ks]).sum(-1)
    p = torch.arange(0, 2 * center + 1)
    spread = {"plain": float(((table[p] * table[p + 5]).sum(-1)).std()),
              "projected": float(((q[p] * k[p + 5]).sum(-1)).std())}
    asym = {"plain": float((plain - plain.flip(0)).abs().max()),
            "projected": float((projected - projected.flip(0)).abs().max())}
    fig = new_figure(10.0, 3.4)
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(ks.numpy(), plain.numpy())
    ax1.set(title=f"PE({center}) · PE({center} + k)", xlabel=pick("offset k", "偏移 k"), ylabel=pick("score", "分数"))
    ax2.plot(ks.numpy(), projected.numpy(), color="C1")
    ax2.set(title=pick(f"PE({center})ᵀ W_qᵀ W_k PE({center} + k), random W",
                       f"PE({center})ᵀ W_qᵀ W_k PE({center} + k)，随机 W"),
            xlabel=pick("offset k", "偏移 k"))
    for ax in (ax1, ax2):
        ax.axvline(0, color="grey", lw=0.8)
    fig.tight_layout()
    return fig, {"asymmetry": asym, "spread_over_p": spread}


# ------------------------------------------------------------------------------ the five properties

ENCODINGS = ("raw integer", "normalised", "learned", "sinusoidal", "RoPE")
PROPERTIES = ("unique", "bounded", "deterministic", "any length", "relative")


def _codes(kind: str, n: int, d: int, seed: int = 0, trained_len: int | None = None) -> torch.Tensor | None:
    """The (n, d) code of positions 0..n−1 (float64); None where the encoding has no code that far.

    RoPE adds nothing to the embeddings: its "code" of position p is R_p applied to one fixed unit vector
    (pairs (1, 0)/√(d/2)), the rotation every query and key at p goes through. "learned" is a random table of
    trained_len rows, as it is before training (training changes its values, not its shape).
    """
    if kind in ("raw integer", "normalised"):
        return position_code(kind, n, d).double()
    if kind == "sinusoidal":
        return sinusoidal_positions(n, d)
    if kind == "learned":
        rows = trained_len or n
        if n > rows:
            return None
        return 0.5 * torch.randn(rows, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)[:n]
    if kind == "RoPE":
        unit = torch.zeros(d, dtype=torch.float64)
        unit[0::2] = 1 / math.sqrt(d // 2)
        return _rope(unit.expand(n, d), torch.arange(n), 10000.0)
    raise ValueError(kind)


def five_properties(n: int = 64, long: int = 256, d: int = 16) -> dict:
    """For each encoding of ENCODINGS and each property of PROPERTIES: (holds, what was measured).

    unique: the smallest distance between the codes of two different positions < n;
    bounded: the largest code norm for n and for `long` positions (bounded if it does not grow with the length);
    deterministic: the same code from two seeds;
    any length: a code for position `long` − 1, and positions < n keep their codes when the sequence grows;
    relative: one fixed matrix M with code(p + 1) = M code(p) for every p (a least-squares fit; its largest miss
    in units of the mean distance between neighbouring codes).
    """
    out: dict[str, dict[str, tuple[bool, str]]] = {p: {} for p in PROPERTIES}
    for kind in ENCODINGS:
        short = _codes(kind, n, d, trained_len=n)
        dist = torch.cdist(short, short) + torch.eye(n, dtype=torch.float64) * 1e9
        closest = float(dist.min())
        out["unique"][kind] = (closest > 1e-9, pick(f"closest two positions {closest:.3g} apart",
                                                    f"最近的两个位置相距 {closest:.3g}"))
        grown = _codes(kind, long, d, trained_len=n)
        top = float(short.norm(dim=1).max())
        if grown is None:
            out["bounded"][kind] = (True, pick(f"largest norm {top:.3g} (only {n} rows exist)",
                                               f"最大范数 {top:.3g}，只有 {n} 行"))
        else:
            top_long = float(grown.norm(dim=1).max())
            out["bounded"][kind] = (top_long <= 2 * top, pick(f"largest norm {top:.3g} for {n} positions, "
                                                              f"{top_long:.3g} for {long}",
                                                              f"最大范数：{n} 个位置时为 {top:.3g}，"
                                                              f"{long} 个位置时为 {top_long:.3g}"))
        other = _codes(kind, n, d, seed=1, trained_len=n)
        same = bool(torch.equal(short, other))
        apart = float((short - other).abs().max())
        out["deterministic"][kind] = (same, pick("same code from two seeds", "两个种子给出相同的编码") if same else
                                      pick(f"two seeds differ by up to {apart:.2g}",
                                           f"两个种子给出的编码最多相差 {apart:.2g}"))
        if grown is None:
            out["any length"][kind] = (False, pick(f"no code for positions >= {n}", f"位置 >= {n} 没有编码"))
        else:
            moved = float((grown[:n] - short).abs().max())
            out["any length"][kind] = (moved < 1e-12, pick(f"codes of positions < {n} move by {moved:.3g} when the "
                                                           f"sequence grows to {long}",
                                                           f"序列增长到 {long} 时，位置 < {n} 的编码移动了 "
                                                           f"{moved:.3g}"))
        before, after = short[:-1], short[1:]  # code(p) and code(p + 1), p = 0 .. n − 2
        # before @ m ≈ after. The slow frequencies' codes are nearly collinear (singular values down to 1e-18 of the
        # largest for RoPE), so the fit is SVD-based and drops directions below 1e-8: the same rank on every machine
        # (LAPACK's default, gelsy, estimates it and once missed RoPE's exact map by more than 1e-4 of a step)
        m = torch.linalg.lstsq(before, after, rcond=1e-8, driver="gelsd").solution
        step = float((after - before).norm(dim=1).mean())  # how far one position moves the code
        miss = float((before @ m - after).norm(dim=1).max()) / step
        out["relative"][kind] = (miss < 1e-4, pick(f"the best fixed linear map misses code(p + 1) by {miss:.2g} "
                                                   "of a step", f"最佳的固定线性映射与 code(p + 1) 最多相差 "
                                                                f"{miss:.2g} 步"))
    return out


def properties_figure(props: dict) -> Figure:
    """A grid: rows = properties, columns = encodings, green where the property holds."""
    fig = new_figure(7.0, 3.2)
    ax = fig.add_subplot()
    grid = torch.tensor([[1.0 if props[p][e][0] else 0.0 for e in ENCODINGS] for p in PROPERTIES])
    ax.imshow(grid.numpy(), cmap="RdYlGn", vmin=-0.3, vmax=1.3, aspect="auto")
    for i, p in enumerate(PROPERTIES):
        for j, e in enumerate(ENCODINGS):
            ax.text(j, i, yes_no(props[p][e][0]), ha="center", va="center", fontsize=9)
    ax.set_xticks(range(len(ENCODINGS)), _names(ENCODINGS))
    ax.set_yticks(range(len(PROPERTIES)), _names(PROPERTIES))
    ax.grid(False)
    ax.set_title(pick("Five properties of a position code", "位置编码的五个性质"))
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------ relative position biases

def shaw_index(offsets: torch.Tensor, clip: int) -> torch.Tensor:
    """Shaw et al. (2018, §3.2): the relative position j − i clipped to [−clip, clip], as a row index 0 .. 2·clip
    into a table of 2·clip + 1 learned vectors."""
    return offsets.clamp(-clip, clip) + clip


def t5_bucket(offsets: torch.Tensor, n_buckets: int = 32, max_distance: int = 128) -> torch.Tensor:
    """T5's relative position buckets (Raffel et al. 2020, §2.1), bidirectional: half the buckets for keys after
    the query, half for keys before it; in each half, the first half of the buckets hold one offset each, the
    others widen logarithmically up to ``max_distance``, and every farther offset shares the last bucket."""
    half = n_buckets // 2
    exact = half // 2
    n = offsets.abs()
    grown = exact + (torch.log(n.double().clamp(min=1) / exact) / math.log(max_distance / exact)
                     * (half - exact)).long()
    return (offsets > 0).long() * half + torch.where(n < exact, n, grown.clamp(max=half - 1))


def alibi_slopes(n_heads: int) -> torch.Tensor:
    """ALiBi's head slopes (Press et al. 2022, §3): the geometric sequence 2^(−8/n), 2^(−16/n), …, 2^(−8)."""
    return 2.0 ** (-8.0 * torch.arange(1, n_heads + 1, dtype=torch.float64) / n_heads)


def alibi_bias(n: int, n_heads: int) -> torch.Tensor:
    """(n_heads, n, n): the bias −m_h · (i − j) ALiBi adds to the causal score of query i and key j ≤ i."""
    i = torch.arange(n)
    distance = (i[:, None] - i[None, :]).clamp(min=0).double()  # keys after the query are masked anyway
    return -alibi_slopes(n_heads)[:, None, None] * distance


def relative_bias_demo() -> dict:
    """What the three relative schemes make of a few offsets: which learned entry each offset uses (Shaw, T5) and
    the fixed bias (ALiBi), and how many distinct entries offsets 0 .. 1000 need."""
    offsets = torch.tensor([0, 1, 2, 3, 4, 5, 8, 16, 32, 64, 127, 128, 500, 1000])
    far = torch.arange(0, 1001)
    slopes = alibi_slopes(8)
    return {"offsets": offsets.tolist(),
            "shaw": shaw_index(offsets, 4).tolist(),
            "t5": t5_bucket(offsets).tolist(),
            "alibi_first_head": (-slopes[0] * offsets.double()).tolist(),
            "slopes": slopes.tolist(),
            "distinct": {pick("Shaw, clip 4", "Shaw，截断 4"): int(shaw_index(far, 4).unique().numel()),
                         pick("T5, 32 buckets", "T5，32 个桶"): int(t5_bucket(far).unique().numel()),
                         pick("ALiBi, head 1", "ALiBi，第 1 个头"): int((slopes[0] * far.double()).unique().numel())}}
