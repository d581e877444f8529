"""Turn what a student's code returned into plain values before any check looks at it.

A student's object is hostile to the checks that inspect it: a ``torch.Tensor`` subclass can
override ``__eq__``, ``detach`` or ``shape``; an ``int`` subclass can compare equal to anything;
even a plain tensor can carry an instance attribute that shadows a method (``t.detach = ...``).
So before comparing, :func:`plain` accepts only values of exact built-in types and rebuilds them
without calling any method the student could have replaced: every method it uses is bound here,
from the classes themselves, when this module is imported (in the locked set-up cell, before any
student code runs; the grader also checks that these classes are unchanged after every cell).

Anything else is rejected with a message that says what to return instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from course.checks.elsewhere import Elsewhere
from course.checks.messages import render

_type = type
_tuple, _list, _dict, _str, _int, _float, _bool, _complex = tuple, list, dict, str, int, float, bool, complex
_Tensor, _Parameter, _Size = torch.Tensor, nn.Parameter, torch.Size
_Module = nn.Module
_isinstance = isinstance
_view_as = torch.Tensor.view_as  # a new tensor object on the same data (keeps autograd), no instance attributes
_layout_of = torch.Tensor.layout.__get__
_strided = torch.strided
_ndarray, _np_array = np.ndarray, np.array
_NUMPY_SCALARS = frozenset({np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                            np.uint64, np.float16, np.float32, np.float64, np.complex64, np.complex128})
_np_item = np.generic.item
_ATOMS = frozenset({_bool, _int, _float, _str, _complex, _type(None), torch.dtype, torch.device})
_MAX_DEPTH = 8
_RETURN_TYPES = frozenset(v for v in vars(torch.return_types).values() if isinstance(v, type) and issubclass(v, tuple))


class NotPlain(AssertionError):
    """The student's code returned something that is not a plain value."""


def _kind(value: Any) -> str:
    cls = _type(value)
    if cls.__module__ in ("builtins", "__main__"):
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _reject(value: Any, expected: str, name: Any) -> NotPlain:
    return NotPlain(render("{name}: return a plain {expected}, got {got} (the checks compare only plain tensors, "
                           "numbers, strings and tuples of those)", name=name, expected=expected, got=_kind(value)))


def plain(value: Any, name: str = "result", *, modules: bool = True, _depth: int = 0) -> Any:
    """``value`` rebuilt from exact built-in types, or :class:`NotPlain`.

    Accepted: ``torch.Tensor`` and ``nn.Parameter`` (strided; returned as a fresh plain tensor on
    the same data, gradients kept), ``torch.Size``, ``int``, ``float``, ``bool``, ``complex``,
    ``str``, ``None``, ``torch.dtype``, ``torch.device``, numpy arrays and scalars (as numpy
    values), and tuples, lists and dicts of those. With ``modules`` (default), an ``nn.Module``
    instance passes through unchanged: it is the student's layer, which the checks only call
    (through :func:`course.checks.core.call`), never compare.
    """
    cls = _type(value)
    if cls in _ATOMS:
        return value
    if cls is _Tensor or cls is _Parameter:
        if _layout_of(value) is not _strided:
            raise NotPlain(render("{name}: return an ordinary (strided) tensor, got a {layout} one", name=name,
                                  layout=_layout_of(value)))
        return _view_as(value, value)
    if _depth >= _MAX_DEPTH:
        raise NotPlain(render("{name}: nested more than {depth} levels deep", name=name, depth=_MAX_DEPTH))
    if cls is _Size:
        return _Size(_tuple(plain(v, name, _depth=_depth + 1) for v in _tuple.__iter__(value)))
    if cls in _RETURN_TYPES:  # torch.max(x, dim) and friends: a named tuple of tensors
        value, cls = _tuple(_tuple.__iter__(value)), _tuple
    if cls is _tuple or cls is _list:
        items = [plain(v, f"{name}[{i}]", modules=modules, _depth=_depth + 1)
                 for i, v in enumerate(_tuple.__iter__(value) if cls is _tuple else _list.__iter__(value))]
        return _tuple(items) if cls is _tuple else items
    if cls is _dict:
        out = {}
        for key, v in _dict.items(value):
            if _type(key) is not _str:
                raise _reject(key, "dict with string keys", name)
            out[key] = plain(v, f"{name}[{key!r}]", modules=modules, _depth=_depth + 1)
        return out
    if cls is _ndarray:
        return _np_array(value, copy=True)
    if cls in _NUMPY_SCALARS:
        return _np_item(value)
    if modules and (_isinstance(value, _Module) or _isinstance(value, Elsewhere)):
        return value
    if _isinstance(value, _Tensor):
        raise _reject(value, "torch.Tensor", name)
    for base, label in ((_bool, "bool"), (_int, "int"), (_float, "float"), (_str, "str"), (_tuple, "tuple"),
                        (_list, "list"), (_dict, "dict"), (_ndarray, "numpy array")):
        if _isinstance(value, base):
            raise _reject(value, label, name)
    raise _reject(value, "tensor, number, string or tuple", name)


def plain_bool(value: Any, name: str = "condition") -> bool:
    """A condition as an exact ``bool``: a ``bool``, a numpy bool or a one-element bool tensor."""
    value = plain(value, name, modules=False)
    if _type(value) is _bool:
        return value
    if _type(value) is _Tensor and value.dtype == torch.bool and value.numel() == 1:
        return _bool(_Tensor.item(value))
    raise NotPlain(render("{name}: expected True or False, got {got}", name=name, got=_kind(value)))
