"""Submissions that attack the machine they are graded on, end to end through nbgrader (issue 29).

Two chapters are autograded in one course, two nbgrader processes in parallel, with two honest students
per chapter beside students whose last answer cell (still correct) opens with an attack on the course
folder, the checkout, classmates, the gradebook, the processes around it, the machine's memory and disk,
or the feedback's HTML. The attack code knows every path a student could learn. Afterwards: the honest
students keep full marks, nothing on disk changed, no process of a sandbox is left, and the feedback holds
neither the hidden tests, nor the solutions, nor active markup.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from html.parser import HTMLParser
from pathlib import Path

import attacks
import nbformat
import pytest
from course_grader import pipeline
from course_grader.grading import sandbox as sb
from notebooks import ROOT, graded_cells, nbgrader_meta

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sb.bwrap() is None, reason="needs bubblewrap (make sandbox)"),
              pytest.mark.xdist_group("sandbox-attacks")]  # one worker builds and grades the course
CHAPTERS = ("02-tensors", "03-layernorm")
HONEST = ("honest-a",)
RUN = uuid.uuid4().hex[:8]
HOST_MARKER = Path("/tmp") / f"course-sandbox-attack-{RUN}"

# {course}, {checkout}, {marker}, {assignment}: filled in per submission. Every attempt is wrapped so that
# a refused one does not stop the next (and the student's own, correct answer after it still counts).
ATTACKS = {
    "tamper": """
import os, sqlite3
for path, text in [("{course}/nbgrader_config.py", "\\nopen('{marker}-config', 'w').write('ran as the instructor')\\n"),
                   ("{checkout}/grader/course_grader/checks/ch02_tensors.py", "\\n# tampered\\n"),
                   ("{course}/source/{assignment}/{assignment}.ipynb", " "),
                   ("{course}/submitted/honest-a/{assignment}/{assignment}.ipynb", "{{}}"),
                   ("{course}/PWNED", "x"), ("{marker}-file", "x")]:
    try:
        with open(path, "a") as f:
            f.write(text)
    except OSError:
        pass
try:
    db = sqlite3.connect("{course}/gradebook.db")
    db.execute("UPDATE grade SET manual_score = 0")
    db.commit()
except Exception:
    pass
""",
    "leak": """
import importlib, glob
for path in ["{course}/source/{assignment}/{assignment}.ipynb", "{checkout}/solutions/{assignment}/{assignment}.ipynb",
             *glob.glob("{course}/submitted/*/{assignment}/*.ipynb")]:
    try:
        print(open(path).read()[:3000])
    except OSError as e:
        print("refused:", type(e).__name__)
try:
    import inspect
    print(inspect.getsource(importlib.import_module("course_" + "grader.checks." + "ch02_tensors")))
except Exception as e:
    print("refused:", type(e).__name__)
""",
    "processes": """
import os, subprocess
try:
    subprocess.Popen(["bash", "-c", "sleep 3; kill -9 -1"], start_new_session=True)  # outlive the cell, kill all
    subprocess.Popen(["sleep", "600"], start_new_session=True)
except OSError:
    pass
""",
    "resources": """
import os
try:
    hog = [bytearray(6 << 30), bytearray(6 << 30)]
except MemoryError:
    pass
try:
    with open("filler", "wb") as f:
        for _ in range(2048):
            f.write(b"0" * (1 << 20))
except OSError:
    pass
""",
}
MARKUP = ("<script>alert('stolen')</script><img src=x onerror=\"alert('stolen')\">"
          "<a href=\"javascript:alert('stolen')\">x</a>")


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _submission(assignment: str, attack: str | None, course: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    answer = _answers(nb)[-1]  # the last exercise: no later answer relies on it
    if attack == "markup":
        nb.cells.insert(1, nbformat.v4.new_markdown_cell(MARKUP))
        nb.cells.insert(2, nbformat.v4.new_markdown_cell(MARKUP, metadata={"nbgrader": {  # posing as the instructor's
            "grade": False, "grade_id": "md-posing", "locked": True, "schema_version": 3, "solution": False,
            "task": False}}))
        answer.source = f"from IPython.display import HTML, display\ndisplay(HTML({MARKUP!r}))\n" + answer.source
    elif attack:
        code = ATTACKS[attack].format(course=course, checkout=ROOT, marker=HOST_MARKER, assignment=assignment)
        answer.source = code + "\n" + answer.source
    return nb


SECRET = f"instructor-only-{RUN}"


def _plant_secrets(path: Path) -> None:
    """A line only the instructor's notebook has, in a solution and in the hidden tests."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if "### END SOLUTION" in cell.source:
            cell.source = cell.source.replace("### END SOLUTION", f"# {SECRET}\n### END SOLUTION", 1)
        if "### END HIDDEN TESTS" in cell.source:
            cell.source = cell.source.replace("### END HIDDEN TESTS", f"# {SECRET}\n### END HIDDEN TESTS", 1)
    nbformat.write(nb, path)


class _Active(HTMLParser):
    """Elements of a page that would run the attacker's code: its scripts, event handlers, javascript: links."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        self.in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on") and "stolen" in (value or ""):
                self.found.append(f"<{tag} {name}>")
            if name in ("href", "src") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:>")

    def handle_data(self, data):
        if self.in_script and "stolen" in data:
            self.found.append("<script> with the attacker's code")

    def handle_endtag(self, tag):
        self.in_script = False


def _active_markup(html: str) -> list[str]:
    parser = _Active()
    parser.feed(html)
    return parser.found


def _answers(nb: nbformat.NotebookNode) -> list:
    return [c for c in nb.cells if nbgrader_meta(c).get("solution") and not nbgrader_meta(c).get("grade")]


def _sandbox_processes() -> dict[int, int]:
    """pid -> uid of every process running as a sandbox's user."""
    found = {}
    for p in os.listdir("/proc"):
        try:
            uid = os.stat(f"/proc/{p}").st_uid
        except OSError:
            continue
        if p.isdigit() and uid >= sb.UID_BASE:
            found[int(p)] = uid
    return found


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("sandbox-attacks")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for a in CHAPTERS:
        shutil.copytree(ROOT / "source" / a, course / "source" / a)
        _plant_secrets(course / "source" / a / f"{a}.ipynb")
        pipeline.nbgrader("generate_assignment", a, "--force", root=course)
        for student in (*HONEST, *ATTACKS, "markup"):
            folder = course / "submitted" / student / a
            folder.mkdir(parents=True)
            nbformat.write(_submission(a, None if student in HONEST else student, course), folder / f"{a}.ipynb")
    before = {p: _hash(p) for p in [course / "nbgrader_config.py", ROOT / "grader/course_grader/checks/ch02_tensors.py",
                                    *(course / "source").rglob("*.ipynb"),
                                    *[course / "submitted" / s / a / f"{a}.ipynb" for s in HONEST for a in CHAPTERS]]}
    already = set(_sandbox_processes().values())  # sandboxes of this test session's own processes
    pipeline.autograde("*", root=course, jobs=2)
    pipeline.feedback("*", root=course, publish=False)
    return course, before, already


def test_honest_students_keep_full_marks(course):
    root, _, _ = course
    for a in CHAPTERS:
        for student in HONEST:
            scores = pipeline.scores(a, student, root=root)
            assert {s.grade_id for s in scores} == set(graded_cells(a))
            assert all(s.score == s.max_score for s in scores), (a, student, [(s.grade_id, s.score) for s in scores])


def test_an_attack_costs_at_most_the_exercise_it_sits_in(course):
    """The attack's own exercise may score zero (the tamper scan flags it, or it killed its own run); no other."""
    root, _, _ = course
    for a in CHAPTERS:
        last = nbgrader_meta(_answers(nbformat.read(ROOT / "source" / a / f"{a}.ipynb", as_version=4))[-1])["grade_id"]
        own = set(attacks.tests_of(a, last))
        for student in (*ATTACKS, "markup"):
            lost = [(s.grade_id, s.score) for s in pipeline.scores(a, student, root=root)
                    if s.score != s.max_score and s.grade_id not in own]
            assert lost == [], (a, student, lost, pipeline.grading_flags(root))


def test_nothing_on_disk_changed(course):
    root, before, _ = course
    for path, digest in before.items():
        assert _hash(path) == digest, f"{path} was changed by a submission"
    assert not (root / "PWNED").exists()
    assert not list(Path("/tmp").glob(f"course-sandbox-attack-{RUN}*"))
    # the instructor's next nbgrader command runs the config: nothing of a student's is in it
    pipeline.nbgrader("db", "student", "list", root=root)
    assert not Path(f"{HOST_MARKER}-config").exists()


def test_no_process_of_a_sandbox_outlives_grading(course):
    """A sandbox's uid names the grading process that started it (sandbox.py: UID_BASE + 2·(pid mod 10⁵) + kind);
    a sandbox process whose grading process has ended outlived grading. Other tests' graders may still run."""
    _, _, already = course
    live = {int(p) % 100_000 for p in os.listdir("/proc") if p.isdigit()}
    orphans = {pid: uid for pid, uid in _sandbox_processes().items()
               if uid not in already and (uid - sb.UID_BASE) // 2 not in live}
    assert orphans == {}


def test_the_feedback_holds_no_hidden_test_no_solution_and_no_active_markup(course):
    root, _, _ = course
    hidden_source = (ROOT / "grader/course_grader/checks/ch02_tensors.py").read_text()
    for a in CHAPTERS:
        for student in (*HONEST, *ATTACKS, "markup"):
            html = next((root / "feedback" / student / a).glob("*.html")).read_text()
            assert "BEGIN HIDDEN TESTS" not in html and "course_grader.checks import" not in html, (student, a)
            assert SECRET not in html, (student, a)
            assert "def check_" not in html and hidden_source[:200] not in html, (student, a)
            assert _active_markup(html) == [], (student, a)


def test_the_instructors_hints_keep_their_markup_in_the_feedback(course):
    root, _, _ = course
    html = (root / "feedback" / "honest-a" / "02-tensors" / "02-tensors.html").read_text()
    assert html.count("<details>") >= 5 and "&lt;details&gt;" not in html


def test_the_leak_attempts_were_refused_in_front_of_the_student(course):
    root, _, _ = course
    nb = nbformat.read(root / "autograded" / "leak" / "02-tensors" / "02-tensors.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert text.count("refused:") >= 3, text[:2000]
