"""A check's failure message in the language of the edition: English templates, a catalogue per language.

The code of a test cell is the same in both editions, so a message cannot be written in one language
there. It is written once, in English, as a template; when it is shown, the edition in use
(:func:`course.language.language`) picks the text, and the values are put in only then.

The convention every check of the course follows (a chapter converted later follows it too):

* A message is a plain English string literal with named placeholders (``str.format``), and its values
  are passed beside it, never an f-string::

      check(names == ["bias", "weight"], "LayerNorm(4) has the parameters {names}: ...", names=names)

  :func:`~course.checks.core.check` formats it only when the check fails.
* Where a message is not the argument of ``check`` (a ``name=``, a mistake's sentence, a printed line, an
  exception raised by hand) it is the literal itself when it has no values, else ``msg(template, **values)``,
  a :class:`Message` rendered when it is shown; an exception is ``fail(template, **values)`` (an
  AssertionError) or ``SomeError(render(template, **values))``. A template is formatted only when it has
  values, so a ready-made string (an older caller's f-string) passes through unchanged.
* Every template has its Chinese twin, with the same placeholders, in the catalogue of its chapter:
  ``course/checks/zh/<module>.py`` for the visible checks and the chapter's test cells, and
  ``course_grader/checks/zh/<module>.py`` for the hidden checks (their messages stay with the grader),
  each a dict ``MESSAGES = {english: chinese}``. ``tests/test_messages_zh.py`` reads the code (AST), finds
  every English sentence of a converted module or test cell and fails when one has no twin, when the
  placeholders differ, or when a sentence is built in a way no catalogue can match (an f-string, ``+``).
* A value that is itself a :class:`Message`, or a string found in the catalogue (a case's label, a
  mistake's sentence kept in a variable), is shown in the same language; other values as they are.

A template missing from the catalogue is shown in English: the check still works, only untranslated.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import string
from typing import Any

from course.language import language, use_language

# where each language's catalogue lives: a module holding a MESSAGES dict, or a package of such modules
PACKAGES = {"zh": ("course.checks.zh", "course_grader.checks.zh", "course_grader.grading.messages_zh")}
_formatter = string.Formatter()


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """English template -> its ``lang`` text, from every catalogue module found (the grader's only where installed)."""
    found: dict[str, str] = {}
    for package_name in PACKAGES.get(lang, ()):
        try:
            package = importlib.import_module(package_name)
        except (ImportError, OSError):  # a student's environment (or a grading sandbox) has no course_grader
            continue
        found.update(getattr(package, "MESSAGES", {}))
        for info in sorted(pkgutil.iter_modules(getattr(package, "__path__", [])), key=lambda m: m.name):
            found.update(getattr(importlib.import_module(f"{package_name}.{info.name}"), "MESSAGES", {}))
    return found


def translate(text: str) -> str:
    """``text`` in the language in use, if the catalogue has it; else ``text`` itself (no formatting)."""
    lang = language()
    if lang == "en" or type(text) is not str:
        return text
    return catalogue(lang).get(text, text)


def _shown(value: Any) -> Any:
    if type(value) is Message:
        return value.render()
    if type(value) is str:  # exactly a str: a student's subclass is never hashed or compared here
        return translate(value)
    return value


def render(message: Any, /, **values: Any) -> str:
    """``message`` (a template or a :class:`Message`) as text in the language in use, ``values`` put in."""
    if type(message) is Message:
        return message.render()
    if type(message) is not str:
        return str(message)
    text = translate(message)
    if not values:
        return text
    shown = {k: _shown(v) for k, v in values.items()}
    try:
        return text.format(**shown)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError):
        if text is not message:  # a translation that does not fit its values: the English one
            try:
                return message.format(**shown)
            except (KeyError, IndexError, ValueError, AttributeError, TypeError):
                pass
        return f"{message} {shown!r}"


class Message:
    """A template and its values, rendered in the language in use whenever it is shown (``str()``, ``format``)."""

    __slots__ = ("template", "values")

    def __init__(self, template: str, /, **values: Any):
        self.template = template
        self.values = values

    def render(self) -> str:
        return render(self.template, **self.values)

    def __str__(self) -> str:
        return self.render()

    def __format__(self, spec: str) -> str:
        return format(self.render(), spec)

    def __repr__(self) -> str:
        return repr(self.render())


def msg(template: str, /, **values: Any) -> Message:
    """A message shown later (a ``name=``, a printed line): ``template`` with ``values``, in the language in use."""
    return Message(template, **values)


def fail(message: Any, /, **values: Any) -> AssertionError:
    """An AssertionError saying ``message`` in the language in use; its English text is kept as ``.english``."""
    err = AssertionError(render(message, **values))
    if language() == "en":
        err.english = str(err)
    else:
        with use_language("en"):
            err.english = render(message, **values)
    return err


def english(err: BaseException) -> str:
    """What ``err`` says in English (for code that reads a message, whatever the edition): ``.english`` or ``str``."""
    text = getattr(err, "english", None) if type(err) is AssertionError else None
    return text if type(text) is str else str(err)


def placeholders(template: str) -> set[tuple[str, str | None, str]]:
    """The fields of a template: (name, conversion, format spec) each; a ValueError if it is malformed."""
    return {(name, conversion, spec or "") for _, name, spec, conversion in _formatter.parse(template)
            if name is not None}
