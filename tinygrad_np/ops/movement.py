"""Ops that move elements without arithmetic: broadcast, reshape, transpose, indexing, joins."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate
from typing import Any

from tinygrad_np import sampling
from tinygrad_np.backend import array_module
from tinygrad_np.function import Function
from tinygrad_np.ops import tnp
from tinygrad_np.ops.common import as_tensor
from tinygrad_np.tensor import Tensor

# ================================ movement ===================================================


class Expand(Function):
    """z = broadcast_to(x, shape);  dz/dx = 1, summed over the new axes (by the engine)"""

    broadcasts = True

    @staticmethod
    def sample(draw):
        shape = draw.shape()
        kept = shape[draw.integer(0, len(shape)) :]
        return [draw.array(tuple(1 if draw.integer(0, 1) else n for n in kept))], {"shape": shape}

    torch = staticmethod(lambda torch, x, shape: torch.broadcast_to(x, shape))

    @staticmethod
    def forward(ctx, x, shape):
        return array_module(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return g


class Reshape(Function):
    """z = reshape(x, shape);  dz/dx = reshape(g, x.shape)"""

    torch = "reshape"

    @staticmethod
    def sample(draw):
        x = draw.array(draw.shape())
        return [x], {"shape": draw.choice([(-1,), (x.size, 1), (1, -1), x.shape[::-1]])}

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
    def sample(draw):
        x = draw.array(draw.shape())
        rotated = tuple(range(1, x.ndim)) + (0,) if x.ndim else ()
        negative = tuple(a - x.ndim for a in rotated)
        return [x], {"axes": draw.choice([None, rotated, negative])}

    @staticmethod
    def torch(torch, x, axes=None):
        return x.permute(tuple(reversed(range(x.ndim))) if axes is None else axes)

    @staticmethod
    def forward(ctx, x, axes=None):
        if axes is not None:
            axes = tuple(int(a) % x.ndim for a in axes) if x.ndim else tuple(axes)
            if sorted(axes) != list(range(x.ndim)):
                raise ValueError(f"transpose: axes {axes} do not permute {x.ndim} axes")
        ctx.inverse = None if axes is None else tuple(sorted(range(x.ndim), key=axes.__getitem__))
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(ctx.inverse)


def _is_advanced(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(getattr(i, "ndim", 0) > 0 for i in items)


class Getitem(Function):
    """z = x[index];  dz/dx = g scattered back (summed where an index repeats)"""

    @staticmethod
    def sample(draw):
        x = draw.array(draw.shape(min_dims=1))
        n = x.shape[0]
        options = [(slice(1, None), Ellipsis), 0, (None, Ellipsis, None), (slice(None, None, 2),)]
        options += [draw.labels(4, n), draw.mask(x.shape)]  # repeated rows must add up
        if x.ndim > 1:  # the sparse cross-entropy pattern x[rows, labels]
            options.append((draw.labels(3, n), draw.labels(3, x.shape[1])))
        return [x], {"index": draw.choice(options)}

    torch = staticmethod(lambda torch, x, index: x[index])

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape = x.shape
        ctx.save_for_backward(index)  # freed after backward: a boolean mask can be large
        return x[index]

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        return tnp.scatter_add(g, ctx.shape, index)


class ScatterAdd(Function):
    """z = zeros(shape) with g added at index;  dz/dg = z[index]  (getitem's adjoint)"""

    @staticmethod
    def sample(draw):
        shape = draw.shape(min_dims=1)
        index = draw.choice([(slice(1, None),), draw.labels(4, shape[0])])
        return [draw.array(draw.array(shape)[index].shape)], {"shape": shape, "index": index}

    @staticmethod
    def torch(torch, g, shape, index):
        out = torch.zeros(shape, dtype=g.dtype)
        if _is_advanced(index):
            return out.index_put((torch.as_tensor(index),), g, accumulate=True)
        out[index] = g
        return out

    @staticmethod
    def forward(ctx, g, shape, index):
        ctx.save_for_backward(index)
        xp = array_module(g)
        out = xp.zeros(shape, dtype=g.dtype)
        if _is_advanced(index):
            xp.add.at(out, index, g)  # repeated indices must add up, which out[i] += g won't
        else:
            out[index] = g  # basic indexing never repeats an element
        return out

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        return g[index]


class Concatenate(Function):
    """z = concatenate(xs, axis);  dz/dx_i = the slice of g that came from x_i"""

    sample = staticmethod(sampling.joined)

    torch = staticmethod(lambda torch, *xs, axis=0: torch.cat(xs, dim=axis))

    @staticmethod
    def forward(ctx, *xs, axis=0):
        ctx.axis = axis
        ctx.bounds = [0, *accumulate(x.shape[axis] for x in xs)]
        return array_module(*xs).concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, g):
        lead = (slice(None),) * (ctx.axis % g.ndim)
        b = ctx.bounds
        return tuple(g[lead + (slice(b[i], b[i + 1]),)] for i in range(len(b) - 1))


class Stack(Function):
    """z = stack(xs, axis);  dz/dx_i = g[..., i, ...] along the new axis"""

    sample = staticmethod(lambda draw: sampling.joined(draw, stack=True))

    torch = staticmethod(lambda torch, *xs, axis=0: torch.stack(xs, dim=axis))

    @staticmethod
    def forward(ctx, *xs, axis=0):
        ctx.axis, ctx.n = axis, len(xs)
        return array_module(*xs).stack(xs, axis=axis)

    @staticmethod
    def backward(ctx, g):
        lead = (slice(None),) * (ctx.axis % g.ndim)
        return tuple(g[lead + (i,)] for i in range(ctx.n))


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    return Concatenate.apply(*[as_tensor(t) for t in tensors], axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along a new axis."""
    return Stack.apply(*[as_tensor(t) for t in tensors], axis=axis)
