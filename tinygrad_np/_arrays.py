"""Turning the arrays users hand us (ndarrays, Tensors, lists) into ndarrays and back.

The data, metrics and io modules accept NumPy arrays and tinygrad_np Tensors alike; this is the
one place that knows how to tell them apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_np.tensor import Tensor


def to_numpy(x: Any) -> np.ndarray:
    """An ndarray view of ``x``: Tensors (and other objects with ``.numpy()``) give their data."""
    if isinstance(x, np.ndarray):
        return x
    if callable(getattr(x, "numpy", None)) and not isinstance(x, np.generic):
        return np.asarray(x.numpy())
    return np.asarray(x)


def like(template: Any, array: np.ndarray) -> Any:
    """``array`` as a Tensor when ``template`` is a Tensor, else as it is.

    Batches and splits are data, not graph nodes, so the Tensor never requires grad.
    """
    if isinstance(template, Tensor):
        return Tensor(array)
    return array
