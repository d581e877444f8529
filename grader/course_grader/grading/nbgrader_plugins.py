"""nbgrader preprocessors that make autograding trustworthy.

:class:`TrustedExecute` replaces nbgrader's ``Execute`` in ``c.Autograde.autograde_preprocessors``:

1. it runs the notebook in a kernel inside the kernel sandbox (:mod:`course_grader.grading.kernel_run`,
   :mod:`course_grader.grading.sandbox`), without its hidden tests, so the feedback shows the student's
   outputs; a kernel that dies (``os._exit``, a crash) no longer aborts the whole submission;
2. it scans the cells the student can edit for tampering (:mod:`course_grader.grading.scan`);
3. it grades every test cell again in the verdict sandbox (:mod:`course_grader.grading.isolated`),
   leaving flagged answer cells out, and makes each test cell's outputs agree with that verdict:
   nbgrader's own scoring (an error output = 0 points) then records the trusted result.

Student code runs nowhere else: not in nbgrader's process, not as the grading account.

Flags and grading notes go into a markdown cell at the top of the autograded notebook (and so into
the feedback), into the notebook's metadata under ``course_grading`` for ``course_grader.pipeline flags``,
and into nbgrader's log.
"""

from __future__ import annotations

import time

import nbformat
from nbconvert.preprocessors.sanitize import SanitizeHTML
from nbgrader.api import Gradebook
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Any, Bool, Float, Int, List, Unicode

from course import cells
from course.checks.messages import render
from course.language import graded_in, use_language
from course_grader.grading.isolated import grade_notebook, warm_up
from course_grader.grading.kernel_run import run_kernel
from course_grader.grading.sandbox import DEFAULT_LIMITS, Limits, sandbox
from course_grader.grading.scan import scan_notebook
from course_grader.intake import INTAKE_KEY

NOTE_MARKER = "course-grading-notes"


class _SchemaCheckedOnce:
    """``jsonschema`` for nbgrader's metadata validator, whose ``validate`` checks the schema itself before every
    cell (``jsonschema.validate`` does: 0.15-0.25 s a notebook, twice a submission). Here a schema is checked the
    first time and its validator kept; each cell's metadata is validated as before, with the same errors."""

    def __init__(self, module):
        self._module = module
        self._validators: dict[int, tuple[dict, object]] = {}  # id(schema) -> (the schema, kept alive; validator)

    def __getattr__(self, name: str):
        return getattr(self._module, name)

    def validate(self, instance, schema, *args, **kwargs):
        if args or kwargs:  # another validator class or format checker: as jsonschema itself does it
            return self._module.validate(instance, schema, *args, **kwargs)
        known = self._validators.get(id(schema))
        if known is None or known[0] is not schema:
            kind = self._module.validators.validator_for(schema)
            kind.check_schema(schema)
            known = self._validators[id(schema)] = (schema, kind(schema))
        error = self._module.exceptions.best_match(known[1].iter_errors(instance))
        if error is not None:
            raise error


def check_metadata_schema_once() -> None:
    """Install :class:`_SchemaCheckedOnce` in nbgrader's metadata validator (every door to grading imports this
    module through ``nbgrader_config.py``: ``make autograde``, the pipeline, the formgrader's button)."""
    from nbgrader.nbgraderformat import common

    if not isinstance(common.jsonschema, _SchemaCheckedOnce):
        common.jsonschema = _SchemaCheckedOnce(common.jsonschema)


check_metadata_schema_once()


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
            traceback=[render("Graded in a separate process, this test failed: {message}", message=message)]))
    cell.outputs = kept


def trusted_verdicts(nb, cell_timeout: float = 60.0, *, budget: float = 900.0, limits: Limits = DEFAULT_LIMITS,
                     unsafe: bool = False):
    """The grade without the kernel: the tamper scan, then every test cell re-run in the verdict sandbox.

    Returns the scan's findings, the isolated grader's report (one verdict per test cell) and the
    answer cells left out because they were flagged (with why).
    """
    findings = scan_notebook(nb)
    answer_ids = {cells.grade_id(c) for c in nb.cells if cells.is_answer(c)}
    exclude: dict[str, str] = {}
    for f in findings:
        if f.cell_id in answer_ids:
            exclude.setdefault(f.cell_id, render("it was flagged: {message}", message=f.message))
    report = grade_notebook(nb, cell_timeout=cell_timeout, exclude=exclude, budget=budget, limits=limits,
                            unsafe=unsafe)
    return findings, report, exclude


def show_printed(cell, printed: str) -> None:
    """A test cell graded without a kernel: its outputs are what it printed in the isolated worker."""
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)] if printed else []
    cell.execution_count = None


class TrustedExecute(Execute):
    """nbgrader's Execute, made trustworthy (module docstring); every option below is set in ``nbgrader_config.py``.

    ``run_kernel = False`` (``course_grader.pipeline autograde --no-kernel``) skips the kernel run: the
    grade is the same (it never came from the kernel), every visible and hidden test still runs in the
    verdict sandbox, and the feedback shows each test cell's verdict and what it printed there, but no
    outputs of the other cells. For grading a class fast.
    """

    run_kernel = Bool(True, help="run the notebook in a kernel for the feedback's outputs (the grade never "
                                 "depends on it)").tag(config=True)
    unsafe_no_sandbox = Bool(False, help="grade without the bubblewrap sandbox: student code then runs as the "
                                         "grading account and can reach the course folder (the feedback says "
                                         "so); only for a machine without bubblewrap").tag(config=True)
    submission_seconds = Float(900.0, help="wall-clock budget of one submission, for the kernel run and for the "
                                           "graded run each; a test not run by then scores zero").tag(config=True)
    memory_mb = Int(Limits.memory_mb, help="address space of each process of a submission (MiB)").tag(config=True)
    disk_mb = Int(Limits.work_mb, help="size of a submission's writable folder and of its /tmp (MiB each)"
                  ).tag(config=True)
    processes = Int(Limits.processes, help="processes a submission may have at once (as root, where the "
                                           "sandbox has a user of its own)").tag(config=True)

    def limits(self) -> Limits:
        return Limits(memory_mb=self.memory_mb, cpu_seconds=int(self.submission_seconds), work_mb=self.disk_mb,
                      tmp_mb=self.disk_mb, processes=self.processes)

    def preprocess(self, nb, resources):
        with use_language(graded_in(nb)):  # the checks, the judge forked here and every sandbox job speak it
            return self._preprocess(nb, resources)

    def _preprocess(self, nb, resources):
        limits, unsafe = self.limits(), self.unsafe_no_sandbox
        warm_up(nb)  # the judge's imports overlap the kernel run
        kernel_problem = ""
        started = time.perf_counter()
        if self.run_kernel:
            metadata = resources.get("metadata", {})
            name = metadata.get("name")
            kernel_problem = run_kernel(nb, sandbox("kernel", limits=limits, unsafe=unsafe),
                                        folder=metadata.get("path"), notebook_name=f"{name}.ipynb" if name else None,
                                        cell_timeout=float(self.timeout or 60), budget=self.submission_seconds)
            if kernel_problem:
                self.log.warning("kernel problem: %s", kernel_problem)

        kernel_seconds = time.perf_counter() - started
        findings, report, exclude = trusted_verdicts(nb, cell_timeout=float(self.timeout or 60),
                                                     budget=self.submission_seconds, limits=limits, unsafe=unsafe)
        trusted_seconds = time.perf_counter() - started - kernel_seconds

        kernel_passed = {}
        for cell in nb.cells:
            if not cells.is_test(cell):
                continue
            grade_id = cells.grade_id(cell)
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
        notes += [render("- cell `{cell}` line {line}: {message} ({rule})", cell=f.cell_id, line=f.line,
                         message=f.message, rule=f.rule) for f in findings]
        notes += [render("- answer cell `{cell}` was not graded: {why}", cell=cid, why=why)
                  for cid, why in report.excluded.items() if cid not in exclude]
        if kernel_problem:
            notes.append(f"- {kernel_problem}")
        if report.over_budget:
            notes.append(render("- the graded run used up the submission's {seconds:g} s: the tests it had not "
                                "reached score zero", seconds=self.submission_seconds))
        if unsafe:
            notes.append(render("- graded WITHOUT the sandbox (unsafe_no_sandbox): this submission's code ran as the "
                                "grading account"))
        nb.metadata["course_grading"] = {
            "flags": [f.__dict__ for f in findings],
            "excluded": report.excluded,
            "kernel_problem": kernel_problem,
            "failed_tests": {k: v.message for k, v in report.verdicts.items() if not v.passed},
            "intake": intake,  # what course_grader.intake found wrong with the file itself
            "kernel_passed": kernel_passed,  # what plain nbgrader would have scored: cheats show up here
            "kernel_run": bool(self.run_kernel),
            "over_budget": report.over_budget,
            "sandbox": "none (unsafe_no_sandbox)" if unsafe else "bubblewrap",
            # where the time went (benchmarks/autograde_throughput.py adds them up)
            "seconds": {"kernel": round(kernel_seconds, 3), "trusted": round(trusted_seconds, 3)},
        }
        for line in notes:
            self.log.warning("%s: %s", resources.get("nbgrader", {}).get("student", "?"), line)
        if not self.run_kernel:
            notes.append(render("- graded without running the notebook in a kernel: every test ran in the grader and "
                                "shows its verdict and what it printed; the other cells show no output"))
        if notes:
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(
                render("**Grading notes** (read these first)") + "\n\n" + "\n".join(notes),
                metadata={"tags": [NOTE_MARKER]}))
        return nb, resources


class SanitizeStudentMarkup(NbGraderPreprocessor, SanitizeHTML):
    """What a submission produced, made inert before the feedback and the formgrader show it.

    nbconvert's ``SanitizeHTML`` (bleach) on every output (HTML and markdown outputs cleaned; JavaScript, SVG
    and widget outputs dropped) and on every markdown cell that is not, word for word, one of the
    instructor's (the gradebook's source cells, which nbgrader restored): a cell a student wrote or added,
    even one that claims nbgrader's ``locked`` flag, is cleaned; the instructor's cells keep their markup
    (their hints are ``<details>``, which a page-wide ``sanitize_html`` would turn into text). Runs right
    after :class:`TrustedExecute`, so the autograded notebook itself is clean for every page that shows it.
    """

    tags = List(Unicode(), default_value=[
        "a", "abbr", "b", "blockquote", "br", "code", "details", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6",
        "hr", "i", "li", "ol", "p", "pre", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th",
        "thead", "tr", "ul"]).tag(config=True)
    attributes = Any(default_value={"*": ["class", "title"], "a": ["href", "title"], "abbr": ["title"]}
                     ).tag(config=True)

    def preprocess(self, nb, resources):
        self._instructors = set()
        info = resources.get("nbgrader", {})
        try:
            with Gradebook(info["db_url"], info.get("course_id", "")) as gb:
                notebook = gb.find_notebook(info["notebook"], info["assignment"])
                self._instructors = {c.source for c in notebook.source_cells if c.cell_type == "markdown"}
        except Exception:  # noqa: BLE001 - no gradebook entry: every markdown cell is cleaned
            self.log.warning("no source cells in the gradebook: every markdown cell is sanitised")
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "markdown" and cell.source in self._instructors:
            return cell, resources
        return super().preprocess_cell(cell, resources, cell_index)
