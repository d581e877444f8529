"""One door into autograding (issue 29): the formgrader's Autograde button grades as ``make autograde`` does.

The button calls ``NbGraderAPI.autograde`` in the formgrader's process, with the course's
``nbgrader_config.py``: the same intake (``c.Autograde.pre_convert_hook``), the same sandboxed
preprocessors and the same options (traitlets on ``TrustedExecute``, no environment variables).
"""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest
from course_grader import pipeline
from course_grader.grading import sandbox as sb
from notebooks import ROOT, graded_cells

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sb.bwrap() is None, reason="needs bubblewrap (make sandbox)")]
A = "02-tensors"


def _course(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source" / A, course / "source" / A)
    pipeline.nbgrader("generate_assignment", A, "--force", root=course)
    for student, tree in (("complete", "solutions"), ("untouched", "release")):
        folder = course / "submitted" / student / A
        folder.mkdir(parents=True)
        shutil.copy(ROOT / tree / A / f"{A}.ipynb", folder)
    gutted = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4)  # its test cells deleted
    gutted.cells = [c for c in gutted.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    folder = course / "submitted" / "gutted" / A
    folder.mkdir(parents=True)
    nbformat.write(gutted, folder / f"{A}.ipynb")
    return course


def _api(course):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    config.TrustedExecute.run_kernel = False  # the kernel run is tested elsewhere; this test is about the door
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def test_the_formgrader_button_grades_like_make_autograde(tmp_path, monkeypatch):
    course = _course(tmp_path)
    monkeypatch.chdir(course)
    api = _api(course)
    for student in ("complete", "untouched", "gutted"):
        result = api.autograde(A, student)
        assert result["success"], result.get("log", "")[-3000:]
    by_button = {s: {c.grade_id: c.score for c in pipeline.scores(A, s, root=course)}
                 for s in ("complete", "untouched", "gutted")}
    points = {gid: c.metadata["nbgrader"]["points"] for gid, c in graded_cells(A).items()}
    assert by_button["complete"] == points and set(by_button["untouched"].values()) == {0}
    # the gutted notebook went through intake on this door too: its tests were restored and graded
    assert by_button["gutted"] == points
    nb = json.loads((course / "autograded" / "gutted" / A / f"{A}.ipynb").read_text())
    assert nb["metadata"]["course_grading"]["sandbox"] == "bubblewrap"
    assert any("restored from the released notebook" in n for n in nb["metadata"]["course_grading"]["intake"])

    shutil.rmtree(course / "autograded")
    pipeline.autograde(A, root=course, jobs=1, kernel=False)
    by_make = {s: {c.grade_id: c.score for c in pipeline.scores(A, s, root=course)} for s in by_button}
    assert by_make == by_button
