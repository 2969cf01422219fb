"""The op registry drives the op tests: every registered op's gradient against central finite
differences (float64), first and second order, over random shapes (broadcasting included) and
the keyword variants its own ``sample`` draws. An op added to the library is tested here with
no edit to this file; the PyTorch comparison (test_against_torch.py) walks the same registry."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np import ops
from tinygrad_np.function import Function
from tinygrad_np.testing import HypothesisDraw, arrays, check_gradients


def _public_ops() -> list[type]:
    """Every Function subclass the library defines, but its private helpers."""
    found, todo = [], list(Function.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("tinygrad_np.") and not cls.__name__.startswith("_"):
            found.append(cls)
    return sorted(found, key=lambda c: c.__name__)


@pytest.mark.parametrize("op", ops.registry(), ids=lambda op: op.__name__)
@given(data=st.data())
def test_gradient_matches_finite_differences(op, data):
    check_gradients(op, HypothesisDraw(data, op))


@pytest.mark.parametrize("op", _public_ops(), ids=lambda op: op.__name__)
def test_every_public_op_says_how_it_is_checked(op):
    assert op in ops.registry(), f"{op.__name__} declares no domain, kinks or sample"
    assert op.__doc__ and "=" in op.__doc__, f"{op.__name__}: state its math in the docstring"
    assert op.torch is not None, f"{op.__name__}: name its PyTorch counterpart"
    assert isinstance(op.constant_inputs, tuple)
    assert op.broadcasts in (True, False) or all(isinstance(i, int) for i in op.broadcasts)


def test_astype_sends_gradient_back_in_the_source_dtype():
    x = tg.Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = x.astype(np.float64)
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_max_splits_gradient_between_ties():
    x = tg.Tensor(np.array([1.0, 3.0, 3.0]), requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 0.5])


@given(
    data=st.data(),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    one_hot=st.booleans(),
)
def test_cross_entropy(data, reduction, one_hot):
    n = data.draw(st.integers(1, 5))
    c = data.draw(st.integers(1, 5))
    logits = data.draw(arrays((n, c), low=-5, high=5))
    labels = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    target = np.eye(c)[labels] if one_hot else labels
    t = tg.Tensor(logits.copy(), requires_grad=True)
    fn = lambda v: tg.cross_entropy(v, target, reduction=reduction)  # noqa: E731
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    losses = -logp[np.arange(n), labels]
    expected = {"mean": losses.mean(), "sum": losses.sum(), "none": losses}[reduction]
    np.testing.assert_allclose(fn(t).numpy(), expected, rtol=1e-10)
    assert tg.gradcheck(fn, [t])
    assert tg.gradgradcheck(fn, [t])


def test_every_tensor_method_in_the_contract_is_reachable():
    names = (
        "sum mean max min exp log sqrt abs clip relu sigmoid tanh softmax log_softmax reshape "
        "transpose flatten numpy item detach requires_grad_ zero_grad backward"
    ).split()
    for name in names:
        assert callable(getattr(tg.Tensor, name)), name
    for name in "maximum minimum where concatenate stack zeros ones randn arange tensor".split():
        assert callable(getattr(tg, name)), name


@pytest.mark.parametrize("bias", ["vector", "row", "none"])
@given(data=st.data())
def test_fused_linear_matches_matmul_plus_bias(bias, data):
    batch = data.draw(st.sampled_from([(), (3,), (2, 3)]), label="batch")
    n_in, n_out = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    x = data.draw(arrays(batch + (n_in,)))
    w = data.draw(arrays((n_in, n_out)))
    b = data.draw(arrays({"vector": (n_out,), "row": (1, n_out), "none": (n_out,)}[bias]))
    ts = [tg.Tensor(a.copy(), requires_grad=True) for a in (x, w, b)]
    if bias == "none":
        fn = lambda x_, w_, b_: tg.ops.linear(x_, w_)  # noqa: E731
        expected = x @ w
    else:
        fn = tg.ops.linear
        expected = x @ w + b
    np.testing.assert_allclose(fn(*ts).numpy(), expected, rtol=1e-12, atol=1e-12)
    ts[2].requires_grad = bias != "none"
    assert tg.gradcheck(fn, ts)
    assert tg.gradgradcheck(fn, ts)


def test_linear_shape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 3\) does not fit weight"):
        tg.ops.linear(tg.zeros(2, 3), tg.zeros(4, 5))


def test_zero_dim_leaf_gets_an_array_gradient():
    x = tg.Tensor(np.float64(2.0), requires_grad=True)
    y = tg.Tensor(np.float64(3.0), requires_grad=True)
    (x / y).backward()
    assert isinstance(y.grad, tg.Tensor) and isinstance(y.grad.data, np.ndarray)
    assert y.grad.item() == pytest.approx(-2.0 / 9.0)
