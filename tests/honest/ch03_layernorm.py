"""Chapter 03: three correct answers per answer cell, written differently from the instructor's (var_mean,
einsum, rsqrt, loops — never F.layer_norm, nn.LayerNorm inside LayerNorm, F.rms_norm or the explorer's
normalise, which score zero by design). The honest suite hands them in and expects full marks."""

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
        "class PostLN(nn.Module):\n    def __init__(self, d_model, sublayer):\n        super().__init__()\n"
        "        self.norm = nn.LayerNorm(d_model)\n        self.sublayer = sublayer\n\n"
        "    def forward(self, x):\n        h = x + self.sublayer(x)\n        return self.norm(h)\n\n\n"
        "class PreLN(nn.Module):\n    def __init__(self, d_model, sublayer):\n        super().__init__()\n"
        "        self.norm = nn.LayerNorm(d_model)\n        self.sublayer = sublayer\n\n"
        "    def forward(self, x):\n        h = self.norm(x)\n        return x + self.sublayer(h)\n",
        "class PostLN(nn.Module):\n    def __init__(self, d_model, sublayer):\n        super().__init__()\n"
        "        self.norm = nn.LayerNorm(d_model)\n        self.sublayer = sublayer\n\n"
        "    def forward(self, x):\n        return self.norm(torch.add(self.sublayer(x), x))\n\n\n"
        "class PreLN(nn.Module):\n    def __init__(self, d_model, sublayer):\n        super().__init__()\n"
        "        self.norm = nn.LayerNorm(d_model)\n        self.sublayer = sublayer\n\n"
        "    def forward(self, x):\n        return torch.add(x, self.sublayer(self.norm(x)))\n",
        "class PostLN(nn.Module):\n    def __init__(self, d_model, sublayer):\n        super().__init__()\n"
        "        self.norm = nn.LayerNorm(d_model)\n        self.sublayer = sublayer\n\n"
        "    def forward(self, x):\n        residual = x\n        out = self.sublayer(x)\n"
        "        return self.norm(out + residual)\n\n\n"
        "class PreLN(nn.Module):\n    def __init__(self, d_model, sublayer):\n        super().__init__()\n"
        "        self.norm = nn.LayerNorm(d_model)\n        self.sublayer = sublayer\n\n"
        "    def forward(self, x):\n        return torch.stack([x, self.sublayer(self.norm(x))]).sum(0)\n",
    ],
    "rms_norm": [
        "def rms_norm(x, weight, eps=1e-6):\n    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight\n",
        "def rms_norm(x, weight, eps=1e-6):\n    d = x.shape[-1]\n"
        "    ms = torch.linalg.vector_norm(x, dim=-1, keepdim=True) ** 2 / d\n    return weight * x / (ms + eps).sqrt()\n",
        "def rms_norm(x, weight, eps=1e-6):\n    ms = torch.einsum('...d,...d->...', x, x)[..., None] / x.shape[-1]\n"
        "    return x / torch.sqrt(ms + eps) * weight\n",
    ],
}
