"""The core of the public contract, called exactly as DESIGN.md writes it.

Every keyword below is spelled as the contract spells it, so a renamed argument fails here.
Values are checked against NumPy; the gradients of the ops behind these names are checked by
the op registry (tests/test_ops_gradcheck.py, tests/test_against_torch.py).
The library half of the contract (nn, optim, data, io, ...) is in test_api_contract_library.py.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np import Tensor, no_grad

rng = np.random.default_rng(0)


def f64(*shape: int, low: float = -2.0, high: float = 2.0) -> Tensor:
    return Tensor(rng.uniform(low, high, shape), requires_grad=True)


def defaults(fn) -> dict:
    """Parameter name -> default (inspect.Parameter.empty when there is none)."""
    return {name: p.default for name, p in inspect.signature(fn).parameters.items()}


# ---------------------------------------------------------------- Tensor


def test_tensor_constructor_and_attributes():
    data = np.arange(6.0).reshape(2, 3)
    t = Tensor(data, requires_grad=False, dtype=None)
    assert isinstance(t.data, np.ndarray) and t.grad is None
    assert t.shape == (2, 3) and t.dtype == np.float64 and t.ndim == 2 and t.T.shape == (3, 2)
    assert Tensor(data=[1, 2], requires_grad=False, dtype=np.float64).dtype == np.float64
    assert Tensor(3.0).shape == () and Tensor([[1.0]]).shape == (1, 1)  # scalar, list
    assert t.numpy() is t.data and Tensor(np.float64(2.5)).item() == 2.5
    assert isinstance(Tensor(np.float64(2.5)).item(), float)
    assert t.requires_grad_() is t and t.requires_grad
    d = t.detach()
    assert not d.requires_grad and np.array_equal(d.data, data)
    (t * t).sum().backward()
    assert isinstance(t.grad, Tensor) and np.array_equal(t.grad.data, 2 * data)
    t.zero_grad()
    assert t.grad is None or not t.grad.data.any()


def test_backward_keywords():
    x = f64(3)
    y = x * x
    y.backward(gradient=np.ones(3), retain_graph=True, create_graph=False)
    y.backward(gradient=Tensor(np.ones(3)), retain_graph=False, create_graph=False)
    np.testing.assert_allclose(x.grad.data, 4 * x.data)  # two backward passes accumulate
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward(gradient=np.ones(3))  # the graph was freed by the last backward
    x.zero_grad()
    (x**3).sum().backward(create_graph=True)  # dx = 3x^2, itself differentiable
    (ddx,) = tg.autograd.grad(x.grad.sum(), x)
    np.testing.assert_allclose(ddx.data, 6 * x.data)


def test_autograd_grad_keywords():
    x = f64(3)
    y = (x**3).sum()
    (dx,) = tg.autograd.grad(
        outputs=y, inputs=[x], grad_outputs=None, create_graph=True, retain_graph=None
    )
    np.testing.assert_allclose(dx.data, 3 * x.data**2)
    assert x.grad is None  # grad() leaves .grad alone
    (ddx,) = tg.autograd.grad(dx, x, grad_outputs=np.ones(3))
    np.testing.assert_allclose(ddx.data, 6 * x.data)
    z = x * 2.0
    (dz,) = tg.autograd.grad(z, x, grad_outputs=Tensor(np.full(3, 0.5)), retain_graph=True)
    np.testing.assert_allclose(dz.data, np.ones(3))
    tg.autograd.grad(z, x, grad_outputs=np.ones(3))  # retained, so a second pass works
    with pytest.raises(RuntimeError, match="retain_graph"):
        tg.autograd.grad(z, x, grad_outputs=np.ones(3))  # retain_graph=None: freed


def test_no_grad_and_enable_grad_as_context_managers_and_decorators():
    x = f64(2)
    with no_grad():
        assert not (x * 2).requires_grad
        with tg.enable_grad():
            assert (x * 2).requires_grad

    @tg.no_grad()
    def frozen(t):
        return t * 2

    @tg.enable_grad()
    def recording(t):
        return t * 2

    assert not frozen(x).requires_grad
    with tg.no_grad():
        assert recording(x).requires_grad
    assert (x * 2).requires_grad  # every block and call restored the mode


# ---------------------------------------------------------------- gradcheck, Function, seeds


class Square(tg.Function):
    """y = x**2 * scale;  dy/dx = 2 x * scale, with a deliberate relative error ``bias``."""

    bias = 0.0

    @staticmethod
    def forward(ctx, x, scale):
        assert isinstance(x, np.ndarray)  # NumPy in
        ctx.save_for_backward(x, scale)
        return x * x * scale  # NumPy out

    @staticmethod
    def backward(ctx, grad_output):
        x, scale = ctx.saved_tensors
        return grad_output * 2 * x * scale * (1 + Square.bias), None  # None: no grad to scale


def test_function_subclass_and_apply():
    x, scale = f64(4), Tensor(np.full(4, 3.0))
    y = Square.apply(x, scale)
    assert isinstance(y, Tensor) and y.requires_grad
    np.testing.assert_allclose(y.data, 3 * x.data**2)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data)
    assert tg.gradcheck(Square.apply, [x, scale]) is True


def test_gradcheck_keywords_and_error(monkeypatch):
    x, scale = Tensor(rng.uniform(0.5, 2, 5), requires_grad=True), Tensor(np.ones(5))
    assert tg.gradcheck(Square.apply, [x, scale], eps=1e-6, atol=1e-5, rtol=1e-3) is True
    monkeypatch.setattr(Square, "bias", 1e-2)  # a derivation 1% off
    assert tg.gradcheck(fn=Square.apply, inputs=[x, scale], eps=1e-6, atol=0, rtol=5e-2)
    with pytest.raises(tg.GradcheckError, match="input 0"):
        tg.gradcheck(Square.apply, [x, scale], eps=1e-6, atol=1e-5, rtol=1e-3)
    assert tg.gradgradcheck(lambda t: (t**3).sum(), [x])
    assert defaults(tg.gradcheck)["eps"] == 1e-6
    assert defaults(tg.gradcheck)["atol"] == 1e-5 and defaults(tg.gradcheck)["rtol"] == 1e-3


def test_manual_seed_makes_randn_and_init_reproducible():
    tg.manual_seed(7)
    a, layer_a = tg.randn(3, 2), tg.nn.Linear(2, 2)
    tg.manual_seed(seed=7)
    b, layer_b = tg.randn(3, 2), tg.nn.Linear(2, 2)
    assert np.array_equal(a.data, b.data)
    assert np.array_equal(layer_a.weight.data, layer_b.weight.data)


# ---------------------------------------------------------------- operators

BINARY = {
    "+": (lambda a, b: a + b, np.add),
    "-": (lambda a, b: a - b, np.subtract),
    "*": (lambda a, b: a * b, np.multiply),
    "/": (lambda a, b: a / b, np.divide),
    "**": (lambda a, b: a**b, np.power),
}


@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_operators_with_tensors_scalars_and_arrays(op):
    fn, ref = BINARY[op]
    a, b = f64(2, 3, low=0.5, high=2.0), f64(3, low=0.5, high=2.0)  # b broadcasts
    np.testing.assert_allclose(fn(a, b).data, ref(a.data, b.data))
    for other in (1.5, b.data):  # Python scalar and ndarray, on either side
        np.testing.assert_allclose(fn(a, other).data, ref(a.data, other))
        np.testing.assert_allclose(fn(other, a).data, ref(other, a.data))
    # gradients of the ops themselves: tests/test_ops_gradcheck.py (the op registry)


def test_matmul_and_negation():
    a, b, v = f64(2, 3), f64(3, 4), f64(3)
    np.testing.assert_allclose((a @ b).data, a.data @ b.data)
    np.testing.assert_allclose((a @ v).data, a.data @ v.data)
    np.testing.assert_allclose((a.data @ b).data, a.data @ b.data)  # ndarray @ Tensor
    np.testing.assert_allclose((-a).data, -a.data)


def test_comparisons_carry_no_gradient():
    a, b = f64(5), f64(5)
    for op, ref in [("<", np.less), ("<=", np.less_equal), (">", np.greater)]:
        out = eval(f"a {op} b")
        assert out.dtype == bool and not out.requires_grad
        assert np.array_equal(out.data, ref(a.data, b.data))
    for out, ref in [(a >= 0.0, a.data >= 0), (a == a, True), (a != b, a.data != b.data)]:
        assert not out.requires_grad and np.array_equal(out.data, np.broadcast_to(ref, (5,)))


INDEXES = [
    1,
    -1,
    slice(1, 3),
    (slice(None), 2),
    (Ellipsis, 0),
    np.array([2, 0, 2]),  # integer array with a repeat: gradients add up
    [0, 2, 2],
    (np.array([0, 1, 1]), np.array([3, 0, 0])),
    (slice(None), np.array([1, 1])),
    np.array([True, False, True]),
]


@pytest.mark.parametrize("index", INDEXES, ids=repr)
def test_indexing_including_integer_arrays(index):
    x = f64(3, 4)
    np.testing.assert_array_equal(x[index].data, x.data[index])


def test_indexing_with_an_integer_tensor_counts_repeats():
    x = f64(4)
    x[Tensor(np.array([3, 3, 0]))].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0, 0.0, 2.0])


# ---------------------------------------------------------------- methods and functions

AXES = [None, 0, 1, (0, 1), -1]


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(name, axis, keepdims):
    x = Tensor(rng.permutation(12).reshape(3, 4) + rng.uniform(0, 0.5, (3, 4)), requires_grad=True)
    out = getattr(x, name)(axis=axis, keepdims=keepdims)
    ref = getattr(np, name)(x.data, axis=axis, keepdims=keepdims)
    assert out.shape == ref.shape and out.dtype == np.float64
    np.testing.assert_allclose(out.data, ref)


def _softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


UNARY = {
    "exp": (lambda t: t.exp(), np.exp),
    "log": (lambda t: t.log(), np.log),
    "sqrt": (lambda t: t.sqrt(), np.sqrt),
    "abs": (lambda t: t.abs(), np.abs),
    "clip": (lambda t: t.clip(0.7, 1.6), lambda a: np.clip(a, 0.7, 1.6)),
    "relu": (lambda t: (t - 1.2).relu(), lambda a: np.maximum(a - 1.2, 0)),
    "sigmoid": (lambda t: t.sigmoid(), lambda a: 1 / (1 + np.exp(-a))),
    "tanh": (lambda t: t.tanh(), np.tanh),
    "softmax": (lambda t: t.softmax(axis=0), lambda a: _softmax(a, 0)),
    "log_softmax": (lambda t: t.log_softmax(axis=1), lambda a: np.log(_softmax(a, 1))),
    "reshape": (lambda t: t.reshape(4, 3), lambda a: a.reshape(4, 3)),
    "reshape tuple": (lambda t: t.reshape((2, 6)), lambda a: a.reshape(2, 6)),
    "transpose": (lambda t: t.transpose(), np.transpose),
    "transpose axes": (lambda t: t.transpose(1, 0), lambda a: a.transpose(1, 0)),
    "flatten": (lambda t: t.flatten(), np.ravel),
    "maximum": (lambda t: t.maximum(1.3), lambda a: np.maximum(a, 1.3)),
    "minimum": (lambda t: tg.minimum(t, 1.3), lambda a: np.minimum(a, 1.3)),
    "where": (lambda t: tg.where(t.data > 1.3, t, -t), lambda a: np.where(a > 1.3, a, -a)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_methods_and_functions(name):
    fn, ref = UNARY[name]
    # positive, and off the kinks of abs/clip/relu/maximum/where at 0, 0.7, 1.2, 1.3, 1.6
    values = np.array([0.4, 0.8, 0.9, 1.0, 1.1, 1.25, 1.4, 1.5, 1.7, 1.8, 1.9, 2.0])
    x = Tensor(rng.permutation(values).reshape(3, 4), requires_grad=True)
    np.testing.assert_allclose(fn(x).data, ref(x.data), rtol=1e-12)


def test_binary_functions_and_joins():
    a, b = f64(2, 3), f64(2, 3)
    for fn, ref in [(tg.maximum, np.maximum), (tg.minimum, np.minimum)]:
        np.testing.assert_array_equal(fn(a, b).data, ref(a.data, b.data))
    np.testing.assert_array_equal(tg.where(a > b, a, b).data, np.maximum(a.data, b.data))
    np.testing.assert_array_equal(a.maximum(b).data, np.maximum(a.data, b.data))
    np.testing.assert_array_equal(a.minimum(b).data, np.minimum(a.data, b.data))
    for axis in (0, 1):
        cat = tg.concatenate([a, b], axis=axis)
        np.testing.assert_array_equal(cat.data, np.concatenate([a.data, b.data], axis=axis))
        st_ = tg.stack([a, b], axis=axis)
        np.testing.assert_array_equal(st_.data, np.stack([a.data, b.data], axis=axis))


def test_factories():
    assert tg.zeros(2, 3).shape == (2, 3) and not tg.zeros((2, 3)).data.any()
    assert tg.ones(2, 3).data.sum() == 6 and tg.ones((4,)).shape == (4,)
    assert tg.randn(3, 4).shape == (3, 4) and tg.randn(3, 4).dtype == np.float32
    assert np.array_equal(tg.arange(5).data, np.arange(5))
    assert np.array_equal(tg.arange(1, 7, 2).data, [1, 3, 5])
    t = tg.tensor([[1.0, 2.0]], requires_grad=True)
    assert t.dtype == np.float32 and t.requires_grad and t.shape == (1, 2)
    a = np.ones(3)
    assert tg.tensor(a).data is not a  # tg.tensor copies
    assert tg.tensor(a, dtype=np.float32).dtype == np.float32


# ---------------------------------------------------------------- numbers and precision


def test_dtype_of_new_tensors():
    assert Tensor(np.zeros(2, np.float32)).dtype == np.float32  # float arrays keep theirs
    assert Tensor(np.zeros(2, np.float64)).dtype == np.float64
    assert Tensor(np.float64(1.0)).dtype == np.float64  # a NumPy scalar keeps its dtype
    assert Tensor(np.ones(3)).sum().dtype == np.float64  # so does a reduction's result
    assert Tensor(np.float32(1.0)).dtype == np.float32
    assert Tensor([1.0, 2.0]).dtype == np.float32 and Tensor(2.5).dtype == np.float32
    assert tg.tensor([[0.5]]).dtype == np.float32


@given(
    dtype=st.sampled_from([np.float32, np.float64]),
    scalar=st.one_of(st.floats(0.25, 3), st.integers(1, 3)),  # no x / 0, no (-1) ** 0.5
    op=st.sampled_from(sorted(BINARY)),
)
def test_python_scalars_take_the_tensor_dtype(dtype, scalar, op):
    t = Tensor(np.array([1.5, 2.5], dtype=dtype))
    fn = BINARY[op][0]
    assert fn(t, scalar).dtype == dtype and fn(scalar, t).dtype == dtype


def test_float64_times_float_stays_float64_and_float32_stays_float32():
    t64, t32 = Tensor(np.ones(2)), Tensor(np.ones(2, dtype=np.float32))
    assert (t64 * 2.0).dtype == np.float64 and (t32 * 2.0).dtype == np.float32


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="int64"):
        Tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError):
        Tensor(np.arange(3)).requires_grad_()
    with pytest.raises(TypeError):
        tg.arange(3, requires_grad=True)
    x = f64(3)
    as_int = x.astype(np.int64)  # an op whose output is integer leaves the graph
    assert as_int.dtype == np.int64 and not as_int.requires_grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_log_softmax_and_cross_entropy_are_finite_for_huge_logits(dtype):
    logits = Tensor(np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]], dtype=dtype), True)
    for loss in (
        logits.softmax(axis=1).sum(),
        logits.log_softmax(axis=1).sum(),
        tg.cross_entropy(logits, np.array([2, 0])),
        tg.nn.CrossEntropyLoss()(logits, np.array([[0, 0, 1], [1, 0, 0]])),
    ):
        logits.zero_grad()
        loss.backward()
        assert np.isfinite(loss.data).all() and np.isfinite(logits.grad.data).all()
    np.testing.assert_allclose(tg.cross_entropy(logits, np.array([2, 0])).item(), 2e4)


# ---------------------------------------------------------------- errors

BAD = [
    (lambda a, b: a @ b, ValueError, "matmul", "(2, 3)"),
    (lambda a, b: a + b, ValueError, "add", "(4, 5)"),
    (lambda a, b: a.reshape(4, 2), ValueError, "reshape", "(2, 3)"),
    (lambda a, b: a.sum(axis=3), ValueError, "sum", "(2, 3)"),
    (lambda a, b: a[np.array([0, 7])], IndexError, "getitem", "(2, 3)"),
    (lambda a, b: tg.concatenate([a, b]), ValueError, "concatenate", "(4, 5)"),
    (lambda a, b: (a * 2).backward(), RuntimeError, "backward", "(2, 3)"),
    (lambda a, b: (a * 2).backward(gradient=np.ones(4)), ValueError, "backward", "(4,)"),
    (lambda a, b: tg.cross_entropy(a, np.array([0, 3])), ValueError, "cross_entropy", "3"),
    (lambda a, b: tg.cross_entropy(a, np.array([0, 1, 2])), ValueError, "cross_entropy", "(2, 3)"),
    (lambda a, b: a.item(), ValueError, "item", "(2, 3)"),
    (lambda a, b: tg.autograd.grad(a.sum(), [b]), RuntimeError, "grad", "(4, 5)"),
]


@pytest.mark.parametrize("call, error, op, shape", BAD, ids=[b[2] for b in BAD])
def test_errors_name_the_op_and_the_shapes(call, error, op, shape):
    a, b = f64(2, 3), f64(4, 5)
    with pytest.raises(error) as info:
        call(a, b)
    assert op in str(info.value) and shape in str(info.value)


def _doubling(gradient) -> type[tg.Function]:
    """A custom op whose backward returns ``gradient`` (right or wrong) whatever comes in."""

    class Doubling(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return gradient

    return Doubling


@pytest.mark.parametrize(
    "gradient, error, pattern",
    [
        (np.ones(7), RuntimeError, r"'doubling'.*\(7,\).*\(3,\)"),
        (2.0, TypeError, r"'doubling' returned a float for input 0 of shape \(3,\)"),
        ([2.0, 2.0, 2.0], TypeError, r"'doubling' returned a list"),
        ((np.ones(3), np.ones(3)), RuntimeError, r"'doubling' returned 2 gradients for 1"),
    ],
    ids=["shape", "float", "list", "count"],
)
def test_a_wrong_backward_is_reported_with_the_op_name(gradient, error, pattern):
    with pytest.raises(error, match=pattern):
        _doubling(gradient).apply(f64(3)).sum().backward()
