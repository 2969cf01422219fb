"""How ``tinygrad-np train`` stops and continues runs: the settings a checkpoint keeps, and Ctrl-C.

A checkpoint written by the command holds the flags that define its run (data, model,
optimizer, seed). ``--resume`` takes every one of them that is left out from the checkpoint and
refuses one that contradicts it, so a flag is never silently ignored and a resumed run is the
run that was saved. The first Ctrl-C lets the epoch in progress finish, saves it and stops;
a second one stops at once.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from tinygrad_np.checkpoint import read_checkpoint, restore_checkpoint
from tinygrad_np.train import StopTraining

COMMAND = "tinygrad-np train"
# The flags that define a run, with their values when neither the command line nor a
# checkpoint gives them (None: the optimizer's book default, or full batches).
RUN_SETTINGS: dict[str, Any] = {
    "dataset": "spiral",
    "optimizer": "adam",
    "lr": None,
    "decay": None,
    "momentum": None,
    "hidden": 64,
    "samples": 100,
    "classes": 3,
    "l2": 0.0,
    "l1": 0.0,
    "dropout": 0.0,
    "seed": 0,
    "batch_size": None,
}


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _shown(key: str, value: Any) -> str:
    if value is None:
        return "full batches (no --batch-size)" if key == "batch_size" else f"no {_flag(key)}"
    if isinstance(value, float):
        value = f"{value:g}" if float(f"{value:g}") == value else repr(value)
    return f"{_flag(key)} {value}"


def _saved_settings(
    state: dict[str, Any], path: str, check: Callable[[str, Any], bool]
) -> dict[str, Any] | None:
    """The settings stored by the command in checkpoint ``state``, each passing ``check``;
    None for a checkpoint written another way (by ``fit`` or ``save_checkpoint``)."""
    metadata = state.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("command") != COMMAND:
        return None
    settings = metadata.get("settings")
    if not isinstance(settings, dict) or set(settings) != set(RUN_SETTINGS):
        raise ValueError(f"--resume: {path} holds damaged settings of {COMMAND}")
    for key, value in settings.items():
        if not check(key, value):
            raise ValueError(
                f"--resume: {path} holds a bad setting {key}={value!r}; it is damaged or "
                f"was not written by {COMMAND}"
            )
    return settings


def resolve_settings(
    args: argparse.Namespace, state: dict[str, Any] | None, path: str, check: Callable
) -> None:
    """Fill in the run settings of ``args``: from checkpoint ``state`` where it has them
    (ValueError for a flag that contradicts it), else the defaults."""
    saved = None if state is None else _saved_settings(state, path, check)
    for key, default in RUN_SETTINGS.items():
        given = getattr(args, key)
        if saved is not None:
            if given is not None and given != saved[key]:
                raise ValueError(
                    f"--resume: {path} was trained with {_shown(key, saved[key])}; this "
                    f"command gives {_shown(key, given)}; leave it out to continue that run, "
                    f"or --save to another path to start a new one"
                )
            given = saved[key]
        setattr(args, key, default if given is None else given)


def run_metadata(args: argparse.Namespace, optimizer: Any) -> dict[str, Any]:
    """What a checkpoint of this run stores: every run setting, the optimizer's as built."""
    group = optimizer.param_groups[0]
    settings = {key: getattr(args, key) for key in RUN_SETTINGS}
    settings["lr"], settings["decay"] = float(group["lr"]), float(group["decay"])
    momentum = group.get("momentum") if args.optimizer in ("sgd", "momentum") else None
    settings["momentum"] = None if momentum is None else float(momentum)
    return {"command": COMMAND, "settings": settings}


def resume_hint(args: argparse.Namespace) -> str:
    """The command that continues an interrupted run (the checkpoint keeps its other flags)."""
    path = shlex.quote(args.save)
    return f"resume with: {COMMAND} --save {path} --resume --epochs {args.epochs}"


def continue_run(args: argparse.Namespace, model: Any, optimizer: Any) -> None:
    """Check that the checkpoint fits the model and optimizer (refused in one line if not)."""
    if args.checkpoint is None:
        if args.resume:
            print(f"no checkpoint at {args.save} yet: starting a new run")
        return
    try:
        restore_checkpoint(args.checkpoint, args.save, model, optimizer)
    except (ValueError, RuntimeError, KeyError, TypeError) as error:
        args.command_parser.error(f"--resume: cannot continue {args.save}: {error}")
    done = int(args.checkpoint["epoch"])
    reached = f": --epochs {args.epochs} reached, nothing to train" if done >= args.epochs else ""
    print(f"resumed from epoch {done} of {args.save}{reached}")


def report_interrupt(args: argparse.Namespace, epoch: int | None) -> None:
    """After a Ctrl-C that stopped training at once: what is kept, in one line or two."""
    done = "before the first epoch ended" if epoch is None else f"after epoch {epoch}"
    if args.save is None:
        print(f"interrupted {done}; nothing saved (--save PATH keeps a checkpoint)",
              file=sys.stderr)  # fmt: skip
    elif os.path.exists(args.save):
        saved = read_checkpoint(args.save)["epoch"]
        print(f"interrupted {done}; {args.save} holds epoch {saved}", file=sys.stderr)
        print(resume_hint(args), file=sys.stderr)
    else:
        print(f"interrupted {done}; no checkpoint was saved yet", file=sys.stderr)


class Interrupt:
    """Counts finished epochs; with ``save_on_ctrl_c``, turns the first Ctrl-C into a stop
    after the epoch in progress (which ``fit`` then saves) and lets a second one through."""

    def __init__(self, save_on_ctrl_c: bool) -> None:
        self.save_on_ctrl_c = save_on_ctrl_c
        self.requested = False
        self.epoch: int | None = None  # the last finished epoch
        self._previous: Any = None

    def __enter__(self) -> Interrupt:
        # Only the main thread may set signal handlers (a test runner may call from another),
        # and a process started with Ctrl-C ignored (a background job) keeps ignoring it.
        main = threading.current_thread() is threading.main_thread()
        if self.save_on_ctrl_c and main and signal.getsignal(signal.SIGINT) != signal.SIG_IGN:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        note = "\ninterrupted: saving once this epoch is done (Ctrl-C again to stop now)\n"
        try:
            # os.write, not print: the handler may run in the middle of a print to stderr
            os.write(sys.stderr.fileno(), note.encode())
        except (OSError, ValueError):
            pass

    def callback(self, epoch: int, logs: dict[str, Any]) -> None:
        self.epoch = epoch
        if self.requested:
            raise StopTraining
