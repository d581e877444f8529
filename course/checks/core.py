"""Comparison primitives for graded checks.

The library functions these helpers rely on are bound when this module is imported, which in
every notebook happens in the first (locked) cell, before any student code runs. Replacing
``torch.allclose`` or ``numpy.testing`` later in the notebook therefore does not change what
these helpers compute.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

from course.checks.borrowed import switched_off_for
from course.checks.elsewhere import Elsewhere
from course.checks.messages import Message, fail, msg, render
from course.checks.plain import plain, plain_bool

_isinstance = isinstance
_tensor_type = torch.Tensor
_ndarray_type = np.ndarray
_as_tensor = torch.as_tensor
_torch_abs = torch.abs
_torch_isnan = torch.isnan
_torch_isinf = torch.isinf
_float64 = torch.float64
_math_isclose = math.isclose
_re_search = re.search


def _describe(value: Any) -> Message | str:
    if _isinstance(value, _tensor_type):
        return msg("tensor of shape {shape} and dtype {dtype}", shape=tuple(value.shape), dtype=value.dtype)
    if _isinstance(value, _ndarray_type):
        return msg("array of shape {shape} and dtype {dtype}", shape=value.shape, dtype=value.dtype)
    return f"{type(value).__name__} {value!r}"[:200]


def check(condition: Any, message: str | Message, /, **values: Any) -> None:
    """Like ``assert condition, message`` but not removed by ``python -O``; the condition must be a real bool.

    ``message`` is an English template, ``values`` what goes into it: it is formatted, in the edition's
    language, only when the check fails (:mod:`course.checks.messages`). A message without values is
    shown as it is (translated when the catalogue has it)."""
    if not plain_bool(condition, "a check's condition"):
        raise fail(message, **values)


def equal(actual: Any, expected: Any, name: str = "result") -> None:
    """Exact equality for ints, tuples, bools, strings (no tensors: use :func:`close`)."""
    if _isinstance(expected, (_tensor_type, _ndarray_type)):
        raise TypeError(render("equal() compares plain Python values; use close() for arrays"))
    actual = plain(actual, name, modules=False)
    if type(actual) is bool or type(expected) is bool:
        ok = type(actual) is type(expected) and actual == expected
    elif _isinstance(expected, numbers.Integral):
        ok = _isinstance(actual, numbers.Integral) and not _isinstance(actual, bool) and int(actual) == int(expected)
    elif _isinstance(expected, tuple):
        ok = _isinstance(actual, (tuple, list, torch.Size)) and tuple(actual) == expected
    else:
        ok = type(actual) is type(expected) and actual == expected
    if not ok:
        raise fail("{name}: expected {expected!r}, got {got}", name=name, expected=expected, got=_describe(actual))


def close(actual: Any, expected: Any, *, atol: float = 1e-6, rtol: float = 1e-5, name: str = "result") -> None:
    """``actual`` matches ``expected`` elementwise within ``atol + rtol * |expected|``.

    Works for Python numbers, numpy arrays and torch tensors; the shape must match exactly
    (no broadcasting), NaN never matches, and infinities must agree in sign.
    """
    actual = plain(actual, name, modules=False)
    if _isinstance(expected, numbers.Number) and not _isinstance(expected, bool):
        if not _isinstance(actual, numbers.Number) or _isinstance(actual, bool):
            if _isinstance(actual, _tensor_type) and actual.numel() == 1:
                actual = actual.item()
            elif _isinstance(actual, _ndarray_type) and actual.size == 1:
                actual = actual.item()
            else:
                raise fail("{name}: expected a number close to {expected!r}, got {got}", name=name,
                           expected=expected, got=_describe(actual))
        a, e = float(actual), float(expected)
        if math.isnan(a) or not _math_isclose(a, e, rel_tol=rtol, abs_tol=atol):
            raise fail("{name}: expected {expected!r}, got {got!r}", name=name, expected=e, got=a)
        return
    if not _isinstance(actual, (_tensor_type, _ndarray_type)):
        raise fail("{name}: expected a tensor/array like {expected}, got {got}", name=name,
                   expected=_describe(expected), got=_describe(actual))
    a = _as_tensor(actual).detach().to("cpu", _float64)
    e = _as_tensor(expected).detach().to("cpu", _float64)
    if tuple(a.shape) != tuple(e.shape):
        raise fail("{name}: expected shape {expected}, got shape {got}", name=name, expected=tuple(e.shape),
                   got=tuple(a.shape))
    if bool(_torch_isnan(a).any()):
        raise fail("{name}: contains NaN at {count} position(s)", name=name, count=int(_torch_isnan(a).sum()))
    inf_mismatch = (_torch_isinf(a) | _torch_isinf(e)) & (a != e)
    if bool(inf_mismatch.any()):
        raise fail("{name}: infinite values where the reference has none (or vice versa)", name=name)
    finite = ~_torch_isinf(e)
    diff = _torch_abs(a - e)[finite]
    tol = (atol + rtol * _torch_abs(e))[finite]
    bad = diff > tol
    if bool(bad.any()):
        worst = int((diff - tol).argmax())
        raise fail("{name}: {bad} of {total} values differ from the reference; largest difference {largest:.3g} "
                   "(tolerance {atol:g} + {rtol:g}·|ref|), e.g. got {got:.6g} where {expected:.6g} was expected",
                   name=name, bad=int(bad.sum()), total=diff.numel(), largest=float(diff.max()), atol=atol,
                   rtol=rtol, got=float(a[finite][worst]), expected=float(e[finite][worst]))


Mistakes = dict[Any, Any] | Iterable[tuple[Any, Any]]  # (a wrong value or a test of one, the sentence naming it)


def expect(actual: Any, expected: Any, *, name: Any = "result", mistakes: Mistakes = (),
           atol: float = 1e-6, rtol: float = 1e-5, exact: bool = False) -> None:
    """``actual`` is the answer ``expected``; when it is not and it is what a known mistake gives, say which mistake.

    ``mistakes``: pairs (what that mistake gives on this very input, worked out by hand in the test cell, or a
    test that says whether a value shows the mistake; the sentence that names it and where the notebook explains
    it, an English template without values), or a dict of such pairs. The right answer is checked first, so it
    always passes. Nothing here computes the right answer: the test cell passes it in.

    By default the answer is compared with :func:`close` (numbers, arrays, tensors; a 0-d tensor counts as its
    number) and a mistake is named alone. ``exact=True`` is for answers that are Python values (chapter 01's
    counts, shapes and flags): a float answer must be an ``int`` or ``float`` within 1e-9 relative, anything else
    equal and of the same type, and the message shows the expected and the given value before the mistake.
    """
    actual = plain(actual, name, modules=False)
    pairs = list(mistakes.items()) if _isinstance(mistakes, dict) else list(mistakes)
    if exact:
        _expect_exactly(actual, expected, name, pairs)
        return
    try:
        close(actual, expected, atol=atol, rtol=rtol, name=name)
    except AssertionError as err:
        for wrong, message in pairs:
            if _shows(actual, wrong, lambda a, w: _passes(close, a, w, atol=atol, rtol=rtol, name=name)):
                raise fail("{name}: {why}", name=name, why=message) from None
        raise err from None


def _passes(compare: Callable[..., None], *args: Any, **kwargs: Any) -> bool:
    try:
        compare(*args, **kwargs)
    except AssertionError:
        return False
    return True


def _shows(actual: Any, wrong: Any, same: Callable[[Any, Any], bool]) -> bool:
    """Whether ``actual`` is the mistake ``wrong``: a value it equals, or a test that says so."""
    if callable(wrong) and not _isinstance(wrong, (_tensor_type, _ndarray_type)):
        try:
            return bool(wrong(actual))
        except Exception:  # noqa: BLE001 - a test that does not apply to this value is simply not that mistake
            return False
    return same(actual, wrong)


def _same(a: Any, b: Any) -> bool:
    """Exact for ints, strings and bools, to 1e-9 relative for floats, element by element for tuples."""
    if type(a) is tuple or type(b) is tuple:
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) in (bool, str) or type(b) in (bool, str):
        return type(a) is type(b) and a == b
    if _isinstance(a, (int, float)) and _isinstance(b, (int, float)):
        return _math_isclose(a, b, rel_tol=1e-9, abs_tol=0.0)
    return False


def _expect_exactly(actual: Any, expected: Any, name: Any, pairs: list[tuple[Any, Any]]) -> None:
    if type(expected) is float:
        if type(actual) in (int, float) and _same(actual, expected):
            return
    elif type(actual) is type(expected) and actual == expected:
        return
    for wrong, message in pairs:
        if _shows(actual, wrong, _same):  # through check() and equal(), like every other check of the course
            check(False, "{name}: expected {expected!r}, got {got!r}. {why}", name=name, expected=expected,
                  got=actual, why=message)
            return
    if type(expected) is float:
        check(False, "{name}: expected {expected!r}, got {got!r}", name=name, expected=expected, got=actual)
        return
    equal(actual, expected, name=name)


def raises(exc_type: type[BaseException], fn: Callable[..., Any], *args: Any, match: str | None = None,
           name: str | None = None, **kwargs: Any) -> BaseException:
    """``fn(*args, **kwargs)`` raises ``exc_type`` (and its message matches ``match``)."""
    label = name or getattr(fn, "__name__", "the function")
    try:
        fn(*args, **kwargs)
    except NotImplementedError:
        raise
    except exc_type as err:
        if match is not None and not _re_search(match, str(err)):
            raise fail("{name}: raised {kind} but its message {message!r} does not mention {match!r}", name=label,
                       kind=exc_type.__name__, message=str(err), match=match) from None
        return err
    except Exception as err:  # noqa: BLE001 - we report what was raised instead
        raise fail("{name}: expected {kind}, got {got}: {error}", name=label, kind=exc_type.__name__,
                   got=type(err).__name__, error=err) from None
    raise fail("{name}: expected {kind} to be raised, but it returned normally", name=label, kind=exc_type.__name__)


_FunctionType, _MethodType = type(lambda: None), type(check.__get__(0))
_ACTIVE: list[str] = []  # the exercise whose hidden checks are running (innermost last)
_version = torch.Tensor._version.__get__


def exercise(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator for a hidden check: while it runs, :func:`call` switches off what ``name`` may not borrow."""
    import functools

    def wrap(check_fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(check_fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            _ACTIVE.append(name)
            try:
                return check_fn(*args, **kwargs)
            finally:
                _ACTIVE.pop()
        return checked
    return wrap


def _tensors(values: Iterable[Any]) -> list[torch.Tensor]:
    found = []
    for v in values:
        if type(v) is _tensor_type or type(v) is torch.nn.Parameter:
            found.append(v)
        elif type(v) in (tuple, list):
            found += _tensors(v)
    return found


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` as the checks run a student's code; returns :func:`plain` values.

    While ``fn`` runs, whatever the exercise may not borrow (:mod:`course.checks.borrowed`) is
    switched off: the exercise of the hidden check that is running, else the one named like ``fn``.
    Afterwards the tensors passed in must be unchanged (a function that edits its input in place
    would also change the reference computed from it), and the result is rebuilt from plain values.
    An unexpected exception becomes a readable AssertionError; ``NotImplementedError`` (an
    exercise not done yet) and ``AssertionError`` pass through unchanged.
    """
    if _isinstance(fn, Elsewhere):  # the student's code runs in the grading sandbox: ask it to call it there
        name = fn.exercise_name
        try:
            result, mutated = fn._call_elsewhere(args, kwargs, _ACTIVE[-1] if _ACTIVE else name)
        except (NotImplementedError, AssertionError):
            raise
        except Exception as err:  # noqa: BLE001 - reported to the student as a failed check
            raise _raised(fn, args, kwargs, err) from None
        if mutated:
            raise _edited_in_place(name)
        return plain(result, msg("what {name} returned", name=name if type(name) is str else "the function"))
    inputs = _tensors([*args, *kwargs.values()])
    versions = [_version(t) for t in inputs]
    if type(fn) in (type, _FunctionType):
        name = fn.__name__
    elif type(fn) is _MethodType:
        name = fn.__func__.__name__ if type(fn.__func__) is _FunctionType else None
    elif isinstance(fn, torch.nn.Module):  # a student's layer: named by its class (nothing of theirs runs yet)
        name = type(fn).__name__
    else:
        name = None
    try:
        with switched_off_for(_ACTIVE[-1] if _ACTIVE else name if type(name) is str else None):
            result = fn(*args, **kwargs)
    except (NotImplementedError, AssertionError):
        raise
    except Exception as err:  # noqa: BLE001 - reported to the student as a failed check
        raise _raised(fn, args, kwargs, err) from None
    for t, v in zip(inputs, versions):
        if _version(t) != v:
            raise _edited_in_place(name)
    return plain(result, msg("what {name} returned", name=name if type(name) is str else "the function"))


def _raised(fn: Any, args: tuple, kwargs: dict, err: BaseException) -> AssertionError:
    shown = ", ".join([f"tensor{tuple(a.shape)}" if _isinstance(a, _tensor_type) else repr(a)[:30] for a in args]
                      + [f"{k}={v!r}"[:40] for k, v in kwargs.items()])
    label = fn.exercise_name if _isinstance(fn, Elsewhere) else getattr(fn, "__name__", type(fn).__name__)
    return fail("{name}({arguments}) raised {kind}: {error}", name=label, arguments=shown, kind=type(err).__name__,
                error=err)


def _edited_in_place(name: Any) -> AssertionError:
    return fail("{name} changed one of its input tensors in place; compute a new tensor instead (the caller still "
                "needs its input)", name=name if type(name) is str else "the function")
