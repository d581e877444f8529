"""What the visible tests of chapter 02 (tensors) use, and what its exercises may not borrow."""

from course.checks.borrowed import Borrowed, SOFTMAX, SOFTMAX_PY

# what would do each exercise's work (switched off while the student's code runs under the checks)
BORROWED = {
    "pairwise_sq_distances": Borrowed("use the expansion |a|² − 2a·b + |b|² yourself: torch.cdist is the reference",
                                      torch=("torch.cdist", "torch.cdist"), python=("torch.functional.cdist",),
                                      aten=("_cdist_forward", "_euclidean_dist")),
    "stable_softmax": Borrowed("write the max-shifted softmax yourself: torch's softmax is what it is checked against",
                               python=SOFTMAX_PY, torch=SOFTMAX, aten=("_softmax", "_log_softmax", "logsumexp")),
    "log_sum_exp": Borrowed("write log-sum-exp yourself from max, exp, sum and log: torch.logsumexp is the reference",
                            python=SOFTMAX_PY, torch=SOFTMAX, aten=("_softmax", "_log_softmax", "logsumexp")),
    "broadcast_shape": Borrowed("work the broadcast shape out from the rule: torch.broadcast_shapes is the reference",
                                python=("torch.broadcast_shapes", "torch.functional.broadcast_shapes",
                                        "numpy.broadcast_shapes"),
                                torch=("torch.broadcast_tensors", "torch.Tensor.expand", "torch.Tensor.expand_as")),
    "contiguous_strides": Borrowed("compute the strides from the shape: a real tensor's .stride() is the reference",
                                   torch=("torch.Tensor.stride", "torch.empty_strided", "torch.as_strided")),
    "is_contiguous": Borrowed("decide from shape and strides: Tensor.is_contiguous is the reference",
                              torch=("torch.Tensor.is_contiguous", "torch.empty_strided", "torch.as_strided")),
}
