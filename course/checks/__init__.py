"""What the visible tests use: comparison primitives and, per chapter, helpers that hide nothing.

Students can read all of this package. The hidden tests and their reference implementations are
in the instructor-side ``course_grader.checks`` (never installed for students); see
``tests/test_packaging.py``.
"""

from course.checks.core import call, check, close, equal, raises

__all__ = ["call", "check", "close", "equal", "raises"]
