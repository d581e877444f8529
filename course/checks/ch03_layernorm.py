"""What the visible tests of chapter 03 (layer normalisation) use, and what its exercises may not borrow."""

from course.checks.borrowed import NORM_ATEN, NORM_C, NORM_PY, Borrowed

_WIDGET = "course.widgets.ch03_layernorm.normalise"  # the explorer's layer norm of one token

# what would do each exercise's work (switched off while the student's code runs under the checks);
# PostLN / PreLN are handed an nn.LayerNorm, so they declare nothing
BORROWED = {
    "layer_norm": Borrowed("write layer normalisation from mean and variance: F.layer_norm is what it is checked against",
                           python=(*NORM_PY, _WIDGET), torch=NORM_C, aten=NORM_ATEN, given=(_WIDGET,)),
    "LayerNorm": Borrowed("write the module around your own layer_norm: nn.LayerNorm is the reference",
                          python=(*NORM_PY, _WIDGET), torch=NORM_C, aten=NORM_ATEN, given=(_WIDGET,)),
    "rms_norm": Borrowed("write RMSNorm from the mean of the squares: F.rms_norm is the reference",
                         python=(*NORM_PY, _WIDGET), torch=NORM_C, aten=NORM_ATEN),
}
