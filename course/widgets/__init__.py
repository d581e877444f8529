"""Interactive figures for the notebooks: one module per widget.

Every widget is built on :class:`course.widgets.base.FigureWidget`: ipywidgets controls and a
matplotlib figure rendered to a PNG image (no JavaScript beyond ipywidgets, no CDN), so it works
offline in JupyterLab 4, redraws without flicker and can be driven and inspected from Python.
"""

from course.widgets.base import FigureWidget

__all__ = ["FigureWidget"]
