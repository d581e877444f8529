"""The RoPE view: the student's ``apply_rope`` at work, in the browser (anywidget).

Two random vectors q and k (d = 16) are rotated by the ``apply_rope`` handed in from the notebook, at
every position 0 … 328 and for nine bases, once, in Python. The browser then shows one feature pair of
R_m q and R_n k as arrows, and the score ⟨R_m q, R_n k⟩ against n − m, all from those rotated vectors:
what moves is the student's code. Before that, a quick sanity check: if the student's function raises,
returns the wrong shape or disagrees with the course's RoPE, the view uses the course's own and says so
in a visible note.

Like the attention view it carries a static PNG for exported notebooks and draws nothing while
nbgrader grades.
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
from course.notebook import grading
from course.widgets.attention_view import STATIC, NotDrawn

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
    "not_drawn": "(RoPE view: not drawn while grading)",
}


def _reference(x: torch.Tensor, positions: torch.Tensor, base: float) -> torch.Tensor:
    return course_rope(x, positions, base)


def sanity_check(apply_rope: Callable | None) -> tuple[Callable, str, str]:
    """(the function to use, "student" | "fallback" | "course", a note). The student's must not raise, must
    keep the shape and must agree with the course's RoPE to 1e-6 on a small input, for two bases."""
    if apply_rope is None:
        return _reference, "course", LABELS["course"]
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 2, 5, 8, dtype=torch.float64, generator=g)
    positions = torch.tensor([0, 1, 5, 17, 300])
    for base in (10000.0, 100.0):
        try:
            out = apply_rope(x.clone(), positions.clone(), base=base)
        except NotImplementedError:
            return _reference, "fallback", LABELS["fallback"].format(why="is not written yet (NotImplementedError)")
        except Exception as err:  # noqa: BLE001 - any failure means: show the reference, say why
            return _reference, "fallback", LABELS["fallback"].format(why=f"raised {type(err).__name__}: {err}")
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != tuple(x.shape):
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            return _reference, "fallback", LABELS["fallback"].format(
                why=f"returned {shape} for an input of shape {tuple(x.shape)}")
        want = _reference(x, positions, base)
        diff = float((out.detach().double().cpu() - want).abs().max()) if torch.isfinite(out).all() else float("inf")
        if not diff <= TOLERANCE:
            return _reference, "fallback", LABELS["fallback"].format(
                why=f"differs from the course's RoPE by up to {diff:.2g} (base {base:g})")
    return apply_rope, "student", LABELS["student"]


def _table(fn: Callable, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """fn applied for every base: (bases, 2, positions, d) float64."""
    out = torch.stack([fn(x.clone(), positions.clone(), base=b).detach().double().cpu()[0] for b in BASES])
    if tuple(out.shape) != (len(BASES), *x.shape[1:]) or not bool(torch.isfinite(out).all()):
        raise ValueError(f"gave a table of shape {tuple(out.shape)} or non-finite values")
    return out


class RopeView(anywidget.AnyWidget):
    """Synced: ``spec`` (sizes, bases, labels, note), ``rotated`` (float64: base × {q, k} × position × d)."""

    _esm = (STATIC / "rope_view.js").read_text(encoding="utf-8")
    _css = (STATIC / "rope_view.css").read_text(encoding="utf-8")
    spec = traitlets.Dict().tag(sync=True)
    rotated = traitlets.Bytes(b"").tag(sync=True)
    state = traitlets.Dict({}).tag(sync=True)
    draw_ms = traitlets.Float(-1.0).tag(sync=True)

    def __init__(self, apply_rope: Callable | None = None, seed: int = 0):
        super().__init__()
        fn, self.source, self.note = sanity_check(apply_rope)
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
                self.note = LABELS["fallback"].format(why=f"raised {type(err).__name__}: {err}")
                self.table = _table(_reference, x, positions)
        self.spec = {"d": D_HEAD, "positions": POSITIONS, "max_pos": MAX_POS, "max_shift": MAX_SHIFT,
                     "bases": BASES, "labels": LABELS, "note": self.note, "source": self.source,
                     "thetas": [[b ** (-2 * i / D_HEAD) for i in range(D_HEAD // 2)] for b in BASES]}
        self.rotated = np.ascontiguousarray(self.table.numpy()).astype("<f8").tobytes()
        self._png: bytes | None = None

    def score(self, m: int, n: int, base_index: int = 8) -> float:
        """⟨R_m q, R_n k⟩ as the view computes it (from the rotated table)."""
        return float(self.table[base_index, 0, m] @ self.table[base_index, 1, n])

    def payload_bytes(self) -> int:
        import json

        return len(json.dumps(self.spec).encode()) + len(self.rotated) + len(self._esm) + len(self._css)

    @property
    def png(self) -> bytes:
        if self._png is None:
            self._png = _static_png(self)
        return self._png

    def _repr_mimebundle_(self, **kwargs: Any):
        data, metadata = super()._repr_mimebundle_(**kwargs)
        data = dict(data)
        data["image/png"] = base64.b64encode(self.png).decode("ascii")
        data["text/plain"] = f"{LABELS['title']} ({self.note})"
        return data, metadata


def _static_png(view: RopeView, m: int = 2, n: int = 5, pair: int = 0, base_index: int = 6) -> bytes:
    from course.plotting import figure_png, new_figure

    t = view.table[base_index]
    fig = new_figure(10.0, 4.2)
    ax, ax2 = fig.subplots(1, 2)
    sl = slice(2 * pair, 2 * pair + 2)
    arrows = [(t[0, 0, sl], "C0", ":", LABELS["q_pair"]), (t[1, 0, sl], "C3", ":", LABELS["k_pair"]),
              (t[0, m, sl], "C0", "-", f"{LABELS['rq']}, m = {m}"),
              (t[1, n, sl], "C3", "-", f"{LABELS['rk']}, n = {n}")]
    lim = 1.15 * max(float(v.norm()) for v, *_ in arrows)
    for vec, color, style, label in arrows:
        ax.annotate("", xy=vec.numpy(), xytext=(0, 0),
                    arrowprops={"arrowstyle": "->", "color": color, "ls": style, "lw": 2 if style == "-" else 1})
        ax.plot([], [], color=color, ls=style, label=label)
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal",
           title=LABELS["pair_title"].format(a=2 * pair, b=2 * pair + 1, base=f"{BASES[base_index]:g}"))
    ax.legend(fontsize=7, loc="lower right")
    a = MAX_POS
    offsets = np.arange(-MAX_POS, MAX_POS + 1)
    ax2.plot(offsets, [view.score(a, a + o, base_index) for o in offsets], color="C2")
    ax2.plot([n - m], [view.score(m, n, base_index)], "o", color="C3", ms=8)
    ax2.set(xlabel=LABELS["offset"], ylabel=LABELS["score"])
    fig.suptitle(f"{LABELS['title']} — {view.note}", fontsize=10)
    fig.tight_layout()
    return figure_png(fig)


def rope_view(apply_rope: Callable | None = None, seed: int = 0) -> RopeView | NotDrawn:
    """The RoPE view, computed by ``apply_rope(x, positions, base=...)`` (the student's, from the notebook)."""
    if grading():
        return NotDrawn(LABELS["title"], LABELS["not_drawn"])
    return RopeView(apply_rope, seed)
