"""Build or edit course notebooks with correct nbgrader metadata (schema 3).

Authoring aid for instructors, not used by students or graders. A chapter's notebook can be
written as a short script:

    from tools.nbauthor import md, code, answer, tests, save
    save("source/02-tensors/02-tensors.ipynb", [
        md("# Tensors · 张量"),
        code("import torch"),                       # locked, ungraded
        answer("broadcast_shape", '''def broadcast_shape(a, b):
    ### BEGIN SOLUTION
    ...
    ### END SOLUTION'''),
        tests("broadcast_shape_tests", 2, '''assert ...
### BEGIN HIDDEN TESTS
...
### END HIDDEN TESTS'''),
    ])

Conventions the test suite enforces: answer cells only define things (functions, classes,
constants); every test cell imports what it needs, so it can be run on its own against a
substituted implementation.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat

from course.language import METADATA_KEY

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _next_id(kind: str) -> str:
    return f"{kind}-000"  # renumbered by save()


def md(text: str) -> nbformat.NotebookNode:
    """A locked markdown cell (students read it, cannot change it)."""
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip(),
                                         metadata=_meta(_next_id("md"), grade=False, solution=False, locked=True))


def code(src: str) -> nbformat.NotebookNode:
    """A locked, ungraded code cell (set-up, demos, widgets)."""
    return nbformat.v4.new_code_cell(textwrap.dedent(src).strip(),
                                     metadata=_meta(_next_id("code"), grade=False, solution=False, locked=True))


def answer(grade_id: str, src: str) -> nbformat.NotebookNode:
    """An autograded answer cell: the part between ### BEGIN/END SOLUTION becomes a stub."""
    return nbformat.v4.new_code_cell(textwrap.dedent(src).strip(),
                                     metadata=_meta(grade_id, grade=False, solution=True, locked=False))


# JupyterLab's Run All stops at the first cell that raises, unless the cell carries this tag; test
# cells raise until the exercise is done, so they carry it and the rest of the notebook still runs.
RUN_ON_TAG = "raises-exception"


def tests(grade_id: str, points: float, src: str) -> nbformat.NotebookNode:
    """A locked, graded test cell worth ``points`` (tagged so that Run All continues past it)."""
    meta = _meta(grade_id, grade=True, solution=False, locked=True, points=points)
    meta["tags"] = [RUN_ON_TAG]
    return nbformat.v4.new_code_cell(textwrap.dedent(src).strip(), metadata=meta)


def save(path: str | Path, cells: list[nbformat.NotebookNode], language: str = "en") -> Path:
    """Write a course notebook; a Chinese edition's says so in its metadata (``course.language``)."""
    metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python", "version": "3.11"}}
    if language != "en":
        metadata[METADATA_KEY] = language
    nb = nbformat.v4.new_notebook(cells=cells, metadata=metadata)
    counts = {"md": 0, "code": 0}
    for cell in nb.cells:  # number ungraded cells in order so ids are stable across rebuilds
        meta = cell.metadata["nbgrader"]
        kind = meta["grade_id"].split("-")[0]
        if kind in counts and not meta["grade"] and not meta["solution"]:
            counts[kind] += 1
            meta["grade_id"] = f"{kind}-{counts[kind]:03d}"
        cell["id"] = meta["grade_id"]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
