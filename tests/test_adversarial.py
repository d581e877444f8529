"""Submissions that try to cheat the grader or break it (issue: grading you can trust).

Each submission is the instructor's solution notebook with ONE exercise (the target) replaced by a
wrong answer plus one cheat or fault. All of them are autograded together, two nbgrader processes
in parallel. Every submission must score zero on the target's tests and keep every other point;
for the cheats that work against plain nbgrader, the kernel's own verdict (recorded by the
trusted grader) shows that the attack did fool the kernel — the grade did not follow it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import nbformat
import pytest

from course_grader import pipeline
from notebooks import ROOT, graded_cells, nbgrader_meta

# The chapter attacked, its target exercise and a wrong answer for it.
ASSIGNMENT = "02-tensors"
TARGET = "broadcast_shape"
WRONG = "def broadcast_shape(a, b):\n    return tuple(max(x, y) for x, y in zip(a, b))  # no right-alignment, no errors\n"
TARGET_TESTS = ["broadcast_shape_tests"]


@dataclass(frozen=True)
class Attack:
    name: str
    answer_suffix: str = ""       # appended to the target's (wrong) answer cell
    added_cell: str | None = None  # a cell the student inserts right after the set-up cell
    fools_kernel: bool = False    # plain nbgrader would have given the target's points


# Replaces every comparison helper and hidden check the test cells reach with a no-op.
PATCH_CHECKS = (
    "import course.checks as _cc, course.checks.core as _core, course_grader.checks.ch02_tensors as _ref\n"
    "for _m in (_cc, _core, _ref):\n"
    "    for _n in dir(_m):\n"
    "        if _n in ('check', 'equal', 'close', 'raises') or _n.startswith('check_'):\n"
    "            setattr(_m, _n, lambda *a, **k: None)\n")
# The attacks that act on the kernel or on nbgrader's own run (they fool a plain nbgrader, or kill,
# hang or exit it), end to end. The rest of the catalogue (patching torch or builtins, reading the
# instructor's files, lying objects, borrowed answers, importing the grader) runs against two or
# three exercises of every chapter in tests/test_adversarial_chapters.py.
END_TO_END = {"patch-course-checks", "fake-checks-module-in-sys-modules", "input-transformer-blanks-tests",
              "ast-transformer", "exec-obfuscated-patch", "kill-the-kernel", "hang-ignoring-interrupts",
              "system-exit", "stderr-and-warnings"}
ALL_ATTACKS = [
    Attack("patch-course-checks", answer_suffix=PATCH_CHECKS, fools_kernel=True),
    Attack("fake-checks-module-in-sys-modules", answer_suffix=(
        "import sys, types\n_nop = lambda *a, **k: None\n_fake = types.ModuleType('course.checks')\n"
        "_fake.close = _fake.equal = _fake.check = _fake.raises = _nop\n"
        "_fake.call = lambda f, *a, **k: f(*a, **k)\n"
        "_hidden = types.SimpleNamespace(check_broadcast_shape=_nop)\n"
        "sys.modules['course.checks'] = _fake\n"
        "sys.modules['course_grader.checks'] = types.SimpleNamespace(ch02_tensors=_hidden)\n"
        "sys.modules['course_grader.checks.ch02_tensors'] = _hidden\n"), fools_kernel=True),
    Attack("input-transformer-blanks-tests", added_cell=(
        "def _blank(lines):\n    text = ''.join(lines)\n"
        "    return ['pass\\n'] if 'course.checks' in text else lines\n"
        "get_ipython().input_transformers_post.append(_blank)\n"), fools_kernel=True),
    Attack("ast-transformer", added_cell=(
        "import ast\nclass _Gut(ast.NodeTransformer):\n"
        "    def visit_Module(self, node):\n"
        "        src = ast.unparse(node)\n"
        "        return ast.parse('pass') if 'course.checks' in src else node\n"
        "get_ipython().ast_transformers.append(_Gut())\n"), fools_kernel=True),
    Attack("exec-obfuscated-patch", answer_suffix=(
        "exec(bytes.fromhex(" + repr(PATCH_CHECKS.encode().hex()) + ").decode())\n"),
        fools_kernel=True),
    Attack("patch-torch-allclose", answer_suffix="import torch\ntorch.allclose = lambda *a, **k: True\n"),
    Attack("patch-tensor-eq", answer_suffix="import torch\ntorch.Tensor.__eq__ = lambda a, b: True\n"),
    Attack("patch-builtins", answer_suffix="import builtins\nbuiltins.isinstance = lambda *a: True\n"),
    Attack("read-the-instructor-source", answer_suffix=(
        "_src = open('../../../source/" + ASSIGNMENT + "/" + ASSIGNMENT + ".ipynb').read()\n")),
    Attack("read-the-gradebook", answer_suffix=(
        "import sqlite3\n_db = sqlite3.connect('../../../gradebook.db')\n")),
    Attack("kill-the-kernel", added_cell="import os\nos._exit(0)\n"),
    Attack("hang-ignoring-interrupts", answer_suffix=(
        "def broadcast_shape(a, b):\n    while True:\n        try:\n            pass\n        except BaseException:\n            pass\n")),
    Attack("system-exit", added_cell="raise SystemExit(0)\n"),
    Attack("stderr-and-warnings", answer_suffix=(
        "import sys, warnings\nprint('noise', file=sys.stderr)\nwarnings.warn('careful')\n")),
]


ATTACKS = [a for a in ALL_ATTACKS if a.name in END_TO_END]


def _submission(attack: Attack) -> nbformat.NotebookNode:
    nb = nbformat.read(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == TARGET:
            cell.source = WRONG + attack.answer_suffix
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
