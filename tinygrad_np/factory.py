"""Functions that make new tensors: ``tensor``, ``zeros``, ``ones``, ``randn``, ``arange``."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_np.backend import DEFAULT_FLOAT as _FLOAT
from tinygrad_np.rng import get_rng
from tinygrad_np.tensor import DTypeLike, Tensor


def _shape(shape: tuple) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def tensor(data: Any, requires_grad: bool = False, dtype: DTypeLike = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python floats and lists become float32).

    >>> import tinygrad_np as tg
    >>> tg.tensor([1.0, 2.0]).dtype
    dtype('float32')
    """
    data = data.data if isinstance(data, Tensor) else data
    return Tensor(
        np.array(data, copy=True) if isinstance(data, np.ndarray) else data,
        requires_grad=requires_grad,
        dtype=dtype,
    )


def zeros(*shape: Any, dtype: DTypeLike = _FLOAT, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``tg.zeros(2, 3)`` or ``tg.zeros((2, 3))``."""
    return Tensor(np.zeros(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape: Any, dtype: DTypeLike = _FLOAT, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``tg.ones(2, 3)`` or ``tg.ones((2, 3))``."""
    return Tensor(np.ones(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def zeros_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    """Zeros of ``t``'s shape and dtype."""
    return Tensor(np.zeros_like(t.data), requires_grad=requires_grad)


def ones_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    """Ones of ``t``'s shape and dtype."""
    return Tensor(np.ones_like(t.data), requires_grad=requires_grad)


def randn(*shape: Any, dtype: DTypeLike = _FLOAT, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the library's generator (seed it with ``tg.manual_seed``).

    >>> import tinygrad_np as tg
    >>> tg.randn(2, 3).shape
    (2, 3)
    """
    data = get_rng().standard_normal(_shape(shape)).astype(dtype, copy=False)
    return Tensor(data, requires_grad=requires_grad)


def arange(
    start: float,
    stop: float | None = None,
    step: float = 1,
    dtype: DTypeLike = None,
    requires_grad: bool = False,
) -> Tensor:
    """Evenly spaced values, as ``np.arange`` (integers stay int64, floats become float32)."""
    data = np.arange(start, stop, step) if stop is not None else np.arange(start)
    if dtype is None and data.dtype == np.float64:
        dtype = _FLOAT
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)
