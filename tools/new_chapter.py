"""Scaffold a new chapter: ``make new-chapter NAME=09-something``.

Writes, under the chapter's one slug (``09-something`` for files read by people, ``ch09_something``
for Python modules), everything a chapter has:

    chapters/09-something.py                          the text source (one example exercise)
    course/checks/ch09_something.py                   what its exercises may not borrow (BORROWED)
    course/experiments/ch09_something.py              its experiments (figures for the notebook)
    course/glossary/09-something.tsv                  its English · 中文 terms
    grader/course_grader/checks/ch09_something.py     its hidden checks
    tests/test_ch09_something.py                      a correct answer passes, a wrong one is rejected
    tests/adversarial/ch09_something.py               the exercise the adversarial suite attacks
    tests/honest/ch09_something.py                    three correct answers written differently

then builds ``source/09-something/09-something.ipynb``. Run ``make release`` next (the suite checks
that ``release/`` and ``solutions/`` are up to date), then replace the example with the chapter.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"^(\d\d)-([a-z][a-z0-9]*(?:-[a-z0-9]+)*)$")


def _files(name: str, title: str) -> dict[str, str]:
    mod = "ch" + name.replace("-", "_")
    return {
        f"chapters/{name}.py": f'''# %% [markdown]
# # {title} · 标题
#
# What this chapter builds, in two sentences. (Scaffolded by `make new-chapter`: replace the example.)

# %%
import torch

from course import glossary
from course.experiments import {mod} as ex
from course.notebook import setup

setup()

# %% [markdown]
# ## Part 1 — An example exercise · 示例练习
#
# Sum each row of a `(rows, cols)` matrix, keeping the summed dim so the result broadcasts
# against the input.

# %% answer="row_sums"
def row_sums(x):
    """The sum of each row of x.

    x: float tensor of shape (rows, cols).
    Returns a tensor of shape (rows, 1).
    """
    ### BEGIN SOLUTION
    return x.sum(dim=1, keepdim=True)
    ### END SOLUTION


# %% tests="row_sums_tests" points=1
import torch
from course.checks import call, close

# a non-square matrix: summing the wrong dim gives a different shape
close(call(row_sums, torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])), torch.tensor([[6.0], [15.0]]),
      name="row_sums on a 2x3 matrix (sum over dim 1, keepdim=True)")
### BEGIN HIDDEN TESTS
from course_grader.checks import {mod} as hidden
hidden.check_row_sums(row_sums)
### END HIDDEN TESTS

# %%
print(ex.describe(torch.ones(2, 3)))

# %% [markdown]
# ## Glossary · 术语表

# %%
glossary.show("{name}")
''',
        f"course/checks/{mod}.py": f'''"""\
What the visible tests of chapter {name[:2]} use, and what its exercises may not borrow."""

from course.checks.borrowed import Borrowed

# what would do each exercise's work (switched off while the student's code runs under the checks)
BORROWED = {{
    "row_sums": Borrowed("add up each row yourself: torch.sum is the reference",
                         torch=("torch.sum", "torch.Tensor.sum")),
}}
''',
        f"course/experiments/{mod}.py": f'''"""Chapter {name[:2]}'s experiments."""

from __future__ import annotations

import torch


def describe(x: torch.Tensor) -> str:
    """A one-line description of a tensor, for the notebook."""
    return f"shape {{tuple(x.shape)}}, dtype {{x.dtype}}"
''',
        f"course/glossary/{name}.tsv": "english\tchinese\tmeaning\n"
                                        "row sum\t行和\tthe sum of the entries of one row of a matrix\n",
        f"grader/course_grader/checks/{mod}.py": f'''"""\
Hidden checks of chapter {name[:2]}: each ``check_*`` runs the student's code through
:func:`course.checks.core.call` on random cases against an independent reference."""

from __future__ import annotations

from typing import Callable

import torch

from course.checks.core import call, close, exercise


@exercise("row_sums")
def check_row_sums(row_sums: Callable[[torch.Tensor], torch.Tensor], seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    for rows, cols in [(3, 5), (4, 4), (1, 7)]:
        x = torch.randn(rows, cols, generator=g, dtype=torch.float64)
        reference = torch.tensor([[sum(row.tolist())] for row in x.unbind()], dtype=torch.float64)
        close(call(row_sums, x.clone()), reference, atol=1e-9, name=f"row_sums on a {{rows}}x{{cols}} input")
''',
        f"tests/test_{mod}.py": f'''"""\
Chapter {name[:2]}: the graded cells accept a correct answer and reject the usual wrong ones."""

import torch

from notebooks import assert_rejected, run_test_cell

A = "{name}"


def test_a_correct_answer_written_differently_passes():
    run_test_cell(A, "row_sums_tests", row_sums=lambda x: x @ torch.ones(x.shape[1], 1, dtype=x.dtype))


def test_summing_the_wrong_dim_is_rejected():
    err = assert_rejected(A, "row_sums_tests", row_sums=lambda x: torch.ones(1, x.shape[0], dtype=x.dtype) @ x)
    assert "row_sums" in str(err)


def test_torch_sum_is_switched_off_while_the_answer_runs():
    def row_sums(x):  # call() knows the exercise by the function's name
        return x.sum(dim=1, keepdim=True)

    err = assert_rejected(A, "row_sums_tests", row_sums=row_sums)
    assert "torch.sum is the reference" in str(err)
''',
        f"tests/adversarial/{mod}.py": f'''"""Chapter {name[:2]}'s adversarial target."""

from attacks import Target

A, M = "{name}", "{mod}"

TARGETS = [
    Target(A, "row_sums", name="row_sums", returns="tensor", module=M,
           wrong="def row_sums(x):\\n    return x.sum(dim=0, keepdim=True)  # the wrong dim\\n",
           borrowed="def row_sums(x):\\n    return torch.sum(x, 1, keepdim=True)\\n"),
]
''',
        f"tests/honest/{mod}.py": f'''"""\
Chapter {name[:2]}: three correct answers per answer cell, written differently from the instructor's."""

ASSIGNMENT = "{name}"

VARIANTS = {{
    "row_sums": [
        "def row_sums(x):\\n    return x @ torch.ones(x.shape[1], 1, dtype=x.dtype)\\n",
        "def row_sums(x):\\n    return torch.einsum('rc->r', x)[:, None]\\n",
        "def row_sums(x):\\n    out = torch.zeros(x.shape[0], 1, dtype=x.dtype)\\n"
        "    for j in range(x.shape[1]):\\n        out[:, 0] += x[:, j]\\n    return out\\n",
    ],
}}
''',
    }


def scaffold(name: str, root: Path = ROOT) -> list[Path]:
    match = NAME.match(name)
    if not match:
        raise ValueError(f"NAME must look like 09-something (two digits, a dash, lower-case words joined by "
                         f"dashes), got {name!r}")
    taken = sorted(p.name for p in (root / "chapters").glob(f"{match[1]}-*.py"))
    if taken:
        raise ValueError(f"chapter {match[1]} exists already: chapters/{taken[0]}")
    files = _files(name, match[2].replace("-", " ").capitalize())
    clash = [rel for rel in files if (root / rel).exists()]
    if clash:
        raise ValueError(f"would overwrite {clash[0]}")
    written = []
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    # build the notebook, and write the text back in jupytext's own layout (so text -> notebook -> text is exact)
    import nbformat

    from tools import nbauthor, notebooks
    chapter = root / "chapters" / f"{name}.py"
    notebook = nbauthor.save(root / "source" / name / f"{name}.ipynb", notebooks.read_chapter(chapter))
    chapter.write_text(notebooks.to_text(nbformat.read(notebook, as_version=4)), encoding="utf-8")
    return [*written, notebook]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: make new-chapter NAME=09-something", file=sys.stderr)
        return 2
    try:
        written = scaffold(argv[0])
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(path.relative_to(ROOT))
    print("next: make release (release/ and solutions/), then replace the example exercise")
    return 0


if __name__ == "__main__":
    sys.exit(main())
