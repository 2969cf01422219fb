"""Reductions over an axis (None, an int or a tuple), keepdims or not: sum, mean, max, min,
logsumexp, var, std; and the running sum along one axis, cumsum."""

from __future__ import annotations

import warnings
from math import prod

from tinygrad_np import sampling
from tinygrad_np.backend import array_module
from tinygrad_np.function import Function
from tinygrad_np.ops import tnp
from tinygrad_np.ops.common import axes, keepdims_shape

# ================================ reductions =================================================


def reduced_shape(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape a reduction over ``axis`` (normalised by ``axes``) has without keepdims."""
    return () if axis is None else tuple(n for i, n in enumerate(shape) if i not in axis)


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


class LogSumExp(Function):
    """z = log(sum(exp(x), axis)), shifted by the max so exp never overflows;
    dz/dx = exp(x - z), the softmax over axis"""

    sample = staticmethod(sampling.reduction)

    @staticmethod
    def torch(torch, x, axis=None, keepdims=False):
        dim = tuple(range(x.ndim)) if axis is None else axis
        return torch.logsumexp(x, dim=dim, keepdim=keepdims)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        xp = array_module(x)
        ctx.shape, ctx.axis = x.shape, axes("logsumexp", axis, x.shape)
        kept = keepdims_shape(x.shape, ctx.axis)
        m = x.max(axis=ctx.axis, keepdims=True) if x.size else xp.zeros(kept, dtype=x.dtype)
        m = xp.where(xp.isfinite(m), m, 0)  # rows of -inf (or inf) stay -inf (inf), not nan
        with xp.errstate(divide="ignore"):
            z = xp.log(xp.exp(x - m).sum(axis=ctx.axis, keepdims=True)) + m
        z = z.astype(x.dtype, copy=False)
        if not keepdims:  # a view of the fresh z: it is the output, saved below
            z = z.reshape(reduced_shape(x.shape, ctx.axis))
        ctx.save_for_backward(x, z)
        return z

    @staticmethod
    def backward(ctx, g):
        x, z = ctx.saved_tensors
        kept = keepdims_shape(ctx.shape, ctx.axis)
        return g.reshape(kept) * tnp.exp(x - z.reshape(kept))


class Var(Function):
    """z = sum((x - mean)^2, axis) / (n - correction);  dz/dx = 2 (x - mean) / (n - correction)"""

    @staticmethod
    def sample(draw):
        (x,), kwargs = sampling.reduction(draw, distinct=True)  # std has a kink at no spread
        n = Var.count(x.shape, axes("var", kwargs["axis"], x.shape))
        correction = draw.choice([1, 0])
        return [x], {**kwargs, "correction": correction if n > correction else 0}

    @staticmethod
    def torch(torch, x, axis=None, keepdims=False, correction=1):
        return torch.var(x, dim=axis, keepdim=keepdims, correction=correction)

    @staticmethod
    def count(shape, axis) -> int:
        """How many elements each output element reduces."""
        return prod(shape) if axis is None else prod(shape[a] for a in axis)

    @classmethod
    def forward(cls, ctx, x, axis=None, keepdims=False, correction=1):
        xp = array_module(x)
        ctx.shape, ctx.axis = x.shape, axes(cls.name, axis, x.shape)
        dof = Var.count(x.shape, ctx.axis) - correction
        if dof <= 0:
            warnings.warn(
                f"{cls.name}: {Var.count(x.shape, ctx.axis)} elements with correction "
                f"{correction} leave {dof} degrees of freedom: the result is inf or nan",
                RuntimeWarning,
                stacklevel=4,
            )
        ctx.dof = max(dof, 0)
        d = x - x.mean(axis=ctx.axis, keepdims=True)
        with xp.errstate(divide="ignore", invalid="ignore"):
            z = (d * d).sum(axis=ctx.axis, keepdims=keepdims) / xp.asarray(ctx.dof, x.dtype)
        ctx.save_for_backward(x)
        return z

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        d = x - x.mean(axis=ctx.axis, keepdims=True)
        scale = 2 / ctx.dof if ctx.dof else float("inf")
        return g.reshape(keepdims_shape(ctx.shape, ctx.axis)) * d * scale


class Std(Var):
    """z = sqrt(var(x, axis, correction));  dz/dx = (x - mean) / ((n - correction) z), 0 where
    z = 0 (as in PyTorch)"""

    sample = staticmethod(lambda draw: Var.sample(draw))  # keeps the degrees of freedom > 0

    @staticmethod
    def torch(torch, x, axis=None, keepdims=False, correction=1):
        return torch.std(x, dim=axis, keepdim=keepdims, correction=correction)

    @classmethod
    def forward(cls, ctx, x, axis=None, keepdims=False, correction=1):
        z = array_module(x).sqrt(Var.forward.__func__(cls, ctx, x, axis, keepdims, correction))
        ctx.save_for_backward(x, z)
        return z

    @staticmethod
    def backward(ctx, g):
        x, z = ctx.saved_tensors
        kept = keepdims_shape(ctx.shape, ctx.axis)
        d = x - x.mean(axis=ctx.axis, keepdims=True)
        # 1 / z read as 0 where z = 0: all elements equal, where PyTorch's gradient is 0 too
        spread = tnp.where(z == 0, float("inf"), z).reshape(kept)
        return g.reshape(kept) * d / (spread * (ctx.dof if ctx.dof else float("nan")))


class Cumsum(Function):
    """z_i = sum of x_j for j <= i along axis;  dz/dx_i = sum of g_j for j >= i (the running
    sum of g taken from the end)"""

    torch = "cumsum"

    @staticmethod
    def sample(draw):
        x = draw.array(draw.shape(min_dims=1))
        return [x], {"axis": draw.integer(-x.ndim, x.ndim - 1)}

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axes("cumsum", axis, x.shape)
        return x.cumsum(axis=ctx.axis[0]) if x.ndim else x.copy()

    @staticmethod
    def backward(ctx, g):
        if not ctx.axis:  # a 0-d input
            return g
        a = ctx.axis[0]
        backwards = (slice(None),) * a + (slice(None, None, -1),)
        return g[backwards].cumsum(axis=a)[backwards]
