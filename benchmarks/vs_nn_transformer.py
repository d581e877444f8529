"""Training-step time of the course's Seq2SeqTransformer against torch.nn.Transformer, same sizes.

    .venv/bin/python benchmarks/vs_nn_transformer.py                 # ModelConfig's sizes (d_model 128), 2 threads
    .venv/bin/python benchmarks/vs_nn_transformer.py --d-model 256 --threads 2 --repeats 15

The model flags are the trainer's (``python -m course.train``: ``--d-model``, ``--n-heads``, ``--layers`` ...).

Both models get the same embeddings (× √d_model), sinusoidal positions and output layer, are
checked to compute the same logits with the same weights, and then take full steps (forward,
backward, AdamW) on the same zh batches. Repeats alternate between the two models so that
background load hits both alike; the report is the median of the per-pair time ratios. On a
busy machine, OMP_WAIT_POLICY=PASSIVE steadies the numbers (see capstone_cpu.py).
"""

from __future__ import annotations

import argparse
import math
import statistics
import warnings

import torch
from torch import nn

from course.benchmarking import median_seconds
from course.blocks import ModelConfig, Seq2SeqTransformer, SinusoidalPositions, padding_mask
from course.tasks import Task
from course.tokenizer import BOS, EOS, PAD
from course.train import add_model_flags, model_config


class TorchSeq2Seq(nn.Module):
    """nn.Transformer with the course model's embeddings, positions and output projection.

    The constructor is the course model's (``src_vocab, tgt_vocab`` and ModelConfig's fields), so
    ``training.train_model(config, model_class=TorchSeq2Seq)`` trains it with the course's very loop,
    data and evaluation. Its weights start as PyTorch's own (``nn.Transformer`` re-initialises every
    matrix of its layers with Xavier-uniform) except for the one line a user would copy from the
    course: embeddings drawn with std 1/√d_model, then × √d_model. :meth:`from_course` copies a course
    model's weights instead (same function, for the timing and the logits check).
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, config: ModelConfig | None = None, **changes):
        super().__init__()
        c = (config or ModelConfig()).replace(**changes).validate()
        if c.position != "sinusoidal" or c.tie_output:
            raise ValueError("TorchSeq2Seq mirrors the sinusoidal, untied course model only")
        self.config, self.d_model = c, c.d_model
        self.src_embed, self.tgt_embed = nn.Embedding(src_vocab, c.d_model), nn.Embedding(tgt_vocab, c.d_model)
        for emb in (self.src_embed, self.tgt_embed):  # the one line copied from the course
            nn.init.normal_(emb.weight, std=c.d_model ** -0.5)
        self.positions = SinusoidalPositions(c.d_model)
        self.embed_dropout = nn.Dropout(c.dropout)
        with warnings.catch_warnings():  # "enable_nested_tensor is True, but ... norm_first was True"
            warnings.simplefilter("ignore", UserWarning)
            self.transformer = nn.Transformer(c.d_model, c.n_heads, c.n_encoder_layers, c.n_decoder_layers, c.d_ff,
                                              c.dropout, batch_first=True, norm_first=c.norm_first)
        self.output = nn.Linear(c.d_model, tgt_vocab)

    @classmethod
    def from_course(cls, ours: Seq2SeqTransformer) -> TorchSeq2Seq:
        """The same sizes with ``ours``' weights."""
        theirs = cls(ours.src_vocab, ours.tgt_vocab, ours.config)
        state = {}
        for key, value in ours.state_dict().items():
            key = key.replace("in_proj.weight", "in_proj_weight").replace("in_proj.bias", "in_proj_bias")
            key = key.replace("ff.linear", "linear").replace("cross_attn.", "multihead_attn.")
            if key.startswith(("encoder.", "decoder.")):
                key = "transformer." + key
            state[key] = value
        theirs.load_state_dict(state)
        return theirs

    def _embed(self, emb: nn.Embedding, ids: torch.Tensor) -> torch.Tensor:
        return self.embed_dropout(self.positions(emb(ids) * math.sqrt(self.d_model)))

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pad = ~padding_mask(src_lengths.to(src.device), src.shape[1])[:, 0, 0]  # torch's convention: True = ignore
        return self.transformer.encoder(self._embed(self.src_embed, src), src_key_padding_mask=pad), pad

    def decode(self, tgt_in: torch.Tensor, memory: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        causal = nn.Transformer.generate_square_subsequent_mask(tgt_in.shape[1], device=tgt_in.device)
        h = self.transformer.decoder(self._embed(self.tgt_embed, tgt_in), memory, tgt_mask=causal, tgt_is_causal=True,
                                     memory_key_padding_mask=pad)
        return self.output(h)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        return self.decode(tgt_in, *self.encode(src, src_lengths))

    @torch.no_grad()
    def greedy_decode(self, src: torch.Tensor, src_lengths: torch.Tensor, max_len: int) -> torch.Tensor:
        """Greedy decoding without a cache (the whole prefix again at each step): (batch, n ≤ max_len)."""
        memory, pad = self.encode(src, src_lengths)
        tokens = torch.full((src.shape[0], 1), BOS, dtype=torch.long, device=src.device)
        done = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        for _ in range(max_len):
            nxt = self.decode(tokens, memory, pad)[:, -1].argmax(-1).masked_fill(done, PAD)
            tokens = torch.cat([tokens, nxt[:, None]], dim=1)
            done |= nxt == EOS
            if bool(done.all()):
                break
        return tokens[:, 1:]


def step_fn(model: nn.Module, batches: list, lr: float = 1e-3, bf16_cuda: bool = False):
    """One training step per call (forward, backward, AdamW), cycling through ``batches``.

    ``bf16_cuda``: the forward under bf16 autocast and a fused AdamW, as the course trains on a GPU.
    """
    opt = torch.optim.AdamW(model.parameters(), lr=lr, fused=True if bf16_cuda else None)
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD)
    state = {"i": 0}

    def step() -> None:
        b = batches[state["i"] % len(batches)]
        state["i"] += 1
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16_cuda):
            logits = model(b.src, b.src_lengths, b.tgt_in)
        loss = loss_fn(logits.float().flatten(0, 1), b.tgt_out.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def timed(fn, n: int, sync=None) -> float:
    """Seconds per call of ``fn`` over one block of ``n`` calls (``sync``: wait for the GPU at both ends)."""
    return median_seconds(lambda: [fn() for _ in range(n)], warmup=0, repeats=1, sync=sync) / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_flags(parser, defaults="ModelConfig's, without dropout")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=11, help="timed pairs (each pair: ours, then torch's)")
    parser.add_argument("--steps", type=int, default=5, help="training steps per timed block")
    args = parser.parse_args(argv)
    config = model_config(args, parser, ModelConfig(dropout=0.0))
    if config.position != "sinusoidal" or config.tie_output:
        parser.error("nn.Transformer is compared with the sinusoidal, untied model only")
    torch.set_num_threads(args.threads)
    task = Task("zh", test_size=10)
    g = torch.Generator().manual_seed(0)
    batches = [task.sample_batch(args.batch_size, g) for _ in range(8)]
    torch.manual_seed(0)
    ours = Seq2SeqTransformer(len(task.source_tokenizer), len(task.target_tokenizer), config)
    theirs = TorchSeq2Seq.from_course(ours)
    b = batches[0]
    with torch.no_grad():
        diff = (ours.eval()(b.src, b.src_lengths, b.tgt_in) - theirs.eval()(b.src, b.src_lengths, b.tgt_in)).abs().max()
    if diff > 1e-4:
        raise SystemExit(f"the two models disagree (max |Δlogit| = {diff:.2e}); timing them would mean nothing")
    ours.train(), theirs.train()
    ours_step, theirs_step = step_fn(ours, batches), step_fn(theirs, batches)
    for fn in (ours_step, theirs_step):  # warm-up
        timed(fn, 3)
    ratios, t_ours, t_theirs = [], [], []
    for _ in range(args.repeats):
        a, c = timed(ours_step, args.steps), timed(theirs_step, args.steps)
        t_ours.append(a), t_theirs.append(c), ratios.append(a / c)
    m = config
    print(f"sizes: d_model {m.d_model}, heads {m.n_heads}, {m.n_encoder_layers}+{m.n_decoder_layers} layers, "
          f"d_ff {m.d_ff}, {'Pre' if m.norm_first else 'Post'}-LN, batch {args.batch_size}, dropout {m.dropout}; "
          f"{args.threads} threads; same logits (max diff {diff:.1e})")
    print(f"Seq2SeqTransformer step: median {1000 * statistics.median(t_ours):.1f} ms")
    print(f"nn.Transformer     step: median {1000 * statistics.median(t_theirs):.1f} ms")
    print(f"ratio ours/torch: median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f}, "
          f"{args.repeats} interleaved pairs of {args.steps} steps)  target <= 1.10")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
