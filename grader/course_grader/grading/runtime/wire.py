"""Values across the grading channel: JSON for their structure, safetensors for tensor data, nothing else.

The trusted judge (:mod:`course_grader.grading.judge`) and the agent that runs a student's code in the
verdict sandbox (:mod:`.agent`) exchange only what this module can write and read back: ``None``, bools,
numbers, strings, tuples, lists, dicts, ``torch.Size``, dtypes, devices, slices, numpy arrays, tensors
and generators (by state). A tensor travels as its whole storage plus size, stride and offset, so views
stay views: a result that shares storage with an argument is rebuilt on the receiver's own copy of that
argument (a function that returns a view of its input still does on the trusted side). Anything else
crosses only as a numbered reference (``{"handle": n}``: an object that stays where it was made; the
other side can ask about it but never holds it). Nothing is unpickled; everything read is validated
(types, sizes, bounds) before it is used.
"""

from __future__ import annotations

import json
import math
import socket
import struct
from collections import OrderedDict
from typing import Any

import numpy as np
import torch

from .server import read_exactly

HEADER = struct.Struct("!QQ")  # JSON length, tensor-blob length
MAX_JSON = 32 << 20
MAX_BLOB = 512 << 20
MAX_DEPTH = 24
MAX_ITEMS = 200_000
DTYPES = {str(d).removeprefix("torch."): d for d in (
    torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int16, torch.int8,
    torch.uint8, torch.bool)}


class ProtocolError(Exception):
    """The other side sent something this module does not read (or nothing, in time)."""


class Unsendable(TypeError):
    """A value that crosses only as a reference, and the sender has no reference for it."""


# --- frames --------------------------------------------------------------------------------------

def send(sock: socket.socket, message: dict, blob: bytes = b"") -> None:
    data = json.dumps(message, allow_nan=True).encode()
    if len(data) > MAX_JSON or len(blob) > MAX_BLOB:
        raise ProtocolError(f"a message of {len(data) + len(blob)} bytes is over the limit")
    sock.sendall(HEADER.pack(len(data), len(blob)) + data + blob)


def receive(sock: socket.socket, deadline: float | None = None) -> tuple[dict, bytes]:
    """The next message and its blob; TimeoutError at ``deadline``, EOFError when the other side has gone."""
    json_size, blob_size = HEADER.unpack(read_exactly(sock, HEADER.size, deadline))
    if json_size > MAX_JSON or blob_size > MAX_BLOB:
        raise ProtocolError("a message over the size limit")
    try:
        message = json.loads(read_exactly(sock, json_size, deadline))
    except ValueError as err:
        raise ProtocolError(f"unreadable JSON: {err}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a message is a JSON object")
    return message, read_exactly(sock, blob_size, deadline)


# --- values ----------------------------------------------------------------------------------------

def _storage_flat(t: torch.Tensor) -> torch.Tensor:
    """A 1-D tensor over the whole storage of ``t`` (same memory)."""
    return torch.empty(0, dtype=t.dtype).set_(t.untyped_storage())


def _layer_ids(m: Any) -> tuple:
    """The identity of every attribute of a layer and of its children, of every entry of their dicts (parameters,
    buffers, children, hooks), and of each parameter's gradient."""
    out: list = []
    for sub in m.modules() if isinstance(m, torch.nn.Module) else [m]:
        state = vars(sub)
        out.append(tuple(map(id, state.values())))
        for inner in state.values():
            if isinstance(inner, dict):  # _parameters, _buffers, _modules, the hook dicts (changed in place)
                out.append(tuple(map(id, inner)))
                out.append(tuple(map(id, inner.values())))
        for t in (state.get("_parameters") or {}).values():
            if isinstance(t, torch.Tensor):
                out.append(id(t.grad))
    return tuple(out)


class _Unknown:
    """Public data that could not be copied: never equal, so its layer is always sent again."""

    def __eq__(self, other: object) -> bool:
        return False


def _layer_state(m: Any) -> tuple:
    """A layer of the judge's as it is now, to tell later whether it changed: identities (:func:`_layer_ids`), a
    copy of every tensor and gradient it holds (a change through ``.data`` bumps no version), and of its public
    data (a list the judge cleared in place)."""
    import copy

    tensors, data = [], []
    for sub in m.modules() if isinstance(m, torch.nn.Module) else [m]:
        state = vars(sub)
        for name in ("_parameters", "_buffers"):
            for t in (state.get(name) or {}).values():
                if isinstance(t, torch.Tensor):
                    tensors.append((t, t.detach().clone()))
                    if t.grad is not None:
                        tensors.append((t.grad, t.grad.detach().clone()))
        for k, v in state.items():
            if not k.startswith("_") and not isinstance(v, (torch.Tensor, torch.nn.Module)):
                try:
                    data.append((sub, k, copy.deepcopy(v)))
                except Exception:  # noqa: BLE001 - cannot be copied: count it as changed every time
                    data.append((sub, k, _Unknown()))
    return _layer_ids(m), tensors, data


def same_data(a: Any, b: Any) -> bool:
    """Whether two values hold the same data (``==``); anything that cannot say (tensors inside): no."""
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - tensors inside (ambiguous), or anything else: count it as changed
        return False


def _unchanged(m: Any, then: tuple) -> bool:
    ids, tensors, data = then
    return (_layer_ids(m) == ids and all(torch.equal(t, c) for t, c in tensors)
            and all(same_data(vars(sub).get(k), v) for sub, k, v in data))


class SentLayers:
    """The judge's layers handed to the sandbox in one test cell. Each has one twin there, numbered in the order
    they were first sent; a layer sent again is named by its number, its state re-sent only if it changed."""

    def __init__(self) -> None:
        self.modules: list[Any] = []  # by twin number
        self.numbers: dict[int, int] = {}  # id(layer) -> twin number
        self.states: list[tuple] = []  # each as it was sent (:func:`_layer_state`)

    def number(self, m: Any) -> int | None:
        n = self.numbers.get(id(m))
        return n if n is not None and self.modules[n] is m else None

    def add(self, m: Any) -> int:
        self.numbers[id(m)] = len(self.modules)
        self.modules.append(m)
        self.states.append(((), [], []))
        return len(self.modules) - 1


class Encoder:
    """Writes values; ``reference(obj)`` returns the JSON for an object that is not data (or raises Unsendable).

    ``known`` maps storages the receiver already has (its own arguments) to their names, so a result that
    is a view of an argument is sent as that view, not as new data.
    """

    def __init__(self, reference=None, known: dict | None = None, *, modules: bool = False, tag=None,
                 layers: SentLayers | None = None):
        self.reference = reference
        self.blobs: dict[str, torch.Tensor] = {}
        self.storages: dict[tuple, str] = dict(known or {})
        self.items = 0
        self.modules = modules  # send nn.Module instances by their state (the judge's own layers, to the sandbox)
        self.layers = layers if layers is not None else SentLayers()  # those sent earlier in the test cell
        self.fresh: set[int] = set()  # twin numbers whose state this message carries
        self.tag = tag  # tag(parameter) -> a handle number the receiver may write it back through, or None

    @staticmethod
    def storage_key(t: torch.Tensor) -> tuple:
        s = t.untyped_storage()
        return (s.data_ptr(), s.nbytes(), t.dtype)

    def value(self, v: Any, depth: int = 0) -> Any:
        self.items += 1
        if self.items > MAX_ITEMS or depth > MAX_DEPTH:
            raise Unsendable("a value too large or too deeply nested to send")
        cls = type(v)
        if v is None or cls in (bool, int, str):
            return v
        if cls is float:
            return v if math.isfinite(v) else {"float": repr(v)}
        if isinstance(v, torch.Tensor) and cls in (torch.Tensor, torch.nn.Parameter):
            return self.tensor(v)
        if cls is torch.Size:
            return {"size": [int(n) for n in v]}
        if cls is tuple or (isinstance(v, tuple) and type(v).__module__.startswith("torch.return_types")):
            return {"tuple": [self.value(x, depth + 1) for x in tuple.__iter__(v)]}
        if cls is list:
            return {"list": [self.value(x, depth + 1) for x in list.__iter__(v)]}
        if cls is dict:
            return {"dict": [[self.value(k, depth + 1), self.value(x, depth + 1)] for k, x in dict.items(v)]}
        if cls is OrderedDict:
            return {"odict": [[self.value(k, depth + 1), self.value(x, depth + 1)] for k, x in v.items()]}
        if cls in (set, frozenset):
            return {"set": [self.value(x, depth + 1) for x in v]}
        if self.modules and issubclass(cls, torch.nn.Module):  # type(), never __class__ (a handle claims one)
            return self.module(v, depth)
        if self.modules and cls.__module__.startswith("course.") and hasattr(v, "__dict__") and not callable(v):
            return self.module(v, depth)  # the course's own data objects (a ModelConfig), by state too
        if cls is torch.dtype:
            return {"dtype": str(v).removeprefix("torch.")}
        if cls is torch.device:
            return {"device": str(v)}
        if cls is slice:
            return {"slice": [self.value(v.start), self.value(v.stop), self.value(v.step)]}
        if v is Ellipsis:
            return {"ellipsis": True}
        if cls is complex:
            return {"complex": [v.real, v.imag]}
        if cls is np.ndarray and v.dtype.kind in "biuf" and str(v.dtype) in DTYPES:
            return {"ndarray": self.tensor(torch.from_numpy(np.ascontiguousarray(v)))}
        if isinstance(v, np.generic) and v.dtype.kind in "biufc":
            return self.value(v.item(), depth)
        if cls is torch.Generator:
            return {"generator": self.tensor(v.get_state())}
        if self.reference is None:
            raise Unsendable(f"a {cls.__name__} cannot be sent")
        return self.reference(v)

    def module(self, m: torch.nn.Module, depth: int) -> dict:
        """A layer of the judge's, sent as its class's name and its state (rebuilt on the other side, as twin number
        N); one sent before in this test cell and unchanged since is sent as its number alone."""
        number = self.layers.number(m)
        if number is not None and (number in self.fresh or _unchanged(m, self.layers.states[number])):
            return {"twin": number}
        if number is None:
            number = self.layers.add(m)
        self.fresh.add(number)
        self.layers.states[number] = _layer_state(m)
        cls = type(m)
        return {"module": f"{cls.__module__}:{cls.__qualname__}", "number": number,
                "vars": self.value(dict(vars(m)), depth + 1)}

    def tensor(self, t: torch.Tensor) -> dict:
        if t.layout is not torch.strided or str(t.dtype).removeprefix("torch.") not in DTYPES:
            raise Unsendable(f"a {t.layout} tensor of {t.dtype} cannot be sent")
        if t.device.type == "meta":  # shape without data (how the checks test device placement without a GPU)
            return {"tensor": None, "meta": True, "dtype": str(t.dtype).removeprefix("torch."), "shape": list(t.shape),
                    "stride": list(t.stride()), "offset": t.storage_offset(), "grad": t.requires_grad}
        if t.device.type != "cpu":
            raise Unsendable(f"a tensor on {t.device} cannot be sent (only CPU and meta tensors cross)")
        key = self.storage_key(t)
        name = self.storages.get(key)
        if name is None:
            name = self.storages[key] = f"s{len(self.storages)}"
            self.blobs[name] = _storage_flat(t.detach())
        out = {"tensor": name, "dtype": str(t.dtype).removeprefix("torch."), "shape": list(t.shape),
               "stride": list(t.stride()), "offset": t.storage_offset()}
        if t.requires_grad:
            out["grad"] = True
        if type(t) is torch.nn.Parameter:
            out["parameter"] = True
            if t.grad is not None and t.grad.layout is torch.strided:  # gradients travel with their parameter
                out["grad_value"] = self.tensor(t.grad.detach())
            number = self.tag(t) if self.tag is not None else None
            if number is not None:
                out["handle"] = number
        return out

    def finish(self) -> bytes:
        if not self.blobs:
            return b""
        from safetensors.torch import save

        return save(self.blobs)


class Decoder:
    """Reads values written by :class:`Encoder`; ``resolve(json)`` turns a reference into an object.

    ``known`` maps storage names the sender used for this side's own tensors (sent earlier) to them.
    """

    def __init__(self, blob: bytes, resolve=None, known: dict | None = None, *, module_class=None, on_parameter=None,
                 modules: list | None = None):
        self.resolve = resolve
        self.module_class = module_class  # module_class("pkg.mod:Qual") -> an nn.Module subclass, or raises
        self.on_parameter = on_parameter  # on_parameter(tensor, handle number) for a parameter that can be written back
        self.modules: list = modules if modules is not None else []  # the twins, by number (kept by the caller)
        self.flats: dict[str, torch.Tensor] = dict(known or {})
        if blob:
            from safetensors.torch import load

            try:
                self.flats.update(load(blob))
            except Exception as err:  # noqa: BLE001 - whatever safetensors rejects is a protocol error here
                raise ProtocolError(f"unreadable tensor data: {err}") from None
        self.items = 0

    def value(self, v: Any, depth: int = 0) -> Any:
        self.items += 1
        if self.items > MAX_ITEMS or depth > MAX_DEPTH:
            raise ProtocolError("a value too large or too deeply nested")
        if v is None or type(v) in (bool, int, float, str):
            return v
        if type(v) is not dict or len(v) == 0:
            raise ProtocolError(f"not a value: {str(v)[:80]}")
        if "tensor" in v:
            t = self.tensor(v)
            if self.on_parameter is not None and type(v.get("handle")) is int and type(t) is torch.nn.Parameter:
                self.on_parameter(t, v["handle"])
            return t
        if "module" in v and self.module_class is not None:
            return self.module(v, depth)
        if len(v) != 1:
            if "handle" in v or "callback" in v:
                return self._resolve(v)
            raise ProtocolError(f"not a value: {str(v)[:80]}")
        ((kind, body),) = v.items()
        items = body if isinstance(body, list) else None
        if kind == "float" and body in ("inf", "-inf", "nan"):
            return float(body)
        if kind in ("tuple", "list") and items is not None:
            out = [self.value(x, depth + 1) for x in items]
            return tuple(out) if kind == "tuple" else out
        if kind == "dict" and items is not None:
            out = {}
            for pair in items:
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise ProtocolError("a dict entry is a [key, value] pair")
                key = self.value(pair[0], depth + 1)
                try:
                    hash(key)
                except TypeError:
                    raise ProtocolError("a dict key that cannot be hashed") from None
                out[key] = self.value(pair[1], depth + 1)
            return out
        if kind == "odict" and items is not None:
            return OrderedDict(self.value({"dict": items}, depth).items())
        if kind == "set" and items is not None:
            try:
                return {self.value(x, depth + 1) for x in items}
            except TypeError:
                raise ProtocolError("a set member that cannot be hashed") from None
        if kind == "twin" and type(body) is int and 0 <= body < len(self.modules):
            return self.modules[body]
        if kind == "size" and items is not None and all(type(n) is int and n >= 0 for n in items):
            return torch.Size(items)
        if kind == "dtype" and body in DTYPES:
            return DTYPES[body]
        if kind == "device" and isinstance(body, str) and len(body) < 20:
            try:
                return torch.device(body)
            except RuntimeError:
                raise ProtocolError(f"not a device: {body!r}") from None
        if kind == "slice" and items is not None and len(items) == 3:
            parts = [self.value(x, depth + 1) for x in items]
            if all(p is None or type(p) is int for p in parts):
                return slice(*parts)
        if kind == "ellipsis" and body is True:
            return Ellipsis
        if kind == "complex" and items is not None and len(items) == 2 and all(type(x) in (int, float) for x in items):
            return complex(*items)
        if kind == "ndarray" and type(body) is dict:
            return self.tensor(body).detach().clone().numpy()
        if kind == "generator" and type(body) is dict:
            state = self.tensor(body)
            if state.dtype != torch.uint8 or state.dim() != 1:
                raise ProtocolError("a generator's state is a 1-D uint8 tensor")
            g = torch.Generator()
            try:
                g.set_state(state.clone())
            except RuntimeError:
                raise ProtocolError("not a generator state") from None
            return g
        if kind in ("handle", "callback"):
            return self._resolve(v)
        raise ProtocolError(f"not a value: {str(v)[:80]}")

    def module(self, v: dict, depth: int) -> Any:
        """A new twin (number N = how many there are), or new state for twin N (the judge changed its layer)."""
        cls = self.module_class(v.get("module"))
        number = v.get("number")
        if type(number) is not int or not 0 <= number <= len(self.modules):
            raise ProtocolError("a module's twin number")
        if number == len(self.modules):
            m = object.__new__(cls) if not issubclass(cls, torch.nn.Module) else cls.__new__(cls)
            self.modules.append(m)
        else:
            m = self.modules[number]
            if type(m) is not cls:
                raise ProtocolError("new state for a twin of another class")
        state = self.value(v.get("vars"), depth + 1)
        if type(state) is not dict or not all(type(k) is str for k in state):
            raise ProtocolError("a module's state is a dict of names")
        own = object.__getattribute__(m, "__dict__")
        own.clear()
        own.update(state)
        return m

    def _resolve(self, v: dict) -> Any:
        if self.resolve is None:
            raise ProtocolError("a reference where only data may come")
        return self.resolve(v)

    def tensor(self, v: dict) -> torch.Tensor:
        dtype = DTYPES.get(v.get("dtype"))
        shape, stride, offset = v.get("shape"), v.get("stride"), v.get("offset")
        if v.get("meta") is True and v.get("tensor") is None and dtype is not None:
            if not (isinstance(shape, list) and isinstance(stride, list) and len(shape) == len(stride) <= 16
                    and all(type(n) is int and 0 <= n < 1 << 40 for n in [*shape, *stride])
                    and type(offset) is int and 0 <= offset < 1 << 40):
                raise ProtocolError("a meta tensor with a malformed shape")
            t = torch.empty_strided(shape, stride, dtype=dtype, device="meta")
            return t.requires_grad_(True) if v.get("grad") is True and dtype.is_floating_point else t
        flat = self.flats.get(v.get("tensor"))
        if flat is None or dtype is None or flat.dtype != dtype:
            raise ProtocolError("a tensor whose data did not come with it")
        if not (isinstance(shape, list) and isinstance(stride, list) and len(shape) == len(stride)
                and all(type(n) is int and n >= 0 for n in [*shape, *stride]) and type(offset) is int and offset >= 0):
            raise ProtocolError("a tensor with a malformed shape")
        if math.prod(shape) and offset + sum((n - 1) * s for n, s in zip(shape, stride)) >= flat.numel():
            raise ProtocolError("a tensor that reaches past its storage")
        if not math.prod(shape) and offset > flat.numel():
            raise ProtocolError("a tensor that starts past its storage")
        t = flat.as_strided(shape, stride, offset)
        if v.get("grad") is True and dtype.is_floating_point:
            t = t.detach().requires_grad_(True)
        if v.get("parameter") is True:
            t = torch.nn.Parameter(t, requires_grad=bool(v.get("grad")))
            grad = v.get("grad_value")
            if type(grad) is dict:
                g = self.tensor({k: x for k, x in grad.items() if k != "grad_value"})
                if g.shape != t.shape or g.dtype != t.dtype:
                    raise ProtocolError("a parameter's gradient of another shape")
                t.grad = g
        return t


def dumps(value: Any, reference=None, known: dict | None = None, **options: Any) -> tuple[Any, bytes, Encoder]:
    enc = Encoder(reference, known, **options)
    data = enc.value(value)
    return data, enc.finish(), enc
