"""Ops that move elements without arithmetic: reshape, transpose, indexing, joins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_np.function import Function, dispatch
from tinygrad_np.ops.common import (
    _as_tensor,
    xp,
)
from tinygrad_np.tensor import Tensor

# ================================ movement ===================================================


class Reshape(Function):
    """z = reshape(x, shape);  dz/dx = reshape(g, x.shape)"""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape)


class Transpose(Function):
    """z = transpose(x, axes);  dz/dx = transpose(g, inverse(axes))"""

    @staticmethod
    def forward(ctx, x, axes=None):
        ctx.inverse = None if axes is None else tuple(np.argsort(axes))
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(ctx.inverse)


class Getitem(Function):
    """z = x[index];  dz/dx = g scattered back (summed where an index repeats)"""

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, g):
        return dispatch(ScatterAdd, g, shape=ctx.shape, index=ctx.index)


def _is_advanced(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(hasattr(i, "shape") and getattr(i, "ndim", 0) > 0 for i in items)


class ScatterAdd(Function):
    """z = zeros(shape) with g added at index;  dz/dg = z[index]  (getitem's adjoint)"""

    @staticmethod
    def forward(ctx, g, shape, index):
        ctx.index = index
        out = xp.zeros(shape, dtype=g.dtype)
        if _is_advanced(index):
            xp.add.at(out, index, g)  # repeated indices must add up, which out[i] += g won't
        else:
            out[index] = g  # basic indexing never repeats an element
        return out

    @staticmethod
    def backward(ctx, g):
        return g[ctx.index]


class Concatenate(Function):
    """z = concatenate(xs, axis);  dz/dx_i = the slice of g that came from x_i"""

    @staticmethod
    def forward(ctx, *xs, axis=0):
        ctx.axis = axis
        ctx.bounds = np.cumsum([0] + [x.shape[axis] for x in xs])
        return xp.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, g):
        lead = (slice(None),) * (ctx.axis % g.ndim)
        b = ctx.bounds
        return tuple(g[lead + (slice(b[i], b[i + 1]),)] for i in range(len(b) - 1))


class Stack(Function):
    """z = stack(xs, axis);  dz/dx_i = g[..., i, ...] along the new axis"""

    @staticmethod
    def forward(ctx, *xs, axis=0):
        ctx.axis, ctx.n = axis, len(xs)
        return xp.stack(xs, axis=axis)

    @staticmethod
    def backward(ctx, g):
        lead = (slice(None),) * (ctx.axis % g.ndim)
        return tuple(g[lead + (i,)] for i in range(ctx.n))


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    return Concatenate.apply(*[_as_tensor(t) for t in tensors], axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along a new axis."""
    return Stack.apply(*[_as_tensor(t) for t in tensors], axis=axis)
