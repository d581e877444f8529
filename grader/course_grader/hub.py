"""A class on a shared server: the exchange's folders and a collect step that trusts Unix owners.

On JupyterHub every person is their own Unix account, so the owner of a submission folder says who
handed it in. nbgrader's ``CollectApp.check_owner`` only *warns* when a submission claims another
student's name (``nbgrader submit --student=victim``, or a folder written by hand: nbgrader issue
#1097) and then collects it anyway. :class:`OwnerCheckedCollect` refuses such a submission instead,
so an impostor can neither replace a victim's work nor hand in work under their name.

    python -m course_grader.hub prepare --exchange /srv/nbgrader/exchange --instructor NAME --course-root DIR

run as root before the first release: the exchange root gets mode 1777 (world-writable as nbgrader
requires, with the sticky bit so nobody can rename or delete what another account made there,
e.g. the course folder), the course's folder in it belongs to the instructor (755), and the
course root (source/, solutions/, gradebook.db, submitted/) belongs to the instructor with mode 700, as does
the instructor's home. The hub makes every other home 700 when it first starts that person's server.
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import sys
from pathlib import Path

from nbgrader.exchange.default.collect import ExchangeCollect

COURSE_ID = "transformer-course"


def owner(path: str) -> str:
    try:
        return pwd.getpwuid(os.stat(path).st_uid).pw_name
    except KeyError:
        return f"uid {os.stat(path).st_uid}"


class OwnerCheckedCollect(ExchangeCollect):
    """``nbgrader collect`` that leaves out every submission not owned by the student it names."""

    def init_src(self):
        super().init_src()  # the checks, the due date and nbgrader's own pick
        student_id = self.coursedir.student_id if self.coursedir.student_id else "*"
        records = []
        for path in glob.glob(os.path.join(self.inbound_path, f"{student_id}+{self.coursedir.assignment_id}+*")):
            record = self._path_to_record(path)
            who = owner(path)
            if who != record["username"]:
                self.log.warning("refused %s: it claims to be from %s but the account %s wrote it "
                                 "(impersonation through the exchange)", record["filename"], record["username"], who)
                continue
            records.append(record)
        picked = []
        for username in sorted({r["username"] for r in records}):
            mine = self._sort_by_timestamp([r for r in records if r["username"] == username])
            on_time = [r for r in mine if self.duedate is not None and r["timestamp"] <= self.duedate]
            picked.append(on_time[0] if (on_time and self.before_duedate) else mine[0])
        self.src_records = picked


def prepare(exchange: Path, instructor: str, course_root: Path | None = None, course_id: str = COURSE_ID) -> None:
    """Create the exchange and the instructor's course folder with the modes the README describes (as root)."""
    account = pwd.getpwnam(instructor)
    exchange.mkdir(parents=True, exist_ok=True)
    os.chown(exchange, 0, 0)
    os.chmod(exchange, 0o1777)
    course = exchange / course_id
    course.mkdir(exist_ok=True)
    os.chown(course, account.pw_uid, account.pw_gid)
    os.chmod(course, 0o755)
    if course_root is not None:
        course_root.mkdir(parents=True, exist_ok=True)
        for path in [course_root, *course_root.rglob("*")]:
            os.lchown(path, account.pw_uid, account.pw_gid)
        os.chmod(course_root, 0o700)
    lock_home(instructor)


def lock_home(user: str) -> None:
    """A person's home folder (their work, their nbgrader cache with each submission's secret): mode 700. The hub
    calls it before it starts anyone's server (hub/jupyterhub_config.py), ``prepare`` for the instructor."""
    home = Path(pwd.getpwnam(user).pw_dir)
    if home.is_dir():
        os.chmod(home, 0o700)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_grader.hub", description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=["prepare"])
    parser.add_argument("--exchange", type=Path, required=True)
    parser.add_argument("--instructor", required=True, help="the Unix account that grades the course")
    parser.add_argument("--course-root", type=Path, help="the instructor's course folder (made 700)")
    parser.add_argument("--course-id", default=COURSE_ID)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("run as root: the exchange and the course folder change owners")
    prepare(args.exchange, args.instructor, args.course_root, args.course_id)
    print(f"exchange {args.exchange} (1777), {args.exchange / args.course_id} owned by {args.instructor}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
