"""A widget's words in the edition in use (:mod:`course.language`), picked once, when the widget is built.

Every widget keeps its front-end strings (labels, axis titles, notes) in two dicts, English and Chinese,
with the same keys; a string the Chinese dict lacks stays English.
"""

from __future__ import annotations

from collections.abc import Mapping

from course.language import language


def in_language(en: Mapping[str, str], zh: Mapping[str, str]) -> dict[str, str]:
    """``en``, or ``zh`` over ``en`` in the Chinese edition."""
    return {**en, **zh} if language() == "zh" else dict(en)
