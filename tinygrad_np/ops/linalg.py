"""Matrix products: matmul and the fused dense layer."""

from __future__ import annotations

from typing import Any

from tinygrad_np.backend import array_module
from tinygrad_np.function import Function
from tinygrad_np.ops.common import as_tensor
from tinygrad_np.tensor import Tensor

# ================================ matmul =====================================================


class Matmul(Function):
    """z = x @ y;  dz/dx = g @ y^T,  dz/dy = x^T @ g  (batched; 1-D operands promoted)"""

    torch = "matmul"

    @staticmethod
    def sample(draw):
        n = draw.integer(1, 3)
        k = n + draw.integer(1, 2)  # distinct sizes: a transposed gradient cannot fit
        m = k + draw.integer(1, 2)
        batch_x, batch_y = draw.choice([((), ()), draw.broadcastable(2, max_dims=2)])
        x = draw.choice([batch_x + (n, k), (k,)])
        return [draw.array(x), draw.array(draw.choice([batch_y + (k, m), (k,)]))], {}

    @staticmethod
    def forward(ctx, x, y):
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError(f"matmul: operands must be at least 1-D, got {x.shape} @ {y.shape}")
        if x.shape[-1] != y.shape[-2 if y.ndim > 1 else 0]:
            raise ValueError(
                f"matmul: shapes {x.shape} and {y.shape} do not align: "
                f"{x.shape[-1]} (last axis of x) != {y.shape[-2 if y.ndim > 1 else 0]} "
                "(second-to-last axis of y)"
            )
        ctx.save_for_backward(x, y)
        return array_module(x, y).matmul(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        # promote 1-D operands to matrices so one formula covers every case
        if x.ndim == 1:
            x = x.reshape((1, -1))
            g = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:]) if y.ndim > 1 else g.reshape((1,))
        if y.ndim == 1:
            y = y.reshape((-1, 1))
            g = g.reshape(g.shape + (1,))
        gx = g @ y.swapaxes(-1, -2) if need_x else None
        gy = x.swapaxes(-1, -2) @ g if need_y else None
        if gx is not None and ctx.parents[0].ndim == 1:
            gx = gx.reshape(gx.shape[:-2] + gx.shape[-1:])
        if gy is not None and ctx.parents[1].ndim == 1:
            gy = gy.reshape(gy.shape[:-1])
        return gx, gy


class Linear(Function):
    """z = x @ w + b  (x: (..., in), w: (in, out), b: (out,) or (1, out));
    dz/dx = g @ w^T,  dz/dw = x^T @ g,  dz/db = g summed over the batch (by the engine).

    One node instead of matmul + add: dense layers are most of a small net's graph.
    """

    broadcasts = (2,)  # the bias is added to every row

    @staticmethod
    def sample(draw):
        n_in, n_out = draw.integer(1, 4), draw.integer(1, 4)
        x = draw.array(draw.choice([(3,), (2, 3), ()]) + (n_in,))
        b = draw.choice([(n_out,), None, (1, n_out)])
        arrays = [x, draw.array((n_in, n_out))]
        return (arrays if b is None else [*arrays, draw.array(b)]), {}

    torch = staticmethod(lambda torch, x, w, b=None: x @ w if b is None else x @ w + b)

    @staticmethod
    def forward(ctx, x, w, b=None):
        if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[0]:
            raise ValueError(
                f"linear: input of shape {x.shape} does not fit weight of shape {w.shape} "
                "(expected input (..., in) and weight (in, out))"
            )
        if b is not None and b.shape not in ((w.shape[1],), (1, w.shape[1])):
            raise ValueError(
                f"linear: bias of shape {b.shape} does not fit weight of shape {w.shape} "
                f"(expected ({w.shape[1]},) or (1, {w.shape[1]}))"
            )
        z = x @ w
        if b is not None:
            if b.ndim <= z.ndim:
                z += b  # z is a fresh array: add the bias in place
            else:  # a (1, out) bias on a single sample broadcasts the result up
                z = z + b
        ctx.save_for_backward(x, w)
        return z

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        gx = g @ w.T if needs[0] else None  # w is 2-D, so .T is the matrix transpose
        gw = None
        if needs[1]:
            x2 = x.reshape((-1, x.shape[-1])) if x.ndim != 2 else x
            gw = x2.T @ (g.reshape((-1, g.shape[-1])) if g.ndim != 2 else g)
        return (gx, gw, g) if len(needs) == 3 else (gx, gw)


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """The dense layer of the NNFS book, ``x @ weight + bias``, as one fused op.

    >>> import tinygrad_np as tg
    >>> linear(tg.ones(2, 3), tg.ones(3, 4), tg.zeros(4)).shape
    (2, 4)
    """
    x = as_tensor(x)
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)
