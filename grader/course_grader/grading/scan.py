"""Static scan of the code a student wrote, for attempts to cheat the grader or to break it.

Every code cell a student can change (nbgrader answer cells and cells they added) is turned into
plain Python by IPython's own input transformer, so ``%time`` or ``!ls`` become visible
``get_ipython()`` calls, then parsed and walked with :mod:`ast`. The scan flags monkeypatching of
imported modules and built-ins, IPython hooks and magics, interpreter/process tampering, file
access, forbidden imports and attribute look-ups spelled as strings. A cell that does not parse
has no findings: it cannot run either; one too long or too deeply nested to scan is reported.
Names are resolved per cell, not per scope: a name a cell imports (or aliases: `t = torch`) counts
as that module everywhere in the cell, and scan_notebook adds what the other cells import.

What it cannot catch: a static scan sees names, not values. A module passed to a function as an
argument or kept in a container, a subclass of a library class returned as an answer, and slow or
endless loops all get past it. So it is one layer of defence in depth: the grader also runs the
answer and test cells in a fresh interpreter without IPython, with a time limit per cell, and checks
after each answer cell that the library functions the tests rely on are still the same objects
(:mod:`course_grader.grading.isolated`).

The rule tables below are plain sets and dicts of dotted names; extend them as needed. A dotted
name matches an entry when it is the entry or starts with the entry plus a dot.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import functools
import re
import sys
from dataclasses import dataclass
from functools import lru_cache

import nbformat

from course import cells
from course.checks.messages import Message, msg

# Importing any of these modules (or a submodule) is flagged, except what ALLOWED_IMPORTS lets through.
FORBIDDEN_IMPORTS = frozenset({
    "nbgrader", "course_grader", "course.checks", "IPython", "ipykernel", "jupyter_client", "nbformat", "nbclient",
    "builtins", "sys", "ctypes", "gc", "inspect", "importlib", "signal", "atexit", "subprocess", "threading", "_thread",
    "multiprocessing", "concurrent", "asyncio", "socket", "pty", "pickle", "marshal", "shutil", "glob", "pathlib", "io",
    "sqlite3", "shelve", "dbm", "tempfile", "zipfile", "tarfile", "fileinput", "linecache", "posix", "nt", "runpy",
    "code", "codeop", "pdb", "bdb", "trace", "faulthandler", "resource", "unittest", "urllib", "http", "requests",
    "doctest", "cProfile", "profile", "pydoc", "pkgutil", "logging.config",
})
ALLOWED_IMPORTS = frozenset({"IPython.display"})
# Dotted names whose use (read, call or `from ... import`) is flagged, one set per rule. Built-ins are "builtins.X".
PROCESS = frozenset({
    "sys.modules", "sys.settrace", "sys.setprofile", "sys.meta_path", "sys.path_hooks", "sys._getframe", "sys.exit",
    "sys.setrecursionlimit", "sys.addaudithook", "os._exit", "os.kill", "os.killpg", "os.abort", "os.system",
    "os.popen", "os.fork", "os.forkpty", "os.spawnl", "os.spawnv", "os.execv", "os.execl", "os.execvp", "os.execve",
    "os.posix_spawn", "signal", "atexit", "ctypes", "gc.get_referrers", "gc.get_referents", "gc.get_objects",
    "inspect.currentframe", "inspect.stack", "inspect.getsource", "inspect.getframeinfo", "importlib", "threading",
    "_thread", "multiprocessing", "concurrent", "subprocess", "pty", "socket", "numpy.ctypeslib",
    "torch.utils.cpp_extension", "builtins.exit", "builtins.quit", "builtins.__import__", "builtins.exec",
    "builtins.eval", "builtins.compile", "builtins.globals", "builtins.locals", "builtins.breakpoint",
    "builtins.SystemExit", "builtins.KeyboardInterrupt", "timeit.timeit", "timeit.repeat", "timeit.Timer",
    "typing.get_type_hints", "typing.ForwardRef", "doctest", "pydoc", "pkgutil", "torch.library", "torch.overrides",
    "torch.utils._python_dispatch", "torch._C",
})
FILE_ACCESS = frozenset({  # all of os but ALLOWED_NAMES: files, directories, the environment
    "builtins.open", "io", "pathlib", "os", "glob", "shutil", "tempfile", "pickle", "marshal", "shelve", "sqlite3",
    "dbm", "zipfile", "tarfile", "fileinput", "linecache", "torch.load", "torch.save", "torch.serialization",
    "torch.hub", "torch.jit.load", "torch.jit.save", "torch.package", "numpy.load", "numpy.save", "numpy.savez",
    "numpy.savez_compressed", "numpy.fromfile", "numpy.loadtxt", "numpy.savetxt", "numpy.genfromtxt", "numpy.memmap",
    "numpy.lib.npyio", "numpy.lib.format",
})
OBFUSCATION = frozenset({"builtins", "types.FunctionType", "types.CodeType", "types.LambdaType", "types.ModuleType",
                         "operator.attrgetter", "operator.methodcaller"})
ALLOWED_NAMES = frozenset({"os.path", "os.path.join", "os.cpu_count", "os.sep"})
# Library settings a student may assign (any other assignment into an imported module is monkeypatching).
ALLOWED_SETTINGS = frozenset({"torch.backends.cudnn.deterministic", "torch.backends.cudnn.benchmark",
                              "torch.backends.cudnn.allow_tf32", "torch.backends.cuda.matmul.allow_tf32"})
IPYTHON_NAMES = frozenset({"get_ipython", "__IPYTHON__"})  # flagged as names and as attributes
IPYTHON_ATTRS = frozenset({  # flagged as attributes of anything but the cell's own names (self, locals)
    "input_transformers", "input_transformers_post", "input_transformers_cleanup", "ast_transformers", "events",
    "register_magic_function", "register_magics", "run_cell", "run_line_magic", "run_cell_magic", "set_hook",
    "user_ns", "user_global_ns",
})
MAGIC_CALLS = {"run_line_magic": "%", "run_cell_magic": "%%", "system": "!", "getoutput": "!"}
# Frame, code and class-graph introspection (as attributes or names): the usual ways out of a sandbox.
INTROSPECTION = frozenset({
    "__globals__", "__code__", "__closure__", "__subclasses__", "__bases__", "__mro__", "__builtins__",
    "__getattribute__", "__loader__", "__spec__", "f_globals", "f_locals", "f_builtins", "f_back", "tb_frame",
    "gi_frame", "cr_frame", "ag_frame",
})
# Defining these, even in the student's own class, changes how torch, numpy or isinstance treat objects.
OVERRIDE_HOOKS = frozenset({"__torch_function__", "__torch_dispatch__", "__array_function__", "__array_ufunc__",
                            "__instancecheck__", "__subclasscheck__"})
HARMLESS_DUNDERS = frozenset({"__doc__", "__name__", "__qualname__", "__module__", "__wrapped__", "__annotations__"})
# Built-in names a student may rebind at the top level of a cell (rebinding any other shadows what tests use).
REUSABLE_BUILTINS = frozenset({"input", "id", "format", "help", "dir", "hash", "copyright", "credits", "license"})
# String literals that point at grading files, by the word shown to the student.
SUSPICIOUS_STRINGS = {
    "gradebook": re.compile(r"gradebook", re.I),
    "nbgrader": re.compile(r"nbgrader", re.I),
    "source/": re.compile(r"(?:^|[\\/])source[\\/]|source[\\/]\d\d-", re.I),
    "solutions": re.compile(r"(?:^|[\\/])solutions(?:[\\/]|$)", re.I),
    "autograded": re.compile(r"(?:^|[\\/])autograded(?:[\\/]|$)", re.I),
}
# What a name means when neither the cell nor (for scan_notebook) any other cell imports or binds it: what a
# set-up cell imports, and modules no one names a variable after. (Not `signal`, `code`, `io`: variables too.)
DEFAULT_IMPORTS = {
    "torch": "torch", "np": "numpy", "numpy": "numpy", "F": "torch.nn.functional", "nn": "torch.nn", "math": "math",
    "course": "course", "plt": "matplotlib.pyplot", "functools": "functools", "itertools": "itertools",
    **{m: m for m in ("os", "sys", "builtins", "IPython", "nbgrader", "ctypes", "gc", "inspect", "importlib", "atexit",
                      "subprocess", "threading", "multiprocessing", "pickle", "marshal", "shelve", "shutil", "pathlib",
                      "tempfile", "sqlite3")},
}
# Cells with more lines, or more lines that may hold a magic (%, !, ending in ?), are reported, not scanned:
# IPython's transformer takes time proportional to lines times magics. So is code nested too deep to scan.
MAX_LINES, MAX_MAGIC_LINES, DEEPEST = 1_000, 100, 10_000
_RULE_OF = {**{n: "file-access" for n in FILE_ACCESS}, **{n: "process" for n in PROCESS},
            **{n: "obfuscation" for n in OBFUSCATION}}
_LEAVES = frozenset(name.rsplit(".", 1)[1] for name in _RULE_OF if "." in name)  # "_exit", "modules", ...
_BUILTINS = frozenset(dir(builtins)) - {"_", "__", "___", "get_ipython", "display", "__IPYTHON__"}  # IPython adds those
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_SEQ = (ast.Tuple, ast.List)
_SCOPES = (*_DEFS, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass(frozen=True)
class Finding:
    cell_id: str  # the nbgrader grade_id of the cell, or the cell's `id` for cells without nbgrader metadata
    line: int  # 1-based line in the cell's original source
    rule: str  # "monkeypatch", "ipython-hook", "magic", "process", "file-access", "forbidden-import", "obfuscation"
    message: str  # one sentence a student understands, in the language in use when the scan ran


def _uses(rule: str, name: str) -> Message:
    """What a student is told about a name of one of the rule tables."""
    if rule == "process":
        return msg("uses {name}: touching the interpreter or other processes is not allowed", name=name)
    if rule == "file-access":
        return msg("uses {name}: answer cells may not touch files or the operating system", name=name)
    return msg("uses {name}: building functions or reaching attributes indirectly is not allowed", name=name)


def _prefixes(name: str, shortest: int = 1) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), shortest - 1, -1)]


def _lookup(qual: str, implicit: bool = False) -> str | None:
    """The rule of a dotted name's longest entry in the tables, or None; `len` alone does not match "builtins"."""
    if qual not in ALLOWED_NAMES:
        return next((_RULE_OF[p] for p in _prefixes(qual, 2 if implicit else 1) if p in _RULE_OF), None)
    return None


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


_SHADOWABLE = frozenset(n for n in _BUILTINS - REUSABLE_BUILTINS if not _is_dunder(n))  # may not be rebound


def _literal(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _called(node: ast.Call) -> str | None:
    """The name a call calls: "getattr" for getattr(...), "system" for get_ipython().system(...)."""
    return getattr(node.func, "id", None) or getattr(node.func, "attr", None)


def _same_scope(tree):
    """The nodes of the module's own scope (function, class, lambda and comprehension bodies left out)."""
    stack = list(ast.iter_child_nodes(tree))
    while stack:
        yield (node := stack.pop())
        if not isinstance(node, _SCOPES):
            stack.extend(ast.iter_child_nodes(node))


class _Names:
    """What the names of a cell stand for: its imports and aliases of them, its own names, the notebook's imports."""

    def __init__(self, tree: ast.AST, context: dict[str, str]):
        self.imported, self.local, self.context = {}, set(), context
        nodes = list(ast.walk(tree))  # walked once: a notebook's every code cell passes through here
        self.classes = {n.name for n in nodes if isinstance(n, ast.ClassDef)}
        for node in nodes:
            if isinstance(node, ast.Import):
                for a in node.names:
                    top = a.name.split(".")[0]
                    self.imported[a.asname or top] = a.name if a.asname else top
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                self.imported.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
            elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                self.local.add(node.id)
            elif isinstance(node, (*_DEFS, ast.arg)):
                self.local.add(node.arg if isinstance(node, ast.arg) else node.name)
        pairs = [pair for node in nodes for pair in self._pairs(node)]
        for _ in range(3):  # aliases: `t = torch`, `T = torch.Tensor`, `for m in (torch, np)`, `def f(m=torch)`
            found = False
            for name, value in pairs:
                if name not in self.imported and (q := self.qual(value)) and not q[1]:  # `pick = max`: no alias
                    self.imported[name] = q[0]
                    found = True
            if not found:  # another pass would find nothing either
                break

    @staticmethod
    def _pairs(node):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(t, ast.Name):
                    yield t.id, node.value
                elif isinstance(t, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    yield from ((a.id, v) for a, v in zip(t.elts, node.value.elts) if isinstance(a, ast.Name))
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name) and isinstance(node.iter, _SEQ):
            yield from ((node.target.id, v) for v in node.iter.elts)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            positional = (a.posonlyargs + a.args)[len(a.posonlyargs + a.args) - len(a.defaults):]
            yield from ((p.arg, d) for p, d in zip(positional + a.kwonlyargs, a.defaults + a.kw_defaults) if d)

    def resolve(self, name: str) -> tuple[str, bool] | None:
        """(dotted name, is it a bare built-in?) for a name that is not the student's own, else None."""
        if name in self.imported:
            return self.imported[name], False
        if name == "__builtins__":
            return "builtins", False
        if name in self.local:
            return None
        if name in self.context or name in DEFAULT_IMPORTS:
            return self.context.get(name) or DEFAULT_IMPORTS[name], False
        return (f"builtins.{name}", True) if name in _BUILTINS else None

    def qual(self, node) -> tuple[str, bool] | None:
        """resolve() for a Name/Attribute chain: ("torch.testing.assert_close", False) for `tt.assert_close`."""
        attrs = []
        while isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        root = self.resolve(node.id) if isinstance(node, ast.Name) else None
        return (".".join([root[0], *reversed(attrs)]), root[1]) if root else None

    def own(self, node) -> bool:
        """Whether an attribute chain starts at one of the cell's own names (`self.events`, `log.events`)."""
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        return isinstance(node, ast.Name) and node.id in self.local and node.id not in self.imported

    def root(self, node) -> tuple[str, bool] | None:
        """qual() of what an assignment target belongs to, through subscripts, vars() and getattr()."""
        while True:
            if isinstance(node, (ast.Attribute, ast.Subscript)):
                node = node.value
            elif isinstance(node, ast.Call) and _called(node) in ("vars", "getattr") and node.args:
                node = node.args[0]
            else:
                return self.qual(node)


class _Scanner(ast.NodeVisitor):
    def __init__(self, names: _Names, line_of, original: list[str]):
        self.names, self.line_of, self.original, self.found, self.skip = names, line_of, original, [], set()

    def add(self, node, rule: str, message: Message):
        """A finding at ``node``; its message is written in the language in use now (the submission's edition)."""
        self.found.append((self.line_of(getattr(node, "lineno", 1)), rule, str(message)))

    def check_name(self, node, qual: tuple[str, bool] | None, shown: str):
        if qual and (rule := _lookup(*qual)):
            self.add(node, rule, _uses(rule, shown))

    def check_attr(self, node, attr: str):
        if (attr in IPYTHON_NAMES and id(node) not in self.skip) or \
                (attr in IPYTHON_ATTRS and isinstance(node, ast.Attribute) and not self.names.own(node)):
            self.add(node, "ipython-hook", msg("uses {name}: hooking into IPython is not allowed in answer cells",
                                               name=attr))
        elif attr in INTROSPECTION and not (isinstance(node, ast.Name) and attr == "__builtins__"):
            self.add(node, "obfuscation", msg("uses {name}: introspecting frames, functions or classes is not "
                                              "allowed", name=attr))

    def store(self, target, verb: Message):
        qual, shown = self.names.qual(target), ast.unparse(target)
        if qual and qual[0] != shown and not qual[1]:
            shown += f" ({qual[0]})"
        if self.names.root(target) and not (qual and qual[0] in ALLOWED_SETTINGS):
            self.add(target, "monkeypatch", msg("{verb} {name}: changing library functions and objects is not "
                                                "allowed", verb=verb, name=shown))
        elif isinstance(target, ast.Attribute) and _is_dunder(target.attr) and target.attr not in HARMLESS_DUNDERS \
                and (target.attr in OVERRIDE_HOOKS or not (isinstance(target.value, ast.Name)
                                                           and target.value.id in self.names.classes)):
            self.add(target, "monkeypatch", msg("{verb} {name}: redefine special methods only inside your own class "
                                                "body", verb=verb, name=shown))

    def check_import(self, node, module: str) -> bool:
        prefixes = _prefixes(module)
        if any(p in FORBIDDEN_IMPORTS for p in prefixes) and not any(p in ALLOWED_IMPORTS for p in prefixes):
            self.add(node, "forbidden-import", msg("imports {module}: this module is not allowed in answer cells",
                                                   module=module))
            return True
        return False

    def visit_Import(self, node):
        for a in node.names:
            self.check_import(node, a.name)

    def visit_ImportFrom(self, node):
        if node.module and not node.level and not self.check_import(node, node.module):
            for a in node.names:
                self.check_name(node, (f"{node.module}.{a.name}", False), f"{node.module}.{a.name}")
                if a.name == "*" and any(n.startswith(node.module + ".") for n in _RULE_OF):
                    self.add(node, "forbidden-import", msg("imports * from {module}: import names one by one",
                                                           module=node.module))

    def visit_Name(self, node):
        self.check_attr(node, node.id)
        if node.id in OVERRIDE_HOOKS and isinstance(node.ctx, ast.Store):
            self.add(node, "monkeypatch", msg("defines {name}: changing how libraries treat objects is not allowed",
                                              name=node.id))
        if isinstance(node.ctx, ast.Load):  # a dangerous built-in stays dangerous under a parameter of its name
            builtin = (f"builtins.{node.id}", True) if node.id in _BUILTINS else None
            self.check_name(node, self.names.resolve(node.id) or builtin, node.id)

    def visit_Attribute(self, node):
        if not isinstance(node.ctx, ast.Load):
            self.store(node, msg("deletes") if isinstance(node.ctx, ast.Del) else msg("assigns to"))
        if id(node) not in self.skip:
            self.check_attr(node, node.attr)
        qual = self.names.qual(node)
        if qual is None:
            return self.generic_visit(node)
        if node.attr == "__dict__":
            self.add(node, "obfuscation", msg("uses {name}: write library attributes out, not via __dict__",
                                              name=ast.unparse(node)))
        chain = node.value  # a chain like os.path.exists is checked once, as a whole
        while isinstance(chain, ast.Attribute):
            self.check_attr(chain, chain.attr)
            chain = chain.value
        self.check_attr(chain, chain.id)
        if isinstance(node.ctx, ast.Load):
            self.check_name(node, qual, ast.unparse(node))

    def visit_Subscript(self, node):
        if not isinstance(node.ctx, ast.Load):
            self.store(node, msg("deletes") if isinstance(node.ctx, ast.Del) else msg("assigns to"))
        self.generic_visit(node)

    def visit_FunctionDef(self, node):
        if node.name in OVERRIDE_HOOKS:
            self.add(node, "monkeypatch", msg("defines {name}: changing how libraries treat objects is not allowed",
                                              name=node.name))
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Global(self, node):
        for name in _SHADOWABLE.intersection(node.names):
            self.add(node, "monkeypatch", msg("declares the built-in {name} global: replacing built-ins is not "
                                              "allowed", name=name))

    def visit_Constant(self, node):
        text = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
        words = [w for w, found in SUSPICIOUS_STRINGS.items() if found.search(text)] if isinstance(text, str) else []
        for word in words:
            self.add(node, "file-access", msg("mentions '{word}' in a string: answer cells must not name grading "
                                              "files", word=word))

    def visit_Call(self, node):
        func, args, name = node.func, node.args, _called(node)
        if name in MAGIC_CALLS and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) \
                and _called(func.value) == "get_ipython" and "get_ipython" not in self.line(node):  # written as magic
            self.skip.update({id(func), id(func.value.func)})
            what = (" ".join(filter(None, map(_literal, args[:2]))).splitlines() or [""])[0][:40]
            self.add(node, "magic", msg("uses the IPython command {command}: magics and shell commands are not "
                                        "allowed in answer cells", command=MAGIC_CALLS[name] + what))
        elif name in ("setattr", "delattr", "__setattr__", "__delattr__") and args:
            bound = isinstance(func, ast.Attribute) and len(args) < (2 if "del" in name else 3)  # obj.__setattr__(n, v)
            obj, attr = (func.value, args[0]) if bound else (args[0], args[1] if len(args) > 1 else None)
            target = ast.Attribute(value=obj, attr=_literal(attr) or "<name>", ctx=ast.Store(), lineno=node.lineno)
            self.store(target, msg("calls {name} on", name=name.strip("_")))
        elif isinstance(func, ast.Name) and name == "getattr" and args and self.names.resolve(name):
            root, literal = self.names.root(args[0]), _literal(args[1]) if len(args) > 1 else None
            if root:
                self.add(node, "obfuscation", msg("uses getattr on {name}: write the attribute out",
                                                  name=ast.unparse(args[0])))
                self.check_name(node, literal and (f"{root[0]}.{literal}", root[1]), f"{root[0]}.{literal}")
            elif literal is None and not (isinstance(args[0], ast.Name) and args[0].id == "self"):
                self.add(node, "obfuscation", msg("uses getattr with a computed name: write the attribute out "
                                                  "instead"))
            elif literal in _LEAVES and not isinstance(args[0], (ast.Name, ast.Attribute)):
                self.add(node, "obfuscation", msg("uses getattr(..., {name!r}): write the attribute out instead",
                                                  name=literal))
            if literal:
                self.check_attr(node, literal)
        elif isinstance(func, ast.Name) and name == "vars" and self.names.resolve(name) and (
                not args or self.names.root(args[0])):
            self.add(node, "obfuscation", msg("uses vars() on a module or namespace: write the attribute out "
                                              "instead"))
        self.generic_visit(node)

    def line(self, node) -> str:
        return self.original[self.line_of(node.lineno) - 1] if self.original else ""


@lru_cache(maxsize=1)
def _transformer():
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


class _Unreadable(Exception):
    pass


def _parse(source: str, lines_mapped: bool = True) -> tuple[ast.Module, dict[int, int]] | None:
    """Parse a cell as IPython runs it, and map line numbers of the transformed code back to the source
    (unless not ``lines_mapped``: then the map is empty)."""
    lines = source.splitlines()
    magic_like = sum("%" in line or "!" in line or line.rstrip().endswith("?") for line in lines)
    if len(lines) > MAX_LINES or magic_like > MAX_MAGIC_LINES:
        raise _Unreadable
    try:
        code = _transformer().transform_cell(source)
    except Exception:  # noqa: BLE001 - what IPython cannot transform is scanned as plain Python
        code = source
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    old, new, mapping = source.splitlines(), code.splitlines(), {}
    if not lines_mapped:
        return tree, {}
    if old == new:  # plain Python, as most cells are: each line is itself
        return tree, {i: i for i in range(1, len(old) + 1)}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        for j in range(j1, j2):
            if tag == "equal" or i2 - i1 == j2 - j1:
                mapping[j + 1] = i1 + (j - j1) + 1
            elif new[j].startswith("get_ipython().run_cell_magic("):  # the %% line that starts the cell
                mapping[j + 1] = 1 + next((i for i in range(i1, i2) if old[i].lstrip().startswith("%%")), i1)
            elif i2 > i1:  # the most similar line of the replaced block
                similarity = [difflib.SequenceMatcher(None, old[i], new[j]).ratio() for i in range(i1, i2)]
                mapping[j + 1] = i1 + 1 + similarity.index(max(similarity))
    return tree, {j: min(max(i, 1), max(len(old), 1)) for j, i in mapping.items()}


@functools.lru_cache(maxsize=512)
def _parse_for_context(source: str, lines_mapped: bool = False) -> tuple[ast.Module, dict[int, int]] | None:
    """:func:`_parse`, kept, for a locked cell: every submission of an assignment has the same locked cells, and
    one grading process scans many (the trees are only read; students' own cells are not kept)."""
    return _parse(source, lines_mapped=lines_mapped)


def _scan(source: str, cell_id: str, context: dict[str, str]) -> list[Finding]:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, DEEPEST))  # deeply nested code that still compiles is scanned too
    try:
        parsed = _parse(source)
        if parsed is None:  # a syntax error is not a cheat: the cell does not run at all
            return []
        tree, mapping = parsed
        scanner = _Scanner(_Names(tree, context), lambda n: mapping.get(n, 1), source.splitlines())
        for node in _same_scope(tree):  # top-level names that shadow the built-ins tests use
            name = node.name if isinstance(node, _DEFS) else node.id if isinstance(node, ast.Name) else None
            if name in _SHADOWABLE and isinstance(getattr(node, "ctx", ast.Store()), ast.Store):
                scanner.add(node, "monkeypatch", msg("redefines the built-in {name}: replacing built-ins is not "
                                                     "allowed", name=name))
        scanner.visit(tree)
    except (RecursionError, MemoryError, _Unreadable):  # fail closed: what cannot be checked does not pass
        return [Finding(cell_id, 1, "obfuscation", str(msg("is too long or nested too deeply to check: split it up")))]
    finally:
        sys.setrecursionlimit(limit)
    return [Finding(cell_id, *f) for f in sorted(set(scanner.found))]


def scan_source(source: str, cell_id: str = "cell") -> list[Finding]:
    """Findings for one cell; names the notebook's set-up cell usually imports (DEFAULT_IMPORTS) count as imported."""
    return _scan(source, cell_id, {})


def scan_notebook(nb: nbformat.NotebookNode) -> list[Finding]:
    """Scan every code cell a student can change (:func:`course.cells.is_student_code`): answer cells and code
    cells without a lock (cells the student added). Locked cells are skipped: nbgrader restores them from the
    instructor's copy."""
    context: dict[str, str] = {}  # imports and aliases of every cell, for names a cell uses but does not bind
    for cell in nb.cells:
        try:
            parse = _parse if cells.is_student_code(cell) else _parse_for_context  # keep only the locked cells
            if cell.cell_type == "code" and (parsed := parse(cell.source, lines_mapped=False)):
                context.update(_Names(parsed[0], context).imported)
        except (RecursionError, MemoryError, _Unreadable):
            pass  # such a cell is reported by _scan if the student can change it
    findings = []
    for index, cell in enumerate(nb.cells):
        if cells.is_student_code(cell):
            cell_id = cells.grade_id(cell) or cell.get("id") or f"cell-{index}"
            findings += _scan(cell.source, cell_id, context)
    return findings
