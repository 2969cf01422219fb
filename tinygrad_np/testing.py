"""Testing ops, yours included: Hypothesis strategies (safe float64 arrays, broadcastable
shapes, tensors), ``HypothesisDraw`` for an op's ``sample``, and the two checks the library's
own op table runs on every registered op: ``check_gradients`` (finite differences, first and
second order) and ``check_against_torch``. Needs the ``test`` extra
(``pip install tinygrad-np[test]``).

>>> from hypothesis import given
>>> import tinygrad_np as tg
>>> from tinygrad_np.testing import tensors
>>> @given(tensors(shape=(3,)))
... def test_double(x):
...     assert tg.gradcheck(lambda t: (2 * t).sum(), [x])
>>> test_double()
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_np.gradcheck import gradcheck, gradgradcheck
from tinygrad_np.sampling import Draw
from tinygrad_np.tensor import Tensor

Shape = tuple[int, ...]


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
    """Array shapes, small enough that finite differences stay cheap."""
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, max_side: int = 4
):
    """Tuples of shapes that broadcast together (size-1 axes and missing leading axes)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda r: r.input_shapes)


def matmul_shapes(max_side: int = 4, max_batch_dims: int = 2):
    """Shape pairs valid for ``@``: vectors, matrices and broadcast batches."""
    return hnp.mutually_broadcastable_shapes(
        signature="(n?,k),(k,m?)->(n?,m?)", max_side=max_side, max_dims=max_batch_dims + 2
    ).map(lambda r: r.input_shapes)


def arrays(
    shape: Shape | st.SearchStrategy[Shape] | None = None,
    low: float = -3.0,
    high: float = 3.0,
    away_from: tuple[float, ...] = (),
    margin: float = 1e-3,
    dtype: Any = np.float64,
):
    """Float arrays in ``[low, high]``; ``away_from`` keeps values off kinks (relu at 0)."""
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)
    if away_from:
        elements = elements.filter(lambda v: all(abs(v - k) > margin for k in away_from))
    return hnp.arrays(np.dtype(dtype), shape if shape is not None else shapes(), elements=elements)


@st.composite
def tensors(draw, shape=None, requires_grad: bool = True, **array_kwargs: Any) -> Tensor:
    """Float64 tensors for gradcheck, built from ``arrays``."""
    data = draw(arrays(shape, **array_kwargs))
    return Tensor(data, requires_grad=requires_grad)


def distinct(values: np.ndarray, gap: float = 1e-3) -> bool:
    """True when no two values are closer than ``gap``: max/min ties make kinks."""
    flat = np.sort(values.reshape(-1))
    return flat.size < 2 or bool(np.min(np.diff(flat)) > gap)


class HypothesisDraw(Draw):
    """A ``Draw`` backed by Hypothesis's ``st.data()``, so failures shrink to small inputs.

    >>> from hypothesis import given, strategies as st
    >>> import tinygrad_np as tg
    >>> @given(st.data())
    ... def test_exp(data):
    ...     check_gradients(tg.ops.Exp, HypothesisDraw(data, tg.ops.Exp))
    >>> test_exp()
    """

    def __init__(self, data: Any, op: Any = None) -> None:
        super().__init__(op)
        self.data = data

    def integer(self, low: int, high: int) -> int:
        return self.data.draw(st.integers(low, high))

    def choice(self, options: Sequence[Any]) -> Any:
        return options[self.data.draw(st.integers(0, len(options) - 1))]

    def uniform(self, shape: Shape, low: float, high: float) -> np.ndarray:
        return self.data.draw(arrays(shape, low=low, high=high)).copy()


def _inputs(op: Any, arrays: Sequence[Any]) -> list[Any]:
    """Float arrays become float64 Tensors that require grad, but for the op's constants."""
    return [
        Tensor(a, requires_grad=i not in op.constant_inputs)
        if isinstance(a, np.ndarray) and a.dtype.kind == "f"
        else a
        for i, a in enumerate(arrays)
    ]


def check_gradients(op: Any, draw: Draw, fast_mode: bool = False) -> None:
    """Draw inputs from ``op.sample`` and check its gradient against finite differences, and
    its second derivative too unless ``op.second_order`` is False. Raises ``GradcheckError``.
    """
    arrays, kwargs = op.sample(draw)
    tensors = _inputs(op, arrays)
    out = op.apply(*tensors, **kwargs)
    assert out.dtype == np.float64, f"{op.name}: float64 inputs gave a {out.dtype} output"
    if not any(isinstance(t, Tensor) and t.requires_grad for t in tensors):
        return

    def fn(*ts: Any) -> Tensor:
        return op.apply(*ts, **kwargs)

    fn.__qualname__ = f"{op.__name__}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
    assert gradcheck(fn, tensors, fast_mode=fast_mode)
    if op.second_order:
        assert gradgradcheck(fn, tensors, fast_mode=fast_mode)


def _torch_call(op: Any, torch: Any) -> Any:
    if callable(op.torch):
        return lambda *xs, **kw: op.torch(torch, *xs, **kw)
    renamed = {"axis": "dim", "keepdims": "keepdim"}
    function = getattr(torch, op.torch)
    return lambda *xs, **kw: function(*xs, **{renamed.get(k, k): v for k, v in kw.items()})


def check_against_torch(op: Any, draw: Draw, torch: Any, tol: float = 1e-10) -> None:
    """Draw inputs from ``op.sample``; compare the op's value and its gradients (for a random
    ``grad_output``) with its PyTorch counterpart ``op.torch``, in float64."""
    arrays, kwargs = op.sample(draw)
    ours = _inputs(op, arrays)
    theirs = [
        torch.tensor(a, requires_grad=isinstance(t, Tensor) and t.requires_grad)
        if hasattr(a, "dtype")
        else a
        for a, t in zip(arrays, ours)
    ]
    out = op.apply(*ours, **kwargs)
    expected = _torch_call(op, torch)(*theirs, **kwargs)
    where = f"{op.name} with inputs {[np.shape(a) for a in arrays]} and {kwargs}"
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=tol, atol=tol,
                               err_msg=f"values of {where}")  # fmt: skip
    if not out.requires_grad:
        return
    seed = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(seed)
    expected.backward(torch.tensor(seed))
    for k, (a, b) in enumerate(zip(ours, theirs)):
        if isinstance(a, Tensor) and a.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol, atol=tol,
                                       err_msg=f"gradient of input {k} of {where}")  # fmt: skip
