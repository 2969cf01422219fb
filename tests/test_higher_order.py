"""Higher order is never silently wrong: a backward that cannot be differentiated again either
is made differentiable (inputs, outputs, ``recompute``) or refuses loudly, naming the op."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_np as tg


def _x() -> tg.Tensor:
    return tg.Tensor(np.array([-1.0, 0.5, 2.0]), requires_grad=True)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


class SoftplusSavingSigmoid(tg.Function):
    """y = log(1 + e^x);  dy/dx = sigmoid(x), saved in forward (an intermediate)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(_sigmoid(x))
        return np.log1p(np.exp(x))

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s


class SoftplusCallingNumpy(tg.Function):
    """y = log(1 + e^x);  dy/dx = sigmoid(x), computed with np.exp in backward"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(np.exp(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / (1 + np.exp(-x))


class SoftplusOnce(SoftplusSavingSigmoid):
    backward = staticmethod(tg.once_differentiable(SoftplusSavingSigmoid.backward))


class SoftplusRecomputed(SoftplusSavingSigmoid):
    @staticmethod
    def recompute(ctx, k, x):
        return x.sigmoid()


def test_first_order_is_unaffected():
    for op in (SoftplusSavingSigmoid, SoftplusCallingNumpy, SoftplusOnce, SoftplusRecomputed):
        assert tg.gradcheck(op.apply, [_x()])


def test_a_saved_intermediate_under_create_graph_is_refused_with_the_op_and_the_reason():
    x = _x()
    with pytest.raises(RuntimeError) as info:
        tg.autograd.grad(SoftplusSavingSigmoid.apply(x).sum(), x, create_graph=True)
    message = str(info.value)
    assert "'softplussavingsigmoid' is once-differentiable" in message
    assert "saved value 0 is neither an input nor the output" in message
    assert "@tg.once_differentiable" in message
    with pytest.raises(RuntimeError, match="once-differentiable"):
        tg.gradgradcheck(SoftplusSavingSigmoid.apply, [_x()])  # not a silent zero


def test_numpy_in_a_backward_under_create_graph_names_the_op():
    with pytest.raises(TypeError) as info:
        tg.gradgradcheck(SoftplusCallingNumpy.apply, [_x()])
    message = str(info.value)
    assert "backward of 'softpluscallingnumpy' failed under create_graph=True" in message
    assert "tg.ops.tnp" in message and "@tg.once_differentiable" in message


def test_once_differentiable_gives_the_first_derivative_and_refuses_the_second():
    x = _x()
    (dx,) = tg.autograd.grad(SoftplusOnce.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(dx.data, _sigmoid(x.data))
    assert dx.requires_grad  # it stays connected, so a second derivative cannot go unnoticed
    with pytest.raises(RuntimeError, match="'softplusonce' is @once_differentiable"):
        dx.sum().backward()
    with pytest.raises(RuntimeError, match="once_differentiable"):
        tg.gradgradcheck(SoftplusOnce.apply, [_x()])


def test_once_differentiable_is_free_in_an_ordinary_backward():
    x = _x()
    SoftplusOnce.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, _sigmoid(x.data))


def test_recompute_makes_a_saved_intermediate_differentiable():
    assert tg.gradgradcheck(SoftplusRecomputed.apply, [_x()])
    x = _x()
    (dx,) = tg.autograd.grad(SoftplusRecomputed.apply(x).sum(), x, create_graph=True)
    (ddx,) = tg.autograd.grad(dx.sum(), x)
    s = _sigmoid(x.data)
    np.testing.assert_allclose(ddx.data, s * (1 - s))


def test_a_backward_that_drops_the_graph_under_create_graph_is_refused():
    class Detaching(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return np.asarray(grad_output.data * 2 * x.data)  # arrays: the graph is lost

    x = _x()
    with pytest.raises(TypeError, match="'detaching' returned a plain array for input 0"):
        tg.autograd.grad(Detaching.apply(x).sum(), x, create_graph=True)


def test_cross_entropy_second_derivative_goes_through_the_softmax():
    logits = tg.Tensor(np.array([[0.2, -1.0, 0.7], [1.5, 0.1, -0.3]]), requires_grad=True)
    for target in (np.array([2, 0]), np.eye(3)[[1, 1]]):
        assert tg.gradgradcheck(lambda t, y=target: tg.cross_entropy(t, y), [logits])


def test_pow_is_finite_where_the_base_is_zero_as_in_pytorch():
    x = tg.Tensor(np.array([0.0, 2.0]), requires_grad=True)
    (x**0.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])
    y = tg.Tensor(np.array([2.0, 0.5]), requires_grad=True)
    (tg.Tensor(np.zeros(2)) ** y).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [0.0, 0.0])
    x.zero_grad()
    (x**2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 4.0])


def test_pow_at_zero_matches_pytorch():
    torch = pytest.importorskip("torch")
    base = np.array([0.0, 0.0, 2.0, 0.0])
    exponent = np.array([0.0, 2.0, 0.0, 0.5])
    ours = [tg.Tensor(a.copy(), requires_grad=True) for a in (base, exponent)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (base, exponent)]
    (ours[0] ** ours[1]).sum().backward()
    (theirs[0] ** theirs[1]).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.data, b.grad.numpy())
