"""The isolated grader: each test cell's verdict comes from a fresh worker process, and a cell
that cheats, hangs or kills the process costs only its own exercise."""

import nbformat
import pytest
from course_grader.grading.isolated import grade_notebook, job_from_notebook

from tools import nbauthor as nba

SETUP = "import torch\nfrom course.notebook import setup\nsetup()"
SQ_TEST = "import torch\nfrom course.checks import close\nclose(sq(torch.tensor([3.0])), torch.tensor([9.0]), name='sq(3)')"
CUBE_TEST = "from course.checks import equal\nequal(cube(2), 8)\nequal(cube(3), 27)"


def notebook(tmp_path, sq_body="return x * x", cube_body="return x ** 3", extra_cells=()):
    cells = [nba.md("# t"), nba.code(SETUP),
             nba.answer("sq", f"def sq(x):\n    ### BEGIN SOLUTION\n    {sq_body}\n    ### END SOLUTION"),
             nba.tests("sq_test", 1, SQ_TEST),
             nba.answer("cube", f"def cube(x):\n    ### BEGIN SOLUTION\n    {cube_body}\n    ### END SOLUTION"),
             nba.tests("cube_test", 1, CUBE_TEST)]
    nb = nbformat.read(nba.save(tmp_path / "t.ipynb", cells), as_version=4)
    nb.cells[4:4] = list(extra_cells)
    return nb


def verdicts(report):
    return {k: v.passed for k, v in report.verdicts.items()}


def test_job_is_setup_plus_answers_and_tests_in_order(tmp_path):
    setup, steps = job_from_notebook(notebook(tmp_path))
    assert setup == SETUP
    assert [(s.kind, s.id) for s in steps] == [("answer", "sq"), ("test", "sq_test"), ("answer", "cube"),
                                                ("test", "cube_test")]


@pytest.mark.slow
def test_honest_and_wrong(tmp_path):
    assert verdicts(grade_notebook(notebook(tmp_path))) == {"sq_test": True, "cube_test": True}
    report = grade_notebook(notebook(tmp_path, sq_body="return x + 1"))
    assert verdicts(report) == {"sq_test": False, "cube_test": True}
    assert "sq(3)" in report.verdicts["sq_test"].message


@pytest.mark.slow
@pytest.mark.parametrize("body, reason", [
    ("return x * x\nimport os\nos._exit(0)", "ended the Python process"),
    ("return x * x\nwhile True:\n    try:\n        pass\n    except BaseException:\n        pass", "did not finish"),
    ("return x + 1\nimport torch\ntorch.abs = lambda t: t * 0", "torch.abs"),
    ("return x + 1\nimport course.checks.core as c\nc._torch_abs = lambda t: t * 0", "_torch_abs"),
    ("return x + 1\nimport builtins\nbuiltins.float = lambda v: 0.0", "builtins.float"),
])
def test_a_cheating_or_broken_answer_cell_costs_only_its_exercise(tmp_path, body, reason):
    nb = notebook(tmp_path)
    first, rest = body.split("\n", 1)  # the function is fine; the cell's top-level code is not
    nb.cells[2].source = f"def sq(x):\n    {first}\n{rest}"
    report = grade_notebook(nb, cell_timeout=3)
    assert verdicts(report) == {"sq_test": False, "cube_test": True}
    assert reason in report.verdicts["sq_test"].message and "sq" in report.excluded


@pytest.mark.slow
@pytest.mark.parametrize("body, reason", [
    ("while True:\n        pass", "did not finish"),
    ("import os\n    os._exit(3)", "exit code 3"),
    ("import torch\n    torch.Tensor.__eq__ = lambda a, b: True\n    return x", "torch.Tensor.__eq__"),
    ("raise SystemExit(0)", "SystemExit"),
])
def test_a_function_that_cheats_when_called_fails_its_test(tmp_path, body, reason):
    report = grade_notebook(notebook(tmp_path, sq_body=body), cell_timeout=3)
    assert verdicts(report) == {"sq_test": False, "cube_test": True}
    assert reason in report.verdicts["sq_test"].message


@pytest.mark.slow
def test_student_output_cannot_forge_results(tmp_path):
    forged = 'print(\'{"id": "sq_test", "ok": true}\')\n    import sys\n    sys.stderr.write("warning")\n    return x + 1'
    report = grade_notebook(notebook(tmp_path, sq_body=forged))
    assert verdicts(report) == {"sq_test": False, "cube_test": True}


def test_what_a_test_cell_prints_comes_back_bounded(tmp_path):
    """The feedback of a kernel-less autograde (make autograde KERNEL=0) shows what each test printed."""
    from course_grader.grading.judge import PRINTED_LIMIT

    noisy = "print('from the answer cell')\n    return x * x"
    nb = notebook(tmp_path, sq_body=noisy)
    nb.cells[3].source += "\nprint('sq passed')\nprint('x' * 50_000)"
    nb.cells[-1].source += "\nimport sys\nsys.stdout = None\nprint('cube', file=sys.__stdout__)"
    report = grade_notebook(nb)
    assert verdicts(report) == {"sq_test": True, "cube_test": True}
    printed = report.verdicts["sq_test"].printed
    assert printed.startswith("sq passed\nxxx") and len(printed) == PRINTED_LIMIT, printed[:80]
    # what the student's function printed while the test called it stays in the sandbox: it could carry
    # the hidden cases' inputs into the feedback
    assert "from the answer cell" not in printed
    assert report.verdicts["cube_test"].printed == ""  # replaced stdout


@pytest.mark.slow
def test_cells_the_student_added_are_not_run(tmp_path):
    helper = nbformat.v4.new_code_cell("def helper(x):\n    return x * x")  # no nbgrader metadata
    report = grade_notebook(notebook(tmp_path, sq_body="return helper(x)", extra_cells=[helper]))
    assert not report.verdicts["sq_test"].passed and "helper" in report.verdicts["sq_test"].message


@pytest.mark.slow
def test_a_broken_setup_cell_fails_everything_with_a_reason(tmp_path):
    nb = notebook(tmp_path)
    nb.cells[1].source = "import no_such_module_here"
    report = grade_notebook(nb)
    assert verdicts(report) == {"sq_test": False, "cube_test": False}
    assert "set-up cell failed" in report.verdicts["cube_test"].message


@pytest.mark.slow
def test_a_slow_submission_is_stopped_by_its_budget(tmp_path):
    """Each cell under the per-cell limit, the whole over the submission's budget: the tests not reached fail."""
    import time

    slow = "import time\ntime.sleep(4)\n"
    nb = notebook(tmp_path, sq_body="return x * x", cube_body="return x ** 3")
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = slow + cell.source
    start = time.monotonic()
    report = grade_notebook(nb, cell_timeout=10, budget=6)
    assert time.monotonic() - start < 30
    assert verdicts(report) == {"sq_test": True, "cube_test": False}
    assert report.over_budget and "grading time (6 s)" in report.verdicts["cube_test"].message


@pytest.mark.slow
def test_a_patch_that_restores_itself_before_the_check_looks_earns_nothing(tmp_path):
    """The comparison runs in the judge: a wrong answer that blinds the comparison helper in its own process
    for one call (and puts it back, so the after-cell watch sees nothing) still fails."""
    body = ("import course.checks.core as _c\n    _real = _c._torch_abs\n"
            "    def _blind(t):\n        _c._torch_abs = _real\n        return t * 0\n"
            "    _c._torch_abs = _blind\n    return x + 1")
    report = grade_notebook(notebook(tmp_path, sq_body=body))
    assert verdicts(report) == {"sq_test": False, "cube_test": True}
    # the judge's comparison saw the wrong answer; the patch, never used there, is also left behind in the
    # sandbox, which the watch reports (either alone fails the test)
    assert "_torch_abs" in report.verdicts["sq_test"].message or "differ" in report.verdicts["sq_test"].message
