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

import torch

from course.checks.borrowed import elsewhere_only, switched_off_elsewhere
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
        self.written: list[tuple[Any, int, Any]] = []  # (our copy of a student's parameter, its handle, as sent)
        self.layers = wire.SentLayers()  # the judge's layers handed to the student's code in this test cell

    def track(self, parameter: Any, number: int) -> None:
        """A student's parameter arrived as a copy: if the test writes into it (loading weights), write it there."""
        self.written.append((parameter, number, parameter.detach().clone()))

    def _write_back(self) -> None:
        import torch

        for i, (parameter, number, sent) in enumerate(self.written):
            now = parameter.detach()
            if now.shape == sent.shape and now.dtype == sent.dtype and torch.equal(now, sent):
                continue
            self.written[i] = (parameter, number, now.clone())
            self._ask("assign", {"value": now.clone()}, target=number)

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
        info = {k: ref[k] for k in ("handle", "type", "qualname", "callable", "module", "class", "name") if k in ref}
        remote = self.remotes.get(number)
        if remote is None:
            remote = self.remotes[number] = Remote(self, info)
        return remote

    def request(self, op: str, blob_value: Any = None, **fields: Any) -> dict:
        """Send a request; serve the callbacks it causes; return the answer message (decoded value in "value")."""
        self._write_back()
        return self._ask(op, blob_value, **fields)

    def _ask(self, op: str, blob_value: Any = None, **fields: Any) -> dict:
        request_id = secrets.token_hex(8)
        data, blob, encoder = (wire.dumps(blob_value, self.reference, modules=True, layers=self.layers)
                               if blob_value is not None else (None, b"", None))
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
                answer["value"] = wire.Decoder(answer_blob, self.resolve, known=sent,
                                               on_parameter=self.track).value(answer.get("value"))
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


_STAND_INS: dict[tuple, type] = {}


def _stand_in(info: dict) -> type:
    """The class a handle claims to be an instance of: a torch layer class named by the sandbox (that very class),
    any other module (a subclass of nn.Module named like the student's class), else :class:`Remote` itself.
    ``isinstance`` and :func:`course.checks.elsewhere.class_of` see it; ``type()`` still says Remote."""
    from torch import nn

    key = (info.get("module"), info.get("qualname"), info.get("type"))
    cls = _STAND_INS.get(key)
    if cls is None:
        base: type = Remote
        if info.get("module"):
            base = nn.Module
            module_name, _, qualname = str(info.get("qualname", "")).partition(":")
            if module_name.startswith("torch.nn.") and "." not in qualname:
                real = getattr(sys.modules.get(module_name), qualname, None)
                if isinstance(real, type) and issubclass(real, nn.Module):
                    cls = _STAND_INS[key] = real  # torch's own layer class: the handle claims exactly it
                    return cls
        cls = _STAND_INS[key] = type(str(info.get("type", "object")), (base,), {"__module__": "the student's code"})
    return cls


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
    def __class__(self):  # isinstance(layer, nn.Module), isinstance(layer.q_proj, nn.Linear) hold as they would there
        return _stand_in(self._info)

    @property
    def exercise_name(self) -> str:  # type: ignore[override]
        return str(self._info.get("name") or self._info.get("type") or "the student's object")

    @property
    def __name__(self) -> str:
        return self.exercise_name

    def _call_elsewhere(self, args: tuple, kwargs: dict, borrow: str | None) -> tuple[Any, bool]:
        import torch

        # the global random state goes with the call and comes back: a test that seeds it before calling the
        # student's layer (dropout) sees the same draws as its reference
        answer = self._student.request("call", {"args": list(args), "kwargs": dict(kwargs),
                                                "rng": torch.get_rng_state()},
                                       target=self._info["handle"],
                                       borrow=[b for b in (borrow, switched_off_elsewhere()) if b])
        value = answer["value"]
        if type(value) is not dict or "result" not in value:
            raise StudentGone("the sandbox sent a malformed call result")
        rng = value.get("rng")
        if type(rng) is torch.Tensor and rng.dtype == torch.uint8 and rng.dim() == 1:
            try:
                torch.set_rng_state(rng.clone())
            except RuntimeError:
                pass  # not a state: the next draws here are simply not the sandbox's
        given = [*args, *kwargs.values()]
        _sync_arguments(given, value.get("after"))
        _sync_layers(self._student.layers.modules, value.get("layers"))
        if type(value.get("graph")) is int:
            value["result"] = _through_graph(self._student, value["graph"], given, value["result"])
        return value["result"], bool(answer.get("mutated"))

    def _unbound_elsewhere(self, qualname: str, args: tuple, kwargs: dict) -> Any:
        answer = self._student.request("unbound", {"args": list(args), "kwargs": dict(kwargs)},
                                       target=self._info["handle"], name=qualname)
        value = answer["value"]
        if type(value) is not dict or "result" not in value:
            raise StudentGone("the sandbox sent a malformed result")
        _sync_layers(self._student.layers.modules, value.get("layers"))
        return value["result"]

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


def _flat_tensors(values: list) -> list:
    """The tensors among call arguments, in the agent's order (tuples and lists opened)."""
    import torch

    found = []
    for v in values:
        if type(v) in (torch.Tensor, torch.nn.Parameter):
            found.append(v)
        elif type(v) in (tuple, list):
            found += _flat_tensors(list(v))
    return found


def _through_graph(student: Student, graph: int, given: list, result: Any) -> Any:
    """The result of a call, joined to the autograd graph of its inputs here: a backward through it asks the agent
    for the vector-Jacobian product of the student's code (which stays there), so ``x.grad`` is the student's."""
    import torch

    inputs = [t for t in _flat_tensors(given) if t.requires_grad]
    items = [result] if isinstance(result, torch.Tensor) else list(result) if type(result) in (tuple, list) else []
    positions = [i for i, o in enumerate(items) if isinstance(o, torch.Tensor) and o.requires_grad]
    if not inputs or not positions:
        return result
    joined = _RemoteGraph.apply(student, graph, [items[i] for i in positions], *inputs)
    for i, t in zip(positions, joined):
        items[i] = t
    return items[0] if isinstance(result, torch.Tensor) else type(result)(items)


class _RemoteGraph(torch.autograd.Function):
    """Outputs of the student's code joined to the judge's inputs; backward asks the agent for the VJP."""

    @staticmethod
    def forward(ctx, student, graph, outputs, *inputs):
        ctx.student, ctx.graph = student, graph
        ctx.inputs = [(t.shape, t.dtype) for t in inputs]
        return tuple(o.detach().clone() for o in outputs)

    @staticmethod
    def backward(ctx, *grads):
        got = ctx.student.request("grad", {"grads": list(grads)}, graph=ctx.graph)["value"]
        if type(got) is not list or len(got) != len(ctx.inputs):
            raise StudentGone("the sandbox sent gradients for other inputs")
        out = []
        for g, (shape, dtype) in zip(got, ctx.inputs):
            if g is not None and not (isinstance(g, torch.Tensor) and g.shape == shape):
                raise StudentGone("the sandbox sent a gradient of another shape")
            out.append(None if g is None else g.to(dtype))
        return (None, None, None, *out)


def _sync_layers(sent: list, layers: Any) -> None:
    """The judge's layers handed to the student's code (a recording stand-in): what they recorded there, here.

    Only attributes they already have and that hold data change; what a student's code could fake here is
    what its own exercise's checks read from them."""
    import torch

    if type(layers) is not list:
        return
    for module, layer in zip(sent, layers):
        if type(layer) is not dict or type(layer.get("attrs")) is not dict:
            continue
        if isinstance(module, torch.nn.Module) and type(layer.get("grads")) is dict:  # gradients it accumulated there
            params = dict(torch.nn.Module.named_parameters(module))
            for name, grad in layer["grads"].items():
                p = params.get(name)
                if p is not None and (grad is None or (type(grad) is torch.Tensor and grad.shape == p.shape)):
                    p.grad = None if grad is None else grad.to(p.dtype)
        attrs, own = layer["attrs"], vars(module)
        for name, value in attrs.items():
            if (type(name) is str and name in own and not isinstance(own[name], (torch.Tensor, torch.nn.Module))
                    and type(own[name]) is type(value) and not wire.same_data(own[name], value)):
                own[name] = value


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
    elsewhere_only()  # no student code runs here: a check's switch-offs apply where it runs
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
                student.written.clear()
                student.layers = wire.SentLayers()
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


def _preload(modules: list[str]) -> None:
    """What the set-up and test cells import (``modules``: the hidden checks of the chapter graded among them), so
    each forked judge starts warm. Not what the sandbox's server loads for its watch (the judge watches nothing):
    a chapter that does not need ``torch._dynamo`` does not pay for it here."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import safetensors.torch  # noqa: F401  the channel's tensors
    import torch  # noqa: F401

    # torch imports this (and sympy) on the first torch.broadcast_shapes and other reference ops: once here, not
    # once in every forked judge
    import torch.fx.experimental.symbolic_shapes  # noqa: F401

    from course_grader.grading.runtime.imports import import_all, load

    import_all("course.checks")
    load(modules)


_WARMING: list = []
_REQUESTED: set[str] = set()


def warm_up(modules: list[str] = ()) -> None:
    """Start importing what the judge needs (``modules``: what the notebook's cells import), in a thread: it
    overlaps the kernel run and the sandbox's start; :func:`fork_judge` waits for it (a fork never happens
    halfway through an import). Once per grading process, and again for modules not asked for before."""
    new = [m for m in modules if m not in _REQUESTED]
    if _WARMING and not new:
        return
    import threading

    import torch

    # the judge is forked from this process: a torch that had run its OpenMP pool here would hang in the
    # fork (the pool's threads are not copied); one intra-op thread keeps the pool from ever starting
    torch.set_num_threads(1)
    _REQUESTED.update(new)
    thread = threading.Thread(target=_preload, args=(new,), name="judge-warm-up", daemon=True)
    _WARMING.append(thread)
    thread.start()


def fork_judge(sock: socket.socket, setup: str, steps: list[dict]) -> tuple[int, int]:
    """Start the judge in a child process of this (trusted) one; (its pid, the read end of its event pipe)."""
    warm_up()
    for thread in _WARMING:
        thread.join()
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


