"""Smooth activations as ops, each with PyTorch's formula: GELU, ELU, SELU, SiLU, softplus."""

from __future__ import annotations

from math import pi, sqrt

from tinygrad_np.backend import array_module
from tinygrad_np.function import Function
from tinygrad_np.ops import elementwise, special, tnp
from tinygrad_np.ops.common import as_tensor
from tinygrad_np.tensor import Tensor

SQRT_HALF = sqrt(0.5)
INV_SQRT_2PI = 1 / sqrt(2 * pi)
TANH_SCALE, TANH_CUBIC = sqrt(2 / pi), 0.044715  # GELU's tanh approximation
# SELU's constants (Klambauer et al., 2017), as PyTorch has them
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class Gelu(Function):
    """z = x Phi(x), Phi the standard normal CDF 0.5 (1 + erf(x / sqrt 2)) (or, 'tanh':
    0.5 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))));  dz/dx = Phi(x) + x phi(x), phi the
    normal density (the tanh form's own derivative for 'tanh')"""

    name = "gelu"
    domain = (-4.0, 4.0)

    @staticmethod
    def sample(draw):
        return [draw.array(draw.shape())], {"approximate": draw.choice(["none", "tanh"])}

    @staticmethod
    def torch(torch, x, approximate="none"):
        return torch.nn.functional.gelu(x, approximate=approximate)

    @staticmethod
    def forward(ctx, x, approximate="none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        ctx.approximate = approximate
        if approximate == "tanh":
            ctx.save_for_backward(x)
            t = array_module(x).tanh(TANH_SCALE * (x + TANH_CUBIC * x * x * x))
            return 0.5 * x * (1 + t)
        cdf = 0.5 * special.erfc(-SQRT_HALF * x)  # erfc: tiny Phi(x) of a very negative x
        ctx.save_for_backward(x, cdf)  # keeps backward from computing erf a second time
        return x * cdf

    @staticmethod
    def recompute(ctx, k, x):
        return 0.5 + 0.5 * tnp.erf(x * SQRT_HALF)  # saved value 1, Phi(x)

    @staticmethod
    def backward(ctx, g):
        if ctx.approximate == "tanh":
            (x,) = ctx.saved_tensors
            x2 = x * x
            t = tnp.tanh(TANH_SCALE * x * (1 + TANH_CUBIC * x2))
            inner = TANH_SCALE * (1 + 3 * TANH_CUBIC * x2)
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner)
        x, cdf = ctx.saved_tensors
        return g * (cdf + x * tnp.exp(-0.5 * x * x) * INV_SQRT_2PI)


class Elu(Function):
    """z = x for x > 0, else alpha (exp(x) - 1) (times SELU's scale);
    dz/dx = 1 for x > 0, else z + alpha"""

    kinks = (0.0,)

    @staticmethod
    def sample(draw):
        return [draw.array(draw.shape())], {"alpha": draw.choice([1.0, 0.5, 2.0])}

    @staticmethod
    def torch(torch, x, alpha=1.0):
        return torch.nn.functional.elu(x, alpha)

    @staticmethod
    def forward(ctx, x, alpha=1.0, scale=1.0):
        xp = array_module(x)
        positive = x > 0
        ctx.alpha, ctx.scale = alpha, scale
        z = xp.where(positive, x, alpha * xp.expm1(xp.minimum(x, 0)))  # no overflow
        if scale != 1.0:
            z = scale * z
        z = z.astype(x.dtype, copy=False)
        ctx.save_for_backward(z, positive)
        return z

    @staticmethod
    def backward(ctx, g):
        z, positive = ctx.saved_tensors  # below 0, scale alpha exp(x) = z + scale alpha
        return tnp.where(positive, g * ctx.scale, g * (z + ctx.scale * ctx.alpha))


class Selu(Elu):
    """z = scale x for x > 0, else scale alpha (exp(x) - 1), with PyTorch's constants;
    dz/dx = scale for x > 0, else z + scale alpha"""

    kinks = (0.0,)
    torch = "selu"

    @staticmethod
    def sample(draw):
        return [draw.array(draw.shape())], {}

    @staticmethod
    def forward(ctx, x):
        return Elu.forward(ctx, x, alpha=SELU_ALPHA, scale=SELU_SCALE)


class Silu(Function):
    """z = x sigmoid(x) (also called swish);  dz/dx = s (1 + x (1 - s)), s = sigmoid(x)"""

    domain = (-6.0, 6.0)
    torch = staticmethod(lambda torch, x: torch.nn.functional.silu(x))

    @staticmethod
    def forward(ctx, x):
        s = elementwise.Sigmoid.forward(elementwise.Sigmoid(), x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def recompute(ctx, k, x):
        return x.sigmoid()  # saved value 1

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved_tensors
        return g * s * (1 + x * (1 - s))


class Softplus(Function):
    """z = log(1 + exp(beta x)) / beta, but x where beta x > threshold (PyTorch's switch to
    the identity);  dz/dx = sigmoid(beta x), 1 above the threshold"""

    @staticmethod
    def sample(draw):
        beta, threshold = draw.choice([(1.0, 20.0), (2.0, 1.0), (0.5, 20.0), (-1.0, 20.0)])
        x = draw.array(draw.shape(), -3.0, 3.0, away_from=(threshold / beta,), margin=0.01)
        return [x], {"beta": beta, "threshold": threshold}

    @staticmethod
    def torch(torch, x, beta=1.0, threshold=20.0):
        return torch.nn.functional.softplus(x, beta, threshold)

    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        if beta == 0:
            raise ValueError("softplus: beta must not be 0")
        xp = array_module(x)
        bx = beta * x
        linear, ctx.beta = bx > threshold, beta
        # log(1 + e^y) = max(y, 0) + log1p(e^-|y|): exp never overflows
        z = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / beta
        ctx.save_for_backward(x, linear)
        return xp.where(linear, x, z).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, linear = ctx.saved_tensors
        return tnp.where(linear, g, g * tnp.sigmoid(x * ctx.beta))


# ================================ the functions ==============================================


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x), Phi the standard normal CDF, exact (an erf accurate to float64 rounding) or
    with ``approximate="tanh"``.

    >>> import numpy as np, tinygrad_np as tg
    >>> gelu(tg.tensor(np.array([-1.0, 0.0, 1.0]))).numpy().round(6).tolist()
    [-0.158655, 0.0, 0.841345]
    """
    return Gelu.apply(as_tensor(input), approximate=approximate)


def elu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, else alpha (exp(x) - 1).

    >>> import numpy as np, tinygrad_np as tg
    >>> elu(tg.tensor(np.array([-1.0, 2.0]))).numpy().round(6).tolist()
    [-0.632121, 2.0]
    """
    return Elu.apply(as_tensor(input), alpha=alpha)


def selu(input: Tensor) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants alpha = 1.6733,
    scale = 1.0507.

    >>> import numpy as np, tinygrad_np as tg
    >>> selu(tg.tensor(np.array([-1.0, 2.0]))).numpy().round(6).tolist()
    [-1.111331, 2.101402]
    """
    return Selu.apply(as_tensor(input))


def silu(input: Tensor) -> Tensor:
    """x * sigmoid(x).

    >>> import numpy as np, tinygrad_np as tg
    >>> silu(tg.tensor(np.array([-1.0, 2.0]))).numpy().round(6).tolist()
    [-0.268941, 1.761594]
    """
    return Silu.apply(as_tensor(input))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, a smooth relu; x itself where beta x > threshold.

    >>> import numpy as np, tinygrad_np as tg
    >>> softplus(tg.tensor(np.array([-1.0, 0.0, 30.0]))).numpy().round(6).tolist()
    [0.313262, 0.693147, 30.0]
    """
    return Softplus.apply(as_tensor(input), beta=beta, threshold=threshold)
