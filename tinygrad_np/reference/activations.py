"""Activations with hand-derived backward passes, in plain NumPy.

``forward(inputs, training=True)`` sets ``self.output``; ``backward(dvalues)`` sets
``self.dinputs``, the gradient of the loss with respect to ``inputs``. ``training`` is accepted
everywhere so a network can pass it to every layer; activations behave the same either way.
``predictions(outputs)`` turns outputs into the model's predictions, as in the book.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _require_forward(layer: object, name: str) -> None:
    if getattr(layer, "output", None) is None:
        raise RuntimeError(f"{name}.backward: call forward before backward")


class Activation_ReLU:
    """``y = max(0, x)``;  ``dy/dx = 1 if x > 0 else 0``.

    >>> relu = Activation_ReLU()
    >>> relu.forward(np.array([[-1.0, 2.0]]))
    >>> relu.backward(np.array([[5.0, 5.0]]))
    >>> relu.output, relu.dinputs
    (array([[0., 2.]]), array([[0., 5.]]))
    """

    def __init__(self) -> None:
        self.inputs: np.ndarray | None = None
        self.output: np.ndarray | None = None
        self.dinputs: np.ndarray | None = None

    def forward(self, inputs: ArrayLike, training: bool = True) -> None:
        """``output = max(0, inputs)``; keeps ``inputs`` to know where the gradient passes."""
        self.inputs = np.asarray(inputs)
        self.output = np.maximum(0, self.inputs)

    def backward(self, dvalues: np.ndarray) -> None:
        """``dinputs = dvalues where inputs > 0, else 0``."""
        _require_forward(self, "Activation_ReLU")
        self.dinputs = np.array(dvalues, copy=True)
        self.dinputs[self.inputs <= 0] = 0

    def predictions(self, outputs: np.ndarray) -> np.ndarray:
        """The outputs themselves (a regression head)."""
        return outputs


class Activation_Softmax:
    """``s_j = exp(x_j) / Σ_k exp(x_k)`` per row;  ``∂s_i/∂x_j = s_i (δ_ij − s_j)``.

    The forward pass subtracts each row's maximum first: softmax does not change, and ``exp``
    cannot overflow. The backward pass builds each sample's Jacobian ``diag(s) − s sᵀ`` and
    multiplies it by that sample's upstream gradient, as the book derives it.

    >>> softmax = Activation_Softmax()
    >>> softmax.forward(np.array([[0.0, 0.0], [1000.0, 1000.0]]))
    >>> softmax.output
    array([[0.5, 0.5],
           [0.5, 0.5]])
    """

    def __init__(self) -> None:
        self.output: np.ndarray | None = None
        self.dinputs: np.ndarray | None = None

    def forward(self, inputs: ArrayLike, training: bool = True) -> None:
        """``output = exp(x − max x) / Σ exp(x − max x)`` along the last axis."""
        inputs = np.asarray(inputs)
        exp_values = np.exp(inputs - np.max(inputs, axis=-1, keepdims=True))
        self.output = exp_values / np.sum(exp_values, axis=-1, keepdims=True)

    def backward(self, dvalues: np.ndarray) -> None:
        """``dinputs[n] = (diag(s_n) − s_n s_nᵀ) · dvalues[n]`` for every sample n."""
        _require_forward(self, "Activation_Softmax")
        dvalues = np.asarray(dvalues)
        if dvalues.shape != self.output.shape:
            raise ValueError(
                f"Activation_Softmax.backward: dvalues of shape {dvalues.shape} do not match "
                f"the output of shape {self.output.shape}"
            )
        self.dinputs = np.empty_like(self.output)
        for n, (s, upstream) in enumerate(zip(self.output, dvalues, strict=True)):
            column = s.reshape(-1, 1)
            jacobian = np.diagflat(column) - np.dot(column, column.T)
            self.dinputs[n] = np.dot(jacobian, upstream)

    def predictions(self, outputs: np.ndarray) -> np.ndarray:
        """The most probable class of each sample."""
        return np.argmax(outputs, axis=1)


class Activation_Sigmoid:
    """``y = 1 / (1 + exp(−x))``;  ``dy/dx = y (1 − y)``.

    >>> sigmoid = Activation_Sigmoid()
    >>> sigmoid.forward(np.array([[0.0, -1000.0]]))
    >>> sigmoid.output
    array([[0.5, 0. ]])
    """

    def __init__(self) -> None:
        self.output: np.ndarray | None = None
        self.dinputs: np.ndarray | None = None

    def forward(self, inputs: ArrayLike, training: bool = True) -> None:
        """``output = 1 / (1 + exp(−inputs))``."""
        inputs = np.asarray(inputs)
        # exp(−log(1 + e^{−x})) is the same function, written so that no exp can overflow.
        self.output = np.exp(-np.logaddexp(0, -inputs))

    def backward(self, dvalues: np.ndarray) -> None:
        """``dinputs = dvalues * output * (1 − output)``."""
        _require_forward(self, "Activation_Sigmoid")
        self.dinputs = dvalues * (1 - self.output) * self.output

    def predictions(self, outputs: np.ndarray) -> np.ndarray:
        """1 where the probability exceeds 0.5, else 0 (binary logistic regression)."""
        return (outputs > 0.5) * 1


class Activation_Linear:
    """``y = x``;  ``dy/dx = 1`` (the output layer of a regression model).

    >>> linear = Activation_Linear()
    >>> linear.forward(np.array([[3.0]]))
    >>> linear.backward(np.array([[2.0]]))
    >>> linear.output, linear.dinputs
    (array([[3.]]), array([[2.]]))
    """

    def __init__(self) -> None:
        self.output: np.ndarray | None = None
        self.dinputs: np.ndarray | None = None

    def forward(self, inputs: ArrayLike, training: bool = True) -> None:
        """``output = inputs``."""
        self.output = np.array(inputs, copy=True)

    def backward(self, dvalues: np.ndarray) -> None:
        """``dinputs = dvalues``."""
        _require_forward(self, "Activation_Linear")
        self.dinputs = np.array(dvalues, copy=True)

    def predictions(self, outputs: np.ndarray) -> np.ndarray:
        """The outputs themselves."""
        return outputs
