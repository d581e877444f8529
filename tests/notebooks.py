"""Read the course notebooks and run their graded cells in isolation.

The seam between the notebooks and pytest: a chapter's test module substitutes a (wrong)
implementation for the student's function and runs the very test cell nbgrader grades,
hidden tests included, taken from the instructor's ``source/`` notebook.

Conventions this relies on (checked in test_pipeline.py and test_cells.py):
- the set-up cell (imports, style, seed; ``course.cells.setup_cell``) is the notebook's first code cell;
- answer cells only define things (functions, classes, constants);
- every test cell imports what it uses, so it runs with just set-up + answers in scope.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import nbformat

from course import cells
from course.cells import is_answer, is_test

ROOT = Path(__file__).resolve().parent.parent
TREES = ("source", "release", "solutions")


def module_slug(assignment: str) -> str:
    """``06-position-encoding`` -> ``ch06_position_encoding``: the one name of a chapter's modules."""
    return "ch" + assignment.replace("-", "_")


# every chapter's module name, from its text source chapters/NN-name.py
CHAPTERS = tuple(module_slug(p.stem) for p in sorted((ROOT / "chapters").glob("[0-9][0-9]-*.py")))


def notebook_path(assignment: str, tree: str = "source") -> Path:
    return ROOT / tree / assignment / f"{assignment}.ipynb"


@cache
def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def load(assignment: str, tree: str = "source") -> nbformat.NotebookNode:
    return _read(notebook_path(assignment, tree))


nbgrader_meta = cells.nbgrader  # what kind each cell is: course.cells, which the grader asks too


def graded_cells(assignment: str, tree: str = "source") -> dict[str, nbformat.NotebookNode]:
    return {nbgrader_meta(c)["grade_id"]: c for c in load(assignment, tree).cells if is_test(c)}


def setup_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    found = cells.setup_cell(nb.cells)
    if found is None:
        raise ValueError("the notebook has no set-up cell (a locked code cell that is not a test)")
    return found


def answer_namespace(assignment: str, tree: str = "source") -> dict[str, Any]:
    """A fresh namespace holding the set-up cell's names and every answer cell's definitions."""
    nb = load(assignment, tree)
    ns: dict[str, Any] = {"__name__": f"notebook_{assignment.replace('-', '_')}"}
    exec(compile(setup_cell(nb).source, f"<{assignment} set-up>", "exec"), ns)
    for cell in nb.cells:
        if is_answer(cell):
            exec(compile(cell.source, f"<{assignment} {nbgrader_meta(cell)['grade_id']}>", "exec"), ns)
    return ns


def run_test_cell(assignment: str, grade_id: str, tree: str = "source", **substitutes: Any) -> dict[str, Any]:
    """Run one graded test cell with the notebook's answers, some of them replaced."""
    tests = graded_cells(assignment, tree)
    if grade_id not in tests:
        raise KeyError(f"{assignment} has no test cell {grade_id!r}; it has {sorted(tests)}")
    ns = answer_namespace(assignment, tree)
    ns.update(substitutes)
    exec(compile(tests[grade_id].source, f"<{assignment} {grade_id}>", "exec"), ns)
    return ns


def assert_rejected(assignment: str, grade_id: str, **substitutes: Any) -> AssertionError:
    """The test cell fails with an AssertionError (a readable message) for this substitute."""
    try:
        run_test_cell(assignment, grade_id, **substitutes)
    except AssertionError as err:
        return err
    names = ", ".join(f"{k}={getattr(v, '__name__', v)!r}" for k, v in substitutes.items())
    raise AssertionError(f"{assignment}/{grade_id} accepted a wrong implementation: {names}")


def stripped(nb: nbformat.NotebookNode) -> dict:
    """The parts of a notebook that matter for comparing generated trees."""
    return {
        "metadata": {k: v for k, v in nb.metadata.items()},
        "cells": [{"cell_type": c.cell_type, "source": c.source, "metadata": dict(c.metadata)} for c in nb.cells],
    }
