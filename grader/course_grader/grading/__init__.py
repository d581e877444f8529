"""Grading you can trust: static scan of submissions and isolated, time-limited re-runs of the test cells."""
