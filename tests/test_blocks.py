"""The reference model (course.blocks): its layers equal torch's own with copied weights, its masks,
positions and decoding behave, and the property checks used here reject broken variants."""

from __future__ import annotations

import pytest
import torch
from course_grader.checks.ch06_position_encoding import reference_rope, reference_table
from torch import nn

from course import blocks as B
from course.tokenizer import BOS, EOS, PAD

D, H, FF = 16, 4, 32


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------- weight copying into torch's layers

def copy_mha(mine: B.MultiHeadAttention, ref: nn.MultiheadAttention) -> None:
    with torch.no_grad():
        ref.in_proj_weight.copy_(mine.in_proj.weight)
        ref.in_proj_bias.copy_(mine.in_proj.bias)
        ref.out_proj.weight.copy_(mine.out_proj.weight)
        ref.out_proj.bias.copy_(mine.out_proj.bias)


def copy_linear_norm(src: nn.Module, dst: nn.Module) -> None:
    with torch.no_grad():
        dst.weight.copy_(src.weight)
        dst.bias.copy_(src.bias)


def randomize(module: nn.Module, seed: int = 1) -> nn.Module:
    """Random values everywhere, LayerNorm γ/β and biases included, so a mis-copied tensor shows."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            centre = 1.0 if "norm" in name and name.endswith("weight") else 0.0
            p.copy_(torch.randn(p.shape, generator=g) * 0.3 + centre)
    return module


def torch_encoder_layer(mine: B.EncoderLayer) -> nn.TransformerEncoderLayer:
    ref = nn.TransformerEncoderLayer(D, H, FF, dropout=0.1, batch_first=True, norm_first=mine.norm_first)
    copy_mha(mine.self_attn, ref.self_attn)
    copy_linear_norm(mine.ff.linear1, ref.linear1)
    copy_linear_norm(mine.ff.linear2, ref.linear2)
    copy_linear_norm(mine.norm1, ref.norm1)
    copy_linear_norm(mine.norm2, ref.norm2)
    return ref.eval()


def torch_decoder_layer(mine: B.DecoderLayer) -> nn.TransformerDecoderLayer:
    ref = nn.TransformerDecoderLayer(D, H, FF, dropout=0.1, batch_first=True, norm_first=mine.norm_first)
    copy_mha(mine.self_attn, ref.self_attn)
    copy_mha(mine.cross_attn, ref.multihead_attn)
    copy_linear_norm(mine.ff.linear1, ref.linear1)
    copy_linear_norm(mine.ff.linear2, ref.linear2)
    for i in (1, 2, 3):
        copy_linear_norm(getattr(mine, f"norm{i}"), getattr(ref, f"norm{i}"))
    return ref.eval()


LENGTHS = torch.tensor([5, 3, 1])


@pytest.mark.parametrize("norm_first", [True, False])
def test_encoder_layer_matches_torch(norm_first):
    mine = randomize(B.EncoderLayer(D, H, FF, dropout=0.1, norm_first=norm_first)).eval()
    ref = torch_encoder_layer(mine)
    x = rand(3, 5, D)
    mask = B.padding_mask(LENGTHS, 5)  # True = real key
    with torch.no_grad():
        expected = ref(x, src_key_padding_mask=~mask[:, 0, 0])  # torch: True = ignore
        got = mine(x, mask)
    real = mask[:, 0, 0]
    torch.testing.assert_close(got[real], expected[real], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("norm_first", [True, False])
def test_decoder_layer_matches_torch(norm_first):
    mine = randomize(B.DecoderLayer(D, H, FF, dropout=0.1, norm_first=norm_first), seed=2).eval()
    ref = torch_decoder_layer(mine)
    x, memory = rand(3, 6, D, seed=3), rand(3, 5, D, seed=4)
    mask = B.padding_mask(LENGTHS, 5)
    causal = nn.Transformer.generate_square_subsequent_mask(6)
    with torch.no_grad():
        expected = ref(x, memory, tgt_mask=causal, tgt_is_causal=True, memory_key_padding_mask=~mask[:, 0, 0])
        got = mine(x, memory, mask)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_stacks_match_torch_with_final_norm():
    enc = randomize(B.Encoder(2, D, H, FF, 0.1, norm_first=True), seed=5).eval()
    ref = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, H, FF, 0.1, batch_first=True, norm_first=True), 2,
                                norm=nn.LayerNorm(D), enable_nested_tensor=False).eval()
    for mine_layer, ref_layer in zip(enc.layers, ref.layers):
        ref_layer.load_state_dict(torch_encoder_layer(mine_layer).state_dict())
    copy_linear_norm(enc.norm, ref.norm)
    x, mask = rand(3, 5, D, seed=6), B.padding_mask(LENGTHS, 5)
    with torch.no_grad():
        expected = ref(x, src_key_padding_mask=~mask[:, 0, 0])
        got = enc(x, mask)
    real = mask[:, 0, 0]
    torch.testing.assert_close(got[real], expected[real], atol=1e-5, rtol=1e-5)
    assert isinstance(B.Encoder(1, D, H, FF, norm_first=False).norm, nn.Identity)


def test_cross_attention_matches_torch_mha_and_weights():
    mha = randomize(B.MultiHeadAttention(D, H), seed=7).eval()
    ref = nn.MultiheadAttention(D, H, batch_first=True).eval()
    copy_mha(mha, ref)
    q, kv = rand(2, 4, D, seed=8), rand(2, 6, D, seed=9)
    mask = B.padding_mask(torch.tensor([6, 2]), 6)
    with torch.no_grad():
        expected, expected_w = ref(q, kv, kv, key_padding_mask=~mask[:, 0, 0], average_attn_weights=False)
        got = mha(q, kv, mask=mask)
        got2, w = mha.forward_with_weights(q, kv, mask=mask)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got2, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(w, expected_w, atol=1e-6, rtol=1e-5)


def test_explicit_causal_path_equals_fused_path():
    mha = randomize(B.MultiHeadAttention(D, H), seed=10).eval()
    x = rand(2, 5, D, seed=11)
    with torch.no_grad():
        fused = mha(x, is_causal=True)
        explicit, w = mha.forward_with_weights(x, is_causal=True)
        masked = mha(x, mask=B.causal_mask(5))
    torch.testing.assert_close(explicit, fused, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(masked, fused, atol=1e-5, rtol=1e-5)
    assert torch.all(w.triu(1) == 0)


# ---------------------------------------------------------------- positions

def test_sinusoidal_table_matches_closed_form():
    torch.testing.assert_close(B.SinusoidalPositions.build(50, 12), reference_table(50, 12).float())
    pos = B.SinusoidalPositions(12, max_len=4)
    x = torch.zeros(1, 9, 12)
    torch.testing.assert_close(pos(x)[0], reference_table(9, 12).float())  # grows past max_len


def test_rope_matches_interleaved_reference_and_preserves_norms():
    rope = B.RotaryEmbedding(8).double()
    x = rand(2, 3, 7, 8).double()
    got = rope(x)
    torch.testing.assert_close(got, reference_rope(x, torch.arange(7.0)).to(got.dtype), atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(got.norm(dim=-1), x.norm(dim=-1), atol=1e-6, rtol=1e-6)


def relative_scores(rope_fn, q, k, shift):
    """Scores <R_m q, R_n k> for all m, n, and the same with both positions moved by ``shift``."""
    seq = q.shape[-2]
    a = rope_fn(torch.cat([q, k], dim=-2))
    b = rope_fn(torch.cat([torch.zeros(1, 1, shift, q.shape[-1], dtype=q.dtype), q, k], dim=-2))
    s1 = a[..., :seq, :] @ a[..., seq:, :].transpose(-2, -1)
    s2 = b[..., shift:shift + seq, :] @ b[..., shift + seq:, :].transpose(-2, -1)
    return s1, s2


def assert_rope_relative(rope_fn):
    q, k = rand(1, 1, 5, 8, seed=12).double(), rand(1, 1, 5, 8, seed=13).double()
    # put q at 0..4 and k at 5..9; then both shifted: the scores must not change
    s1, s2 = relative_scores(rope_fn, q, k, shift=3)
    torch.testing.assert_close(s1, s2, atol=1e-5, rtol=1e-5)


def test_rope_score_depends_only_on_offset():
    assert_rope_relative(B.RotaryEmbedding(8).double())


def test_relative_check_rejects_absolute_positions():
    def absolute(x):  # adds a position-dependent vector: not relative
        return x + torch.arange(x.shape[-2], dtype=x.dtype)[:, None] * 0.1
    with pytest.raises(AssertionError):
        assert_rope_relative(absolute)


def test_half_split_rope_is_not_the_course_convention():
    x = rand(1, 1, 6, 8).double()
    d = 8
    angle = torch.arange(6.0).double()[:, None] * 10000.0 ** (-2 * torch.arange(4.0).double() / d)
    first, second = x[..., :4], x[..., 4:]
    half = torch.cat([first * angle.cos() - second * angle.sin(), second * angle.cos() + first * angle.sin()], -1)
    with pytest.raises(AssertionError):
        torch.testing.assert_close(half, reference_rope(x, torch.arange(6.0)))
    torch.testing.assert_close(B.RotaryEmbedding(8).double()(x), reference_rope(x, torch.arange(6.0)))


# ---------------------------------------------------------------- the full model

def tiny(position="sinusoidal", seed=0, **kw):
    torch.manual_seed(seed)
    cfg = dict(src_vocab=14, tgt_vocab=18, d_model=D, n_heads=H, n_encoder_layers=2, n_decoder_layers=2,
               d_ff=FF, dropout=0.1, position=position)
    cfg.update(kw)
    return B.Seq2SeqTransformer(**cfg).eval()


def batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(4, 14, (3, 6), generator=g)
    lengths = torch.tensor([6, 4, 2])
    src = src.masked_fill(torch.arange(6)[None] >= lengths[:, None], PAD)
    tgt = torch.randint(4, 18, (3, 7), generator=g)
    tgt[:, 0] = BOS
    return src, lengths, tgt


def assert_causal(model):
    src, lengths, tgt = batch()
    with torch.no_grad():
        base = model(src, lengths, tgt)
        for t in range(1, tgt.shape[1]):
            changed = tgt.clone()
            changed[:, t:] = torch.randint(4, 18, changed[:, t:].shape, generator=torch.Generator().manual_seed(t))
            out = model(src, lengths, changed)
            torch.testing.assert_close(out[:, :t], base[:, :t], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("position", B.POSITIONS)
def test_decoder_is_causal(position):
    assert_causal(tiny(position))


def test_causality_check_rejects_a_decoder_that_looks_ahead():
    model = tiny()
    for layer in model.decoder.layers:
        original = layer.self_attn.forward
        layer.self_attn.forward = lambda q, memory=None, mask=None, is_causal=False, rope=None, f=original: f(q, rope=rope)
    with pytest.raises(AssertionError):
        assert_causal(model)


def assert_padding_ignored(model):
    src, lengths, tgt = batch(1)
    garbage = src.clone()
    pad = torch.arange(6)[None] >= lengths[:, None]
    garbage[pad] = 5  # different ids in the pad positions
    longer = torch.cat([src, torch.full((3, 3), 7)], dim=1)  # and more padding
    with torch.no_grad():
        a = model(src, lengths, tgt)
        torch.testing.assert_close(model(garbage, lengths, tgt), a, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(model(longer, lengths, tgt), a, atol=1e-5, rtol=1e-5)
        memory, _ = model.encode(src, lengths)
        memory2, _ = model.encode(garbage, lengths)
        torch.testing.assert_close(memory[~pad], memory2[~pad], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("position", B.POSITIONS)
def test_source_padding_changes_nothing(position):
    assert_padding_ignored(tiny(position))


def test_padding_check_rejects_a_model_without_source_mask():
    model = tiny()
    model.encode = lambda src, lengths, f=model.encode: (f(src, torch.full_like(lengths, src.shape[1]))[0], None)
    with pytest.raises(AssertionError):
        assert_padding_ignored(model)


def refeed(model, src, lengths, max_len):
    tokens = torch.full((src.shape[0], 1), BOS)
    for _ in range(max_len):
        with torch.no_grad():
            nxt = model(src, lengths, tokens)[:, -1].argmax(-1)
        tokens = torch.cat([tokens, nxt[:, None]], 1)
    return tokens[:, 1:]


@pytest.mark.parametrize("position, norm_first", [("sinusoidal", True), ("rope", True), ("sinusoidal", False),
                                                  ("rope", False)])
def test_greedy_decode_equals_argmax_refeeding(position, norm_first):
    model = tiny(position, seed=3, norm_first=norm_first)
    with torch.no_grad():  # make <eos> likely late so rows finish at different steps
        model.output.bias[EOS] = 1.0
    src, lengths, _ = batch(2)
    got = model.greedy_decode(src, lengths, max_len=8)
    expected = refeed(model, src, lengths, 8)
    for row, exp in zip(got.tolist(), expected.tolist()):
        n = exp.index(EOS) + 1 if EOS in exp else len(exp)
        assert row[:n] == exp[:n]
        assert all(t == PAD for t in row[n:])
    assert got.shape[1] <= 8


@pytest.mark.parametrize("position", B.POSITIONS)
def test_cached_self_attention_steps_equal_the_causal_pass(position):
    mha = randomize(B.MultiHeadAttention(D, H), seed=14).eval()
    rope = B.RotaryEmbedding(D // H) if position == "rope" else None
    x = rand(2, 7, D, seed=15)
    cache: dict = {}
    with torch.no_grad():
        full = mha(x, is_causal=True, rope=rope)
        pieces = [mha.step(x[:, :3], cache, rope), mha.step(x[:, 3:4], cache, rope), mha.step(x[:, 4:], cache, rope)]
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, atol=1e-5, rtol=1e-5)
    assert cache["k"].shape == (2, H, 7, D // H)


def test_cached_decoding_past_the_position_table():
    model = tiny(seed=4)
    with torch.no_grad():
        model.output.bias[EOS] = -100.0  # never stops: decodes all 300 positions (the table starts at 256)
    src, lengths, _ = batch(3)
    got = model.greedy_decode(src[:1], lengths[:1], max_len=300)
    assert got.shape == (1, 300)
    tokens = torch.cat([torch.full((1, 1), BOS), got[:, :-1]], dim=1)
    with torch.no_grad():
        expected = model(src[:1], lengths[:1], tokens).argmax(-1)  # one teacher-forced pass over the same tokens
    assert torch.equal(got, expected)


def test_cross_attention_weights_shapes_and_masking():
    model = tiny(n_decoder_layers=3)
    src, lengths, tgt = batch()
    ws = model.cross_attention_weights(src, lengths, tgt)
    assert len(ws) == 3
    for w in ws:
        assert w.shape == (3, H, 7, 6)
        torch.testing.assert_close(w.sum(-1), torch.ones(3, H, 7))
        assert torch.all(w[1, :, :, 4:] == 0) and torch.all(w[2, :, :, 2:] == 0)
    # the explicit path gives the same logits as the fused one
    kept = []
    with torch.no_grad():
        memory, mask = model.encode(src, lengths)
        torch.testing.assert_close(model.decode(tgt, memory, mask, keep_weights=kept), model(src, lengths, tgt),
                                   atol=1e-5, rtol=1e-5)


def test_tied_output_shares_the_embedding():
    model = tiny(tie_output=True)
    assert model.output.weight is model.tgt_embed.weight
    assert model.num_parameters() == tiny().num_parameters() - 18 * D


def test_training_mode_dropout_and_gradients():
    model = tiny().train()
    src, lengths, tgt = batch()
    a, b = model(src, lengths, tgt), model(src, lengths, tgt)
    assert not torch.allclose(a, b)  # dropout is active
    a.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_cpu_bf16_autocast_runs():
    model = tiny("rope")
    src, lengths, tgt = batch()
    with torch.autocast("cpu", dtype=torch.bfloat16), torch.no_grad():
        out = model(src, lengths, tgt)
        ws = model.cross_attention_weights(src, lengths, tgt)
    assert out.dtype == torch.bfloat16 and torch.isfinite(out).all()
    assert ws[0].dtype == torch.float32


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_bf16_matches_cpu():
    model = tiny("rope")
    src, lengths, tgt = batch()
    with torch.no_grad():
        ref = model(src, lengths, tgt)
        cuda = model.cuda()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            out = cuda(src.cuda(), lengths.cuda(), tgt.cuda()).float().cpu()
        greedy = cuda.greedy_decode(src.cuda(), lengths.cuda(), 5)
    torch.testing.assert_close(out, ref, atol=0.1, rtol=0.05)
    assert greedy.device.type == "cuda"


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("kwargs, match", [
    (dict(d_model=30, n_heads=4), "divisible"),
    (dict(position="learned"), "position"),
    (dict(dropout=1.5), "dropout"),
    (dict(n_encoder_layers=0), "n_encoder_layers"),
    (dict(d_model=12, n_heads=4, position="rope"), "even"),
])
def test_bad_construction_is_a_clear_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tiny(**kwargs)


def test_bad_inputs_are_clear_errors():
    model = tiny()
    src, lengths, tgt = batch()
    with pytest.raises(TypeError, match="LongTensor"):
        model(src.float(), lengths, tgt)
    with pytest.raises(ValueError, match="outside"):
        model(src + 100, lengths, tgt)
    with pytest.raises(ValueError, match="src_lengths"):
        model(src, torch.tensor([7, 1, 1]), tgt)
    with pytest.raises(ValueError, match="src_lengths"):
        model(src, torch.tensor([6, 1]), tgt)
    with pytest.raises(ValueError, match="rows"):
        model(src, lengths, tgt[:2])
    with pytest.raises(ValueError, match="max_len"):
        model.greedy_decode(src, lengths, 0)


# ---------------------------------------------------------------- the model config

def test_model_config_is_the_one_list_of_hyperparameters():
    cfg = B.ModelConfig(d_model=D, n_heads=H, d_ff=FF, position="rope")
    torch.manual_seed(0)
    by_config = B.Seq2SeqTransformer(14, 18, cfg)
    torch.manual_seed(0)
    by_keywords = B.Seq2SeqTransformer(14, 18, **cfg.kwargs())
    assert by_config.config == by_keywords.config == cfg and (by_config.src_vocab, by_config.tgt_vocab) == (14, 18)
    assert all(torch.equal(a, b) for a, b in zip(by_config.state_dict().values(), by_keywords.state_dict().values()))
    assert B.Seq2SeqTransformer(14, 18, cfg, d_model=2 * D).config == cfg.replace(d_model=2 * D)
    # the constructor's keywords are exactly the config's fields: nothing is spelled out twice
    assert set(cfg.kwargs()) == {f.name for f in __import__("dataclasses").fields(B.ModelConfig)}
    assert "dropout" not in cfg.shape() and set(cfg.shape()) == set(cfg.kwargs()) - {"dropout"}
    with pytest.raises(ValueError, match="unknown ModelConfig field"):
        B.Seq2SeqTransformer(14, 18, heads=4)
    with pytest.raises(TypeError, match="ModelConfig"):
        B.Seq2SeqTransformer(14, 18, {"d_model": 16})
    with pytest.raises(ValueError, match="norm_first"):
        B.ModelConfig(norm_first="yes").validate()
