"""Random inputs for each built-in op, drawn where its derivative exists and is tame.

``draw(op, rng, trial)`` returns ``(arrays, kwargs)`` for ``op.forward``: log and sqrt get
positive numbers, relu and abs stay away from 0, max and min get distinct values (no ties),
division never divides by something near 0. The trial number cycles through the op's
keyword variants (``axis=None``, ``axis=0``, ``keepdims=True``...), so five trials cover the
cases a backward usually gets wrong.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_np import ops

Draw = Callable[[np.random.Generator, int], tuple[list[Any], dict[str, Any]]]


def uniform(rng: np.random.Generator, shape: tuple[int, ...], low: float, high: float):
    return rng.uniform(low, high, shape)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...], low=0.1, high=2.0):
    """Magnitudes in [low, high] with random signs: no element near a kink at 0."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def distinct(rng: np.random.Generator, shape: tuple[int, ...]):
    """Values at least 0.1 apart, in random order: max/min have no ties."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.3 - 0.15 * n + rng.uniform(0, 0.1, n)).reshape(shape)


def _cycle(trial: int, variants: list[dict[str, Any]]) -> dict[str, Any]:
    return dict(variants[trial % len(variants)])


def _unary(low: float, high: float) -> Draw:
    return lambda rng, t: ([uniform(rng, (3, 4), low, high)], {})


def _binary(rng: np.random.Generator, t: int) -> tuple[list[Any], dict[str, Any]]:
    return [uniform(rng, (3, 4), -2, 2), uniform(rng, (3, 4), -2, 2)], {}


def _reduction(rng, t, ties: bool = True):
    # max and min need distinct values: at a tie their gradient is split, not differentiable
    x = uniform(rng, (3, 4), -2, 2) if ties else distinct(rng, (3, 4))
    variants = [{}, {"axis": 0}, {"axis": 1, "keepdims": True}, {"axis": (0, 1)}, {"axis": -1}]
    return [x], _cycle(t, variants)


def _getitem(rng, t):
    variants = [
        {"index": (slice(1, 3),)},
        {"index": np.array([0, 2, 0])},  # a repeated row: its gradient must add up
        {"index": (1, slice(None, None, 2))},
        {"index": (np.array([0, 1, 2]), np.array([3, 0, 3]))},
    ]
    return [uniform(rng, (3, 4), -2, 2)], _cycle(t, variants)


def _scatter_add(rng, t):
    variants = [
        ((2, 4), {"shape": (3, 4), "index": (slice(1, 3),)}),
        ((3, 4), {"shape": (3, 4), "index": np.array([0, 2, 0])}),
    ]
    shape, kwargs = variants[t % len(variants)]
    return [uniform(rng, shape, -2, 2)], dict(kwargs)


def _clip(rng, t):
    x = uniform(rng, (3, 4), -2, 2)
    x[np.abs(np.abs(x) - 1) < 0.05] = 0.5  # off the bounds -1 and 1, where clip has kinks
    return [x], _cycle(t, [{"min": -1.0, "max": 1.0}, {"min": -1.0}, {"max": 1.0}])


def _linear(rng, t):
    """A batch, a 3-d batch, a (1, out) bias, no bias: the layouts tg.nn.Linear passes."""
    x = uniform(rng, (2, 3, 4) if t % 4 == 1 else (3, 4), -2, 2)
    w = uniform(rng, (4, 2), -2, 2)
    biases = [uniform(rng, (2,), -2, 2), None, uniform(rng, (1, 2), -2, 2), None]
    b = biases[t % 4]
    return ([x, w] if b is None else [x, w, b]), {}


def _cross_entropy(rng, t):
    logits = uniform(rng, (4, 3), -2, 2)
    reduction = ["mean", "sum", "none"][t % 3]
    if t % 2:
        target = np.eye(3)[rng.integers(0, 3, 4)]
    else:
        target = rng.integers(0, 3, 4)
    return [logits, target], {"reduction": reduction}


DOMAINS: dict[type, Draw] = {
    ops.Neg: _unary(-2, 2),
    ops.Exp: _unary(-2, 2),
    ops.Log: _unary(0.1, 10),
    ops.Sqrt: _unary(0.1, 10),
    ops.Abs: lambda rng, t: ([away_from_zero(rng, (3, 4))], {}),
    ops.Relu: lambda rng, t: ([away_from_zero(rng, (3, 4))], {}),
    ops.Sigmoid: _unary(-4, 4),
    ops.Tanh: _unary(-2, 2),
    ops.Clip: _clip,
    ops.Cast: lambda rng, t: ([uniform(rng, (3, 4), -2, 2)], {"dtype": np.dtype(np.float64)}),
    ops.Add: _binary,
    ops.Sub: _binary,
    ops.Mul: _binary,
    ops.Div: lambda rng, t: (
        [uniform(rng, (3, 4), -2, 2), away_from_zero(rng, (3, 4), 0.5, 2.0)],
        {},
    ),
    ops.Pow: lambda rng, t: ([uniform(rng, (3, 4), 0.5, 2), uniform(rng, (3, 4), -2, 2)], {}),
    ops.Maximum: lambda rng, t: (list(distinct(rng, (2, 3, 4))), {}),
    ops.Minimum: lambda rng, t: (list(distinct(rng, (2, 3, 4))), {}),
    ops.Where: lambda rng, t: (
        [rng.random((3, 4)) > 0.5, uniform(rng, (3, 4), -2, 2), uniform(rng, (3, 4), -2, 2)],
        {},
    ),
    ops.Expand: lambda rng, t: ([uniform(rng, (1, 4), -2, 2)], {"shape": (3, 4)}),
    ops.Sum: _reduction,
    ops.Mean: _reduction,
    ops.Max: lambda rng, t: _reduction(rng, t, ties=False),
    ops.Min: lambda rng, t: _reduction(rng, t, ties=False),
    ops.Reshape: lambda rng, t: ([uniform(rng, (3, 4), -2, 2)], {"shape": (2, 6)}),
    ops.Transpose: lambda rng, t: (
        [uniform(rng, (2, 3, 4), -2, 2)],
        _cycle(t, [{"axes": None}, {"axes": (1, 2, 0)}]),
    ),
    ops.Getitem: _getitem,
    ops.ScatterAdd: _scatter_add,
    ops.Concatenate: lambda rng, t: (
        [uniform(rng, (3, n), -2, 2) for n in (1, 2, 3)],
        {"axis": 1},
    ),
    ops.Stack: lambda rng, t: ([uniform(rng, (3, 4), -2, 2) for _ in range(3)], {"axis": 1}),
    ops.Matmul: lambda rng, t: ([uniform(rng, (3, 4), -2, 2), uniform(rng, (4, 2), -2, 2)], {}),
    ops.Linear: _linear,
    ops.Softmax: lambda rng, t: ([uniform(rng, (3, 4), -2, 2)], _cycle(t, [{}, {"axis": 0}])),
    ops.LogSoftmax: lambda rng, t: ([uniform(rng, (3, 4), -2, 2)], _cycle(t, [{}, {"axis": 0}])),
    ops.CrossEntropy: _cross_entropy,
}


def draw(op: type, rng: np.random.Generator, trial: int) -> tuple[list[Any], dict[str, Any]]:
    """Inputs and keyword arguments for one trial of ``op``; unknown ops get one (3, 4) array
    in [-2, 2] per positional argument of their forward."""
    for cls in op.__mro__:  # a subclass of a built-in op uses its parent's domain
        if cls in DOMAINS:
            return DOMAINS[cls](rng, trial)
    params = list(inspect.signature(op.forward).parameters.values())[1:]  # skip ctx
    n = sum(p.default is inspect.Parameter.empty and p.kind == p.POSITIONAL_OR_KEYWORD
            for p in params)  # fmt: skip
    return [uniform(rng, (3, 4), -2, 2) for _ in range(max(n, 1))], {}
