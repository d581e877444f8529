"""What the visible tests of chapter 02 (tensors) use, and what its exercises may not borrow."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from course.checks.borrowed import SOFTMAX, SOFTMAX_PY, Borrowed
from course.checks.ch01_compute import call_or_explain, expect  # noqa: F401  (re-exported: the same helpers)
from course.checks.core import close
from course.checks.messages import fail

_SOFTMAX_ATEN = ("_softmax", "_log_softmax", "logsumexp")
_NAIVE = "course.experiments.ch02_tensors.naive_softmax"
# tensors built in the shapes themselves, so that torch does the broadcasting
# (``(torch.zeros(a) + torch.zeros(b)).shape``)
_SHAPED = ("torch.empty", "torch.zeros", "torch.ones", "torch.full", "torch.rand", "torch.randn", "torch.randint",
           "torch.empty_like", "torch.zeros_like", "torch.ones_like", "torch.full_like", "torch.Tensor.new_empty",
           "torch.Tensor.new_zeros", "torch.Tensor.new_ones", "torch.Tensor.new_full")
_STRIDED = ("torch.empty_strided", "torch.as_strided", "torch.Tensor.as_strided")

# what would do each exercise's work (switched off while the student's code runs under the checks)
BORROWED = {
    "pairwise_sq_distances": Borrowed("use broadcasting or the expansion |a|² − 2a·b + |b|² yourself: torch.cdist is "
                                      "the reference",
                                      torch=("torch.cdist", "torch.pdist", "torch.pairwise_distance",
                                             "torch.nn.functional.pairwise_distance", "torch.nn.functional.pdist"),
                                      python=("torch.functional.cdist", "scipy.spatial.distance.cdist",
                                              "course.experiments.ch02_tensors._loop_sq_distances"),
                                      aten=("_cdist_forward", "_euclidean_dist", "_pdist_forward"),
                                      given=("course.experiments.ch02_tensors._loop_sq_distances",)),
    "stable_softmax": Borrowed("write the max-shifted softmax yourself: torch's softmax is what it is checked against",
                               python=(*SOFTMAX_PY, _NAIVE), torch=SOFTMAX, aten=_SOFTMAX_ATEN, given=(_NAIVE,)),
    "log_sum_exp": Borrowed("write log-sum-exp yourself from max, exp, sum and log: torch.logsumexp is the reference",
                            python=(*SOFTMAX_PY, _NAIVE), torch=SOFTMAX, aten=_SOFTMAX_ATEN, given=(_NAIVE,)),
    "broadcast_shape": Borrowed("work the broadcast shape out from the rule, on the tuples: torch.broadcast_shapes "
                                "(or tensors of those shapes, broadcast by torch) is the reference",
                                python=("torch.broadcast_shapes", "torch.functional.broadcast_shapes",
                                        "numpy.broadcast_shapes"),
                                torch=("torch.broadcast_tensors", "torch.broadcast_to", "torch.Tensor.broadcast_to",
                                       "torch.Tensor.expand", "torch.Tensor.expand_as", *_SHAPED)),
    "contiguous_strides": Borrowed("compute the strides from the shape: a real tensor's .stride() is the reference",
                                   torch=("torch.Tensor.stride", *_STRIDED)),
    "slice_view": Borrowed("work out the view's shape, strides and offset yourself: a real view (as_strided, then "
                           "sliced) is the reference",
                           torch=("torch.Tensor.stride", "torch.Tensor.storage_offset", *_STRIDED),
                           python=("numpy.lib.stride_tricks.as_strided", "course.widgets.ch02_tensors.make_view")),
    "is_contiguous": Borrowed("decide from shape and strides: Tensor.is_contiguous is the reference",
                              torch=("torch.Tensor.is_contiguous", *_STRIDED),
                              python=("numpy.lib.stride_tricks.as_strided",)),
    "split_heads": Borrowed("view and transpose x yourself: the course's MultiHeadAttention._split is the reference",
                            python=("course.attention.MultiHeadAttention._split",
                                    "course.blocks.MultiHeadAttention._split"),
                            given=("course.attention.MultiHeadAttention", "course.blocks.MultiHeadAttention")),
    "merge_heads": Borrowed("transpose and reshape x yourself: the course's MultiHeadAttention._merge is the reference",
                            python=("course.blocks.MultiHeadAttention._merge",),
                            given=("course.blocks.MultiHeadAttention",)),
}

Mistake = tuple[Any, str]  # (a wrong result as a tensor, or a test of the result; the message that explains it)


def _hit(test: Any, got: Any) -> bool:
    try:
        if isinstance(test, torch.Tensor):
            return isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(test.shape) and bool(
                torch.allclose(got.detach().double(), test.double(), atol=1e-3, rtol=1e-3, equal_nan=True))
        return bool(test(got))
    except Exception:  # noqa: BLE001 - a test that does not apply to this result is simply not that mistake
        return False


def close_or_explain(got: Any, expected: Any, name: str, mistakes: Iterable[Mistake] = (), **tolerance: float) -> None:
    """:func:`close`, and when it fails, the message of the first mistake that ``got`` shows is added.

    Each mistake is a pair: a tensor (what that wrong answer returns on this input, compared within 1e-3) or a
    function of the result that says whether it shows the mistake, and the sentence that names the mistake and
    the part of the chapter that explains it (an English template without values). The sentences never give the
    answer.
    """
    try:
        close(got, expected, name=name, **tolerance)
    except AssertionError as err:
        for test, message in mistakes:
            if _hit(test, got):
                raise fail("{error}. {hint}", error=err, hint=message) from None
        raise
