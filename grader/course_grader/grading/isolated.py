"""Grade a notebook's test cells in isolated worker processes, out of the student's kernel.

What the student's kernel reports is not trusted: code in the notebook can patch the functions
the tests call, rewrite later cells with IPython hooks, or kill the kernel. Here the set-up cell,
the student's answer cells and each test cell are run by :mod:`course_grader.grading.worker` in a fresh
interpreter that has no IPython, with a time limit per cell. The interpreter is forked from a warm
server process (torch and the checks already imported, no student code ever run there), which
saves the seconds of importing torch per worker; ``COURSE_GRADER_FORK=0`` starts a new interpreter
for each worker instead. If a cell hangs, kills the worker
or tampers with library functions, that cell is charged for it (a hung or killing answer cell is
left out, so only the tests that need it fail) and the worker is restarted for the remaining
cells. Only code in answer cells is graded: cells a student adds are not run here.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import nbformat

START_UP_SECONDS = 60.0  # importing torch on a busy 2-core machine


@dataclass(frozen=True)
class Step:
    kind: str  # "answer" | "test"
    id: str
    source: str


@dataclass
class Verdict:
    grade_id: str
    passed: bool
    message: str = ""
    printed: str = ""  # what the test cell printed in the worker (the feedback's output when no kernel ran)


@dataclass
class Report:
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)  # answer cell id -> why it was left out
    answer_errors: dict[str, str] = field(default_factory=dict)
    restarts: int = 0


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def job_from_notebook(nb: nbformat.NotebookNode) -> tuple[str, list[Step]]:
    """The set-up cell (first locked code cell) and the answer/test cells in notebook order."""
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    setup = next((c for c in code_cells if _meta(c).get("locked") and not _meta(c).get("grade")), None)
    steps = []
    for cell in code_cells:
        meta = _meta(cell)
        if cell is setup or not meta:
            continue
        if meta.get("solution") and not meta.get("grade"):
            steps.append(Step("answer", meta["grade_id"], cell.source))
        elif meta.get("grade") and not meta.get("solution"):
            steps.append(Step("test", meta["grade_id"], cell.source))
    return (setup.source if setup is not None else ""), steps


class _LineReader:
    """Lines from a raw pipe with a deadline (select() on a buffered file would miss buffered lines)."""

    TIMEOUT = object()

    def __init__(self, fd: int):
        self.fd, self.buffer = fd, b""

    def next(self, deadline: float):
        while b"\n" not in self.buffer:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return self.TIMEOUT
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()


class _ForkServer:
    """A warm worker process (torch and the checks imported) that forks one child per job."""

    def __init__(self, python: str):
        import socket

        self.python = python
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "JUPYTER"))}
        self.home = tempfile.mkdtemp(prefix="grade-server-")
        self.proc = subprocess.Popen([python, "-m", "course_grader.grading.worker", "--serve", str(theirs.fileno())],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     pass_fds=(theirs.fileno(),), cwd=self.home, env=env, start_new_session=True)
        theirs.close()
        self.lines = _LineReader(self.sock.fileno())
        self.exits: dict[int, int] = {}
        if self._message(time.monotonic() + START_UP_SECONDS) != {"ready": True}:
            self.close()
            raise RuntimeError("the grading fork server did not start")

    def _message(self, deadline: float):
        line = self.lines.next(deadline)
        if line is _LineReader.TIMEOUT or line is None:
            return None
        message = json.loads(line)
        if "exit" in message:
            self.exits[message["exit"]] = message["code"]
            return self._message(deadline)
        return message

    def alive(self) -> bool:
        return self.proc.poll() is None

    def start(self, workdir: str, job: dict, write_fd: int) -> int:
        import socket

        job_file = os.path.join(workdir, ".job.json")
        with open(job_file, "w", encoding="utf-8") as f:
            json.dump(job, f)
        socket.send_fds(self.sock, [json.dumps({"cwd": workdir, "job_file": job_file}).encode()], [write_fd])
        reply = self._message(time.monotonic() + 30)
        if not reply or "pid" not in reply:
            raise RuntimeError("the grading fork server did not answer")
        return reply["pid"]

    def exit_code(self, pid: int, wait: float = 2.0):
        deadline = time.monotonic() + wait
        while pid not in self.exits and time.monotonic() < deadline:
            if self._message(deadline) is None:
                break
        return self.exits.pop(pid, None)

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.sock.close()
        shutil.rmtree(self.home, ignore_errors=True)


_SERVERS: dict[str, _ForkServer] = {}


@atexit.register
def _close_servers() -> None:
    for server in _SERVERS.values():
        server.close()


def _server(python: str):
    """This process's fork server for ``python`` (started on first use), or None to spawn workers instead."""
    if os.environ.get("COURSE_GRADER_FORK", "1") == "0" or not hasattr(os, "fork"):
        return None
    server = _SERVERS.get(python)
    if server is None or not server.alive():
        try:
            server = _SERVERS[python] = _ForkServer(python)
        except (OSError, RuntimeError):
            return None
    return server


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _run_worker(setup: str, steps: list[Step], cell_timeout: float, python: str):
    """Yield (event, step_id) as the worker reports; ("hung"|"died", id) when it stops answering."""
    read_fd, write_fd = os.pipe()
    job = {"setup": setup, "steps": [s.__dict__ for s in steps]}
    with tempfile.TemporaryDirectory(prefix="grade-") as workdir:
        server = _server(python)
        proc = None
        if server is not None:
            pid = server.start(workdir, job, write_fd)
            os.close(write_fd)
        else:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "JUPYTER"))}
            proc = subprocess.Popen([python, "-m", "course_grader.grading.worker", str(write_fd)],
                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    pass_fds=(write_fd,), cwd=workdir, env=env, start_new_session=True)
            os.close(write_fd)
            proc.stdin.write(json.dumps(job).encode())
            proc.stdin.close()
            pid = proc.pid
        lines = _LineReader(read_fd)
        current, deadline = "<set-up>", time.monotonic() + START_UP_SECONDS + cell_timeout
        try:
            while True:
                line = lines.next(deadline)
                if line is _LineReader.TIMEOUT:
                    yield {"id": current, "hung": True}
                    return
                if line is None:
                    if proc is not None:
                        proc.wait()
                        code = proc.returncode
                    else:
                        code = server.exit_code(pid)
                    yield {"id": current, "died": True, "code": code}
                    return
                event = json.loads(line)
                if event.get("start"):
                    current, deadline = event["id"], time.monotonic() + cell_timeout
                    continue
                yield event
                if not steps or event["id"] == steps[-1].id:
                    return
        finally:
            os.close(read_fd)
            _kill_group(pid)
            if proc is not None:
                proc.wait()
            else:
                server.exit_code(pid, wait=0.5)


def grade_notebook(nb: nbformat.NotebookNode, *, cell_timeout: float = 60.0, python: str = sys.executable,
                   exclude: dict[str, str] | None = None) -> Report:
    """Run every test cell of ``nb`` in isolation; ``exclude`` names answer cells not to run (with why)."""
    setup, steps = job_from_notebook(nb)
    tests = [s for s in steps if s.kind == "test"]
    report = Report(excluded=dict(exclude or {}))
    for attempt in range(len(steps) + 2):
        todo = [s for s in steps if (s.kind == "answer" and s.id not in report.excluded)
                or (s.kind == "test" and s.id not in report.verdicts)]
        if not any(s.kind == "test" for s in todo):
            break
        report.restarts = attempt
        for event in _run_worker(setup, todo, cell_timeout, python):
            step_id = event["id"]
            kind = next((s.kind for s in steps if s.id == step_id), "setup")
            if "tamper" in event or "hung" in event or "died" in event:
                why = _failure_reason(event, cell_timeout)
                if kind == "answer":
                    report.excluded[step_id] = why
                elif kind == "test":
                    report.verdicts[step_id] = Verdict(step_id, False, why)
                else:  # the set-up cell itself failed: nothing can be graded
                    for t in tests:
                        report.verdicts.setdefault(t.id, Verdict(t.id, False, f"the set-up cell failed: {why}"))
                break
            if kind == "setup" and not event["ok"]:
                for t in tests:
                    report.verdicts.setdefault(t.id, Verdict(t.id, False, f"the set-up cell failed: {event['error']}"))
                break
            if kind == "answer" and not event["ok"]:
                report.answer_errors[step_id] = event["error"]
            elif kind == "test":
                printed = event.get("printed")
                report.verdicts[step_id] = Verdict(step_id, event["ok"], event.get("error", ""),
                                                   printed if isinstance(printed, str) else "")
    for t in tests:  # a test that never got to run (should not happen) fails rather than passes
        report.verdicts.setdefault(t.id, Verdict(t.id, False, "the grader could not run this test"))
    for step_id, why in report.excluded.items():
        for t in _tests_after(steps, step_id):
            v = report.verdicts[t]
            if not v.passed:
                v.message = f"answer cell {step_id} was not run because {why}"
    return report


def _tests_after(steps: list[Step], answer_id: str) -> list[str]:
    """Test cells between an answer cell and the next answer cell: the tests of that exercise."""
    ids, seen = [], False
    for s in steps:
        if s.id == answer_id:
            seen = True
        elif seen and s.kind == "answer":
            break
        elif seen:
            ids.append(s.id)
    return ids


def _failure_reason(event: dict, cell_timeout: float) -> str:
    if "tamper" in event:
        return "it changed library functions the tests rely on (" + ", ".join(event["tamper"]) + ")"
    if "hung" in event:
        return f"it did not finish within {cell_timeout:g} s"
    return f"it ended the Python process (exit code {event.get('code')})"
