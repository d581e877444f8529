"""Chapter 03: three correct answers per answer cell, written differently from the instructor's (var_mean,
einsum, rsqrt, loops — never F.layer_norm, nn.LayerNorm inside LayerNorm, F.rms_norm or the explorer's
normalise, which score zero by design). The stacks register their norms in different ways and orders. The honest
suite hands them in and expects full marks."""

ASSIGNMENT = "03-layernorm"

_INIT = ("    def __init__(self, d_model, eps=1e-5):\n        super().__init__()\n"
         "        self.d_model = d_model\n        self.eps = eps\n")
_DIM = ("        if x.shape[-1] != self.d_model:\n"
        "            raise ValueError(f'expected last dim {self.d_model}, got {x.shape[-1]}')\n")

VARIANTS = {
    "layer_norm": [
        "def layer_norm(x, weight, bias, eps=1e-5):\n"
        "    var, mean = torch.var_mean(x, dim=-1, keepdim=True, correction=0)\n"
        "    return (x - mean) * torch.rsqrt(var + eps) * weight + bias\n",
        "def layer_norm(x, weight, bias, eps=1e-5):\n    d = x.shape[-1]\n"
        "    centred = x - torch.einsum('...d->...', x)[..., None] / d\n"
        "    var = torch.einsum('...d,...d->...', centred, centred)[..., None] / d\n"
        "    return torch.addcmul(bias, centred / (var + eps).sqrt(), weight)\n",
        "def layer_norm(x, weight, bias, eps=1e-5):\n    mean = x.sum(-1, keepdim=True) / x.shape[-1]\n"
        "    std = torch.std(x, dim=-1, keepdim=True, correction=0)  # biased\n"
        "    return weight * (x - mean) / (std ** 2 + eps) ** 0.5 + bias\n",
    ],
    "LayerNorm": [
        "class LayerNorm(nn.Module):\n" + _INIT +
        "        self.weight = nn.Parameter(torch.ones(d_model))\n        self.bias = nn.Parameter(torch.zeros(d_model))\n\n"
        "    def forward(self, x):\n" + _DIM + "        return layer_norm(x, self.weight, self.bias, self.eps)\n",
        "class LayerNorm(nn.Module):\n" + _INIT +
        "        self.register_parameter('weight', nn.Parameter(torch.full((d_model,), 1.0)))\n"
        "        self.register_parameter('bias', nn.Parameter(torch.zeros(d_model)))\n\n"
        "    def forward(self, x):\n" + _DIM +
        "        mu = x.mean(-1, keepdim=True)\n        sigma2 = (x - mu).pow(2).mean(-1, keepdim=True)\n"
        "        return (x - mu) / torch.sqrt(sigma2 + self.eps) * self.weight + self.bias\n",
        "class LayerNorm(nn.Module):\n" + _INIT +
        "        self.weight = nn.Parameter(torch.ones(d_model, dtype=torch.float32))\n"
        "        self.bias = nn.Parameter(torch.ones(d_model) * 0.0)\n\n"
        "    def forward(self, x):\n        d = x.size(-1)\n"
        "        if d != self.d_model:\n            raise ValueError(f'LayerNorm({self.d_model}) got last dim {d}')\n"
        "        var, mean = torch.var_mean(x, -1, keepdim=True, unbiased=False)\n"
        "        return torch.addcmul(self.bias, (x - mean) * torch.rsqrt(var + self.eps), self.weight)\n",
    ],
    "PostLN": [
        "class PostLN(nn.Module):\n    def __init__(self, d_model, sublayers):\n        super().__init__()\n"
        "        self.layers = nn.ModuleList(sublayers)\n"
        "        self.lns = nn.ModuleList([nn.LayerNorm(d_model) for _ in range(len(sublayers))])\n\n"
        "    def forward(self, x):\n        for i in range(len(self.layers)):\n"
        "            x = self.lns[i](x + self.layers[i](x))\n        return x\n\n\n"
        "class PreLN(nn.Module):\n    def __init__(self, d_model, sublayers):\n        super().__init__()\n"
        "        self.layers = nn.ModuleList(sublayers)\n"
        "        self.lns = nn.ModuleList([nn.LayerNorm(d_model) for _ in range(len(sublayers) + 1)])\n\n"
        "    def forward(self, x):\n        for i, layer in enumerate(self.layers):\n"
        "            x = x + layer(self.lns[i](x))\n        return self.lns[-1](x)\n",
        "class PostLN(nn.Module):\n    def __init__(self, d_model, sublayers):\n        super().__init__()\n"
        "        for i, sub in enumerate(sublayers):\n            self.add_module(f'sub{i}', sub)\n"
        "            self.add_module(f'norm{i}', nn.LayerNorm(d_model))\n        self.n = len(sublayers)\n\n"
        "    def forward(self, x):\n        h = x\n        for i in range(self.n):\n"
        "            h = getattr(self, f'norm{i}')(torch.add(getattr(self, f'sub{i}')(h), h))\n        return h\n\n\n"
        "class PreLN(nn.Module):\n    def __init__(self, d_model, sublayers):\n        super().__init__()\n"
        "        self.ln_f = nn.LayerNorm(d_model)  # created first, applied last\n"
        "        self.blocks = nn.ModuleList(nn.ModuleDict({'ln': nn.LayerNorm(d_model), 'f': s}) for s in sublayers)\n\n"
        "    def forward(self, x):\n        for block in self.blocks:\n"
        "            x = torch.add(x, block['f'](block['ln'](x)))\n        return self.ln_f(x)\n",
        "class PostLN(nn.Module):\n    def __init__(self, d_model, sublayers):\n        super().__init__()\n"
        "        self.pairs = nn.ModuleList(nn.Sequential(s, nn.LayerNorm(d_model)) for s in sublayers)\n\n"
        "    def forward(self, x):\n        residual = x\n        for pair in self.pairs:\n"
        "            sub, norm = pair[0], pair[1]\n            residual = norm(sub(residual) + residual)\n"
        "        return residual\n\n\n"
        "class PreLN(nn.Module):\n    def __init__(self, d_model, sublayers):\n        super().__init__()\n"
        "        self.sublayers = nn.ModuleList(sublayers)\n"
        "        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in sublayers)\n"
        "        self.final = nn.LayerNorm(d_model)\n\n"
        "    def forward(self, x):\n        stream = x.clone()\n        for f, norm in zip(self.sublayers, self.norms):\n"
        "            stream = torch.stack([stream, f(norm(stream))]).sum(0)\n        return self.final(stream)\n",
    ],
    "rms_norm": [
        "def rms_norm(x, weight, eps=1e-6):\n    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight\n\n\n"
        "def layer_norm_from_rms(x, weight, bias, eps, rms_norm):\n"
        "    return rms_norm(x - x.mean(-1, keepdim=True), weight, eps) + bias\n",
        "def rms_norm(x, weight, eps=1e-6):\n    d = x.shape[-1]\n"
        "    ms = torch.linalg.vector_norm(x, dim=-1, keepdim=True) ** 2 / d\n    return weight * x / (ms + eps).sqrt()\n\n\n"
        "def layer_norm_from_rms(x, weight, bias, eps, rms_norm):\n"
        "    centred = x - x.sum(-1, keepdim=True) / x.shape[-1]\n"
        "    return torch.addcmul(bias, rms_norm(centred, torch.ones_like(weight), eps=eps), weight)\n",
        "def rms_norm(x, weight, eps=1e-6):\n    ms = torch.einsum('...d,...d->...', x, x)[..., None] / x.shape[-1]\n"
        "    return x / torch.sqrt(ms + eps) * weight\n\n\n"
        "def layer_norm_from_rms(x, weight, bias, eps, rms_norm):\n    mean = torch.mean(x, dim=-1, keepdim=True)\n"
        "    out = rms_norm(x - mean, weight, eps)\n    return out + bias\n",
    ],
}
