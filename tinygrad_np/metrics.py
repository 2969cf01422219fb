"""Accuracy as the NNFS book measures it: classification, binary and regression.

Every function takes NumPy arrays or Tensors and returns a Python float.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_np._arrays import to_numpy

__all__ = ["accuracy", "predicted_classes", "regression_accuracy"]


def _pair(fn: str, predictions: Any, targets: Any) -> tuple[np.ndarray, np.ndarray]:
    p, t = to_numpy(predictions), to_numpy(targets)
    if p.ndim == 0 or t.ndim == 0 or p.shape[0] != t.shape[0]:
        raise ValueError(
            f"{fn}: predictions and targets must have the same number of samples (first axis), "
            f"got predictions of shape {p.shape} and targets of shape {t.shape}"
        )
    if p.shape[0] == 0:
        raise ValueError(f"{fn}: no samples (predictions of shape {p.shape})")
    return p, t


def _align(fn: str, p: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Same shapes pass; (N,) against (N, 1) is flattened rather than broadcast to (N, N)."""
    if p.shape == t.shape:
        return p, t
    columns = {(p.shape[0],), (p.shape[0], 1)}
    if p.shape in columns and t.shape in columns:
        return p.reshape(-1), t.reshape(-1)
    raise ValueError(
        f"{fn}: predictions of shape {p.shape} and targets of shape {t.shape} do not match"
    )


def predicted_classes(predictions: Any) -> np.ndarray:
    """The class each row predicts: the argmax of (N, C) scores; for one column of floats, 1
    where the probability is above 0.5; integer predictions are class indices already.

    >>> predicted_classes(np.array([[2.0, 0.1], [0.3, 1.5]])), predicted_classes([[0.9], [0.2]])
    (array([0, 1]), array([1, 0]))
    """
    p = to_numpy(predictions)
    if p.ndim == 2 and p.shape[1] > 1:
        return np.argmax(p, axis=1)
    p = p.reshape(-1) if p.ndim == 2 else p
    return (p > 0.5).astype(np.int64) if np.issubdtype(p.dtype, np.floating) else p


def accuracy(predictions: Any, targets: Any) -> float:
    """Fraction of samples classified correctly.

    * predictions (N, C), C > 1, logits or probabilities: the class is their argmax; targets
      are class indices (N,) (or (N, 1)) or one-hot rows (N, C).
    * predictions (N,) or (N, 1) of floats: binary probabilities, class 1 where > 0.5, against
      0/1 targets of shape (N,) or (N, 1) (the book's logistic-regression accuracy).
    * predictions (N,) of integers: already class indices, compared as they are.

    >>> accuracy(np.array([[2.0, 0.1], [0.3, 1.5], [0.9, 0.2]]), np.array([0, 1, 1]))
    0.6666666666666666
    >>> accuracy(np.array([[0.9], [0.2]]), np.array([[1], [1]]))
    0.5
    """
    p, t = _pair("accuracy", predictions, targets)
    if p.ndim == 2 and p.shape[1] > 1:
        classes = p.shape[1]
        if t.ndim == 2 and t.shape[1] == classes:
            t = np.argmax(t, axis=1)
        elif t.ndim == 2 and t.shape[1] == 1:
            t = t.reshape(-1)
        elif t.ndim != 1:
            raise ValueError(
                f"accuracy: targets must be class indices of shape ({p.shape[0]},) or one-hot "
                f"of shape {p.shape}, got shape {t.shape} for predictions of shape {p.shape}"
            )
        return float(np.mean(predicted_classes(p) == t))
    p, t = _align("accuracy", p, t)  # equal shapes now: (N,) or (N, 1)
    return float(np.mean(predicted_classes(p).reshape(t.shape) == t))


def regression_accuracy(predictions: Any, targets: Any, precision: float | None = None) -> float:
    """Fraction of predictions within ``precision`` of their target (the book's chapter 17).

    ``precision`` defaults to ``std(targets) / 250``, the book's choice; the comparison is
    strict, so constant targets (std 0) score 0 unless you pass a precision.

    >>> regression_accuracy(np.array([[0.0], [1.0]]), np.array([[0.001], [2.0]]), precision=0.01)
    0.5
    """
    p, t = _pair("regression_accuracy", predictions, targets)
    p, t = _align("regression_accuracy", p, t)
    if precision is None:
        precision = float(np.std(t)) / 250
    elif not precision >= 0:
        raise ValueError(
            f"regression_accuracy: precision must be a non-negative number, got {precision}"
        )
    return float(np.mean(np.abs(p - t) < precision))
