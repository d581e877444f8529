"""Translation tasks generated on the fly: digit strings → Chinese numerals, English words, copies, reversals.

Every task reads a string of 1 to 8 digits. Training samples draw the digit count uniformly from
1..8, so short numbers are as common as long ones. The held-out test set is a FIXED set of 4- to
8-digit strings that training never samples: long strings are a tiny share of their space, so
holding some out costs the model nothing it needs. (A test set drawn like the training data
would take in nearly all one-digit and many two-digit numbers, and a model that never saw them
cannot get them right.) Short inputs (the 0–99 numbers, or every 1–2 digit string) form a separate
check set, made of inputs training does see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

import torch

from course.numerals import _zh_group, to_chinese, to_english
from course.tokenizer import CharTokenizer, pad_batch

DIGITS = "0123456789"
ZH_ALPHABET = "零一二三四五六七八九十百千万"
EN_ALPHABET = "abcdefghijklmnopqrstuvwxyz -"
MAX_DIGITS = 8
TASK_NAMES = ("zh", "en", "copy", "reverse")


class Batch(NamedTuple):
    """A padded batch (pad id 0); tgt_in starts with <bos>, tgt_out is tgt_in shifted left and ends with <eos>.

    src (batch, src_len), src_lengths (batch,), tgt_in (batch, tgt_len), tgt_out (batch, tgt_len).
    """

    src: torch.Tensor
    src_lengths: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor

    def to(self, device: torch.device | str) -> Batch:
        return Batch(*(t.to(device, non_blocking=True) for t in self))


def _max_len(fn: Callable[[int], str], task: str) -> int:
    """An upper bound on the target length (characters) over all inputs, from the longest groups."""
    if task == "zh":  # upper group + 万 + 零 + lower group
        group = max(len(_zh_group(g)) for g in range(1, 10_000))
        return 2 * group + 2
    if task == "en":  # "<m> million <t> thousand <o>", each group at most 999
        group = max(len(to_english(g)) for g in range(1, 1000))
        return 3 * group + len(" million  thousand ")
    return MAX_DIGITS


class Task:
    """One task: its tokenizers, training sampler, held-out test set and short check set.

    ``zero_prob`` shapes training only: each digit after the first is 0 with this probability
    (and uniform over 1..9 otherwise); 0.1 is the uniform distribution. The test set is always
    uniform. For "copy"/"reverse" inputs are arbitrary digit strings (leading zeros allowed).
    """

    def __init__(self, name: str, test_size: int = 1000, test_digits: tuple[int, int] = (4, MAX_DIGITS),
                 test_seed: int = 20240601, zero_prob: float = 0.1):
        if name not in TASK_NAMES:
            raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASK_NAMES)}")
        lo, hi = test_digits
        if not 1 <= lo <= hi <= MAX_DIGITS or lo < 3:
            raise ValueError(f"test_digits must satisfy 3 <= low <= high <= {MAX_DIGITS} (hold out long "
                             f"inputs only), got {test_digits}")
        if not 0.0 <= zero_prob < 1.0:
            raise ValueError(f"zero_prob must be in [0, 1), got {zero_prob}")
        if not isinstance(test_size, int) or not 1 <= test_size <= 20_000:
            raise ValueError(f"test_size must be an int in 1..20000, got {test_size!r}")
        self.name = name
        self.zero_prob = float(zero_prob)
        self.numeric = name in ("zh", "en")
        self.source_tokenizer = CharTokenizer(DIGITS)
        alphabet = {"zh": ZH_ALPHABET, "en": EN_ALPHABET}.get(name, DIGITS)
        self.target_tokenizer = CharTokenizer(alphabet)
        self.bleu_tokenize = {"zh": "zh", "en": "13a"}.get(name, "char")
        self.max_source_len = MAX_DIGITS
        self.max_target_len = _max_len(self.target_text, name)
        g = torch.Generator().manual_seed(test_seed)
        test: dict[str, None] = {}  # insertion-ordered set
        while len(test) < test_size:
            for s in self._draw(test_size, g, lo, hi, uniform=True):
                if len(test) < test_size:
                    test.setdefault(s)
        self.test_set: list[str] = list(test)
        self._held_out = frozenset(self.test_set)
        if self.numeric:
            self.short_set = [str(n) for n in range(100)]
        else:
            self.short_set = list(DIGITS) + [a + b for a in DIGITS for b in DIGITS]

    def __repr__(self) -> str:
        return f"Task({self.name!r}, test_size={len(self.test_set)}, zero_prob={self.zero_prob})"

    # ----------------------------------------------------------------------------- texts

    def target_text(self, source: str) -> str:
        """The expected output for one digit string."""
        if self.name == "zh":
            return to_chinese(int(source))
        if self.name == "en":
            return to_english(int(source))
        return source if self.name == "copy" else source[::-1]

    def pairs(self, sources: list[str]) -> list[tuple[str, str]]:
        return [(s, self.target_text(s)) for s in sources]

    # ----------------------------------------------------------------------------- sampling

    def _draw(self, count: int, g: torch.Generator, lo: int, hi: int, uniform: bool) -> list[str]:
        """``count`` digit strings with a digit count uniform in lo..hi."""
        lengths = torch.randint(lo, hi + 1, (count,), generator=g)
        if not self.numeric:  # free digit strings: every position uniform over 0..9
            digits = torch.randint(0, 10, (count, MAX_DIGITS), generator=g)
        else:
            digits = torch.randint(1, 10, (count, MAX_DIGITS), generator=g)  # non-zero digits
            zeros = torch.rand(count, MAX_DIGITS, generator=g) < (0.1 if uniform else self.zero_prob)
            zeros[:, 0] &= lengths == 1  # a leading digit is never 0, except in the number 0 itself
            digits = digits.masked_fill(zeros, 0)
        rows = digits.tolist()
        return ["".join(DIGITS[d] for d in row[:n]) for row, n in zip(rows, lengths.tolist())]

    def sample(self, count: int, generator: torch.Generator) -> list[str]:
        """``count`` training sources, never one of the test set."""
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"sample needs a torch.Generator, got {type(generator).__name__}")
        out = self._draw(count, generator, 1, MAX_DIGITS, uniform=False)
        while True:
            bad = [i for i, s in enumerate(out) if s in self._held_out]
            if not bad:
                return out
            for i, s in zip(bad, self._draw(len(bad), generator, 1, MAX_DIGITS, uniform=False)):
                out[i] = s

    def make_batch(self, sources: list[str]) -> Batch:
        """Encode and pad: src (batch, src_len), src_lengths (batch,), tgt_in/tgt_out (batch, tgt_len)."""
        if not sources:
            raise ValueError("make_batch needs at least one source string")
        src, src_lengths = pad_batch([self.source_tokenizer.encode(s) for s in sources])
        tgt, _ = pad_batch([self.target_tokenizer.encode(self.target_text(s), bos=True, eos=True) for s in sources])
        return Batch(src, src_lengths, tgt[:, :-1].contiguous(), tgt[:, 1:].contiguous())

    def sample_batch(self, batch_size: int, generator: torch.Generator) -> Batch:
        return self.make_batch(self.sample(batch_size, generator))

    def batches(self, batch_size: int, generator: torch.Generator | None = None, seed: int = 0,
                steps: int | None = None) -> Iterator[Batch]:
        """Training batches, endlessly (or ``steps`` of them), drawn from ``generator``
        (or from a new one seeded with ``seed``)."""
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        g = generator if generator is not None else torch.Generator().manual_seed(seed)
        count = 0
        while steps is None or count < steps:
            yield self.sample_batch(batch_size, g)
            count += 1

    def split(self, name: str) -> list[str]:
        """The sources of an evaluation split: "test" (held out, long) or "short" (0–99 / 1–2 digits)."""
        if name == "test":
            return list(self.test_set)
        if name == "short":
            return list(self.short_set)
        raise ValueError(f"unknown split {name!r}; use 'test' or 'short'")


def get_task(name: str, **kwargs) -> Task:
    """The task called ``name`` ("zh", "en", "copy", "reverse"); keyword arguments go to :class:`Task`."""
    return Task(name, **kwargs)


__all__ = ["Batch", "Task", "get_task", "TASK_NAMES", "DIGITS", "ZH_ALPHABET", "EN_ALPHABET", "MAX_DIGITS"]
