"""Scoring a trained model on a task: token accuracy, exact match, corpus BLEU, and the errors themselves."""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field

import torch
from sacrebleu.metrics import BLEU
from torch import nn

from course.language import pick
from course.tasks import SPLIT_LABELS, SPLITS, Task
from course.tokenizer import EOS


@dataclass
class EvalResult:
    """Scores on one set of sources. Accuracies are fractions in [0, 1]; BLEU is sacrebleu's 0–100 score."""

    split: str
    count: int
    token_accuracy: float  # teacher-forced: next-token argmax vs target, over non-pad positions
    exact: float  # greedy output ids equal the target's ids followed by <eos>
    bleu: float  # corpus BLEU (sacrebleu, effective n-gram order; "zh" tokens for Chinese, "13a" for English)
    errors: list[dict] = field(default_factory=list)  # {"source", "expected", "predicted"} for wrong outputs

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """One line in the edition's language; the split is named as in reports ("short (seen in training)", ...)."""
        label = Task.split_label(self.split) if self.split in SPLIT_LABELS else self.split
        return pick(f"{label}: exact {100 * self.exact:.2f}%  token acc {100 * self.token_accuracy:.2f}%  "
                    f"BLEU {self.bleu:.2f}  ({self.count} examples, {len(self.errors)} errors shown)",
                    f"{label}：完全匹配 {100 * self.exact:.2f}%  逐词准确率 {100 * self.token_accuracy:.2f}%  "
                    f"BLEU {self.bleu:.2f}（{self.count} 个样例，列出 {len(self.errors)} 个错误）")


def unwrap(model: nn.Module) -> nn.Module:
    """The plain model inside a DistributedDataParallel (or torch.compile) wrapper."""
    for attr in ("module", "_orig_mod"):
        while hasattr(model, attr) and isinstance(getattr(model, attr), nn.Module):
            model = getattr(model, attr)
    return model


def _autocast(device: torch.device, bf16: bool):
    if bf16 and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@torch.no_grad()
def greedy_ids(model: nn.Module, task: Task, sources: list[str], batch_size: int = 500,
               bf16: bool = False) -> list[list[int]]:
    """Greedy output ids for each digit string, cut after the first <eos> (kept when produced)."""
    model = unwrap(model)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out: list[list[int]] = []
    try:
        for i in range(0, len(sources), batch_size):
            b = task.make_batch(sources[i: i + batch_size]).to(device)
            with _autocast(device, bf16):
                ids = model.greedy_decode(b.src, b.src_lengths, task.max_target_len + 1)
            for row in ids.cpu().tolist():
                out.append(row[: row.index(EOS) + 1] if EOS in row else row)
    finally:
        model.train(was_training)
    return out


def translate(model: nn.Module, task: Task, sources: list[str], batch_size: int = 500,
              bf16: bool = False) -> list[str]:
    """Greedy outputs (strings) for a list of digit strings."""
    return [task.target_tokenizer.decode(ids) for ids in greedy_ids(model, task, sources, batch_size, bf16)]


@torch.no_grad()
def evaluate(model: nn.Module, task: Task, split: str | list[str] = "test", batch_size: int = 500,
             max_errors: int = 50, bf16: bool = False, label: str | None = None) -> EvalResult:
    """Score ``model`` on a task split (one of ``tasks.SPLITS``: "valid", "test", "hard", "short") or an
    explicit list of digit strings (reported under ``label``, "custom" by default)."""
    if isinstance(split, str):
        name, sources = split, task.split(split)
    elif isinstance(split, (list, tuple)) and split and all(isinstance(s, str) for s in split):
        name, sources = label or "custom", list(split)
    else:
        raise TypeError(f"split must be one of {', '.join(SPLITS)} or a non-empty list of digit strings")
    if not isinstance(max_errors, int) or max_errors < 0:
        raise ValueError(f"max_errors must be a non-negative int, got {max_errors!r}")
    plain = unwrap(model)
    device = next(plain.parameters()).device
    was_training = plain.training
    plain.eval()
    correct_tokens = total_tokens = 0
    try:
        for i in range(0, len(sources), batch_size):
            b = task.make_batch(sources[i: i + batch_size]).to(device)
            with _autocast(device, bf16):
                logits = plain(b.src, b.src_lengths, b.tgt_in)  # (batch, tgt_len, vocab)
            real = b.tgt_out != task.target_tokenizer.pad_id
            correct_tokens += int(((logits.argmax(-1) == b.tgt_out) & real).sum())
            total_tokens += int(real.sum())
    finally:
        plain.train(was_training)
    tok = task.target_tokenizer
    outputs = greedy_ids(plain, task, sources, batch_size, bf16)
    expected = [task.target_text(s) for s in sources]
    # exact = the very ids of the target then <eos>: a stray <unk> or <bos> is not forgiven by decoding
    right = [ids == tok.encode(e, eos=True) for ids, e in zip(outputs, expected)]
    predicted = [tok.decode(ids, show_specials=not ok) for ids, ok in zip(outputs, right)]
    wrong = [dict(source=s, expected=e, predicted=p)
             for s, e, p, ok in zip(sources, expected, predicted, right) if not ok]
    # effective order: a corpus of short outputs (the 0–99 set) has no 4-grams, and plain BLEU would be 0
    bleu = BLEU(tokenize=task.bleu_tokenize, effective_order=True).corpus_score(predicted, [expected]).score
    return EvalResult(split=name, count=len(sources), token_accuracy=correct_tokens / max(total_tokens, 1),
                      exact=sum(right) / len(sources), bleu=float(bleu), errors=wrong[:max_errors])


__all__ = ["EvalResult", "evaluate", "greedy_ids", "translate", "unwrap"]
