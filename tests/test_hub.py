"""A class on JupyterHub with real Unix accounts (issue 20): `hub/jupyterhub_config.py`, PAM logins,
one server per person started by the hub as that person, nbgrader's exchange between them.

One instructor and three students (honest, wrong, cheat) are `useradd`ed and removed afterwards. Each
student works in their own server through the hub (nbgrader's assignment list: fetch, submit, fetch
feedback; the contents API to save the notebook); the instructor publishes, collects, autogrades and
releases feedback with course_grader.pipeline as their own account. Then: the grades, what a student
cannot read or list, and the exchange's known holes (nbgrader #978, #1097, #1202).

The accounts run the hub's environments in this checkout (hub/.venv-student, hub/.venv). When they cannot reach
it (a clone in /root, in a 700 home, in ``mktemp -d``), the test lets the class's accounts, and them only, pass
through the folders above it (an ACL entry ``user:NAME:--x`` each, removed afterwards) and says so in a warning.
"""

from __future__ import annotations

import csv
import os
import pwd
import shutil
import time
import warnings
from pathlib import Path

import hub_helpers as hh
import nbformat
import pytest
from notebooks import ROOT

ASSIGNMENT = "02-tensors"
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hub")]

why = hh.missing()
if why:
    pytestmark.append(pytest.mark.skip(reason=why))


def _wrong_notebook() -> dict:
    import test_adversarial as adv

    nb = nbformat.read(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == adv.TARGET:
            cell.source = adv.WRONG
    return nb


def _cheat_notebook() -> dict:
    import test_adversarial as adv

    return adv._submission(next(a for a in adv.ATTACKS if a.name == "patch-course-checks"))


@pytest.fixture(scope="module")
def klass():
    accounts = hh.Accounts()
    base = hh.exchange_folder()
    hub = passage = None
    try:
        instructor = accounts.add("i")
        honest, wrong, cheat = (accounts.add("s") for _ in range(3))
        outsider = accounts.add("o")  # a Unix account that is not on the course's roster
        blocked = hh.blocked(ROOT)
        if blocked:
            passage = hh.Passage(blocked, [instructor, honest, wrong, cheat])
            warnings.warn(f"other accounts cannot reach this checkout ({', '.join(map(str, blocked))} let nobody "
                          f"through): the test's accounts may pass through it while the test runs (ACL --x); "
                          f"for `make hub`, put the course where every account can reach it", stacklevel=1)
        exchange = base / "exchange"
        course_root = Path(pwd.getpwnam(instructor).pw_dir) / hh.COURSE_ID
        course_root.mkdir()
        shutil.copy(ROOT / "nbgrader_config.py", course_root)
        shutil.copytree(ROOT / "source" / ASSIGNMENT, course_root / "source" / ASSIGNMENT)
        shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course_root / "solutions" / ASSIGNMENT)
        from course_grader.hub import prepare

        prepare(exchange, instructor, course_root)
        state = base / "state"
        state.mkdir(mode=0o700)
        hub = hh.Hub(state, {"COURSE_INSTRUCTORS": instructor, "COURSE_STUDENTS": ",".join([honest, wrong, cheat]),
                             "NBGRADER_EXCHANGE": str(exchange), "COURSE_ROOT": str(course_root)})
        yield dict(accounts=accounts, hub=hub, exchange=exchange, course_root=course_root, instructor=instructor,
                   honest=honest, wrong=wrong, cheat=cheat, outsider=outsider, base=base, results={})
    finally:
        if hub is not None:
            hub.stop()
        if passage is not None:
            passage.close()
        accounts.remove()
        shutil.rmtree(base, ignore_errors=True)


def test_bad_logins_and_tokens_are_refused(klass):
    hub = klass["hub"]
    with pytest.raises(PermissionError):
        hh.Person(hub, klass["honest"], "not-the-password")
    with pytest.raises(PermissionError):  # a real account with the right password, outside the course
        hh.Person(hub, klass["outsider"], klass["accounts"].passwords[klass["outsider"]])
    import requests

    assert requests.get(f"{hub.url}/hub/api/users/{klass['honest']}", timeout=30).status_code == 403  # no token
    person = hh.Person(hub, klass["honest"], klass["accounts"].passwords[klass["honest"]])
    r = person.api("POST", f"/hub/api/users/{person.name}/tokens", json={"note": "short", "expires_in": 1})
    short = r.json()["token"]
    time.sleep(2.5)
    r = requests.get(f"{hub.url}/hub/api/users/{person.name}", headers={"Authorization": f"token {short}"}, timeout=30)
    assert r.status_code == 403, r.status_code  # expired
    # a student's token does not reach another student's account
    assert person.api("GET", f"/hub/api/users/{klass['wrong']}").status_code in (403, 404)


def test_release_work_submit_collect_grade_feedback(klass):
    k, hub = klass, klass["hub"]
    pw = k["accounts"].passwords
    instructor = hh.Person(hub, k["instructor"], pw[k["instructor"]])
    students = {who: hh.Person(hub, k[who], pw[k[who]]) for who in ("honest", "wrong", "cheat")}
    for person in [instructor, *students.values()]:
        person.start_server()
    log = hh.pipeline(k["instructor"], k["course_root"], k["exchange"], "publish", "--assignment", ASSIGNMENT,
                      "--duedate", "2030-01-01 00:00:00 UTC")
    for person in [instructor, *students.values()]:
        person.wait_ready()
        # their work and their nbgrader cache (each submission's secret): the hub made the home 700 (it was 755)
        assert Path(pwd.getpwnam(person.name).pw_dir).stat().st_mode & 0o777 == 0o700, person.name

    # the instructor's server has the formgrader; a student's does not (locked-down environment)
    assert instructor.api("GET", f"/user/{instructor.name}/formgrader").status_code == 200
    assert students["honest"].api("GET", f"/user/{students['honest'].name}/formgrader").status_code == 404

    work = {"honest": nbformat.read(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4),
            "wrong": _wrong_notebook(), "cheat": _cheat_notebook()}
    rel = f"{hh.COURSE_ID}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    for who, person in students.items():
        assert person.assignments("fetch", ASSIGNMENT)["success"], who
        fetched = Path(pwd.getpwnam(person.name).pw_dir) / rel
        assert fetched.is_file() and fetched.stat().st_uid == pwd.getpwnam(person.name).pw_uid
        person.put_notebook(rel, work[who])
        assert person.assignments("submit", ASSIGNMENT)["success"], who

    # #1097: the cheat submits a blank notebook under the honest student's name, after the honest one
    home = Path(pwd.getpwnam(k["cheat"]).pw_dir)
    nbformat.write(nbformat.read(ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4), home / rel)
    hh.as_user(k["cheat"], str(hh.STUDENT_BIN / "python"), "-m", "nbgrader", "submit", ASSIGNMENT,
               f"--student={k['honest']}", f"--course={hh.COURSE_ID}", cwd=str(home),
               env=hh.student_env(k["exchange"]))
    inbound = k["exchange"] / hh.COURSE_ID / "inbound"
    forged = [p for p in inbound.iterdir() if p.name.startswith(k["honest"] + "+") and p.owner() == k["cheat"]]
    assert len(forged) == 1

    log = hh.pipeline(k["instructor"], k["course_root"], k["exchange"], "collect", "--assignment", ASSIGNMENT)
    assert f"refused {forged[0].name}" in log and "impersonation" in log, log[-3000:]
    log = hh.pipeline(k["instructor"], k["course_root"], k["exchange"], "autograde", "--assignment", ASSIGNMENT,
                      "--jobs", "2")
    hh.pipeline(k["instructor"], k["course_root"], k["exchange"], "feedback", "--assignment", ASSIGNMENT)
    hh.pipeline(k["instructor"], k["course_root"], k["exchange"], "grades", "--output", str(k["course_root"] / "grades.csv"))
    rows = {r["student_id"]: r for r in csv.DictReader(open(k["course_root"] / "grades.csv"))}
    assert set(rows) == {k["honest"], k["wrong"], k["cheat"]}
    top = float(rows[k["honest"]]["max_score"])
    assert float(rows[k["honest"]]["score"]) == top > 0  # the forged blank submission did not replace it
    assert 0 < float(rows[k["wrong"]]["score"]) < top
    assert float(rows[k["cheat"]]["score"]) == float(rows[k["wrong"]]["score"])  # the patch bought nothing
    k["results"]["grades"] = {who: float(rows[k[who]]["score"]) for who in ("honest", "wrong", "cheat")}

    for who, person in students.items():
        assert person.assignments("fetch_feedback", ASSIGNMENT)["success"], who
        html = list((Path(pwd.getpwnam(person.name).pw_dir) / hh.COURSE_ID / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
        assert len(html) == 1, who
        assert f"{rows[person.name]['score']}" in html[0].read_text() or "Score" in html[0].read_text()
    k["results"]["done"] = True


PROBE = """
import os, sys, json
out = {}
for label, path in json.loads(sys.argv[1]).items():
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, 'rb').read(1)
        out[label] = 'allowed'
    except PermissionError:
        out[label] = 'denied'
    except FileNotFoundError:
        out[label] = 'missing'
print(json.dumps(out))
"""


def test_a_student_cannot_read_others_work_or_the_instructors_files(klass):
    k = klass
    if not k["results"].get("done"):
        pytest.skip("needs the class run above")
    import json

    exchange = k["exchange"] / hh.COURSE_ID
    honest_home = Path(pwd.getpwnam(k["honest"]).pw_dir)
    (honest_sub,) = [p for p in (exchange / "inbound").iterdir() if p.owner() == k["honest"]]
    targets = {
        "list inbound": exchange / "inbound",
        "list feedback": exchange / "feedback",
        # even knowing the folder's name (#978), the submission and its secret are not readable
        "honest's submission": honest_sub / f"{ASSIGNMENT}.ipynb",
        "honest's submission secret (#1202)": honest_sub / "submission_secret.txt",
        "honest's home": honest_home,
        "honest's feedback copy": next(honest_home.glob(f"{hh.COURSE_ID}/{ASSIGNMENT}/feedback/*/{ASSIGNMENT}.html")),
        "course folder": k["course_root"],
        "source": k["course_root"] / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        "solutions": k["course_root"] / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        "gradebook": k["course_root"] / "gradebook.db",
    }
    out = json.loads(hh.as_user(k["wrong"], "/usr/bin/python3", "-c", PROBE,
                                json.dumps({a: str(b) for a, b in targets.items()})).stdout)
    assert out == {label: "denied" for label in targets}, out
    # the instructor (owner of the course, group of the inbound folder) can read the submission
    import grp

    assert honest_sub.group() == grp.getgrgid(pwd.getpwnam(k["instructor"]).pw_gid).gr_name
    mode = honest_sub.stat().st_mode & 0o777
    assert mode & 0o007 == 0, oct(mode)

    # the exchange's own folders cannot be renamed, replaced or written into by a student
    attack = f"""
import os, sys
course = {str(exchange)!r}
res = []
for what, fn in [("rename course", lambda: os.rename(course, course + "-x")),
                 ("write outbound", lambda: open(os.path.join(course, "outbound", {ASSIGNMENT!r}, "x.txt"), "w")),
                 ("overwrite release", lambda: open(os.path.join(course, "outbound", {ASSIGNMENT!r}, {ASSIGNMENT + '.ipynb'!r}), "a")),
                 ("write feedback", lambda: open(os.path.join(course, "feedback", "x.html"), "w"))]:
    try:
        fn(); res.append(what + ": allowed")
    except PermissionError:
        res.append(what + ": denied")
print("\\n".join(res))
"""
    res = hh.as_user(k["cheat"], "/usr/bin/python3", "-c", attack).stdout
    assert "allowed" not in res, res

    # the student environment has no hidden checks or grader
    proc = hh.as_user(k["wrong"], str(hh.STUDENT_BIN / "python"), "-c", "import course_grader", check=False)
    assert proc.returncode != 0


def test_a_submission_over_the_size_limit_is_left_out(klass):
    k = klass
    if not k["results"].get("done"):
        pytest.skip("needs the class run above")
    home = Path(pwd.getpwnam(k["wrong"]).pw_dir)
    big = home / hh.COURSE_ID / ASSIGNMENT / "weights.bin"
    big.write_bytes(os.urandom(6_000_000))  # the hub's limit: CourseDirectory.max_file_size = 5000 kB
    os.chown(big, pwd.getpwnam(k["wrong"]).pw_uid, pwd.getpwnam(k["wrong"]).pw_gid)
    proc = hh.as_user(k["wrong"], str(hh.STUDENT_BIN / "python"), "-m", "nbgrader", "submit", ASSIGNMENT,
                      f"--course={hh.COURSE_ID}",
                      cwd=str(home), env=hh.student_env(k["exchange"]))
    assert "Ignoring file too large" in proc.stdout + proc.stderr
    newest = max((p for p in (k["exchange"] / hh.COURSE_ID / "inbound").iterdir() if p.owner() == k["wrong"]),
                 key=lambda p: p.stat().st_mtime)
    assert not (newest / "weights.bin").exists()
    # the instructor's collect applies the same limit, whatever a student's own configuration says
    log = hh.pipeline(k["instructor"], k["course_root"], k["exchange"], "collect", "--assignment", ASSIGNMENT)
    assert not (k["course_root"] / "submitted" / k["wrong"] / ASSIGNMENT / "weights.bin").exists(), log[-2000:]
