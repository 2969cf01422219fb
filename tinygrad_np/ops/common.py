"""What every op module shares: the array namespace and small helpers that work on arrays
and Tensors alike (so one backward body serves both ordinary and create_graph passes)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_np.backend import array_module
from tinygrad_np.tensor import Tensor

xp = array_module()


def _exp(a: Any) -> Any:
    return a.exp() if isinstance(a, Tensor) else xp.exp(a)


def _log(a: Any) -> Any:
    return a.log() if isinstance(a, Tensor) else xp.log(a)


def _data(a: Any) -> Any:
    return a.data if isinstance(a, Tensor) else a


def normalize_axis(axis: Any) -> int | tuple[int, ...] | None:
    """Axis arguments as NumPy takes them, hashable (lists become tuples)."""
    if axis is None or isinstance(axis, int | np.integer):
        return axis if axis is None else int(axis)
    return tuple(int(a) for a in axis)


def normalize_index(index: Any) -> Any:
    """Tensors and lists inside an index become arrays (lists of ints gather, as in NumPy)."""
    if isinstance(index, tuple):
        return tuple(normalize_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return xp.asarray(index)
    return index


def _keepdims_shape(shape: tuple[int, ...], axis: Any) -> tuple[int, ...]:
    """The shape a reduction over ``axis`` has with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    axes = (axis,) if isinstance(axis, int) else axis
    axes = {a % len(shape) for a in axes}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _as_tensor(x: Any, like: Tensor | None = None) -> Any:
    if isinstance(x, Tensor):
        return x
    if like is not None:
        return like._coerce(x)
    return Tensor(x)
