"""Layers with hand-derived backward passes, in plain NumPy: Layer_Dense and Layer_Dropout.

Each layer's ``forward`` keeps what its ``backward`` needs; ``backward(dvalues)`` receives the
gradient of the loss with respect to the layer's output and sets ``self.dinputs`` (and, for
Layer_Dense, ``self.dweights`` and ``self.dbiases``). Gradients have the dtype of the array they
are the gradient of, so a float32 model stays float32 and a float64 one stays float64.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _float_dtype(array: np.ndarray) -> np.dtype:
    """The array's dtype if it is floating, else float64 (integer inputs compute in float64)."""
    return array.dtype if np.issubdtype(array.dtype, np.floating) else np.dtype(np.float64)


class Layer_Dense:
    """Fully connected layer: ``output = inputs · W + b`` with W of shape (n_inputs, n_neurons).

    Weights start as ``0.01 * randn`` and biases as zeros, as in the NNFS book. By default the
    draw comes from NumPy's global random state (``np.random.randn``), so after ``nnfs.init()``
    the numbers are the book's; pass ``rng`` (a ``np.random.Generator``) to draw from it instead.
    ``dtype=None`` keeps what the draw gives (float64, or float32 after ``nnfs.init()``).

    The regularizer strengths add the book's penalties (see ``Loss.regularization_loss``); their
    gradients are added in ``backward``.

    >>> layer = Layer_Dense(2, 3, rng=np.random.default_rng(0))
    >>> layer.forward(np.ones((4, 2)))
    >>> layer.output.shape, layer.weights.shape, layer.biases.shape
    ((4, 3), (2, 3), (1, 3))
    """

    def __init__(
        self,
        n_inputs: int,
        n_neurons: int,
        weight_regularizer_l1: float = 0,
        weight_regularizer_l2: float = 0,
        bias_regularizer_l1: float = 0,
        bias_regularizer_l2: float = 0,
        weights: ArrayLike | None = None,
        biases: ArrayLike | None = None,
        rng: np.random.Generator | None = None,
        dtype: np.dtype | str | type | None = None,
    ) -> None:
        if (
            int(n_inputs) != n_inputs
            or int(n_neurons) != n_neurons
            or n_inputs < 1
            or n_neurons < 1
        ):
            raise ValueError(
                f"Layer_Dense: n_inputs and n_neurons must be positive integers, "
                f"got n_inputs={n_inputs!r}, n_neurons={n_neurons!r}"
            )
        n_inputs, n_neurons = int(n_inputs), int(n_neurons)
        if weights is None:
            # Looked up at call time, so nnfs.init()'s float32 randn and seed are honoured.
            draw = (
                np.random.randn(n_inputs, n_neurons)
                if rng is None
                else rng.standard_normal((n_inputs, n_neurons))
            )
            weights = 0.01 * draw
        weights = np.array(weights, dtype=dtype, copy=True)
        if not np.issubdtype(weights.dtype, np.floating):
            weights = weights.astype(np.float64)
        if weights.shape != (n_inputs, n_neurons):
            raise ValueError(
                f"Layer_Dense: weights must have shape (n_inputs, n_neurons) = "
                f"{(n_inputs, n_neurons)}, got {weights.shape}"
            )
        if biases is None:
            biases = np.zeros((1, n_neurons), dtype=weights.dtype)
        biases = np.array(biases, dtype=weights.dtype, copy=True)
        if biases.shape == (n_neurons,):
            biases = biases.reshape(1, n_neurons)
        if biases.shape != (1, n_neurons):
            raise ValueError(
                f"Layer_Dense: biases must have shape (1, n_neurons) = {(1, n_neurons)} "
                f"or ({n_neurons},), got {biases.shape}"
            )
        self.weights = weights
        self.biases = biases
        self.weight_regularizer_l1 = weight_regularizer_l1
        self.weight_regularizer_l2 = weight_regularizer_l2
        self.bias_regularizer_l1 = bias_regularizer_l1
        self.bias_regularizer_l2 = bias_regularizer_l2
        self.inputs: np.ndarray | None = None
        self.output: np.ndarray | None = None
        self.dweights: np.ndarray | None = None
        self.dbiases: np.ndarray | None = None
        self.dinputs: np.ndarray | None = None

    def forward(self, inputs: ArrayLike, training: bool = True) -> None:
        """``output = inputs · W + b``; keeps ``inputs`` for the weight gradient."""
        inputs = np.asarray(inputs)
        if inputs.ndim != 2 or inputs.shape[1] != self.weights.shape[0]:
            raise ValueError(
                f"Layer_Dense.forward: inputs of shape {inputs.shape} do not fit a layer with "
                f"weights {self.weights.shape}; expected (batch, {self.weights.shape[0]})"
            )
        if not np.issubdtype(inputs.dtype, np.floating):
            inputs = inputs.astype(self.weights.dtype)
        self.inputs = inputs
        # np.dot rather than @, as in the book: nnfs.init() patches np.dot to be reproducible.
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues: np.ndarray) -> None:
        """``dW = inputsᵀ · dvalues (+ λ₁·sign(W) + 2λ₂·W)``, ``db = Σ_batch dvalues (+ ...)``,
        ``dinputs = dvalues · Wᵀ``."""
        if self.inputs is None:
            raise RuntimeError("Layer_Dense.backward: call forward before backward")
        dvalues = np.asarray(dvalues)
        if dvalues.shape != self.output.shape:
            raise ValueError(
                f"Layer_Dense.backward: dvalues of shape {dvalues.shape} do not match the "
                f"output of shape {self.output.shape}"
            )
        dweights = np.dot(self.inputs.T, dvalues)
        dbiases = np.sum(dvalues, axis=0, keepdims=True)
        # Regularization gradients: d(λ|w|)/dw = λ·sign(w) (0 at w = 0; the book uses +1 there),
        # d(λw²)/dw = 2λw.
        if self.weight_regularizer_l1 > 0:
            dweights = dweights + self.weight_regularizer_l1 * np.sign(self.weights)
        if self.weight_regularizer_l2 > 0:
            dweights = dweights + 2 * self.weight_regularizer_l2 * self.weights
        if self.bias_regularizer_l1 > 0:
            dbiases = dbiases + self.bias_regularizer_l1 * np.sign(self.biases)
        if self.bias_regularizer_l2 > 0:
            dbiases = dbiases + 2 * self.bias_regularizer_l2 * self.biases
        self.dweights = dweights.astype(self.weights.dtype, copy=False)
        self.dbiases = dbiases.astype(self.biases.dtype, copy=False)
        self.dinputs = np.dot(dvalues, self.weights.T).astype(self.inputs.dtype, copy=False)


class Layer_Dropout:
    """Inverted dropout: ``output = inputs * mask / (1 − rate)``, ``mask ~ Bernoulli(1 − rate)``.

    ``rate`` is the fraction of units dropped. Scaling the kept units by ``1 / (1 - rate)``
    keeps the expected output equal to the input, so nothing changes at evaluation time, where
    ``forward(..., training=False)`` is the identity. The mask comes from ``rng`` when given,
    else from NumPy's global random state (``np.random.binomial``, as in the book).

    >>> drop = Layer_Dropout(0.5, rng=np.random.default_rng(0))
    >>> drop.forward(np.ones((2, 4)), training=False)
    >>> drop.output
    array([[1., 1., 1., 1.],
           [1., 1., 1., 1.]])
    """

    def __init__(self, rate: float, rng: np.random.Generator | None = None) -> None:
        if not 0 <= rate < 1:
            raise ValueError(
                f"Layer_Dropout: rate is the fraction dropped and must be in [0, 1), got {rate!r}"
            )
        self.rate = rate
        # The book stores 1 - rate under the name `rate`; it is kept here as `keep_rate`.
        self.keep_rate = 1 - rate
        self.rng = rng
        self.binary_mask: np.ndarray | None = None
        self.output: np.ndarray | None = None
        self.dinputs: np.ndarray | None = None

    def forward(self, inputs: ArrayLike, training: bool = True) -> None:
        """``output = inputs * mask`` with ``mask = Bernoulli(1 - rate) / (1 - rate)``;
        the identity when ``training`` is False."""
        inputs = np.asarray(inputs)
        if not training:
            self.binary_mask = None
            self.output = inputs.copy()
            return
        if self.rng is None:
            kept = np.random.binomial(1, self.keep_rate, size=inputs.shape)
        else:
            kept = self.rng.binomial(1, self.keep_rate, size=inputs.shape)
        # The mask takes the inputs' dtype so float32 activations stay float32.
        self.binary_mask = (kept / self.keep_rate).astype(_float_dtype(inputs), copy=False)
        self.output = inputs * self.binary_mask

    def backward(self, dvalues: np.ndarray) -> None:
        """``dinputs = dvalues * mask`` (the same mask as forward; identity after eval)."""
        if self.output is None:
            raise RuntimeError("Layer_Dropout.backward: call forward before backward")
        dvalues = np.asarray(dvalues)
        if self.binary_mask is None:
            self.dinputs = dvalues.copy()
        else:
            self.dinputs = dvalues * self.binary_mask
