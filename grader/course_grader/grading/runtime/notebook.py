"""The kernel run: execute a submission's notebook top to bottom, inside the sandbox, for the feedback.

The grade never comes from here (the verdict is the judge's, :mod:`course_grader.grading.judge`); this run
only gives the feedback the student's outputs and figures. The notebook arrives without its hidden tests;
the executed notebook goes back on the job's result descriptor as one JSON line, which the supervisor
validates and bounds before it takes any output from it (:func:`course_grader.grading.kernel_run.merge_outputs`).
"""

from __future__ import annotations

import json
import os


def main(fd: int, payload: dict) -> None:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    from .kernel import manager_class

    out = os.fdopen(fd, "w")
    nb = nbformat.reads(payload["notebook"], as_version=4)
    client = NotebookClient(
        nb, timeout=payload.get("timeout", 180), kernel_name="python3", allow_errors=True,
        interrupt_on_timeout=True, raise_on_iopub_timeout=True, record_timing=False,
        shutdown_kernel="immediate",  # every output is in: no graceful shutdown to wait for (0.15 s a run)
        extra_arguments=["--HistoryManager.hist_file=:memory:", "--HistoryManager.enabled=False"],
        kernel_manager_class=manager_class(), resources={"metadata": {"path": os.getcwd()}})
    problem = ""
    try:
        client.execute()
    except (CellTimeoutError, DeadKernelError, RuntimeError) as err:
        problem = type(err).__name__
    out.write(json.dumps({"notebook": nbformat.writes(nb), "problem": problem}) + "\n")
    out.flush()
