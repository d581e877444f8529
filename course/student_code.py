"""Your model, built from your chapters: the answer cells of your own notebooks as a small package.

Chapter 08 (and ``python -m course.train --student-notebooks DIR``) can assemble its Transformer from
what the student wrote earlier: multi-head attention (chapter 05), the sinusoidal table and RoPE (06),
the feed-forward block, the encoder and decoder layers and their stacks (07), and train it with the
student's ``smoothed_cross_entropy`` (08). It is d2l's ``#@save`` idea done safely:

* only the **answer cells** (nbgrader ``solution: true``) of each notebook are executed, each into a
  fresh module namespace that holds just ``math``, ``torch``, ``nn``, ``F`` and what the chapter hands
  out (chapter 07's ``MultiHeadAttention``); the notebook's other cells never run;
* each piece is then vouched for by the **visible** part of its own test cells (the code before
  ``### BEGIN HIDDEN TESTS``; a test cell whose nbgrader checksum shows it was edited is not trusted);
  a piece that is missing, still raises ``NotImplementedError`` or fails a visible test is replaced
  by the course's version **for that piece only**, and the report says which and why;
* a notebook that is missing or cannot be read gives one message naming the file; a missing name
  gives one naming the file and the name (:class:`StudentCodeError`); the sources used are shown.

The course's versions are ``course.attention`` and ``course.blocks`` (the classes chapter 08 hands
out). Their interfaces and chapters 05–07's cannot be one, because each is fixed by the text students
read, and they differ on purpose; the adapters below bridge exactly these differences:

* **attention**: chapter 05's ``MultiHeadAttention`` is the readable one, called like
  ``nn.MultiheadAttention``: ``mha(query, key, value, mask)``, four ``nn.Linear``. ``course.blocks``' is
  packed, fused and cached for training and decoding: ``attn(query, memory, mask, is_causal, rope)``, and
  chapter 08's KV-cache exercises use its ``in_proj``, ``memory_kv`` and ``attend_memory``.
  ``_AsBlocksAttention`` puts a chapter-05 attention inside the course's layers.
* **the decoder's mask**: chapter 07's decoder takes the target mask it teaches students to build,
  ``decoder(tgt, memory, tgt_mask, memory_mask)``; chapter 08's ``parts`` are causal inside,
  ``decoder(y, memory, memory_mask, rope)``. The course's decoder layer and stack take chapter 07's call
  (``_course_decoder_layer``, ``_course_*_stack``), and ``_decoder_part`` hands a chapter-07 decoder
  its causal mask (chapter 05's ``causal_mask``, the student's where it passes).
* **positions**: RoPE comes in chapter 06, after chapter 05's attention, and chapter 07's layers have no
  place for it; chapter 08 passes ``rope`` down the stacks. ``_RopeHooks`` rotates the queries and keys of
  a chapter-05 attention from outside (``_encoder_part``, ``_decoder_part``). Chapter 06's
  ``apply_rope(x, positions)`` and ``sinusoidal_table(n, d)`` are functions; ``parts`` takes a RoPE module
  and a checked float table (``_rotary_part``, ``_positions_part``).

Which cells are answers and tests is :mod:`course.cells`' to say, as for the grader.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import html
import inspect
import io
import json
import math
import re
import traceback
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from course import attention as course_attention
from course import blocks, cells
from course.language import pick
from course.tokenizer import BOS, EOS, PAD

__all__ = ["Parts", "course_parts", "Piece", "StudentBuild", "StudentCodeError", "read_answers", "find_notebook",
           "build_student_model", "bind_parts", "cross_attention_maps", "NOTEBOOKS"]

NOTEBOOKS = ("05-attention", "06-position-encoding", "07-encoder-decoder", "08-transformer")
HIDDEN = "### BEGIN HIDDEN TESTS"


class StudentCodeError(ValueError):
    """A student notebook that is missing, unreadable, or lacks a name: the message names the file (and name)."""


# ------------------------------------------------------------------------------------------ the parts

@dataclass(frozen=True)
class Parts:
    """The building blocks chapter 08's ``Transformer`` is made of (its ``parts=`` argument).

    * ``Encoder(n_layers, d_model, n_heads, d_ff, dropout, norm_first)`` → a module called as
      ``encoder(x, mask, rope)``;
    * ``Decoder(...)`` (same arguments) → ``decoder(y, memory, memory_mask, rope)``, causal inside;
    * ``positions(n, d)`` → the (n, d) sinusoidal table;
    * ``Rotary(d_head)`` → RoPE, a module applied to (batch, heads, seq, d_head) queries and keys.
    """

    Encoder: Callable[..., nn.Module]
    Decoder: Callable[..., nn.Module]
    positions: Callable[[int, int], torch.Tensor]
    Rotary: Callable[[int], nn.Module]
    label: str = "the course's course.blocks"


course_parts = Parts(blocks.Encoder, blocks.Decoder, blocks.SinusoidalPositions.build, blocks.RotaryEmbedding)


# ------------------------------------------------------------------------------------ reading notebooks

@dataclass
class AnswerCell:
    grade_id: str
    source: str
    names: list[str]  # the functions and classes it defines
    tests: list[tuple[str, str, bool]] = field(default_factory=list)  # (grade_id, visible source, trusted)
    error: str | None = None  # how executing it failed


@dataclass
class StudentNotebook:
    path: Path
    cells: list[AnswerCell]
    namespace: dict

    def cell_of(self, name: str) -> AnswerCell | None:
        return next((c for c in self.cells if name in c.names), None)


def _defined_names(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return re.findall(r"^(?:def|class)\s+(\w+)", source, flags=re.M)
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def test_cell_checksum(source: str, grade_id: str, points: float) -> str:
    """nbgrader's checksum of a locked test cell (``nbgrader.utils.compute_checksum``, written out so that
    reading a notebook does not import nbgrader: md5 of source, type, grade/solution/locked flags, id, points)."""
    m = hashlib.md5()  # noqa: S324 - nbgrader's own choice, not a security boundary
    for part in (source, "code", "True", "False", "True", grade_id, str(float(points))):
        m.update(part.encode("utf-8"))
    return m.hexdigest()


def _checksum_ok(source: str, meta: dict) -> bool:
    """False only when the test cell carries nbgrader's checksum and its content no longer matches it."""
    expected = meta.get("checksum")
    if not expected:
        return True
    try:
        return test_cell_checksum(source, str(meta["grade_id"]), float(meta["points"])) == expected
    except (KeyError, TypeError, ValueError):
        return False


def _read_cells(path: Path) -> list[dict]:
    """The cells of an .ipynb file (nbformat 4 JSON, read with the json module: nbformat is slow to import),
    each with its type, its source as one string and its metadata (what :mod:`course.cells` reads)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StudentCodeError(f"{path}: no such notebook") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise StudentCodeError(f"{path}: cannot be read as a notebook ({type(err).__name__}: {err})") from None
    found = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(found, list) or data.get("nbformat") != 4:
        raise StudentCodeError(f"{path}: cannot be read as a notebook (not the JSON of an nbformat-4 notebook)")
    out = []
    for cell in found:
        if not isinstance(cell, dict):
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        out.append({"cell_type": cell.get("cell_type"), "source": source, "metadata": cell.get("metadata")})
    return out


def find_notebook(directory: str | Path, name: str) -> Path:
    """``directory/name/name.ipynb`` (nbgrader's release/ and a fetched assignment) or ``directory/name.ipynb``."""
    directory = Path(directory)
    for candidate in (directory / name / f"{name}.ipynb", directory / f"{name}.ipynb"):
        if candidate.is_file():
            return candidate
    raise StudentCodeError(f"{directory / name / (name + '.ipynb')}: no such notebook (looked for your copy of "
                           f"chapter {name[:2]} there and at {directory / (name + '.ipynb')})")


def _seed(name: str, handed_out: dict[str, Any]) -> dict[str, Any]:
    ns: dict[str, Any] = {"__name__": f"student_{name.replace('-', '_')}", "__builtins__": __builtins__,
                          "math": math, "torch": torch, "nn": nn, "F": F}
    ns.update(handed_out)
    return ns


def read_answers(path: str | Path, handed_out: dict[str, Any] | None = None) -> StudentNotebook:
    """Execute the answer cells of the notebook at ``path`` (only those) into a fresh module namespace.

    ``handed_out``: extra names the chapter's set-up cell would have given (e.g. chapter 07's
    ``MultiHeadAttention``). A cell that fails to run is recorded (``cell.error``), not raised.
    Raises :class:`StudentCodeError` naming the file when it cannot be read as a notebook.
    """
    path = Path(path)
    module = types.ModuleType(f"student_{path.stem.replace('-', '_')}")
    module.__dict__.update(_seed(path.stem, handed_out or {}))
    module.__file__ = str(path)
    answers: list[AnswerCell] = []
    for cell in _read_cells(path):
        source = cell["source"]
        if cells.is_answer(cell):
            answers.append(AnswerCell(cells.grade_id(cell) or f"cell {len(answers) + 1}", source,
                                      _defined_names(source)))
        elif cells.is_test(cell) and answers:
            visible = source.split(HIDDEN, 1)[0]
            answers[-1].tests.append((cells.grade_id(cell) or "?", visible, _checksum_ok(source, cells.nbgrader(cell))))
    if not answers:
        raise StudentCodeError(f"{path}: has no answer cells (nbgrader metadata 'solution: true'); is it a "
                               "copy of the course's notebook?")
    for c in answers:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(c.source, f"{path.name} [{c.grade_id}]", "exec"), module.__dict__)  # noqa: S102
        except NotImplementedError:
            c.error = "still raises NotImplementedError (not done yet)"
        except SyntaxError as err:
            c.error = f"has a syntax error (line {err.lineno}: {err.msg})"
        except Exception as err:  # noqa: BLE001 - reported per piece
            c.error = f"raises {type(err).__name__} when it runs: {err}"
    return StudentNotebook(path, answers, module.__dict__)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:300] if text else type(err).__name__


def _vouch(nb: StudentNotebook, name: str) -> str | None:
    """None when ``name`` is defined and its answer cell passes its visible tests, else the reason it does not."""
    cell = nb.cell_of(name)
    if cell is None:
        return f"{nb.path.name} defines no `{name}` in its answer cells"
    if cell.error:
        return f"its answer cell ({cell.grade_id}) {cell.error}"
    if name not in nb.namespace:
        return f"{nb.path.name} defines no `{name}` in its answer cells"
    if not cell.tests:
        return f"no visible test follows its answer cell ({cell.grade_id}) in {nb.path.name}"
    for grade_id, source, trusted in cell.tests:
        if not trusted:
            return f"its test cell {grade_id} was edited (nbgrader's checksum differs), so it cannot vouch for it"
        scope = dict(nb.namespace)
        try:
            with contextlib.redirect_stdout(io.StringIO()), torch.random.fork_rng(devices=[]):
                exec(compile(source, f"{nb.path.name} [{grade_id}, visible part]", "exec"), scope)  # noqa: S102
        except NotImplementedError:
            return "still raises NotImplementedError (not done yet)"
        except AssertionError as err:
            return f"fails its visible test {grade_id}: {_first_line(err)}"
        except Exception as err:  # noqa: BLE001
            return f"its visible test {grade_id} raised {type(err).__name__}: {_first_line(err)}"
    return None


# ------------------------------------------------------------------------------------ pieces and report

@dataclass
class Piece:
    """One building block: whose it is, where it came from, and why the course's is used when it is."""

    name: str
    notebook: str  # e.g. "05-attention"
    obj: Any
    yours: bool
    reason: str = ""
    source: str = ""
    path: str = ""


def _collect(notebook_name: str, directory: Path | None, names: list[str], course: dict[str, Any],
             handed_out: dict[str, Any], given: dict[str, Any] | None = None, requires: dict[str, str] | None = None,
             after: Callable[[Piece, dict], None] | None = None) -> tuple[list[Piece], dict]:
    """The pieces ``names`` of one chapter, in order: the student's where they pass, the course's otherwise.

    ``given`` (name → object) takes them from a running notebook instead of a file (chapter 08 itself);
    ``requires[name]`` is a piece ``name`` builds on: when that one is the course's, ``name`` is too
    (its visible test cannot run on the course's piece); ``after(piece, namespace)`` runs once a piece
    is decided (to put the chosen one in the namespace the next pieces are checked in)."""
    pieces: list[Piece] = []
    if given is not None:
        for name in names:
            pieces.append(Piece(name, notebook_name, given[name], True, "", _source_of(given[name]), "this notebook"))
        return pieces, {}
    try:
        nb = read_answers(find_notebook(directory, notebook_name), handed_out)
    except StudentCodeError as err:
        for name in names:
            piece = Piece(name, notebook_name, course[name], False, str(err))
            pieces.append(piece)
        return pieces, {}
    decided: dict[str, Piece] = {}
    for name in names:
        cell = nb.cell_of(name)
        dep = (requires or {}).get(name)
        if dep is not None and not decided[dep].yours:
            reason = f"it builds on `{dep}`, which is the course's here"
        else:
            reason = _vouch(nb, name)
        if reason is None:
            piece = Piece(name, notebook_name, nb.namespace[name], True, "", cell.source, str(nb.path))
        else:
            piece = Piece(name, notebook_name, course[name], False, reason, cell.source if cell else "", str(nb.path))
        decided[name] = piece
        pieces.append(piece)
        if after is not None:
            after(piece, nb.namespace)
    return pieces, nb.namespace


def _source_of(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""


# ------------------------------------------- adapters: chapters 05–07's interfaces and course.blocks' (docstring)

class _AsBlocksAttention(nn.Module):
    """A chapter-05 attention (``mha(query, key, value, mask)``) behind course.blocks' call
    ``attn(query, memory=None, mask=None, is_causal=False, rope=None)`` (RoPE is added by hooks)."""

    def __init__(self, mha: nn.Module):
        super().__init__()
        self.mha = mha

    def forward(self, query, memory=None, mask=None, is_causal=False, rope=None):
        kv = query if memory is None else memory
        if is_causal:
            causal = torch.ones(kv.shape[1], kv.shape[1], dtype=torch.bool, device=query.device).tril()
            causal = causal[-query.shape[1]:]
            mask = causal if mask is None else mask & causal
        return self.mha(query, kv, kv, mask)


def _course_encoder_layer(mha_cls, ff_cls):
    """The course's encoder layer (course.blocks.EncoderLayer's wiring) around the chosen attention and
    feed-forward classes; blocks' ``layer(x, mask, rope=None)`` is already chapter 07's ``layer(x, mask)``."""

    class CourseEncoderLayer(blocks.EncoderLayer):
        def __init__(self, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
            super().__init__(d_model, n_heads, d_ff, dropout, norm_first)
            self.self_attn = _AsBlocksAttention(mha_cls(d_model, n_heads))
            self.ff = ff_cls(d_model, d_ff, dropout)

    return CourseEncoderLayer


def _course_decoder_layer(mha_cls, ff_cls):
    """The course's decoder layer around the chosen classes, called as chapter 07's
    ``layer(x, memory, tgt_mask, memory_mask)``; it is causal inside, so ``tgt_mask`` (the causal mask) goes unused."""

    class CourseDecoderLayer(blocks.DecoderLayer):
        def __init__(self, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
            super().__init__(d_model, n_heads, d_ff, dropout, norm_first)
            self.self_attn = _AsBlocksAttention(mha_cls(d_model, n_heads))
            self.cross_attn = _AsBlocksAttention(mha_cls(d_model, n_heads))
            self.ff = ff_cls(d_model, d_ff, dropout)

        def forward(self, x, memory, tgt_mask=None, memory_mask=None):
            return super().forward(x, memory, memory_mask)

    return CourseDecoderLayer


def _course_encoder_stack(layer_cls):
    """The course's stack (course.blocks.Encoder: the layers, then a final LayerNorm when Pre-LN) of the chosen
    chapter-07 layers, called as chapter 07's ``encoder(src, src_mask)`` (its layers take no ``rope``)."""

    class CourseEncoder(blocks.Encoder):
        def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
            super().__init__(n_layers, d_model, n_heads, d_ff, dropout, norm_first)
            self.layers = nn.ModuleList(layer_cls(d_model, n_heads, d_ff, dropout, norm_first) for _ in range(n_layers))

        def forward(self, src, src_mask=None):
            for layer in self.layers:
                src = layer(src, src_mask)
            return self.norm(src)

    return CourseEncoder


def _course_decoder_stack(layer_cls):
    """The same for the decoder, called as chapter 07's ``decoder(tgt, memory, tgt_mask, memory_mask)``."""

    class CourseDecoder(blocks.Decoder):
        def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):
            super().__init__(n_layers, d_model, n_heads, d_ff, dropout, norm_first)
            self.layers = nn.ModuleList(layer_cls(d_model, n_heads, d_ff, dropout, norm_first) for _ in range(n_layers))

        def forward(self, tgt, memory, tgt_mask=None, memory_mask=None):
            for layer in self.layers:
                tgt = layer(tgt, memory, tgt_mask, memory_mask)
            return self.norm(tgt)

    return CourseDecoder


class _RopeHooks:
    """RoPE for chapter-05 attention, which has no ``rope`` argument: forward hooks on the ``q_proj`` and
    ``k_proj`` of every self-attention rotate the projected queries and keys, head by head, while active."""

    def __init__(self, root: nn.Module, n_heads: int):
        self.n_heads, self.rope, self.fired = n_heads, None, 0
        for name, module in root.named_modules():
            path = name.split(".")
            if path[-1] in ("q_proj", "k_proj") and "self_attn" in path:
                module.register_forward_hook(self._hook)

    def _hook(self, module, args, out):
        if self.rope is None:
            return None
        self.fired += 1
        b, s, d = out.shape
        heads = out.view(b, s, self.n_heads, d // self.n_heads).transpose(1, 2)  # (batch, heads, seq, d_head)
        return self.rope(heads).transpose(1, 2).reshape(b, s, d)

    @contextlib.contextmanager
    def active(self, rope):
        self.rope, self.fired = rope, 0
        try:
            yield
        finally:
            self.rope = None

    def check(self, rope, where: str) -> None:
        if rope is not None and self.fired == 0:
            raise StudentCodeError(f"position='rope': the {where}'s MultiHeadAttention never calls self.q_proj(...) "
                                   "and self.k_proj(...), so RoPE cannot rotate its queries and keys; train with "
                                   "position='sinusoidal'")


def _encoder_part(encoder_cls):
    """Chapter 07's encoder stack (``encoder(src, src_mask)``) as chapter 08's ``encoder(x, mask, rope)``."""

    class YourEncoder(nn.Module):
        def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=True):
            super().__init__()
            self.stack = encoder_cls(n_layers, d_model, n_heads, d_ff, dropout, norm_first)
            self._rope = _RopeHooks(self.stack, n_heads)

        def forward(self, x, mask=None, rope=None):
            with self._rope.active(rope):
                out = self.stack(x, mask)
            self._rope.check(rope, "encoder")
            return out

    return YourEncoder


def _decoder_part(decoder_cls, causal):
    class YourDecoder(nn.Module):
        def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=True):
            super().__init__()
            self.stack = decoder_cls(n_layers, d_model, n_heads, d_ff, dropout, norm_first)
            self._rope = _RopeHooks(self.stack, n_heads)

        def forward(self, y, memory, memory_mask=None, rope=None, keep_weights=None):
            with self._rope.active(rope):
                out = self.stack(y, memory, causal(y), memory_mask)
            self._rope.check(rope, "decoder")
            return out

    return YourDecoder


def _rotary_part(apply_rope):
    """Chapter 06's ``apply_rope(x, positions)`` as a RoPE module (``rope(x, offset=0)``)."""

    class YourRotary(nn.Module):
        def __init__(self, d_head, base=10000.0):
            super().__init__()
            if d_head % 2:
                raise ValueError(f"RoPE rotates feature pairs, so d_head must be even, got {d_head}")
            self.d_head, self.base = d_head, float(base)

        def forward(self, x, offset=0):
            positions = torch.arange(offset, offset + x.shape[-2], device=x.device)  # on the model's device
            return apply_rope(x, positions, self.base).to(x.dtype)

    return YourRotary


def _positions_part(sinusoidal_table):
    def positions(n, d):
        table = torch.as_tensor(sinusoidal_table(n, d)).float()
        if tuple(table.shape) != (n, d):
            raise StudentCodeError(f"sinusoidal_table({n}, {d}) returned shape {tuple(table.shape)}, not ({n}, {d})")
        return table

    return positions


def _causal_part(causal_mask):
    def causal(y):
        return torch.as_tensor(causal_mask(y.shape[1])).to(y.device).bool()

    return causal


# ------------------------------------------------------------------------------------ chapter 08's side

class _Table(nn.Module):
    """Adds rows offset.. of a fixed position table: ``table(x, offset)`` like course.blocks.SinusoidalPositions."""

    def __init__(self, table: torch.Tensor):
        super().__init__()
        self.register_buffer("table", table, persistent=False)

    def forward(self, x, offset=0):
        return x + self.table[offset: offset + x.shape[1]].to(x.dtype)


@torch.no_grad()
def _uncached_greedy(model, src, src_lengths, max_len):
    """Greedy decoding through ``model.encode`` / ``model.decode`` (no cache), chapter 08's conventions."""
    memory, src_mask = model.encode(src, src_lengths)
    tokens = torch.full((src.shape[0], 1), BOS, dtype=torch.long, device=src.device)
    done = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
    for _ in range(max_len):
        nxt = model.decode(tokens, memory, src_mask)[:, -1].argmax(-1).masked_fill(done, PAD)
        tokens = torch.cat([tokens, nxt[:, None]], 1)
        done |= nxt == EOS
        if bool(done.all()):
            break
    return tokens[:, 1:]


def _course_wiring(parts: Parts) -> type:
    """The course's model (course.blocks.Seq2SeqTransformer's wiring) made of ``parts``: used when chapter 08's
    own ``Transformer`` is not available."""

    class CourseTransformer(blocks.Seq2SeqTransformer):
        def __init__(self, src_vocab, tgt_vocab, **kwargs):
            super().__init__(src_vocab, tgt_vocab, **kwargs)
            c = self.config
            get = (lambda k: c[k]) if isinstance(c, dict) else (lambda k: getattr(c, k))
            d, h = get("d_model"), get("n_heads")
            args = (d, h, get("d_ff"), get("dropout"), get("norm_first"))
            self.encoder = parts.Encoder(get("n_encoder_layers"), *args)
            self.decoder = parts.Decoder(get("n_decoder_layers"), *args)
            if self.positions is not None:
                self.positions = _Table(parts.positions(256, d))
            if self.rope is not None:
                self.rope = parts.Rotary(d // h)

        def greedy_decode(self, src, src_lengths, max_len):  # the cached one needs course.blocks' own layers
            return _uncached_greedy(self, src, src_lengths, max_len)

    return CourseTransformer


def bind_parts(transformer_cls: type, parts: Parts) -> type:
    """A subclass of chapter 08's ``Transformer`` that builds itself from ``parts`` (same constructor otherwise)."""
    if "parts" not in inspect.signature(transformer_cls.__init__).parameters:
        raise StudentCodeError(f"{transformer_cls.__name__}.__init__ takes no parts= argument (an older copy of "
                               "chapter 08's notebook?)")

    class YourTransformer(transformer_cls):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("parts", parts)
            super().__init__(*args, **kwargs)

    YourTransformer.__qualname__ = YourTransformer.__name__ = f"{transformer_cls.__name__}FromYourChapters"
    return YourTransformer


def _course_loss(logits, targets, smoothing):
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=PAD, label_smoothing=smoothing)


# -------------------------------------------------------------------------------------------- the build

@dataclass
class StudentBuild:
    """What :func:`build_student_model` returns: the model class to train, the loss, and which pieces are whose."""

    pieces: list[Piece]
    parts: Parts
    model_class: type
    loss_fn: Callable[..., torch.Tensor]
    directory: str

    def piece(self, name: str) -> Piece:
        for p in self.pieces:
            if p.name == name:
                return p
        raise KeyError(f"no piece {name!r}; the pieces are {[p.name for p in self.pieces]}")

    @property
    def yours(self) -> list[str]:
        return [p.name for p in self.pieces if p.yours]

    @property
    def fallbacks(self) -> list[str]:
        return [p.name for p in self.pieces if not p.yours]

    def report(self) -> str:
        """One line per piece: yours (and from which file) or the course's, and why."""
        width = max(len(p.name) for p in self.pieces)
        lines = [pick(f"Pieces of the model (student notebooks from {self.directory}):",
                      f"模型的各个部件（学生笔记本来自 {self.directory}）：")]
        for p in self.pieces:
            where = (pick(f"yours ({p.notebook})", f"你的（{p.notebook}）") if p.yours
                     else pick(f"course's    because: {p.reason}", f"课程提供的    原因：{p.reason}"))
            lines.append(f"  {p.name:<{width}}  {where}")
        lines.append(pick(f"{len(self.yours)} of {len(self.pieces)} pieces are yours.",
                          f"{len(self.pieces)} 个部件中有 {len(self.yours)} 个是你的。"))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = []
        for p in self.pieces:
            yours, course = pick("yours", "你的"), pick("course's", "课程提供的")
            whose = (f"<b style='color:#070'>{yours}</b> ({html.escape(p.notebook)})" if p.yours
                     else f"<b style='color:#a50'>{course}</b>: {html.escape(p.reason)}")
            src = (f"<details><summary>{pick('source', '源代码')}</summary><pre style='font-size:85%'>"
                   f"{html.escape(p.source)}</pre></details>") if p.source else ""
            rows.append(f"<tr><td><code>{html.escape(p.name)}</code></td><td style='text-align:left'>{whose}{src}"
                        "</td></tr>")
        head = pick(f"Pieces of the model, read from <code>{html.escape(self.directory)}</code>: "
                    f"{len(self.yours)} of {len(self.pieces)} are yours.",
                    f"模型的各个部件，读自 <code>{html.escape(self.directory)}</code>："
                    f"{len(self.pieces)} 个中有 {len(self.yours)} 个是你的。")
        columns = pick("<th>piece</th><th style='text-align:left'>whose (open <i>source</i> to read the code "
                       "used)</th>", "<th>部件</th><th style='text-align:left'>出自谁手（展开<i>源代码</i>可以读到所用"
                       "的代码）</th>")
        return f"<p>{head}</p><table><tr>{columns}</tr>" + "".join(rows) + "</table>"


def _chapter05(directory):
    course = {"MultiHeadAttention": course_attention.MultiHeadAttention, "causal_mask": blocks.causal_mask}
    return _collect("05-attention", directory, ["MultiHeadAttention", "causal_mask"], course, {})[0]


def _chapter06(directory):
    course = {"sinusoidal_table": blocks.SinusoidalPositions.build, "apply_rope": None}
    pieces = _collect("06-position-encoding", directory, ["sinusoidal_table", "apply_rope"], course, {})[0]
    table, rope = pieces
    table.obj = _positions_part(table.obj) if table.yours else blocks.SinusoidalPositions.build
    rope.obj = _rotary_part(rope.obj) if rope.yours else blocks.RotaryEmbedding
    return pieces


def _chapter07(directory, mha):
    """Chapter 07's pieces, bottom up: a course fallback is the course's wiring around the chosen lower pieces."""
    chosen: dict[str, Any] = {"MultiHeadAttention": mha}

    def after(piece: Piece, ns: dict) -> None:
        if not piece.yours:
            piece.obj = {"FeedForward": lambda: blocks.FeedForward,
                         "EncoderLayer": lambda: _course_encoder_layer(mha, chosen["FeedForward"]),
                         "DecoderLayer": lambda: _course_decoder_layer(mha, chosen["FeedForward"]),
                         "Encoder": lambda: _course_encoder_stack(chosen["EncoderLayer"]),
                         "Decoder": lambda: _course_decoder_stack(chosen["DecoderLayer"])}[piece.name]()
        chosen[piece.name] = piece.obj
        ns.update(chosen)  # the student's classes look these up when they are built

    names = ["FeedForward", "EncoderLayer", "DecoderLayer", "Encoder", "Decoder"]
    pieces, ns = _collect("07-encoder-decoder", directory, names, {n: None for n in names},
                          {"MultiHeadAttention": mha}, requires={"Encoder": "EncoderLayer", "Decoder": "DecoderLayer"},
                          after=after)
    if not ns:  # no notebook: every piece is the course's
        for piece in pieces:
            after(piece, {})
    return pieces


def _chapter08(directory, given):
    handed = {"Encoder": blocks.Encoder, "Decoder": blocks.Decoder, "RotaryEmbedding": blocks.RotaryEmbedding,
              "SinusoidalPositions": blocks.SinusoidalPositions, "padding_mask": blocks.padding_mask,
              "BOS": BOS, "EOS": EOS, "PAD": PAD, "course_parts": course_parts}
    course = {"Transformer": None, "smoothed_cross_entropy": _course_loss}
    return _collect("08-transformer", directory, ["Transformer", "smoothed_cross_entropy"], course, handed, given)[0]


def build_student_model(directory: str | Path | None = None, config=None, *, transformer: type | None = None,
                        loss: Callable | None = None, smoke_test: bool = True) -> StudentBuild:
    """Assemble chapter 08's Transformer from the student's notebooks of chapters 05–07 (and 08).

    ``directory``: the folder holding ``05-attention/05-attention.ipynb``, ``06-position-encoding/...``,
    ``07-encoder-decoder/...`` (and ``08-transformer/...``), as nbgrader's release/ and a student's
    fetched assignments lay them out; default: the parent of the current folder (a notebook's kernel
    runs in the notebook's folder, so these are the chapter-08 notebook's siblings).
    ``config``: a ``course.training.TrainConfig``; the assembled model is tried once on a small batch
    with its sizes (``smoke_test``). ``transformer`` / ``loss``: chapter 08's ``Transformer`` and
    ``smoothed_cross_entropy`` from a running notebook (otherwise both are read from ``08-transformer``).

    Returns a :class:`StudentBuild`: ``model_class`` for ``training.train_model(model_class=...)``,
    ``loss_fn`` for its ``loss_fn=``, and ``report()`` / the HTML table of whose each piece is.
    Raises :class:`StudentCodeError` (naming the file and the name) when the assembled model fails.
    """
    directory = Path.cwd().parent if directory is None else Path(directory)
    if not directory.is_dir():
        raise StudentCodeError(f"{directory}: no such folder (it should hold your notebooks, e.g. "
                               f"{directory / '05-attention' / '05-attention.ipynb'})")
    with torch.random.fork_rng(devices=[]):
        p05 = _chapter05(directory)
        mha, causal = p05[0].obj, _causal_part(p05[1].obj)
        p06 = _chapter06(directory)
        p07 = _chapter07(directory, mha)
        given = None
        if transformer is not None or loss is not None:
            given = {"Transformer": transformer, "smoothed_cross_entropy": loss}
        p08 = _chapter08(directory, given)
    for i, piece in enumerate(p08):
        if given is not None and piece.obj is None:  # not passed in by the notebook
            p08[i] = Piece(piece.name, "08-transformer", _course_loss if i else None, False, "not passed in")
    pieces = p05 + p06 + p07 + p08
    by = {p.name: p for p in pieces}
    parts = Parts(_encoder_part(by["Encoder"].obj), _decoder_part(by["Decoder"].obj, causal),
                  by["sinusoidal_table"].obj, by["apply_rope"].obj,
                  label=f"your chapters ({sum(p.yours for p in pieces)} of {len(pieces)} pieces yours)")
    model_class = None
    if by["Transformer"].yours:
        try:
            model_class = bind_parts(by["Transformer"].obj, parts)
        except StudentCodeError as err:
            by["Transformer"].yours, by["Transformer"].reason = False, str(err)
    if model_class is None:
        model_class = by["Transformer"].obj = _course_wiring(parts)
    build = StudentBuild(pieces, parts, model_class, by["smoothed_cross_entropy"].obj, str(directory))
    if smoke_test:
        _smoke_test(build, config)
    return build


def _smoke_test(build: StudentBuild, config) -> None:
    """One forward pass, one loss and one greedy step of the assembled model, with the config's sizes."""
    from course.tasks import Task

    sizes = {}
    if config is not None:
        model_cfg = getattr(config, "model", config)
        sizes = model_cfg.kwargs() if hasattr(model_cfg, "kwargs") else {}
    task = Task(getattr(config, "task", "zh") if config is not None else "zh", test_size=1)
    batch = task.make_batch(["1204", "7"])
    try:
        with torch.random.fork_rng(devices=[]):
            model = build.model_class(len(task.source_tokenizer), len(task.target_tokenizer), **sizes).eval()
            logits = model(batch.src, batch.src_lengths, batch.tgt_in)
            loss = build.loss_fn(logits, batch.tgt_out, 0.1)
            out = model.greedy_decode(batch.src, batch.src_lengths, 3)
    except (StudentCodeError, NotImplementedError):
        raise
    except Exception as err:  # noqa: BLE001 - one readable message, with where it happened
        frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.endswith(".ipynb") or
                  "[" in f.filename]
        where = f" (in {frames[-1].filename}, line {frames[-1].lineno})" if frames else ""
        raise StudentCodeError(f"the model assembled from your notebooks fails on a first batch{where}: "
                               f"{type(err).__name__}: {_first_line(err)}\n{build.report()}") from None
    want = (2, batch.tgt_in.shape[1], len(task.target_tokenizer))
    if tuple(logits.shape) != want or not torch.isfinite(logits).all() or loss.dim() != 0 or out.shape[0] != 2:
        raise StudentCodeError(f"the model assembled from your notebooks gives logits of shape {tuple(logits.shape)} "
                               f"(expected {want}, finite) or a loss of shape {tuple(loss.shape)}\n{build.report()}")


def cross_attention_maps(model: nn.Module, src, src_lengths, tgt_in) -> torch.Tensor:
    """Cross-attention weights of a model built from chapter-05 attention, read from each cross_attn's
    ``last_weights``: (layers, heads, tgt_len, src_len) for the first row of the batch."""
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            memory, mask = model.encode(src, src_lengths)
            model.decode(tgt_in, memory, mask)
    finally:
        model.train(was)
    found = [m.last_weights for name, m in model.named_modules()
             if name.split(".")[-1] in ("cross_attn", "mha") and "cross_attn" in name.split(".")
             and getattr(m, "last_weights", None) is not None]
    if not found:
        raise ValueError("this model's cross-attention keeps no last_weights (chapter 05's MultiHeadAttention does)")
    return torch.stack([w[0].float().cpu() for w in found])
