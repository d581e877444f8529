"""Instructor pipeline: regenerate release/ and solutions/, autograde, write feedback.

Thin wrappers around nbgrader's command line that (1) put this environment's ``bin`` first on
PATH (nbgrader shells out to ``alembic`` and fails with a bare FileNotFoundError otherwise),
(2) treat any ``| ERROR]`` line as a failure (nbgrader often exits 0 after errors) and
(3) read scores back from the gradebook.

    python -m course_grader.pipeline release
    python -m course_grader.pipeline autograde --assignment 01-compute
    python -m course_grader.pipeline feedback --assignment 01-compute
    python -m course_grader.pipeline flags        # CSV of tamper flags and grading problems
    python -m course_grader.pipeline publish --assignment 01-compute --duedate "2026-12-01 23:59:00 UTC"
    python -m course_grader.pipeline collect --assignment 01-compute
    python -m course_grader.pipeline grades --output grades.csv

The course has two editions, English and Chinese (中文版), with the same assignment names, grade ids and
points: ``source/`` → ``release/``, ``solutions/`` and ``source-zh/`` → ``release-zh/``, ``solutions-zh/``
(``EDITIONS``). The class's language is the one setting ``COURSE_LANGUAGE`` in nbgrader_config.py (the
environment variable of that name, or ``--language``, overrides it for one command): publish, collect,
autograde and feedback then use that edition, the formgrader too. ``release`` regenerates every edition
(both trees are committed); only the class's edition is written into the gradebook, since nbgrader
restores locked cells from the gradebook's copy when it grades.
"""

from __future__ import annotations

import argparse
import fnmatch
import functools
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


def _course_root() -> Path:
    """The course folder: ``COURSE_ROOT``, else this checkout (grader installed editable), else the cwd."""
    if os.environ.get("COURSE_ROOT"):
        return Path(os.environ["COURSE_ROOT"]).resolve()
    checkout = Path(__file__).resolve().parents[2]
    return checkout if (checkout / "nbgrader_config.py").is_file() else Path.cwd()


ROOT = _course_root()
ASSIGNMENT_NAME = re.compile(r"^\d\d-[a-z0-9-]+$")

# The editions: language -> nbgrader's three folders. Same assignment and notebook names in each.
EDITIONS = {
    "en": {"source": "source", "release": "release", "solutions": "solutions"},
    "zh": {"source": "source-zh", "release": "release-zh", "solutions": "solutions-zh"},
}


def check_language(language: str) -> str:
    if language not in EDITIONS:
        raise PipelineError(f"COURSE_LANGUAGE must be one of {sorted(EDITIONS)}, got {language!r}")
    return language


@functools.cache
def _configured_language(config: Path) -> str:
    from traitlets.config.loader import PyFileConfigLoader

    loaded = PyFileConfigLoader(config.name, path=str(config.parent)).load_config()
    source = loaded.CourseDirectory.get("source_directory", "source")
    return next((lang for lang, dirs in EDITIONS.items() if dirs["source"] == source), "en")


def course_language(root: Path = ROOT) -> str:
    """The class's language: ``COURSE_LANGUAGE`` in the environment, else the edition nbgrader_config.py selects."""
    if os.environ.get("COURSE_LANGUAGE"):
        return check_language(os.environ["COURSE_LANGUAGE"])
    config = Path(root) / "nbgrader_config.py"
    return _configured_language(config.resolve()) if config.is_file() else "en"


def edition_folder(tree: str, root: Path = ROOT, language: str | None = None) -> Path:
    """``root``'s folder ``tree`` ("source", "release" or "solutions") of an edition (the class's by default)."""
    return Path(root) / EDITIONS[check_language(language or course_language(root))][tree]


class PipelineError(RuntimeError):
    pass


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env["COURSE_GRADING"] = "1"  # notebooks keep long demos (training) short: see course.notebook.training_budget
    # one thread per kernel: students are graded in parallel processes, and torch's default of one
    # thread per core in every kernel oversubscribes the machine (each kernel then runs many times slower)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def assignments(root: Path = ROOT, language: str | None = None) -> list[str]:
    """Assignment names found in the edition's source folder (two digits and a slug); the class's edition by default."""
    source = edition_folder("source", root, language)
    if not source.is_dir():
        return []
    return sorted(p.name for p in source.iterdir() if p.is_dir() and ASSIGNMENT_NAME.match(p.name))


def nbgrader(*args: str, root: Path = ROOT, timeout: float | None = None, strict: bool = True) -> str:
    """Run ``nbgrader ARGS`` in ``root``; return its log, raise PipelineError if it fails.

    ``strict``: any ``| ERROR]`` line counts as a failure too (nbgrader often exits 0 after errors).
    """
    proc = subprocess.run([sys.executable, "-m", "course_grader.nbgrader_cli", *args], cwd=root, env=environment(),
                          capture_output=True, text=True, timeout=timeout)
    log = proc.stdout + proc.stderr
    errors = [line for line in log.splitlines() if "| ERROR]" in line] if strict else []
    if proc.returncode != 0 or errors:
        raise PipelineError(f"nbgrader {' '.join(args)} failed (exit {proc.returncode}):\n{log[-6000:]}")
    return log


def edition_args(language: str) -> list[str]:
    """nbgrader options that point it at an edition's three folders."""
    dirs = EDITIONS[check_language(language)]
    return [f"--CourseDirectory.source_directory={dirs['source']}",
            f"--CourseDirectory.release_directory={dirs['release']}",
            f"--CourseDirectory.solution_directory={dirs['solutions']}"]


def release(root: Path = ROOT, assignment: str = "*", languages: list[str] | None = None) -> list[str]:
    """Regenerate the release and solutions folders of every edition (or of ``languages``) for the assignments
    of its source folder (a name or a glob); the languages regenerated.

    The class's edition (:func:`course_language`) is generated last and into the gradebook, as nbgrader does;
    another edition into a throw-away gradebook, so that the gradebook keeps the cells the class is graded
    against (nbgrader restores locked cells, and the grader recognises the instructor's markdown, from it)."""
    if not assignments(root, "en") and not assignments(root, course_language(root)):
        raise PipelineError(f"no assignments found in {edition_folder('source', root)}")
    ours = course_language(root)
    chosen = [check_language(lang) for lang in (languages or list(EDITIONS))]
    done = []
    for language in sorted(chosen, key=lambda lang: lang == ours):
        if not [a for a in assignments(root, language) if fnmatch.fnmatch(a, assignment)]:
            continue  # this edition has no such assignment (not every chapter has its Chinese text yet)
        with tempfile.TemporaryDirectory() as tmp:
            extra = edition_args(language)
            if language != ours:
                extra.append(f"--CourseDirectory.db_url=sqlite:///{Path(tmp) / 'gradebook.db'}")
            nbgrader("generate_assignment", assignment, "--force", *extra, root=root)
            nbgrader("generate_solution", assignment, "--force", *extra, root=root)
        done.append(language)
    return done


def submitted_students(root: Path = ROOT) -> list[str]:
    folder = root / "submitted"
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def autograde(assignment: str = "*", root: Path = ROOT, student: str | None = None, jobs: int = 1,
              kernel: bool = True, unsafe: bool = False) -> str:
    """Autograde ``submitted/<student>/<assignment>`` (all students by default).

    ``kernel=False``: no kernel run for the feedback's outputs, only the isolated grader (the same
    grade, every check; about twice as fast: ``benchmarks/autograde_throughput.py --no-kernel``).
    ``unsafe=True``: without the bubblewrap sandbox (student code runs as you; the feedback says so).

    With ``jobs > 1`` the students are split into that many groups, each graded by its own
    nbgrader process (they share the SQLite gradebook; two writers work without lock errors).
    A submission nbgrader could not grade does not stop the others; afterwards every submission
    must have its autograded notebook, else PipelineError names the ones that are missing.
    """
    args = ["autograde", assignment, "--force", *([] if kernel else ["--TrustedExecute.run_kernel=False"]),
            *(["--TrustedExecute.unsafe_no_sandbox=True"] if unsafe else [])]
    from course_grader.grading import sandbox

    if not unsafe and sandbox.bwrap() is None:  # say it once, before any nbgrader process starts
        raise PipelineError(sandbox.INSTALL)
    students = [student] if student else submitted_students(root)
    prepare_submissions(assignment, students, root)
    jobs = max(1, min(jobs, len(students)))
    groups = [students[i::jobs] for i in range(jobs)]

    def run(group: list[str]) -> str:
        if student:
            return nbgrader(*args, f"--student={student}", root=root, strict=False)
        others = ",".join(s for s in students if s not in group)
        extra = [f"--CourseDirectory.student_id_exclude={others}"] if others else []
        return nbgrader(*args, *extra, root=root, strict=False)

    from concurrent.futures import ThreadPoolExecutor

    if jobs > 1:  # the gradebook's tables exist before parallel writers start (else both may create them)
        from nbgrader.api import Gradebook

        with Gradebook(db_url(root)):
            pass
    with ThreadPoolExecutor(jobs) as pool:
        log = "\n".join(pool.map(run, groups))
    missing = [f"{s}/{a.name}" for s in students for a in sorted((root / "submitted" / s).glob(assignment))
               if a.is_dir() and not list((root / "autograded" / s / a.name).glob("*.ipynb"))]
    if missing:
        raise PipelineError(f"could not autograde: {', '.join(missing)}\n{log[-6000:]}")
    return log


def prepare_submissions(assignment: str, students: list[str], root: Path = ROOT) -> dict[str, list[str]]:
    """Make every submission gradable (:mod:`course_grader.intake`); the notes per ``student/assignment``."""
    from course_grader.intake import prepare

    notes = {}
    released = edition_folder("release", root)  # the class's edition
    for s in students:
        for folder in sorted((root / "submitted" / s).glob(assignment)):
            release = released / folder.name / f"{folder.name}.ipynb"
            if folder.is_dir() and release.is_file():
                found = prepare(folder, release)
                if found:
                    notes[f"{s}/{folder.name}"] = found
    return notes


def feedback(assignment: str = "*", root: Path = ROOT, publish: bool = True) -> str:
    """Write feedback HTML into feedback/ and (``publish``) put it in the exchange for students."""
    log = nbgrader("generate_feedback", assignment, "--force", root=root)
    if publish and assignment != "*":
        log += nbgrader("release_feedback", assignment, root=root)
    return log


def publish(assignment: str, root: Path = ROOT, duedate: str | None = None) -> str:
    """Register the assignment (with its due date), generate it and release it to the exchange."""
    args = ["db", "assignment", "add", assignment] + ([f"--duedate={duedate}"] if duedate else [])
    log = nbgrader(*args, root=root)
    log += nbgrader("generate_assignment", assignment, "--force", root=root)
    return log + nbgrader("release_assignment", assignment, "--force", root=root)


def collect(assignment: str, root: Path = ROOT) -> str:
    """Copy the students' submissions from the exchange into submitted/."""
    return nbgrader("collect", assignment, "--update", root=root)


def export_grades(path: Path, root: Path = ROOT) -> Path:
    """All grades as CSV (one row per student and assignment)."""
    nbgrader("export", f"--to={path}", root=root)
    return path


def db_url(root: Path = ROOT) -> str:
    """The gradebook nbgrader writes: ``NBGRADER_DB_URL`` (see nbgrader_config.py), else ``root/gradebook.db``."""
    return os.environ.get("NBGRADER_DB_URL") or f"sqlite:///{root / 'gradebook.db'}"


@dataclass(frozen=True)
class CellScore:
    grade_id: str
    score: float
    max_score: float


def scores(assignment: str, student: str, root: Path = ROOT) -> list[CellScore]:
    """Per-cell autograde scores of one submission, read from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url(root)) as gb:
        submission = gb.find_submission(assignment, student)
        return [CellScore(g.name, float(g.score), float(g.max_score))
                for nb in submission.notebooks for g in nb.grades]


def grading_flags(root: Path = ROOT) -> list[dict]:
    """Every autograded notebook's grading notes: tamper flags, answer cells left out, kernel problems."""
    import nbformat

    rows = []
    for path in sorted((root / "autograded").glob("*/*/*.ipynb")):
        student, assignment = path.parent.parent.name, path.parent.name
        info = nbformat.read(path, as_version=4).metadata.get("course_grading", {})
        for flag in info.get("flags", []):
            rows.append({"student": student, "assignment": assignment, "cell": flag["cell_id"],
                         "kind": flag["rule"], "detail": f"line {flag['line']}: {flag['message']}"})
        flagged = {flag["cell_id"] for flag in info.get("flags", [])}
        for cell, why in info.get("excluded", {}).items():
            if cell not in flagged:  # a flagged cell's exclusion is its flag, listed above
                rows.append({"student": student, "assignment": assignment, "cell": cell,
                             "kind": "not-graded", "detail": why})
        for note in info.get("intake", []):
            rows.append({"student": student, "assignment": assignment, "cell": "", "kind": "unreadable",
                         "detail": note})
        if info.get("kernel_problem"):
            rows.append({"student": student, "assignment": assignment, "cell": "",
                         "kind": "kernel", "detail": info["kernel_problem"]})
        if info.get("over_budget"):
            rows.append({"student": student, "assignment": assignment, "cell": "", "kind": "over-budget",
                         "detail": "the graded run used up the submission's time: the tests not reached scored zero"})
        if str(info.get("sandbox", "")).startswith("none"):
            rows.append({"student": student, "assignment": assignment, "cell": "", "kind": "unsafe",
                         "detail": "graded without the sandbox (unsafe_no_sandbox)"})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_grader.pipeline", description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=["release", "publish", "collect", "autograde", "feedback", "grades", "flags"])
    parser.add_argument("--duedate", help="publish: due date, e.g. '2026-12-01 23:59:00 UTC'")
    parser.add_argument("--output", type=Path, default=Path("grades.csv"), help="grades: CSV file to write")
    parser.add_argument("--root", type=Path, default=ROOT, help="course directory (default: this repository)")
    parser.add_argument("--assignment", default="*", help="assignment name or glob (default: all)")
    parser.add_argument("--language", choices=sorted(EDITIONS),
                        help="the edition: for release, regenerate only this one (default: every edition); for the "
                             "other steps, the class's language for this command (default: COURSE_LANGUAGE in "
                             "nbgrader_config.py)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="autograde: nbgrader processes grading students in parallel (default: CPU count)")
    parser.add_argument("--no-kernel", dest="kernel", action="store_false",
                        help="autograde: skip the kernel run (same grades, every check; the feedback shows each "
                             "test's verdict and what it printed, not the other cells' outputs; about twice as fast)")
    parser.add_argument("--unsafe-no-sandbox", dest="unsafe", action="store_true",
                        help="autograde: run student code without the bubblewrap sandbox, as you (only where it "
                             "cannot be installed; every feedback and `make flags` say so)")
    args = parser.parse_args(argv)
    if args.language and args.step != "release":
        os.environ["COURSE_LANGUAGE"] = args.language  # nbgrader_config.py reads it in every nbgrader process
    try:
        if args.step == "release":
            for language in release(args.root, args.assignment, [args.language] if args.language else None):
                dirs = EDITIONS[language]
                done = [a for a in assignments(args.root, language) if fnmatch.fnmatch(a, args.assignment)]
                print(f"regenerated {dirs['release']}/ and {dirs['solutions']}/ for: {', '.join(done)}")
        elif args.step == "autograde":
            if not (args.root / "submitted").is_dir():
                parser.error("no submitted/ folder: collect submissions first (nbgrader collect) "
                             "or copy them to submitted/<student>/<assignment>/")
            autograde(args.assignment, root=args.root, jobs=args.jobs, kernel=args.kernel, unsafe=args.unsafe)
            print("autograded; see autograded/ and `nbgrader export` for the grades")
        elif args.step == "publish":
            if args.assignment == "*":
                parser.error("publish one assignment at a time: --assignment 01-compute")
            publish(args.assignment, args.root, args.duedate)
            print(f"released {args.assignment} to the exchange")
        elif args.step == "collect":
            if args.assignment == "*":
                parser.error("collect one assignment at a time: --assignment 01-compute")
            for line in collect(args.assignment, args.root).splitlines():
                if "WARNING" in line:  # refused submissions (impersonation), files left out, ...
                    print(line, file=sys.stderr)
            print(f"collected submissions of {args.assignment} into submitted/")
        elif args.step == "grades":
            print(f"wrote {export_grades(args.output.resolve(), args.root)}")
        elif args.step == "feedback":
            feedback(args.assignment, root=args.root)
            print("feedback written to feedback/")
        else:
            import csv

            rows = grading_flags(args.root)
            writer = csv.DictWriter(sys.stdout, fieldnames=["student", "assignment", "cell", "kind", "detail"])
            writer.writeheader()
            writer.writerows(rows)
            print(f"# {len(rows)} flag(s)", file=sys.stderr)
    except PipelineError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
