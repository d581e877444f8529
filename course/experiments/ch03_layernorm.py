"""Chapter 03's experiments: LayerNorm vs BatchNorm statistics, and Pre-LN vs Post-LN training."""

from __future__ import annotations

from collections.abc import Callable

import torch
from matplotlib.figure import Figure
from torch import nn

from course.plotting import new_figure, show  # noqa: F401  (show: used as ex.show in the notebook)

NormFn = Callable[..., torch.Tensor]


# --------------------------------------------------------------------------- LayerNorm vs BatchNorm

def ln_vs_bn(layer_norm: NormFn, d: int = 8, seed: int = 0) -> tuple[Figure, dict[str, float]]:
    """Normalise the same token inside two different batches, with LayerNorm and with BatchNorm.

    Batch A holds the token and 3 other random tokens. Batch B holds it with 3 different tokens
    and 4 padding tokens (zeros), as a shorter sequence padded to length 8 would.
    """
    g = torch.Generator().manual_seed(seed)
    token = torch.randn(d, generator=g) * 2 + 1  # (d,)
    batch_a = torch.cat([token[None], torch.randn(3, d, generator=g)])  # (4, d)
    batch_b = torch.cat([token[None], torch.randn(3, d, generator=g) * 3, torch.zeros(4, d)])  # (8, d)
    ones, zeros = torch.ones(d), torch.zeros(d)
    bn = nn.BatchNorm1d(d, affine=False)  # training mode: statistics of the batch, per feature
    out = {
        "LN, batch A": layer_norm(batch_a, ones, zeros)[0],
        "LN, batch B": layer_norm(batch_b, ones, zeros)[0],
        "BN, batch A": bn(batch_a)[0].detach(),
        "BN, batch B": bn(batch_b)[0].detach(),
    }
    fig = new_figure(9.0, 3.4)
    for k, kind in enumerate(["LN", "BN"]):
        ax = fig.add_subplot(1, 2, k + 1)
        for j, batch in enumerate(["A", "B"]):
            ax.bar((torch.arange(d) + (j - 0.5) * 0.38).numpy(), out[f"{kind}, batch {batch}"].numpy(), width=0.38,
                   label=f"in batch {batch}")
        ax.set(title=f"{'LayerNorm' if kind == 'LN' else 'BatchNorm'}: the same token", xlabel="feature",
               ylabel="normalised value")
        ax.legend(fontsize=8)
    fig.tight_layout()
    diffs = {kind: float((out[f"{kind}, batch A"] - out[f"{kind}, batch B"]).abs().max()) for kind in ("LN", "BN")}
    return fig, {"ln_max_diff": diffs["LN"], "bn_max_diff": diffs["BN"]}


# ------------------------------------------------------------------------------ Pre-LN vs Post-LN

VOCAB, SEQ = 16, 16


def make_stack(norm_first: bool, n_layer: int = 8, d_model: int = 32, seed: int = 0) -> nn.Module:
    """Embedding + position table + a stack of encoder layers + output head, Pre-LN or Post-LN."""
    torch.manual_seed(seed)
    layer = nn.TransformerEncoderLayer(d_model, 4, 4 * d_model, dropout=0.0, batch_first=True, norm_first=norm_first)
    model = nn.ModuleDict({
        "embed": nn.Embedding(VOCAB, d_model),
        "layers": nn.TransformerEncoder(layer, n_layer, norm=nn.LayerNorm(d_model) if norm_first else None,
                                        enable_nested_tensor=False),
        "head": nn.Linear(d_model, VOCAB),
    })
    model.register_buffer("positions", torch.randn(1, SEQ, d_model))  # fixed, so only the blocks differ
    return model


def _loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    h = model["layers"](model["embed"](x) + model.positions)  # (batch, seq, d_model)
    return nn.functional.cross_entropy(model["head"](h).flatten(0, 1), y.flatten())


def task_batch(g: torch.Generator, batch: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """Predict the previous token: y[t] = x[t - 1] (cyclically). Needs attention to the left neighbour."""
    x = torch.randint(0, VOCAB, (batch, SEQ), generator=g)  # (batch, seq)
    return x, torch.roll(x, 1, dims=1)


def grad_norms_at_init(norm_first: bool, n_layer: int = 8, seed: int = 0) -> list[float]:
    """Norm of the gradient of each layer's weight matrices, on one batch, at initialisation."""
    model = make_stack(norm_first, n_layer, seed=seed)
    _loss(model, *task_batch(torch.Generator().manual_seed(seed + 1))).backward()
    return [float(torch.stack([p.grad.norm() for p in layer.parameters() if p.dim() == 2]).norm())
            for layer in model["layers"].layers]


def train(norm_first: bool, lr: float = 1e-2, warmup: int = 0, steps: int = 300, n_layer: int = 8,
          seed: int = 0) -> list[float]:
    """Adam on the previous-token task; linear warm-up over ``warmup`` steps. Returns the losses."""
    model = make_stack(norm_first, n_layer, seed=seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup) if warmup else 1.0)
    g = torch.Generator().manual_seed(seed + 1)
    losses = []
    for _ in range(steps):
        loss = _loss(model, *task_batch(g))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses


def pre_vs_post(steps: int = 300, warmup: int = 100, lr: float = 1e-2, n_layer: int = 8) -> tuple[Figure, dict]:
    """Train both variants with and without warm-up; plot losses and gradient norms at initialisation."""
    runs = {(nf, wu): train(nf, lr, wu, steps, n_layer) for nf in (False, True) for wu in (0, warmup)}
    grads = {nf: grad_norms_at_init(nf, n_layer) for nf in (False, True)}
    fig = new_figure(10.0, 3.8)
    ax = fig.add_subplot(1, 2, 1)
    for (nf, wu), losses in runs.items():
        ax.plot(losses, lw=1.2, ls="-" if wu else "--",
                label=f"{'Pre-LN' if nf else 'Post-LN'}, {'warm-up ' + str(wu) if wu else 'no warm-up'}",
                color="C1" if nf else "C0", alpha=1.0 if wu else 0.7)
    ax.axhline(torch.log(torch.tensor(float(VOCAB))).item(), color="grey", lw=0.8, ls=":", label="chance: ln 16")
    ax.set(title=f"Training loss, {n_layer} layers, Adam lr={lr:g}", xlabel="step", ylabel="cross-entropy")
    ax.legend(fontsize=8)
    ax = fig.add_subplot(1, 2, 2)
    for nf, norms in grads.items():
        ax.plot(range(1, n_layer + 1), norms, "o-", color="C1" if nf else "C0", label="Pre-LN" if nf else "Post-LN")
    ax.set(title="Gradient norm per layer at initialisation", xlabel="layer (1 = next to the input)",
           ylabel="||dL/dW|| of the layer's matrices")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    fig.tight_layout()
    last = {f"{'pre' if nf else 'post'}_{'warmup' if wu else 'nowarmup'}": sum(l[-50:]) / len(l[-50:])
            for (nf, wu), l in runs.items()}
    return fig, {"final_loss": last, "grad_norms": {"post": grads[False], "pre": grads[True]}}
