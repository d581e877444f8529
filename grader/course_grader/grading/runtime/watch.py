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


def _own(module_name: str) -> bool:
    return any(module_name == p or module_name.startswith(p + ".") for p in WATCHED_PACKAGES)


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


def _snapshot() -> dict[str, int]:
    """Identity of the public and dunder attributes of the watched modules and classes."""
    seen: dict[str, int] = {}
    for name in _watched_modules():
        module = sys.modules.get(name)
        if isinstance(module, ModuleType):
            for attr, value in list(vars(module).items()):
                if _watched(name, attr):
                    seen[f"{name}.{attr}"] = id(value)
    for module_name, cls_name in _watched_classes():
        cls = getattr(sys.modules.get(module_name), cls_name, None)
        if isinstance(cls, type):
            resolved: dict[str, object] = {}
            for klass in reversed(cls.__mro__):  # what attribute lookup finds, inherited ones included
                resolved.update(vars(klass))
            for attr, value in resolved.items():
                seen[f"{module_name}.{cls_name}.{attr}"] = id(value)
    return seen


def _changed(before: dict[str, int], after: dict[str, int]) -> list[str]:
    """Attributes rebound or deleted since ``before`` (new ones, e.g. imported submodules, are fine)."""
    return sorted(k for k in before if before[k] != after.get(k) and not k.endswith(".__dict__"))


def _describe(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}".strip()
    return text if len(text) < 2000 else text[:2000] + " …"


def preload() -> None:
    """What every set-up cell imports, loaded once in the sandbox's warm server (no student code has run)."""
    import importlib
    import pkgutil

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import torch

    torch.set_num_threads(1)  # no OpenMP pool before fork(); graders run one thread per process anyway
    import course.checks
    import course.experiments
    import course.notebook  # noqa: F401
    import course.plotting  # noqa: F401
    import course.widgets

    for package in (course.checks, course.experiments, course.widgets):
        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")
