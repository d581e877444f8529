"""Cheating and faulty submissions, for every chapter (issue: grades an instructor can trust).

A submission is a chapter's solutions notebook in which some exercises (the targets) are replaced
by a wrong answer plus one attack each. The trusted grader (the tamper scan and the isolated
re-run of every test cell, :func:`course_grader.grading.nbgrader_plugins.trusted_verdicts`) must
give every target's tests zero and every other test full marks. ``tests/test_adversarial.py``
runs all of them through that grader and a few through ``nbgrader autograde`` end to end.

Each chapter module in ``tests/adversarial/`` (``ch01_compute.py`` ...) declares :class:`Target` s: an
exercise, a wrong answer for it, a *borrowed* answer (right values, computed by code the
exercise may not use: the torch built-in or the course's own implementation) and what its
result is (a tensor, a number or a tuple), from which the lying-object attacks are built.
"""

from __future__ import annotations

import importlib
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from notebooks import CHAPTERS, ROOT, graded_cells, is_answer, is_test, nbgrader_meta


@dataclass(frozen=True)
class Target:
    assignment: str  # "05-attention"
    exercise: str  # the answer cell's grade_id
    wrong: str  # a complete wrong answer cell (defines the same names as the solution)
    borrowed: str  # a complete answer cell with right results computed by forbidden code
    name: str  # the function or class the lying wrapper wraps (defined by `wrong`)
    returns: str = "tensor"  # "tensor" | "number" | "tuple" | "module" (a class whose forward returns a tensor)
    module: str = ""  # the grader module of the chapter, e.g. "ch05_attention" (for the import attack)


@dataclass(frozen=True)
class Attack:
    name: str
    suffix: str = ""  # appended to the target's wrong answer cell
    replace: str | None = None  # the whole answer cell instead (borrowed answers)
    added_cell: str | None = None  # a cell the student inserts after the set-up cell (kernel-level attacks)
    fools_kernel: bool = False  # a plain nbgrader run would have given the target's points
    runtime: bool = False  # not visible to the static scan: only the isolated re-run can stop it


# ------------------------------------------------------------------------- the attacks

def _patch_checks() -> str:
    return ("import course.checks as _cc, course.checks.core as _core\n"
            "import pkgutil as _pk, importlib as _il\n"
            "_packs = [_cc]\n"
            "try:\n"  # the hidden checks, where they are importable (the kernel's sandbox holds no grader)
            "    import course_grader.checks as _gc\n"
            "    _packs.append(_gc)\n"
            "except ImportError:\n"
            "    pass\n"
            "_mods = [_cc, _core] + [_il.import_module(_p.__name__ + '.' + _i.name) for _p in _packs\n"
            "                        for _i in _pk.iter_modules(_p.__path__)]\n"
            "import types as _ty\n\n\n"
            "def _swallow(f):\n"  # the helper still computes what it returns, but never fails
            "    def g(*a, **k):\n"
            "        try:\n"
            "            return f(*a, **k)\n"
            "        except Exception:\n"
            "            return True\n"
            "    return g\n\n\n"
            "for _m in _mods:\n"  # every public function of the checks: comparisons and each chapter's own helpers
            "    for _n, _v in list(vars(_m).items()):\n"
            "        if _n.startswith('_') or not isinstance(_v, _ty.FunctionType):\n"
            "            continue\n"
            "        if _n.startswith('call'):\n"
            "            setattr(_m, _n, lambda f, *a, errors=None, **k: f(*a, **k))\n"
            "        else:\n"
            "            setattr(_m, _n, _swallow(_v))\n")


_LIARS = '''
import torch as _t


class _LyingTensor(_t.Tensor):
    def __eq__(self, other): return _t.ones(self.shape, dtype=_t.bool)
    def __ne__(self, other): return _t.zeros(self.shape, dtype=_t.bool)
    def __bool__(self): return True
    def __sub__(self, other): return _t.zeros(self.shape)
    def __rsub__(self, other): return _t.zeros(self.shape)
    def abs(self): return _t.zeros(self.shape)
    def allclose(self, *a, **k): return True
    def equal(self, *a, **k): return True
    def isnan(self): return _t.zeros(self.shape, dtype=_t.bool)
    def detach(self): return self
    def double(self): return self
    def to(self, *a, **k): return self


class _LyingInt(int):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __hash__(self): return 0
    def __int__(self): return 7


class _LyingFloat(float):
    def __eq__(self, other): return True
    def __sub__(self, other): return 0.0
    def __rsub__(self, other): return 0.0
    def __abs__(self): return 0.0
    def __float__(self): return 0.0
    def __lt__(self, other): return True
    def __le__(self, other): return True
    def __gt__(self, other): return False


class _LyingTuple(tuple):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __hash__(self): return 0


def _lie(value):
    if isinstance(value, _t.Tensor):
        return value.as_subclass(_LyingTensor)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _LyingInt(value)
    if isinstance(value, float):
        return _LyingFloat(value)
    if isinstance(value, tuple):
        return _LyingTuple(_lie(v) for v in value)
    return value
'''

_SHADOW = '''
import torch as _t


def _lie(value):  # a plain tensor whose instance attributes shadow the methods a check might call
    if type(value) is _t.Tensor:
        fake = value.clone()
        for _name in ("detach", "double", "float", "cpu", "to", "contiguous", "clone", "abs", "allclose", "equal"):
            setattr(fake, _name, (lambda *a, _f=fake, **k: _f))
        return fake
    if isinstance(value, tuple):
        return tuple(_lie(v) for v in value)
    return value
'''


def _wrap(target: Target, helpers: str) -> str:
    n = target.name
    if target.returns == "module":
        return (helpers + f"\n_Base_{n} = {n}\n\n\nclass {n}(_Base_{n}):\n"
                f"    def forward(self, *a, **k):\n        return _lie(super().forward(*a, **k))\n")
    return helpers + f"\n_wrong_{n} = {n}\n\n\ndef {n}(*a, **k):\n    return _lie(_wrong_{n}(*a, **k))\n"


def attacks_for(target: Target) -> list[Attack]:
    """Today's fourteen attacks, lying objects, delegation and importing the grading package.

    The hang is the worker's time limit, the same for every exercise: it runs on the first target
    of each chapter only (each one costs the cell time limit).
    """
    chapter_targets = targets(target.module) if target.module and module_exists(target.module) else []
    first = not chapter_targets or chapter_targets[0] == target
    source = f"../../../source/{target.assignment}/{target.assignment}.ipynb"
    return [
        Attack("patch-course-checks", suffix=_patch_checks(), fools_kernel=True),
        Attack("fake-checks-module-in-sys-modules", suffix=(
            "import sys, types\n_nop = lambda *a, **k: None\n\n\n"
            "def _fake(name):\n"
            "    m = types.ModuleType(name)\n"
            "    m.close = m.equal = m.check = m.raises = _nop\n"
            "    m.call = lambda f, *a, errors=None, **k: f(*a, **k)\n"
            "    m.__getattr__ = lambda attr, _n=name: sys.modules.get(_n + '.' + attr,\n"
            "        m.call if attr.startswith('call') else _nop)\n"
            "    sys.modules[name] = m\n\n\n"
            "for _name in ('course.checks', 'course.checks.core', 'course.checks." + target.module + "',\n"
            "              'course_grader.checks', 'course_grader.checks." + target.module + "'):\n"
            "    _fake(_name)\n"), fools_kernel=True),
        Attack("input-transformer-blanks-tests", added_cell=(
            "def _blank(lines):\n    text = ''.join(lines)\n"
            "    return ['pass\\n'] if 'course.checks' in text or 'course_grader' in text else lines\n"
            "get_ipython().input_transformers_post.append(_blank)\n"), fools_kernel=True),
        Attack("ast-transformer", added_cell=(
            "import ast\nclass _Gut(ast.NodeTransformer):\n"
            "    def visit_Module(self, node):\n"
            "        src = ast.unparse(node)\n"
            "        return ast.parse('pass') if 'course.checks' in src or 'course_grader' in src else node\n"
            "get_ipython().ast_transformers.append(_Gut())\n"), fools_kernel=True),
        Attack("exec-obfuscated-patch", suffix=(
            "exec(bytes.fromhex(" + repr(_patch_checks().encode().hex()) + ").decode())\n"), fools_kernel=True),
        Attack("patch-torch-allclose", suffix="import torch\ntorch.allclose = lambda *a, **k: True\n"),
        Attack("patch-tensor-eq", suffix="import torch\ntorch.Tensor.__eq__ = lambda a, b: True\n"),
        Attack("patch-builtins", suffix="import builtins\nbuiltins.isinstance = lambda *a: True\n"),
        Attack("read-the-instructor-source", suffix=f"_src = open({source!r}).read()\n"),
        Attack("read-the-gradebook", suffix="import sqlite3\n_db = sqlite3.connect('../../../gradebook.db')\n"),
        Attack("kill-the-kernel", added_cell="import os\nos._exit(0)\n"),
        *([Attack("hang-ignoring-interrupts", runtime=True, suffix=(
            f"\n\ndef {target.name}(*a, **k):\n    while True:\n        try:\n            pass\n"
            "        except BaseException:\n            pass\n"))] if first else []),
        Attack("system-exit", added_cell="raise SystemExit(0)\n"),
        Attack("stderr-and-warnings", suffix="import sys, warnings\nprint('noise', file=sys.stderr)\nwarnings.warn('careful')\n"),
        Attack("lying-subclass", runtime=True, suffix=_wrap(target, _LIARS), fools_kernel=False),
        *([Attack("shadowing-instance-attributes", runtime=True, suffix=_wrap(target, _SHADOW))] if target.returns != "number" else []),
        Attack("borrowed-answer", runtime=True, replace=target.borrowed),
        Attack("import-the-grader", suffix=(
            f"from course_grader.checks import {target.module} as _hidden  # read the reference\n")),
        Attack("import-the-grader-obfuscated", suffix=(
            f"_hidden = __builtins__['__imp' + 'ort__']('course_grader.checks.{target.module}')\n")),
    ]


def module_exists(chapter: str) -> bool:
    return (Path(__file__).parent / "adversarial" / f"{chapter}.py").is_file()


def answer_ids(assignment: str) -> set[str]:
    nb = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return {nbgrader_meta(c)["grade_id"] for c in nb.cells if is_answer(c)}


def targets(chapter: str) -> list[Target]:
    return list(importlib.import_module(f"adversarial.{chapter}").TARGETS)


def all_targets() -> list[Target]:
    return [t for c in CHAPTERS if module_exists(c) for t in targets(c)]


# ------------------------------------------------------------------------- submissions

@dataclass
class Submission:
    assignment: str
    name: str
    cases: list[tuple[Target, Attack]] = field(default_factory=list)

    def target_tests(self) -> set[str]:
        return {t for target, _ in self.cases for t in tests_of(target.assignment, target.exercise)}


def tests_of(assignment: str, exercise: str) -> list[str]:
    """The test cells between an answer cell and the next one: the tests of that exercise."""
    nb = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    ids, seen = [], False
    for cell in nb.cells:
        if is_answer(cell):
            if seen:
                break
            seen = nbgrader_meta(cell)["grade_id"] == exercise
        elif seen and is_test(cell):
            ids.append(nbgrader_meta(cell)["grade_id"])
    assert ids, f"{assignment}: no tests after answer cell {exercise}"
    return ids


def pack(chapter: str, only: set[str] | None = None, spread: bool = False) -> list[Submission]:
    """The chapter's runtime (target, attack) pairs (or those named in ``only``), one submission per
    attack carrying it on every target.

    ``spread``: each attack on a different target (target i gets the i-th attack of ``only``), so
    that one submission carries every attack of ``only``.
    """
    pairs = [(t, a) for t in targets(chapter) for a in attacks_for(t)
             if (a.name in only if only is not None else a.runtime)]
    submissions: list[Submission] = []
    if spread:  # attack i on target i mod n: as many submissions as it takes to give each its own target
        names, ts = sorted(only or ()), targets(chapter)
        for start in range(0, len(names), len(ts)):
            submissions.append(Submission(ts[0].assignment, f"{chapter}-spread-{start // len(ts) + 1}", [
                (target, next(a for a in attacks_for(target) if a.name == name))
                for target, name in zip(ts, names[start:start + len(ts)])]))
        return submissions
    by_attack: dict[str, Submission] = {}
    for target, attack in pairs:  # one submission per attack, carrying it on every target
        sub = by_attack.get(attack.name)
        if sub is None:
            sub = by_attack[attack.name] = Submission(target.assignment, f"{chapter}-{attack.name}")
            submissions.append(sub)
        sub.cases.append((target, attack))
    return submissions


def attack_cell(target: Target, attack: Attack) -> str:
    """The cell the attack puts in the notebook: the added cell, else the target's answer cell."""
    if attack.added_cell:
        return attack.added_cell
    return attack.replace if attack.replace is not None else target.wrong.rstrip("\n") + "\n" + attack.suffix


def build(sub: Submission) -> nbformat.NotebookNode:
    nb = nbformat.read(ROOT / "solutions" / sub.assignment / f"{sub.assignment}.ipynb", as_version=4)
    by_exercise = {t.exercise: (t, a) for t, a in sub.cases}
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if is_answer(cell) and grade_id in by_exercise:
            target, attack = by_exercise[grade_id]
            cell.source = attack.replace if attack.replace is not None else target.wrong.rstrip("\n") + "\n" + attack.suffix
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    for _, attack in sub.cases:
        if attack.added_cell:
            nb.cells.insert(first_code + 1, nbformat.v4.new_code_cell(attack.added_cell))
    return nb


def expected_failures(sub: Submission) -> set[str]:
    return sub.target_tests()


def all_tests(assignment: str) -> set[str]:
    return set(graded_cells(assignment))


def path_of(sub: Submission, folder: Path) -> Path:
    return folder / sub.name / sub.assignment / f"{sub.assignment}.ipynb"


__all__ = ["Attack", "Submission", "Target", "all_targets", "attacks_for", "build", "pack", "targets", "tests_of",
           "expected_failures", "all_tests", "itertools"]
