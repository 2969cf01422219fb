"""Pictures of image models: a grid of small images, and a confusion matrix.

``plot_images`` draws what a convolutional network works with - input images, the kernels of a
layer, the feature maps it computes - side by side on one colour scale, so that brighter means
larger in every panel. ``plot_confusion_matrix`` counts which class is mistaken for which.
Both return a matplotlib Figure that Jupyter shows as an image by itself (as ``plots.py``
explains), and write a PNG when given a path.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_np._arrays import to_numpy
from tinygrad_np.metrics import confusion_matrix
from tinygrad_np.viz.plots import _figure_class


def _pictures(function: str, images: Any) -> list[np.ndarray]:
    """2-D float arrays from (H, W), (N, H, W), (N, 1, H, W), or a list of 2-D arrays."""
    if isinstance(images, list | tuple):
        pictures = [to_numpy(image) for image in images]
        shapes = [p.shape for p in pictures]
        if not pictures or any(p.ndim != 2 for p in pictures):
            raise ValueError(
                f"{function}: a list of images must hold at least one 2-D array (H, W) each, "
                f"got shapes {shapes}"
            )
    else:
        a = to_numpy(images)
        if a.ndim == 4 and a.shape[1] == 1:
            a = a[:, 0]
        elif a.ndim == 2:
            a = a[None]
        if a.ndim != 3 or len(a) == 0:
            hint = "; pick one channel, e.g. maps[0] or weight[:, c]" if a.ndim == 4 else ""
            raise ValueError(
                f"{function}: expected images of shape (N, H, W), (N, 1, H, W) or (H, W) with "
                f"N >= 1, or a list of (H, W) arrays, got shape {a.shape}{hint}"
            )
        pictures = list(a)
    for p in pictures:
        if p.dtype.kind not in "biuf":
            raise TypeError(f"{function}: images must be numbers, got dtype {p.dtype}")
        if p.size == 0:
            raise ValueError(f"{function}: an image of shape {p.shape} has no pixels")
    return [p.astype(np.float64) for p in pictures]


def _scale(pictures: list[np.ndarray], symmetric: bool) -> tuple[float, float]:
    values = np.concatenate([p[np.isfinite(p)] for p in pictures])
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    if symmetric:
        lo, hi = -max(abs(lo), abs(hi)), max(abs(lo), abs(hi))
    if hi == lo:  # a constant picture still needs a scale
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def plot_images(
    images: Any,
    titles: Sequence[str] | None = None,
    cols: int = 8,
    cmap: str | None = None,
    symmetric: bool = False,
    shared: bool = True,
    title: str | None = None,
    size: float = 1.3,
    path: str | os.PathLike | None = None,
) -> Any:
    """A grid of small images with their colour scale.

    ``images``: an array or Tensor of shape (N, H, W), (N, 1, H, W) (a batch of one-channel
    images, or a Conv2d weight with one input channel) or (H, W); or a list of (H, W) arrays,
    which may differ in shape (an image, a kernel and their convolution). ``titles``: one per
    image. ``shared``: one colour scale for all, so equal colours mean equal values (one colour
    bar); False scales each image to its own range (a colour bar each). ``symmetric``: centre
    the scale on 0, for values of either sign such as weights (the default colour map is then
    "RdBu_r": red positive, blue negative, white 0); otherwise the scale runs from the smallest
    to the largest value ("gray_r": small white, large black, as ink on paper). Pixels are drawn
    as squares, without smoothing, each about ``size`` inches high. Returns the Figure; writes
    a PNG when ``path`` is given.

    >>> import numpy as np
    >>> fig = plot_images(np.eye(3)[None].repeat(2, axis=0), titles=["a", "b"])
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['a', 'b']
    """
    figure_class = _figure_class("plot_images")
    pictures = _pictures("plot_images", images)
    n = len(pictures)
    if titles is not None and len(titles) != n:
        raise ValueError(f"plot_images: got {len(titles)} titles for {n} images")
    if isinstance(cols, bool) or not isinstance(cols, int | np.integer) or cols < 1:
        raise ValueError(f"plot_images: cols must be a positive int, got {cols!r}")
    if not size > 0:
        raise ValueError(f"plot_images: size must be a positive number of inches, got {size!r}")
    cols = min(int(cols), n)
    rows = math.ceil(n / cols)
    cmap = cmap or ("RdBu_r" if symmetric else "gray_r")
    width = size if shared else 1.5 * size  # a colour bar per image needs room beside it
    fig = figure_class(
        figsize=(width * cols + (0.9 if shared else 0), size * rows + (0.4 if title else 0.1)),
        layout="constrained",
    )
    axes = []
    lo, hi = _scale(pictures, symmetric)
    for k, picture in enumerate(pictures):
        ax = fig.add_subplot(rows, cols, k + 1)
        if not shared:
            lo, hi = _scale([picture], symmetric)
        shown = ax.imshow(picture, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(str(titles[k]), fontsize=9)
        if not shared:
            fig.colorbar(shown, ax=ax, shrink=0.8)
        axes.append(ax)
    if shared:
        fig.colorbar(shown, ax=axes, shrink=min(1.0, 0.5 + 0.25 * rows), pad=0.02)
    if title:
        fig.suptitle(title)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def plot_confusion_matrix(
    predictions: Any,
    targets: Any,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
    path: str | os.PathLike | None = None,
) -> Any:
    """Which class is predicted for which: a grid of counts, true class down, prediction across.

    ``predictions`` and ``targets`` as in ``tg.metrics.confusion_matrix``, which counts them:
    scores (N, C) or class indices (N,), and class indices or one-hot rows. The diagonal holds
    the correct predictions; every other non-zero cell is a kind of mistake, with its count
    written in. ``class_names``: one per class (default: 0, 1, ...). Returns the Figure (its
    title gives the accuracy); writes a PNG when ``path`` is given.

    >>> fig = plot_confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])
    >>> fig.axes[0].get_title()
    'confusion matrix: 3 of 4 right (75.0%)'
    """
    figure_class = _figure_class("plot_confusion_matrix")
    n = None if class_names is None else len(class_names)
    counts = confusion_matrix(predictions, targets, n)
    names = [str(c) for c in (class_names or range(len(counts)))]
    right, total = int(np.trace(counts)), int(counts.sum())
    size = 1.6 + 0.42 * len(counts)
    fig = figure_class(figsize=(size + 1.2, size), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    # the colour shows each cell as a share of its row, so a rare class's mistakes still show
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    shown = ax.imshow(share, cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
    for (i, j), count in np.ndenumerate(counts):
        if count:
            colour = "white" if share[i, j] > 0.6 else ("black" if i == j else "#b00000")
            ax.text(j, i, str(count), ha="center", va="center", fontsize=8, color=colour)
    ticks = np.arange(len(counts))
    ax.set_xticks(ticks, names)
    ax.set_yticks(ticks, names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title or f"confusion matrix: {right} of {total} right ({right / total:.1%})")
    fig.colorbar(shown, ax=ax, shrink=0.8, label="share of the true class's samples")
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
