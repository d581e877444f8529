"""Chapter 07's targets: the stacks (modules, nothing later builds on them) and the masks (tensors).

FeedForward, EncoderLayer and DecoderLayer are built on by later exercises (a wrong FeedForward makes
the EncoderLayer tests fail too), so the targets are the exercises nothing else is graded through.
"""

from attacks import Target

A, M = "07-encoder-decoder", "ch07_encoder_decoder"

_STACKS_WRONG = (
    "class Encoder(nn.Module):\n"
    "    def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):\n"
    "        super().__init__()\n"
    "        layer = EncoderLayer(d_model, n_heads, d_ff, dropout, norm_first)\n"
    "        self.layers = nn.ModuleList([layer] * n_layers)  # one layer shared n times\n"
    "        self.norm = nn.LayerNorm(d_model) if norm_first else None\n\n"
    "    def forward(self, src, src_mask=None):\n"
    "        for layer in self.layers:\n            src = layer(src, src_mask)\n"
    "        return self.norm(src) if self.norm is not None else src\n\n\n"
    "class Decoder(nn.Module):\n"
    "    def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):\n"
    "        super().__init__()\n"
    "        self.layers = nn.ModuleList([DecoderLayer(d_model, n_heads, d_ff, dropout, norm_first)\n"
    "                                     for _ in range(n_layers)])\n"
    "        self.norm = nn.LayerNorm(d_model)  # a final norm for Post-LN too\n\n"
    "    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None):\n"
    "        for layer in self.layers:\n            tgt = layer(tgt, memory, tgt_mask, memory_mask)\n"
    "        return self.norm(tgt)\n")

# right values from nn.TransformerEncoder / nn.TransformerDecoder, the student's weights copied in at every call
_STACKS_BORROWED = (
    "from torch.nn import TransformerEncoder, TransformerEncoderLayer, TransformerDecoder, TransformerDecoderLayer\n\n\n"
    "def _pack(mha, torch_mha):\n"
    "    torch_mha.in_proj_weight.copy_(torch.cat([mha.q_proj.weight, mha.k_proj.weight, mha.v_proj.weight]))\n"
    "    torch_mha.in_proj_bias.copy_(torch.cat([mha.q_proj.bias, mha.k_proj.bias, mha.v_proj.bias]))\n"
    "    torch_mha.out_proj.load_state_dict(mha.out_proj.state_dict())\n\n\n"
    "def _load(mine, theirs, cross):\n"
    "    _pack(mine.self_attn, theirs.self_attn)\n"
    "    if cross:\n        _pack(mine.cross_attn, theirs.multihead_attn)\n"
    "    theirs.linear1.load_state_dict(mine.ff.linear1.state_dict())\n"
    "    theirs.linear2.load_state_dict(mine.ff.linear2.state_dict())\n"
    "    for i in (1, 2, 3) if cross else (1, 2):\n"
    "        getattr(theirs, f'norm{i}').load_state_dict(getattr(mine, f'norm{i}').state_dict())\n\n\n"
    "def _torch_mask(mask, b, h, q, k):\n"
    "    return None if mask is None else ~mask.expand(b, h, q, k).reshape(b * h, q, k)\n\n\n"
    "class Encoder(nn.Module):\n"
    "    def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):\n"
    "        super().__init__()\n"
    "        self.layers = nn.ModuleList([EncoderLayer(d_model, n_heads, d_ff, dropout, norm_first) for _ in range(n_layers)])\n"
    "        self.norm = nn.LayerNorm(d_model) if norm_first else None\n"
    "        self.args = (n_layers, d_model, n_heads, d_ff, dropout, norm_first)\n\n"
    "    def forward(self, src, src_mask=None):\n"
    "        n, d, h, d_ff, p, first = self.args\n"
    "        layer = TransformerEncoderLayer(d, h, d_ff, p, batch_first=True, norm_first=first)\n"
    "        theirs = TransformerEncoder(layer, n, norm=nn.LayerNorm(d) if first else None,\n"
    "                                    enable_nested_tensor=False).to(src.dtype).train(self.training)\n"
    "        with torch.no_grad():\n"
    "            for mine, ref in zip(self.layers, theirs.layers):\n                _load(mine, ref, False)\n"
    "            if first:\n                theirs.norm.load_state_dict(self.norm.state_dict())\n"
    "        b, s = src.shape[:2]\n"
    "        return theirs(src, mask=_torch_mask(src_mask, b, h, s, s))\n\n\n"
    "class Decoder(nn.Module):\n"
    "    def __init__(self, n_layers, d_model, n_heads, d_ff, dropout=0.1, norm_first=False):\n"
    "        super().__init__()\n"
    "        self.layers = nn.ModuleList([DecoderLayer(d_model, n_heads, d_ff, dropout, norm_first) for _ in range(n_layers)])\n"
    "        self.norm = nn.LayerNorm(d_model) if norm_first else None\n"
    "        self.args = (n_layers, d_model, n_heads, d_ff, dropout, norm_first)\n\n"
    "    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None):\n"
    "        n, d, h, d_ff, p, first = self.args\n"
    "        layer = TransformerDecoderLayer(d, h, d_ff, p, batch_first=True, norm_first=first)\n"
    "        theirs = TransformerDecoder(layer, n, norm=nn.LayerNorm(d) if first else None).to(tgt.dtype)\n"
    "        theirs.train(self.training)\n"
    "        with torch.no_grad():\n"
    "            for mine, ref in zip(self.layers, theirs.layers):\n                _load(mine, ref, True)\n"
    "            if first:\n                theirs.norm.load_state_dict(self.norm.state_dict())\n"
    "        b, t, s = tgt.shape[0], tgt.shape[1], memory.shape[1]\n"
    "        return theirs(tgt, memory, tgt_mask=_torch_mask(tgt_mask, b, h, t, t),\n"
    "                      memory_mask=_torch_mask(memory_mask, b, h, t, s))\n")

TARGETS = [
    Target(A, "stacks", name="Decoder", returns="module", module=M, wrong=_STACKS_WRONG, borrowed=_STACKS_BORROWED),
    Target(A, "masks", name="target_mask", returns="tensor", module=M,
           wrong=("def source_mask(lengths, max_len):\n"
                  "    if int(lengths.max()) > max_len:\n        raise ValueError('a length exceeds max_len')\n"
                  "    return (torch.arange(max_len)[None, :] <= lengths[:, None])[:, None, None, :]  # one too many\n\n\n"
                  "def target_mask(lengths, max_len):\n"
                  "    causal = torch.ones(max_len, max_len, dtype=torch.bool).triu()  # the future, not the past\n"
                  "    return source_mask(lengths, max_len) & causal\n"),
           borrowed=("from course.blocks import causal_mask, padding_mask\n\n\n"
                     "def source_mask(lengths, max_len):\n"
                     "    if int(lengths.max()) > max_len:\n        raise ValueError('a length exceeds max_len')\n"
                     "    return padding_mask(lengths, max_len)\n\n\n"
                     "def target_mask(lengths, max_len):\n"
                     "    return source_mask(lengths, max_len) & causal_mask(max_len)\n")),
]
