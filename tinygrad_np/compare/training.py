"""Train a hand-derived model and an autograd model side by side; find where they part.

A *step function* runs one training step (forward, loss, backward, update) and returns a
``Step``: the loss computed before the update, the parameters after it, and optionally the
accuracy. ``compare_training`` calls two step functions in lockstep and compares the losses
and every parameter after every step. ``spiral_models`` builds the book's 2-64-3 spiral
classifier twice, from the same initial weights: once from ``tinygrad_np.reference`` layers
and a book optimizer, once from Tensors and ``tg.optim``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from tinygrad_np.compare.report import ComparisonError, number, table


class Step(NamedTuple):
    """What a step function returns: loss before the update, parameters after it.

    The parameter arrays are read before the next step, so a step may return its live arrays.
    """

    loss: float
    params: Mapping[str, np.ndarray]
    accuracy: float | None = None


@dataclass
class Divergence:
    """The first place the two trainings differ by more than the tolerance."""

    step: int  # 0-based: the loss of this step, or the parameters after its update
    quantity: str  # "loss" or a parameter's name
    index: tuple[int, ...] | None
    hand: float
    autograd: float
    relative: float  # |hand - autograd| / scale (the loss, or the parameter's max |value|)

    def __str__(self) -> str:
        where = "loss" if self.quantity == "loss" else f"{self.quantity} after the update"
        at = "" if self.index is None else f" at element {self.index}"
        return (
            f"{where}{at}: hand-derived {self.hand:.17g}, autograd {self.autograd:.17g} "
            f"(relative difference {self.relative:.3g})"
        )


@dataclass
class TrainingReport:
    """Loss trajectories of both trainings and where they first part.

    ``loss_diff[i]`` is ``|hand - autograd| / |autograd|`` of step i's loss; ``param_diff[i]``
    the largest, over parameters, of ``max|hand - autograd| / max|autograd|`` after step i.
    """

    hand_losses: np.ndarray
    autograd_losses: np.ndarray
    loss_diff: np.ndarray
    param_diff: np.ndarray
    hand_accuracy: np.ndarray | None
    autograd_accuracy: np.ndarray | None
    first_divergence: Divergence | None
    rtol: float
    param_rtol: float
    names: list[str]

    @property
    def ok(self) -> bool:
        return self.first_divergence is None

    @property
    def steps(self) -> int:
        return len(self.hand_losses)

    @property
    def agreed_steps(self) -> int:
        """How many steps agreed within ``rtol`` before the first divergence."""
        return self.steps if self.first_divergence is None else self.first_divergence.step

    def raise_if_failed(self) -> None:
        """Raise ``ComparisonError`` with the report when the trainings parted."""
        if not self.ok:
            raise ComparisonError(str(self))

    def _tolerances(self) -> str:
        return f"rtol {self.rtol:g} (loss), {self.param_rtol:g} (parameters)"

    def checkpoints(self) -> list[int]:
        """Steps worth a row: 0, 1, 10, 100, ..., the divergence, and the last."""
        marks = {0, self.steps - 1}
        k = 1
        while k < self.steps:
            marks.add(k)
            k *= 10
        if self.first_divergence is not None:
            marks.add(self.first_divergence.step)
        return sorted(m for m in marks if 0 <= m < self.steps)

    def __str__(self) -> str:
        n = self.steps
        if self.ok:
            head = (
                f"agree: all {n} steps within {self._tolerances()}; largest relative "
                f"difference: loss {self.loss_diff.max():.3g}, parameters "
                f"{self.param_diff.max():.3g}"
            )
        else:
            d = self.first_divergence
            head = (
                f"PARTED at step {d.step} (steps before it agree within {self._tolerances()})"
                f"\n  {d}"
            )
        header = ["step", "hand-derived loss", "autograd loss", "loss rel diff", "params rel diff"]
        rows = [
            [
                str(i),
                f"{self.hand_losses[i]:.12g}",
                f"{self.autograd_losses[i]:.12g}",
                number(self.loss_diff[i]),
                number(self.param_diff[i]),
            ]
            for i in self.checkpoints()
        ]
        lines = [head, table(header, rows)]
        if self.hand_accuracy is not None and self.autograd_accuracy is not None:
            lines.append(
                f"final accuracy: hand-derived {self.hand_accuracy[-1]:.4f}, "
                f"autograd {self.autograd_accuracy[-1]:.4f}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<TrainingReport {'ok' if self.ok else 'parted'}: {self.steps} steps>"


def _as_step(result: Any, who: str) -> Step:
    if isinstance(result, Step):
        return result
    if isinstance(result, tuple) and len(result) in (2, 3):
        return Step(*result)
    raise TypeError(
        f"compare_training: the {who} step function must return Step(loss, params) or a "
        f"(loss, params) tuple, got {type(result).__name__}"
    )


def _relative(hand: np.ndarray, autograd: np.ndarray) -> tuple[float, int]:
    """max|h - a| / max|a| (normwise: biases start at 0) and where the largest gap is."""
    gap = np.abs(hand.astype(np.float64, copy=False) - autograd)
    scale = float(np.max(np.abs(autograd))) if autograd.size else 0.0
    worst = int(np.argmax(gap)) if gap.size else 0
    largest = float(gap.reshape(-1)[worst]) if gap.size else 0.0
    if largest == 0:
        return 0.0, worst
    return (largest / scale if scale > 0 else float("inf")), worst


def compare_training(
    hand_step: Callable[[], Any],
    autograd_step: Callable[[], Any],
    steps: int,
    rtol: float = 1e-9,
    param_rtol: float = 1e-6,
    stop_at_divergence: bool = False,
) -> TrainingReport:
    """Run two trainings step by step; report the first step and quantity where they part.

    Each step function runs one training step and returns ``Step(loss, params, accuracy)``
    (or ``(loss, params)``): the loss before the update and the parameters after it, as a
    name -> array mapping; parameters are matched in order and named by the hand-derived side.
    The trainings part when a loss differs by more than ``rtol`` (relative), or a parameter
    by more than ``param_rtol`` relative to its largest magnitude. Parameters get a looser
    default because those that start at zero (biases) stay small, so rounding differences
    between two correct implementations reach 1e-9 of them within a thousand steps; a
    derivation mistake moves a parameter by a whole update, far more than 1e-6. By default
    both keep running to the end so the whole loss trajectories can be compared;
    ``stop_at_divergence=True`` stops at the first difference.

    >>> from tinygrad_np.compare import compare_training, spiral_models
    >>> hand, autograd = spiral_models(hidden=8, samples=20)
    >>> report = compare_training(hand, autograd, steps=20)
    >>> report.ok, report.agreed_steps
    (True, 20)
    """
    if steps < 1:
        raise ValueError(f"compare_training: steps must be at least 1, got {steps}")
    hand_losses, auto_losses, loss_diff, param_diff = [], [], [], []
    hand_acc: list[float | None] = []
    auto_acc: list[float | None] = []
    first: Divergence | None = None
    names: list[str] = []
    for i in range(steps):
        h, a = _as_step(hand_step(), "hand-derived"), _as_step(autograd_step(), "autograd")
        if i == 0:
            names = list(h.params)
            if len(h.params) != len(a.params):
                raise ValueError(
                    f"compare_training: the hand-derived step returned {len(h.params)} "
                    f"parameters {names}, the autograd step {len(a.params)} {list(a.params)}"
                )
        hand_losses.append(float(h.loss))
        auto_losses.append(float(a.loss))
        hand_acc.append(h.accuracy)
        auto_acc.append(a.accuracy)
        loss_rel = _relative(np.float64(h.loss), np.float64(a.loss))[0]
        loss_diff.append(loss_rel)
        if first is None and not loss_rel <= rtol:
            first = Divergence(i, "loss", None, float(h.loss), float(a.loss), loss_rel)
        worst_param, worst, worst_score = 0.0, None, -1.0
        for name, hp, ap in zip(names, h.params.values(), a.params.values()):
            hp, ap = np.asarray(hp), np.asarray(ap)
            if hp.shape != ap.shape:
                raise ValueError(
                    f"compare_training: parameter {name} has shape {hp.shape} on the "
                    f"hand-derived side and {ap.shape} on the autograd side"
                )
            rel, k = _relative(hp, ap)
            score = np.inf if np.isnan(rel) else rel  # a NaN parameter ranks as the worst
            if score > worst_score:
                worst_param, worst, worst_score = rel, (name, hp, ap, k), score
        if first is None and worst is not None and not worst_param <= param_rtol:
            name, hp, ap, k = worst  # the parameter that differs most at this step
            index = tuple(int(j) for j in np.unravel_index(k, hp.shape))
            hand_value, auto_value = float(hp.reshape(-1)[k]), float(ap.reshape(-1)[k])
            first = Divergence(i, name, index, hand_value, auto_value, worst_param)
        param_diff.append(worst_param)
        if first is not None and stop_at_divergence:
            break
    accuracy = all(x is not None for x in hand_acc + auto_acc)
    return TrainingReport(
        np.array(hand_losses),
        np.array(auto_losses),
        np.array(loss_diff),
        np.array(param_diff),
        np.array(hand_acc, dtype=float) if accuracy else None,
        np.array(auto_acc, dtype=float) if accuracy else None,
        first,
        rtol,
        param_rtol,
        names,
    )
