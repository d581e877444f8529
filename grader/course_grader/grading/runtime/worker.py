"""Run a notebook's answer and test cells in a process of their own; report one JSON line per step.

A job of the verdict sandbox's server (:mod:`.server`), asked for by :mod:`course_grader.grading.isolated`.
Results go to the job's result descriptor, never to stdout; what the student's code prints is discarded
(a test cell's own output is kept, bounded, for the feedback).

Each answer cell runs in the shared namespace (as in the kernel); each test cell runs in a copy
of it, so a test cannot leak state into the next one. After every answer cell the worker checks
that the library functions the checks rely on are the very objects they were before the cell
ran; a cell that swapped one is reported as tampering and the supervisor re-runs the job
without it.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from types import ModuleType

PRINTED_LIMIT = 10_000  # characters of a test cell's printed output kept for the feedback
WATCHED_MODULES = ("builtins", "math", "numpy", "numpy.testing", "torch", "torch.nn", "torch.nn.functional",
                   "torch.testing")
# every loaded module of these packages is watched entirely (their captured references are private names)
WATCHED_PACKAGES = ("course.checks", "course_grader")
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


class _Printed:
    """``sys.stdout`` while a test cell runs: keeps the first PRINTED_LIMIT characters, drops the rest."""

    encoding = "utf-8"

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def write(self, text) -> int:
        if isinstance(text, str) and self.size < PRINTED_LIMIT:
            self.parts.append(text[:PRINTED_LIMIT - self.size])
            self.size += len(self.parts[-1])
        return len(text) if isinstance(text, str) else 0

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def getvalue(self) -> str:
        return "".join(self.parts)


def _describe(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}".strip()
    return text if len(text) < 2000 else text[:2000] + " …"


def _import_checks() -> None:
    """Import the comparison helpers and every chapter's hidden checks (what the test cells will import)."""
    import importlib
    import pkgutil

    import course.checks
    import course_grader.checks

    for package in (course.checks, course_grader.checks):
        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")


def main(fd: int, job: dict) -> None:
    out = os.fdopen(fd, "w", buffering=1)
    send = out.write  # bound now: the student's code cannot replace it
    dumps = json.dumps
    devnull = open(os.devnull, "w")
    sys.stdout = sys.stderr = devnull
    os.dup2(devnull.fileno(), 1)
    os.dup2(devnull.fileno(), 2)

    ns: dict = {"__name__": "__main__"}
    try:
        exec(compile(job["setup"], "<set-up cell>", "exec"), ns)
    except BaseException as err:  # noqa: BLE001 - reported, not hidden
        send(dumps({"id": "<set-up>", "ok": False, "error": _describe(err)}) + "\n")
        return
    _import_checks()  # before any student code: the checks bind what they use now, and are watched from here on
    baseline = _snapshot()
    send(dumps({"id": "<set-up>", "ok": True}) + "\n")

    for step in job["steps"]:
        send(dumps({"id": step["id"], "start": True}) + "\n")
        scope = ns if step["kind"] == "answer" else dict(ns)
        result = {"id": step["id"], "ok": True}
        printed = _Printed()  # what a test cell prints (shown in the feedback when no kernel ran)
        sys.stdout = printed if step["kind"] == "test" else devnull
        try:
            exec(compile(step["source"], f"<{step['id']}>", "exec"), scope)
        except BaseException as err:  # noqa: BLE001 - SystemExit/KeyboardInterrupt count as failures too
            result = {"id": step["id"], "ok": False, "error": _describe(err),
                      "trace": "".join(traceback.format_exception(err))[-4000:]}
        sys.stdout = devnull
        try:
            text = printed.getvalue()
        except Exception:  # noqa: BLE001 - the student's code may have closed or replaced it
            text = ""
        if isinstance(text, str) and text:
            result["printed"] = text[:PRINTED_LIMIT]
        changed = _changed(baseline, _snapshot())
        if changed:
            result = {"id": step["id"], "ok": False, "tamper": changed[:10]}
            send(dumps(result) + "\n")
            return
        send(dumps(result) + "\n")


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
    import course.notebook  # noqa: F401
    import course.plotting  # noqa: F401
    _import_checks()
    import course.experiments
    import course.widgets

    for package in (course.experiments, course.widgets):
        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")
