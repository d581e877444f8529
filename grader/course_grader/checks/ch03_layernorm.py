"""Hidden checks of chapter 03 (layer normalisation, Post-LN and Pre-LN stacks, RMSNorm, LayerNorm from RMSNorm).

References are PyTorch's own ``F.layer_norm`` / ``F.rms_norm`` computed in float64, with the
student's parameters copied in. While the student's code runs (:func:`course.checks.core.call`),
what :data:`course.checks.ch03_layernorm.BORROWED` declares (PyTorch's normalisation functions
and layers, the explorer's ``normalise``) raises, so calling it instead of writing the
normalisation is reported, not rewarded. The student's modules are read only through
``nn.Module``'s own (unbound) methods, never through methods their class could override.

The stacks are checked with random γ and β in every one of their LayerNorms; forward pre-hooks record the
order in which the stack applies them, and the reference uses the same LayerNorms in that order, so any
naming or registration order of the norms is accepted, but each must be used once, in the right place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from course.checks.borrowed import switched_off_for
from course.checks.core import call, check, close, equal, exercise, raises
from course.checks.doubles import Affine as _Affine
from course.checks.elsewhere import class_of, module_method
from course.checks.messages import Message, msg
from course.checks.plain import plain

_F_layer_norm = F.layer_norm
_F_rms_norm = F.rms_norm
_named_parameters = module_method("named_parameters")
_named_modules = module_method("named_modules")
_parameters_of = module_method("parameters")
_pre_hook = module_method("register_forward_pre_hook")
_copy = torch.Tensor.copy_


def _raises(exercise_name: str, exc_type: type[BaseException], fn: Callable[..., Any], *args: Any, name: str,
            match: str | None = None) -> None:
    """:func:`raises`, with what ``exercise_name`` may not borrow switched off (as :func:`call` does)."""
    with switched_off_for(exercise_name):
        raises(exc_type, fn, *args, name=name, match=match)


def _parameters(module: nn.Module, label: Any) -> dict[str, torch.Tensor]:
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
              "layer_norm on {label}: expected a tensor of shape {shape}, got {got}", label=label,
              shape=tuple(x.shape), got=tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__)
        close(out, reference_layer_norm(x, weight, bias, 1e-5), atol=1e-5, rtol=1e-4,
              name=msg("layer_norm on {label}, against F.layer_norm", label=label))
    for eps, scale in ((1e-3, 0.05), (0.5, 1.0), (4.0, 2.0)):  # eps as large as the variance: it must show
        x = torch.randn(4, 6, generator=g) * scale
        weight, bias = torch.rand(6, generator=g) + 0.5, torch.randn(6, generator=g)
        out = call(layer_norm, x.clone(), weight.clone(), bias.clone(), eps)  # eps passed by position this time
        what = msg("layer_norm(x, weight, bias, {eps:g}) on features of size ~{scale:g}", eps=eps, scale=scale)
        check(not _near(out, reference_layer_norm(x, weight, bias, 1e-5)),
              "{what} gave what eps = 1e-5 gives: the eps argument was ignored; use the eps you are given", what=what)
        close(out, reference_layer_norm(x, weight, bias, eps), atol=1e-5, rtol=1e-4,
              name=msg("{what}, against F.layer_norm (eps under the square root, added to the variance)", what=what))


def _near(out: Any, reference: torch.Tensor) -> bool:
    out = plain(out, "what layer_norm returned", modules=False)
    return (isinstance(out, torch.Tensor) and tuple(out.shape) == tuple(reference.shape)
            and bool(torch.allclose(out.double(), reference, atol=1e-5, rtol=1e-4)))


@exercise("LayerNorm")
def check_layernorm_module(LayerNorm: type, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    for d in (1, 3, 16):
        ln = call(LayerNorm, d)
        check(isinstance(ln, nn.Module), "LayerNorm({d}) should build an nn.Module, got {kind}", d=d,
              kind=type(ln).__name__)
        params = _parameters(ln, f"LayerNorm({d})")
        check(set(params) == {"weight", "bias"}, "LayerNorm({d}) should have exactly two parameters, 'weight' (gamma) "
              "and 'bias' (beta), like nn.LayerNorm; it has {names}", d=d, names=sorted(params))
        equal(sum(p.numel() for p in params.values()), 2 * d, name=msg("number of parameters of LayerNorm({d})", d=d))
        close(params["weight"], torch.ones(d),
              name=msg("LayerNorm({d}).weight at initialisation (gamma starts at ones)", d=d))
        close(params["bias"], torch.zeros(d), name=msg("LayerNorm({d}).bias at initialisation (beta starts at zeros)",
                                                       d=d))
        torch_ln = nn.LayerNorm(d)
        with torch.no_grad():
            torch_ln.weight.copy_(torch.randn(d, generator=g))
            torch_ln.bias.copy_(torch.randn(d, generator=g))
            for name in ("weight", "bias"):  # into the student's own parameters, as load_state_dict would
                _copy(params[name], getattr(torch_ln, name))
        for shape in [(4, d), (2, 3, d)]:
            x = torch.randn(*shape, generator=g) * 2 + 1
            close(call(ln, x), torch_ln(x), atol=1e-5, rtol=1e-4,
                  name=msg("LayerNorm({d}) on shape {shape} with nn.LayerNorm's (random) weight and bias copied in",
                           d=d, shape=shape))
        _raises("LayerNorm", ValueError, ln, torch.randn(2, d + 1), match=rf"(?s)(?=.*\b{d}\b)(?=.*\b{d + 1}\b)",
                name=msg("LayerNorm({d}) on an input whose last dim is {wider} (the message names both sizes)", d=d,
                         wider=d + 1))
    for eps in (0.5, 1e-3):  # the module must use the eps it was built with, not a hard-coded default
        x = torch.randn(3, 5, generator=g) * 0.5
        close(call(call(LayerNorm, 5, eps=eps), x), nn.LayerNorm(5, eps=eps)(x), atol=1e-5, rtol=1e-4,
              name=msg("LayerNorm(5, eps={eps:g}) against nn.LayerNorm(5, eps={eps:g}) (use self.eps in forward)",
                       eps=eps))


def _count_message(label: str, pre: bool, n_blocks: int, found: int) -> Message:
    expected = n_blocks + (1 if pre else 0)
    why: str | Message
    if pre and found == n_blocks:
        why = ("one per block is not enough: inside a Pre-LN block the residual stream is never normalised, so the "
               "stack needs one more LayerNorm after its last block, the final LayerNorm (Part 3)")
    elif not pre and found == n_blocks + 1:
        why = "a Post-LN stack needs no final LayerNorm: its last block already ends in one (Part 3)"
    elif found == 1 and n_blocks > 1:
        why = "one LayerNorm is shared by every block: each block needs its own, with its own γ and β"
    elif pre:
        why = msg("expected {expected}, one per block plus the final LayerNorm", expected=expected)
    else:
        why = msg("expected {expected}, one per block", expected=expected)
    return msg("{label} with {n_blocks} blocks holds {found} nn.LayerNorm module(s): {why}", label=label,
               n_blocks=n_blocks, found=found, why=why)


def _check_stack(stack_cls: type, pre: bool, seed: int) -> None:
    label = "PreLN" if pre else "PostLN"
    g = torch.Generator().manual_seed(seed)
    for d, n_blocks in ((4, 1), (9, 3), (6, 4)):
        subs = [_Affine(d, g) for _ in range(n_blocks)]
        stack = call(stack_cls, d, subs)
        what = msg("{label}(d_model={d}, {n_blocks} sublayers)", label=label, d=d, n_blocks=n_blocks)
        check(isinstance(stack, nn.Module), "{what} should build an nn.Module, got {kind}", what=what,
              kind=type(stack).__name__)
        # by value (the sublayers' weights are random): the stack's parameters may be copies (the grader's sandbox)
        registered = [p.detach() for p in _parameters_of(stack)]
        check(all(any(q.shape == p.shape and torch.equal(q, p.detach()) for q in registered)
                  for sub in subs for p in _parameters_of(sub)),
              "{what}: the sublayers' parameters are not among the stack's parameters, so an optimiser would "
              "never train them: keep the sublayers in an nn.ModuleList (a plain Python list is not registered)",
              what=what)
        norms = [m for _, m in _named_modules(stack) if class_of(m) is nn.LayerNorm]
        check(len(norms) == n_blocks + (1 if pre else 0), _count_message(label, pre, n_blocks, len(norms)))
        for k, norm in enumerate(norms):
            params = _parameters(norm, msg("{label}'s LayerNorm {k}", label=label, k=k))
            check(set(params) == {"weight", "bias"} and tuple(params["weight"].shape) == (d,),
                  "{what}: every LayerNorm should be nn.LayerNorm(d_model), with weight and bias of shape ({d},)",
                  what=what, d=d)
            with torch.no_grad():  # random γ and β, different for every norm: which one is used where shows
                _copy(params["weight"], torch.rand(d, generator=g) + 0.5)
                _copy(params["bias"], torch.randn(d, generator=g))
        x = torch.randn(3, 4, d, generator=g) * 2  # (batch, seq, d_model)
        order: list[int] = []
        handles = [_pre_hook(norm, lambda module, args, k=k, seen=order: seen.append(k))
                   for k, norm in enumerate(norms)]
        try:
            out = call(stack, x)
        finally:
            for h in handles:
                h.remove()
        check(isinstance(out, torch.Tensor) and tuple(out.shape) == tuple(x.shape),
              "{what}: expected a tensor of shape {shape}, got {got}", what=what, shape=tuple(x.shape),
              got=tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__)
        check(sorted(order) == list(range(len(norms))),
              "{what}: its LayerNorms ran {runs} times in one forward pass ({modules} modules): call each of them "
              "once, as a module (norm(h))", what=what, runs=len(order), modules=len(norms))
        with torch.no_grad():
            h = x
            for i, sub in enumerate(subs):
                h = h + sub(norms[order[i]](h)) if pre else norms[order[i]](h + sub(h))
            expected = norms[order[-1]](h) if pre else h
        arrangement = ("x + sublayer(LayerNorm(x)) per block, then the final LayerNorm" if pre
                       else "LayerNorm(x + sublayer(x)) per block")
        close(out, expected, atol=1e-5, rtol=1e-4,
              name=msg("{what} with random γ and β in its LayerNorms, against {arrangement}, sublayers in list order",
                       what=what, arrangement=arrangement))


@exercise("PostLN")
def check_post_ln(PostLN: type, seed: int = 0) -> None:
    _check_stack(PostLN, pre=False, seed=seed)


@exercise("PreLN")
def check_pre_ln(PreLN: type, seed: int = 1) -> None:
    _check_stack(PreLN, pre=True, seed=seed)


def reference_rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    return _F_rms_norm(x.double(), x.shape[-1:], weight.double(), eps)


@exercise("rms_norm")
def check_rms_norm(rms_norm: Callable[..., torch.Tensor], seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    for shape in [(5, 8), (2, 3, 4), (4, 1), (3, 6)]:
        x = torch.randn(*shape, generator=g) * 2 + (1.0 if shape == (3, 6) else 0.0)  # a mean that must NOT be removed
        weight = torch.randn(shape[-1], generator=g)
        close(call(rms_norm, x.clone(), weight.clone(), eps=1e-6), reference_rms_norm(x, weight, 1e-6),
              atol=1e-5, rtol=1e-4, name=msg("rms_norm on shape {shape}, against F.rms_norm", shape=shape))
    for eps, scale in ((1e-2, 0.1), (1e-6, 1e-3)):  # eps comparable to the mean square: where it goes matters
        x = torch.randn(4, 5, generator=g) * scale
        weight = torch.rand(5, generator=g) + 0.5
        close(call(rms_norm, x.clone(), weight.clone(), eps=eps), reference_rms_norm(x, weight, eps),
              atol=1e-5, rtol=1e-4,
              name=msg("rms_norm with eps={eps:g} on features of size ~{scale:g} (eps goes inside the square root, "
                       "added to the mean square)", eps=eps, scale=scale))


class _RecordingRMS:
    """A correct RMSNorm (written out, so nothing switched off is needed) that records what it is given."""

    def __init__(self) -> None:
        self.calls: list[tuple[torch.Tensor, Any]] = []

    def __call__(self, x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
        self.calls.append((plain(x, "what was passed to rms_norm").detach().clone(), eps))
        return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + eps) * weight


@exercise("layer_norm_from_rms")
def check_layer_norm_from_rms(layer_norm_from_rms: Callable[..., torch.Tensor], seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    for label, x in _cases(g):
        d = x.shape[-1]
        weight, bias = torch.randn(d, generator=g), torch.randn(d, generator=g)
        for eps in (1e-5, 1e-3):
            rec = _RecordingRMS()
            out = call(layer_norm_from_rms, x.clone(), weight.clone(), bias.clone(), eps, rec)
            what = msg("layer_norm_from_rms on {label}, eps={eps:g}", label=label, eps=eps)
            check(len(rec.calls) == 1, "{what}: rms_norm was called {n} times; call it exactly once, on the centred "
                                       "tokens", what=what, n=len(rec.calls))
            given, given_eps = rec.calls[0]
            check(tuple(given.shape) == tuple(x.shape), "{what}: rms_norm should receive a tensor shaped like x",
                  what=what)
            centred = given.double().mean(-1).abs().max() <= 1e-5 * (1 + x.abs().max())
            check(bool(centred), "{what}: the tokens passed to rms_norm do not have mean 0; subtract each token's "
                                 "mean over its own features first (LayerNorm = centring, then RMSNorm)", what=what)
            check(isinstance(given_eps, (int, float)) and given_eps == eps,
                  "{what}: rms_norm got eps={eps!r}; pass the eps argument on (rms_norm's own default is 1e-6)",
                  what=what, eps=given_eps)
            close(out, reference_layer_norm(x, weight, bias, eps), atol=1e-5, rtol=1e-4,
                  name=msg("{what}, against F.layer_norm", what=what))
