"""Reductions (sum, mean, max, min) and broadcast_to, their adjoint."""

from __future__ import annotations

from tinygrad_np.function import Function, dispatch
from tinygrad_np.ops.common import (
    _data,
    _keepdims_shape,
    xp,
)

# ================================ reductions =================================================


class Expand(Function):
    """z = broadcast_to(x, shape);  dz/dx = 1, summed over the new axes (by the engine)"""

    @staticmethod
    def forward(ctx, x, shape):
        return xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return g


class Sum(Function):
    """z = sum(x, axis);  dz/dx = 1, spread over the summed axes"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis = x.shape, axis
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        g = g.reshape(_keepdims_shape(ctx.shape, ctx.axis))
        return dispatch(Expand, g, shape=ctx.shape)


class Mean(Function):
    """z = mean(x, axis);  dz/dx = 1/n, spread over the averaged axes"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        z = x.mean(axis=axis, keepdims=keepdims)
        ctx.shape, ctx.axis = x.shape, axis
        ctx.scale = xp.asarray(z.size / x.size, dtype=x.dtype) if x.size else 0.0
        return z

    @staticmethod
    def backward(ctx, g):
        g = g.reshape(_keepdims_shape(ctx.shape, ctx.axis)) * ctx.scale
        return dispatch(Expand, g, shape=ctx.shape)


class Max(Function):
    """z = max(x, axis);  dz/dx = 1 at the maximum (split evenly between ties)"""

    pick = staticmethod(xp.max)

    @classmethod
    def forward(cls, ctx, x, axis=None, keepdims=False):
        if x.size == 0:
            raise ValueError(f"{cls.name}: reduction of an empty tensor of shape {x.shape}")
        z = cls.pick(x, axis=axis, keepdims=True)
        mask = x == z
        ctx.weights = mask / mask.sum(axis=axis, keepdims=True, dtype=x.dtype)
        ctx.shape, ctx.axis = x.shape, axis
        return z if keepdims else z.squeeze(axis)

    @staticmethod
    def backward(ctx, g):
        g = g.reshape(_keepdims_shape(ctx.shape, ctx.axis))
        return g * ctx.weights.astype(_data(g).dtype, copy=False)


class Min(Max):
    """z = min(x, axis);  dz/dx = 1 at the minimum (split evenly between ties)"""

    pick = staticmethod(xp.min)
