"""What the visible tests of chapter 04 (dropout and residuals) use, and what its exercises may not borrow."""

import torch
from torch import nn

from course.checks.borrowed import DROPOUT_C, DROPOUT_PY, Borrowed
from course.checks.ch03_layernorm import expect  # names the mistake a known wrong value comes from

# dropout however it is reached: the functional and module forms (DROPOUT_PY, code swapped, so early-bound
# references and subclasses of nn.Dropout are covered), torch's C entry points (DROPOUT_C), the ATen operators
# called by name (torch.ops.aten.*: seen by the TorchFunctionMode), torch's Python reference implementation,
# and the course's own dropout (the widget's fallback). On the CPU, F.dropout decomposes into bernoulli_ and mul
# before the dispatcher sees it, so the ATen names only matter where the fused kernel runs (native_dropout).
_DROPOUT_PY = (*DROPOUT_PY, "torch._refs.nn.functional.dropout",
               "course.widgets.ch04_dropout_residual._reference_dropout")
_DROPOUT_C = (*DROPOUT_C, "torch.ops.aten.dropout", "torch.ops.aten.dropout.default", "torch.ops.aten.dropout_",
              "torch.ops.aten.dropout_.default", "torch.ops.aten.native_dropout",
              "torch.ops.aten.native_dropout.default", "torch.ops.aten.feature_dropout",
              "torch.ops.aten.alpha_dropout", "torch.ops.aten.feature_alpha_dropout")
_DROPOUT_ATEN = ("native_dropout", "native_dropout_backward")

# what would do each exercise's work (switched off while the student's code runs under the checks). The
# residual sublayers (PostNormResidual, PreNormResidual) and embed_with_dropout are handed nn.Dropout (in
# __init__, or as an argument): nothing is switched off for them.
BORROWED = {
    "dropout": Borrowed("draw the mask and rescale yourself: F.dropout is what it is checked against",
                        python=_DROPOUT_PY, torch=_DROPOUT_C, aten=_DROPOUT_ATEN,
                        given=("course.widgets.ch04_dropout_residual._reference_dropout",)),
    "Dropout": Borrowed("write the module around your own dropout: nn.Dropout is the reference",
                        python=_DROPOUT_PY, torch=_DROPOUT_C, aten=_DROPOUT_ATEN,
                        given=("course.widgets.ch04_dropout_residual._reference_dropout",)),
    "grad_norms_per_layer": Borrowed("read each layer's gradient and take its norm yourself: "
                                     "torch.nn.utils.clip_grad_norm_ / get_total_norm compute gradient norms for you",
                                     python=("torch.nn.utils.clip_grad_norm_",
                                             "torch.nn.utils.clip_grad.clip_grad_norm_",
                                             "torch.nn.utils.clip_grad.clip_grad_norm_.__wrapped__",
                                             "torch.nn.utils.get_total_norm",
                                             "torch.nn.utils.clip_grad._get_total_norm",
                                             "torch.nn.utils.clip_grad._get_total_norm.__wrapped__")),
}


# ------------------------------------------------------------------ helpers of the visible tests (nothing hidden)

class RecordingDropout(nn.Module):
    """A stand-in for a dropout module: records what it is applied to and returns twice that."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(x.detach().clone())
        return 2.0 * x


__all__ = ["BORROWED", "RecordingDropout", "expect"]
