"""What the visible tests of chapter 01 (compute) use, and what its exercises may not borrow."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from course.checks.borrowed import MHA_PY, TRANSFORMER_PY, Borrowed
from course.checks.core import call
from course.checks.core import expect as core_expect
from course.checks.messages import english, fail

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

# chapter 01's answers are Python values (counts, shapes, flags): its tests compare them exactly
expect = partial(core_expect, exact=True)


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
