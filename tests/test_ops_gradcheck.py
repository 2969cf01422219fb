"""One table drives the op tests: every op's value against NumPy and its gradient against
central finite differences (float64), over random shapes including broadcasting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np.testing import arrays, broadcastable_shapes, distinct, matmul_shapes, shapes


@dataclass
class Case:
    name: str
    fn: Callable  # on Tensors
    ref: Callable  # the same on NumPy arrays
    shapes: st.SearchStrategy  # a tuple of input shapes
    low: float = -3.0
    high: float = 3.0
    kinks: tuple[float, ...] = ()  # values to keep inputs away from
    valid: Callable = field(default=lambda *xs: True)  # e.g. no ties for max
    second_order: bool = True


def _one(min_dims=0, max_dims=3):
    return shapes(min_dims=min_dims, max_dims=max_dims).map(lambda s: (s,))


def _reduce_args(draw_shape):
    """A shape with an axis argument valid for it: None, an int or a tuple."""

    @st.composite
    def strat(draw):
        shape = draw(draw_shape)
        nd = len(shape)
        options = [st.none()]
        if nd:
            options.append(st.integers(-nd, nd - 1))
            options.append(st.sets(st.integers(0, nd - 1), min_size=1).map(tuple))
        return shape, draw(st.one_of(options)), draw(st.booleans())

    return strat()


def _unary(name, method, ref, **kw):
    return Case(name, lambda x: getattr(x, method)(), ref, _one(), **kw)


def _binary(name, fn, ref, **kw):
    return Case(name, fn, ref, broadcastable_shapes(2), **kw)


CASES = [
    _binary("add", lambda x, y: x + y, np.add),
    _binary("sub", lambda x, y: x - y, np.subtract),
    _binary("mul", lambda x, y: x * y, np.multiply),
    _binary("div", lambda x, y: x / y, np.divide, low=0.5, high=3.0),
    _binary("pow", lambda x, y: x**y, np.power, low=0.5, high=2.5),
    _binary(
        "maximum",
        tg.maximum,
        np.maximum,
        valid=lambda x, y: bool(np.all(np.abs(x - y) > 1e-3)),
        second_order=False,
    ),
    _binary(
        "minimum",
        tg.minimum,
        np.minimum,
        valid=lambda x, y: bool(np.all(np.abs(x - y) > 1e-3)),
        second_order=False,
    ),
    Case("scalar_radd", lambda x: 2.0 + x, lambda x: 2.0 + x, _one()),
    Case("scalar_rsub", lambda x: 2.0 - x, lambda x: 2.0 - x, _one()),
    Case("scalar_rdiv", lambda x: 2.0 / x, lambda x: 2.0 / x, _one(), low=0.5),
    Case("scalar_rpow", lambda x: 2.0**x, lambda x: 2.0**x, _one()),
    Case("square", lambda x: x**2, lambda x: x**2, _one()),
    _unary("neg", "__neg__", np.negative),
    _unary("exp", "exp", np.exp),
    _unary("log", "log", np.log, low=0.1, high=10.0),
    _unary("sqrt", "sqrt", np.sqrt, low=0.1, high=10.0),
    _unary("abs", "abs", np.abs, kinks=(0.0,), second_order=False),
    _unary("relu", "relu", lambda x: np.maximum(x, 0), kinks=(0.0,), second_order=False),
    _unary("sigmoid", "sigmoid", lambda x: 1 / (1 + np.exp(-x)), low=-8, high=8),
    _unary("tanh", "tanh", np.tanh),
    Case(
        "clip",
        lambda x: x.clip(-1.0, 1.0),
        lambda x: np.clip(x, -1, 1),
        _one(),
        kinks=(-1.0, 1.0),
        second_order=False,
    ),
    Case("softmax", lambda x: x.softmax(-1), None, _one(min_dims=1)),
    Case("softmax_axis0", lambda x: x.softmax(0), None, _one(min_dims=1)),
    Case("log_softmax", lambda x: x.log_softmax(-1), None, _one(min_dims=1)),
    Case("T", lambda x: x.T, lambda x: x.T, _one()),
    Case("flatten", lambda x: x.flatten(), lambda x: x.reshape(-1), _one()),
    Case("reshape", lambda x: x.reshape(-1, 1), lambda x: x.reshape(-1, 1), _one()),
    Case(
        "transpose",
        lambda x: (
            x.transpose(tuple(reversed(range(x.ndim)))[1:] + (x.ndim - 1,))
            if x.ndim
            else x.transpose()
        ),
        lambda x: (
            x.transpose(tuple(reversed(range(x.ndim)))[1:] + (x.ndim - 1,)) if x.ndim else x.T
        ),
        _one(),
    ),
    Case("swapaxes", lambda x: x.swapaxes(0, -1), lambda x: x.swapaxes(0, -1), _one(1)),
    Case(
        "broadcast_to",
        lambda x: x.broadcast_to((2,) + x.shape),
        lambda x: np.broadcast_to(x, (2,) + x.shape),
        _one(),
    ),
    Case("getitem_slice", lambda x: x[1:, ::-1], lambda x: x[1:, ::-1], _one(2)),
    Case("getitem_int", lambda x: x[0], lambda x: x[0], _one(1)),
    Case("getitem_none", lambda x: x[None, ..., None], lambda x: x[None, ..., None], _one()),
    Case(
        "getitem_repeated_ints",  # repeated indices must accumulate
        lambda x: x[np.array([0, 0, -1, 0])],
        lambda x: x[np.array([0, 0, -1, 0])],
        _one(1),
    ),
    Case(
        "getitem_gather",  # the sparse cross-entropy pattern x[rows, labels]
        lambda x: x[np.arange(x.shape[0]), np.zeros(x.shape[0], dtype=int)],
        lambda x: x[np.arange(x.shape[0]), np.zeros(x.shape[0], dtype=int)],
        _one(2, 2),
    ),
    Case("getitem_mask", lambda x: x[x.data > 0], lambda x: x[x > 0], _one(), kinks=(0.0,)),
    Case(
        "concatenate",
        lambda x, y: tg.concatenate([x, y, x], axis=-1),
        lambda x, y: np.concatenate([x, y, x], axis=-1),
        shapes(min_dims=1).map(lambda s: (s, s[:-1] + (s[-1] + 1,))),
    ),
    Case(
        "stack",
        lambda x, y: tg.stack([x, y], axis=0),
        lambda x, y: np.stack([x, y], axis=0),
        shapes().map(lambda s: (s, s)),
    ),
    Case("matmul", lambda x, y: x @ y, np.matmul, matmul_shapes()),
    Case(
        "where",
        lambda x, y: tg.where(x.data > 0, x, y),
        lambda x, y: np.where(x > 0, x, y),
        broadcastable_shapes(2),
        kinks=(0.0,),
    ),
]


def _draw_inputs(data, case: Case):
    shape_tuple = data.draw(case.shapes, label="shapes")
    xs = [
        data.draw(arrays(s, low=case.low, high=case.high, away_from=case.kinks), label=f"x{i}")
        for i, s in enumerate(shape_tuple)
    ]
    assume(case.valid(*xs))
    return xs


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@given(data=st.data())
def test_op_value_and_gradient(case: Case, data):
    xs = _draw_inputs(data, case)
    tensors = [tg.Tensor(x.copy(), requires_grad=True) for x in xs]
    out = case.fn(*tensors)
    if case.ref is not None:
        np.testing.assert_allclose(out.numpy(), case.ref(*xs), rtol=1e-6, atol=1e-6)
    assert out.dtype == np.float64
    assert tg.gradcheck(case.fn, tensors)


@pytest.mark.parametrize("case", [c for c in CASES if c.second_order], ids=lambda c: c.name)
@given(data=st.data())
def test_op_second_order(case: Case, data):
    xs = _draw_inputs(data, case)
    tensors = [tg.Tensor(x.copy(), requires_grad=True) for x in xs]
    assert tg.gradgradcheck(case.fn, tensors)


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min"])
@given(data=st.data())
def test_reductions(op, data):
    shape, axis, keepdims = data.draw(_reduce_args(shapes()))
    x = data.draw(arrays(shape))
    if op in ("max", "min"):
        assume(distinct(x))
    t = tg.Tensor(x.copy(), requires_grad=True)
    out = getattr(t, op)(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.numpy(), getattr(np, op)(x, axis=axis, keepdims=keepdims))
    assert tg.gradcheck(lambda v: getattr(v, op)(axis=axis, keepdims=keepdims), [t])
    if op in ("sum", "mean"):
        assert tg.gradgradcheck(lambda v: getattr(v, op)(axis=axis, keepdims=keepdims) ** 2, [t])


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
