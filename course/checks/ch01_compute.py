"""What the visible tests of chapter 01 (compute) use, and what its exercises may not borrow."""

from course.checks.borrowed import MHA_PY, TRANSFORMER_PY, Borrowed

_COUNTER = ("torch.utils.flop_counter.FlopCounterMode", "course.experiments.ch01_compute.counted_flops")

# what would do each exercise's work (switched off while the student's code runs under the checks)
BORROWED = {
    **{name: Borrowed("count the FLOPs from the shapes: torch's FlopCounterMode is what the count is checked against",
                      python=_COUNTER, given=("course.experiments.ch01_compute.counted_flops",))
       for name in ("matmul_flops", "attention_flops", "forward_flops_per_token", "training_flops_per_token")},
    "layer_params": Borrowed("count the parameters from d_model and d_ff: nn.TransformerEncoderLayer is what the "
                             "count is checked against",
                             python=(*TRANSFORMER_PY, *MHA_PY, "torch.nn.LayerNorm", "course.blocks.EncoderLayer",
                                     "course.blocks.DecoderLayer", "course.blocks.FeedForward",
                                     "course.blocks.MultiHeadAttention", "course.attention.MultiHeadAttention"),
                             given=("course.blocks.EncoderLayer",)),
    "measure_seconds": Borrowed("write the warm-up, sync and median timing loop yourself: the course's "
                                "benchmarking.median_seconds is the reference harness",
                                python=("course.benchmarking.median_seconds",),
                                given=("course.benchmarking.median_seconds",)),
    "matmul_intensity": Borrowed("count the FLOPs and the bytes moved yourself: the roofline widget's intensity() "
                                 "is the reference", python=("course.widgets.ch01_compute.intensity",),
                                 given=("course.widgets.ch01_compute.intensity",)),
}
