"""Every chapter attacked: each (target, attack) of tests/adversarial/ scores zero on its exercise and
keeps every other point.

1. The attacks the static tamper scan sees (patching, IPython hooks, process control, file access,
   importing the grader) must be flagged in the cell that carries them: a flagged answer cell is
   not run, so its exercise scores zero (``tests/test_grading_isolated.py`` shows that exclusion).
   The attacks only a run can stop (lying objects, borrowed answers, a hang) go through the trusted
   grader (tamper scan + isolated re-run of every test cell), packed into a few submissions per
   chapter (one attack per exercise per submission).
2. Through ``nbgrader autograde`` end to end, for the chapters where the recorded score once kept
   points the trusted verdict had taken away (01, 05, 06; chapter 02 has its own end-to-end suite in
   ``tests/test_adversarial.py``), one submission per chapter carrying three attacks:
   replacing the checks from inside the notebook (which kept 9–13 points in chapters 01, 05 and 06
   before the recorded score was made to follow the verdict), a lying tensor subclass, and a
   borrowed answer. The gradebook's points must equal the trusted verdict.
"""

from __future__ import annotations

import shutil

import attacks
import nbformat
import pytest
from course_grader import pipeline
from course_grader.grading.nbgrader_plugins import trusted_verdicts
from course_grader.grading.scan import scan_notebook
from notebooks import ROOT, graded_cells

CHAPTERS = [c for c in attacks.CHAPTERS if attacks.module_exists(c)]
SUBMISSIONS = [s for c in CHAPTERS for s in attacks.pack(c)]


def test_every_chapter_has_targets_and_every_attack_runs_on_each():
    assert CHAPTERS == list(attacks.CHAPTERS), f"chapters without adversarial targets: " \
                                               f"{sorted(set(attacks.CHAPTERS) - set(CHAPTERS))}"
    for target in attacks.all_targets():
        assert target.exercise in attacks.answer_ids(target.assignment), target
        names = {a.name for a in attacks.attacks_for(target)}
        assert len(names) >= 17, (target.exercise, sorted(names))
    pairs = {(t.assignment, t.exercise, a.name) for s in SUBMISSIONS for t, a in s.cases}
    assert len(pairs) == sum(a.runtime for t in attacks.all_targets() for a in attacks.attacks_for(t))


STATIC = [(t, a) for t in attacks.all_targets() for a in attacks.attacks_for(t) if not a.runtime]


@pytest.mark.parametrize("target", attacks.all_targets(), ids=lambda t: f"{t.assignment}:{t.exercise}")
def test_scan_flags_every_static_attack_in_its_cell(target):
    for attack in attacks.attacks_for(target):
        if attack.runtime:
            continue
        sub = attacks.Submission(target.assignment, "probe", [(target, attack)])
        nb = attacks.build(sub)
        cell_id = target.exercise
        if attack.added_cell:
            added = next(c for c in nb.cells if c.cell_type == "code" and c.source == attack.added_cell)
            cell_id = added.get("id")
        flagged = [f for f in scan_notebook(nb) if f.cell_id == cell_id]
        assert flagged, f"{target.exercise}: the scan does not flag {attack.name}"


@pytest.mark.slow
@pytest.mark.parametrize("sub", SUBMISSIONS, ids=lambda s: s.name)
def test_trusted_grader_gives_each_attack_zero_and_keeps_the_rest(sub):
    nb = attacks.build(sub)
    hangs = any(a.name.startswith("hang") for _, a in sub.cases)
    findings, report, _ = trusted_verdicts(nb, cell_timeout=8.0 if hangs else 60.0)
    failed = {g for g, v in report.verdicts.items() if not v.passed}
    expected = sub.target_tests()
    assert set(report.verdicts) == set(graded_cells(sub.assignment))
    cases = ", ".join(f"{t.exercise}: {a.name}" for t, a in sub.cases)
    assert expected <= failed, f"{sub.name} ({cases}): these attacked tests passed: {sorted(expected - failed)}"
    assert failed <= expected, (f"{sub.name} ({cases}): honest exercises lost points: "
                                f"{ {g: report.verdicts[g].message for g in sorted(failed - expected)} }")
    for g in expected:
        assert report.verdicts[g].message, f"{g}: the feedback gives a reason"


END_TO_END = ("patch-course-checks", "lying-subclass", "borrowed-answer")
END_TO_END_CHAPTERS = ("ch01_compute", "ch05_attention", "ch06_position_encoding")


@pytest.fixture(scope="module")
def graded_end_to_end(tmp_path_factory):
    course = tmp_path_factory.mktemp("adversarial-chapters")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    with open(course / "nbgrader_config.py", "a") as cfg:
        cfg.write("\nc.Execute.timeout = 60\n")
    subs = {}
    for chapter in END_TO_END_CHAPTERS:
        packed = attacks.pack(chapter, only=set(END_TO_END), spread=True)
        shutil.copytree(ROOT / "source" / packed[0].assignment, course / "source" / packed[0].assignment)
        pipeline.nbgrader("generate_assignment", packed[0].assignment, "--force", root=course)
        subs[chapter] = packed
        for k, sub in enumerate(packed):
            folder = course / "submitted" / f"attacker-{chapter}-{k}" / sub.assignment
            folder.mkdir(parents=True)
            nbformat.write(attacks.build(sub), folder / f"{sub.assignment}.ipynb")
    pipeline.autograde("*", root=course, jobs=2)
    return course, subs


@pytest.mark.slow
@pytest.mark.xdist_group("adversarial-chapters")  # one worker builds and grades the course
@pytest.mark.parametrize("chapter", END_TO_END_CHAPTERS)
def test_recorded_score_follows_the_verdict_end_to_end(graded_end_to_end, chapter):
    course, subs = graded_end_to_end
    assert {a.name for sub in subs[chapter] for _, a in sub.cases} == set(END_TO_END)
    for k, sub in enumerate(subs[chapter]):
        student = f"attacker-{chapter}-{k}"
        scores = {s.grade_id: s for s in pipeline.scores(sub.assignment, student, root=course)}
        assert set(scores) == set(graded_cells(sub.assignment))
        for grade_id, s in scores.items():
            if grade_id in sub.target_tests():
                assert s.score == 0, f"{student} got {s.score} on {grade_id}"
            else:
                assert s.score == s.max_score, f"{student} lost points on {grade_id}"
        info = nbformat.read(course / "autograded" / student / sub.assignment / f"{sub.assignment}.ipynb",
                             as_version=4).metadata["course_grading"]
        for patched in [t for t, a in sub.cases if a.name == "patch-course-checks"]:
            fooled = [info["kernel_passed"][t] for t in attacks.tests_of(sub.assignment, patched.exercise)]
            assert any(fooled), "patching the checks should fool a plain kernel run (else this test shows nothing)"
