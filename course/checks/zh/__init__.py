"""The Chinese twins of the visible checks' messages and of the chapters' test cells, one module per chapter
(``MESSAGES = {english template: chinese template}``; :mod:`course.checks.messages` says how they are used)."""
