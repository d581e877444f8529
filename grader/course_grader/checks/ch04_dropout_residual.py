"""Checks for chapter 04 (dropout and residual connections).

Each ``check_*`` function takes the student's function or class and raises ``AssertionError``
with a readable message when it misbehaves. The references are independent of the student's
code: closed forms, PyTorch built-ins, and an explicitly written forward pass for the gradients.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from course.checks.core import call, check, close, equal, exercise, raises
from course.checks.doubles import Recorder as _Recorder
from course.checks.doubles import Zero as _Zero
from course.checks.elsewhere import class_of, module_method
from course.checks.messages import msg
from course.experiments.ch04_dropout_residual import DeepStack

# bound at import time (the set-up cell), so later monkeypatching does not change the checks
_equal_tensors = torch.equal
_layer_norm = torch.nn.functional.layer_norm
_train = module_method("train")  # unbound: a student's module may override .train()/.eval(), not what these do
_parameters = module_method("parameters")
_Module = nn.Module
_named_children = module_method("named_children")
_named_parameters = module_method("named_parameters")
_setattr = module_method("__setattr__")
_copy = torch.Tensor.copy_


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _positive(shape: tuple[int, ...], seed: int, dtype=torch.float32) -> torch.Tensor:
    """Values in [1, 2): never zero, so an output zero can only come from dropping."""
    return (1.0 + torch.rand(shape, generator=_gen(seed))).to(dtype)


def _mode(module: nn.Module, training: bool) -> nn.Module:
    """``module.train(training)`` without calling a method the student's class could override."""
    _train(module, training)
    return module


def _attr(obj: Any, name: str) -> Any:
    """A student object's attribute, read under the checks' rules and returned as a plain value."""
    return call(getattr, obj, name)


def _is_tensor(out: Any, like: torch.Tensor, what: Any) -> None:
    check(isinstance(out, torch.Tensor), "{what}: expected a tensor, got {kind}", what=what, kind=type(out).__name__)
    equal(tuple(out.shape), tuple(like.shape), name=msg("{what}: output shape", what=what))
    check(out.dtype == like.dtype,
          "{what}: output dtype {got}, input dtype {dtype} (keep the input's dtype)", what=what, got=out.dtype,
          dtype=like.dtype)
    check(not bool(torch.isnan(out).any()), "{what}: the output contains NaN", what=what)


# ----------------------------------------------------------------------------- exercise 1: dropout()

@exercise("dropout")
def check_dropout_errors(dropout: Callable) -> None:
    x = torch.ones(4)
    for bad in (-0.1, 1.5, 2, "0.5", None, float("nan")):
        raises(ValueError, dropout, x, bad, name=f"dropout(x, p={bad!r})")
    raises(ValueError, dropout, x, 1.5, training=False, name="dropout(x, p=1.5, training=False)")


@exercise("dropout")
def check_dropout_statistics(dropout: Callable, ps=(0.1, 0.3, 0.5, 0.8), n: int = 1_000_000) -> None:
    """Fraction zeroed ≈ p, survivors exactly x/(1-p), mean preserved, over n elements."""
    torch.manual_seed(1234)
    for i, p in enumerate(ps):
        x = _positive((n // 1000, 1000), seed=100 + i)                   # (rows, cols)
        out = call(dropout, x, p)
        what = f"dropout(x, p={p})"
        _is_tensor(out, x, what)
        kept = out != 0
        frac = 1.0 - kept.float().mean().item()
        check(abs(frac - p) < 0.005,
              "{what}: {frac:.3f} of the elements were set to zero, expected about p = {p} (is p the probability of "
              "DROPPING an element?)", what=what, frac=frac, p=p)
        close(out[kept], x[kept] / (1 - p), atol=0.0, rtol=1e-5,
              name=msg("{what}: surviving elements (should be x / (1 - p))", what=what))
        ratio = out.double().mean().item() / x.double().mean().item()
        check(abs(ratio - 1.0) < 0.01, "{what}: mean(output) / mean(x) = {ratio:.4f}, expected 1 (inverted dropout "
                                       "preserves the expected value)", what=what, ratio=ratio)


@exercise("dropout")
def check_dropout_modes(dropout: Callable) -> None:
    """Eval is the identity for every p, p=0 is the identity, p=1 gives zeros."""
    shapes = [(7,), (3, 5), (2, 4, 6)]
    for i, shape in enumerate(shapes):
        x = torch.randn(shape, generator=_gen(200 + i))
        for p in (0.0, 0.2, 0.7, 1.0):
            out = call(dropout, x, p, training=False)
            _is_tensor(out, x, f"dropout(x, p={p}, training=False)")
            check(_equal_tensors(out, x), "dropout(x, p={p}, training=False) changed x: eval mode is the identity",
                  p=p)
        out = call(dropout, x, 0.0)
        _is_tensor(out, x, "dropout(x, p=0)")
        check(_equal_tensors(out, x), "dropout(x, p=0) in training must return x unchanged")
        out = call(dropout, x, 1.0)
        _is_tensor(out, x, "dropout(x, p=1)")
        check(bool((out == 0).all()), "dropout(x, p=1) must return all zeros")
    x64 = torch.randn(50, 40, generator=_gen(210), dtype=torch.float64)
    _is_tensor(call(dropout, x64, 0.5), x64, "dropout(float64 x, p=0.5)")


@exercise("dropout")
def check_dropout_randomness(dropout: Callable) -> None:
    """A fresh mask on every call; reproducible with torch.manual_seed and with a generator."""
    x = _positive((20, 50), seed=300)
    torch.manual_seed(0)
    a, b = call(dropout, x, 0.5), call(dropout, x, 0.5)
    check(not _equal_tensors(a != 0, b != 0),
          "two calls in a row gave the same mask: draw a new random mask every call "
          "(do not reset the seed inside the function)")
    torch.manual_seed(7)
    c = call(dropout, x, 0.5)
    torch.manual_seed(7)
    d = call(dropout, x, 0.5)
    check(_equal_tensors(c, d), "after torch.manual_seed(7), two calls should give the same mask "
                                "(draw the randomness from torch's random number generator)")
    e = call(dropout, x, 0.5, generator=torch.Generator().manual_seed(3))
    torch.rand(10)  # move the global generator on: a generator argument must not depend on it
    f = call(dropout, x, 0.5, generator=torch.Generator().manual_seed(3))
    check(_equal_tensors(e, f), "two generators with the same seed gave different masks: "
                                "pass `generator` to the function that draws the random numbers")
    g = call(dropout, x, 0.5, generator=torch.Generator().manual_seed(4))
    check(not _equal_tensors(e != 0, g != 0), "generators with different seeds gave the same mask")


@exercise("dropout")
def check_dropout_gradient(dropout: Callable) -> None:
    """d(sum out)/dx is 1/(1-p) where kept and 0 where dropped."""
    for i, p in enumerate((0.25, 0.6)):
        x = _positive((30, 40), seed=400 + i).requires_grad_()
        out = call(dropout, x, p)
        check(isinstance(out, torch.Tensor) and out.requires_grad,
              "dropout(x, p={p}): the output does not require grad, so no gradient reaches x (do not detach, do not "
              "use .data)", p=p)
        out.sum().backward()
        check(x.grad is not None, "dropout(x, p={p}): x.grad is None after backward", p=p)
        expected = (out.detach() != 0).float() / (1 - p)
        close(x.grad, expected, atol=1e-6, rtol=1e-5,
              name=msg("gradient of dropout(x, p={p}).sum() (1/(1-p) where kept, 0 where dropped)", p=p))


@exercise("dropout")
def check_dropout_function(dropout: Callable) -> None:
    check_dropout_errors(dropout)
    check_dropout_modes(dropout)
    check_dropout_randomness(dropout)
    check_dropout_gradient(dropout)
    check_dropout_statistics(dropout)


# ----------------------------------------------------------------------------- exercise 2: Dropout module

@exercise("Dropout")
def check_dropout_module(Dropout: type) -> None:
    m = call(Dropout, 0.3)
    check(isinstance(m, _Module), "Dropout must subclass nn.Module")
    close(_attr(m, "p"), 0.3, name="Dropout(0.3).p")
    close(_attr(call(Dropout), "p"), 0.5, name="Dropout().p (the default, as in nn.Dropout)")
    check(len(list(_parameters(m))) == 0, "Dropout has no learnable parameters")
    for bad in (-0.1, 1.5, "0.1"):
        raises(ValueError, Dropout, bad, name=f"Dropout({bad!r})")

    x = _positive((400, 1000), seed=500)                                # (rows, cols)
    torch.manual_seed(5)
    ours = call(_mode(m, True), x)
    theirs = nn.Dropout(0.3).train()(x)
    _is_tensor(ours, x, "Dropout(0.3) in training mode")
    frac_ours = (ours == 0).float().mean().item()
    frac_theirs = (theirs == 0).float().mean().item()
    check(abs(frac_ours - frac_theirs) < 0.005,
          "Dropout(0.3) zeroed {ours:.3f} of the elements, nn.Dropout(0.3) zeroed {theirs:.3f}", ours=frac_ours,
          theirs=frac_theirs)
    kept = ours != 0
    close(ours[kept], x[kept] / 0.7, atol=0.0, rtol=1e-5, name="Dropout(0.3) survivors (x / 0.7)")

    _mode(m, False)
    check(_equal_tensors(call(m, x), x), "after .eval(), Dropout must return its input unchanged")
    check(_equal_tensors(nn.Dropout(0.3).eval()(x), x), "nn.Dropout in eval is the identity too")
    _mode(m, True)
    check(bool((call(m, x) == 0).any()),
          "after .train() again, Dropout must drop again (read self.training in forward)")

    net = nn.Sequential(nn.Identity(), call(Dropout, 0.5))
    _mode(net, False)
    check(_equal_tensors(call(net, x), x), "model.eval() on an nn.Sequential holding Dropout must switch dropout off "
                                           "(use self.training, which .eval() sets on every submodule)")
    _mode(net, True)
    check(bool((call(net, x) == 0).any()), "model.train() on an nn.Sequential holding Dropout must switch it back on")

    check(_equal_tensors(call(_mode(call(Dropout, 0.0), True), x), x),
          "Dropout(0.0) in training must return x unchanged")
    zeros = call(_mode(call(Dropout, 1.0), True), x)
    _is_tensor(zeros, x, "Dropout(1.0) in training")
    check(bool((zeros == 0).all()), "Dropout(1.0) in training must return zeros")


# ----------------------------------------------------------------------------- exercise 3: placement

def _embedding_case(gen: torch.Generator, batch: int, seq: int, vocab: int = 11, d: int = 8, max_len: int = 9):
    ids = torch.randint(0, vocab, (batch, seq), generator=gen)           # (batch, seq)
    tok_table = torch.randn(vocab, d, generator=gen)                     # (vocab, d_model)
    pos_table = torch.randn(max_len, d, generator=gen)                   # (max_len, d_model)
    total = tok_table[ids] + pos_table[:seq]                             # (batch, seq, d_model)
    return ids, tok_table, pos_table, total


@exercise("embed_with_dropout")
def check_embed_with_dropout(embed_with_dropout: Callable) -> None:
    gen = _gen(600)
    for batch, seq in ((3, 6), (1, 9), (2, 1)):                          # 9 = the whole position table
        ids, tok_table, pos_table, total = _embedding_case(gen, batch, seq)
        what = msg("embed_with_dropout on token ids of shape ({batch}, {seq}), a position table of 9 rows",
                   batch=batch, seq=seq)
        rec = _Recorder()
        out = call(embed_with_dropout, ids, tok_table, pos_table, rec)
        check(len(rec.calls) == 1, "{what}: the dropout module was called {n} times; call it once, on the sum of the "
                                   "two embeddings", what=what, n=len(rec.calls))
        seen = rec.calls[0]
        d_model = tok_table.shape[1]
        scaled = tok_table[ids] * d_model ** 0.5 + pos_table[:seq]
        check(tuple(seen.shape) != tuple(total.shape) or not bool(torch.allclose(seen, scaled, atol=1e-5)),
              "{what}: the token embeddings were multiplied by √d_model, as the paper's §3.4 does; this exercise "
              "uses the tables as given (the sum of §5.4, without that scaling)", what=what)
        check(tuple(seen.shape) != tuple(tok_table.shape) or tuple(total.shape) == tuple(tok_table.shape),
              "{what}: dropout was applied to the embedding table, not to the sum: every occurrence of a token "
              "would then share one mask", what=what)
        close(seen, total, name=msg("{what}: what dropout is applied to (each token's embedding plus its position's "
                                    "vector, positions 0 .. seq - 1)", what=what))
        close(out, 3.0 * total, name=msg("{what}: embed_with_dropout must return what the dropout returns", what=what))
        close(call(embed_with_dropout, ids, tok_table, pos_table, nn.Dropout(0.4).eval()), total,
              name=msg("{what}, dropout in eval mode", what=what))
        close(call(embed_with_dropout, ids, tok_table, pos_table, nn.Dropout(1.0).train()),
              torch.zeros(batch, seq, tok_table.shape[1]), atol=0.0,
              name=msg("{what}, nn.Dropout(p=1) (all zeros)", what=what))

    # one token repeated at every position, positions all zero: a mask per position, not one per token
    ids = torch.full((4, 9), 3)
    tok_table = 1.0 + torch.rand(11, 64, generator=gen)
    torch.manual_seed(6)
    out = call(embed_with_dropout, ids, tok_table, torch.zeros(9, 64), nn.Dropout(0.5).train())
    rows = out.reshape(-1, 64) != 0                                      # (batch · seq, d_model) kept-masks
    check(not bool((rows == rows[0]).all()), "the same token at different positions got the same dropout mask: "
                                              "drop the sum for each position, not the embedding table")
    ok = (out == 0) | ((out - 2 * tok_table[3]).abs() <= 1e-5 * (1 + tok_table[3].abs()))
    check(bool(ok.all()), "with nn.Dropout(0.5), every output element must be 0 or 2·(tok_emb + pos_emb)")
    for seq in (10, 12):
        ids, tok_table, pos_table, _ = _embedding_case(gen, 2, 9)
        raises(ValueError, embed_with_dropout, torch.zeros(2, seq, dtype=torch.long), tok_table, pos_table,
               nn.Dropout(0.1), name=msg("embed_with_dropout on {seq} tokens with a position table of 9 rows "
                                         "(raise ValueError: there is no position vector for the later tokens)",
                                         seq=seq))


def _block(Block: type, d_model: int, sub: nn.Module, p: float, training: bool, g: torch.Generator) -> nn.Module:
    """The student's block, in the given mode, with random γ and β in its (given) LayerNorm."""
    block = _mode(call(Block, d_model, sub, p=p), training)
    norm = dict(_named_children(block)).get("norm")
    check(class_of(norm) is nn.LayerNorm,
          "{block} should keep the nn.LayerNorm its __init__ makes in self.norm", block=Block.__name__)
    with torch.no_grad():
        for name, param in _named_parameters(norm):
            value = torch.rand(d_model, generator=g) + 0.5 if name == "weight" else torch.randn(d_model, generator=g)
            _copy(param, value)
    return block


def _check_residual_dropout(Block: type, post: bool, d_model: int = 16) -> None:
    label = Block.__name__
    g = _gen(700 + post)
    torch.manual_seed(700)
    sub = nn.Linear(d_model, d_model)
    x = torch.randn(4, 64, d_model, generator=_gen(701))                 # (batch, seq, d_model)
    arrangement = ("LayerNorm(x + dropout(sublayer(x)))" if post else "x + dropout(sublayer(LayerNorm(x)))")
    with torch.no_grad():
        block = _block(Block, d_model, sub, 0.3, False, g)
        norm = dict(_named_children(block))["norm"]

        def expected(branch_scale: float, sublayer: nn.Module = sub) -> torch.Tensor:
            return norm(x + branch_scale * sublayer(x)) if post else x + branch_scale * sublayer(norm(x))

        out = call(block, x)
        _is_tensor(out, x, f"{label}(x)")
        close(out, expected(1.0), atol=1e-5, rtol=1e-5,
              name=msg("{label}(x) in eval mode (dropout off: {arrangement})", label=label, arrangement=arrangement))

        block = _block(Block, d_model, sub, 1.0, True, g)
        norm = dict(_named_children(block))["norm"]
        close(call(block, x), expected(0.0), atol=1e-5 if post else 0.0, rtol=0.0,
              name=msg("{label}(x) with p=1 in training (dropout removes the whole branch; {left})", label=label,
                       left="only the normalised stream is left" if post else "x passes unchanged"))

        block = _block(Block, d_model, sub, 0.1, True, g)
        norm = dict(_named_children(block))["norm"]
        rec = _Recorder()
        _setattr(block, "dropout", rec)
        out = call(block, x)
        check(len(rec.calls) == 1,
              "{label} applied its dropout {n} times; once, to the sublayer's output", label=label, n=len(rec.calls))
        branch_input = x if post else norm(x)
        close(rec.calls[0], sub(branch_input), atol=1e-5, rtol=1e-5,
              name=msg("{label}: what its dropout is applied to (the sublayer's output, {arrangement})", label=label,
                       arrangement=arrangement))
        close(out, expected(3.0), atol=1e-5, rtol=1e-5,
              name=msg("{label} with a stand-in dropout that triples: the dropout's result is what gets added",
                       label=label))

        block = _block(Block, d_model, sub, 0.5, True, g)
        norm = dict(_named_children(block))["norm"]
        if not post:
            delta = call(block, x) - x                                   # (batch, seq, d_model)
            branch = sub(norm(x))
            dropped = delta.abs() <= 1e-6
            scaled = (delta - 2 * branch).abs() <= 1e-4 * (1 + branch.abs())
            check(bool((dropped | scaled).all()),
                  "with p=0.5 in training, every element of block(x) - x must be 0 (dropped) or "
                  "2 · sublayer(norm(x)) (kept and rescaled): apply dropout to the sublayer's output only")
            frac = dropped.float().mean().item()
            check(0.4 < frac < 0.6, "with p=0.5, {frac:.2f} of the branch was dropped, expected about 0.5", frac=frac)

        block = _block(Block, d_model, _Zero(), 0.5, True, g)
        norm = dict(_named_children(block))["norm"]
        close(call(block, x), norm(x) if post else x, atol=1e-6 if post else 0.0, rtol=0.0,
              name=msg("{label}(x) when the sublayer outputs zeros, p=0.5 in training (the residual stream must "
                       "pass undropped)", label=label))


@exercise("PreNormResidual")
def check_prenorm_residual(Block: type, d_model: int = 16) -> None:
    _check_residual_dropout(Block, post=False, d_model=d_model)


@exercise("PreNormResidual")
def check_postnorm_residual(Block: type, d_model: int = 16) -> None:
    _check_residual_dropout(Block, post=True, d_model=d_model)


# ----------------------------------------------------------------------------- exercise 4: gradient norms

def reference_grad_norms(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Per-layer ||dL/dW|| for a DeepStack, by an explicitly written forward and torch.autograd.grad.

    Independent of ``model.forward`` and of the ``.grad`` fields (which it never reads or writes).
    """
    weights = [layer.weight.detach().clone().requires_grad_() for layer in model.layers]
    biases = [layer.bias.detach().clone() for layer in model.layers]
    h = x
    for w, b in zip(weights, biases):
        f = torch.tanh(h @ w.T + b)                                      # (batch, width)
        h = h + f if model.residual else f
    loss = (h ** 2).mean()
    grads = torch.autograd.grad(loss, weights)
    return torch.stack([g.norm() for g in grads])                        # (depth,)


def _as_norms(result: Any, depth: int, what: Any) -> torch.Tensor:
    check(isinstance(result, torch.Tensor),
          "{what}: expected a tensor of shape ({depth},), got {kind}", what=what, depth=depth,
          kind=type(result).__name__)
    equal(tuple(result.shape), (depth,), name=msg("{what}: shape", what=what))
    return result.detach()


@exercise("grad_norms_per_layer")
def check_grad_norms(grad_norms_per_layer: Callable) -> None:
    cases = [(1, 5, False, 0), (3, 8, True, 1), (7, 16, False, 2), (7, 16, True, 3), (25, 12, False, 4),
             (25, 12, True, 5)]
    for depth, width, residual, seed in cases:
        model = DeepStack(depth, width, residual=residual, seed=seed)
        x = torch.randn(6, width, generator=_gen(800 + seed))            # (batch, width)
        what = f"grad_norms_per_layer(DeepStack(depth={depth}, residual={residual}), x)"
        expected = reference_grad_norms(model, x)
        first = _as_norms(call(grad_norms_per_layer, model, x), depth, what)
        close(first, expected, atol=1e-10, rtol=1e-4, name=what)
        second = _as_norms(call(grad_norms_per_layer, model, x), depth, msg("{what} called a second time", what=what))
        close(second, expected, atol=1e-10, rtol=1e-4,
              name=msg("{what} called a second time (gradients accumulate: zero them before backward)", what=what))

    model = DeepStack(4, 10, residual=True, seed=9)
    x = torch.randn(6, 10, generator=_gen(899))
    for layer in model.layers:  # stale gradients from some earlier step
        layer.weight.grad = torch.full_like(layer.weight, 100.0)
        layer.bias.grad = torch.full_like(layer.bias, 100.0)
    got = _as_norms(call(grad_norms_per_layer, model, x), 4, "grad_norms_per_layer on a model with stale gradients")
    close(got, reference_grad_norms(model, x), atol=1e-10, rtol=1e-4,
          name="grad_norms_per_layer on a model whose .grad already held old values "
               "(zero the gradients, then run forward and backward, then read them)")
