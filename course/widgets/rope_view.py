"""The RoPE view: the student's ``apply_rope`` at work, in the browser (anywidget).

Two random vectors q and k (d = 16) are rotated by the ``apply_rope`` handed in from the notebook, at
every position 0 … 328 and for nine bases, once, in Python. The browser then shows one feature pair of
R_m q and R_n k as arrows, and the score ⟨R_m q, R_n k⟩ against n − m, all from those rotated vectors:
what moves is the student's code. Before that, a quick sanity check: if the student's function raises,
returns the wrong shape or disagrees with the course's RoPE, the view uses the course's own and says so
in a visible note.

Like the attention view it leaves a static picture (PNG) in the notebook as an output of its own, and while
nbgrader grades it draws only that picture (:func:`course.widgets.attention_view.show_with_picture`). Its
words are the edition's (``course.language``).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import anywidget
import numpy as np
import torch
import traitlets

from course.experiments.ch06_position_encoding import _rope as course_rope
from course.language import pick
from course.notebook import grading
from course.widgets.attention_view import STATIC, show_with_picture, view_module
from course.widgets.words import in_language

D_HEAD = 16
MAX_POS = 64  # sliders m, n: 0 … 64
MAX_SHIFT = 200
POSITIONS = 2 * MAX_POS + MAX_SHIFT + 1  # the curve reaches 64 + 200 + 64
BASES = [float(10 ** e) for e in np.arange(1.0, 5.01, 0.5)]
TOLERANCE = 1e-6

LABELS: dict[str, str] = {
    "title": "RoPE: your apply_rope turning q and k",
    "m": "query position m",
    "n": "key position n",
    "pair": "feature pair i",
    "base": "base",
    "shift": "shift both",
    "q_pair": "q pair (position 0)",
    "k_pair": "k pair (position 0)",
    "rq": "R_m q",
    "rk": "R_n k",
    "legend_solid": "solid: R_m q (blue, m = {m}), R_n k (orange, n = {n})",
    "legend_dashed": "dashed: q and k at position 0",
    "pair_title": "features {a}, {b}; base {base}",
    "offset": "offset n − m",
    "score": "score ⟨R_m q, R_n k⟩ (all 8 pairs)",
    "angle": "θ_i = {theta} rad per position",
    "status": "m = {m}, n = {n}: score {score}; without the shift ({m0}, {n0}): {score0}; difference {diff}",
    "student": "computed by your apply_rope",
    "fallback": "your apply_rope {why}: the view shows the course's own RoPE instead",
    "course": "computed by the course's RoPE (no apply_rope given)",
    "not_written": "is not written yet (NotImplementedError)",
    "raised": "raised {error}",
    "returned": "returned {shape} for an input of shape {input}",
    "differs": "differs from the course's RoPE by up to {diff} (base {base})",
    "interactive": "interactive in JupyterLab while the kernel runs",
}

LABELS_ZH: dict[str, str] = {
    "title": "RoPE：你的 apply_rope 旋转 q 和 k",
    "m": "查询位置 m",
    "n": "键位置 n",
    "pair": "特征对 i",
    "base": "基数",
    "shift": "两者同时平移",
    "q_pair": "q 的特征对（位置 0）",
    "k_pair": "k 的特征对（位置 0）",
    "legend_solid": "实线：R_m q（蓝，m = {m}），R_n k（橙，n = {n}）",
    "legend_dashed": "虚线：位置 0 处的 q 和 k",
    "pair_title": "特征 {a}、{b}；基数 {base}",
    "offset": "偏移 n − m",
    "score": "分数 ⟨R_m q, R_n k⟩（全部 8 个特征对）",
    "angle": "θ_i = 每个位置 {theta} 弧度",
    "status": "m = {m}，n = {n}：分数 {score}；不平移时（{m0}, {n0}）：{score0}；相差 {diff}",
    "student": "由你的 apply_rope 计算",
    "fallback": "你的 apply_rope {why}：视图改用课程自带的 RoPE",
    "course": "由课程自带的 RoPE 计算（没有传入 apply_rope）",
    "not_written": "还没有写（NotImplementedError）",
    "raised": "抛出了 {error}",
    "returned": "对形状为 {input} 的输入返回了 {shape}",
    "differs": "与课程的 RoPE 最多相差 {diff}（基数 {base}）",
    "interactive": "在 JupyterLab 中运行内核即可交互",
}


def labels() -> dict[str, str]:
    """The view's words in the edition in use."""
    return in_language(LABELS, LABELS_ZH)


def _reference(x: torch.Tensor, positions: torch.Tensor, base: float) -> torch.Tensor:
    return course_rope(x, positions, base)


def sanity_check(apply_rope: Callable | None, L: dict[str, str] | None = None) -> tuple[Callable, str, str]:
    """(the function to use, "student" | "fallback" | "course", a note). The student's must not raise, must
    keep the shape and must agree with the course's RoPE to 1e-6 on a small input, for two bases."""
    L = L or labels()
    if apply_rope is None:
        return _reference, "course", L["course"]

    def fallback(why: str) -> tuple[Callable, str, str]:
        return _reference, "fallback", L["fallback"].format(why=why)

    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 2, 5, 8, dtype=torch.float64, generator=g)
    positions = torch.tensor([0, 1, 5, 17, 300])
    for base in (10000.0, 100.0):
        try:
            out = apply_rope(x.clone(), positions.clone(), base=base)
        except NotImplementedError:
            return fallback(L["not_written"])
        except Exception as err:  # noqa: BLE001 - any failure means: show the reference, say why
            return fallback(L["raised"].format(error=f"{type(err).__name__}: {err}"))
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != tuple(x.shape):
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            return fallback(L["returned"].format(shape=shape, input=tuple(x.shape)))
        want = _reference(x, positions, base)
        diff = float((out.detach().double().cpu() - want).abs().max()) if torch.isfinite(out).all() else float("inf")
        if not diff <= TOLERANCE:
            return fallback(L["differs"].format(diff=f"{diff:.2g}", base=f"{base:g}"))
    return apply_rope, "student", L["student"]


def _table(fn: Callable, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """fn applied for every base: (bases, 2, positions, d) float64."""
    out = torch.stack([fn(x.clone(), positions.clone(), base=b).detach().double().cpu()[0] for b in BASES])
    if tuple(out.shape) != (len(BASES), *x.shape[1:]) or not bool(torch.isfinite(out).all()):
        raise ValueError(f"gave a table of shape {tuple(out.shape)} or non-finite values")
    return out


class _Rotations:
    """q and k rotated at every position for every base, and what is computed from them; the widget and the
    static picture share it."""

    labels: dict[str, str]
    source: str
    note: str
    table: torch.Tensor
    _png: bytes | None

    def _rotate(self, apply_rope: Callable | None, seed: int) -> None:
        self.labels = labels()
        fn, self.source, self.note = sanity_check(apply_rope, self.labels)
        g = torch.Generator().manual_seed(seed)
        self.q = torch.randn(D_HEAD, generator=g, dtype=torch.float64)
        self.k = torch.randn(D_HEAD, generator=g, dtype=torch.float64)
        x = torch.stack([self.q, self.k])[None, :, None, :].expand(1, 2, POSITIONS, D_HEAD).contiguous()
        positions = torch.arange(POSITIONS)
        with torch.no_grad():
            try:
                self.table = _table(fn, x, positions)
            except Exception as err:  # noqa: BLE001 - passed the quick check, fails on the full table
                self.source = "fallback"
                self.note = self.labels["fallback"].format(
                    why=self.labels["raised"].format(error=f"{type(err).__name__}: {err}"))
                self.table = _table(_reference, x, positions)
        self._png = None

    def score(self, m: int, n: int, base_index: int = 8) -> float:
        """⟨R_m q, R_n k⟩ as the view computes it (from the rotated table)."""
        return float(self.table[base_index, 0, m] @ self.table[base_index, 1, n])

    @property
    def png(self) -> bytes:
        if self._png is None:
            self._png = _static_png(self)
        return self._png

    def summary(self) -> str:
        return pick(f"{self.labels['title']} ({self.note})", f"{self.labels['title']}（{self.note}）")

    def picture(self) -> dict[str, str]:
        """The static picture as an output's data: PNG (base64) and a line of text."""
        return {"image/png": base64.b64encode(self.png).decode("ascii"), "text/plain": self.summary()}


class StaticRope(_Rotations):
    """What the view is while nbgrader grades: its static picture only (no widget, no JavaScript, no state)."""

    def __init__(self, apply_rope: Callable | None = None, seed: int = 0):
        self._rotate(apply_rope, seed)

    def _repr_mimebundle_(self, **kwargs: Any):
        return self.picture(), {}


class RopeView(anywidget.AnyWidget, _Rotations):
    """Synced: ``spec`` (sizes, bases, labels, note), ``rotated`` (float64: base × {q, k} × position × d),
    ``pictures`` (the tails of the static pictures shown beside it, hidden where the view draws)."""

    _esm = view_module("rope_view.js")
    _css = (STATIC / "rope_view.css").read_text(encoding="utf-8")
    spec = traitlets.Dict().tag(sync=True)
    rotated = traitlets.Bytes(b"").tag(sync=True)
    pictures = traitlets.List(traitlets.Unicode()).tag(sync=True)
    state = traitlets.Dict({}).tag(sync=True)
    draw_ms = traitlets.Float(-1.0).tag(sync=True)

    def __init__(self, apply_rope: Callable | None = None, seed: int = 0):
        super().__init__()
        self._rotate(apply_rope, seed)
        self.spec = {"d": D_HEAD, "positions": POSITIONS, "max_pos": MAX_POS, "max_shift": MAX_SHIFT,
                     "bases": BASES, "labels": self.labels, "note": self.note, "source": self.source,
                     "thetas": [[b ** (-2 * i / D_HEAD) for i in range(D_HEAD // 2)] for b in BASES]}
        self.rotated = np.ascontiguousarray(self.table.numpy()).astype("<f8").tobytes()

    def payload_bytes(self) -> int:
        import json

        return len(json.dumps(self.spec).encode()) + len(self.rotated) + len(self._esm) + len(self._css)

    def _repr_mimebundle_(self, **kwargs: Any):
        data, metadata = super()._repr_mimebundle_(**kwargs)
        return {**data, "text/plain": f"{self.summary()} ({self.labels['interactive']})"}, metadata

    def _ipython_display_(self) -> None:
        show_with_picture(self)


def _static_png(view: _Rotations, m: int = 2, n: int = 5, pair: int = 0, base_index: int = 6) -> bytes:
    from course.plotting import figure_png, new_figure

    L = view.labels
    t = view.table[base_index]
    fig = new_figure(10.0, 4.2)
    ax, ax2 = fig.subplots(1, 2)
    sl = slice(2 * pair, 2 * pair + 2)
    arrows = [(t[0, 0, sl], "C0", ":", L["q_pair"]), (t[1, 0, sl], "C3", ":", L["k_pair"]),
              (t[0, m, sl], "C0", "-", f"{L['rq']}, m = {m}"),
              (t[1, n, sl], "C3", "-", f"{L['rk']}, n = {n}")]
    lim = 1.15 * max(float(v.norm()) for v, *_ in arrows)
    for vec, color, style, label in arrows:
        ax.annotate("", xy=vec.numpy(), xytext=(0, 0),
                    arrowprops={"arrowstyle": "->", "color": color, "ls": style, "lw": 2 if style == "-" else 1})
        ax.plot([], [], color=color, ls=style, label=label)
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal",
           title=L["pair_title"].format(a=2 * pair, b=2 * pair + 1, base=f"{BASES[base_index]:g}"))
    ax.legend(fontsize=7, loc="lower right")
    a = MAX_POS
    offsets = np.arange(-MAX_POS, MAX_POS + 1)
    ax2.plot(offsets, [view.score(a, a + o, base_index) for o in offsets], color="C2")
    ax2.plot([n - m], [view.score(m, n, base_index)], "o", color="C3", ms=8)
    ax2.set(xlabel=L["offset"], ylabel=L["score"])
    fig.suptitle(f"{L['title']} — {view.note}", fontsize=10)
    fig.tight_layout()
    return figure_png(fig)


def rope_view(apply_rope: Callable | None = None, seed: int = 0) -> RopeView | StaticRope:
    """The RoPE view, computed by ``apply_rope(x, positions, base=...)`` (the student's, from the notebook);
    while nbgrader grades, its static picture alone."""
    if grading():
        return StaticRope(apply_rope, seed)
    return RopeView(apply_rope, seed)
