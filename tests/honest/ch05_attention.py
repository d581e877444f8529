"""Chapter 05: three correct answers per answer cell, written differently from the instructor's (einsum,
explicit exponentials, other APIs — never F.scaled_dot_product_attention, nn.MultiheadAttention or the course's
attention, which score zero by design). The honest suite hands them in and expects full marks."""

ASSIGNMENT = "05-attention"

VARIANTS = {
    "dot_product_variance": [
        "def dot_product_variance(d_k, n, generator):\n"
        "    q = torch.randn(n, d_k, generator=generator)\n    k = torch.randn(n, d_k, generator=generator)\n"
        "    return float(torch.einsum('nd,nd->n', q, k).var())\n",
        "def dot_product_variance(d_k, n, generator):\n"
        "    pairs = torch.randn(2, n, d_k, generator=generator)\n    dots = (pairs[0] * pairs[1]).sum(-1)\n"
        "    return ((dots - dots.mean()) ** 2).sum().item() / (n - 1)\n",
        "def dot_product_variance(d_k, n, generator):\n"
        "    q = torch.randn(n, d_k, generator=generator)\n    k = torch.randn(n, d_k, generator=generator)\n"
        "    dots = torch.bmm(q[:, None, :], k[:, :, None]).flatten()\n"
        "    return float(torch.var(dots, correction=0))\n",
    ],
    "scaled_dot_product_attention": [
        "def scaled_dot_product_attention(q, k, v, mask=None):\n"
        "    s = torch.einsum('bhqd,bhkd->bhqk', q, k) * q.shape[-1] ** -0.5\n"
        "    if mask is not None:\n        s = s.masked_fill(mask.logical_not(), -math.inf)\n"
        "    w = s.softmax(-1)\n    w = torch.where(torch.isnan(w), torch.zeros_like(w), w)\n"
        "    return torch.einsum('bhqk,bhkv->bhqv', w, v), w\n",
        "def scaled_dot_product_attention(q, k, v, mask=None):\n"
        "    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])\n"
        "    allowed = torch.ones_like(s, dtype=torch.bool) if mask is None else mask.expand_as(s)\n"
        "    s = s.masked_fill(~allowed, -1e30)\n"
        "    e = torch.exp(s - s.amax(-1, keepdim=True)) * allowed\n"
        "    w = e / e.sum(-1, keepdim=True).clamp_min(1e-30)\n    return w @ v, w\n",
        "def scaled_dot_product_attention(q, k, v, mask=None):\n"
        "    s = torch.matmul(q, k.transpose(-1, -2)) / q.size(-1) ** 0.5\n"
        "    if mask is not None:\n        s = s + torch.zeros_like(s).masked_fill(~mask, float('-inf'))\n"
        "    w = F.softmax(s, dim=-1)\n"
        "    if mask is not None:\n        w = w.masked_fill(~mask.expand_as(w).any(-1, keepdim=True), 0.0)\n"
        "    return torch.matmul(w, v), w\n",
    ],
    "masks": [
        "def causal_mask(q_len, k_len=None):\n    k_len = q_len if k_len is None else k_len\n"
        "    where = torch.arange(k_len - q_len, k_len)  # the queries' positions\n"
        "    return torch.arange(k_len)[None, :] <= where[:, None]\n\n\n"
        "def padding_mask(lengths, max_len):\n"
        "    return (torch.arange(max_len).expand(len(lengths), max_len) < lengths.unsqueeze(1)).view(len(lengths), 1, 1, max_len)\n",
        "def causal_mask(q_len, k_len=None):\n    if k_len is None:\n        k_len = q_len\n"
        "    return ~torch.ones(q_len, k_len, dtype=torch.bool).triu(diagonal=k_len - q_len + 1)\n\n\n"
        "def padding_mask(lengths, max_len):\n    rows = []\n    for n in lengths.tolist():\n"
        "        rows.append([j < n for j in range(max_len)])\n"
        "    return torch.tensor(rows, dtype=torch.bool).reshape(-1, 1, 1, max_len)\n",
        "def causal_mask(q_len, k_len=None):\n    k_len = k_len or q_len\n"
        "    m = torch.zeros(q_len, k_len, dtype=torch.bool)\n    for i in range(q_len):\n"
        "        m[i, : k_len - q_len + i + 1] = True\n    return m\n\n\n"
        "def padding_mask(lengths, max_len):\n"
        "    keys = torch.arange(max_len).view(1, 1, 1, max_len)\n    return keys < lengths.view(-1, 1, 1, 1)\n",
    ],
    "MultiHeadAttention": [
        "class MultiHeadAttention(nn.Module):\n    def __init__(self, d_model, n_heads):\n        super().__init__()\n"
        "        if d_model % n_heads:\n            raise ValueError(f'{n_heads} heads do not divide d_model={d_model}')\n"
        "        self.n_heads, self.d_head = n_heads, d_model // n_heads\n"
        "        for name in ('q_proj', 'k_proj', 'v_proj', 'out_proj'):\n"
        "            setattr(self, name, nn.Linear(d_model, d_model))\n        self.last_weights = None\n\n"
        "    def forward(self, query, key, value, mask=None):\n"
        "        split = lambda t: t.unflatten(-1, (self.n_heads, self.d_head)).transpose(1, 2)\n"
        "        out, w = scaled_dot_product_attention(split(self.q_proj(query)), split(self.k_proj(key)),\n"
        "                                              split(self.v_proj(value)), mask)\n"
        "        self.last_weights = w.detach()\n        return self.out_proj(out.transpose(1, 2).flatten(2))\n",
        "class MultiHeadAttention(nn.Module):\n    def __init__(self, d_model, n_heads):\n        super().__init__()\n"
        "        if d_model % n_heads != 0:\n            raise ValueError('n_heads must divide d_model')\n"
        "        self.h = n_heads\n        self.q_proj = nn.Linear(d_model, d_model)\n"
        "        self.k_proj = nn.Linear(d_model, d_model)\n        self.v_proj = nn.Linear(d_model, d_model)\n"
        "        self.out_proj = nn.Linear(d_model, d_model)\n        self.last_weights = None\n\n"
        "    def _heads(self, t):\n        b, s, d = t.shape\n"
        "        return t.reshape(b, s, self.h, d // self.h).permute(0, 2, 1, 3)\n\n"
        "    def forward(self, query, key, value, mask=None):\n"
        "        q, k, v = self._heads(self.q_proj(query)), self._heads(self.k_proj(key)), self._heads(self.v_proj(value))\n"
        "        out, self.last_weights = scaled_dot_product_attention(q, k, v, mask)\n"
        "        self.last_weights = self.last_weights.detach()\n        b, h, s, dh = out.shape\n"
        "        return self.out_proj(out.permute(0, 2, 1, 3).reshape(b, s, h * dh))\n",
        "class MultiHeadAttention(nn.Module):\n    def __init__(self, d_model, n_heads):\n        super().__init__()\n"
        "        if n_heads <= 0 or d_model % n_heads:\n"
        "            raise ValueError(f'cannot split d_model={d_model} into {n_heads} heads')\n"
        "        self.n_heads = n_heads\n        self.q_proj, self.k_proj = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)\n"
        "        self.v_proj, self.out_proj = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)\n"
        "        self.last_weights = None\n\n"
        "    def forward(self, query, key, value, mask=None):\n"
        "        heads = lambda t: torch.stack(t.chunk(self.n_heads, dim=-1), dim=1)  # (b, h, s, d_head)\n"
        "        out, w = scaled_dot_product_attention(heads(self.q_proj(query)), heads(self.k_proj(key)),\n"
        "                                              heads(self.v_proj(value)), mask)\n"
        "        self.last_weights = w.detach()\n"
        "        return self.out_proj(torch.cat(out.unbind(dim=1), dim=-1))\n",
    ],
}
