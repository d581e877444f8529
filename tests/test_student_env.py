"""`python -m course.student_env lock` hides and locks nbgrader's instructor tools.

Run against a throw-away virtual environment that sees this environment's packages through a
.pth file, so the lock writes into the throw-away env's own etc/jupyter and nothing else.
"""

import json
import re
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from course_grader.pipeline import ROOT

from course.student_env import INSTRUCTOR_LAB_PLUGINS, INSTRUCTOR_SERVER_EXTENSIONS


@pytest.mark.slow
def test_lock_disables_and_locks_instructor_tools(tmp_path):
    env_dir = tmp_path / "student"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    purelib = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (tmp_path / "student" / purelib.split(str(env_dir) + "/", 1)[1] / "parent.pth").write_text(
        "\n".join([*site.getsitepackages(), str(ROOT)]) + "\n")
    # what pip installed into this env's etc/jupyter (nbgrader enables its server extensions there)
    shutil.copytree(Path(sys.prefix) / "etc" / "jupyter", env_dir / "etc" / "jupyter")
    subprocess.run([py, "-m", "course.student_env", "lock"], check=True, capture_output=True, cwd=tmp_path)

    page = json.loads((env_dir / "etc/jupyter/labconfig/page_config.json").read_text())
    for plugin in INSTRUCTOR_LAB_PLUGINS:
        assert page["disabledExtensions"].get(plugin) is True, plugin
        assert page["lockedExtensions"].get(plugin) is True, plugin
    assert "@jupyter/nbgrader:validate-assignment" not in page["disabledExtensions"]

    listing = subprocess.run([py, "-m", "jupyter_server.extension.serverextension", "list"],
                             capture_output=True, text=True, cwd=tmp_path)
    states = {}
    for line in re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] in ("enabled", "disabled"):
            states[parts[0]] = parts[1]
    for ext in INSTRUCTOR_SERVER_EXTENSIONS:
        assert states.get(ext) == "disabled", (ext, states)
    assert states.get("nbgrader.server_extensions.validate_assignment") == "enabled", states
    assert states.get("nbgrader.server_extensions.assignment_list") == "enabled", states


def test_lock_cli_usage():
    proc = subprocess.run([sys.executable, "-m", "course.student_env"], capture_output=True, text=True)
    assert proc.returncode != 0 and "usage" in proc.stderr


def test_write_config_locks_the_same_tools(tmp_path):
    """The config-folder form of the lockdown (used to start a student's lab from this env)."""
    from course.student_env import write_config

    write_config(tmp_path)
    page = json.loads((tmp_path / "labconfig/page_config.json").read_text())
    assert set(page["disabledExtensions"]) == set(page["lockedExtensions"]) == set(INSTRUCTOR_LAB_PLUGINS)
    server = json.loads((tmp_path / "jupyter_server_config.json").read_text())
    assert server["ServerApp"]["jpserver_extensions"] == {e: False for e in INSTRUCTOR_SERVER_EXTENSIONS}
