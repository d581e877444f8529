"""Demos of chapter 08: building the student's model, the training loop and its schedules, tying, the
embedding scale, the error table, cross-attention, decoding speed, beam search and sampling.

Every function takes the student's classes and functions as arguments, so nothing here depends on the
exercises being solved; the figures are matplotlib (course.plotting), drawn offline.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Callable, Iterable

import torch
from IPython.display import HTML
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from torch import nn

from course import student_code, training
from course.blocks import Seq2SeqTransformer, SinusoidalPositions
from course.language import pick
from course.notebook import grading, training_budget
from course.plotting import new_figure, show
from course.tasks import Task
from course.tokenizer import BOS, EOS, PAD

__all__ = ["your_model", "budget", "train", "task_title", "stop_reason",
           "training_loop_diagram", "schedule_figure", "tying_figure", "tying_runs",
           "embedding_scale_figure", "with_embedding_std", "embedding_init_runs", "init_figure", "error_table",
           "as_reference", "cross_attention", "decoding_speed", "greedy_vs_beam", "sample_outputs", "show"]


# ----------------------------------------------------------------------------------- the student's model

def your_model(directory, config: training.TrainConfig, transformer: type, loss: Callable | None):
    """:func:`course.student_code.build_student_model` for the notebook: the build, or None (with the
    reason printed) when the student's notebooks cannot make a working model."""
    try:
        return student_code.build_student_model(directory, config, transformer=transformer, loss=loss)
    except student_code.StudentCodeError as err:
        print(pick(f"Your notebooks could not be used: {err}\nThe model below is trained with the course's parts.",
                   f"无法使用你的笔记本：{err}\n下面的模型用课程提供的部件训练。"))
        return None


def budget(config: training.TrainConfig) -> training.TrainConfig:
    """``course.notebook.training_budget`` (a few steps while autograding), with small evaluation splits then."""
    config = training_budget(config)
    if grading():
        config = config.replace(valid_size=50, test_size=50, hard_size=50, eval_size=None)
    return config


def train(config: training.TrainConfig, model_class: type, loss: Callable | None = None,
          callbacks: Iterable = ()) -> training.TrainResult:
    """``training.train_model`` with the student's model class and loss (``smoothed_cross_entropy``)."""
    return training.train_model(config, callbacks=list(callbacks), model_class=model_class, loss_fn=loss)


# What a run is called when printed (the splits and scores speak the edition's language in course.tasks and
# course.evaluation)
TASK_TITLES = {"zh": ("numerals → Chinese", "数字 → 中文"), "en": ("numerals → English", "数字 → 英文"),
               "copy": ("copy the digits", "复制数字串"), "reverse": ("reverse the digits", "反转数字串")}
STOP_REASONS_ZH = {"steps": "步数用完", "minutes": "时间用完", "target": "达到目标", "callback": "回调函数要求停止"}


def task_title(config: training.TrainConfig) -> str:
    """What ``config``'s task translates, for a plot's title: "numerals → Chinese", ..."""
    en, zh = TASK_TITLES.get(config.task, (config.task, config.task))
    return pick(en, zh)


def stop_reason(result: training.TrainResult) -> str:
    """Why the run stopped ("steps", "minutes", "target", "callback"), in the edition's language."""
    return pick(result.stopped_by, STOP_REASONS_ZH.get(result.stopped_by, result.stopped_by))


# ----------------------------------------------------------------------------------- the training loop

def training_loop_diagram():
    """The loop of course.training as boxes and arrows."""
    fig = new_figure(9.0, 4.4)
    ax = fig.subplots()
    ax.set(xlim=(0, 10), ylim=(0, 5.2))
    ax.axis("off")
    boxes = {
        "batch": (0.9, 4.2, pick("fresh batch\n(seed, rank, step)", "新的批量\n(seed, rank, step)")),
        "forward": (3.3, 4.2, "model(src, lengths, tgt_in)\n→ logits"),
        "loss": (5.8, 4.2, pick("loss(logits, tgt_out, ε)\nmean over real tokens",
                                "loss(logits, tgt_out, ε)\n对真实词元取平均")),
        "backward": (8.4, 4.2, pick("backward\nclip global norm", "反向传播\n裁剪全局范数")),
        "step": (8.4, 2.4, pick("optimizer step (AdamW)\nschedule step (lr)", "优化器更新 (AdamW)\n调度器更新 (lr)")),
        "eval": (5.8, 2.4, pick("every eval_interval:\nscore VALID, checkpoint",
                                "每隔 eval_interval：\n在 VALID 上评分，存检查点")),
        "stop": (3.3, 2.4, pick("valid exact ≥ target?\nsteps / minutes left?",
                                "验证集完全匹配 ≥ 目标？\n还有剩余步数 / 分钟？")),
        "end": (3.3, 0.6, pick("end: score test and hard\nONCE, short (seen)",
                               "结束：在 test、hard、\nshort (seen) 上各评分一次")),
    }
    for key, (x, y, text) in boxes.items():
        color = "#e8f0fb" if key not in ("eval", "end") else "#fbeee0"
        ax.add_patch(FancyBboxPatch((x - 1.05, y - 0.45), 2.1, 0.9, boxstyle="round,pad=0.05", fc=color, ec="#456"))
        ax.text(x, y, text, ha="center", va="center", fontsize=8)

    def arrow(a, b, label=None, bend=0.0):
        (x0, y0, _), (x1, y1, _) = boxes[a], boxes[b]
        dx, dy = x1 - x0, y1 - y0
        start = (x0 + 1.1 * (dx > 0) - 1.1 * (dx < 0), y0 - 0.5 * (dy < 0) + 0.5 * (dy > 0))
        end = (x1 - 1.1 * (dx > 0) + 1.1 * (dx < 0), y1 + 0.5 * (dy < 0) - 0.5 * (dy > 0))
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color="#345",
                                     connectionstyle=f"arc3,rad={bend}"))
        if label:
            ax.text((start[0] + end[0]) / 2 + 0.1, (start[1] + end[1]) / 2 + 0.12, label, fontsize=7, color="#345")

    for a, b in (("batch", "forward"), ("forward", "loss"), ("loss", "backward"), ("backward", "step"),
                 ("step", "eval"), ("eval", "stop")):
        arrow(a, b)
    arrow("stop", "batch", pick("no: next step", "否：下一步"), bend=-0.3)
    arrow("stop", "end", pick("yes", "是"))
    ax.set_title(pick("one training run (course.training.train_model)",
                      "一次训练运行（course.training.train_model）"), fontsize=10)
    return fig


def _paper_rate(step: int, d_model: int = 512, warmup: int = 4000) -> float:
    """Vaswani et al. 2017, §5.3: d_model^-0.5 · min(step^-0.5, step · warmup^-1.5), steps counted from 1."""
    step = max(step, 1)
    return d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5)


def schedule_figure(config: training.TrainConfig):
    """Left: warm-up + cosine (``config``) beside warm-up + inverse square root with the same peak.
    Right: the paper's schedule over its 100 000 steps. Returns (figure, numbers)."""
    steps = list(range(config.steps + 1))
    cosine = training.lr_factor(config.replace(decay="cosine"))
    inv = training.lr_factor(config.replace(decay="inverse_sqrt"))
    fig = new_figure(9.6, 3.0)
    left, right = fig.subplots(1, 2)
    left.plot(steps, [config.lr * cosine(s) for s in steps],
              label=pick("warm-up + cosine (the course)", "预热 + 余弦（本课程）"))
    left.plot(steps, [config.lr * inv(s) for s in steps], label=pick("warm-up + 1/√step", "预热 + 1/√step"))
    left.axvline(config.warmup_steps, color="grey", ls=":", lw=1)
    left.set(xlabel=pick("optimizer step", "优化器步数"), ylabel=pick("learning rate", "学习率"),
             title=pick(f"this run: {config.steps} steps", f"本次运行：{config.steps} 步"))
    left.legend(fontsize=7)
    paper = list(range(1, 100_001, 100))
    right.plot(paper, [_paper_rate(s) for s in paper], color="tab:red")
    right.set(xlabel=pick("step", "步数"), ylabel="lrate",
              title=pick("the paper (§5.3): d=512, warmup 4000", "论文（§5.3）：d=512，warmup 4000"))
    numbers = {"cosine_end": config.lr * cosine(config.steps), "inv_sqrt_end": config.lr * inv(config.steps),
               "paper_peak": _paper_rate(4000), "paper_at_100k": _paper_rate(100_000)}
    return fig, numbers


# ----------------------------------------------------------------------------------------- weight tying

def tying_figure(vocab: int = 37_000):
    """Parameters of the paper's base sizes (Post-LN, d 512, 8 heads, 6 + 6 layers, d_ff 2048) with a shared
    ``vocab``-token vocabulary: untied, output tied to the target embedding, and three-way tied.
    Counted on PyTorch's meta device (no memory). Returns (figure, {"total", "vocabulary"} by variant)."""
    with torch.device("meta"):
        sizes = dict(d_model=512, n_heads=8, n_encoder_layers=6, n_decoder_layers=6, d_ff=2048, norm_first=False)
        untied = Seq2SeqTransformer(vocab, vocab, tie_output=False, **sizes).num_parameters()
        two = Seq2SeqTransformer(vocab, vocab, tie_output=True, **sizes).num_parameters()
    matrix = vocab * 512
    total = {"untied": untied, "output = target embedding": two, "three-way tied": two - matrix}
    in_vocab = {"untied": 3 * matrix, "output = target embedding": 2 * matrix, "three-way tied": matrix}
    fig = new_figure(7.0, 2.8)
    ax = fig.subplots()
    names = list(total)
    rest = [total[n] - in_vocab[n] for n in names]
    shown = [pick(n, NAMES_ZH[n]) for n in names]
    ax.barh(shown, [r / 1e6 for r in rest], color="tab:gray", label=pick("layers", "各层"))
    ax.barh(shown, [in_vocab[n] / 1e6 for n in names], left=[r / 1e6 for r in rest], color="tab:orange",
            label=pick(f"vocabulary matrices ({vocab:,} × 512 each)", f"词表矩阵（每个 {vocab:,} × 512）"))
    ax.axvline(65, color="k", ls=":", lw=1, label=pick("65 M (the paper's Table 3)", "65 M（论文表 3）"))
    ax.set(xlabel=pick("parameters (millions)", "参数量（百万）"),
           title=pick("the base model's parameters, by what is shared", "base 模型的参数量，按共享方式划分"))
    ax.invert_yaxis()
    ax.legend(fontsize=7, loc="lower right")
    return fig, {"total": _named(total), "vocabulary": _named(in_vocab)}


def _three_way(transformer: type) -> type:
    class ThreeWayTied(transformer):
        """Source embedding, target embedding and output projection: one matrix (a shared vocabulary)."""

        def __init__(self, src_vocab, tgt_vocab, **kwargs):
            if src_vocab != tgt_vocab:
                raise ValueError(f"three-way tying needs one vocabulary, got {src_vocab} and {tgt_vocab} tokens")
            kwargs["tie_output"] = True
            super().__init__(src_vocab, tgt_vocab, **kwargs)
            self.src_embed.weight = self.tgt_embed.weight

    return ThreeWayTied


def tying_runs(transformer: type, config: training.TrainConfig) -> dict[str, dict]:
    """Train ``transformer`` untied and three-way tied on ``config`` (a task whose source and target share
    their alphabet, e.g. "reverse"); per variant: parameters, whether the tables are one tensor, validation
    exact match, steps."""
    out = {}
    for name, cls in (("untied", transformer), ("three-way tied", _three_way(transformer))):
        result = training.train_model(config.replace(tie_output=False), model_class=cls)
        m = result.model
        shared = m.src_embed.weight is m.tgt_embed.weight is m.output.weight
        out[_name(name)] = {"parameters": sum(p.numel() for p in m.parameters()), "shared": shared,
                            "exact": result.metrics["valid"].exact, "steps": result.steps}
    return out


# --------------------------------------------------------------------------------- the embedding scale

def with_embedding_std(model_class: type, std: float | None) -> type:
    """``model_class`` whose source and target embeddings start from N(0, std²); std None = 1/√d_model."""

    class ReInit(model_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            s = self.src_embed.embedding_dim ** -0.5 if std is None else std
            for table in (self.src_embed, self.tgt_embed):
                nn.init.normal_(table.weight, std=s)

    ReInit.__name__ = ReInit.__qualname__ = f"{model_class.__name__}EmbeddingStd"
    return ReInit


INITS = {"std 1 (nn.Embedding's default)": 1.0, "std 1/√d_model (the course)": None}
# The Chinese of the names figures show (INITS' and tying_figure's variants)
NAMES_ZH = {"std 1 (nn.Embedding's default)": "std 1（nn.Embedding 的默认值）",
            "std 1/√d_model (the course)": "std 1/√d_model（本课程）", "untied": "不共享",
            "output = target embedding": "输出层 = 目标嵌入", "three-way tied": "三重共享"}


def _name(name: str) -> str:
    """A variant's name (INITS', tying's) in the edition's language."""
    return pick(name, NAMES_ZH.get(name, name))


def _named(values: dict) -> dict:
    return {_name(name): value for name, value in values.items()}


def embedding_scale_figure(model_class: type, task: Task, positions: int = 16):
    """At initialisation, for both embedding inits: the lengths of the scaled token vectors √d·E[id] and of
    the position vectors, and how similar one token's inputs at different positions are."""
    sizes = training.preset("cpu").model.kwargs()
    d = sizes["d_model"]
    pe = SinusoidalPositions.build(positions, d).double()  # (positions, d)
    fig = new_figure(9.6, 3.0)
    left, right = fig.subplots(1, 2)
    norms = {}
    for k, (name, std) in enumerate(INITS.items()):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = with_embedding_std(model_class, std)(len(task.source_tokenizer), len(task.target_tokenizer),
                                                         **sizes)
        tokens = model.tgt_embed.weight.detach().double()[4:] * math.sqrt(d)  # (real tokens, d)
        x = tokens[:, None, :] + pe[None]  # (tokens, positions, d)
        token_norm, pe_norm = tokens.norm(dim=-1), pe.norm(dim=-1)
        share = float((pe ** 2).sum(-1).mean() / (x ** 2).sum(-1).mean())
        norms[_name(name)] = {"token": float(token_norm.mean()), "position": float(pe_norm.mean()), "share": share}
        left.scatter([k] * len(token_norm), token_norm, s=12, label=None)
        cos = torch.nn.functional.cosine_similarity(x[:, :1], x, dim=-1).mean(0)  # (positions,)
        right.plot(range(positions), cos, "o-", ms=3, label=pick(name, NAMES_ZH[name]))
    left.axhline(float(pe.norm(dim=-1).mean()), color="tab:red", ls="--", label="‖PE(p)‖ = √(d/2)")
    left.set_yscale("log")
    left.set_xticks(range(len(INITS)), [pick(n, NAMES_ZH[n]) for n in INITS], fontsize=7)
    left.set(ylabel=pick("length", "长度"),
             title=pick("token vectors √d·E[id] vs the position vector", "词元向量 √d·E[id] 与位置向量"))
    left.legend(fontsize=7)
    right.set(xlabel=pick("position p", "位置 p"), ylabel=pick("cos(x₀, x_p), same token", "cos(x₀, x_p)，同一词元"),
              ylim=(0, 1.05), title=pick("can the input tell positions apart?", "输入能区分不同位置吗？"))
    right.legend(fontsize=7)
    return fig, norms


def embedding_init_runs(model_class: type, config: training.TrainConfig, loss: Callable | None = None) -> dict:
    """Two runs of ``model_class``, identical but for the embeddings' initial std: per run the validation
    exact-match curve (periodic evaluations), the final validation exact match and the steps."""
    runs = {}
    for name, std in INITS.items():
        result = train(config, with_embedding_std(model_class, std), loss)
        curve = [(0, 0.0)] + [(e["step"], e["exact"]) for e in result.evals]
        final = result.metrics["valid"].exact
        if not result.evals or curve[-1][0] != result.steps:
            curve.append((result.steps, final))
        runs[_name(name)] = {"curve": curve, "exact": final, "steps": result.steps}
    return runs


def init_figure(runs: dict):
    fig = new_figure(6.4, 2.8)
    ax = fig.subplots()
    for name, run in runs.items():
        steps, exact = zip(*run["curve"])
        ax.plot(steps, [100 * e for e in exact], "o-", ms=3, label=_name(name))
    ax.set(xlabel=pick("step", "步数"), ylabel=pick("validation exact match (%)",
                                                    "验证集完全匹配（%）"), ylim=(-2, 102),
           title=pick("the embedding's initial std", "嵌入的初始标准差"))
    ax.legend(fontsize=7)
    return fig


# ------------------------------------------------------------------------------------- scores and errors

def error_table(errors: list[dict], limit: int = 15) -> HTML:
    """The wrong outputs as an HTML table, with the first differing character marked."""
    if not errors:
        return HTML(pick("<p>No wrong outputs.</p>", "<p>没有错误的输出。</p>"))
    rows = []
    for e in errors[:limit]:
        exp, got = e["expected"], e["predicted"]
        i = next((k for k, (a, b) in enumerate(zip(exp, got)) if a != b), min(len(exp), len(got)))
        marked = html.escape(got[:i]) + "<b style='color:#c00'>" + html.escape(got[i:i + 1] or "∅") + "</b>" \
            + html.escape(got[i + 1:])
        rows.append(f"<tr><td>{html.escape(e['source'])}</td><td>{html.escape(exp)}</td><td>{marked}</td>"
                    f"<td>{i}</td></tr>")
    more = pick(f"<p>… and {len(errors) - limit} more.</p>", f"<p>……还有 {len(errors) - limit} 个。</p>") \
        if len(errors) > limit else ""
    head = pick("<th>source</th><th>expected</th><th>predicted (first difference in red)</th><th>at char</th>",
                "<th>源序列</th><th>期望输出</th><th>预测输出（红色为第一处不同）</th><th>差异位置</th>")
    return HTML("<table><tr>" + head + "</tr>" + "".join(rows) + "</table>" + more)


def as_reference(model: nn.Module, config: training.TrainConfig, task: Task) -> Seq2SeqTransformer:
    """The course's reference model with ``model``'s weights (same parameter names), in eval mode."""
    ref = training.build_model(config, task)
    ref.load_state_dict(model.state_dict())
    return ref.to(next(model.parameters()).device).eval()


def greedy_reading(model: nn.Module, task: Task, number: str):
    """``number`` as a batch on the model's device, the model's greedy output for it (in eval mode; the mode is
    restored) and that output as the decoder's teacher-forced input: (batch, text, tgt_in)."""
    if not isinstance(number, str) or not number.isdigit():
        raise ValueError(f"number must be a string of digits, got {number!r}")
    device = next(model.parameters()).device
    batch = task.make_batch([number]).to(device)
    was = model.training
    model.eval()
    try:
        out = model.greedy_decode(batch.src, batch.src_lengths, task.max_target_len + 1)[0].cpu()
    finally:
        model.train(was)
    text = task.target_tokenizer.decode(out.tolist())
    return batch, text, torch.tensor([[BOS] + task.target_tokenizer.encode(text)], device=device)


def cross_attention(model: nn.Module, task: Task, number: str):
    """Greedy output for ``number`` and the cross-attention that produced it.

    Returns (query labels, key labels, weights (layers, heads, out_len, src_len)): row t is the
    decoder step that predicted output character t. Works for the reference model and for a model
    whose cross-attention keeps ``last_weights`` (chapter 05's MultiHeadAttention).
    """
    batch, text, tgt_in = greedy_reading(model, task, number)
    try:
        stacked = student_code.cross_attention_maps(model, batch.src, batch.src_lengths, tgt_in)
    except ValueError:
        weights = model.cross_attention_weights(batch.src, batch.src_lengths, tgt_in)  # per layer (1, heads, t, s)
        stacked = torch.stack([w[0] for w in weights]).cpu()  # (layers, heads, t, s)
    queries = [f"→{c}" for c in text] + ["→<eos>"]
    return queries, list(number), stacked


# ------------------------------------------------------------------------------------------ decoding

def decoding_speed(uncached: Callable, cached: Callable, config: training.TrainConfig, task: Task,
                   batch: int = 100, max_len: int = 40) -> dict:
    """Time ``uncached`` and ``cached`` greedy decoding of ``max_len`` tokens for ``batch`` sources on a
    random reference model of ``config``'s sizes that never stops early. (Smaller while grading.)"""
    if grading():
        batch, max_len = 10, 8
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = Seq2SeqTransformer(len(task.source_tokenizer), len(task.target_tokenizer),
                                   **dict(config.model.kwargs(), dropout=0.0)).eval()
        b = task.make_batch(task.sample(batch, torch.Generator().manual_seed(0)))
    with torch.no_grad():
        model.output.bias[EOS] -= 1e4  # never stop: every loop runs max_len steps
        times, outs = {}, {}
        for name, fn in (("uncached", uncached), ("cached", cached)):
            t0 = time.perf_counter()
            outs[name] = fn(model, b.src, b.src_lengths, max_len)
            times[name] = 1000 * (time.perf_counter() - t0)
    return {"same": bool(torch.equal(outs["uncached"], outs["cached"])), "uncached_ms": times["uncached"],
            "cached_ms": times["cached"]}


@torch.no_grad()
def _score(model: nn.Module, batch, tokens: list[int]) -> float:
    """Sum of the log-probabilities of ``tokens`` (after <bos>) under ``model`` for the batch's one source."""
    tgt = torch.tensor([[BOS] + tokens], device=batch.src.device)
    memory, mask = model.encode(batch.src, batch.src_lengths)
    logp = torch.log_softmax(model.decode(tgt, memory, mask)[0, :-1].double(), dim=-1)
    return float(logp.gather(-1, torch.tensor(tokens, device=logp.device)[:, None]).sum())


def greedy_vs_beam(model: nn.Module, task: Task, sources: list[str], beam_search: Callable,
                   beam_size: int = 4) -> list[dict]:
    """Per source: the greedy output and the beam-search output, with their log-probabilities."""
    rows, was = [], model.training
    device = next(model.parameters()).device
    model.eval()
    try:
        for s in sources:
            b = task.make_batch([s]).to(device)  # the batch goes where the model is
            greedy = model.greedy_decode(b.src, b.src_lengths, task.max_target_len + 1)[0].tolist()
            greedy = greedy[: greedy.index(EOS) + 1] if EOS in greedy else greedy
            tokens, score = beam_search(model, b.src, b.src_lengths, beam_size, task.max_target_len + 1)
            rows.append({"source": s, "greedy": task.target_tokenizer.decode(greedy),
                         "greedy_score": _score(model, b, greedy),
                         "beam": task.target_tokenizer.decode(tokens.tolist()), "beam_score": float(score)})
    finally:
        model.train(was)
    return rows


@torch.no_grad()
def sample_outputs(model: nn.Module, task: Task, number: str, n: int = 8, temperature: float = 1.0,
                   top_k: int | None = None, seed: int = 0) -> list[str]:
    """``n`` outputs for ``number``, each token drawn from softmax(logits / temperature), among the
    ``top_k`` most likely tokens only when ``top_k`` is given."""
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be None or a positive int, got {top_k!r}")
    g = torch.Generator().manual_seed(seed)
    was = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        b = task.make_batch([number] * n).to(device)
        memory, mask = model.encode(b.src, b.src_lengths)
        tokens = torch.full((n, 1), BOS, dtype=torch.long, device=device)
        done = torch.zeros(n, dtype=torch.bool, device=device)
        for _ in range(task.max_target_len + 1):
            logits = model.decode(tokens, memory, mask)[:, -1].float().cpu() / temperature  # (n, V)
            if top_k is not None and top_k < logits.shape[-1]:
                kth = logits.topk(top_k, dim=-1).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            nxt = torch.multinomial(logits.softmax(-1), 1, generator=g)[:, 0].to(device).masked_fill(done, PAD)
            tokens = torch.cat([tokens, nxt[:, None]], 1)
            done |= nxt == EOS
            if bool(done.all()):
                break
    finally:
        model.train(was)
    return [task.target_tokenizer.decode(row) for row in tokens[:, 1:].tolist()]
