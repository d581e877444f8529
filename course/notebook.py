"""Small helpers for notebook cells that are not exercises."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from course.plotting import use_course_style


def setup(seed: int = 0) -> None:
    """The first cell of every chapter: course figure style and a fixed seed."""
    use_course_style()
    torch.manual_seed(seed)


@contextlib.contextmanager
def needs(*exercises: str) -> Iterator[None]:
    """Run a demo that calls the student's code; before it is written, say so instead of failing.

    Demo cells are not graded: in the untouched release they must still run, so that the rest
    of the notebook (and Run All) works while a student is on an early exercise.
    """
    try:
        yield
    except NotImplementedError:
        names = ", ".join(f"`{e}`" for e in exercises) or "the exercise above"
        print(f"(This demo runs once you have implemented {names}.)")


GRADING_ENV = "COURSE_GRADING"  # set to "1" by the instructor pipeline (course_grader.pipeline) for every nbgrader run


def grading() -> bool:
    """True while nbgrader runs the notebook (autograde, generate_solution), not in a student's session."""
    import os

    return os.environ.get(GRADING_ENV) == "1"


def training_budget(config, steps: int = 10):
    """``config`` unchanged for a student; a run of ``steps`` steps while autograding.

    Grades never depend on training (the graded cells test the parts, not the trained model), so
    the grader need not spend minutes per submission retraining it.
    """
    if not grading():
        return config
    return config.replace(steps=steps, warmup_steps=min(config.warmup_steps, steps // 4), test_size=50, hard_size=50,
                          eval_interval=0, eval_size=None, minutes=None, target_exact=None, progress=False)
