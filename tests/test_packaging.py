"""What a student installs with `pip install .`: the course package, never the notebooks."""

import subprocess
import sys
import zipfile

import pytest

from notebooks import ROOT


@pytest.mark.slow
def test_wheel_holds_only_the_course_package(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("course/grading/") for n in names)
    outside = [n for n in names if not n.startswith(("course/", "transformer_course-"))]
    assert not outside, f"the wheel carries files outside course/: {outside}"
    assert not any(n.endswith(".ipynb") for n in names), "no notebook (least of all source/ or solutions/) ships"
