"""Activation modules; each calls its function in ``functional`` (one place per formula):
ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax, and GELU, ELU, SELU, SiLU, Softplus."""

from __future__ import annotations

from tinygrad_np.nn import functional as F
from tinygrad_np.nn.module import Module
from tinygrad_np.tensor import Tensor


class ReLU(Module):
    """max(x, 0) elementwise.

    >>> import tinygrad_np as tg
    >>> tg.nn.ReLU()(tg.tensor([-1.0, 2.0]))
    Tensor([0., 2.], dtype=float32)
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class LeakyReLU(Module):
    """x where x > 0, else ``negative_slope * x``.

    >>> import tinygrad_np as tg
    >>> tg.nn.LeakyReLU(0.1)(tg.tensor([-1.0, 2.0]))
    Tensor([-0.1,  2. ], dtype=float32)
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise (the book's Activation_Sigmoid)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x) elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``axis`` (default: the last, the classes).

    For training, prefer logits with ``CrossEntropyLoss``: it fuses softmax and the loss stably.

    >>> import tinygrad_np as tg
    >>> tg.nn.Softmax()(tg.tensor([[0.0, 0.0]]))
    Tensor([[0.5, 0.5]], dtype=float32)
    """

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``axis``, by log-sum-exp (pairs with ``NLLLoss``)."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class GELU(Module):
    """x Φ(x), Φ the standard normal CDF (``approximate="none"``, exact) or its tanh
    approximation (``approximate="tanh"``).

    >>> import numpy as np, tinygrad_np as tg
    >>> tg.nn.GELU()(tg.tensor(np.array([-1.0, 0.0, 1.0]))).numpy().round(4).tolist()
    [-0.1587, 0.0, 0.8413]
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class ELU(Module):
    """x where x > 0, else ``alpha * (exp(x) - 1)``.

    >>> import numpy as np, tinygrad_np as tg
    >>> tg.nn.ELU()(tg.tensor(np.array([-1.0, 2.0]))).numpy().round(4).tolist()
    [-0.6321, 2.0]
    """

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x: Tensor) -> Tensor:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SELU(Module):
    """``scale * elu(x, alpha)`` with the self-normalising constants (alpha ≈ 1.6733,
    scale ≈ 1.0507).

    >>> import numpy as np, tinygrad_np as tg
    >>> tg.nn.SELU()(tg.tensor(np.array([-1.0, 2.0]))).numpy().round(4).tolist()
    [-1.1113, 2.1014]
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.selu(x)


class SiLU(Module):
    """``x * sigmoid(x)`` (also called swish).

    >>> import numpy as np, tinygrad_np as tg
    >>> tg.nn.SiLU()(tg.tensor(np.array([-1.0, 2.0]))).numpy().round(4).tolist()
    [-0.2689, 1.7616]
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.silu(x)


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, a smooth ReLU; x itself where ``beta * x`` exceeds
    ``threshold`` (for numerical stability, as in PyTorch).

    >>> import numpy as np, tinygrad_np as tg
    >>> tg.nn.Softplus()(tg.tensor(np.array([-1.0, 0.0, 30.0]))).numpy().round(4).tolist()
    [0.3133, 0.6931, 30.0]
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = float(beta)
        self.threshold = float(threshold)

    def forward(self, x: Tensor) -> Tensor:
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"
