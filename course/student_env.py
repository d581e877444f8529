"""Turn an environment into a student environment: the instructor's nbgrader tools are hidden.

Students keep the Validate button and the assignment list; the formgrader and the
create-assignment toolbar are disabled *and locked* in this environment's own config
(``<env>/etc/jupyter``), so a student cannot switch them back on from the Extension Manager,
and the formgrader's server extension is disabled (``/formgrader`` answers 404).

    python -m course.student_env lock
"""

from __future__ import annotations

import subprocess
import sys

from course.pipeline import environment

INSTRUCTOR_LAB_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                          "@jupyter/nbgrader:course-list")
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")


def _run(module: str, *args: str) -> None:
    # the apps' own modules, not `jupyter <sub>`, which looks for a jupyter-<sub> script on PATH
    subprocess.run([sys.executable, "-m", module, *args], check=True, env=environment())


def lock() -> None:
    for plugin in INSTRUCTOR_LAB_PLUGINS:
        _run("jupyterlab.labextensions", "disable", "--level=sys_prefix", plugin)
        _run("jupyterlab.labextensions", "lock", "--level=sys_prefix", plugin)
    for ext in INSTRUCTOR_SERVER_EXTENSIONS:
        _run("jupyter_server.extension.serverextension", "disable", "--sys-prefix", ext)


if __name__ == "__main__":
    if sys.argv[1:] != ["lock"]:
        sys.exit("usage: python -m course.student_env lock")
    lock()
