"""Learning-rate schedules: call ``scheduler.step()`` once after each ``optimizer.step()``.

Each schedule writes ``group["lr"]`` from a closed-form rule of ``last_epoch`` (the number of
``scheduler.step()`` calls), so the value never drifts through repeated multiplication, and a
schedule restored from ``state_dict()`` continues exactly.

>>> import tinygrad_np as tg
>>> w = tg.Tensor([1.0], requires_grad=True)
>>> opt = tg.optim.SGD([w], lr=1.0)
>>> sched = tg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> lrs = []
>>> for _ in range(5):
...     opt.step(); sched.step(); lrs.append(opt.param_groups[0]["lr"])
>>> lrs
[1.0, 0.5, 0.5, 0.25, 0.25]
"""

from __future__ import annotations

import math
from typing import Any

from tinygrad_np.optim.optimizer import Optimizer, _plain


class LRScheduler:
    """Base class: subclasses give ``_lr_at(base_lr, epoch)``."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} needs an Optimizer, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.last_epoch = 0
        self._apply()

    def _lr_at(self, base_lr: float, epoch: int) -> float:
        raise NotImplementedError

    def _apply(self) -> None:
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = self._lr_at(base_lr, self.last_epoch)

    def step(self) -> None:
        """Advance one epoch (or one iteration: whatever unit the schedule is counted in)."""
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        """The learning rate of each parameter group, as last set by this schedule."""
        return [self._lr_at(base_lr, self.last_epoch) for base_lr in self.base_lrs]

    def state_dict(self) -> dict[str, Any]:
        """The schedule's settings and position: plain numbers and lists, no optimizer."""
        return {k: (list(v) if k == "base_lrs" else v) for k, v in vars(self).items()
                if k != "optimizer"}  # fmt: skip

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()``; the optimizer's lrs are set for the restored epoch."""
        for key, value in state_dict.items():
            if key not in vars(self) or key == "optimizer":
                raise ValueError(f"{type(self).__name__}.load_state_dict: unknown entry {key!r}")
            setattr(self, key, _plain(value))  # NumPy values read back from a file
        self.last_epoch = int(self.last_epoch)
        self.base_lrs = [float(lr) for lr in self.base_lrs]
        self._apply()


class StepLR(LRScheduler):
    """``lr = base_lr * gamma ** (epoch // step_size)``: drop by ``gamma`` every ``step_size``."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if step_size < 1:
            raise ValueError(f"StepLR: invalid step_size={step_size!r} (must be >= 1)")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def _lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """``lr = base_lr * gamma ** epoch``."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        if gamma <= 0:
            raise ValueError(f"ExponentialLR: invalid gamma={gamma!r} (must be > 0)")
        self.gamma = gamma
        super().__init__(optimizer)

    def _lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma**epoch


class InverseTimeDecay(LRScheduler):
    """The book's decay as a schedule: ``lr = base_lr / (1 + decay * epoch)``.

    Stepped after every ``optimizer.step()``, it gives the same learning rates as the
    optimizer's own ``decay`` argument (leave that at 0 when using this).
    """

    def __init__(self, optimizer: Optimizer, decay: float) -> None:
        if decay < 0:
            raise ValueError(f"InverseTimeDecay: invalid decay={decay!r} (must be >= 0)")
        self.decay = decay
        super().__init__(optimizer)

    def _lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr / (1.0 + self.decay * epoch)


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``.

    The rate falls from ``base_lr`` to ``eta_min`` over ``T_max`` steps (and rises again after,
    as in PyTorch, if stepping continues).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:  # noqa: N803
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: invalid T_max={T_max!r} (must be >= 1)")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def _lr_at(self, base_lr: float, epoch: int) -> float:
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (base_lr - self.eta_min) * cosine
