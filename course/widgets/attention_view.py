"""The attention view: every layer and head of a model at once, in the browser (anywidget).

A grid of small maps (one per layer × head, grouped into blocks: encoder self-attention, decoder
self-attention, cross-attention …); click one to open it large. Hover a token to see, in every head,
what it attends to (its row) and what attends to it (its column); click to lock that. When the
queries and keys are known (a traced module), the large map also takes apart one score: q, k, their
product, the 1/√d_k scale and the softmax. Masks are drawn as they are (hatched cells); the entropy of
a row is measured over the keys that row may see.

The JavaScript and CSS ship in ``course/widgets/static`` (no CDN, no build step). What travels to the
front end: for each block the log-weights (float32), the allowed-key mask (uint8) and, if known, q and
k (float32), as binary buffers. Temperature, the causal and padding toggles and the entropies are
computed in the browser from them; :meth:`AttentionView.weights` computes the same in Python (tests).

Three ways to build one, one call each:

* :func:`attention_view` — from scores, softmaxed weights or a ``scores_fn`` (adds a sentence box);
* :func:`attention_of` — run the student's modules and record every attention layer that runs
  (chapter 05's ``MultiHeadAttention`` with ``q_proj``/``k_proj``/``last_weights``, the course's
  ``course.attention`` and ``course.blocks`` versions);
* :func:`model_attention` — a trained encoder–decoder of chapter 08 on one input.

Every view also leaves a static picture (PNG) in the notebook, as an output of its own just before the
widget's, so that a notebook exported to HTML, nbgrader's feedback and GitHub's preview show the figure; in
JupyterLab the view hides that picture where it draws itself. While nbgrader grades
(``course.notebook.grading()``) only the picture is drawn: no widget, no JavaScript, no state.

The words (labels, titles) are the edition's (``course.language``), chosen when the view is built.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import torch
import traitlets
from torch import nn

from course.language import pick
from course.notebook import grading
from course.widgets.words import in_language

STATIC = Path(__file__).resolve().parent / "static"


def view_module(name: str) -> str:
    """A view's ES module: what the views share (``static/view_common.js``), then its own ``static/<name>``."""
    return "".join((STATIC / n).read_text(encoding="utf-8") for n in ("view_common.js", name))
PAD = "<pad>"
ScoresFn = Callable[[list[str]], torch.Tensor]

# Every string a view shows (the browser's and the static picture's), English and Chinese.
LABELS: dict[str, str] = {
    "title": "Attention",
    "layer": "layer",
    "head": "head",
    "query": "query",
    "key": "key",
    "rows": "rows",
    "columns": "columns",
    "queries": "queries (attending)",
    "keys": "keys (attended to)",
    "temperature": "temperature",
    "causal": "causal mask (self-attention)",
    "padding": "mask <pad> keys",
    "sentence": "sentence",
    "entropy": "entropy of each row (nats); tick = log of the keys it may see",
    "grid_help": "Tab to a map, arrows move between maps, Enter opens it. "
                 "In the large map arrows move the (query, key) cell; hover or click a token to follow it.",
    "tokens_help": "hover a token: its row (what it attends to) and column (what attends to it) in every head; "
                   "click to lock",
    "masked": "hatched: masked (may not attend)",
    "no_key": "no key allowed",
    "breakdown": "one score taken apart",
    "breakdown_missing": "the q·k breakdown needs the queries and keys (trace a module with attention_of)",
    "product": "q ⊙ k",
    "sum": "q · k",
    "scale": "÷ √d_k",
    "softmax": "softmax over the keys this query may see",
    "weight": "weight",
    "entropy_short": "entropy",
    "nats": "nats",
    "source": "source",
    "target": "target",
    "encoder": "encoder",
    "decoder": "decoder",
    "locked": "locked",
    "unlock": "click again to unlock",
    "mask_none": "no mask",
    "mask_causal": "causal mask",
    "mask_padding": "padding mask",
    "mask_causal_padding": "causal + padding mask",
    "mask_custom": "mask",
    "self": "self-attention",
    "cross": "cross-attention",
    "static_note": "static picture of the interactive view (layer × head)",
    "no_words": "type at least one word",
    "block": "{side} {kind}",
    "layers_heads": "{layers} layers × {heads} heads",
    "interactive": "interactive in JupyterLab while the kernel runs",
}

LABELS_ZH: dict[str, str] = {
    "title": "注意力",
    "layer": "层",
    "head": "头",
    "query": "查询",
    "key": "键",
    "rows": "行",
    "columns": "列",
    "queries": "查询（发出注意力的一方）",
    "keys": "键（被关注的一方）",
    "temperature": "温度",
    "causal": "因果掩码（自注意力）",
    "padding": "遮住 <pad> 键",
    "sentence": "句子",
    "entropy": "每一行的熵（奈特）；刻度线 = 该行可见键数的对数",
    "grid_help": "按 Tab 选中一张小图，方向键在小图之间移动，回车键将其放大。"
                 "在大图中方向键移动（查询，键）单元格；把鼠标移到一个词元上或点击它，即可跟踪它。",
    "tokens_help": "鼠标移到一个词元上：每个头中它的行（它关注谁）和列（谁关注它）；点击锁定",
    "masked": "斜线：被掩码遮住（不可关注）",
    "no_key": "没有可关注的键",
    "breakdown": "拆开一个分数",
    "breakdown_missing": "拆开 q·k 需要查询和键（用 attention_of 追踪一个模块）",
    "softmax": "在这个查询可见的键上做 softmax",
    "weight": "权重",
    "entropy_short": "熵",
    "nats": "奈特",
    "source": "源序列",
    "target": "目标序列",
    "encoder": "编码器",
    "decoder": "解码器",
    "locked": "已锁定",
    "unlock": "再次点击解锁",
    "mask_none": "无掩码",
    "mask_causal": "因果掩码",
    "mask_padding": "填充掩码",
    "mask_causal_padding": "因果 + 填充掩码",
    "mask_custom": "掩码",
    "self": "自注意力",
    "cross": "交叉注意力",
    "static_note": "交互视图的静态图（层 × 头）",
    "no_words": "请至少输入一个词",
    "block": "{side}{kind}",
    "layers_heads": "{layers} 层 × {heads} 个头",
    "interactive": "在 JupyterLab 中运行内核即可交互",
}


def labels() -> dict[str, str]:
    """The views' words in the edition in use."""
    return in_language(LABELS, LABELS_ZH)


# ------------------------------------------------------------------------------------- the maths

def as_4d(t: torch.Tensor, name: str) -> torch.Tensor:
    """(q, k) / (heads, q, k) / (layers, heads, q, k) -> (layers, heads, q, k), float64 on the CPU."""
    if not isinstance(t, torch.Tensor) or t.dim() not in (2, 3, 4):
        raise ValueError(f"{name} must be a tensor of shape (q, k), (heads, q, k) or (layers, heads, q, k)")
    while t.dim() < 4:
        t = t[None]
    return t.detach().to("cpu", torch.float64)


def causal_allowed(q_len: int, k_len: int) -> torch.Tensor:
    """Lower-right aligned causal mask (q_len, k_len), True = may attend (the last query sees every key)."""
    return torch.ones(q_len, k_len, dtype=torch.bool).tril(k_len - q_len)


def attention_weights(logits: torch.Tensor, temperature: float = 1.0, causal: bool = False,
                      key_allowed: torch.Tensor | None = None, allowed: torch.Tensor | None = None) -> torch.Tensor:
    """softmax(logits / temperature) over the keys a query may see; a row that may see none is zeros.

    logits (…, q, k); causal: add the lower-right causal mask; key_allowed (k,): keys any query may see;
    allowed (q, k): a mask of its own (True = may attend). The browser computes exactly this.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    q_len, k_len = logits.shape[-2:]
    ok = torch.ones(q_len, k_len, dtype=torch.bool) if allowed is None else allowed.clone()
    if causal:
        ok &= causal_allowed(q_len, k_len)
    if key_allowed is not None:
        ok &= key_allowed[None, :]
    scaled = (logits / temperature).masked_fill(~ok, float("-inf"))
    return torch.softmax(scaled, dim=-1).nan_to_num(0.0)


def row_entropy(weights: torch.Tensor) -> torch.Tensor:
    """-Σ w log w of each row (masked keys have w = 0 and add nothing)."""
    return -(weights * torch.log(weights.clamp_min(1e-30))).sum(-1)


def max_entropy(allowed: torch.Tensor) -> torch.Tensor:
    """The largest entropy each row can have: log of the number of keys it may see (0 when it sees none)."""
    return torch.log(allowed.sum(-1).clamp_min(1).double())


def mask_kind(allowed: torch.Tensor, self_attention: bool) -> str:
    """Name the mask: none, causal, padding (whole key columns off), causal + padding, or custom."""
    q_len, k_len = allowed.shape
    if bool(allowed.all()):
        return "none"
    columns = allowed.any(0)
    padding = bool((allowed == columns[None, :]).all())
    if padding:
        return "padding"
    causal = causal_allowed(q_len, k_len)
    if self_attention and bool((allowed == causal).all()):
        return "causal"
    if self_attention and bool((allowed == (causal & columns[None, :])).all()):
        return "causal_padding"
    if self_attention:  # causal with padded *query* rows too (a target mask of a padded row)
        rows = allowed.any(1)
        if bool((allowed == (causal & columns[None, :] & rows[:, None])).all()):
            return "causal_padding"
    return "custom"


# ------------------------------------------------------------------------------------- the data

@dataclass
class Block:
    """One kind of attention (e.g. "decoder cross-attention"): every layer and head of it.

    logits: (layers, heads, q, k), log-weights or scores; allowed: (q, k) bool, the mask the model used;
    q: (layers, heads, q, d_k) and k: (layers, heads, k, d_k) or None; query_seq / key_seq name the
    token sequences (so hovering a source token lights up the encoder's maps and the cross-attention columns).
    """

    name: str
    kind: str  # "self" | "cross"
    queries: list[str]
    keys: list[str]
    logits: torch.Tensor
    allowed: torch.Tensor
    q: torch.Tensor | None = None
    k: torch.Tensor | None = None
    query_seq: str = "target"
    key_seq: str = "target"
    note: str = ""
    layer_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        n_l, n_h, nq, nk = self.logits.shape
        if (nq, nk) != (len(self.queries), len(self.keys)):
            raise ValueError(f"attention of shape {(nq, nk)} does not fit {len(self.queries)} query tokens and "
                             f"{len(self.keys)} key tokens")
        if tuple(self.allowed.shape) != (nq, nk):
            raise ValueError(f"the mask of {self.name} has shape {tuple(self.allowed.shape)}, expected {(nq, nk)}")
        if (self.q is None) != (self.k is None):
            raise ValueError("give both q and k or neither")
        if self.q is not None:
            if self.q.shape[:3] != (n_l, n_h, nq) or self.k.shape[:3] != (n_l, n_h, nk) or \
                    self.q.shape[-1] != self.k.shape[-1]:
                raise ValueError(f"q {tuple(self.q.shape)} and k {tuple(self.k.shape)} do not fit the attention "
                                 f"{tuple(self.logits.shape)} = (layers, heads, q, k)")
        if self.kind not in ("self", "cross"):
            raise ValueError(f"kind must be 'self' or 'cross', got {self.kind!r}")

    @property
    def d_k(self) -> int:
        return 0 if self.q is None else int(self.q.shape[-1])

    @property
    def offers_causal(self) -> bool:
        """The causal toggle is offered for self-attention only, and only where the mask is not causal yet."""
        return self.kind == "self" and bool((self.allowed & ~causal_allowed(*self.allowed.shape)).any())

    @property
    def offers_padding(self) -> bool:
        """The padding toggle is offered where some "<pad>" key is not masked already."""
        pads = torch.tensor([t == PAD for t in self.keys])
        return bool(pads.any()) and bool(self.allowed[:, pads].any())

    @property
    def mask(self) -> str:
        return mask_kind(self.allowed, self.kind == "self")


def _f32(t: torch.Tensor) -> bytes:
    return np.ascontiguousarray(t.detach().to("cpu", torch.float32).numpy()).astype("<f4").tobytes()


def _logits_from_weights(w: torch.Tensor) -> torch.Tensor:
    return torch.log(w).masked_fill(w <= 0, float("-inf"))


class _Maps:
    """What a view shows, computed in Python from its blocks; the widget and the static picture share it."""

    blocks: list[Block]
    title: str
    labels: dict[str, str]
    _png: bytes | None

    def weights(self, block: int = 0, layer: int = 0, head: int = 0, temperature: float = 1.0,
                causal: bool = False, padding: bool = True) -> torch.Tensor:
        """The weights the browser draws for one map, with the same toggles (q, k)."""
        b = self.blocks[block]
        key_ok = torch.tensor([t != PAD for t in b.keys]) if padding and b.offers_padding else None
        return attention_weights(b.logits[layer, head], temperature, causal and b.offers_causal, key_ok, b.allowed)

    def entropy(self, block: int = 0, layer: int = 0, head: int = 0,
                **toggles: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """(entropy of each row, its largest possible value: log of the keys that row may see)."""
        w = self.weights(block, layer, head, **toggles)
        toggles.pop("temperature", None)
        return row_entropy(w), max_entropy(self._allowed(block, **toggles))

    def _allowed(self, block: int, causal: bool = False, padding: bool = True) -> torch.Tensor:
        """The keys each query may see in the browser: the model's mask and the toggles (q, k) bool."""
        b = self.blocks[block]
        ok = b.allowed.clone()
        if causal and b.offers_causal:
            ok &= causal_allowed(*ok.shape)
        if padding and b.offers_padding:
            ok &= torch.tensor([t != PAD for t in b.keys])[None, :]
        return ok

    @property
    def png(self) -> bytes:
        """The static picture: every map of every block (drawn once, on first use)."""
        if self._png is None:
            self._png = static_png(self)
        return self._png

    def summary(self) -> str:
        """One line of text: the title and each block's size."""
        L = self.labels
        sizes = [(b.name, L["layers_heads"].format(layers=b.logits.shape[0], heads=b.logits.shape[1]))
                 for b in self.blocks]
        return pick(f"{self.title}: " + ", ".join(f"{name} ({size})" for name, size in sizes),
                    f"{self.title}：" + "，".join(f"{name}（{size}）" for name, size in sizes))

    def picture(self) -> dict[str, str]:
        """The static picture as an output's data: PNG (base64) and a line of text."""
        return {"image/png": base64.b64encode(self.png).decode("ascii"), "text/plain": self.summary()}


class StaticAttention(_Maps):
    """What a view is while nbgrader grades: its static picture only (no widget, no JavaScript, no state)."""

    def __init__(self, blocks: Sequence[Block], title: str = ""):
        if not blocks:
            raise ValueError("nothing to show: no attention was recorded")
        self.labels = labels()
        self.blocks, self.title, self._png = list(blocks), title or self.labels["title"], None

    def _repr_mimebundle_(self, **kwargs: Any):
        return self.picture(), {}


class AttentionView(anywidget.AnyWidget, _Maps):
    """The widget. Build it with :func:`attention_view`, :func:`attention_of` or :func:`model_attention`.

    Synced with the browser: ``spec`` (tokens, shapes, masks, labels), the binary buffers ``logw``,
    ``allowed`` and ``qk``, ``pictures`` (the tails of the static pictures shown beside it, which the browser
    hides where the view draws), and back from it ``selection`` (block, layer, head, query, key, locked token)
    and ``draw_ms`` (how long the browser took to draw the whole view).
    """

    _esm = view_module("attention_view.js")
    _css = (STATIC / "attention_view.css").read_text(encoding="utf-8")
    spec = traitlets.Dict().tag(sync=True)
    logw = traitlets.Bytes(b"").tag(sync=True)
    allowed = traitlets.Bytes(b"").tag(sync=True)
    qk = traitlets.Bytes(b"").tag(sync=True)
    sentence = traitlets.Unicode("").tag(sync=True)
    pictures = traitlets.List(traitlets.Unicode()).tag(sync=True)
    selection = traitlets.Dict({}).tag(sync=True)
    draw_ms = traitlets.Float(-1.0).tag(sync=True)

    def __init__(self, blocks: Sequence[Block], *, title: str = "", scores_fn: ScoresFn | None = None,
                 note: str = "") -> None:
        super().__init__()
        self.labels = labels()
        self.title = title or self.labels["title"]
        self.note = note
        self._scores_fn = scores_fn
        self._png: bytes | None = None
        self.blocks: list[Block] = []
        self._load(list(blocks))
        if scores_fn is not None:
            self.sentence = " ".join(self.blocks[0].queries)
            self.observe(self._on_sentence, names="sentence")

    # -- state

    def _load(self, blocks: list[Block], error: str = "") -> None:
        if not blocks:
            raise ValueError("nothing to show: no attention was recorded")
        self.blocks = blocks
        self._png = None
        logw, allowed, qk, specs = [], [], [], []
        offsets = {"logw": 0, "allowed": 0, "qk": 0}
        for b in blocks:
            n_l, n_h, nq, nk = b.logits.shape
            entry = {"name": b.name, "kind": b.kind, "queries": b.queries, "keys": b.keys, "layers": n_l,
                     "heads": n_h, "nq": nq, "nk": nk, "dk": b.d_k, "mask": b.mask, "query_seq": b.query_seq,
                     "key_seq": b.key_seq, "offers_causal": b.offers_causal, "offers_padding": b.offers_padding,
                     "note": b.note, "layer_names": b.layer_names or [str(i) for i in range(n_l)],
                     "logw_offset": offsets["logw"], "allowed_offset": offsets["allowed"],
                     "qk_offset": offsets["qk"]}
            logw.append(_f32(b.logits.clamp(min=-1e30)))  # -inf travels as -1e30 (masked cells are in `allowed`)
            allowed.append(b.allowed.to(torch.uint8).numpy().tobytes())
            offsets["logw"] += n_l * n_h * nq * nk
            offsets["allowed"] += nq * nk
            if b.q is not None:
                qk.append(_f32(b.q) + _f32(b.k))
                offsets["qk"] += n_l * n_h * (nq + nk) * b.d_k
            specs.append(entry)
        self.spec = {"title": self.title, "note": self.note, "error": error, "blocks": specs, "labels": self.labels,
                     "sentence_box": self._scores_fn is not None, "pad": PAD}
        self.logw, self.allowed, self.qk = b"".join(logw), b"".join(allowed), b"".join(qk)

    def _on_sentence(self, change: dict) -> None:
        words = str(change["new"]).split()
        if words == self.blocks[0].queries:
            return
        if not words:
            self._load(self.blocks, error=self.labels["no_words"])
            return
        try:
            block = _block_from_scores(self._scores_fn(words), words, None, "self", self.blocks[0].name)
        except (ValueError, RuntimeError) as err:
            self._load(self.blocks, error=str(err))
            return
        self._load([block])

    def payload_bytes(self) -> int:
        """Bytes sent to the browser: the JSON spec (as the comm sends it), the buffers and the JS/CSS."""
        import json

        return (len(json.dumps(self.spec).encode()) + len(self.logw) + len(self.allowed) + len(self.qk)
                + len(self._esm.encode()) + len(self._css.encode()))

    # -- the picture that survives

    def _repr_mimebundle_(self, **kwargs: Any):
        data, metadata = super()._repr_mimebundle_(**kwargs)
        return {**data, "text/plain": f"{self.summary()} ({self.labels['interactive']})"}, metadata

    def _ipython_display_(self) -> None:
        show_with_picture(self)


def show_with_picture(view: Any) -> None:
    """Display ``view``'s static picture, then the widget: two outputs.

    Where no widget can draw (nbconvert's HTML, with widget state or without, nbgrader's feedback, GitHub's
    preview, a notebook reopened without its kernel) the picture is what shows; the widget's own output has
    no picture, so nothing is shown twice. Where the widget draws, its script hides the picture: it knows
    the picture by the tail of its base64 text (``view.pictures``).
    """
    from IPython.display import display

    picture = view.picture()
    view.pictures = [*view.pictures, picture["image/png"][-64:]]
    display(picture, raw=True)
    data, metadata = view._repr_mimebundle_()
    display(data, metadata=metadata, raw=True)


# ------------------------------------------------------------------------------------- static picture

def static_png(view: _Maps, temperature: float = 1.0) -> bytes:
    """Every map of every block as one figure (viridis; masked cells light grey), as PNG bytes."""
    from course.plotting import figure_png, new_figure

    L = view.labels

    blocks = view.blocks
    small = len(blocks) == 1 and blocks[0].logits.shape[0] * blocks[0].logits.shape[1] <= 4 \
        and max(blocks[0].logits.shape[-2:]) <= 24
    import matplotlib

    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="#dddddd")  # masked cells: light grey
    if small:
        b = blocks[0]
        n_maps = b.logits.shape[0] * b.logits.shape[1]
        fig = new_figure(3.6 * n_maps + 0.6, 3.8)
        axes = fig.subplots(1, n_maps, squeeze=False)[0]
        for idx, ax in enumerate(axes):
            layer, head = divmod(idx, b.logits.shape[1])
            w = view.weights(0, layer, head, temperature)
            shown = np.ma.masked_array(w.numpy(), mask=~view._allowed(0).numpy())
            ax.imshow(shown, cmap=cmap, vmin=0, vmax=1, aspect="auto", interpolation="nearest")
            ax.set_xticks(range(len(b.keys)), b.keys, rotation=60, ha="right", fontsize=7)
            ax.set_yticks(range(len(b.queries)), b.queries if idx == 0 else [""] * len(b.queries), fontsize=7)
            ax.set_title(f"{L['layer']} {b.layer_names[layer] if b.layer_names else layer}, "
                         f"{L['head']} {head}", fontsize=9)
            ax.grid(False)
        shown_mask = mask_kind(view._allowed(0), b.kind == "self")
        fig.suptitle(f"{view.title} · {L[b.kind]}, {L['mask_' + shown_mask]}", fontsize=10)
        return figure_png(fig)
    widths = [b.logits.shape[1] * (b.logits.shape[3] + 1) for b in blocks]
    heights = [b.logits.shape[0] * (b.logits.shape[2] + 1) for b in blocks]
    scale = 5.3 / max(max(widths), 1)
    fig = new_figure(6.5, min(16.0, 0.8 + sum(hh * scale + 0.7 for hh in heights)))
    fig.set_layout_engine("constrained")
    axes = fig.subplots(len(blocks), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    for bi, (b, ax) in enumerate(zip(blocks, axes)):
        n_l, n_h, nq, nk = b.logits.shape
        mosaic = np.full((n_l * (nq + 1) - 1, n_h * (nk + 1) - 1), np.nan)
        hidden = np.zeros_like(mosaic, dtype=bool)
        ok = view._allowed(bi).numpy()
        for layer in range(n_l):
            for head in range(n_h):
                w = view.weights(bi, layer, head, temperature).numpy()
                r, c = layer * (nq + 1), head * (nk + 1)
                mosaic[r:r + nq, c:c + nk] = w
                hidden[r:r + nq, c:c + nk] = ~ok
        gaps = np.isnan(mosaic)
        rgba = cmap(np.nan_to_num(mosaic))
        rgba[hidden] = (0.867, 0.867, 0.867, 1.0)  # masked: light grey
        rgba[gaps] = (1.0, 1.0, 1.0, 0.0)  # between maps: nothing
        ax.imshow(rgba, interpolation="nearest", aspect="equal")
        ax.set_xticks([h * (nk + 1) + (nk - 1) / 2 for h in range(n_h)], [f"{L['head']} {h}" for h in range(n_h)],
                      fontsize=7)
        ax.set_yticks([layer * (nq + 1) + (nq - 1) / 2 for layer in range(n_l)],
                      [f"{L['layer']} {name}" for name in (b.layer_names or range(n_l))], fontsize=7)
        ax.tick_params(length=0)
        ax.grid(False)
        for side in ax.spines.values():
            side.set_visible(False)
        shown_mask = mask_kind(view._allowed(bi), b.kind == "self")
        ax.set_title(f"{b.name} · {L['mask_' + shown_mask]} · {nq} {L['query']} × {nk} {L['key']}",
                     fontsize=9)
    fig.suptitle(f"{view.title} ({L['static_note']})", fontsize=10)
    return figure_png(fig)


# ------------------------------------------------------------------------------------- from arrays

def _block_from_scores(scores: torch.Tensor | None, queries: list[str], keys: list[str] | None, kind: str,
                       name: str, *, weights: torch.Tensor | None = None, q: torch.Tensor | None = None,
                       k: torch.Tensor | None = None, mask: torch.Tensor | None = None) -> Block:
    keys = list(keys) if keys is not None else list(queries)
    if weights is not None:
        w = as_4d(weights, "weights")
        logits = _logits_from_weights(w)
        # a key with zero weight in every map was masked
        allowed = (w > 0).any(0).any(0) if mask is None else mask.to(torch.bool).cpu()
    else:
        logits = as_4d(scores, "scores")
        allowed = torch.ones(logits.shape[-2:], dtype=torch.bool) if mask is None else mask.to(torch.bool).cpu()
        logits = torch.log_softmax(logits.masked_fill(~allowed, float("-inf")), -1).masked_fill(~allowed, float("-inf"))
    q4 = None if q is None else as_4d(q, "q")
    k4 = None if k is None else as_4d(k, "k")
    return Block(name, kind, list(queries), keys, logits, allowed, q4, k4)


def attention_view(tokens: Sequence[str], *, scores: torch.Tensor | None = None,
                   weights: torch.Tensor | None = None, scores_fn: ScoresFn | None = None,
                   key_tokens: Sequence[str] | None = None, q: torch.Tensor | None = None,
                   k: torch.Tensor | None = None, mask: torch.Tensor | None = None,
                   title: str = "") -> AttentionView | StaticAttention:
    """A view of one attention block from arrays.

    tokens: the query tokens (the keys too, unless key_tokens is given: cross-attention). Exactly one
    of scores (pre-softmax, (q, k) / (heads, q, k) / (layers, heads, q, k)), weights (softmaxed; zero
    weights are read as masked) or scores_fn (tokens -> scores: adds a sentence box). q and k
    ((layers, heads, len, d_k), optional) enable the score breakdown; mask (q, k) bool, True = may attend.
    """
    given = [x is not None for x in (scores, weights, scores_fn)]
    if sum(given) != 1:
        raise ValueError("give exactly one of scores=, weights= or scores_fn=")
    if tokens is None:
        raise ValueError("tokens (the query labels) are required")
    if scores_fn is not None and key_tokens is not None:
        raise ValueError("with scores_fn the keys are the typed tokens (self-attention)")
    kind = "self" if key_tokens is None else "cross"
    name = labels()[kind]
    if scores_fn is not None:
        scores = scores_fn(list(tokens))
    block = _block_from_scores(scores, list(tokens), None if key_tokens is None else list(key_tokens), kind, name,
                               weights=weights, q=q, k=k, mask=mask)
    if kind == "cross":
        block.query_seq, block.key_seq = "target", "source"
    return _shown([block], title, scores_fn)


def _shown(blocks: list[Block], title: str, scores_fn: ScoresFn | None = None) -> AttentionView | StaticAttention:
    """The interactive view, or, while nbgrader grades, its static picture alone."""
    if grading():
        return StaticAttention(blocks, title)
    return AttentionView(blocks, title=title, scores_fn=scores_fn)


# ------------------------------------------------------------------------------------- from modules

@dataclass
class _Call:
    name: str
    kind: str
    weights: torch.Tensor  # (heads, q, k)
    allowed: torch.Tensor  # (q, k)
    q: torch.Tensor | None  # (heads, q, d_k)
    k: torch.Tensor | None
    note: str = ""


def _allowed_from(mask: Any, shape: tuple[int, ...], batch: int) -> torch.Tensor:
    if mask is None:
        return torch.ones(shape[-2:], dtype=torch.bool)
    m = torch.as_tensor(mask).detach().cpu()
    if m.dtype != torch.bool:  # an additive float mask: -inf (or very negative) = masked
        m = m > -1e4
    return torch.broadcast_to(m, shape)[batch, 0].clone()


def _split_heads(t: torch.Tensor, n_heads: int, batch: int) -> torch.Tensor:
    """(batch, len, d_model) -> (heads, len, d_head) the usual way (view, transpose)."""
    b = t.detach().cpu().double()[batch]
    return b.view(b.shape[0], n_heads, -1).transpose(0, 1)


def _reproduces(q: torch.Tensor, k: torch.Tensor, weights: torch.Tensor, allowed: torch.Tensor) -> bool:
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    w = attention_weights(scores, allowed=allowed)
    return bool((w - weights).abs().max() < 1e-3)


def _is_readable(m: nn.Module) -> bool:  # chapter 05's layout: q_proj, k_proj, last_weights
    return isinstance(getattr(m, "q_proj", None), nn.Module) and isinstance(getattr(m, "k_proj", None), nn.Module)


def _is_packed(m: nn.Module) -> bool:  # course.blocks.MultiHeadAttention
    return callable(getattr(m, "forward_with_weights", None)) and callable(getattr(m, "_qkv", None))


class _Recorder:
    """Forward hooks on every attention module under ``roots``; one _Call per forward, in order."""

    def __init__(self, roots: Mapping[str, nn.Module], batch: int):
        self.calls: list[_Call] = []
        self.batch = batch
        self.handles: list[Any] = []
        for prefix, root in roots.items():
            for name, m in root.named_modules():
                full = ".".join(p for p in (prefix, name) if p)
                if _is_packed(m):
                    self.handles.append(m.register_forward_hook(self._packed_hook(full), with_kwargs=True))
                elif _is_readable(m):
                    self._readable(full, m)

    def _readable(self, name: str, m: nn.Module) -> None:
        seen: dict[str, torch.Tensor] = {}
        self.handles.append(m.q_proj.register_forward_hook(lambda _m, _i, out: seen.__setitem__("q", out)))
        self.handles.append(m.k_proj.register_forward_hook(lambda _m, _i, out: seen.__setitem__("k", out)))

        def after(module, args, kwargs, _out):
            query = args[0] if args else kwargs.get("query")
            key = args[1] if len(args) > 1 else kwargs.get("key", query)
            mask = args[3] if len(args) > 3 else kwargs.get("mask")
            w = getattr(module, "last_weights", None)
            if not isinstance(w, torch.Tensor) or w.dim() != 4:
                return
            w = w.detach().cpu().double()
            allowed = _allowed_from(mask, tuple(w.shape), self.batch)
            weights = w[self.batch]
            q = k = None
            note = ""
            if "q" in seen and "k" in seen and seen["q"].shape[-1] % w.shape[1] == 0:
                q, k = _split_heads(seen["q"], w.shape[1], self.batch), _split_heads(seen["k"], w.shape[1], self.batch)
                if q.shape[1] != weights.shape[1] or k.shape[1] != weights.shape[2] or \
                        not _reproduces(q, k, weights, allowed):
                    q = k = None
                    note = "q_proj and k_proj, split into heads, do not reproduce last_weights: no score breakdown"
            seen.clear()
            kind = "self" if key is None or key is query else "cross"
            self.calls.append(_Call(name, kind, weights, allowed, q, k, note))

        self.handles.append(m.register_forward_hook(after, with_kwargs=True))

    def _packed_hook(self, name: str):
        def after(module, args, kwargs, _out):
            names = ("query", "memory", "mask", "is_causal", "rope")
            given = dict(zip(names, args)) | {n: kwargs[n] for n in names if n in kwargs}
            query, memory = given["query"], given.get("memory")
            with torch.no_grad():
                q, k, _ = module._qkv(query, memory, given.get("rope"))
                _, w = module.forward_with_weights(query, memory, given.get("mask"), bool(given.get("is_causal")),
                                                   given.get("rope"))
            w = w.detach().cpu().double()
            allowed = (w[self.batch, 0] > 0) if given.get("mask") is not None or given.get("is_causal") else \
                torch.ones(w.shape[-2:], dtype=torch.bool)
            if given.get("mask") is not None:
                allowed = _allowed_from(given["mask"], tuple(w.shape), self.batch)
                if given.get("is_causal"):
                    allowed &= causal_allowed(*allowed.shape)
            elif given.get("is_causal"):
                allowed = causal_allowed(*w.shape[-2:])
            self.calls.append(_Call(name, "self" if memory is None else "cross", w[self.batch], allowed,
                                    q.detach().cpu().double()[self.batch], k.detach().cpu().double()[self.batch]))
        return after

    def close(self) -> None:
        for h in self.handles:
            h.remove()


_LAYER = re.compile(r"\.(\d+)(?=\.|$)")


def _block_name(group: str, kind: str) -> str:
    parts = [p for p in group.replace("*", "").split(".") if p and p not in ("layers", "layer")]
    side = next((p for p in parts if p in ("encoder", "decoder")), "")
    L = labels()
    return (L["block"].format(side=L.get(side, side), kind=L[kind]) if side else L[kind]) or group


def _group(calls: list[_Call], tokens: list[str], source_tokens: list[str] | None) -> list[Block]:
    groups: dict[tuple, list[tuple[str, _Call]]] = {}
    for c in calls:
        layer = _LAYER.findall(c.name)
        key = (_LAYER.sub(".*", c.name), c.kind, tuple(c.weights.shape))
        groups.setdefault(key, []).append((layer[-1] if layer else "0", c))
    blocks = []
    for (group, kind, shape), members in groups.items():
        latest: dict[str, _Call] = {}
        for layer, c in members:  # a module called more than once: keep its last call
            latest[layer] = c
        layers = list(latest)
        cs = [latest[name] for name in layers]
        _, nq, nk = shape

        def tokens_of(n: int, prefer_source: bool) -> tuple[list[str], str]:
            if prefer_source and source_tokens is not None and len(source_tokens) == n:
                return list(source_tokens), "source"
            if len(tokens) == n:
                return list(tokens), "target"
            if source_tokens is not None and len(source_tokens) == n:
                return list(source_tokens), "source"
            return [str(i) for i in range(n)], f"positions{n}"

        encoder_side = "encoder" in group
        queries, qseq = tokens_of(nq, encoder_side)
        if kind == "cross":
            keys, kseq = tokens_of(nk, True)
        else:
            keys, kseq = queries, qseq
        weights = torch.stack([c.weights for c in cs])
        has_qk = all(c.q is not None for c in cs)
        blocks.append(Block(_block_name(group, kind), kind, queries, keys, _logits_from_weights(weights),
                            cs[0].allowed, torch.stack([c.q for c in cs]) if has_qk else None,
                            torch.stack([c.k for c in cs]) if has_qk else None, qseq, kseq,
                            next((c.note for c in cs if c.note), ""), layers))
    return blocks


def attention_of(modules: nn.Module | Mapping[str, nn.Module], run: Callable[[], Any], *,
                 tokens: Sequence[str], source_tokens: Sequence[str] | None = None, title: str = "",
                 batch: int = 0) -> AttentionView | StaticAttention:
    """Run ``run()`` and show every attention layer of ``modules`` that it called, for batch row ``batch``.

    modules: a module, or named modules ({"encoder": enc, "decoder": dec}), whose attention layers are
    recorded: chapter 05's ``MultiHeadAttention`` (``q_proj``, ``k_proj``, ``last_weights``) and the
    course's two versions. tokens label the target (or only) sequence, source_tokens the source of an
    encoder–decoder. The mask each layer received is the mask shown.
    """
    roots = {"": modules} if isinstance(modules, nn.Module) else dict(modules)
    recorder = _Recorder(roots, batch)
    try:
        with torch.no_grad():
            run()
    finally:
        recorder.close()
    if not recorder.calls:
        raise ValueError("no attention layer ran: attention_of records modules with q_proj/k_proj and "
                         "last_weights (chapter 05's MultiHeadAttention) or the course's attention")
    return _shown(_group(recorder.calls, list(tokens), None if source_tokens is None else list(source_tokens)), title)


def model_attention(model: nn.Module, task: Any, number: str, title: str = "") -> AttentionView | StaticAttention:
    """Every attention layer of a chapter-08 encoder–decoder on one input: the encoder's self-attention over
    the digits, the decoder's causal self-attention and its cross-attention over the model's own greedy output."""
    from course.experiments.ch08_transformer import greedy_reading

    batch, text, tgt_in = greedy_reading(model, task, number)
    was = model.training
    model.eval()
    try:
        queries = ["<bos>"] + [f"{c}" for c in text]

        def run() -> None:
            memory, mask = model.encode(batch.src, batch.src_lengths)
            model.decode(tgt_in, memory, mask)

        return attention_of(model, run, tokens=queries, source_tokens=list(number),
                            title=title or f"{number} → {text}")
    finally:
        model.train(was)
