"""Random inputs for each op, drawn where its derivative exists and is tame.

``draw(op, rng, trial)`` returns ``(arrays, kwargs)`` for ``op.forward`` from the op's own
``sample`` (see ``tinygrad_np.sampling``): log and sqrt get positive numbers, relu and abs stay
away from 0, max and min get distinct values, division never divides by something near 0. The
trial number cycles through the op's keyword variants (``axis=None``, ``axis=0``,
``keepdims=True``...), so five trials cover the cases a backward usually gets wrong. An op
that says nothing gets one array in [-2, 2] per input of its forward.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_np.sampling import RandomDraw


def draw(op: type, rng: np.random.Generator, trial: int) -> tuple[list[Any], dict[str, Any]]:
    """Inputs and keyword arguments for one trial of ``op`` (a ``tg.Function`` subclass).

    >>> import tinygrad_np as tg
    >>> arrays, kwargs = draw(tg.ops.Sum, np.random.default_rng(0), trial=1)
    >>> arrays[0].ndim, kwargs["keepdims"]
    (2, True)
    """
    arrays, kwargs = op.sample(RandomDraw(rng, trial, op))
    return list(arrays), dict(kwargs)
