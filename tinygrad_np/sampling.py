"""Random inputs for checking an op where its derivative exists, with its keyword variants.

Each op says where it is checked: ``domain`` (the range of its float inputs), ``kinks``
(values they keep away from) and, when one array of a random shape per input is not enough,
a ``sample(draw)`` static method that builds its inputs and keyword arguments from a
``Draw``. Two draws exist: ``RandomDraw`` (a NumPy generator: ``tg.compare`` and ``exercise``
use it) and ``tinygrad_np.testing.HypothesisDraw`` (the test suite), so one description of an
op serves the tests, the comparison with PyTorch and the exercises.

>>> import numpy as np, tinygrad_np as tg
>>> arrays, kwargs = tg.ops.Log.sample(RandomDraw(np.random.default_rng(0), op=tg.ops.Log))
>>> bool(arrays[0].min() >= 0.1), kwargs
(True, {})
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

Shape = tuple[int, ...]
Sample = tuple[list[Any], dict[str, Any]]


class Draw:
    """What an op's ``sample`` may ask for. Subclasses supply the three primitives
    ``integer``, ``choice`` and ``uniform``; everything else is built on them."""

    margin = 1e-3  # how far inputs stay from a kink; finite differences step 1e-6

    def __init__(self, op: Any = None) -> None:
        self.low, self.high = getattr(op, "domain", (-2.0, 2.0))
        self.kinks = tuple(getattr(op, "kinks", ()))

    # ---------------------------------------------------------------- primitives
    def integer(self, low: int, high: int) -> int:
        """An integer in [low, high]."""
        raise NotImplementedError

    def choice(self, options: Sequence[Any]) -> Any:
        """One of ``options`` (keyword variants: every option gets its turn)."""
        raise NotImplementedError

    def uniform(self, shape: Shape, low: float, high: float) -> np.ndarray:
        """A float64 array of ``shape`` with values in [low, high]."""
        raise NotImplementedError

    # ---------------------------------------------------------------- built on them
    def shape(self, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
        """A small array shape."""
        ndim = self.integer(min_dims, max_dims)
        return tuple(self.integer(min_side, max_side) for _ in range(ndim))

    def broadcastable(self, n: int, min_dims: int = 0, max_dims: int = 3) -> list[Shape]:
        """``n`` shapes that broadcast together: some lose leading axes, some axes become 1."""
        full = self.shape(min_dims, max_dims)
        shapes = [full]
        for _ in range(n - 1):
            kept = full[self.integer(0, len(full)) :]
            shapes.append(tuple(1 if self.integer(0, 2) == 0 else s for s in kept))
        order = self.choice(list(range(n)))  # the full shape is not always the first input
        return shapes[order:] + shapes[:order]

    def axis(self, ndim: int, several: bool = True) -> int | tuple[int, ...] | None:
        """An ``axis`` argument valid for ``ndim`` axes: None, an int (maybe negative) or a
        tuple of distinct axes."""
        options: list[Any] = [None]
        if ndim:
            options.append(self.integer(-ndim, ndim - 1))
            if several:
                first = self.integer(0, ndim - 1)
                options.append(tuple(sorted({first, self.integer(0, ndim - 1)})))
        return self.choice(options)

    def array(
        self,
        shape: Shape,
        low: float | None = None,
        high: float | None = None,
        away_from: Sequence[float] | None = None,
        margin: float | None = None,
        distinct: bool = False,
    ) -> np.ndarray:
        """Float64 values in the op's domain (or [low, high]), off its kinks (or
        ``away_from``); ``distinct`` keeps all values apart (no ties for max and min)."""
        low = self.low if low is None else low
        high = self.high if high is None else high
        x = self.uniform(tuple(shape), low, high)
        margin = self.margin if margin is None else margin
        for k in self.kinks if away_from is None else away_from:
            near = np.abs(x - k) < margin
            x[near] = k + np.where(x[near] >= k, margin, -margin) * 2
        if distinct and x.size > 1:
            ranks = np.argsort(np.argsort(x, axis=None)).reshape(x.shape)
            x = x + 0.01 * ranks  # sorted order is kept and neighbours end >= 0.01 apart
        return x

    def labels(self, n: int, classes: int) -> np.ndarray:
        """``n`` integer class labels in [0, classes)."""
        return np.array([self.integer(0, classes - 1) for _ in range(n)], dtype=np.int64)

    def mask(self, shape: Shape) -> np.ndarray:
        """A boolean array (a constant input, never differentiated)."""
        return self.uniform(shape, 0.0, 1.0) > 0.5


class RandomDraw(Draw):
    """Draws from a NumPy generator. ``trial`` picks each ``choice`` in turn, so a few trials
    cover every keyword variant; shapes are 2-D by default so reports read naturally."""

    def __init__(self, rng: np.random.Generator, trial: int = 0, op: Any = None) -> None:
        super().__init__(op)
        self.rng, self.trial = rng, trial

    def integer(self, low: int, high: int) -> int:
        return int(self.rng.integers(low, high + 1))

    def choice(self, options: Sequence[Any]) -> Any:
        return options[self.trial % len(options)]

    def uniform(self, shape: Shape, low: float, high: float) -> np.ndarray:
        return self.rng.uniform(low, high, shape)

    def shape(self, min_dims: int = 0, max_dims: int = 3, min_side: int = 2, max_side: int = 4):
        ndim = min(max(2, min_dims), max_dims)
        return tuple(self.integer(min_side, max_side) for _ in range(ndim))


# ---------------------------------------------------------------- samples ops share
def reduction(draw: Draw, distinct: bool = False) -> Sample:
    """One array and a reduction's keywords: ``axis`` (None, an int, a tuple), ``keepdims``."""
    x = draw.array(draw.shape(), distinct=distinct)
    return [x], {"axis": draw.axis(x.ndim), "keepdims": draw.choice([False, True])}


def along_an_axis(draw: Draw) -> Sample:
    """One array of at least one axis and an ``axis`` (the last or the first)."""
    return [draw.array(draw.shape(min_dims=1))], {"axis": draw.choice([-1, 0])}


def apart(draw: Draw) -> Sample:
    """Two broadcastable arrays that never tie (at a tie max and min have a kink)."""
    sx, sy = draw.broadcastable(2)
    return [(draw.array(sx) * 5).round() / 5, (draw.array(sy) * 5).round() / 5 + 0.1], {}


def joined(draw: Draw, stack: bool = False) -> Sample:
    """One to three arrays that concatenate (or stack) along a random ``axis``."""
    shape = draw.shape(min_dims=0 if stack else 1)
    ndim = len(shape) + stack
    axis = draw.integer(-ndim, ndim - 1)
    sides = [draw.integer(1, 3) for _ in range(draw.integer(1, 3))]
    if stack:
        return [draw.array(shape) for _ in sides], {"axis": axis}
    k = axis % ndim
    return [draw.array(shape[:k] + (n,) + shape[k + 1 :]) for n in sides], {"axis": axis}
