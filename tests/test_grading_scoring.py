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


def test_nbgrader_checks_its_metadata_schema_once_and_every_cell_as_before(monkeypatch):
    import jsonschema
    from nbgrader.nbgraderformat import MetadataValidator, ValidationError, common

    # importing course_grader.grading.nbgrader_plugins (above) installed it
    assert type(common.jsonschema).__name__ == "_SchemaCheckedOnce"
    checked = []
    kind = jsonschema.validators.validator_for(MetadataValidator().schema)
    monkeypatch.setattr(kind, "check_schema", classmethod(lambda cls, schema: checked.append(schema)))
    common.jsonschema._validators.clear()
    validator = MetadataValidator()

    def cell(grade_id):
        return nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {
            "grade": True, "grade_id": grade_id, "locked": True, "points": 2, "schema_version": 3, "solution": False,
            "task": False}})

    good = cell("t")
    nb = nbformat.v4.new_notebook(cells=[cell("a"), cell("b"), cell("c")])
    validator.validate_nb(nb)
    assert len(checked) == 1, "the schema is checked once, not once a cell"
    for wrong in ({"points": "two"}, {"grade": "yes"}, {"extra": 1}):
        bad = nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {**good.metadata["nbgrader"], **wrong}})
        with pytest.raises((ValidationError, jsonschema.ValidationError)):
            validator.validate_cell(bad)
        with pytest.raises(jsonschema.ValidationError):  # what jsonschema itself says of it
            jsonschema.validate(bad.metadata["nbgrader"], validator.schema)
