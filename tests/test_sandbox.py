"""The grading sandbox from inside (issue 29): what student code can and cannot reach.

Each test runs code as an answer cell in the verdict sandbox (or a notebook in the kernel sandbox), the
way a submission's code runs while it is graded, and reads back what a test cell printed there. The
code knows every path a student could guess: the checkout, the course folder, the gradebook.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import nbformat
import pytest
from course_grader.grading import sandbox as sb
from course_grader.grading.kernel_run import run_kernel
from course_grader.grading.runtime import wire
from notebooks import ROOT

pytestmark = pytest.mark.skipif(sb.bwrap() is None, reason="needs bubblewrap (make sandbox)")
LIMITS = sb.Limits(memory_mb=3072, work_mb=32, tmp_mb=32, file_mb=8, processes=48, cpu_seconds=120)


@pytest.fixture(scope="module")
def verdict_box():
    box = sb.Sandbox("verdict", limits=LIMITS)
    yield box
    box.close()


def run(box: sb.Sandbox, answer: str, probe: str = "", timeout: float = 60) -> dict:
    """Run ``answer``, then ``probe``, as answer cells of the student's side of a graded run (the agent); the
    events, with what the probe printed there. The probe's output comes back as a name it defines (``PROBE``),
    the way the judge gets every name the student's code defines."""
    capture = (f"import contextlib as _c, io as _io\n_buf = _io.StringIO()\nwith _c.redirect_stdout(_buf):\n"
               f"    exec({probe!r}, globals())\nPROBE = _buf.getvalue()\n")
    steps = [{"kind": "answer", "id": "attack", "source": answer}, {"kind": "answer", "id": "probe", "source": capture},
             {"kind": "test", "id": "t"}]
    events, deadline = {}, time.monotonic() + timeout
    with box.job("agent", {"setup": "", "steps": steps}, duplex=True) as (_, sock):
        while sock is not None:
            try:
                message, blob = wire.receive(sock, deadline)
            except (TimeoutError, EOFError, OSError, wire.ProtocolError):
                break
            if message.get("id") == "<names>":
                names = wire.Decoder(blob, lambda ref: None).value(message["names"])
                events.setdefault("probe", {})["printed"] = names.get("PROBE", "")
                break
            if "start" not in message:
                events[message["id"]] = message
    return events


def printed(events: dict) -> str:
    return events.get("probe", {}).get("printed", "")


def test_runs_as_an_unprivileged_user_of_its_own(verdict_box):
    out = printed(run(verdict_box, "", "import os\nprint(os.getuid(), os.getgid(), os.getgroups())"))
    uid, gid = (int(x) for x in out.split()[:2])
    assert uid not in (0, os.getuid()) or os.geteuid() != 0, out
    assert uid >= sb.UID_BASE or os.geteuid() != 0
    assert gid == uid or os.geteuid() != 0


def test_sees_nothing_of_the_course_folder_the_checkout_or_root(verdict_box, tmp_path):
    secret = tmp_path / "gradebook.db"
    secret.write_text("grades")
    paths = [str(ROOT / "source"), str(ROOT / "solutions"), str(ROOT / "nbgrader_config.py"), str(ROOT / ".git"),
             str(ROOT / "grader" / "course_grader" / "grading"), str(secret), "/home", "/etc/shadow", "/etc/passwd"]
    # the home folders: nothing of them but the Python installation the sandbox runs (pyenv's, under /root)
    paths += [str(p) for p in Path("/root").iterdir() if not sb._inside(Path(sys.base_prefix), [p])]
    code = f"import os\nfor p in {paths!r}:\n    print(p, os.path.exists(p))"
    out = printed(run(verdict_box, "", code))
    assert out.count(" False") == len(paths), out


def test_everything_outside_its_own_folders_is_read_only(verdict_box):
    import course

    target = Path(course.__file__).resolve().parent / "attack.py"
    code = ("import course, errno, os\n"
            f"for path in ({str(target)!r}, os.path.join(os.path.dirname(course.__file__), 'attack.py')):\n"
            "    try:\n        open(path, 'w').write('x')\n        print('written')\n"
            "    except OSError as e:\n        print(errno.errorcode[e.errno])\n")
    out = printed(run(verdict_box, "", code)).split()
    assert len(out) == 2 and out[0] in ("ENOENT", "EROFS", "EACCES") and out[1] in ("EROFS", "EACCES"), out
    assert not target.exists()


def test_no_sandbox_holds_any_of_the_grader_not_even_its_checks(verdict_box):
    """The hidden checks run in the judge, outside: neither sandbox can read them."""
    probe = ("import importlib.util\nfor m in ('course_grader.checks', 'course_grader.grading', 'course_grader.pipeline'):\n"
             "    try:\n        print(m, importlib.util.find_spec(m) is not None)\n"
             "    except ModuleNotFoundError:\n        print(m, False)\n")
    out = printed(run(verdict_box, "", probe))
    assert out.count("False") == 3, out
    kernel = sb.Sandbox("kernel", limits=LIMITS)
    try:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(probe)])
        assert run_kernel(nb, kernel, folder=None, notebook_name=None, cell_timeout=60, budget=120) == ""
        text = "".join(o.get("text", "") for o in nb.cells[0].outputs)
        assert text.count("False") == 3, text
    finally:
        kernel.close()


def test_no_network_not_even_this_machines_loopback(verdict_box):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    try:
        code = (f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
                "    print('connected')\nexcept OSError as e:\n    print(type(e).__name__)\n")
        assert printed(run(verdict_box, "", code)).strip() in ("ConnectionRefusedError", "OSError", "TimeoutError")
    finally:
        listener.close()


def test_a_process_left_running_dies_before_the_next_job(verdict_box):
    leave = ("import os, subprocess\nsubprocess.Popen(['sleep', '300'], start_new_session=True)\n"
             "open('/tmp/left-behind', 'w').write('x')\n")
    run(verdict_box, leave, "")
    probe = ("import os\nme = os.getpid()\nprint(sorted(open(f'/proc/{p}/comm').read().strip() for p in os.listdir('/proc')"
             " if p.isdigit() and int(p) not in (1, me)), os.path.exists('/tmp/left-behind'))")
    out = printed(run(verdict_box, "", probe))
    assert "sleep" not in out and out.strip().endswith("False"), out


def test_memory_is_bounded(verdict_box):
    code = ("try:\n    block = bytearray(6 << 30)\n    print('allocated')\nexcept MemoryError:\n    print('refused')\n")
    assert printed(run(verdict_box, "", code)).strip() == "refused"


def test_disk_is_bounded_and_private(verdict_box):
    code = ("import errno\nfor path in ('big', '/tmp/big'):\n    try:\n        with open(path, 'wb') as f:\n"
            "            for _ in range(64):\n                f.write(b'0' * (1 << 20))\n        print('wrote')\n"
            "    except OSError as e:\n        print(errno.errorcode[e.errno])\n")
    out = printed(run(verdict_box, "", code)).split()
    assert out and "wrote" not in out, out  # ENOSPC (the folder is 32 MiB) or EFBIG (a file over 8 MiB)


@pytest.mark.skipif(os.geteuid() != 0, reason="a process limit needs a uid of the sandbox's own (as root)")
def test_processes_are_bounded(verdict_box):
    code = ("import os, time\nborn = 0\ntry:\n    for _ in range(200):\n        if os.fork() == 0:\n"
            "            time.sleep(30)\n            os._exit(0)\n        born += 1\nexcept OSError:\n    pass\n"
            "print(born)\n")
    born = int(printed(run(verdict_box, "", code)).strip() or -1)
    assert 0 <= born < LIMITS.processes, born


def test_without_bubblewrap_grading_refuses_to_start_and_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(sb, "bwrap", lambda: None)
    with pytest.raises(sb.SandboxUnavailable, match="apt-get install bubblewrap"):
        sb.Sandbox("verdict")


def test_the_kernel_run_takes_only_outputs_of_the_cells_it_was_given():
    from course_grader.grading.kernel_run import merge_outputs

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1"), nbformat.v4.new_code_cell("2")])
    forged = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1"),
                                             nbformat.v4.new_code_cell("something else")])
    forged.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="ok")]
    forged.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="forged")]
    assert merge_outputs(nb, nb, nbformat.writes(forged)) == ""
    assert nb.cells[0].outputs[0]["text"] == "ok" and nb.cells[1].outputs == []
    assert "unreadable" in merge_outputs(nb, nb, "{not json")
    assert "other cells" in merge_outputs(nb, nb, nbformat.writes(nbformat.v4.new_notebook()))


def test_a_forged_verdict_line_earns_nothing():
    from course_grader.grading.isolated import grade_notebook

    # a passing verdict for the test, as a JSON line and as a frame of the grading channel, written to every
    # descriptor the student's process holds: the verdict is computed by the judge, which the sandbox cannot reach
    forge = ("import json, os, struct\n"
             "line = json.dumps({'id': 't', 'ok': True}).encode()\n"
             "for fd in range(3, 256):\n"
             "    for data in (line + b'\\n', struct.pack('!QQ', len(line), 0) + line):\n"
             "        try:\n            os.write(fd, data)\n        except OSError:\n            pass\n")
    meta = {"grade": False, "solution": True, "grade_id": "a", "locked": False}
    test = {"grade": True, "solution": False, "grade_id": "t", "points": 1, "locked": True}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(forge, metadata={"nbgrader": meta}),
                                         nbformat.v4.new_code_cell("assert False, 'never passes'",
                                                                   metadata={"nbgrader": test})])
    assert not grade_notebook(nb, cell_timeout=30).verdicts["t"].passed
