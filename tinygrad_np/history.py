"""``History``: what ``fit`` measured, one value per epoch, and how training is reported.

The reporting half prints either a tqdm progress bar (with loss, accuracy and learning rate
after the bar) or, when tqdm is missing or the output is not a terminal, one plain line every
few epochs, as the NNFS book's training loops do.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

from tinygrad_np._checks import check_count

__all__ = ["History"]


class History:
    """Per-epoch training records: ``history.loss``, ``history.accuracy``, ``history["lr"]``...

    ``history.history`` is the dict of lists itself (keys: ``epoch``, ``loss``,
    ``data_loss``, ``reg_loss``, one key per metric, ``lr``, and ``val_loss`` plus
    ``val_<metric>`` when validation data was given). Lists a run did not record are empty.

    >>> h = History({"epoch": [1, 2], "loss": [1.1, 0.7], "accuracy": [0.4, 0.8]})
    >>> h.loss, h.last()["accuracy"], len(h)
    ([1.1, 0.7], 0.8, 2)
    >>> h
    History(2 epochs: loss 1.1 -> 0.7, accuracy 0.4 -> 0.8)
    """

    def __init__(self, history: dict[str, list] | None = None) -> None:
        self.history: dict[str, list] = {k: list(v) for k, v in (history or {}).items()}

    def append(self, logs: dict[str, Any]) -> None:
        """Add one epoch's values (a key seen for the first time starts a new list)."""
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key: str) -> list:
        try:
            return self.history[key]
        except KeyError:
            raise KeyError(f"History has no {key!r}; it recorded {sorted(self.history)}") from None

    def _get(self, key: str) -> list:
        return self.history.get(key, [])

    epoch = property(lambda self: self._get("epoch"), doc="Epoch numbers, counting from 1.")
    loss = property(lambda self: self._get("loss"), doc="Data loss plus regularisation loss.")
    data_loss = property(lambda self: self._get("data_loss"), doc="The loss function's value.")
    reg_loss = property(lambda self: self._get("reg_loss"), doc="The L1/L2 penalty's value.")
    accuracy = property(lambda self: self._get("accuracy"), doc="Training accuracy.")
    lr = property(lambda self: self._get("lr"), doc="Learning rate of each epoch's last step.")
    val_loss = property(lambda self: self._get("val_loss"), doc="Validation data loss.")
    val_accuracy = property(lambda self: self._get("val_accuracy"), doc="Validation accuracy.")

    def __len__(self) -> int:
        return len(self._get("epoch"))

    def as_dict(self) -> dict[str, list]:
        """A copy of the records: metric name -> list of per-epoch values."""
        return {k: list(v) for k, v in self.history.items()}

    def last(self) -> dict[str, Any]:
        """The latest epoch's values (an empty dict before the first epoch)."""
        return {k: v[-1] for k, v in self.history.items() if v}

    def plot(self, path: str | os.PathLike | None = None) -> Any:
        """The learning curves (``tg.viz.plot_history``): a matplotlib Figure, shown inline
        in Jupyter; written as a PNG when ``path`` is given. Needs the ``viz`` extra."""
        from tinygrad_np.viz.plots import plot_history

        return plot_history(self, path)

    def _repr_html_(self) -> str:
        """Jupyter: a table of each metric's first, last and best value."""
        from tinygrad_np.viz.html import history_html

        return history_html(self)

    def __repr__(self) -> str:
        if not len(self):
            return "History(no epochs)"
        parts = []
        for key, values in self.history.items():
            skip = ("epoch", "lr", "data_loss", "reg_loss")  # loss already holds both parts
            if key in skip or not values or not isinstance(values[0], (int, float)):
                continue
            parts.append(f"{key} {_number(values[0])} -> {_number(values[-1])}")
        return f"History({len(self)} epochs: " + ", ".join(parts) + ")"


def _number(value: Any) -> str:
    if isinstance(value, list):  # one learning rate per parameter group: show the first
        value = value[0] if value else float("nan")
    return f"{value:.4g}"


# ---------------------------------------------------------------- reporting progress


def _loss_text(value: float) -> str:
    # regression losses fall below 1e-4, where four decimals would print 0.0000
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"


def _short(key: str) -> str:
    return key.replace("regression_accuracy", "acc").replace("accuracy", "acc")


class ProgressReport:
    """Shows training as it goes: a tqdm bar, plain lines every ``print_every`` epochs, or
    nothing. ``progress``: True (a bar when tqdm is installed, else lines), "auto" (a bar only
    when ``stream`` is a terminal), or False."""

    def __init__(
        self,
        progress: bool | str,
        first_epoch: int,
        epochs: int,
        print_every: int | None,
        stream: TextIO | None = None,
    ) -> None:
        if progress not in (True, False, "auto"):
            raise ValueError(f"fit: progress must be True, False or 'auto', got {progress!r}")
        check_count("fit", "print_every", print_every, optional=True)
        self.stream = sys.stdout if stream is None else stream
        self.epochs = epochs
        self.print_every = print_every or max(1, epochs // 10)
        self.enabled = progress is not False
        self.bar = None
        if progress is True or (progress == "auto" and _is_terminal(self.stream)):
            self.bar = _make_bar(first_epoch, epochs, self.stream)

    def update(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(_postfix(logs), refresh=False)
            self.bar.update(1)
        elif self.enabled and (epoch % self.print_every == 0 or epoch in (1, self.epochs)):
            print(_line(epoch, self.epochs, logs), file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _make_bar(first_epoch: int, epochs: int, stream: TextIO) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        return None  # the plain lines take over: tqdm is the optional extra "progress"
    return tqdm(total=epochs, initial=first_epoch, unit="epoch", file=stream, dynamic_ncols=True)


def _postfix(logs: dict[str, Any]) -> str:
    parts = []
    for key, value in logs.items():
        if key in ("epoch", "data_loss", "reg_loss"):
            continue
        if key == "lr":
            parts.append(f"lr={_number(value)}")
        else:
            text = f"{value:.4g}" if "loss" in key else f"{value:.3f}"
            parts.append(f"{_short(key)}={text}")
    return ", ".join(parts)


def _line(epoch: int, epochs: int, logs: dict[str, Any]) -> str:
    """One book-style line: epoch, loss (with its data and regularisation parts), metrics."""
    width = len(str(epochs))
    text = f"epoch {epoch:>{width}}/{epochs}  loss {_loss_text(logs['loss'])}"
    if logs.get("reg_loss"):
        text += f" (data {_loss_text(logs['data_loss'])}, reg {_loss_text(logs['reg_loss'])})"
    for key, value in logs.items():
        if key in ("epoch", "loss", "data_loss", "reg_loss", "lr"):
            continue
        text += f"  {key} {_loss_text(value) if 'loss' in key else f'{value:.3f}'}"
    if "lr" in logs:
        text += f"  lr {_number(logs['lr'])}"
    return text
