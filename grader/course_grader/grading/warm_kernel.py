"""Autograding kernels forked from a warm process instead of started cold.

nbgrader runs every submission in a new IPython kernel. Started cold, that kernel spends seconds
importing IPython, torch and the course's checks before the first cell runs: on chapter 02, about
half of a submission's time (``benchmarks/autograde_throughput.py`` prints the figures).
:class:`WarmKernelManager` (``c.Execute.kernel_manager_class`` in ``nbgrader_config.py``) launches
``python -m course_grader.grading.warm_kernel --socket S -f CONNECTION_FILE`` in place of
``ipykernel_launcher``: a small client that asks this nbgrader process's warm server to fork a
kernel for that connection file, and lives exactly as long as the kernel does, so nbgrader (through
jupyter_client) sees an ordinary kernel process it can interrupt, kill and poll.

What stays as it was: each notebook gets a kernel process of its own, in its own session, with the
working directory and environment nbgrader gave it; nothing from a notebook ever runs in the server,
which only imports libraries. What the kernel does is still not trusted: the grades come from
:mod:`course_grader.grading.isolated`. ``COURSE_WARM_KERNEL=0`` starts cold kernels as before.

Lifetimes: the forked kernel holds the read end of a pipe whose write end only the client holds, so
when the client dies (SIGKILL included) the kernel kills its own process group; the server exits when
the nbgrader process that started it closes the server's stdin (or dies).
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading

from jupyter_client import AsyncKernelManager

from course_grader.grading.worker import finished_children

PRELOADED = ("ipykernel.kernelapp", "numpy", "torch", "matplotlib")
# imported for what they import, then forgotten: a kernel imports the course's own modules afresh
# from its sys.path, exactly as a cold kernel would (a module a submission ships shadows them there too)
IMPORTED_FOR_THEIR_IMPORTS = ("course.checks", "course_grader.checks")
OWN_PACKAGES = ("course", "course_grader")


def enabled() -> bool:
    return os.environ.get("COURSE_WARM_KERNEL", "1") != "0" and hasattr(os, "fork")


# --- the server (one per nbgrader process) -----------------------------------------------------

def _preload() -> None:
    import importlib
    import pkgutil

    for name in PRELOADED:
        importlib.import_module(name)
    for name in IMPORTED_FOR_THEIR_IMPORTS:  # every chapter's checks: what the test cells import first
        package = importlib.import_module(name)
        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{name}.{info.name}")
    for name in [n for n in sys.modules if n.split(".")[0] in OWN_PACKAGES]:
        del sys.modules[name]


def _kernel_child(request: dict, fds: list[int], close: list) -> None:
    """In the forked child: become the kernel nbgrader asked for. Never returns."""
    code = 1
    lifeline = fds[0]
    try:
        for s in close:
            s.close()
        for target, fd in enumerate(fds[1:]):  # the client's stdin, stdout, stderr: what nbgrader gave the kernel
            os.dup2(fd, target)
            os.close(fd)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        os.setsid()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])

        def watch() -> None:  # the client's end closed: it died, or nbgrader killed it
            while os.read(lifeline, 1):
                pass
            os.killpg(0, signal.SIGKILL)

        threading.Thread(target=watch, daemon=True).start()
        sys.argv = ["ipykernel_launcher", *request["argv"]]
        if os.environ.get("JPY_PARENT_PID", "").isdigit():  # read at import time, i.e. in the server
            sys.argv.append(f"--IPKernelApp.parent_handle={os.environ['JPY_PARENT_PID']}")
        from ipykernel.kernelapp import IPKernelApp  # it puts the notebook's folder ('') first, as always

        IPKernelApp.launch_instance()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # noqa: BLE001 - the client reports the exit code; the traceback goes to stderr
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def serve(path: str) -> None:
    """Accept kernel requests on the Unix socket ``path`` until stdin closes."""
    if sys.path and sys.path[0] in ("", os.getcwd()):  # ``-m`` put nbgrader's folder first: not the kernels'
        del sys.path[0]
    _preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    print("ready", flush=True)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ)
    sel.register(sys.stdin, selectors.EVENT_READ)
    clients: dict[int, socket.socket] = {}  # kernel pid -> the client waiting for its exit code
    while True:
        for key, _ in sel.select(timeout=0.1):
            if key.fileobj is sys.stdin:
                if not os.read(sys.stdin.fileno(), 1024):
                    for pid in clients:
                        _kill_group(pid)
                    return
                continue
            conn, _ = listener.accept()
            try:
                data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 4)
                request = json.loads(data)
                if len(fds) != 4:
                    raise ValueError("a request carries the lifeline and the kernel's stdin, stdout, stderr")
            except (OSError, ValueError):
                conn.close()
                continue
            pid = os.fork()
            if pid == 0:
                _kernel_child(request, fds, [listener, conn, *clients.values()])
            for fd in fds:
                os.close(fd)
            conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
            clients[pid] = conn
        for pid, code in finished_children() if clients else ():
            conn = clients.pop(pid, None)
            if conn is not None:
                try:
                    conn.sendall(json.dumps({"exit": code}).encode() + b"\n")
                except OSError:
                    pass
                conn.close()


def _kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# --- the client (what nbgrader starts as "the kernel") ------------------------------------------

def client(path: str, argv: list[str]) -> int:
    """Have the server fork a kernel with ``argv``; forward interrupts; exit with the kernel's code."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    keep, give = os.pipe()[::-1]  # (write end kept here, read end handed to the kernel)
    request = {"cwd": os.getcwd(), "env": dict(os.environ), "argv": argv}
    socket.send_fds(conn, [json.dumps(request).encode()], [give, 0, 1, 2])
    os.close(give)
    reader = conn.makefile("r")
    pid = json.loads(reader.readline())["pid"]

    signal.signal(signal.SIGINT, lambda *_: _kill_group(pid, signal.SIGINT))  # jupyter's interrupt
    signal.signal(signal.SIGTERM, lambda *_: (_kill_group(pid, signal.SIGTERM), os._exit(143)))
    line = reader.readline()
    if not line:  # the server went away: take the kernel with it
        _kill_group(pid)
        return 1
    code = json.loads(line)["exit"]
    os.close(keep)
    return code if code >= 0 else 128 - code


# --- the kernel manager nbgrader uses ------------------------------------------------------------

class _Server:
    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="warm-kernels-")  # 0700: only this user can connect
        self.path = os.path.join(self.folder, "socket")
        self.proc = subprocess.Popen([sys.executable, "-m", __name__, "--serve", self.path],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)
        if self.proc.stdout.readline().strip() != b"ready":
            self.close()
            raise RuntimeError("the warm kernel server did not start")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                _kill_group(self.proc.pid)
                self.proc.wait()
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)


_server: _Server | None = None


def server_socket() -> str | None:
    """This process's warm server (started on first use), or None when kernels start cold."""
    global _server
    if not enabled():
        return None
    if _server is None or not _server.alive():
        try:
            _server = _Server()
        except (OSError, RuntimeError):
            return None
        atexit.register(_server.close)
    return _server.path


class WarmKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels are forked from the warm server (cold when that is off)."""

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        path = server_socket() if cmd[1:3] == ["-m", "ipykernel_launcher"] else None
        if path is None:
            return cmd
        return [cmd[0], "-m", __name__, "--socket", path, *cmd[3:]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", metavar="SOCKET")
    parser.add_argument("--socket")
    args, kernel_argv = parser.parse_known_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    if not args.socket:
        parser.error("--serve SOCKET or --socket SOCKET -f CONNECTION_FILE")
    return client(args.socket, kernel_argv)


if __name__ == "__main__":
    sys.exit(main())
