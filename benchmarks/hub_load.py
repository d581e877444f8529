"""Load on the shared exchange (issue 20): N students (real Unix accounts) fetch and submit at once, then one autograde.

    sudo .venv/bin/python benchmarks/hub_load.py [--students 30] [--jobs 2]

Each student is a `useradd`ed account running nbgrader's fetch and submit as itself (the commands their
hub server runs for the assignment list), all at once from a thread pool; the instructor account then
collects and autogrades with course_grader.pipeline. Prints median and p95 seconds per fetch and per
submit, submissions graded per minute, and whether every submission arrived and was graded once.
Local only (no network), bounded (N ≤ 60), and it removes its accounts and folders when it ends.
"""

from __future__ import annotations

import argparse
import csv
import json
import pwd
import shutil
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import hub_helpers as hh  # noqa: E402

ASSIGNMENT = "02-tensors"


def p95(values):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2, help="autograde processes")
    args = parser.parse_args(argv)
    if not 1 <= args.students <= 60:
        parser.error("--students must be between 1 and 60")
    why = hh.missing()
    if why:
        print(f"cannot run: {why}", file=sys.stderr)
        return 2
    from course_grader.hub import lock_home, prepare

    accounts, base, passage = hh.Accounts(), hh.exchange_folder(), None
    try:
        instructor = accounts.add("i")
        students = [accounts.add("s") for _ in range(args.students)]
        for name in students:
            lock_home(name)  # what the hub does before it starts a student's server
        if hh.blocked(hh.ROOT):  # a checkout others cannot reach: let these accounts through (tests/test_hub.py)
            passage = hh.Passage(hh.blocked(hh.ROOT), [instructor, *students])
        exchange = base / "exchange"
        course = Path(pwd.getpwnam(instructor).pw_dir) / hh.COURSE_ID
        course.mkdir()
        shutil.copy(hh.ROOT / "nbgrader_config.py", course)
        shutil.copytree(hh.ROOT / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
        prepare(exchange, instructor, course)
        hh.pipeline(instructor, course, exchange, "publish", "--assignment", ASSIGNMENT)
        solution = hh.ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        env = hh.student_env(exchange)

        def student(name):
            home = Path(pwd.getpwnam(name).pw_dir)
            t0 = time.perf_counter()
            hh.as_user(name, str(hh.STUDENT_BIN / "python"), "-m", "nbgrader", "fetch_assignment", ASSIGNMENT,
                       f"--course={hh.COURSE_ID}", env=env)
            t1 = time.perf_counter()
            hh.as_user(name, "/bin/cp", str(solution), str(home / hh.COURSE_ID / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
            t2 = time.perf_counter()
            hh.as_user(name, str(hh.STUDENT_BIN / "python"), "-m", "nbgrader", "submit", ASSIGNMENT,
                       f"--course={hh.COURSE_ID}", cwd=str(home), env=env)
            return t1 - t0, time.perf_counter() - t2

        t0 = time.perf_counter()
        with ThreadPoolExecutor(len(students)) as pool:
            timings = list(pool.map(student, students))
        wall = time.perf_counter() - t0
        hh.pipeline(instructor, course, exchange, "collect", "--assignment", ASSIGNMENT)
        t0 = time.perf_counter()
        hh.pipeline(instructor, course, exchange, "autograde", "--assignment", ASSIGNMENT, "--jobs", str(args.jobs))
        grading = time.perf_counter() - t0
        hh.pipeline(instructor, course, exchange, "grades", "--output", str(course / "grades.csv"))
        rows = list(csv.DictReader(open(course / "grades.csv")))
        fetches, submits = [t[0] for t in timings], [t[1] for t in timings]
        result = {
            "students": len(students),
            "fetch_median_s": round(statistics.median(fetches), 2), "fetch_p95_s": round(p95(fetches), 2),
            "submit_median_s": round(statistics.median(submits), 2), "submit_p95_s": round(p95(submits), 2),
            "all_at_once_wall_s": round(wall, 1),
            "autograde_s": round(grading, 1), "graded_per_minute": round(60 * len(rows) / grading, 1),
            "submissions_in_exchange": len(list((exchange / hh.COURSE_ID / "inbound").iterdir())),
            "graded": len(rows), "full_marks": sum(float(r["score"]) == float(r["max_score"]) for r in rows),
        }
        result["lost"] = len(students) - len({r["student_id"] for r in rows})
        print(json.dumps(result, indent=1))
        return 0 if result["lost"] == 0 and result["full_marks"] == len(students) else 1
    finally:
        if passage is not None:
            passage.close()
        accounts.remove()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
