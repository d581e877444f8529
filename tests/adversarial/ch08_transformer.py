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
]
