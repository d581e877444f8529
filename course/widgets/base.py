"""A matplotlib figure behind ipywidgets controls, rendered as a PNG image."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import ipywidgets as widgets
from matplotlib.figure import Figure

from course.plotting import figure_png, new_figure
from course.widgets.words import in_language

DrawFn = Callable[..., str | None]

WORDS = {"export": "Export PNG", "export_tip": "save the current view as {name}", "saved": "saved {path}"}
WORDS_ZH = {"export": "导出 PNG", "export_tip": "把当前画面保存为 {name}", "saved": "已保存到 {path}"}


class FigureWidget:
    """Controls + figure. ``draw(fig, **values)`` redraws ``fig`` from the controls' values.

    ``draw`` may return a short text that is shown under the figure (an HTML-escaped status
    line). Tests drive the widget by setting ``widget.controls[name].value`` and reading
    ``widget.png`` / ``widget.status.value``; ``widget.export_png(path)`` saves the view.
    """

    def __init__(self, draw: DrawFn, controls: Mapping[str, widgets.ValueWidget], *,
                 figsize: tuple[float, float] = (7.0, 4.0), title: str = "", export_name: str = "figure.png"):
        self._draw = draw
        self.controls = dict(controls)
        self.figure: Figure = new_figure(*figsize)
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.status = widgets.HTML()
        self.export_name = export_name
        self.words = in_language(WORDS, WORDS_ZH)
        self.export_button = widgets.Button(description=self.words["export"], icon="download",
                                            tooltip=self.words["export_tip"].format(name=export_name))
        self.export_button.on_click(lambda _: self._export_clicked())
        self.redraw_count = 0
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        header = [widgets.HTML(f"<b>{title}</b>")] if title else []
        self.ui = widgets.VBox([
            *header,
            widgets.HBox(list(self.controls.values()) + [self.export_button],
                         layout=widgets.Layout(flex_flow="row wrap")),
            self.image,
            self.status,
        ])
        self.redraw()

    @property
    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    @property
    def png(self) -> bytes:
        return bytes(self.image.value)  # ipywidgets hands back a memoryview

    def _on_change(self, _change: Any) -> None:
        self.redraw()

    def redraw(self) -> None:
        self.figure.clear()
        text = self._draw(self.figure, **self.values)
        self.status.value = text or ""
        self.image.value = figure_png(self.figure)
        self.redraw_count += 1

    def export_png(self, path: str | Path | None = None) -> Path:
        path = Path(path or self.export_name)
        path.write_bytes(self.png)
        return path

    def _export_clicked(self) -> None:
        path = self.export_png()
        self.status.value = self.words["saved"].format(path=path.resolve())

    def _repr_mimebundle_(self, **kwargs: Any):
        return self.ui._repr_mimebundle_(**kwargs)
