"""Which edition of the course is speaking: English ("en") or Chinese ("zh", 中文版).

Code cells are the same in both editions, so a notebook's code cannot say which edition it is in.
The answer, in order:

1. ``COURSE_LANGUAGE`` in the environment (the grading pipeline sets it for the class's edition;
   a student may set it too);
2. the notebook the kernel runs: Jupyter Server tells a kernel its notebook's path in
   ``JPY_SESSION_NAME``, and every notebook of the Chinese edition carries ``"course_language": "zh"``
   in its metadata (``tools.notebooks`` writes it);
3. English.

:func:`use_language` overrides all three for a block of code (the judge, tests).
"""

from __future__ import annotations

import contextlib
import json
import os
import unicodedata
from collections.abc import Iterator
from pathlib import Path

LANGUAGES = ("en", "zh")
ENV = "COURSE_LANGUAGE"
METADATA_KEY = "course_language"  # in a notebook's top-level metadata; absent means English

_override: str | None = None
_from_notebook: dict[str, str] = {}  # notebook path -> its language, read once


def known_language(language: str) -> str:
    """``language`` if it is one of :data:`LANGUAGES`, else a clear error."""
    if language not in LANGUAGES:
        raise ValueError(f"the course's language is one of {', '.join(LANGUAGES)}, got {language!r}")
    return language


def of_notebook(nb: dict) -> str:
    """The language a notebook (its JSON as a dict, or an ``nbformat`` node) is written in."""
    value = (nb.get("metadata") or {}).get(METADATA_KEY, "en")
    return value if value in LANGUAGES else "en"


def graded_in(nb: dict) -> str:
    """The language a submission is graded in: the edition its notebook's metadata names, else the one in use
    (for the grader, the class's: ``COURSE_LANGUAGE``)."""
    named = (nb.get("metadata") or {}).get(METADATA_KEY)
    return named if named in LANGUAGES else language()


def _notebook_language() -> str | None:
    path = os.environ.get("JPY_SESSION_NAME")
    if not path or not path.endswith(".ipynb"):
        return None
    if path not in _from_notebook:
        try:
            _from_notebook[path] = of_notebook(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return None
    return _from_notebook[path]


def language() -> str:
    """The edition in use now: "en" or "zh"."""
    if _override is not None:
        return _override
    env = os.environ.get(ENV)
    if env in LANGUAGES:
        return env
    return _notebook_language() or "en"


def pick(en: str, zh: str) -> str:
    """``en`` or ``zh``, whichever the edition in use speaks."""
    return zh if language() == "zh" else en


def columns(text: str) -> int:
    """How many terminal columns ``text`` takes: a Chinese character (East Asian wide or full-width) takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def rjust(text: str, width: int) -> str:
    """``text`` right-aligned in ``width`` terminal columns, as f"{text:>{width}}" aligns English."""
    return " " * (width - columns(text)) + text


def ljust(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` terminal columns, as f"{text:<{width}}" aligns English."""
    return text + " " * (width - columns(text))


@contextlib.contextmanager
def use_language(lang: str) -> Iterator[None]:
    """Speak ``lang`` inside the block, whatever the environment or the notebook says."""
    global _override
    previous, _override = _override, known_language(lang)
    try:
        yield
    finally:
        _override = previous
