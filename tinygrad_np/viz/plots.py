"""Training plots with matplotlib: learning curves and 2-D decision regions.

Figures are built as ``matplotlib.figure.Figure`` objects, outside pyplot: they work on
machines without a display, never touch pyplot's global state or the backend you chose, and
are not shown twice in Jupyter. Each function returns its Figure, which Jupyter shows as an
image when it is a cell's value (no ``%matplotlib`` magic needed), and writes a PNG when given
a path. In a script, ``fig.savefig(...)`` or ``path=`` saves it.
"""

from __future__ import annotations

import functools
import io
import math
import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from tinygrad_np._arrays import to_numpy
from tinygrad_np.autograd import no_grad
from tinygrad_np.metrics import accuracy, predicted_classes
from tinygrad_np.tensor import Tensor
from tinygrad_np.viz.nodes import fmt

_LR_KEYS = ("lr", "learning_rate")
_X_KEYS = ("epoch", "epochs")


def _figure_class(function: str) -> Any:
    try:
        import matplotlib.figure  # noqa: F401
    except ImportError as e:
        raise ImportError(f"{function} needs matplotlib: pip install tinygrad-np[viz]") from e
    return _notebook_figure()


@functools.cache
def _notebook_figure() -> type:
    from matplotlib.figure import Figure

    class NotebookFigure(Figure):
        """A Figure that Jupyter displays as a PNG by itself (pyplot is not involved)."""

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=_NOTEBOOK_DPI)
            return buffer.getvalue()

    return NotebookFigure


_NOTEBOOK_DPI = 96  # the size a notebook shows: 6 inches are 576 pixels


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


def _title(metric: str) -> str:
    """``val_loss`` -> "validation loss", ``lr`` -> "learning rate"."""
    prefix = "validation " if metric.startswith("val_") else ""
    base = metric.removeprefix("val_")
    return prefix + ("learning rate" if base in _LR_KEYS else base.replace("_", " "))


_LINESTYLES = ["-", "--", ":", "-."]


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
        title = _title(base)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)  # no epoch 1.25
        ax.grid(True, alpha=0.3)
        finite = np.array([float(v) for k in keys for v in data[k] if v is not None])
        ax.ticklabel_format(axis="y", useOffset=False)  # no "1e-5+1.999e-2" offset labels
        if base in _LR_KEYS and finite.size and finite.min() > 0:
            if finite.max() > 20 * finite.min():
                ax.set_yscale("log")  # decayed rates span decades
            elif finite.min() > 0.5 * finite.max():
                ax.set_ylim(0, 1.1 * finite.max())  # a rate that hardly decays looks flat
                title += f" ({fmt(finite[0])} → {fmt(finite[-1])})"
                ax.set_title(title)
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


def _check_points(function: str, X: Any, y: Any, resolution: int) -> tuple[Any, Any]:
    points, labels = to_numpy(X), to_numpy(y)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(f"{function}: X must have shape (N, 2) with N >= 1, got {points.shape}")
    if labels.ndim == 2:
        labels = labels.argmax(axis=1)
    if labels.shape != (len(points),):
        raise ValueError(
            f"{function}: y must be (N,) class indices or (N, C) one-hot for "
            f"X of shape {points.shape}, got shape {to_numpy(y).shape}"
        )
    if resolution < 2:
        raise ValueError(f"{function}: resolution must be at least 2, got {resolution}")
    return points, labels


def plane_grid(X: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(gx, gy, points)``: a resolution x resolution grid over X's range plus a 10% margin."""
    dtype = X.dtype if X.dtype.kind == "f" else np.dtype(np.float32)
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * np.where(hi > lo, hi - lo, 1.0)
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return gx, gy, np.column_stack([gx.ravel(), gy.ravel()]).astype(dtype)


def predict_classes(model: Callable, points: np.ndarray) -> np.ndarray:
    """The class ``model`` predicts for each row, under no_grad and in eval mode (restored)."""
    was_training = getattr(model, "training", None)
    if was_training is not None and hasattr(model, "eval"):
        model.eval()  # dropout off: draw what the model predicts, not one noisy sample
    try:
        with no_grad():
            return _predict(model, points)
    finally:
        if was_training and hasattr(model, "train"):
            model.train()


def colormap(n: int) -> Any:
    from matplotlib.colors import ListedColormap

    return ListedColormap([_PALETTE[i % len(_PALETTE)] for i in range(n)])


_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]


def _draw_regions(ax: Any, model: Callable, X: Any, labels: Any, resolution: int) -> float:
    """Fill ``ax`` with the predicted regions and the points; returns the accuracy."""
    gx, gy, grid = plane_grid(X, resolution)
    both = predict_classes(model, np.concatenate([grid, X.astype(grid.dtype, copy=False)]))
    regions, predicted = both[: len(grid)].reshape(gx.shape), both[len(grid) :]
    n = int(max(labels.max(), regions.max(), predicted.max())) + 1
    cmap = colormap(n)
    ax.contourf(gx, gy, regions, levels=np.arange(n + 1) - 0.5, cmap=cmap, alpha=0.3)
    size = 22 if len(X) <= 500 else 8
    ax.scatter(
        X[:, 0], X[:, 1], c=labels, cmap=cmap, vmin=-0.5, vmax=n - 0.5,
        s=size, edgecolors="black", linewidths=0.4,
    )  # fmt: skip
    ax.set_xlabel("X[:, 0]")
    ax.set_ylabel("X[:, 1]")
    return accuracy(predicted, labels)


def _class_legend(ax: Any, n: int) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], marker="o", linestyle="", color=_PALETTE[i % len(_PALETTE)],
               markeredgecolor="black", label=f"class {i}")
        for i in range(n)
    ]  # fmt: skip
    ax.legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.85)


def plot_decision_boundary(
    model: Callable,
    X: Any,
    y: Any,
    path: str | os.PathLike | None = None,
    resolution: int = 200,
    title: str | None = None,
    ax: Any = None,
) -> Any:
    """Colour the plane by the class ``model`` predicts, with the data points on top.

    ``model``: any callable from a Tensor of shape (N, 2) to outputs (N, classes) (the
    argmax is the prediction; a single output column is read as a probability of class 1).
    It runs under ``no_grad`` and, if it has ``eval()``, in eval mode (restored afterwards).
    ``X``: shape (N, 2); ``y``: class indices (N,) or one-hot (N, C). ``ax``: a matplotlib
    Axes to draw into (default: a new Figure). Returns the Figure; writes a PNG when ``path``
    is given.

    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    >>> fig = plot_decision_boundary(lambda t: t, X, [0, 1], resolution=20)  # argmax of x
    >>> fig.axes[0].get_title()
    'decision regions (accuracy on these points: 100.0%)'
    """
    figure_class = _figure_class("plot_decision_boundary")
    X, labels = _check_points("plot_decision_boundary", X, y, resolution)
    if ax is None:
        fig = figure_class(figsize=(6, 5.2), layout="constrained")
        ax = fig.add_subplot(1, 1, 1)
    score = _draw_regions(ax, model, X, labels, resolution)
    ax.set_title(title or f"decision regions (accuracy on these points: {score:.1%})")
    _class_legend(ax, int(labels.max()) + 1)
    if path is not None:
        ax.figure.savefig(path, dpi=120)
    return ax.figure


def plot_decision_boundaries(
    models: Mapping[str, Callable],
    X: Any,
    y: Any,
    path: str | os.PathLike | None = None,
    resolution: int = 150,
    cols: int = 3,
) -> Any:
    """Decision regions of several models side by side, one panel per ``{title: model}``.

    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    >>> fig = plot_decision_boundaries({"x": lambda t: t, "-x": lambda t: -t}, X, [0, 1])
    >>> [ax.get_title() for ax in fig.axes]
    ['x: accuracy 100.0%', '-x: accuracy 0.0%']
    """
    figure_class = _figure_class("plot_decision_boundaries")
    X, labels = _check_points("plot_decision_boundaries", X, y, resolution)
    if not isinstance(models, Mapping) or not models:
        raise TypeError("plot_decision_boundaries: models must be a non-empty {title: model}")
    cols = max(1, min(cols, len(models)))
    rows = math.ceil(len(models) / cols)
    fig = figure_class(figsize=(4.2 * cols, 3.9 * rows), layout="constrained")
    for i, (name, model) in enumerate(models.items()):
        ax = fig.add_subplot(rows, cols, i + 1)
        score = _draw_regions(ax, model, X, labels, resolution)
        ax.set_title(f"{name}: accuracy {score:.1%}")
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def plot_histories(
    histories: Mapping[str, Any],
    metric: str = "loss",
    path: str | os.PathLike | None = None,
    log: bool | None = None,
) -> Any:
    """One metric of several training runs on one plot: ``{label: history}`` (a ``History``
    or a dict of per-epoch lists). ``log``: a log y axis (default: for losses spanning 20x).

    >>> fig = plot_histories({"sgd": {"loss": [1.0, 0.8]}, "adam": {"loss": [1.0, 0.3]}})
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['sgd', 'adam']
    """
    figure_class = _figure_class("plot_histories")
    if not isinstance(histories, Mapping) or not histories:
        raise TypeError("plot_histories: histories must be a non-empty {label: history}")
    fig = figure_class(figsize=(7, 4.2), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    everything = []
    for k, (label, history) in enumerate(histories.items()):
        data = _history_dict(history)
        if metric not in data:
            raise ValueError(
                f"plot_histories: {label!r} has no {metric!r}; it recorded {sorted(data)}"
            )
        values = np.array([np.nan if v is None else float(v) for v in data[metric]])
        epochs = data.get("epoch")
        x = np.asarray(epochs) if epochs and len(epochs) == len(values) else None
        x = np.arange(1, len(values) + 1) if x is None else x
        style = _LINESTYLES[k % len(_LINESTYLES)]  # runs that coincide stay visible
        ax.plot(x, values, label=str(label), linestyle=style, linewidth=1.4)
        everything.append(values[np.isfinite(values)])
    finite = np.concatenate(everything)
    if log is None:
        log = ("loss" in metric or metric in _LR_KEYS) and finite.size and finite.min() > 0
        log = bool(log and finite.max() > 20 * finite.min())
    if log:
        ax.set_yscale("log")
    else:
        ax.ticklabel_format(axis="y", useOffset=False)
    ax.set_title(_title(metric))
    ax.set_xlabel("epoch")
    ax.grid(True, alpha=0.3)
    ax.legend()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def plot_data(
    X: Any, y: Any, path: str | os.PathLike | None = None, title: str = "the data"
) -> Any:
    """The points of a 2-D classification data set, coloured by class (look before you fit).

    >>> import numpy as np
    >>> fig = plot_data(np.array([[0.0, 1.0], [1.0, 0.0]]), [0, 1])
    >>> fig.axes[0].get_title()
    'the data: 2 points, 2 classes'
    """
    figure_class = _figure_class("plot_data")
    X, labels = _check_points("plot_data", X, y, resolution=2)
    n = int(labels.max()) + 1
    fig = figure_class(figsize=(5.5, 4.8), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    ax.scatter(X[:, 0], X[:, 1], c=labels, cmap=colormap(n), vmin=-0.5, vmax=n - 0.5,
               s=22 if len(X) <= 500 else 8, edgecolors="black", linewidths=0.4)  # fmt: skip
    ax.set_title(f"{title}: {len(X)} points, {n} classes")
    ax.set_xlabel("X[:, 0]")
    ax.set_ylabel("X[:, 1]")
    ax.set_aspect("equal", adjustable="datalim")
    _class_legend(ax, n)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
