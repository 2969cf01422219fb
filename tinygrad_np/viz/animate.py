"""Watch a 2-D classifier learn: the decision regions and the loss curve, frame by frame.

``TrainingAnimation`` is a ``fit`` callback: it records the regions the model predicts at a
few epochs (spaced geometrically, since a network changes fastest at the start) and the loss
of every epoch. Afterwards it is a matplotlib animation: ``save("run.gif")`` writes it with
Pillow, Jupyter plays it (a player with play, pause and step buttons), ``figure(k)`` is one
still. ``animate_training`` trains and records in one call. Needs the ``viz`` extra.
"""

from __future__ import annotations

import base64
import os
import tempfile
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_np._arrays import to_numpy
from tinygrad_np.train import fit
from tinygrad_np.viz.plots import (
    _check_points,
    _class_legend,
    _figure_class,
    colormap,
    plane_grid,
    predict_classes,
)

_DPI = 80  # frames of 720 x 330 pixels: small GIFs, quick to write


def frame_epochs(epochs: int, frames: int) -> list[int]:
    """Epochs to draw: 0 (before training), then about ``frames`` more, spaced geometrically
    from 1 to ``epochs``, the last one always included.

    >>> frame_epochs(10001, 8)
    [0, 1, 4, 14, 52, 193, 720, 2683, 10001]
    """
    if frames < 1 or epochs < 1:
        raise ValueError(f"frame_epochs: epochs and frames must be >= 1, got {epochs}, {frames}")
    spaced = np.geomspace(1, epochs, num=min(frames, epochs))
    return [0, *sorted({int(round(e)) for e in spaced} | {epochs})]


class TrainingAnimation:
    """Record a 2-D classifier's decision regions and loss while ``fit`` trains it.

    Pass it in ``fit(..., callbacks=[anim])``. ``model``, ``X`` (N, 2) and ``y`` as for
    ``plot_decision_boundary``; ``epochs``: how long the run will be (frames are spread over
    it); ``frames``: about how many pictures; ``resolution``: grid points per side.
    The state before training is frame 0.

    >>> import tinygrad_np as tg
    >>> _ = tg.manual_seed(0)
    >>> model = tg.nn.Sequential(tg.nn.Linear(2, 8), tg.nn.ReLU(), tg.nn.Linear(8, 3))
    >>> X, y = tg.data.spiral_data(20, 3, seed=0)
    >>> anim = TrainingAnimation(model, X, y, epochs=30, frames=4, resolution=20)
    >>> opt = tg.optim.Adam(model.parameters(), lr=0.05)
    >>> _ = tg.train.fit(model, tg.nn.CrossEntropyLoss(), opt, (X, y), 30, progress=False,
    ...                  callbacks=[anim])
    >>> anim.epochs_drawn, len(anim.losses)
    ([0, 1, 3, 10, 30], 30)
    """

    def __init__(
        self,
        model: Any,
        X: Any,
        y: Any,
        epochs: int,
        frames: int = 40,
        resolution: int = 100,
    ) -> None:
        _figure_class("TrainingAnimation")  # fail now, not after training, without matplotlib
        self.model = model
        self.X, self.y = _check_points("TrainingAnimation", X, y, resolution)
        self.schedule = set(frame_epochs(epochs, frames))
        self.epochs = epochs
        self.gx, self.gy, self._grid = plane_grid(self.X, resolution)
        self.regions: list[np.ndarray] = []  # one (resolution, resolution) array per frame
        self.accuracies: list[float] = []
        self.epochs_drawn: list[int] = []
        self.losses: list[tuple[int, float]] = []  # (epoch, loss) for every epoch seen
        self.history: Any = None  # set by animate_training
        self._gif: tuple[tuple, bytes] | None = None
        self._snapshot(0)

    def _snapshot(self, epoch: int) -> None:
        points = np.concatenate([self._grid, self.X.astype(self._grid.dtype, copy=False)])
        classes = predict_classes(self.model, points)
        n = len(self._grid)
        self.regions.append(classes[:n].reshape(self.gx.shape).astype(np.int16))
        self.accuracies.append(float(np.mean(classes[n:] == self.y)))
        self.epochs_drawn.append(epoch)

    def __call__(self, epoch: int, logs: dict[str, Any]) -> None:
        if "loss" in logs:
            self.losses.append((epoch, float(logs["loss"])))
        if epoch in self.schedule and epoch not in self.epochs_drawn:
            self._snapshot(epoch)

    def __len__(self) -> int:
        return len(self.epochs_drawn)

    def __repr__(self) -> str:
        return f"TrainingAnimation({len(self)} frames, epochs {self.epochs_drawn[-1]} drawn)"

    # ------------------------------------------------------------------ drawing

    def _canvas(self) -> tuple[Any, Any]:
        """The figure and a function drawing frame k into it."""
        fig = _figure_class("TrainingAnimation")(figsize=(9, 4.1), dpi=_DPI, layout="constrained")
        left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        n = int(max(self.y.max(), max(r.max() for r in self.regions))) + 1
        cmap = colormap(n)
        extent = (self.gx.min(), self.gx.max(), self.gy.min(), self.gy.max())
        image = left.imshow(self.regions[0], origin="lower", extent=extent, cmap=cmap,
                            vmin=-0.5, vmax=n - 0.5, alpha=0.3, aspect="auto",
                            interpolation="nearest")  # fmt: skip
        left.scatter(self.X[:, 0], self.X[:, 1], c=self.y, cmap=cmap, vmin=-0.5, vmax=n - 0.5,
                     s=14, edgecolors="black", linewidths=0.3)  # fmt: skip
        left.set_xlabel("X[:, 0]")
        left.set_ylabel("X[:, 1]")
        _class_legend(left, int(self.y.max()) + 1)

        epochs = np.array([e for e, _ in self.losses], dtype=float)
        losses = np.array([v for _, v in self.losses], dtype=float)
        (curve,) = right.plot([], [], color="#1d4ed8")
        (dot,) = right.plot([], [], "o", color="#b91c1c")
        last = max(self.epochs_drawn[-1], 1)
        if last >= 100:  # frames are spaced geometrically: so is the axis
            right.set_xscale("log")
            right.set_xlim(0.8, last * 1.25)
            right.set_xlabel("epoch (log scale)")
        else:
            right.set_xlim(0, last)
            right.set_xlabel("epoch")
        if losses.size:
            lo, hi = float(np.nanmin(losses)), float(np.nanmax(losses))
            if lo > 0 and hi > 20 * lo:
                right.set_yscale("log")
                right.set_ylim(lo / 1.3, hi * 1.3)
            else:
                right.set_ylim(min(0.0, lo), hi * 1.05 if hi > 0 else 1.0)
                right.ticklabel_format(axis="y", useOffset=False)
        right.set_title("training loss")
        right.grid(True, alpha=0.3)

        def draw(k: int) -> tuple[Any, ...]:
            epoch = self.epochs_drawn[k]
            image.set_data(self.regions[k])
            left.set_title(f"epoch {epoch}: accuracy {self.accuracies[k]:.1%}")
            seen = epochs <= epoch
            curve.set_data(epochs[seen], losses[seen])
            dot.set_data(epochs[seen][-1:], losses[seen][-1:])
            return image, curve, dot

        draw(len(self) - 1)  # the widest titles
        fig.draw_without_rendering()  # lay out once; frames then only change data
        fig.set_layout_engine("none")
        draw(0)
        return fig, draw

    def figure(self, k: int = -1) -> Any:
        """Frame ``k`` (default: the last) as a still Figure."""
        fig, draw = self._canvas()
        draw(range(len(self))[k])
        return fig

    def animation(self, fps: float = 6) -> Any:
        """A ``matplotlib.animation.FuncAnimation`` over the recorded frames."""
        from matplotlib.animation import FuncAnimation

        fig, draw = self._canvas()
        return FuncAnimation(fig, draw, frames=len(self), interval=1000 / fps, blit=False)

    def save(self, path: str | os.PathLike, fps: float = 6) -> Path:
        """Write an animated GIF (with Pillow); the last frame is held for a second."""
        path = Path(path)
        if path.suffix.lower() != ".gif":
            raise ValueError(f"TrainingAnimation.save writes .gif files, got {str(path)!r}")
        try:
            from matplotlib.animation import PillowWriter
        except ImportError as e:  # pragma: no cover - matplotlib is checked in __init__
            raise ImportError("saving needs matplotlib: pip install tinygrad-np[viz]") from e
        try:
            import PIL  # noqa: F401
        except ImportError as e:
            raise ImportError("saving a GIF needs Pillow: pip install tinygrad-np[viz]") from e
        hold = int(fps)  # repeat the final picture so the result can be read
        fig, draw = self._canvas()
        frames = [*range(len(self)), *[len(self) - 1] * hold]
        from matplotlib.animation import FuncAnimation

        anim = FuncAnimation(fig, draw, frames=frames, interval=1000 / fps, blit=False)
        anim.save(path, writer=PillowWriter(fps=fps), dpi=_DPI)
        return path

    def gif(self, fps: float = 6) -> bytes:
        """The animated GIF's bytes (kept until another frame is recorded)."""
        key = (len(self), len(self.losses), fps)
        if self._gif is None or self._gif[0] != key:
            with tempfile.TemporaryDirectory() as folder:
                data = self.save(Path(folder) / "training.gif", fps=fps).read_bytes()
            self._gif = (key, data)
        return self._gif[1]

    def player(self, fps: float = 6) -> Any:
        """For Jupyter: a JavaScript player with play, pause and step buttons (bigger than the
        GIF: every frame is embedded as a PNG)."""
        from IPython.display import HTML

        return HTML(self.animation(fps).to_jshtml(default_mode="once"))

    def _repr_html_(self) -> str:
        """Jupyter shows the GIF, looping."""
        data = base64.b64encode(self.gif()).decode("ascii")
        return f'<img src="data:image/gif;base64,{data}" alt="{escape(repr(self))}">'


def animate_training(
    model: Any,
    loss_fn: Any,
    optimizer: Any,
    data: Any,
    epochs: int,
    *,
    frames: int = 40,
    resolution: int = 100,
    path: str | os.PathLike | None = None,
    fps: float = 6,
    **fit_kwargs: Any,
) -> TrainingAnimation:
    """Train with ``fit`` and record the decision regions and loss as it goes.

    ``data`` is ``(X, y)`` with X of shape (N, 2); the other arguments go to ``fit`` (the
    progress display is off unless you pass ``progress=``). Returns the
    ``TrainingAnimation`` (its ``.history`` is what ``fit`` returned); with ``path`` it is
    also written as a GIF.

    >>> import tinygrad_np as tg
    >>> _ = tg.manual_seed(0)
    >>> model = tg.nn.Sequential(tg.nn.Linear(2, 8), tg.nn.ReLU(), tg.nn.Linear(8, 3))
    >>> opt = tg.optim.Adam(model.parameters(), lr=0.05)
    >>> data = tg.data.spiral_data(20, 3, seed=0)
    >>> anim = animate_training(model, tg.nn.CrossEntropyLoss(), opt, data, 20, frames=3)
    >>> anim.epochs_drawn, len(anim.history)
    ([0, 1, 4, 20], 20)
    """
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise TypeError(
            "animate_training: data must be (X, y) with X of shape (N, 2), "
            f"got {type(data).__name__}"
        )
    X, y = to_numpy(data[0]), to_numpy(data[1])
    anim = TrainingAnimation(model, X, y, epochs, frames=frames, resolution=resolution)
    callbacks = [*(fit_kwargs.pop("callbacks", None) or ()), anim]
    fit_kwargs.setdefault("progress", False)
    anim.history = fit(model, loss_fn, optimizer, data, epochs, callbacks=callbacks, **fit_kwargs)
    if path is not None:
        anim.save(path, fps=fps)
    return anim
