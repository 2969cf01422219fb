"""Matrix products: matmul and the fused dense layer."""

from __future__ import annotations

from typing import Any

from tinygrad_np.function import Function
from tinygrad_np.ops.common import _as_tensor, xp
from tinygrad_np.tensor import Tensor

# ================================ matmul =====================================================


class Matmul(Function):
    """z = x @ y;  dz/dx = g @ y^T,  dz/dy = x^T @ g  (batched; 1-D operands promoted)"""

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
        return xp.matmul(x, y)

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
    dz/dx = g @ w^T,  dz/dw = x^T @ g,  dz/db = g summed over the batch.

    One node instead of matmul + add: dense layers are most of a small net's graph.
    """

    @staticmethod
    def forward(ctx, x, w, b=None):
        if x.ndim == 0 or x.shape[-1] != w.shape[0] or w.ndim != 2:
            raise ValueError(
                f"linear: input of shape {x.shape} does not fit weight of shape {w.shape} "
                "(expected input (..., in) and weight (in, out))"
            )
        z = x @ w
        if b is not None:
            if b.ndim <= z.ndim:
                z += b  # z is a fresh array: add the bias in place
            else:  # a (1, out) bias on a single sample broadcasts the result up
                z = z + b
        ctx.save_for_backward(x, w)
        ctx.bias_shape = None if b is None else b.shape
        return z

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        need_x, need_w = needs[0], needs[1]
        need_b = len(needs) == 3 and needs[2]
        gx = g @ w.T if need_x else None  # w is 2-D, so .T is the matrix transpose
        gw = gb = None
        if need_w or need_b:
            g2 = g.reshape((-1, g.shape[-1])) if g.ndim != 2 else g
            if need_w:
                x2 = x.reshape((-1, x.shape[-1])) if x.ndim != 2 else x
                gw = x2.T @ g2
            if need_b:
                # add.reduce skips ndarray.sum's Python wrapper: this runs once per layer
                gb = g2.sum(axis=0) if isinstance(g2, Tensor) else xp.add.reduce(g2, axis=0)
                if gb.shape != ctx.bias_shape:
                    gb = gb.reshape(ctx.bias_shape)
        return (gx, gw, gb) if len(needs) == 3 else (gx, gw)


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """The dense layer of the NNFS book, ``x @ weight + bias``, as one fused op.

    >>> import tinygrad_np as tg
    >>> linear(tg.ones(2, 3), tg.ones(3, 4), tg.zeros(4)).shape
    (2, 4)
    """
    x = _as_tensor(x)
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)
