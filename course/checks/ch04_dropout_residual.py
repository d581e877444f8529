"""What the visible tests of chapter 04 (dropout and residuals) use, and what its exercises may not borrow."""

from course.checks.borrowed import Borrowed, DROPOUT_C, DROPOUT_PY

# what would do each exercise's work (switched off while the student's code runs under the checks)
BORROWED = {
    "dropout": Borrowed("draw the mask and rescale yourself: F.dropout is what it is checked against",
                        python=DROPOUT_PY, torch=DROPOUT_C, aten=("native_dropout",)),
    "Dropout": Borrowed("write the module around your own dropout: nn.Dropout is the reference",
                        python=DROPOUT_PY, torch=DROPOUT_C, aten=("native_dropout",)),
}
