"""The student's side of a graded run: run the answer cells, then do what the judge asks, nothing more.

A job of the verdict sandbox's server (:mod:`.server`). It runs the notebook's set-up cell and the
student's answer cells in one namespace (as the kernel would), reporting each answer cell on the channel;
then it serves the trusted judge (:mod:`course_grader.grading.judge`), which runs the test cells outside
the sandbox: call this function or class of the student's with these arguments, read this attribute,
iterate this object. Every request and answer is data (:mod:`.wire`); objects that are not data stay here
and cross as numbered handles. No check, reference or verdict is here: whatever the student's code
writes on the channel is at most a wrong answer to the request being served.

While the student's code runs for a request, what the exercise may not borrow is switched off
(:mod:`course.checks.borrowed`). That, and the count of in-place edits of the arguments, are the two
observations made here; a submission could fake both, but only for its own exercises.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import types
from typing import Any

from . import wire
from .watch import Watch, _describe

MAX_LISTED = 100_000  # items of an iterator turned into a list


def _public(name: str) -> bool:
    return not name.startswith("_")


class Callback:
    """A function of the judge's, handed to the student's code: calling it asks the judge to run it."""

    def __init__(self, agent: Agent, number: int, name: str):
        self._agent, self._number, self.__name__ = agent, number, name

    def __call__(self, *args, **kwargs):
        return self._agent.call_back(self._number, args, kwargs)

    def __repr__(self) -> str:
        return f"<the grader's {self.__name__}>"


class JudgeError(Exception):
    """An exception raised by a judge's function that the student's code called."""


class Agent:
    def __init__(self, sock: socket.socket):
        import torch
        from torch import nn

        from course.checks.borrowed import switched_off_for

        self.sock = sock
        self.objects: list[Any] = []
        self.numbers: dict[int, int] = {}
        self.switched_off_for = switched_off_for
        self.version = torch.Tensor._version.__get__
        self.tensor_types = (torch.Tensor, nn.Parameter)
        self.module_type = nn.Module
        self.generator_type = torch.Generator
        self.uint8, self.get_rng_state, self.set_rng_state = torch.uint8, torch.get_rng_state, torch.set_rng_state
        # what the judge may ask of an object by name: nn.Module's own methods, never the object's overrides
        self.unbound = {f"torch.nn.Module.{n}": getattr(nn.Module, n) for n in (
            "named_parameters", "parameters", "named_children", "named_modules", "named_buffers", "children",
            "modules", "train", "eval", "double", "float", "state_dict", "load_state_dict", "zero_grad",
            "register_forward_pre_hook", "register_forward_hook", "__setattr__", "__call__")}
        self.graphs: list[tuple[list, list]] = []
        self.twins: list = []

    # --- values ---------------------------------------------------------------------------------
    def reference(self, obj: Any) -> dict:
        number = self.numbers.get(id(obj))
        if number is None or self.objects[number] is not obj:
            number = len(self.objects)
            self.objects.append(obj)
            self.numbers[id(obj)] = number
        import torch

        kind = type(obj)
        info = {"handle": number, "type": getattr(kind, "__name__", "object")[:100],
                "qualname": f"{getattr(kind, '__module__', '?')}:{getattr(kind, '__qualname__', '?')}"[:300],
                "callable": callable(obj), "module": issubclass(kind, torch.nn.Module), "class": issubclass(kind, type)}
        name = getattr(obj, "__name__", None) if isinstance(obj, (type, types.FunctionType, types.MethodType)) else None
        if type(name) is str:
            info["name"] = name[:200]
        return info

    def tag(self, parameter: Any) -> int:
        """A parameter sent as data keeps a handle: the judge writes its copy back through it (weights it loads)."""
        return self.reference(parameter)["handle"]

    @staticmethod
    def module_class(name: Any) -> type:
        """A layer class the judge may send by state: torch's own and the course's, nothing else."""
        import importlib

        import torch

        if type(name) is not str or ":" not in name:
            raise wire.ProtocolError("a module class is named module:qualname")
        module_name, qualname = name.split(":", 1)
        if not (module_name.startswith(("torch.", "course.")) and "<" not in qualname):
            raise wire.ProtocolError(f"{name} is not a class the sandbox rebuilds")
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        if not isinstance(obj, type) or not (issubclass(obj, torch.nn.Module) or module_name.startswith("course.")):
            raise wire.ProtocolError(f"{name} is not a class the sandbox rebuilds")
        return obj

    def decoder(self, blob: bytes) -> wire.Decoder:
        # the judge's layers rebuilt here are kept, in the order they came, for the rest of the test cell
        return wire.Decoder(blob, self.resolve, module_class=self.module_class, modules=self.twins)

    def layers(self) -> list:
        """What the judge's layers (their twins here) recorded since they came: public attributes and gradients."""
        return [{"attrs": {k: v for k, v in vars(m).items() if not k.startswith("_") and k != "training"},
                 "grads": {n: p.grad for n, p in self.unbound["torch.nn.Module.named_parameters"](m)}
                 if isinstance(m, self.module_type) else {}}
                for m in self.twins]

    def dumps(self, value: Any, known: dict | None = None):
        return wire.dumps(value, self.reference, known, tag=self.tag)

    def resolve(self, ref: dict) -> Any:
        if "handle" in ref and type(ref["handle"]) is int and 0 <= ref["handle"] < len(self.objects):
            return self.objects[ref["handle"]]
        if "callback" in ref and type(ref["callback"]) is int:
            name = ref.get("name")
            return Callback(self, ref["callback"], name if type(name) is str else "function")
        raise wire.ProtocolError("an unknown reference")

    @staticmethod
    def _listed(iterable: Any) -> list:
        out = []
        for item in iterable:
            out.append(item)
            if len(out) > MAX_LISTED:
                raise ValueError(f"more than {MAX_LISTED} items")
        return out

    def _materialise(self, value: Any) -> Any:
        """An iterator (``named_parameters()``, a generator) is sent as the list of what it yields."""
        if isinstance(value, (types.GeneratorType, map, filter, zip, enumerate, reversed)) or (
                type(value).__name__.endswith("iterator")):
            return self._listed(value)
        return value

    def reply(self, request_id: Any, value: Any = None, *, known: dict | None = None, **extra: Any) -> None:
        try:
            data, blob, _ = self.dumps(self._materialise(value), known)
        except Exception as err:  # noqa: BLE001 - a value that cannot be sent is the student's error
            return self.fail(request_id, err)
        wire.send(self.sock, {"re": request_id, "value": data, **extra}, blob)

    def fail(self, request_id: Any, err: BaseException) -> None:
        bases = [c.__name__ for c in type(err).__mro__ if c.__module__ == "builtins"]
        wire.send(self.sock, {"re": request_id, "error": {"type": type(err).__name__[:100], "bases": bases,
                                                          "message": _describe(err)}})

    def call_back(self, number: int, args: tuple, kwargs: dict) -> Any:
        data, blob, _ = self.dumps({"args": list(args), "kwargs": kwargs})
        wire.send(self.sock, {"callback": number, "args": data}, blob)
        while True:  # the judge may ask for more of the student's code before it answers
            message, blob = wire.receive(self.sock)
            if "op" in message:
                self.serve_one(message, blob)
                continue
            decoder = self.decoder(blob)
            if "error" in message:
                raise JudgeError(str(message["error"])[:2000])
            return decoder.value(message.get("value"))

    # --- requests -------------------------------------------------------------------------------
    def serve_one(self, message: dict, blob: bytes) -> bool:
        """Answer one request; False when the judge says it is done."""
        request_id, op = message.get("id"), message.get("op")
        if op == "bye":
            return False
        try:
            decoder = self.decoder(blob)
            if op == "call":
                self._call(request_id, message, decoder)
                return True
            target = self.resolve({"handle": message.get("target")}) if "target" in message else None
            payload = decoder.value(message.get("args")) if "args" in message else {}
            if type(payload) is not dict:
                raise wire.ProtocolError("a request's data is a dict")
            if op == "getattr":
                name = message.get("name")
                if type(name) is not str:
                    raise wire.ProtocolError("an attribute name is a string")
                value = getattr(target, name)
            elif op == "setattr":
                setattr(target, str(message.get("name")), payload.get("value"))
                value = None
            elif op == "getitem":
                value = target[payload.get("key")]
            elif op == "len":
                value = len(target)
            elif op == "iter":
                value = self._listed(target)
            elif op == "assign":  # the judge changed its copy of this parameter (it loaded weights): the same here
                import torch

                with torch.no_grad():
                    torch.Tensor.copy_(target, payload["value"])
                value = None
            elif op == "grad":  # the judge's backward through a call of the student's code: the VJP, computed here
                value = self._grad(message.get("graph"), payload.get("grads"))
            elif op == "unbound":
                fn = self.unbound.get(message.get("name"))
                if fn is None:
                    raise wire.ProtocolError(f"{message.get('name')!r} is not a method the judge may call")
                value = {"result": fn(target, *payload.get("args", []), **payload.get("kwargs", {})),
                         "layers": self.layers()}
            else:
                raise wire.ProtocolError(f"unknown request {op!r}")
        except BaseException as err:  # noqa: BLE001 - reported to the judge as the student's error
            self.fail(request_id, err)
            return True
        self.reply(request_id, value)
        return True

    def _call(self, request_id: Any, message: dict, decoder: wire.Decoder) -> None:
        fn = self.resolve({"handle": message.get("target")})
        call = decoder.value(message.get("args"))
        if type(call) is not dict or type(call.get("args")) is not list or type(call.get("kwargs")) is not dict:
            raise wire.ProtocolError("a call carries a list of arguments and a dict of keyword arguments")
        args, kwargs = call["args"], call["kwargs"]
        rng = call.get("rng")
        if isinstance(rng, self.tensor_types) and rng.dtype == self.uint8 and rng.dim() == 1:
            self.set_rng_state(rng.clone())
        given = [*args, *kwargs.values()]
        tensors = [t for t in self._tensors(given)]
        versions = [self.version(t) for t in tensors]
        borrow = message.get("borrow")
        names = list(dict.fromkeys(b for b in borrow if type(b) is str)) if type(borrow) is list else []
        try:
            with contextlib.ExitStack() as off:
                for name in names[:4]:
                    off.enter_context(self.switched_off_for(name))
                result = self._materialise(fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001 - the student's exception, reported as such
            self.fail(request_id, err)
            return
        mutated = any(self.version(t) != v for t, v in zip(tensors, versions))
        graph = self._keep_graph(tensors, result)
        # the arguments' storages are the judge's own: a view of one is sent as that view
        known = {wire.Encoder.storage_key(f): name for name, f in decoder.flats.items()}
        after = [a if isinstance(a, (dict, list, self.generator_type)) else None for a in given]
        self.reply(request_id, {"result": result, "after": after, "layers": self.layers(), "rng": self.get_rng_state(),
                                "graph": graph}, known=known, mutated=mutated)

    def _keep_graph(self, inputs: list, result: Any) -> int | None:
        """Outputs that depend on inputs needing gradients: kept, so the judge's backward can ask for their VJP."""
        import torch

        wanted = [t for t in inputs if t.requires_grad]
        items = [result] if isinstance(result, torch.Tensor) else list(result) if type(result) in (tuple, list) else []
        outs = [o for o in items if isinstance(o, torch.Tensor) and o.requires_grad]
        if not wanted or not outs:
            return None
        self.graphs.append((outs, wanted))
        return len(self.graphs) - 1

    def _grad(self, number: Any, grads: Any) -> list:
        import torch

        if type(number) is not int or not 0 <= number < len(self.graphs) or type(grads) is not list:
            raise wire.ProtocolError("a gradient request names a kept graph and one gradient per output")
        outs, wanted = self.graphs[number]
        pairs = [(o, g) for o, g in zip(outs, grads) if isinstance(g, torch.Tensor)]
        if not pairs:
            return [None] * len(wanted)
        got = torch.autograd.grad([o for o, _ in pairs], wanted, [g for _, g in pairs], retain_graph=True,
                                  allow_unused=True)
        return list(got)

    def _tensors(self, values: list) -> list:
        found = []
        for v in values:
            if type(v) in self.tensor_types:
                found.append(v)
            elif type(v) in (tuple, list):
                found += self._tensors(list(v))
        return found


def main(fd: int, job: dict) -> None:
    sock = socket.socket(fileno=fd)
    devnull = open(os.devnull, "w")
    sys.stdout = sys.stderr = devnull
    send = wire.send  # bound now: what the student's code does to the module changes only its own answers

    ns: dict = {"__name__": "__main__"}
    send(sock, {"id": "<set-up>", "start": True})
    try:
        exec(compile(job["setup"], "<set-up cell>", "exec"), ns)
    except BaseException as err:  # noqa: BLE001 - reported, not hidden
        send(sock, {"id": "<set-up>", "ok": False, "error": _describe(err)})
        return
    agent = Agent(sock)
    watch = Watch()
    before = {k: id(v) for k, v in ns.items()}
    send(sock, {"id": "<set-up>", "ok": True})
    for step in job["steps"]:
        if step["kind"] == "test":  # the judge runs it: send the student's names, then answer its requests
            names = {k: v for k, v in ns.items() if _public(k) and before.get(k) != id(v)}
            data, blob, _ = agent.dumps(names)
            send(sock, {"id": "<names>", "test": step["id"], "names": data}, blob)
            if not _serve_test(agent, sock, watch):
                return
            continue
        send(sock, {"id": step["id"], "start": True})
        result: dict = {"id": step["id"], "ok": True}
        try:
            exec(compile(step["source"], f"<{step['id']}>", "exec"), ns)
        except BaseException as err:  # noqa: BLE001 - SystemExit/KeyboardInterrupt count as failures too
            result = {"id": step["id"], "ok": False, "error": _describe(err)}
        sys.stdout = devnull
        changed = watch.changed()
        if changed:
            send(sock, {"id": step["id"], "ok": False, "tamper": changed[:10]})
            return
        send(sock, result)
    try:
        wire.receive(sock)  # the judge's bye
    except (EOFError, OSError, wire.ProtocolError):
        pass


def _serve_test(agent: Agent, sock: socket.socket, watch: Watch) -> bool:
    """Answer the judge's requests for one test cell; False when the job should end."""
    while True:
        try:
            message, blob = wire.receive(sock)
        except (EOFError, OSError, wire.ProtocolError):
            return False
        if message.get("op") == "cell":  # the test cell ended: did the student's code change what the checks use?
            agent.twins = []
            changed = watch.changed()
            wire.send(sock, {"re": message.get("id"), "value": {"list": changed[:10]}})
            return not changed
        if not agent.serve_one(message, blob):
            return False
