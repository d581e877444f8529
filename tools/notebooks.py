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

One source, two languages (中文版). A chapter may carry a Chinese twin of every prose cell: a markdown
cell with ``lang="zh"`` right after its English one. Code cells are written once and shared:

    # %% [markdown]
    # ## Broadcasting · 广播                        the English edition's prose
    # %% [markdown] lang="zh"
    # ## 广播 · Broadcasting                        its Chinese twin, the next cell

A code cell whose comments, docstrings or printed labels a student reads may have a Chinese twin too, right
after it with the same header plus ``lang="zh"``. The twin must be the same program (:func:`program_difference`:
equal syntax trees once docstrings, comments and the literal text handed to ``print`` are set aside;
an f-string given to ``print`` may format its values in another order), so both
editions compute, check and grade alike:

    # %% answer="center_rows"
    def center_rows(x):
        '''Subtract each row's mean from that row.'''
    # %% answer="center_rows" lang="zh"
    def center_rows(x):
        '''每一行减去该行的均值。'''

Such a chapter builds two instructor notebooks with the same cells, grade ids and points:
``source/NN-name/NN-name.ipynb`` (English) and ``source-zh/NN-name/NN-name.ipynb`` (Chinese, the twins in
place of the English prose). A chapter is either English only or bilingual throughout: a prose cell
without its twin, or a twin without its English cell, is an error that names the cell.

    python -m tools.notebooks build [NN ...]   write source/ from chapters/ (``make notebooks``)
    python -m tools.notebooks check            exit 1 if source/ differs from a fresh build
    python -m tools.notebooks pull NN          take edits made to source/NN-*/ (and source-zh/NN-*/) in
                                               JupyterLab back into chapters/NN-*.py (then ``make notebooks``)

The text sources live outside ``source/``: nbgrader copies every non-notebook file of an assignment
folder into ``release/``.
"""

from __future__ import annotations

import argparse
import ast
import copy
import sys
from pathlib import Path

import jupytext
import nbformat

from course import cells
from tools import nbauthor

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
SOURCE = ROOT / "source"
# the editions: language -> the instructor tree its notebooks are built into ("en" is nbgrader's own layout;
# course_grader.pipeline.EDITIONS names the release and solutions trees of each)
LANGUAGES = ("en", "zh")
SOURCES = {"en": SOURCE, "zh": ROOT / "source-zh"}
FORMAT = "py:percent"
# the only cell metadata a chapter file carries; everything else is derived from it
HEADER_KEYS = ("answer", "tests", "points", "lang")
# what jupytext itself records about a cell's layout (blank lines, marker style): not course metadata
LAYOUT_KEYS = ("lines_to_next_cell", "lines_to_end_of_cell_marker", "cell_marker")


class ChapterError(ValueError):
    """A chapter file that cannot be turned into a notebook; the message names the file and cell."""


def chapter_files() -> list[Path]:
    return sorted(CHAPTERS.glob("[0-9][0-9]-*.py"))


def notebook_path(chapter: Path, language: str = "en") -> Path:
    return SOURCES[language] / chapter.stem / f"{chapter.stem}.ipynb"


def _cell(path: Path, number: int, cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    meta = {k: v for k, v in cell.metadata.items() if k not in LAYOUT_KEYS}
    unknown = sorted(set(meta) - set(HEADER_KEYS))
    where = f"{path.name}, cell {number}"
    if unknown:
        raise ChapterError(f"{where}: unknown cell option(s) {unknown}; a cell header takes only "
                           f"answer=\"id\" or tests=\"id\" points=N")
    if cell.cell_type == "markdown":
        if meta and meta != {"lang": "zh"}:
            raise ChapterError(f"{where}: a markdown cell takes no options but lang=\"zh\", got {sorted(meta)}")
        return nbauthor.md(cell.source)
    if meta.get("lang", "zh") != "zh":
        raise ChapterError(f"{where}: lang= takes only \"zh\", got {meta['lang']!r}")
    meta.pop("lang", None)
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


def _is_zh(cell: nbformat.NotebookNode) -> bool:
    return cell.metadata.get("lang") == "zh"


def _header(cell: nbformat.NotebookNode) -> dict:
    return {k: v for k, v in cell.metadata.items() if k not in LAYOUT_KEYS and k != "lang"}


class _Program(ast.NodeTransformer):
    """A cell's syntax tree without what only a reader sees: docstrings and the literal text given to print()."""

    def _drop_docstring(self, node):
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
        return self.generic_visit(node)

    visit_Module = visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _drop_docstring

    def visit_Call(self, node):
        node = self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "print":
            node.args = [_label_free(a) for a in node.args]
        return node


def _label_free(arg: ast.expr) -> ast.expr:
    """A print() argument with its literal text blanked (f-strings keep their expressions and formats)."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return ast.Constant("")
    if isinstance(arg, ast.JoinedStr):  # the values it formats, in any order (Chinese orders words otherwise)
        return ast.JoinedStr(sorted((v for v in arg.values if not isinstance(v, ast.Constant)), key=ast.dump))
    return arg


def _program(source: str) -> str:
    return ast.dump(_Program().visit(ast.parse(source)))


def program_difference(en: str, zh: str) -> str | None:
    """Why two code cells are not the same program, or None when they are.

    Comments, docstrings and the literal strings (and f-strings' literal parts) passed to ``print`` may differ,
    so a Chinese twin may explain and label in Chinese; every other token must be the same.
    """
    try:
        same = _program(en) == _program(zh)
    except SyntaxError as err:
        return f"it does not parse ({err.msg}, line {err.lineno})"
    if same:
        return None
    en_lines, zh_lines = en.splitlines(), zh.splitlines()
    for i, (a, b) in enumerate(zip(en_lines, zh_lines, strict=False), start=1):
        if a != b and _line_code(a) != _line_code(b):
            return f"the programs differ (first at line {i}: {a.strip()[:60]!r} vs {b.strip()[:60]!r})"
    return "the programs differ (beyond comments, docstrings and printed labels)"


def _line_code(line: str) -> str:
    return line.split("#", 1)[0].rstrip()


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _editions(path: Path, cells: list[nbformat.NotebookNode]) -> dict[str, list[int]]:
    """The chapter's cells (their indices) per language: English only, or both with every prose cell paired."""
    if not any(_is_zh(c) for c in cells):
        return {"en": list(range(len(cells)))}
    en, zh = [], []
    for i, cell in enumerate(cells):
        where = f"{path.name}, cell {i + 1}"
        if _is_zh(cell):
            previous = cells[i - 1] if i > 0 else None
            if previous is None or previous.cell_type != cell.cell_type or _is_zh(previous):
                raise ChapterError(f"{where}: a lang=\"zh\" cell must follow its English {cell.cell_type} cell")
            if not _has_chinese(cell.source):
                raise ChapterError(f"{where}: the lang=\"zh\" cell holds no Chinese")
            if cell.cell_type == "code":
                if _header(cell) != _header(previous):
                    raise ChapterError(f"{where}: a code cell's Chinese twin takes its English cell's header "
                                       f"{_header(previous)} plus lang=\"zh\", got {_header(cell)}")
                why = program_difference(previous.source, cell.source)
                if why:
                    raise ChapterError(f"{where}: a code cell's Chinese twin may change only comments, docstrings "
                                       f"and printed labels: {why}")
                zh[-1] = i  # in place of the English cell
                continue
            zh.append(i)
        elif cell.cell_type == "markdown":
            if i + 1 == len(cells) or not _is_zh(cells[i + 1]):
                first = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else ""
                raise ChapterError(f"{where}: this prose cell has no Chinese twin (a `# %% [markdown] lang=\"zh\"` "
                                   f"cell right after it); the chapter has Chinese prose elsewhere, so every "
                                   f"prose cell needs one: {first!r}")
            en.append(i)
        else:
            en.append(i)
            zh.append(i)
    return {"en": en, "zh": zh}


def read_chapter(path: Path, language: str = "en") -> list[nbformat.NotebookNode]:
    """The cells of one edition of a chapter (``language`` "en" or "zh"), as nbgrader notebook cells."""
    text = jupytext.reads(path.read_text(encoding="utf-8"), fmt=FORMAT)
    converted = [_cell(path, i, c) for i, c in enumerate(text.cells, start=1)]
    editions = _editions(path, text.cells)
    if language not in editions:
        raise ChapterError(f"{path.name}: no {language!r} edition (its prose has no lang=\"{language}\" cells)")
    chosen = [converted[i] for i in editions[language]]
    ids = [cells.grade_id(c) for c in chosen if cells.is_graded(c)]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ChapterError(f"{path.name}: grade ids used twice: {repeated}")
    return chosen


def languages(path: Path) -> list[str]:
    """The editions a chapter file has: ["en"], or ["en", "zh"] when its prose is bilingual."""
    text = jupytext.reads(path.read_text(encoding="utf-8"), fmt=FORMAT)
    return list(_editions(path, text.cells))


def build(path: Path, out: Path | None = None, language: str = "en") -> Path:
    return nbauthor.save(out or notebook_path(path, language), read_chapter(path, language), language)


def build_all(path: Path) -> list[Path]:
    """Write every edition of a chapter; remove a Chinese notebook the chapter no longer has."""
    editions = languages(path)
    for language in LANGUAGES:
        stale_nb = notebook_path(path, language)
        if language not in editions and stale_nb.exists():
            stale_nb.unlink()
            if not any(stale_nb.parent.iterdir()):
                stale_nb.parent.rmdir()
    return [build(path, language=language) for language in editions]


def to_text(nb: nbformat.NotebookNode, zh: nbformat.NotebookNode | None = None) -> str:
    """The chapter text of a course notebook (the inverse of ``build``); with ``zh``, the Chinese
    edition's prose cells go in as twins after their English ones (the code is the English edition's)."""
    nb = copy.deepcopy(nb)
    if zh is not None:
        if [c.cell_type for c in zh.cells] != [c.cell_type for c in nb.cells]:
            raise ChapterError("the English and Chinese notebooks have different cells: edit the code in one of them "
                               "only if it is the same edit in both")
        for cell, twin in zip(nb.cells, zh.cells, strict=True):
            why = cell.cell_type == "code" and program_difference(cell.source, twin.source)
            if why:
                raise ChapterError(f"code cell {cells.grade_id(cell)}: the Chinese edition may change only comments, "
                                   f"docstrings and printed labels: {why}")
        merged = []
        for cell, twin in zip(nb.cells, zh.cells, strict=True):
            merged.append(cell)
            if cell.cell_type == "markdown" or twin.source != cell.source:
                twin = copy.deepcopy(twin)
                kept = twin.metadata if twin.cell_type == "code" else {**twin.metadata, "nbgrader": {}}
                twin.metadata = {**kept, "lang": "zh"}
                merged.append(twin)
        nb.cells = merged
    for cell in nb.cells:
        solution, grade, grading = cells.is_solution(cell), cells.is_grade(cell), cells.nbgrader(cell)
        lang = cell.metadata.get("lang")
        cell.metadata = {}
        if solution:  # answer="id" (a solution cell)
            cell.metadata["answer"] = grading["grade_id"]
        elif grade:  # tests="id" points=N (a grade cell)
            cell.metadata.update(tests=grading["grade_id"], points=grading["points"])
        if lang:  # last: `# %% answer="id" lang="zh"`, the header the chapters write
            cell.metadata["lang"] = lang
        cell.pop("id", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata = {"jupytext": {"notebook_metadata_filter": "-all",
                                "cell_metadata_filter": ",".join(HEADER_KEYS)}}
    return jupytext.writes(nb, fmt=FORMAT)


def stale(path: Path, tmp: Path) -> bool:
    """Whether any edition of the chapter differs from a fresh build (or a dropped edition is still there)."""
    editions = languages(path)
    for language in LANGUAGES:
        target = notebook_path(path, language)
        if language not in editions:
            if target.exists():
                return True
            continue
        fresh = build(path, tmp / language / f"{path.stem}.ipynb", language)
        if not target.exists() or target.read_bytes() != fresh.read_bytes():
            return True
    return False


def read_editions(path: Path) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode | None]:
    """The chapter's built notebooks: the English one and the Chinese one (None if there is none)."""
    nb = nbformat.read(notebook_path(path), as_version=4)
    zh = notebook_path(path, "zh")
    return nb, (nbformat.read(zh, as_version=4) if zh.exists() else None)


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
                for out in build_all(path):
                    print(out.relative_to(ROOT))
        elif args.command == "check":
            import tempfile
            with tempfile.TemporaryDirectory() as tmp:
                differ = [p for p in chapter_files() if stale(p, Path(tmp))]
            for p in differ:
                print(f"{notebook_path(p).relative_to(ROOT)} (or its Chinese edition) differs from chapters/{p.name}: "
                      f"run `make notebooks` "
                      f"to rebuild it, or `python -m tools.notebooks pull {p.name[:2]}` to keep edits made in "
                      f"JupyterLab", file=sys.stderr)
            return 1 if differ else 0
        else:
            for path in _select(args.chapters):
                path.write_text(to_text(*read_editions(path)), encoding="utf-8")
                print(path.relative_to(ROOT))
    except ChapterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
