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


def _recipe(target: str) -> str:
    make = (ROOT / "Makefile").read_text()
    return make.split(f"\n{target}:", 1)[1].split("\n\n", 1)[0]


def test_makefile_builds_the_student_environment_from_the_package_alone():
    recipe = _recipe("$(STUDENT_VENV)/.installed")
    installs = [line.split("pip install", 1)[1].split() for line in recipe.splitlines() if "pip install" in line]
    assert ["-c", "$(LOCK)", "."] in installs, installs  # the package itself, not editable, through the lock
    assert "grader" not in recipe and not any("-e" in words for words in installs)


# ---- the lock (issue 33): ranges in the pyproject files, exact versions of everything in requirements/lock.txt

LOCK = ROOT / "requirements" / "lock.txt"
OWN = {"transformer-course", "transformer-course-grader"}
PYPROJECTS = {"transformer-course": "pyproject.toml", "transformer-course-grader": "grader/pyproject.toml"}


def _lock() -> tuple[dict[str, str], dict[str, set[str]]]:
    """requirements/lock.txt as (name -> pinned version, name -> what pip-compile says it is there for)."""
    from packaging.utils import canonicalize_name

    pins, via, current = {}, {}, None
    for line in LOCK.read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            name, _, version = line.partition("==")
            assert version and " " not in line, f"not an exact pin in the lock: {line!r}"
            current = canonicalize_name(name)
            pins[current], via[current] = version, set()
        elif line.startswith("    # via ") and current:
            via[current].add(line.removeprefix("    # via ").strip())
        elif line.startswith("    #   ") and current:
            via[current].add(line.removeprefix("    #   ").strip())
        elif not line.startswith("    "):
            current = None
    return pins, via


def _direct() -> list[tuple[str, str, object]]:
    """(project, extra or "", Requirement) for every requirement both pyproject files declare."""
    import tomllib

    from packaging.requirements import Requirement

    found = []
    for project, path in PYPROJECTS.items():
        table = tomllib.loads((ROOT / path).read_text())["project"]
        assert table["name"] == project
        for req in table["dependencies"]:
            found.append((project, "", Requirement(req)))
        for extra, reqs in table.get("optional-dependencies", {}).items():
            found += [(project, extra, Requirement(req)) for req in reqs]
    return found


def test_the_lock_records_the_requirements_the_pyproject_files_declare_now():
    """A lock compiled before a requirement was added, dropped or its range changed is stale: `make lock`."""
    sys.path.insert(0, str(ROOT / "requirements"))
    try:
        import direct
    finally:
        sys.path.remove(str(ROOT / "requirements"))
    text = LOCK.read_text()
    assert direct.HEADING in text, "the lock has no record of its direct requirements: run make lock"
    recorded = text.split(direct.HEADING, 1)[1].strip("\n").splitlines()
    now = direct.direct()
    added, dropped = sorted(set(now) - set(recorded)), sorted(set(recorded) - set(now))
    assert not added and not dropped, (
        f"requirements/lock.txt is stale (run make lock): declared but not locked {added}; locked but no longer "
        f"declared {dropped}")


def test_the_lock_pins_every_direct_requirement_inside_its_range():
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    pins, via = _lock()
    wrong = []
    for project, extra, req in _direct():
        name = canonicalize_name(req.name)
        where = f"{PYPROJECTS[project]}{f' [{extra}]' if extra else ''}: {req}"
        if name in OWN:
            assert name not in pins, f"{name} is installed from the checkout, never from the lock"
        elif name not in pins:
            wrong.append(f"{where}: not in the lock")
        elif not req.specifier.contains(Version(pins[name]), prereleases=True):
            wrong.append(f"{where}: the lock pins {pins[name]}")
        elif project not in via[name]:
            wrong.append(f"{where}: the lock does not say it is there for {project}")
    # and nothing is in the lock for a package that no longer asks for it
    declared = {canonicalize_name(req.name) for _, _, req in _direct()}
    orphans = [name for name, why in via.items() if why & OWN and name not in declared]
    assert not wrong and not orphans, f"requirements/lock.txt is stale (run make lock): {wrong} {orphans}"


def test_the_lock_is_exact_everywhere_and_takes_the_cpu_torch():
    from packaging.version import Version

    pins, _ = _lock()
    assert len(pins) > 100  # every transitive package, not just the direct ones
    for name, version in pins.items():
        assert Version(version).local is None, f"{name}=={version}: a local build label only one machine has"
    assert pins["torch"] == "2.13.0"
    cuda = [name for name in pins if name.startswith("nvidia-") or name == "triton"]
    assert not cuda, f"the lock took the CUDA build of torch: {cuda}"
    assert "--find-links" not in LOCK.read_text() and "--index-url" not in LOCK.read_text()  # nothing machine-local


def test_the_lock_is_compiled_from_both_packages_with_every_extra_by_a_pinned_tool():
    import tomllib

    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    assert extras == {"dev", "author", "browser", "hub"}
    lock_in = [line for line in (ROOT / "requirements" / "lock.in").read_text().splitlines()
               if line and not line.startswith("#")]
    assert f"-e .[{','.join(sorted(extras, key=['dev', 'author', 'browser', 'hub'].index))}]" in lock_in
    assert "-e ./grader" in lock_in
    tools = (ROOT / "requirements" / "tools.txt").read_text().splitlines()
    assert any(line.startswith("pip-tools==") for line in tools)
    assert all("==" in line for line in tools if line and not line.startswith("#")), "the tool pinned exactly"
    recipe = _recipe("lock")
    assert "-r requirements/tools.txt" in recipe and "pip-compile" in recipe and "requirements/lock.in" in recipe
    assert "--output-file $(LOCK)" in recipe and "requirements/direct.py >> $(LOCK)" in recipe
    # make install installs every extra (what make test needs), with the grader
    assert "\nEXTRAS := dev,author,browser,hub\n" in (ROOT / "Makefile").read_text()


def test_every_install_path_installs_through_the_lock():
    make = (ROOT / "Makefile").read_text()
    assert "\nLOCK := requirements/lock.txt\n" in make
    lock_recipe = _recipe("lock")
    installs = [line.strip() for line in make.splitlines() if "pip install" in line and line not in lock_recipe]
    assert len(installs) >= 8, installs  # pip, then the packages, in .venv, .venv-student and both hub venvs
    unlocked = [line for line in installs if "pip install -c $(LOCK) " not in line]
    assert not unlocked, f"installs that bypass the lock: {unlocked}"
    for target in ("$(STAMP)", "$(STUDENT_VENV)/.installed", "$(HUB_VENV)/.installed", "$(HUB_STUDENT_VENV)/.installed"):
        prerequisites = make.split(f"\n{target}:", 1)[1].split("\n", 1)[0]
        assert "$(LOCK)" in prerequisites.split(), f"{target} is not rebuilt when the lock changes"
    # conda's environment.yml: the same packages through the same lock
    import yaml

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    (pip,) = [dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict)]
    assert pip[0] == "-c requirements/lock.txt" and "-e .[dev,author,browser,hub]" in pip and "-e ./grader" in pip
    # the images of the zero-to-jupyterhub values
    images = [line for line in (ROOT / "hub" / "z2jh-values.yaml").read_text().splitlines()
              if line.startswith("#") and "pip install" in line]
    assert len(images) == 2 and all("pip install -c requirements/lock.txt " in line for line in images), images
    # CI installs through make test alone
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "pip install" not in ci
