"""nbgrader preprocessors that make autograding trustworthy.

:class:`TrustedExecute` replaces nbgrader's ``Execute`` in ``c.Autograde.autograde_preprocessors``:

1. it runs the notebook in a kernel as nbgrader does, so the feedback shows the student's outputs,
   but a kernel that dies (``os._exit``, a crash) no longer aborts the whole submission; the kernel
   is forked from a warm process (:mod:`course_grader.grading.warm_kernel`), not started cold;
2. it scans the cells the student can edit for tampering (:mod:`course_grader.grading.scan`);
3. it grades every test cell again in an isolated worker process (:mod:`course_grader.grading.isolated`),
   leaving flagged answer cells out, and makes each test cell's outputs agree with that verdict:
   nbgrader's own scoring (an error output = 0 points) then records the trusted result.

Flags and grading notes go into a markdown cell at the top of the autograded notebook (and so into
the feedback), into the notebook's metadata under ``course_grading`` for ``course_grader.pipeline flags``,
and into nbgrader's log.
"""

from __future__ import annotations

import time

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader.preprocessors import Execute
from traitlets import Bool

from course_grader.grading.isolated import grade_notebook
from course_grader.grading.scan import scan_notebook
from course_grader.intake import INTAKE_KEY

NOTE_MARKER = "course-grading-notes"


def _is_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


def _is_answer(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("solution") and not meta.get("grade")


def _is_failure(output) -> bool:
    return output.output_type == "error" or (output.output_type == "stream" and output.get("name") == "stderr")


def align_outputs(cell, passed: bool, message: str = "") -> None:
    """Make a test cell's outputs score exactly the trusted verdict under nbgrader's rules.

    nbgrader reads the outputs in order and the first error, stderr stream or ``execute_result``
    decides: error/stderr → 0, an ``execute_result`` → its value as partial credit if it parses as a
    number, else full marks. So whatever the kernel left there, a passed test keeps no error, no
    stderr and no ``execute_result`` (shown as plain display output instead), and a failed test
    starts with the grader's error, before anything the kernel printed.
    """
    kept = []
    for output in cell.outputs:
        if _is_failure(output):
            if not passed:
                kept.append(output)
        elif output.output_type == "execute_result":
            kept.append(nbformat.v4.new_output("display_data", data=output.get("data", {}),
                                               metadata=output.get("metadata", {})))
        else:
            kept.append(output)
    if not passed:
        kept.insert(0, nbformat.v4.new_output(
            "error", ename="GradingError", evalue=message,
            traceback=[f"Graded in a separate process, this test failed: {message}"]))
    cell.outputs = kept


def trusted_verdicts(nb, cell_timeout: float = 60.0):
    """The grade without the kernel: the tamper scan, then every test cell re-run in isolation.

    Returns the scan's findings, the isolated grader's report (one verdict per test cell) and the
    answer cells left out because they were flagged (with why).
    """
    findings = scan_notebook(nb)
    answer_ids = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells if _is_answer(c)}
    exclude: dict[str, str] = {}
    for f in findings:
        if f.cell_id in answer_ids:
            exclude.setdefault(f.cell_id, f"it was flagged: {f.message}")
    return findings, grade_notebook(nb, cell_timeout=cell_timeout, exclude=exclude), exclude


def show_printed(cell, printed: str) -> None:
    """A test cell graded without a kernel: its outputs are what it printed in the isolated worker."""
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)] if printed else []
    cell.execution_count = None


class TrustedExecute(Execute):
    """nbgrader's Execute, made trustworthy (module docstring).

    ``run_kernel = False`` (``course_grader.pipeline autograde --no-kernel``) skips the kernel run: the
    grade is the same (it never came from the kernel), every visible and hidden test still runs in the
    isolated worker, and the feedback shows each test cell's verdict and what it printed there, but no
    outputs of the other cells. One process per submission instead of two: for grading a class fast.
    """

    run_kernel = Bool(True, help="run the notebook in a kernel for the feedback's outputs (the grade never "
                                 "depends on it)").tag(config=True)

    def __init__(self, *args, **kwargs):
        from course_grader.grading.warm_kernel import WarmKernelManager

        kwargs.setdefault("kernel_manager_class", WarmKernelManager)  # kernels forked warm (COURSE_WARM_KERNEL=0: cold)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources):
        kernel_problem = ""
        started = time.perf_counter()
        if self.run_kernel:
            try:
                nb, resources = super().preprocess(nb, resources)
            except (DeadKernelError, CellTimeoutError, RuntimeError) as err:
                kernel_problem = f"the notebook's kernel stopped before the end ({type(err).__name__}); " \
                                 "cells after that point show no output, but every test was still graded"
                self.log.warning("kernel problem: %s", err)

        kernel_seconds = time.perf_counter() - started
        findings, report, exclude = trusted_verdicts(nb, cell_timeout=float(self.timeout or 60))
        trusted_seconds = time.perf_counter() - started - kernel_seconds

        kernel_passed = {}
        for cell in nb.cells:
            if not _is_test(cell):
                continue
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            verdict = report.verdicts[grade_id]
            if self.run_kernel:
                kernel_passed[grade_id] = cell.get("execution_count") is not None and not any(
                    o.output_type == "error" or (o.output_type == "stream" and o.name == "stderr")
                    for o in cell.outputs)
            else:
                show_printed(cell, verdict.printed)
            align_outputs(cell, verdict.passed, verdict.message)

        found = nb.metadata.pop(INTAKE_KEY, [])
        intake = [str(n) for n in found] if isinstance(found, list) else []
        notes = [f"- {n}" for n in intake]
        notes += [f"- cell `{f.cell_id}` line {f.line}: {f.message} ({f.rule})" for f in findings]
        notes += [f"- answer cell `{cid}` was not graded: {why}" for cid, why in report.excluded.items()
                  if cid not in exclude]
        if kernel_problem:
            notes.append(f"- {kernel_problem}")
        nb.metadata["course_grading"] = {
            "flags": [f.__dict__ for f in findings],
            "excluded": report.excluded,
            "kernel_problem": kernel_problem,
            "failed_tests": {k: v.message for k, v in report.verdicts.items() if not v.passed},
            "intake": intake,  # what course_grader.intake found wrong with the file itself
            "kernel_passed": kernel_passed,  # what plain nbgrader would have scored: cheats show up here
            "kernel_run": bool(self.run_kernel),
            # where the time went (benchmarks/autograde_throughput.py adds them up)
            "seconds": {"kernel": round(kernel_seconds, 3), "trusted": round(trusted_seconds, 3)},
        }
        for line in notes:
            self.log.warning("%s: %s", resources.get("nbgrader", {}).get("student", "?"), line)
        if not self.run_kernel:
            notes.append("- graded without running the notebook in a kernel: every test ran in the grader and shows "
                         "its verdict and what it printed; the other cells show no output")
        if notes:
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(
                "**Grading notes** (read these first)\n\n" + "\n".join(notes),
                metadata={"tags": [NOTE_MARKER]}))
        return nb, resources
