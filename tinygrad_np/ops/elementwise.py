"""Elementwise ops, unary and binary: z = f(x) or z = f(x, y), broadcasting."""

from __future__ import annotations

from typing import Any

from tinygrad_np import sampling
from tinygrad_np.backend import array_module
from tinygrad_np.function import Function
from tinygrad_np.ops import tnp
from tinygrad_np.ops.common import as_tensor
from tinygrad_np.tensor import Tensor

# ================================ unary ======================================================


class Neg(Function):
    """z = -x;  dz/dx = -1"""

    domain = (-2.0, 2.0)
    torch = "neg"

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


class Exp(Function):
    """z = exp(x);  dz/dx = z"""

    domain = (-2.0, 2.0)
    torch = "exp"

    @staticmethod
    def forward(ctx, x):
        z = array_module(x).exp(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * z


class Log(Function):
    """z = log(x);  dz/dx = 1/x"""

    domain = (0.1, 10.0)
    torch = "log"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return array_module(x).log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    """z = sqrt(x);  dz/dx = 1 / (2 z)"""

    domain = (0.1, 10.0)
    torch = "sqrt"

    @staticmethod
    def forward(ctx, x):
        z = array_module(x).sqrt(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g / (2 * z)


class Abs(Function):
    """z = |x|;  dz/dx = sign(x)  (0 at x = 0)"""

    kinks = (0.0,)
    torch = "abs"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return array_module(x).abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * tnp.sign(x)


class Relu(Function):
    """z = max(x, 0);  dz/dx = 1 where x > 0, else 0"""

    kinks = (0.0,)
    torch = "relu"

    @staticmethod
    def forward(ctx, x):
        z = array_module(x).maximum(x, 0)
        ctx.save_for_backward(z)  # the mask is built in backward: inference never pays for it
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * (z > 0)


class Sigmoid(Function):
    """z = 1 / (1 + exp(-x));  dz/dx = z (1 - z)"""

    domain = (-8.0, 8.0)
    torch = "sigmoid"

    @staticmethod
    def forward(ctx, x):
        xp = array_module(x)
        e = xp.exp(-xp.abs(x))  # exp of a non-positive number only: no overflow for large |x|
        z = xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * z * (1 - z)


class Tanh(Function):
    """z = tanh(x);  dz/dx = 1 - z^2"""

    domain = (-2.0, 2.0)
    torch = "tanh"

    @staticmethod
    def forward(ctx, x):
        z = array_module(x).tanh(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * (1 - z * z)


class Clip(Function):
    """z = min(max(x, lo), hi);  dz/dx = 1 strictly inside [lo, hi], else 0"""

    kinks = (-1.0, 1.0)
    torch = "clamp"

    @staticmethod
    def sample(draw):
        x = draw.array(draw.shape())
        return [x], dict(draw.choice([{"min": -1.0, "max": 1.0}, {"min": -1.0}, {"max": 1.0}]))

    @staticmethod
    def forward(ctx, x, min=None, max=None):
        inside = True  # no bound: every element passes its gradient through
        if min is not None:
            inside = x > min
        if max is not None:
            inside = inside & (x < max)
        ctx.save_for_backward(inside)
        return array_module(x).clip(x, min, max)

    @staticmethod
    def backward(ctx, g):
        (inside,) = ctx.saved_tensors
        return g * inside


class Cast(Function):
    """z = x as another dtype;  dz/dx = 1, cast back to x's dtype"""

    @staticmethod
    def sample(draw):
        return [draw.array(draw.shape())], {"dtype": "float64"}

    torch = staticmethod(lambda torch, x, dtype: x.to(getattr(torch, str(dtype))))

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

    domain = (-2.0, 2.0)
    broadcasts = True
    torch = "add"

    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    """z = x - y;  dz/dx = 1,  dz/dy = -1"""

    domain = (-2.0, 2.0)
    broadcasts = True
    torch = "sub"

    @staticmethod
    def forward(ctx, x, y):
        return x - y

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = x * y;  dz/dx = y,  dz/dy = x"""

    domain = (-2.0, 2.0)
    broadcasts = True
    torch = "mul"

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

    broadcasts = True
    torch = "div"

    @staticmethod
    def sample(draw):
        sx, sy = draw.broadcastable(2)
        return [draw.array(sx), draw.array(sy, away_from=(0.0,), margin=0.5)], {}

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
    """z = x ** y;  dz/dx = y x^(y-1) (0 where y = 0),  dz/dy = z log(x) (0 where x = 0)"""

    broadcasts = True
    torch = "pow"

    @staticmethod
    def sample(draw):
        sx, sy = draw.broadcastable(2)
        return [draw.array(sx, 0.5, 2.0), draw.array(sy)], {}

    @staticmethod
    def forward(ctx, x, y):
        z = x**y
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, g):
        x, y, z = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        # The where()s give PyTorch's finite values at x = 0 (0 * inf and 0 * log 0 otherwise)
        gx = g * y * x ** tnp.where((x == 0) & (y == 0), 1, y - 1) if need_x else None
        gy = g * z * tnp.log(tnp.where(x == 0, 1, x)) if need_y else None
        return gx, gy


class _Pairwise(Function):
    """z = max(x, y) or min(x, y);  the gradient goes to the winner (split evenly on ties)"""

    broadcasts = True

    sample = staticmethod(sampling.apart)

    @classmethod
    def forward(cls, ctx, x, y):
        ctx.save_for_backward(x > y if cls.name == "maximum" else x < y, x == y)
        return getattr(array_module(x, y), cls.name)(x, y)  # xp.maximum or xp.minimum

    @staticmethod
    def backward(ctx, g):
        wins, ties = ctx.saved_tensors
        w = (wins + 0.5 * ties).astype(g.dtype, copy=False)  # the share of x
        return g * w, g * (1 - w)


class Maximum(_Pairwise):
    """z = max(x, y);  the gradient goes to the larger input (split evenly on ties)"""

    domain = (-2.0, 2.0)
    torch = "maximum"


class Minimum(_Pairwise):
    """z = min(x, y);  the gradient goes to the smaller input (split evenly on ties)"""

    domain = (-2.0, 2.0)
    torch = "minimum"


class Where(Function):
    """z = x where cond else y;  dz/dx = cond,  dz/dy = not cond  (no gradient for cond)"""

    broadcasts = True
    torch = "where"

    @staticmethod
    def sample(draw):
        sc, sx, sy = draw.broadcastable(3)
        return [draw.mask(sc), draw.array(sx), draw.array(sy)], {}

    @staticmethod
    def forward(ctx, cond, x, y):
        xp = array_module(x, y)
        cond = xp.asarray(cond, dtype=bool)
        ctx.save_for_backward(cond)
        return xp.where(cond, x, y)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        return None, g * cond, g * ~cond


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise maximum; the gradient goes to the larger input (halved on ties)."""
    return as_tensor(x).maximum(y)


def minimum(x: Any, y: Any) -> Tensor:
    """Elementwise minimum; the gradient goes to the smaller input (halved on ties)."""
    return as_tensor(x).minimum(y)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """``x`` where ``condition`` holds, else ``y`` (gradients flow to x and y only).

    >>> import tinygrad_np as tg
    >>> tg.where(tg.tensor([True, False]), tg.tensor([1.0, 2.0]), 0.0)
    Tensor([1., 0.], dtype=float32)
    """
    ref = x if isinstance(x, Tensor) else y if isinstance(y, Tensor) else None
    condition = condition.data if isinstance(condition, Tensor) else condition
    return Where.apply(condition, as_tensor(x, ref), as_tensor(y, ref))
