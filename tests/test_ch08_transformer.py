"""Chapter 08 (the Transformer, trained): graded cells reject the usual mistakes (unscaled or
over-scaled embeddings, positions scaled or shifted, no source mask, untied or wrongly tied weights,
RoPE not passed, memory from the wrong place, greedy decoding that keeps <bos>, never stops, does
not pad finished rows or reads the wrong position, a loss that counts padding or smooths over V−1
classes) and accept correct answers written differently; the demo helpers behave."""

from __future__ import annotations

import math

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
                      "smoothed_cross_entropy_tests": 3}


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


@pytest.mark.parametrize("wrong", [
    lambda ids, emb, pos=None: emb(ids) + (0 if pos is None else pos[: ids.shape[1]]),  # no scale
    lambda ids, emb, pos=None: emb(ids) * emb.embedding_dim + (0 if pos is None else pos[: ids.shape[1]]),  # × d
    lambda ids, emb, pos=None: (emb(ids) + (0 if pos is None else pos[: ids.shape[1]])) * math.sqrt(emb.embedding_dim),
    lambda ids, emb, pos=None: emb(ids) * math.sqrt(emb.embedding_dim) + (0 if pos is None else pos[1: ids.shape[1] + 1]),
    lambda ids, emb, pos=None: emb(ids) / math.sqrt(emb.embedding_dim) + (0 if pos is None else pos[: ids.shape[1]]),
])
def test_embed_rejects(wrong):
    assert_rejected(A, "embed_tests", embed=wrong)


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


class GoodTiedOtherWay(Good):
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


@pytest.mark.parametrize("cls", [Good, GoodMaskByIds, GoodTiedOtherWay])
def test_transformer_accepts(cls):
    run_test_cell(A, "Transformer_tests", Transformer=cls)


@pytest.mark.parametrize("cls", [NoTie, TieToSource, NoSourceMaskInEncoder, NoMemoryMask, InvertedMask, RopeNotPassed,
                                 UnscaledEmbeddings, MemoryIsEmbedding, SharedEmbedding, NoOutputProjection])
def test_transformer_rejects(cls):
    assert_rejected(A, "Transformer_tests", Transformer=cls)


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


@pytest.mark.parametrize("wrong", [_keeps_bos, _no_pad_after_eos, _never_stops, _first_position, _one_step_too_many,
                                   _stops_at_first_eos_in_batch])
def test_greedy_rejects(wrong):
    assert_rejected(A, "greedy_decode_tests", greedy_decode=wrong)


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


@pytest.mark.parametrize("wrong", [_loss_counts_padding, _loss_v_minus_1, _loss_unsmoothed, _loss_sum,
                                   _loss_uses_builtin, _loss_smooths_probabilities])
def test_loss_rejects(wrong):
    assert_rejected(A, "smoothed_cross_entropy_tests", smoothed_cross_entropy=wrong)


def test_builtin_loss_is_restored_after_the_check():
    with pytest.raises(AssertionError):
        run_test_cell(A, "smoothed_cross_entropy_tests", smoothed_cross_entropy=_loss_uses_builtin)
    assert F.cross_entropy(torch.zeros(1, 2), torch.tensor([1])).item() == pytest.approx(math.log(2))


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
    assert weights.shape == (config.n_decoder_layers, config.n_heads, len(queries), 4)
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
