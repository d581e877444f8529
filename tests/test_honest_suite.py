"""Correct answers written differently get full marks through the real grader (issue: grading you
can trust). Three submissions per chapter: submission k replaces EVERY answer cell with the k-th
alternative from honest_variants.py, and nbgrader autogrades them with the trusted preprocessors."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from course_grader import pipeline
from honest_variants import VARIANTS
from notebooks import ROOT, graded_cells, is_answer, nbgrader_meta

N_VARIANTS = 3


def test_every_answer_cell_has_three_variants():
    for assignment, variants in VARIANTS.items():
        answers = {nbgrader_meta(c)["grade_id"] for c in nbformat.read(
            ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4).cells if is_answer(c)}
        assert set(variants) == answers, f"{assignment}: variants for {sorted(variants)}, answers {sorted(answers)}"
        assert all(len(v) == N_VARIANTS and len(set(v)) == N_VARIANTS for v in variants.values())


def _submission(assignment: str, k: int) -> nbformat.NotebookNode:
    nb = nbformat.read(ROOT / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in nb.cells:
        if is_answer(cell):
            cell.source = VARIANTS[assignment][nbgrader_meta(cell)["grade_id"]][k]
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("honest")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for assignment in VARIANTS:
        shutil.copytree(ROOT / "source" / assignment, course / "source" / assignment)
        pipeline.nbgrader("generate_assignment", assignment, "--force", root=course)
        for k in range(N_VARIANTS):
            folder = course / "submitted" / f"honest-{k + 1}" / assignment
            folder.mkdir(parents=True)
            nbformat.write(_submission(assignment, k), folder / f"{assignment}.ipynb")
    pipeline.autograde("*", root=course, jobs=2)
    return course


@pytest.mark.slow
@pytest.mark.parametrize("assignment", sorted(VARIANTS))
@pytest.mark.parametrize("k", range(N_VARIANTS))
def test_differently_written_correct_answers_get_full_marks(graded, assignment, k):
    student = f"honest-{k + 1}"
    scores = {s.grade_id: s for s in pipeline.scores(assignment, student, root=graded)}
    assert set(scores) == set(graded_cells(assignment))
    lost = {g: f"{s.score}/{s.max_score}" for g, s in scores.items() if s.score != s.max_score}
    info = nbformat.read(graded / "autograded" / student / assignment / f"{assignment}.ipynb",
                         as_version=4).metadata["course_grading"]
    assert not lost, f"{student} lost points on {lost}: {info['failed_tests']}"
    assert not info["flags"], f"a correct answer was flagged as tampering: {info['flags']}"
