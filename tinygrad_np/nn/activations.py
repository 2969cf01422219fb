"""Activation modules; each calls its function in ``functional`` (one place per formula)."""

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
