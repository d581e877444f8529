"""Chapter 08 (the Transformer, trained): graded cells reject the usual mistakes (unscaled or
over-scaled embeddings, positions scaled or shifted, no source mask, untied or wrongly tied weights,
RoPE not passed, memory from the wrong place, embedding dropout in the wrong place (train mode),
greedy decoding that keeps <bos>, never stops, does not pad finished rows or reads the wrong
position, a loss that counts padding or smooths over V−1 classes, a KV cache that forgets, rotates
at the wrong offset or recomputes the prefix, beam searches that do not add scores or keep finished
hypotheses) and accept correct answers written differently; the usual mistakes get the message
that names them; the demo helpers behave."""

from __future__ import annotations

import math
import operator

import pytest
import torch
import torch.nn.functional as F
from notebooks import assert_rejected, graded_cells, run_test_cell
from torch import nn

from course.blocks import Decoder, Encoder, RotaryEmbedding, SinusoidalPositions, padding_mask
from course.experiments import ch08_transformer as ex
from course.tasks import Task
from course.tokenizer import BOS, EOS, PAD
from course.widgets.ch08_transformer import LiveLossPlot

A = "08-transformer"


def test_graded_cells_and_points():
    points = {gid: c.metadata["nbgrader"]["points"] for gid, c in graded_cells(A).items()}
    assert points == {"embed_tests": 2, "Transformer_tests": 4, "greedy_decode_tests": 3,
                      "smoothed_cross_entropy_tests": 3, "attention_step_tests": 2, "cached_greedy_decode_tests": 3,
                      "beam_search_tests": 3}


# ------------------------------------------------------------------------------------ embed

def embed_good(ids, embedding, positions=None):
    x = embedding(ids) * math.sqrt(embedding.embedding_dim)
    return x if positions is None else x + positions[: ids.shape[1]]


@pytest.mark.parametrize("fn", [
    embed_good,
    lambda ids, emb, pos=None: (emb.weight[ids] * emb.weight.shape[1] ** 0.5
                                + (0 if pos is None else pos[: ids.shape[-1]].unsqueeze(0))),
    lambda ids, emb, pos=None: torch.einsum("bsv,vd->bsd", F.one_hot(ids, emb.num_embeddings).to(emb.weight.dtype),
                                            emb.weight) * math.sqrt(emb.embedding_dim)
    + (torch.zeros(()) if pos is None else pos.narrow(0, 0, ids.shape[1])),
])
def test_embed_accepts(fn):
    run_test_cell(A, "embed_tests", embed=fn)


EMBED_WRONG = [
    (lambda ids, emb, pos=None: emb(ids) + (0 if pos is None else pos[: ids.shape[1]]),
     "embed: the token embeddings are not scaled"),
    (lambda ids, emb, pos=None: emb(ids) * emb.embedding_dim + (0 if pos is None else pos[: ids.shape[1]]),
     "embed: you multiplied by d_model"),
    (lambda ids, emb, pos=None: (emb(ids) + (0 if pos is None else pos[: ids.shape[1]])) * math.sqrt(emb.embedding_dim),
     "embed: you scaled the positions too"),
    (lambda ids, emb, pos=None: emb(ids) * math.sqrt(emb.embedding_dim) + (0 if pos is None else pos[1: ids.shape[1] + 1]),
     "embed: the positions are shifted"),
    (lambda ids, emb, pos=None: emb(ids) / math.sqrt(emb.embedding_dim) + (0 if pos is None else pos[: ids.shape[1]]),
     "embed: you divided by √d_model"),
    (lambda ids, emb, pos=None: emb(ids) * math.sqrt(emb.embedding_dim), "embed: the positions were not added"),
    (lambda ids, emb, pos=None: emb(ids) * math.sqrt(emb.embedding_dim) + (0 if pos is None else pos[-ids.shape[1]:]),
     "embed of tokens 1, 2, 3"),  # the LAST rows of the table: caught by the value check
]


@pytest.mark.parametrize("wrong, message", EMBED_WRONG)
def test_embed_rejects_with_the_message_that_names_the_mistake(wrong, message):
    err = assert_rejected(A, "embed_tests", embed=wrong)
    assert message in str(err), str(err)


# ------------------------------------------------------------------------------ Transformer

class Good(nn.Module):
    """A correct model, written independently of the notebook's solution."""

    def __init__(self, src_vocab, tgt_vocab, d_model=128, n_heads=4, n_encoder_layers=2, n_decoder_layers=2,
                 d_ff=512, dropout=0.1, norm_first=True, position="sinusoidal", tie_output=False):
        super().__init__()
        self.d_model = d_model
        self.src_embed = nn.Embedding(src_vocab, d_model)
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model)
        self.register_buffer("pe", SinusoidalPositions.build(256, d_model) if position == "sinusoidal" else None,
                             persistent=False)
        self.rope = RotaryEmbedding(d_model // n_heads) if position == "rope" else None
        self.embed_dropout = nn.Dropout(dropout)
        self.encoder = Encoder(n_encoder_layers, d_model, n_heads, d_ff, dropout, norm_first)
        self.decoder = Decoder(n_decoder_layers, d_model, n_heads, d_ff, dropout, norm_first)
        self.output = nn.Linear(d_model, tgt_vocab)
        self.tie(tie_output)

    def tie(self, tie_output):
        if tie_output:
            self.output.weight = self.tgt_embed.weight

    def embed(self, table, ids):
        return self.embed_dropout(embed_good(ids, table, self.pe))

    def encode(self, src, src_lengths):
        mask = padding_mask(src_lengths, src.shape[1])
        return self.encoder(self.embed(self.src_embed, src), mask, self.rope), mask

    def decode(self, tgt_in, memory, src_mask):
        return self.output(self.decoder(self.embed(self.tgt_embed, tgt_in), memory, src_mask, self.rope))

    def forward(self, src, src_lengths, tgt_in):
        memory, mask = self.encode(src, src_lengths)
        return self.decode(tgt_in, memory, mask)


class GoodMaskByIds(Good):
    """Source mask from the ids (src != PAD) instead of the lengths: the same for right-padded rows."""

    def encode(self, src, src_lengths):
        mask = (src != PAD)[:, None, None, :]
        return self.encoder(self.embed(self.src_embed, src), mask, self.rope), mask


class TiedTheWrongWay(Good):
    """Issue 30: one Parameter, but the embedding takes the output layer's weight (nn.Linear's init, std
    1/sqrt(3 d_model)), so the embedding's starting scale (Parts 2 and 10) changes."""

    def tie(self, tie_output):
        if tie_output:
            self.tgt_embed.weight = self.output.weight


class NoTie(Good):
    def tie(self, tie_output):
        pass


class TieToSource(Good):
    def tie(self, tie_output):
        if tie_output:
            self.output.weight = self.src_embed.weight


class NoSourceMaskInEncoder(Good):
    def encode(self, src, src_lengths):
        mask = padding_mask(src_lengths, src.shape[1])
        return self.encoder(self.embed(self.src_embed, src), None, self.rope), mask


class NoMemoryMask(Good):
    def decode(self, tgt_in, memory, src_mask):
        return super().decode(tgt_in, memory, None)


class InvertedMask(Good):
    def encode(self, src, src_lengths):
        memory, mask = super().encode(src, src_lengths)
        return memory, ~mask


class RopeNotPassed(Good):
    def encode(self, src, src_lengths):
        mask = padding_mask(src_lengths, src.shape[1])
        return self.encoder(self.embed(self.src_embed, src), mask, None), mask

    def decode(self, tgt_in, memory, src_mask):
        return self.output(self.decoder(self.embed(self.tgt_embed, tgt_in), memory, src_mask, None))


class UnscaledEmbeddings(Good):
    def embed(self, table, ids):
        x = table(ids)
        return self.embed_dropout(x if self.pe is None else x + self.pe[: ids.shape[1]])


class MemoryIsEmbedding(Good):
    def encode(self, src, src_lengths):
        mask = padding_mask(src_lengths, src.shape[1])
        return self.embed(self.src_embed, src), mask


class SharedEmbedding(Good):
    """Embeds the target with the source table (a classic copy-paste slip)."""

    def decode(self, tgt_in, memory, src_mask):
        ids = tgt_in.clamp(max=self.src_embed.num_embeddings - 1)
        return self.output(self.decoder(self.embed(self.src_embed, ids), memory, src_mask, self.rope))


class NoOutputProjection(Good):
    def decode(self, tgt_in, memory, src_mask):
        h = self.decoder(self.embed(self.tgt_embed, tgt_in), memory, src_mask, self.rope)
        return h @ self.tgt_embed.weight.T


class DropoutBeforePositions(Good):
    """Dropout on the scaled token embedding, then the positions added: wrong only in train mode."""

    def embed(self, table, ids):
        x = self.embed_dropout(table(ids) * math.sqrt(self.d_model))
        return x if self.pe is None else x + self.pe[: ids.shape[1]]


class NoEmbeddingDropout(Good):
    def embed(self, table, ids):
        return embed_good(ids, table, self.pe)


class DropoutOnSourceOnly(Good):
    def decode(self, tgt_in, memory, src_mask):
        return self.output(self.decoder(embed_good(tgt_in, self.tgt_embed, self.pe), memory, src_mask, self.rope))


class DropoutTwice(Good):
    def embed(self, table, ids):
        return self.embed_dropout(super().embed(table, ids))


class DecodeBeforeEncode(Good):
    """Embeds (and drops out) the target before the source: the same in eval mode, another dropout stream."""

    def forward(self, src, src_lengths, tgt_in):
        y = self.embed(self.tgt_embed, tgt_in)
        memory, mask = self.encode(src, src_lengths)
        return self.output(self.decoder(y, memory, mask, self.rope))


class DropoutFixed(Good):
    """Drops out with probability 0.1 whatever dropout the model was built with."""

    def embed(self, table, ids):
        return torch.nn.functional.dropout(embed_good(ids, table, self.pe), 0.1, self.training)


class GoodParts(Good):
    """Correct, and takes the notebook's parts= argument too."""

    def __init__(self, *args, parts=None, **kwargs):
        super().__init__(*args, **kwargs)


@pytest.mark.parametrize("cls", [Good, GoodMaskByIds, GoodParts])
def test_transformer_accepts(cls):
    run_test_cell(A, "Transformer_tests", Transformer=cls)


PADDING = "Transformer: two more padding tokens after the sources changed the logits"
TRAIN_MODE = "logits in train mode (dropout on, same seed as the reference)"


@pytest.mark.parametrize("cls, message", [
    (NoTie, "output.weight should be the very Parameter tgt_embed.weight"),
    (TieToSource, "you tied the output to the SOURCE embedding"),
    (TiedTheWrongWay, "the embedding took the output layer's weight"),
    (NoSourceMaskInEncoder, PADDING), (NoMemoryMask, PADDING), (InvertedMask, PADDING),
    (RopeNotPassed, "your logits are those of a model with no positions at all"),
    (UnscaledEmbeddings, "logits vs the course's reference model"),
    (MemoryIsEmbedding, "logits vs the course's reference model"),
    (SharedEmbedding, "logits vs the course's reference model"),
    (NoOutputProjection, "logits vs the course's reference model"),
    (DropoutBeforePositions, TRAIN_MODE), (NoEmbeddingDropout, TRAIN_MODE), (DropoutOnSourceOnly, TRAIN_MODE),
    (DropoutTwice, TRAIN_MODE), (DecodeBeforeEncode, TRAIN_MODE),
    (DropoutFixed, "the dropout argument was ignored"),
])
def test_transformer_rejects_with_the_message_that_names_the_mistake(cls, message):
    err = assert_rejected(A, "Transformer_tests", Transformer=cls)
    assert message in str(err), str(err)


def test_transformer_uses_the_students_embed():
    """The notebook's Transformer calls the student's embed: a wrong embed fails the model's test too."""
    wrong = lambda ids, emb, pos=None: emb(ids) + (0 if pos is None else pos[: ids.shape[1]])  # noqa: E731
    assert_rejected(A, "Transformer_tests", embed=wrong)


# ------------------------------------------------------------------------------- greedy decoding

@torch.no_grad()
def greedy_good(model, src, src_lengths, max_len):
    memory, mask = model.encode(src, src_lengths)
    out = torch.full((src.shape[0], 1), BOS)
    for _ in range(max_len):
        nxt = model.decode(out, memory, mask)[:, -1].argmax(-1)
        ended = (out[:, 1:] == EOS).any(dim=1)
        nxt[ended] = PAD
        out = torch.cat([out, nxt[:, None]], 1)
        if ((out[:, 1:] == EOS).any(dim=1)).all():
            break
    return out[:, 1:]


@torch.no_grad()
def greedy_lists(model, src, src_lengths, max_len):
    """Row by row with Python lists, then padded; re-encodes each row (slower, same answer)."""
    rows = []
    for i in range(src.shape[0]):
        memory, mask = model.encode(src[i:i + 1], src_lengths[i:i + 1])
        seq = [BOS]
        while len(seq) <= max_len and seq[-1] != EOS:
            seq.append(int(model.decode(torch.tensor([seq]), memory, mask)[0, -1].argmax()))
        rows.append(seq[1:])
    width = max(len(r) for r in rows)
    return torch.tensor([r + [PAD] * (width - len(r)) for r in rows])


@torch.no_grad()
def greedy_no_early_stop_check(model, src, src_lengths, max_len):
    """Also correct: decides when to stop with a Python flag list."""
    memory, mask = model.encode(src, src_lengths)
    tokens = [[BOS] for _ in range(src.shape[0])]
    done = [False] * src.shape[0]
    for _ in range(max_len):
        logits = model.decode(torch.tensor(tokens), memory, mask)
        for i, t in enumerate(logits[:, -1].argmax(-1).tolist()):
            tokens[i].append(PAD if done[i] else t)
            done[i] = done[i] or t == EOS
        if all(done):
            break
    return torch.tensor(tokens)[:, 1:]


@pytest.mark.parametrize("fn", [greedy_good, greedy_lists, greedy_no_early_stop_check])
def test_greedy_accepts(fn):
    run_test_cell(A, "greedy_decode_tests", greedy_decode=fn)


def _keeps_bos(model, src, lengths, max_len):
    out = greedy_good(model, src, lengths, max_len)
    return torch.cat([torch.full((src.shape[0], 1), BOS), out], 1)


def _no_pad_after_eos(model, src, lengths, max_len):
    memory, mask = model.encode(src, lengths)
    out = torch.full((src.shape[0], 1), BOS)
    for _ in range(max_len):
        out = torch.cat([out, model.decode(out, memory, mask)[:, -1].argmax(-1)[:, None]], 1)
        if ((out == EOS).any(1)).all():
            break
    return out[:, 1:]


def _never_stops(model, src, lengths, max_len):
    memory, mask = model.encode(src, lengths)
    out = torch.full((src.shape[0], 1), BOS)
    for _ in range(max_len):
        nxt = model.decode(out, memory, mask)[:, -1].argmax(-1)
        nxt[(out[:, 1:] == EOS).any(1)] = PAD
        out = torch.cat([out, nxt[:, None]], 1)
    return out[:, 1:]


def _first_position(model, src, lengths, max_len):
    memory, mask = model.encode(src, lengths)
    out = torch.full((src.shape[0], 1), BOS)
    for _ in range(max_len):
        nxt = model.decode(out, memory, mask)[:, 0].argmax(-1)
        nxt[(out[:, 1:] == EOS).any(1)] = PAD
        out = torch.cat([out, nxt[:, None]], 1)
        if ((out[:, 1:] == EOS).any(1)).all():
            break
    return out[:, 1:]


def _one_step_too_many(model, src, lengths, max_len):
    return greedy_good(model, src, lengths, max_len + 1)


def _stops_at_first_eos_in_batch(model, src, lengths, max_len):
    memory, mask = model.encode(src, lengths)
    out = torch.full((src.shape[0], 1), BOS)
    for _ in range(max_len):
        nxt = model.decode(out, memory, mask)[:, -1].argmax(-1)
        out = torch.cat([out, nxt[:, None]], 1)
        if (nxt == EOS).any():
            break
    return out[:, 1:]


@pytest.mark.parametrize("wrong, message", [
    (_keeps_bos, "the output starts with <bos>"),
    (_no_pad_after_eos, "after a row's <eos> it gets <pad>"),
    (_never_stops, "stop as soon as every row has produced <eos>"),
    (_first_position, "(feed back the argmax)"),
    (_one_step_too_many, "max_len=4 allows at most 4 tokens; you produced one more"),
    (_stops_at_first_eos_in_batch, "scripted model, max_len 4"),
])
def test_greedy_rejects_with_the_message_that_names_the_mistake(wrong, message):
    err = assert_rejected(A, "greedy_decode_tests", greedy_decode=wrong)
    assert message in str(err), str(err)


# ------------------------------------------------------------------------------ smoothed loss

def loss_good(logits, targets, eps):
    logp = logits.log_softmax(-1)
    q = torch.full_like(logp, eps / logits.shape[-1]).scatter_add(
        -1, targets[..., None], torch.full_like(logp[..., :1], 1 - eps))
    per = -(q * logp).sum(-1)
    keep = (targets != PAD).to(per.dtype)
    return (per * keep).sum() / keep.sum()


def loss_loop(logits, targets, eps):
    total, count = 0.0, 0
    flat_l, flat_t = logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)
    for row, t in zip(flat_l, flat_t):
        if int(t) == PAD:
            continue
        logp = row - torch.logsumexp(row, 0)
        total = total + (1 - eps) * -logp[t] + eps * -logp.mean()
        count += 1
    return total / count


def loss_einsum(logits, targets, eps):
    logp = torch.log_softmax(logits, -1)
    onehot = F.one_hot(targets, logits.shape[-1]).to(logp.dtype)
    q = (1 - eps) * onehot + eps / logits.shape[-1]
    per = -torch.einsum("bsv,bsv->bs", q, logp)
    return per.masked_select(targets.ne(PAD)).mean()


@pytest.mark.parametrize("fn", [loss_good, loss_loop, loss_einsum])
def test_loss_accepts(fn):
    run_test_cell(A, "smoothed_cross_entropy_tests", smoothed_cross_entropy=fn)


def _loss_counts_padding(logits, targets, eps):
    logp = logits.log_softmax(-1)
    per = (1 - eps) * -logp.gather(-1, targets[..., None])[..., 0] + eps * -logp.mean(-1)
    return per.mean()


def _loss_v_minus_1(logits, targets, eps):
    logp = logits.log_softmax(-1)
    v = logits.shape[-1]
    q = torch.full_like(logp, eps / (v - 1)).scatter(-1, targets[..., None], 1 - eps)
    return (-(q * logp).sum(-1))[targets != PAD].mean()


def _loss_unsmoothed(logits, targets, eps):
    return -logits.log_softmax(-1).gather(-1, targets[..., None])[..., 0][targets != PAD].mean()


def _loss_sum(logits, targets, eps):
    logp = logits.log_softmax(-1)
    per = (1 - eps) * -logp.gather(-1, targets[..., None])[..., 0] + eps * -logp.mean(-1)
    return per[targets != PAD].sum()


def _loss_uses_builtin(logits, targets, eps):
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=PAD, label_smoothing=eps)


def _loss_smooths_probabilities(logits, targets, eps):
    """Smooths p instead of the target: -log((1-ε)p_y + ε/V)."""
    p = logits.softmax(-1)
    py = p.gather(-1, targets[..., None])[..., 0]
    return -torch.log((1 - eps) * py + eps / logits.shape[-1])[targets != PAD].mean()


def _loss_swapped(logits, targets, eps):
    return loss_good(logits, targets, 1 - eps)


@pytest.mark.parametrize("wrong, message", [
    (_loss_counts_padding, "the padding position was counted"),
    (_loss_v_minus_1, "ε/(V − 1) on the other classes is another smoothing"),
    (_loss_unsmoothed, "the result is unsmoothed cross-entropy"),
    (_loss_sum, "you summed over the positions"),
    (_loss_uses_builtin, "may not call"),
    (_loss_smooths_probabilities, "you smoothed p instead of the target q"),
    (_loss_swapped, "ε and 1 − ε are swapped"),
])
def test_loss_rejects_with_the_message_that_names_the_mistake(wrong, message):
    err = assert_rejected(A, "smoothed_cross_entropy_tests", smoothed_cross_entropy=wrong)
    assert message in str(err), str(err)


def test_builtin_loss_is_restored_after_the_check():
    with pytest.raises(AssertionError):
        run_test_cell(A, "smoothed_cross_entropy_tests", smoothed_cross_entropy=_loss_uses_builtin)
    assert F.cross_entropy(torch.zeros(1, 2), torch.tensor([1])).item() == pytest.approx(math.log(2))


# ------------------------------------------------------------------------------ KV cache (bonus)

def step_good(attn, x, cache, rope=None):
    b, n, d = x.shape
    q, k, v = (z.view(b, n, attn.n_heads, attn.d_head).transpose(1, 2) for z in attn.in_proj(x).chunk(3, -1))
    t = cache["k"].shape[-2] if "k" in cache else 0
    if rope is not None:
        q, k = rope(q, t), rope(k, t)
    if t:
        k, v = torch.cat([cache["k"], k], -2), torch.cat([cache["v"], v], -2)
    cache["k"], cache["v"] = k, v
    w = (q @ k.transpose(-2, -1) / math.sqrt(attn.d_head)).softmax(-1)
    return attn.out_proj((w @ v).transpose(1, 2).reshape(b, n, d))


def _step_no_cache(attn, x, cache, rope=None):  # attends to the new position only
    return step_good(attn, x, {}, rope)


def _step_rope_offset_zero(attn, x, cache, rope=None):
    class Zero:
        def __call__(self, z, offset=0):
            return rope(z, 0)
    return step_good(attn, x, cache, None if rope is None else Zero())


def _step_caches_unrotated_keys(attn, x, cache, rope=None):
    b, n, d = x.shape
    q, k, v = (z.view(b, n, attn.n_heads, attn.d_head).transpose(1, 2) for z in attn.in_proj(x).chunk(3, -1))
    t = cache["k"].shape[-2] if "k" in cache else 0
    if t:
        k, v = torch.cat([cache["k"], k], -2), torch.cat([cache["v"], v], -2)
    cache["k"], cache["v"] = k, v
    if rope is not None:  # rotates all keys by the newest offset
        q, k = rope(q, t), rope(k, t)
    w = (q @ k.transpose(-2, -1) / math.sqrt(attn.d_head)).softmax(-1)
    return attn.out_proj((w @ v).transpose(1, 2).reshape(b, n, d))


def _step_no_scale(attn, x, cache, rope=None):
    b, n, d = x.shape
    out = step_good(attn, x, cache, rope)
    k, v = cache["k"], cache["v"]
    q = attn.in_proj(x).chunk(3, -1)[0].view(b, n, attn.n_heads, attn.d_head).transpose(1, 2)
    if rope is not None:
        q = rope(q, k.shape[-2] - 1)
    w = (q @ k.transpose(-2, -1)).softmax(-1)
    return out * 0 + attn.out_proj((w @ v).transpose(1, 2).reshape(b, n, d))


def _step_no_out_proj(attn, x, cache, rope=None):
    return step_good(attn, x, cache, rope) - attn.out_proj.bias


def _step_uses_course_step(attn, x, cache, rope=None):
    return attn.step(x, cache, rope)


@pytest.mark.parametrize("fn", [step_good])
def test_attention_step_accepts(fn):
    run_test_cell(A, "attention_step_tests", attention_step=fn)


@pytest.mark.parametrize("wrong, message", [
    (_step_no_cache, "attention_step at position 1"),
    (_step_rope_offset_zero, "(RoPE) vs the course's step()"),
    (_step_caches_unrotated_keys, "(RoPE) vs the course's step()"),
    (_step_no_scale, "attention_step at position 1"),
    (_step_no_out_proj, "attention_step at position 0"),
    (_step_uses_course_step, "may not call course.blocks.MultiHeadAttention.step"),
])
def test_attention_step_rejects(wrong, message):
    err = assert_rejected(A, "attention_step_tests", attention_step=wrong)
    assert message in str(err), str(err)


class _Unhooked:
    """A MultiHeadAttention whose in_proj is called through .forward, which no forward hook sees."""

    def __init__(self, attn):
        self.in_proj, self.out_proj, self.n_heads, self.d_head = attn.in_proj.forward, attn.out_proj, attn.n_heads, \
            attn.d_head


def _layers(model, x, caches, kvs, mask, t, step=step_good, use_norm_first=True, final_norm=True, unhooked=False):
    for layer, cache, kv in zip(model.decoder.layers, caches, kvs):
        pre = layer.norm_first if use_norm_first else True
        attn, ff = (_Unhooked(layer.self_attn), layer.ff.forward) if unhooked else (layer.self_attn, layer.ff)
        if pre:
            x = x + layer.dropout1(step(attn, layer.norm1(x), cache, model.rope))
            x = x + layer.dropout2(layer.cross_attn.attend_memory(layer.norm2(x), kv, mask))
            x = x + layer.dropout3(ff(layer.norm3(x)))
        else:
            x = layer.norm1(x + layer.dropout1(step(attn, x, cache, model.rope)))
            x = layer.norm2(x + layer.dropout2(layer.cross_attn.attend_memory(x, kv, mask)))
            x = layer.norm3(x + layer.dropout3(ff(x)))
    return model.decoder.norm(x) if final_norm else x


def _cached(model, src, lengths, max_len, offset=lambda t: t, **kw):
    memory, mask = model.encode(src, lengths)
    kvs = [layer.cross_attn.memory_kv(memory) for layer in model.decoder.layers]
    caches = [{} for _ in model.decoder.layers]
    tokens = torch.full((src.shape[0], 1), BOS)
    done = torch.zeros(src.shape[0], dtype=torch.bool)
    for t in range(max_len):
        x = model._embed(model.tgt_embed, tokens[:, -1:], offset(t))
        nxt = model.output(_layers(model, x, caches, kvs, mask, t, **kw))[:, -1].argmax(-1).masked_fill(done, PAD)
        tokens = torch.cat([tokens, nxt[:, None]], 1)
        done |= nxt == EOS
        if bool(done.all()):
            break
    return tokens[:, 1:]


@torch.no_grad()
def cached_good(model, src, lengths, max_len):
    return _cached(model, src, lengths, max_len)


@torch.no_grad()
def _cached_position_zero(model, src, lengths, max_len):
    return _cached(model, src, lengths, max_len, offset=lambda t: 0)


@torch.no_grad()
def _cached_always_pre_ln(model, src, lengths, max_len):
    return _cached(model, src, lengths, max_len, use_norm_first=False)


@torch.no_grad()
def _cached_no_final_norm(model, src, lengths, max_len):
    return _cached(model, src, lengths, max_len, final_norm=False)


@torch.no_grad()
def _cached_recomputes_the_prefix(model, src, lengths, max_len):
    """Runs the layers on the whole prefix with fresh caches each step: right tokens, no saving."""
    memory, mask = model.encode(src, lengths)
    kvs = [layer.cross_attn.memory_kv(memory) for layer in model.decoder.layers]
    tokens = torch.full((src.shape[0], 1), BOS)
    done = torch.zeros(src.shape[0], dtype=torch.bool)
    for _ in range(max_len):
        x = model._embed(model.tgt_embed, tokens, 0)
        nxt = model.output(_layers(model, x, [{} for _ in kvs], kvs, mask, 0, step=_full_causal))[:, -1]
        nxt = nxt.argmax(-1).masked_fill(done, PAD)
        tokens = torch.cat([tokens, nxt[:, None]], 1)
        done |= nxt == EOS
        if bool(done.all()):
            break
    return tokens[:, 1:]


def _full_causal(attn, x, cache, rope=None):
    return attn(x, is_causal=True, rope=rope)


@torch.no_grad()
def _cached_reencodes(model, src, lengths, max_len):
    model.encode(src, lengths)
    return _cached(model, src, lengths, max_len)


@torch.no_grad()
def _cached_borrows(model, src, lengths, max_len):
    return model.greedy_decode(src, lengths, max_len)


@torch.no_grad()
def _cached_unhooked(model, src, lengths, max_len):
    """The right tokens, but every layer's in_proj and ff run through .forward: no decoder layer is seen running."""
    return _cached(model, src, lengths, max_len, unhooked=True)


@pytest.mark.parametrize("fn", [cached_good])
def test_cached_greedy_accepts(fn):
    run_test_cell(A, "cached_greedy_decode_tests", cached_greedy_decode=fn, attention_step=step_good)


@pytest.mark.parametrize("wrong, message", [
    (_cached_position_zero, "vs the course's greedy_decode"),
    (_cached_always_pre_ln, "vs the course's greedy_decode"),
    (_cached_no_final_norm, "vs the course's greedy_decode"),
    (_cached_recomputes_the_prefix, "positions in one call; with the cache each step runs the layers"),
    (_cached_reencodes, "encode the source once, not 2 times"),
    (_cached_borrows, "may not call course.blocks.Seq2SeqTransformer.greedy_decode"),
    (_cached_unhooked, "cached_greedy_decode: no decoder layer ran"),
])
def test_cached_greedy_rejects(wrong, message):
    err = assert_rejected(A, "cached_greedy_decode_tests", cached_greedy_decode=wrong, attention_step=step_good)
    assert message in str(err), str(err)


def test_the_hidden_cached_check_says_that_no_decoder_layer_ran():
    """Nothing recorded: the check's condition is a bool (not the empty list), so its message is shown."""
    from course_grader.checks import ch08_transformer as hidden

    with pytest.raises(AssertionError, match=r"max_len 1\): no decoder layer ran"):
        hidden.check_cached_greedy(_cached_unhooked)


# --------------------------------------------------------------------------- beam search (bonus)

def _beam(model, src, lengths, beam_size, max_len, combine=lambda score, lp: score + lp, rank=lambda c: c[1],
          finished_leave=True, stop=operator.ge, pick=max):
    """The notebook's rules, with one of them changeable; ``stop(best finished, best live)`` ends the search
    (None: it never stops early)."""
    memory, mask = model.encode(src, lengths)
    beam, finished = [([], 0.0)], []
    for _ in range(max_len):
        if not beam:
            break
        cands = []
        for seq, score in beam:
            if seq and seq[-1] == EOS:  # only when finished hypotheses stay in the beam
                cands.append((seq, score))
                continue
            logp = model.decode(torch.tensor([[BOS] + seq]), memory, mask)[0, -1].double().log_softmax(-1)
            cands += [(seq + [v], combine(score, float(logp[v]))) for v in range(logp.shape[0])]
        cands.sort(key=lambda c: -rank(c))
        top = cands[:beam_size]
        if finished_leave:
            finished += [c for c in top if c[0][-1] == EOS]
            beam = [c for c in top if c[0][-1] != EOS]
        else:
            beam = top
        if stop and finished and beam and stop(max(f[1] for f in finished), beam[0][1]):
            break
    pool = finished or beam
    tokens, score = pick(pool, key=rank)
    return torch.tensor(tokens, dtype=torch.long), float(score)


@torch.no_grad()
def beam_good(model, src, lengths, beam_size, max_len):
    return _beam(model, src, lengths, beam_size, max_len)


@torch.no_grad()
def _beam_no_early_stop(model, src, lengths, beam_size, max_len):
    """The same result (scores only fall), but the notebook's rules stop the search once a finished
    hypothesis is at least as good as the best live one: this one decodes on."""
    return _beam(model, src, lengths, beam_size, max_len, stop=None)


@torch.no_grad()
def _beam_stops_only_when_strictly_better(model, src, lengths, beam_size, max_len):
    """`>` for `>=`: a tie goes on."""
    return _beam(model, src, lengths, beam_size, max_len, stop=operator.gt)


def _batched_beam(model, src, lengths, beam_size, max_len, rows):
    """Every hypothesis in one decode call; ``rows(memory, mask, n)`` is what decode is given for n rows."""
    memory, mask = model.encode(src, lengths)
    beam, finished = [([], 0.0)], []
    for _ in range(max_len):
        if not beam:
            break
        tgt = torch.tensor([[BOS] + seq for seq, _ in beam])
        logp = model.decode(tgt, *rows(memory, mask, len(beam)))[:, -1].double().log_softmax(-1)
        total = logp + torch.tensor([sc for _, sc in beam], dtype=torch.float64)[:, None]
        best = total.flatten().topk(min(beam_size, total.numel()))
        beam = []
        for value, index in zip(best.values.tolist(), best.indices.tolist()):
            row, token = divmod(index, logp.shape[1])
            (finished if token == EOS else beam).append((tgt[row, 1:].tolist() + [token], value))
        if finished and beam and max(sc for _, sc in finished) >= beam[0][1]:
            break
    tokens, score = max(finished or beam, key=lambda h: h[1])
    return torch.tensor(tokens, dtype=torch.long), float(score)


@torch.no_grad()
def beam_batched_broadcast_memory(model, src, lengths, beam_size, max_len):
    """Also correct: every hypothesis in one decode call, the memory's single row broadcast."""
    return _batched_beam(model, src, lengths, beam_size, max_len, rows=lambda memory, mask, n: (memory, mask))


@torch.no_grad()
def _beam_memory_with_an_extra_axis(model, src, lengths, beam_size, max_len):
    """memory.expand(n, *memory.shape): a 4-d memory the real model cannot read."""
    return _batched_beam(model, src, lengths, beam_size, max_len, rows=lambda memory, mask, n: (
        memory.expand(n, *memory.shape), mask.expand(n, *mask.shape[1:])))


@torch.no_grad()
def _beam_last_step_probability(model, src, lengths, beam_size, max_len):
    return _beam(model, src, lengths, beam_size, max_len, combine=lambda score, lp: lp)


@torch.no_grad()
def _beam_probabilities_multiplied_as_logs(model, src, lengths, beam_size, max_len):
    return _beam(model, src, lengths, beam_size, max_len, combine=lambda score, lp: score * lp if score else lp)


@torch.no_grad()
def _beam_length_normalised(model, src, lengths, beam_size, max_len):
    return _beam(model, src, lengths, beam_size, max_len, rank=lambda c: c[1] / len(c[0]))


@torch.no_grad()
def _beam_greedy(model, src, lengths, beam_size, max_len):
    return _beam(model, src, lengths, 1, max_len)


@torch.no_grad()
def _beam_returns_worst(model, src, lengths, beam_size, max_len):
    return _beam(model, src, lengths, beam_size, max_len, pick=min)


@torch.no_grad()
def _beam_finished_stay(model, src, lengths, beam_size, max_len):
    """Finished hypotheses keep their place in the beam and crowd out live ones."""
    tokens, score = _beam(model, src, lengths, beam_size, max_len, finished_leave=False, stop=None)
    return tokens, score


def _beam_borrows(model, src, lengths, beam_size, max_len):
    """The checks' exhaustive search where the beam is wide (where it gives the same answer)."""
    from course.checks import ch08_transformer as helpers
    if beam_size < 100:
        return beam_good(model, src, lengths, beam_size, max_len)
    tokens, score = helpers.brute_force_best(model, max_len)
    return torch.tensor(tokens), score


@torch.no_grad()
def _beam_only_finished(model, src, lengths, beam_size, max_len):
    """Returns nothing when no hypothesis finished within max_len steps (the rules: the best prefix then)."""
    tokens, score = beam_good(model, src, lengths, beam_size, max_len)
    return (tokens, score) if tokens.numel() and int(tokens[-1]) == EOS else (torch.zeros(0, dtype=torch.long), 0.0)


@pytest.mark.parametrize("fn", [beam_good, beam_batched_broadcast_memory])
def test_beam_accepts(fn):
    run_test_cell(A, "beam_search_tests", beam_search=fn)


@pytest.mark.parametrize("wrong, message", [
    (_beam_last_step_probability, "the score of A A <eos>: the SUM of its log-probabilities"),
    (_beam_probabilities_multiplied_as_logs, "beam_size 1 is greedy"),
    (_beam_length_normalised, "a beam of 125 = 5³ keeps every candidate"),
    (_beam_greedy, "beam_size 2 finds B <eos>"),
    (_beam_returns_worst, "a beam of 125 = 5³ keeps every candidate"),
    (_beam_finished_stay, "a beam of 125 = 5³ keeps every candidate"),
    (_beam_borrows, "may not call course.checks.ch08_transformer.brute_force_best"),
    (_beam_no_early_stop, "the search went on to prefixes of length 4 after the best finished"),
    (_beam_stops_only_when_strictly_better, "the search went on to prefixes of length 1 after the best finished"),
    (_beam_memory_with_an_extra_axis, "decode got memory of shape (1, 1, 2, 2) beside 1 target row(s)"),
    (_beam_only_finished, "no hypothesis has finished, so the best prefix, A alone"),
])
def test_beam_rejects(wrong, message):
    err = assert_rejected(A, "beam_search_tests", beam_search=wrong)
    assert message in str(err), str(err)


# ------------------------------------------------------------------------------- demo helpers

def test_error_table_marks_the_first_difference():
    html = ex.error_table([{"source": "1204", "expected": "一千二百零四", "predicted": "一千二百四"}]).data
    assert "<b style='color:#c00'>四</b>" in html and "<td>4</td>" in html
    assert "No wrong outputs" in ex.error_table([]).data


def test_cross_attention_rows_follow_the_output():
    torch.manual_seed(0)
    task = Task("zh", test_size=10)
    from course import training
    config = training.preset("cpu", d_model=16, n_heads=2, d_ff=32, test_size=10)
    model = training.build_model(config, task).eval()
    queries, keys, weights = ex.cross_attention(model, task, "1204")
    assert keys == list("1204")
    assert weights.shape == (config.model.n_decoder_layers, config.model.n_heads, len(queries), 4)
    torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:-1]))
    with pytest.raises(ValueError, match="digits"):
        ex.cross_attention(model, task, "12a")


def test_live_loss_plot_redraws_on_evaluation_and_end():
    from types import SimpleNamespace

    plot = LiveLossPlot(every_seconds=1e9, auto_display=False)
    first = plot.redraw_count
    plot(SimpleNamespace(kind="step", step=10, loss=2.0, lr=1e-3, seconds=1.0, metrics=None))
    assert plot.redraw_count == first  # throttled
    plot(SimpleNamespace(kind="eval", step=10, loss=None, lr=1e-3, seconds=1.0, metrics=SimpleNamespace(exact=0.5)))
    assert plot.redraw_count == first + 1 and plot.exact == [50.0]
    assert "50.0%" in plot.status.value
    with pytest.raises(ValueError):
        LiveLossPlot(every_seconds=-1)


def test_chinese_numerals_render_with_the_shipped_font():
    """Every character of the Chinese task draws without matplotlib's "Glyph missing" warning (stderr = a zero in nbgrader)."""
    import warnings

    from course.plotting import figure_png, new_figure
    from course.tasks import ZH_ALPHABET

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = new_figure(3, 2)
        ax = fig.subplots()
        ax.set_title(ZH_ALPHABET)
        ax.set_yticks(range(3), ["→万", "→零", "→<eos>"])
        assert figure_png(fig)[:4] == b"\x89PNG"


# -------------------------------------------------------------------------- the model's device (issue 30 §2)
# No GPU here, so the model and its inputs go to PyTorch's "meta" device (shapes, no data): a tensor that code
# builds on the CPU next to them (positions, frequencies, a batch never moved) fails with a device mismatch, as
# it would at the first CUDA step. Meta tensors have no values, so a run that reads one (.item(), .tolist(),
# `if tensor`) stops there: everything before that point is checked, and that stop is not a failure.

import contextlib  # noqa: E402

from notebooks import ROOT, answer_namespace  # noqa: E402

from course import student_code as _sc  # noqa: E402
from course.blocks import Seq2SeqTransformer as _Seq2Seq  # noqa: E402
from course.tasks import Task as _Task  # noqa: E402

_META_VALUE_READ = ("cannot be called on meta tensors", "Cannot copy out of meta tensor", "no data")


@contextlib.contextmanager
def _until_meta_values_are_read():
    try:
        yield
    except (RuntimeError, NotImplementedError) as err:
        if not any(text in str(err) for text in _META_VALUE_READ):
            raise


def _meta_batch(task):
    b = task.make_batch(["1204", "30012", "7"])
    return b.src.to("meta"), b.src_lengths.to("meta"), b.tgt_in.to("meta")


@pytest.fixture(scope="module")
def solutions_parts():
    return _sc.build_student_model(ROOT / "solutions", smoke_test=False)


@pytest.mark.parametrize("position", ["sinusoidal", "rope"])
@pytest.mark.parametrize("norm_first", [True, False])
def test_the_students_model_runs_on_the_models_device(solutions_parts, position, norm_first):
    """chapter 08's Transformer built from the solutions of 05-08 (what `python -m course.train --student-notebooks`
    trains): the forward pass creates nothing on another device than the model's."""
    task = _Task("zh", test_size=1)
    model = solutions_parts.model_class(len(task.source_tokenizer), len(task.target_tokenizer), d_model=16, n_heads=2,
                                        n_encoder_layers=1, n_decoder_layers=1, d_ff=32, dropout=0.0,
                                        norm_first=norm_first, position=position).to("meta")
    logits = model(*_meta_batch(task))
    assert logits.device.type == "meta" and tuple(logits.shape[:2]) == (3, 7)


def test_the_notebooks_own_answers_run_on_the_models_device():
    """The solution notebook's Transformer (course parts) and its decoders, on the meta device."""
    ns = answer_namespace(A)
    task = _Task("zh", test_size=1)
    for position in ("sinusoidal", "rope"):
        model = ns["Transformer"](len(task.source_tokenizer), len(task.target_tokenizer), d_model=16, n_heads=2,
                                  n_encoder_layers=1, n_decoder_layers=1, d_ff=32, position=position).to("meta")
        src, lengths, tgt = _meta_batch(task)
        assert model(src, lengths, tgt).device.type == "meta"
        for decode in (ns["greedy_decode"], lambda m, s, n, k: ns["beam_search"](m, s[:1], n[:1], 2, k)):
            with _until_meta_values_are_read():
                decode(model, src, lengths, 4)


def test_chapter_08s_experiments_move_the_batch_to_the_models_device():
    """greedy_vs_beam (Part 11), cross_attention (Part 8) and sample_outputs on a model on the meta device: the
    batch they make must follow the model (greedy_vs_beam never moved it: issue 30)."""
    task = _Task("zh", test_size=1)
    model = _Seq2Seq(len(task.source_tokenizer), len(task.target_tokenizer), d_model=16, n_heads=2,
                     n_encoder_layers=1, n_decoder_layers=1, d_ff=32, position="rope").to("meta")
    beam = answer_namespace(A)["beam_search"]
    for run in (lambda: ex.greedy_vs_beam(model, task, ["1204"], beam, beam_size=2),
                lambda: ex.cross_attention(model, task, "1204"),
                lambda: ex.sample_outputs(model, task, "1204", n=2)):
        with _until_meta_values_are_read():
            run()


def test_the_meta_check_catches_a_tensor_built_on_the_cpu():
    """The check can fail: a RoPE whose positions are made on the CPU, and a batch left on the CPU."""
    rotary = _sc._rotary_part(lambda x, positions, base: x * torch.cos(positions.double() * 0 + 1)[:, None])
    x = torch.zeros(1, 2, 3, 4, device="meta")
    assert rotary(4)(x).device.type == "meta"  # positions follow x
    with pytest.raises(RuntimeError, match="device"), _until_meta_values_are_read():
        x * torch.ones(3, 4)  # what a CPU-built table does next to a meta (or CUDA) tensor
    task = _Task("zh", test_size=1)
    model = _Seq2Seq(len(task.source_tokenizer), len(task.target_tokenizer), d_model=16, n_heads=2,
                     n_encoder_layers=1, n_decoder_layers=1, d_ff=32).to("meta")
    b = task.make_batch(["1204"])
    with pytest.raises(RuntimeError, match="device"), _until_meta_values_are_read():
        model.encode(b.src, b.src_lengths)  # a batch never moved to the model's device


def test_hidden_transformer_check_rejects_tying_the_wrong_way():
    from course_grader.checks import ch08_transformer as hidden
    with pytest.raises(AssertionError, match="the embedding took the output layer's weight"):
        hidden.check_transformer(TiedTheWrongWay)


def test_the_wrong_tying_changes_the_embeddings_starting_scale():
    """What the later cells see: the tied embedding's std is the course's 1/sqrt(d) only when tied the right way."""
    Transformer = answer_namespace(A)["Transformer"]
    torch.manual_seed(0)
    right = Transformer(20, 200, d_model=64, tie_output=True).tgt_embed.weight.std().item()
    torch.manual_seed(0)
    model = Transformer(20, 200, d_model=64, tie_output=False)
    model.tgt_embed.weight = model.output.weight  # the wrong direction, as TiedTheWrongWay ties
    wrong = model.tgt_embed.weight.std().item()
    assert abs(right - 64 ** -0.5) < 0.01 and abs(wrong - (3 * 64) ** -0.5) < 0.01


# ------------------------------------------------------------------ statements of the text, checked where computed

def test_the_hard_split_has_five_strata_each_at_least_a_fifth():
    """Part 1: 'stratified over five hard cases, in equal turns' (the cell prints the five counts)."""
    from course.tasks import HARD_CASES, hard_cases
    assert len(HARD_CASES) == 5
    hard = Task("zh").split("hard")
    counts = {case: sum(case in hard_cases(s) for s in hard) for case in HARD_CASES}
    assert all(n >= len(hard) // 5 for n in counts.values()), counts


def test_the_kv_cache_keeps_attention_quadratic():
    """Part 11: with the cache, step t compares one query with t keys: n(n+1)/2 products in all, not n."""
    torch.manual_seed(0)
    from course.blocks import MultiHeadAttention
    attn = MultiHeadAttention(8, 2).eval()
    step = answer_namespace(A)["attention_step"]
    cache, products = {}, 0
    x = torch.randn(1, 12, 8)
    for t in range(12):
        step(attn, x[:, t:t + 1], cache)
        products += cache["k"].shape[-2]  # the one new query against every cached key
    assert products == 12 * 13 // 2


def test_hints_and_demos_do_not_type_the_answers():
    # a hint points the way and a demo shows the idea on another example (issue 30): neither may type a
    # solution's line or run its expression with other names (tests/hints.py)
    from hints import answers_given_away

    assert answers_given_away(A) == []


# -------------------------------------------------------------- every parameter, a second value (round three)
# Each visible test cell calls its exercise with at least two values of every parameter, so an answer that
# ignores one (a value written in instead of the argument) fails the VISIBLE cell, with a message that names
# the parameter; the cell's hidden part is left out here.

def _run_visible(grade_id: str, **substitutes) -> None:
    from notebooks import answer_namespace, graded_cells

    source = graded_cells(A)[grade_id].source.split("### BEGIN HIDDEN TESTS")[0]
    ns = answer_namespace(A)
    ns.update(substitutes)
    exec(compile(source, f"<{A} {grade_id}, visible part>", "exec"), ns)


class LengthsWrittenIn(Good):
    """Masks the padding by the first test's lengths, whatever src_lengths says."""

    def encode(self, src, src_lengths):
        return super().encode(src, torch.tensor([3, 2]))


@torch.no_grad()
def _greedy_lengths_written_in(model, src, src_lengths, max_len):
    return greedy_good(model, src, torch.tensor([3, 1]), max_len)


def _step_two_heads_written_in(attn, x, cache, rope=None):
    b, n, d = x.shape
    q, k, v = (z.view(b, n, 2, d // 2).transpose(1, 2) for z in attn.in_proj(x).chunk(3, -1))
    t = cache["k"].shape[-2] if "k" in cache else 0
    if rope is not None:
        q, k = rope(q, t), rope(k, t)
    if t:
        k, v = torch.cat([cache["k"], k], -2), torch.cat([cache["v"], v], -2)
    cache["k"], cache["v"] = k, v
    w = (q @ k.transpose(-2, -1) / math.sqrt(d // 2)).softmax(-1)
    return attn.out_proj((w @ v).transpose(1, 2).reshape(b, n, d))


IGNORED = [  # (test cell, exercise, an answer that ignores one parameter, words of the message that names it)
    ("embed_tests", "embed", lambda ids, emb, pos=None: emb(ids) * 2.0 + (0 if pos is None else pos[: ids.shape[1]]),
     "embedding=nn.Embedding(3, 9)"),
    ("Transformer_tests", "Transformer", LengthsWrittenIn, "src_lengths [4, 2, 1]"),
    ("greedy_decode_tests", "greedy_decode", lambda model, src, lengths, max_len: greedy_good(model, src, lengths, 4),
     "max_len=2"),
    ("greedy_decode_tests", "greedy_decode", _greedy_lengths_written_in, "pass it the src_lengths given"),
    ("smoothed_cross_entropy_tests", "smoothed_cross_entropy", lambda logits, targets, eps: loss_good(logits, targets, 0.2),
     "smoothing=0.5) gave the loss of smoothing 0.2"),
    ("attention_step_tests", "attention_step", _step_two_heads_written_in, "MultiHeadAttention(18, 3)"),
    ("cached_greedy_decode_tests", "cached_greedy_decode", lambda model, src, lengths, max_len:
     cached_good(model, src, lengths, 6), "max_len=3"),
    ("beam_search_tests", "beam_search", lambda model, src, lengths, beam_size, max_len:
     beam_good(model, src, lengths, beam_size, 5), "max_len=3"),
]


@pytest.mark.parametrize("grade_id, name, ignores, words", IGNORED, ids=[f"{i[0]}-{i[3][:20]}" for i in IGNORED])
def test_an_answer_that_ignores_a_parameter_fails_the_visible_cell(grade_id, name, ignores, words):
    _run_visible(grade_id)  # the notebook's own answer passes it
    with pytest.raises(AssertionError) as err:
        _run_visible(grade_id, **{name: ignores})
    assert words in str(err.value), str(err.value)
