"""A gradebook several graders share (issue 20): with NBGRADER_DB_URL naming PostgreSQL, two autograde
processes on different slices of the students write one gradebook; every grade is there exactly once
and equals what the default SQLite gradebook gets for the same submissions.

The test starts Debian's PostgreSQL itself: a data folder made by initdb in a temporary folder (as the
``postgres`` account when run as root), listening on 127.0.0.1 at a free port and a socket in that
folder, stopped and removed afterwards.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest
from course_grader import pipeline
from hub_helpers import system_tool
from notebooks import ROOT

from tools import nbauthor as nba

# A two-exercise assignment made here: the gradebook's concurrency is under test, not a chapter,
# and a tiny notebook keeps the eight autograde runs short.
ASSIGNMENT = "00-gradebook"
TESTS = ("double_tests", "square_tests")


def _assignment(course: Path) -> None:
    cells = [nba.md("# Gradebook test"), nba.code("import math"),
             nba.answer("double", "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"),
             nba.tests("double_tests", 2, "from course.checks import equal\nequal(double(3), 6)\nequal(double(-1), -2)"),
             nba.answer("square", "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION"),
             nba.tests("square_tests", 1, "from course.checks import equal\nequal(square(3), 9)")]
    nba.save(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", cells)
pytestmark = [pytest.mark.slow]


def _pg_bin() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def _why_not() -> str | None:
    if _pg_bin() is None:
        return "PostgreSQL is not installed (make hub-deps installs Debian's postgresql as root)"
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 is not installed (make install)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root with no 'postgres' account for the server (initdb refuses root)"
    return None


if _why_not():
    pytestmark.append(pytest.mark.skip(reason=_why_not()))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    bin_dir = _pg_bin()
    base = Path(tempfile.mkdtemp(prefix="course-pg-", dir="/tmp"))
    prefix = []
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(base, account.pw_uid, account.pw_gid)
        prefix = [system_tool("runuser"), "-u", "postgres", "--"]
    data, port = base / "data", _free_port()

    def run(*cmd):
        subprocess.run([*prefix, *cmd], check=True, capture_output=True, text=True, cwd=base)

    started = False
    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-U", "grader", "--auth=trust", "-E", "UTF8")
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60", "start", "-o",
            f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off")
        started = True
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=port, user="grader", dbname="postgres")
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE gradebook")
        conn.close()
        yield f"postgresql+psycopg2://grader@127.0.0.1:{port}/gradebook"
    finally:
        if started:
            subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                           capture_output=True, cwd=base)
        shutil.rmtree(base, ignore_errors=True)


def _course(path: Path) -> Path:
    path.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", path)
    _assignment(path)
    solution = nbformat.read(path / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    wrong = nbformat.read(path / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    for cell in wrong.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "double":
            cell.source = "def double(x):\n    return x + 2\n"
    for i, nb in enumerate([solution, wrong, solution, wrong]):
        folder = path / "submitted" / f"s{i}" / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{ASSIGNMENT}.ipynb")
    return path


def _grades(course: Path) -> dict:
    return {(s, c.grade_id): (c.score, c.max_score) for s in ("s0", "s1", "s2", "s3")
            for c in pipeline.scores(ASSIGNMENT, s, root=course)}


def test_two_autograders_share_one_postgres_gradebook(postgres, tmp_path, monkeypatch):
    sqlite_course = _course(tmp_path / "sqlite")
    pipeline.nbgrader("generate_assignment", ASSIGNMENT, "--force", root=sqlite_course)
    pipeline.autograde(ASSIGNMENT, root=sqlite_course, jobs=2)
    expected = _grades(sqlite_course)

    pg_course = _course(tmp_path / "pg")
    monkeypatch.setenv("NBGRADER_DB_URL", postgres)
    pipeline.nbgrader("generate_assignment", ASSIGNMENT, "--force", root=pg_course)
    log = pipeline.autograde(ASSIGNMENT, root=pg_course, jobs=2)
    assert not (pg_course / "gradebook.db").exists(), log[-2000:]  # nothing went to SQLite
    got = _grades(pg_course)
    assert got == expected
    assert len(got) == 4 * len(TESTS)
    assert got[("s0", "double_tests")][0] == 2 and got[("s1", "double_tests")][0] == 0

    import psycopg2

    with psycopg2.connect(postgres.replace("+psycopg2", "")) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*), count(DISTINCT (notebook_id, cell_id)) FROM grade")
        rows, distinct = cur.fetchone()
        cur.execute("SELECT count(*) FROM submitted_assignment")
        (submissions,) = cur.fetchone()
    assert rows == distinct == 4 * len(TESTS)  # one grade per test cell and student, none lost or doubled
    assert submissions == 4
