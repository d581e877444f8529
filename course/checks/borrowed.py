"""What would do an exercise's work for the student, switched off while the student's code runs.

Every exercise that re-implements something PyTorch or the course already has declares it in
:data:`BORROWED`: the torch functions and layers (``F.layer_norm``, ``nn.MultiheadAttention``, ...),
the ATen operators they end in, and the course's own code (``course.attention``, ``course.blocks``)
that implements it. While the student's code runs under a check (:func:`course.checks.core.call`),
each of them raises an ``AssertionError`` that says why, however the student reached it:

* Python functions and the methods of declared classes have their code object swapped for one
  that raises, so a reference taken earlier (``from torch.nn.functional import layer_norm``, a
  subclass of ``course.attention.MultiHeadAttention``) is switched off too;
* torch functions written in C (``torch.softmax``, ``F.scaled_dot_product_attention``) are caught by
  a ``TorchFunctionMode`` and the operators underneath (``aten._softmax``) by a ``TorchDispatchMode``.

Everything is restored when the student's code returns, so the checks' own references (computed
outside the student's call) are unaffected. Code a later chapter hands out (the MHA chapter 07
gives) is only declared for the exercise that asks the student to write it.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import pkgutil
import re
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from course.checks.messages import render
from course.language import language

_FunctionType = types.FunctionType


@dataclass(frozen=True)
class Borrowed:
    """What an exercise may not call, and the sentence that tells the student why."""

    why: str
    python: tuple[str, ...] = ()  # dotted names of Python functions or classes (every method of a class)
    torch: tuple[str, ...] = ()  # dotted names of torch callables written in C (caught by TorchFunctionMode)
    aten: tuple[str, ...] = ()  # ATen operator names, e.g. "_softmax" (caught by TorchDispatchMode)
    given: tuple[str, ...] = field(default=())  # course code that implements it (listed for the packaging test)


SOFTMAX = ("torch.softmax", "torch.log_softmax", "torch.Tensor.softmax", "torch.Tensor.log_softmax",
            "torch.special.softmax", "torch.special.log_softmax", "torch._softmax", "torch.special.logsumexp",
            "torch.logsumexp", "torch.Tensor.logsumexp")
SOFTMAX_PY = ("torch.nn.functional.softmax", "torch.nn.functional.log_softmax", "torch.nn.Softmax",
               "torch.nn.LogSoftmax", "scipy.special.softmax", "scipy.special.logsumexp")
SDPA = ("torch.nn.functional.scaled_dot_product_attention", "torch._C._nn.scaled_dot_product_attention")
SDPA_ATEN = ("_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_attention_math",
              "_scaled_dot_product_flash_attention", "_scaled_dot_product_efficient_attention",
              "_scaled_dot_product_cudnn_attention", "_scaled_dot_product_fused_attention_overrideable",
              "_fused_sdp_choice", "_native_multi_head_attention", "_transformer_encoder_layer_fwd")
MHA_PY = ("torch.nn.MultiheadAttention", "torch.nn.functional.multi_head_attention_forward")
NORM_PY = ("torch.nn.functional.layer_norm", "torch.nn.functional.rms_norm", "torch.nn.functional.group_norm",
            "torch.nn.functional.batch_norm", "torch.nn.functional.instance_norm", "torch.nn.LayerNorm",
            "torch.nn.RMSNorm", "torch.nn.GroupNorm")
NORM_C = ("torch.layer_norm", "torch.rms_norm", "torch.group_norm", "torch.batch_norm", "torch.instance_norm",
           "torch.native_layer_norm", "torch.native_batch_norm", "torch.native_group_norm")
NORM_ATEN = ("native_layer_norm", "native_group_norm", "native_batch_norm", "_native_batch_norm_legit",
              "_fused_rms_norm", "rms_norm")
TRANSFORMER_PY = ("torch.nn.TransformerEncoderLayer", "torch.nn.TransformerDecoderLayer",
                   "torch.nn.TransformerEncoder", "torch.nn.TransformerDecoder", "torch.nn.Transformer")
CE_PY = ("torch.nn.functional.cross_entropy", "torch.nn.functional.nll_loss", "torch.nn.CrossEntropyLoss",
          "torch.nn.NLLLoss")
CE_ATEN = ("nll_loss_forward", "nll_loss2d_forward", "cross_entropy_loss", "nll_loss", "nll_loss_nd")
DROPOUT_PY = ("torch.nn.functional.dropout", "torch.nn.functional.dropout1d", "torch.nn.functional.dropout2d",
               "torch.nn.functional.alpha_dropout", "torch.nn.functional.feature_alpha_dropout",
               "torch.nn.Dropout", "torch.nn.Dropout1d", "torch.nn.Dropout2d")
DROPOUT_C = ("torch.dropout", "torch.dropout_", "torch.alpha_dropout", "torch.feature_dropout",
              "torch.native_dropout", "torch._VF.dropout")

# exercise name (the function or class the student writes) -> what it may not use; each chapter's
# module in course.checks declares its own exercises (``BORROWED = {...}``)
# every chapter's module of this package (ch01_compute, ...), found on disk so a new chapter needs no entry here
CHAPTER_MODULES = tuple(sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])
                               if re.fullmatch(r"ch\d\d_\w+", m.name)))


@functools.cache
def declared() -> dict[str, Borrowed]:
    """Every chapter's declarations (imported on first use: the chapter modules import this one)."""
    found: dict[str, Borrowed] = {}
    for name in CHAPTER_MODULES:
        module = importlib.import_module(f"course.checks.{name}")
        for exercise, spec in getattr(module, "BORROWED", {}).items():
            if exercise in found:
                raise ValueError(f"{exercise} is declared twice (course.checks.{name})")
            found[exercise] = spec
    return found


@functools.cache
def resolve(dotted: str) -> Any:
    """The object a dotted name names (a module attribute path), or None when it does not exist here."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for part in parts[i:]:
                obj = getattr(obj, part)
        except AttributeError:
            return None
        return obj
    return None


def _functions(obj: Any) -> list[_FunctionType]:
    """The Python functions behind a declared name: the function itself, or every method a class defines."""
    if isinstance(obj, _FunctionType):
        return [obj]
    if isinstance(obj, (staticmethod, classmethod)):
        return _functions(obj.__func__)
    if isinstance(obj, type):
        found = []
        for value in vars(obj).values():
            found += _functions(value)
        return found
    wrapped = getattr(obj, "__func__", None)  # a bound method
    return _functions(wrapped) if wrapped is not None else []


@functools.cache
def _raising_code(message: str, freevars: tuple[str, ...]) -> types.CodeType:
    """A code object that raises AssertionError(message) and has the given free variables (same closure size)."""
    names = [f"_v{i}" for i in range(len(freevars))]
    body = "".join(f"    {n} = None\n" for n in names)
    uses = ("        " + ", ".join(names) + "\n") if names else ""
    src = f"def _outer():\n{body}    def switched_off(*args, **kwargs):\n{uses}" \
          f"        raise AssertionError({message!r})\n    return switched_off\n"
    scope: dict = {}
    exec(compile(src, "<switched off>", "exec"), scope)  # noqa: S102 - builds a fixed, trusted function
    return scope["_outer"]().__code__


class _FunctionGuard(TorchFunctionMode):
    def __init__(self, forbidden: dict[Any, str]):
        super().__init__()
        self.forbidden = forbidden

    def __torch_function__(self, func, types, args=(), kwargs=None):
        message = self.forbidden.get(func)
        if message is not None:
            raise AssertionError(message)
        return func(*args, **(kwargs or {}))


class _DispatchGuard(TorchDispatchMode):
    def __init__(self, forbidden: dict[str, str]):
        super().__init__()
        self.forbidden = forbidden

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        message = self.forbidden.get(func._schema.name.split("::")[-1])
        if message is not None:
            raise AssertionError(message)
        return func(*args, **(kwargs or {}))


def _message(exercise: str, spec: Borrowed, name: str) -> str:
    return render("{exercise} may not call {name} while it is checked: {why}", exercise=exercise, name=name,
                  why=spec.why)


@functools.cache
def _plan(exercise: str, spec: Borrowed, lang: str):
    """What switching off ``exercise`` touches: (function, message) pairs, C callables and ATen ops with messages
    (in ``lang``, the language in use)."""
    functions, seen = [], set()
    for dotted in spec.python:
        for fn in _functions(resolve(dotted)):
            if id(fn) not in seen:
                seen.add(id(fn))
                functions.append((fn, _message(exercise, spec, f"{fn.__module__}.{fn.__qualname__}")))
    c_funcs = {}
    for dotted in spec.torch:
        obj = resolve(dotted)
        if obj is not None:
            c_funcs[obj] = _message(exercise, spec, dotted)
    aten = {name: _message(exercise, spec, f"aten.{name}") for name in spec.aten}
    return tuple(functions), c_funcs, aten


@contextlib.contextmanager
def switched_off_for(exercise: str | None) -> Iterator[None]:
    """Within the block, everything :data:`BORROWED` declares for ``exercise`` raises (nothing if undeclared).

    In the grader's judge (:func:`elsewhere_only`) nothing is switched off there, where no student code runs:
    the exercise is remembered, and each call of the student's code in the sandbox switches it off there."""
    if _ELSEWHERE is not None:
        _ELSEWHERE.append(exercise)
        try:
            yield
        finally:
            _ELSEWHERE.pop()
        return
    if not exercise or exercise not in declared():
        yield
        return
    functions, c_funcs, aten = _plan(exercise, declared()[exercise], language())
    swapped = [(fn, fn.__code__) for fn, _ in functions]
    try:
        for (fn, message), (_, code) in zip(functions, swapped):
            fn.__code__ = _raising_code(message, code.co_freevars)
        with _FunctionGuard(c_funcs), _DispatchGuard(aten):
            yield
    finally:
        for fn, code in swapped:
            fn.__code__ = code


_ELSEWHERE: list[str | None] | None = None  # the judge's stack of exercises whose borrowed code is off (elsewhere)


def elsewhere_only() -> None:
    """This process runs no student code (the grader's judge): switch-offs only name the exercise for the sandbox."""
    global _ELSEWHERE
    _ELSEWHERE = []


def switched_off_elsewhere() -> str | None:
    """The innermost exercise a check switched off in this (judge) process, for a call into the sandbox."""
    return next((e for e in reversed(_ELSEWHERE or []) if e), None)
