"""Autograde throughput, measured in one run, and where the time goes.

    .venv/bin/python benchmarks/autograde_throughput.py --students 12 --assignment 02-tensors --complete --no-serial
    .venv/bin/python benchmarks/autograde_throughput.py --students 8 --assignment 08-transformer --complete --no-serial

Builds a temporary course with N submissions of one chapter (half the instructor's solutions,
half the untouched release; all solutions with --complete) and autogrades them through
``course_grader.pipeline.autograde`` (what ``make autograde`` runs): optionally with one nbgrader
process (jobs=1, what plain ``nbgrader autograde`` does), then with the students split over --jobs
processes, in the bubblewrap sandboxes (the default) and, with ``--modes 2``, also without them
(``unsafe_no_sandbox``, the same warm servers as plain processes: what the sandbox costs). It prints
submissions per minute for each, the seconds per submission spent in the kernel run, in the graded
run and elsewhere (nbgrader: start-up, the gradebook, copying), and what a sandbox costs to start and
per job. Every mode runs the same trusted preprocessors, every visible and hidden check; ``--no-kernel``
adds a run without the kernel (``make autograde KERNEL=0``: the graded run alone) and its ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
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


# (label, unsafe_no_sandbox): the first shows what the sandbox costs; the last is the default.
MODES = (("no sandbox (unsafe_no_sandbox)", True),
         ("bubblewrap sandboxes", False))


def timed_autograde(course: Path, assignment: str, jobs: int, unsafe: bool = False, kernel: bool = True) -> float:
    shutil.rmtree(course / "autograded", ignore_errors=True)
    start = time.perf_counter()
    pipeline.autograde(assignment, root=course, jobs=jobs, kernel=kernel, unsafe=unsafe)
    return time.perf_counter() - start


def sandbox_costs(jobs: int = 10) -> dict[str, float]:
    """Seconds to start each sandbox (once per nbgrader process) and per job (reset, fork, an empty job)."""
    from course_grader.grading import sandbox
    from course_grader.grading.isolated import grade_notebook

    costs = {}
    for kind in ("kernel", "verdict"):
        start = time.perf_counter()
        box = sandbox.Sandbox(kind)
        costs[f"start {kind} sandbox"] = time.perf_counter() - start
        box.close()
    empty = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "pass", metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "t", "points": 1}})])
    grade_notebook(empty)  # starts this process's verdict sandbox
    start = time.perf_counter()
    for _ in range(jobs):
        grade_notebook(empty)
    costs["per job (reset, fork, result)"] = (time.perf_counter() - start) / jobs
    return costs


def require_all_graded(course: Path, assignment: str, expected: list[str], label: str) -> None:
    graded = sorted(p.parent.parent.name for p in (course / "autograded").glob(f"*/{assignment}/*.ipynb"))
    if graded != expected:
        raise SystemExit(f"lost submissions under '{label}': {sorted(set(expected) - set(graded))}")


def time_split(course: Path) -> dict[str, float]:
    """Seconds in the notebook's kernel and in the trusted re-grade, summed over the autograded notebooks."""
    total = {"kernel": 0.0, "trusted": 0.0}
    for path in (course / "autograded").glob("*/*/*.ipynb"):
        seconds = nbformat.read(path, as_version=4).metadata.get("course_grading", {}).get("seconds", {})
        for key in total:
            total[key] += float(seconds.get(key, 0.0))
    return total


def import_seconds(module: str) -> float:
    """A fresh interpreter's time to import ``module`` (what a cold kernel pays before the set-up cell)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="02-tensors", choices=pipeline.assignments(ROOT))
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--complete", action="store_true", help="every submission is a complete, correct one")
    parser.add_argument("--no-serial", action="store_true", help="skip the one-process run")
    parser.add_argument("--modes", type=int, default=len(MODES), help="run only the last N modes (1 = the default)")
    parser.add_argument("--no-kernel", action="store_true",
                        help="then grade again without the kernel run (make autograde KERNEL=0) and compare")
    args = parser.parse_args(argv)
    if args.students < 1 or args.jobs < 1 or not 1 <= args.modes <= len(MODES):
        parser.error(f"--students and --jobs must be at least 1, --modes between 1 and {len(MODES)}")
    rate = lambda seconds: 60.0 * args.students / seconds  # noqa: E731
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        course = build_course(Path(tmp), args.assignment, args.students, args.complete)
        expected = pipeline.submitted_students(course)
        if not args.no_serial:
            seconds = timed_autograde(course, args.assignment, jobs=1)
            rows.append(("1 nbgrader process, " + MODES[-1][0], seconds, time_split(course)))
        for label, unsafe in MODES[len(MODES) - args.modes:]:
            seconds = timed_autograde(course, args.assignment, jobs=args.jobs, unsafe=unsafe)
            require_all_graded(course, args.assignment, expected, label)
            rows.append((f"{args.jobs} processes, {label}", seconds, time_split(course)))
        if args.no_kernel:
            seconds = timed_autograde(course, args.assignment, jobs=args.jobs, kernel=False)
            require_all_graded(course, args.assignment, expected, "no kernel run")
            rows.append((f"{args.jobs} processes, no kernel run (--no-kernel)", seconds, time_split(course)))
    torch_import = import_seconds("torch")
    costs = sandbox_costs()
    kind = "complete" if args.complete else "half complete, half untouched"
    print(f"{args.students} submissions of {args.assignment} ({kind}) on {os.cpu_count()} cores")
    width = max(len(r[0]) for r in rows)
    for label, seconds, split in rows:
        processes = 1 if label.startswith("1 ") else min(args.jobs, args.students)
        rest = max(0.0, seconds * processes - split["kernel"] - split["trusted"])  # process-seconds left over
        per = {k: v / args.students for k, v in (*split.items(), ("rest", rest))}
        print(f"  {label:<{width}}: {seconds:6.1f} s  {rate(seconds):5.1f} submissions/min   per submission: "
              f"kernel run {per['kernel']:4.1f} s, graded run {per['trusted']:4.1f} s, "
              f"the rest (nbgrader) {per['rest']:4.1f} s")
    if args.no_kernel:
        print(f"  no kernel run vs the default: {rows[-2][1] / rows[-1][1]:.2f}x faster")
    if args.modes > 1:
        bare, default = rows[-args.modes - args.no_kernel][1], rows[-1 - args.no_kernel][1]
        print(f"  {MODES[-1][0]} vs {MODES[0][0]}: {default / bare:.2f}x the time")
    print("  sandbox: " + ", ".join(f"{k} {v:.2f} s" for k, v in costs.items()))
    print(f"  (a fresh interpreter imports torch in {torch_import:.1f} s here)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
