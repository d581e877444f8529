"""``nbgrader``'s command line, as the pipeline starts it: the same app, without an unused slow import
(:mod:`course_grader.grading.runtime.imports`). ``python -m course_grader.nbgrader_cli ARGS`` = ``nbgrader ARGS``."""

from course_grader.grading.runtime.imports import skip_unused

skip_unused()

if __name__ == "__main__":
    import sys

    from nbgrader.apps.nbgraderapp import main

    sys.exit(main())
