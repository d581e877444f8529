"""What each notebook cell is, said once: an answer, a test, the set-up cell, a locked cell, or the student's own.

nbgrader's cell metadata (``metadata.nbgrader``: ``grade``, ``solution``, ``locked``, ``grade_id``) decides.
The grader (intake, the tamper scan, the isolated grader, the nbgrader plugins), the student package
(:mod:`course.student_code`), the chapter tools and the tests all ask here.

``is_grade``, ``is_solution`` and ``is_locked`` mean what :mod:`nbgrader.utils`' functions of those names mean
(``tests/test_cells.py`` compares them cell by cell on every course notebook). They are written out
rather than imported because importing ``nbgrader`` takes seconds (its package loads the Jupyter server
extensions), and because they must also read the plain ``dict`` cells that ``json.load`` gives: the
student package reads notebooks without nbformat. Unlike nbgrader's they always return a ``bool``, and
metadata that is not a mapping counts as none.

The kinds (:func:`kind`), which partition a notebook's cells:

* ``"answer"``: a code cell with ``solution`` and not ``grade``: the student's answer, the only student
  code that grading runs;
* ``"test"``: a code cell with ``grade`` and not ``solution``: a graded test (locked);
* ``"written"``: ``grade`` and ``solution`` both: a manually graded answer (the course has none);
* ``"locked"``: a locked cell that is neither: prose, and the set-up and demo code;
* ``"free"``: everything else: a cell the student added, or one whose nbgrader metadata was removed.

The **set-up cell** (:func:`setup_cell`) is the first *locked* code cell that is not a grade cell. In the
instructor's and the released notebooks that is the first code cell (``tests/test_cells.py`` holds every
notebook to it), but "the first code cell" is no definition for a submission, where a student can put a
cell of their own above it. A lock a student writes into a cell's metadata does not make it the set-up
cell either: ``course_grader.intake`` drops nbgrader metadata whose ``grade_id`` the released notebook
does not have, nbgrader's ``DeduplicateIds`` keeps only the last cell of a repeated ``grade_id``, its
``OverwriteCells`` restores the lock and the source of every locked cell from the gradebook, and its
``CheckCellMetadata`` refuses a locked cell without a ``grade_id``; a ``solution`` flag added to the set-up
cell makes it an answer (``is_locked`` is then False), which runs sandboxed like every answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["KINDS", "nbgrader", "grade_id", "is_grade", "is_solution", "is_locked", "is_answer", "is_test",
           "is_graded", "is_student_code", "kind", "setup_cell"]

KINDS = ("answer", "test", "written", "locked", "free")


def _code(cell: Mapping) -> bool:
    return cell.get("cell_type") == "code"


def _has_nbgrader(cell: Mapping) -> bool:
    meta = cell.get("metadata")
    return isinstance(meta, Mapping) and isinstance(meta.get("nbgrader"), Mapping)


def nbgrader(cell: Mapping) -> Mapping[str, Any]:
    """The cell's nbgrader metadata; ``{}`` when it has none (or something that is not a mapping)."""
    return cell["metadata"]["nbgrader"] if _has_nbgrader(cell) else {}


def grade_id(cell: Mapping) -> str | None:
    """The cell's nbgrader ``grade_id`` (its name in the gradebook), or None."""
    value = nbgrader(cell).get("grade_id")
    return value if isinstance(value, str) else None


def is_grade(cell: Mapping) -> bool:
    """A grade cell (``nbgrader.utils.is_grade``): its points count."""
    return bool(nbgrader(cell).get("grade", False))


def is_solution(cell: Mapping) -> bool:
    """A solution cell (``nbgrader.utils.is_solution``): the student writes in it."""
    return bool(nbgrader(cell).get("solution", False))


def is_locked(cell: Mapping) -> bool:
    """nbgrader restores this cell from the instructor's copy (``nbgrader.utils.is_locked``): never a solution
    cell; always a grade cell that is not one; otherwise its ``locked`` flag."""
    if not _has_nbgrader(cell) or is_solution(cell):
        return False
    return is_grade(cell) or bool(nbgrader(cell).get("locked", False))


def is_answer(cell: Mapping) -> bool:
    """An answer cell: code, a solution cell and not a grade cell."""
    return _code(cell) and is_solution(cell) and not is_grade(cell)


def is_test(cell: Mapping) -> bool:
    """A test cell: code, a grade cell and not a solution cell."""
    return _code(cell) and is_grade(cell) and not is_solution(cell)


def is_graded(cell: Mapping) -> bool:
    """A grade or a solution cell (any type): the cells a grade is made of, which nbgrader's gradebook knows
    by ``grade_id`` (answers, tests, written answers)."""
    return is_grade(cell) or is_solution(cell)


def is_student_code(cell: Mapping) -> bool:
    """Code the student can change and nbgrader does not restore: an answer (or written) cell, or any code
    cell without a lock (one they added)."""
    return _code(cell) and not is_locked(cell)


def kind(cell: Mapping) -> str:
    """One of :data:`KINDS` (module docstring)."""
    if is_answer(cell):
        return "answer"
    if is_test(cell):
        return "test"
    if is_grade(cell) and is_solution(cell):
        return "written"
    return "locked" if is_locked(cell) else "free"


def setup_cell(cells: Iterable[Mapping]) -> Any:
    """The notebook's set-up cell: the first locked code cell that is not a grade cell; None when there is none."""
    return next((c for c in cells if _code(c) and is_locked(c) and not is_grade(c)), None)
