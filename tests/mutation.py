"""Mutation testing of the chapters' graded tests (issue 17 §3): do they reject small mutations of the solution?

    .venv/bin/python tests/mutation.py 05-attention                 # every exercise of a chapter
    .venv/bin/python tests/mutation.py 08-transformer beam_search   # one exercise, survivors listed

One engine for every chapter. It mutates the instructor's answer cell on the lines between ``### BEGIN SOLUTION``
and ``### END SOLUTION`` only, one small change at a time, and runs the exercise's graded test cells, hidden tests
included, on each mutant: the visible tests first (what a student runs), then the whole cells (what the grader
runs). A mutant every one of them accepts is a survivor; some survivors are equivalent programs, which the report
lists to read and a chapter's :class:`Options` may name. An exercise's test cells are those that use a name its
answer cell defines (:func:`exercises`). tests/test_mutation_scores.py holds every exercise to ``MUTATION_TARGET``.

Every chapter's mutants: an operator swapped, a constant moved by one, a boolean flipped, an operand, a unary
operator, a call or a method call dropped, a condition negated, a statement deleted. Chapter 07, whose answers are
wiring (which sublayer, which norm, which mask goes where), also drops and swaps arguments, swaps attributes
(``norm1`` for ``norm2``), local names (``memory`` for ``x``) and indices, moves ``tril``'s diagonal and negates
conditional expressions.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import re
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from notebooks import answer_namespace, graded_cells, is_answer, load, nbgrader_meta  # noqa: E402

MUTATION_TARGET = 0.9  # issue 17 §3: the tests of each exercise catch at least 90 % of small mutations

SWAPS = {ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div, ast.Add), ast.Div: (ast.Mult, ast.FloorDiv),
         ast.FloorDiv: (ast.Div, ast.Mult), ast.Mod: (ast.FloorDiv,), ast.Pow: (ast.Mult,),
         ast.Lt: (ast.LtE, ast.Gt), ast.LtE: (ast.Lt, ast.GtE), ast.Gt: (ast.GtE, ast.Lt), ast.GtE: (ast.Gt, ast.LtE),
         ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,), ast.In: (ast.NotIn,), ast.NotIn: (ast.In,),
         ast.Is: (ast.IsNot,), ast.IsNot: (ast.Is,), ast.And: (ast.Or,), ast.Or: (ast.And,)}

# the kinds of mutation (:func:`_candidates` makes them in this order); every chapter's, then the wiring ones
BASIC = frozenset({"operator", "operand", "constant", "unary", "call", "method", "condition", "delete"})
WIRING = frozenset({"arguments", "diagonal", "attribute", "name", "index", "ternary"})

CAUGHT = ("visible", "hidden", "timeout")  # verdicts of a rejected mutant; the others: "survived", "equivalent"


@dataclass(frozen=True)
class Options:
    """What one chapter's mutants are made of, which of them are known to compute the same thing, and how
    many of them the suite runs."""

    kinds: frozenset[str] = BASIC
    swaps: Mapping[type, tuple[type, ...]] = field(default_factory=lambda: SWAPS)  # operator -> what it may become
    attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # attribute -> what it may become
    names: frozenset[str] = frozenset()  # local names that may stand in for one another
    equivalent: Callable[[str, str], str | None] = lambda answer, description: None  # -> why it is the same program
    sample: Mapping[str, int] = field(default_factory=dict)  # answer id -> the suite runs every n-th mutant only


# ---------------------------------------------------------------------------------------- chapter 07's options

_CH07_EQUIVALENT = {
    "masks": {
        "L9 drop the call (keep its first argument): if int(lengths.max()) > max_len:  =>  lengths.max()":
            "comparing a one-element tensor with an int gives the same bool as comparing the int",
        "L11 drop None at index 0: keep = torch.arange(max_len)[None, :] < lengths[:, None]  # (batch, max_len)  "
        "=>  torch.arange(max_len)[:,]": "(max_len,) broadcasts against (batch, 1) exactly like (1, max_len)",
    },
}


def _ch07_equivalent(answer: str, description: str) -> str | None:
    if re.search(r"attribute dropout\d->dropout\d", description):
        return "dropout1, dropout2, dropout3 are the same stateless nn.Dropout(p): swapping them changes nothing"
    if answer == "masks" and description.startswith("L10 ") and "raise ValueError" in description \
            and "delete the statement" not in description and "=>  f'" not in description:
        return "a change inside the error message's f-string: the same ValueError, other words"
    return _CH07_EQUIVALENT.get(answer, {}).get(description)


OPTIONS = {
    "07-encoder-decoder": Options(
        kinds=BASIC | WIRING,
        swaps={**SWAPS, ast.BitAnd: (ast.BitOr,), ast.BitOr: (ast.BitAnd,)},
        attributes={"tril": ("triu",), "triu": ("tril",), "max": ("min",), "min": ("max",), "relu": ("sigmoid",),
                    "self_attn": ("cross_attn",), "cross_attn": ("self_attn",), "linear1": ("linear2",),
                    "linear2": ("linear1",), "norm1": ("norm2", "norm3"), "norm2": ("norm1", "norm3"),
                    "norm3": ("norm1", "norm2"), "dropout1": ("dropout2", "dropout3"),
                    "dropout2": ("dropout1", "dropout3"), "dropout3": ("dropout1", "dropout2"), "norm": ("norm1",),
                    "dropout": ("dropout1",)},
        names=frozenset({"x", "h", "hidden", "memory", "tgt_mask", "memory_mask", "mask", "src", "tgt", "src_mask",
                         "keep", "causal", "lengths", "max_len", "d_model", "d_ff", "n_heads", "n_layers", "dropout",
                         "norm_first", "layer"}),
        equivalent=_ch07_equivalent,
        # each mutant of these two runs stacks of layers against PyTorch's: the suite runs every 2nd / 3rd one
        sample={"DecoderLayer": 2, "stacks": 3},
    ),
}


def options(assignment: str) -> Options:
    return OPTIONS.get(assignment, Options())


# ----------------------------------------------------------------------------------------------- the mutants

def _solution_lines(source: str) -> set[int]:
    """The (1-based) lines strictly between each BEGIN SOLUTION and its END SOLUTION."""
    lines, inside = set(), False
    for i, line in enumerate(source.splitlines(), 1):
        if "### BEGIN SOLUTION" in line:
            inside = True
        elif "### END SOLUTION" in line:
            inside = False
        elif inside:
            lines.add(i)
    return lines


def _sites(tree: ast.AST, lines: set[int]) -> Iterator[tuple[list, ast.AST]]:
    """(path to a node, node) for every node on a solution line; a path finds the same place in a copy."""
    def walk(node, path):
        for name, value in ast.iter_fields(node):
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, ast.AST):
                        yield from visit(item, path + [(name, i)])
            elif isinstance(value, ast.AST):
                yield from visit(value, path + [(name, None)])

    def visit(node, path):
        if getattr(node, "lineno", None) in lines:
            yield path, node
        yield from walk(node, path)
    yield from walk(tree, [])


def _get(tree: ast.AST, path: list) -> ast.AST:
    for name, i in path:
        tree = getattr(tree, name) if i is None else getattr(tree, name)[i]
    return tree


def _set(tree: ast.AST, path: list, new: ast.AST) -> None:
    parent, (name, i) = _get(tree, path[:-1]), path[-1]
    if i is None:
        setattr(parent, name, new)
    else:
        getattr(parent, name)[i] = new


def _local_names(tree: ast.AST, lines: set[int], swappable: frozenset[str]) -> dict[int, set[str]]:
    """For each solution line, the swappable names bound in its function (parameters and assignments)."""
    out = {}
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef):
            names = {a.arg for a in fn.args.args} | {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)
                                                     and isinstance(n.ctx, ast.Store)}
            for n in ast.walk(fn):
                if getattr(n, "lineno", None) in lines:
                    out[n.lineno] = names & swappable
    return out


def _swapped(items: list, i: int) -> list:
    return items[:i] + [items[i + 1], items[i]] + items[i + 2:]


def _candidates(node: ast.AST, opts: Options, names: set[str]) -> Iterator[tuple[Callable[[ast.AST], ast.AST], str]]:
    """(a function that makes the mutated node from a copy of ``node``, what it does) for each mutation of it."""
    kinds = opts.kinds
    if "operator" in kinds:
        if isinstance(node, ast.BinOp):
            for op in opts.swaps.get(type(node.op), ()):
                yield (lambda n, op=op: ast.BinOp(n.left, op(), n.right)), f"{type(node.op).__name__}->{op.__name__}"
        if isinstance(node, ast.AugAssign):
            for op in opts.swaps.get(type(node.op), ()):
                yield (lambda n, op=op: ast.AugAssign(n.target, op(), n.value)), \
                    f"{type(node.op).__name__}->{op.__name__}"
        if isinstance(node, ast.BoolOp):
            for op in opts.swaps.get(type(node.op), ()):
                yield (lambda n, op=op: ast.BoolOp(op(), n.values)), f"{type(node.op).__name__}->{op.__name__}"
        if isinstance(node, ast.Compare):
            for i, old in enumerate(node.ops):
                for op in opts.swaps.get(type(old), ()):
                    yield (lambda n, i=i, op=op: ast.Compare(n.left, n.ops[:i] + [op()] + n.ops[i + 1:],
                                                             n.comparators)), f"{type(old).__name__}->{op.__name__}"
    if "operand" in kinds and isinstance(node, ast.BinOp):
        yield (lambda n: n.left), "drop right operand"
        yield (lambda n: n.right), "drop left operand"
    if "constant" in kinds and isinstance(node, ast.Constant):
        v = node.value
        if type(v) is bool:
            yield (lambda n: ast.Constant(not n.value)), "flip bool"
        elif type(v) in (int, float):
            for w in sorted({v + 1, v - 1} - {v}):
                yield (lambda n, w=w: ast.Constant(w)), f"constant {v!r}->{w!r}"
    if "unary" in kinds and isinstance(node, ast.UnaryOp):
        yield (lambda n: n.operand), f"drop {type(node.op).__name__}"
    if isinstance(node, ast.Call):
        if "call" in kinds and node.args:
            yield (lambda n: n.args[0]), "drop the call (keep its first argument)"
        if "arguments" in kinds:
            for i in range(len(node.args) if len(node.args) > 1 else 0):
                yield (lambda n, i=i: ast.Call(n.func, n.args[:i] + n.args[i + 1:], n.keywords)), f"drop argument {i}"
            for i in range(len(node.args) - 1):
                yield (lambda n, i=i: ast.Call(n.func, _swapped(n.args, i), n.keywords)), f"swap arguments {i}, {i + 1}"
        if "diagonal" in kinds and isinstance(node.func, ast.Attribute) and node.func.attr in ("tril", "triu") \
                and not node.args:
            for k in (1, -1):
                yield (lambda n, k=k: ast.Call(n.func, [ast.Constant(k)], [])), f"diagonal {k}"
        if "method" in kinds and isinstance(node.func, ast.Attribute):
            yield (lambda n: n.func.value), f"drop the method call .{node.func.attr}(...)"
    if "attribute" in kinds and isinstance(node, ast.Attribute):
        for other in opts.attributes.get(node.attr, ()):
            yield (lambda n, o=other: ast.Attribute(n.value, o, n.ctx)), f"attribute {node.attr}->{other}"
    if "name" in kinds and isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in names:
        for other in sorted(names - {node.id}):
            yield (lambda n, o=other: ast.Name(o, ast.Load())), f"name {node.id}->{other}"
    if "condition" in kinds and isinstance(node, ast.If) or "ternary" in kinds and isinstance(node, ast.IfExp):
        yield (lambda n: type(n)(ast.UnaryOp(ast.Not(), n.test), n.body, n.orelse)), "negate the condition"
    if "index" in kinds and isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple):
        elts = node.slice.elts
        for i in range(len(elts) - 1):
            yield (lambda n, i=i: ast.Subscript(n.value, ast.Tuple(_swapped(n.slice.elts, i), ast.Load()), n.ctx)), \
                f"swap index {i}, {i + 1}"
        for i, elt in enumerate(elts):
            if isinstance(elt, ast.Constant) and elt.value is None:
                yield (lambda n, i=i: ast.Subscript(n.value, ast.Tuple(n.slice.elts[:i] + n.slice.elts[i + 1:],
                                                                       ast.Load()), n.ctx)), f"drop None at index {i}"
    if "delete" in kinds and isinstance(node, ast.stmt) \
            and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
        yield (lambda n: ast.Pass()), "delete the statement"


def mutants(source: str, opts: Options | None = None) -> list[tuple[str, str]]:
    """(description, mutated source) for every distinct small mutation of the solution lines of an answer cell,
    in a fixed order; a description reads ``L<line> <what>: <the line>  =>  <the new fragment>``."""
    opts = opts or Options()
    lines = _solution_lines(source)
    tree = ast.parse(source)
    text = source.splitlines()
    names_at = _local_names(tree, lines, opts.names)
    seen, out = {ast.unparse(tree)}, []
    for path, node in list(_sites(tree, lines)):
        for make, what in _candidates(node, opts, names_at.get(node.lineno, set())):
            copy_ = copy.deepcopy(tree)
            new = make(_get(copy_, path))
            _set(copy_, path, new)
            try:
                code = ast.unparse(ast.fix_missing_locations(copy_))
                compile(code, "<mutant>", "exec")
            except (SyntaxError, ValueError, TypeError):
                continue
            if code not in seen:
                seen.add(code)
                out.append((f"L{node.lineno} {what}: {text[node.lineno - 1].strip()}  =>  {ast.unparse(new)[:80]}",
                            code))
    return out


# ------------------------------------------------------------------------------------------- running them

class _Timeout(Exception):
    pass


def _defined(source: str) -> set[str]:
    """The functions and classes an answer cell defines."""
    return {n.name for n in ast.parse(source).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def _visible(source: str) -> str:
    """A test cell as the students' notebook has it: without its hidden tests."""
    out, hidden = [], False
    for line in source.splitlines():
        if "### BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "### END HIDDEN TESTS" in line:
            hidden = False
        elif not hidden:
            out.append(line)
    return "\n".join(out)


def _passes(assignment: str, code: str, label: str, substitutes: dict) -> bool:
    """Whether one test cell's ``code`` accepts the substitutes (with the notebook's other answers)."""
    ns = answer_namespace(assignment)
    ns.update(substitutes)
    try:
        exec(compile(code, f"<{assignment} {label}>", "exec"), ns)
    except _Timeout:
        raise
    except Exception:  # noqa: BLE001 - any failure of the test cell rejects the mutant
        return False
    return True


def _verdict(assignment: str, answer_id: str, names: set[str], code: str, tests: dict[str, str]) -> str:
    """'visible' or 'hidden' (the tests that rejected the mutant first), 'timeout' or 'survived'."""
    ns = dict(answer_namespace(assignment))
    try:
        exec(compile(code, f"<mutant of {answer_id}>", "exec"), ns)
        substitutes = {n: ns[n] for n in names}
    except _Timeout:
        return "timeout"
    except Exception:  # noqa: BLE001 - the mutant does not even define its functions
        return "visible"
    try:
        for part in ("visible", "hidden"):
            for test_id, source in tests.items():
                run = _visible(source) if part == "visible" else source
                if (part == "visible" or run != _visible(source)) and not _passes(assignment, run, test_id, substitutes):
                    return part
    except _Timeout:
        return "timeout"  # a hang is caught by the grader's time limit
    return "survived"


def mutation_report(assignment: str, answer_id: str, test_ids: list[str] | None = None, seconds: float = 30.0,
                    every: int = 1) -> list[tuple[str, str]]:
    """(description, verdict) for each mutant of the answer (every ``every``-th one, in a fixed order), run on
    its test cells (default: those :func:`exercises` finds); a verdict is one of ``CAUGHT``, 'survived' or
    'equivalent' (a survivor the chapter's options know computes the same thing)."""
    opts = options(assignment)
    source = next(c.source for c in load(assignment).cells
                  if is_answer(c) and nbgrader_meta(c)["grade_id"] == answer_id)
    cells = graded_cells(assignment)
    tests = {t: cells[t].source for t in (exercises(assignment)[answer_id] if test_ids is None else test_ids)}
    names = _defined(source)

    def alarm(*_):
        raise _Timeout()

    report = []
    previous = signal.signal(signal.SIGALRM, alarm)
    try:
        for description, code in mutants(source, opts)[::every]:
            signal.setitimer(signal.ITIMER_REAL, seconds)
            try:
                verdict = _verdict(assignment, answer_id, names, code, tests)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            if verdict == "survived" and opts.equivalent(answer_id, description):
                verdict = "equivalent"
            report.append((description, verdict))
    finally:
        signal.signal(signal.SIGALRM, previous)
    return report


def caught(report: list[tuple[str, str]]) -> tuple[int, int]:
    """(mutants rejected, mutants counted): equivalent ones are not counted."""
    counted = [v for _, v in report if v != "equivalent"]
    return sum(v in CAUGHT for v in counted), len(counted)


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
    unknown = sorted(set(args.answers) - set(table))
    if unknown:
        p.error(f"{args.assignment} has no answer cell {', '.join(unknown)}; it has {', '.join(table)}")
    rows = []
    for answer_id in args.answers or list(table):
        t0 = time.perf_counter()
        report = mutation_report(args.assignment, answer_id, table[answer_id], args.seconds)
        hit, total = caught(report)
        visible = sum(v == "visible" for _, v in report)
        rate = hit / total if total else 1.0
        rows.append({"answer": answer_id, "tests": table[answer_id], "mutants": len(report), "counted": total,
                     "caught": hit, "caught_by_visible": visible, "rate": rate,
                     "survivors": [d for d, v in report if v == "survived"],
                     "equivalent": [d for d, v in report if v == "equivalent"]})
        print(f"{answer_id:28s} {hit:4d}/{total:<4d} caught ({rate:.0%}; visible tests alone {visible}), "
              f"{len(report) - total} equivalent, by {', '.join(table[answer_id])}  "
              f"[{time.perf_counter() - t0:.0f} s]", flush=True)
        for d in rows[-1]["survivors"]:
            print(f"    survivor: {d}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0 if all(r["rate"] >= MUTATION_TARGET for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
