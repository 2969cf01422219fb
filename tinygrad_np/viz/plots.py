"""Training plots with matplotlib: learning curves and 2-D decision regions.

Figures are built with ``matplotlib.figure.Figure`` and saved through the Agg renderer, so
they work on machines without a display and never touch pyplot's global state. Both functions
return the Figure (Jupyter shows it as the cell's value) and write a PNG when given a path.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from tinygrad_np._arrays import to_numpy
from tinygrad_np.autograd import no_grad
from tinygrad_np.metrics import accuracy, predicted_classes
from tinygrad_np.tensor import Tensor

_LR_KEYS = ("lr", "learning_rate")
_X_KEYS = ("epoch", "epochs")


def _figure_class(function: str) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(f"{function} needs matplotlib: pip install tinygrad-np[viz]") from e
    return Figure


def _history_dict(history: Any) -> dict[str, list]:
    """Metric name -> per-epoch values, from a History object or a plain dict of lists."""
    if hasattr(history, "as_dict"):
        history = history.as_dict()
    elif hasattr(history, "history") and isinstance(history.history, Mapping):
        history = history.history
    if not isinstance(history, Mapping):
        raise TypeError(
            "plot_history: expected a dict of per-epoch lists, or an object with .as_dict() "
            f"or a .history dict (what fit() returns), got {type(history).__name__}"
        )
    return {str(k): list(v) for k, v in history.items() if np.ndim(v) == 1 and len(v)}


def _panels(metrics: list[str]) -> list[tuple[str, list[str]]]:
    """Group each metric with its validation twin: loss first, learning rate last."""
    groups: dict[str, list[str]] = {}
    for key in metrics:
        base = key[4:] if key.startswith("val_") else key
        groups.setdefault(base, []).append(key)
    order = sorted(groups, key=lambda b: (b != "loss", b in _LR_KEYS))
    return [(base, sorted(groups[base], key=lambda k: k.startswith("val_"))) for base in order]


def plot_history(history: Any, path: str | os.PathLike | None = None) -> Any:
    """Learning curves: one panel per metric (loss, accuracy, learning rate, ...).

    ``history``: a dict mapping metric name to a list with one value per epoch, such as
    ``{"loss": [...], "accuracy": [...], "lr": [...], "val_loss": [...]}``, or an object
    that gives one through ``.as_dict()`` or a ``.history`` dict (what ``fit`` returns).
    ``val_<name>`` is drawn dashed in the same panel as ``<name>``; an ``epoch`` list, if
    present, is the x axis. Returns the matplotlib Figure; writes a PNG when ``path`` is given.

    >>> fig = plot_history({"loss": [1.1, 0.7, 0.4], "val_loss": [1.2, 0.9, 0.6]})
    >>> [ax.get_title() for ax in fig.axes]
    ['loss']
    """
    figure_class = _figure_class("plot_history")
    data = _history_dict(history)
    epochs = next((data.pop(k) for k in _X_KEYS if k in data), None)
    if not data:
        raise ValueError("plot_history: the history has no metrics to plot")
    panels = _panels(list(data))
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = figure_class(figsize=(4.6 * cols, 3.6 * rows), layout="constrained")
    for i, (base, keys) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, i + 1)
        for key in keys:
            values = np.array([np.nan if v is None else float(v) for v in data[key]])
            x = epochs if epochs is not None and len(epochs) == len(values) else None
            x = np.arange(1, len(values) + 1) if x is None else np.asarray(x)
            val = key.startswith("val_")
            ax.plot(
                x,
                values,
                linestyle="--" if val else "-",
                marker="o" if len(values) <= 30 else None,
                markersize=3,
                label="validation" if val else "training",
            )
        title = "learning rate" if base in _LR_KEYS else base.replace("_", " ")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        finite = np.array([float(v) for k in keys for v in data[k] if v is not None])
        if (
            base in _LR_KEYS
            and finite.size
            and finite.min() > 0
            and finite.max() > 20 * finite.min()
        ):
            ax.set_yscale("log")  # decayed rates span decades
        if "acc" in base and finite.size and finite.min() >= 0 and finite.max() <= 1:
            ax.set_ylim(0, 1.02)
        if len(keys) > 1:
            ax.legend()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def _predict(model: Callable, points: np.ndarray, chunk: int = 16384) -> np.ndarray:
    """Class index per row, in chunks so a fine grid never needs one giant activation."""
    chunks = range(0, len(points), chunk)
    return np.concatenate([predicted_classes(model(Tensor(points[i : i + chunk]))) for i in chunks])


def plot_decision_boundary(
    model: Callable,
    X: Any,
    y: Any,
    path: str | os.PathLike | None = None,
    resolution: int = 200,
    title: str | None = None,
) -> Any:
    """Colour the plane by the class ``model`` predicts, with the data points on top.

    ``model``: any callable from a Tensor of shape (N, 2) to outputs (N, classes) (the
    argmax is the prediction; a single output column is read as a probability of class 1).
    It runs under ``no_grad`` and, if it has ``eval()``, in eval mode (restored afterwards).
    ``X``: shape (N, 2); ``y``: class indices (N,) or one-hot (N, C). Returns the Figure;
    writes a PNG when ``path`` is given.

    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    >>> fig = plot_decision_boundary(lambda t: t, X, [0, 1], resolution=20)  # argmax of x
    >>> fig.axes[0].get_title()
    'decision regions (accuracy on these points: 100.0%)'
    """
    figure_class = _figure_class("plot_decision_boundary")
    X = to_numpy(X)
    labels = to_numpy(y)
    if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
        raise ValueError(
            f"plot_decision_boundary: X must have shape (N, 2) with N >= 1, got {X.shape}"
        )
    if labels.ndim == 2:
        labels = labels.argmax(axis=1)
    if labels.shape != (len(X),):
        raise ValueError(
            f"plot_decision_boundary: y must be (N,) class indices or (N, C) one-hot for "
            f"X of shape {X.shape}, got shape {to_numpy(y).shape}"
        )
    if resolution < 2:
        raise ValueError(f"plot_decision_boundary: resolution must be at least 2, got {resolution}")
    dtype = X.dtype if X.dtype.kind == "f" else np.dtype(np.float32)
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * np.where(hi > lo, hi - lo, 1.0)
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(dtype)

    was_training = getattr(model, "training", None)
    if was_training is not None and hasattr(model, "eval"):
        model.eval()  # dropout off: draw what the model predicts, not one noisy sample
    try:
        with no_grad():
            regions = _predict(model, grid).reshape(gx.shape)
            predicted = _predict(model, X.astype(dtype, copy=False))
    finally:
        if was_training and hasattr(model, "train"):
            model.train()

    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D

    n = int(max(labels.max(), regions.max(), predicted.max())) + 1
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
    colors = [palette[i % len(palette)] for i in range(n)]
    cmap = ListedColormap(colors)
    fig = figure_class(figsize=(6, 5.2), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    ax.contourf(gx, gy, regions, levels=np.arange(n + 1) - 0.5, cmap=cmap, alpha=0.3)
    size = 22 if len(X) <= 500 else 8
    ax.scatter(
        X[:, 0], X[:, 1], c=labels, cmap=cmap, vmin=-0.5, vmax=n - 0.5,
        s=size, edgecolors="black", linewidths=0.4,
    )  # fmt: skip
    score = accuracy(predicted, labels)
    ax.set_title(title or f"decision regions (accuracy on these points: {score:.1%})")
    ax.set_xlabel("X[:, 0]")
    ax.set_ylabel("X[:, 1]")
    handles = [
        Line2D(
            [], [], marker="o", linestyle="", color=c, markeredgecolor="black", label=f"class {i}"
        )
        for i, c in enumerate(colors)
    ]
    ax.legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.85)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
