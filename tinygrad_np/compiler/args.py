"""A step's arguments as leaves (Tensors and arrays) and a signature, and its results as a
recording call returns them (real arrays, Tensors without a graph)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_np.compiler.tracer import Sym, Traced
from tinygrad_np.tensor import Tensor


def flatten(x: Any, leaves: list, key: list) -> None:
    """The Tensors and arrays inside the arguments ``x`` (``leaves``), and a hashable
    signature of everything else (``key``): shapes, dtypes and layouts, numbers by value."""
    t = type(x)
    if t is np.ndarray:
        leaves.append(x)
        key.append((x.shape, x.dtype, x.strides))
    elif isinstance(x, Tensor):
        d = x.data
        leaves.append(x)
        key.append((Tensor, d.shape, d.dtype, getattr(d, "strides", None), x.requires_grad))
    elif t is tuple or t is list:
        key.append((t, len(x)))
        for v in x:
            flatten(v, leaves, key)
    elif t is dict:
        key.append((dict, tuple(x)))
        for v in x.values():
            flatten(v, leaves, key)
    elif isinstance(x, SCALAR_TYPES):
        key.append((t, x))
    else:
        key.append((object, id(x)))


SCALAR_TYPES = (bool, int, float, complex, str, bytes, type(None), np.generic)


def rebuild(x: Any, it: Any) -> Any:
    """``x`` with its leaves (in ``flatten`` order) taken from the iterator ``it``."""
    t = type(x)
    if t is np.ndarray or isinstance(x, Tensor):
        return next(it)
    if t is tuple or t is list:
        return t(rebuild(v, it) for v in x)
    if t is dict:
        return {k: rebuild(v, it) for k, v in x.items()}
    return x


def real(x: Any) -> Any:
    """``x`` with real arrays and numbers: what the recording call returns."""
    if isinstance(x, Traced | Sym):
        return x.array if type(x) is Traced else x.value
    if isinstance(x, Tensor):
        if type(x.data) is Traced:
            if x._ctx is None and x.grad is None:
                x.data = x.data.array
                return x
            return Tensor._wrap(x.data.array, False)
        return x
    if isinstance(x, tuple | list):
        return type(x)(real(v) for v in x)
    if isinstance(x, dict):
        return {k: real(v) for k, v in x.items()}
    return x
