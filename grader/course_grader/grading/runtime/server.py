"""The warm fork server of a grading sandbox: the one process that lives as long as the sandbox.

Started by :class:`course_grader.grading.sandbox.Sandbox` as ``python -m grading_runtime.server CONFIG``
inside bubblewrap, as the sandbox's unprivileged user. It imports the libraries every submission needs
once (torch, IPython, nbclient, the course's checks), then forks one child per job, so a submission
pays no import time. It never runs student code itself.

Nothing passes from one submission to the next: before each job the server kills every other process in
the sandbox (``kill(-1)`` reaches exactly the sandbox's own PID namespace) and empties its writable
folders; it is not dumpable, so a job can neither trace it nor open its descriptors through ``/proc``.
Limits (memory, CPU time, file size, processes) are set in each child before any student code runs.

The supervisor talks to it over the socket passed as file descriptor ``CONFIG["control_fd"]``, in frames
(:func:`send_frame`): a job request carries the job's result pipe as an ``SCM_RIGHTS`` descriptor. Replies:
``{"pid": n}`` when a job started, ``{"exit": n, "code": c}`` when it ended, ``{"reset": true}``.
Kernels for the notebook job are requested by :mod:`.kernel`'s client on an abstract Unix socket, which
belongs to the sandbox's network namespace: nothing outside can connect to it.
"""

from __future__ import annotations

import base64
import json
import os
import resource
import select
import shutil
import signal
import socket
import struct
import sys
import time

from .imports import skip_unused

HEADER = struct.Struct("!Q")
MAX_FRAME = 256 << 20  # a submission's files travel in one frame


# --- frames: what the supervisor and the server say to each other ---------------------------------

def send_frame(sock: socket.socket, message: dict, fds: tuple[int, ...] = ()) -> None:
    data = json.dumps(message).encode()
    socket.send_fds(sock, [HEADER.pack(len(data))], list(fds)) if fds else sock.sendall(HEADER.pack(len(data)))
    sock.sendall(data)


def read_exactly(sock: socket.socket, size: int, deadline: float | None = None) -> bytes:
    """``size`` bytes from ``sock``; EOFError when the other side closes first, TimeoutError at ``deadline``."""
    parts, left = [], size
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([sock], [], [], wait)[0]:
                raise TimeoutError("no answer in time")
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the socket")
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def read_frame(sock: socket.socket) -> tuple[dict, list[int]]:
    """One frame and the descriptors that came with it; EOFError when the other side has gone."""
    head, fds, _, _ = socket.recv_fds(sock, HEADER.size, 4)
    if not head:
        raise EOFError("the other side closed the socket")
    head += read_exactly(sock, HEADER.size - len(head))
    (size,) = HEADER.unpack(head)
    if size > MAX_FRAME:
        raise ValueError(f"a frame of {size} bytes is over the limit")
    message = json.loads(read_exactly(sock, size))
    if not isinstance(message, dict):
        raise ValueError("a frame holds a JSON object")
    return message, fds


# --- processes --------------------------------------------------------------------------------

def finished_children():
    """Yield (pid, exit code) of each child process that has ended, without waiting for the others."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        yield pid, os.waitstatus_to_exitcode(status)


def not_dumpable() -> None:
    """No other process of this user may trace this one or read its memory and descriptors."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0


def _others() -> list[int]:
    me = os.getpid()
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me)]


def apply_limits(limits: dict) -> None:
    """Lower this process's resource limits (children inherit them); called before any student code."""
    mib = 1 << 20
    for name, key, scale in (("RLIMIT_AS", "memory_mb", mib), ("RLIMIT_CPU", "cpu_seconds", 1),
                             ("RLIMIT_FSIZE", "file_mb", mib), ("RLIMIT_NPROC", "processes", 1)):
        value = limits.get(key)
        if value:
            resource.setrlimit(getattr(resource, name), (int(value * scale), int(value * scale)))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class Server:
    def __init__(self, config: dict):
        self.config = config
        self.contained = bool(config.get("contained"))  # in a PID namespace of its own (bubblewrap)
        self.control = socket.socket(fileno=config["control_fd"])
        self.jobs: set[int] = set()
        self.kernel_clients: dict[int, socket.socket] = {}
        self.listener = None
        if config["kind"] == "kernel":
            self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.listener.bind("\0" + config["kernel_socket"])  # abstract: no file, this network namespace only
            self.listener.listen(16)

    # everything an earlier job left behind goes before the next one starts
    def reset(self) -> None:
        if self.contained:
            deadline = time.monotonic() + 5
            while _others() and time.monotonic() < deadline:
                try:
                    os.kill(-1, signal.SIGKILL)  # every process of the sandbox but init and this one
                except ProcessLookupError:
                    pass
                for _ in finished_children():
                    pass
                time.sleep(0.005)
        else:  # unsafe mode, no namespace: only the process groups this server started
            for pid in [*self.jobs, *self.kernel_clients]:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            for _ in finished_children():
                pass
        for pid in [*self.jobs, *self.kernel_clients]:
            self._report(pid, -9)
        for folder in self.config.get("scratch", []):
            _wipe(folder, self.config.get("keep", []))

    def _report(self, pid: int, code: int) -> None:
        if pid in self.jobs:
            self.jobs.discard(pid)
            send_frame(self.control, {"exit": pid, "code": code})
        conn = self.kernel_clients.pop(pid, None)
        if conn is not None:
            try:
                conn.sendall(json.dumps({"exit": code}).encode() + b"\n")
            except OSError:
                pass
            conn.close()

    def _close_in_child(self) -> list:
        return [self.control, *([self.listener] if self.listener else []), *self.kernel_clients.values()]

    def _start_job(self, request: dict, fds: list[int]) -> None:
        self.reset()
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            send_frame(self.control, {"error": "a job request carries exactly one result descriptor"})
            return
        (result_fd,) = fds
        pid = os.fork()
        if pid == 0:
            _job_child(request, result_fd, self.config)
        os.close(result_fd)
        self.jobs.add(pid)
        send_frame(self.control, {"pid": pid})

    def _start_kernel(self) -> None:
        from .kernel import kernel_child

        conn, _ = self.listener.accept()
        try:
            data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 4)
            request = json.loads(data)
            if len(fds) != 4:
                raise ValueError("a request carries the lifeline and the kernel's stdin, stdout, stderr")
        except (OSError, ValueError):
            conn.close()
            return
        pid = os.fork()
        if pid == 0:
            kernel_child(request, fds, [*self._close_in_child(), conn], self.config)
        for fd in fds:
            os.close(fd)
        conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        self.kernel_clients[pid] = conn

    def serve(self) -> None:
        send_frame(self.control, {"ready": True, "pid": os.getpid()})
        watched = [self.control, *([self.listener] if self.listener else [])]
        while True:
            ready, _, _ = select.select(watched, [], [], 0.05)
            for pid, code in finished_children():
                self._report(pid, code)
            if self.listener in ready:
                self._start_kernel()
            if self.control not in ready:
                continue
            try:
                request, fds = read_frame(self.control)
            except (EOFError, OSError, ValueError):
                self.reset()
                return  # the supervisor went away, or spoke nonsense
            if request.get("op") == "job":
                self._start_job(request, fds)
            elif request.get("op") == "reset":
                self.reset()
                send_frame(self.control, {"reset": True})


def _wipe(folder: str, keep: list[str]) -> None:
    """Empty ``folder``, except the read-only views bound inside it (``keep``) and the folders leading to them."""
    for entry in os.listdir(folder) if os.path.isdir(folder) else []:
        path = os.path.join(folder, entry)
        if path in keep:
            continue
        if any(k.startswith(path + "/") for k in keep):
            if os.path.isdir(path) and not os.path.islink(path):
                _wipe(path, keep)
            continue
        _make_removable(path)
        shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) and not os.path.islink(path) else _unlink(path)


def _make_removable(path: str) -> None:
    """A job may have taken the write bit off its own folders: give it back so they can be removed."""
    for root, dirs, _ in os.walk(path):
        for d in dirs:
            try:
                os.chmod(os.path.join(root, d), 0o700)
            except OSError:
                pass
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def child_setup(config: dict, keep: tuple[int, ...] = ()) -> None:
    """In a forked child, before anything of a submission runs: own session, default signals, limits."""
    os.setsid()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    apply_limits(config.get("limits", {}))


def _job_child(request: dict, result_fd: int, config: dict) -> None:
    """Become the worker of one job. Never returns."""
    try:
        child_setup(config)
        devnull = os.open(os.devnull, os.O_RDWR)
        for std in (0, 1, 2):
            os.dup2(devnull, std)
        os.closerange(3, result_fd)
        os.closerange(result_fd + 1, 65536)
        workdir = os.path.join(config["work"], "job")
        os.makedirs(workdir, exist_ok=True)
        for name, content in (request.get("files") or {}).items():
            target = os.path.normpath(os.path.join(workdir, name))
            if not target.startswith(workdir + os.sep):
                continue  # a name that leaves the folder is not written
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(base64.b64decode(content))
        os.chdir(workdir)
        os.environ.update(config.get("env", {}))
        if request.get("language") in ("en", "zh"):  # the edition the checks speak here (course.language)
            os.environ["COURSE_LANGUAGE"] = request["language"]
        if request["kind"] == "notebook":
            from .notebook import main
        else:
            from .agent import main
        main(result_fd, request["payload"])
    finally:
        os._exit(0)


def _preload(kind: str, modules: list[str]) -> None:
    if kind == "kernel":
        from .kernel import preload

        preload()
    else:
        from .watch import preload

        preload([m for m in modules if type(m) is str])


def main(argv: list[str]) -> None:
    config = json.loads(argv[0])
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    not_dumpable()
    apply_limits({k: v for k, v in config.get("limits", {}).items() if k == "processes"})
    skip_unused()
    _preload(config["kind"], config.get("preload", []))
    Server(config).serve()


if __name__ == "__main__":
    main(sys.argv[1:])
