"""A live training plot: a callback for ``course.training.train`` that redraws loss and accuracy as they come in."""

from __future__ import annotations

import time
from typing import Any

from course.widgets.base import FigureWidget


class LiveLossPlot:
    """Pass it to ``train(config, callbacks=[plot])``: it displays itself at the first event (so a
    run that fails before training starts leaves no empty plot behind) and follows the run.

    Left: training loss per logged step (log scale). Right: exact-match accuracy of the periodic
    evaluations on the validation split (never the test splits). Redraws at most every
    ``every_seconds`` (drawing costs time the model could train with), and always after an
    evaluation and at the end. A figure widget without controls (course.widgets.base), so it can
    export its view like the others.
    """

    def __init__(self, every_seconds: float = 2.0, title: str = "training", auto_display: bool = True):
        if not every_seconds >= 0:
            raise ValueError(f"every_seconds must be >= 0, got {every_seconds}")
        self.every_seconds, self.title = float(every_seconds), title
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.eval_steps: list[int] = []
        self.exact: list[float] = []
        self.auto_display, self.displayed = auto_display, False
        self._status = ""
        self._last_draw = float("-inf")
        self.widget = FigureWidget(self._draw, {}, figsize=(9.0, 3.2), export_name="training.png")
        self.ui, self.status = self.widget.ui, self.widget.status

    @property
    def redraw_count(self) -> int:
        return self.widget.redraw_count

    def __call__(self, event: Any) -> None:
        if self.auto_display and not self.displayed:
            from IPython.display import display

            display(self.ui)
            self.displayed = True
        if event.loss is not None and event.kind == "step":
            self.steps.append(event.step)
            self.losses.append(event.loss)
        if event.kind == "eval" and event.metrics is not None:
            self.eval_steps.append(event.step)
            self.exact.append(100 * event.metrics.exact)
        loss = f"loss {self.losses[-1]:.4f}" if self.losses else "no loss yet"
        exact = f" · validation exact match {self.exact[-1]:.1f}%" if self.exact else ""
        self._status = f"step {event.step} · {loss} · lr {event.lr:.2e} · {event.seconds:.0f} s{exact}"
        if event.kind != "step" or time.monotonic() - self._last_draw >= self.every_seconds:
            self.widget.redraw()
        else:
            self.status.value = self._status

    def _draw(self, fig) -> str:
        left, right = fig.subplots(1, 2)
        if self.losses:
            left.plot(self.steps, self.losses, color="tab:blue", lw=1.2)
            left.set_yscale("log")
        left.set(xlabel="step", ylabel="training loss", title=f"{self.title}: loss")
        if self.exact:
            right.plot(self.eval_steps, self.exact, "o-", color="tab:green")
        right.set(xlabel="step", ylabel="exact match (%)", title="validation exact match", ylim=(0, 101))
        self._last_draw = time.monotonic()
        return self._status

    def _repr_mimebundle_(self, **kwargs: Any):
        return self.ui._repr_mimebundle_(**kwargs)
