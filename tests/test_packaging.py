"""What a student installs (`pip install .`, what `make student-lab` builds) holds nothing that grades.

The wheel is built exactly as pip builds it for a student, then installed into a fresh environment
that borrows only the third-party packages (torch, nbgrader, ...) of this one. There:
- ``course_grader`` (hidden checks, reference implementations, the trusted grader) is not importable;
- no module of the wheel defines a function or class named like an exercise, unless it is code the
  course hands out and declares in ``course.checks.<chapter>.BORROWED`` (so it is switched off
  while the exercise is checked);
- no notebook ships.
"""

from __future__ import annotations

import ast
import shutil
import site
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import nbformat
import pytest
from notebooks import ROOT, is_answer

GRADER_NAMES = ("course_grader", "grading", "pipeline")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # built from a copy of what the wheel is made of: setuptools writes build/ and *.egg-info next to the
    # sources, and two test workers building from the checkout at once would trip over each other's
    tree = tmp_path_factory.mktemp("tree")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(ROOT / "course", tree / "course", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(tree), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out)], check=True, capture_output=True)
    (found,) = out.glob("transformer_course-*.whl")
    return found


def _exercise_names() -> dict[str, str]:
    """Every name an answer cell defines -> its chapter."""
    names = {}
    for path in sorted((ROOT / "source").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if is_answer(cell):
                for node in ast.parse(cell.source).body:
                    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                        names[node.name] = path.parent.name
    return names


@pytest.mark.slow
def test_wheel_holds_only_the_student_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    outside = [n for n in names if not n.startswith(("course/", "transformer_course-"))]
    assert not outside, f"the wheel carries files outside course/: {outside}"
    assert not any(n.endswith(".ipynb") for n in names), "no notebook (least of all source/ or solutions/) ships"
    graders = [n for n in names if any(part in n.split("/") for part in ("grading", "course_grader"))
               or n.endswith("pipeline.py")]
    assert not graders, f"grader code in the student wheel: {graders}"


def _definitions(tree: ast.Module):
    """(qualified name, node) of every top-level function and class, and of the methods of classes."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            yield node.name, node
        if isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef):
                    yield f"{node.name}.{sub.name}", sub


@pytest.mark.slow
def test_no_reference_implementation_of_an_exercise_ships(wheel):
    from course.checks.borrowed import declared

    switched_off = {name for spec in declared().values() for name in (*spec.given, *spec.python)}
    exercises = _exercise_names()
    found = []
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if not name.endswith(".py"):
                continue
            module = name[:-3].replace("/", ".").removesuffix(".__init__")
            for qualname, _node in _definitions(ast.parse(z.read(name))):
                dotted = f"{module}.{qualname}"
                leaf = qualname.rsplit(".", 1)[-1]
                if leaf.startswith(("check_", "reference_")):
                    found.append(f"{dotted} (a hidden check or reference)")
                elif leaf in exercises and dotted not in switched_off and dotted.rsplit(".", 1)[0] not in switched_off:
                    found.append(f"{dotted} (exercise of {exercises[leaf]}, not switched off while it is checked)")
    assert not found, "the student package implements exercises it does not switch off:\n" + "\n".join(found)


@pytest.mark.slow
def test_student_environment_cannot_import_the_grader(wheel, tmp_path):
    env = tmp_path / "student"
    venv.create(env, with_pip=False)
    py = env / "bin" / "python"
    purelib = Path(subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    zipfile.ZipFile(wheel).extractall(purelib)  # what `pip install .` puts there
    # the third-party packages of this environment, as plain path entries: their .pth files (the
    # editable installs of course and course_grader) are not processed there
    third_party = [p for p in [*site.getsitepackages(), sysconfig.get_paths()["purelib"]] if "site-packages" in p]
    (purelib / "borrowed-dependencies.pth").write_text("\n".join(third_party) + "\n")
    probe = ("import importlib.util, course, course.checks, course.checks.core, course.widgets.ch05_attention\n"
             f"assert course.__file__.startswith({str(purelib)!r}), course.__file__\n"
             "for name in ('course_grader', 'course_grader.checks', 'course.grading', 'course.pipeline'):\n"
             "    try:\n"
             "        found = importlib.util.find_spec(name)\n"
             "    except ModuleNotFoundError:\n"
             "        found = None\n"
             "    assert found is None, name\n"
             "print('student env ok')\n")
    proc = subprocess.run([py, "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 0 and "student env ok" in proc.stdout, proc.stdout + proc.stderr


def test_makefile_builds_the_student_environment_from_the_package_alone():
    make = (ROOT / "Makefile").read_text()
    recipe = make.split("$(STUDENT_VENV)/.installed:", 1)[1].split("\n\n", 1)[0]
    first_install = recipe.split("pip install", 1)[1].split("\n")[0]
    assert "pip install ." in recipe and "grader" not in recipe and "-e" not in first_install
