"""A character tokenizer over a fixed alphabet, with the four special tokens the capstone uses.

Ids are deterministic: ``<pad>`` = 0, ``<bos>`` = 1, ``<eos>`` = 2, ``<unk>`` = 3, then the
alphabet's characters in the order given. Padding with 0 lets ``ignore_index=PAD`` in the loss
and ``ids != PAD`` as a mask work without looking anything up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")


def pad_batch(sequences: Sequence[Sequence[int]], pad: int = PAD) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id lists into one tensor.

    Returns ``(ids, lengths)``: ids (batch, max_len) LongTensor, lengths (batch,) LongTensor.
    """
    if isinstance(sequences, torch.Tensor) or not isinstance(sequences, Sequence):
        raise TypeError(f"pad_batch expects a list of id lists, got {type(sequences).__name__}")
    if len(sequences) == 0:
        raise ValueError("pad_batch needs at least one sequence")
    lengths = [len(s) for s in sequences]
    width = max(max(lengths), 1)
    rows = [list(seq) + [pad] * (width - n) for seq, n in zip(sequences, lengths)]
    return torch.tensor(rows, dtype=torch.long), torch.tensor(lengths, dtype=torch.long)


class CharTokenizer:
    """One id per character of ``alphabet``; characters outside it encode as ``<unk>``."""

    def __init__(self, alphabet: Iterable[str]):
        chars = list(alphabet)
        bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
        if bad:
            raise ValueError(f"the alphabet must be single characters, got {bad[:3]!r}")
        if len(set(chars)) != len(chars):
            repeated = sorted({c for c in chars if chars.count(c) > 1})
            raise ValueError(f"the alphabet repeats characters: {repeated!r}")
        if not chars:
            raise ValueError("the alphabet is empty")
        self.alphabet = "".join(chars)
        self.itos = list(SPECIALS) + chars
        self.stoi = {c: i for i, c in enumerate(self.itos) if i >= len(SPECIALS)}

    pad_id, bos_id, eos_id, unk_id = PAD, BOS, EOS, UNK

    def __len__(self) -> int:
        return len(self.itos)

    def __repr__(self) -> str:
        return f"CharTokenizer({self.alphabet!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and other.alphabet == self.alphabet

    def __hash__(self) -> int:
        return hash(self.alphabet)

    def encode(self, text: str, bos: bool = False, eos: bool = False) -> list[int]:
        """Ids of ``text``'s characters, optionally wrapped in ``<bos>`` … ``<eos>``."""
        if not isinstance(text, str):
            raise TypeError(f"encode expects a str, got {type(text).__name__}")
        ids = [self.stoi.get(c, UNK) for c in text]
        return ([BOS] if bos else []) + ids + ([EOS] if eos else [])

    def decode(self, ids: Iterable[int] | torch.Tensor, show_specials: bool = False) -> str:
        """Text of ``ids`` (a list or a 1-D tensor): stops at the first ``<eos>``, drops the other special
        tokens (or writes them as ``<pad>``, ``<bos>``, ``<unk>`` with ``show_specials``)."""
        if isinstance(ids, torch.Tensor):
            if ids.dim() != 1:
                raise ValueError(f"decode takes one sequence (a 1-D tensor), got shape {tuple(ids.shape)}")
            ids = ids.tolist()
        out = []
        for i in ids:
            i = int(i)
            if i == EOS:
                break
            if not 0 <= i < len(self.itos):
                raise ValueError(f"id {i} is outside this tokenizer's vocabulary of {len(self.itos)}")
            if i >= len(SPECIALS) or show_specials:
                out.append(self.itos[i])
        return "".join(out)

    def decode_batch(self, ids: torch.Tensor) -> list[str]:
        """Texts of a (batch, seq) tensor of ids, one per row."""
        if not isinstance(ids, torch.Tensor) or ids.dim() != 2:
            raise ValueError("decode_batch expects a (batch, seq) tensor")
        return [self.decode(row) for row in ids.tolist()]

    def pad_batch(self, sequences: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Same as the module's :func:`pad_batch` with this tokenizer's pad id."""
        return pad_batch(sequences, PAD)


__all__ = ["PAD", "BOS", "EOS", "UNK", "SPECIALS", "CharTokenizer", "pad_batch"]
