"""The library's random number generator: one seedable source for randn, init and dropout.

Like PyTorch's default generator, and unlike ``nnfs.init()``, it never touches NumPy's global
random state, so seeding tinygrad_np cannot change what other code draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_rng = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the generator behind ``tg.randn``, weight init and dropout.

    >>> import tinygrad_np as tg
    >>> _ = tg.manual_seed(0); a = tg.randn(2)
    >>> _ = tg.manual_seed(0); bool((a.numpy() == tg.randn(2).numpy()).all())
    True
    """
    global _rng
    _rng = np.random.default_rng(seed)
    return _rng


def get_rng() -> np.random.Generator:
    """The current generator (``manual_seed`` replaces it)."""
    return _rng


def get_rng_state() -> dict[str, Any]:
    """A snapshot of the generator's state (plain dicts and ints), for checkpoints."""
    return _rng.bit_generator.state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore a snapshot taken by ``get_rng_state``: later draws repeat exactly."""
    _rng.bit_generator.state = state
