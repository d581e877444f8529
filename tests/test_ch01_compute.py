"""Chapter 01 (compute): graded cells reject the usual wrong answers and accept correct ones written
differently; the timing helpers, experiments and the roofline widget behave."""

from __future__ import annotations

import math
import statistics
import time

import pytest
import torch
from course_grader.checks import ch01_compute as ref
from notebooks import assert_rejected, graded_cells, run_test_cell

from course import benchmarking
from course.experiments import ch01_compute as ex
from course.widgets import ch01_compute as rl

A = "01-compute"


def test_graded_cells_and_points():
    points = {gid: c.metadata["nbgrader"]["points"] for gid, c in graded_cells(A).items()}
    assert points == {"pf_days_tests": 2, "matmul_flops_tests": 2, "attention_flops_tests": 2,
                      "layer_params_tests": 2, "flops_per_token_tests": 2, "measure_seconds_tests": 3,
                      "mfu_tests": 2, "matmul_intensity_tests": 2}


# ------------------------------------------------------------------------------------- pf_days

@pytest.mark.parametrize("fn", [
    lambda f: f / 8.64e19,
    lambda f: f / 1e15 / 86400,
    lambda f: float(torch.tensor(f, dtype=torch.float64) / torch.tensor(1e15 * 24 * 3600, dtype=torch.float64)),
])
def test_pf_days_accepts(fn):
    run_test_cell(A, "pf_days_tests", pf_days=fn)


@pytest.mark.parametrize("wrong", [
    lambda f: f / (2 ** 50 * 86400),   # binary peta
    lambda f: f / (1e15 * 3600),       # PF-hours
    lambda f: f / 1e15,                # PF-seconds
    lambda f: f * 8.64e19,             # upside down
])
def test_pf_days_rejects(wrong):
    assert_rejected(A, "pf_days_tests", pf_days=wrong)


# -------------------------------------------------------------------------------- matmul_flops

def _check_sizes(m, k, n):
    if m < 0 or k < 0 or n < 0:
        raise ValueError("negative size")


def mm_loop(m, k, n):
    _check_sizes(m, k, n)
    total = 0
    for _ in range(m * n):
        total += k + k  # k multiplies, k adds
    return total


def mm_math(m, k, n):
    if any(s < 0 for s in (m, k, n)):
        raise ValueError("sizes must be >= 0")
    return 2 * math.prod((m, k, n))


def mm_mul(m, k, n):
    _check_sizes(m, k, n)
    return (m * n) * (2 * k)


@pytest.mark.parametrize("fn", [mm_loop, mm_math, mm_mul])
def test_matmul_flops_accepts(fn):
    run_test_cell(A, "matmul_flops_tests", matmul_flops=fn)


@pytest.mark.parametrize("wrong", [
    lambda m, k, n: m * k * n,                       # multiply-adds, not FLOPs
    lambda m, k, n: 2 * m * n,                       # forgot the inner dim
    lambda m, k, n: m * n * (2 * k - 1),             # exact adds: not the convention
    lambda m, k, n: 2 * m * k * n,                   # no ValueError for negative sizes
    lambda m, k, n: float(2 * m * k * n) if min(m, k, n) >= 0 else mm_math(m, k, n) + 0.5,  # a float
])
def test_matmul_flops_rejects(wrong):
    assert_rejected(A, "matmul_flops_tests", matmul_flops=wrong)


# ----------------------------------------------------------------------------- attention_flops

@pytest.mark.parametrize("fn", [
    lambda seq, d, n_layer=1: 4 * n_layer * seq * seq * d,
    lambda seq, d, n_layer=1: sum(2 * seq * d * seq * 2 for _ in range(n_layer)),
    lambda seq, d, n_layer=1: n_layer * (mm_math(seq, d, seq) + mm_math(seq, seq, d)),
])
def test_attention_flops_accepts(fn):
    run_test_cell(A, "attention_flops_tests", attention_flops=fn)


@pytest.mark.parametrize("wrong", [
    lambda seq, d, n_layer=1: 2 * n_layer * seq * seq * d,      # only Q·Kᵀ
    lambda seq, d, n_layer=1: 4 * seq * seq * d,                # ignores n_layer
    lambda seq, d, n_layer=1: 4 * n_layer * seq * d,            # per token, not per sequence
    lambda seq, d, n_layer=1: 4 * n_layer * seq * seq * d // 2,  # per head of two
])
def test_attention_flops_rejects(wrong):
    assert_rejected(A, "attention_flops_tests", attention_flops=wrong)


# -------------------------------------------------------------------------------- layer_params

@pytest.mark.parametrize("fn", [
    lambda d, f: 4 * d * d + 4 * d + 2 * d * f + f + d + 4 * d,
    lambda d, f: (d + 1) * 4 * d + (d + 1) * f + (f + 1) * d + 2 * (2 * d),
])
def test_layer_params_accepts(fn):
    run_test_cell(A, "layer_params_tests", layer_params=fn)


@pytest.mark.parametrize("wrong", [
    lambda d, f: 4 * d * d + 2 * d * f,                         # no biases, no norms
    lambda d, f: 4 * d * d + 4 * d + 2 * d * f + f + d,         # forgot the LayerNorms
    lambda d, f: 4 * d * d + 4 * d + 2 * d * f + 2 * f + 4 * d,  # wrong FFN biases
    lambda d, f: 4 * d * d + 4 * d + 8 * d * d + 4 * d + d + 4 * d,  # assumes d_ff = 4d
    lambda d, f: 3 * d * d + 3 * d + 2 * d * f + f + d + 4 * d,  # no output projection
    lambda d, f: sum(p.numel() for p in torch.nn.TransformerEncoderLayer(d, 1, f).parameters()),  # borrowed
])
def test_layer_params_rejects(wrong):
    assert_rejected(A, "layer_params_tests", layer_params=wrong)


# ---------------------------------------------------------------------------- flops_per_token

def fwd_a(n, layers, seq, d):
    return 2 * n + 4 * layers * seq * d


def fwd_b(n, layers, seq, d):
    return 2.0 * n + 2 * (2 * layers * seq * d)


def fwd_c(n, layers, seq, d):
    return sum([2 * n] + [2 * seq * d] * (2 * layers))


@pytest.mark.parametrize("fwd,train", [
    (fwd_a, lambda *a: 3 * fwd_a(*a)),
    (fwd_b, lambda *a: fwd_b(*a) + 2 * fwd_b(*a)),
    (fwd_c, lambda n, l, s, d: 6 * n + 12 * l * s * d),
])
def test_flops_per_token_accepts(fwd, train):
    run_test_cell(A, "flops_per_token_tests", forward_flops_per_token=fwd, training_flops_per_token=train)


@pytest.mark.parametrize("fwd,train", [
    (lambda n, l, s, d: 2 * n, lambda n, l, s, d: 6 * n),                                # no attention term
    (lambda n, l, s, d: 2 * n + 2 * l * s * d, lambda n, l, s, d: 3 * (2 * n + 2 * l * s * d)),  # only Q·Kᵀ
    (fwd_a, lambda n, l, s, d: 6 * n + 4 * l * s * d),                                   # attention not tripled
    (fwd_a, lambda n, l, s, d: 2 * fwd_a(n, l, s, d)),                                   # backward = forward
    (lambda n, l, s, d: n + 4 * l * s * d, lambda n, l, s, d: 3 * (n + 4 * l * s * d)),  # N, not 2N
])
def test_flops_per_token_rejects(fwd, train):
    assert_rejected(A, "flops_per_token_tests", forward_flops_per_token=fwd, training_flops_per_token=train)


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


def _measure(*, warm_timed=False, use_mean=False, sync_start=True, sync_end=True, check=True, use_min=False):
    def measure(fn, warmup=2, repeats=5, sync=None, clock=time.perf_counter):
        if check and (repeats < 1 or warmup < 0):
            raise ValueError("bad")
        times = []
        for i in range(warmup + repeats):
            timed = i >= warmup
            if sync and sync_start and timed:
                sync()
            t0 = clock()
            fn()
            if sync and sync_end and timed:
                sync()
            if warm_timed or i >= warmup:
                times.append(clock() - t0)
        if use_min:
            return float(min(times))
        return float(statistics.mean(times) if use_mean else statistics.median(times))
    return measure


@pytest.mark.parametrize("wrong", [
    _measure(warm_timed=True),                  # warm-up calls timed
    _measure(use_mean=True),                    # mean, not median
    _measure(use_min=True),                     # minimum
    _measure(sync_end=False),                   # stops the clock before the GPU is done
    _measure(sync_start=False),                 # earlier queued work leaks into the first timing
    _measure(check=False),                      # repeats=0 not rejected
    measure_reference,                          # the course's own harness (borrowed)
], ids=["warmup-timed", "mean", "min", "no-sync-at-end", "no-sync-at-start", "no-error", "borrowed"])
def test_measure_seconds_rejects(wrong):
    assert_rejected(A, "measure_seconds_tests", measure_seconds=wrong)


def test_measure_without_warmup_is_caught():
    def no_warmup(fn, warmup=2, repeats=5, sync=None, clock=time.perf_counter):
        return _measure()(fn, 0, repeats, sync, clock)
    assert_rejected(A, "measure_seconds_tests", measure_seconds=no_warmup)


# ------------------------------------------------------------------------------------------ mfu

def _positive(seconds, peak):
    if seconds <= 0 or peak <= 0:
        raise ValueError("must be positive")


@pytest.mark.parametrize("fn", [
    lambda f, s, p: (_positive(s, p), f / (s * p))[1],
    lambda f, s, p: (_positive(s, p), (f / s) / p)[1],
    lambda f, s, p: (_positive(s, p), math.exp(math.log(f) - math.log(s) - math.log(p)))[1],
])
def test_mfu_accepts(fn):
    run_test_cell(A, "mfu_tests", mfu=fn)


@pytest.mark.parametrize("wrong", [
    lambda f, s, p: (_positive(s, p), f / p)[1],           # forgot the time
    lambda f, s, p: (_positive(s, p), 100 * f / s / p)[1],  # percent, not a fraction
    lambda f, s, p: (_positive(s, p), p / (f / s))[1],      # upside down
    lambda f, s, p: f / s / p if p else 0.0,                # no error for seconds = 0 (ZeroDivisionError)
])
def test_mfu_rejects(wrong):
    assert_rejected(A, "mfu_tests", mfu=wrong)


# ------------------------------------------------------------------------------ matmul_intensity

@pytest.mark.parametrize("fn", [
    lambda m, k, n, b=4: 2 * m * k * n / (b * (m * k + k * n + m * n)),
    lambda m, k, n, b=4: mm_math(m, k, n) / b / (m * k + k * n + m * n),
    lambda m, k, n, b=4: 2.0 / (b * (1 / n + 1 / m + 1 / k)),
])
def test_matmul_intensity_accepts(fn):
    run_test_cell(A, "matmul_intensity_tests", matmul_intensity=fn)


@pytest.mark.parametrize("wrong", [
    lambda m, k, n, b=4: 2 * m * k * n / (m * k + k * n + m * n),          # elements, not bytes
    lambda m, k, n, b=4: 2 * m * k * n / (b * (m * k + k * n)),            # forgot writing C
    lambda m, k, n, b=4: m * k * n / (b * (m * k + k * n + m * n)),        # multiply-adds
    lambda m, k, n, b=4: 2 * m * k * n / (4 * (m * k + k * n + m * n)),    # ignores bytes_per_element
])
def test_matmul_intensity_rejects(wrong):
    assert_rejected(A, "matmul_intensity_tests", matmul_intensity=wrong)


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
    ("check_matmul_flops", lambda m, k, n: ex.counted_flops(lambda: torch.zeros(m, k) @ torch.zeros(k, n))),
    ("check_attention_flops", lambda s, d, n=1: n * 2 * ex.counted_flops(lambda: torch.zeros(s, d) @ torch.zeros(d, s))),
    ("check_layer_params", lambda d, f: sum(p.numel() for p in torch.nn.TransformerEncoderLayer(d, 1, f).parameters())),
    ("check_matmul_intensity", lambda m, k, n, b=4: rl.intensity("matmul (n×n)·(n×n)", m, b)),
])
def test_hidden_checks_reject_borrowed_answers(check, borrowed):
    with pytest.raises(AssertionError, match="may not call"):
        getattr(ref, check)(borrowed)


def test_checks_catch_subtle_bugs():
    with pytest.raises(AssertionError, match="FLOP counter"):
        ref.check_attention_flops(lambda s, d, n=1: 4 * n * s * s * d + 1)
    with pytest.raises(AssertionError, match="nn.TransformerEncoderLayer"):
        ref.check_layer_params(lambda d, f: 872 if (d, f) == (8, 32) else 4 * d * d + 2 * d * f)  # hard-coded visible case
    with pytest.raises(AssertionError):
        ref.check_pf_days(lambda f: round(f / 8.64e19))


# ---------------------------------------------------------------------------------- experiments

def _layer_params(d, f):
    return 4 * d * d + 4 * d + 2 * d * f + f + d + 4 * d


def test_flops_split_crossover_is_about_six_d():
    fig, info = ex.flops_split_figure(fwd_a, _layer_params)
    assert info["n_params"] == 12 * _layer_params(768, 3072)
    assert 6 * 768 < info["crossover_seq"] < 6.1 * 768
    assert fig.axes and len(fig.axes[0].lines) >= 2


def test_throughput_sweep_and_figure():
    results = ex.throughput_sweep(benchmarking.median_seconds, sizes=(16, 32), repeats=1)
    assert [r["n"] for r in results] == [16, 32] and all(r["flops_per_s"] > 0 for r in results)
    fig = ex.throughput_figure(results, {"best": max(r["flops_per_s"] for r in results)})
    assert len(fig.axes[0].lines) == 2


def test_training_step_counts_formula_flops():
    step = ex.training_step(benchmarking.median_seconds, lambda n, l, s, d: 3 * fwd_a(n, l, s, d), _layer_params,
                            d_model=16, n_layer=1, d_ff=32, heads=2, batch=2, seq=8, repeats=1)
    assert step["tokens"] == 16
    assert step["flops"] == 3 * fwd_a(_layer_params(16, 32), 1, 8, 16) * 16
    assert step["seconds"] > 0


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
