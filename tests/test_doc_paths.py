"""Every module the documentation names exists (a renamed or deleted module leaves no stale pointer behind).

Read: README.md, README.zh.md, nbgrader_config.py and every text file under docs/. Checked: file paths under
course/, grader/, tools/, tests/, benchmarks/ and hub/ that end in ``.py`` or name a folder (``course_grader/...``
and ``grading/...`` are read inside grader/), and dotted names that start with ``course.``, ``course_grader.`` or
``tools.``: the longest prefix that is a module must import and the rest must be its attributes. ``chNN`` stands
for any chapter number.
"""

from __future__ import annotations

import importlib
import re

import pytest
from notebooks import ROOT

DOCS = [ROOT / "README.md", ROOT / "README.zh.md", ROOT / "nbgrader_config.py",
        *sorted(p for p in (ROOT / "docs").rglob("*") if p.suffix in (".md", ".rst", ".txt"))]
PATH = re.compile(r"(?<![\w./-])((?:course|grader|tools|tests|benchmarks|hub|course_grader|grading)/[\w./*-]*\w)")
DOTTED = re.compile(r"(?<![\w./-])((?:course|course_grader|tools)(?:\.[A-Za-z_]\w*)+)")
ANCHOR = {"course_grader": "grader/course_grader", "grading": "grader/course_grader/grading"}


def _exists(name: str) -> bool:
    top, _, rest = name.partition("/")
    pattern = f"{ANCHOR.get(top, top)}/{rest}".replace("chNN", "ch[0-9][0-9]")
    return any(p.is_dir() or p.suffix == ".py" for p in ROOT.glob(pattern))


def _importable(dotted: str) -> bool:
    parts = dotted.replace("chNN_", "ch01_").split(".")
    if parts[-1].endswith("_"):  # chNN_ followed by a wildcard: the package alone
        parts = parts[:-1]
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def missing(text: str) -> list[str]:
    """The module paths and dotted names in ``text`` that name nothing in this checkout."""
    paths = {p for p in PATH.findall(text) if p.endswith(".py") or "." not in p.rsplit("/", 1)[-1]}
    return sorted({p for p in paths if not _exists(p)} | {d for d in set(DOTTED.findall(text)) if not _importable(d)})


@pytest.mark.parametrize("doc", DOCS, ids=[p.relative_to(ROOT).as_posix() for p in DOCS])
def test_every_module_a_doc_names_exists(doc):
    assert missing(doc.read_text(encoding="utf-8")) == []


def test_a_stale_name_is_found():
    text = ("`course/blocks.py`, `course/checks/`, `course_grader/intake.py`, `grading/runtime/wire.py`, "
            "`tests/test_chNN_*.py`, `course.train`, `course_grader.hub.OwnerCheckedCollect`, `hub/roster.json`; "
            "stale: `course/grading/judge.py`, `tools/gone.py`, `course.nowhere`, `course_grader.hub.lock_everything`")
    assert missing(text) == ["course.nowhere", "course/grading/judge.py", "course_grader.hub.lock_everything",
                             "tools/gone.py"]
