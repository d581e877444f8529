"""Issue 17 §3: each exercise's graded tests reject >= 90 % of small mutations of its solution, in every chapter
(the engine, each chapter's options and the command that prints the survivors: tests/mutation.py)."""

from __future__ import annotations

import pytest
from mutation import MUTATION_TARGET, Options, caught, exercises, mutants, mutation_report, options
from notebooks import ROOT

CHAPTERS = tuple(p.stem for p in sorted((ROOT / "chapters").glob("[0-9][0-9]-*.py")))
# Beam search's survivors (88 of 95 caught) compute the same beams: memory broadcast instead of expanded, float64
# dropped where float32 is exact enough for the tolerance, dim=1 for dim=-1 on a 2-d table, float() of a float.
FLOORS: dict[tuple[str, str], float] = {}
CASES = [(chapter, answer) for chapter in CHAPTERS for answer in exercises(chapter)]


@pytest.mark.slow
@pytest.mark.parametrize("chapter, answer", CASES, ids=[f"{c}:{a}" for c, a in CASES])
def test_mutations_are_caught(chapter, answer):
    tests = exercises(chapter)[answer]
    assert tests, f"{chapter}: no graded test cell uses what {answer} defines"
    report = mutation_report(chapter, answer, tests, every=options(chapter).sample.get(answer, 1))
    hit, counted = caught(report)
    floor = FLOORS.get((chapter, answer), MUTATION_TARGET)
    survivors = [d for d, v in report if v == "survived"]
    assert counted and hit / counted >= floor, f"{answer}: {hit} of {counted} mutants caught; survivors: {survivors}"


def test_every_chapter_is_measured():
    assert CHAPTERS[0] == "01-compute" and "07-encoder-decoder" in CHAPTERS and len(CHAPTERS) >= 8
    assert all(exercises(chapter) for chapter in CHAPTERS)


SOURCE = ("def f(x, n):\n    ### BEGIN SOLUTION\n    if n < 0:\n        raise ValueError('n')\n"
          "    return x.sum(dim=1, keepdim=True) * 2 + n\n    ### END SOLUTION\n")


def test_the_mutation_engine_makes_the_usual_kinds_of_mutant():
    kinds = " | ".join(d for d, _ in mutants(SOURCE))
    for kind in ("Lt->LtE", "constant 1->2", "flip bool", "Mult->Div", "Add->Sub", "drop the method call .sum",
                 "delete the statement: if n < 0:", "negate the condition"):
        assert kind in kinds, kind
    assert all("def f(x, n)" in text for _, text in mutants(SOURCE))
    assert "swap arguments" not in kinds and "name " not in kinds  # chapter 07's kinds only where asked for


def test_chapter_07_options_add_the_wiring_mutants():
    source = ("def f(self, x, memory, mask):\n    ### BEGIN SOLUTION\n    h = self.norm1(x)\n"
              "    a = torch.cat(x, memory)[:, None, :]\n    b = h if mask is None else h.tril()\n"
              "    return h + a\n    ### END SOLUTION\n")
    wiring = options("07-encoder-decoder")
    kinds = " | ".join(d for d, _ in mutants(source, wiring))
    for kind in ("attribute norm1->norm2", "name x->memory", "swap arguments 0, 1", "drop argument 1",
                 "swap index 0, 1", "drop None at index 1", "diagonal 1", "negate the condition", "Add->Sub"):
        assert kind in kinds, kind
    assert not any(k in " | ".join(d for d, _ in mutants(source)) for k in ("attribute", "name x", "swap index"))
    assert options("05-attention") == Options()


def test_a_known_equivalent_mutant_is_not_counted():
    wiring = options("07-encoder-decoder")
    assert wiring.equivalent("EncoderLayer", "L3 attribute dropout1->dropout2: x = ...  =>  self.dropout2")
    assert not wiring.equivalent("EncoderLayer", "L3 attribute norm1->norm2: x = ...  =>  self.norm2")
    assert caught([("a", "visible"), ("b", "hidden"), ("c", "timeout"), ("d", "survived"), ("e", "equivalent")]) \
        == (3, 4)
