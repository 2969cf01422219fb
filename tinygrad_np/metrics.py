"""Accuracy as the NNFS book measures it: classification, binary and regression.

Every function takes NumPy arrays or Tensors and returns a Python float. Predictions and
targets that are not numbers (strings, None) raise TypeError; labels that no prediction could
match raise ValueError.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_np._arrays import to_numpy
from tinygrad_np._checks import check_count, check_numeric

__all__ = ["accuracy", "confusion_matrix", "predicted_classes", "regression_accuracy"]


def _pair(fn: str, predictions: Any, targets: Any) -> tuple[np.ndarray, np.ndarray]:
    p, t = to_numpy(predictions), to_numpy(targets)
    check_numeric(fn, "predictions", p)
    check_numeric(fn, "targets", t)
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


def _class_labels(t: np.ndarray, classes: int | None, fn: str = "accuracy") -> np.ndarray:
    """Whole-number labels in [0, classes) (or >= 0 when ``classes`` is None), as integers.

    Integer-valued floats pass (``y.astype(float)`` is common), unlike in the losses; a label
    that would compare unequal to every class (0.5, nan, 3 of 3 classes) is an error instead.
    """
    if t.dtype.kind == "b":
        raise ValueError(
            f"{fn}: class labels must be integers, got dtype bool (convert with y.astype(int))"
        )
    if t.dtype.kind == "f":
        fractional = ~np.isfinite(t) | (t != np.floor(t))
        if fractional.any():
            raise ValueError(f"{fn}: label {t[fractional][0]} is not a whole number")
    outside = (t < 0) if classes is None else (t < 0) | (t >= classes)
    if outside.any():
        bad = t[outside][0]
        if classes is None:
            raise ValueError(f"{fn}: label {bad} is negative; class labels start at 0")
        raise ValueError(
            f"{fn}: label {bad} is out of range for {classes} classes (labels must be in "
            f"[0, {classes - 1}])"
        )
    return t.astype(np.int64, copy=False)


def _one_hot_labels(t: np.ndarray, fn: str = "accuracy") -> np.ndarray:
    """The class of each one-hot row; rows that are not one 1 among 0s would make argmax guess."""
    valid = ((t == 0) | (t == 1)).all(axis=1) & ((t == 1).sum(axis=1) == 1)
    if not valid.all():
        row = int(np.argmin(valid))
        raise ValueError(
            f"{fn}: one-hot targets must hold one 1 and otherwise 0 in each row; row {row} "
            f"is {t[row].tolist()} (for soft labels, pass their argmax(axis=1))"
        )
    return np.argmax(t, axis=1)


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

    Targets are checked, so a mistake cannot pass as a low score: they must be numbers;
    labels whole numbers in range (0.5, -1 or 3 of 3 classes are errors); one-hot rows one 1
    among 0s; binary targets 0 or 1.

    >>> accuracy(np.array([[2.0, 0.1], [0.3, 1.5], [0.9, 0.2]]), np.array([0, 1, 1]))
    0.6666666666666666
    >>> accuracy(np.array([[0.9], [0.2]]), np.array([[1], [1]]))
    0.5
    """
    p, t = _pair("accuracy", predictions, targets)
    if p.ndim == 2 and p.shape[1] > 1:
        classes = p.shape[1]
        if t.ndim == 2 and t.shape[1] == classes:
            t = _one_hot_labels(t)
        elif t.ndim == 2 and t.shape[1] == 1:
            t = t.reshape(-1)
        elif t.ndim != 1:
            raise ValueError(
                f"accuracy: targets must be class indices of shape ({p.shape[0]},) or one-hot "
                f"of shape {p.shape}, got shape {t.shape} for predictions of shape {p.shape}"
            )
        return float(np.mean(predicted_classes(p) == _class_labels(t, classes)))
    p, t = _align("accuracy", p, t)  # equal shapes now: (N,) or (N, 1)
    if np.issubdtype(p.dtype, np.floating):  # probabilities: the targets are 0 or 1
        binary = (t == 0) | (t == 1)
        if not binary.all():
            raise ValueError(f"accuracy: binary targets must be 0 or 1, got {t[~binary][0]}")
    else:
        t = _class_labels(t, None)
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


def confusion_matrix(predictions: Any, targets: Any, num_classes: int | None = None) -> np.ndarray:
    """Counts of (true class, predicted class) pairs: an int64 array (classes, classes) whose
    row ``i`` tells what the samples of class ``i`` were predicted to be; the diagonal holds the
    correct predictions. Predictions are scores (N, C) (their argmax is the class) or class
    indices (N,); targets class indices (N,) or one-hot rows (N, C). The number of classes is
    ``num_classes``, else C, else the largest label + 1.

    >>> confusion_matrix(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]))
    array([[1, 0, 0],
           [0, 1, 0],
           [0, 1, 1]])
    """
    fn = "confusion_matrix"
    p, t = _pair(fn, predictions, targets)
    if p.ndim > 2 or t.ndim > 2:
        raise ValueError(
            f"{fn}: expected predictions and targets of shape (N,) or (N, C), got {p.shape} "
            f"and {t.shape}"
        )
    scores, one_hot = p.ndim == 2 and p.shape[1] > 1, t.ndim == 2 and t.shape[1] > 1
    widths = {p.shape[1]} if scores else set()
    widths |= {t.shape[1]} if one_hot else set()
    if num_classes is not None:
        check_count(fn, "num_classes", num_classes)
        widths.add(int(num_classes))
    if len(widths) > 1:
        said = [f"predictions of shape {p.shape}"] if scores else []
        said += [f"targets of shape {t.shape}"] if one_hot else []
        said += [] if num_classes is None else [f"num_classes={num_classes}"]
        raise ValueError(f"{fn}: {' and '.join(said)} disagree on the number of classes")
    classes = widths.pop() if widths else None
    guess = predicted_classes(p) if scores else _class_labels(p.reshape(-1), classes, fn)
    truth = _one_hot_labels(t, fn) if one_hot else _class_labels(t.reshape(-1), classes, fn)
    if classes is None:
        classes = int(max(truth.max(), guess.max())) + 1
    pairs = np.bincount(truth * classes + guess, minlength=classes * classes)
    return pairs.reshape(classes, classes)
