"""Hidden checks of chapter 03 (layer normalisation, Pre-LN and Post-LN blocks, RMSNorm).

References are PyTorch's own ``F.layer_norm`` / ``F.rms_norm`` computed in float64, with the
student's parameters copied in. While the student's code runs (:func:`course.checks.core.call`),
what :data:`course.checks.ch03_layernorm.BORROWED` declares (PyTorch's normalisation functions
and layers, the explorer's ``normalise``) raises, so calling it instead of writing the
normalisation is reported, not rewarded. The student's modules are read only through
``nn.Module``'s own (unbound) methods, never through methods their class could override.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from course.checks.borrowed import switched_off_for
from course.checks.core import call, check, close, equal, exercise, raises
from course.checks.plain import plain

_F_layer_norm = F.layer_norm
_F_rms_norm = F.rms_norm
_named_parameters = nn.Module.named_parameters
_named_children = nn.Module.named_children
_copy = torch.Tensor.copy_


def _raises(exercise_name: str, exc_type: type[BaseException], fn: Callable[..., Any], *args: Any, name: str) -> None:
    """:func:`raises`, with what ``exercise_name`` may not borrow switched off (as :func:`call` does)."""
    with switched_off_for(exercise_name):
        raises(exc_type, fn, *args, name=name)


def _parameters(module: nn.Module, label: str) -> dict[str, torch.Tensor]:
    """The module's parameters by name, as plain tensors on the same data (nn.Module's own method)."""
    return {name: plain(p, f"{label}.{name}") for name, p in _named_parameters(module)}


def reference_layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    return _F_layer_norm(x.double(), x.shape[-1:], weight.double(), bias.double(), eps)


def _cases(g: torch.Generator) -> list[tuple[str, torch.Tensor]]:
    return [
        ("a 2-D (tokens, d_model) input", torch.randn(5, 7, generator=g) * 3 + 2),
        ("a 3-D (batch, seq, d_model) input", torch.randn(2, 4, 6, generator=g) * 0.5 - 1),
        ("d_model = 2 (biased vs unbiased variance differ by a factor 2 here)", torch.randn(4, 2, generator=g)),
        ("d_model = 1 (every token equals its own mean)", torch.randn(3, 1, generator=g)),
        ("tiny features, variance close to eps (eps belongs inside the square root)",
         torch.randn(3, 8, generator=g) * 3e-3),
        ("a constant token (zero variance)", torch.full((2, 5), 4.0)),
    ]


@exercise("layer_norm")
def check_layer_norm(layer_norm: Callable[..., torch.Tensor], seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    for label, x in _cases(g):
        d = x.shape[-1]
        weight = torch.randn(d, generator=g)
        bias = torch.randn(d, generator=g)
        out = call(layer_norm, x.clone(), weight.clone(), bias.clone(), eps=1e-5)
        check(isinstance(out, torch.Tensor) and tuple(out.shape) == tuple(x.shape),
              f"layer_norm on {label}: expected a tensor of shape {tuple(x.shape)}, got "
              f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}")
        close(out, reference_layer_norm(x, weight, bias, 1e-5), atol=1e-5, rtol=1e-4,
              name=f"layer_norm on {label}, against F.layer_norm")


@exercise("LayerNorm")
def check_layernorm_module(LayerNorm: type, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    for d in (1, 3, 16):
        ln = call(LayerNorm, d)
        check(isinstance(ln, nn.Module), f"LayerNorm({d}) should build an nn.Module, got {type(ln).__name__}")
        params = _parameters(ln, f"LayerNorm({d})")
        check(set(params) == {"weight", "bias"}, f"LayerNorm({d}) should have exactly two parameters, 'weight' (gamma) "
              f"and 'bias' (beta), like nn.LayerNorm; it has {sorted(params)}")
        equal(sum(p.numel() for p in params.values()), 2 * d, name=f"number of parameters of LayerNorm({d})")
        close(params["weight"], torch.ones(d), name=f"LayerNorm({d}).weight at initialisation (gamma starts at ones)")
        close(params["bias"], torch.zeros(d), name=f"LayerNorm({d}).bias at initialisation (beta starts at zeros)")
        torch_ln = nn.LayerNorm(d)
        with torch.no_grad():
            torch_ln.weight.copy_(torch.randn(d, generator=g))
            torch_ln.bias.copy_(torch.randn(d, generator=g))
            for name in ("weight", "bias"):  # into the student's own parameters, as load_state_dict would
                _copy(params[name], getattr(torch_ln, name))
        for shape in [(4, d), (2, 3, d)]:
            x = torch.randn(*shape, generator=g) * 2 + 1
            close(call(ln, x), torch_ln(x), atol=1e-5, rtol=1e-4,
                  name=f"LayerNorm({d}) on shape {shape} with nn.LayerNorm's (random) weight and bias copied in")
        _raises("LayerNorm", ValueError, ln, torch.randn(2, d + 1),
                name=f"LayerNorm({d}) on an input whose last dim is {d + 1}")


class _Affine(nn.Module):
    """A sublayer with a visible effect and no normalisation of its own."""

    def __init__(self, d: int, g: torch.Generator):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(d, d, generator=g) / d ** 0.5)
        self.shift = nn.Parameter(torch.randn(d, generator=g))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x @ self.weight + self.shift)


def _block_case(block_cls: type, label: str, d: int, g: torch.Generator):
    sub = _Affine(d, g)
    block = call(block_cls, d, sub)
    check(isinstance(block, nn.Module), f"{label}(d_model, sublayer) should build an nn.Module")
    norm = nn.LayerNorm(d)
    with torch.no_grad():
        norm.weight.copy_(torch.rand(d, generator=g) + 0.5)
        norm.bias.copy_(torch.randn(d, generator=g))
    theirs = dict(_named_children(block)).get("norm")
    check(type(theirs) is nn.LayerNorm, f"{label} should keep the nn.LayerNorm it was given in self.norm")
    params = _parameters(theirs, f"{label}.norm")
    check(set(params) == {"weight", "bias"}, f"{label}.norm should be the nn.LayerNorm(d_model) it was given")
    with torch.no_grad():
        for name in ("weight", "bias"):
            _copy(params[name], getattr(norm, name))
    x = torch.randn(3, 4, d, generator=g) * 2  # (batch, seq, d_model)
    return block, sub, norm, x


@exercise("PostLN")
def check_post_ln(PostLN: type, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    for d in (4, 9):
        block, sub, norm, x = _block_case(PostLN, "PostLN", d, g)
        close(call(block, x), norm(x + sub(x)), atol=1e-5, name=f"PostLN(d_model={d}): LayerNorm(x + sublayer(x))")


@exercise("PreLN")
def check_pre_ln(PreLN: type, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    for d in (4, 9):
        block, sub, norm, x = _block_case(PreLN, "PreLN", d, g)
        close(call(block, x), x + sub(norm(x)), atol=1e-5, name=f"PreLN(d_model={d}): x + sublayer(LayerNorm(x))")


@exercise("rms_norm")
def check_rms_norm(rms_norm: Callable[..., torch.Tensor], seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    for shape in [(5, 8), (2, 3, 4), (4, 1), (3, 6)]:
        x = torch.randn(*shape, generator=g) * 2 + (1.0 if shape == (3, 6) else 0.0)  # a mean that must NOT be removed
        weight = torch.randn(shape[-1], generator=g)
        expected = _F_rms_norm(x.double(), shape[-1:], weight.double(), 1e-6)
        close(call(rms_norm, x.clone(), weight.clone(), eps=1e-6), expected, atol=1e-5, rtol=1e-4,
              name=f"rms_norm on shape {shape}, against F.rms_norm")
