"""Autograde throughput, measured in one run: serial vs parallel nbgrader processes, and the isolated
grader's workers spawned (a new interpreter each, as before) vs forked from a warm server.

    .venv/bin/python benchmarks/autograde_throughput.py --students 8 --assignment 02-tensors
    .venv/bin/python benchmarks/autograde_throughput.py --students 8 --assignment 05-attention --complete --no-serial

Builds a temporary course with N submissions of one chapter (half the instructor's solutions,
half the untouched release; all solutions with --complete), autogrades them with one nbgrader
process (jobs=1, what `nbgrader autograde` does; skipped with --no-serial) and with the students
split over --jobs processes, once with spawned and once with forked grading workers, and prints
submissions per minute for each and the ratios. Every run uses the same trusted preprocessors.
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


def build_course(base: Path, assignment: str, students: int, complete: bool = False) -> Path:
    course = base / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source" / assignment, course / "source" / assignment)
    pipeline.nbgrader("generate_assignment", assignment, "--force", root=course)
    for n in range(students):
        tree = "solutions" if complete or n % 2 == 0 else "release"
        folder = course / "submitted" / f"student-{n:02d}" / assignment
        folder.mkdir(parents=True)
        shutil.copy(ROOT / tree / assignment / f"{assignment}.ipynb", folder)
    return course


def timed_autograde(course: Path, assignment: str, jobs: int, fork: bool = True) -> float:
    shutil.rmtree(course / "autograded", ignore_errors=True)
    os.environ["COURSE_GRADER_FORK"] = "1" if fork else "0"  # read by every nbgrader process's grader
    start = time.perf_counter()
    pipeline.autograde(assignment, root=course, jobs=jobs)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="02-tensors", choices=pipeline.assignments(ROOT))
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--complete", action="store_true", help="every submission is a complete, correct one")
    parser.add_argument("--no-serial", action="store_true", help="skip the one-process run")
    args = parser.parse_args(argv)
    if args.students < 1 or args.jobs < 1:
        parser.error("--students and --jobs must be at least 1")
    with tempfile.TemporaryDirectory() as tmp:
        course = build_course(Path(tmp), args.assignment, args.students, args.complete)
        serial = None if args.no_serial else timed_autograde(course, args.assignment, jobs=1)
        spawned = timed_autograde(course, args.assignment, jobs=args.jobs, fork=False)
        forked = timed_autograde(course, args.assignment, jobs=args.jobs, fork=True)
    rate = lambda seconds: 60.0 * args.students / seconds  # noqa: E731
    kind = "complete" if args.complete else "half complete, half untouched"
    print(f"{args.students} submissions of {args.assignment} ({kind}) on {os.cpu_count()} cores")
    if serial is not None:
        print(f"  serial (1 nbgrader process, forked workers): {serial:6.1f} s  {rate(serial):5.1f} submissions/min")
    print(f"  {args.jobs} processes, spawned workers         : {spawned:6.1f} s  {rate(spawned):5.1f} submissions/min")
    print(f"  {args.jobs} processes, forked workers          : {forked:6.1f} s  {rate(forked):5.1f} submissions/min")
    ratios = f"  forked / spawned: {spawned / forked:.2f}x"
    print(ratios + (f"; parallel / serial: {serial / forked:.2f}x" if serial else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
