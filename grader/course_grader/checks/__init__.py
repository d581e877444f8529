"""Hidden checks, one module per chapter; imported only by the hidden part of a test cell.

Every function that runs a student's code goes through :func:`course_grader.checks.guard.call`:
the built-ins and course code that would do the exercise's work are switched off while the
student's code runs, and what it returns is turned into plain values before any comparison.
"""
