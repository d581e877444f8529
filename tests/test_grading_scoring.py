"""The recorded score follows the trusted verdict, whatever the kernel left in a test cell.

nbgrader scores a test cell from its outputs (``nbgrader.utils.determine_grade``): the first
error, stderr stream or ``execute_result`` decides, and an ``execute_result`` gives full or partial
credit. A cheat that replaces the checks can leave an ``execute_result`` before the grader's error,
or a number that reads as partial credit. ``align_outputs`` must make nbgrader's own scoring give
exactly the verdict for every such combination.
"""

import itertools

import nbformat
import pytest
from course_grader.grading.nbgrader_plugins import align_outputs
from nbgrader.utils import determine_grade

POINTS = 3.0
OUTPUTS = {
    "stdout": lambda: nbformat.v4.new_output("stream", name="stdout", text="ok\n"),
    "stderr": lambda: nbformat.v4.new_output("stream", name="stderr", text="warning\n"),
    "error": lambda: nbformat.v4.new_output("error", ename="AssertionError", evalue="no", traceback=["no"]),
    "result-text": lambda: nbformat.v4.new_output("execute_result", data={"text/plain": "'fine'"}, execution_count=1),
    "result-zero": lambda: nbformat.v4.new_output("execute_result", data={"text/plain": "0"}, execution_count=1),
    "result-half": lambda: nbformat.v4.new_output("execute_result", data={"text/plain": "1.5"}, execution_count=1),
    "result-true": lambda: nbformat.v4.new_output("execute_result", data={"text/plain": "True"}, execution_count=1),
    "display": lambda: nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>"}),
}
COMBOS = [c for n in range(0, 4) for c in itertools.product(OUTPUTS, repeat=n)]


def _test_cell(kinds):
    cell = nbformat.v4.new_code_cell("check(...)", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "points": POINTS, "grade_id": "t", "schema_version": 3}})
    cell.outputs = [OUTPUTS[k]() for k in kinds]
    return cell


@pytest.mark.parametrize("passed", [True, False])
def test_score_equals_verdict_for_every_mix_of_kernel_outputs(passed):
    assert len(COMBOS) > 500
    for kinds in COMBOS:
        cell = _test_cell(kinds)
        align_outputs(cell, passed, "the grader's reason")
        score, max_score = determine_grade(cell)
        assert max_score == POINTS
        assert score == (POINTS if passed else 0), (kinds, passed, cell.outputs)


def test_failed_cell_shows_the_reason_first_and_keeps_what_the_student_printed():
    cell = _test_cell(["stdout", "result-true", "display"])
    align_outputs(cell, False, "weights differ from the reference")
    assert cell.outputs[0].output_type == "error" and "weights differ" in cell.outputs[0].evalue
    assert [o.output_type for o in cell.outputs[1:]] == ["stream", "display_data", "display_data"]


def test_passed_cell_keeps_figures_and_prints_but_no_error():
    cell = _test_cell(["stdout", "error", "display"])
    align_outputs(cell, True)
    assert [o.output_type for o in cell.outputs] == ["stream", "display_data"]
