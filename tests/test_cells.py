"""course.cells: what each notebook cell is, said once for the grader, the student package, the tools and the tests."""

import copy
import itertools
import json

import nbformat
import pytest
from nbgrader import utils as nbgrader_utils
from notebooks import ROOT

from course import cells

TREES = ("source", "release", "solutions", "source-zh", "release-zh", "solutions-zh")
NOTEBOOKS = sorted(p for tree in TREES for p in (ROOT / tree).glob("*/*.ipynb"))
RELEASE = ROOT / "release" / "02-tensors" / "02-tensors.ipynb"


def _read(path):
    return nbformat.read(path, as_version=4)


def _code(source, **meta):
    cell = nbformat.v4.new_code_cell(source)
    if meta:
        cell.metadata["nbgrader"] = {"schema_version": 3, **meta}
    return cell


# every combination of nbgrader's three flags, on code and markdown, with and without nbgrader metadata
FLAG_CELLS = [
    *(nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_markdown_cell("x")),
    *(maker("x", metadata={"nbgrader": {"grade_id": "g", "grade": g, "solution": s, "locked": l, "points": 1}})
      for maker in (nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell)
      for g, s, l in itertools.product((False, True), repeat=3)),
    nbformat.v4.new_code_cell("x", metadata={"nbgrader": {}}),
]


@pytest.mark.parametrize("cell", FLAG_CELLS, ids=range(len(FLAG_CELLS)))
def test_the_flags_mean_what_nbgrader_utils_says(cell):
    for name in ("is_grade", "is_solution", "is_locked"):
        assert getattr(cells, name)(cell) == bool(getattr(nbgrader_utils, name)(cell)), name


@pytest.mark.skipif(not NOTEBOOKS, reason="no built notebooks")
def test_every_course_notebook_cell_agrees_with_nbgrader_and_the_set_up_cell_is_the_first_code_cell():
    for path in NOTEBOOKS:
        nb = _read(path)
        for cell in nb.cells:
            where = f"{path.relative_to(ROOT)} {cells.grade_id(cell)}"
            for name in ("is_grade", "is_solution", "is_locked"):
                assert getattr(cells, name)(cell) == bool(getattr(nbgrader_utils, name)(cell)), f"{where}: {name}"
            assert cells.kind(cell) in ("answer", "test", "locked"), f"{where}: {cells.kind(cell)}"
        first_code = next(c for c in nb.cells if c.cell_type == "code")
        assert cells.setup_cell(nb.cells) is first_code, f"{path.relative_to(ROOT)}: the set-up cell is not first"


def test_each_kind_on_a_release_notebook():
    nb = _read(RELEASE)
    kinds = [cells.kind(c) for c in nb.cells]
    assert set(kinds) == {"answer", "test", "locked"}
    answers = [cells.grade_id(c) for c in nb.cells if cells.is_answer(c)]
    tests = [cells.grade_id(c) for c in nb.cells if cells.is_test(c)]
    assert "broadcast_shape" in answers and "broadcast_shape_tests" in tests
    assert all(c.cell_type == "code" and "raise NotImplementedError" in c.source for c in nb.cells if cells.is_answer(c))
    assert {cells.grade_id(c) for c in nb.cells if cells.is_graded(c)} == set(answers) | set(tests)
    # the student edits answers and any code cell without a lock; never a test, the set-up or prose
    assert [c for c in nb.cells if cells.is_student_code(c)] == [c for c in nb.cells if cells.is_answer(c)]
    setup = cells.setup_cell(nb.cells)
    assert cells.kind(setup) == "locked" and "import" in setup.source
    # the same answers read from the JSON as plain dicts (how course.student_code reads a notebook)
    plain = json.loads(RELEASE.read_text(encoding="utf-8"))["cells"]
    assert [cells.kind(c) for c in plain] == kinds and cells.setup_cell(plain) == plain[nb.cells.index(setup)]


def test_a_student_cannot_make_their_own_cell_the_set_up_cell():
    nb = _read(RELEASE)
    setup = cells.setup_cell(nb.cells)
    mine = nbformat.v4.new_code_cell("import os  # mine, above the set-up cell")
    nb.cells.insert(0, mine)
    assert cells.setup_cell(nb.cells) is setup, "a code cell the student added is not the set-up cell"
    assert cells.kind(mine) == "free" and cells.is_student_code(mine)
    # a lock written into the set-up cell's own metadata beside a solution flag makes it an answer, not the set-up
    forged = copy.deepcopy(setup)
    forged.metadata["nbgrader"]["solution"] = True
    nb.cells[0] = forged
    assert cells.kind(forged) == "answer" and not cells.is_locked(forged)
    assert cells.setup_cell(nb.cells) is setup


def test_forged_metadata_goes_at_intake_and_the_grader_keeps_the_released_set_up(tmp_path):
    from course_grader.grading.isolated import job_from_notebook
    from course_grader.intake import prepare

    nb = _read(RELEASE)
    released_setup = cells.setup_cell(nb.cells).source
    nb.cells.insert(0, _code("import os\nos.system('true')", grade_id="my-setup", locked=True, grade=False,
                             solution=False))
    assert cells.setup_cell(nb.cells) is nb.cells[0], "before intake the forged lock is taken at its word"
    folder = tmp_path / "student" / "02-tensors"
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / RELEASE.name)
    notes = prepare(folder, RELEASE)
    assert any("my-setup" in n for n in notes)
    graded = _read(folder / RELEASE.name)
    assert cells.kind(graded.cells[0]) == "free"
    setup, steps = job_from_notebook(graded)
    assert setup == released_setup
    assert all(s.id != "my-setup" for s in steps)
    assert [s.kind for s in steps if s.id == "broadcast_shape"] == ["answer"]


def test_metadata_that_is_not_a_mapping_counts_as_none():
    for meta in ("junk", None, 3, ["grade"]):
        cell = {"cell_type": "code", "source": "x", "metadata": {"nbgrader": meta}}
        assert cells.nbgrader(cell) == {} and cells.kind(cell) == "free" and cells.grade_id(cell) is None
    assert cells.kind({"cell_type": "code", "source": "x", "metadata": "junk"}) == "free"
    assert cells.setup_cell([]) is None
