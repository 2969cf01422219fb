"""Per-thread switches: grad mode (``no_grad``, ``enable_grad``) and anomaly mode.

Each is a context manager and a decorator (also bare: ``@tg.no_grad``); a switch set in one
thread never affects another.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any


class _State(threading.local):
    """The switches, one set per thread."""

    grad_enabled = True
    anomaly = False


_state = _State()


def is_grad_enabled() -> bool:
    """Whether ops record a graph in this thread right now."""
    return _state.grad_enabled


class _Switch(contextlib.ContextDecorator):
    """Set one switch for a block or a decorated call, and restore it afterwards."""

    switch, value = "grad_enabled", True

    def __new__(cls, func: Callable | None = None):
        self = super().__new__(cls)
        if func is not None and callable(func):  # used bare: @no_grad
            return self(func)
        return self

    def __init__(self, func: Callable | None = None) -> None:
        self._prev: list[bool] = []

    def _recreate_cm(self):  # a fresh instance per decorated call: safe under recursion/threads
        return type(self)()

    def __enter__(self) -> None:
        self._prev.append(getattr(_state, self.switch))
        setattr(_state, self.switch, self.value)

    def __exit__(self, *exc: Any) -> None:
        setattr(_state, self.switch, self._prev.pop())


class no_grad(_Switch):
    """Stop recording: ops inside build no graph (inference, optimizer updates).

    >>> import tinygrad_np as tg
    >>> w = tg.tensor([1.0], requires_grad=True)
    >>> with tg.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    value = False


class enable_grad(_Switch):
    """Record again inside a ``no_grad`` block (or decorate a function that must record)."""

    value = True


class detect_anomaly(_Switch):
    """Check every gradient during backward; name the op whose backward made a NaN or inf.

    >>> import numpy as np, tinygrad_np as tg
    >>> x = tg.tensor([0.0], requires_grad=True)
    >>> with tg.autograd.detect_anomaly(), np.errstate(divide="ignore"):
    ...     x.sqrt().sum().backward()
    Traceback (most recent call last):
    RuntimeError: detect_anomaly: the backward of 'sqrt' returned a non-finite gradient ...
    """

    switch, value = "anomaly", True
