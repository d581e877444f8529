"""Correct answers written differently get full marks (issue: grades an instructor can trust).

For every chapter, ``tests/honest/chNN.py`` holds three differently written correct answers for
each answer cell. Submission k replaces EVERY answer cell with the k-th alternative:

1. all of them go through the trusted grader (tamper scan + isolated re-run of every test cell)
   and must pass every test with no tamper flag;
2. the first alternative of chapters 02 and 04 also goes through ``nbgrader autograde`` end to
   end, so the gradebook shows full marks too.
"""

from __future__ import annotations

import importlib
import shutil

import nbformat
import pytest
from course_grader import pipeline
from course_grader.grading.nbgrader_plugins import trusted_verdicts
from notebooks import CHAPTERS, ROOT, graded_cells, is_answer, nbgrader_meta

N_VARIANTS = 3
END_TO_END = ("ch02_tensors", "ch04_dropout_residual")


def _chapter(name: str):
    try:
        return importlib.import_module(f"honest.{name}")
    except ModuleNotFoundError:
        return None


PRESENT = [c for c in CHAPTERS if _chapter(c) is not None]


def test_every_chapter_has_three_variants_of_every_answer_cell():
    assert PRESENT == list(CHAPTERS), f"chapters without honest variants: {sorted(set(CHAPTERS) - set(PRESENT))}"
    for name in PRESENT:
        module = _chapter(name)
        answers = {nbgrader_meta(c)["grade_id"] for c in nbformat.read(
            ROOT / "source" / module.ASSIGNMENT / f"{module.ASSIGNMENT}.ipynb", as_version=4).cells if is_answer(c)}
        assert set(module.VARIANTS) == answers, f"{name}: variants for {sorted(module.VARIANTS)}, answers {sorted(answers)}"
        assert all(len(v) == N_VARIANTS and len(set(v)) == N_VARIANTS for v in module.VARIANTS.values())


def _submission(name: str, k: int) -> nbformat.NotebookNode:
    module = _chapter(name)
    nb = nbformat.read(ROOT / "release" / module.ASSIGNMENT / f"{module.ASSIGNMENT}.ipynb", as_version=4)
    for cell in nb.cells:
        if is_answer(cell):
            cell.source = module.VARIANTS[nbgrader_meta(cell)["grade_id"]][k]
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("k", range(N_VARIANTS))
@pytest.mark.parametrize("name", PRESENT)
def test_trusted_grader_passes_every_differently_written_answer(name, k):
    findings, report, _ = trusted_verdicts(_submission(name, k), cell_timeout=60.0)
    assert not findings, f"{name} variant {k + 1}: a correct answer was flagged as tampering: {findings}"
    failed = {g: v.message for g, v in report.verdicts.items() if not v.passed}
    assert not failed, f"{name} variant {k + 1} failed: {failed}"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("honest")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for name in END_TO_END:
        assignment = _chapter(name).ASSIGNMENT
        shutil.copytree(ROOT / "source" / assignment, course / "source" / assignment)
        pipeline.nbgrader("generate_assignment", assignment, "--force", root=course)
        folder = course / "submitted" / "honest-1" / assignment
        folder.mkdir(parents=True)
        nbformat.write(_submission(name, 0), folder / f"{assignment}.ipynb")
    pipeline.autograde("*", root=course, jobs=2)
    return course


@pytest.mark.slow
@pytest.mark.xdist_group("honest")  # one worker builds and grades the course
@pytest.mark.parametrize("name", END_TO_END)
def test_differently_written_correct_answers_get_full_marks_in_the_gradebook(graded, name):
    assignment = _chapter(name).ASSIGNMENT
    scores = {s.grade_id: s for s in pipeline.scores(assignment, "honest-1", root=graded)}
    assert set(scores) == set(graded_cells(assignment))
    lost = {g: f"{s.score}/{s.max_score}" for g, s in scores.items() if s.score != s.max_score}
    info = nbformat.read(graded / "autograded" / "honest-1" / assignment / f"{assignment}.ipynb",
                         as_version=4).metadata["course_grading"]
    assert not lost, f"lost points on {lost}: {info['failed_tests']}"
    assert not info["flags"], f"a correct answer was flagged as tampering: {info['flags']}"
