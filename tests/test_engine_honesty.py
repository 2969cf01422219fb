"""Results that used to be silently wrong are right or loud: negative axes, odd biases,
complex numbers, 0-d reductions, forwards returning Tensors, lists of Tensors, aliasing of
gradients, and memory kept after backward."""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import autograd, nn
from tinygrad_np.backend import Freed


def test_transpose_with_negative_axes_sends_the_transposed_gradient():
    x = tg.Tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    c = np.arange(9.0).reshape(3, 3) * 10 + 1
    (x.transpose(-1, 0) * c).sum().backward()
    np.testing.assert_array_equal(x.grad.data, c.T)
    y = tg.Tensor(np.ones((2, 3, 4)), requires_grad=True)
    out = y.transpose(-1, 0, -2)
    assert out.shape == (4, 2, 3)
    out.sum().backward()
    assert y.grad.shape == (2, 3, 4)
    with pytest.raises(ValueError, match="transpose: axes .* do not permute 3 axes"):
        y.transpose(0, 0, 1)


@pytest.mark.parametrize("shape", [(3, 1), (3, 3), (2,), (1, 1, 3)])
def test_linear_refuses_a_bias_that_is_not_out_or_1_by_out(shape):
    x, w = tg.ones(3, 2), tg.ones(2, 3, requires_grad=True)
    with pytest.raises(
        ValueError, match=r"linear: bias of shape .*\(expected \(3,\) or \(1, 3\)\)"
    ):
        tg.linear(x, w, tg.ones(*shape, requires_grad=True))


def test_complex_tensors_cannot_require_grad_nor_come_out_of_a_graph():
    with pytest.raises(TypeError, match="real floating-point"):
        tg.Tensor(np.ones(2, dtype=complex), requires_grad=True)
    w = tg.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match="mul: complex results cannot carry a gradient"):
        w * np.array([1j, 2j])
    assert not (tg.Tensor(np.ones(2)) * np.array([1j, 2j])).requires_grad  # no graph: fine


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("axis", [0, -1, (0,)])
def test_reductions_of_0d_tensors_over_axis_0_work_both_ways(op, axis):
    x = tg.Tensor(np.float64(2.5), requires_grad=True)
    y = getattr(x, op)(axis=axis)
    assert y.shape == () and y.item() == 2.5
    y.backward()
    assert x.grad.item() == 1.0
    with pytest.raises(IndexError, match=f"{op}: axis 1 is out of range for an input of shape"):
        getattr(x, op)(axis=1)


def test_a_forward_that_returns_a_tensor_is_refused_by_name():
    class Wrapped(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return tg.Tensor(x * 2)

        @staticmethod
        def backward(ctx, g):
            return 2 * g

    with pytest.raises(TypeError, match="wrapped: forward must return an array, got a Tensor"):
        Wrapped.apply(tg.ones(2, requires_grad=True))


def test_tensor_of_a_list_of_tensors_stacks_their_values_and_asarray_works():
    a, b = tg.Tensor(np.array([1.0, 2.0])), tg.Tensor(np.array([3.0, 4.0]))
    t = tg.tensor([a, b])
    assert t.dtype == np.float64 and t.data.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert tg.tensor([tg.tensor(1.0), tg.tensor(2.0)]).dtype == np.float32
    assert np.asarray(a).dtype == np.float64 and np.asarray(a) is a.data
    assert np.array(a, dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError, match="cannot make a numeric tensor"):
        tg.tensor([{"a": 1}])


def test_leaf_gradients_never_share_memory():
    a = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    b = tg.Tensor(np.ones(6), requires_grad=True)
    c = tg.Tensor(np.full((2, 3), 2.0))
    ((a + b.reshape(2, 3)) * c).sum().backward()
    assert not np.shares_memory(a.grad.data, b.grad.data)
    for p in (a, b):
        p.grad.data *= 0.5  # a clipping loop halves each once
    np.testing.assert_array_equal(a.grad.data, np.ones((2, 3)))
    np.testing.assert_array_equal(b.grad.data, np.ones(6))


def test_a_leaf_gradient_never_shares_memory_with_the_callers_gradient():
    x = tg.Tensor(np.ones(4), requires_grad=True)
    seed = np.full((2, 2), 3.0)
    x.reshape(2, 2).backward(gradient=seed)
    assert not np.shares_memory(x.grad.data, seed)
    seed[...] = 0.0
    np.testing.assert_array_equal(x.grad.data, np.full(4, 3.0))


def _step(model, opt, X, y):
    opt.zero_grad()
    loss = nn.CrossEntropyLoss()(model(tg.Tensor(X)), y)
    loss.backward()
    opt.step()
    return loss


def test_losses_kept_after_backward_hold_no_activations():
    X, y = tg.data.spiral_data(100, 3, seed=0)
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 512), nn.ReLU(), nn.Dropout(0.1), nn.Linear(512, 3))
    opt = tg.optim.Adam(model.parameters(), lr=0.02)
    losses = [_step(model, opt, X, y)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    losses += [_step(model, opt, X, y) for _ in range(12)]
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    one_activation = 300 * 512 * 4
    assert grown < one_activation, f"{grown / 1e6:.1f} MB kept by 12 losses"
    # the graph still has its structure, shapes and names for drawings
    dot = tg.viz.to_dot(losses[-1])
    assert "linear" in dot and "(300, 512)" in dot and "0.weight" in dot


def test_tensors_the_user_holds_keep_their_values_after_backward():
    w = tg.Tensor(np.ones((16, 16)), requires_grad=True)  # 2 KiB: worth freeing
    h = w * 3.0
    loss = (h * h).sum()
    loss.backward()
    assert (h.data == 3.0).all()  # held by the user: kept
    square = loss._ctx.parents[0]  # held by the graph only: freed, shape and op kept
    assert square.shape == (16, 16) and square._ctx.name == "mul" and square._ctx.parents[0] is h
    with pytest.raises(RuntimeError, match="freed by backward\\(\\); pass retain_graph=True"):
        square.data.sum()
    kept = ((w * 3.0) * (w * 3.0)).sum()
    kept.backward(retain_graph=True)
    assert (kept._ctx.parents[0].data == 9.0).all()


def test_arrays_under_a_kibibyte_are_kept_a_placeholder_would_cost_as_much():
    w = tg.Tensor(np.ones(4), requires_grad=True)
    loss = ((w * 3.0) * 2.0).sum()
    loss.backward()
    assert loss._ctx.parents[0].data.tolist() == [6.0] * 4
    assert autograd.FREE_FROM_BYTES == 1024


def test_a_backward_that_raises_under_create_graph_leaves_no_reference_cycle():
    class Broken(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            raise ValueError("broken backward")

    x = tg.Tensor(np.ones(3), requires_grad=True)
    y = Broken.apply(x)
    node = weakref.ref(y._ctx)
    with pytest.raises(ValueError, match="broken backward"):
        tg.autograd.grad(y.sum(), x, create_graph=True)
    gc.disable()
    try:
        del y
        assert node() is None  # freed by reference counting alone: no cycle
    finally:
        gc.enable()


def test_a_constant_the_user_holds_stays_itself_and_an_inline_one_is_freed():
    w = tg.Tensor(np.ones((30, 2)), requires_grad=True)
    held = tg.Tensor(np.ones((8, 30)))  # 1.9 KiB
    kept = (held @ w).sum()
    kept.backward()
    assert kept._ctx.parents[0]._ctx.parents[0] is held  # drawn with its values
    inline = (tg.Tensor(np.ones((8, 30))) @ w).sum()
    inline.backward()
    ghost = inline._ctx.parents[0]._ctx.parents[0]
    assert ghost.shape == (8, 30) and isinstance(ghost.data, Freed)


def test_freed_placeholders_raise_a_clear_error_but_stay_quiet_under_hasattr():
    placeholder = Freed(np.ones((2, 3)))
    assert placeholder.shape == (2, 3) and placeholder.ndim == 2 and placeholder.size == 6
    assert not hasattr(placeholder, "sum")
    with pytest.raises(RuntimeError, match="freed by backward"):
        np.asarray(placeholder)
