"""Chapter 08: three correct answers per answer cell, written differently from the instructor's (F.embedding,
loops, one-hot sums, other stopping rules) and never with F.cross_entropy / nll_loss or the course's
Seq2SeqTransformer, which score zero by design. The course's Encoder, Decoder, padding_mask and positions are
given in this chapter and used as given."""

ASSIGNMENT = "08-transformer"


def _transformer(tie: str, encode: str, decode: str, forward: str) -> str:
    return (
        "class Transformer(nn.Module):\n"
        "    def __init__(self, src_vocab, tgt_vocab, d_model=128, n_heads=4, n_encoder_layers=2, n_decoder_layers=2,\n"
        "                 d_ff=512, dropout=0.1, norm_first=True, position=\"sinusoidal\", tie_output=False):\n"
        "        super().__init__()\n"
        "        if position not in (\"sinusoidal\", \"rope\"):\n"
        "            raise ValueError(f\"position must be 'sinusoidal' or 'rope', got {position!r}\")\n"
        "        self.d_model = d_model\n"
        "        self.src_embed = nn.Embedding(src_vocab, d_model)\n"
        "        self.tgt_embed = nn.Embedding(tgt_vocab, d_model)\n"
        "        for table in (self.src_embed, self.tgt_embed):\n"
        "            nn.init.normal_(table.weight, std=d_model ** -0.5)\n"
        "        pe = SinusoidalPositions.build(256, d_model) if position == \"sinusoidal\" else None\n"
        "        self.register_buffer(\"pe\", pe, persistent=False)\n"
        "        self.rope = RotaryEmbedding(d_model // n_heads) if position == \"rope\" else None\n"
        "        self.embed_dropout = nn.Dropout(dropout)\n"
        "        self.encoder = Encoder(n_encoder_layers, d_model, n_heads, d_ff, dropout, norm_first)\n"
        "        self.decoder = Decoder(n_decoder_layers, d_model, n_heads, d_ff, dropout, norm_first)\n"
        "        self.output = nn.Linear(d_model, tgt_vocab)\n"
        + tie + "\n" + encode + "\n" + decode + "\n" + forward + "\n"
        "    def greedy_decode(self, src, src_lengths, max_len):\n"
        "        \"\"\"Given: your greedy_decode from exercise 3, as a method (the course's evaluation calls it).\"\"\"\n"
        "        return greedy_decode(self, src, src_lengths, max_len)\n")


VARIANTS = {
    "embed": [
        "def embed(ids, embedding, positions=None):\n"
        "    d = embedding.weight.shape[1]\n    x = F.embedding(ids, embedding.weight) * d ** 0.5\n"
        "    if positions is None:\n        return x\n    return x + positions[: ids.shape[1]].unsqueeze(0)\n",
        "def embed(ids, embedding, positions=None):\n"
        "    scale = math.sqrt(embedding.embedding_dim)\n    out = embedding(ids).mul(scale)\n"
        "    if positions is not None:\n        out = out + positions.narrow(0, 0, ids.size(1))\n    return out\n",
        "def embed(ids, embedding, positions=None):\n"
        "    x = embedding.weight[ids] * math.sqrt(embedding.embedding_dim)\n"
        "    seq = ids.shape[-1]\n"
        "    return x if positions is None else torch.add(x, positions[:seq].expand_as(x))\n",
    ],
    "Transformer": [
        _transformer(
            "        if tie_output:\n            self.output.weight = self.tgt_embed.weight\n",
            "    def encode(self, src, src_lengths):\n"
            "        mask = padding_mask(src_lengths, src.shape[1])\n"
            "        h = self.embed_dropout(embed(src, self.src_embed, self.pe))\n"
            "        return self.encoder(h, mask, self.rope), mask\n",
            "    def decode(self, tgt_in, memory, src_mask):\n"
            "        h = self.embed_dropout(embed(tgt_in, self.tgt_embed, self.pe))\n"
            "        h = self.decoder(h, memory, src_mask, self.rope)\n        return self.output(h)\n",
            "    def forward(self, src, src_lengths, tgt_in):\n"
            "        return self.decode(tgt_in, *self.encode(src, src_lengths))\n"),
        _transformer(
            "        self.output.weight = self.tgt_embed.weight if tie_output else self.output.weight\n",
            "    def encode(self, src, src_lengths):\n"
            "        keep = torch.arange(src.shape[1], device=src.device)[None, :] < src_lengths.to(src.device)[:, None]\n"
            "        src_mask = keep[:, None, None, :]\n"
            "        x = embed(src, self.src_embed, self.pe)\n"
            "        memory = self.encoder(self.embed_dropout(x), src_mask, rope=self.rope)\n"
            "        return memory, src_mask\n",
            "    def decode(self, tgt_in, memory, src_mask):\n"
            "        y = self.embed_dropout(embed(tgt_in, self.tgt_embed, self.pe))\n"
            "        return self.output(self.decoder(y, memory, memory_mask=src_mask, rope=self.rope))\n",
            "    def forward(self, src, src_lengths, tgt_in):\n"
            "        memory, src_mask = self.encode(src, src_lengths)\n"
            "        logits = self.decode(tgt_in, memory, src_mask)\n        return logits\n"),
        _transformer(
            "        if tie_output:\n            del self.output.weight\n            self.output.weight = self.tgt_embed.weight\n",
            "    def _inputs(self, ids, table):\n        return self.embed_dropout(embed(ids, table, self.pe))\n\n"
            "    def encode(self, src, src_lengths):\n"
            "        src_mask = padding_mask(src_lengths.to(src.device), src.size(1))\n"
            "        return self.encoder(self._inputs(src, self.src_embed), src_mask, self.rope), src_mask\n",
            "    def decode(self, tgt_in, memory, src_mask):\n"
            "        hidden = self.decoder(self._inputs(tgt_in, self.tgt_embed), memory, src_mask, self.rope)\n"
            "        return hidden @ self.output.weight.T + self.output.bias\n",
            "    def forward(self, src, src_lengths, tgt_in):\n"
            "        encoded = self.encode(src, src_lengths)\n        return self.decode(tgt_in, encoded[0], encoded[1])\n"),
    ],
    "greedy_decode": [
        "@torch.no_grad()\n"
        "def greedy_decode(model, src, src_lengths, max_len):\n"
        "    memory, src_mask = model.encode(src, src_lengths)\n"
        "    batch = src.shape[0]\n    seq = [torch.full((batch,), BOS, dtype=torch.long, device=src.device)]\n"
        "    alive = torch.ones(batch, dtype=torch.bool, device=src.device)\n"
        "    for _ in range(max_len):\n"
        "        step = model.decode(torch.stack(seq, dim=1), memory, src_mask)[:, -1, :].argmax(-1)\n"
        "        step = torch.where(alive, step, torch.full_like(step, PAD))\n"
        "        seq.append(step)\n        alive = alive & (step != EOS)\n"
        "        if not bool(alive.any()):\n            break\n"
        "    return torch.stack(seq[1:], dim=1)\n",
        "@torch.no_grad()\n"
        "def greedy_decode(model, src, src_lengths, max_len):\n"
        "    memory, src_mask = model.encode(src, src_lengths)\n"
        "    out = torch.full((src.shape[0], max_len + 1), PAD, dtype=torch.long, device=src.device)\n"
        "    out[:, 0] = BOS\n    ended = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)\n"
        "    n = 0\n"
        "    while n < max_len and not bool(ended.all()):\n"
        "        logits = model.decode(out[:, : n + 1], memory, src_mask)\n"
        "        best = torch.max(logits[:, n], dim=-1).indices\n"
        "        out[:, n + 1] = best.masked_fill(ended, PAD)\n"
        "        ended |= best.eq(EOS)\n        n += 1\n"
        "    return out[:, 1: n + 1]\n",
        "@torch.no_grad()\n"
        "def greedy_decode(model, src, src_lengths, max_len):\n"
        "    memory, src_mask = model.encode(src, src_lengths)\n"
        "    tokens = torch.tensor([[BOS]] * src.shape[0], device=src.device)\n"
        "    for _ in range(max_len):\n"
        "        finished = (tokens[:, 1:] == EOS).any(dim=1)\n"
        "        if tokens.shape[1] > 1 and bool(finished.all()):\n            break\n"
        "        nxt = model.decode(tokens, memory, src_mask)[:, -1].argmax(dim=-1)\n"
        "        nxt[finished] = PAD\n"
        "        tokens = torch.cat((tokens, nxt.unsqueeze(1)), dim=1)\n"
        "    return tokens[:, 1:].long()\n",
    ],
    "smoothed_cross_entropy": [
        "def smoothed_cross_entropy(logits, targets, smoothing):\n"
        "    vocab = logits.shape[-1]\n"
        "    logp = logits - torch.logsumexp(logits, dim=-1, keepdim=True)\n"
        "    q = torch.full_like(logp, smoothing / vocab)\n"
        "    q = q + (1 - smoothing) * F.one_hot(targets, vocab).to(logp.dtype)\n"
        "    per_token = -(q * logp).sum(dim=-1)\n"
        "    keep = (targets != PAD).to(logp.dtype)\n"
        "    return (per_token * keep).sum() / keep.sum()\n",
        "def smoothed_cross_entropy(logits, targets, smoothing):\n"
        "    keep = targets != PAD\n"
        "    logp = F.log_softmax(logits[keep], dim=-1)  # (n, vocab): real targets only\n"
        "    picked = logp[torch.arange(logp.shape[0]), targets[keep]]\n"
        "    return -((1 - smoothing) * picked + smoothing * logp.mean(dim=-1)).mean()\n",
        "def smoothed_cross_entropy(logits, targets, smoothing):\n"
        "    shifted = logits - logits.max(dim=-1, keepdim=True).values.detach()\n"
        "    logp = shifted - shifted.exp().sum(dim=-1, keepdim=True).log()\n"
        "    nll = -torch.gather(logp, -1, targets[..., None])[..., 0]\n"
        "    smooth = -logp.sum(dim=-1) / logits.shape[-1]\n"
        "    loss = torch.lerp(nll, smooth, smoothing)\n"
        "    mask = targets.ne(PAD)\n"
        "    return loss.masked_select(mask).mean()\n",
    ],
}
