"""Helpers the visible tests of chapter 08 use: the reference model paired with the student's (same
weights), scripted stand-in models for greedy decoding, and PyTorch's cross-entropy switched off.
"""

from __future__ import annotations

import contextlib
import zlib

import torch
from torch import nn

from course.blocks import Seq2SeqTransformer
from course.checks.borrowed import CE_ATEN, CE_PY, Borrowed, switched_off_for
from course.checks.core import call, check, close
from course.checks.elsewhere import module_method
from course.checks.messages import Message, english, fail, msg, render
from course.checks.plain import plain
from course.language import use_language
from course.tokenizer import BOS, EOS, PAD

_Module = nn.Module
_load_state_dict, _module_eval = module_method("load_state_dict"), module_method("eval")
_named_parameters = module_method("named_parameters")
_module_train = module_method("train")
_data_ptr, _numel = torch.Tensor.data_ptr, torch.Tensor.numel
_manual_seed, _equal = torch.manual_seed, torch.equal


def no_builtin_cross_entropy():
    """Within the block, what smoothed_cross_entropy may not borrow (F.cross_entropy, F.nll_loss,
    nn.CrossEntropyLoss and the operators underneath) raises an explanatory AssertionError.

    Kept for the visible test cell; :func:`course.checks.core.call` already does this for
    ``smoothed_cross_entropy``."""
    return switched_off_for("smoothed_cross_entropy")


CONFIGS = [
    dict(d_model=16, n_heads=2, n_encoder_layers=2, n_decoder_layers=1, d_ff=32, norm_first=True,
         position="sinusoidal", tie_output=False),
    dict(d_model=16, n_heads=4, n_encoder_layers=1, n_decoder_layers=2, d_ff=24, norm_first=False,
         position="sinusoidal", tie_output=True),
    dict(d_model=12, n_heads=2, n_encoder_layers=1, n_decoder_layers=1, d_ff=20, norm_first=True,
         position="rope", tie_output=False),
    dict(d_model=8, n_heads=1, n_encoder_layers=2, n_decoder_layers=2, d_ff=16, norm_first=False,
         position="rope", tie_output=True),
]


def random_batch(src_vocab: int, tgt_vocab: int, g: torch.Generator, batch: int = 3, src_len: int = 7,
                 tgt_len: int = 5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Source ids padded after random lengths (the first row full), lengths, target ids."""
    lengths = torch.randint(1, src_len + 1, (batch,), generator=g)
    lengths[0] = src_len
    src = torch.randint(4, src_vocab, (batch, src_len), generator=g)
    src = src.masked_fill(torch.arange(src_len)[None, :] >= lengths[:, None], PAD)
    tgt = torch.cat([torch.full((batch, 1), BOS), torch.randint(4, tgt_vocab, (batch, tgt_len - 1), generator=g)], 1)
    return src, lengths, tgt


def paired_models(Transformer: type, config: dict, src_vocab: int, tgt_vocab: int, seed: int, dropout: float = 0.1):
    """The reference model (random weights) and the student's, loaded with the same weights, both in eval mode."""
    torch.manual_seed(seed)
    ref = Seq2SeqTransformer(src_vocab, tgt_vocab, dropout=dropout, **config).eval()
    with torch.no_grad():  # move biases and norms away from their 0/1 start so that every one matters
        for p in ref.parameters():
            p.add_(0.1 * torch.randn_like(p))
    ours = call(Transformer, src_vocab, tgt_vocab, dropout=dropout, **config)
    check(isinstance(ours, nn.Module), "Transformer(...) should build an nn.Module, got {kind}",
          kind=type(ours).__name__)
    call(_load_into, ours, ref.state_dict())
    call(_module_eval, ours)
    return ref, ours


def _load_into(model: nn.Module, state: dict) -> None:
    try:
        _load_state_dict(model, state)
    except RuntimeError as err:
        raise fail("the model's parameters should keep the names given in __init__: {error}", error=err) from None


def _parameter_dict(model: nn.Module, remove_duplicate: bool) -> dict:
    return dict(_named_parameters(model, remove_duplicate=remove_duplicate))


def parameters_of(model: nn.Module, remove_duplicate: bool = True) -> dict[str, torch.Tensor]:
    """The model's parameters by name (shared ones once unless ``remove_duplicate=False``), as plain
    tensors on the model's data, read as the checks run student code."""
    return call(_parameter_dict, model, remove_duplicate)


def n_params(model: nn.Module) -> int:
    """Parameters, each shared tensor counted once."""
    return sum(int(_numel(p)) for p in parameters_of(model).values())


def shares_storage(model: nn.Module, a: str, b: str) -> bool:
    """Whether parameters ``a`` and ``b`` (dotted names) are one tensor (the same data)."""
    p = parameters_of(model, remove_duplicate=False)
    check(a in p and b in p, "the model should have parameters {a} and {b}; found {found}", a=a, b=b,
          found=sorted(p)[:12])
    return _data_ptr(p[a]) == _data_ptr(p[b]) and tuple(p[a].shape) == tuple(p[b].shape)


def same_parameter(model: nn.Module, a: str, b: str) -> bool:
    """Whether parameters ``a`` and ``b`` (dotted names) are one tensor (the same data), whatever their shapes."""
    p = parameters_of(model, remove_duplicate=False)
    check(a in p and b in p, "the model should have parameters {a} and {b}; found {found}", a=a, b=b,
          found=sorted(p)[:12])
    return _data_ptr(p[a]) == _data_ptr(p[b])


def keeps_embedding_init(Transformer: type, config: dict, src_vocab: int, tgt_vocab: int, seed: int) -> None:
    """Tied and untied models built from the same seed must start with the same target embedding: tying may not
    replace the embedding's initialisation (std 1/√d_model) with the output layer's (nn.Linear's, a third of the
    variance), which later cells (Part 10's scale figure, the training runs) rely on."""
    weights = []
    for tie in (True, False):
        _manual_seed(seed)
        model = call(Transformer, src_vocab, tgt_vocab, **dict(config, tie_output=tie))
        weights.append(parameters_of(model, remove_duplicate=False)["tgt_embed.weight"].detach())
    check(_equal(weights[0], weights[1]),
          "tie_output=True changed the target embedding's starting values: the embedding took the output layer's "
          "weight (std 1/√(3·d_model), nn.Linear's) instead of the output layer taking the embedding's (std "
          "1/√d_model), so the token/position scale of Part 2 and Part 10 changes. Tie in the other direction: the "
          "output projection shares the embedding's Parameter (Part 3)")


def method(model: nn.Module, name: str, *args, **kwargs):
    """``model.<name>(*args, **kwargs)`` with the attribute lookup inside the student's call too."""
    return getattr(model, name)(*args, **kwargs)


class ScriptedModel(nn.Module):
    """A stand-in model whose decoder emits a fixed token sequence per source, whatever it is fed.

    ``script`` (n, steps) lists the tokens source row r should produce; a source row is
    identified by its first id (give row r the ids [r, ...]), so decoding rows one at a time works
    too. ``decode`` checks that it is fed <bos> and the tokens produced so far; ``src_lengths`` is what
    ``encode`` was last given, as a list (plain data, so that the grader brings it back from the sandbox).
    """

    def __init__(self, script: torch.Tensor, vocab: int):
        super().__init__()
        self.script, self.vocab = script, vocab
        self.calls = 0
        self.src_lengths: list = []

    def encode(self, src, src_lengths):
        self.src_lengths = torch.as_tensor(src_lengths).tolist()
        memory = torch.zeros(src.shape[0], src.shape[1], 4)
        memory[:, 0, 0] = src[:, 0].float()  # which script row this source is
        return memory, torch.ones(src.shape[0], 1, 1, src.shape[1], dtype=torch.bool)

    def decode(self, tgt_in, memory, src_mask):
        self.calls += 1
        batch, t = tgt_in.shape
        check(bool((tgt_in[:, 0] == BOS).all()), "greedy decoding starts every row with <bos>")
        rows = memory[:, 0, 0].long()
        steps = self.script.shape[1]
        logits = torch.full((batch, t, self.vocab), -5.0)
        for i, row in enumerate(rows.tolist()):
            script = self.script[row]
            ended = (script[: t - 1] == EOS).nonzero()
            upto = int(ended[0]) + 1 if len(ended) else t - 1
            check(torch.equal(tgt_in[i, 1: 1 + upto], script[:upto]),
                  "at step {t}, source {row} was fed {fed}; the tokens produced so far were {produced} (feed back "
                  "the argmax)", t=t, row=row, fed=tgt_in[i, 1:].tolist(), produced=script[:upto].tolist())
            for pos in range(t):
                logits[i, pos, script[min(pos, steps - 1)]] = 5.0
        return logits


def scripted_sources(n: int, length: int = 2) -> torch.Tensor:
    """Sources for a ScriptedModel: row r is [r, 4, 4, ...]."""
    return torch.cat([torch.arange(n)[:, None], torch.full((n, length - 1), 4)], dim=1)


# --------------------------------------------------------------------------- teaching messages

@contextlib.contextmanager
def second_values(what):
    """A failure inside the block starts with ``what``, the call tried with other values: an answer that ignores a
    parameter (a value written in instead of the argument) fails there, and the message says which values.

    ``what``: an English template without values, or a ``msg(...)``; shown in the edition's language."""
    try:
        yield
    except AssertionError as err:
        named = AssertionError(f"{render(what)}: {err}")
        with use_language("en"):
            named.english = f"{render(what)}: {english(err)}"
        raise named from None


def explain(got, wrong, atol: float = 1e-5) -> None:
    """If ``got`` equals one of the known wrong answers, raise the message that names that mistake.

    ``wrong``: (message, its value) pairs (a dict message → value is read the same way), the values the
    hand-worked results of the usual mistakes, written out in the test cell: a match names the mistake and where
    the notebook explains it. A message is an English template without values, or a ``msg(...)``."""
    value = plain(got, "the result")
    if not isinstance(value, (torch.Tensor, int, float)):
        return
    a = torch.as_tensor(value).detach().double()
    for message, w in (wrong.items() if isinstance(wrong, dict) else wrong):
        b = torch.as_tensor(w).detach().double()
        if a.shape == b.shape and bool(torch.isfinite(a).all()) and bool(((a - b).abs() <= atol).all()):
            raise fail(message)


def train_mode_outputs(reference: nn.Module, model: nn.Module, *inputs, seed: int = 0):
    """Both models in train mode (dropout on), each run from the same seed: (reference's logits, the student's).

    Dropout masks come from torch's global generator in the order the layers use it, so a model
    wired like the reference draws the very same masks."""
    reference.train()
    call(_module_train, model)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            want = reference(*inputs)
            torch.manual_seed(seed)
            got = call(model, *inputs)
    finally:
        reference.eval()
        call(_module_eval, model)
    return want, got


def expect_train_mode(reference: nn.Module, model: nn.Module, *inputs, seed: int, what: str | Message) -> None:
    """The student's logits in train mode equal the reference's drawn from the same seed; a model whose embedding
    dropout uses a fixed probability instead of the one it was built with is named."""
    want, got = train_mode_outputs(reference, model, *inputs, seed=seed)
    built = reference.embed_dropout.p
    if built != 0.1:  # what a model that ignored its dropout argument, using 0.1 instead, would give
        reference.embed_dropout.p = 0.1
        reference.train()
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                fixed = reference(*inputs)
        finally:
            reference.eval()
            reference.embed_dropout.p = built
        explain(got, [(msg("Transformer(dropout={p:g}): your embeddings were dropped with probability 0.1 whatever "
                           "the model was given: the dropout argument was ignored; apply self.embed_dropout, built "
                           "with it (Part 3)", p=built), fixed)], atol=1e-4)
    close(got, want, atol=1e-4, name=what)


def padding_probe(model: nn.Module, src: torch.Tensor, lengths: torch.Tensor, tgt: torch.Tensor) -> float:
    """How much the logits move when the sources get two more padding columns (0 when padding is hidden)."""
    longer = torch.cat([src, torch.full((src.shape[0], 2), PAD, dtype=src.dtype)], dim=1)
    with torch.no_grad():
        a, b = call(model, src, lengths, tgt), call(model, longer, lengths, tgt)
    diff = (plain(a, "logits") - plain(b, "logits")).abs().max()
    return float(diff) if bool(torch.isfinite(diff)) else float("inf")


# --------------------------------------------------------------------------- KV cache (bonus)

class PositionCounter:
    """Records how many positions the decoder layers process per call, and the encoder's calls.

    ``with PositionCounter(model) as seen:`` → ``seen.projected`` (the sequence lengths fed to each
    decoder layer's self-attention projection and feed-forward block), ``seen.encoder_calls``."""

    def __init__(self, model: nn.Module):
        self.model, self.projected, self.encoder_calls, self._handles = model, [], 0, []

    def __enter__(self):
        for layer in self.model.decoder.layers:
            for module in (layer.self_attn.in_proj, layer.ff):
                self._handles.append(module.register_forward_hook(
                    lambda m, args, out: self.projected.append(int(args[0].shape[-2]))))
        self._handles.append(self.model.encoder.register_forward_hook(lambda m, a, o: self._count()))
        return self

    def _count(self):
        self.encoder_calls += 1

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        return False


# --------------------------------------------------------------------------- beam search (bonus)

class ScriptedLM(nn.Module):
    """A stand-in model whose next-token distribution is a fixed function of the prefix written so far.

    ``table`` maps a prefix (a tuple of ids after <bos>) to next-token probabilities (a list of
    ``vocab`` numbers, zeros allowed); a prefix not in the table gets pseudo-random logits seeded by
    (``seed``, prefix), or, with ``seed=None``, <eos> for sure. The source is ignored."""

    def __init__(self, vocab: int, table: dict | None = None, seed: int | None = None):
        super().__init__()
        self.vocab, self.table, self.seed = vocab, dict(table or {}), seed
        self.calls = 0
        self.longest = 0  # the longest target prefix (with <bos>) decode was asked about
        self._src_len = None

    def encode(self, src, src_lengths):
        self._src_len = src.shape[1]
        mask = torch.ones(src.shape[0], 1, 1, src.shape[1], dtype=torch.bool)
        return torch.zeros(src.shape[0], src.shape[1], 2), mask

    def next_logits(self, prefix: tuple[int, ...]) -> torch.Tensor:
        if prefix in self.table:
            p = torch.tensor(self.table[prefix], dtype=torch.float64)
            return torch.where(p > 0, p.clamp_min(1e-300).log(), torch.full_like(p, -1e4)).float()
        if self.seed is None:
            out = torch.full((self.vocab,), -1e4)
            out[EOS] = 0.0
            return out
        key = zlib.crc32(repr((self.seed, prefix)).encode())
        return 2.0 * torch.randn(self.vocab, generator=torch.Generator().manual_seed(key))

    def decode(self, tgt_in, memory, src_mask):
        self.calls += 1
        self.longest = max(self.longest, tgt_in.shape[1])
        check(bool((tgt_in[:, 0] == BOS).all()), "every hypothesis starts with <bos>")
        n, s = tgt_in.shape[0], self._src_len
        for name, value, shape in (("memory", memory, (s, 2)), ("src_mask", src_mask, (1, 1, s))):
            got = tuple(getattr(value, "shape", ()))
            check(len(got) == len(shape) + 1 and got[1:] == shape and got[0] in (1, n),
                  "decode got {name} of shape {got} beside {n} target row(s): pass what encode returned, one row "
                  "per hypothesis {rows} (or its single row, {row})", name=name, got=got, n=n, rows=(n, *shape),
                  row=(1, *shape))
        rows = tgt_in.tolist()
        return torch.stack([torch.stack([self.next_logits(tuple(row[1: p + 1])) for p in range(len(row))])
                            for row in rows])


def brute_force_best(model: ScriptedLM, max_len: int) -> tuple[list[int], float]:
    """The most likely finished sequence (ending in <eos>, at most max_len tokens) by trying every one."""
    best: tuple[list[int], float] = ([], float("-inf"))
    stack: list[tuple[tuple[int, ...], float]] = [((), 0.0)]
    while stack:
        prefix, score = stack.pop()
        logp = model.next_logits(prefix).double().log_softmax(-1)
        for v in range(model.vocab):
            s = score + float(logp[v])
            if v == EOS:
                if s > best[1]:
                    best = (list(prefix) + [v], s)
            elif len(prefix) + 1 < max_len:
                stack.append((prefix + (v,), s))
    return best


# what would do each exercise's work (switched off while the student's code runs under the checks); the
# course's Encoder, Decoder, padding_mask and positions are given in this chapter and stay usable
CE_C = ("torch._C._nn.cross_entropy_loss", "torch._C._nn.nll_loss", "torch._C._nn.nll_loss_nd",
        "torch._C._nn.nll_loss2d", "torch.ops.aten.cross_entropy_loss", "torch.ops.aten.cross_entropy_loss.default",
        "torch.ops.aten.nll_loss", "torch.ops.aten.nll_loss_nd", "torch.ops.aten.nll_loss_forward")
_SC = "course.student_code"
_EX = "course.experiments.ch08_transformer"
# every decoding loop the course ships: the reference's cached greedy, the layer step, the evaluation's and the
# student-code fallback's loops, and the sampling demo (top_k=1 is greedy)
_DECODERS = ("course.blocks.Seq2SeqTransformer.greedy_decode", "course.blocks._decoder_layer_step",
             "course.evaluation.greedy_ids", "course.evaluation.translate", f"{_SC}._uncached_greedy",
             f"{_EX}.sample_outputs")
BORROWED = {
    "embed": Borrowed("scale the embedding and add the table yourself: the course's Seq2SeqTransformer does it "
                      "in its _embed", python=("course.blocks.Seq2SeqTransformer._embed",
                                               "course.blocks.SinusoidalPositions.forward", f"{_SC}._Table.forward"),
                      given=("course.blocks.Seq2SeqTransformer._embed",)),
    "Transformer": Borrowed("assemble the model yourself: the course's Seq2SeqTransformer is the reference",
                            python=("course.blocks.Seq2SeqTransformer", "torch.nn.Transformer"),
                            given=("course.blocks.Seq2SeqTransformer",)),
    "greedy_decode": Borrowed("write the decoding loop yourself: the course's greedy_decode is the reference",
                              python=_DECODERS, given=("course.blocks.Seq2SeqTransformer.greedy_decode",
                                                       f"{_SC}._uncached_greedy", f"{_EX}.sample_outputs")),
    "smoothed_cross_entropy": Borrowed("write the smoothed loss from log_softmax yourself: F.cross_entropy / "
                                       "F.nll_loss (and nn.CrossEntropyLoss, which calls them) are the reference",
                                       python=(*CE_PY, f"{_SC}._course_loss"), torch=CE_C, aten=CE_ATEN),
    "attention_step": Borrowed("project, rotate, cache and attend yourself: the course's MultiHeadAttention.step "
                               "is the reference", python=("course.blocks.MultiHeadAttention.step",),
                               given=("course.blocks.MultiHeadAttention.step",)),
    "cached_greedy_decode": Borrowed("run the layers step by step yourself: the course's cached greedy_decode "
                                     "(and its layer step) is the reference; the full-prefix decoder is what the "
                                     "cache replaces",
                                     python=(*_DECODERS, "course.blocks.MultiHeadAttention.step",
                                             "course.blocks.DecoderLayer.forward", "course.blocks.Decoder.forward",
                                             "course.blocks.Seq2SeqTransformer.decode",
                                             "course.blocks.Seq2SeqTransformer.forward"),
                                     given=("course.blocks.Seq2SeqTransformer.greedy_decode",
                                            "course.blocks._decoder_layer_step")),
    "beam_search": Borrowed("search the beam yourself: the exhaustive search of the checks is the reference",
                            python=(f"{__name__}.brute_force_best", *_DECODERS)),
}
