"""Objects that live in another process: how the checks meet a student's code when it runs in a sandbox.

When a notebook is graded, the test cells run in the grader's own process and the student's code in a
sandbox (``course_grader.grading.judge``); a student's function, class or layer is then an
:class:`Elsewhere`, a handle that asks the sandbox to call it. The checks treat it as they treat the
object itself: :func:`course.checks.core.call` runs it (there, with what the exercise may not borrow
switched off), :func:`course.checks.plain.plain` passes it through like a module, and :func:`unbound`
applies ``nn.Module``'s own methods to it there. In a student's kernel nothing here is used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Elsewhere:
    """A handle on an object in another process; subclasses say how to reach it."""

    exercise_name: str | None = None  # the function's or class's name; for an instance, its class's name

    def _call_elsewhere(self, args: tuple, kwargs: dict, borrow: str | None) -> tuple[Any, bool]:
        """Call the object there: (what it returned, whether it edited a tensor argument in place)."""
        raise NotImplementedError

    def _unbound_elsewhere(self, qualname: str, args: tuple, kwargs: dict) -> Any:
        """``qualname(obj, *args)`` run there on the object itself (e.g. nn.Module.named_parameters)."""
        raise NotImplementedError


def unbound(method: Callable[..., Any], qualname: str) -> Callable[..., Any]:
    """``method`` (an unbound method such as ``nn.Module.named_parameters``), also for an :class:`Elsewhere`.

    ``qualname`` is its dotted name (``torch.nn.Module.named_parameters``), which the sandbox looks up in
    its own list of methods a check may apply; never the object's override.
    """
    _isinstance = isinstance

    def apply(obj: Any, *args: Any, **kwargs: Any) -> Any:
        if _isinstance(obj, Elsewhere):
            return obj._unbound_elsewhere(qualname, args, kwargs)
        return method(obj, *args, **kwargs)

    apply.__name__ = getattr(method, "__name__", "method")
    return apply


def module_method(name: str) -> Callable[..., Any]:
    """``nn.Module``'s own method ``name``, unbound (never a student's override), also for an :class:`Elsewhere`."""
    from torch import nn

    return unbound(getattr(nn.Module, name), f"torch.nn.Module.{name}")


def class_of(obj: Any) -> type:
    """``type(obj)``, never a class an object claims; for an :class:`Elsewhere`, the class it has there."""
    return obj.__class__ if isinstance(obj, Elsewhere) else type(obj)
