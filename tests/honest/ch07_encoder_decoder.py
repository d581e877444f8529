"""Chapter 07: three correct answers per answer cell, written differently from the instructor's (functional
calls, loops, other layouts) and never with the PyTorch transformer layers or the course's blocks, which
score zero by design. The course's MultiHeadAttention is given in this chapter and used as given."""

ASSIGNMENT = "07-encoder-decoder"

_ENC_INIT = (
    "class EncoderLayer(nn.Module):\n"
    "    def __init__(self, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):\n"
    "        super().__init__()\n"
    "        self.self_attn = MultiHeadAttention(d_model, n_heads)\n"
    "        self.ff = FeedForward(d_model, d_ff, dropout)\n"
    "        self.norm1 = nn.LayerNorm(d_model)\n        self.norm2 = nn.LayerNorm(d_model)\n"
    "        self.dropout1 = nn.Dropout(dropout)\n        self.dropout2 = nn.Dropout(dropout)\n"
    "        self.norm_first = norm_first\n\n")

_DEC_INIT = (
    "class DecoderLayer(nn.Module):\n"
    "    def __init__(self, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):\n"
    "        super().__init__()\n"
    "        self.self_attn = MultiHeadAttention(d_model, n_heads)\n"
    "        self.cross_attn = MultiHeadAttention(d_model, n_heads)\n"
    "        self.ff = FeedForward(d_model, d_ff, dropout)\n"
    "        self.norm1 = nn.LayerNorm(d_model)\n        self.norm2 = nn.LayerNorm(d_model)\n"
    "        self.norm3 = nn.LayerNorm(d_model)\n"
    "        self.dropout1 = nn.Dropout(dropout)\n        self.dropout2 = nn.Dropout(dropout)\n"
    "        self.dropout3 = nn.Dropout(dropout)\n"
    "        self.norm_first = norm_first\n\n")

VARIANTS = {
    "FeedForward": [
        "class FeedForward(nn.Module):\n    def __init__(self, d_model, d_ff, dropout=0.1):\n        super().__init__()\n"
        "        self.linear1 = nn.Linear(d_model, d_ff)\n        self.linear2 = nn.Linear(d_ff, d_model)\n"
        "        self.dropout = nn.Dropout(dropout)\n\n"
        "    def forward(self, x):\n        h = self.linear1(x)\n        h = h.clamp(min=0)\n        h = self.dropout(h)\n"
        "        return self.linear2(h)\n",
        "import torch.nn.functional as F\n\n\n"
        "class FeedForward(nn.Module):\n    def __init__(self, d_model, d_ff, dropout=0.1):\n        super().__init__()\n"
        "        self.dropout = nn.Dropout(p=dropout)\n        self.linear1 = nn.Linear(d_model, d_ff)\n"
        "        self.linear2 = nn.Linear(d_ff, d_model)\n\n"
        "    def forward(self, x):\n        return self.linear2(self.dropout(F.relu(self.linear1(x))))\n",
        "class FeedForward(nn.Module):\n    def __init__(self, d_model, d_ff, dropout=0.1):\n        super().__init__()\n"
        "        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)\n"
        "        self.dropout = nn.Dropout(dropout)\n        self.act = nn.ReLU()\n\n"
        "    def forward(self, x):\n        hidden = x @ self.linear1.weight.T + self.linear1.bias\n"
        "        return self.linear2(self.dropout(self.act(hidden)))\n",
    ],
    "EncoderLayer": [
        _ENC_INIT +
        "    def forward(self, x, mask=None):\n"
        "        def attend(h):\n            return self.dropout1(self.self_attn(h, h, h, mask))\n\n"
        "        def feed(h):\n            return self.dropout2(self.ff(h))\n\n"
        "        if self.norm_first:\n            x = x + attend(self.norm1(x))\n            return x + feed(self.norm2(x))\n"
        "        x = self.norm1(x + attend(x))\n        return self.norm2(x + feed(x))\n",
        _ENC_INIT +
        "    def forward(self, x, mask=None):\n"
        "        steps = [(self.norm1, lambda h: self.self_attn(h, h, h, mask), self.dropout1),\n"
        "                 (self.norm2, self.ff, self.dropout2)]\n"
        "        for norm, sublayer, drop in steps:\n"
        "            x = x + drop(sublayer(norm(x))) if self.norm_first else norm(x + drop(sublayer(x)))\n"
        "        return x\n",
        _ENC_INIT +
        "    def forward(self, x, mask=None):\n"
        "        if not self.norm_first:\n"
        "            a = self.self_attn(x, x, x, mask=mask)\n            y = self.norm1(torch.add(x, self.dropout1(a)))\n"
        "            return self.norm2(torch.add(y, self.dropout2(self.ff(y))))\n"
        "        n = self.norm1(x)\n        y = x + self.dropout1(self.self_attn(n, n, n, mask=mask))\n"
        "        n = self.norm2(y)\n        return y + self.dropout2(self.ff(n))\n",
    ],
    "DecoderLayer": [
        _DEC_INIT +
        "    def forward(self, x, memory, tgt_mask=None, memory_mask=None):\n"
        "        subs = [(self.norm1, lambda h: self.self_attn(h, h, h, tgt_mask), self.dropout1),\n"
        "                (self.norm2, lambda h: self.cross_attn(h, memory, memory, memory_mask), self.dropout2),\n"
        "                (self.norm3, self.ff, self.dropout3)]\n"
        "        for norm, sub, drop in subs:\n"
        "            if self.norm_first:\n                x = x + drop(sub(norm(x)))\n"
        "            else:\n                x = norm(x + drop(sub(x)))\n"
        "        return x\n",
        _DEC_INIT +
        "    def forward(self, x, memory, tgt_mask=None, memory_mask=None):\n"
        "        pre = self.norm_first\n"
        "        h = self.norm1(x) if pre else x\n"
        "        x = x + self.dropout1(self.self_attn(h, h, h, mask=tgt_mask))\n"
        "        if not pre:\n            x = self.norm1(x)\n"
        "        h = self.norm2(x) if pre else x\n"
        "        x = x + self.dropout2(self.cross_attn(h, memory, memory, mask=memory_mask))\n"
        "        if not pre:\n            x = self.norm2(x)\n"
        "        h = self.norm3(x) if pre else x\n"
        "        x = x + self.dropout3(self.ff(h))\n"
        "        return x if pre else self.norm3(x)\n",
        _DEC_INIT +
        "    def _self(self, h, mask):\n        return self.dropout1(self.self_attn(h, h, h, mask))\n\n"
        "    def _cross(self, h, memory, mask):\n        return self.dropout2(self.cross_attn(h, memory, memory, mask))\n\n"
        "    def forward(self, x, memory, tgt_mask=None, memory_mask=None):\n"
        "        if self.norm_first:\n"
        "            x = x + self._self(self.norm1(x), tgt_mask)\n"
        "            x = x + self._cross(self.norm2(x), memory, memory_mask)\n"
        "            return x + self.dropout3(self.ff(self.norm3(x)))\n"
        "        x = self.norm1(x + self._self(x, tgt_mask))\n"
        "        x = self.norm2(x + self._cross(x, memory, memory_mask))\n"
        "        return self.norm3(x + self.dropout3(self.ff(x)))\n",
    ],
    "stacks": [
        "class Encoder(nn.Module):\n"
        "    def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):\n"
        "        super().__init__()\n        self.layers = nn.ModuleList()\n"
        "        for _ in range(n_layers):\n            self.layers.append(EncoderLayer(d_model, n_heads, d_ff, dropout, norm_first))\n"
        "        self.norm = nn.LayerNorm(d_model) if norm_first else None\n\n"
        "    def forward(self, src, src_mask=None):\n"
        "        for layer in self.layers:\n            src = layer(src, mask=src_mask)\n"
        "        return src if self.norm is None else self.norm(src)\n\n\n"
        "class Decoder(nn.Module):\n"
        "    def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):\n"
        "        super().__init__()\n        self.layers = nn.ModuleList()\n"
        "        for _ in range(n_layers):\n            self.layers.append(DecoderLayer(d_model, n_heads, d_ff, dropout, norm_first))\n"
        "        self.norm = nn.LayerNorm(d_model) if norm_first else None\n\n"
        "    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None):\n"
        "        for layer in self.layers:\n            tgt = layer(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask)\n"
        "        return tgt if self.norm is None else self.norm(tgt)\n",
        "import copy\n\n\n"
        "class Encoder(nn.Module):\n"
        "    def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):\n"
        "        super().__init__()\n        first = EncoderLayer(d_model, n_heads, d_ff, dropout, norm_first)\n"
        "        self.layers = nn.ModuleList([copy.deepcopy(first) for _ in range(n_layers)])\n"
        "        self.norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()\n\n"
        "    def forward(self, src, src_mask=None):\n        x = src\n"
        "        for i in range(len(self.layers)):\n            x = self.layers[i](x, src_mask)\n"
        "        return self.norm(x)\n\n\n"
        "class Decoder(nn.Module):\n"
        "    def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):\n"
        "        super().__init__()\n        first = DecoderLayer(d_model, n_heads, d_ff, dropout, norm_first)\n"
        "        self.layers = nn.ModuleList([copy.deepcopy(first) for _ in range(n_layers)])\n"
        "        self.norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()\n\n"
        "    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None):\n        x = tgt\n"
        "        for i in range(len(self.layers)):\n            x = self.layers[i](x, memory, tgt_mask, memory_mask)\n"
        "        return self.norm(x)\n",
        "import functools\n\n\n"
        "class Encoder(nn.Module):\n"
        "    def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):\n"
        "        super().__init__()\n"
        "        self.layers = nn.ModuleList(EncoderLayer(d_model, n_heads, d_ff, dropout, norm_first)\n"
        "                                    for _ in range(n_layers))\n"
        "        self.norm = None\n        if norm_first:\n            self.norm = nn.LayerNorm(d_model)\n\n"
        "    def forward(self, src, src_mask=None):\n"
        "        out = functools.reduce(lambda h, layer: layer(h, src_mask), self.layers, src)\n"
        "        return self.norm(out) if self.norm is not None else out\n\n\n"
        "class Decoder(nn.Module):\n"
        "    def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):\n"
        "        super().__init__()\n"
        "        self.layers = nn.ModuleList(DecoderLayer(d_model, n_heads, d_ff, dropout, norm_first)\n"
        "                                    for _ in range(n_layers))\n"
        "        self.norm = None\n        if norm_first:\n            self.norm = nn.LayerNorm(d_model)\n\n"
        "    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None):\n"
        "        out = functools.reduce(lambda h, layer: layer(h, memory, tgt_mask, memory_mask), self.layers, tgt)\n"
        "        return self.norm(out) if self.norm is not None else out\n",
    ],
    "masks": [
        "def source_mask(lengths, max_len):\n"
        "    if bool((lengths > max_len).any()):\n        raise ValueError('a length exceeds max_len')\n"
        "    positions = torch.arange(max_len).expand(len(lengths), max_len)\n"
        "    return (positions < lengths.unsqueeze(1)).view(len(lengths), 1, 1, max_len)\n\n\n"
        "def target_mask(lengths, max_len):\n"
        "    keys = source_mask(lengths, max_len)\n"
        "    i = torch.arange(max_len)\n"
        "    return keys & (i[None, :] <= i[:, None])\n",
        "def source_mask(lengths, max_len):\n"
        "    mask = torch.zeros(len(lengths), 1, 1, max_len, dtype=torch.bool)\n"
        "    for b, n in enumerate(lengths.tolist()):\n"
        "        if n > max_len:\n            raise ValueError(f'length {n} > max_len {max_len}')\n"
        "        mask[b, 0, 0, :n] = True\n"
        "    return mask\n\n\n"
        "def target_mask(lengths, max_len):\n"
        "    out = torch.zeros(len(lengths), 1, max_len, max_len, dtype=torch.bool)\n"
        "    for b, n in enumerate(lengths.tolist()):\n"
        "        if n > max_len:\n            raise ValueError(f'length {n} > max_len {max_len}')\n"
        "        for i in range(max_len):\n            out[b, 0, i, :min(i + 1, n)] = True\n"
        "    return out\n",
        "def source_mask(lengths, max_len):\n"
        "    if lengths.max().item() > max_len:\n        raise ValueError('lengths must not exceed max_len')\n"
        "    return torch.arange(max_len).lt(lengths[:, None, None, None])\n\n\n"
        "def target_mask(lengths, max_len):\n"
        "    causal = ~torch.ones(max_len, max_len, dtype=torch.bool).triu(diagonal=1)\n"
        "    return torch.logical_and(source_mask(lengths, max_len), causal)\n",
    ],
}
