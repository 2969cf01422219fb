"""Argument checks shared by the data, training and progress code: one message per mistake."""

from __future__ import annotations

from typing import Any

import numpy as np


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
