"""What the visible tests use: comparison primitives and, per chapter, helpers that hide nothing.

Students can read all of this package. The hidden tests and their reference implementations are
in the instructor-side ``course_grader.checks`` (never installed for students); see
``tests/test_packaging.py``. A check's message is an English template shown in the edition's language
(:mod:`course.checks.messages`).
"""

from course.checks.core import call, check, close, equal, raises
from course.checks.messages import fail, msg, render

__all__ = ["call", "check", "close", "equal", "fail", "msg", "raises", "render"]
