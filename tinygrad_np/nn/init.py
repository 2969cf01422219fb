"""Weight initialisation, in place on a Tensor's array (``tg.nn.init``).

Weights here are laid out (in, out), as ``Linear`` stores them, so fan-in is ``shape[0]`` and
fan-out ``shape[1]`` (PyTorch's (out, in) layout swaps them). Samples come from ``generator``
or the library's generator (``tg.manual_seed``), except ``nnfs_``, which reproduces the book
by drawing from NumPy's global random state.
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_np.rng import get_rng
from tinygrad_np.tensor import Tensor


def _fill(tensor: Tensor, values: np.ndarray | float) -> Tensor:
    # writing into .data keeps the array (optimizers may hold it) and records no graph
    tensor.data[...] = values
    tensor._bump_version()
    return tensor


def _fans(tensor: Tensor, name: str) -> tuple[int, int]:
    if tensor.ndim < 2:
        raise ValueError(
            f"{name}: fan-in and fan-out need a weight of at least 2 dimensions (in, out), "
            f"got shape {tensor.shape}"
        )
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[0] * receptive, tensor.shape[1] * receptive


def _rng(generator: np.random.Generator | None) -> np.random.Generator:
    return get_rng() if generator is None else generator


def normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Fill with samples from N(mean, std²).

    >>> import tinygrad_np as tg
    >>> normal_(tg.zeros(2, 3), std=0.1).shape
    (2, 3)
    """
    return _fill(tensor, _rng(generator).normal(mean, std, tensor.shape))


def uniform_(
    tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Fill with samples from U(a, b)."""
    return _fill(tensor, _rng(generator).uniform(a, b, tensor.shape))


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0 (the book's biases)."""
    return _fill(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return _fill(tensor, 1)


def kaiming_normal_(
    tensor: Tensor, mode: str = "fan_in", generator: np.random.Generator | None = None
) -> Tensor:
    """He initialisation for ReLU layers: N(0, 2 / fan), fan = fan-in (or fan-out).

    >>> import tinygrad_np as tg
    >>> _ = tg.manual_seed(0)
    >>> w = kaiming_normal_(tg.zeros(2000, 100))
    >>> round(float(w.numpy().std()), 2)  # sqrt(2 / 2000)
    0.03
    """
    return normal_(tensor, 0.0, math.sqrt(2.0 / _fan(tensor, mode, "kaiming_normal_")), generator)


def kaiming_uniform_(
    tensor: Tensor, mode: str = "fan_in", generator: np.random.Generator | None = None
) -> Tensor:
    """He initialisation, uniform: U(-b, b) with b = sqrt(6 / fan) (same variance 2 / fan)."""
    bound = math.sqrt(6.0 / _fan(tensor, mode, "kaiming_uniform_"))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(
    tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Glorot initialisation: N(0, gain² · 2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor, "xavier_normal_")
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def xavier_uniform_(
    tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Glorot initialisation, uniform: U(-b, b) with b = gain · sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor, "xavier_uniform_")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def nnfs_(tensor: Tensor, scale: float = 0.01) -> Tensor:
    """The NNFS book's ``0.01 * np.random.randn(*shape)``, drawn from NumPy's *global* random
    state, so after ``nnfs.init()`` (or ``np.random.seed(0)``) the book's numbers reproduce.

    >>> import numpy as np, tinygrad_np as tg
    >>> np.random.seed(0); w = nnfs_(tg.zeros(2, 3, dtype=np.float64))
    >>> np.random.seed(0); bool((w.numpy() == 0.01 * np.random.randn(2, 3)).all())
    True
    """
    return _fill(tensor, scale * np.random.randn(*tensor.shape))


def _fan(tensor: Tensor, mode: str, name: str) -> int:
    fan_in, fan_out = _fans(tensor, name)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    raise ValueError(f"{name}: mode must be 'fan_in' or 'fan_out', not {mode!r}")
