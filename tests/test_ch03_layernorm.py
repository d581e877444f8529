"""Chapter 03 (layer norm): graded cells reject the usual wrong answers (unbiased variance, eps outside
the root, wrong dim, missing keepdim, gamma/beta swapped, a Pre-LN stack without its final LayerNorm,
PyTorch's own layer_norm ...) and accept correct ones written differently; every teaching message of a
visible test is produced by the wrong answer it names; the experiments and the LayerNorm explorer behave."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from course_grader.checks import ch03_layernorm as ref
from hints import answers_given_away
from notebooks import assert_rejected, graded_cells, run_test_cell
from torch import nn

from course.experiments import ch03_layernorm as ex
from course.widgets import ch03_layernorm as lw

A = "03-layernorm"


def test_graded_cells_and_points():
    points = {gid: c.metadata["nbgrader"]["points"] for gid, c in graded_cells(A).items()}
    assert points == {"layer_norm_tests": 3, "LayerNorm_tests": 2, "residual_blocks_tests": 4, "rms_norm_tests": 2}


def rejected_with(grade_id: str, message: str, **substitutes) -> None:
    """The test cell fails, and its message is the teaching message for this wrong answer."""
    err = assert_rejected(A, grade_id, **substitutes)
    assert message in str(err), f"expected the message {message!r}, got: {err}"


# ----------------------------------------------------------------------------------- layer_norm

def ln_var_mean(x, weight, bias, eps=1e-5):
    var, mean = torch.var_mean(x, dim=-1, keepdim=True, correction=0)
    return (x - mean) * torch.rsqrt(var + eps) * weight + bias
def ln_loops(x, weight, bias, eps=1e-5):
    rows = x.reshape(-1, x.shape[-1])
    out = []
    for row in rows:
        d = row.shape[0]
        mu = sum(row.tolist()) / d
        var = sum((v - mu) ** 2 for v in row.tolist()) / d
        out.append([(v - mu) / (var + eps) ** 0.5 for v in row.tolist()])
    return torch.tensor(out, dtype=x.dtype).reshape(x.shape) * weight + bias


def ln_einsum(x, weight, bias, eps=1e-5):
    d = x.shape[-1]
    centred = x - torch.einsum("...d->...", x)[..., None] / d
    var = torch.einsum("...d,...d->...", centred, centred)[..., None] / d
    return torch.addcmul(bias, centred / (var + eps).sqrt(), weight)


@pytest.mark.parametrize("fn", [ln_var_mean, ln_loops, ln_einsum])
def test_layer_norm_accepts(fn):
    run_test_cell(A, "layer_norm_tests", layer_norm=fn)


def _ln(var_fn, eps_inside=True, dim=-1):
    def layer_norm(x, weight, bias, eps=1e-5):
        mean = x.mean(dim=dim, keepdim=True)
        var = var_fn(x, dim)
        denom = torch.sqrt(var + eps) if eps_inside else torch.sqrt(var) + eps
        return (x - mean) / denom * weight + bias
    return layer_norm


biased = lambda x, dim: x.var(dim=dim, keepdim=True, unbiased=False)  # noqa: E731


@pytest.mark.parametrize("wrong", [
    _ln(lambda x, dim: x.var(dim=dim, keepdim=True)),                   # unbiased variance (torch default)
    _ln(biased, eps_inside=False),                                      # eps outside the root
    _ln(lambda x, dim: x.var(dim=dim, keepdim=True, unbiased=False), dim=0),  # over the wrong dim
    lambda x, w, b, eps=1e-5: F.layer_norm(x, x.shape[-1:], w, b, eps),  # PyTorch's own
    lambda x, w, b, eps=1e-5: nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps),
    lambda x, w, b, eps=1e-5: (x - x.mean(-1, keepdim=True)) / torch.sqrt(biased(x, -1) + eps),  # no gamma/beta
    lambda x, w, b, eps=1e-5: (x - x.mean(-1, keepdim=True)) / torch.sqrt(biased(x, -1) + eps) * w,  # no beta
    lambda x, w, b, eps=1e-5: (x - x.mean()) / torch.sqrt(((x - x.mean()) ** 2).mean() + eps) * w + b,  # global
])
def test_layer_norm_rejects(wrong):
    assert_rejected(A, "layer_norm_tests", layer_norm=wrong)


def _ln_full(var="biased", eps_at="inside", dim=-1, keepdim=True, affine="gamma_beta"):
    def layer_norm(x, weight, bias, eps=1e-5):
        dims = dim
        mean = x.mean(dim=dims, keepdim=keepdim) if dims is not None else x.mean()
        v = (x.var(dim=dims, keepdim=keepdim, unbiased=(var == "unbiased")) if dims is not None
             else x.var(unbiased=(var == "unbiased")))
        denom = {"inside": torch.sqrt(v + eps), "outside": torch.sqrt(v) + eps, "none": torch.sqrt(v)}[eps_at]
        h = (x - mean) / denom
        return {"gamma_beta": h * weight + bias, "swapped": h * bias + weight, "no_beta": h * weight,
                "no_gamma": h + bias, "shift_first": (h + bias) * weight}[affine]
    return layer_norm


@pytest.mark.parametrize("wrong, message", [
    (_ln_full(var="unbiased"), "you divided by d - 1 (the unbiased variance"),
    (_ln_full(eps_at="outside"), "you added eps to the standard deviation, outside the square root"),
    (_ln_full(eps_at="none"), "eps had no effect"),
    (_ln_full(affine="swapped"), "gamma and beta are swapped"),
    (_ln_full(affine="no_beta"), "bias (β) was not added"),
    (_ln_full(affine="no_gamma"), "weight (γ) was not applied"),
    (_ln_full(affine="shift_first"), "β was added before scaling by γ"),
    (_ln_full(dim=0), "you normalised each feature over the tokens (dim 0"),
    (_ln_full(keepdim=False), "the mean and variance lost their last dim (no keepdim=True)"),
    (_ln_full(dim=None), "you used one mean and one variance for the whole tensor"),
], ids=["unbiased", "eps-outside", "no-eps", "gamma-beta-swapped", "no-beta", "no-gamma", "shift-before-scale",
        "dim-0", "no-keepdim", "global"])
def test_layer_norm_teaching_messages(wrong, message):
    rejected_with("layer_norm_tests", message, layer_norm=wrong)


def ln_fixed_eps(x, weight, bias, eps=1e-5):  # the eps argument ignored: always 1e-5
    return ln_var_mean(x, weight, bias, 1e-5)


def test_layer_norm_that_ignores_its_eps_is_rejected_by_its_own_test():
    # it used to score full marks, and the correct LayerNorm module's test then failed instead
    rejected_with("layer_norm_tests", "the eps argument was ignored", layer_norm=ln_fixed_eps)
    with pytest.raises(AssertionError, match="the eps argument was ignored"):
        ref.check_layer_norm(ln_fixed_eps)


def test_hidden_layer_norm_check_alone_catches_a_fixed_eps_of_another_value():
    with pytest.raises(AssertionError, match="against F.layer_norm"):
        ref.check_layer_norm(lambda x, w, b, eps=1e-5: ln_var_mean(x, w, b, 1e-3))


def test_hidden_check_names_the_forbidden_shortcut():
    def via_module(x, weight, bias, eps=1e-5):
        ln = nn.LayerNorm(x.shape[-1], eps=eps)
        ln.load_state_dict({"weight": weight, "bias": bias})
        return ln(x)
    with pytest.raises(AssertionError, match="may not call .*layer normalisation from mean and variance"):
        ref.check_layer_norm(via_module)
    x = torch.randn(2, 3)  # everything switched off is restored afterwards
    assert torch.allclose(F.layer_norm(x, (3,)), nn.LayerNorm(3)(x)) and F.layer_norm is ref._F_layer_norm


def _early_bound():
    from torch.nn.functional import layer_norm as ln  # bound before the check runs

    def layer_norm(x, weight, bias, eps=1e-5):
        return ln(x, x.shape[-1:], weight, bias, eps)
    return layer_norm


@pytest.mark.parametrize("borrowed", [
    _early_bound(),
    lambda x, w, b, eps=1e-5: torch.layer_norm(x, x.shape[-1:], w, b, eps),
    lambda x, w, b, eps=1e-5: torch.native_layer_norm(x, x.shape[-1:], w, b, eps)[0],
    lambda x, w, b, eps=1e-5: torch.ops.aten.native_layer_norm(x, x.shape[-1:], w, b, eps)[0],
    lambda x, w, b, eps=1e-5: F.group_norm(x.reshape(-1, 1, x.shape[-1]), 1, eps=eps).reshape(x.shape) * w + b,
    lambda x, w, b, eps=1e-5: torch.stack([lw.normalise(r, 1.0, 0.0, eps) for r in x.reshape(-1, x.shape[-1])])
    .reshape(x.shape) * w + b,  # the explorer's normalisation, one token at a time
])
def test_hidden_check_rejects_borrowed_layer_norm(borrowed):
    with pytest.raises(AssertionError, match="may not call"):
        ref.check_layer_norm(borrowed)


def test_hidden_check_catches_eps_outside_only_at_small_variance():
    eps_outside = _ln(biased, eps_inside=False)
    with pytest.raises(AssertionError, match="against F.layer_norm"):
        ref.check_layer_norm(eps_outside)


# ------------------------------------------------------------------------------------ LayerNorm

def _module(forward, init=None, check_dim=True):
    class LayerNorm(nn.Module):
        def __init__(self, d_model, eps=1e-5):
            super().__init__()
            self.d_model, self.eps = d_model, eps
            (init or _default_init)(self, d_model)

        def forward(self, x):
            if check_dim and x.shape[-1] != self.d_model:
                raise ValueError(f"expected last dim {self.d_model}, got {x.shape[-1]}")
            return forward(self, x)
    return LayerNorm


def _default_init(m, d):
    m.weight = nn.Parameter(torch.ones(d))
    m.bias = nn.Parameter(torch.zeros(d))


def _register_init(m, d):
    m.register_parameter("weight", nn.Parameter(torch.full((d,), 1.0)))
    m.register_parameter("bias", nn.Parameter(torch.zeros(d)))


@pytest.mark.parametrize("cls", [
    _module(lambda m, x: ln_var_mean(x, m.weight, m.bias, m.eps)),
    _module(lambda m, x: ln_einsum(x, m.weight, m.bias, m.eps), init=_register_init),
    _module(lambda m, x: ln_loops(x, m.weight, m.bias, m.eps)),
])
def test_layernorm_module_accepts(cls):
    run_test_cell(A, "LayerNorm_tests", LayerNorm=cls)


def _init_names(m, d):
    m.gamma = nn.Parameter(torch.ones(d))
    m.beta = nn.Parameter(torch.zeros(d))


def _init_random(m, d):
    m.weight = nn.Parameter(torch.randn(d))
    m.bias = nn.Parameter(torch.zeros(d))


def _init_buffers(m, d):
    m.register_buffer("weight", torch.ones(d))
    m.register_buffer("bias", torch.zeros(d))


@pytest.mark.parametrize("wrong", [
    _module(lambda m, x: ln_var_mean(x, m.gamma, m.beta, m.eps), init=_init_names),   # wrong names
    _module(lambda m, x: ln_var_mean(x, m.weight, m.bias, m.eps), init=_init_random),  # random gamma
    _module(lambda m, x: ln_var_mean(x, m.weight, m.bias, m.eps), init=_init_buffers),  # not learnable
    _module(lambda m, x: ln_var_mean(x, m.weight, m.bias, m.eps), check_dim=False),    # no ValueError
    _module(lambda m, x: F.layer_norm(x, x.shape[-1:], m.weight, m.bias, m.eps)),      # PyTorch's own
    _module(lambda m, x: ln_var_mean(x, torch.ones_like(m.weight), m.bias, m.eps)),   # ignores loaded gamma
    _module(lambda m, x: nn.LayerNorm(m.d_model, m.eps)(x) * m.weight + m.bias),       # PyTorch's layer inside
])
def test_layernorm_module_rejects(wrong):
    assert_rejected(A, "LayerNorm_tests", LayerNorm=wrong)


def _init_no_params(m, d):
    m.weight, m.bias = torch.ones(d), torch.zeros(d)


@pytest.mark.parametrize("wrong, message", [
    (_module(lambda m, x: ln_var_mean(x, m.gamma, m.beta, m.eps), init=_init_names),
     "γ and β must be nn.Parameter attributes named weight and bias"),
    (_module(lambda m, x: ln_var_mean(x, m.weight, m.bias, m.eps), init=_init_no_params),
     "γ and β must be nn.Parameter attributes named weight and bias"),
    (_module(lambda m, x: ln_var_mean(x, m.weight, m.bias, m.eps), init=_init_random),
     "at initialisation weight (γ) must be ones and bias (β) zeros"),
    (_module(lambda m, x: ln_var_mean(x, torch.ones_like(m.weight), torch.zeros_like(m.bias), m.eps)),
     "after load_state_dict the output is still that of γ = 1, β = 0"),
    (_module(lambda m, x: ln_var_mean(x, m.weight, m.bias)), "ignored its eps"),
    (_module(lambda m, x: ln_var_mean(x, m.weight, m.bias, m.eps), check_dim=False),
     "LayerNorm(4) on an input with last dim 5 (the message names both sizes): expected ValueError"),
], ids=["named-gamma-beta", "plain-tensors", "random-gamma", "ignores-loaded-weights", "hard-coded-eps", "no-valueerror"])
def test_layernorm_module_teaching_messages(wrong, message):
    rejected_with("LayerNorm_tests", message, LayerNorm=wrong)


def test_hidden_layernorm_check_catches_a_hard_coded_eps_alone():
    with pytest.raises(AssertionError, match="use self.eps in forward"):
        ref.check_layernorm_module(_module(lambda m, x: ln_var_mean(x, m.weight, m.bias)))


# ---------------------------------------------------------------------------------- the stacks

def _stack(arrangement="post", final=None, shared=False, plain_list=False, reverse=False, residual="x",
           calls="module", first_only=False, drop_last=False):
    """A PostLN or PreLN stack class, correct by default, with one chosen mistake.

    ``final``: True / False (a final LayerNorm or not), "unused" (created, never applied), "reuse" (none created,
    the last block's norm applied again at the end); default: only Pre-LN has one.
    """
    pre = arrangement == "pre"
    final = pre if final is None else final

    class Stack(nn.Module):
        def __init__(self, d_model, sublayers):
            super().__init__()
            self.sublayers = list(sublayers) if plain_list else nn.ModuleList(sublayers)
            n = 1 if shared else len(sublayers)
            self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in range(n))
            if final is True or final == "unused":
                self.final_norm = nn.LayerNorm(d_model)

        def _norm(self, i, h):
            norm = self.norms[0 if shared else i]
            return norm.forward(h) if calls == "forward" else norm(h)

        def forward(self, x):
            subs = list(enumerate(self.sublayers))
            if reverse:
                subs = [(i, s) for i, (_, s) in zip(range(len(subs)), reversed(subs))]
            if first_only:
                subs = [(i, self.sublayers[0]) for i, _ in subs]
            if drop_last:
                subs = subs[:-1]
            h = x
            for i, sub in subs:
                if pre:
                    n = self._norm(i, h)
                    skip = {"x": h, "normed": n, "none": 0}[residual]
                    h = skip + sub(n)
                elif residual == "branch":
                    h = h + self._norm(i, sub(h))
                else:
                    h = self._norm(i, (h if residual == "x" else 0) + sub(h))
            if final == "reuse":
                return self.norms[-1](h)
            return self.final_norm(h) if final is True else h
    Stack.__name__ = "PreLN" if pre else "PostLN"
    return Stack


POST, PRE = _stack("post"), _stack("pre")


class PostLNDict(nn.Module):  # the norms registered by hand, in a different order
    def __init__(self, d_model, sublayers):
        super().__init__()
        for i, sub in reversed(list(enumerate(sublayers))):
            self.add_module(f"ln{i}", nn.LayerNorm(d_model))
            self.add_module(f"sub{i}", sub)
        self.n = len(sublayers)

    def forward(self, x):
        for i in range(self.n):
            x = getattr(self, f"ln{i}")(torch.add(x, getattr(self, f"sub{i}")(x)))
        return x


class PreLNBlocks(nn.Module):  # one ModuleDict per block, the final norm created first
    def __init__(self, d_model, sublayers):
        super().__init__()
        self.ln_f = nn.LayerNorm(d_model)
        self.blocks = nn.ModuleList(nn.ModuleDict({"ln": nn.LayerNorm(d_model), "f": s}) for s in sublayers)

    def forward(self, x):
        for block in self.blocks:
            x = torch.stack([x, block["f"](block["ln"](x))]).sum(0)
        return self.ln_f(x)


@pytest.mark.parametrize("post, pre", [(POST, PRE), (PostLNDict, PreLNBlocks)], ids=["instructor-like", "by-hand"])
def test_stacks_accept(post, pre):
    run_test_cell(A, "residual_blocks_tests", PostLN=post, PreLN=pre)


@pytest.mark.parametrize("post, pre, message", [
    (_stack("post", shared=True), PRE, "one LayerNorm is shared by every block"),
    (_stack("post", final=True), PRE, "a Post-LN stack needs no final LayerNorm"),
    (POST, _stack("pre", final=False), "one LayerNorm per block is not enough"),
    (POST, _stack("pre", shared=True, final=False), "one LayerNorm is shared by every block"),
    (_stack("post", plain_list=True), PRE, "keep the sublayers in an nn.ModuleList"),
    (POST, _stack("pre", plain_list=True), "keep the sublayers in an nn.ModuleList"),
    (_stack("post", residual="branch"), PRE, "a Post-LN stack ends with its last block's LayerNorm"),
    (_stack("pre", final="reuse"), PRE, "that is the Pre-LN arrangement"),
    (_stack("post", reverse=True), PRE, "the sublayers ran in reverse order"),
    (_stack("post", residual="none"), PRE, "the residual path is missing: each block adds its input"),
    (POST, _stack("pre", final="unused"), "a Pre-LN stack's output is that of its final LayerNorm"),
    (POST, _stack("pre", reverse=True), "the sublayers ran in reverse order"),
    (POST, _stack("pre", residual="normed"), "the skip path carried LayerNorm(h) instead of h"),
    (POST, _stack("pre", residual="none"), "the residual path is missing: each block adds its input"),
], ids=["post-shared-norm", "post-final-norm", "pre-no-final-norm", "pre-shared", "post-plain-list", "pre-plain-list",
        "post-norm-on-branch", "post-is-pre", "post-reversed", "post-no-residual", "pre-final-norm-unused",
        "pre-reversed", "pre-residual-from-norm", "pre-no-residual"])
def test_stack_teaching_messages(post, pre, message):
    rejected_with("residual_blocks_tests", message, PostLN=post, PreLN=pre)


def _fixed_width(pre):
    class Stack(nn.Module):  # every LayerNorm built for d_model = 4, whatever d_model is given
        def __init__(self, d_model, sublayers):
            super().__init__()
            self.sublayers = nn.ModuleList(sublayers)
            self.norms = nn.ModuleList(nn.LayerNorm(4) for _ in range(len(sublayers) + pre))

        def forward(self, x):
            h = x
            for sub, norm in zip(self.sublayers, self.norms):
                h = h + sub(norm(h)) if pre else norm(h + sub(h))
            return self.norms[-1](h) if pre else h
    Stack.__name__ = "PreLN" if pre else "PostLN"
    return Stack


@pytest.mark.parametrize("pre", [False, True], ids=["post", "pre"])
def test_a_stack_that_ignores_d_model_is_named(pre):
    stacks = {"PostLN": POST, "PreLN": PRE, ("PreLN" if pre else "PostLN"): _fixed_width(pre)}
    rejected_with("residual_blocks_tests", "the d_model argument was ignored", **stacks)


def test_pre_ln_as_post_ln_with_a_final_norm_gets_its_own_message():
    # a Post-LN stack with a final norm has 3 norms (the right count) and normalised output: the values decide
    rejected_with("residual_blocks_tests", "that is the Post-LN arrangement", PostLN=POST,
                  PreLN=_stack("post", final=True))


@pytest.mark.parametrize("post, pre, match", [
    (_stack("post", first_only=True), PRE, "against LayerNorm"),
    (_stack("post", drop_last=True), PRE, "LayerNorms ran"),
    (POST, _stack("pre", drop_last=True), "LayerNorms ran"),
    (POST, _stack("pre", calls="forward"), "LayerNorms ran 1 times"),
    (POST, _stack("pre", first_only=True), "against x \\+ sublayer"),
], ids=["post-first-sublayer-only", "post-last-block-dropped", "pre-last-block-dropped", "pre-norm-forward-called",
        "pre-first-sublayer-only"])
def test_hidden_stack_checks(post, pre, match):
    assert_rejected(A, "residual_blocks_tests", PostLN=post, PreLN=pre)
    with pytest.raises(AssertionError, match=match):
        (ref.check_pre_ln(pre) if pre is not PRE else ref.check_post_ln(post))


def test_hidden_stack_check_uses_each_norms_own_weights():
    class PreSharedWeights(PRE):  # three norms registered, the first one used everywhere
        def forward(self, x):
            h = x
            for sub in self.sublayers:
                h = h + sub(self.norms[0](h))
            return self.norms[0](h)
    with pytest.raises(AssertionError, match="LayerNorms ran"):
        ref.check_pre_ln(PreSharedWeights)


# ------------------------------------------------------------------------------------ rms_norm

def lnr_centre(x, weight, bias, eps, rms_norm):
    return rms_norm(x - x.mean(-1, keepdim=True), weight, eps) + bias


def lnr_gamma_after(x, weight, bias, eps, rms_norm):
    centred = x - x.sum(-1, keepdim=True) / x.shape[-1]
    return torch.addcmul(bias, rms_norm(centred, torch.ones_like(weight), eps=eps), weight)


RMS_OK = [
    lambda x, w, eps=1e-6: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w,
    lambda x, w, eps=1e-6: w * x / (torch.linalg.vector_norm(x, dim=-1, keepdim=True) ** 2 / x.shape[-1] + eps).sqrt(),
    lambda x, w, eps=1e-6: x / x.pow(2).mean(-1, keepdim=True).add(eps).sqrt() * w,
]


@pytest.mark.parametrize("k", range(3))
def test_rms_norm_accepts(k):
    run_test_cell(A, "rms_norm_tests", rms_norm=RMS_OK[k], layer_norm_from_rms=[lnr_centre, lnr_gamma_after][k % 2])


def _rms(stat="mean_square", eps_at="inside", dim=-1, keepdim=True, weight=True, centre=False, fixed_eps=None):
    def rms_norm(x, w, eps=1e-6):
        eps = fixed_eps if fixed_eps is not None else eps
        h = x - x.mean(-1, keepdim=True) if centre else x
        s = {"mean_square": h.pow(2).mean(dim, keepdim=keepdim), "sum_square": h.pow(2).sum(dim, keepdim=keepdim)}
        if stat == "mean_abs":
            denom = h.abs().mean(dim, keepdim=keepdim) + eps
        else:
            denom = {"inside": torch.sqrt(s[stat] + eps), "outside": torch.sqrt(s[stat]) + eps,
                     "none": torch.sqrt(s[stat])}[eps_at]
        return h / denom * (w if weight else 1.0)
    return rms_norm


@pytest.mark.parametrize("wrong", [
    lambda x, w, eps=1e-6: F.rms_norm(x, x.shape[-1:], w, eps),                          # PyTorch's own
    lambda x, w, eps=1e-6: nn.RMSNorm(x.shape[-1], eps=eps)(x) * w,                      # PyTorch's layer
])
def test_rms_norm_rejects_borrowed(wrong):
    assert "may not call" in str(assert_rejected(A, "rms_norm_tests", rms_norm=wrong))


@pytest.mark.parametrize("wrong, message", [
    (_rms(centre=True), "you subtracted the mean: that is LayerNorm"),
    (_rms(stat="sum_square"), "you divided by the root of the SUM of the squares"),
    (_rms(stat="mean_abs"), "you divided by the mean absolute value"),
    (_rms(weight=False), "weight (γ) was not applied"),
    (_rms(eps_at="outside"), "you added eps outside the square root"),
    (_rms(eps_at="none"), "eps had no effect"),
    (_rms(fixed_eps=1e-6), "the eps argument was ignored"),
    (_rms(dim=0), "you averaged over the tokens (dim 0)"),
    (_rms(keepdim=False), "the mean square lost its last dim (no keepdim=True)"),
], ids=["centres", "sum", "mean-abs", "no-weight", "eps-outside", "no-eps", "fixed-eps", "dim-0", "no-keepdim"])
def test_rms_norm_teaching_messages(wrong, message):
    rejected_with("rms_norm_tests", message, rms_norm=wrong)


def lnr_twice(x, weight, bias, eps, rms_norm):
    centred = x - x.mean(-1, keepdim=True)
    rms_norm(centred, weight, eps)
    return rms_norm(centred, weight, eps) + bias


@pytest.mark.parametrize("wrong, message", [
    (lambda x, w, b, eps, rms_norm: rms_norm(x, w, eps) + b, "the tokens passed to rms_norm were not centred"),
    (lambda x, w, b, eps, rms_norm: rms_norm(x - x.mean(-1, keepdim=True), w, eps), "bias (β) was not added"),
    (lambda x, w, b, eps, rms_norm: rms_norm(x - x.mean(-1, keepdim=True), w) + b,
     "rms_norm used its own default eps (1e-6) instead of the eps argument"),
    (lnr_twice, "called rms_norm 2 times"),
    (lambda x, w, b, eps, rms_norm: (x - x.mean(-1, keepdim=True)) / torch.sqrt(
        x.var(-1, keepdim=True, unbiased=False) + eps) * w + b, "called rms_norm 0 times"),
], ids=["not-centred", "no-beta", "default-eps", "twice", "not-called"])
def test_layer_norm_from_rms_teaching_messages(wrong, message):
    rejected_with("rms_norm_tests", message, layer_norm_from_rms=wrong)


def test_layer_norm_from_rms_with_a_fixed_eps_is_named_in_the_visible_test():
    rejected_with("rms_norm_tests", "the eps argument was ignored",
                  layer_norm_from_rms=lambda x, w, b, eps, rms_norm: rms_norm(x - x.mean(-1, keepdim=True), w, 1e-5) + b)


@pytest.mark.parametrize("wrong, match", [
    (lambda x, w, b, eps, rms_norm: rms_norm(x - x.mean(0, keepdim=True), w, eps) + b, "do not have mean 0"),
    (lambda x, w, b, eps, rms_norm: rms_norm(x - x.mean(-1, keepdim=True), w, 1e-5) + b, "pass the eps argument on"),
    (lambda x, w, b, eps, rms_norm: rms_norm(x - x.mean(-1, keepdim=True) + b, w, eps), "do not have mean 0"),
], ids=["centred-over-dim-0", "eps-hard-coded-1e-5", "beta-inside"])
def test_hidden_layer_norm_from_rms(wrong, match):
    with pytest.raises(AssertionError, match=match):
        ref.check_layer_norm_from_rms(wrong)


def test_hidden_rms_check_catches_eps_placement():
    with pytest.raises(AssertionError, match="eps goes inside the square root"):
        ref.check_rms_norm(_rms(eps_at="outside"))


# ---------------------------------------------------------------------------------- experiments

def test_why_normalise_the_stack_without_layernorm_blows_up_and_fails_to_learn():
    # what the chapter's "Why normalise at all?" text says of the printed numbers
    fig, r = ex.norm_or_not()
    ln, none = r["scale"]["LayerNorm"], r["scale"]["no LayerNorm"]
    assert len(ln) == len(none) == 9 and ln[0] == none[0]            # the same input, 8 blocks
    growth = [b / a for a, b in zip(none, none[1:])]
    assert all(g2 > g1 > 1 for g1, g2 in zip(growth, growth[1:]))    # a larger factor at every block
    assert none[-1] / none[0] > 3 * (ln[-1] / ln[0]) and ln[-1] / ln[0] < 2.5
    assert r["first_loss"]["no LayerNorm"] > 3 * math.log(16) > r["first_loss"]["LayerNorm"]
    assert not r["final_loss"]["no LayerNorm"] < 2.5                 # chance level (or overflowed)
    assert r["final_loss"]["LayerNorm"] < 0.2                        # solved
    assert len(fig.axes) == 2


def test_why_normalise_short_run_is_seeded_and_the_norms_are_really_gone():
    model = ex.without_norms(ex.make_stack(True, 2))
    assert not any(isinstance(m, nn.LayerNorm) for m in model.modules())
    a, b = ex.norm_or_not(n_layer=2, steps=3)[1], ex.norm_or_not(n_layer=2, steps=3)[1]
    assert a["final_loss"] == b["final_loss"] and a["steps"] == 3


def test_ln_vs_bn_shows_the_batch_dependence():
    fig, diff = ex.ln_vs_bn(ln_var_mean)
    assert diff["ln_max_diff"] < 1e-6 and diff["bn_max_diff"] > 0.1
    assert len(fig.axes) == 2


def test_batchnorm_sees_future_tokens_and_other_sequences():
    fig, leak = ex.batchnorm_future_leak(ln_var_mean)
    assert leak["ln_future"] == leak["ln_other_sequence"] == leak["ln_first_from_last"] == 0.0
    assert min(leak["bn_future"], leak["bn_other_sequence"], leak["bn_first_from_last"]) > 0.1
    assert leak["bn_self"] > 1.0 and len(fig.axes) == 3  # two maps and a colour bar


def test_batchnorm_modes_differ_after_training():
    fig, modes = ex.batchnorm_train_eval()
    assert modes["final_error"] < 0.2 < modes["first_error"]
    assert modes["max_diff"] > 0.5
    assert "Expected more than 1 value per channel" in modes["single_token"]
    assert len(fig.axes) == 2


@pytest.mark.parametrize("dropout", [False, True])
def test_block_diagrams_are_drawn(dropout):
    fig = ex.block_diagrams(dropout=dropout)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert len(fig.axes) == 2 and texts.count("final LayerNorm") == 1
    assert texts.count("LayerNorm") == 2 and texts.count("Dropout") == (2 if dropout else 0)


def test_gradient_norms_at_init_grow_towards_the_output_for_post_ln_only():
    post, pre = ex.grad_norms_at_init(False), ex.grad_norms_at_init(True)
    assert len(post) == len(pre) == ex.N_LAYER
    assert post[-1] / post[0] > 1.3 and 0.8 < pre[-1] / pre[0] < 1.2


def test_adam_first_step_moves_every_weight_by_lr_and_post_ln_output_more():
    post, pre = ex.adam_first_step(False), ex.adam_first_step(True)
    assert abs(post["median_step_over_lr"] - 1) < 1e-3 and abs(pre["median_step_over_lr"] - 1) < 1e-3
    assert post["output_change"] > 1.5 * pre["output_change"]


def test_short_training_runs_are_seeded_and_finite():
    a, b = ex.train_previous_token(True, steps=5), ex.train_previous_token(True, steps=5)
    assert a == b and all(torch.isfinite(torch.tensor(a)))


def test_the_toy_training_loop_is_not_named_train():
    assert not hasattr(ex, "train"), "course.training.train is the course's training loop; this one trains a toy stack"


def test_one_thread_is_restored():
    before = torch.get_num_threads()
    with ex.one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


@pytest.mark.slow
@pytest.mark.usefixtures("one_torch_thread")  # pre_vs_post sets one thread itself; this keeps the rest quiet too
def test_pre_vs_post_experiment_shows_warmup_matters_for_post_ln():
    fig, result = ex.pre_vs_post()
    loss = result["final_loss"]
    assert loss["post_nowarmup"] > 2.5            # stuck at chance (ln 16 = 2.77)
    assert max(loss["post_warmup"], loss["pre_nowarmup"], loss["pre_warmup"]) < 0.5
    assert len(fig.axes) == 2


# --------------------------------------------------------------------------------------- widget

def test_layernorm_explorer_controls_change_the_figure(tmp_path):
    w = lw.layernorm_explorer()
    assert "std 1" in w.status.value
    for name, value in [("scale", 0.5), ("shift", -4.0), ("gamma", 2.0), ("beta", 1.5)]:
        before, status = w.png, w.status.value
        w.controls[name].value = value
        assert w.png != before and w.status.value != status, name
    assert "std 2" in w.status.value and "mean 1.5" in w.status.value
    assert w.export_png(tmp_path / "ln.png").read_bytes()[:4] == b"\x89PNG"


def test_widget_normalise_matches_torch():
    x = lw.token_features(3.0, -2.0)
    expected = F.layer_norm(x[None], (x.numel(),))[0] * 1.7 + 0.3
    assert torch.allclose(lw.normalise(x, 1.7, 0.3), expected, atol=1e-5)


def test_hints_and_demos_do_not_type_the_answers():
    # a hint points the way and a demo shows the idea on another example (issue 30): neither may type a
    # solution's line or run its expression with other names (tests/hints.py)
    assert answers_given_away(A) == []
