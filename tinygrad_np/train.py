"""``fit``: the training loop of the NNFS book, with batches, validation, progress and resume.

Each epoch runs forward, loss (data loss plus the layers' L1/L2 penalties), backward and one
optimizer step per batch, in train mode; validation runs in eval mode under ``no_grad``.
``History`` keeps what each epoch measured; checkpoints let a run stop and continue exactly.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from tinygrad_np import metrics as tg_metrics
from tinygrad_np._arrays import to_numpy
from tinygrad_np._checks import check_count
from tinygrad_np.autograd import no_grad
from tinygrad_np.checkpoint import (
    check_writable_path,
    load_checkpoint,
    read_checkpoint,
    restore_checkpoint,
    save_checkpoint,
)
from tinygrad_np.data import DataLoader
from tinygrad_np.history import History, ProgressReport
from tinygrad_np.nn import BCEWithLogitsLoss, L1Loss, Module, MSELoss, regularization_loss
from tinygrad_np.tensor import Tensor

__all__ = [
    "fit",
    "evaluate",
    "History",
    "StopTraining",
    "save_checkpoint",
    "load_checkpoint",
]

Metric = Callable[[Any, Any], float]


class StopTraining(Exception):
    """Raise it in a callback to end training after the current epoch (early stopping)."""


# ---------------------------------------------------------------- metrics and data


def _logit_accuracy(predictions: Any, targets: Any) -> float:
    """Binary accuracy of logits (one output column): class 1 where the logit is above 0.

    Passed on as probabilities 0.0 or 1.0, so the targets are checked to be 0 or 1."""
    return tg_metrics.accuracy((to_numpy(predictions) > 0).astype(np.float64), targets)


def _resolve_metrics(metrics: Sequence[str | Metric] | None, loss_fn: Any) -> list:
    """``[(name, function)]``; None picks by task: regression losses get the book's
    regression accuracy, logits for BCEWithLogitsLoss a threshold at 0, the rest accuracy."""
    if metrics is None:
        if isinstance(loss_fn, (MSELoss, L1Loss)):
            return [("regression_accuracy", tg_metrics.regression_accuracy)]
        if isinstance(loss_fn, BCEWithLogitsLoss):
            return [("accuracy", _logit_accuracy)]
        return [("accuracy", tg_metrics.accuracy)]
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    resolved = []
    for metric in metrics:
        if isinstance(metric, str):
            if metric not in ("accuracy", "regression_accuracy"):
                raise ValueError(
                    f"fit: unknown metric {metric!r}; use 'accuracy', 'regression_accuracy' "
                    f"or a function (predictions, targets) -> float"
                )
            resolved.append((metric, getattr(tg_metrics, metric)))
        elif callable(metric):
            resolved.append((getattr(metric, "__name__", "metric"), metric))
        else:
            raise TypeError(f"fit: a metric must be a name or a function, got {metric!r}")
    return resolved


def _as_loader(
    fn: str, data: Any, batch_size: int | None, shuffle: bool | None, seed: int | None
) -> Iterable:
    """Batches from ``(X, y)`` (full batch unless ``batch_size``) or from a loader as is."""
    check_count(fn, "batch_size", batch_size, optional=True)
    if isinstance(data, tuple):
        if len(data) != 2:
            raise ValueError(f"{fn}: data must be (X, y) or a DataLoader, got a {len(data)}-tuple")
        X, y = data
        n = len(to_numpy(X))
        if shuffle is None:
            shuffle = batch_size is not None  # the book shuffles mini-batches, not full batches
        return DataLoader(X, y, batch_size=batch_size or max(n, 1), shuffle=shuffle, seed=seed)
    if batch_size is not None or shuffle is not None or seed is not None:
        raise ValueError(
            f"{fn}: batch_size, shuffle and seed apply to (X, y) data; a "
            f"{type(data).__name__} brings its own batching"
        )
    if not isinstance(data, Iterable) or isinstance(data, (str, list, np.ndarray, Tensor)):
        raise TypeError(
            f"{fn}: data must be a tuple (X, y) or a DataLoader (an iterable of (X, y) batches "
            f"that can be iterated once per epoch), got {type(data).__name__}"
        )
    return data


def _split(fn: str, batch: Any) -> tuple[Tensor, Any]:
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise ValueError(f"{fn}: every batch must be a pair (X, y), got {type(batch).__name__}")
    X, y = batch
    return (X if isinstance(X, Tensor) else Tensor(X)), y


class _Epoch:
    """Sums over one pass of batches: sample-weighted losses, and outputs for the metrics."""

    def __init__(self) -> None:
        self.n = 0
        self.sums: dict[str, float] = {}
        self.outputs: list[np.ndarray] = []
        self.targets: list[np.ndarray] = []

    def add(self, output: Tensor, target: Any, **losses: float) -> None:
        count = len(output.data)
        self.n += count
        for key, value in losses.items():
            self.sums[key] = self.sums.get(key, 0.0) + value * count
        self.outputs.append(output.data)
        self.targets.append(to_numpy(target))

    def results(self, metrics: list, prefix: str = "") -> dict[str, float]:
        if self.n == 0:
            raise ValueError("fit: the data gave no batches (is it empty?)")
        logs = {prefix + k: v / self.n for k, v in self.sums.items()}
        outputs, targets = np.concatenate(self.outputs), np.concatenate(self.targets)
        # Over the whole epoch at once, so the regression metric's std(y) is the data set's.
        for name, metric in metrics:
            logs[prefix + name] = float(metric(outputs, targets))
        return logs


def evaluate(
    model: Module,
    loss_fn: Callable,
    data: Any,
    metrics: Sequence[str | Metric] | None = None,
    batch_size: int | None = None,
) -> dict[str, float]:
    """Loss and metrics of ``model`` on ``data`` in eval mode (dropout off) under ``no_grad``.

    Returns ``{"loss": ..., "accuracy": ...}``; the loss is the data loss alone, without
    regularisation, as the book reports validation loss. The model's mode is restored after.

    >>> import tinygrad_np as tg
    >>> model = tg.nn.Linear(2, 3)
    >>> sorted(evaluate(model, tg.nn.CrossEntropyLoss(), tg.data.spiral_data(10, 3, seed=0)))
    ['accuracy', 'loss']
    """
    no_shuffle = False if isinstance(data, tuple) else None
    loader = _as_loader("evaluate", data, batch_size, no_shuffle, None)
    return _evaluate(model, loss_fn, loader, _resolve_metrics(metrics, loss_fn))


def _evaluate(model, loss_fn, loader, metrics, prefix: str = "") -> dict[str, float]:
    was_training = model.training
    model.eval()
    try:
        epoch = _Epoch()
        with no_grad():
            for batch in loader:
                X, y = _split("evaluate", batch)
                output = model(X)
                epoch.add(output, y, loss=float(loss_fn(output, y).item()))
        return epoch.results(metrics, prefix)
    finally:
        model.train(was_training)


def _check_scheduler(scheduler: Any, interval: str, optimizer: Any) -> None:
    if interval not in ("epoch", "step"):
        raise ValueError(f"fit: scheduler_interval must be 'epoch' or 'step', got {interval!r}")
    if scheduler is None:
        return
    if not all(callable(getattr(scheduler, m, None)) for m in ("step", "state_dict",
                                                                 "load_state_dict")):  # fmt: skip
        raise TypeError(
            f"fit: scheduler must have step(), state_dict() and load_state_dict() (a "
            f"tg.optim.lr_scheduler schedule), got {type(scheduler).__name__}"
        )
    if getattr(scheduler, "optimizer", optimizer) is not optimizer:
        raise ValueError(
            "fit: the scheduler schedules another optimizer than the one given; create it "
            "with this optimizer"
        )


def _learning_rate(optimizer: Any) -> Any:
    lr = getattr(optimizer, "current_lr", None)
    if lr is None and getattr(optimizer, "param_groups", None):
        lr = optimizer.param_groups[0].get("lr")
    return lr


# ---------------------------------------------------------------- the loop


def fit(
    model: Module,
    loss_fn: Callable,
    optimizer: Any,
    data: Any,
    epochs: int,
    *,
    batch_size: int | None = None,
    val_data: Any = None,
    metrics: Sequence[str | Metric] | None = None,
    regularization: bool = True,
    shuffle: bool | None = None,
    seed: int | None = None,
    progress: bool | str = "auto",
    print_every: int | None = None,
    callbacks: Sequence[Callable[[int, dict], Any]] | None = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    scheduler: Any = None,
    scheduler_interval: str = "epoch",
    checkpoint_metadata: dict[str, Any] | None = None,
) -> History:
    """Train ``model`` for ``epochs`` epochs and return the per-epoch ``History``.

    ``data``: ``(X, y)`` arrays or Tensors (one full batch, or ``batch_size`` mini-batches,
    shuffled by default with the order seeded by ``seed`` or by ``tg.manual_seed``), or a
    ``DataLoader``. ``val_data`` likewise, evaluated after every epoch. ``metrics``: names
    ("accuracy", "regression_accuracy") or functions ``(outputs, targets) -> float``;
    None picks one from the loss. With ``regularization`` the layers' L1/L2 penalties
    (``tg.nn.regularization_loss``) join the loss, and both parts are recorded.
    ``progress``: True, False or "auto" (a tqdm bar on a terminal, else a line every
    ``print_every`` epochs). Each callback gets ``(epoch, logs)``; raising ``StopTraining``
    ends the run after that epoch. ``checkpoint``: a path written every ``checkpoint_every``
    epochs and at the end; with ``resume=True`` an existing one is loaded first and training
    continues from its epoch up to ``epochs`` (the total), exactly as if never stopped.
    ``scheduler`` (a ``tg.optim.lr_scheduler`` schedule of ``optimizer``) is stepped after
    every epoch, or after every optimizer step with ``scheduler_interval="step"``; it is part
    of the checkpoint, so a resumed run follows the same learning rates. The history's "lr"
    is the rate of each epoch's last step. ``checkpoint_metadata`` is stored in the checkpoint.

    >>> import tinygrad_np as tg
    >>> _ = tg.manual_seed(0)
    >>> model = tg.nn.Sequential(tg.nn.Linear(2, 16), tg.nn.ReLU(), tg.nn.Linear(16, 3))
    >>> opt = tg.optim.Adam(model.parameters(), lr=0.02)
    >>> data = tg.data.spiral_data(50, 3, seed=0)
    >>> history = fit(model, tg.nn.CrossEntropyLoss(), opt, data, epochs=20, progress=False)
    >>> len(history), history.loss[-1] < history.loss[0]
    (20, True)
    """
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be a tg.nn.Module, got {type(model).__name__}")
    check_count("fit", "epochs", epochs)
    check_count("fit", "checkpoint_every", checkpoint_every, optional=True)
    if resume and checkpoint is None:
        raise ValueError("fit: resume=True needs checkpoint=PATH to resume from")
    if checkpoint is not None:
        checkpoint = check_writable_path("fit", checkpoint)
    _check_scheduler(scheduler, scheduler_interval, optimizer)
    per_step = scheduler is not None and scheduler_interval == "step"
    step_scheduler = scheduler.step if per_step else None
    loader = _as_loader("fit", data, batch_size, shuffle, seed)
    val_loader = None
    if val_data is not None:
        no_shuffle = False if isinstance(val_data, tuple) else None
        val_loader = _as_loader("fit", val_data, batch_size, no_shuffle, None)
    resolved = _resolve_metrics(metrics, loss_fn)
    stateful = loader if callable(getattr(loader, "state_dict", None)) else None

    history, done = History(), 0
    if resume and os.path.exists(checkpoint):
        state = read_checkpoint(checkpoint)
        restore_checkpoint(state, checkpoint, model, optimizer, stateful, scheduler)
        done = int(state["epoch"])
        history = History(state.get("history") or {})

    saved = done

    def save(epoch: int) -> None:
        nonlocal saved
        save_checkpoint(checkpoint, model, optimizer, epoch, stateful, history=history.as_dict(),
                        scheduler=scheduler, metadata=checkpoint_metadata)  # fmt: skip
        saved = epoch

    report = ProgressReport(progress, done, epochs, print_every)
    epoch = done
    try:
        for epoch in range(done + 1, epochs + 1):
            logs, lr = _train_epoch(
                model, loss_fn, optimizer, loader, resolved, regularization, step_scheduler
            )
            logs = {"epoch": epoch, **logs}
            if lr is not None:
                logs["lr"] = lr
            if scheduler is not None and step_scheduler is None:
                scheduler.step()
            if val_loader is not None:
                logs.update(_evaluate(model, loss_fn, val_loader, resolved, prefix="val_"))
            history.append(logs)
            report.update(epoch, logs)
            stop = False
            for callback in callbacks or ():
                try:
                    callback(epoch, logs)
                except StopTraining:
                    stop = True
            if checkpoint is not None and checkpoint_every and epoch % checkpoint_every == 0:
                save(epoch)
            if stop:
                break
    finally:
        report.close()
    if checkpoint is not None and epoch > saved:
        save(epoch)
    return history


def _train_epoch(model, loss_fn, optimizer, loader, metrics, regularization, step) -> tuple:
    """The epoch's logs, and the learning rate of its last optimizer step."""
    model.train()
    epoch = _Epoch()
    lr = None
    for batch in loader:
        X, y = _split("fit", batch)
        output = model(X)
        data_loss = loss_fn(output, y)
        reg_loss = regularization_loss(model) if regularization else None
        if reg_loss is not None and not reg_loss.requires_grad and not reg_loss.data.any():
            reg_loss = None  # no layer regularises: adding a constant zero is a wasted op
        loss = data_loss if reg_loss is None else data_loss + reg_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lr = _learning_rate(optimizer)
        if step is not None:
            step()  # the scheduler, once per optimizer step
        epoch.add(
            output,
            y,
            loss=float(loss.item()),
            data_loss=float(data_loss.item()),
            reg_loss=0.0 if reg_loss is None else float(reg_loss.item()),
        )
    return epoch.results(metrics), lr
