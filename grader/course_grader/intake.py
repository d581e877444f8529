"""Make every collected submission gradable before nbgrader sees it, and say what was wrong.

A notebook that is not valid JSON, has been renamed or deleted, lost its graded cells, or carries
tens of megabytes of output would otherwise make nbgrader skip or fail that student (and a
PipelineError would hide the others' results). :func:`prepare` runs first on every
``submitted/<student>/<assignment>/`` folder and leaves there a notebook nbgrader can grade:

* not valid JSON / not a notebook / no notebook at all → the released notebook (every exercise
  unanswered, so zero points), the original kept beside it as ``<name>.unreadable``;
* renamed (one other ``.ipynb`` in the folder) → graded under the expected name;
* graded cells missing → rebuilt from the released notebook, with the student's answers put back
  by their cell id (a missing answer stays unanswered);
* larger than :data:`MAX_BYTES` → outputs dropped (nbgrader clears them anyway before running);
* a cell carrying nbgrader metadata the released notebook has no cell for (nbgrader would fail the whole
  submission) → that metadata removed: the cell is the student's own.

Each problem becomes a note in the notebook's metadata (``course_intake``), which the trusted
grader writes at the top of the feedback and ``make flags`` lists. A note is written in the edition
of the notebook that is graded (its ``course_language``, else the class's: ``COURSE_LANGUAGE``), the
language the rest of that feedback speaks (:mod:`course.checks.messages`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat

from course import cells
from course.checks.messages import Message, msg
from course.language import graded_in, use_language

MAX_BYTES = 20 * 1024 * 1024
INTAKE_KEY = "course_intake"


def _grade_ids(nb) -> dict[str, nbformat.NotebookNode]:
    """The graded cells (answers and tests, :func:`course.cells.is_graded`) by grade_id."""
    return {cells.grade_id(cell): cell for cell in nb.cells if cells.is_graded(cell)}


def _read(path: Path):
    """The notebook, or the reason it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
        json.loads(text)
    except json.JSONDecodeError as err:
        return None, msg("it is not valid JSON (line {line}, column {column}: {error})", line=err.lineno,
                         column=err.colno, error=err.msg)
    except UnicodeDecodeError:
        return None, msg("it is not a text file")
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as err:  # noqa: BLE001 - any reason nbformat refuses it is reported
        return None, msg("it is not a readable notebook ({kind}: {error})", kind=type(err).__name__,
                         error=str(err)[:200])
    if not isinstance(nb.get("cells"), list):
        return None, msg("it has no cells")
    return nb, ""


def _released(release: Path):
    with open(release, encoding="utf-8") as f:
        return nbformat.read(f, as_version=4)


def _write(nb, path: Path, notes: list[Message]) -> list[str]:
    """Write ``nb`` with its notes, in its edition's language; the notes as written."""
    with use_language(graded_in(nb)):
        said = [str(note) for note in notes]
    nb.metadata[INTAKE_KEY] = said
    with open(path, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
    return said


def prepare(folder: Path, release: Path) -> list[str]:
    """Make ``folder/<assignment>.ipynb`` gradable; return the notes (empty when nothing was wrong)."""
    expected = folder / release.name
    notes: list[Message] = []
    if not expected.exists():
        others = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
        if len(others) == 1:
            notes.append(msg("the notebook was handed in as {found!r}, not {expected!r}; it was graded under the "
                             "expected name", found=others[0].name, expected=expected.name))
            others[0].rename(expected)
        else:
            found = ", ".join(p.name for p in others) or msg("no notebook at all")
            notes.append(msg("the submission has no {expected} (found: {found}); it was graded as unanswered",
                             expected=expected.name, found=found))
            return _write(_released(release), expected, notes)
    if expected.stat().st_size > MAX_BYTES:
        notes.append(msg("the notebook is {size:.0f} MB (limit {limit:.0f} MB); its outputs were dropped before "
                         "grading", size=expected.stat().st_size / 1e6, limit=MAX_BYTES / 1e6))
    nb, why = _read(expected)
    if nb is None:
        shutil.copy(expected, expected.with_name(expected.name + ".unreadable"))
        notes.append(msg("the notebook could not be read: {why}; it was graded as unanswered (the file is kept as "
                         "{name}.unreadable)", why=why, name=expected.name))
        return _write(_released(release), expected, notes)
    if expected.stat().st_size > MAX_BYTES:
        for cell in nb.cells:
            if cell.get("cell_type") == "code":
                cell["outputs"] = []
    released = _released(release)
    known = {cells.grade_id(c) for c in released.cells} - {None}
    posing = [c for c in nb.cells if "nbgrader" in c.get("metadata", {}) and cells.grade_id(c) not in known]
    if posing:  # nbgrader fails a whole submission on such metadata; the cells are the student's own
        notes.append(msg("cells carried nbgrader metadata of cells the released notebook does not have ({ids}); "
                         "they were graded as the student's own cells",
                         ids=", ".join(str(cells.grade_id(c))[:40] for c in posing[:5])))
        for cell in posing:
            del cell["metadata"]["nbgrader"]
    mine, theirs = _grade_ids(nb), _grade_ids(released)
    missing = [g for g in theirs if g not in mine]
    if missing:
        notes.append(msg("graded cells were missing and were restored from the released notebook: {ids} (a "
                         "missing answer cell counts as unanswered)", ids=", ".join(missing)))
        for grade_id, cell in theirs.items():
            if grade_id in mine and cell.cell_type == mine[grade_id].get("cell_type"):
                if cells.is_solution(cell):
                    cell.source = mine[grade_id].get("source", "")
        nb = released
    if notes or INTAKE_KEY in nb.metadata:
        return _write(nb, expected, notes)
    return []


def nbgrader_hook(assignment=None, student=None, notebooks=(), **_):
    """``c.Autograde.pre_convert_hook``: intake on every door into autograding, the formgrader's button included.

    ``make autograde`` has already prepared each folder (renamed and missing notebooks too: those change the
    files nbgrader is about to read, so only a pass before nbgrader starts can handle them). Here, on the
    notebooks nbgrader found, the in-place repairs run for a submission no earlier pass has seen.
    """
    for path in sorted({Path(n) for n in notebooks}):
        folder = path.parent
        from course_grader.pipeline import edition_folder  # the class's edition (COURSE_LANGUAGE)

        release = edition_folder("release", folder.parents[2]) / folder.name / path.name
        if not path.is_file() or not release.is_file():
            continue
        try:
            with open(path, encoding="utf-8") as f:
                seen = INTAKE_KEY in json.load(f).get("metadata", {})
        except (OSError, ValueError, AttributeError):
            seen = False
        if not seen:
            prepare(folder, release)
