"""Losses with hand-derived backward passes, in plain NumPy.

``forward(y_pred, y_true)`` returns one loss per sample; ``calculate`` averages them.
``backward(dvalues, y_true)`` takes the predictions as ``dvalues`` (the loss is the last step,
so the "upstream gradient" is the output itself, as in the book) and sets ``self.dinputs``, the
gradient of the *mean* loss with respect to the predictions.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .activations import Activation_Softmax
from .layers import Layer_Dense

# Probabilities are kept this far from 0 and 1 so log() stays finite (the book's choice).
_CLIP = 1e-7


def _check_class_labels(name: str, y_pred: np.ndarray, y_true: np.ndarray) -> None:
    """Sparse labels: integers in [0, classes), one per sample; else one-hot of y_pred's shape."""
    if y_pred.ndim != 2:
        raise ValueError(f"{name}: predictions must be (batch, classes), got shape {y_pred.shape}")
    if y_true.ndim == 1:
        if not np.issubdtype(y_true.dtype, np.integer):
            raise ValueError(f"{name}: sparse labels must be integers, got dtype {y_true.dtype}")
        if y_true.shape[0] != y_pred.shape[0]:
            raise ValueError(
                f"{name}: {y_true.shape[0]} labels for {y_pred.shape[0]} samples "
                f"(predictions {y_pred.shape}, labels {y_true.shape})"
            )
        if y_true.size and (y_true.min() < 0 or y_true.max() >= y_pred.shape[1]):
            raise ValueError(
                f"{name}: labels must lie in [0, {y_pred.shape[1]}), "
                f"got values from {y_true.min()} to {y_true.max()}"
            )
    elif y_true.shape != y_pred.shape:
        raise ValueError(
            f"{name}: one-hot labels of shape {y_true.shape} do not match predictions of shape "
            f"{y_pred.shape} (sparse labels must be 1-D)"
        )


def _check_targets(name: str, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """Targets must have the predictions' shape: (n,) against (n, 1) would broadcast to (n, n)."""
    if y_pred.ndim != 2 or y_true.shape != y_pred.shape:
        raise ValueError(
            f"{name}: targets of shape {y_true.shape} must match 2-D predictions, got "
            f"predictions of shape {y_pred.shape} (reshape targets with y.reshape(-1, 1))"
        )
    # Integer targets would promote float32 predictions to float64.
    return y_true.astype(y_pred.dtype, copy=False)


class Loss:
    """Base class: the mean of per-sample losses, and the layers' regularization penalties."""

    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def calculate(self, output: ArrayLike, y: ArrayLike) -> np.floating:
        """``L = (1/n) Σ_i loss_i``, a NumPy scalar of the predictions' dtype.

        >>> Loss_MeanSquaredError().calculate(np.array([[1.0], [3.0]]), np.array([[0.0], [0.0]]))
        np.float64(5.0)
        """
        return np.mean(self.forward(np.asarray(output), np.asarray(y)))

    def regularization_loss(self, layer: Layer_Dense) -> np.floating:
        """``λ₁ Σ|W| + λ₂ Σ W² + λ₁ᵇ Σ|b| + λ₂ᵇ Σ b²`` with the layer's regularizer strengths.

        >>> layer = Layer_Dense(1, 2, weight_regularizer_l2=0.5, weights=[[1.0, -2.0]])
        >>> Loss().regularization_loss(layer)
        np.float64(2.5)
        """
        penalty = layer.weights.dtype.type(0)
        if layer.weight_regularizer_l1 > 0:
            penalty += layer.weight_regularizer_l1 * np.sum(np.abs(layer.weights))
        if layer.weight_regularizer_l2 > 0:
            penalty += layer.weight_regularizer_l2 * np.sum(layer.weights * layer.weights)
        if layer.bias_regularizer_l1 > 0:
            penalty += layer.bias_regularizer_l1 * np.sum(np.abs(layer.biases))
        if layer.bias_regularizer_l2 > 0:
            penalty += layer.bias_regularizer_l2 * np.sum(layer.biases * layer.biases)
        return penalty


class Loss_CategoricalCrossentropy(Loss):
    """``loss_i = −log ŷ_{i, y_i}`` (sparse labels) or ``−Σ_j y_ij log ŷ_ij`` (one-hot);
    ``∂L/∂ŷ = −y / ŷ / n``.

    Predictions are clipped to [1e-7, 1 − 1e-7] in forward so the log stays finite. As in the
    book, backward divides by the unclipped predictions: it is the exact gradient while they lie
    inside the clip range.

    >>> cce = Loss_CategoricalCrossentropy()
    >>> probs = np.array([[0.5, 0.5], [0.9, 0.1]])
    >>> bool(np.isclose(cce.calculate(probs, np.array([0, 0])), -np.log([0.5, 0.9]).mean()))
    True
    """

    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        """Per-sample ``−log`` of the (clipped) probability given to the correct class."""
        y_pred, y_true = np.asarray(y_pred), np.asarray(y_true)
        _check_class_labels("Loss_CategoricalCrossentropy", y_pred, y_true)
        clipped = np.clip(y_pred, _CLIP, 1 - _CLIP)
        if y_true.ndim == 1:
            correct_confidences = clipped[np.arange(len(clipped)), y_true]
        else:
            correct_confidences = np.sum(clipped * y_true.astype(clipped.dtype), axis=1)
        return -np.log(correct_confidences)

    def backward(self, dvalues: np.ndarray, y_true: np.ndarray) -> None:
        """``dinputs = −y_onehot / ŷ / n``."""
        dvalues, y_true = np.asarray(dvalues), np.asarray(y_true)
        _check_class_labels("Loss_CategoricalCrossentropy.backward", dvalues, y_true)
        n_samples, n_classes = dvalues.shape
        if y_true.ndim == 1:
            y_true = np.eye(n_classes, dtype=dvalues.dtype)[y_true]
        self.dinputs = -y_true.astype(dvalues.dtype, copy=False) / dvalues / n_samples


class Loss_BinaryCrossentropy(Loss):
    """``loss_i = −mean_j [y log ŷ + (1 − y) log(1 − ŷ)]``;
    ``∂L/∂ŷ = −(y/ŷ − (1 − y)/(1 − ŷ)) / outputs / n``.

    Predictions are clipped to [1e-7, 1 − 1e-7] in forward and backward, as in the book.

    >>> bce = Loss_BinaryCrossentropy()
    >>> bool(np.isclose(bce.calculate(np.array([[0.8]]), np.array([[1]])), -np.log(0.8)))
    True
    """

    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        """Per-sample mean over outputs of the binary cross-entropy."""
        y_pred = np.asarray(y_pred)
        y_true = _check_targets("Loss_BinaryCrossentropy", y_pred, np.asarray(y_true))
        clipped = np.clip(y_pred, _CLIP, 1 - _CLIP)
        per_output = -(y_true * np.log(clipped) + (1 - y_true) * np.log(1 - clipped))
        return np.mean(per_output, axis=-1)

    def backward(self, dvalues: np.ndarray, y_true: np.ndarray) -> None:
        """``dinputs = −(y/ŷ − (1 − y)/(1 − ŷ)) / outputs / n`` with ŷ clipped."""
        dvalues = np.asarray(dvalues)
        y_true = _check_targets("Loss_BinaryCrossentropy.backward", dvalues, np.asarray(y_true))
        n_samples, n_outputs = dvalues.shape
        clipped = np.clip(dvalues, _CLIP, 1 - _CLIP)
        self.dinputs = -(y_true / clipped - (1 - y_true) / (1 - clipped)) / n_outputs / n_samples


class Loss_MeanSquaredError(Loss):
    """``loss_i = mean_j (y − ŷ)²``;  ``∂L/∂ŷ = −2 (y − ŷ) / outputs / n``.

    >>> Loss_MeanSquaredError().calculate(np.array([[1.0, 3.0]]), np.array([[0.0, 0.0]]))
    np.float64(5.0)
    """

    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        """Per-sample mean over outputs of the squared error."""
        y_pred = np.asarray(y_pred)
        y_true = _check_targets("Loss_MeanSquaredError", y_pred, np.asarray(y_true))
        return np.mean((y_true - y_pred) ** 2, axis=-1)

    def backward(self, dvalues: np.ndarray, y_true: np.ndarray) -> None:
        """``dinputs = −2 (y − ŷ) / outputs / n``."""
        dvalues = np.asarray(dvalues)
        y_true = _check_targets("Loss_MeanSquaredError.backward", dvalues, np.asarray(y_true))
        n_samples, n_outputs = dvalues.shape
        self.dinputs = -2 * (y_true - dvalues) / n_outputs / n_samples


class Loss_MeanAbsoluteError(Loss):
    """``loss_i = mean_j |y − ŷ|``;  ``∂L/∂ŷ = sign(ŷ − y) / outputs / n``.

    >>> Loss_MeanAbsoluteError().calculate(np.array([[1.0, -3.0]]), np.array([[0.0, 0.0]]))
    np.float64(2.0)
    """

    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        """Per-sample mean over outputs of the absolute error."""
        y_pred = np.asarray(y_pred)
        y_true = _check_targets("Loss_MeanAbsoluteError", y_pred, np.asarray(y_true))
        return np.mean(np.abs(y_true - y_pred), axis=-1)

    def backward(self, dvalues: np.ndarray, y_true: np.ndarray) -> None:
        """``dinputs = sign(ŷ − y) / outputs / n`` (d|y − ŷ|/dŷ is +1 when ŷ is above y)."""
        dvalues = np.asarray(dvalues)
        y_true = _check_targets("Loss_MeanAbsoluteError.backward", dvalues, np.asarray(y_true))
        n_samples, n_outputs = dvalues.shape
        self.dinputs = np.sign(dvalues - y_true) / n_outputs / n_samples


class Activation_Softmax_Loss_CategoricalCrossentropy:
    """Softmax followed by categorical cross-entropy, with the shortcut gradient
    ``∂L/∂z = (softmax(z) − y) / n`` instead of two Jacobian products.

    ``forward(inputs, y_true)`` takes logits, sets ``self.output`` to the probabilities and
    returns the mean loss. ``backward(dvalues, y_true)`` takes those probabilities. One-hot (or
    soft, rows summing to 1) labels use ``ŷ − y`` directly; sparse labels subtract 1 at the
    correct class.

    >>> combined = Activation_Softmax_Loss_CategoricalCrossentropy()
    >>> loss = combined.forward(np.zeros((2, 4)), np.array([1, 3]))
    >>> bool(np.isclose(loss, np.log(4)))
    True
    >>> combined.backward(combined.output, np.array([1, 3]))
    >>> combined.dinputs[0]
    array([ 0.125, -0.375,  0.125,  0.125])
    """

    def __init__(self) -> None:
        self.activation = Activation_Softmax()
        self.loss = Loss_CategoricalCrossentropy()
        self.output: np.ndarray | None = None
        self.dinputs: np.ndarray | None = None

    def forward(self, inputs: ArrayLike, y_true: ArrayLike, training: bool = True) -> np.floating:
        """``output = softmax(inputs)``; returns the mean cross-entropy against ``y_true``."""
        self.activation.forward(inputs)
        self.output = self.activation.output
        return self.loss.calculate(self.output, y_true)

    def backward(self, dvalues: np.ndarray, y_true: np.ndarray) -> None:
        """``dinputs = (ŷ − y) / n``."""
        name = "Activation_Softmax_Loss_CategoricalCrossentropy.backward"
        dvalues, y_true = np.asarray(dvalues), np.asarray(y_true)
        _check_class_labels(name, dvalues, y_true)
        n_samples = len(dvalues)
        if y_true.ndim == 1:
            self.dinputs = dvalues.copy()
            self.dinputs[np.arange(n_samples), y_true] -= 1
            self.dinputs = self.dinputs / n_samples
        else:
            self.dinputs = (dvalues - y_true.astype(dvalues.dtype, copy=False)) / n_samples
