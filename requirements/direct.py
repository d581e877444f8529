"""The direct requirements of both packages of this repository, as `make lock` records them at the end of
requirements/lock.txt; tests/test_packaging.py compares that record with the pyproject files, so a lock
compiled before a requirement or a range changed fails the tests until `make lock` is run again."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "grader/pyproject.toml")
HEADING = ("# The direct requirements this lock was compiled from (written by make lock from the pyproject files;\n"
           "# tests/test_packaging.py fails when they say something else):")


def direct() -> list[str]:
    """One comment line per requirement: `#   SOURCE [EXTRA]: REQUIREMENT`, in the files' own order."""
    lines = []
    for source in SOURCES:
        project = tomllib.loads((ROOT / source).read_text())["project"]
        groups = {"": project.get("dependencies", [])}
        groups |= {f" [{extra}]": reqs for extra, reqs in project.get("optional-dependencies", {}).items()}
        for group, requirements in groups.items():
            lines += [f"#   {source}{group}: {''.join(req.split())}" for req in requirements]
    return lines


def block() -> str:
    return "\n".join(["", HEADING, *direct()]) + "\n"


if __name__ == "__main__":
    print(block(), end="")
