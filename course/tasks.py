"""Translation tasks generated on the fly: digit strings → Chinese numerals, English words, copies, reversals.

Every task reads a string of 1 to 8 digits. Training samples draw the digit count uniformly from
1..8, so short numbers are as common as long ones. Four evaluation splits (:data:`SPLITS`):

* ``"valid"`` - 4- to 8-digit strings held out from training, for early stopping, the live plot and
  every evaluation made while training runs;
* ``"test"`` - another fixed set of 4- to 8-digit strings held out from training, scored once, at the
  end (so no decision taken during training has looked at it);
* ``"hard"`` - a second test split, drawn independently and stratified: equal shares of the cases the
  numeral rules make hard (:data:`HARD_CASES`: internal zeros, runs of zeros read as one 零, the 万
  boundary, a 10–19 inside a number), also held out and also scored once at the end;
* ``"short"`` - the 0–99 numbers (or every 1–2 digit string): inputs training DOES see, a check that
  the model has not forgotten them, not a test.

The held-out splits are long strings only: they are a tiny share of their space, so holding some out
costs the model nothing it needs. (A held-out set drawn like the training data would take in nearly
all one-digit and many two-digit numbers, and a model that never saw them cannot get them right.)
The three held-out splits are pairwise disjoint, and training never samples any of them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import NamedTuple

import torch

from course.language import pick
from course.numerals import _zh_group, to_chinese, to_english
from course.tokenizer import CharTokenizer, pad_batch

DIGITS = "0123456789"
ZH_ALPHABET = "零一二三四五六七八九十百千万"
EN_ALPHABET = "abcdefghijklmnopqrstuvwxyz -"
MAX_DIGITS = 8
TASK_NAMES = ("zh", "en", "copy", "reverse")
SPLITS = ("valid", "test", "hard", "short")
HELD_OUT = ("valid", "test", "hard")  # never sampled in training
SPLIT_LABELS = {"valid": "valid", "test": "test", "hard": "hard (stratified test)", "short": "short (seen in training)"}
SPLIT_LABELS_ZH = {"valid": "valid（验证集）", "test": "test（测试集）", "hard": "hard（分层测试集）",
                   "short": "short（训练中见过）"}
HARD_CASES = ("internal_zero", "zero_run", "wan_boundary", "teen_inside", "teen_leading")


def hard_cases(source: str) -> set[str]:
    """Which of :data:`HARD_CASES` a digit string (no leading zero) is an example of.

    * internal_zero: a 0 between two non-zero digits (1204 → 一千二百零四);
    * zero_run: two or more zeros in a row between non-zero digits, read as one 零 (10005 → 一万零五);
    * wan_boundary: five digits or more and the lower four-digit group below 1000, so 万 is followed by
      零 or by nothing (10020 → 一万零二十, 3000000 → 三百万);
    * teen_inside: a 1 in the tens place of a four-digit group that is not the number's first digit,
      where the 一 of 一十 is spoken (1015 → 一千零一十五, 3120000 → 三百一十二万);
    * teen_leading: the number starts with a 1 in a tens place, whose 一 is dropped (15 → 十五,
      150000 → 十五万): among long numbers, six digits starting with 1.
    """
    if not isinstance(source, str) or not source.isdigit():
        raise ValueError(f"expected a string of digits, got {source!r}")
    inner, n, found = source.strip("0"), len(source), set()
    if "0" in inner:
        found.add("internal_zero")
    if "00" in inner:
        found.add("zero_run")
    if n >= 5 and source[-4] == "0":
        found.add("wan_boundary")
    if any(source[i] == "1" and (n - 1 - i) % 4 == 1 for i in range(1, n)):
        found.add("teen_inside")
    if source[0] == "1" and (n - 1) % 4 == 1:
        found.add("teen_leading")
    return found


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

    Three knobs shape training only (the evaluation splits never change): ``zero_prob``, the
    chance that each digit after the first is 0 (uniform over 1..9 otherwise; 0.1 is the uniform
    distribution); ``digit_weights``, relative weights of the digit counts 1..8 (None: uniform); and
    ``hard_fraction``, the share of every training batch drawn like the stratified split (new
    4- to 8-digit numbers of the :data:`HARD_CASES` kinds, in equal turns, where "teen_leading" also
    draws 10–19 themselves: without them the model learns 一十 everywhere and writes 12 as 一十二). For "copy"/"reverse"
    inputs are arbitrary digit strings (leading zeros allowed).
    """

    def __init__(self, name: str, test_size: int = 1000, test_digits: tuple[int, int] = (4, MAX_DIGITS),
                 test_seed: int = 20240601, zero_prob: float = 0.1, valid_size: int = 1000, hard_size: int = 1000,
                 digit_weights: tuple[float, ...] | None = None, hard_fraction: float = 0.0):
        if name not in TASK_NAMES:
            raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASK_NAMES)}")
        lo, hi = test_digits
        if not 1 <= lo <= hi <= MAX_DIGITS or lo < 3:
            raise ValueError(f"test_digits must satisfy 3 <= low <= high <= {MAX_DIGITS} (hold out long "
                             f"inputs only), got {test_digits}")
        if not 0.0 <= zero_prob < 1.0:
            raise ValueError(f"zero_prob must be in [0, 1), got {zero_prob}")
        if digit_weights is not None and (len(digit_weights) != MAX_DIGITS or min(digit_weights) < 0
                                          or not sum(digit_weights) > 0):
            raise ValueError(f"digit_weights must be {MAX_DIGITS} weights >= 0 (digit counts 1..{MAX_DIGITS}), "
                             f"not all 0; got {digit_weights!r}")
        if not 0.0 <= hard_fraction <= 1.0:
            raise ValueError(f"hard_fraction must be in [0, 1], got {hard_fraction}")
        for what, size in (("test_size", test_size), ("valid_size", valid_size), ("hard_size", hard_size)):
            if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 20_000:
                raise ValueError(f"{what} must be an int in 1..20000, got {size!r}")
        self.name = name
        self.zero_prob, self.hard_fraction = float(zero_prob), float(hard_fraction)
        self.digit_weights = None if digit_weights is None else tuple(float(w) for w in digit_weights)
        self.numeric = name in ("zh", "en")
        self.source_tokenizer = CharTokenizer(DIGITS)
        alphabet = {"zh": ZH_ALPHABET, "en": EN_ALPHABET}.get(name, DIGITS)
        self.target_tokenizer = CharTokenizer(alphabet)
        self.bleu_tokenize = {"zh": "zh", "en": "13a"}.get(name, "char")
        self.max_source_len = MAX_DIGITS
        self.max_target_len = _max_len(self.target_text, name)
        # each held-out split from its own generator, so none of them moves when another changes size
        g = torch.Generator().manual_seed(test_seed)
        self.test_set: list[str] = self._unique(test_size, lambda k: self._draw(k, g, lo, hi, uniform=True), set())
        g = torch.Generator().manual_seed(test_seed + 1)
        self.valid_set: list[str] = self._unique(valid_size, lambda k: self._draw(k, g, lo, hi, uniform=True),
                                                 set(self.test_set))
        rng = random.Random(test_seed + 2)
        self.hard_set: list[str] = self._unique(hard_size, lambda k: self._draw_hard(k, rng, lo, hi),
                                                set(self.test_set) | set(self.valid_set))
        self._held_out = frozenset(self.test_set) | frozenset(self.valid_set) | frozenset(self.hard_set)
        if self.numeric:
            self.short_set = [str(n) for n in range(100)]
        else:
            self.short_set = list(DIGITS) + [a + b for a in DIGITS for b in DIGITS]

    @staticmethod
    def _unique(size: int, draw: Callable[[int], list[str]], taken: set[str]) -> list[str]:
        """``size`` distinct strings from ``draw``, none in ``taken``, in the order drawn."""
        out: dict[str, None] = {}  # insertion-ordered set
        while len(out) < size:
            for s in draw(size):
                if len(out) < size and s not in taken:
                    out.setdefault(s)
        return list(out)

    def __repr__(self) -> str:
        return (f"Task({self.name!r}, test_size={len(self.test_set)}, valid_size={len(self.valid_set)}, "
                f"hard_size={len(self.hard_set)}, zero_prob={self.zero_prob})")

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
        """``count`` digit strings with a digit count uniform in lo..hi (training: weighted by
        ``digit_weights`` when set)."""
        if uniform or self.digit_weights is None:
            lengths = torch.randint(lo, hi + 1, (count,), generator=g)
        else:
            weights = torch.tensor(self.digit_weights[lo - 1: hi], dtype=torch.float64)
            lengths = lo + torch.multinomial(weights, count, replacement=True, generator=g)
        if not self.numeric:  # free digit strings: every position uniform over 0..9
            digits = torch.randint(0, 10, (count, MAX_DIGITS), generator=g)
        else:
            digits = torch.randint(1, 10, (count, MAX_DIGITS), generator=g)  # non-zero digits
            zeros = torch.rand(count, MAX_DIGITS, generator=g) < (0.1 if uniform else self.zero_prob)
            zeros[:, 0] &= lengths == 1  # a leading digit is never 0, except in the number 0 itself
            digits = digits.masked_fill(zeros, 0)
        rows = digits.tolist()
        return ["".join(DIGITS[d] for d in row[:n]) for row, n in zip(rows, lengths.tolist())]

    @staticmethod
    def _draw_hard(count: int, rng: random.Random, lo: int, hi: int, offset: int = 0) -> list[str]:
        """``count`` strings of lo..hi digits, in equal turns one example of each of :data:`HARD_CASES`
        (built digit by digit; other hard cases may come along)."""
        out = []
        for i in range(count):
            case = HARD_CASES[(i + offset) % len(HARD_CASES)]
            leading = [n for n in (2, 6) if lo <= n <= hi]  # where a number starts with a tens place
            if case == "teen_leading" and not leading:
                case = "teen_inside"
            if case == "teen_leading":  # 10-19 itself (training only: held-out splits have 4+ digits) or 十X万
                n = rng.choice(leading)
            else:
                n = rng.randint(max(lo, 5 if case == "wan_boundary" else 4), hi)
            digits = [0 if k and rng.random() < 0.1 else rng.randint(1, 9) for k in range(n)]  # the usual zeros
            if case == "internal_zero":  # one zero strictly inside, non-zero neighbours on both sides
                k = rng.randint(1, n - 2)
                digits[k - 1], digits[k], digits[k + 1] = digits[k - 1] or 1, 0, digits[k + 1] or 1
            elif case == "zero_run":  # 2..n-2 zeros in a row, a non-zero digit on each side
                run = rng.randint(2, n - 2)
                k = rng.randint(1, n - 1 - run)
                digits[k: k + run] = [0] * run
                digits[k - 1], digits[k + run] = digits[k - 1] or 1, digits[k + run] or 1
            elif case == "wan_boundary":  # the lower group below 1000: its thousands digit is 0
                digits[n - 4] = 0
                if rng.random() < 0.25:
                    digits[n - 4:] = [0, 0, 0, 0]  # nothing after 万
            elif case == "teen_inside":  # a 1 in the tens place of a group, not the first digit
                digits[rng.choice([k for k in range(1, n) if (n - 1 - k) % 4 == 1])] = 1
            else:  # teen_leading: 1 in the tens place of 万, the first digit
                digits[0] = 1
            out.append("".join(DIGITS[d] for d in digits))
        return out

    def sample(self, count: int, generator: torch.Generator) -> list[str]:
        """``count`` training sources, never one of the held-out splits (valid, test, hard)."""
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"sample needs a torch.Generator, got {type(generator).__name__}")
        hard = round(count * self.hard_fraction)
        out = self._draw(count - hard, generator, 1, MAX_DIGITS, uniform=False)
        if hard:  # the curriculum: new numbers of the hard kinds (never those of the hard split)
            rng = random.Random(int(torch.randint(2 ** 62, (1,), generator=generator)))
            out += self._draw_hard(hard, rng, 1, MAX_DIGITS, offset=rng.randrange(len(HARD_CASES)))
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
        """The sources of an evaluation split (see :data:`SPLITS` and the module docstring)."""
        sets = {"valid": self.valid_set, "test": self.test_set, "hard": self.hard_set, "short": self.short_set}
        if name not in sets:
            raise ValueError(f"unknown split {name!r}; use one of {', '.join(SPLITS)}")
        return list(sets[name])

    @staticmethod
    def split_label(name: str) -> str:
        """How a split is named in reports: "short (seen in training)", "hard (stratified test)", ...; in the
        Chinese edition "short（训练中见过）", ..."""
        if name not in SPLIT_LABELS:
            raise ValueError(f"unknown split {name!r}; use one of {', '.join(SPLITS)}")
        return pick(SPLIT_LABELS[name], SPLIT_LABELS_ZH[name])


def get_task(name: str, **kwargs) -> Task:
    """The task called ``name`` ("zh", "en", "copy", "reverse"); keyword arguments go to :class:`Task`."""
    return Task(name, **kwargs)


__all__ = ["Batch", "Task", "get_task", "hard_cases", "TASK_NAMES", "SPLITS", "HELD_OUT", "SPLIT_LABELS", "HARD_CASES",
           "DIGITS", "ZH_ALPHABET", "EN_ALPHABET", "MAX_DIGITS"]
