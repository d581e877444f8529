import os
import sys
from pathlib import Path

import matplotlib
from course_grader.grading.runtime.imports import skip_unused

skip_unused()  # two seconds of jsonschema's import per test worker, for a string format no notebook uses
matplotlib.use("Agg")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # tools/ (authoring helpers), also under plain `pytest`


import pytest  # noqa: E402
import torch  # noqa: E402

# The grader forks its judge from the process that grades (here, a test worker): a torch whose OpenMP pool has
# run in that process hangs in the forked child. Tests run their tiny models on one intra-op thread anyway.
torch.set_num_threads(1)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models on a shared 2-core machine: one intra-op thread avoids oversubscription stalls.

    Use with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
