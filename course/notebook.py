"""Small helpers for notebook cells that are not exercises."""

from __future__ import annotations

import contextlib
from typing import Iterator

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
