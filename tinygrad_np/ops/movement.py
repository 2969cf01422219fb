"""Ops that move elements without arithmetic: broadcast, reshape, squeeze, transpose, flip,
repeat, indexing and gather, joins."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate
from math import prod
from typing import Any

from tinygrad_np import sampling
from tinygrad_np.backend import array_module
from tinygrad_np.function import Function
from tinygrad_np.ops import tnp
from tinygrad_np.ops.common import as_tensor, axes
from tinygrad_np.tensor import Tensor

# ================================ movement ===================================================


class Expand(Function):
    """z = broadcast_to(x, shape) (-1 keeps a size);  dz/dx = 1, summed over the new axes (by
    the engine)"""

    broadcasts = True

    @staticmethod
    def sample(draw):
        shape = draw.shape()
        kept = shape[draw.integer(0, len(shape)) :]
        x = draw.array(tuple(1 if draw.integer(0, 1) else n for n in kept))
        keep = tuple(-1 if draw.integer(0, 1) and i >= len(shape) - x.ndim else n
                     for i, n in enumerate(shape))  # fmt: skip
        return [x], {"shape": draw.choice([shape, keep])}

    torch = staticmethod(lambda torch, x, shape: x.expand(shape))

    @staticmethod
    def forward(ctx, x, shape):
        lead = len(shape) - x.ndim
        if lead < 0 or any(n == -1 for n in shape[:lead]):
            raise ValueError(
                f"expand: cannot expand shape {x.shape} to {tuple(shape)} (-1 keeps a size, "
                "so it cannot stand for a new leading axis)"
            )
        shape = tuple(shape[:lead]) + tuple(m if n == -1 else n for n, m in
                                            zip(shape[lead:], x.shape))  # fmt: skip
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


class Squeeze(Reshape):
    """z = x without its size-1 axes (all of them, or those in dim);  dz/dx = reshape(g, x.shape)"""

    @staticmethod
    def sample(draw):
        x = draw.array(tuple(1 if draw.integer(0, 1) else n for n in draw.shape()))
        return [x], {"dim": draw.axis(x.ndim)}

    torch = staticmethod(lambda torch, x, dim=None: x.squeeze() if dim is None else x.squeeze(dim))

    @staticmethod
    def forward(ctx, x, dim=None):
        ctx.shape = x.shape
        dims = range(x.ndim) if dim is None else axes("squeeze", dim, x.shape)
        return x.reshape(tuple(n for i, n in enumerate(x.shape) if n != 1 or i not in dims))


class Unsqueeze(Reshape):
    """z = x with a new axis of size 1 at dim;  dz/dx = reshape(g, x.shape)"""

    torch = "unsqueeze"

    @staticmethod
    def sample(draw):
        x = draw.array(draw.shape())
        return [x], {"dim": draw.integer(-x.ndim - 1, x.ndim)}

    @staticmethod
    def forward(ctx, x, dim):
        ctx.shape = x.shape
        (at,) = axes("unsqueeze", dim, x.shape + (1,))  # dims index the result's axes
        return x.reshape(x.shape[:at] + (1,) + x.shape[at:])


class Flip(Function):
    """z = x reversed along dims;  dz/dx = g reversed along the same dims"""

    @staticmethod
    def torch(torch, x, dims):
        return torch.flip(x, (dims,) if isinstance(dims, int) else dims)

    @staticmethod
    def sample(draw):
        x = draw.array(draw.shape(min_dims=1))
        dims = draw.axis(x.ndim)
        return [x], {"dims": tuple(range(x.ndim)) if dims is None else dims}

    @staticmethod
    def forward(ctx, x, dims):
        dims = axes("flip", dims, x.shape) or ()
        ctx.index = tuple(
            slice(None, None, -1) if i in dims else slice(None) for i in range(x.ndim)
        )
        return x[ctx.index]

    @staticmethod
    def backward(ctx, g):
        return g[ctx.index]


class Repeat(Function):
    """z = x tiled sizes[i] times along each axis (PyTorch's repeat; leading sizes add axes);
    dz/dx = g summed over the copies"""

    torch = staticmethod(lambda torch, x, sizes: x.repeat(*sizes))

    @staticmethod
    def sample(draw):
        x = draw.array(draw.shape(max_dims=2))
        sizes = tuple(draw.integer(1, 3) for _ in range(max(x.ndim, 1) + draw.integer(0, 1)))
        return [x], {"sizes": sizes}

    @staticmethod
    def forward(ctx, x, sizes):
        sizes = tuple(int(n) for n in sizes)
        if len(sizes) < x.ndim or any(n < 0 for n in sizes):
            raise ValueError(
                f"repeat: sizes {sizes} must be non-negative, one per axis of the input of shape "
                f"{x.shape} at least (extra sizes add leading axes)"
            )
        ctx.shape, ctx.sizes = x.shape, sizes
        return array_module(x).tile(x, sizes)

    @staticmethod
    def backward(ctx, g):
        padded = (1,) * (len(ctx.sizes) - len(ctx.shape)) + ctx.shape
        split = tuple(d for n, s in zip(ctx.sizes, padded) for d in (n, s))  # copy, then element
        return g.reshape(split).sum(axis=tuple(range(0, len(split), 2))).reshape(ctx.shape)


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


class Gather(Getitem):
    """z[i][j] = x[index[i][j]][j] along dim (PyTorch's gather);  dz/dx = g added back at the
    gathered positions (repeats add up)"""

    @staticmethod
    def sample(draw):
        x = draw.array(draw.shape(min_dims=1))
        dim = draw.integer(-x.ndim, x.ndim - 1)
        shape = tuple(draw.integer(1, n) for n in x.shape)
        shape = shape[: dim % x.ndim] + (draw.integer(1, 4),) + shape[dim % x.ndim + 1 :]
        index = draw.labels(prod(shape), x.shape[dim]).reshape(shape)
        return [x], {"dim": dim, "index": index}

    torch = staticmethod(lambda torch, x, dim, index: torch.gather(x, dim, torch.as_tensor(index)))

    @staticmethod
    def forward(ctx, x, dim, index):
        xp = array_module(x)
        index = xp.asarray(index)
        (dim,) = axes("gather", dim, x.shape)
        if index.dtype.kind not in "iu" or index.ndim != x.ndim:
            raise ValueError(
                f"gather: index must be an integer array with the input's {x.ndim} axes, got "
                f"{index.dtype} of shape {index.shape} for input {x.shape}"
            )
        if any(m > n for i, (m, n) in enumerate(zip(index.shape, x.shape)) if i != dim):
            raise ValueError(
                f"gather: index of shape {index.shape} is larger than the input {x.shape} "
                f"along an axis other than dim={dim}"
            )
        if index.size and (index.min().item() < 0 or index.max().item() >= x.shape[dim]):
            raise IndexError(
                f"gather: index out of range [0, {x.shape[dim]}) for axis {dim} of input {x.shape}"
            )
        grid = [xp.arange(n).reshape((-1,) + (1,) * (index.ndim - 1 - i))
                for i, n in enumerate(index.shape)]  # fmt: skip
        grid[dim] = index
        return Getitem.forward(ctx, x, tuple(grid))


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
