"""Chapter 01 (compute): graded cells reject the usual wrong answers, with a message that names the mistake,
and accept correct ones written differently (their mutation scores: tests/test_mutation_scores.py); the timing
helpers, experiments and the roofline widget behave."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable

import pytest
import torch
from course_grader.checks import ch01_compute as ref
from hints import answers_given_away
from notebooks import assert_rejected, graded_cells, run_test_cell

from course import benchmarking
from course.checks.ch01_compute import expect
from course.experiments import ch01_compute as ex
from course.widgets import ch01_compute as rl

A = "01-compute"


def test_graded_cells_and_points():
    points = {gid: c.metadata["nbgrader"]["points"] for gid, c in graded_cells(A).items()}
    assert points == {"matmul_flops_tests": 2, "layer_params_tests": 2, "encoder_flops_tests": 3,
                      "training_flops_tests": 2, "measure_seconds_tests": 3, "mfu_tests": 2,
                      "roofline_point_tests": 2}
    assert sum(points.values()) == 16


def rejected_with(grade_id: str, phrase: str, **substitutes) -> None:
    """The test cell rejects the substitute, and its message is the one written for that mistake."""
    err = assert_rejected(A, grade_id, **substitutes)
    assert phrase in str(err), f"{grade_id}: expected a message containing {phrase!r}, got {str(err)!r}"


def test_expect_names_the_mistake_and_otherwise_compares_exactly():
    expect(48, 48, name="x")
    expect(0.30000000000000004, 0.3, name="x")
    with pytest.raises(AssertionError, match="counted multiply-adds"):
        expect(24, 48, name="x", mistakes={24: "counted multiply-adds"})
    with pytest.raises(AssertionError, match="expected 48, got int 25"):
        expect(25, 48, name="x", mistakes={24: "counted multiply-adds"})
    with pytest.raises(AssertionError, match="expected 48"):
        expect(48.0, 48, name="x")  # a float where an int is due
    with pytest.raises(AssertionError, match="reversed"):
        expect("compute", "memory", name="x", mistakes={"compute": "reversed"})
    with pytest.raises(AssertionError, match="odd"):
        expect(7, 8, name="x", mistakes=[(lambda g: g % 2 == 1, "odd"), (lambda g: 1 / 0, "never")])


# -------------------------------------------------------------------------------- matmul_flops

def _mm(a, b):
    """A correct count, for building wrong ones."""
    for s in (a, b):
        if len(s) < 2 or min(s) < 0:
            raise ValueError("bad shape")
    if a[-1] != b[-2]:
        raise ValueError("inner")
    if len(a) > 2 and len(b) > 2 and tuple(a[:-2]) != tuple(b[:-2]):
        raise ValueError("batch")
    return 2 * math.prod(a[:-2] or b[:-2]) * a[-2] * a[-1] * b[-1]


def mm_loop(a_shape, b_shape):
    if len(a_shape) < 2 or len(b_shape) < 2 or any(s < 0 for s in (*a_shape, *b_shape)):
        raise ValueError("shapes")
    if a_shape[-1] != b_shape[-2] or (a_shape[:-2] and b_shape[:-2] and tuple(a_shape[:-2]) != tuple(b_shape[:-2])):
        raise ValueError("cannot multiply")
    total = 0
    for _ in range(math.prod(a_shape[:-2] or b_shape[:-2]) * a_shape[-2] * b_shape[-1]):
        total += a_shape[-1] + a_shape[-1]  # k multiplies, k adds
    return total


def mm_torch_shapes(a_shape, b_shape):
    _mm(a_shape, b_shape)  # the checks
    out = torch.broadcast_shapes(tuple(a_shape[:-2]), tuple(b_shape[:-2])) + (a_shape[-2], b_shape[-1])
    return 2 * math.prod(out) * a_shape[-1]


@pytest.mark.parametrize("fn", [_mm, mm_loop, mm_torch_shapes])
def test_matmul_flops_accepts(fn):
    run_test_cell(A, "matmul_flops_tests", matmul_flops=fn)


def _checked(count):
    def fn(a, b):
        _mm(a, b)
        return count(a, b)
    return fn


@pytest.mark.parametrize("wrong, phrase", [
    (_checked(lambda a, b: _mm(a, b) // 2), "a multiply-add counts as 2 FLOPs"),
    (_checked(lambda a, b: _mm(a, b) // (2 * a[-1]) * (2 * a[-1] - 1)), "the exact count of k multiplications"),
    (_checked(lambda a, b: 2 * a[-2] * a[-1] * b[-1]), "a stack of 5 matrices means 5 products"),
    (_checked(lambda a, b: 2 * math.prod(b[:-2]) * a[-2] * a[-1] * b[-1]), "The plain (3, 4) matrix is used"),
    (_checked(lambda a, b: 2 * math.prod(a[:-2]) * a[-2] * a[-1] * b[-1]), "Here B holds the batch"),
])
def test_matmul_flops_messages(wrong, phrase):
    rejected_with("matmul_flops_tests", phrase, matmul_flops=wrong)


@pytest.mark.parametrize("wrong", [
    lambda a, b: 2 * math.prod(a[:-2] or b[:-2]) * a[-2] * a[-1] * b[-1],   # no ValueError at all
    lambda a, b: _mm(a, b) if a[-1] == b[-2] else 0,                        # mismatched inner sizes: 0
    lambda a, b: _mm(a, b) if len(a[:-2]) != len(b[:-2]) or a[:-2] == b[:-2] else 1,  # batch mismatch accepted
    lambda a, b: float(_mm(a, b)),                                          # a float
    lambda a, b: ex.counted_flops(lambda: torch.empty(a, device="meta") @ torch.empty(b, device="meta")),  # borrowed
])
def test_matmul_flops_rejects(wrong):
    assert_rejected(A, "matmul_flops_tests", matmul_flops=wrong)


def test_matmul_flops_hidden_checks_catch_a_missing_negative_check():
    def no_negative_check(a, b):
        return _mm([abs(s) for s in a], [abs(s) for s in b])
    with pytest.raises(AssertionError, match="negative|ValueError"):
        ref.check_matmul_flops(no_negative_check)


# -------------------------------------------------------------------------------- layer_params

def _lp(d, f):
    return 4 * d * d + 4 * d + 2 * d * f + f + d + 4 * d


@pytest.mark.parametrize("fn", [_lp, lambda d, f: (d + 1) * 4 * d + (d + 1) * f + (f + 1) * d + 2 * (2 * d)])
def test_layer_params_accepts(fn):
    run_test_cell(A, "layer_params_tests", layer_params=fn)


@pytest.mark.parametrize("wrong, phrase", [
    (lambda d, f: _lp(d, f) - 4 * d, "You are 4·d_model short"),
    (lambda d, f: 4 * d * d + 2 * d * f, "You counted only the weight matrices: every linear layer also has a bias, "
                                         "and the two"),
    (lambda d, f: 4 * d * d + 2 * d * f + 4 * d, "You counted only the weight matrices and the LayerNorms"),
    (lambda d, f: _lp(d, 4 * d), "d_ff = 4·d_model"),
    (lambda d, f: _lp(d, f) - d * d - d, "Three projections"),
    (lambda d, f: _lp(d, f) - d + f, "second bias belongs to its d_model outputs"),
    (lambda d, f: _lp(d, f) - f + d, "first bias belongs to its d_ff outputs"),
    (lambda d, f: _lp(d, f) - 2 * d, "Only one LayerNorm"),
])
def test_layer_params_messages(wrong, phrase):
    rejected_with("layer_params_tests", phrase, layer_params=wrong)


@pytest.mark.parametrize("wrong, phrase", [
    (lambda d, f: _lp(d, 4 * d) if (d, f) != (8, 20) else _lp(8, 20), "the d_ff argument was ignored"),
    (lambda d, f: _lp(8, f), "the d_model argument was ignored"),
], ids=["d_ff-is-4-d_model", "d_model-fixed"])
def test_layer_params_that_ignores_an_argument_is_named(wrong, phrase):
    # the second visible case (12, 7) catches an answer tuned to the first one, (8, 20)
    rejected_with("layer_params_tests", phrase, layer_params=wrong)


def _measure_fixed(warmup_used=None, repeats_used=None):
    def measure_seconds(fn, warmup=2, repeats=5, sync=None, clock=time.perf_counter):
        if repeats < 1 or warmup < 0:
            raise ValueError("bad")
        for _ in range(warmup if warmup_used is None else warmup_used):
            fn()
        times = []
        for _ in range(repeats if repeats_used is None else repeats_used):
            if sync:
                sync()
            start = clock()
            fn()
            if sync:
                sync()
            times.append(clock() - start)
        return float(statistics.median(times))
    return measure_seconds


@pytest.mark.parametrize("wrong, phrase", [
    (_measure_fixed(warmup_used=2), "the warmup argument was ignored"),
    (_measure_fixed(repeats_used=5), "the repeats argument was ignored"),
], ids=["warmup-fixed", "repeats-fixed"])
def test_measure_seconds_that_ignores_an_argument_is_named(wrong, phrase):
    rejected_with("measure_seconds_tests", phrase, measure_seconds=wrong)


def _roof_fixed(peak=None, bandwidth=None):
    def roofline_point(a, b, size, p, bw):
        return _roof(a, b, size, p if peak is None else peak, bw if bandwidth is None else bandwidth)
    return roofline_point


@pytest.mark.parametrize("wrong, phrase", [
    (_roof_fixed(bandwidth=3.35e12), "the bandwidth argument was ignored"),
    (_roof_fixed(peak=989e12), "the peak_flops_per_s argument was ignored"),
], ids=["bandwidth-fixed", "peak-fixed"])
def test_roofline_point_that_ignores_the_chip_is_named(wrong, phrase):
    rejected_with("roofline_point_tests", phrase, roofline_point=wrong)


def test_layer_params_rejects_the_borrowed_layer():
    err = assert_rejected(A, "layer_params_tests", layer_params=lambda d, f: sum(
        p.numel() for p in torch.nn.TransformerEncoderLayer(d, 1, f).parameters()))
    assert "may not call" in str(err)


def test_layer_params_hidden_checks_catch_a_hard_coded_visible_case():
    with pytest.raises(AssertionError, match="nn.TransformerEncoderLayer"):
        ref.check_layer_params(lambda d, f: 668 if (d, f) == (8, 20) else 4 * d * d + 2 * d * f)


# ------------------------------------------------------------------------------- encoder_flops

def _enc(n_layer, d, h, f, seq, vocab, batch=1):
    if d % h:
        raise ValueError("n_head must divide d_model")
    t = batch * seq
    return {"projections": n_layer * 8 * t * d * d, "attention": n_layer * 4 * batch * seq * seq * d,
            "ffn": n_layer * 4 * t * d * f, "head": 2 * t * d * vocab}


def enc_per_head(n_layer, d, h, f, seq, vocab, batch=1):
    if d % h:
        raise ValueError("heads")
    dh, out = d // h, _enc(n_layer, d, h, f, seq, vocab, batch)
    out["attention"] = n_layer * h * (_mm((batch, seq, dh), (batch, dh, seq)) + _mm((batch, seq, seq), (batch, seq, dh)))
    return out


def _enc_wrong(change: Callable[[dict, tuple], None]):
    def fn(*args):
        out = _enc(*args)
        change(out, args)
        return out
    return fn


@pytest.mark.parametrize("fn", [_enc, enc_per_head])
def test_encoder_flops_accepts(fn):
    run_test_cell(A, "encoder_flops_tests", encoder_flops=fn)


def _scale(part, factor):
    def change(out, args):
        out[part] = int(out[part] * factor)
    return change


@pytest.mark.parametrize("wrong, phrase", [
    (_enc_wrong(lambda o, a: o.update(attention=o["attention"] * a[2])), "the heads split d_model into slices"),
    (_enc_wrong(_scale("attention", 1 / 2)), "did you count only Q·Kᵀ and forget weights·V"),
    (_enc_wrong(lambda o, a: o.update(attention=o["attention"] // a[4])), "seq times too little"),
    (_enc_wrong(lambda o, a: o.update(attention=o["attention"] // a[6])), "You counted one sequence"),
    (_enc_wrong(lambda o, a: o.update({k: v // a[6] for k, v in o.items()})), "You counted one sequence"),
    (_enc_wrong(_scale("projections", 3 / 4)), "Three projections"),
    (_enc_wrong(_scale("projections", 1 / 2)), "did you count one of the 2 layers"),
    (_enc_wrong(lambda o, a: o.update({k: v // 2 for k, v in o.items()})), "one FLOP per multiply-add"),
    (_enc_wrong(_scale("ffn", 1 / 2)), "two FFN matmuls"),
    (_enc_wrong(_scale("head", 0)), "The head (d_model → vocab"),
    (_enc_wrong(lambda o, a: o.update(head=o["head"] * a[0])), "not once per layer"),
    (_enc_wrong(lambda o, a: o.update(attention=o["attention"] * a[2] // 4)), "should not depend on n_head"),
    (lambda *a: sum(_enc(*a).values()), "should return a dict with the keys"),
    (lambda *a: {k: v for k, v in _enc(*a).items() if k != "head"}, "should return a dict with the keys"),
])
def test_encoder_flops_messages(wrong, phrase):
    rejected_with("encoder_flops_tests", phrase, encoder_flops=wrong)


def _enc_meta(n_layer, d, h, f, seq, vocab, batch=1):
    model = ex.encoder_lm(n_layer, d, h, f, vocab, device="meta")
    return ex.counted_by_part(model, torch.zeros(batch, seq, dtype=torch.long, device="meta"))


@pytest.mark.parametrize("wrong", [
    lambda *a: {k: float(v) for k, v in _enc(*a).items()},        # floats, not ints
    lambda n, d, h, f, s, v, b=1: _enc(n, d, 1, f, s, v, b),      # no ValueError when n_head does not divide d_model
    _enc_meta,                                                    # PyTorch's counter (borrowed)
])
def test_encoder_flops_rejects(wrong):
    assert_rejected(A, "encoder_flops_tests", encoder_flops=wrong)


# ------------------------------------------------------------------------------ training_flops

def _train(n_layer, d, h, f, seq, batch=1):
    return 3 * sum(_enc(n_layer, d, h, f, seq, 0, batch).values()) - 6 * batch * seq * d * d


@pytest.mark.parametrize("fn", [_train, lambda *a: 3 * sum(enc_per_head(*a[:5], 0, *a[5:]).values())
                                - 2 * math.prod(a[5:] or (1,)) * a[4] * a[1] * 3 * a[1]])
def test_training_flops_accepts(fn):
    run_test_cell(A, "training_flops_tests", training_flops=fn)


def _fwd(n, d, h, f, s, b=1):
    return sum(_enc(n, d, h, f, s, 0, b).values())


@pytest.mark.parametrize("wrong, phrase", [
    (lambda *a: 3 * _fwd(*a), "but x needs none"),
    (lambda *a: 2 * _fwd(*a), "Backward = forward"),
    (_fwd, "That is the forward pass only"),
    (lambda n, d, h, f, s, b=1: 3 * _fwd(n, d, h, f, s, b) - n * 6 * b * s * d * d, "Only the first layer sees x"),
    (lambda n, d, h, f, s, b=1: 3 * _fwd(n, d, h, f, s, b) - 2 * b * s * d * d, "the packed Q/K/V projection"),
    (lambda n, d, h, f, s, b=1: 3 * _fwd(n, d, h, f, s, b) - 8 * b * s * d * d, "Only the Q/K/V projection reads x"),
])
def test_training_flops_messages(wrong, phrase):
    rejected_with("training_flops_tests", phrase, training_flops=wrong)


def test_training_flops_rejects_the_borrowed_counter():
    def borrowed(n_layer, d, h, f, seq, batch=1):
        stack = ex.encoder_stack(n_layer, d, h, f, device="meta")
        return ex.counted_flops(lambda: stack(torch.zeros(batch, seq, d, device="meta")).sum().backward())
    err = assert_rejected(A, "training_flops_tests", training_flops=borrowed)
    assert "may not call" in str(err)


# ------------------------------------------------------------------------------ measure_seconds

def measure_sorted(fn, warmup=2, repeats=5, sync=None, clock=time.perf_counter):
    if repeats < 1 or warmup < 0:
        raise ValueError("bad counts")
    [fn() for _ in range(warmup)]
    times = []
    while len(times) < repeats:
        sync and sync()
        t0 = clock()
        fn()
        sync and sync()
        times.append(clock() - t0)
    times.sort()
    mid = len(times) // 2
    return float(times[mid] if len(times) % 2 else (times[mid - 1] + times[mid]) / 2)


def measure_tensor(fn, warmup=2, repeats=5, sync=None, clock=time.perf_counter):
    if not (repeats >= 1 and warmup >= 0):
        raise ValueError("repeats must be >= 1")
    for _ in range(warmup):
        fn()
    out = torch.empty(repeats, dtype=torch.float64)
    for i in range(repeats):
        if sync:
            sync()
        start = clock()
        fn()
        if sync:
            sync()
        out[i] = clock() - start
    return float(torch.quantile(out, 0.5))


def measure_reference(fn, warmup=2, repeats=5, sync=None, clock=time.perf_counter):
    return benchmarking.median_seconds(fn, warmup, repeats, sync, clock)


@pytest.mark.parametrize("fn", [measure_sorted, measure_tensor])
def test_measure_seconds_accepts(fn):
    run_test_cell(A, "measure_seconds_tests", measure_seconds=fn)


def _measure(*, warm_timed=False, reduce=statistics.median, sync_start=True, sync_end=True, check=True,
             warm=True):
    def measure(fn, warmup=2, repeats=5, sync=None, clock=time.perf_counter):
        if check and (repeats < 1 or warmup < 0):
            raise ValueError("bad")
        warmup = warmup if warm else 0
        times = []
        for i in range(warmup + repeats):
            timed = i >= warmup
            if sync and sync_start and timed:
                sync()
            t0 = clock()
            fn()
            if sync and sync_end and timed:
                sync()
            if warm_timed or timed:
                times.append(clock() - t0)
        return float(reduce(times))
    return measure


@pytest.mark.parametrize("wrong, phrase", [
    (_measure(warm_timed=True), "The warm-up calls were timed too"),
    (_measure(reduce=statistics.mean), "That is the mean"),
    (_measure(reduce=min), "That is the fastest call"),
    (_measure(reduce=lambda t: t[-1]), "That is the last call only"),
    (_measure(reduce=sum), "That is the total of the timed calls"),
    (_measure(warm=False), "fn was called 5 times, not 7"),
    (_measure(sync_end=False), "Every timing is 0"),
    (_measure(sync_start=False), "The warm-up's queued work leaked"),
])
def test_measure_seconds_messages(wrong, phrase):
    rejected_with("measure_seconds_tests", phrase, measure_seconds=wrong)


@pytest.mark.parametrize("wrong", [
    _measure(check=False),                      # repeats=0 not rejected
    measure_reference,                          # the course's own harness (borrowed)
    _measure(reduce=lambda t: round(statistics.median(t), 0)),  # rounded
], ids=["no-error", "borrowed", "rounded"])
def test_measure_seconds_rejects(wrong):
    assert_rejected(A, "measure_seconds_tests", measure_seconds=wrong)


# ------------------------------------------------------------------------------------------ mfu

def _positive(seconds, peak):
    if seconds <= 0 or peak <= 0:
        raise ValueError("must be positive")


def _days(flops, peak, util, n_chips=1):
    if peak <= 0 or not 0 < util <= 1 or n_chips < 1:
        raise ValueError("bad")
    return flops / (peak * util * n_chips) / 86400


@pytest.mark.parametrize("fn", [
    lambda f, s, p: (_positive(s, p), f / (s * p))[1],
    lambda f, s, p: (_positive(s, p), math.exp(math.log(f) - math.log(s) - math.log(p)))[1],
])
def test_mfu_accepts(fn):
    run_test_cell(A, "mfu_tests", mfu=fn, days_to_train=_days)


def _good_mfu(f, s, p):
    _positive(s, p)
    return f / s / p


@pytest.mark.parametrize("mfu, days, phrase", [
    (lambda f, s, p: 100 * _good_mfu(f, s, p), _days, "That is a percentage"),
    (lambda f, s, p: (_positive(s, p), f / p)[1], _days, "You forgot the time"),
    (lambda f, s, p: 1 / _good_mfu(f, s, p), _days, "Upside down"),
    (_good_mfu, lambda *a: 24 * _days(*a), "That is hours"),
    (_good_mfu, lambda *a: 86400 * _days(*a), "That is seconds"),
    (_good_mfu, lambda f, p, u, n_chips=1: _days(f, p, u, n_chips) * u * u, "You multiplied by the utilisation"),
    (_good_mfu, lambda f, p, u, n_chips=1: _days(f, p, 1.0, n_chips) if u <= 1 else _days(f, p, u, n_chips),
     "You left out the utilisation"),
    (_good_mfu, lambda f, p, u, n_chips=1: _days(f, p, u, 1) if n_chips >= 1 else _days(f, p, u, n_chips),
     "You left out n_chips"),
])
def test_mfu_messages(mfu, days, phrase):
    rejected_with("mfu_tests", phrase, mfu=mfu, days_to_train=days)


@pytest.mark.parametrize("mfu, days", [
    (lambda f, s, p: f / s / p if p else 0.0, _days),                    # no error for seconds = 0
    (_good_mfu, lambda f, p, u, n_chips=1: f / (p * u * n_chips) / 86400),         # no argument checks
    (_good_mfu, lambda f, p, u, n_chips=1: _days(f, p, min(u, 1.0), n_chips)),     # utilisation > 1 accepted
])
def test_mfu_rejects(mfu, days):
    assert_rejected(A, "mfu_tests", mfu=mfu, days_to_train=days)


# ------------------------------------------------------------------------------ roofline_point

def _roof(a, b, size, peak, bandwidth):
    c = math.prod(a[:-2] or b[:-2]) * a[-2] * b[-1]
    i = _mm(a, b) / (size * (math.prod(a) + math.prod(b) + c))
    return {"intensity": i, "attainable": min(peak, i * bandwidth), "bound": "memory" if i * bandwidth < peak else "compute"}


def _roof_with(**changes):
    def fn(a, b, size, peak, bandwidth):
        out = _roof(a, b, size, peak, bandwidth)
        for key, change in changes.items():
            out[key] = change(out, a, b, size, peak, bandwidth)
        return out
    return fn


@pytest.mark.parametrize("fn", [_roof, lambda a, b, s, p, bw: {**_roof(a, b, s, p, bw)}])
def test_roofline_point_accepts(fn):
    run_test_cell(A, "roofline_point_tests", roofline_point=fn)


def _elements_only(o, a, b, size, p, bw):
    return o["intensity"] * size


def _no_c(o, a, b, size, p, bw):
    return _mm(a, b) / (size * (math.prod(a) + math.prod(b)))


@pytest.mark.parametrize("wrong, phrase", [
    (_roof_with(intensity=_elements_only), "That is FLOPs per element"),
    (_roof_with(intensity=_no_c), "You left out writing C"),
    (_roof_with(intensity=lambda o, *_: o["intensity"] / 2), "a multiply-add is 2 FLOPs"),
    (_roof_with(attainable=lambda o, a, b, s, p, bw: p), "That is the peak"),
    (_roof_with(attainable=lambda o, a, b, s, p, bw: o["intensity"] * bw), "That is above the chip's peak"),
    (_roof_with(bound=lambda o, *_: "compute" if o["bound"] == "memory" else "memory"), "Reversed"),
    (_roof_with(intensity=lambda o, a, b, s, p, bw: _mm(a, b) / (s * (math.prod(a) + math.prod(b) * math.prod(a[:-2])
                                                                      + math.prod(a[:-1]) * b[-1]))),
     "You counted the weight B once per batch matrix"),
    (lambda *a: tuple(_roof(*a).values()), "should return a dict"),
])
def test_roofline_point_messages(wrong, phrase):
    rejected_with("roofline_point_tests", phrase, roofline_point=wrong)


def test_roofline_point_rejects_the_widget_and_a_tie_on_the_wrong_side():
    def roofline_point(a, b, size, peak, bandwidth):  # named as in the notebook: call() switches off by name
        i = rl.intensity("matmul (n×n)·(n×n)", a[-1], size)
        return {"intensity": i, "attainable": min(peak, i * bandwidth), "bound": "memory" if i * bandwidth < peak
                else "compute"}
    assert "may not call" in str(assert_rejected(A, "roofline_point_tests", roofline_point=roofline_point))
    with pytest.raises(AssertionError, match="bound"):  # memory-bound at exactly the ridge: the hidden checks see it
        ref.check_roofline_point(_roof_with(bound=lambda o, a, b, s, p, bw: "memory" if o["intensity"] * bw <= p
                                            else "compute"))


# ---------------------------------------------------------------------------------- benchmarking

def test_pick_device_and_sync():
    assert benchmarking.pick_device("cpu") == torch.device("cpu")
    assert benchmarking.pick_device("auto").type in ("cpu", "cuda")
    assert benchmarking.sync_for("cpu") is None
    assert callable(benchmarking.sync_for("cuda"))  # not called: no GPU needed to build it
    with pytest.raises(ValueError, match="tpu"):
        benchmarking.pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            benchmarking.pick_device("cuda")


def test_reference_harness_passes_its_own_check(monkeypatch):
    from course.checks.borrowed import Borrowed, declared
    monkeypatch.setitem(declared(), "measure_seconds", Borrowed("nothing switched off for this test"))
    ref.check_measure_seconds(benchmarking.median_seconds)
    monkeypatch.undo()
    with pytest.raises(AssertionError, match="may not call course.benchmarking.median_seconds"):
        ref.check_measure_seconds(benchmarking.median_seconds)  # a student's answer may not borrow it
    with pytest.raises(ValueError):
        benchmarking.median_seconds(lambda: None, repeats=0)


def test_matmul_throughput_uses_the_given_measure_and_device_sync():
    seen = {}

    def fake_measure(fn, warmup, repeats, sync):
        seen.update(warmup=warmup, repeats=repeats, sync=sync)
        fn()
        return 0.5
    out = benchmarking.matmul_throughput(8, fake_measure, device="cpu", warmup=1, repeats=3)
    assert out["flops"] == 2 * 8 ** 3 and out["flops_per_s"] == 2 * 8 ** 3 / 0.5
    assert math.isclose(out["intensity"], 2 * 8 ** 3 / (4 * 3 * 64))
    assert seen == {"warmup": 1, "repeats": 3, "sync": None}


def test_copy_bandwidth_counts_read_and_write():
    bw = benchmarking.copy_bandwidth(n_bytes=4 * 1024, measure=lambda fn, warmup, repeats, sync: (fn(), 1.0)[1])
    assert bw == 2 * 4 * 1024


@pytest.mark.parametrize("check,borrowed", [
    ("check_matmul_flops", lambda a, b: ex.counted_flops(lambda: torch.empty(a, device="meta") @ torch.empty(b, device="meta"))),
    ("check_matmul_flops", lambda a, b: __import__("torch.utils.flop_counter").utils.flop_counter.mm_flop(a, b)),
    ("check_encoder_flops", _enc_meta),
    ("check_layer_params", lambda d, f: sum(p.numel() for p in torch.nn.TransformerEncoderLayer(d, 1, f).parameters())),
    ("check_roofline_point", lambda a, b, s, p, bw: {"intensity": rl.intensity("matmul (n×n)·(n×n)", a[-1], s)}),
])
def test_hidden_checks_reject_borrowed_answers(check, borrowed):
    with pytest.raises(AssertionError, match="may not call"):
        getattr(ref, check)(borrowed)


def test_hidden_checks_accept_the_references_used_here():
    ref.check_matmul_flops(_mm)
    ref.check_encoder_flops(_enc)
    ref.check_training_flops(_train)
    ref.check_mfu(_good_mfu, _days)
    ref.check_roofline_point(_roof)


def test_checks_catch_subtle_bugs():
    with pytest.raises(AssertionError, match="FlopCounterMode"):
        ref.check_encoder_flops(_enc_wrong(lambda o, a: o.update(attention=o["attention"] + 1)))
    with pytest.raises(AssertionError, match="FlopCounterMode"):
        ref.check_training_flops(lambda *a: _train(*a) + 2)


def enc_needs_a_vocab(n_layer, d, h, f, seq, vocab, batch=1):  # refuses vocab = 0, which later cells use
    if vocab < 1:
        raise ValueError("vocab must be positive")
    return _enc(n_layer, d, h, f, seq, vocab, batch)


def test_encoder_flops_that_refuses_a_model_without_head_is_named():
    rejected_with("encoder_flops_tests", "vocab = 0 is allowed", encoder_flops=enc_needs_a_vocab)
    with pytest.raises(AssertionError, match="raised ValueError"):
        ref.check_encoder_flops(enc_needs_a_vocab)


def test_encoder_flops_that_ignores_n_layer_is_named():
    rejected_with("encoder_flops_tests", "the n_layer argument was ignored",
                  encoder_flops=lambda n_layer, d, h, f, seq, vocab, batch=1: _enc(2, d, h, f, seq, vocab, batch))


# ---------------------------------------------------------------------------------- experiments

def test_layer_diagram_draws_every_matmul_of_the_counted_model():
    fig = ex.layer_diagram()
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert all(texts.count(text) == 1 for text, _ in ex.LAYER_DRAWING) and len(ex.LAYER_DRAWING) == 11
    assert len(ax.patches) == 11 + 1                                     # the boxes and the layer's frame
    parts = [part for _, part in ex.LAYER_DRAWING]
    assert parts.count("projections") == 2 and parts.count("attention") == 2 and parts.count("ffn") == 2
    assert parts.count("head") == 1 and parts.count(None) == 4          # embedding, softmax, two add-and-norms
    assert any("× n_layer" in t.get_text() for t in ax.texts)


def test_the_work_outside_the_matmuls_is_as_the_chapter_prints():
    # "softmax touches n_head·seq² elements": small next to the matmuls for GPT-2 small at 1,024 tokens
    work = ex.elementwise_share(1024, 768, 12, 3072)
    layer = ex.encoder_stack(1, 768, 12, 3072, device="meta")
    x = torch.zeros(1, 1024, 768, device="meta")
    assert work.pop("matmul FLOPs") == ex.counted_flops(lambda: layer(x))   # the closed form is the counter's
    assert work["softmax (n_head·seq² scores)"] == 12 * 1024 ** 2
    assert 10 * sum(work.values()) < 0.02 * ex.counted_flops(lambda: layer(x))


@pytest.mark.parametrize("d_model", [768, 1600, 12288])
def test_attention_adds_ten_percent_at_six_tenths_of_d_model(d_model):
    seq = ex.attention_share_seq(d_model, share=0.1)
    assert math.isclose(seq, 0.6 * d_model)
    parts = _enc(1, d_model, 1, 4 * d_model, round(seq), 0)   # checked against the counter above
    assert math.isclose(parts["attention"] / (parts["projections"] + parts["ffn"]), 0.1, rel_tol=2e-3)
    assert math.isclose(ex.attention_share_seq(d_model, share=1.0), 6 * d_model)


def test_counted_by_part_splits_the_model_as_the_chapter_says():
    model = ex.encoder_lm(2, 16, 4, 40, 11)
    assert ex.counted_by_part(model, torch.zeros(3, 7, dtype=torch.long)) == _enc(2, 16, 4, 40, 7, 11, 3)


def test_the_default_cpu_attention_kernel_is_invisible_to_the_counter():
    stack = ex.encoder_stack(1, 16, 4, 40)
    x = torch.randn(2, 5, 16)
    missing = ex.counted_flops(lambda: stack(x)) - ex.counted_flops(lambda: stack(x), math_attention=False)
    assert missing == _enc(1, 16, 4, 40, 5, 0, 2)["attention"]
    assert "bmm" in ex.counted_ops() and "_scaled_dot_product_flash_attention_for_cpu" not in ex.counted_ops()


def test_causal_mask_does_not_change_the_count():
    counts = ex.causal_count()
    assert counts["full"] == counts["causal"] == sum(_enc(2, 64, 4, 256, 32, 0, 1).values())


def test_gpt2_small_counts_match():
    out = ex.gpt2_small_counts(_enc)
    assert out["counted"] == out["yours"]
    assert out["small_math_kernel"] - out["small_default_kernel"] == _enc(1, 64, 4, 256, 128, 0)["attention"]


def test_flops_split_crossover_is_two_d_plus_d_ff():
    fig, info = ex.flops_split_figure(_enc, _lp)
    assert info["n_params"] == 12 * _lp(768, 3072)
    assert math.isclose(info["crossover_seq"], 2 * 768 + 3072)
    assert info["weights_per_token"] < info["two_n"] < 1.01 * info["weights_per_token"]
    assert fig.axes and len(fig.axes[0].lines) >= 3


def test_throughput_sweep_and_figure():
    results = ex.throughput_sweep(benchmarking.median_seconds, sizes=(16, 32), repeats=1)
    assert [r["n"] for r in results] == [16, 32] and all(r["flops_per_s"] > 0 for r in results)
    fig = ex.throughput_figure(results, {"best": max(r["flops_per_s"] for r in results)})
    assert len(fig.axes[0].lines) == 2


def test_training_step_uses_the_given_count_and_it_matches_the_counter():
    step = ex.training_step(benchmarking.median_seconds, _train, d_model=16, n_layer=1, d_ff=32, n_head=2, batch=2,
                            seq=8, repeats=1)
    assert step["tokens"] == 16 and step["seconds"] > 0
    assert step["flops"] == step["counted"] == _train(1, 16, 2, 32, 8, 2)


# --------------------------------------------------------------------------------------- widget

MEASURED = {"peak": 1e11, "bandwidth": 2e10, "points": [(20.0, 5e10, "n=128")]}


def test_roofline_every_control_changes_the_figure(tmp_path):
    w = rl.roofline(MEASURED)
    assert w.controls["device"].value.startswith("this machine")
    for name, value in [("size", 4), ("operation", "matrix-vector (n×n)·(n)"), ("device", "H100 SXM, bf16")]:
        before, status = w.png, w.status.value
        w.controls[name].value = value
        assert w.png != before and w.status.value != status, name
    assert "memory-bound" in w.status.value
    out = w.export_png(tmp_path / "roof.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_roofline_says_compute_bound_for_big_matmuls_and_knows_the_ridge():
    w = rl.roofline(None, n=4096)
    assert "this machine" not in " ".join(w.controls["device"].options)
    w.controls["device"].value = "H100 SXM, bf16"
    assert "compute-bound" in w.status.value and "ridge 295 FLOP/B" in w.status.value
    w.controls["operation"].value = "elementwise add of two n×n"
    assert "memory-bound" in w.status.value


def test_roofline_rejects_bad_size():
    with pytest.raises(ValueError, match="n must be"):
        rl.roofline(None, n=1)


def test_hints_and_demos_do_not_type_the_answers():
    # a hint points the way and a demo shows the idea on another example (issue 30): neither may type a
    # solution's line or run its expression with other names (tests/hints.py)
    assert answers_given_away(A) == []
