"""Exercises: put your own backward into a built-in op for a while, and have it checked.

>>> import tinygrad_np as tg
>>> def my_exp_backward(ctx, grad_output):
...     (z,) = ctx.saved_tensors          # exp saved its output
...     return grad_output * z
>>> from tinygrad_np.compare import exercise
>>> with exercise(tg.ops.Exp, my_exp_backward, verbose=False) as ex:
...     pass                              # any code here runs with your backward
>>> ex.report.ok
True
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_np.compare.domains import draw
from tinygrad_np.compare.opcheck import OpCheck, check_op
from tinygrad_np.function import Function


class ExerciseError(AssertionError):
    """Your backward disagrees with finite differences; the message says where and how."""


@dataclass
class ExerciseReport:
    """The checks of one exercise: one ``OpCheck`` per random input."""

    op: str
    checks: list[OpCheck] = field(default_factory=list)
    shapes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.status == "ok" for c in self.checks)

    def __str__(self) -> str:
        n = len(self.checks)
        if self.ok:
            worst = max((c.largest_error for c in self.checks), default=0.0)
            return (
                f"your backward for {self.op} matches finite differences of its forward on {n} "
                f"random inputs (largest relative difference {worst:.1e})"
            )
        k = next(i for i, c in enumerate(self.checks) if c.status != "ok")
        check = self.checks[k]
        head = (
            f"your backward for {self.op} differs on random input {k + 1} of {n} ({self.shapes[k]})"
        )
        if check.element is None:  # skipped, or wrong as a whole (bad count, shape, error)
            return f"{head}: {check.message}"
        lines = [
            f"{head}: at element {check.element} of input {check.input_index}, yours "
            f"{check.analytic:.6g}, expected {check.numeric:.6g} (finite differences of "
            f"{self.op}'s forward); {check.n_bad} of {check.n_checked} elements differ"
        ]
        if check.message:
            lines.append(f"hint: {check.message}")
        return "\n".join(lines)


def _describe(arrays: Sequence[Any], kwargs: dict[str, Any]) -> str:
    shapes = ", ".join(str(np.shape(a)) for a in arrays)
    extra = ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if k != "index")
    return f"input shapes {shapes}" + (f"; {extra}" if extra else "")


# Ops being exercised right now, in any thread: a second exercise of the same op would
# restore the wrong backward when the two end in another order.
_active: set[type] = set()
_lock = threading.Lock()
_MISSING = object()  # the op had no backward of its own (it inherits one)


class exercise:
    """Swap ``backward`` into ``op`` (a ``tg.Function`` subclass, e.g. ``tg.ops.Exp``) for the
    duration of a ``with`` block; check it against finite differences of the op's forward.

    On leaving the block the original backward is restored, even when the block raises. The
    check runs on ``trials`` random float64 inputs drawn where the op is differentiable (log
    and sqrt on positive numbers, relu away from 0, ...), or on ``inputs`` (a list of arrays,
    or a function ``rng -> list of arrays``) with keyword arguments ``kwargs``. It runs when
    you call ``.check()``, or when the block ends normally; then a wrong backward raises
    ``ExerciseError`` with where it differs and a hint (``raise_on_failure=False`` keeps the
    verdict in ``.report`` instead) and a right one prints one line (``verbose=False``: none).

    The swap changes the op class itself, for every thread: while the block runs, any thread
    that uses the op runs your backward. Exercise in one thread at a time; two exercises of
    one op at once are refused.
    """

    def __init__(
        self,
        op: type[Function],
        backward: Callable[[Any, Any], Any],
        trials: int = 5,
        seed: int = 0,
        inputs: Sequence[Any] | Callable[[np.random.Generator], Sequence[Any]] | None = None,
        kwargs: dict[str, Any] | None = None,
        raise_on_failure: bool = True,
        verbose: bool = True,
    ) -> None:
        if not (isinstance(op, type) and issubclass(op, Function)) or op is Function:
            raise TypeError(
                f"exercise: op must be a tg.Function subclass such as tg.ops.Exp, got {op!r}"
            )
        if not callable(backward):
            raise TypeError(
                f"exercise: backward must be a function (ctx, grad_output), got {backward!r}"
            )
        self.op, self.backward = op, backward
        self.trials, self.seed = trials, seed
        self.inputs, self.kwargs = inputs, kwargs
        self.raise_on_failure, self.verbose = raise_on_failure, verbose
        self.report: ExerciseReport | None = None
        self._saved: Any = _MISSING

    def __enter__(self) -> exercise:
        with _lock:
            if self.op in _active:
                raise RuntimeError(f"exercise: {self.op.name} is already being exercised")
            _active.add(self.op)
        # Keep the exact attribute (or its absence) so exit restores the class as it was.
        self._saved = self.op.__dict__.get("backward", _MISSING)
        self.op.backward = staticmethod(self.backward)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None and self.report is None:
                self.check()
        finally:
            if self._saved is _MISSING:
                del self.op.backward
            else:
                self.op.backward = self._saved
            with _lock:
                _active.discard(self.op)
        if exc_type is None and self.report is not None:
            if not self.report.ok and self.raise_on_failure:
                raise ExerciseError(str(self.report))
            if self.verbose:
                print(self.report)

    def _draw(self, rng: np.random.Generator, trial: int) -> tuple[list[Any], dict[str, Any]]:
        if self.inputs is None:
            arrays, kwargs = draw(self.op, rng, trial)
        else:
            given = self.inputs(rng) if callable(self.inputs) else self.inputs
            arrays, kwargs = [np.array(a, copy=True) for a in given], {}
        return arrays, {**kwargs, **(self.kwargs or {})}

    def check(self) -> ExerciseReport:
        """Check the backward now (inside or outside the block); keep and return the report."""
        rng = np.random.default_rng(self.seed)
        report = ExerciseReport(self.op.name)
        trials = 1 if self.inputs is not None and not callable(self.inputs) else self.trials
        for trial in range(trials):
            arrays, kwargs = self._draw(rng, trial)
            report.shapes.append(_describe(arrays, kwargs))
            result = check_op(
                self.op, arrays, kwargs, backward=self.backward, seed=self.seed + trial,
            )  # fmt: skip
            report.checks.append(result)
        self.report = report
        return report
