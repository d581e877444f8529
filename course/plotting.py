"""Figure helpers: one look for every figure in the course.

Figures keep their text in English (matplotlib's default fonts have no CJK glyphs and would
print a warning to stderr, which nbgrader counts as a failure).
"""

from __future__ import annotations

import io

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

STYLE = {
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
