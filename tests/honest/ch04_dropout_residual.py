"""Chapter 04: three correct answers per answer cell, written differently from the instructor's (loops,
einsum, other maths, other APIs — never the built-in or course code the exercise re-implements, which
scores zero by design). The honest suite hands them in and expects full marks."""

ASSIGNMENT = "04-dropout-residual"

_INIT = ("    def __init__(self, d_model, sublayer, p=0.1):\n        super().__init__()\n"
         "        self.norm = nn.LayerNorm(d_model)\n        self.sublayer = sublayer\n        self.dropout = nn.Dropout(p)\n\n")
_P_CHECK = ("    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:\n"
            "        raise ValueError(f'p must be in [0, 1], got {p!r}')\n")

VARIANTS = {
    "dropout": [
        "def dropout(x, p, training=True, generator=None):\n" + _P_CHECK +
        "    if not training or p == 0:\n        return x\n    if p == 1:\n        return torch.zeros_like(x)\n"
        "    mask = (torch.rand(x.shape, generator=generator) > p).to(x.dtype)\n    return x * mask * (1.0 / (1.0 - p))\n",
        "def dropout(x, p, training=True, generator=None):\n" + _P_CHECK +
        "    if not training or p == 0:\n        return x\n"
        "    keep = torch.bernoulli(torch.full(x.shape, 1.0 - p), generator=generator)\n"
        "    return x * keep / (1.0 - p) if p < 1 else x * keep\n",
        "def dropout(x, p, training=True, generator=None):\n" + _P_CHECK +
        "    if training and p > 0:\n        u = torch.rand(x.shape, generator=generator)\n"
        "        return torch.where(u < p, torch.zeros_like(x), x / max(1.0 - p, 1e-12))\n    return x\n",
    ],
    "Dropout": [
        "class Dropout(nn.Module):\n    def __init__(self, p=0.5):\n        super().__init__()\n"
        "        dropout(torch.zeros(1), p, training=False)  # validates p\n        self.p = p\n\n"
        "    def forward(self, x):\n        return dropout(x, self.p, self.training)\n",
        "class Dropout(nn.Module):\n    def __init__(self, p=0.5):\n        super().__init__()\n"
        "        if not isinstance(p, (int, float)) or isinstance(p, bool) or not (0 <= p <= 1):\n"
        "            raise ValueError('p outside [0, 1]')\n        self.p = float(p)\n\n"
        "    def forward(self, x):\n        if not self.training:\n            return x\n"
        "        return dropout(x, self.p, training=True)\n",
        "class Dropout(nn.Module):\n    def __init__(self, p=0.5):\n        super().__init__()\n"
        "        if type(p) not in (int, float) or not 0 <= p <= 1:\n            raise ValueError(f'bad p: {p!r}')\n"
        "        self.p = p\n\n    def forward(self, x):\n"
        "        return dropout(x, self.p, training=self.training) if self.p > 0 else x\n",
    ],
    "embed_with_dropout": [
        "def embed_with_dropout(token_ids, tok_table, pos_table, dropout):\n    seq = token_ids.shape[1]\n"
        "    if seq > pos_table.shape[0]:\n        raise ValueError(f'{seq} tokens but {pos_table.shape[0]} positions')\n"
        "    x = tok_table[token_ids] + pos_table[:seq].unsqueeze(0)\n    return dropout(x)\n",
        "def embed_with_dropout(token_ids, tok_table, pos_table, dropout):\n    batch, seq = token_ids.shape\n"
        "    if seq > len(pos_table):\n        raise ValueError(f'{seq} tokens, only {len(pos_table)} positions')\n"
        "    tok = torch.nn.functional.embedding(token_ids, tok_table)\n"
        "    return dropout(torch.add(tok, pos_table[torch.arange(seq)]))\n",
        "def embed_with_dropout(token_ids, tok_table, pos_table, dropout):\n    n = token_ids.size(1)\n"
        "    if n > pos_table.size(0):\n        raise ValueError(f'no position vector for token {pos_table.size(0)} of {n}')\n"
        "    summed = tok_table.index_select(0, token_ids.flatten()).view(*token_ids.shape, -1)\n"
        "    summed = summed + pos_table.narrow(0, 0, n).expand_as(summed)\n    return dropout(summed)\n",
    ],
    "PreNormResidual": [
        "class PostNormResidual(nn.Module):\n" + _INIT +
        "    def forward(self, x):\n        h = self.sublayer(x)\n        h = self.dropout(h)\n"
        "        return self.norm(h + x)\n\n\n"
        "class PreNormResidual(nn.Module):\n" + _INIT +
        "    def forward(self, x):\n        h = self.norm(x)\n        h = self.sublayer(h)\n        h = self.dropout(h)\n"
        "        return h + x\n",
        "class PostNormResidual(nn.Module):\n" + _INIT +
        "    def forward(self, x):\n        return self.norm(torch.add(x, self.dropout(self.sublayer(x))))\n\n\n"
        "class PreNormResidual(nn.Module):\n" + _INIT +
        "    def forward(self, x):\n        return torch.add(x, self.dropout(self.sublayer(self.norm(x))))\n",
        "class PostNormResidual(nn.Module):\n" + _INIT +
        "    def forward(self, x):\n        out = x.clone()\n        out += self.dropout(self.sublayer(x))\n"
        "        return self.norm(out)\n\n\n"
        "class PreNormResidual(nn.Module):\n" + _INIT +
        "    def forward(self, x):\n        out = x.clone()\n        out += self.dropout(self.sublayer(self.norm(x)))\n"
        "        return out\n",
    ],
    "grad_norms_per_layer": [
        "def grad_norms_per_layer(model, x):\n    weights = [layer.weight for layer in model.layers]\n"
        "    grads = torch.autograd.grad(model(x).pow(2).mean(), weights)\n"
        "    return torch.stack([g.norm() for g in grads])\n",
        "def grad_norms_per_layer(model, x):\n    for layer in model.layers:\n        layer.weight.grad = None\n"
        "    (model(x) ** 2).mean().backward()\n"
        "    return torch.tensor([float(torch.linalg.norm(l.weight.grad)) for l in model.layers])\n",
        "def grad_norms_per_layer(model, x):\n    model.zero_grad(set_to_none=True)\n    out = model(x)\n"
        "    torch.mean(out * out).backward()\n"
        "    return torch.stack([l.weight.grad.pow(2).sum().sqrt() for l in model.layers]).detach()\n",
    ],
}
