"""`make new-chapter NAME=09-something` scaffolds a chapter whose own tests pass in a copy of the course."""

import os
import shutil
import subprocess
import sys

import pytest

from tools import new_chapter

ROOT = new_chapter.ROOT


def _copy_course(dest):
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".venv*", "node_modules")
    for part in ("chapters", "course", "grader", "tools", "tests", "source", "source-zh"):
        shutil.copytree(ROOT / part, dest / part, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", dest)


@pytest.mark.slow
def test_a_scaffolded_chapter_builds_passes_its_tests_and_rejects_a_wrong_answer(tmp_path):
    _copy_course(tmp_path)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{tmp_path / 'grader'}", "COURSE_ROOT": str(tmp_path)}
    made = subprocess.run([sys.executable, "-m", "tools.new_chapter", "09-example-chapter"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    for rel in ("chapters/09-example-chapter.py", "course/checks/ch09_example_chapter.py",
                "course/experiments/ch09_example_chapter.py", "course/glossary/09-example-chapter.tsv",
                "grader/course_grader/checks/ch09_example_chapter.py", "tests/test_ch09_example_chapter.py",
                "tests/adversarial/ch09_example_chapter.py", "tests/honest/ch09_example_chapter.py",
                "source/09-example-chapter/09-example-chapter.ipynb"):
        assert (tmp_path / rel).is_file(), rel
    tests = ["tests/test_ch09_example_chapter.py", "tests/test_chapter_sources.py",
             "tests/test_honest_suite.py::test_every_chapter_has_three_variants_of_every_answer_cell",
             "tests/test_adversarial_chapters.py::test_every_chapter_has_targets_and_every_attack_runs_on_each",
             "tests/test_course_package.py"]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
                         cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " 0 passed" not in run.stdout and "passed" in run.stdout


@pytest.mark.parametrize("name, message", [("9-x", "two digits"), ("09_x", "two digits"), ("09-X", "two digits"),
                                           ("01-again", "exists already")])
def test_a_bad_or_taken_name_is_refused_with_a_reason(name, message):
    with pytest.raises(ValueError, match=message):
        new_chapter.scaffold(name)
