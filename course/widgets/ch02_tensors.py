"""Stride explorer: which storage element does each index of a view read?

The trick that makes the picture exact: the base tensor is ``torch.arange(numel).reshape(shape)``,
so every element's VALUE is its position in the storage. After a transpose, permute, slice or
expand, the view still reads the same storage, and the number in each cell of the view is the
storage position that cell reads.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as widgets
import matplotlib
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from course.widgets.base import FigureWidget
from course.widgets.words import in_language

SHAPES: dict[str, tuple[int, ...]] = {
    "(3, 4)": (3, 4),
    "(4, 6)": (4, 6),
    "(3, 1)": (3, 1),
    "(2, 3, 4)": (2, 3, 4),
    "(2, 1, 3)": (2, 1, 3),
}


WORDS = {
    "title": "Stride explorer",
    "shape": "shape",
    "operation": "operation",
    "element": "element #",
    "column_index": "column index",
    "row_index": "row index",
    "empty": "empty view, shape {shape}",
    "storage": "storage (1-D memory), position 0 on the left; grey = not read by the view",
    "figure_title": "torch.arange({n}).reshape{dims} → {operation}",
    "not_applied": "{operation} does not apply to shape {dims}",
    "base_shown": "(showing the base tensor)",
    "permute_needs": "permute(2, 0, 1) needs a 3-D tensor; pick shape (2, 3, 4) or (2, 1, 3)",
    "expand_needs": "shape {shape} has no size-1 dim to expand; pick (3, 1) or (2, 1, 3)",
    "f_shape": "shape {}",
    "f_strides": "strides {}",
    "f_offset": "storage offset {}",
    "view_works": "view(-1) works",
    "view_fails": "view(-1) fails (needs reshape / contiguous())",
    "f_reads": "index {index} reads storage {formula}",
    "f_empty": "empty view: it reads no storage at all",
}
WORDS_ZH = {
    "title": "步长浏览器",
    "shape": "形状",
    "operation": "操作",
    "element": "元素 #",
    "column_index": "列下标",
    "row_index": "行下标",
    "empty": "空视图，形状 {shape}",
    "storage": "存储（一维内存），位置 0 在最左边；灰色 = 视图没有读取",
    "not_applied": "{operation} 不适用于形状 {dims}",
    "base_shown": "（显示的是原张量）",
    "permute_needs": "permute(2, 0, 1) 需要三维张量；请选择形状 (2, 3, 4) 或 (2, 1, 3)",
    "expand_needs": "形状 {shape} 没有大小为 1 的维可以扩展；请选择 (3, 1) 或 (2, 1, 3)",
    "f_shape": "形状 {}",
    "f_strides": "步长 {}",
    "f_offset": "存储偏移 {}",
    "view_works": "view(-1) 可用",
    "view_fails": "view(-1) 失败（需要 reshape / contiguous()）",
    "f_reads": "下标 {index} 读取存储位置 {formula}",
    "f_empty": "空视图：它不读取任何存储",
    # the names in the operation menu
    "none": "不做操作",
    "rows [::2]": "每隔一行 [::2]",
    "columns [::2]": "每隔一列 [::2]",
    "offset slice [1:, 1:]": "带偏移的切片 [1:, 1:]",
    "expand size-1 dims to 3": "把大小为 1 的维扩展到 3",
}

def _permute(t: torch.Tensor) -> torch.Tensor:
    if t.dim() != 3:
        raise ValueError(WORDS["permute_needs"])
    return t.permute(2, 0, 1)


def _expand(t: torch.Tensor) -> torch.Tensor:
    if 1 not in t.shape:
        raise ValueError(WORDS["expand_needs"].format(shape=tuple(t.shape)))
    return t.expand(*[3 if n == 1 else n for n in t.shape])


OPERATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "none": lambda t: t,
    "transpose(-2, -1)": lambda t: t.transpose(-2, -1),
    "permute(2, 0, 1)": _permute,
    "rows [::2]": lambda t: t[..., ::2, :],
    "columns [::2]": lambda t: t[..., ::2],
    "offset slice [1:, 1:]": lambda t: t[..., 1:, 1:],
    "expand size-1 dims to 3": _expand,
}

HIGHLIGHT = "#d62728"
UNUSED = "#e6e6e6"


def make_view(shape: tuple[int, ...], operation: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``(base, view)``: base = arange(numel).reshape(shape), view = operation(base).

    Raises ``ValueError`` for an unknown shape/operation or an operation that does not apply to
    this shape (permute on 2-D, expand without a size-1 dim).
    """
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}; choose one of {list(OPERATIONS)}")
    shape = tuple(shape)
    if not shape or any(not isinstance(n, int) or n < 1 for n in shape):
        raise ValueError(f"shape must be a non-empty tuple of positive ints, got {shape!r}")
    n = 1
    for d in shape:
        n *= d
    base = torch.arange(n).reshape(shape)  # value == storage position
    return base, OPERATIONS[operation](base)


def shown_numel(shape: tuple[int, ...], operation: str) -> int:
    """Number of elements the widget shows: the view's, or the base's when the operation does not apply."""
    try:
        return make_view(shape, operation)[1].numel()
    except ValueError:
        return make_view(shape, "none")[1].numel()


def logical_index(shape: tuple[int, ...], flat: int) -> tuple[int, ...]:
    """The multi-index of the ``flat``-th element in row-major (logical) order."""
    index = []
    for n in reversed(shape):
        index.append(flat % n)
        flat //= n
    return tuple(reversed(index))


def _can_view_flat(view: torch.Tensor) -> bool:
    try:
        view.view(-1)
    except RuntimeError:
        return False
    return True


def offset_formula(index: tuple[int, ...], strides: tuple[int, ...], offset: int) -> str:
    """``"2 + 1·4 + 0·1 = 6"``: how the storage position of ``index`` is computed."""
    terms = " + ".join(f"{i}·{s}" for i, s in zip(index, strides))
    total = offset + sum(i * s for i, s in zip(index, strides))
    return f"{offset} + {terms} = {total}"


def draw_layout(fig: Figure, view: torch.Tensor, storage_size: int, highlight: int | None = None,
                title: str = "", slice_label: str = "view[{}]", words: dict[str, str] | None = None) -> None:
    """Draw ``view`` (values = storage positions) as grids above a 1-D storage strip.

    ``highlight`` is a flat logical position in the view; its cell and the storage cell it reads
    get a red frame. 3-D views are drawn as side-by-side 2-D slices along dim 0, titled with
    ``slice_label.format(k)``.
    """
    L = words or in_language(WORDS, WORDS_ZH)
    if view.dim() not in (1, 2, 3):
        raise ValueError(f"draw_layout shows 1-D, 2-D or 3-D views, got {view.dim()}-D")
    if storage_size < 1:
        raise ValueError("storage_size must be positive")
    cmap = matplotlib.colormaps["viridis"]
    color = lambda pos: cmap(0.15 + 0.8 * pos / max(storage_size - 1, 1))  # noqa: E731
    slices = view.unsqueeze(0) if view.dim() == 2 else view.reshape(1, 1, -1) if view.dim() == 1 else view
    n_slices, rows, cols = slices.shape
    hl = logical_index(tuple(view.shape), highlight) if highlight is not None and view.numel() else None
    hl3 = (0,) * (3 - view.dim()) + hl if hl is not None else None

    gs = fig.add_gridspec(2, max(n_slices, 1), height_ratios=[max(rows, 1) + 1.0, 1.6], hspace=0.35)
    read = set(int(v) for v in view.reshape(-1).tolist())
    for k in range(n_slices if view.numel() else 0):
        ax = fig.add_subplot(gs[0, k])
        for r in range(rows):
            for c in range(cols):
                pos = int(slices[k, r, c])
                ax.add_patch(Rectangle((c, rows - 1 - r), 1, 1, facecolor=color(pos), edgecolor="white", lw=1.5))
                ax.text(c + 0.5, rows - 0.5 - r, str(pos), ha="center", va="center", fontsize=9,
                        color="white" if pos < 0.55 * storage_size else "black")
        if hl3 is not None and hl3[0] == k:
            ax.add_patch(Rectangle((hl3[2], rows - 1 - hl3[1]), 1, 1, fill=False, edgecolor=HIGHLIGHT, lw=3))
        ax.set_xlim(0, max(cols, 1))
        ax.set_ylim(0, max(rows, 1))
        ax.set_aspect("equal")
        ax.grid(False)
        ax.set_xticks([c + 0.5 for c in range(cols)], [str(c) for c in range(cols)])
        ax.set_yticks([rows - 0.5 - r for r in range(rows)], [str(r) for r in range(rows)])
        ax.tick_params(length=0, labelsize=8)
        for side in ax.spines.values():
            side.set_visible(False)
        ax.set_xlabel(L["column_index"], fontsize=8)
        if k == 0:
            ax.set_ylabel(L["row_index"], fontsize=8)
        if view.dim() == 3:
            ax.set_title(slice_label.format(k), fontsize=9)
    if view.numel() == 0:
        ax = fig.add_subplot(gs[0, :])
        ax.axis("off")
        ax.text(0.5, 0.5, L["empty"].format(shape=tuple(view.shape)), ha="center", va="center")

    strip = fig.add_subplot(gs[1, :])
    for pos in range(storage_size):
        strip.add_patch(Rectangle((pos, 0), 1, 1, facecolor=color(pos) if pos in read else UNUSED,
                                  edgecolor="white", lw=1.5))
        strip.text(pos + 0.5, 0.5, str(pos), ha="center", va="center", fontsize=8,
                   color=("white" if pos < 0.55 * storage_size else "black") if pos in read else "#999999")
    if hl is not None:
        target = int(view[hl])
        strip.add_patch(Rectangle((target, 0), 1, 1, fill=False, edgecolor=HIGHLIGHT, lw=3))
    strip.set_xlim(0, storage_size)
    strip.set_ylim(0, 1)
    strip.set_yticks([])
    strip.set_xticks([])
    strip.grid(False)
    for side in strip.spines.values():
        side.set_visible(False)
    strip.set_xlabel(L["storage"], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10, y=1.04 if view.dim() == 3 else 0.98)


def describe(view: torch.Tensor, highlight: int | None = None, words: dict[str, str] | None = None) -> str:
    """One line of facts about a view (plain text)."""
    L = words or in_language(WORDS, WORDS_ZH)
    parts = [L["f_shape"].format(tuple(view.shape)), L["f_strides"].format(view.stride()),
             L["f_offset"].format(view.storage_offset()), f"is_contiguous() {view.is_contiguous()}",
             L["view_works"] if _can_view_flat(view) else L["view_fails"]]
    if highlight is not None and view.numel():
        idx = logical_index(tuple(view.shape), highlight)
        parts.append(L["f_reads"].format(index=idx, formula=offset_formula(idx, view.stride(), view.storage_offset())))
    elif view.numel() == 0:
        parts.append(L["f_empty"])
    return " · ".join(parts)


def stride_explorer(shape: str = "(3, 4)", operation: str = "transpose(-2, -1)") -> FigureWidget:
    """A widget: pick a shape, an operation and an element; see where in storage it lives."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; choose one of {list(SHAPES)}")
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}; choose one of {list(OPERATIONS)}")
    L = in_language(WORDS, WORDS_ZH)
    names = {L.get(op, op): op for op in OPERATIONS}  # the menu shows the edition's names
    shape_dd = widgets.Dropdown(options=list(SHAPES), value=shape, description=L["shape"],
                                layout=widgets.Layout(width="170px"))
    op_dd = widgets.Dropdown(options=list(names), value=L.get(operation, operation), description=L["operation"],
                             layout=widgets.Layout(width="290px"))
    first = max(shown_numel(SHAPES[shape], operation), 1)
    index = widgets.IntSlider(value=min(5, first - 1), min=0, max=first - 1, description=L["element"],
                              continuous_update=False)

    def fit_slider(_change=None) -> None:
        # registered before FigureWidget's observers, so the slider range is right before a redraw
        index.max = max(shown_numel(SHAPES[shape_dd.value], names[op_dd.value]), 1) - 1

    shape_dd.observe(fit_slider, names="value")
    op_dd.observe(fit_slider, names="value")

    def draw(fig: Figure, shape: str, operation: str, index: int) -> str:
        dims, shown, operation = SHAPES[shape], operation, names[operation]
        try:
            base, view = make_view(dims, operation)
        except ValueError:  # e.g. permute on a 2-D shape: show the base tensor and say why
            base, _ = make_view(dims, "none")
            draw_layout(fig, base, base.numel(), min(index, base.numel() - 1),
                        title=L["not_applied"].format(operation=shown, dims=dims), words=L)
            why = L["permute_needs"] if operation == "permute(2, 0, 1)" else L["expand_needs"].format(shape=dims)
            return f"<span style='color:{HIGHLIGHT}'>{html.escape(why)}</span> {L['base_shown']}"
        hl = min(index, view.numel() - 1) if view.numel() else None
        draw_layout(fig, view, base.numel(), hl,
                    title=L["figure_title"].format(n=base.numel(), dims=dims, operation=shown), words=L)
        return html.escape(describe(view, hl, L))

    return FigureWidget(draw, {"shape": shape_dd, "operation": op_dd, "index": index}, figsize=(8.0, 4.2),
                        title=L["title"], export_name="strides.png")
