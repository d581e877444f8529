"""Kernels forked from the warm server behave like the cold kernels nbgrader would start.

Each notebook gets a kernel process of its own, in the directory and environment nbgrader gives
it; a kernel that exits, hangs or is killed is seen by nbclient exactly as a cold one would be,
and no kernel outlives the client nbgrader started.
"""

from __future__ import annotations

import os
import time

import nbformat
import pytest
from course_grader.grading import warm_kernel
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

PROBE = ("import os, sys\nprint(os.getcwd(), os.environ.get('PROBE_VALUE'), 'torch' in sys.modules,"
         " any(n.split('.')[0] in ('course', 'course_grader') for n in sys.modules))\nprint(sys.path)\nprint(os.getpid())")


def notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources],
                                    metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                             "language": "python"}})


def run(nb, folder, warm: bool, timeout: float = 60, **kw):
    os.environ["COURSE_WARM_KERNEL"] = "1" if warm else "0"
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(folder)}},
                                kernel_manager_class=warm_kernel.WarmKernelManager, **kw)
        client.execute()
        return client
    finally:
        os.environ.pop("COURSE_WARM_KERNEL", None)


def text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_warm_kernel_runs_in_nbgraders_directory_and_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PROBE_VALUE", "from-nbgrader")
    cold, warm = notebook(PROBE), notebook(PROBE)
    run(cold, tmp_path, warm=False)
    run(warm, tmp_path, warm=True)
    cold_line, warm_line = (text(nb.cells[0]).splitlines()[0] for nb in (cold, warm))
    assert cold_line == f"{tmp_path} from-nbgrader False False"
    # the same, with torch already imported; the course's modules are imported afresh, as cold
    assert warm_line == f"{tmp_path} from-nbgrader True False"
    assert text(cold.cells[0]).splitlines()[1] == text(warm.cells[0]).splitlines()[1]  # the same sys.path
    assert warm_kernel.server_socket() is not None
    assert int(text(warm.cells[0]).split()[-1]) != warm_kernel._server.proc.pid


def test_a_module_the_submission_ships_shadows_the_course_as_in_a_cold_kernel(tmp_path):
    (tmp_path / "course_grader").mkdir()
    (tmp_path / "course_grader" / "__init__.py").write_text("SHIPPED = True\n")
    nb = notebook("import course_grader\nprint(getattr(course_grader, 'SHIPPED', False))")
    run(nb, tmp_path, warm=True)
    assert text(nb.cells[0]).strip() == "True"


def test_each_notebook_gets_its_own_kernel(tmp_path):
    first, second = notebook("x = 41\nimport os; print(os.getpid())"), notebook("print(globals().get('x'))")
    run(first, tmp_path, warm=True)
    run(second, tmp_path, warm=True)
    assert text(second.cells[0]).strip() == "None"


def test_a_kernel_that_exits_is_a_dead_kernel(tmp_path):
    with pytest.raises(DeadKernelError):
        run(notebook("import os\nos._exit(3)", "print('after')"), tmp_path, warm=True)


def test_a_hanging_cell_times_out_and_the_kernel_is_interrupted(tmp_path):
    nb = notebook("import os; print(os.getpid())", "import time\ntime.sleep(60)", "print('still here')")
    start = time.monotonic()
    with pytest.raises(CellTimeoutError):
        run(nb, tmp_path, warm=True, timeout=3)
    assert time.monotonic() - start < 40
    pid = int(text(nb.cells[0]))
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(pid), "the kernel outlived its client"


def test_interrupt_reaches_the_forked_kernel(tmp_path):
    nb = notebook("import os; print(os.getpid())",
                  "import time\ntry:\n    time.sleep(60)\nexcept KeyboardInterrupt:\n    print('interrupted')",
                  "print('next cell')")
    run(nb, tmp_path, warm=True, timeout=3, interrupt_on_timeout=True, allow_errors=True)
    assert "interrupted" in text(nb.cells[1])
    assert text(nb.cells[2]).strip() == "next cell"


def test_cold_when_switched_off(monkeypatch):
    monkeypatch.setenv("COURSE_WARM_KERNEL", "0")
    assert warm_kernel.server_socket() is None
