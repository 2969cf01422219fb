"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint holds the model's and the optimizer's state dicts, the number of epochs done, the
library random generator's state (dropout masks, and the shuffling of loaders seeded from it)
and, when given, a DataLoader's shuffling state, a learning-rate scheduler's position, the
training history and free-form ``metadata`` (the command line keeps its flags there). It is
one ``.npz`` file written by ``tg.save`` (atomic, no pickle), so resuming from it gives the
same parameters, bit for bit, as a run that never stopped.
"""

from __future__ import annotations

import os
from typing import Any

from tinygrad_np.io import load, save
from tinygrad_np.rng import get_rng_state, set_rng_state

__all__ = ["save_checkpoint", "load_checkpoint", "check_writable_path"]

_KIND = "tinygrad_np.training_checkpoint"
_VERSION = 1


def check_writable_path(fn: str, path: str | os.PathLike) -> str:
    """``path`` as a string, or a clear error when its directory does not exist.

    Checked before training starts, so a typo in a checkpoint path does not cost a run.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"{fn}: cannot write {path!r}: the directory {directory!r} does not exist"
        )
    if os.path.isdir(path):
        raise IsADirectoryError(f"{fn}: {path!r} is a directory; give a file name")
    return path


def save_checkpoint(
    path: str | os.PathLike,
    model: Any,
    optimizer: Any,
    epoch: int,
    loader: Any = None,
    *,
    history: dict[str, list] | None = None,
    scheduler: Any = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Write a training checkpoint to ``path`` (atomically; an older file survives a failure).

    ``epoch`` is the number of epochs completed. ``loader``, when given, is a DataLoader (or
    anything with ``state_dict()``) whose shuffling state is stored too; so is ``scheduler``'s
    (a ``tg.optim.lr_scheduler`` schedule). ``metadata`` is stored as given (plain values).

    >>> import os, tempfile, tinygrad_np as tg
    >>> model = tg.nn.Linear(2, 3); opt = tg.optim.Adam(model.parameters(), lr=0.01)
    >>> path = os.path.join(tempfile.mkdtemp(), "run.ckpt")
    >>> save_checkpoint(path, model, opt, epoch=5)
    >>> load_checkpoint(path, tg.nn.Linear(2, 3), opt)
    5
    """
    path = check_writable_path("save_checkpoint", path)
    state = {
        "kind": _KIND,
        "version": _VERSION,
        "epoch": int(epoch),
        "model": dict(model.state_dict()),
        "optimizer": optimizer.state_dict(),
        "optimizer_class": type(optimizer).__name__,
        "rng": get_rng_state(),
        "loader": None if loader is None else loader.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "scheduler_class": None if scheduler is None else type(scheduler).__name__,
        "history": history,
        "metadata": metadata,
    }
    save(state, path)


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint at ``path`` as a dict, after checking that it is one."""
    path = os.fspath(path)
    state = load(path)
    if not isinstance(state, dict) or state.get("kind") != _KIND:
        raise ValueError(
            f"load_checkpoint: {path} is not a training checkpoint (it was not written by "
            f"save_checkpoint); for a plain state dict use tg.load"
        )
    if state.get("version") != _VERSION:
        raise ValueError(
            f"load_checkpoint: {path} has checkpoint version {state.get('version')!r}; "
            f"this tinygrad_np reads version {_VERSION}"
        )
    return state


def _check_scheduler(state: dict[str, Any], path: str, scheduler: Any) -> None:
    # A schedule left behind would freeze the learning rate; one not saved would restart.
    saved = state.get("scheduler_class")
    if saved is None and scheduler is not None:
        raise ValueError(
            f"load_checkpoint: {path} holds no scheduler state, but a scheduler was given; "
            f"save the checkpoint with scheduler=... or load it without one"
        )
    if saved is not None and scheduler is None:
        raise ValueError(
            f"load_checkpoint: {path} holds {saved} scheduler state, but no scheduler was "
            f"given; pass one (scheduler=...) so the learning rates continue as saved"
        )
    if saved is not None and saved != type(scheduler).__name__:
        raise ValueError(
            f"load_checkpoint: {path} holds {saved} scheduler state, but the scheduler given "
            f"is {type(scheduler).__name__}"
        )


def restore_checkpoint(
    state: dict[str, Any],
    path: str,
    model: Any,
    optimizer: Any,
    loader: Any = None,
    scheduler: Any = None,
) -> None:
    """Put a checkpoint read by ``read_checkpoint`` into ``model``, ``optimizer``, ``loader``
    and ``scheduler``.

    Either all of them change or, when one refuses its state, none does.
    """
    if loader is not None and state.get("loader") is None:
        raise ValueError(
            f"load_checkpoint: {path} holds no DataLoader state, but a loader was given; "
            f"save the checkpoint with loader=... or load it without one"
        )
    _check_scheduler(state, path, scheduler)
    saved_class, given_class = state.get("optimizer_class"), type(optimizer).__name__
    if saved_class != given_class:
        # Optimizer states are dicts of arrays; another optimizer's would load without error
        # and then update with the wrong rule.
        raise ValueError(
            f"load_checkpoint: {path} holds {saved_class} optimizer state, but the optimizer "
            f"given is {given_class}"
        )
    model_before = model.state_dict()
    optimizer_before = optimizer.state_dict()
    loader_before = None if loader is None else loader.state_dict()
    scheduler_before = None if scheduler is None else scheduler.state_dict()
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if loader is not None:
            loader.load_state_dict(state["loader"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
    except Exception:
        model.load_state_dict(model_before)
        if scheduler is not None:  # first: it rewrites the lrs the optimizer then restores
            scheduler.load_state_dict(scheduler_before)
        optimizer.load_state_dict(optimizer_before)
        if loader is not None:
            loader.load_state_dict(loader_before)
        raise
    set_rng_state(state["rng"])


def load_checkpoint(
    path: str | os.PathLike, model: Any, optimizer: Any, loader: Any = None, scheduler: Any = None
) -> int:
    """Restore a checkpoint written by ``save_checkpoint``; returns the epochs completed.

    Loads the model's parameters and the optimizer's state in place, sets the library random
    generator's state, and the shuffling state of ``loader`` and the position of ``scheduler``
    (which must be given exactly when the checkpoint holds one). If any part does not fit
    (other layer shapes, another optimizer or schedule), nothing is changed and the error says
    which part. Train on from the returned epoch and the run continues as if never stopped.

    >>> import os, tempfile, tinygrad_np as tg
    >>> model = tg.nn.Linear(2, 1); opt = tg.optim.SGD(model.parameters(), lr=0.1)
    >>> path = os.path.join(tempfile.mkdtemp(), "run.ckpt")
    >>> save_checkpoint(path, model, opt, epoch=3)
    >>> fresh = tg.nn.Linear(2, 1)
    >>> load_checkpoint(path, fresh, tg.optim.SGD(fresh.parameters(), lr=0.1))
    3
    >>> bool((fresh.weight.numpy() == model.weight.numpy()).all())
    True
    """
    path = os.fspath(path)
    state = read_checkpoint(path)
    restore_checkpoint(state, path, model, optimizer, loader, scheduler)
    return int(state["epoch"])
