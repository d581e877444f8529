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
