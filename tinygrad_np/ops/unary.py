"""More elementwise functions of one input: log1p, expm1, sin, cos and the error function."""

from __future__ import annotations

from math import pi, sqrt

from tinygrad_np.backend import array_module
from tinygrad_np.function import Function
from tinygrad_np.ops import special, tnp

TWO_OVER_SQRT_PI = 2 / sqrt(pi)


class Log1p(Function):
    """z = log(1 + x), accurate for tiny x;  dz/dx = 1 / (1 + x)"""

    domain = (-0.9, 2.0)
    torch = "log1p"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return array_module(x).log1p(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1 + x)


class Expm1(Function):
    """z = exp(x) - 1, accurate for tiny x;  dz/dx = z + 1"""

    domain = (-2.0, 2.0)
    torch = "expm1"

    @staticmethod
    def forward(ctx, x):
        z = array_module(x).expm1(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * (z + 1)


class Sin(Function):
    """z = sin(x);  dz/dx = cos(x)"""

    domain = (-4.0, 4.0)
    torch = "sin"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return array_module(x).sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * tnp.cos(x)


class Cos(Function):
    """z = cos(x);  dz/dx = -sin(x)"""

    domain = (-4.0, 4.0)
    torch = "cos"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return array_module(x).cos(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g * tnp.sin(x)


class Erf(Function):
    """z = erf(x) = 2/sqrt(pi) * integral of exp(-t^2) from 0 to x;
    dz/dx = 2/sqrt(pi) exp(-x^2)"""

    domain = (-3.0, 3.0)
    torch = "erf"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return special.erf(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * TWO_OVER_SQRT_PI * tnp.exp(-x * x)
