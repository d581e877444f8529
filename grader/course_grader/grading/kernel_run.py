"""The kernel run, from outside the sandbox: what goes in, and what is taken from what comes back.

The notebook is executed top to bottom in the kernel sandbox (:mod:`.runtime.notebook`) only so that the
feedback shows the student's outputs and figures; the grade never depends on it. What goes in: the
notebook without its hidden tests, and the other files of that one submission. What comes back is
hostile data: one JSON line, bounded in size, parsed as a notebook, and only the outputs and execution
counts of cells that match the notebook sent (same count, type and source) are taken; everything else
of the returned notebook is ignored.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import time
from pathlib import Path

import nbformat
from nbgrader.preprocessors import ClearHiddenTests

from course.checks.messages import render
from course_grader.grading.sandbox import LineReader, Sandbox

FILES_LIMIT = 64 << 20  # bytes of a submission's other files sent into the sandbox
FILE_LIMIT = 16 << 20  # a larger file is left out


def without_hidden_tests(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    stripped = copy.deepcopy(nb)
    ClearHiddenTests(enforce_metadata=False).preprocess(stripped, {})
    return stripped


def submission_files(folder: str | Path | None, notebook_name: str | None) -> dict[str, str]:
    """The submission's other files (data a notebook may read), base64, bounded; no links, no notebook."""
    files: dict[str, str] = {}
    if not folder or not os.path.isdir(folder):
        return files
    total = 0
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
        for name in sorted(names):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, folder)
            if rel == notebook_name or os.path.islink(path) or not os.path.isfile(path):
                continue
            size = os.path.getsize(path)
            if size > FILE_LIMIT or total + size > FILES_LIMIT:
                continue
            with open(path, "rb") as f:
                files[rel] = base64.b64encode(f.read()).decode()
            total += size
    return files


def merge_outputs(nb: nbformat.NotebookNode, sent: nbformat.NotebookNode, returned: str) -> str:
    """Copy the executed outputs into ``nb``; a problem to report ("" when none)."""
    try:
        executed = nbformat.reads(returned, as_version=4)
    except Exception:  # noqa: BLE001 - anything unreadable is simply not used
        return render("the kernel run returned an unreadable notebook; no outputs are shown")
    if len(executed.cells) != len(sent.cells):
        return render("the kernel run returned a notebook with other cells; no outputs are shown")
    for mine, theirs, ours in zip(nb.cells, executed.cells, sent.cells, strict=True):
        if mine.cell_type != "code":
            continue
        if theirs.get("cell_type") != "code" or theirs.get("source") != ours.source:
            continue  # a cell changed while it ran: its outputs are not taken
        outputs = theirs.get("outputs", [])
        try:
            for output in outputs:
                nbformat.validate(output, ref=_OUTPUT_REFS.get(output.get("output_type"), "output"), version=4)
        except Exception:  # noqa: BLE001 - an output that is not one is dropped with its cell's others
            outputs = []
        mine.outputs = outputs
        count = theirs.get("execution_count")
        mine.execution_count = count if isinstance(count, int) and not isinstance(count, bool) else None
    return ""


_OUTPUT_REFS = {"stream": "stream", "display_data": "display_data", "execute_result": "execute_result",
                "error": "error"}


def run_kernel(nb: nbformat.NotebookNode, box: Sandbox, *, folder: str | None, notebook_name: str | None,
               cell_timeout: float, budget: float) -> str:
    """Execute ``nb`` in the kernel sandbox and take its outputs; returns a problem to report, or ""."""
    sent = without_hidden_tests(nb)
    payload = {"notebook": nbformat.writes(sent), "timeout": cell_timeout}
    with box.job("notebook", payload, submission_files(folder, notebook_name)) as (_, lines):
        if lines is None:
            return render("the kernel's sandbox stopped; no outputs are shown, but every test was still graded")
        line = lines.next(time.monotonic() + budget)
    if line is LineReader.TIMEOUT:
        return render("the notebook did not finish running within the submission's {seconds:g} s; its outputs are "
                      "not shown, but every test was still graded", seconds=budget)
    if line is None:
        return render("the notebook's run ended without a result; its outputs are not shown, but every test was "
                      "still graded")
    try:
        result = json.loads(line)
        returned, problem = str(result["notebook"]), str(result.get("problem", ""))[:200]
    except (ValueError, KeyError, TypeError):
        return render("the kernel run returned an unreadable result; no outputs are shown")
    merged = merge_outputs(nb, sent, returned)
    if merged:
        return merged
    if problem:
        return render("the notebook's kernel stopped before the end ({problem}); cells after that point show no "
                      "output, but every test was still graded", problem=problem)
    return ""
