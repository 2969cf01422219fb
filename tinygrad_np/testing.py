"""Hypothesis strategies for testing ops, yours included: safe float64 arrays, broadcastable
shapes, tensors. Needs the ``test`` extra (``pip install tinygrad-np[test]``).

>>> from hypothesis import given
>>> import tinygrad_np as tg
>>> from tinygrad_np.testing import tensors
>>> @given(tensors(shape=(3,)))
... def test_double(x):
...     assert tg.gradcheck(lambda t: (2 * t).sum(), [x])
>>> test_double()
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

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
