"""The instructor's workflow end to end, through nbgrader's exchange, in a temporary course:
publish → two students fetch → submit (one late) → collect → autograde → feedback → grades CSV."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from course_grader import pipeline
from notebooks import ROOT

ASSIGNMENT = "02-tensors"  # a real chapter; its solutions notebook is what alice hands in
COURSE_ID = "transformer-course"


def student_nbgrader(home: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "course_grader.nbgrader_cli", *args, f"--course={COURSE_ID}"], cwd=home,
                          env=pipeline.environment(), capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "| ERROR]" not in log, log[-3000:]
    return log


@pytest.mark.slow
def test_publish_fetch_submit_collect_autograde_feedback_export(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    exchange = course / "exchange"

    pipeline.publish(ASSIGNMENT, course, duedate="2030-01-01 00:00:00 UTC")
    assert (exchange / COURSE_ID / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()

    homes = {}
    for student in ("alice", "bob"):
        home = tmp_path / "students" / student
        home.mkdir(parents=True)
        (home / "nbgrader_config.py").write_text(
            f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\nc.Exchange.path_includes_course = True\n")
        student_nbgrader(home, "fetch_assignment", ASSIGNMENT)
        fetched = home / COURSE_ID / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"  # path_includes_course
        assert fetched.is_file()
        homes[student] = home
    # alice hands in the instructor's solutions; bob hands in the untouched release, late
    shutil.copy(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", homes["alice"] / COURSE_ID / ASSIGNMENT)
    for student, home in homes.items():
        student_nbgrader(home, "submit", ASSIGNMENT, f"--student={student}")
    (stamp,) = (exchange / COURSE_ID / "inbound").glob(f"bob+{ASSIGNMENT}+*/timestamp.txt")
    stamp.write_text("2031-01-01 00:00:00.000000 UTC")

    pipeline.collect(ASSIGNMENT, course)
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["alice", "bob"]
    pipeline.autograde(ASSIGNMENT, root=course, jobs=2)
    pipeline.feedback(ASSIGNMENT, root=course)
    for student in ("alice", "bob"):
        html = course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        assert html.is_file() and "Score" in html.read_text()
    student_nbgrader(homes["alice"], "fetch_feedback", ASSIGNMENT, "--student=alice")
    assert list((homes["alice"] / COURSE_ID / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))

    rows = {r["student_id"]: r for r in csv.DictReader(open(pipeline.export_grades(tmp_path / "grades.csv", course)))}
    assert set(rows) == {"alice", "bob"}
    alice, bob = rows["alice"], rows["bob"]
    assert float(alice["raw_score"]) == float(alice["max_score"]) > 0, alice
    assert float(bob["raw_score"]) == 0, bob
    assert bob["timestamp"] > bob["duedate"] > alice["timestamp"], (alice, bob)
