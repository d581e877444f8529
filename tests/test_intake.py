"""Submissions the grader cannot read as they are (issue: grades an instructor can trust).

Invalid JSON, a deleted or renamed notebook, deleted graded cells and a 50 MB output: each is
graded (unanswered where nothing can be read), gets a clear note at the top of its feedback and in
``make flags``, and none of them stops the grading of the honest student beside it.
"""

from __future__ import annotations

import shutil

import nbformat
import pytest
from course_grader import pipeline
from notebooks import ROOT, graded_cells, is_answer, nbgrader_meta

A = "02-tensors"


def _solution():
    return nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4)


def _write(course, student, name, nb=None, text=None):
    folder = course / "submitted" / student / A
    folder.mkdir(parents=True)
    if nb is not None:
        nbformat.write(nb, folder / name)
    elif text is not None:
        (folder / name).write_text(text)
    return folder


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("intake")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source" / A, course / "source" / A)
    pipeline.nbgrader("generate_assignment", A, "--force", root=course)
    _write(course, "honest", f"{A}.ipynb", _solution())
    text = nbformat.writes(_solution())
    _write(course, "broken-json", f"{A}.ipynb", text=text[: len(text) // 2])
    _write(course, "deleted", "notes.txt", text="I deleted my notebook by mistake")
    _write(course, "renamed", f"{A} (1).ipynb", _solution())
    nb = _solution()
    dropped = [c for c in nb.cells if is_answer(c)][:2]
    nb.cells = [c for c in nb.cells if c not in dropped and nbgrader_meta(c).get("grade_id") != "broadcast_shape_tests"]
    _write(course, "missing-cells", f"{A}.ipynb", nb)
    nb = _solution()
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    first_code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * (50 * 1024 * 1024))]
    _write(course, "huge-output", f"{A}.ipynb", nb)
    nb = _solution()  # a cell added with nbgrader metadata of its own (nbgrader would fail the whole submission)
    nb.cells.insert(3, nbformat.v4.new_markdown_cell("mine", metadata={"nbgrader": {
        "grade": False, "grade_id": "md-posing", "locked": True, "schema_version": 3, "solution": False}}))
    _write(course, "posing-cell", f"{A}.ipynb", nb)
    # intake happens before nbgrader runs, the same with or without the kernel run; without it (make autograde
    # KERNEL=0) the six submissions grade in half the time (the kernel run: test_pipeline, test_adversarial)
    pipeline.autograde(A, root=course, jobs=2, kernel=False)
    pipeline.feedback(A, root=course, publish=False)
    return course, [nbgrader_meta(c)["grade_id"] for c in dropped]


def _total(course, student):
    scores = pipeline.scores(A, student, root=course)
    return sum(s.score for s in scores), sum(s.max_score for s in scores), {s.grade_id: s.score for s in scores}


def _feedback(course, student):
    return (course / "feedback" / student / A / f"{A}.html").read_text()


@pytest.mark.slow
def test_every_submission_is_graded_and_explained(graded):
    course, dropped = graded
    full = sum(c.metadata["nbgrader"]["points"] for c in graded_cells(A).values())
    for student in ("honest", "renamed", "huge-output", "posing-cell"):
        assert _total(course, student)[:2] == (full, full), student
    for student in ("broken-json", "deleted"):
        assert _total(course, student)[0] == 0, student
    got, _, per_cell = _total(course, "missing-cells")
    assert 0 < got < full
    assert "broadcast_shape_tests" in per_cell  # the deleted test cell was restored and graded
    flags = {(r["student"], r["kind"]) for r in pipeline.grading_flags(course)}
    for student, phrase in [("broken-json", "not valid JSON"), ("deleted", "has no 02-tensors.ipynb"),
                            ("renamed", "handed in as"), ("missing-cells", "were missing"), ("huge-output", "MB"),
                            ("posing-cell", "graded as the student's own cells")]:
        assert (student, "unreadable") in flags, student
        assert phrase in _feedback(course, student), (student, phrase)
    assert ("honest", "unreadable") not in flags
    assert (course / "submitted" / "broken-json" / A / f"{A}.ipynb.unreadable").exists()
    assert all(g in _feedback(course, "missing-cells") for g in dropped)
