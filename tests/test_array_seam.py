"""The array seam is real: every op and the engine do their array work through
``array_module``, so a stand-in array library runs them unchanged.

``Recorded`` is such a stand-in: it wraps an ndarray, offers NumPy's interface through its own
namespace (``__array_namespace__``), logs every call, and refuses to be turned into a NumPy
array. An op or an engine path that called NumPy directly on it, or built an ndarray and
mixed it in, fails here; one that names ``np.ndarray`` takes the wrong branch and fails too.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import ops
from tinygrad_np.backend import array_module
from tinygrad_np.sampling import RandomDraw

LOG: list[str] = []


def unwrap(x: Any) -> Any:
    if isinstance(x, Recorded):
        return x.array
    if isinstance(x, tuple | list):
        return type(x)(unwrap(v) for v in x)
    return x


def wrap(x: Any) -> Any:
    if isinstance(x, np.ndarray | np.generic):
        return Recorded(np.asarray(x))
    if isinstance(x, tuple):
        return tuple(wrap(v) for v in x)
    return x


class _Function:
    """A NumPy function or ufunc seen through the stand-in: unwraps, calls, wraps, logs."""

    def __init__(self, name: str, target: Any) -> None:
        self.name, self.target = name, target

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        LOG.append(self.name)
        if "out" in kwargs:
            kwargs["out"] = unwrap(kwargs["out"])
        return wrap(self.target(*unwrap(args), **{k: unwrap(v) for k, v in kwargs.items()}))

    def __getattr__(self, method: str) -> _Function:  # ufunc methods: add.reduce, add.at
        return _Function(f"{self.name}.{method}", getattr(self.target, method))


class _Namespace:
    def __getattr__(self, name: str) -> Any:
        target = getattr(np, name)
        if name == "errstate" or isinstance(target, type):
            return target
        return _Function(name, target)


NAMESPACE = _Namespace()


def _binary(name: str):
    fn = getattr(operator, name)

    def method(self, other):
        LOG.append(name)
        return wrap(fn(self.array, unwrap(other)))

    def reflected(self, other):
        LOG.append(name)
        return wrap(fn(unwrap(other), self.array))

    def inplace(self, other):
        LOG.append(f"i{name}")
        getattr(operator, f"i{name.rstrip('_')}")(self.array, unwrap(other))  # ior, not ior_
        return self

    return method, reflected, inplace


class Recorded:
    """An ndarray in disguise (see the module docstring)."""

    __array_ufunc__ = None  # np.exp(recorded) raises TypeError

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def __array_namespace__(self) -> _Namespace:
        return NAMESPACE

    def __array__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("a Recorded array leaked into NumPy")

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"np.{func.__name__} was called on a Recorded array, not the seam")

    shape = property(lambda self: self.array.shape)
    dtype = property(lambda self: self.array.dtype)
    ndim = property(lambda self: self.array.ndim)
    size = property(lambda self: self.array.size)
    nbytes = property(lambda self: self.array.nbytes)
    base = property(lambda self: self.array.base)
    T = property(lambda self: wrap(self.array.T))

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, index: Any) -> Any:
        LOG.append("getitem")
        return wrap(self.array[unwrap(index)])

    def __setitem__(self, index: Any, value: Any) -> None:
        LOG.append("setitem")
        self.array[unwrap(index)] = unwrap(value)

    def __getattr__(self, name: str) -> Any:  # array methods: sum, reshape, astype, ...
        if name.startswith("__"):
            raise AttributeError(name)
        return _Function(f".{name}", getattr(self.array, name))

    def __neg__(self):
        return wrap(-self.array)

    def __invert__(self):
        return wrap(~self.array)

    __add__, __radd__, __iadd__ = _binary("add")
    __sub__, __rsub__, __isub__ = _binary("sub")
    __mul__, __rmul__, __imul__ = _binary("mul")
    __truediv__, __rtruediv__, __itruediv__ = _binary("truediv")
    __pow__, __rpow__, __ipow__ = _binary("pow")
    __matmul__, __rmatmul__, __imatmul__ = _binary("matmul")
    __and__, __rand__, __iand__ = _binary("and_")
    __or__, __ror__, __ior__ = _binary("or_")
    __eq__ = _binary("eq")[0]
    __ne__ = _binary("ne")[0]
    __lt__ = _binary("lt")[0]
    __le__ = _binary("le")[0]
    __gt__ = _binary("gt")[0]
    __ge__ = _binary("ge")[0]
    __hash__ = None


def _run(op: type, arrays: list, kwargs: dict, stand_in: bool) -> tuple:
    """Forward and backward of ``op`` through the engine, on plain or Recorded arrays."""
    box = wrap if stand_in else (lambda a: a)
    inputs = [
        tg.Tensor._wrap(box(a), requires_grad=i not in op.constant_inputs)
        if isinstance(a, np.ndarray) and a.dtype.kind == "f"
        else box(a)
        for i, a in enumerate(arrays)
    ]
    out = op.apply(*inputs, **kwargs)
    seed = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(box(seed))
    grads = [t.grad.data for t in inputs if isinstance(t, tg.Tensor) and t.grad is not None]
    return out.data, grads


@pytest.mark.parametrize("op", ops.registry(), ids=lambda op: op.__name__)
@pytest.mark.parametrize("trial", range(3))
def test_every_op_and_the_engine_work_through_the_seam(op, trial):
    arrays, kwargs = op.sample(RandomDraw(np.random.default_rng(trial), trial, op))
    expected_out, expected_grads = _run(op, arrays, kwargs, stand_in=False)
    LOG.clear()
    out, grads = _run(op, arrays, kwargs, stand_in=True)
    assert LOG, f"{op.__name__} did no array work through the stand-in"
    assert isinstance(out, Recorded), f"{op.__name__}: forward left the stand-in library"
    np.testing.assert_array_equal(out.array, expected_out)
    assert len(grads) == len(expected_grads)
    for g, expected in zip(grads, expected_grads):
        assert isinstance(g, Recorded), f"{op.__name__}: a gradient left the stand-in library"
        np.testing.assert_array_equal(g.array, expected)


def test_array_module_gives_the_namespace_of_the_arrays_it_is_given():
    stand_in = Recorded(np.ones(2))
    assert array_module(np.ones(2)) is np and array_module(2.0, None) is np
    assert array_module(np.ones(2), stand_in) is NAMESPACE
    assert array_module(np.float32(1.0)) is np  # NumPy scalars belong to NumPy


def test_the_stand_in_catches_a_direct_numpy_call():
    class Leaky(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return np.exp(x)  # not through array_module

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(TypeError):
        Leaky.apply(tg.Tensor._wrap(Recorded(np.ones(2)), True))
