"""The comparison primitives that every graded cell relies on."""

import math

import numpy as np
import pytest
import torch

from course.checks import check, close, equal, raises


def test_check_raises_with_message():
    check(True, "never shown")
    with pytest.raises(AssertionError, match="the reason"):
        check(False, "the reason")


@pytest.mark.parametrize("actual, expected", [(3, 3), ((2, 3), (2, 3)), (torch.Size([2, 3]), (2, 3)), ("a", "a"),
                                              (True, True), (np.int64(4), 4)])
def test_equal_accepts(actual, expected):
    equal(actual, expected)


@pytest.mark.parametrize("actual, expected", [(3.0, 3), (True, 1), (1, True), ((2, 3), (3, 2)), ("a", "b"),
                                              (4, 5), (None, 1), ([2, 3, 4], (2, 3))])
def test_equal_rejects(actual, expected):
    with pytest.raises(AssertionError, match="expected"):
        equal(actual, expected, name="thing")


def test_equal_refuses_tensors():
    with pytest.raises(TypeError):
        equal(torch.zeros(2), torch.zeros(2))


def test_close_numbers():
    close(1.0 + 1e-9, 1.0)
    close(torch.tensor(2.0), 2.0)
    close(np.float32(0.5), 0.5)
    for bad in (1.1, float("nan"), "1.0", None, torch.zeros(2)):
        with pytest.raises(AssertionError):
            close(bad, 1.0)


def test_close_tensors_and_arrays():
    ref = torch.randn(3, 4, dtype=torch.float64)
    close(ref.float(), ref, atol=1e-6)
    close(ref.numpy(), ref)
    with pytest.raises(AssertionError, match="shape"):
        close(ref[:, :3], ref)
    with pytest.raises(AssertionError, match="shape"):
        close(ref[0], ref)  # broadcasting is not equality
    with pytest.raises(AssertionError, match="NaN"):
        close(torch.full((3, 4), math.nan), ref)
    off = ref.clone()
    off[1, 2] += 1e-3
    with pytest.raises(AssertionError, match="1 of 12 values differ"):
        close(off, ref)
    with pytest.raises(AssertionError, match="tensor/array"):
        close([1.0, 2.0], torch.tensor([1.0, 2.0]))


def test_close_infinities():
    close(torch.tensor([math.inf, 1.0]), torch.tensor([math.inf, 1.0]))
    with pytest.raises(AssertionError, match="infinite"):
        close(torch.tensor([-math.inf, 1.0]), torch.tensor([math.inf, 1.0]))
    with pytest.raises(AssertionError, match="infinite"):
        close(torch.tensor([math.inf, 1.0]), torch.tensor([0.0, 1.0]))


def test_close_is_not_fooled_by_a_patched_allclose(monkeypatch):
    monkeypatch.setattr(torch, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(torch, "isclose", lambda a, b, **k: torch.ones_like(a, dtype=torch.bool))
    with pytest.raises(AssertionError):
        close(torch.zeros(3), torch.ones(3))


def test_expect_names_a_known_mistake_only_when_the_answer_is_wrong():
    from course.checks.core import expect
    wrong = [(torch.tensor([1.0, 1.0]), "gamma and beta swapped")]
    expect(torch.tensor([-1.0, 1.0]), torch.tensor([-1.0, 1.0]), mistakes=wrong, name="ln")
    with pytest.raises(AssertionError, match=r"^ln: gamma and beta swapped$"):
        expect(torch.tensor([1.0, 1.0]), torch.tensor([-1.0, 1.0]), mistakes=wrong, name="ln")
    with pytest.raises(AssertionError, match="ln: 1 of 2 values differ"):  # no known mistake: close()'s message
        expect(torch.tensor([0.0, 1.0]), torch.tensor([-1.0, 1.0]), mistakes=wrong, name="ln")
    # the right answer is checked first: a mistake within tolerance of it never fails a right answer
    expect(8.0, 8.0, mistakes=[(8.0 + 1e-9, "never said")], rtol=0.1)
    with pytest.raises(AssertionError, match="about 8"):
        expect(8.1, 64.0, mistakes=[(8.0, "about 8")], rtol=0.1)


def test_expect_takes_a_test_as_a_mistake_and_a_dict_of_mistakes():
    from course.checks.core import expect
    with pytest.raises(AssertionError, match="ln: negative"):
        expect(torch.tensor([-5.0]), torch.tensor([1.0]), mistakes=[(lambda g: bool((g < 0).all()), "negative")],
               name="ln")
    with pytest.raises(AssertionError, match="ln: doubled"):
        expect(2.0, 1.0, mistakes={2.0: "doubled"}, name="ln")
    with pytest.raises(AssertionError, match="expected 1.0, got 3.0"):  # a test that raises is not that mistake
        expect(3.0, 1.0, mistakes=[(lambda g: g.shape == (), "a tensor")], name="ln")


def test_exact_expect_is_chapter_01s_python_values():
    from course.checks.ch01_compute import expect as ch01_expect
    from course.checks.core import expect
    expect(torch.tensor(48.0), 48.0)                     # by default a 0-d tensor counts as its number
    with pytest.raises(AssertionError, match="expected 48.0"):
        ch01_expect(torch.tensor(48.0), 48.0, name="flops")  # exactly: a Python number only
    ch01_expect(48, 48.0, name="flops")
    ch01_expect(48.0 * (1 + 1e-10), 48.0, name="flops")
    with pytest.raises(AssertionError, match="expected 48.0, got 48.00001"):
        ch01_expect(48.00001, 48.0, name="flops")       # 1e-9 relative, where close() allows 1e-5
    with pytest.raises(AssertionError, match="expected 48"):
        ch01_expect(48.0, 48, name="flops")              # an int answer is an int
    with pytest.raises(AssertionError, match=r"flops: expected 48, got 24\. one per multiply-add"):
        ch01_expect(24, 48, name="flops", mistakes={24: "one per multiply-add"})
    with pytest.raises(AssertionError, match=r"shape: expected \(2, 3\), got \(3, 2\)\. transposed"):
        ch01_expect((3, 2), (2, 3), name="shape", mistakes=[(lambda g: g == (3, 2), "transposed")])


def test_expect_of_chapter_03_is_absolute_to_1e_4_unless_told():
    from course.checks.ch03_layernorm import expect
    expect(torch.tensor([1.00009]), torch.tensor([1.0]))
    with pytest.raises(AssertionError, match="tolerance 0.0001 \\+ 0"):
        expect(torch.tensor([1.0002]), torch.tensor([1.0]))
    expect(torch.tensor([1.0009]), torch.tensor([1.0]), atol=1e-3)


def test_raises():
    def bad(x):
        raise ValueError(f"shape {x} is wrong")

    err = raises(ValueError, bad, 3, match="shape 3")
    assert isinstance(err, ValueError)
    with pytest.raises(AssertionError, match="does not mention"):
        raises(ValueError, bad, 3, match="nothing like this")
    with pytest.raises(AssertionError, match="returned normally"):
        raises(ValueError, lambda: None)
    with pytest.raises(AssertionError, match="expected ValueError, got KeyError"):
        raises(ValueError, lambda: {}["x"])


def test_raises_lets_not_implemented_through():
    def stub():
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):
        raises(ValueError, stub)


# ------------------------------------------------------------------ plain values and call()

from course.checks import call  # noqa: E402
from course.checks.core import exercise  # noqa: E402
from course.checks.plain import NotPlain, plain  # noqa: E402


class _Lying(torch.Tensor):
    def __eq__(self, other):
        return torch.ones(self.shape, dtype=torch.bool)


class _LyingInt(int):
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value, kind", [(torch.zeros(2).as_subclass(_Lying), "torch.Tensor"), (_LyingInt(3), "int"),
                                         (type("T", (tuple,), {})((1, 2)), "tuple"), (object(), "tensor, number")])
def test_plain_rejects_subclasses_and_strangers_by_name(value, kind):
    with pytest.raises(NotPlain, match=f"return a plain {kind}"):
        plain(value, "answer")
    with pytest.raises(AssertionError, match="plain"):
        close(value, torch.zeros(2)) if kind == "torch.Tensor" else equal(value, 3)


def test_plain_keeps_honest_values():
    p = torch.nn.Parameter(torch.ones(2, 3))
    t = torch.arange(12.0).reshape(3, 4).t()
    assert type(plain(p)) is torch.Tensor and plain(p).requires_grad
    assert plain(t).stride() == t.stride() and plain(t).data_ptr() == t.data_ptr()
    assert plain(torch.Size([2, 3])) == (2, 3) and plain((1, [2.0, True])) == (1, [2.0, True])
    assert plain(torch.tensor([True])).dtype == torch.bool
    assert type(plain(np.float32(1.5))) is float


def test_plain_drops_instance_attributes_that_shadow_methods():
    t = torch.ones(3)
    t.detach = lambda: torch.zeros(3)  # a plain tensor lying through its instance dict
    close(plain(t), torch.ones(3))
    with pytest.raises(AssertionError):
        close(t, torch.zeros(3))


def test_call_switches_off_what_the_exercise_may_not_borrow_however_it_was_reached():
    import torch.nn.functional as F
    from torch.nn.functional import layer_norm as early_bound

    def layer_norm(x):
        return early_bound(x, x.shape[-1:])

    with pytest.raises(AssertionError, match="may not call torch.nn.functional.layer_norm"):
        call(layer_norm, torch.randn(2, 3))

    def layer_norm(x):  # noqa: F811 - a second way in: the C function, then the ATen operator
        return torch.ops.aten.native_layer_norm(x, [3], None, None, 1e-5)[0]

    with pytest.raises(AssertionError, match="may not call aten.native_layer_norm"):
        call(layer_norm, torch.randn(2, 3))
    assert F.layer_norm(torch.randn(2, 3), (3,)).shape == (2, 3)  # restored afterwards


def test_call_blocks_subclasses_of_course_code_inside_a_hidden_check():
    import course.attention

    class MultiHeadAttention(course.attention.MultiHeadAttention):
        pass

    @exercise("MultiHeadAttention")
    def hidden_check(cls):
        return call(cls, 8, 2)

    with pytest.raises(AssertionError, match="may not call course.attention.MultiHeadAttention"):
        hidden_check(MultiHeadAttention)
    assert isinstance(MultiHeadAttention(8, 2), torch.nn.Module)  # and usable again afterwards


def test_call_rejects_editing_the_input_in_place():
    def center_rows(x):
        x -= x.mean(dim=1, keepdim=True)
        return x

    with pytest.raises(AssertionError, match="changed one of its input tensors in place"):
        call(center_rows, torch.randn(3, 4))


def test_check_needs_a_real_bool():
    check(torch.tensor(True), "fine")
    with pytest.raises(AssertionError, match="True or False"):
        check(torch.ones(2, dtype=torch.bool), "a two-element tensor is not a condition")
