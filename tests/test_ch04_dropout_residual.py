"""Chapter 04 (dropout and residual connections): the graded cells reject wrong answers and
accept correct ones written differently; the course modules and the widget behave."""

from __future__ import annotations

import math

import pytest
import torch
from course_grader.checks import ch04_dropout_residual as ref
from hints import answers_given_away
from matplotlib.figure import Figure
from notebooks import answer_namespace, assert_rejected, graded_cells, run_test_cell
from torch import nn

from course.experiments import ch04_dropout_residual as ex
from course.experiments.ch04_dropout_residual import DeepStack
from course.widgets.ch04_dropout_residual import dropout_explorer

A = "04-dropout-residual"
NS = answer_namespace(A)


def test_graded_cells_and_points():
    cells = graded_cells(A)
    points = {gid: c.metadata["nbgrader"]["points"] for gid, c in cells.items()}
    assert points == {"dropout_tests": 4, "Dropout_tests": 2, "embed_with_dropout_tests": 2,
                      "PreNormResidual_tests": 4, "grad_norms_per_layer_tests": 3}


def rejected_with(grade_id: str, message: str, **substitutes) -> None:
    """The test cell fails, and its message is the teaching message for this wrong answer."""
    err = assert_rejected(A, grade_id, **substitutes)
    assert message in str(err), f"expected the message {message!r}, got: {err}"


# ----------------------------------------------------------------------------- exercise 1: dropout

def _valid(p):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"bad p {p!r}")


def dropout_bernoulli(x, p, training=True, generator=None):
    _valid(p)
    if not training:
        return x.clone()  # a copy instead of the same object: also fine
    if p == 1:
        return torch.zeros_like(x)
    keep = torch.bernoulli(torch.full(x.shape, 1.0 - p), generator=generator)
    return x * keep.to(x.dtype) / (1 - p)


def dropout_where(x, p, training=True, generator=None):
    _valid(p)
    if not training or p == 0:
        return x
    u = torch.rand(x.shape, generator=generator)
    return torch.where(u < p, torch.zeros_like(x), x / (1 - p)) if p < 1 else x * 0


def _mask(x, p, generator=None):
    return (torch.rand(x.shape, generator=generator) >= p).to(x.dtype)


def no_scaling(x, p, training=True, generator=None):
    _valid(p)
    return x * _mask(x, p, generator) if training else x


def scale_by_keep_prob(x, p, training=True, generator=None):
    _valid(p)
    return x * _mask(x, p, generator) * (1 - p) if training else x


def scale_by_p(x, p, training=True, generator=None):
    _valid(p)
    if not training or p == 0:
        return x
    return x * _mask(x, p, generator) * p if p < 1 else x * 0


def keeps_with_prob_p(x, p, training=True, generator=None):
    _valid(p)
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    keep = (torch.rand(x.shape, generator=generator) < p).to(x.dtype)  # swapped roles of p and 1-p
    return x * keep / p


def drops_in_eval(x, p, training=True, generator=None):
    _valid(p)
    return x * 0 if p == 1 else x * _mask(x, p, generator) / (1 - p)


def nan_at_p_one(x, p, training=True, generator=None):
    _valid(p)
    return x * _mask(x, p, generator) / (1 - p) if training else x


def seed_reset_inside(x, p, training=True, generator=None):
    _valid(p)
    if not training or p == 0:
        return x
    torch.manual_seed(0)
    return x * _mask(x, p) / (1 - p) if p < 1 else x * 0


def no_value_error(x, p, training=True, generator=None):
    if not training or p == 0:
        return x
    return x * _mask(x, p, generator) / (1 - p) if p < 1 else x * 0


def range_check_only(x, p, training=True, generator=None):
    if p < 0 or p > 1:  # a string p raises TypeError here, not ValueError
        raise ValueError("bad p")
    return no_value_error(x, p, training, generator)


def ignores_generator(x, p, training=True, generator=None):
    _valid(p)
    if not training or p == 0:
        return x
    return x * _mask(x, p) / (1 - p) if p < 1 else x * 0


def detaches(x, p, training=True, generator=None):
    _valid(p)
    if not training or p == 0:
        return x
    return (x.detach() * _mask(x, p, generator) / (1 - p)) if p < 1 else x * 0


@pytest.mark.parametrize("fn", [NS["dropout"], dropout_bernoulli, dropout_where])
def test_dropout_accepts_correct_variants(fn):
    run_test_cell(A, "dropout_tests", dropout=fn)


@pytest.mark.parametrize("wrong", [no_scaling, scale_by_keep_prob, scale_by_p, keeps_with_prob_p, drops_in_eval,
                                   nan_at_p_one, seed_reset_inside, no_value_error, range_check_only,
                                   ignores_generator, detaches])
def test_dropout_rejects(wrong):
    err = assert_rejected(A, "dropout_tests", dropout=wrong)
    assert str(err)  # a readable message, not a bare assert


def divides_by_p(x, p, training=True, generator=None):
    _valid(p)
    if not training or p == 0:
        return x
    return x * _mask(x, p, generator) / p if p < 1 else x * 0


_CACHE = {}


def keeps_its_mask(x, p, training=True, generator=None):  # one mask per shape, reused on every call
    _valid(p)
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    key = (tuple(x.shape), p)
    if key not in _CACHE:
        _CACHE[key] = _mask(x, p, generator)
    return x * _CACHE[key] / (1 - p)


@pytest.mark.parametrize("wrong, message", [
    (drops_in_eval, "in eval mode dropout returns x unchanged"),
    (nan_at_p_one, "dropout(x, p=1) gave NaN"),
    (keeps_with_prob_p, "p is the probability of DROPPING an element"),
    (no_scaling, "they must be divided by 1 - p = 0.75"),
    (scale_by_keep_prob, "you multiplied by 1 - p"),
    (scale_by_p, "you scaled by p"),
    (divides_by_p, "you divided by p"),
    (seed_reset_inside, "two calls in a row gave the same mask"),
    (keeps_its_mask, "two calls in a row gave the same mask"),
    (ignores_generator, "pass generator to torch.rand"),
    (detaches, "do not detach and do not use .data"),
    (no_value_error, "dropout(x, p=1.5) (spec 6)"),
    (range_check_only, "check the type of p before comparing it"),
], ids=["drops-in-eval", "nan-at-p-1", "keeps-with-p", "no-scaling", "times-keep-prob", "times-p", "divides-by-p",
        "seed-reset", "mask-reused", "ignores-generator", "detaches", "no-valueerror", "type-unchecked"])
def test_dropout_teaching_messages(wrong, message):
    _CACHE.clear()
    rejected_with("dropout_tests", message, dropout=wrong)


# ----------------------------------------------------------------------------- exercise 2: Dropout

class _Checked(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        _valid(p)
        self.p = p


class DropoutFunctional(_Checked):
    def forward(self, x):
        return nn.functional.dropout(x, self.p, self.training)


class OwnFlag(_Checked):
    def __init__(self, p=0.5):
        super().__init__(p)
        self.active = True  # never updated by .eval()

    def forward(self, x):
        return NS["dropout"](x, self.p, training=self.active)


class ModuleNoScaling(_Checked):
    def forward(self, x):
        return x * _mask(x, self.p) if self.training else x


class ModuleAlwaysDrops(_Checked):
    def forward(self, x):
        return NS["dropout"](x, self.p, training=True)


class ModuleNoValidation(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, x):
        return nn.functional.dropout(x, min(max(self.p, 0.0), 1.0), self.training)


class ModuleOwnMask(_Checked):
    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        return x * _mask(x, self.p) / (1 - self.p) if self.p < 1 else x * 0


@pytest.mark.parametrize("cls", [NS["Dropout"], ModuleOwnMask])
def test_dropout_module_accepts(cls):
    run_test_cell(A, "Dropout_tests", Dropout=cls)


@pytest.mark.parametrize("cls", [OwnFlag, ModuleNoScaling, ModuleAlwaysDrops, ModuleNoValidation])
def test_dropout_module_rejects(cls):
    assert_rejected(A, "Dropout_tests", Dropout=cls)


class ModuleWrongDefault(ModuleOwnMask):
    def __init__(self, p=0.1):
        super().__init__(p)


class ModuleEvalOnlyWhenAlone(ModuleOwnMask):  # its own flag, set by its eval(); train(mode) ignores mode
    def eval(self):
        nn.Module.train(self, False)
        self.active = False
        return self

    def train(self, mode=True):
        self.active = True
        return nn.Module.train(self, mode)

    def forward(self, x):
        if not getattr(self, "active", True) or self.p == 0:
            return x
        return x * _mask(x, self.p) / (1 - self.p) if self.p < 1 else x * 0


class ModuleUncheckedP(ModuleOwnMask):
    def __init__(self, p=0.5):
        nn.Module.__init__(self)
        self.p = p


@pytest.mark.parametrize("wrong, message", [
    (OwnFlag, "after .eval() your Dropout still changed its input"),
    (ModuleAlwaysDrops, "after .eval() your Dropout still changed its input"),
    (ModuleNoScaling, "Dropout(0.5)'s survivors are 1"),
    (ModuleWrongDefault, "Dropout() should default to p = 0.5"),
    (ModuleEvalOnlyWhenAlone, "model.eval() on an nn.Sequential holding your Dropout did not switch it off"),
    (ModuleUncheckedP, "Dropout(1.5) (check p in __init__)"),
], ids=["own-flag", "always-drops", "no-scaling", "default-p", "overrides-eval", "unchecked-p"])
def test_dropout_module_teaching_messages(wrong, message):
    rejected_with("Dropout_tests", message, Dropout=wrong)


class ModuleFixedHalf(ModuleOwnMask):  # stores p, but always drops half
    def forward(self, x):
        if not self.training:
            return x
        return x * _mask(x, 0.5) / 0.5


def test_dropout_module_that_ignores_p_is_named():
    rejected_with("Dropout_tests", "the p argument was ignored", Dropout=ModuleFixedHalf)


# ----------------------------------------------------------------------------- exercise 3: placement

def _check_len(token_ids, pos_table):
    if token_ids.shape[1] > pos_table.shape[0]:
        raise ValueError(f"{token_ids.shape[1]} tokens but a position table of {pos_table.shape[0]}")


def embed_gather(token_ids, tok_table, pos_table, dropout):
    _check_len(token_ids, pos_table)
    tok = torch.nn.functional.embedding(token_ids, tok_table)
    return dropout(tok + pos_table[torch.arange(token_ids.shape[1])].unsqueeze(0))


def embed_loops(token_ids, tok_table, pos_table, dropout):
    batch, seq = token_ids.shape
    if seq > len(pos_table):
        raise ValueError(f"{seq} tokens, {len(pos_table)} positions")
    rows = [torch.stack([tok_table[token_ids[b, t]] + pos_table[t] for t in range(seq)]) for b in range(batch)]
    return dropout(torch.stack(rows))


def _embed(mistake):
    def embed_with_dropout(token_ids, tok_table, pos_table, dropout):
        seq = token_ids.shape[1]
        if mistake != "no_length_check":
            _check_len(token_ids, pos_table)
        tok, pos = tok_table[token_ids], pos_table[:seq]
        return {
            "drop_tok_only": lambda: dropout(tok) + pos,
            "drop_pos_only": lambda: tok + dropout(pos),
            "drop_each": lambda: dropout(tok) + dropout(pos),
            "no_dropout": lambda: tok + pos,
            "drop_table": lambda: dropout(tok_table)[token_ids] + pos,
            "pos_by_token": lambda: dropout(tok + pos_table[token_ids]),
            "unsliced": lambda: dropout(tok + pos_table),
            "returns_sum": lambda: (dropout(tok + pos), tok + pos)[1],
            "no_length_check": lambda: dropout(tok + pos_table[:seq]),
        }[mistake]()
    embed_with_dropout.__name__ = f"embed_{mistake}"
    return embed_with_dropout


@pytest.mark.parametrize("fn", [NS["embed_with_dropout"], embed_gather, embed_loops])
def test_embed_accepts(fn):
    run_test_cell(A, "embed_with_dropout_tests", embed_with_dropout=fn)


@pytest.mark.parametrize("mistake, message", [
    ("drop_tok_only", "dropout saw the token embeddings only"),
    ("drop_pos_only", "dropout saw the position vectors only"),
    ("drop_each", "the dropout module was called 2 times"),
    ("no_dropout", "the dropout module was called 0 times"),
    ("drop_table", "dropout was applied to the embedding table, not to the sum"),
    ("pos_by_token", "the position vectors were looked up by token id"),
    ("unsliced", "a sequence of 3 tokens uses only the first 3 position vectors"),
    ("returns_sum", "embed_with_dropout must return what the dropout returns"),
    ("no_length_check", "embed_with_dropout on 5 tokens with a position table of 4 rows (the message names both "
     "lengths): expected ValueError"),
])
def test_embed_teaching_messages(mistake, message):
    rejected_with("embed_with_dropout_tests", message, embed_with_dropout=_embed(mistake))


def _embed_scaled(scale_sum):
    def embed_with_dropout(token_ids, tok_table, pos_table, dropout):  # the paper's §3.4 scaling added
        _check_len(token_ids, pos_table)
        seq, root = token_ids.shape[1], tok_table.shape[1] ** 0.5
        tok, pos = tok_table[token_ids], pos_table[:seq]
        return dropout((tok + pos) * root if scale_sum else tok * root + pos)
    return embed_with_dropout


@pytest.mark.parametrize("scale_sum", [False, True], ids=["embeddings-scaled", "sum-scaled"])
def test_embed_scaled_by_root_d_model_gets_its_own_message(scale_sum):
    # a student who follows the paper (§3.4) used to get the generic message
    rejected_with("embed_with_dropout_tests", "multiplied the token embeddings by √d_model",
                  embed_with_dropout=_embed_scaled(scale_sum))


def test_embed_hidden_check_names_the_root_d_model_scaling():
    with pytest.raises(AssertionError, match="multiplied by √d_model"):
        ref.check_embed_with_dropout(_embed_scaled(False))


def test_embed_hidden_check_sees_a_mask_shared_by_a_token():
    with pytest.raises(AssertionError, match="applied to the embedding table"):
        ref.check_embed_with_dropout(_embed("drop_table"))


def _residual(post, where="branch", norm=True):
    """A residual sublayer, Post-LN or Pre-LN, with its dropout in the given place."""
    class Block(NS["PostNormResidual" if post else "PreNormResidual"]):
        def forward(self, x):
            d, n = self.dropout, (self.norm if norm else (lambda h: h))
            if post:
                return {"branch": lambda: n(x + d(self.sublayer(x))),
                        "after_add": lambda: n(d(x + self.sublayer(x))),
                        "after_norm": lambda: d(n(x + self.sublayer(x))),
                        "stream": lambda: n(d(x) + self.sublayer(x)),
                        "input": lambda: n(x + self.sublayer(d(x))),
                        "none": lambda: n(x + self.sublayer(x)),
                        "twice": lambda: n(x + d(d(self.sublayer(x)))),
                        "pre": lambda: x + d(self.sublayer(n(x)))}[where]()
            return {"branch": lambda: x + d(self.sublayer(n(x))),
                    "after_add": lambda: d(x + self.sublayer(n(x))),
                    "stream": lambda: d(x) + self.sublayer(n(x)),
                    "before_sublayer": lambda: x + self.sublayer(d(n(x))),
                    "none": lambda: x + self.sublayer(n(x)),
                    "twice": lambda: x + d(d(self.sublayer(n(x)))),
                    "post": lambda: n(x + d(self.sublayer(x))),
                    "input": lambda: (lambda h: h + self.sublayer(n(h)))(d(x))}[where]()
    Block.__name__ = f"{'Post' if post else 'Pre'}NormResidual"
    return Block


POST_OK, PRE_OK = NS["PostNormResidual"], NS["PreNormResidual"]


class PreStepByStep(PRE_OK):
    def forward(self, x):
        normed = self.norm(x)
        branch = self.sublayer(normed)
        branch = self.dropout(branch)
        return branch + x


class PostStepByStep(POST_OK):
    def forward(self, x):
        out = x.clone()
        out += self.dropout(self.sublayer(x))
        return self.norm(out)


@pytest.mark.parametrize("post, pre", [(POST_OK, PRE_OK), (PostStepByStep, PreStepByStep)])
def test_residual_sublayers_accept(post, pre):
    run_test_cell(A, "PreNormResidual_tests", PostNormResidual=post, PreNormResidual=pre)


@pytest.mark.parametrize("post, where, message", [
    (True, "after_add", "the dropout came after the add"),
    (True, "after_norm", "the dropout came after the norm"),
    (True, "stream", "the dropout was applied to x, the residual stream itself"),
    (True, "none", "applied its dropout 0 times"),
    (True, "twice", "applied its dropout 2 times"),
    (True, "pre", "PostNormResidual in eval mode"),
    (False, "after_add", "the dropout came after the add"),
    (False, "stream", "the dropout was applied to x, the residual stream itself"),
    (False, "before_sublayer", "the dropout was applied to the normalised input, before the sublayer"),
    (False, "none", "applied its dropout 0 times"),
    (False, "twice", "applied its dropout 2 times"),
    (False, "post", "PreNormResidual in eval mode"),
], ids=["post-after-add", "post-after-norm", "post-on-stream", "post-none", "post-twice", "post-is-pre",
        "pre-after-add", "pre-on-stream", "pre-before-sublayer", "pre-none", "pre-twice", "pre-is-post"])
def test_residual_sublayer_teaching_messages(post, where, message):
    block = _residual(post, where)
    rejected_with("PreNormResidual_tests", message, **{block.__name__: block})


@pytest.mark.parametrize("post, where, norm", [(True, "branch", False), (False, "branch", False),
                                               (True, "input", True), (False, "input", True)],
                         ids=["post-no-norm", "pre-no-norm", "post-drops-input", "pre-drops-input"])
def test_residual_sublayers_reject(post, where, norm):
    block = _residual(post, where, norm)
    assert_rejected(A, "PreNormResidual_tests", **{block.__name__: block})


def test_residual_hidden_checks_see_the_placement():
    with pytest.raises(AssertionError, match="sublayer's output"):
        ref.check_prenorm_residual(_residual(False, "twice"))
    with pytest.raises(AssertionError, match="applied its dropout 2 times"):
        ref.check_postnorm_residual(_residual(True, "twice"))
    with pytest.raises(AssertionError):
        ref.check_postnorm_residual(_residual(True, "stream"))
    ref.check_postnorm_residual(PostStepByStep)
    ref.check_prenorm_residual(PreStepByStep)


# ----------------------------------------------------------------------------- exercise 4: gradient norms

def grads_autograd(model, x):
    loss = (model(x) ** 2).mean()
    grads = torch.autograd.grad(loss, [layer.weight for layer in model.layers])
    return torch.tensor([g.norm().item() for g in grads])


def grads_zero_in_place(model, x):
    model.zero_grad(set_to_none=False)
    model(x).pow(2).mean().backward()
    return torch.stack([layer.weight.grad.norm() for layer in model.layers]).detach()


def grads_no_zeroing(model, x):
    model(x).pow(2).mean().backward()
    return torch.stack([layer.weight.grad.norm() for layer in model.layers]).detach()


def grads_read_before_backward(model, x):
    model.zero_grad(set_to_none=False)
    loss = model(x).pow(2).mean()
    norms = torch.stack([layer.weight.grad.norm() if layer.weight.grad is not None else torch.tensor(0.0)
                         for layer in model.layers])
    loss.backward()
    return norms.detach()


def grads_sum_loss(model, x):
    model.zero_grad()
    model(x).pow(2).sum().backward()
    return torch.stack([layer.weight.grad.norm() for layer in model.layers]).detach()


def grads_of_bias(model, x):
    model.zero_grad()
    model(x).pow(2).mean().backward()
    return torch.stack([layer.bias.grad.norm() for layer in model.layers]).detach()


def grads_reversed(model, x):
    return grads_zero_in_place(model, x).flip(0)


@pytest.mark.parametrize("fn", [NS["grad_norms_per_layer"], grads_autograd, grads_zero_in_place])
def test_grad_norms_accepts(fn):
    run_test_cell(A, "grad_norms_per_layer_tests", grad_norms_per_layer=fn)


@pytest.mark.parametrize("fn", [grads_no_zeroing, grads_read_before_backward, grads_sum_loss, grads_of_bias,
                                grads_reversed])
def test_grad_norms_rejects(fn):
    assert_rejected(A, "grad_norms_per_layer_tests", grad_norms_per_layer=fn)


@pytest.mark.parametrize("wrong, message", [
    (grads_no_zeroing, "the second call gave twice the first"),
    (grads_read_before_backward, "all norms are 0: read the gradients after"),
    (grads_sum_loss, "the norms are 2 times too large"),
    (grads_of_bias, "that is the norm of the bias gradient"),
    (grads_reversed, "the norms are in reverse order"),
], ids=["no-zero-grad", "read-before-backward", "sum-loss", "bias", "reversed"])
def test_grad_norms_teaching_messages(wrong, message):
    rejected_with("grad_norms_per_layer_tests", message, grad_norms_per_layer=wrong)


def test_reference_grad_norms_match_autograd_on_the_model():
    model = DeepStack(5, 7, residual=True, seed=3)
    x = torch.randn(4, 7)
    torch.testing.assert_close(ref.reference_grad_norms(model, x), grads_autograd(model, x), rtol=1e-5, atol=0)
    assert all(layer.weight.grad is None for layer in model.layers), "the reference leaves .grad alone"


# ----------------------------------------------------------------------------- course.residual

def test_deep_stack_shapes_and_seed():
    a, b = DeepStack(4, 6, residual=False, seed=1), DeepStack(4, 6, residual=True, seed=1)
    assert len(a.layers) == 4 and all(isinstance(layer, nn.Linear) for layer in a.layers)
    for la, lb in zip(a.layers, b.layers):
        assert torch.equal(la.weight, lb.weight)
    x = torch.randn(3, 6)
    assert a(x).shape == (3, 6)
    assert not torch.allclose(a(x), b(x))
    assert "residual=True" in repr(b)


def test_deep_stack_leaves_global_rng_alone():
    torch.manual_seed(11)
    expected = torch.rand(3)
    torch.manual_seed(11)
    DeepStack(3, 5, seed=99)
    assert torch.equal(torch.rand(3), expected)


def test_residual_stack_is_identity_plus_branch():
    model = DeepStack(1, 4, residual=True, seed=0)
    x = torch.randn(2, 4)
    layer = model.layers[0]
    torch.testing.assert_close(model(x), x + torch.tanh(layer(x)))


@pytest.mark.parametrize("kwargs", [dict(depth=0), dict(depth=2.5), dict(depth=True), dict(depth=3, width=0),
                                    dict(depth=3, residual="yes")])
def test_deep_stack_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        DeepStack(**kwargs)


def test_deep_stack_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\(batch, 6\)"):
        DeepStack(2, 6)(torch.randn(3, 5))


# ----------------------------------------------------------------------------- course.experiments.ch04_dropout_residual

def test_dropout_statistics():
    fig, stats = ex.dropout_statistics(NS["dropout"], p=0.3, n=50_000)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert abs(stats["frac_zero"] - 0.3) < 0.02
    assert all(abs(m - 1) < 0.05 for m in stats["means"])
    assert all(abs(z - q) < 0.02 for z, q in zip(stats["zero_fracs"], stats["ps"]))
    assert all(abs(s - math.sqrt(q / (1 - q))) < 0.1 for s, q in zip(stats["stds"], stats["ps"]))


@pytest.mark.parametrize("kwargs", [dict(p=1.0), dict(p=-0.2), dict(p="0.3"), dict(n=10)])
def test_dropout_statistics_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        ex.dropout_statistics(NS["dropout"], **kwargs)


def test_train_vs_eval_mean_matches_eval():
    fig, stats = ex.train_vs_eval(NS["dropout"], p=0.3, passes=3000)
    assert isinstance(fig, Figure)
    assert abs(stats["train_mean"] - stats["eval"]) < 4 * stats["train_std"] / math.sqrt(3000)
    with pytest.raises(ValueError):
        ex.train_vs_eval(NS["dropout"], p=1.0)


def test_placement_experiment():
    fig, stats = ex.placement_experiment(PRE_OK, depth=6, p=0.2)
    assert isinstance(fig, Figure)
    assert stats["good_zero"] == [0.0] * 6 and stats["good_err"] == [0.0] * 6
    assert abs(stats["bad_zero"][-1] - (1 - 0.8 ** 6)) < 0.03
    assert stats["bad_err"][-1] > stats["bad_err"][0] > 0
    with pytest.raises(ValueError):
        ex.placement_experiment(PRE_OK, depth=0)


def test_dropout_closes_the_gap_of_an_overfitting_model():
    fig, fit = ex.overfitting_experiment(NS["Dropout"], p=0.5, steps=300)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert fit["plain_train"] < fit["noise_floor"] / 2, "without dropout the model fits the noise"
    assert fit["dropout_gap"] < fit["plain_gap"] / 2 and fit["dropout_test"] < fit["plain_test"]
    assert fit["dropout_test_in_train_mode"] > fit["dropout_test"]
    with pytest.raises(ValueError):
        ex.overfitting_experiment(NS["Dropout"], p=1.0)


def test_block_diagrams_show_the_residual_dropout():
    texts = [t.get_text() for ax in ex.block_diagrams().axes for t in ax.texts]
    assert texts.count("Dropout") == 2


def test_wrong_placement_helper_is_really_wrong():
    block = ex.DropoutAfterAdd(4, ex.ZeroSublayer(), p=1.0).train()
    x = torch.randn(2, 4)
    assert torch.equal(block(x), torch.zeros(2, 4))


def test_residual_experiment_shows_vanishing_gradients():
    fig, stats = ex.residual_experiment(ref.reference_grad_norms, depth=20)
    assert isinstance(fig, Figure)
    plain, residual = stats["plain"], stats["residual"]
    assert len(plain) == len(residual) == 20
    assert plain[-1] / plain[0] > 1e3, "the plain stack's gradient vanishes toward the input"
    assert 0.1 < residual[-1] / residual[0] < 10, "the residual stack's gradient stays level"


def test_residual_stack_gradient_grows_a_little_toward_the_input_as_the_text_says():
    # Part 4: with 40 layers the identity path keeps every gradient, and the J terms add to it: layer 1 gets
    # more than layer 40, by a small factor (the text used to call those terms "smaller")
    fig, stats = ex.residual_experiment(ref.reference_grad_norms, depth=40)
    plain, residual = stats["plain"], stats["residual"]
    assert 0.2 < residual[-1] / residual[0] < 1.0
    assert plain[-1] / plain[0] > 1e6
    with pytest.raises(ValueError):
        ex.residual_experiment(ref.reference_grad_norms, depth=1)


# ----------------------------------------------------------------------------- the widget

def test_widget_every_control_redraws():
    w = dropout_explorer()
    assert set(w.controls) == {"p", "seed", "mode"}
    png, status, count = w.png, w.status.value, w.redraw_count
    assert png.startswith(b"\x89PNG") and "p = 0.30" in status and "expected 70%" in status
    for name, value in (("p", 0.6), ("seed", 5), ("mode", "eval")):
        w.controls[name].value = value
        assert w.redraw_count == count + 1, f"changing {name} redraws"
        assert w.png != png, f"changing {name} changes the figure"
        assert w.status.value != status, f"changing {name} updates the status line"
        png, status, count = w.png, w.status.value, w.redraw_count
    assert w.status.value.startswith("eval") and "kept 240 of 240" in w.status.value


def test_widget_edge_values_and_student_function():
    w = dropout_explorer(NS["dropout"], rows=6, cols=8)
    w.controls["p"].value = 1.0
    assert "kept 0 of 48" in w.status.value and "no survivors" in w.status.value
    assert "expected 0)" in w.status.value
    w.controls["p"].value = 0.0
    assert "kept 48 of 48" in w.status.value and "mean 1.0000" in w.status.value


def test_widget_same_seed_same_picture():
    a, b = dropout_explorer(), dropout_explorer()
    assert a.png == b.png
    b.controls["seed"].value = 1
    b.controls["seed"].value = 0
    assert a.png == b.png


def test_widget_export_png(tmp_path):
    w = dropout_explorer()
    path = w.export_png(tmp_path / "mask.png")
    assert path.read_bytes() == w.png and path.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("kwargs", [dict(dropout_fn=3), dict(rows=0), dict(cols=1000), dict(rows=2.0)])
def test_widget_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        dropout_explorer(**kwargs)


# ----------------------------------------------------------------------------- borrowed answers score zero

def _checked_dropout(p):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"p must be in [0, 1], got {p!r}")


def _forked(fn):
    """Right values from fn(x, p, training), honouring a generator by seeding a forked global RNG."""
    def dropout(x, p, training=True, generator=None):
        _checked_dropout(p)
        if generator is None:
            return fn(x, p, training)
        with torch.random.fork_rng():
            torch.manual_seed(int(torch.randint(0, 2 ** 62, (1,), generator=generator)))
            return fn(x, p, training)
    return dropout


from torch.nn.functional import dropout as _early_bound_dropout  # noqa: E402  (bound before any check runs)

BORROWED_DROPOUT = {
    "F.dropout, bound early": _early_bound_dropout,
    "torch.dropout": lambda x, p, training: torch.dropout(x, p, training),
    "torch.ops.aten.dropout": lambda x, p, training: torch.ops.aten.dropout(x, p, training),
    "nn.Dropout": lambda x, p, training: nn.Dropout(p).train(training)(x),
    "the widget's fallback": lambda x, p, training: __import__("course.widgets.ch04_dropout_residual", fromlist=["_"])
    ._reference_dropout(x, p, training),
}


@pytest.mark.parametrize("how", sorted(BORROWED_DROPOUT))
def test_borrowed_dropout_scores_zero(how):
    fn = _forked(BORROWED_DROPOUT[how])
    err = assert_rejected(A, "dropout_tests", dropout=fn)
    assert "may not call" in str(err), err


class DropoutFromTorch(nn.Dropout):
    def __init__(self, p=0.5):
        _checked_dropout(p)
        super().__init__(p)


@pytest.mark.parametrize("cls", [DropoutFromTorch, DropoutFunctional])
def test_borrowed_dropout_module_scores_zero(cls):
    err = assert_rejected(A, "Dropout_tests", Dropout=cls)
    assert "may not call torch.nn" in str(err), err


def test_borrowed_grad_norms_score_zero():
    def grad_norms_per_layer(model, x):
        model.zero_grad()
        model(x).pow(2).mean().backward()
        return torch.stack([nn.utils.clip_grad_norm_(layer.weight, math.inf) for layer in model.layers]).detach()

    err = assert_rejected(A, "grad_norms_per_layer_tests", grad_norms_per_layer=grad_norms_per_layer)
    assert "may not call torch.nn.utils.clip_grad.clip_grad_norm_" in str(err), err


def test_nn_dropout_stays_usable_where_it_is_handed_out():
    """PreNormResidual's given __init__ builds nn.Dropout, and embed_with_dropout is handed one: both still pass."""
    run_test_cell(A, "PreNormResidual_tests")
    run_test_cell(A, "embed_with_dropout_tests")


def test_hints_and_demos_do_not_type_the_answers():
    # a hint points the way and a demo shows the idea on another example (issue 30): neither may type a
    # solution's line or run its expression with other names (tests/hints.py)
    assert answers_given_away(A) == []
