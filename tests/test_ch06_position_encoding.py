"""Chapter 06 (position encoding): graded cells reject the usual mistakes (sin/cos swapped, halves
instead of interleaving, wrong frequencies, flipped rotations, the rotate-half pairing) and accept
correct answers written differently; the experiments and both widgets behave."""

from __future__ import annotations

import math

import pytest
import torch
from course_grader.checks import ch06_position_encoding as ref
from notebooks import assert_rejected, graded_cells, run_test_cell

from course.experiments import ch06_position_encoding as ex
from course.widgets import ch06_position_encoding as rw

A = "06-position-encoding"


def test_graded_cells_and_points():
    points = {gid: c.metadata["nbgrader"]["points"] for gid, c in graded_cells(A).items()}
    assert points == {"is_permutation_equivariant_tests": 2, "sinusoidal_table_tests": 3, "shift_matrix_tests": 3,
                      "pe_dot_tests": 2, "rope_matrices_tests": 3, "apply_rope_tests": 4}


# ------------------------------------------------------------------------------- equivariance

@pytest.mark.parametrize("fn", [
    lambda layer, x, perm: bool(torch.allclose(layer(x[:, perm]), layer(x)[:, perm], atol=1e-6)),
    lambda layer, x, perm: bool((layer(x.index_select(1, perm)) - layer(x).index_select(1, perm)).abs().max() < 1e-6),
    lambda layer, x, perm: bool(torch.allclose(layer(x[:, perm])[:, torch.argsort(perm)], layer(x), atol=1e-6)),
])
def test_equivariance_accepts(fn):
    run_test_cell(A, "is_permutation_equivariant_tests", is_permutation_equivariant=fn)


@pytest.mark.parametrize("wrong", [
    lambda layer, x, perm: True,                                                         # always yes
    lambda layer, x, perm: bool(torch.allclose(layer(x[:, perm]), layer(x), atol=1e-6)),  # invariance
    lambda layer, x, perm: torch.allclose(layer(x[:, perm]), layer(x)[:, perm]) * 1,      # an int, not a bool
    lambda layer, x, perm: bool(torch.allclose(layer(x[:, perm]).sum(1), layer(x).sum(1), atol=1e-6)),  # sums
])
def test_equivariance_rejects(wrong):
    assert_rejected(A, "is_permutation_equivariant_tests", is_permutation_equivariant=wrong)


# ------------------------------------------------------------------------------ sinusoidal_table

def table_loops(n, d):
    out = torch.zeros(n, d)
    for p in range(n):
        for j in range(d):
            w = 10000 ** (-(j - j % 2) / d)
            out[p, j] = math.sin(p * w) if j % 2 == 0 else math.cos(p * w)
    return out


def table_exp_log(n, d):
    w = torch.exp(-math.log(10000.0) * torch.arange(0, d, 2, dtype=torch.float64) / d)  # (ceil(d/2),)
    a = torch.arange(n, dtype=torch.float64)[:, None] * w
    return torch.stack([torch.sin(a), torch.cos(a)], dim=-1).flatten(1)[:, :d].float()


@pytest.mark.parametrize("fn", [table_loops, table_exp_log, lambda n, d: ref.reference_table(n, d)])
def test_sinusoidal_table_accepts(fn):
    run_test_cell(A, "sinusoidal_table_tests", sinusoidal_table=fn)


def _table(kind):
    def table(n, d):
        good = ref.reference_table(n, d)
        if kind == "swap":
            angles = torch.arange(n, dtype=torch.float64)[:, None] * ref.frequencies(d)[None, :]
            out = torch.zeros(n, d, dtype=torch.float64)
            out[:, 0::2] = torch.cos(angles)
            out[:, 1::2] = torch.sin(angles[:, : d // 2])
            return out
        if kind == "halves":
            return torch.cat([good[:, 0::2], good[:, 1::2]], dim=1)
        if kind == "i-not-2i":
            i = torch.arange((d + 1) // 2, dtype=torch.float64)
            a = torch.arange(n, dtype=torch.float64)[:, None] * 10000 ** (-i / d)
            return torch.stack([torch.sin(a), torch.cos(a)], -1).flatten(1)[:, :d]
        if kind == "base-1000":
            i = torch.arange((d + 1) // 2, dtype=torch.float64)
            a = torch.arange(n, dtype=torch.float64)[:, None] * 1000 ** (-2 * i / d)
            return torch.stack([torch.sin(a), torch.cos(a)], -1).flatten(1)[:, :d]
        if kind == "from-1":
            return ref.reference_table(n + 1, d)[1:]
        raise ValueError(kind)
    return table


@pytest.mark.parametrize("kind", ["swap", "halves", "i-not-2i", "base-1000", "from-1"])
def test_sinusoidal_table_rejects(kind):
    assert_rejected(A, "sinusoidal_table_tests", sinusoidal_table=_table(kind))


def test_hidden_table_check_covers_odd_d():
    def even_only(n, d):
        return ref.reference_table(n, d + d % 2)[:, :d] if d % 2 == 0 else torch.zeros(n, d)
    with pytest.raises(AssertionError, match=r"sinusoidal_table\(9, 5\)"):
        ref.check_sinusoidal_table(even_only)


# --------------------------------------------------------------------------------- shift_matrix

def shift_kron(k, d):
    if d % 2:
        raise ValueError("odd d")
    blocks = [torch.tensor([[math.cos(k * w), math.sin(k * w)], [-math.sin(k * w), math.cos(k * w)]])
              for w in ref.frequencies(d).tolist()]
    return torch.block_diag(*blocks)


def shift_from_table(k, d):
    if d % 2:
        raise ValueError("odd d")
    row = ref.reference_table(abs(k) + 1, d)[abs(k)]  # sin(|k|w), cos(|k|w) interleaved
    m = torch.zeros(d, d)
    for i in range(d // 2):
        s, c = float(row[2 * i]) * (1 if k >= 0 else -1), float(row[2 * i + 1])
        m[2 * i:2 * i + 2, 2 * i:2 * i + 2] = torch.tensor([[c, s], [-s, c]])
    return m


def shift_power(k, d):
    if d % 2:
        raise ValueError("odd d")
    one = shift_kron(1, d).double()
    return torch.linalg.matrix_power(one, k).float() if k >= 0 else torch.linalg.matrix_power(one.T, -k).float()


@pytest.mark.parametrize("fn", [shift_kron, shift_from_table, shift_power])
def test_shift_matrix_accepts(fn):
    run_test_cell(A, "shift_matrix_tests", shift_matrix=fn)


@pytest.mark.parametrize("wrong", [
    lambda k, d: shift_kron(k, d).T,                          # rotates the wrong way
    lambda k, d: shift_kron(-k, d),                           # shifts backwards
    lambda k, d: torch.eye(d),                                # identity
    lambda k, d: shift_kron(k, d) if d != 3 else torch.eye(3),  # no ValueError for odd d
])
def test_shift_matrix_rejects(wrong):
    assert_rejected(A, "shift_matrix_tests", shift_matrix=wrong)


# ---------------------------------------------------------------------------------------- pe_dot

@pytest.mark.parametrize("fn", [
    lambda k, d: float(torch.cos(k * ref.frequencies(d)).sum()),
    lambda k, d: float(ref.reference_table(abs(k) + 1, d)[0] @ ref.reference_table(abs(k) + 1, d)[abs(k)]),
    lambda k, d: sum(math.cos(k * math.exp(-2 * i / d * math.log(10000))) for i in range(d // 2)),
])
def test_pe_dot_accepts(fn):
    run_test_cell(A, "pe_dot_tests", pe_dot=fn)


@pytest.mark.parametrize("wrong", [
    lambda k, d: float(torch.cos(k * ref.frequencies(d)).sum()) / (d // 2),        # averaged
    lambda k, d: float(torch.sin(k * ref.frequencies(d)).sum()),                   # sin
    lambda k, d: float(torch.cos(abs(k) * ref.frequencies(2 * d)).sum()),          # wrong frequencies
    lambda k, d: float(torch.cos(k * ref.frequencies(d)).sum()) * (1 if k >= 0 else -1),  # antisymmetric
])
def test_pe_dot_rejects(wrong):
    assert_rejected(A, "pe_dot_tests", pe_dot=wrong)


# ------------------------------------------------------------------------------------ rope matrices

def rot_a(angle):
    return torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])


def rot_b(angle):
    return torch.linalg.matrix_exp(torch.tensor([[0.0, -angle], [angle, 0.0]]))


def rot_c(angle):
    z = complex(math.cos(angle), math.sin(angle))
    return torch.tensor([[z.real, -z.imag], [z.imag, z.real]])


def mat_a(m, d, base=10000.0):
    return torch.block_diag(*[rot_a(m * base ** (-2 * i / d)) for i in range(d // 2)])


def mat_b(m, d, base=10000.0):
    r = torch.zeros(d, d)
    for i in range(d // 2):
        r[2 * i:2 * i + 2, 2 * i:2 * i + 2] = rot_b(m * base ** (-2 * i / d))
    return r


def mat_c(m, d, base=10000.0):
    return ref.reference_rope(torch.eye(d), torch.full((d,), float(m)), base).T.float()


@pytest.mark.parametrize("rot,mat", [(rot_a, mat_a), (rot_b, mat_b), (rot_c, mat_c)])
def test_rope_matrices_accept(rot, mat):
    run_test_cell(A, "rope_matrices_tests", rope_rotation=rot, rope_matrix=mat)


@pytest.mark.parametrize("rot,mat", [
    (lambda a: rot_a(a).T, lambda m, d, base=10000.0: mat_a(m, d, base).T),        # clockwise
    (rot_a, lambda m, d, base=10000.0: torch.block_diag(*[rot_a(m * base ** (-i / d)) for i in range(d // 2)])),  # i/d
    (rot_a, lambda m, d, base=10000.0: mat_a(m, d, base)[ex.half_to_interleaved(d)][:, ex.half_to_interleaved(d)]),
    (rot_a, lambda m, d, base=10000.0: torch.block_diag(*[rot_a(m * base ** (-2 * i / d)) for i in range(d // 2)][::-1])),
])
def test_rope_matrices_reject(rot, mat):
    assert_rejected(A, "rope_matrices_tests", rope_rotation=rot, rope_matrix=mat)


# ------------------------------------------------------------------------------------- apply_rope

def rope_complex(x, positions, base=10000.0):
    d = x.shape[-1]
    z = torch.view_as_complex(x.double().reshape(*x.shape[:-1], d // 2, 2).contiguous())
    angles = positions.double()[:, None] * ref.frequencies(d, base)[None, :]
    return torch.view_as_real(z * torch.polar(torch.ones_like(angles), angles)).flatten(-2).to(x.dtype)


def rope_matrices(x, positions, base=10000.0):
    d = x.shape[-1]
    mats = torch.stack([mat_a(int(p), d, base) for p in positions]).to(x.dtype)  # (seq, d, d)
    return torch.einsum("sij,bhsj->bhsi", mats, x)


def rope_even_odd(x, positions, base=10000.0):
    d = x.shape[-1]
    theta = 1.0 / base ** (torch.arange(0, d, 2).double() / d)
    ang = torch.outer(positions.double(), theta)
    out = x.clone()
    out[..., 0::2] = x[..., 0::2] * ang.cos() - x[..., 1::2] * ang.sin()
    out[..., 1::2] = x[..., 0::2] * ang.sin() + x[..., 1::2] * ang.cos()
    return out


@pytest.mark.parametrize("fn", [rope_complex, rope_matrices, rope_even_odd])
def test_apply_rope_accepts(fn):
    run_test_cell(A, "apply_rope_tests", apply_rope=fn)


@pytest.mark.parametrize("wrong", [
    ex.rotate_half_rope,                                                    # the other pairing
    lambda x, p, base=10000.0: rope_even_odd(x, -p, base),                  # rotates the wrong way
    lambda x, p, base=10000.0: rope_even_odd(x, p, base ** 0.5),            # wrong base / theta
    lambda x, p, base=10000.0: rope_even_odd(x, torch.arange(len(p)), base),  # ignores the given positions
    lambda x, p, base=10000.0: rope_even_odd(x, p, base) * (1 + 1e-3),      # not a rotation (norm grows)
])
def test_apply_rope_rejects(wrong):
    assert_rejected(A, "apply_rope_tests", apply_rope=wrong)


def test_rotate_half_equals_interleaved_after_permutation():
    x = torch.randn(2, 3, 5, 12, dtype=torch.float64)
    pos = torch.tensor([0, 4, 9, 1, 30])
    order = ex.half_to_interleaved(12)
    assert not torch.allclose(ex.rotate_half_rope(x, pos), ref.reference_rope(x, pos))
    assert torch.allclose(ex.rotate_half_rope(x, pos)[..., order], ref.reference_rope(x[..., order], pos))


def test_rope_algebra_of_the_reference():
    for a, b in [(2, 3), (10, -4)]:
        assert torch.allclose(mat_a(a, 8).double() @ mat_a(b, 8).double(), mat_a(a + b, 8).double(), atol=1e-6)
        assert torch.allclose(mat_a(a, 8).T @ mat_a(b, 8), mat_a(b - a, 8), atol=1e-5)


# ---------------------------------------------------------------------------------- experiments

def test_dot_product_is_symmetric_and_not_monotone():
    fig, info = ex.dot_product_figure(ref.reference_table(128, 32), max_offset=60)
    assert info["max_asymmetry"] < 1e-10 and info["rising_steps_after_zero"] > 5


def test_extrapolation_fits_inside_and_drifts_outside():
    fig, info = ex.extrapolation_experiment(steps=150, show_offsets=128)
    for err in info["errors"].values():
        assert err["train_rmse"] < 0.2 and err["beyond_rmse"] > 2 * err["train_rmse"]
    assert info["lowest_frequency"][10000.0] < info["lowest_frequency"][100.0]


# --------------------------------------------------------------------------------------- widgets

def test_rope_explorer_controls_and_shift_invariance(tmp_path):
    w = rw.rope_explorer()
    for name, value in [("m", 10), ("n", 20), ("i", 3), ("base", 100.0)]:
        before = w.png
        w.controls[name].value = value
        assert w.png != before, name
    score_before = w.status.value.split("score ")[1].split(";")[0]
    before = w.png
    w.controls["shift"].value = 123
    assert w.png != before  # the arrows turn ...
    assert w.status.value.split("score ")[1].split(";")[0] == score_before  # ... the score does not
    assert w.export_png(tmp_path / "rope.png").read_bytes()[:4] == b"\x89PNG"


def test_sinusoidal_explorer_controls():
    w = rw.sinusoidal_explorer()
    for name, value in [("positions", 32), ("d", 16)]:
        before, status = w.png, w.status.value
        w.controls[name].value = value
        assert w.png != before and w.status.value != status, name


# ----------------------------------------------------------------------------- borrowed answers score zero

import course.blocks as _blocks  # noqa: E402
from course.experiments.ch06_position_encoding import sinusoidal_positions as _early_table  # noqa: E402  (bound early)


def _rope_by_rotate_half(x, positions, base=10000.0):
    order = ex.half_to_interleaved(x.shape[-1])
    return ex.rotate_half_rope(x[..., torch.argsort(order)], positions, base)[..., order]


def _rope_matrix_from_module(m, d, base=10000.0):
    rope = _blocks.RotaryEmbedding(d, base).double()
    angles = float(m) * rope.theta.double()
    return torch.block_diag(*[torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
                              for a in angles.tolist()])


BORROWED = [
    ("sinusoidal_table_tests", {"sinusoidal_table": lambda n, d: _blocks.SinusoidalPositions.build(n, d)}),
    ("sinusoidal_table_tests", {"sinusoidal_table": lambda n, d: _early_table(n, d).float()}),
    ("shift_matrix_tests", {"shift_matrix": lambda k, d: torch.block_diag(*[
        torch.tensor([[math.cos(k * w), math.sin(k * w)], [-math.sin(k * w), math.cos(k * w)]])
        for w in ex.frequencies(d).tolist()]) if d % 2 == 0 else (_ for _ in ()).throw(ValueError("odd d"))}),
    ("pe_dot_tests", {"pe_dot": lambda k, d: float(_early_table(abs(k) + 1, d)[0] @ _early_table(abs(k) + 1, d)[abs(k)])}),
    ("rope_matrices_tests", {"rope_matrix": _rope_matrix_from_module}),
    ("apply_rope_tests", {"apply_rope": lambda x, positions, base=10000.0: ex._rope(x, positions, base).to(x.dtype)}),
    ("apply_rope_tests", {"apply_rope": _rope_by_rotate_half}),
]


@pytest.mark.parametrize("grade_id, substitutes", BORROWED, ids=[f"{g}-{i}" for i, (g, _) in enumerate(BORROWED)])
def test_borrowed_answers_score_zero(grade_id, substitutes):
    err = assert_rejected(A, grade_id, **substitutes)
    assert "may not call" in str(err), err
