"""Every chapter guides the student the same way (the format README's "Writing a chapter" shows).

* a "Before you start" cell near the top: what you build, which chapters come first, the time;
* every graded exercise labelled with difficulty, importance and a time budget, and helped by two
  or more hints that open one level at a time (Hint 2 nested inside Hint 1);
* predict-then-check prompts before experiments;
* a References section at the end.

The tests read the instructor notebooks in ``source/`` (built from ``chapters/``).
"""

from __future__ import annotations

import re

import pytest

from tests.notebooks import CHAPTERS, is_answer, is_test, load

# chapters not yet written in this format: expected to fail until they are (run with --runxfail to see)
PENDING: set[str] = set()
ASSIGNMENTS = [
    pytest.param(a, marks=pytest.mark.xfail(reason="not yet in the guidance format", strict=True))
    if a in PENDING else a
    for a in (slug[2:].replace("_", "-") for slug in CHAPTERS)
]

LABEL = re.compile(
    r"\*\*Difficulty:\*\* (?P<d>[●○]{3}) · \*\*Importance:\*\* (?P<i>[●○]{3}) · \*\*Time:\*\* ~\d+ min"
)
HINT = re.compile(r"<summary>Hint (\d) · 提示 \1</summary>")
PREDICT = "**Predict · 预测:**"


def _markdown(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def exercise_texts(nb) -> list[tuple[str, str]]:
    """(answer cell's first line, the markdown between the previous graded cell and it) per answer cell."""
    out, prose = [], []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            prose.append(cell.source)
        elif is_answer(cell):
            out.append((cell.source.splitlines()[0] if cell.source else "?", "\n\n".join(prose)))
            prose = []
        elif is_test(cell):
            prose = []
    return out


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_before_you_start(assignment):
    head = _markdown(load(assignment))[:3]
    cell = next((m for m in head if m.lstrip().startswith("## Before you start · 开始之前")), None)
    assert cell is not None, f"{assignment}: one of the first three markdown cells is '## Before you start · 开始之前'"
    for word in ("You will build", "Prerequisites", "Time"):
        assert f"**{word}" in cell, f"{assignment}: 'Before you start' names **{word}**"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_is_labelled_and_hinted(assignment):
    exercises = exercise_texts(load(assignment))
    assert exercises, assignment
    for first_line, text in exercises:
        where = f"{assignment}, the exercise before `{first_line}`"
        label = LABEL.search(text)
        assert label, f"{where}: a line '**Difficulty:** ●●○ · **Importance:** ●●● · **Time:** ~15 min'"
        for key in "di":
            assert label[key].count("●") >= 1 and "○●" not in label[key], f"{where}: dots fill from the left"
        numbers = [int(n) for n in HINT.findall(text)]
        assert numbers[:2] == [1, 2], f"{where}: at least two hints, '<summary>Hint 1 · 提示 1</summary>' then 2"
        # one level at a time: Hint 2's block opens before Hint 1's closes
        first_close = text.index("</details>", text.index("Hint 1 · 提示 1"))
        assert text.index("Hint 2 · 提示 2") < first_close, f"{where}: Hint 2 sits inside Hint 1's <details>"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_predict_then_check(assignment):
    prompts = sum(m.count(PREDICT) for m in _markdown(load(assignment)))
    assert prompts >= 2, f"{assignment}: predict-then-check prompts ('{PREDICT} ...') before its experiments"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_references(assignment):
    tail = "\n\n".join(_markdown(load(assignment))[-3:])
    assert "## References · 参考文献" in tail, f"{assignment}: ends with '## References · 参考文献'"
    section = tail.split("## References · 参考文献", 1)[1]
    entries = [line for line in section.splitlines() if re.match(r"\s*(\d+\.|[-*]) ", line)]
    assert len(entries) >= 2, f"{assignment}: References lists its sources, one per line"
