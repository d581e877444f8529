"""Chapter 06 (position encoding): graded cells reject the usual mistakes, each with the message that names it
(sin/cos swapped, halves instead of interleaving, the exponent with i or the column index, a shift by −k,
averaged or antisymmetric dot products, clockwise rotations, the rotate-half pairing, positions ignored) and
accept correct answers written differently; the experiments and both widgets behave."""

from __future__ import annotations

import math

import pytest
import torch
from course_grader.checks import ch06_position_encoding as ref
from notebooks import assert_rejected, graded_cells, run_test_cell

from course.experiments import ch06_position_encoding as ex
from course.widgets import ch06_position_encoding as rw

A = "06-position-encoding"


def rejected_with(grade_id: str, message: str | None, **substitutes) -> None:
    """The test cell fails for this wrong answer, and (when given) with the message that names the mistake."""
    err = assert_rejected(A, grade_id, **substitutes)
    if message is not None:
        assert message in str(err), f"expected the message to contain {message!r}, got: {err}"


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


EQUIVARIANCE_WRONG = {
    "always-true": (lambda layer, x, perm: True, "you returned True"),
    "always-false": (lambda layer, x, perm: False, "the identity layer is equivariant"),
    "invariance": (lambda layer, x, perm: bool(torch.allclose(layer(x[:, perm]), layer(x), atol=1e-6)),
                   "tests invariance"),
    "an-int": (lambda layer, x, perm: torch.allclose(layer(x[:, perm]), layer(x)[:, perm]) * 1, "Python bool"),
    "sums": (lambda layer, x, perm: bool(torch.allclose(layer(x[:, perm]).sum(1), layer(x).sum(1), atol=1e-6)),
             "sums or means"),
    "exact-equality": (lambda layer, x, perm: bool(torch.equal(layer(x[:, perm]), layer(x)[:, perm])),
                       "compare with a tolerance"),
    "permutes-features": (lambda layer, x, perm: bool(torch.allclose(layer(x[..., perm]), layer(x)[..., perm],
                                                                     atol=1e-6)), None),
}


@pytest.mark.parametrize("kind", sorted(EQUIVARIANCE_WRONG))
def test_equivariance_rejects_with_its_message(kind):
    fn, message = EQUIVARIANCE_WRONG[kind]
    rejected_with("is_permutation_equivariant_tests", message, is_permutation_equivariant=fn)


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
        if kind == "column-index":  # column j at 10000^(-j/d)
            j = torch.arange(d, dtype=torch.float64)
            a = torch.arange(n, dtype=torch.float64)[:, None] * 10000 ** (-j / d)
            return torch.where(j % 2 == 0, a.sin(), a.cos())
        if kind == "float-exponent-d-1":  # 10000^(-2i/(d-1))
            i = torch.arange((d + 1) // 2, dtype=torch.float64)
            a = torch.arange(n, dtype=torch.float64)[:, None] * 10000 ** (-2 * i / (d - 1))
            return torch.stack([torch.sin(a), torch.cos(a)], -1).flatten(1)[:, :d]
        raise ValueError(kind)
    return table


TABLE_MESSAGES = {"swap": "sin and cos are swapped", "halves": "two halves", "i-not-2i": "the PAIR index",
                  "column-index": "columns 2i and 2i + 1 share", "base-1000": "the base is 10000",
                  "from-1": "positions start at 0", "float-exponent-d-1": None}


@pytest.mark.parametrize("kind", sorted(TABLE_MESSAGES))
def test_sinusoidal_table_rejects_with_its_message(kind):
    rejected_with("sinusoidal_table_tests", TABLE_MESSAGES[kind], sinusoidal_table=_table(kind))


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


def shift_exp(k, d):  # the generator of the rotation, exponentiated: exact for every real k
    if d % 2:
        raise ValueError("odd d")
    gen = torch.zeros(d, d, dtype=torch.float64)
    for i, w in enumerate(ref.frequencies(d).tolist()):
        gen[2 * i, 2 * i + 1], gen[2 * i + 1, 2 * i] = w, -w
    return torch.linalg.matrix_exp(k * gen).float()


def shift_least_squares(k, d):
    """The shortcut of issue 30: M fitted by least squares between rows p and p + k of the student's own table."""
    if d % 2:
        raise ValueError("odd d")
    table = ref.reference_table(64 + abs(int(k)), d).float()
    a, b = (table[:64], table[k:k + 64]) if k >= 0 else (table[-k:-k + 64], table[:64])
    return torch.linalg.lstsq(a, b).solution.T


def shift_complex(k, d):  # each block from e^{ikw}
    if d % 2:
        raise ValueError("odd d")
    m = torch.zeros(d, d)
    for i in range(d // 2):
        z = complex(math.cos(k * 10000.0 ** (-2 * i / d)), math.sin(k * 10000.0 ** (-2 * i / d)))
        m[2 * i:2 * i + 2, 2 * i:2 * i + 2] = torch.tensor([[z.real, z.imag], [-z.imag, z.real]])
    return m


@pytest.mark.parametrize("fn", [shift_kron, shift_exp, shift_complex])
def test_shift_matrix_accepts(fn):
    run_test_cell(A, "shift_matrix_tests", shift_matrix=fn)


SHIFT_WRONG = {
    "transposed": (lambda k, d: shift_kron(k, d).T, "shifts by -k"),
    "shifts-backwards": (lambda k, d: shift_kron(-k, d), "shifts by -k"),
    "identity": (lambda k, d: torch.eye(d), "does not shift at all"),
    "no-valueerror": (lambda k, d: shift_kron(k, d) if d != 3 else torch.eye(3), "no cos partner"),
    "fitted-to-the-table": (shift_least_squares, "no table of integer positions contains it"),
    "built-from-a-table-row": (shift_from_table, "no table of integer positions contains it"),
    "integer-k": (lambda k, d: shift_kron(int(k), d), "no table of integer positions contains it"),
    "power-of-the-one-step-shift": (shift_power, "no table of integer positions contains it"),
    "frequency-i-over-d": (lambda k, d: torch.block_diag(*[
        torch.tensor([[math.cos(k * w), math.sin(k * w)], [-math.sin(k * w), math.cos(k * w)]])
        for w in (10000.0 ** (-i / d) for i in range(d // 2))]), None),
}


@pytest.mark.parametrize("kind", sorted(SHIFT_WRONG))
def test_shift_matrix_rejects_with_its_message(kind):
    fn, message = SHIFT_WRONG[kind]
    rejected_with("shift_matrix_tests", message, shift_matrix=fn)


# ---------------------------------------------------------------------------------------- pe_dot

@pytest.mark.parametrize("fn", [
    lambda k, d: float(torch.cos(k * ref.frequencies(d)).sum()),
    lambda k, d: float(ref.reference_pe([0.0], d)[0] @ ref.reference_pe([k], d)[0]),  # PE by its formula at p = k
    lambda k, d: sum(math.cos(k * math.exp(-2 * i / d * math.log(10000))) for i in range(d // 2)),
])
def test_pe_dot_accepts(fn):
    run_test_cell(A, "pe_dot_tests", pe_dot=fn)


PE_DOT_WRONG = {
    "averaged": (lambda k, d: float(torch.cos(k * ref.frequencies(d)).sum()) / (d // 2), "averaged"),
    "sin": (lambda k, d: float(torch.sin(k * ref.frequencies(d)).sum()), "sin instead of cos"),
    "d-terms": (lambda k, d: float(sum(math.cos(k * 10000.0 ** (-2 * i / d)) for i in range(d))), "d/2 pairs"),
    "antisymmetric": (lambda k, d: float(torch.cos(k * ref.frequencies(d)).sum()) * (1 if k >= 0 else -1),
                      "cos is even"),
    "exponent-i": (lambda k, d: float(sum(math.cos(k * 10000.0 ** (-i / d)) for i in range(d // 2))), "exponent"),
    "wrong-frequencies": (lambda k, d: float(torch.cos(abs(k) * ref.frequencies(2 * d)).sum()), None),
    # the shortcut of issue 30: two rows of the (student's own) table instead of the closed form
    "from-the-table": (lambda k, d: float(ref.reference_table(abs(k) + 1, d)[0].float()
                                          @ ref.reference_table(abs(k) + 1, d)[abs(k)].float()),
                       "no table of integer positions has a row"),
    "rounded-offset": (lambda k, d: float(torch.cos(round(k) * ref.frequencies(d)).sum()),
                       "no table of integer positions has a row"),
}


@pytest.mark.parametrize("kind", sorted(PE_DOT_WRONG))
def test_pe_dot_rejects_with_its_message(kind):
    fn, message = PE_DOT_WRONG[kind]
    rejected_with("pe_dot_tests", message, pe_dot=fn)


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


ROPE_MATRICES_WRONG = {
    "clockwise-rotation": ({"rope_rotation": lambda a: rot_a(a).T}, "clockwise"),
    "clockwise-blocks": ({"rope_matrix": lambda m, d, base=10000.0: mat_a(m, d, base).T}, "rotate clockwise"),
    "i-over-d": ({"rope_matrix": lambda m, d, base=10000.0: torch.block_diag(
        *[rot_a(m * base ** (-i / d)) for i in range(d // 2)])}, "the pair index"),
    "rotate-half": ({"rope_matrix": lambda m, d, base=10000.0: mat_a(m, d, base)[ex.half_to_interleaved(d)][
        :, ex.half_to_interleaved(d)]}, "rotate half"),
    "reversed-blocks": ({"rope_matrix": lambda m, d, base=10000.0: torch.block_diag(
        *[rot_a(m * base ** (-2 * i / d)) for i in range(d // 2)][::-1])}, "reverse order"),
    "base-ignored": ({"rope_matrix": lambda m, d, base=10000.0: mat_a(m, d, 10000.0)}, None),
}


@pytest.mark.parametrize("kind", sorted(ROPE_MATRICES_WRONG))
def test_rope_matrices_reject_with_their_message(kind):
    substitutes, message = ROPE_MATRICES_WRONG[kind]
    rejected_with("rope_matrices_tests", message, **{"rope_rotation": rot_a, "rope_matrix": mat_a, **substitutes})


def _equivariant(layer, x, perm):
    return bool(torch.allclose(layer(x[:, perm]), layer(x)[:, perm], atol=1e-6))


@pytest.mark.parametrize("fn, message", [
    (lambda layer, x, perm: _equivariant(layer, x, torch.arange(x.shape[1]).roll(1)), "the perm argument was ignored"),
    (lambda layer, x, perm: _equivariant(layer, torch.randn_like(x), perm), "the x argument was ignored"),
])
def test_equivariance_rejects_an_ignored_argument(fn, message):
    rejected_with("is_permutation_equivariant_tests", message, is_permutation_equivariant=fn)
    with pytest.raises(AssertionError, match=message):
        ref.check_equivariance(fn)


@pytest.mark.parametrize("substitutes, message", [
    ({"rope_matrix": lambda m, d, base=10000.0: mat_a(m, d)}, "the base argument was ignored"),
    ({"rope_matrix": lambda m, d, base=10000.0: mat_a(m, 4, base)}, "the d argument was ignored"),
    ({"rope_matrix": lambda m, d, base=10000.0: torch.block_diag(*[rot_a(m * base ** (-2 * i / 4))
                                                                   for i in range(d // 2)])}, "not by a fixed 4"),
])
def test_rope_matrix_rejects_an_ignored_argument(substitutes, message):
    rejected_with("rope_matrices_tests", message, **{"rope_rotation": rot_a, **substitutes})


def test_apply_rope_rejects_an_ignored_base():
    rejected_with("apply_rope_tests", "the base argument was ignored",
                  apply_rope=lambda x, positions, base=10000.0: rope_even_odd(x, positions))
    with pytest.raises(AssertionError, match="use the base argument"):
        ref.check_apply_rope(lambda x, positions, base=10000.0: rope_even_odd(x, positions))


def test_hidden_rope_matrix_check_uses_the_base():
    with pytest.raises(AssertionError):
        ref.check_rope_matrix(lambda m, d, base=10000.0: mat_a(m, d, 10000.0))


# ------------------------------------------------------------------------------------- apply_rope

def rope_complex(x, positions, base=10000.0):
    d = x.shape[-1]
    z = torch.view_as_complex(x.double().reshape(*x.shape[:-1], d // 2, 2).contiguous())
    angles = positions.double()[:, None] * ref.frequencies(d, base).to(x.device)[None, :]
    return torch.view_as_real(z * torch.polar(torch.ones_like(angles), angles)).flatten(-2).to(x.dtype)


def rope_matrices(x, positions, base=10000.0):
    d = x.shape[-1]
    mats = torch.stack([mat_a(int(p), d, base) for p in positions]).to(x.dtype)  # (seq, d, d)
    return torch.einsum("sij,bhsj->bhsi", mats, x)


def rope_even_odd(x, positions, base=10000.0):
    d = x.shape[-1]
    theta = 1.0 / base ** (torch.arange(0, d, 2, device=x.device).double() / d)
    ang = torch.outer(positions.double(), theta)
    out = x.clone()
    out[..., 0::2] = x[..., 0::2] * ang.cos() - x[..., 1::2] * ang.sin()
    out[..., 1::2] = x[..., 0::2] * ang.sin() + x[..., 1::2] * ang.cos()
    return out


@pytest.mark.parametrize("fn", [rope_complex, rope_even_odd])
def test_apply_rope_accepts(fn):
    run_test_cell(A, "apply_rope_tests", apply_rope=fn)


APPLY_ROPE_WRONG = {
    "rotate-half": (ex.rotate_half_rope, "rotate half"),
    "clockwise": (lambda x, p, base=10000.0: rope_even_odd(x, -p, base), "clockwise"),
    "positions-ignored": (lambda x, p, base=10000.0: rope_even_odd(x, torch.arange(len(p)), base), "use `positions`"),
    "wrong-base": (lambda x, p, base=10000.0: rope_even_odd(x, p, base ** 0.5), None),
    "not-a-rotation": (lambda x, p, base=10000.0: rope_even_odd(x, p, base) * (1 + 1e-3), None),
    "positions-plus-one": (lambda x, p, base=10000.0: rope_even_odd(x, p + 1, base), "position 0 changes nothing"),
    # issue 30: frequencies built on the CPU fail next to a model on a GPU (chapter 08 runs apply_rope there)
    "reads-the-positions": (rope_matrices, "do not read values out of a tensor"),
}


def test_hidden_apply_rope_check_keeps_the_dtype():
    def promotes(x, positions, base=10000.0):  # cos and sin left in float64: a float32 input comes back float64
        theta = base ** (-torch.arange(0, x.shape[-1], 2, dtype=torch.float64) / x.shape[-1])
        a = positions.double()[:, None] * theta
        e, o = x[..., 0::2], x[..., 1::2]
        return torch.stack([e * a.cos() - o * a.sin(), e * a.sin() + o * a.cos()], -1).flatten(-2)
    with pytest.raises(AssertionError, match="keep the input's dtype"):
        ref.check_apply_rope(promotes)


def _cpu_theta(x, positions, base=10000.0):  # right on the CPU, fails on any other device
    d = x.shape[-1]
    theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    angles = positions.double()[:, None] * theta
    e, o = x[..., 0::2], x[..., 1::2]
    c, s = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    return torch.stack([e * c - o * s, e * s + o * c], -1).flatten(-2)


def test_apply_rope_with_cpu_frequencies_is_rejected_visible_and_hidden():
    rejected_with("apply_rope_tests", "Build every new tensor", apply_rope=_cpu_theta)
    with pytest.raises(AssertionError, match="Build every new tensor"):
        ref.check_apply_rope(_cpu_theta)


@pytest.mark.parametrize("check, fn", [
    (ref.check_pe_dot, PE_DOT_WRONG["from-the-table"][0]),
    (ref.check_shift_matrix, shift_least_squares),
    (ref.check_shift_matrix, lambda k, d: shift_kron(round(k), d)),
])
def test_hidden_checks_reject_the_integer_position_shortcuts(check, fn):
    with pytest.raises(AssertionError, match="no table of integer positions"):
        check(fn)


def test_hidden_equivariance_check_holds_the_tolerance():
    loose = lambda layer, x, perm: bool(torch.allclose(layer(x[:, perm]), layer(x)[:, perm], atol=2e-6))
    with pytest.raises(AssertionError, match="1.5e-6"):
        ref.check_equivariance(loose)


@pytest.mark.parametrize("kind", sorted(APPLY_ROPE_WRONG))
def test_apply_rope_rejects_with_its_message(kind):
    fn, message = APPLY_ROPE_WRONG[kind]
    rejected_with("apply_rope_tests", message, apply_rope=fn)


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


def test_naive_codes_fail_where_learned_and_sinusoidal_work():
    fig, info = ex.previous_token_experiment()
    acc, far = info["accuracy"], info["beyond"]
    assert acc["learned"] > 0.95 and acc["sinusoidal"] > 0.95
    assert acc["raw integer"] < acc["none"] < 0.3 and acc["normalised"] < 0.4
    assert far["learned"] is None and far["sinusoidal"] < 0.6
    assert bool(ex._OneLayerEach(("learned",), 16, 8, 4).codes(5).isnan().all())  # no row past the table
    assert torch.equal(ex.position_code("raw integer", 3, 2), torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]))
    assert torch.equal(ex.position_code("normalised", 3, 1), torch.tensor([[0.0], [0.5], [1.0]]))


def test_projected_scores_see_direction_and_absolute_position():
    fig, info = ex.projected_scores_figure()
    assert info["asymmetry"]["plain"] < 1e-5 and info["spread_over_p"]["plain"] < 1e-5
    assert info["asymmetry"]["projected"] > 0.3 and info["spread_over_p"]["projected"] > 0.3


def test_five_properties_grid():
    props = ex.five_properties()
    holds = {p: {e for e in ex.ENCODINGS if props[p][e][0]} for p in ex.PROPERTIES}
    every = set(ex.ENCODINGS)
    assert holds["unique"] == every
    assert holds["bounded"] == every - {"raw integer"}
    assert holds["deterministic"] == every - {"learned"}
    assert holds["any length"] == {"raw integer", "sinusoidal", "RoPE"}
    assert holds["relative"] == {"sinusoidal", "RoPE"}
    assert len(ex.properties_figure(props).axes) == 1


# --------------------------------------------------------------------------------------- widgets

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


def _borrowed_pe_dot(k, d):  # named like the exercise, so that the visible checks switch the table off too
    return float(_early_table(abs(k) + 1, d)[0] @ _early_table(abs(k) + 1, d)[abs(k)])


_borrowed_pe_dot.__name__ = "pe_dot"

BORROWED = [
    ("sinusoidal_table_tests", {"sinusoidal_table": lambda n, d: _blocks.SinusoidalPositions.build(n, d)}),
    ("sinusoidal_table_tests", {"sinusoidal_table": lambda n, d: _early_table(n, d).float()}),
    ("shift_matrix_tests", {"shift_matrix": lambda k, d: torch.block_diag(*[
        torch.tensor([[math.cos(k * w), math.sin(k * w)], [-math.sin(k * w), math.cos(k * w)]])
        for w in ex.frequencies(d).tolist()]) if d % 2 == 0 else (_ for _ in ()).throw(ValueError("odd d"))}),
    ("pe_dot_tests", {"pe_dot": _borrowed_pe_dot}),
    ("rope_matrices_tests", {"rope_matrix": _rope_matrix_from_module}),
    ("apply_rope_tests", {"apply_rope": lambda x, positions, base=10000.0: ex._rope(x, positions, base).to(x.dtype)}),
    ("apply_rope_tests", {"apply_rope": _rope_by_rotate_half}),
]


@pytest.mark.parametrize("grade_id, substitutes", BORROWED, ids=[f"{g}-{i}" for i, (g, _) in enumerate(BORROWED)])
def test_borrowed_answers_score_zero(grade_id, substitutes):
    err = assert_rejected(A, grade_id, **substitutes)
    assert "may not call" in str(err), err


# ------------------------------------------------------------------------ relative position biases (Part 5)

def test_relative_bias_demo_numbers_the_text_reads():
    rel = ex.relative_bias_demo()
    assert rel["distinct"] == {"Shaw, clip 4": 5, "T5, 32 buckets": 16, "ALiBi, head 1": 1001}
    t5 = dict(zip(rel["offsets"], rel["t5"]))
    assert t5[128] == t5[1000] == 31 and t5[127] == 31 and t5[64] < 31  # every offset from 128 on shares bucket 31
    assert [t5[o] for o in range(6)] == [0, 17, 18, 19, 20, 21]  # one bucket per offset near the query
    shaw = dict(zip(rel["offsets"], rel["shaw"]))
    assert shaw[4] == shaw[5] == shaw[1000] == 8 and shaw[3] == 7
    assert rel["slopes"][0] == 0.5 and rel["slopes"][-1] == 2 ** -8


def test_t5_buckets_are_monotone_symmetric_and_cover_32():
    offsets = torch.arange(-300, 301)
    b = ex.t5_bucket(offsets)
    # offset 0 takes bucket 0 of the "before" half, so bucket 16 (offset 0 of the "after" half) is never used
    assert int(b.min()) == 0 and int(b.max()) == 31 and b.unique().tolist() == [*range(16), *range(17, 32)]
    after, before = b[301:], b[:300].flip(0)  # offsets 1..300 and -1..-300
    assert bool((after.diff() >= 0).all()) and bool((before.diff() >= 0).all())
    assert torch.equal(after - 16, before)  # the two directions use the same ranges, in two halves


def test_alibi_bias_is_linear_in_the_distance():
    bias = ex.alibi_bias(6, 4)
    slopes = ex.alibi_slopes(4)
    assert torch.allclose(bias[:, 5, 2], -slopes * 3) and bool((bias.triu(1) == 0).all())


def test_hints_and_demos_do_not_type_the_answers():
    # a hint points the way and a demo shows the idea on another example (issue 30): neither may type a
    # solution's line or run its expression with other names (tests/hints.py)
    from hints import answers_given_away

    assert answers_given_away(A) == []
