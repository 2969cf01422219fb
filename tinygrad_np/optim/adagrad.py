"""Adagrad: per-weight learning rates from the running sum of squared gradients."""

from __future__ import annotations

from typing import Any

from tinygrad_np.backend import array_module
from tinygrad_np.optim.optimizer import Optimizer, ParamsLike


class Adagrad(Optimizer):
    """Adagrad, PyTorch's rule (the book's ``Optimizer_Adagrad`` with ``eps=1e-7``).

    With ``g = grad + weight_decay * w``, ``t`` this parameter's step count and
    ``lr_t = lr / (1 + decay * iterations) / (1 + (t - 1) * lr_decay)``::

        sum += g * g                     (sum starts at initial_accumulator_value)
        w   -= lr_t * g / (sqrt(sum) + eps)

    ``decay`` is the book's inverse-time decay, counted in optimizer steps; ``lr_decay`` is
    PyTorch's, counted in this parameter's updates. Both default to 0.

    >>> import tinygrad_np as tg
    >>> w = tg.Tensor([1.0, 1.0], requires_grad=True)
    >>> opt = tg.optim.Adagrad([w], lr=0.5)
    >>> w.grad = tg.Tensor([4.0, -0.1]); opt.step()
    >>> w.numpy()  # the first step moves every weight by about lr
    array([0.5, 1.5], dtype=float32)
    """

    def __init__(
        self,
        params: ParamsLike,
        lr: float = 0.01,
        eps: float = 1e-10,
        weight_decay: float = 0.0,
        decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        lr_decay: float = 0.0,
    ) -> None:
        defaults = dict(
            lr=lr,
            eps=eps,
            weight_decay=weight_decay,
            decay=decay,
            initial_accumulator_value=initial_accumulator_value,
            lr_decay=lr_decay,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        self._check(group, "lr_decay", group["lr_decay"] >= 0, "must be >= 0")
        self._check(
            group,
            "initial_accumulator_value",
            group["initial_accumulator_value"] >= 0,
            "must be >= 0",
        )

    def _update(self, w, g, state, group, lr) -> None:
        xp = array_module(w)
        g = self._grad_with_weight_decay(w, g, group["weight_decay"])
        if "sum" not in state:
            state["step"] = 0
            state["sum"] = xp.full_like(w, group["initial_accumulator_value"])
        state["step"] += 1
        lr = lr / (1 + (state["step"] - 1) * group["lr_decay"])
        total, tmp = state["sum"], self._scratch(w, 1)
        xp.multiply(g, g, out=tmp)
        total += tmp
        xp.sqrt(total, out=tmp)
        tmp += group["eps"]
        xp.divide(g, tmp, out=tmp)  # in place: each element reads g and tmp before writing
        tmp *= lr
        w -= tmp
