"""Chapter 03's targets: RMSNorm (a tensor) and the LayerNorm module (a class). layer_norm itself is no
target: the LayerNorm answer calls it, so a wrong or borrowed layer_norm rightly costs LayerNorm's points
too, which the suite would count as an honest exercise losing points."""

from attacks import Target

A, M = "03-layernorm", "ch03_layernorm"

# the answer cell of rms_norm also defines layer_norm_from_rms (correct here: only rms_norm is attacked)
_FROM_RMS = ("def layer_norm_from_rms(x, weight, bias, eps, rms_norm):\n"
             "    return rms_norm(x - x.mean(dim=-1, keepdim=True), weight, eps) + bias\n")

TARGETS = [
    Target(A, "rms_norm", name="rms_norm", returns="tensor", module=M,
           wrong=("def rms_norm(x, weight, eps=1e-6):\n"
                  "    x = x - x.mean(dim=-1, keepdim=True)  # removes the mean: that is layer norm, not RMSNorm\n"
                  "    return x / torch.sqrt((x ** 2).mean(dim=-1, keepdim=True) + eps) * weight\n\n\n" + _FROM_RMS),
           borrowed=("from torch.nn.functional import rms_norm as _rms_norm\n\n\n"
                     "def rms_norm(x, weight, eps=1e-6):\n    return _rms_norm(x, x.shape[-1:], weight, eps)\n\n\n"
                     + _FROM_RMS)),
    Target(A, "LayerNorm", name="LayerNorm", returns="module", module=M,
           wrong=("class LayerNorm(nn.Module):\n"
                  "    def __init__(self, d_model, eps=1e-5):\n"
                  "        super().__init__()\n"
                  "        self.d_model, self.eps = d_model, eps\n"
                  "        self.weight = nn.Parameter(torch.ones(d_model))\n"
                  "        self.bias = nn.Parameter(torch.zeros(d_model))\n\n"
                  "    def forward(self, x):\n"
                  "        if x.shape[-1] != self.d_model:\n"
                  "            raise ValueError(f'expected last dim {self.d_model}, got {x.shape[-1]}')\n"
                  "        mean = x.mean(dim=-1, keepdim=True)\n"
                  "        var = x.var(dim=-1, keepdim=True)  # unbiased (divides by d - 1)\n"
                  "        return (x - mean) / (torch.sqrt(var) + self.eps) * self.weight + self.bias  # eps outside\n"),
           borrowed=("class LayerNorm(nn.LayerNorm):\n"
                     "    def __init__(self, d_model, eps=1e-5):\n"
                     "        super().__init__(d_model, eps=eps)\n"
                     "        self.d_model = d_model\n\n"
                     "    def forward(self, x):\n"
                     "        if x.shape[-1] != self.d_model:\n"
                     "            raise ValueError(f'expected last dim {self.d_model}, got {x.shape[-1]}')\n"
                     "        return super().forward(x)\n")),
]
