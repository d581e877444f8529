"""One module per chapter: the exercises the adversarial suite attacks (see tests/attacks.py)."""
