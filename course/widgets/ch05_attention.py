"""Chapter 05's attention view: re-exports :mod:`course.widgets.attention_view`.

The matplotlib attention-map explorer that lived here is replaced by the interactive view (every layer
and head at once, hover and click, the q·k breakdown). ``attention_weights`` stays importable from here:
the checks of chapter 05 switch it off while a student's attention runs (``course.checks.ch05_attention``).
"""

from course.widgets.attention_view import (
    LABELS,
    PAD,
    AttentionView,
    attention_of,
    attention_view,
    attention_weights,
    max_entropy,
    model_attention,
    row_entropy,
)

__all__ = ["LABELS", "PAD", "AttentionView", "attention_of", "attention_view", "attention_weights", "max_entropy",
           "model_attention", "row_entropy"]
