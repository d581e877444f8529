"""A live training plot: a callback for ``course.training.train`` that redraws loss and accuracy as they come in."""

from __future__ import annotations

import time
from typing import Any

from course.widgets.base import FigureWidget
from course.widgets.words import in_language

WORDS = {
    "loss": "loss {loss}",
    "no_loss": "no loss yet",
    "exact": " · validation exact match {exact}%",
    "status": "step {step} · {loss} · lr {lr} · {seconds} s{exact}",
    "step": "step",
    "training_loss": "training loss",
    "loss_title": "{title}: loss",
    "exact_axis": "exact match (%)",
    "exact_title": "validation exact match",
}
WORDS_ZH = {
    "loss": "损失 {loss}",
    "no_loss": "还没有损失值",
    "exact": " · 验证集完全匹配 {exact}%",
    "status": "第 {step} 步 · {loss} · 学习率 {lr} · {seconds} 秒{exact}",
    "step": "步数",
    "training_loss": "训练损失",
    "loss_title": "{title}：损失",
    "exact_axis": "完全匹配（%）",
    "exact_title": "验证集完全匹配",
}


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
        self.words = in_language(WORDS, WORDS_ZH)
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
        L = self.words
        loss = L["loss"].format(loss=f"{self.losses[-1]:.4f}") if self.losses else L["no_loss"]
        exact = L["exact"].format(exact=f"{self.exact[-1]:.1f}") if self.exact else ""
        self._status = L["status"].format(step=event.step, loss=loss, lr=f"{event.lr:.2e}",
                                          seconds=f"{event.seconds:.0f}", exact=exact)
        if event.kind != "step" or time.monotonic() - self._last_draw >= self.every_seconds:
            self.widget.redraw()
        else:
            self.status.value = self._status

    def _draw(self, fig) -> str:
        left, right = fig.subplots(1, 2)
        if self.losses:
            left.plot(self.steps, self.losses, color="tab:blue", lw=1.2)
            left.set_yscale("log")
        L = self.words
        left.set(xlabel=L["step"], ylabel=L["training_loss"], title=L["loss_title"].format(title=self.title))
        if self.exact:
            right.plot(self.eval_steps, self.exact, "o-", color="tab:green")
        right.set(xlabel=L["step"], ylabel=L["exact_axis"], title=L["exact_title"], ylim=(0, 101))
        self._last_draw = time.monotonic()
        return self._status

    def _repr_mimebundle_(self, **kwargs: Any):
        return self.ui._repr_mimebundle_(**kwargs)
