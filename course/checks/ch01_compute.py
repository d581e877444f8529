"""What the visible tests of chapter 01 (compute) use, and what its exercises may not borrow."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from course.checks.borrowed import MHA_PY, TRANSFORMER_PY, Borrowed
from course.checks.core import call, check, equal
from course.checks.messages import english, fail
from course.checks.plain import plain

_COUNTER = ("torch.utils.flop_counter.FlopCounterMode", "course.experiments.ch01_compute.counted_flops",
            "course.experiments.ch01_compute.counted_by_part", "course.experiments.ch01_compute.gpt2_small_counts",
            *(f"torch.utils.flop_counter.{name}" for name in (
                "mm_flop", "addmm_flop", "bmm_flop", "baddbmm_flop", "sdpa_flop", "sdpa_flop_count",
                "sdpa_backward_flop", "sdpa_backward_flop_count", "_flash_attention_forward_flop",
                "_efficient_attention_forward_flop")))
_GIVEN = ("course.experiments.ch01_compute.counted_flops", "course.experiments.ch01_compute.counted_by_part")
_LAYERS = (*TRANSFORMER_PY, *MHA_PY, "torch.nn.LayerNorm", "course.blocks.EncoderLayer", "course.blocks.DecoderLayer",
           "course.blocks.FeedForward", "course.blocks.MultiHeadAttention", "course.attention.MultiHeadAttention")

# what would do each exercise's work (switched off while the student's code runs under the checks)
BORROWED = {
    **{name: Borrowed("count the FLOPs from the shapes: torch's FlopCounterMode is what the count is checked against",
                      python=_COUNTER, given=_GIVEN)
       for name in ("matmul_flops", "encoder_flops", "training_flops")},
    "layer_params": Borrowed("count the parameters from d_model and d_ff: nn.TransformerEncoderLayer is what the "
                             "count is checked against", python=_LAYERS, given=("course.blocks.EncoderLayer",)),
    "measure_seconds": Borrowed("write the warm-up, sync and median timing loop yourself: the course's "
                                "benchmarking.median_seconds is the reference harness",
                                python=("course.benchmarking.median_seconds",),
                                given=("course.benchmarking.median_seconds",)),
    "roofline_point": Borrowed("count the FLOPs and the bytes moved yourself: the roofline widget's intensity() "
                               "is the reference", python=("course.widgets.ch01_compute.intensity", *_COUNTER),
                               given=("course.widgets.ch01_compute.intensity",)),
}

Mistakes = dict[Any, str] | Iterable[tuple[Callable[[Any], bool], str]]


def _same(a: Any, b: Any) -> bool:
    """Exact for ints, strings and bools, to 1e-9 relative for floats, element by element for tuples."""
    if type(a) is tuple or type(b) is tuple:
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if type(a) in (bool, str) or type(b) in (bool, str):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0)
    return False


def expect(got: Any, expected: Any, name: str, mistakes: Mistakes = ()) -> None:
    """``got`` equals ``expected``; if not, and ``got`` is what a known mistake gives, say which mistake.

    ``mistakes`` maps a wrong value to the message that explains it, or is a list of (test, message) pairs,
    ``test(got)`` saying whether ``got`` shows that mistake. The messages name the mistake and the part of
    the chapter that explains it; they never give the answer. ``name`` and the messages are English templates
    without values, or :func:`~course.checks.messages.msg` (:mod:`course.checks.messages`).
    """
    got = plain(got, name, modules=False)
    if type(expected) is float:
        if type(got) in (int, float) and _same(got, expected):
            return
    elif type(got) is type(expected) and got == expected:
        return
    pairs = [((lambda g, w=w: _same(g, w)), m) for w, m in mistakes.items()] if isinstance(mistakes, dict) \
        else list(mistakes)
    for test, message in pairs:
        try:
            hit = bool(test(got))
        except Exception:  # noqa: BLE001 - a test that does not apply to this value is simply not that mistake
            hit = False
        if hit:  # through check() and equal(), looked up when called, like every other check of the course
            check(False, "{name}: expected {expected!r}, got {got!r}. {why}", name=name, expected=expected, got=got,
                  why=message)
            return
    if type(expected) is float:
        check(False, "{name}: expected {expected!r}, got {got!r}", name=name, expected=expected, got=got)
        return
    equal(got, expected, name=name)


def call_or_explain(fn: Callable[..., Any], *args: Any, errors: dict[str, str], **kwargs: Any) -> Any:
    """:func:`call`; if the student's code raised and its message contains one of ``errors``' keys, add that hint.

    The keys are read in the English message (``" raised "``, a fragment of torch's own error), whatever the
    edition; the hints are English templates without values."""
    try:
        return call(fn, *args, **kwargs)
    except AssertionError as err:
        said = english(err)
        for fragment, message in errors.items():
            if fragment in said:
                raise fail("{error}. {hint}", error=err, hint=message) from None
        raise
