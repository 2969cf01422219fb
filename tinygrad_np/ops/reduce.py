"""Reductions: sum, mean, max, min over an axis (None, an int or a tuple), keepdims or not."""

from __future__ import annotations

from tinygrad_np import sampling
from tinygrad_np.function import Function
from tinygrad_np.ops import tnp
from tinygrad_np.ops.common import axes, keepdims_shape

# ================================ reductions =================================================


class Sum(Function):
    """z = sum(x, axis);  dz/dx = 1, spread over the summed axes"""

    sample = staticmethod(sampling.reduction)
    torch = "sum"

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis = x.shape, axes("sum", axis, x.shape)
        return x.sum(axis=ctx.axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        return tnp.broadcast_to(g.reshape(keepdims_shape(ctx.shape, ctx.axis)), ctx.shape)


class Mean(Function):
    """z = mean(x, axis);  dz/dx = 1/n, spread over the averaged axes"""

    sample = staticmethod(sampling.reduction)
    torch = "mean"

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis = x.shape, axes("mean", axis, x.shape)
        z = x.mean(axis=ctx.axis, keepdims=keepdims)
        ctx.scale = z.size / x.size if x.size else 0.0  # a Python float keeps g's dtype
        return z

    @staticmethod
    def backward(ctx, g):
        g = g.reshape(keepdims_shape(ctx.shape, ctx.axis)) * ctx.scale
        return tnp.broadcast_to(g, ctx.shape)


class _Extremum(Function):
    """max or min over axis;  dz/dx = 1 at the extreme element (split evenly between ties)"""

    sample = staticmethod(lambda draw: sampling.reduction(draw, distinct=True))

    @classmethod
    def forward(cls, ctx, x, axis=None, keepdims=False):
        if x.size == 0:
            raise ValueError(f"{cls.name}: reduction of an empty tensor of shape {x.shape}")
        ctx.shape, ctx.axis = x.shape, axes(cls.name, axis, x.shape)
        z = getattr(x, cls.name)(axis=ctx.axis, keepdims=True)  # x.max or x.min
        mask = x == z
        ctx.save_for_backward(mask, mask.sum(axis=ctx.axis, keepdims=True))  # ties share
        return z if keepdims else z.squeeze(ctx.axis)

    @staticmethod
    def backward(ctx, g):
        mask, ties = ctx.saved_tensors
        g = g.reshape(keepdims_shape(ctx.shape, ctx.axis))
        return g * mask / ties.astype(g.dtype)


class Max(_Extremum):
    """z = max(x, axis);  dz/dx = 1 at the maximum (split evenly between ties)"""

    domain = (-2.0, 2.0)
    torch = "amax"


class Min(_Extremum):
    """z = min(x, axis);  dz/dx = 1 at the minimum (split evenly between ties)"""

    domain = (-2.0, 2.0)
    torch = "amin"
