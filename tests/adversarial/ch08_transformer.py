"""Chapter 08's targets: the model (a module), greedy decoding and the smoothed loss (tensors).

embed is built on by Transformer (a wrong embed fails the Transformer tests too), so it is not a target.
"""

from attacks import Target

A, M = "08-transformer", "ch08_transformer"

_TRANSFORMER_INIT = (
    "class Transformer(nn.Module):\n"
    "    def __init__(self, src_vocab, tgt_vocab, d_model=128, n_heads=4, n_encoder_layers=2, n_decoder_layers=2,\n"
    "                 d_ff=512, dropout=0.1, norm_first=True, position='sinusoidal', tie_output=False):\n"
    "        super().__init__()\n"
    "        if position not in ('sinusoidal', 'rope'):\n            raise ValueError(position)\n"
    "        self.d_model = d_model\n"
    "        self.src_embed = nn.Embedding(src_vocab, d_model)\n"
    "        self.tgt_embed = nn.Embedding(tgt_vocab, d_model)\n"
    "        pe = SinusoidalPositions.build(256, d_model) if position == 'sinusoidal' else None\n"
    "        self.register_buffer('pe', pe, persistent=False)\n"
    "        self.rope = RotaryEmbedding(d_model // n_heads) if position == 'rope' else None\n"
    "        self.embed_dropout = nn.Dropout(dropout)\n"
    "        self.encoder = Encoder(n_encoder_layers, d_model, n_heads, d_ff, dropout, norm_first)\n"
    "        self.decoder = Decoder(n_decoder_layers, d_model, n_heads, d_ff, dropout, norm_first)\n"
    "        self.output = nn.Linear(d_model, tgt_vocab)\n"
    "        if tie_output:\n            self.output.weight = self.tgt_embed.weight\n\n")

TARGETS = [
    Target(A, "Transformer", name="Transformer", returns="module", module=M,
           wrong=(_TRANSFORMER_INIT +
                  "    def encode(self, src, src_lengths):  # the source padding is never masked\n"
                  "        x = self.embed_dropout(embed(src, self.src_embed, self.pe))\n"
                  "        mask = torch.ones(src.shape[0], 1, 1, src.shape[1], dtype=torch.bool)\n"
                  "        return self.encoder(x, mask, self.rope), mask\n\n"
                  "    def decode(self, tgt_in, memory, src_mask):\n"
                  "        y = self.embed_dropout(embed(tgt_in, self.tgt_embed, self.pe))\n"
                  "        return self.output(self.decoder(y, memory, src_mask, self.rope))\n\n"
                  "    def forward(self, src, src_lengths, tgt_in):\n"
                  "        memory, src_mask = self.encode(src, src_lengths)\n"
                  "        return self.decode(tgt_in, memory, src_mask)\n\n"
                  "    def greedy_decode(self, src, src_lengths, max_len):\n"
                  "        return greedy_decode(self, src, src_lengths, max_len)\n"),
           borrowed=("from course.blocks import Seq2SeqTransformer\n\n\n"
                     "class Transformer(Seq2SeqTransformer):  # the course's model, renamed\n"
                     "    pass\n")),
    Target(A, "greedy_decode", name="greedy_decode", returns="tensor", module=M,
           wrong=("@torch.no_grad()\n"
                  "def greedy_decode(model, src, src_lengths, max_len):  # keeps <bos>, never pads finished rows\n"
                  "    memory, src_mask = model.encode(src, src_lengths)\n"
                  "    tokens = torch.full((src.shape[0], 1), BOS, dtype=torch.long)\n"
                  "    for _ in range(max_len):\n"
                  "        nxt = model.decode(tokens, memory, src_mask)[:, -1].argmax(dim=-1)\n"
                  "        tokens = torch.cat([tokens, nxt[:, None]], dim=1)\n"
                  "    return tokens\n"),
           # the course's cached decoder for real models, an own loop only for the tests' stand-ins
           borrowed=("import course.blocks\n\n\n"
                     "@torch.no_grad()\n"
                     "def greedy_decode(model, src, src_lengths, max_len):\n"
                     "    if isinstance(model, course.blocks.Seq2SeqTransformer):\n"
                     "        return course.blocks.Seq2SeqTransformer.greedy_decode(model, src, src_lengths, max_len)\n"
                     "    memory, src_mask = model.encode(src, src_lengths)\n"
                     "    tokens = torch.full((src.shape[0], 1), BOS, dtype=torch.long)\n"
                     "    done = torch.zeros(src.shape[0], dtype=torch.bool)\n"
                     "    for _ in range(max_len):\n"
                     "        nxt = model.decode(tokens, memory, src_mask)[:, -1].argmax(dim=-1)\n"
                     "        nxt = nxt.masked_fill(done, PAD)\n"
                     "        tokens = torch.cat([tokens, nxt[:, None]], dim=1)\n"
                     "        done = done | (nxt == EOS)\n"
                     "        if bool(done.all()):\n            break\n"
                     "    return tokens[:, 1:]\n")),
    Target(A, "smoothed_cross_entropy", name="smoothed_cross_entropy", returns="tensor", module=M,
           wrong=("def smoothed_cross_entropy(logits, targets, smoothing):  # padding counted in the mean\n"
                  "    logp = torch.log_softmax(logits, dim=-1)\n"
                  "    nll = -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)\n"
                  "    return ((1 - smoothing) * nll - smoothing * logp.mean(dim=-1)).mean()\n"),
           borrowed=("from torch.nn.functional import cross_entropy as _ce  # bound before the checks run\n\n\n"
                     "def smoothed_cross_entropy(logits, targets, smoothing):\n"
                     "    return _ce(logits.flatten(0, 1), targets.flatten(), ignore_index=PAD, label_smoothing=smoothing)\n")),
    Target(A, "attention_step", name="attention_step", returns="tensor", module=M,
           wrong=("def attention_step(attn, x, cache, rope=None):  # forgets the cache: attends to itself only\n"
                  "    b, n, d = x.shape\n"
                  "    q, k, v = (z.view(b, n, attn.n_heads, attn.d_head).transpose(1, 2)\n"
                  "               for z in attn.in_proj(x).chunk(3, dim=-1))\n"
                  "    out = F.scaled_dot_product_attention(q, k, v)\n"
                  "    cache['k'], cache['v'] = k, v\n"
                  "    return attn.out_proj(out.transpose(1, 2).reshape(b, n, d))\n"),
           borrowed=("def attention_step(attn, x, cache, rope=None):  # the course's cached step\n"
                     "    return attn.step(x, cache, rope)\n")),
    Target(A, "cached_greedy_decode", name="cached_greedy_decode", returns="tensor", module=M,
           wrong=("@torch.no_grad()\n"
                  "def cached_greedy_decode(model, src, src_lengths, max_len):  # every token at position 0\n"
                  "    memory, mask = model.encode(src, src_lengths)\n"
                  "    kvs = [layer.cross_attn.memory_kv(memory) for layer in model.decoder.layers]\n"
                  "    caches = [{} for _ in kvs]\n"
                  "    tokens = torch.full((src.shape[0], 1), BOS, dtype=torch.long)\n"
                  "    for t in range(max_len):\n"
                  "        x = model._embed(model.tgt_embed, tokens[:, -1:], 0)\n"
                  "        for layer, cache, kv in zip(model.decoder.layers, caches, kvs):\n"
                  "            x = x + attention_step(layer.self_attn, layer.norm1(x), cache, model.rope)\n"
                  "            x = x + layer.cross_attn.attend_memory(layer.norm2(x), kv, mask)\n"
                  "            x = x + layer.ff(layer.norm3(x))\n"
                  "        nxt = model.output(model.decoder.norm(x))[:, -1].argmax(-1)\n"
                  "        tokens = torch.cat([tokens, nxt[:, None]], 1)\n"
                  "    return tokens[:, 1:]\n"),
           borrowed=("@torch.no_grad()\n"
                     "def cached_greedy_decode(model, src, src_lengths, max_len):  # the reference's own loop\n"
                     "    return model.greedy_decode(src, src_lengths, max_len)\n")),
    Target(A, "beam_search", name="beam_search", returns="tuple", module=M,
           wrong=("@torch.no_grad()\n"
                  "def beam_search(model, src, src_lengths, beam_size, max_len):  # greedy, whatever the beam\n"
                  "    memory, mask = model.encode(src, src_lengths)\n"
                  "    seq, score = [], 0.0\n"
                  "    for _ in range(max_len):\n"
                  "        logp = model.decode(torch.tensor([[BOS] + seq]), memory, mask)[0, -1].log_softmax(-1)\n"
                  "        tok = int(logp.argmax())\n"
                  "        seq.append(tok)\n        score += float(logp[tok])\n"
                  "        if tok == EOS:\n            break\n"
                  "    return torch.tensor(seq), score\n"),
           borrowed=("from course.checks.ch08_transformer import brute_force_best as _best\n\n\n"
                     "@torch.no_grad()\n"
                     "def beam_search(model, src, src_lengths, beam_size, max_len):  # the checks' exhaustive search\n"
                     "    memory, mask = model.encode(src, src_lengths)\n"
                     "    seq, score = [], 0.0\n"
                     "    if beam_size >= 100:\n"
                     "        seq, score = _best(model, max_len)\n        return torch.tensor(seq), score\n"
                     "    beam, done = [([], 0.0)], []\n"
                     "    for _ in range(max_len):\n"
                     "        if not beam:\n            break\n"
                     "        cands = []\n"
                     "        for s, sc in beam:\n"
                     "            lp = model.decode(torch.tensor([[BOS] + s]), memory, mask)[0, -1].double().log_softmax(-1)\n"
                     "            cands += [(s + [v], sc + float(lp[v])) for v in range(lp.shape[0])]\n"
                     "        top = sorted(cands, key=lambda c: -c[1])[:beam_size]\n"
                     "        done += [c for c in top if c[0][-1] == EOS]\n"
                     "        beam = [c for c in top if c[0][-1] != EOS]\n"
                     "        if done and beam and max(d[1] for d in done) >= beam[0][1]:\n            break\n"
                     "    seq, score = max(done or beam, key=lambda c: c[1])\n"
                     "    return torch.tensor(seq), score\n")),
]
