"""The instructor side of the course: what students must never be able to read.

* :mod:`course_grader.checks` — the hidden tests of every chapter and their reference implementations;
* :mod:`course_grader.grading` — the trusted grader (tamper scan, isolated re-grading, nbgrader plug-ins);
* :mod:`course_grader.pipeline` — the instructor commands behind ``make release/autograde/feedback``.

Students install only the ``course`` package (see ``tests/test_packaging.py``).
"""
