"""Turn an environment into a student environment: the instructor's nbgrader tools are hidden.

Students keep the Validate button and the assignment list; the formgrader and the
create-assignment toolbar are disabled *and locked* in this environment's own config
(``<env>/etc/jupyter``), so a student cannot switch them back on from the Extension Manager,
and the formgrader's server extension is disabled (``/formgrader`` answers 404).

    python -m course.student_env lock
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

INSTRUCTOR_LAB_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                          "@jupyter/nbgrader:course-list")
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")


def _run(module: str, *args: str) -> None:
    # the apps' own modules, not `jupyter <sub>`, which looks for a jupyter-<sub> script on PATH
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    subprocess.run([sys.executable, "-m", module, *args], check=True, env=env)


def lock() -> None:
    for plugin in INSTRUCTOR_LAB_PLUGINS:
        _run("jupyterlab.labextensions", "disable", "--level=sys_prefix", plugin)
        _run("jupyterlab.labextensions", "lock", "--level=sys_prefix", plugin)
    for ext in INSTRUCTOR_SERVER_EXTENSIONS:
        _run("jupyter_server.extension.serverextension", "disable", "--sys-prefix", ext)


def write_config(config_dir) -> None:
    """The same lockdown as a Jupyter config folder (for ``JUPYTER_CONFIG_DIR``), leaving the env untouched.

    Used to start a student's JupyterLab from the instructor's environment, e.g. in the browser test.
    """
    import json
    from pathlib import Path

    config_dir = Path(config_dir)
    (config_dir / "labconfig").mkdir(parents=True, exist_ok=True)
    page = {"disabledExtensions": {p: True for p in INSTRUCTOR_LAB_PLUGINS},
            "lockedExtensions": {p: True for p in INSTRUCTOR_LAB_PLUGINS}}
    (config_dir / "labconfig" / "page_config.json").write_text(json.dumps(page, indent=1))
    server = {"ServerApp": {"jpserver_extensions": {e: False for e in INSTRUCTOR_SERVER_EXTENSIONS}}}
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(server, indent=1))


if __name__ == "__main__":
    if sys.argv[1:] != ["lock"]:
        sys.exit("usage: python -m course.student_env lock")
    lock()
