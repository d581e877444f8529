"""Chapter 04's targets: the per-layer gradient norms (a tensor-valued function that drives autograd), dropout
(a tensor-valued function) and the Dropout module.

The gradient norms come first: the hang attack runs on the first target only, and the Dropout module calls the
student's dropout, so a hanging dropout would also stop the (unattacked) Dropout tests."""

from attacks import Target

A, M = "04-dropout-residual", "ch04_dropout_residual"

_P_CHECK = ("    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:\n"
            "        raise ValueError(f'p must be in [0, 1], got {p!r}')\n")

TARGETS = [
    Target(A, "grad_norms_per_layer", name="grad_norms_per_layer", returns="tensor", module=M,
           wrong=("def grad_norms_per_layer(model, x):\n"
                  "    model(x).pow(2).mean().backward()  # no zero_grad: earlier calls' gradients pile up\n"
                  "    return torch.stack([layer.weight.grad.norm() for layer in model.layers]).detach()\n"),
           borrowed=("import torch.nn.utils as _utils\n\n\n"
                     "def grad_norms_per_layer(model, x):\n    model.zero_grad()\n"
                     "    model(x).pow(2).mean().backward()\n"
                     "    return torch.stack([_utils.clip_grad_norm_(layer.weight, float('inf'))\n"
                     "                        for layer in model.layers]).detach()\n")),
    Target(A, "dropout", name="dropout", returns="tensor", module=M,
           wrong=("def dropout(x, p, training=True, generator=None):\n" + _P_CHECK +
                  "    if not training or p == 0:\n        return x\n"
                  "    keep = torch.rand(x.shape, generator=generator) >= p\n"
                  "    return x * keep  # forgot the 1 / (1 - p): the expected value shrinks\n"),
           # F.dropout, bound before the checks switch it off; the generator is honoured by seeding a forked RNG
           borrowed=("from torch.nn.functional import dropout as _torch_dropout\n\n\n"
                     "def dropout(x, p, training=True, generator=None):\n" + _P_CHECK +
                     "    if generator is None:\n        return _torch_dropout(x, p, training)\n"
                     "    with torch.random.fork_rng():\n"
                     "        torch.manual_seed(int(torch.randint(0, 2 ** 62, (1,), generator=generator)))\n"
                     "        return _torch_dropout(x, p, training)\n")),
    Target(A, "Dropout", name="Dropout", returns="module", module=M,
           wrong=("class Dropout(nn.Module):\n    def __init__(self, p=0.5):\n        super().__init__()\n"
                  "        dropout(torch.zeros(1), p, training=False)  # validates p\n        self.p = p\n\n"
                  "    def forward(self, x):\n        return dropout(x, self.p)  # drops in eval mode too\n"),
           borrowed=("class Dropout(nn.Dropout):  # PyTorch's module does the work\n"
                     "    def __init__(self, p=0.5):\n"
                     "        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:\n"
                     "            raise ValueError(f'p must be in [0, 1], got {p!r}')\n"
                     "        super().__init__(p)\n")),
]
