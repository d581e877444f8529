"""Grade a notebook's test cells in isolated worker processes, out of the student's kernel.

What the student's kernel reports is not trusted: code in the notebook can patch the functions
the tests call, rewrite later cells with IPython hooks, or kill the kernel. Here the set-up cell,
the student's answer cells and each test cell are run by :mod:`course_grader.grading.runtime.worker`
in a process that has no IPython, with a time limit per cell and a budget for the whole submission,
inside the verdict sandbox (:mod:`course_grader.grading.sandbox`): forked from its warm server (torch
and the checks already imported, no student code ever run there). If a cell hangs, kills the worker
or tampers with library functions, that cell is charged for it (a hung or killing answer cell is
left out, so only the tests that need it fail) and the worker is restarted for the remaining
cells. Only code in answer cells is graded: cells a student adds are not run here.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field

import nbformat

from course import cells
from course.checks.messages import render
from course_grader.grading import judge
from course_grader.grading.runtime.imports import imports_of
from course_grader.grading.sandbox import DEFAULT_LIMITS, Limits, LineReader, Sandbox, sandbox

START_UP_SECONDS = 60.0  # importing torch on a busy 2-core machine


@dataclass(frozen=True)
class Step:
    kind: str  # "answer" | "test"
    id: str
    source: str


@dataclass
class Verdict:
    grade_id: str
    passed: bool
    message: str = ""
    printed: str = ""  # what the test cell printed in the worker (the feedback's output when no kernel ran)


@dataclass
class Report:
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)  # answer cell id -> why it was left out
    answer_errors: dict[str, str] = field(default_factory=dict)
    restarts: int = 0
    over_budget: bool = False


def job_from_notebook(nb: nbformat.NotebookNode) -> tuple[str, list[Step]]:
    """The set-up cell (:func:`course.cells.setup_cell`) and the answer/test cells in notebook order."""
    setup = cells.setup_cell(nb.cells)
    steps = [Step(cells.kind(c), cells.grade_id(c), c.source) for c in nb.cells
             if cells.is_answer(c) or cells.is_test(c)]
    return (setup.source if setup is not None else ""), steps


def _events(lines: LineReader, steps: list[Step], cell_timeout: float, deadline: float, exit_code):
    """The events on ``lines``, until the last step's; ("hung"|"died"|"budget", id) when they stop coming in time.

    A ``start`` event names the step now running and restarts its clock (``cell_timeout``); ``deadline`` is the
    submission's budget; ``exit_code()`` says how the process that ran the student's code ended."""
    current = "<set-up>"
    cell_deadline = time.monotonic() + START_UP_SECONDS + cell_timeout
    while True:
        line = lines.next(min(cell_deadline, deadline))
        if line is LineReader.TIMEOUT:
            yield {"id": current, "budget" if time.monotonic() >= deadline else "hung": True}
            return
        if line is None:
            yield {"id": current, "died": True, "code": exit_code()}
            return
        try:
            event = json.loads(line)
            if not isinstance(event, dict) or not isinstance(event.get("id"), str):
                raise ValueError
        except ValueError:
            yield {"id": current, "died": True, "code": "an unreadable result"}
            return
        if event.get("start"):
            current, cell_deadline = event["id"], time.monotonic() + cell_timeout
            continue
        if "died" in event and event.get("code") is None:  # the judge saw the agent go: ask how it ended
            code = exit_code()
            event["code"] = code if code is not None else event.get("why", "no exit code")
        yield event
        if not steps or event["id"] == steps[-1].id:
            return


def _run_remote(setup: str, steps: list[Step], cell_timeout: float, box: Sandbox, deadline: float):
    """The verdict outside: the agent runs the answer cells in the sandbox; the judge (:mod:`.judge`), forked
    here, runs the test cells, asks the agent for the student's objects and alone writes the events."""
    payload = {"setup": setup, "steps": [{"kind": s.kind, "id": s.id, **({"source": s.source} if s.kind == "answer"
                                                                          else {})} for s in steps]}
    with box.job("agent", payload, duplex=True) as (pid, sock):  # the test cells never enter the sandbox
        if sock is None:
            yield {"id": "<set-up>", "died": True, "code": "the sandbox stopped"}
            return
        judge_pid, read_fd = judge.fork_judge(sock, setup, [s.__dict__ for s in steps])
        try:
            yield from _events(LineReader(read_fd), steps, cell_timeout, deadline,
                               lambda: box.exit_code(pid, wait=1.0))
        finally:
            judge.kill_judge(judge_pid)
            os.close(read_fd)


def warm_up(nb: nbformat.NotebookNode) -> tuple[str, ...]:
    """Start the judge's imports for this notebook (what its set-up and test cells import); those modules."""
    return _warm_up(*job_from_notebook(nb))


def _warm_up(setup: str, steps: list[Step]) -> tuple[str, ...]:
    modules = tuple(imports_of(setup, *(s.source for s in steps if s.kind == "test")))
    judge.warm_up(list(modules))
    return modules


def grade_notebook(nb: nbformat.NotebookNode, *, cell_timeout: float = 60.0, exclude: dict[str, str] | None = None,
                   budget: float = 900.0, limits: Limits = DEFAULT_LIMITS, unsafe: bool = False) -> Report:
    """Run every test cell of ``nb``; ``exclude`` names answer cells not to run (with why).

    ``budget``: seconds for the whole submission; once spent, the tests not yet run fail with a note.
    """
    setup, steps = job_from_notebook(nb)
    modules = _warm_up(setup, steps)  # the judge's imports, beside the sandbox's start
    sandbox("verdict", limits=limits, unsafe=unsafe, preload=modules)  # started once per process, before the budget
    deadline = time.monotonic() + budget
    tests = [s for s in steps if s.kind == "test"]
    report = Report(excluded=dict(exclude or {}))
    for attempt in range(len(steps) + 2):
        todo = [s for s in steps if (s.kind == "answer" and s.id not in report.excluded)
                or (s.kind == "test" and s.id not in report.verdicts)]
        if not any(s.kind == "test" for s in todo):
            break
        report.restarts = attempt
        if time.monotonic() >= deadline:
            for t in tests:
                report.verdicts.setdefault(t.id, Verdict(t.id, False, _over_budget(budget)))
            break
        box = sandbox("verdict", limits=limits, unsafe=unsafe)  # a new one if a submission killed the last
        for event in _run_remote(setup, todo, cell_timeout, box, deadline):
            step_id = event["id"]
            kind = next((s.kind for s in steps if s.id == step_id), "setup")
            if "budget" in event:
                for t in tests:
                    report.verdicts.setdefault(t.id, Verdict(t.id, False, _over_budget(budget)))
                report.over_budget = True
                break
            if "tamper" in event or "hung" in event or "died" in event:
                why = _failure_reason(event, cell_timeout)
                if kind == "answer":
                    report.excluded[step_id] = why
                elif kind == "test":
                    report.verdicts[step_id] = Verdict(step_id, False, why)
                else:  # the set-up cell itself failed: nothing can be graded
                    for t in tests:
                        report.verdicts.setdefault(t.id, Verdict(t.id, False,
                                                                 render("the set-up cell failed: {why}", why=why)))
                break
            if kind == "setup" and not event["ok"]:
                for t in tests:
                    report.verdicts.setdefault(t.id, Verdict(t.id, False, render("the set-up cell failed: {why}",
                                                                                   why=event["error"])))
                break
            if kind == "answer" and not event["ok"]:
                report.answer_errors[step_id] = event["error"]
            elif kind == "test":
                printed = event.get("printed")
                report.verdicts[step_id] = Verdict(step_id, event["ok"], event.get("error", ""),
                                                   printed if isinstance(printed, str) else "")
    for t in tests:  # a test that never got to run (should not happen) fails rather than passes
        report.verdicts.setdefault(t.id, Verdict(t.id, False, render("the grader could not run this test")))
    for step_id, why in report.excluded.items():
        for t in _tests_after(steps, step_id):
            v = report.verdicts[t]
            if not v.passed:
                v.message = render("answer cell {cell} was not run because {why}", cell=step_id, why=why)
    return report


def _tests_after(steps: list[Step], answer_id: str) -> list[str]:
    """Test cells between an answer cell and the next answer cell: the tests of that exercise."""
    ids, seen = [], False
    for s in steps:
        if s.id == answer_id:
            seen = True
        elif seen and s.kind == "answer":
            break
        elif seen:
            ids.append(s.id)
    return ids


def _over_budget(budget: float) -> str:
    return render("the submission used up its grading time ({seconds:g} s) before this test ran", seconds=budget)


def _failure_reason(event: dict, cell_timeout: float) -> str:
    if "tamper" in event:
        return render("it changed library functions the tests rely on ({names})", names=", ".join(event["tamper"]))
    if "hung" in event:
        return render("it did not finish within {seconds:g} s", seconds=cell_timeout)
    code = event.get("code")
    if isinstance(code, str):
        return render("its process stopped answering ({why})", why=code)
    return render("it ended the Python process (exit code {code})", code=code)
