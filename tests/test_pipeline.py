"""The nbgrader pipeline, for every assignment in source/.

1. metadata is valid, graded cells have points, solutions and hidden tests are marked;
2. release/ and solutions/ are what nbgrader generates from source/ today;
3. every test cell passes on the instructor's answers and fails on the release's stubs;
4. nbgrader autograde: the instructor version scores full marks, the untouched release scores
   zero on every test cell and still runs to the end.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from course_grader import pipeline
from nbgrader.nbgraderformat import MetadataValidator
from notebooks import (
    ROOT,
    answer_namespace,
    graded_cells,
    is_answer,
    is_test,
    load,
    nbgrader_meta,
    notebook_path,
    run_test_cell,
    setup_cell,
    stripped,
)

from tools.notebooks import program_difference

ASSIGNMENTS = pipeline.assignments(ROOT, "en")
# the Chinese edition (中文版): the chapters with Chinese prose, in source-zh/, release-zh/ and solutions-zh/
ZH = pipeline.EDITIONS["zh"]
ZH_ASSIGNMENTS = pipeline.assignments(ROOT, "zh")


def test_there_are_assignments():
    assert ASSIGNMENTS, "source/ holds no assignment"


def test_layout():
    for tree in ("source", "release", "solutions"):
        names = sorted(p.name for p in (ROOT / tree).iterdir() if p.is_dir())
        assert names == ASSIGNMENTS, f"{tree}/ holds {names}, source/ holds {ASSIGNMENTS}: run `make release`"
        for a in ASSIGNMENTS:
            assert notebook_path(a, tree).is_file(), f"missing {notebook_path(a, tree)}"


def test_layout_of_the_chinese_edition():
    """Every zh tree holds the same assignments, each a notebook of the same name, all of them English ones too."""
    assert set(ZH_ASSIGNMENTS) <= set(ASSIGNMENTS), "every Chinese assignment is an English one"
    for tree in ZH.values():
        folder = ROOT / tree
        names = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
        assert names == ZH_ASSIGNMENTS, (f"{tree}/ holds {names}, {ZH['source']}/ holds {ZH_ASSIGNMENTS}: run "
                                         f"`python -m course_grader.pipeline release`")
        for a in ZH_ASSIGNMENTS:
            assert sorted(p.name for p in (folder / a).iterdir()) == [f"{a}.ipynb"], f"{tree}/{a}: one notebook"


@pytest.mark.parametrize("assignment", ZH_ASSIGNMENTS)
@pytest.mark.parametrize("tree", ["source", "release", "solutions"])
def test_both_editions_are_graded_the_same(assignment, tree):
    """The zh notebook of every tree has the English one's cells, code, grade ids and points; only prose differs."""
    en, zh = load(assignment, tree), load(assignment, ZH[tree])
    assert len(en.cells) == len(zh.cells), f"{ZH[tree]}/{assignment} has other cells than {tree}/{assignment}"

    def meta(cell):  # a locked cell's checksum is its text's: prose and a code cell's comments may differ
        grading = {k: v for k, v in nbgrader_meta(cell).items() if k != "checksum"}
        return cell.cell_type, {**cell.metadata, "nbgrader": grading}

    for a, b in zip(en.cells, zh.cells, strict=True):
        where = f"{ZH[tree]}/{assignment}/{nbgrader_meta(a).get('grade_id')}"
        assert meta(a) == meta(b), f"{where}: metadata differ"
        if a.source == b.source:
            assert nbgrader_meta(a).get("checksum") == nbgrader_meta(b).get("checksum"), f"{where}: checksums differ"
        if a.cell_type == "code":  # the same program; only comments, docstrings and printed labels may differ
            why = program_difference(a.source, b.source)
            assert why is None, f"{where}: code differs between the editions: {why}"
    assert graded_cells(assignment, tree).keys() == graded_cells(assignment, ZH[tree]).keys()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_metadata(assignment):
    nb = load(assignment)
    MetadataValidator().validate_nb(nb)  # raises on corrupt nbgrader metadata
    ids = [nbgrader_meta(c).get("grade_id") for c in nb.cells]
    assert all(ids), "every cell carries nbgrader metadata with a grade_id"
    assert len(ids) == len(set(ids)), "grade_ids are unique"
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert setup_cell(nb) is first_code, "the first code cell is the locked set-up cell"
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        where = f"{assignment}/{meta['grade_id']}"
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{where}: outputs are stripped in source/"
        if meta["grade"]:
            assert meta.get("points", 0) > 0, f"{where}: a graded cell is worth points"
        if is_answer(cell):
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source, where
        if is_test(cell):
            assert meta["locked"], f"{where}: test cells are locked"
            assert "### BEGIN SOLUTION" not in cell.source, where
            # JupyterLab's Run All stops at the first raising cell unless it has this tag; an
            # untouched release must run to the end in the browser as it does under nbgrader.
            assert "raises-exception" in cell.metadata.get("tags", []), f"{where}: tag the test cell raises-exception"
    assert graded_cells(assignment), f"{assignment} has no graded test cell"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_has_stubs_and_no_hidden_tests(assignment):
    nb = load(assignment, "release")
    answers = [c for c in nb.cells if is_answer(c)]
    assert answers, "the release has answer cells"
    for cell in answers:
        assert "raise NotImplementedError()" in cell.source, f"{nbgrader_meta(cell)['grade_id']}: stub in release"
        assert "BEGIN SOLUTION" not in cell.source
    for cell in nb.cells:
        assert "BEGIN HIDDEN TESTS" not in cell.source, "hidden tests are removed from the release"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_test_cell_passes_on_the_instructor_answers(assignment):
    for grade_id in graded_cells(assignment):
        run_test_cell(assignment, grade_id)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_test_cell_fails_on_the_release_stubs(assignment):
    for grade_id in graded_cells(assignment, "release"):
        with pytest.raises((NotImplementedError, AssertionError)):
            run_test_cell(assignment, grade_id, tree="release")


def test_answer_cells_only_define_things():
    for assignment in ASSIGNMENTS:
        ns = answer_namespace(assignment, "release")  # stubs: executing the cell must not raise
        assert ns


def _course_copy(tmp_path: Path, assignments: list[str]) -> Path:
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    for a in assignments:
        shutil.copytree(ROOT / "source" / a, tmp_path / "source" / a)
    return tmp_path


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    """One course holding every assignment, released by nbgrader, and two submissions of each (the
    instructor's version and the untouched release), autograded by two nbgrader processes, as
    ``make autograde`` does: one nbgrader start-up and one warm kernel server per process for the
    whole suite instead of one per chapter."""
    course = _course_copy(tmp_path_factory.mktemp("pipeline"), ASSIGNMENTS)
    pipeline.release(course)
    for a in ASSIGNMENTS:
        for student, tree in (("instructor", course / "source"), ("untouched", course / "release")):
            dest = course / "submitted" / f"{student}-{a}" / a
            dest.mkdir(parents=True)
            shutil.copy(tree / a / f"{a}.ipynb", dest)
    pipeline.autograde("*", root=course, jobs=2)
    return course


@pytest.mark.slow
@pytest.mark.xdist_group("pipeline")  # one worker builds, releases and grades the course
def test_release_and_solutions_are_in_sync(graded_course):
    course = graded_course
    for tree in ("release", "solutions"):
        for a in ASSIGNMENTS:
            fresh = nbformat.read(course / tree / a / f"{a}.ipynb", as_version=4)
            committed = load(a, tree)
            assert stripped(fresh) == stripped(committed), (
                f"{tree}/{a} is out of date with source/{a}: run `make release` and commit the result")
        extra = sorted({p.relative_to(course / tree) for p in (course / tree).rglob("*") if p.is_file()}
                       ^ {p.relative_to(ROOT / tree) for p in (ROOT / tree).rglob("*") if p.is_file()})
        assert not extra, f"{tree}/ differs from a fresh generation in files: {extra}"


def _outputs(cell, output_type=None, stream=None):
    for out in cell.get("outputs", []):
        if output_type and out.output_type != output_type:
            continue
        if stream and out.get("name") != stream:
            continue
        yield out


@pytest.mark.slow
@pytest.mark.xdist_group("pipeline")
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_autograde_full_marks_and_zero(assignment, graded_course):
    course = graded_course
    full = pipeline.scores(assignment, f"instructor-{assignment}", root=course)
    assert full and all(s.score == s.max_score for s in full), f"instructor version lost points: {full}"
    zero = pipeline.scores(assignment, f"untouched-{assignment}", root=course)
    assert {s.grade_id for s in zero} == set(graded_cells(assignment))
    assert all(s.score == 0 for s in zero), f"untouched release scored points: {[s for s in zero if s.score]}"

    graded = nbformat.read(course / "autograded" / f"instructor-{assignment}" / assignment / f"{assignment}.ipynb", 4)
    for cell in graded.cells:
        bad = list(_outputs(cell, "error")) + list(_outputs(cell, "stream", "stderr"))
        assert not bad, f"instructor run: {nbgrader_meta(cell)['grade_id']} wrote an error/stderr: {bad[0]}"

    untouched = nbformat.read(course / "autograded" / f"untouched-{assignment}" / assignment / f"{assignment}.ipynb", 4)
    code_cells = [c for c in untouched.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code_cells), "the untouched release runs every cell to the end"
    for cell in code_cells:
        if is_test(cell):
            continue
        bad = list(_outputs(cell, "error")) + list(_outputs(cell, "stream", "stderr"))
        assert not bad, (f"untouched release: ungraded cell {nbgrader_meta(cell)['grade_id']} failed; "
                         f"demos must run before the exercises are done (use course.notebook.needs): {bad[0]}")
