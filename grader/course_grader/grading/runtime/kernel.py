"""Kernels forked from the sandbox's warm server instead of started cold.

Started cold, an IPython kernel spends seconds importing IPython, torch and the course's checks before
the first cell runs. Inside the sandbox, :class:`ForkedKernelManager` (the notebook job's kernel
manager) launches ``python -m grading_runtime.kernel -f CONNECTION_FILE`` in place of
``ipykernel_launcher``: a small client that asks the warm server (:mod:`.server`) to fork a kernel for
that connection file, and lives exactly as long as the kernel does, so jupyter_client sees an ordinary
kernel process it can interrupt, kill and poll. The course's own modules are imported afresh in each
kernel, exactly as a cold kernel would.

Lifetimes: the forked kernel holds the read end of a pipe whose write end only the client holds, so when
the client dies (SIGKILL included) the kernel kills its own process group.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading

# torch._dynamo: torch imports it on the first use of a TorchFunctionMode (the switch-off of borrowed code in the
# visible checks), 1.5-2 s that every kernel run would pay again; matplotlib's figure and Agg backend and tabulate
# (0.35 s): what every set-up cell's course.plotting imports. Not ipywidgets: imported before the kernel exists it
# would not register its comm targets with it.
PRELOADED = ("ipykernel.kernelapp", "numpy", "torch", "torch._dynamo", "matplotlib", "matplotlib.figure",
             "matplotlib.backends.backend_agg", "tabulate", "nbclient", "nbformat")
# imported for what they import, then forgotten: a kernel imports the course's own modules afresh
IMPORTED_FOR_THEIR_IMPORTS = ("course.checks",)
OWN_PACKAGES = ("course",)


def preload() -> None:
    import importlib

    from .imports import import_all

    for name in PRELOADED:
        importlib.import_module(name)
    for name in IMPORTED_FOR_THEIR_IMPORTS:
        import_all(name)
    for name in [n for n in sys.modules if n.split(".")[0] in OWN_PACKAGES]:
        del sys.modules[name]


def kernel_child(request: dict, fds: list[int], close: list, config: dict) -> None:
    """In the server's forked child: become the kernel the client asked for. Never returns."""
    from .server import child_setup

    code = 1
    lifeline = fds[0]
    try:
        for s in close:
            s.close()
        for target, fd in enumerate(fds[1:]):  # the client's stdin, stdout, stderr
            os.dup2(fd, target)
            os.close(fd)
        child_setup(config)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update({k: v for k, v in request["env"].items() if isinstance(k, str) and isinstance(v, str)})

        def watch() -> None:  # the client's end closed: it died, or the kernel was shut down
            while os.read(lifeline, 1):
                pass
            os.killpg(0, signal.SIGKILL)

        threading.Thread(target=watch, daemon=True).start()
        sys.argv = ["ipykernel_launcher", *[str(a) for a in request["argv"]]]
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


def _kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def client(argv: list[str], path: str) -> int:
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


def manager_class():
    """The kernel manager the notebook job gives nbclient (imported late: the client needs none of it)."""
    from jupyter_client import AsyncKernelManager

    class ForkedKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            cmd = super().format_kernel_cmd(extra_arguments)
            if cmd[1:3] != ["-m", "ipykernel_launcher"]:
                return cmd
            return [cmd[0], "-m", __spec__.parent + ".kernel", *cmd[3:]]

    return ForkedKernelManager


if __name__ == "__main__":
    sys.exit(client(sys.argv[1:], "\0" + os.environ["COURSE_KERNEL_SOCKET"]))
