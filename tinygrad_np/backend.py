"""The one seam between ops and the array library.

Every op reaches NumPy through ``array_module(x)``, so running the same ops on another
NumPy-compatible engine (CuPy) changes this file, not every op.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np


def array_module(*arrays: Any) -> ModuleType:
    """The array namespace (``numpy`` today) that owns ``arrays``."""
    return np


def is_array(x: Any) -> bool:
    """True for an array of the backing library (not a Python scalar or list)."""
    return isinstance(x, np.ndarray)
