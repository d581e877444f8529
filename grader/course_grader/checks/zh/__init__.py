"""The Chinese twins of the hidden checks' messages, one module per chapter (``MESSAGES = {english: chinese}``;
:mod:`course.checks.messages` says how they are used). They stay with the grader, as the hidden checks do."""
