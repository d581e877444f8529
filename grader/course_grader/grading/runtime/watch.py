"""What the agent watches while a student's code runs: the library functions the checks rely on.

After every answer cell and every test cell, :mod:`.agent` compares the identity of the public and dunder
attributes of the watched modules and classes (torch, numpy, builtins, the course's checks and the PyTorch
layers) with what they were before any student code ran. A cell that swapped one is reported as tampering:
the judge fails that cell and runs the submission again without it, so a patch (a ``Tensor.__eq__`` that
always agrees, a switched-off switch-off) never reaches the student's other exercises.
"""

from __future__ import annotations

import sys
from types import ModuleType

WATCHED_MODULES = ("builtins", "math", "numpy", "numpy.testing", "torch", "torch.nn", "torch.nn.functional",
                   "torch.testing")
# every loaded module of these packages is watched entirely (their captured references are private names)
WATCHED_PACKAGES = ("course.checks",)
WATCHED_CLASSES = (("torch", "Tensor"), ("torch.nn", "Parameter"), ("numpy", "ndarray"))
# and every class these modules define (the PyTorch layers the checks use as references)
WATCHED_CLASS_MODULES = ("torch.nn",)


_OWN_PREFIXES = tuple(p + "." for p in WATCHED_PACKAGES)


def _own(module_name: str) -> bool:
    return module_name in WATCHED_PACKAGES or module_name.startswith(_OWN_PREFIXES)


def _watched(module_name: str, attr: str) -> bool:
    # private helpers of third-party modules may be rebound by the library itself
    return _own(module_name) or not attr.startswith("_") or attr.startswith("__")


def _watched_modules() -> list[str]:
    return [*WATCHED_MODULES, *sorted(n for n in list(sys.modules) if _own(n))]


def _watched_classes() -> list[tuple[str, str]]:
    classes = list(WATCHED_CLASSES)
    for module_name in WATCHED_CLASS_MODULES:
        module = sys.modules.get(module_name)
        for attr, value in list(vars(module).items()) if isinstance(module, ModuleType) else []:
            if isinstance(value, type) and not attr.startswith("_"):
                classes.append((module_name, attr))
    return classes


def _watched_objects() -> tuple[list[tuple[str, object]], list[tuple[str, type]]]:
    """The watched modules (name, module or None if not loaded) and classes (dotted name, class), found once for
    both the snapshot and the fingerprint."""
    modules = [(name, sys.modules.get(name)) for name in _watched_modules()]
    classes = [(f"{module_name}.{cls_name}", cls) for module_name, cls_name in _watched_classes()
               if isinstance(cls := getattr(sys.modules.get(module_name), cls_name, None), type)]
    return modules, classes


def _snapshot() -> dict[str, int]:
    """Identity of the public and dunder attributes of the watched modules and classes."""
    seen: dict[str, int] = {}
    modules, classes = _watched_objects()
    for name, module in modules:
        if isinstance(module, ModuleType):
            for attr, value in list(vars(module).items()):
                if _watched(name, attr):
                    seen[f"{name}.{attr}"] = id(value)
    for name, cls in classes:
        resolved: dict[str, object] = {}
        for klass in reversed(cls.__mro__):  # what attribute lookup finds, inherited ones included
            resolved.update(vars(klass))
        for attr, value in resolved.items():
            seen[f"{name}.{attr}"] = id(value)
    return seen


def _changed(before: dict[str, int], after: dict[str, int]) -> list[str]:
    """Attributes rebound or deleted since ``before`` (new ones, e.g. imported submodules, are fine)."""
    return sorted(k for k in before if before[k] != after.get(k) and not k.endswith(".__dict__"))


def _namespaces() -> list[tuple[object, object]]:
    """Every namespace the snapshot reads, with its owner: the watched modules, and for each watched class its
    MRO and the own namespace of every class along it."""
    modules, classes = _watched_objects()
    spaces: list[tuple[object, object]] = [(module, vars(module) if isinstance(module, ModuleType) else ())
                                           for _, module in modules]
    seen: set[int] = set()
    for _, cls in classes:
        spaces.append((cls, cls.__mro__))
        for klass in cls.__mro__:
            if id(klass) not in seen:
                seen.add(id(klass))
                spaces.append((klass, vars(klass)))
    return spaces


def _fingerprint(spaces: list[tuple[object, object]]) -> list[tuple]:
    """The identity of each owner and of every key and value of its namespace (or MRO), as numbers: built and
    compared in C, never through an object's own ``__eq__``."""
    return [(id(owner), tuple(map(id, space)), tuple(map(id, space.values())) if type(space) is not tuple else ())
            for owner, space in spaces]


class Watch:
    """The watched attributes as they are now; :meth:`changed` names those rebound or deleted since.

    The full snapshot (tens of thousands of names) is compared only when the quick fingerprint of the
    namespaces differs from the last one seen clean. The objects seen at the start are kept alive here, so
    no replacement can reuse the identity (``id``) of one that was freed."""

    def __init__(self) -> None:
        self.baseline = _snapshot()
        spaces = _namespaces()
        self._alive = [(owner, tuple(space), tuple(space.values()) if type(space) is not tuple else ())
                       for owner, space in spaces]
        self._clean = _fingerprint(spaces)

    def changed(self) -> list[str]:
        quick = _fingerprint(_namespaces())
        if quick == self._clean:  # not one key or value of a watched namespace has been touched
            return []
        changed = _changed(self.baseline, _snapshot())
        if not changed:  # e.g. a library filled a private cache, or a new submodule was imported
            self._clean = quick
        return changed


def _describe(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}".strip()
    return text if len(text) < 2000 else text[:2000] + " …"


def preload(modules: list[str] = ()) -> None:
    """What the set-up cells import, loaded once in the sandbox's warm server (no student code has run): the
    libraries, every watched module of the course's checks, and ``modules`` (those of the chapter graded)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import safetensors.torch  # noqa: F401  the channel's tensors, in every job
    import torch

    torch.set_num_threads(1)  # no OpenMP pool before fork(); graders run one thread per process anyway
    import torch._dynamo  # noqa: F401  imported lazily by many torch features, it rebinds torch.manual_seed

    import course.notebook  # noqa: F401
    import course.plotting  # noqa: F401

    from .imports import import_all, load

    import_all("course.checks")  # all of them: watched before any student code runs
    load(list(modules))
