"""Issue 17 §3 for chapters 03-06 and 08: each exercise's graded tests reject >= 90 % of small mutations of
its solution (the engine and the command that prints the survivors: tests/mutation.py; chapters 01, 02 and
07 hold their own exercises to the same bar in their test modules)."""

from __future__ import annotations

import pytest
from mutation import MUTATION_TARGET, exercises, mutation_report

CHAPTERS = ("03-layernorm", "04-dropout-residual", "05-attention", "06-position-encoding", "08-transformer")
# Beam search's survivors (88 of 95 caught) compute the same beams: memory broadcast instead of expanded, float64
# dropped where float32 is exact enough for the tolerance, dim=1 for dim=-1 on a 2-d table, float() of a float.
FLOORS: dict[tuple[str, str], float] = {}
CASES = [(chapter, answer) for chapter in CHAPTERS for answer in exercises(chapter)]


@pytest.mark.slow
@pytest.mark.parametrize("chapter, answer", CASES, ids=[f"{c}:{a}" for c, a in CASES])
def test_mutations_are_caught(chapter, answer):
    tests = exercises(chapter)[answer]
    assert tests, f"{chapter}: no graded test cell uses what {answer} defines"
    total, survivors = mutation_report(chapter, answer, tests)
    caught = (total - len(survivors)) / total
    floor = FLOORS.get((chapter, answer), MUTATION_TARGET)
    assert caught >= floor, f"{answer}: {caught:.0%} of {total} mutants caught; survivors: {survivors}"
