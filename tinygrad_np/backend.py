"""The one seam between ops and the array library.

Ops and the engine ask ``array_module(*arrays)`` for the namespace of the arrays they hold and
never name NumPy themselves, so another engine with NumPy's interface (CuPy, or a recording
stand-in that turns a training step into code) runs the same ops unchanged.
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import numpy as np


def array_module(*arrays: Any) -> ModuleType:
    """The namespace of ``arrays``: NumPy for ndarrays, Python numbers and None; otherwise
    the first foreign array's own ``__array_namespace__()`` (CuPy's, a stand-in's).

    >>> array_module(np.ones(2), 3.0) is np
    True
    """
    for a in arrays:
        if type(a) is np.ndarray or a is None:  # the common case first: one type check
            continue
        namespace = getattr(type(a), "__array_namespace__", None)
        if namespace is not None and not isinstance(a, np.ndarray | np.generic):
            return namespace(a)
    return np


def as_array(value: Any) -> Any:
    """``value`` as an array: NumPy returns scalars from 0-d math; make them 0-d arrays.

    >>> as_array(np.float32(2.0)).shape
    ()
    """
    return np.asarray(value) if isinstance(value, np.generic) else value


def is_array(x: Any) -> bool:
    """True for an array of some array library (not a Python scalar, list or NumPy scalar)."""
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, np.generic)


# ---------------------------------------------------------------- user data at the door
DEFAULT_FLOAT = np.dtype(np.float32)  # what Python floats become, as in PyTorch


def to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Arrays and NumPy scalars keep their dtype; Python floats and lists of them become
    float32. A list of Tensors or arrays is stacked, in their dtype."""
    if isinstance(data, np.ndarray):
        return data if dtype is None else data.astype(dtype, copy=False)
    if isinstance(data, np.generic):
        return np.asarray(data, dtype=dtype)
    array = np.asarray(data, dtype=dtype)  # Tensors inside convert through __array__
    if array.dtype == object:
        raise TypeError(
            f"tensor: cannot make a numeric tensor from {type(data).__name__} holding "
            f"{sorted({type(v).__name__ for v in np.ravel(array)})}"
        )
    if dtype is None and array.dtype == np.float64 and not _holds_arrays(data):
        array = array.astype(DEFAULT_FLOAT)
    return array


def _holds_arrays(data: Any) -> bool:
    """Whether a nested list's first element is an array or a Tensor (whose dtype is kept)."""
    while isinstance(data, list | tuple) and data:
        data = data[0]
    return hasattr(data, "dtype")


def check_can_require_grad(array: np.ndarray) -> None:
    if array.dtype.kind != "f":  # complex too: its gradients would need the conjugate rules
        raise TypeError(
            f"only real floating-point tensors can require grad, got dtype {array.dtype}; "
            "convert with astype(np.float32) or astype(np.float64) first"
        )


class Freed:
    """What backward leaves where it freed an array: the shape and dtype, not the values.

    A tensor kept after ``backward()`` (a loss appended to a list) then holds no activations;
    using such values raises. Pass ``retain_graph=True`` to backward to keep them.
    """

    __slots__ = ("shape", "dtype")

    def __init__(self, array: Any) -> None:
        self.shape, self.dtype = tuple(array.shape), array.dtype

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: math.prod(self.shape))

    def __repr__(self) -> str:
        return f"<values freed by backward: shape {self.shape}, {self.dtype}>"

    def __getattr__(self, name: str) -> Any:  # .sum(), .reshape(): the values are gone
        raise FreedError(
            f"these values (shape {self.shape}) were freed by backward(); pass "
            "retain_graph=True to backward() to keep them"
        )

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__getattr__("__array__")


class FreedError(RuntimeError, AttributeError):
    """Values of a graph that backward freed were used (an AttributeError, so probing with
    ``hasattr`` stays quiet)."""
