"""One module per chapter: correct answers written differently (see tests/test_honest_suite.py)."""
