"""What the visible tests of chapter 01 (compute) use, and what its exercises may not borrow."""

from course.checks.borrowed import Borrowed

# what would do each exercise's work (switched off while the student's code runs under the checks)
BORROWED = {
    **{name: Borrowed("count the FLOPs from the shapes: torch's FlopCounterMode is what the count is checked against",
                      python=("torch.utils.flop_counter.FlopCounterMode", "course.experiments.ch01_compute.counted_flops"),
                      given=("course.experiments.ch01_compute.counted_flops",))
       for name in ("matmul_flops", "attention_flops", "forward_flops_per_token", "training_flops_per_token")},
}
