"""Figure helpers: one look for every figure in the course.

In the Chinese edition figures speak Chinese (the widgets' and the experiments' words, and the
numerals of the capstone's outputs); those characters come from a tiny font shipped with the course
(``course/fonts``, a subset of Noto Sans CJK SC, made by ``tools/make_cjk_subset.py``), used as a
fallback after DejaVu Sans: without it matplotlib would draw boxes and print a "Glyph missing"
warning to stderr, which nbgrader counts as a failure.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

CJK_FONT = Path(__file__).resolve().parent / "fonts" / "CourseCJK-Regular.otf"
FONT_FAMILY = ["DejaVu Sans", "Course CJK"]  # Latin from DejaVu; the course's Chinese glyphs as the fallback
font_manager.fontManager.addfont(str(CJK_FONT))
# Text objects read rcParams when they are created (tick labels long after new_figure returns), so
# the fallback is set for the session, not only inside the style context.
matplotlib.rcParams["font.family"] = FONT_FAMILY

STYLE = {
    "font.family": FONT_FAMILY,
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
}


def use_course_style() -> None:
    """Apply the course's matplotlib defaults (called by notebooks' set-up cell)."""
    matplotlib.rcParams.update(STYLE)


def new_figure(width: float = 6.4, height: float = 4.0, dpi: int = 100) -> Figure:
    """A figure that is not registered with pyplot (so it is never shown twice)."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig: Figure) -> bytes:
    """Render a figure to PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def show(fig: Figure) -> None:
    """Display a figure in the notebook as a PNG (figures made by new_figure are not in pyplot)."""
    from IPython.display import Image, display

    display(Image(data=figure_png(fig)))
