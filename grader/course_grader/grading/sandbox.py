"""Every execution of student code while grading happens inside a bubblewrap sandbox.

A :class:`Sandbox` is a ``bwrap`` process holding one warm fork server (:mod:`.runtime.server`); each
job (a kernel run, the student's side of a graded run) is a child of that server. What the sandbox gives student code:

* an unprivileged user of its own (a numeric uid used by no account; as root it is entered with
  ``setpriv`` after bubblewrap has built the view, elsewhere bubblewrap maps the caller's account),
  no capabilities, ``no_new_privs``;
* a read-only view of ``/usr``, of the Python environment grading runs in and of the student package
  ``course`` — and nothing else of the machine: not the course folder (``source/``, ``solutions/``,
  ``submitted/``, other students, the gradebook, the exchange, ``nbgrader_config.py``), not the
  checkout, not ``/root`` or ``/home``; ``course_grader`` is hidden wherever it lies in that view (no
  test cell, hidden check or reference enters a sandbox: the judge runs them outside);
* two private writable folders, ``/sub`` (the job's files) and ``/tmp``, each a tmpfs of bounded size,
  emptied before every job;
* no network (an empty network namespace of its own), its own PID, IPC and UTS namespaces: every
  process it starts dies with it, and before each job the server kills whatever the last one left;
* limits on address space, CPU time, file size and (with a uid of its own) number of processes.

Where ``bwrap`` is missing, :class:`Sandbox` raises :class:`SandboxUnavailable` with the command that
installs it, unless the instructor asked for ``unsafe=True`` (``c.TrustedExecute.unsafe_no_sandbox``),
in which case the same server runs as a plain process and the feedback says so.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from course.language import language
from course_grader.grading.runtime import server as runtime_server

INSTALL = ("bubblewrap is not installed, and grading runs student code only inside its sandbox: install it "
           "with `sudo apt-get install bubblewrap` (Debian/Ubuntu; `make sandbox` does it as root), or grade "
           "without a sandbox at your own risk: `make autograde UNSAFE_NO_SANDBOX=1` (or "
           "c.TrustedExecute.unsafe_no_sandbox = True; every feedback then says so)")
START_UP_SECONDS = 90.0  # bubblewrap, then torch and the checks imported on a busy 2-core machine
RUNTIME = Path(__file__).resolve().parent / "runtime"
GRADER = Path(__file__).resolve().parent.parent  # the course_grader package
UID_BASE = 3_100_000  # sandbox uids: far above any account's


class SandboxUnavailable(RuntimeError):
    """Grading cannot start: no sandbox, and no explicit permission to grade without one."""


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 6144  # address space per process (torch maps about 1.5 GiB of it on import)
    cpu_seconds: int = 600  # CPU time per process
    file_mb: int = 64  # largest file a job may write
    processes: int = 64  # processes of the sandbox's user (only where it has a uid of its own)
    work_mb: int = 256  # the job's folder (/sub)
    tmp_mb: int = 256  # /tmp


DEFAULT_LIMITS = Limits()


def bwrap() -> str | None:
    found = shutil.which("bwrap")
    return found or ("/usr/bin/bwrap" if os.access("/usr/bin/bwrap", os.X_OK) else None)


def _tool(name: str) -> str:
    return shutil.which(name) or next((p for p in (f"/usr/bin/{name}", f"/bin/{name}") if os.access(p, os.X_OK)),
                                      name)


def _course_package() -> Path:
    import course

    return Path(course.__file__).resolve().parent


class _Binds:
    """bubblewrap arguments for a read-only view; every missing parent folder is made 0755."""

    def __init__(self) -> None:
        self.args: list[str] = []
        self.made: set[str] = {"/"}

    def folder(self, path: str) -> None:
        parent = os.path.dirname(path)
        if path in self.made:
            return
        self.folder(parent)
        self.args += ["--perms", "0755", "--dir", path]
        self.made.add(path)

    def ro(self, source: str | Path, target: str | Path | None = None) -> None:
        target = str(target or source)
        self.folder(os.path.dirname(target))
        self.args += ["--ro-bind", str(source), target]
        self.made.add(target)

    def tmpfs(self, target: str, size_mb: int, perms: str = "1777") -> None:
        self.folder(os.path.dirname(target))
        self.args += ["--perms", perms, "--size", str(size_mb << 20), "--tmpfs", target]
        self.made.add(target)


class LineReader:
    """Lines from a raw pipe with a deadline (select() on a buffered file would miss buffered lines)."""

    TIMEOUT = object()

    def __init__(self, fd: int):
        self.fd, self.buffer = fd, b""

    LIMIT = 64 << 20  # a longer line is not a result: the job is treated as dead

    def next(self, deadline: float):
        while b"\n" not in self.buffer:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return self.TIMEOUT
            chunk = os.read(self.fd, 1 << 20)
            if not chunk or len(self.buffer) > self.LIMIT:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode(errors="replace")


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


class Sandbox:
    """One bubblewrap sandbox and its warm server; ``kind`` is ``"kernel"`` or ``"verdict"``."""

    def __init__(self, kind: str, *, limits: Limits = DEFAULT_LIMITS, unsafe: bool = False,
                 python: str = sys.executable, preload: tuple[str, ...] = ()):
        if kind not in ("kernel", "verdict"):
            raise ValueError(f"no sandbox kind {kind!r}")
        self.kind, self.limits, self.unsafe = kind, limits, unsafe
        tool = bwrap()
        if tool is None and not unsafe:
            raise SandboxUnavailable(INSTALL)
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.scratch = tempfile.mkdtemp(prefix="course-unsafe-sandbox-") if unsafe else None
        work, tmp = (os.path.join(self.scratch, "sub"), os.path.join(self.scratch, "tmp")) if unsafe \
            else ("/sub", "/tmp")
        if unsafe:
            os.makedirs(work)
            os.makedirs(tmp)
        own_uid = os.geteuid() == 0 and not unsafe
        limits_sent = asdict(limits)
        if not own_uid:  # the count would include every process of the caller's account
            limits_sent.pop("processes")
        view = [] if unsafe else self._view(python)
        kernel_socket = f"course-grading-kernels-{uuid.uuid4().hex}"  # abstract (runtime.server)
        config = {
            "kind": kind, "control_fd": theirs.fileno(), "contained": not unsafe, "limits": limits_sent,
            "work": work, "scratch": [work, tmp], "keep": [] if unsafe else self.kept, "kernel_socket": kernel_socket,
            "preload": list(preload),  # modules the warm server imports before any job (the chapter's set-up cell's)
            "env": {"HOME": f"{tmp}/home", "TMPDIR": tmp, "MPLCONFIGDIR": f"{tmp}/matplotlib",
                    "IPYTHONDIR": f"{tmp}/ipython", "JUPYTER_RUNTIME_DIR": f"{tmp}/jupyter-runtime",
                    "JUPYTER_DATA_DIR": f"{tmp}/jupyter-data", "XDG_CACHE_HOME": f"{tmp}/cache",
                    "COURSE_KERNEL_SOCKET": kernel_socket},
        }
        env = {"PATH": f"{Path(python).parent}:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
               "COURSE_GRADING": "1", "OMP_NUM_THREADS": "1", "USER": "student", "LOGNAME": "student", **config["env"]}
        if unsafe:
            env["PYTHONPATH"] = str(GRADER.parent)
            argv = [python, "-m", "course_grader.grading.runtime.server", json.dumps(config)]
            cwd = self.scratch
        else:
            env["PYTHONPATH"] = "/sandbox/lib"
            argv = [tool, *view, "--clearenv", *[a for k, v in env.items() for a in ("--setenv", k, v)],
                    "--chdir", "/sandbox/lib"]
            if own_uid:
                uid = UID_BASE + (os.getpid() % 100_000) * 2 + (kind == "verdict")
                argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", _tool("setpriv"), f"--reuid={uid}",
                         f"--regid={uid}", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
                         "--no-new-privs", "--"]
            argv += [python, "-m", "grading_runtime.server", json.dumps(config)]
            cwd = "/"
        self.proc = subprocess.Popen(argv, pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd,
                                     env=env if unsafe else {"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                                     start_new_session=True)
        theirs.close()
        self.exits: dict[int, int] = {}
        ready = self._message(time.monotonic() + START_UP_SECONDS)
        if not ready or not ready.get("ready"):
            problem = self._stderr()
            self.close()
            raise SandboxUnavailable(f"the {kind} sandbox did not start: {problem or 'no answer'}")
        atexit.register(self.close)

    def _view(self, python: str) -> list[str]:
        namespaces = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        if os.geteuid() != 0:
            namespaces = ["--unshare-all", "--unshare-user", "--disable-userns"]
        b = _Binds()
        # the writable folders first: a checkout or environment under /tmp is bound inside the tmpfs, not hidden
        b.tmpfs("/sub", self.limits.work_mb)
        b.tmpfs("/tmp", self.limits.tmp_mb)
        b.ro("/usr")
        for top in ("/bin", "/lib", "/lib32", "/lib64", "/sbin"):
            if os.path.islink(top):
                b.args += ["--symlink", os.readlink(top), top]
                b.made.add(top)
            elif os.path.isdir(top):
                b.ro(top)
        for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "fonts", "nsswitch.conf",
                     "mime.types"):
            if os.path.exists(f"/etc/{name}"):
                b.ro(f"/etc/{name}")
        prefixes = sorted({Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
                           Path(python).resolve().parent.parent, Path(os.path.abspath(python)).parent.parent})
        roots: list[Path] = []
        for prefix in prefixes:
            if not _inside(prefix, [Path("/usr"), *roots]):
                b.ro(prefix)
                roots.append(prefix)
        for hidden in {GRADER, GRADER.resolve()}:  # a grader installed into the environment is masked
            if _inside(hidden, roots):
                b.args += ["--tmpfs", str(hidden)]
        b.folder("/sandbox/lib")
        # the course package the grader itself imports, first on the sandbox's path (whatever the environment has)
        b.ro(_course_package(), "/sandbox/lib/course")
        b.ro(RUNTIME, "/sandbox/lib/grading_runtime")
        self.kept = sorted(t for t in b.made if t.startswith(("/tmp/", "/sub/")))  # never wiped between jobs
        return [*namespaces, "--die-with-parent", "--new-session", *b.args, "--proc", "/proc", "--dev", "/dev"]

    def _stderr(self) -> str:
        if self.proc.poll() is None:
            return ""
        return (self.proc.stderr.read() or b"").decode(errors="replace")[-2000:]

    def _message(self, deadline: float) -> dict | None:
        """The server's next frame that is not an exit report (those are kept in ``self.exits``)."""
        while True:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([self.sock], [], [], wait)[0]:
                return None
            self.sock.settimeout(max(1.0, wait))
            try:
                message, fds = runtime_server.read_frame(self.sock)
            except (EOFError, OSError, ValueError):
                return None
            finally:
                self.sock.settimeout(None)
            for fd in fds:
                os.close(fd)
            if "exit" in message:
                self.exits[message["exit"]] = message["code"]
                continue
            return message

    def alive(self) -> bool:
        return self.proc.poll() is None

    def start(self, kind: str, payload: dict, result_fd: int, files: dict[str, str] | None = None) -> int:
        """Start a job (``"notebook"`` or ``"agent"``) that talks over ``result_fd``; its pid in the sandbox."""
        runtime_server.send_frame(self.sock, {"op": "job", "kind": kind, "payload": payload, "files": files or {},
                                              "language": language()}, (result_fd,))  # the edition it speaks
        reply = self._message(time.monotonic() + 30)
        if not reply or "pid" not in reply:
            raise RuntimeError(f"the {self.kind} sandbox did not start the job")
        return reply["pid"]

    @contextlib.contextmanager
    def job(self, kind: str, payload: dict, files: dict[str, str] | None = None, *, duplex: bool = False):
        """Run one job: yields (its pid, a :class:`LineReader` of its result lines, or with ``duplex`` a socket
        to talk to it); (None, None) when the server is gone (a submission may kill it: the sandbox is closed,
        and :func:`sandbox` starts a new one). On leaving, every process of the job is killed and the writable
        folders are emptied."""
        if duplex:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            mine, given = ours, theirs.fileno()
        else:
            read_fd, given = os.pipe()
            mine = theirs = None
        try:
            pid = self.start(kind, payload, given, files)
        except (RuntimeError, OSError):
            pid = None
        finally:
            theirs.close() if duplex else os.close(given)
        if pid is None:
            mine.close() if duplex else os.close(read_fd)
            self.close()
            yield None, None
            return
        try:
            yield pid, (mine if duplex else LineReader(read_fd))
        finally:
            mine.close() if duplex else os.close(read_fd)
            self.reset()

    def exit_code(self, pid: int, wait: float = 2.0) -> int | None:
        deadline = time.monotonic() + wait
        while pid not in self.exits and time.monotonic() < deadline:
            if self._message(deadline) is None:
                break
        return self.exits.pop(pid, None)

    def reset(self) -> None:
        """Kill every process of the sandbox but its server and empty its folders (the running job too)."""
        try:
            runtime_server.send_frame(self.sock, {"op": "reset"})
        except OSError:
            return
        self._message(time.monotonic() + 10)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # bubblewrap; its PID namespace goes with it
            except ProcessLookupError:
                pass
            self.proc.wait()
        self.sock.close()
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)


_SANDBOXES: dict[tuple, Sandbox] = {}


def sandbox(kind: str, *, limits: Limits = DEFAULT_LIMITS, unsafe: bool = False,
            preload: tuple[str, ...] = ()) -> Sandbox:
    """This process's sandbox of ``kind`` (started on first use, again if it died); ``preload``: what its warm
    server imports when it starts (a server already running keeps what it has: the rest loads in each job)."""
    key = (kind, limits, unsafe)
    box = _SANDBOXES.get(key)
    if box is None or not box.alive():
        box = _SANDBOXES[key] = Sandbox(kind, limits=limits, unsafe=unsafe, preload=preload)
    return box
