"""The static scan of student code: honest code passes untouched, each way of cheating is caught."""

from __future__ import annotations

import dataclasses
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from course_grader.grading.scan import Finding, scan_notebook, scan_source

ROOT = Path(__file__).resolve().parent.parent

HONEST = {
    "softmax": """
        import torch

        def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
            \"\"\"Numerically stable softmax: subtract the max before exponentiating.\"\"\"
            shifted = x - x.max(dim=dim, keepdim=True).values
            e = torch.exp(shifted)
            return e / e.sum(dim=dim, keepdim=True)
    """,
    "numpy-softmax": """
        import numpy as np

        def softmax_np(x: np.ndarray, axis: int = -1) -> np.ndarray:
            z = x - np.max(x, axis=axis, keepdims=True)
            return np.exp(z) / np.exp(z).sum(axis=axis, keepdims=True)
    """,
    "layer-norm": """
        def layer_norm(x, gamma, beta, eps=1e-5):
            mean = x.mean(dim=-1, keepdim=True)
            var = x.var(dim=-1, keepdim=True, unbiased=False)
            return gamma * (x - mean) / torch.sqrt(var + eps) + beta
    """,
    "attention": """
        import math
        import torch
        import torch.nn.functional as F

        def attention(q, k, v, causal=False):
            \"\"\"Queries come from the target, keys and values from the source/encoder (source/target pairs).\"\"\"
            scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
            if causal:
                n = scores.shape[-1]
                mask = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
                scores = scores.masked_fill(mask, float("-inf"))
            return F.softmax(scores, dim=-1) @ v
    """,
    "einsum": """
        def attention_scores(q, k):
            return torch.einsum("bhqd,bhkd->bhqk", q, k) * q.shape[-1] ** -0.5
    """,
    "broadcast-shape": """
        from itertools import zip_longest

        def broadcast_shape(a: tuple, b: tuple) -> tuple:
            out = []
            for x, y in zip_longest(reversed(a), reversed(b), fillvalue=1):
                if x != y and 1 not in (x, y):
                    raise ValueError(f"shapes {a} and {b} cannot be broadcast")
                out.append(max(x, y))
            return tuple(reversed(out))
    """,
    "strides": """
        def contiguous_strides(shape):
            strides, step = [], 1
            for size in reversed(shape):
                strides.append(step)
                step *= size
            return tuple(reversed(strides))

        def offset(index, strides, storage_offset=0):
            return storage_offset + sum(i * s for i, s in zip(index, strides))
    """,
    "is-contiguous": """
        def is_contiguous(shape, strides):
            expected = 1
            for size, stride in zip(reversed(shape), reversed(strides)):
                if size != 1 and stride != expected:
                    return False
                expected *= size
            return True
    """,
    "split-heads": """
        def split_heads(x, n_heads):
            b, t, d = x.shape
            assert d % n_heads == 0, f"d_model={d} is not divisible by {n_heads} heads"
            return x.view(b, t, n_heads, d // n_heads).transpose(1, 2).contiguous()
    """,
    "timeit-default-timer": """
        import timeit

        clock = timeit.default_timer
        start = clock()
        elapsed = clock() - start
    """,
    "timing-harness": """
        import time
        import statistics

        def time_it(fn, *, clock=time.perf_counter, repeats=5, warmup=1):
            for _ in range(warmup):
                fn()
            times = []
            for _ in range(repeats):
                t0 = clock()
                fn()
                times.append(clock() - t0)
            return statistics.median(times)
    """,
    "flop-counting": """
        def matmul_flops(m, k, n):
            return 2 * m * k * n

        def attention_flops(seq_len, d_model, n_heads):
            d_head = d_model // n_heads
            return n_heads * (matmul_flops(seq_len, d_head, seq_len) + matmul_flops(seq_len, seq_len, d_head))

        def mfu(flops, seconds, peak_flops_per_s=1e12):
            return flops / seconds / peak_flops_per_s

        TFLOP = 1e12
        print(f"{attention_flops(128, 512, 8) / TFLOP:.3e} TFLOP")
    """,
    "nn-module": """
        import torch
        from torch import nn

        class MLP(nn.Module):
            def __init__(self, d_model: int, d_ff: int, dropout: float = 0.1):
                super().__init__()
                self.up = nn.Linear(d_model, d_ff)
                self.down = nn.Linear(d_ff, d_model)
                self.drop = nn.Dropout(dropout)
                self.register_buffer("scale", torch.tensor(1.0))
                nn.init.xavier_uniform_(self.up.weight)

            def forward(self, input: torch.Tensor) -> torch.Tensor:
                return self.drop(self.down(torch.relu(self.up(input)))) * self.scale
    """,
    "own-layernorm-module": """
        class LayerNorm(nn.Module):
            def __init__(self, d, eps=1e-5):
                super().__init__()
                self.gamma = nn.Parameter(torch.ones(d))
                self.beta = nn.Parameter(torch.zeros(d))
                self.eps = eps
                self.layers = nn.ModuleList()
                for i in range(2):
                    setattr(self, f"extra{i}", nn.Identity())
                    _ = getattr(self, f"extra{i}")

            def forward(self, x):
                with torch.no_grad():
                    self.gamma.data.clamp_(min=0.0)
                return F.layer_norm(x, x.shape[-1:], self.gamma, self.beta, self.eps)
    """,
    "own-dunders": """
        class Shape:
            def __init__(self, *dims):
                self.dims = tuple(dims)

            def __eq__(self, other):
                return isinstance(other, Shape) and self.dims == other.dims

            def __repr__(self):
                return f"{self.__class__.__name__}{self.dims}"

            __hash__ = None

        Shape.__lt__ = lambda a, b: a.dims < b.dims
    """,
    "dataclass-and-typing": """
        from dataclasses import dataclass, field
        from typing import Optional, Tuple
        from collections import defaultdict, namedtuple

        Point = namedtuple("Point", "x y")

        @dataclass
        class Config:
            d_model: int = 512
            n_heads: int = 8
            dropout: Optional[float] = 0.1
            shape: Tuple[int, ...] = field(default_factory=tuple)

        counts = defaultdict(int)
    """,
    "functools-cache": """
        import functools
        import itertools

        @functools.lru_cache(maxsize=None)
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)

        pairs = list(itertools.combinations(range(4), 2))
        squares = {i: i * i for i in range(5)}
        evens = [x for x in range(10) if x % 2 == 0]
        total = functools.reduce(lambda a, b: a + b, evens, 0)
        pick, cast = max, float
        biggest = cast(pick(evens))
    """,
    "requires-grad-seed-no-grad": """
        torch.manual_seed(0)
        x = torch.randn(3, 4)
        x.requires_grad = True
        y = (x ** 2).sum()
        y.backward()
        with torch.no_grad():
            x -= 0.1 * x.grad
            x.grad.zero_()
        x[0, 0] = 1.0
    """,
    "decorators-and-properties": """
        class Counter:
            count = 0

            @staticmethod
            def double(v):
                return 2 * v

            @property
            def twice(self):
                return self.double(self.count)

        @torch.no_grad()
        def evaluate(model, batch):
            model.eval()
            return model(batch).argmax(-1)
    """,
    "errors-and-asserts": """
        def check_positive(n):
            \"\"\"A quadratic has at most two solutions; this only checks the sign.\"\"\"
            if not isinstance(n, int):
                raise TypeError("n must be an int")
            if n <= 0:
                raise ValueError(f"n must be positive, got {n}")
            assert n < 10**9
            try:
                return int(str(n))
            except ValueError:
                return None
    """,
    "syntax-error": """
        def softmax(x:
            return x.exp() / x.exp().sum(
    """,
    "release-stub": """
        def sq(x):
            \"\"\"square\"\"\"
            # YOUR CODE HERE
            raise NotImplementedError()
    """,
    "generator-and-walrus": """
        def batches(data, size):
            for start in range(0, len(data), size):
                if (chunk := data[start:start + size]):
                    yield chunk
    """,
    "os-path-and-cpu-count": """
        import os

        n_workers = min(4, os.cpu_count() or 1)
        name = os.path.join("checkpoints", "model.pt")
    """,
    "modulo-and-percent-format": """
        def wrap(i, n):
            return i % n

        label = "%d%% done" % 50
        note = "is this right?"  # a question?
    """,
    "decorator-wrapper": """
        def logged(fn):
            def wrapper(*args, **kwargs):
                return fn(*args, **kwargs)
            wrapper.__name__ = fn.__name__
            wrapper.__doc__ = fn.__doc__
            return wrapper
    """,
    "cudnn-setting": """
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    """,
    "global-counter": """
        calls = 0

        def step():
            global calls
            calls += 1
            return calls
    """,
    "unicode-and-comments": """
        # 数值稳定的 softmax · stable softmax
        def 平方(x):
            \"\"\"返回 x 的平方。\"\"\"
            return x * x
    """,
    "positional-encoding": """
        def sinusoidal(n_pos, d_model):
            pos = torch.arange(n_pos, dtype=torch.float32)[:, None]
            i = torch.arange(0, d_model, 2, dtype=torch.float32)
            angle = pos / (10000 ** (i / d_model))
            pe = torch.zeros(n_pos, d_model)
            pe[:, 0::2] = torch.sin(angle)
            pe[:, 1::2] = torch.cos(angle)
            return pe
    """,
    "names-that-look-like-hooks-or-modules": """
        class Recorder:
            def __init__(self):
                self.events = []
                self.run_cell = None

        recorder = Recorder()
        for _ in range(3):
            recorder.events.append(_)
        types = ["float32", "int64"]
        types[0] = "float16"
        signal = torch.sin(torch.linspace(0, 6.28, 100))
        code = signal.mean().item()
    """,
    "match-and-lambda-defaults": """
        def activation(name):
            match name:
                case "relu":
                    return F.relu
                case "gelu":
                    return lambda x, approximate="tanh": F.gelu(x, approximate=approximate)
                case _:
                    raise ValueError(name)
    """,
}

CHEATS = [
    # 1. monkeypatching what the tests rely on
    ("patch-torch", "torch.allclose = lambda *a, **k: True", "monkeypatch"),
    ("patch-np-testing", "import numpy as np\nnp.testing.assert_allclose = lambda *a, **k: None", "monkeypatch"),
    ("patch-tensor-eq", "torch.Tensor.__eq__ = lambda a, b: True", "monkeypatch"),
    ("patch-checks-core", "import course.checks.core\ncourse.checks.core.close = lambda *a, **k: None", "monkeypatch"),
    ("patch-core-from", "from course.checks import core\ncore._isinstance = lambda *a: True", "monkeypatch"),
    ("patch-math-alias", "import math as m\nm.isclose = lambda *a, **k: True", "monkeypatch"),
    ("patch-math-setup-cell", "math.isclose = lambda *a, **k: True", "monkeypatch"),
    ("patch-builtins", "import builtins\nbuiltins.len = lambda x: 3", "monkeypatch"),
    ("patch-dunder-builtins-attr", "__builtins__.isinstance = lambda *a: True", "monkeypatch"),
    ("patch-dunder-builtins-item", "__builtins__['len'] = lambda x: 3", "monkeypatch"),
    ("patch-torch-alias", "import torch as t\nt.allclose = lambda *a, **k: True", "monkeypatch"),
    ("patch-from-import", "from torch import testing\ntesting.assert_close = lambda *a, **k: None", "monkeypatch"),
    ("setattr", "setattr(torch, 'allclose', lambda *a, **k: True)", "monkeypatch"),
    ("setattr-nested", "setattr(torch.testing, 'assert_close', print)", "monkeypatch"),
    ("delattr", "delattr(torch.testing, 'assert_close')", "monkeypatch"),
    ("object-setattr", "object.__setattr__(torch, 'allclose', max)", "monkeypatch"),
    ("module-dunder-setattr", "torch.__setattr__('allclose', max)", "monkeypatch"),
    ("nested-chain", "torch.nn.functional.softmax.__defaults__ = (0,)", "monkeypatch"),
    ("in-function", "def sneaky():\n    torch.allclose = lambda *a, **k: True\n\nsneaky()", "monkeypatch"),
    ("in-class-body", "class Helper:\n    torch.allclose = staticmethod(lambda *a, **k: True)", "monkeypatch"),
    ("lambda-default", "f = lambda p=setattr(torch, 'allclose', max): p", "monkeypatch"),
    ("lambda-default-alias", "f = lambda m=torch: m.__setattr__('allclose', max)", "monkeypatch"),
    ("del", "del torch.allclose", "monkeypatch"),
    ("augmented", "torch.testing.some_tolerance += 1.0", "monkeypatch"),
    ("tuple-target", "torch.allclose, x = (lambda *a, **k: True), 1", "monkeypatch"),
    ("annotated", "np.testing.assert_allclose: object = print", "monkeypatch"),
    ("vars-item", "vars(torch)['allclose'] = max", "monkeypatch"),
    ("dict-item", "torch.__dict__['allclose'] = max", "monkeypatch"),
    ("class-alias", "T = torch.Tensor\nT.__eq__ = lambda a, b: True", "monkeypatch"),
    ("module-alias-chain", "a = torch\nb = a\nb.allclose = max", "monkeypatch"),
    ("loop-over-modules", "for mod in (torch, np):\n    mod.allclose = max", "monkeypatch"),
    ("type-of-tensor", "type(torch.zeros(1)).__eq__ = lambda a, b: True", "monkeypatch"),
    ("shadow-isinstance", "def isinstance(*args):\n    return True", "monkeypatch"),
    ("shadow-abs", "abs = lambda x: 0", "monkeypatch"),
    ("global-builtin", "def f():\n    global len\n    len = lambda x: 3", "monkeypatch"),
    ("torch-function-hook", "class Always(torch.Tensor):\n    @classmethod\n    def __torch_function__(cls, *a, **k):\n"
                            "        return True", "monkeypatch"),
    ("instancecheck-hook", "class Meta(type):\n    __instancecheck__ = lambda cls, obj: True", "monkeypatch"),
    ("torch-library", "lib = torch.library.Library('aten', 'IMPL')", "process"),
    ("dispatch-mode", "from torch.overrides import TorchFunctionMode", "process"),
    ("timeit-string", "import timeit\ntimeit.timeit('torch.allclose = max', number=1)", "process"),
    ("environ-write", "import os\nos.environ['OMP_NUM_THREADS'] = '1'", "monkeypatch"),
    # 2. IPython hooks and magics
    ("get-ipython", "ip = get_ipython()\nip.input_transformers_cleanup.append(lambda lines: [])", "ipython-hook"),
    ("events", "get_ipython().events.register('pre_run_cell', print)", "ipython-hook"),
    ("ipython-module", "import IPython\nIPython.get_ipython().ast_transformers.append(None)", "ipython-hook"),
    ("explicit-magic-call", "get_ipython().run_line_magic('time', 'x = 1')", "ipython-hook"),
    ("magic-time", "%time sq(3)", "magic"),
    ("magic-timeit-after-blank", "\n\n%timeit sq(3)", "magic"),
    ("shell-escape", "!ls ../source", "magic"),
    ("shell-capture", "files = !cat ../source/00-demo/00-demo.ipynb", "magic"),
    ("cell-magic", "%%capture\nprint(1)", "magic"),
    ("run-magic", "def sq(x):\n    return x * x\n%run -i cheat.py", "magic"),
    # 3. interpreter / process tampering
    ("sys-modules", "import sys\nsys.modules['torch'].allclose = max", "process"),
    ("sys-modules-no-import", "m = sys.modules", "process"),
    ("settrace", "sys.settrace(lambda *a: None)", "process"),
    ("getframe", "sys._getframe(1).f_globals['equal'] = print", "process"),
    ("os-exit", "import os\nos._exit(0)", "process"),
    ("os-kill", "import os\nos.kill(os.getpid(), 9)", "process"),
    ("exit", "def sq(x):\n    exit()", "process"),
    ("quit", "quit()", "process"),
    ("system-exit", "raise SystemExit(0)", "process"),
    ("signal", "import signal\nsignal.alarm(1)", "process"),
    ("exec", "exec('torch.allclose = max')", "process"),
    ("exec-param-shadow", "def f(exec=exec):\n    exec('1')", "process"),
    ("eval", "x = eval('1 + 1')", "process"),
    ("compile", "code = compile('1', '<s>', 'eval')", "process"),
    ("globals", "globals()['equal'] = print", "process"),
    ("breakpoint", "breakpoint()", "process"),
    ("gc", "import gc\nobjs = gc.get_objects()", "process"),
    ("inspect-frame", "import inspect\ninspect.currentframe().f_back.f_globals['x'] = 1", "process"),
    ("dunder-import", "os = __import__('os')", "process"),
    ("os-system", "import os\nos.system('rm -rf ~')", "process"),
    ("subprocess", "import subprocess\nsubprocess.run(['ls'])", "process"),
    ("threading-attr", "threading.Thread(target=print).start()", "process"),
    ("from-os-import-exit", "from os import _exit", "process"),
    # 4. files
    ("open", "data = open('/etc/passwd').read()", "file-access"),
    ("open-with", "with open('answers.txt', 'w') as f:\n    f.write('x')", "file-access"),
    ("pathlib", "from pathlib import Path\nPath('x').read_text()", "file-access"),
    ("os-listdir", "import os\nprint(os.listdir('.'))", "file-access"),
    ("os-path-exists", "import os\nos.path.exists('x')", "file-access"),
    ("torch-load", "w = torch.load('weights.pt')", "file-access"),
    ("np-save", "np.save('x.npy', np.zeros(3))", "file-access"),
    ("from-torch-import-load", "from torch import load", "file-access"),
    ("gradebook-string", "db = 'gradebook.db'", "file-access"),
    ("solutions-path", "p = '../solutions/00-demo/00-demo.ipynb'", "file-access"),
    ("autograded-path", "p = 'autograded'", "file-access"),
    ("nbgrader-fstring", "x = f'{1}nbgrader'", "file-access"),
    # 5. forbidden imports
    ("import-nbgrader", "import nbgrader", "forbidden-import"),
    ("import-grading", "from course_grader.grading import scan", "forbidden-import"),
    ("import-checks", "from course.checks import equal", "forbidden-import"),
    ("import-ipython", "from IPython import get_ipython", "forbidden-import"),
    ("import-sys", "import sys", "forbidden-import"),
    ("import-builtins-alias", "import builtins as b", "forbidden-import"),
    ("import-importlib", "import importlib", "forbidden-import"),
    ("import-ctypes", "import ctypes", "forbidden-import"),
    ("import-pickle", "import pickle", "forbidden-import"),
    ("import-mock", "from unittest import mock", "forbidden-import"),
    ("import-in-function", "def f():\n    import subprocess", "forbidden-import"),
    ("star-import", "from torch import *\nw = load('weights.pt')", "forbidden-import"),
    # 6. obfuscation
    ("getattr-module", "f = getattr(torch, 'allclose')", "obfuscation"),
    ("getattr-computed", "name = 'all' + 'close'\nf = getattr(model, name)", "obfuscation"),
    ("getattr-string-built", "getattr(__import__('o' + 's'), '_exit')(0)", "obfuscation"),
    ("subclasses", "classes = ().__class__.__bases__[0].__subclasses__()", "obfuscation"),
    ("func-globals", "sq.__globals__['equal'] = print", "obfuscation"),
    ("types-function", "import types\nf = types.FunctionType(sq.__code__, {})", "obfuscation"),
    ("attrgetter", "import operator\nf = operator.attrgetter('allclose')(torch)", "obfuscation"),
    ("builtins-read", "b = __builtins__", "obfuscation"),
]


def _src(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


def test_corpus_sizes():
    assert len(HONEST) >= 25 and len(CHEATS) >= 40
    assert len({name for name, _, _ in CHEATS}) == len(CHEATS)


@pytest.mark.parametrize("source", [pytest.param(_src(s), id=k) for k, s in HONEST.items()])
def test_honest_code_has_no_findings(source):
    assert scan_source(source) == []


@pytest.mark.parametrize("source, rule", [pytest.param(s, r, id=k) for k, s, r in CHEATS])
def test_cheat_is_flagged(source, rule):
    findings = scan_source(source, "answer")
    assert rule in {f.rule for f in findings}, findings
    assert all(f.cell_id == "answer" and f.message and f.line >= 1 for f in findings)


def test_finding_is_frozen_and_message_is_readable():
    (finding,) = scan_source("x = 1\n\ntorch.allclose = max\n", "sq")
    assert finding == Finding("sq", 3, "monkeypatch", finding.message)
    assert finding.message.startswith("assigns to torch.allclose: ")
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.line = 1


@pytest.mark.parametrize(
    "source, line",
    [
        ("x = 1\n%time y = 2\n", 2),
        ("\n\n!ls\n", 3),
        ("\n%%capture out\nprint(1)\nprint(2)\n", 2),
        ("def f(x):\n    return x\n\n\nimport sys\n", 5),
        ("x = 1\ny = [\n  1,\n]\nimport torch as t; t.allclose = max\n", 5),
    ],
)
def test_lines_point_at_the_original_source(source, line):
    assert [f.line for f in scan_source(source)] == [line]


def test_deeply_nested_code_is_still_scanned_and_unscannable_code_fails_closed():
    nested = "x = " + " + ".join(["1"] * 2500) + "\ntorch.allclose = max\n"
    limit = sys.getrecursionlimit()
    assert [(f.line, f.rule) for f in scan_source(nested)] == [(2, "monkeypatch")]
    assert sys.getrecursionlimit() == limit
    too_deep = "x = " + " + ".join(["1"] * 50_000) + "\n"
    too_long = "x = 1\n" * 5_000
    many_magics = "%time x = 1\n" * 1_000
    for source in (too_deep, too_long, many_magics):
        assert [f.rule for f in scan_source(source)] == ["obfuscation"]


def test_syntax_error_is_not_a_cheat():
    assert scan_source("torch.allclose = max\ndef f(:\n") == []


def test_alias_from_another_cell_is_tracked_by_scan_notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _cell("import torch as t", grade_id="setup", locked=True),
        nbformat.v4.new_code_cell("alias = t"),
        _cell("alias.allclose = max", grade_id="answer", solution=True),
    ]
    assert [(f.cell_id, f.rule) for f in scan_notebook(nb)] == [("answer", "monkeypatch")]


def test_student_globals_from_other_cells_are_not_taken_for_modules():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _cell("import math\nimport torch", grade_id="setup", locked=True),
        nbformat.v4.new_code_cell("signal = torch.zeros(8)\ncache = {}"),
        _cell("def energy():\n    cache['e'] = signal.pow(2).sum()\n    return cache['e']",
              grade_id="energy", solution=True),
    ]
    assert scan_notebook(nb) == []


def _cell(source, *, grade_id, solution=False, grade=False, locked=False):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked,
                                 "schema_version": 3, "task": False}
    return cell


def test_scan_notebook_scans_only_cells_the_student_can_change():
    nb = nbformat.v4.new_notebook()
    added = nbformat.v4.new_code_cell("import sys")
    added["id"] = "added-cell"
    nb.cells = [
        _cell("import sys\nsys.modules", grade_id="setup", locked=True),
        _cell("torch.allclose = max", grade_id="sq", solution=True),
        _cell("exec('x')", grade_id="sq_tests", grade=True),
        added,
        _cell("open('x')", grade_id="manual", solution=True, grade=True),
        _cell("quit()", grade_id="unlocked-scratch"),
        nbformat.v4.new_markdown_cell("import sys"),
    ]
    got = {(f.cell_id, f.rule) for f in scan_notebook(nb)}
    assert got == {("sq", "monkeypatch"), ("added-cell", "forbidden-import"), ("manual", "file-access"),
                   ("unlocked-scratch", "process")}


NOTEBOOKS = sorted(ROOT.glob("source/*/*.ipynb"))


@pytest.mark.skipif(not NOTEBOOKS, reason="no source notebooks")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.parent.name for p in NOTEBOOKS])
def test_reference_solutions_have_no_findings(path):
    nb = nbformat.read(path, as_version=4)
    assert any((c.metadata.get("nbgrader") or {}).get("solution") for c in nb.cells)
    assert scan_notebook(nb) == []
