"""Mutation score of chapter 08's tests (issue 17 §3): small mutations of each solution, and whether the
exercise's graded test cell (visible and hidden checks) rejects them.

    .venv/bin/python tests/mutants_ch08.py [--exercise beam_search] [--limit 40] [--json out.json]

Mutations, applied one at a time inside the solution region only: arithmetic operator swaps
(+ - * / //), comparison swaps, ``and``/``or``, dropped ``not``/``~``/unary minus, integer and float
constant tweaks, ``dim``/``keepdim`` flips, dropped calls (``f(x)`` → ``x``, ``x.m(...)`` → ``x``), and
slice bounds moved by one. A mutant that still passes is a survivor (some are equivalent programs:
the report lists them to read). Not collected by pytest (the name does not start with ``test_``).
"""

from __future__ import annotations

import argparse
import ast
import copy
import io
import json
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from notebooks import answer_namespace, graded_cells, load, nbgrader_meta  # noqa: E402

A = "08-transformer"
TESTS = {"embed": ["embed_tests"], "Transformer": ["Transformer_tests"], "greedy_decode": ["greedy_decode_tests"],
         "smoothed_cross_entropy": ["smoothed_cross_entropy_tests"], "attention_step": ["attention_step_tests"],
         "cached_greedy_decode": ["cached_greedy_decode_tests"], "beam_search": ["beam_search_tests"]}
SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Mod,
         ast.Mod: ast.FloorDiv, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE,
         ast.GtE: ast.Gt, ast.And: ast.Or, ast.Or: ast.And, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.BitOr: ast.BitAnd,
         ast.BitAnd: ast.BitOr}


def _solution_lines(source: str) -> set[int]:
    lines, inside = set(), False
    for i, line in enumerate(source.splitlines(), 1):
        if "### BEGIN SOLUTION" in line:
            inside = True
        elif "### END SOLUTION" in line:
            inside = False
        elif inside:
            lines.add(i)
    return lines


def _mutations(node: ast.AST):
    """(description, replacement node) for one node."""
    for op_field in ("op",):
        op = getattr(node, op_field, None)
        if op is not None and type(op) in SWAPS:
            new = copy.deepcopy(node)
            new.op = SWAPS[type(op)]()
            yield f"{type(op).__name__} → {SWAPS[type(op)].__name__}", new
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in SWAPS:
                new = copy.deepcopy(node)
                new.ops[i] = SWAPS[type(op)]()
                yield f"{type(op).__name__} → {SWAPS[type(op)].__name__}", new
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.Invert, ast.USub)):
        yield f"drop {type(node.op).__name__}", node.operand
    if isinstance(node, ast.Constant) and type(node.value) in (int, float) and not isinstance(node.value, bool):
        v = node.value
        for w in ({v + 1, v - 1} if isinstance(v, int) else {v * 2, v / 2, 0.0}) - {v}:
            yield f"constant {v!r} → {w!r}", ast.Constant(w)
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        yield f"{node.value} → {not node.value}", ast.Constant(not node.value)
    if isinstance(node, ast.keyword) and node.arg in ("dim", "keepdim") and isinstance(node.value, ast.Constant):
        v = node.value.value
        for w in ([0, 1, -2] if node.arg == "dim" else [not v]):
            if w != v:
                new = copy.deepcopy(node)
                new.value = ast.Constant(w)
                yield f"{node.arg}={v!r} → {w!r}", new
    if isinstance(node, ast.Call):
        if len(node.args) == 1 and not node.keywords:
            yield f"drop the call {ast.unparse(node.func)}(...)", node.args[0]
        if isinstance(node.func, ast.Attribute) and not isinstance(node.func.value, ast.Name):
            yield f"drop .{node.func.attr}(...)", node.func.value
    if isinstance(node, ast.Slice):
        for part in ("lower", "upper"):
            bound = getattr(node, part)
            new = copy.deepcopy(node)
            if bound is None and part == "lower":
                new.lower = ast.Constant(1)
            elif bound is not None:
                setattr(new, part, ast.BinOp(copy.deepcopy(bound), ast.Add(), ast.Constant(1)))
            else:
                continue
            yield f"slice {part} moved by one", new


class _Replace(ast.NodeTransformer):
    def __init__(self, target: ast.AST, replacement: ast.AST):
        self.target, self.replacement = target, replacement

    def generic_visit(self, node):
        for name, value in ast.iter_fields(node):
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if item is self.target:
                        value[i] = self.replacement
                    elif isinstance(item, ast.AST):
                        self.generic_visit(item)
            elif value is self.target:
                setattr(node, name, self.replacement)
            elif isinstance(value, ast.AST):
                self.generic_visit(value)
        return node


def _candidates(tree: ast.AST, lines: set[int]) -> list[ast.AST]:
    return [n for n in ast.walk(tree) if getattr(n, "lineno", None) in lines
            or (isinstance(n, ast.keyword) and getattr(n.value, "lineno", None) in lines)]


def mutants(source: str):
    """(description, mutated source) for every mutation of every node of the solution region."""
    lines = _solution_lines(source)
    tree = ast.parse(source)
    original = ast.unparse(tree)
    seen = set()
    for index, node in enumerate(_candidates(tree, lines)):
        line = getattr(node, "lineno", getattr(getattr(node, "value", None), "lineno", "?"))
        for k, (what, _) in enumerate(_mutations(node)):
            clone = copy.deepcopy(tree)
            target = _candidates(clone, lines)[index]
            _, rep = list(_mutations(target))[k]
            mutated = ast.unparse(_Replace(target, rep).visit(clone))
            if mutated not in seen and mutated != original:
                seen.add(mutated)
                yield f"line {line}: {what}", mutated


def caught(answer_id: str, mutated: str, tests: dict) -> tuple[bool, str]:
    ns = answer_namespace(A)
    try:
        with redirect_stdout(io.StringIO()):
            exec(compile(mutated, f"<mutant {answer_id}>", "exec"), ns)  # noqa: S102
    except Exception as err:  # noqa: BLE001 - a mutant that does not even define: counts as caught
        return True, f"does not run: {type(err).__name__}"
    for test_id in TESTS[answer_id]:
        scope = dict(ns)
        try:
            with redirect_stdout(io.StringIO()):
                exec(compile(tests[test_id].source, f"<{test_id}>", "exec"), scope)  # noqa: S102
        except BaseException as err:  # noqa: BLE001
            return True, f"{type(err).__name__}: {str(err).splitlines()[0][:100] if str(err) else ''}"
    return False, "passed"


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--exercise", action="append")
    p.add_argument("--limit", type=int, default=10_000)
    p.add_argument("--json")
    args = p.parse_args(argv)
    nb = load(A)
    tests = graded_cells(A)
    answers = {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells if nbgrader_meta(c).get("solution")}
    report = {}
    for answer_id in args.exercise or list(TESTS):
        results = []
        t0 = time.perf_counter()
        for what, mutated in list(mutants(answers[answer_id]))[: args.limit]:
            ok, why = caught(answer_id, mutated, tests)
            results.append({"mutation": what, "caught": ok, "by": why})
        n = len(results)
        k = sum(r["caught"] for r in results)
        report[answer_id] = {"mutants": n, "caught": k, "fraction": round(k / max(n, 1), 3),
                             "survivors": [r["mutation"] for r in results if not r["caught"]],
                             "seconds": round(time.perf_counter() - t0, 1)}
        print(f"{answer_id:<24} {k:>3}/{n:<3} caught ({100 * k / max(n, 1):.0f} %)  survivors: "
              f"{report[answer_id]['survivors']}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
