"""Chapter 03 (layer norm): graded cells reject the usual wrong answers (unbiased variance, eps outside
the root, wrong dim, PyTorch's own layer_norm) and accept correct ones written differently; the
experiments and the LayerNorm explorer behave."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from course_grader.checks import ch03_layernorm as ref
from notebooks import assert_rejected, graded_cells, run_test_cell
from torch import nn

from course.experiments import ch03_layernorm as ex
from course.widgets import ch03_layernorm as lw

A = "03-layernorm"


def test_graded_cells_and_points():
    points = {gid: c.metadata["nbgrader"]["points"] for gid, c in graded_cells(A).items()}
    assert points == {"layer_norm_tests": 3, "LayerNorm_tests": 2, "residual_blocks_tests": 3, "rms_norm_tests": 1}


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


# ------------------------------------------------------------------------------- residual blocks

def _block(forward):
    class Block(nn.Module):
        def __init__(self, d_model, sublayer):
            super().__init__()
            self.norm = nn.LayerNorm(d_model)
            self.sublayer = sublayer

        def forward(self, x):
            return forward(self, x)
    return Block


POST = [
    _block(lambda m, x: m.norm(x + m.sublayer(x))),
    _block(lambda m, x: m.norm(torch.add(m.sublayer(x), x))),
    _block(lambda m, x: (lambda h: m.norm(h))(x.clone().add_(m.sublayer(x)))),
]
PRE = [
    _block(lambda m, x: x + m.sublayer(m.norm(x))),
    _block(lambda m, x: m.sublayer(m.norm(x)) + x),
    _block(lambda m, x: torch.stack([x, m.sublayer(m.norm(x))]).sum(0)),
]


@pytest.mark.parametrize("k", range(3))
def test_blocks_accept(k):
    run_test_cell(A, "residual_blocks_tests", PostLN=POST[k], PreLN=PRE[k])


@pytest.mark.parametrize("post,pre", [
    (PRE[0], POST[0]),                                                   # swapped
    (_block(lambda m, x: x + m.norm(m.sublayer(x))), PRE[0]),            # norm on the branch output
    (POST[0], _block(lambda m, x: m.norm(x) + m.sublayer(m.norm(x)))),   # residual from the normalised x
    (POST[0], _block(lambda m, x: m.sublayer(m.norm(x)))),               # no residual
    (_block(lambda m, x: m.norm(m.sublayer(x))), PRE[0]),                # no residual (post)
    (POST[0], _block(lambda m, x: m.norm(x + m.sublayer(m.norm(x))))),   # both norms
])
def test_blocks_reject(post, pre):
    assert_rejected(A, "residual_blocks_tests", PostLN=post, PreLN=pre)


# ------------------------------------------------------------------------------------ rms_norm

@pytest.mark.parametrize("fn", [
    lambda x, w, eps=1e-6: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w,
    lambda x, w, eps=1e-6: w * x / (torch.linalg.vector_norm(x, dim=-1, keepdim=True) ** 2 / x.shape[-1] + eps).sqrt(),
    lambda x, w, eps=1e-6: x / x.pow(2).mean(-1, keepdim=True).add(eps).sqrt() * w,
])
def test_rms_norm_accepts(fn):
    run_test_cell(A, "rms_norm_tests", rms_norm=fn)


@pytest.mark.parametrize("wrong", [
    lambda x, w, eps=1e-6: ln_var_mean(x, w, torch.zeros_like(w), eps),                  # subtracts the mean
    lambda x, w, eps=1e-6: x / torch.sqrt(x.pow(2).sum(-1, keepdim=True) + eps) * w,     # sum, not mean
    lambda x, w, eps=1e-6: x / (x.abs().mean(-1, keepdim=True) + eps) * w,               # mean absolute value
    lambda x, w, eps=1e-6: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps),       # no weight
    lambda x, w, eps=1e-6: F.rms_norm(x, x.shape[-1:], w, eps),                          # PyTorch's own
    lambda x, w, eps=1e-6: nn.RMSNorm(x.shape[-1], eps=eps)(x) * w,                      # PyTorch's layer
])
def test_rms_norm_rejects(wrong):
    assert_rejected(A, "rms_norm_tests", rms_norm=wrong)


# ---------------------------------------------------------------------------------- experiments

def test_ln_vs_bn_shows_the_batch_dependence():
    fig, diff = ex.ln_vs_bn(ln_var_mean)
    assert diff["ln_max_diff"] < 1e-6 and diff["bn_max_diff"] > 0.1
    assert len(fig.axes) == 2


def test_gradient_norms_at_init_grow_towards_the_output_for_post_ln_only():
    post, pre = ex.grad_norms_at_init(False), ex.grad_norms_at_init(True)
    assert len(post) == len(pre) == 8
    assert post[-1] / post[0] > 1.5 and 0.7 < pre[-1] / pre[0] < 1.2


def test_short_training_runs_are_seeded_and_finite():
    a, b = ex.train(True, steps=5), ex.train(True, steps=5)
    assert a == b and all(torch.isfinite(torch.tensor(a)))


@pytest.mark.slow
@pytest.mark.usefixtures("one_torch_thread")  # as the notebook runs while graded; the run differs with 2 threads
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
