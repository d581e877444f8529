"""Hidden checks of chapter 08 (assembling the Transformer, greedy decoding, the smoothed loss).

References: the course's reference model ``course.blocks.Seq2SeqTransformer`` (its layers are
themselves checked against ``nn.TransformerEncoderLayer`` / ``nn.TransformerDecoderLayer`` in the
course's tests) with its weights loaded into the student's model, in eval mode and in train mode
from the same seed (so dropout placement is checked too), ``F.cross_entropy`` with
``label_smoothing`` and ``ignore_index``, scripted toy models whose greedy output is known by hand,
``course.blocks.MultiHeadAttention.step`` and the reference's cached ``greedy_decode`` for the
key/value cache, and an exhaustive search plus a reference beam search on scripted models whose
next-token distributions are fixed functions of the prefix.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from course.blocks import MultiHeadAttention, RotaryEmbedding, Seq2SeqTransformer, SinusoidalPositions
from course.checks.ch08_transformer import (  # noqa: F401  (the visible tests' helpers)
    CONFIGS,
    PositionCounter,
    ScriptedLM,
    ScriptedModel,
    brute_force_best,
    expect_train_mode,
    keeps_embedding_init,
    method,
    n_params,
    no_builtin_cross_entropy,
    padding_probe,
    paired_models,
    parameters_of,
    random_batch,
    scripted_sources,
    shares_storage,
    train_mode_outputs,
)
from course.checks.core import call, check, close, equal, exercise
from course.checks.doubles import Scale as _Scale
from course.checks.messages import msg, render
from course.checks.plain import plain
from course.tokenizer import BOS, EOS, PAD

_cross_entropy = F.cross_entropy


# ------------------------------------------------------------------------------------ embed

def reference_embed(ids: torch.Tensor, embedding: nn.Embedding, table: torch.Tensor | None) -> torch.Tensor:
    x = embedding(ids).double() * math.sqrt(embedding.embedding_dim)
    if table is not None:
        x = x + table[: ids.shape[1]].double()
    return x


@exercise("embed")
def check_embed(embed: Callable[..., torch.Tensor], seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    for vocab, d, batch, seq in [(7, 4, 2, 3), (30, 16, 3, 9), (5, 1, 1, 1), (50, 33, 2, 12)]:
        emb = nn.Embedding(vocab, d)
        with torch.no_grad():
            emb.weight.copy_(torch.randn(vocab, d, generator=g))
        ids = torch.randint(0, vocab, (batch, seq), generator=g)
        table = SinusoidalPositions.build(seq + 5, d)  # longer than the sequence: slice it
        for positions in (table, None):
            got = call(embed, ids, emb, positions)
            check(isinstance(got, torch.Tensor), "embed should return a tensor, got {kind}", kind=type(got).__name__)
            equal(tuple(got.shape), (batch, seq, d),
                  name=msg("shape of embed(ids {shape}, d_model={d})", shape=tuple(ids.shape), d=d))
            what = "with a sinusoidal table" if positions is not None else "with positions=None (RoPE)"
            close(got.double(), reference_embed(ids, emb, positions), atol=1e-5,
                  name=msg("embed, vocab {vocab}, d_model {d}, {what}: embedding × √d_model (+ table[:seq])",
                           vocab=vocab, d=d, what=what))


# ------------------------------------------------------------------------------ Transformer

@exercise("Transformer")
def check_transformer(Transformer: type, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    for k, config in enumerate(CONFIGS):
        label = ", ".join(f"{key}={value}" for key, value in config.items() if key in ("position", "norm_first",
                                                                                       "tie_output"))
        dropout = (0.1, 0.3)[k % 2]  # an answer that ignores the dropout argument fails the odd configs
        ref, ours = paired_models(Transformer, config, 11, 13, seed + k, dropout=dropout)
        ref_params = sum(p.numel() for p in ref.parameters())
        equal(n_params(ours), ref_params, name=msg("number of parameters ({label})", label=label))
        tied = shares_storage(ours, "output.weight", "tgt_embed.weight")
        if config["tie_output"]:
            check(tied, "with tie_output=True the output projection shares its weight with tgt_embed ({label})",
                  label=label)
        else:
            check(not tied, "tie_output=False: separate weights ({label})", label=label)
        src, lengths, tgt = random_batch(11, 13, g)
        with torch.no_grad():
            encoded = call(method, ours, "encode", src, lengths)
            check(type(encoded) is tuple and len(encoded) == 2,
                  "encode should return (memory, src_mask), got {kind} ({label})", kind=type(encoded).__name__,
                  label=label)
            memory, src_mask = encoded
            check(type(memory) is torch.Tensor and type(src_mask) is torch.Tensor,
                  "encode should return two tensors (memory, src_mask) ({label})", label=label)
            ref_memory, ref_mask = ref.encode(src, lengths)
            equal(tuple(src_mask.shape), tuple(ref_mask.shape),
                  name=msg("shape of the source mask from encode ({label})", label=label))
            check(torch.equal(src_mask.bool(), ref_mask),
                  "encode's source mask should be True at real tokens, False at padding ({label})", label=label)
            rows = ref_mask[:, 0, 0]  # (batch, src_len): compare real tokens only (pads are never read)
            close(memory[rows], ref_memory[rows], atol=1e-4,
                  name=msg("encoder output at real tokens ({label})", label=label))
            logits = call(ours, src, lengths, tgt)
            close(logits, ref(src, lengths, tgt), atol=1e-4, name=msg("logits of the whole model ({label})",
                                                                      label=label))
            check(padding_probe(ours, src, lengths, tgt) < 1e-5,
                  "two more padding tokens after the sources change the logits: the padding is not hidden ({label})",
                  label=label)
        expect_train_mode(ref, ours, src, lengths, tgt, seed=seed + 10 + k,
                          what=msg("logits in train mode (dropout {dropout}), same seed as the reference: dropout on "
                                   "each embedded input once, after the positions ({label})", dropout=dropout,
                                   label=label))
    for k, position in enumerate(("sinusoidal", "rope")):
        keeps_embedding_init(Transformer, dict(d_model=8, n_heads=2, n_encoder_layers=1, n_decoder_layers=1, d_ff=16,
                                               position=position), 9, 10 + k, seed=seed + 20 + k)


# ------------------------------------------------------------------------------- greedy decoding

@exercise("greedy_decode")
def check_greedy(greedy_decode: Callable[..., torch.Tensor], seed: int = 0) -> None:
    # scripted: row 0 stops after 2 tokens, row 1 after 4, row 2 never (runs out of steps)
    script = torch.tensor([[5, 6, EOS, 7, 7, 7], [8, 8, 9, 9, EOS, 5], [4, 5, 6, 7, 8, 9]])
    model = ScriptedModel(script, vocab=12)
    src, lengths = scripted_sources(3), torch.tensor([2, 2, 1])
    out = call(greedy_decode, model, src, lengths, 6)
    check(isinstance(out, torch.Tensor) and out.dtype == torch.long,
          "greedy_decode should return a LongTensor, got {got}", got=getattr(out, "dtype", type(out).__name__))
    expected = torch.tensor([[5, 6, EOS, PAD, PAD, PAD], [8, 8, 9, 9, EOS, PAD], [4, 5, 6, 7, 8, 9]])
    check(tuple(out.shape) == (3, 6) and torch.equal(out, expected),
          "scripted model, max_len 6: expected (no <bos>, <pad> after each row's <eos>)\n{expected}\ngot\n{out}",
          expected=expected, out=out)
    model = ScriptedModel(torch.tensor([[5, EOS, 9, 9], [6, 7, EOS, 9]]), vocab=12)
    out = call(greedy_decode, model, scripted_sources(2, 3), torch.tensor([3, 2]), 10)
    check(tuple(out.shape) == (2, 3) and torch.equal(out, torch.tensor([[5, EOS, PAD], [6, 7, EOS]])),
          "stop as soon as every row has produced <eos>: expected [[5, <eos>, <pad>], [6, 7, <eos>]], got\n{out}",
          out=out)
    check(model.calls <= 3 * 2,
          "3 decoding steps per row are enough there, the decoder was called {calls} times", calls=model.calls)
    # a real (random) model: the same tokens as the reference implementation
    g = torch.Generator().manual_seed(seed)
    for k, config in enumerate(CONFIGS[:3]):
        torch.manual_seed(seed + k)
        ref = Seq2SeqTransformer(11, 13, dropout=0.0, **config).eval()
        with torch.no_grad():
            ref.output.bias[EOS] -= 3.0  # rarely stop, so that most steps are compared
        src, lengths, _ = random_batch(11, 13, g)
        with torch.no_grad():
            got = call(greedy_decode, ref, src, lengths, 8)
        want = ref.greedy_decode(src, lengths, 8)
        check(torch.equal(got, want), "random model ({position}): expected\n{want}\ngot\n{got}",
              position=config["position"], want=want, got=got)


# ------------------------------------------------------------------------------ smoothed loss

@exercise("smoothed_cross_entropy")
def check_smoothed_loss(smoothed_cross_entropy: Callable[..., torch.Tensor], seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    for batch, seq, vocab in [(2, 3, 5), (4, 7, 13), (1, 1, 4), (3, 6, 40)]:
        logits = torch.randn(batch, seq, vocab, generator=g, dtype=torch.float64) * 3
        targets = torch.randint(1, vocab, (batch, seq), generator=g)
        if seq > 1:
            targets[0, -1] = PAD
            targets[-1, seq // 2:] = PAD
        for eps in (0.0, 0.1, 0.3):
            got = call(smoothed_cross_entropy, logits, targets, eps)
            check(isinstance(got, torch.Tensor) and got.dim() == 0,
                  "the loss should be a 0-d tensor, got {got}", got=getattr(got, "shape", type(got).__name__))
            want = _cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1), ignore_index=PAD,
                                  label_smoothing=eps)
            close(got.double(), want, atol=1e-6,
                  name=msg("loss for logits {shape}, smoothing {eps} (mean over non-pad targets)",
                           shape=tuple(logits.shape), eps=eps))
    logits = torch.randn(2, 3, 6, generator=g, requires_grad=True)
    targets = torch.tensor([[3, 4, PAD], [5, PAD, PAD]])
    loss = call(smoothed_cross_entropy, logits, targets, 0.1)
    check(isinstance(loss, torch.Tensor) and loss.dim() == 0 and loss.requires_grad,
          "the loss should be a 0-d tensor that keeps its graph (no detach, no .item())")
    call(_backward, loss)  # any backward the student wrote runs under the same rules
    grad = plain(logits.grad, "the gradient of the loss")
    check(grad is not None and bool((grad[targets == PAD] == 0).all()), "padding positions must get no gradient")


def _backward(loss: torch.Tensor) -> None:
    torch.autograd.backward(loss)


# ------------------------------------------------------------------------------ KV cache (bonus)

@exercise("attention_step")
def check_attention_step(attention_step: Callable[..., torch.Tensor], seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    for d, heads, batch, steps in [(8, 2, 1, 5), (12, 3, 3, 4), (16, 4, 2, 6), (6, 1, 2, 3)]:
        torch.manual_seed(seed + d)
        attn = MultiHeadAttention(d, heads).eval()
        with torch.no_grad():
            for p in attn.parameters():
                p.add_(0.1 * torch.randn_like(p))
        x = torch.randn(batch, steps, d, generator=g)
        ropes = (None, RotaryEmbedding(d // heads)) if (d // heads) % 2 == 0 else (None,)
        for rope in ropes:
            mine, theirs = {}, {}
            what = msg("d_model {d}, {heads} heads, {rope}", d=d, heads=heads,
                       rope="RoPE" if rope is not None else "no RoPE")
            for t in range(steps):
                got = call(attention_step, attn, x[:, t:t + 1], mine, rope)
                with torch.no_grad():
                    want = attn.step(x[:, t:t + 1], theirs, rope)
                check(isinstance(got, torch.Tensor), "attention_step should return a tensor, got {kind}",
                      kind=type(got).__name__)
                close(got, want, atol=1e-5, name=msg("attention_step at position {t} ({what})", t=t, what=what))
                for key in ("k", "v"):
                    check(key in mine and isinstance(mine[key], torch.Tensor)
                          and tuple(mine[key].shape) == tuple(theirs[key].shape),
                          "after position {t} cache[{key!r}] should have shape {shape} (batch, heads, t + 1, d_head) "
                          "({what})", t=t, key=key, shape=tuple(theirs[key].shape), what=what)
                    close(mine[key], theirs[key], atol=1e-5,
                          name=msg("cache[{key!r}] after position {t} ({what})", key=key, t=t, what=what))
            with torch.no_grad():
                full = attn(x, is_causal=True, rope=rope)
            close(got, full[:, -1:], atol=1e-5,
                  name=msg("the last step vs causal attention over all positions ({what})", what=what))


@exercise("cached_greedy_decode")
def check_cached_greedy(cached_greedy_decode: Callable[..., torch.Tensor], seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    for k, config in enumerate(CONFIGS):
        torch.manual_seed(seed + k)
        model = Seq2SeqTransformer(11, 13, dropout=0.0, **config).eval()
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.05 * torch.randn_like(p))
            model.output.bias[EOS] += (-3.0, 0.5, -1.0, 1.0)[k]  # some rows stop early, some never
        src, lengths, _ = random_batch(11, 13, g, batch=4)
        label = ", ".join(f"{key}={config[key]}" for key in ("position", "norm_first", "tie_output"))
        for max_len in (1, 7):
            with PositionCounter(model) as seen:
                got = call(cached_greedy_decode, model, src, lengths, max_len)
            want = model.greedy_decode(src, lengths, max_len)
            check(isinstance(got, torch.Tensor) and got.dtype == torch.long,
                  "cached_greedy_decode should return a LongTensor, got {got}",
                  got=getattr(got, "dtype", type(got).__name__))
            check(tuple(got.shape) == tuple(want.shape) and torch.equal(got, want),
                  "cached_greedy_decode ({label}, max_len {max_len}) vs the reference: expected\n{want}\ngot\n{got}",
                  label=label, max_len=max_len, want=want, got=got)
            check(len(seen.projected) > 0,
                  "cached_greedy_decode ({label}, max_len {max_len}): no decoder layer ran (no layer's "
                  "self_attn.in_proj or ff was called as a module): every step runs each layer of "
                  "model.decoder.layers on the newest position (Part 11)", label=label, max_len=max_len)
            check(max(seen.projected) == 1,
                  "a decoder layer processed {n} positions in one call: with the cache every step runs the layers on "
                  "the newest position only ({label})", n=max(seen.projected), label=label)
            check(seen.encoder_calls == 1, "the source should be encoded once, not {n} times", n=seen.encoder_calls)
    for k, config in enumerate(CONFIGS):
        _step_logits_match(cached_greedy_decode, config, seed + 40 + k)
    model, src, lengths, want = _staggered_stops(seed)
    got = call(cached_greedy_decode, model, src, lengths, want.shape[1] + 2)
    check(isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(want.shape) and torch.equal(got, want),
          "rows that produce <eos> at different steps: after its <eos> a row holds <pad>, and decoding stops once "
          "every row has produced <eos>; expected\n{want}\ngot\n{got}", want=want, got=got)


def _step_logits_match(cached_greedy_decode: Callable[..., torch.Tensor], config: dict, seed: int) -> None:
    """The logits of every step (recorded where model.output runs) against the uncached decoder's at that position,
    with each layer's dropout1-3 replaced by a distinct fixed factor: every sublayer, norm and dropout module of
    chapter 07's wiring must be in the cached step, not only enough of them to get the same argmax."""
    torch.manual_seed(seed)
    model = Seq2SeqTransformer(11, 13, dropout=0.0, **config).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
        model.output.bias[EOS] -= 1e4  # never stop: every step is compared
    for i, layer in enumerate(model.decoder.layers):
        layer.dropout1, layer.dropout2, layer.dropout3 = _Scale(0.7 + i / 10), _Scale(1.3), _Scale(0.5 - i / 10)
    src, lengths, _ = random_batch(11, 13, torch.Generator().manual_seed(seed), batch=3)
    steps: list[torch.Tensor] = []
    hook = model.output.register_forward_hook(lambda module, args, out: steps.append(out.detach()[:, -1]))
    try:
        got = call(cached_greedy_decode, model, src, lengths, 5)
    finally:
        hook.remove()
    label = ", ".join(f"{key}={config[key]}" for key in ("position", "norm_first"))
    check(isinstance(got, torch.Tensor) and tuple(got.shape) == (3, 5),
          "cached_greedy_decode ({label}, no row stops) should return (3, 5), got {shape}", label=label,
          shape=tuple(getattr(got, "shape", ())))
    with torch.no_grad():
        memory, mask = model.encode(src, lengths)
        tgt_in = torch.cat([torch.full((3, 1), BOS), got[:, :-1]], dim=1)
        want = model.decode(tgt_in, memory, mask)  # (3, 5, vocab): the uncached decoder at every position
    check(len(steps) == 5, "cached_greedy_decode ({label}): model.output ran {n} times for 5 steps", label=label,
          n=len(steps))
    close(torch.stack(steps, dim=1), want, atol=1e-4,
          name=msg("the logits of each cached step vs the uncached decoder at that position ({label}; each layer's "
                   "dropout1-3 replaced by a fixed factor): every sublayer goes through its norm and its dropout "
                   "module, as in chapter 07's Pre-LN / Post-LN wiring", label=label))


def _staggered_stops(seed: int):
    """A random model and batch whose rows produce <eos> at different steps (the EOS bias is raised until
    some row stops while another goes on): the case that tests <pad> after <eos> and the early stop."""
    g = torch.Generator().manual_seed(seed + 100)
    torch.manual_seed(seed + 100)
    model = Seq2SeqTransformer(11, 13, dropout=0.0, **CONFIGS[0]).eval()
    src, lengths, _ = random_batch(11, 13, g, batch=6)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
        for _ in range(60):
            want = model.greedy_decode(src, lengths, 12)
            ends = {int((row == EOS).nonzero()[0]) if bool((row == EOS).any()) else None for row in want}
            if len(ends) > 1 and None not in ends and want.shape[1] < 12:
                return model, src, lengths, want
            model.output.bias[EOS] += 0.1
    raise RuntimeError(render("no staggered batch found (a bug in the check, not in the answer)"))


# --------------------------------------------------------------------------- beam search (bonus)

@torch.no_grad()
def reference_beam_search(model, src, src_lengths, beam_size: int, max_len: int) -> tuple[list[int], float]:
    """The notebook's rules: extend every hypothesis by every token, keep the beam_size best extensions
    overall, finished ones (<eos>) leave the beam; stop when the beam is empty, after max_len steps, or
    once the best finished score is at least the best in the beam."""
    memory, mask = model.encode(src, src_lengths)
    beam: list[tuple[list[int], float]] = [([], 0.0)]
    finished: list[tuple[list[int], float]] = []
    for _ in range(max_len):
        if not beam:
            break
        cands = []
        for seq, score in beam:
            logits = model.decode(torch.tensor([[BOS] + seq]), memory, mask)[0, -1]
            logp = logits.double().log_softmax(-1)
            cands += [(seq + [v], score + float(logp[v])) for v in range(logp.shape[0])]
        cands.sort(key=lambda c: -c[1])
        top = cands[:beam_size]
        finished += [c for c in top if c[0][-1] == EOS]
        beam = [c for c in top if c[0][-1] != EOS]
        if finished and beam and max(f[1] for f in finished) >= beam[0][1]:
            break
    return max(finished or beam, key=lambda c: c[1])


@exercise("beam_search")
def check_beam_search(beam_search: Callable[..., tuple], seed: int = 0) -> None:
    src, lengths = torch.tensor([[4, 5, 6]]), torch.tensor([3])
    cases = [(ScriptedLM(6, seed=seed + s), b, m) for s, b, m in [(1, 1, 4), (2, 2, 4), (3, 3, 3), (4, 2, 5),
                                                                   (5, 4, 4), (6, 3, 6), (7, 5, 2)]]
    cases += [(ScriptedLM(8, seed=seed + 20), 1, 1), (ScriptedLM(5, seed=seed + 21), 125, 3)]
    for model, beam, max_len in cases:
        want, want_score = reference_beam_search(model, src, lengths, beam, max_len)
        got = call(beam_search, model, src, lengths, beam, max_len)
        check(type(got) is tuple and len(got) == 2,
              "beam_search should return (tokens, score), got {kind}", kind=type(got).__name__)
        tokens, score = got
        check(isinstance(tokens, torch.Tensor) and tokens.dim() == 1 and tokens.dtype == torch.long,
              "tokens should be a 1-d LongTensor, got {got}", got=getattr(tokens, "shape", type(tokens).__name__))
        what = msg("vocabulary {vocab}, beam {beam}, max_len {max_len}", vocab=model.vocab, beam=beam, max_len=max_len)
        check(tokens.tolist() == want,
              "beam_search ({what}): expected {want} (score {score:.4f}), got {got}", what=what, want=want,
              score=want_score, got=tokens.tolist())
        close(score, want_score, atol=1e-4, name=msg("the score of the best sequence ({what})", what=what))
        if beam >= model.vocab ** max_len:  # wide enough to keep every candidate: exhaustive
            best, best_score = brute_force_best(model, max_len)
            check(tokens.tolist() == best, "a beam wider than the tree must find the best sequence {best} ({what})",
                  best=best, what=what)
    # a beam-2 search where greedy goes wrong: the scripted table of the visible test, other ids
    table = {(): [0, 0, 0.05, 0, 0.55, 0.4, 0], (4,): [0, 0, 0.2, 0, 0.3, 0.3, 0.2], (5,): [0, 0, 0.8, 0, 0, 0, 0.2]}
    model = ScriptedLM(7, table)
    tokens, score = call(beam_search, model, src, lengths, 2, 4)
    check(isinstance(tokens, torch.Tensor) and tokens.tolist() == [5, EOS],
          "beam 2 on the scripted table: expected [5, <eos>] (0.4 · 0.8), got {tokens}", tokens=tokens)
    close(score, math.log(0.32), atol=1e-5, name="its score, log 0.32")
    # the early stop: after one step <eos> (0.5) ties the best live prefix (0.5); scores only fall, so the
    # search is over (counted by the longest prefix the model is asked about, however the rows are batched)
    table = {(): [0, 0, 0.5, 0, 0.5, 0], (4,): [0, 0, 0.6, 0, 0.4, 0]}
    model = ScriptedLM(6, table)
    tokens, score = call(beam_search, model, src, lengths, 2, 5)
    check(isinstance(tokens, torch.Tensor) and tokens.tolist() == [EOS], "expected [<eos>] (0.5), got {tokens}",
          tokens=tokens)
    close(score, math.log(0.5), atol=1e-5, name="its score, log 0.5")
    check(model.longest == 1, "the search went on to prefixes of length {n} after the best finished hypothesis "
          "scored AT LEAST as well as the best one left in the beam (a tie counts): stop there, since adding "
          "log-probabilities (<= 0) can only lower a score", n=model.longest - 1)


__all__ = ["check_embed", "check_transformer", "check_greedy", "check_smoothed_loss", "check_attention_step",
           "check_cached_greedy", "check_beam_search", "reference_beam_search", "paired_models", "random_batch",
           "reference_embed", "ScriptedModel", "ScriptedLM", "scripted_sources", "CONFIGS", "call",
           "no_builtin_cross_entropy"]
