"""Argument checks shared by the losses, data, training and progress code: one message per
mistake."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_np.backend import array_module


def check_count(fn: str, name: str, value: Any, optional: bool = False) -> None:
    """A ValueError naming ``fn`` and ``name`` unless ``value`` is a positive integer
    (or None, when ``optional``).

    >>> check_count("fit", "epochs", 0)
    Traceback (most recent call last):
    ValueError: fit: epochs must be a positive integer, got 0
    """
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        allowed = "a positive integer or None" if optional else "a positive integer"
        raise ValueError(f"{fn}: {name} must be {allowed}, got {value!r}")


def check_numeric(fn: str, name: str, array: Any) -> None:
    """A TypeError naming ``fn`` and ``name`` unless ``array`` holds real numbers: bools,
    integers or floats. (Cast to float, strings would be parsed and None would become NaN.)

    >>> check_numeric("mse_loss", "target", np.array([[1.0], ["2"]]))
    Traceback (most recent call last):
    TypeError: mse_loss: target must hold numbers, got strings (dtype <U32)
    """
    kind = array.dtype.kind
    if kind in "biuf":
        return
    if kind == "O" and array.ndim == 0 and array[()] is None:
        raise TypeError(f"{fn}: {name} is None; pass an array of numbers")
    if kind in "US":
        got = f"strings (dtype {array.dtype})"
    elif kind == "O":
        got = "Python objects (dtype object), such as None among numbers"
    else:
        raise TypeError(f"{fn}: {name} must hold real numbers, got dtype {array.dtype}")
    raise TypeError(f"{fn}: {name} must hold numbers, got {got}")


def check_reduction(name: str, reduction: str) -> str:
    """A loss's ``reduction`` argument, or a ValueError naming the loss."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', not {reduction!r}")
    return reduction


def check_class_targets(name: str, x: Any, target: Any) -> Any:
    """Integer labels (N,) in [0, C) or one-hot (N, C), checked against predictions (N, C).

    Every classification loss calls this, so a bad label gets the same clear error anywhere.
    """
    from tinygrad_np.tensor import Tensor  # here: the ops import this module

    t = target.data if isinstance(target, Tensor) else array_module(x.data).asarray(target)
    check_numeric(name, "target", t)  # before any cast: one-hot strings would parse as floats
    if x.ndim != 2:
        raise ValueError(f"{name}: input must have shape (N, C), got {x.shape}")
    n, c = x.shape
    if t.ndim == 1:
        if t.dtype.kind not in "iu":
            raise ValueError(
                f"{name}: class labels must be integers, got dtype {t.dtype} "
                "(convert with y.astype(int), or pass one-hot targets of shape (N, C))"
            )
        if t.shape[0] != n:
            raise ValueError(f"{name}: {t.shape[0]} labels for {n} rows of input {x.shape}")
        # A wrong label must not wrap around. Viewed as unsigned, a negative label is huge, so
        # one reduction checks both ends (ufunc reduce skips ndarray.max's Python wrapper),
        # unless c is beyond the dtype's positive range (int8 labels, 200 classes). tg.jit
        # recognises this check as proof of the range (compiler/faster.py, Faster.bounds).
        xp = array_module(t)
        if t.dtype.kind == "i" and c >= 1 << (8 * t.dtype.itemsize - 1):  # every label < c
            wrong = n and xp.minimum.reduce(t) < 0
        else:
            unsigned = t.view(t.dtype.str.replace("i", "u")) if t.dtype.kind == "i" else t
            wrong = n and xp.maximum.reduce(unsigned) >= c
        if wrong:
            bad = t[(t < 0) | (t >= c)][0]
            raise ValueError(
                f"{name}: label {bad} is out of range for {c} classes (labels must be in "
                f"[0, {c - 1}])"
            )
        return t
    if t.shape != x.shape:
        raise ValueError(
            f"{name}: one-hot targets of shape {t.shape} do not match input {x.shape} "
            "(integer labels must be 1-D)"
        )
    return t.astype(x.dtype, copy=False)
