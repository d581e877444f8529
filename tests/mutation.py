"""Mutation testing of the chapters' graded tests (issue 17 §3): do they reject small mutations of the solution?

    .venv/bin/python tests/mutation.py 05-attention                 # every exercise of a chapter
    .venv/bin/python tests/mutation.py 08-transformer beam_search   # one exercise, survivors listed

The engine mutates the instructor's answer cell inside ``### BEGIN/END SOLUTION`` only (operator swaps,
constants ±1 and flipped booleans, dropped calls and operands, deleted statements, negated conditions)
and runs the exercise's graded test cells, hidden tests included, on each mutant; a mutant every one of
them accepts is a survivor (some survivors are equivalent programs: the report lists them to read).
An exercise's test cells are those that use a name its answer cell defines. The slow tests of
chapters 01 and 02 hold their exercises to ``MUTATION_TARGET``; the command measures any chapter.
"""

from __future__ import annotations

import argparse
import ast
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from notebooks import answer_namespace, graded_cells, is_answer, load, nbgrader_meta, run_test_cell  # noqa: E402

MUTATION_TARGET = 0.9  # issue 17 §3: the tests of each exercise catch at least 90 % of small mutations

_SWAPS = {ast.Add: [ast.Sub], ast.Sub: [ast.Add], ast.Mult: [ast.Div, ast.Add], ast.Div: [ast.Mult, ast.FloorDiv],
          ast.FloorDiv: [ast.Div, ast.Mult], ast.Mod: [ast.FloorDiv], ast.Pow: [ast.Mult],
          ast.Lt: [ast.LtE, ast.Gt], ast.LtE: [ast.Lt, ast.GtE], ast.Gt: [ast.GtE, ast.Lt], ast.GtE: [ast.Gt, ast.LtE],
          ast.Eq: [ast.NotEq], ast.NotEq: [ast.Eq], ast.In: [ast.NotIn], ast.NotIn: [ast.In], ast.Is: [ast.IsNot],
          ast.IsNot: [ast.Is], ast.And: [ast.Or], ast.Or: [ast.And]}


def _solution_spans(source: str) -> list[tuple[int, int]]:
    """(BEGIN line, END line) of every solution block of an answer cell (1-based)."""
    lines = list(enumerate(source.splitlines(), 1))
    begins = [i for i, line in lines if "### BEGIN SOLUTION" in line]
    ends = [i for i, line in lines if "### END SOLUTION" in line]
    return list(zip(begins, ends))


def _edits(node: ast.AST, parent: ast.AST | None) -> list[tuple[str, Callable[[], None]]]:
    """Ways to mutate ``node`` in place (each a description and a function that applies it)."""
    out: list[tuple[str, Callable[[], None]]] = []

    def set_attr(obj, name, value):
        return lambda: setattr(obj, name, value)

    def replace_in_parent(new):
        for field, value in ast.iter_fields(parent):
            if value is node:
                return lambda: setattr(parent, field, new)
            if isinstance(value, list) and any(v is node for v in value):
                i = next(k for k, v in enumerate(value) if v is node)
                return lambda: value.__setitem__(i, new)
        return None

    if isinstance(node, (ast.BinOp, ast.AugAssign, ast.BoolOp)):
        for new in _SWAPS.get(type(node.op), []):
            out.append((f"{type(node.op).__name__} -> {new.__name__}", set_attr(node, "op", new())))
    if isinstance(node, ast.BinOp) and parent is not None:
        for side in ("left", "right"):
            fix = replace_in_parent(getattr(node, side))
            if fix:
                out.append((f"drop the {'right' if side == 'left' else 'left'} operand of {type(node.op).__name__}", fix))
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            for new in _SWAPS.get(type(op), []):
                ops = list(node.ops)
                ops[i] = new()
                out.append((f"{type(op).__name__} -> {new.__name__}", set_attr(node, "ops", ops)))
    if isinstance(node, ast.UnaryOp) and parent is not None:
        fix = replace_in_parent(node.operand)
        if fix:
            out.append((f"drop {type(node.op).__name__}", fix))
    if isinstance(node, ast.Constant) and type(node.value) is bool:
        out.append((f"{node.value} -> {not node.value}", set_attr(node, "value", not node.value)))
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        for new in {node.value + 1, node.value - 1} - {node.value}:
            out.append((f"{node.value!r} -> {new!r}", set_attr(node, "value", type(node.value)(new))))
    if isinstance(node, ast.Call) and parent is not None:
        if node.args:
            fix = replace_in_parent(node.args[0])
            if fix:
                out.append((f"drop the call {ast.unparse(node.func)}(...)", fix))
        if isinstance(node.func, ast.Attribute):
            fix = replace_in_parent(node.func.value)
            if fix:
                out.append((f"drop the method call .{node.func.attr}(...)", fix))
    if isinstance(node, ast.If):
        out.append(("negate an if", set_attr(node, "test", ast.UnaryOp(ast.Not(), node.test))))
    if isinstance(node, ast.stmt) and parent is not None \
            and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
        fix = replace_in_parent(ast.Pass())
        if fix:
            out.append((f"delete `{ast.unparse(node).splitlines()[0][:60]}`", fix))
    return out


def _walk(tree: ast.AST, spans: list[tuple[int, int]]):
    """(node, parent) for every node that lies inside the solution block, in a fixed order."""
    stack = [(tree, None)]
    while stack:
        node, parent = stack.pop(0)
        line = getattr(node, "lineno", None)
        if line is not None and any(begin < line < end for begin, end in spans):
            yield node, parent
        for child in ast.iter_child_nodes(node):
            stack.append((child, node))


def mutants(source: str) -> list[tuple[str, str]]:
    """(description, mutated source) for every small mutation of the solution block of an answer cell."""
    spans = _solution_spans(source)
    tree = ast.parse(source)
    count = [len(_edits(node, parent)) for node, parent in _walk(tree, spans)]
    seen, out = {ast.unparse(tree)}, []
    for n_node, n_edits in enumerate(count):
        for k in range(n_edits):
            copy_ = ast.parse(source)
            node, parent = list(_walk(copy_, spans))[n_node]
            description, apply = _edits(node, parent)[k]
            apply()
            try:
                text = ast.unparse(ast.fix_missing_locations(copy_))
                compile(text, "<mutant>", "exec")
            except (SyntaxError, ValueError, TypeError):
                continue
            if text not in seen:
                seen.add(text)
                out.append((f"line {node.lineno}: {description}", text))
    return out


def _answer_source(assignment: str, answer_id: str) -> str:
    return next(c.source for c in load(assignment).cells if is_answer(c) and nbgrader_meta(c)["grade_id"] == answer_id)


class _Timeout(Exception):
    pass


def _defined(source: str) -> set[str]:
    """The functions and classes an answer cell defines."""
    return {n.name for n in ast.parse(source).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def mutation_report(assignment: str, answer_id: str, test_ids: list[str],
                    seconds: float = 30.0) -> tuple[int, list[str]]:
    """(number of mutants, descriptions of those every test cell of the exercise accepted)."""
    source = _answer_source(assignment, answer_id)
    names = _defined(source)
    survivors, found = [], mutants(source)

    def alarm(*_):
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, alarm)
    try:
        for description, text in found:
            ns = dict(answer_namespace(assignment))
            caught = False
            try:
                signal.setitimer(signal.ITIMER_REAL, seconds)
                exec(compile(text, f"<mutant of {answer_id}>", "exec"), ns)
                for test_id in test_ids:
                    try:
                        run_test_cell(assignment, test_id, **{n: ns[n] for n in names})
                    except _Timeout:
                        raise
                    except Exception:  # noqa: BLE001 - any failure of the test cell rejects the mutant
                        caught = True
                        break
            except _Timeout:
                caught = True  # a hang is caught by the grader's time limit
            except Exception:  # noqa: BLE001 - the mutant does not even define its functions
                caught = True
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            if not caught:
                survivors.append(description)
    finally:
        signal.signal(signal.SIGALRM, previous)
    return len(found), survivors


def exercises(assignment: str) -> dict[str, list[str]]:
    """answer id -> the graded test cells that use a name that answer cell defines."""
    answers = {nbgrader_meta(c)["grade_id"]: c.source for c in load(assignment).cells if is_answer(c)}
    tests = graded_cells(assignment)
    out = {}
    for answer_id, source in answers.items():
        names = _defined(source)
        out[answer_id] = [t for t, cell in tests.items()
                          if names & {n.id for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Name)}]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="mutation score of a chapter's graded tests")
    p.add_argument("assignment", help="e.g. 05-attention")
    p.add_argument("answers", nargs="*", help="answer cell ids (default: all)")
    p.add_argument("--seconds", type=float, default=30.0, help="a mutant running longer counts as caught (a hang)")
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    table = exercises(args.assignment)
    rows = []
    for answer_id in args.answers or list(table):
        t0 = time.perf_counter()
        total, survivors = mutation_report(args.assignment, answer_id, table[answer_id], args.seconds)
        rate = (total - len(survivors)) / total if total else 1.0
        rows.append({"answer": answer_id, "tests": table[answer_id], "mutants": total, "caught": total - len(survivors),
                     "rate": rate, "survivors": survivors})
        print(f"{answer_id:28s} {total - len(survivors):4d}/{total:<4d} caught ({rate:.0%}) by {', '.join(table[answer_id])}"
              f"  [{time.perf_counter() - t0:.0f} s]", flush=True)
        for s in survivors:
            print(f"    survivor: {s}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0 if all(r["rate"] >= MUTATION_TARGET for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
