"""The suite relies on ``--dist loadgroup`` (make test): tests marked ``xdist_group`` share one
worker, so an expensive module fixture (a graded course, a JupyterLab server, a hub) is built once.

pytest 9.2 silently broke that with pytest-xdist 3.8 (xdist issue #1386): every worker built the
fixture again and the suite ran minutes longer with every test still green. This test fails if the
pinned pair stops grouping.
"""

from __future__ import annotations

import subprocess
import sys

GROUPED = '''
import os
import pytest


@pytest.fixture(scope="module")
def built():
    with open("setups.log", "a") as log:
        log.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")


@pytest.mark.xdist_group("one")
@pytest.mark.parametrize("n", range(6))
def test_grouped(built, n):
    pass
'''

SPREAD = '''
import pytest


@pytest.mark.parametrize("n", range(20))
def test_spread(n):
    pass
'''


def test_a_group_runs_on_one_worker_and_builds_its_fixture_once(tmp_path):
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    (tmp_path / "test_spread.py").write_text(SPREAD)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    setups = (tmp_path / "setups.log").read_text().split()
    assert len(setups) == 1, f"the grouped module's fixture was built on {setups}: --dist loadgroup does not group"
