"""Submissions that try to cheat the grader or break it (issue: grading you can trust).

Each submission is the instructor's solution notebook with ONE exercise (the target) replaced by a
wrong answer plus one cheat or fault. All of them are autograded together, two nbgrader processes
in parallel. Every submission must score zero on the target's tests and keep every other point;
for the cheats that work against plain nbgrader, the kernel's own verdict (recorded by the
trusted grader) shows that the attack did fool the kernel — the grade did not follow it.
"""

from __future__ import annotations

import shutil

import attacks
import nbformat
import pytest
from course_grader import pipeline
from notebooks import ROOT, graded_cells, nbgrader_meta

# The chapter attacked, its target exercise and a wrong answer for it.
ASSIGNMENT = "02-tensors"
TARGET = "broadcast_shape"
WRONG = "def broadcast_shape(a, b):\n    return tuple(max(x, y) for x, y in zip(a, b))  # no right-alignment, no errors\n"
TARGET_TESTS = ["broadcast_shape_tests"]


# The attacks that act on the kernel or on nbgrader's own run (they fool a plain nbgrader, or kill,
# hang or exit it), end to end, from the catalogue in tests/attacks.py. The rest of the catalogue
# (patching torch or builtins, reading the instructor's files, lying objects, borrowed answers,
# importing the grader) runs against two or three exercises of every chapter in
# tests/test_adversarial_chapters.py.
END_TO_END = ("patch-course-checks", "fake-checks-module-in-sys-modules", "input-transformer-blanks-tests",
              "ast-transformer", "exec-obfuscated-patch", "kill-the-kernel", "hang-ignoring-interrupts",
              "system-exit", "stderr-and-warnings")
_TARGET = attacks.Target(ASSIGNMENT, TARGET, wrong=WRONG, borrowed="", name=TARGET, returns="tuple",
                         module="ch02_tensors")
ATTACKS = [a for a in attacks.attacks_for(_TARGET) if a.name in END_TO_END]


def _submission(attack: attacks.Attack) -> nbformat.NotebookNode:
    nb = nbformat.read(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == TARGET:
            cell.source = attacks.attack_cell(_TARGET, attack) if not attack.added_cell else WRONG
    if attack.added_cell:
        first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        nb.cells.insert(first_code + 1, nbformat.v4.new_code_cell(attack.added_cell))
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("adversarial")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    with open(course / "nbgrader_config.py", "a") as cfg:
        cfg.write("\nc.Execute.timeout = 20  # keeps the hanging submissions short\n")
    shutil.copytree(ROOT / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    pipeline.nbgrader("generate_assignment", ASSIGNMENT, "--force", root=course)
    for attack in ATTACKS:
        folder = course / "submitted" / attack.name / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(_submission(attack), folder / f"{ASSIGNMENT}.ipynb")
    pipeline.autograde(ASSIGNMENT, root=course, jobs=2)
    return course


@pytest.fixture(scope="module")
def graded_without_kernel(graded, tmp_path_factory):
    """The same submissions autograded with no kernel run (make autograde KERNEL=0)."""
    course = tmp_path_factory.mktemp("adversarial-no-kernel")
    for part in ("nbgrader_config.py", "source", "release", "submitted"):
        (shutil.copytree if (graded / part).is_dir() else shutil.copy)(graded / part, course / part)
    pipeline.nbgrader("generate_assignment", ASSIGNMENT, "--force", root=course)  # the gradebook's entries
    pipeline.autograde(ASSIGNMENT, root=course, jobs=2, kernel=False)
    return course


@pytest.mark.slow
@pytest.mark.xdist_group("adversarial-02")  # one worker builds and grades the course, not one per worker
@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_attack_scores_zero_on_its_exercise_and_keeps_the_rest(graded, attack):
    scores = {s.grade_id: s for s in pipeline.scores(ASSIGNMENT, attack.name, root=graded)}
    assert set(scores) == set(graded_cells(ASSIGNMENT))
    for grade_id, s in scores.items():
        if grade_id in TARGET_TESTS:
            assert s.score == 0, f"{attack.name} got {s.score} on {grade_id}"
        else:
            assert s.score == s.max_score, f"{attack.name} lost points on {grade_id}"
    info = nbformat.read(graded / "autograded" / attack.name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                         as_version=4).metadata["course_grading"]
    if attack.fools_kernel:
        assert all(info["kernel_passed"][t] for t in TARGET_TESTS), "the attack should fool a plain kernel run"
    feedback_reasons = " ".join(info["failed_tests"].get(t, "") for t in TARGET_TESTS)
    assert feedback_reasons, "the feedback gives a reason"


@pytest.mark.slow
@pytest.mark.xdist_group("adversarial-02")
@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_without_the_kernel_run_the_grade_is_the_same(graded, graded_without_kernel, attack):
    def points(course):
        return {s.grade_id: s.score for s in pipeline.scores(ASSIGNMENT, attack.name, root=course)}

    assert points(graded_without_kernel) == points(graded)
    nb = nbformat.read(graded_without_kernel / "autograded" / attack.name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                       as_version=4)
    info = nb.metadata["course_grading"]
    assert info["kernel_run"] is False and not info["kernel_passed"] and not info["kernel_problem"]
    assert all(info["failed_tests"].get(t) for t in TARGET_TESTS), "the feedback gives a reason"
    assert "graded without running the notebook in a kernel" in nb.cells[0].source
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("execution_count") for c in code), "no kernel ran"
