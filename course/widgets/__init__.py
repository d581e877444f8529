"""Interactive figures for the notebooks: one module per widget.

Two kinds, both offline in JupyterLab 4 (no CDN):

* :class:`course.widgets.base.FigureWidget`: ipywidgets controls and a matplotlib figure rendered to
  a PNG image (chapters 01–04, the sinusoidal table of 06, the live loss plot of 08);
* the interactive views drawn in the browser with anywidget, their plain-JavaScript modules and CSS in
  ``course/widgets/static``: the attention view (:mod:`course.widgets.attention_view`, chapters 05, 07
  and 08) and the RoPE view (:mod:`course.widgets.rope_view`, chapter 06). Each also leaves a static PNG
  in the notebook, an output of its own that the view hides where it draws; while nbgrader grades only that
  PNG is drawn (no widget), so the feedback shows the figure.

Every widget speaks the edition in use (:mod:`course.widgets.words`, :mod:`course.language`): its labels, axis
titles and notes are English or Chinese, chosen when it is built.
"""

from course.widgets.base import FigureWidget

__all__ = ["FigureWidget"]
