"""Autograde throughput: nbgrader's serial loop vs the course's parallel autograde, same run.

    .venv/bin/python benchmarks/autograde_throughput.py --students 8 --assignment 02-tensors

Builds a temporary course with N submissions of one chapter (half the instructor's solutions,
half the untouched release), autogrades them once with one nbgrader process (jobs=1, what
`nbgrader autograde` does) and once with the students split over --jobs processes, and prints
submissions per minute for both and their ratio. Both runs use the same trusted preprocessors.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from course_grader import pipeline

ROOT = Path(__file__).resolve().parent.parent


def build_course(base: Path, assignment: str, students: int) -> Path:
    course = base / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source" / assignment, course / "source" / assignment)
    pipeline.nbgrader("generate_assignment", assignment, "--force", root=course)
    for n in range(students):
        tree = "solutions" if n % 2 == 0 else "release"
        folder = course / "submitted" / f"student-{n:02d}" / assignment
        folder.mkdir(parents=True)
        shutil.copy(ROOT / tree / assignment / f"{assignment}.ipynb", folder)
    return course


def timed_autograde(course: Path, assignment: str, jobs: int) -> float:
    shutil.rmtree(course / "autograded", ignore_errors=True)
    start = time.perf_counter()
    pipeline.autograde(assignment, root=course, jobs=jobs)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="02-tensors", choices=pipeline.assignments(ROOT))
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    if args.students < 1 or args.jobs < 1:
        parser.error("--students and --jobs must be at least 1")
    with tempfile.TemporaryDirectory() as tmp:
        course = build_course(Path(tmp), args.assignment, args.students)
        serial = timed_autograde(course, args.assignment, jobs=1)
        parallel = timed_autograde(course, args.assignment, jobs=args.jobs)
    rate = lambda seconds: 60.0 * args.students / seconds  # noqa: E731
    print(f"{args.students} submissions of {args.assignment} on {os.cpu_count()} cores")
    print(f"  serial (1 nbgrader process)   : {serial:6.1f} s  {rate(serial):5.1f} submissions/min")
    print(f"  parallel ({args.jobs} processes)        : {parallel:6.1f} s  {rate(parallel):5.1f} submissions/min")
    print(f"  speed-up: {serial / parallel:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
