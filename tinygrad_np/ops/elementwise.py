"""Elementwise ops, unary and binary: z = f(x) or z = f(x, y), broadcasting."""

from __future__ import annotations

from typing import Any

from tinygrad_np.function import Function
from tinygrad_np.ops.common import (
    _as_tensor,
    _data,
    _log,
    xp,
)
from tinygrad_np.tensor import Tensor

# ================================ unary ======================================================


class Neg(Function):
    """z = -x;  dz/dx = -1"""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


class Exp(Function):
    """z = exp(x);  dz/dx = z"""

    @staticmethod
    def forward(ctx, x):
        z = xp.exp(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * z


class Log(Function):
    """z = log(x);  dz/dx = 1/x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    """z = sqrt(x);  dz/dx = 1 / (2 z)"""

    @staticmethod
    def forward(ctx, x):
        z = xp.sqrt(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g / (2 * z)


class Abs(Function):
    """z = |x|;  dz/dx = sign(x)  (0 at x = 0)"""

    @staticmethod
    def forward(ctx, x):
        ctx.sign = xp.sign(x)
        return xp.abs(x)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.sign


class Relu(Function):
    """z = max(x, 0);  dz/dx = 1 where x > 0, else 0"""

    @staticmethod
    def forward(ctx, x):
        z = xp.maximum(x, 0)
        ctx.save_for_backward(z)  # the mask is built in backward: inference never pays for it
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * (_data(z) > 0)


class Sigmoid(Function):
    """z = 1 / (1 + exp(-x));  dz/dx = z (1 - z)"""

    @staticmethod
    def forward(ctx, x):
        # exp of a non-positive number only: no overflow warning for large |x|
        e = xp.exp(-xp.abs(x))
        z = xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * z * (1 - z)


class Tanh(Function):
    """z = tanh(x);  dz/dx = 1 - z^2"""

    @staticmethod
    def forward(ctx, x):
        z = xp.tanh(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * (1 - z * z)


class Clip(Function):
    """z = min(max(x, lo), hi);  dz/dx = 1 strictly inside [lo, hi], else 0"""

    @staticmethod
    def forward(ctx, x, min=None, max=None):
        inside = True  # no bound: every element passes its gradient through
        if min is not None:
            inside = x > min
        if max is not None:
            inside = inside & (x < max)
        ctx.mask = inside
        return xp.clip(x, min, max)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.mask


class Cast(Function):
    """z = x as another dtype;  dz/dx = 1, cast back to x's dtype"""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.dtype)


# ================================ binary =====================================================


class Add(Function):
    """z = x + y;  dz/dx = 1,  dz/dy = 1"""

    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    """z = x - y;  dz/dx = 1,  dz/dy = -1"""

    @staticmethod
    def forward(ctx, x, y):
        return x - y

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = x * y;  dz/dx = y,  dz/dy = x"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (g * y if need_x else None), (g * x if need_y else None)


class Div(Function):
    """z = x / y;  dz/dx = 1/y,  dz/dy = -x/y^2"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x / y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        gx = g / y if need_x else None
        gy = -g * x / (y * y) if need_y else None
        return gx, gy


class Pow(Function):
    """z = x ** y;  dz/dx = y x^(y-1),  dz/dy = z log(x)"""

    @staticmethod
    def forward(ctx, x, y):
        z = x**y
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, g):
        x, y, z = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        gx = g * y * x ** (y - 1) if need_x else None
        gy = g * z * _log(x) if need_y else None
        return gx, gy


class Maximum(Function):
    """z = max(x, y);  the gradient goes to the larger input (split evenly on ties)"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.x_wins = (x > y) + 0.5 * (x == y)
        return xp.maximum(x, y)

    @staticmethod
    def backward(ctx, g):
        w = ctx.x_wins.astype(_data(g).dtype, copy=False)
        return g * w, g * (1 - w)


class Minimum(Function):
    """z = min(x, y);  the gradient goes to the smaller input (split evenly on ties)"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.x_wins = (x < y) + 0.5 * (x == y)
        return xp.minimum(x, y)

    @staticmethod
    def backward(ctx, g):
        w = ctx.x_wins.astype(_data(g).dtype, copy=False)
        return g * w, g * (1 - w)


class Where(Function):
    """z = x where cond else y;  dz/dx = cond,  dz/dy = not cond  (no gradient for cond)"""

    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.cond = xp.asarray(cond, dtype=bool)
        return xp.where(ctx.cond, x, y)

    @staticmethod
    def backward(ctx, g):
        return None, g * ctx.cond, g * ~ctx.cond


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise maximum; the gradient goes to the larger input (halved on ties)."""
    return _as_tensor(x).maximum(y)


def minimum(x: Any, y: Any) -> Tensor:
    """Elementwise minimum; the gradient goes to the smaller input (halved on ties)."""
    return _as_tensor(x).minimum(y)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """``x`` where ``condition`` holds, else ``y`` (gradients flow to x and y only).

    >>> import tinygrad_np as tg
    >>> tg.where(tg.tensor([True, False]), tg.tensor([1.0, 2.0]), 0.0)
    Tensor([1., 0.], dtype=float32)
    """
    ref = x if isinstance(x, Tensor) else y if isinstance(y, Tensor) else None
    x = _as_tensor(x, ref)
    y = _as_tensor(y, ref)
    return Where.apply(_data(condition), x, y)
