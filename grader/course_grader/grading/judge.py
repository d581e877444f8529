"""The verdict, computed where no student code runs.

The graded run has two sides. In the verdict sandbox the agent (:mod:`.runtime.agent`) runs the
student's answer cells and then waits. Here, in a process forked from the grader that never executes a
line of the student's, the judge runs the notebook's set-up cell and its test cells (visible and hidden
checks, references, comparisons) with every name the student's answer cells defined bound to a
:class:`Remote`: a handle that asks the agent to call that function or class there, read an attribute
there, iterate there. What comes back is data (:mod:`.runtime.wire`), checked here like any value the
student's code returned. The judge alone writes verdicts, to a pipe the sandbox never sees.

Functions of the test cell handed to the student's code (a fake clock, a recording callback) stay here:
the agent gets a :class:`~.runtime.agent.Callback` and each call comes back to be run by the judge with
data for arguments.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import secrets
import signal
import socket
import sys
import traceback
from typing import Any

from course.checks.elsewhere import Elsewhere
from course_grader.grading.runtime import wire

PRINTED_LIMIT = 10_000
EXCEPTIONS = {name: getattr(builtins, name) for name in (
    "ValueError", "TypeError", "IndexError", "KeyError", "RuntimeError", "AssertionError", "NotImplementedError",
    "ZeroDivisionError", "AttributeError", "ArithmeticError", "OverflowError", "LookupError", "RecursionError",
    "MemoryError", "StopIteration", "NameError", "UnboundLocalError", "ImportError", "ModuleNotFoundError",
    "OSError", "FileNotFoundError", "PermissionError", "Exception")}


class StudentGone(Exception):
    """The sandboxed side stopped answering (it died, or spoke out of turn)."""


class StudentError(Exception):
    """The student's code raised an exception of a type that is not a built-in one."""


class Student:
    """The judge's end of the channel to the agent."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.callbacks: list[Any] = []
        self.remotes: dict[int, Remote] = {}

    # values that leave: the judge's functions cross as callbacks, handles as their number
    def reference(self, obj: Any) -> dict:
        if isinstance(obj, Remote):
            if obj._student is not self:
                raise wire.Unsendable("a handle of another submission")
            return {"handle": obj._info["handle"]}
        if callable(obj) and not isinstance(obj, type):
            self.callbacks.append(obj)
            name = getattr(obj, "__name__", type(obj).__name__)
            return {"callback": len(self.callbacks) - 1, "name": name if type(name) is str else "function"}
        raise wire.Unsendable(f"a {type(obj).__name__} cannot be handed to the student's code")

    def resolve(self, ref: dict) -> Any:
        number = ref.get("handle")
        if type(number) is not int or number < 0:
            raise wire.ProtocolError("a handle is a number")
        info = {k: ref[k] for k in ("handle", "type", "callable", "module", "class", "name") if k in ref}
        remote = self.remotes.get(number)
        if remote is None:
            remote = self.remotes[number] = Remote(self, info)
        return remote

    def request(self, op: str, blob_value: Any = None, known: dict | None = None, **fields: Any) -> dict:
        """Send a request; serve the callbacks it causes; return the answer message (decoded value in "value")."""
        request_id = secrets.token_hex(8)
        data, blob, encoder = wire.dumps(blob_value, self.reference) if blob_value is not None else (None, b"", None)
        message = {"id": request_id, "op": op, **fields}
        if data is not None:
            message["args"] = data
        try:
            wire.send(self.sock, message, blob)
        except OSError as err:
            raise StudentGone(f"the sandbox closed the channel ({err})") from None
        sent = {name: flat for name, flat in (encoder.blobs.items() if encoder else ())}
        while True:
            try:
                answer, answer_blob = wire.receive(self.sock)
            except (EOFError, OSError, wire.ProtocolError) as err:
                raise StudentGone(f"the sandbox stopped answering ({err})") from None
            if "callback" in answer:
                self._run_callback(answer, answer_blob)
                continue
            if answer.get("re") != request_id:
                raise StudentGone("the sandbox answered a question it was not asked")
            if "error" in answer:
                raise _rebuild(answer["error"])
            try:
                answer["value"] = wire.Decoder(answer_blob, self.resolve, known=sent).value(answer.get("value"))
            except wire.ProtocolError as err:
                raise StudentGone(f"the sandbox sent an unreadable answer ({err})") from None
            return answer

    def _run_callback(self, message: dict, blob: bytes) -> None:
        number = message.get("callback")
        if type(number) is not int or not 0 <= number < len(self.callbacks):
            raise StudentGone("the sandbox called a function it was not given")
        try:
            call = wire.Decoder(blob, self.resolve).value(message.get("args"))
            if type(call) is not dict:
                raise wire.ProtocolError("a callback's arguments")
            value = self.callbacks[number](*call.get("args", []), **call.get("kwargs", {}))
            data, out_blob, _ = wire.dumps(value, self.reference)
            wire.send(self.sock, {"value": data}, out_blob)
        except wire.ProtocolError as err:
            raise StudentGone(f"the sandbox sent an unreadable callback ({err})") from None
        except Exception as err:  # noqa: BLE001 - the judge's function raised: the student's code sees it
            wire.send(self.sock, {"error": f"{type(err).__name__}: {err}"[:2000]})

    def end_cell(self) -> list[str]:
        """After a test cell: the library functions the student's code replaced (the agent stops if any)."""
        changed = self.request("cell")["value"]
        return [str(c) for c in changed] if isinstance(changed, list) else ["?"]


def _rebuild(error: Any) -> BaseException:
    if type(error) is not dict:
        return StudentGone("the sandbox sent an unreadable error")
    message = str(error.get("message", ""))[:2000]
    kind = str(error.get("type", "Exception"))[:100]
    bases = error.get("bases") if isinstance(error.get("bases"), list) else []
    for name in bases:
        cls = EXCEPTIONS.get(name)
        if cls is not None:
            text = message.split(": ", 1)[1] if message.startswith(f"{kind}: ") else message
            err = cls(text) if cls is not KeyError else KeyError(text)
            if name != kind:  # a subclass of the student's: name it in the message
                err = cls(f"({kind}) {text}")
            return err
    return StudentError(message)


class Remote(Elsewhere):
    """A student's object, in the sandbox: calls, attributes, items and iteration are asked for there."""

    __slots__ = ("_student", "_info")

    def __init__(self, student: Student, info: dict):
        object.__setattr__(self, "_student", student)
        object.__setattr__(self, "_info", info)

    @property
    def exercise_name(self) -> str:  # type: ignore[override]
        return str(self._info.get("name") or self._info.get("type") or "the student's object")

    @property
    def __name__(self) -> str:
        return self.exercise_name

    def _call_elsewhere(self, args: tuple, kwargs: dict, borrow: str | None) -> tuple[Any, bool]:
        answer = self._student.request("call", {"args": list(args), "kwargs": dict(kwargs)},
                                       target=self._info["handle"], borrow=borrow)
        value = answer["value"]
        if type(value) is not dict or "result" not in value:
            raise StudentGone("the sandbox sent a malformed call result")
        _sync_arguments([*args, *kwargs.values()], value.get("after"))
        return value["result"], bool(answer.get("mutated"))

    def _unbound_elsewhere(self, qualname: str, args: tuple) -> Any:
        answer = self._student.request("unbound", {"args": list(args)}, target=self._info["handle"], name=qualname)
        return answer["value"]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call_elsewhere(args, kwargs, None)[0]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._student.request("getattr", target=self._info["handle"], name=name)["value"]

    def __setattr__(self, name: str, value: Any) -> None:
        self._student.request("setattr", {"value": value}, target=self._info["handle"], name=name)

    def __getitem__(self, key: Any) -> Any:
        return self._student.request("getitem", {"key": key}, target=self._info["handle"])["value"]

    def __len__(self) -> int:
        value = self._student.request("len", target=self._info["handle"])["value"]
        if type(value) is not int:
            raise TypeError("len() of the student's object is not an int")
        return value

    def __iter__(self):
        value = self._student.request("iter", target=self._info["handle"])["value"]
        return iter(value if isinstance(value, list) else [])

    def __repr__(self) -> str:
        return f"<the student's {self._info.get('type', 'object')}>"


def _sync_arguments(given: list, after: Any) -> None:
    """Arguments the student's code may change on purpose (a cache dict, a list, a generator) change here too."""
    import torch

    if type(after) is not list or len(after) != len(given):
        return
    for mine, theirs in zip(given, after):
        if type(mine) is dict and type(theirs) is dict:
            mine.clear()
            mine.update(theirs)
        elif type(mine) is list and type(theirs) is list:
            mine[:] = theirs
        elif type(mine) is torch.Generator and type(theirs) is torch.Generator:
            mine.set_state(theirs.get_state())


# --- the judge process ----------------------------------------------------------------------------

class _Printed(io.StringIO):
    def write(self, text: str) -> int:
        if self.tell() < PRINTED_LIMIT:
            super().write(text[:PRINTED_LIMIT - self.tell()])
        return len(text)


def _describe(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}".strip()
    return text if len(text) < 2000 else text[:2000] + " …"


def _answer_event(message: dict, current: str) -> dict:
    """What the agent said about the set-up or the answer cell it is running, rebuilt from the fields that may be
    there: it runs the student's code, so it may say anything, and nothing it says can name another cell."""
    if message.get("id") != current:
        return {"id": current, "died": True, "code": "the sandbox reported a cell it was not running"}
    if "tamper" in message:
        tamper = message["tamper"]
        return {"id": current, "tamper": [str(t)[:200] for t in tamper[:10]] if isinstance(tamper, list) else ["?"]}
    event = {"id": current, "ok": message.get("ok") is True}
    if not event["ok"]:
        event["error"] = str(message.get("error", ""))[:2000]
    return event


def _test(student: Student, ns: dict, names: Any, blob: bytes, test: dict) -> dict:
    """Run one test cell with the student's names bound to what the agent sent; its verdict."""
    scope = dict(ns)
    try:
        bound = wire.Decoder(blob, student.resolve).value(names)
    except wire.ProtocolError as err:
        raise StudentGone(f"unreadable names ({err})") from None
    if type(bound) is dict:  # the student's names; never one the set-up cell defined, never a built-in's
        scope.update({k: v for k, v in bound.items()
                      if type(k) is str and k.isidentifier() and k not in ns and not hasattr(builtins, k)})
    printed = _Printed()
    result: dict = {"id": test["id"], "ok": True}
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(test["source"], f"<{test['id']}>", "exec"), scope)
    except StudentGone:
        raise
    except BaseException as err:  # noqa: BLE001 - the test failed; why goes to the feedback
        result = {"id": test["id"], "ok": False, "error": _describe(err),
                  "trace": "".join(traceback.format_exception(err))[-4000:]}
    if printed.getvalue():
        result["printed"] = printed.getvalue()
    return result


def judge(sock: socket.socket, setup: str, steps: list[dict], report) -> None:
    """Grade the steps (answer and test cells, in order) with the agent on ``sock``; ``report(event)`` for each.

    The agent runs the set-up cell and each answer cell as it comes; at a test cell it sends the names the
    student's code defined and waits; the test runs here; ``cell`` asks whether the student's code replaced
    library functions meanwhile (then the agent stops, and the run is restarted without that cell)."""
    student = Student(sock)
    ns: dict = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(setup, "<set-up cell>", "exec"), ns)
    current = "<set-up>"
    for step in [{"kind": "set-up", "id": "<set-up>"}, *steps]:
        try:
            if step["kind"] == "test":
                report({"id": step["id"], "start": True})
                current = step["id"]
                message, blob = wire.receive(sock)
                if message.get("id") != "<names>":
                    raise StudentGone("the sandbox sent something else than the student's names")
                result = _test(student, ns, message.get("names"), blob, step)
                changed = student.end_cell()
                report({"id": step["id"], "ok": False, "tamper": changed} if changed else result)
                if changed:
                    return
                continue
            while True:  # the set-up or an answer cell: its start, then its result
                message, _ = wire.receive(sock)
                if message.get("start") is True and message.get("id") == step["id"]:
                    current = step["id"]
                    report({"id": current, "start": True})
                    continue
                event = _answer_event(message, step["id"])
                report(event)
                break
            if "died" in event or "tamper" in event or (step["kind"] == "set-up" and not event["ok"]):
                return
        except (StudentGone, EOFError, OSError, wire.ProtocolError) as err:
            report({"id": current, "died": True, "code": None, "why": str(err)[:500]})
            return
    with contextlib.suppress(OSError):
        wire.send(sock, {"op": "bye"})


def fork_judge(sock: socket.socket, setup: str, steps: list[dict]) -> tuple[int, int]:
    """Start the judge in a child process of this (trusted) one; (its pid, the read end of its event pipe)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the judge: trusted code only, talking to the sandbox over ``sock``
        try:
            os.close(read_fd)
            os.setpgid(0, 0)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            out = os.fdopen(write_fd, "w", buffering=1)
            sys.stdout = io.StringIO()
            judge(sock, setup, steps, lambda event: out.write(json.dumps(event) + "\n"))
            out.flush()
        finally:
            os._exit(0)
    os.close(write_fd)
    return pid, read_fd


def kill_judge(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


