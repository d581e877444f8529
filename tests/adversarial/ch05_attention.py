"""Chapter 05's targets: the masks (tensors), attention (a tuple of tensors) and multi-head attention (a module).

The masks come first: the hang attack runs on the first target only, and multi-head attention calls the
student's attention, so a hanging attention would also stop the (unattacked) multi-head attention tests."""

from attacks import Target

A, M = "05-attention", "ch05_attention"

TARGETS = [
    Target(A, "masks", name="causal_mask", returns="tensor", module=M,
           wrong=("def causal_mask(q_len, k_len=None):\n    k_len = q_len if k_len is None else k_len\n"
                  "    return torch.ones(q_len, k_len, dtype=torch.bool).triu()  # the future, not the past\n\n\n"
                  "def padding_mask(lengths, max_len):\n"
                  "    return (torch.arange(max_len)[None, :] < lengths[:, None])[:, None, None, :]\n"),
           borrowed=("from course.blocks import causal_mask, padding_mask\n")),
    Target(A, "scaled_dot_product_attention", name="scaled_dot_product_attention", returns="tuple", module=M,
           wrong=("def scaled_dot_product_attention(q, k, v, mask=None):\n"
                  "    weights = torch.softmax(q @ k.transpose(-2, -1), dim=-1)  # no 1/sqrt(d_k), mask ignored\n"
                  "    return weights @ v, weights\n"),
           borrowed=("import course.attention\n\n\n"
                     "def scaled_dot_product_attention(q, k, v, mask=None):\n"
                     "    return course.attention.attention(q, k, v, mask)\n")),
    Target(A, "MultiHeadAttention", name="MultiHeadAttention", returns="module", module=M,
           wrong=("class MultiHeadAttention(nn.Module):\n"
                  "    def __init__(self, d_model, n_heads):\n"
                  "        super().__init__()\n"
                  "        if d_model % n_heads:\n            raise ValueError('n_heads must divide d_model')\n"
                  "        self.n_heads = n_heads\n"
                  "        self.q_proj, self.k_proj = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)\n"
                  "        self.v_proj, self.out_proj = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)\n\n"
                  "    def forward(self, query, key, value, mask=None):  # one head, whatever n_heads says\n"
                  "        q, k, v = self.q_proj(query), self.k_proj(key), self.v_proj(value)\n"
                  "        w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)\n"
                  "        return self.out_proj(w @ v)\n"),
           borrowed=("import course.attention\n\n\n"
                     "class MultiHeadAttention(course.attention.MultiHeadAttention):\n"
                     "    pass\n")),
]
