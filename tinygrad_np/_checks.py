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
