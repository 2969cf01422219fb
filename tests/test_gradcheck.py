"""gradcheck and gradgradcheck: what they report, and fast mode (random directions)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np.gradcheck import finite_differences
from tinygrad_np.ops import tnp


class Softplus(tg.Function):
    """y = log(1 + e^x);  dy/dx = sigmoid(x), scaled by ``error`` to plant a mistake"""

    error = 1.0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(np.exp(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * Softplus.error / (1 + tnp.exp(-x))  # tnp: arrays and Tensors


def _x(n: int = 6) -> tg.Tensor:
    return tg.Tensor(np.linspace(-2, 2, n), requires_grad=True)


def test_the_error_names_the_op_class_not_function_apply(monkeypatch):
    monkeypatch.setattr(Softplus, "error", 1.5)
    with pytest.raises(tg.GradcheckError, match=r"^gradcheck\(Softplus\): gradient mismatch"):
        tg.gradcheck(Softplus.apply, [_x()])


class Squash(tg.Function):
    """y = x^3 / 3;  dy/dx = x^2, with x taken as a constant (second derivative lost)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3 / 3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        x = x.data if isinstance(x, tg.Tensor) else x  # the mistake: cut off from the graph
        return grad_output * x * x


def test_gradgradcheck_names_the_op_whose_second_derivative_is_wrong():
    assert tg.gradcheck(Squash.apply, [_x()])
    with pytest.raises(tg.GradcheckError, match=r"^gradcheck\(grad of Squash\)"):
        tg.gradgradcheck(Squash.apply, [_x()])


def test_a_plain_function_is_named_by_its_qualified_name():
    def wrong(t):
        return (t * t).detach().sum() + t.sum() * 0  # the square's gradient is lost

    with pytest.raises(tg.GradcheckError, match=r"gradcheck\(.*wrong\)"):
        tg.gradcheck(wrong, [_x()])


@pytest.mark.parametrize("fast_mode", [False, True])
def test_both_modes_pass_a_right_gradient_and_catch_a_wrong_one(monkeypatch, fast_mode):
    assert tg.gradcheck(Softplus.apply, [_x()], fast_mode=fast_mode)
    assert tg.gradgradcheck(Softplus.apply, [_x()], fast_mode=fast_mode)
    monkeypatch.setattr(Softplus, "error", 1.01)
    with pytest.raises(tg.GradcheckError, match="at element"):  # fast mode names it too
        tg.gradcheck(Softplus.apply, [_x()], fast_mode=fast_mode)
    assert not tg.gradcheck(Softplus.apply, [_x()], fast_mode=fast_mode, raise_exception=False)


def test_fast_mode_calls_the_function_a_constant_number_of_times():
    calls = []

    def fn(t):
        calls.append(1)
        return Softplus.apply(t)

    tg.gradcheck(fn, [_x(200)], fast_mode=True)
    fast = len(calls)
    calls.clear()
    tg.gradcheck(fn, [_x(200)])
    assert fast == 3 and len(calls) == 1 + 2 * 200


def test_finite_differences_restores_the_input():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    plus, minus = finite_differences(lambda: float((x**3).sum()), x, 1e-4)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose((plus - minus) / 2e-4, 3 * before.reshape(-1) ** 2, rtol=1e-6)
