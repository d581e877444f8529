"""Checks shared by the notebooks' graded cells and the pytest suite.

Each chapter has a module (``course.checks.ch02_tensors`` ...) whose functions take the
student's object as an argument and raise ``AssertionError`` with a message that says what
went wrong. The comparison primitives live in :mod:`course.checks.core`.
"""

from course.checks.core import check, close, equal, raises

__all__ = ["check", "close", "equal", "raises"]
