"""Training loop and evaluation: schedule, config checks, reproducibility, exact resume, callbacks,
and metrics computed against hand-made models whose answers are known."""

from __future__ import annotations

import dataclasses
import math

import pytest
import sacrebleu
import torch
from torch import nn

from course import training as T
from course.evaluation import evaluate, translate, unwrap
from course.tasks import Task
from course.tokenizer import pad_batch

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny(**changes) -> T.TrainConfig:
    base = dict(task="copy", d_model=32, n_heads=2, n_encoder_layers=1, n_decoder_layers=1, d_ff=64, dropout=0.1,
                batch_size=16, steps=6, warmup_steps=2, device="cpu", progress=False, eval_interval=0, test_size=40,
                log_interval=1)
    base.update(changes)
    return T.TrainConfig().replace(**base)


def params(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ------------------------------------------------------------------------------ schedule and config

def test_warmup_then_cosine_to_the_floor():
    f = T.lr_factor(T.TrainConfig(steps=100, warmup_steps=10, decay="cosine", min_lr_ratio=0.1))
    assert f(0) == pytest.approx(0.1) and f(4) == pytest.approx(0.5) and f(9) == pytest.approx(1.0)
    assert f(10) == pytest.approx(1.0)
    assert f(55) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert f(100) == pytest.approx(0.1) and f(500) == pytest.approx(0.1)
    values = [f(s) for s in range(10, 101)]
    assert all(a >= b for a, b in zip(values, values[1:]))


@pytest.mark.parametrize("decay, at_end", [("linear", 0.0), ("constant", 1.0), ("inverse_sqrt", math.sqrt(10 / 101))])
def test_other_decays(decay, at_end):
    f = T.lr_factor(T.TrainConfig(steps=100, warmup_steps=10, decay=decay))
    assert f(100) == pytest.approx(at_end)


def test_presets():
    assert T.PRESETS["gpu"].model.d_model >= 512
    for name in T.PRESETS:
        T.preset(name).validate()
    assert T.preset("cpu", steps=7).steps == 7
    with pytest.raises(ValueError, match="preset"):
        T.preset("tpu")
    with pytest.raises(ValueError, match="unknown TrainConfig"):
        T.preset("cpu", stepz=3)


def test_model_fields_go_into_the_model_config():
    config = T.preset("cpu", d_model=64, n_heads=2, steps=9)
    assert isinstance(config.model, T.ModelConfig) and config.model.d_model == 64 and config.model.n_heads == 2
    assert config.steps == 9 and config.model.d_ff == T.PRESETS["cpu"].model.d_ff
    assert T.PRESETS["cpu"].model.d_model != 64 or T.PRESETS["cpu"].model.n_heads != 2  # presets untouched
    both = T.TrainConfig().replace(model=T.ModelConfig(d_model=32), n_heads=8)
    assert (both.model.d_model, both.model.n_heads) == (32, 8)
    built = T.build_model(T.TrainConfig().replace(d_model=16, n_heads=2, d_ff=24), Task("copy", test_size=5))
    assert built.config == T.ModelConfig(d_model=16, n_heads=2, d_ff=24)


@pytest.mark.parametrize("changes, match", [
    (dict(d_model=30, n_heads=4), "divisible"), (dict(task="fr"), "task"), (dict(steps=0), "steps"),
    (dict(decay="step"), "decay"), (dict(device="tpu"), "device"), (dict(lr=0.0), "lr"),
    (dict(resume=True), "checkpoint"), (dict(eval_size=5000), "eval_size"), (dict(position="rope", d_model=12, n_heads=4), "RoPE"),
    (dict(clip=0.0), "clip"), (dict(seed=-1), "seed"), (dict(batch_size=2.5), "batch_size"),
])
def test_bad_configs_are_clear_errors(changes, match):
    with pytest.raises(ValueError, match=match):
        T.TrainConfig().replace(**changes).validate()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="no CUDA"):
        T.resolve_device("cuda")
    assert T.resolve_device("auto").type == "cpu"


def test_each_rank_and_step_draws_its_own_batch():
    task = Task("zh", test_size=10)
    draw = lambda rank, step: task.sample(8, T.step_generator(0, rank, step))  # noqa: E731
    assert draw(0, 5) == draw(0, 5)
    assert draw(0, 5) != draw(1, 5) and draw(0, 5) != draw(0, 6)



def bucket_gradient(buckets: int, per_piece_mean: bool = False) -> tuple[dict, int]:
    """Gradient of one step's loss when the batch is cut into ``buckets`` pieces; also the padded token count."""
    cfg = T.TrainConfig().replace(task="zh", d_model=16, n_heads=2, n_encoder_layers=1, n_decoder_layers=1, d_ff=32,
                                  dropout=0.0, batch_size=24, length_buckets=buckets, test_size=10)
    torch.manual_seed(0)
    task = Task("zh", test_size=10)
    model = T.build_model(cfg, task)
    pieces = T.step_batches(task, cfg, T.step_generator(0, 0, 0))
    tokens = sum(int((b.tgt_out != 0).sum()) for b in pieces)
    loss_fn = nn.CrossEntropyLoss(ignore_index=0, reduction="sum")
    for b in pieces:
        loss = loss_fn(model(b.src, b.src_lengths, b.tgt_in).flatten(0, 1), b.tgt_out.flatten())
        denom = int((b.tgt_out != 0).sum()) * len(pieces) if per_piece_mean else tokens
        (loss / denom).backward()
    padded = sum(b.tgt_out.numel() + b.src.numel() for b in pieces)
    return {n: p.grad.clone() for n, p in model.named_parameters()}, padded


def test_length_buckets_keep_the_gradient_and_cut_padding():
    whole, padded_whole = bucket_gradient(1)
    pieces, padded_pieces = bucket_gradient(3)
    for name in whole:
        torch.testing.assert_close(pieces[name], whole[name], atol=1e-6, rtol=1e-4)
    assert padded_pieces < 0.85 * padded_whole
    wrong, _ = bucket_gradient(3, per_piece_mean=True)  # averaging piece means weights tokens unequally
    assert any(not torch.allclose(wrong[n], whole[n], atol=1e-6, rtol=1e-4) for n in whole)

# ------------------------------------------------------------------------------ the loop

def test_training_is_reproducible_and_seeded():
    a, b = T.train_model(tiny()), T.train_model(tiny())
    c = T.train_model(tiny(seed=1))
    assert same(params(a.model), params(b.model))
    assert not same(params(a.model), params(c.model))
    assert a.steps == 6 and a.stopped_by == "steps" and len(a.history) == 6
    assert set(a.metrics) == {"valid", "test", "hard", "short"}


def test_loss_falls_on_the_copy_task():
    r = T.train_model(tiny(steps=60, lr=3e-3, dropout=0.0, log_interval=10))
    losses = [h["loss"] for h in r.history]
    assert losses[-1] < 0.8 * losses[0]


def test_resume_gives_the_same_result_as_not_stopping(tmp_path):
    straight = params(T.train_model(tiny()).model)
    path = tmp_path / "run.pt"
    first = T.train_model(tiny(checkpoint=str(path)), callbacks=lambda ev: ev.kind == "step" and ev.step == 3)
    assert first.steps == 3 and first.stopped_by == "callback" and path.is_file()
    resumed = T.train_model(tiny(checkpoint=str(path), resume=True))
    assert resumed.steps == 6
    assert same(params(resumed.model), straight)
    assert [h["step"] for h in resumed.history] == list(range(1, 7))


def test_resume_check_detects_a_lost_dropout_state(tmp_path):
    """The comparison above is sensitive: resuming with another RNG state changes the parameters."""
    straight = params(T.train_model(tiny()).model)
    path = tmp_path / "run.pt"
    T.train_model(tiny(checkpoint=str(path)), callbacks=lambda ev: ev.kind == "step" and ev.step == 3)
    state = torch.load(path, weights_only=False)
    torch.manual_seed(123)
    state["rng"][0]["cpu"] = torch.get_rng_state()
    torch.save(state, path)
    assert not same(params(T.train_model(tiny(checkpoint=str(path), resume=True)).model), straight)


def test_resume_refuses_another_model(tmp_path):
    path = tmp_path / "run.pt"
    T.train_model(tiny(steps=2, checkpoint=str(path)))
    with pytest.raises(ValueError, match="different model"):
        T.train_model(tiny(d_model=64, checkpoint=str(path), resume=True))
    with pytest.raises(FileNotFoundError):
        T.train_model(tiny(checkpoint=str(tmp_path / "missing.pt"), resume=True))


def test_callbacks_see_steps_evals_and_the_end():
    events = []
    r = T.train_model(tiny(eval_interval=3), callbacks=[events.append])
    kinds = [e.kind for e in events]
    assert kinds.count("step") == 6 and kinds.count("eval") == 1 and kinds[-1] == "end"
    # what a callback (the live plot) sees is the validation split, never a test split
    assert events[-1].metrics is r.metrics["valid"] and events[-1].metrics.split == "valid"
    assert all(e.metrics.split == "valid" for e in events if e.kind == "eval")
    assert all(e.loss > 0 for e in events if e.kind == "step")
    assert r.evals[0]["step"] == 3 and r.evals[0]["split"] == "valid"


def test_early_stopping_reads_the_validation_split_and_the_test_is_scored_once(monkeypatch):
    """target_exact stops on validation scores; the test splits are evaluated once, after training."""
    import course.training as training_module

    seen = []
    real = training_module.evaluate

    def spy(model, task, split="test", *args, **kwargs):
        seen.append(split if isinstance(split, str) else ("list", kwargs.get("label"), tuple(split)))
        result = real(model, task, split, *args, **kwargs)
        return result if isinstance(split, str) else dataclasses.replace(result, exact=1.0)  # "reached" at once

    monkeypatch.setattr(training_module, "evaluate", spy)
    r = T.train_model(tiny(steps=20, eval_interval=2, target_exact=0.99, eval_size=7))
    assert r.stopped_by == "target" and r.steps == 2 and r.reached_target_at is not None
    periodic, final = seen[0], seen[1:]
    assert periodic[:2] == ("list", "valid[:7]") and set(periodic[2]) <= set(r.task.valid_set)
    assert not set(periodic[2]) & (set(r.task.test_set) | set(r.task.hard_set))
    assert final == ["valid", "test", "hard", "short"]  # each test split once, at the end


def test_history_records_the_scheduled_rate_of_each_step():
    config = tiny(steps=8, warmup_steps=3, lr=2e-3, decay="linear")
    factor = T.lr_factor(config)
    r = T.train_model(config)
    assert [h["lr"] for h in r.history] == pytest.approx([2e-3 * factor(s) for s in range(8)])

def test_another_model_class_can_be_trained():
    """The notebook trains the student's own class: anything with the same constructor and methods."""
    from course.blocks import Seq2SeqTransformer

    built = []

    class Student(Seq2SeqTransformer):
        def __init__(self, *args, **kwargs):
            built.append((args, kwargs))
            super().__init__(*args, **kwargs)

    r = T.train_model(tiny(steps=2), model_class=Student)
    assert isinstance(r.model, Student) and built[0][1]["d_model"] == 32
    with pytest.raises(TypeError, match="model_class"):
        T.train_model(tiny(), model_class=lambda *a, **kw: None)


def _mean_smoothed(logits, targets, smoothing):
    """Chapter 08's smoothed_cross_entropy, written independently: the mean over non-PAD targets."""
    from course.tokenizer import PAD
    logp = logits.log_softmax(-1)
    loss = -(1 - smoothing) * logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - smoothing * logp.mean(-1)
    return loss[targets != PAD].mean()


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_a_students_mean_loss_trains_exactly_like_the_built_in(smoothing):
    """loss_fn (chapter 08's signature) gives the same weights as nn.CrossEntropyLoss with the same smoothing,
    over several steps with length buckets (so the per-piece sums really are weighted by token counts)."""
    config = tiny(steps=4, dropout=0.0, label_smoothing=smoothing, length_buckets=2)
    ours = T.train_model(config, loss_fn=_mean_smoothed)
    theirs = T.train_model(config)
    # the losses step by step, and the trained models' outputs (not every parameter: the key bias gets
    # a zero gradient in exact arithmetic, and Adam turns rounding noise there into full-size steps)
    assert [h["loss"] for h in ours.history] == pytest.approx([h["loss"] for h in theirs.history], rel=1e-5)
    batch = Task("copy").make_batch(["12345", "907"])
    with torch.no_grad():
        a = ours.model.eval()(batch.src, batch.src_lengths, batch.tgt_in)
        b = theirs.model.eval()(batch.src, batch.src_lengths, batch.tgt_in)
    assert torch.allclose(a, b, atol=1e-4)
    wrong = T.train_model(config, loss_fn=lambda lg, t, e: _mean_smoothed(lg, t, 0.5))  # another smoothing
    assert [h["loss"] for h in wrong.history] != [h["loss"] for h in ours.history]


def test_a_loss_fn_that_is_not_a_scalar_is_a_clear_error():
    with pytest.raises(TypeError, match="loss_fn"):
        T.train_model(tiny(steps=1), loss_fn="cross_entropy")
    with pytest.raises(TypeError, match="0-d tensor"):
        T.train_model(tiny(steps=1), loss_fn=lambda logits, targets, e: logits.sum(-1))


def test_bad_callbacks_are_a_clear_error():
    for bad in (3, [print, "x"]):
        with pytest.raises(TypeError, match="callbacks"):
            T.train_model(tiny(), callbacks=bad)


def test_time_cap_stops_the_run():
    r = T.train_model(tiny(steps=1000, minutes=1e-6))
    assert r.stopped_by == "minutes" and r.steps < 1000


# ------------------------------------------------------------------------------ evaluation

class Scripted(nn.Module):
    """Answers with ``corrupt(correct answer)``, both when decoding and as teacher-forced logits."""

    def __init__(self, task: Task, corrupt=lambda source, text: text):
        super().__init__()
        self.task, self.corrupt = task, corrupt
        self.weight = nn.Parameter(torch.zeros(1))

    def answers(self, src):
        sources = [self.task.source_tokenizer.decode(row) for row in src]
        return [self.corrupt(s, self.task.target_text(s)) for s in sources]

    def greedy_decode(self, src, src_lengths, max_len):
        ids, _ = pad_batch([self.task.target_tokenizer.encode(a, eos=True)[:max_len] for a in self.answers(src)])
        return ids

    def forward(self, src, src_lengths, tgt_in):
        ids, _ = pad_batch([self.task.target_tokenizer.encode(a, eos=True) for a in self.answers(src)])
        ids = torch.nn.functional.pad(ids, (0, max(0, tgt_in.shape[1] - ids.shape[1])))[:, : tgt_in.shape[1]]
        return torch.nn.functional.one_hot(ids, len(self.task.target_tokenizer)).float()


def test_a_perfect_model_scores_perfectly():
    task = Task("zh", test_size=200)
    r = evaluate(Scripted(task), task)
    assert (r.exact, r.token_accuracy, r.count, r.errors) == (1.0, 1.0, 200, [])
    assert r.bleu == pytest.approx(100.0)


def test_metrics_of_a_model_with_known_mistakes():
    task = Task("zh", test_size=300)

    def corrupt(source, text):  # every source ending in 5 gets its last character wrong
        return text[:-1] + ("九" if text[-1] != "九" else "八") if source.endswith("5") else text
    model = Scripted(task, corrupt)
    r = evaluate(model, task, max_errors=1000)
    wrong = [s for s in task.test_set if s.endswith("5")]
    assert r.exact == pytest.approx(1 - len(wrong) / 300)
    tokens = sum(len(task.target_text(s)) + 1 for s in task.test_set)  # + <eos>
    assert r.token_accuracy == pytest.approx(1 - len(wrong) / tokens)
    assert sorted(e["source"] for e in r.errors) == sorted(wrong)
    e = r.errors[0]
    assert e["expected"] == task.target_text(e["source"]) and e["predicted"] == corrupt(e["source"], e["expected"])
    hyps = [corrupt(s, task.target_text(s)) for s in task.test_set]
    expected_bleu = sacrebleu.corpus_bleu(hyps, [[task.target_text(s) for s in task.test_set]], tokenize="zh").score
    assert r.bleu == pytest.approx(expected_bleu) and r.bleu < 100
    assert len(evaluate(model, task, max_errors=3).errors) == 3


def test_a_stray_special_token_is_not_forgiven():
    """An <unk> in the output disappears when decoded, but the answer is still wrong."""
    task = Task("zh", test_size=50)
    model = Scripted(task, lambda source, text: text[:1] + "x" + text[1:] if source.endswith("7") else text)
    r = evaluate(model, task, max_errors=100)
    wrong = [s for s in task.test_set if s.endswith("7")]
    assert wrong and r.exact == pytest.approx(1 - len(wrong) / 50)
    assert all("<unk>" in e["predicted"] for e in r.errors) and len(r.errors) == len(wrong)


def test_bleu_tokenizers_follow_the_language():
    assert Task("zh", test_size=5).bleu_tokenize == "zh"
    assert Task("en", test_size=5).bleu_tokenize == "13a"


def test_bleu_of_short_outputs_is_not_zero():
    task = Task("zh", test_size=5)
    r = evaluate(Scripted(task), task, "short")
    assert r.exact == 1.0 and r.bleu == pytest.approx(100.0)


def test_translate_and_unwrap():
    task = Task("en", test_size=5)
    model = Scripted(task)
    wrapper = nn.Module()
    wrapper.module = model
    assert unwrap(wrapper) is model
    assert translate(wrapper, task, ["21", "1204"]) == ["twenty-one", "one thousand two hundred four"]
    r = evaluate(wrapper, task, ["7", "70"])
    assert r.split == "custom" and r.exact == 1.0
    with pytest.raises(TypeError, match="split"):
        evaluate(model, task, 5)
    with pytest.raises(ValueError, match="split"):
        evaluate(model, task, "train")


def test_evaluate_restores_training_mode():
    result = T.train_model(tiny(steps=1))
    result.model.train()
    evaluate(result.model, result.task, "short")
    assert result.model.training


def test_the_hard_split_has_the_size_asked_for():
    assert len(T.make_task(T.preset("cpu", hard_size=100)).hard_set) == 100
    with pytest.raises(ValueError, match="hard_size"):
        T.preset("cpu", hard_size=0).validate()
