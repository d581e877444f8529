"""The Chinese edition (中文版), graded as a class that chose it: COURSE_LANGUAGE=zh.

In a temporary course holding both editions of every Chinese chapter, with the language set to zh:
1. ``pipeline.release`` regenerates both editions, and release-zh/ and solutions-zh/ are what is committed;
2. the gradebook holds the Chinese edition (nbgrader restores locked cells from it when it grades);
3. autograde: the zh instructor version scores full marks and the untouched zh release zero, on the same
   grade ids with the same points as the English edition; the autograded notebooks keep the Chinese prose.
"""

from __future__ import annotations

import os
import shutil

import nbformat
import pytest
from course_grader import pipeline
from notebooks import ROOT, graded_cells, is_test, load, nbgrader_meta, stripped

ZH = pipeline.EDITIONS["zh"]
ZH_ASSIGNMENTS = pipeline.assignments(ROOT, "zh")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("edition-zh")]


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture(scope="module")
def zh_course(tmp_path_factory):
    course = tmp_path_factory.mktemp("edition-zh")
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    for a in ZH_ASSIGNMENTS:
        for tree in ("source", ZH["source"]):
            shutil.copytree(ROOT / tree / a, course / tree / a)
    before = os.environ.get("COURSE_LANGUAGE")
    os.environ["COURSE_LANGUAGE"] = "zh"  # the one setting; every nbgrader process started below reads it
    try:
        assert pipeline.course_language(course) == "zh"
        assert pipeline.release(course) == ["en", "zh"]  # the class's edition last, into the gradebook
        for a in ZH_ASSIGNMENTS:
            for student, tree in (("instructor", ZH["source"]), ("untouched", ZH["release"])):
                dest = course / "submitted" / f"{student}-{a}" / a
                dest.mkdir(parents=True)
                shutil.copy(course / tree / a / f"{a}.ipynb", dest)
        pipeline.autograde("*", root=course, jobs=2)
        yield course
    finally:
        if before is None:
            os.environ.pop("COURSE_LANGUAGE", None)
        else:
            os.environ["COURSE_LANGUAGE"] = before


def test_there_is_a_chinese_edition():
    assert ZH_ASSIGNMENTS, f"{ZH['source']}/ holds no assignment"


def test_the_language_setting_picks_the_folders(tmp_path, monkeypatch):
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    monkeypatch.delenv("COURSE_LANGUAGE", raising=False)
    assert pipeline.course_language(tmp_path) == "en", "the committed nbgrader_config.py selects English"
    assert pipeline.edition_folder("release", tmp_path) == tmp_path / "release"
    monkeypatch.setenv("COURSE_LANGUAGE", "zh")
    assert pipeline.edition_folder("release", tmp_path) == tmp_path / "release-zh"
    assert pipeline.edition_folder("source", tmp_path) == tmp_path / "source-zh"
    monkeypatch.setenv("COURSE_LANGUAGE", "fr")
    with pytest.raises(pipeline.PipelineError, match="COURSE_LANGUAGE"):
        pipeline.course_language(tmp_path)


def test_release_zh_and_solutions_zh_are_in_sync(zh_course):
    for key in ("release", "solutions"):
        for a in ZH_ASSIGNMENTS:
            for tree in (key, ZH[key]):
                fresh = nbformat.read(zh_course / tree / a / f"{a}.ipynb", as_version=4)
                assert stripped(fresh) == stripped(load(a, tree)), (
                    f"{tree}/{a} is out of date: run `python -m course_grader.pipeline release --assignment {a}`")


def test_the_gradebook_holds_the_classes_edition(zh_course):
    from nbgrader.api import Gradebook

    with Gradebook(pipeline.db_url(zh_course)) as gb:
        for a in ZH_ASSIGNMENTS:
            prose = [c.source for c in gb.find_notebook(a, a).source_cells if c.cell_type == "markdown"]
            assert prose and all(_chinese(text) for text in prose), f"{a}: the gradebook's prose is not the Chinese one"
            zh = [c.source for c in load(a, ZH["source"]).cells if c.cell_type == "markdown"]
            assert sorted(prose) == sorted(zh)


@pytest.mark.parametrize("assignment", ZH_ASSIGNMENTS)
def test_autograde_zh_full_marks_and_zero_on_the_english_grade_ids(assignment, zh_course):
    points = {g: nbgrader_meta(c)["points"] for g, c in graded_cells(assignment).items()}  # the English edition's
    full = pipeline.scores(assignment, f"instructor-{assignment}", root=zh_course)
    assert {s.grade_id: s.max_score for s in full} == points, "the editions are graded on the same cells and points"
    assert all(s.score == s.max_score for s in full), f"zh instructor version lost points: {full}"
    zero = pipeline.scores(assignment, f"untouched-{assignment}", root=zh_course)
    assert {s.grade_id: s.max_score for s in zero} == points
    assert all(s.score == 0 for s in zero), f"untouched zh release scored points: {[s for s in zero if s.score]}"

    for student in ("instructor", "untouched"):
        graded = nbformat.read(zh_course / "autograded" / f"{student}-{assignment}" / assignment / f"{assignment}.ipynb",
                               as_version=4)
        prose = [c.source for c in graded.cells if c.cell_type == "markdown"]
        assert prose and all(_chinese(text) for text in prose), f"{student}: the autograded notebook lost its Chinese"
        code = [c for c in graded.cells if c.cell_type == "code"]
        assert all(c.execution_count for c in code), f"{student}: the zh notebook runs top to bottom"
        for cell in code:
            if student == "untouched" and is_test(cell):
                continue  # the untouched release's test cells fail, and only they may
            bad = [o for o in cell.get("outputs", []) if o.output_type == "error" or o.get("name") == "stderr"]
            assert not bad, f"{student}: {nbgrader_meta(cell)['grade_id']} wrote an error/stderr: {bad[0]}"
