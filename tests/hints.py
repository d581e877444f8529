"""Hints point the way and demos show the idea on another example; neither types an exercise's answer.

Used by the chapter test modules (``test_chNN_*.py``) of the chapters written this way. Two checks, both on the
instructor notebook (``source/``), for every answer cell:

* no line of its solution, and no code span of 16 characters or more that occurs in its solution, appears in the
  hints before it (the prose between the previous graded cell and the answer cell, from "Hint 1" on);
* no demo code cell between the previous graded cell and the answer cell contains one of the solution's
  expressions with other names or numbers in it (``sq - sq.mean(dim=1, keepdim=True)`` for
  ``x - x.mean(dim=1, keepdim=True)``): a demo shows the idea on a different example.
"""

from __future__ import annotations

import keyword
import re

from notebooks import is_answer, is_test, load

_SPACE = re.compile(r"\s+")
_TOKEN = re.compile(r"[A-Za-z_]\w*|\d+(?:\.\d+)?|\S")


def _flat(text: str) -> str:
    return _SPACE.sub("", text)


def _solution_lines(source: str) -> list[str]:
    blocks = re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source, re.S)
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    return [line.removeprefix("return ").strip() for line in lines if line]


def _pattern(line: str) -> re.Pattern[str] | None:
    """The solution line as a regex in which every name and number may be another (attributes, keyword
    arguments and Python keywords stay as written); None for lines too plain to mean anything."""
    flat = _flat(line)
    if "." not in flat or len(flat) < 15 or "(" not in flat:
        return None
    tokens = _TOKEN.findall(flat)
    parts = []
    for i, tok in enumerate(tokens):
        after_dot = i > 0 and tokens[i - 1] == "."
        kwarg = i + 1 < len(tokens) and tokens[i + 1] == "=" and (i + 2 >= len(tokens) or tokens[i + 2] != "=")
        if (tok[0].isalpha() or tok[0] == "_") and not after_dot and not kwarg and not keyword.iskeyword(tok):
            parts.append(r"[\w.\[\]]+")
        elif tok[0].isdigit() and not after_dot:
            parts.append(r"[\w.]+")
        else:
            parts.append(re.escape(tok))
    return re.compile("".join(parts))


def exercises(assignment: str) -> list[dict]:
    """Per answer cell: its first line, its solution lines, the hints before it, the demo code before it."""
    out, prose, demos = [], [], []
    for cell in load(assignment).cells:
        if cell.cell_type == "markdown":
            prose.append(cell.source)
        elif is_answer(cell):
            text = "\n\n".join(prose)
            hints = text[text.find("<summary>Hint 1"):] if "<summary>Hint 1" in text else ""
            out.append({"first": cell.source.splitlines()[0], "solution": _solution_lines(cell.source),
                        "hints": hints, "demos": list(demos)})
            prose, demos = [], []
        elif is_test(cell):
            prose, demos = [], []
        elif cell.cell_type == "code":
            demos.append(cell.source)
    return out


def answers_given_away(assignment: str) -> list[str]:
    """What hints or demos of ``assignment`` type of an exercise's answer, one line per finding."""
    found = []
    for ex in exercises(assignment):
        where = f"{assignment}, before `{ex['first']}`"
        hints, code = _flat(ex["hints"]), _flat("\n".join(ex["solution"]))
        for line in ex["solution"]:
            if len(_flat(line)) >= 12 and _flat(line) in hints:
                found.append(f"{where}: a hint types the solution's line {line!r}")
        for span in re.findall(r"`([^`]+)`", ex["hints"]):
            flat = _flat(span)
            if len(flat) >= 16 and flat in code and not re.fullmatch(r"\([\w,]+\)", flat):  # a shape is not code
                found.append(f"{where}: a hint types {span!r}, part of the solution")
        demo = _flat("\n".join(ex["demos"]))
        for line in ex["solution"]:
            pattern = _pattern(line)
            if pattern is not None and (hit := pattern.search(demo)):
                found.append(f"{where}: a demo runs {hit.group(0)!r}, the solution's {line!r} with other names")
    return found
