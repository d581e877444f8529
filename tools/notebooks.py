"""Chapters as text: ``chapters/NN-name.py`` (jupytext's percent format) is the one source of
``source/NN-name/NN-name.ipynb``.

A chapter file is plain Python that editors highlight and ruff lints. Cells are separated by
``# %%`` lines; jupytext (https://jupytext.readthedocs.io) reads them. The course needs four kinds of
cell, and the cell header says which:

    # %% [markdown]                               prose (locked)
    # %%                                          set-up or demo code (locked, ungraded)
    # %% answer="broadcast_shape"                 an answer cell (### BEGIN/END SOLUTION inside)
    # %% tests="broadcast_shape_tests" points=2   a graded test cell worth 2 points

This module turns those headers into nbgrader's cell metadata (``tools.nbauthor``), so no chapter
spells out nbgrader's schema by hand.

    python -m tools.notebooks build [NN ...]   write source/ from chapters/ (``make notebooks``)
    python -m tools.notebooks check            exit 1 if source/ differs from a fresh build
    python -m tools.notebooks pull NN          take edits made to source/NN-*/ in JupyterLab back
                                               into chapters/NN-*.py (then ``make notebooks``)

The text sources live outside ``source/``: nbgrader copies every non-notebook file of an assignment
folder into ``release/``.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import jupytext
import nbformat

from tools import nbauthor

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
SOURCE = ROOT / "source"
FORMAT = "py:percent"
# the only cell metadata a chapter file carries; everything else is derived from it
HEADER_KEYS = ("answer", "tests", "points")
# what jupytext itself records about a cell's layout (blank lines, marker style): not course metadata
LAYOUT_KEYS = ("lines_to_next_cell", "lines_to_end_of_cell_marker", "cell_marker")


class ChapterError(ValueError):
    """A chapter file that cannot be turned into a notebook; the message names the file and cell."""


def chapter_files() -> list[Path]:
    return sorted(CHAPTERS.glob("[0-9][0-9]-*.py"))


def notebook_path(chapter: Path) -> Path:
    return SOURCE / chapter.stem / f"{chapter.stem}.ipynb"


def _cell(path: Path, number: int, cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    meta = {k: v for k, v in cell.metadata.items() if k not in LAYOUT_KEYS}
    unknown = sorted(set(meta) - set(HEADER_KEYS))
    where = f"{path.name}, cell {number}"
    if unknown:
        raise ChapterError(f"{where}: unknown cell option(s) {unknown}; a cell header takes only "
                           f"answer=\"id\" or tests=\"id\" points=N")
    if cell.cell_type == "markdown":
        if meta:
            raise ChapterError(f"{where}: a markdown cell takes no options, got {sorted(meta)}")
        return nbauthor.md(cell.source)
    if cell.cell_type != "code":
        raise ChapterError(f"{where}: {cell.cell_type} cells are not used in chapters")
    if "answer" in meta:
        if set(meta) != {"answer"}:
            raise ChapterError(f"{where}: an answer cell takes only answer=\"id\", got {sorted(meta)}")
        if "### BEGIN SOLUTION" not in cell.source:
            raise ChapterError(f"{where}: answer cell {meta['answer']!r} has no ### BEGIN SOLUTION block")
        return nbauthor.answer(meta["answer"], cell.source)
    if "tests" in meta:
        points = meta.get("points")
        if set(meta) != {"tests", "points"} or not isinstance(points, (int, float)) or points <= 0:
            raise ChapterError(f"{where}: a test cell needs tests=\"id\" points=N with N > 0, got {meta}")
        return nbauthor.tests(meta["tests"], points, cell.source)
    if meta:
        raise ChapterError(f"{where}: points= belongs with tests=\"id\"")
    return nbauthor.code(cell.source)


def read_chapter(path: Path) -> list[nbformat.NotebookNode]:
    text = jupytext.reads(path.read_text(encoding="utf-8"), fmt=FORMAT)
    cells = [_cell(path, i, c) for i, c in enumerate(text.cells, start=1)]
    ids = [c.metadata["nbgrader"]["grade_id"] for c in cells
           if c.metadata["nbgrader"]["grade"] or c.metadata["nbgrader"]["solution"]]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ChapterError(f"{path.name}: grade ids used twice: {repeated}")
    return cells


def build(path: Path, out: Path | None = None) -> Path:
    return nbauthor.save(out or notebook_path(path), read_chapter(path))


def to_text(nb: nbformat.NotebookNode) -> str:
    """The chapter text of a course notebook (the inverse of ``build``)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        grading = cell.metadata.get("nbgrader", {})
        cell.metadata = {}
        if grading.get("solution"):
            cell.metadata["answer"] = grading["grade_id"]
        elif grading.get("grade"):
            cell.metadata.update(tests=grading["grade_id"], points=grading["points"])
        cell.pop("id", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata = {"jupytext": {"notebook_metadata_filter": "-all",
                                "cell_metadata_filter": ",".join(HEADER_KEYS)}}
    return jupytext.writes(nb, fmt=FORMAT)


def stale(path: Path, tmp: Path) -> bool:
    fresh = build(path, tmp / f"{path.stem}.ipynb")
    target = notebook_path(path)
    return not target.exists() or target.read_bytes() != fresh.read_bytes()


def _select(numbers: list[str]) -> list[Path]:
    files = chapter_files()
    if not numbers:
        return files
    chosen = [f for f in files if f.name[:2] in {n.zfill(2)[:2] for n in numbers}]
    missing = set(n.zfill(2) for n in numbers) - {f.name[:2] for f in chosen}
    if missing:
        raise SystemExit(f"no chapter file chapters/{sorted(missing)[0]}-*.py")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.notebooks", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="write source/ from chapters/").add_argument("chapters", nargs="*")
    sub.add_parser("check", help="exit 1 if source/ differs from a fresh build")
    sub.add_parser("pull", help="take edits made in source/ back into chapters/").add_argument("chapters", nargs="+")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            for path in _select(args.chapters):
                print(build(path).relative_to(ROOT))
        elif args.command == "check":
            import tempfile
            with tempfile.TemporaryDirectory() as tmp:
                differ = [p for p in chapter_files() if stale(p, Path(tmp))]
            for p in differ:
                print(f"{notebook_path(p).relative_to(ROOT)} differs from chapters/{p.name}: run `make notebooks` "
                      f"to rebuild it, or `python -m tools.notebooks pull {p.name[:2]}` to keep edits made in "
                      f"JupyterLab", file=sys.stderr)
            return 1 if differ else 0
        else:
            for path in _select(args.chapters):
                nb = nbformat.read(notebook_path(path), as_version=4)
                path.write_text(to_text(nb), encoding="utf-8")
                print(path.relative_to(ROOT))
    except ChapterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
