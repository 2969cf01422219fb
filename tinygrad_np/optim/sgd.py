"""Stochastic gradient descent with momentum, in PyTorch's form or the NNFS book's."""

from __future__ import annotations

from typing import Any

from tinygrad_np.backend import array_module
from tinygrad_np.optim.optimizer import Optimizer, ParamsLike, required

_STYLES = ("pytorch", "nnfs")


class SGD(Optimizer):
    """Gradient descent, with optional momentum, Nesterov momentum and L2 weight decay.

    With ``g = grad + weight_decay * w`` and ``lr_t = lr / (1 + decay * iterations)``:

    - no momentum:  ``w -= lr_t * g``
    - ``momentum_style="pytorch"`` (default): ``b = momentum * b + (1 - dampening) * g``
      (``b = g`` on the first step), then ``w -= lr_t * b``, or with ``nesterov=True``
      ``w -= lr_t * (g + momentum * b)``.
    - ``momentum_style="nnfs"`` (the book's ``Optimizer_SGD``): ``v = momentum * v - lr_t * g``
      (``v = 0`` before the first step), then ``w += v``.

    The two momentum styles take the same steps while the learning rate is constant; with
    ``decay`` (or a scheduler) they differ, because the book's ``v`` keeps the old
    learning rates inside it.

    >>> import tinygrad_np as tg
    >>> w = tg.Tensor([1.0, -1.0], requires_grad=True)
    >>> opt = tg.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> w.grad = tg.Tensor([1.0, 2.0]); opt.step()
    >>> w.numpy()
    array([ 0.9, -1.2], dtype=float32)
    """

    def __init__(
        self,
        params: ParamsLike,
        lr: float = required,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        decay: float = 0.0,
        momentum_style: str = "pytorch",
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            nesterov=nesterov,
            weight_decay=weight_decay,
            decay=decay,
            momentum_style=momentum_style,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        self._check(group, "momentum", group["momentum"] >= 0, "must be >= 0")
        self._check(
            group, "momentum_style", group["momentum_style"] in _STYLES, f"one of {_STYLES}"
        )
        if group["nesterov"]:
            self._check(group, "nesterov", group["momentum"] > 0, "Nesterov needs momentum > 0")
            self._check(group, "nesterov", group["dampening"] == 0, "Nesterov needs dampening=0")
        if group["momentum_style"] == "nnfs":
            self._check(
                group, "nesterov", not group["nesterov"], "not available with momentum_style='nnfs'"
            )
            self._check(
                group, "dampening", group["dampening"] == 0, "must be 0 with momentum_style='nnfs'"
            )

    def _update(self, w, g, state, group, lr) -> None:
        xp = array_module(w)
        momentum = group["momentum"]
        tmp = self._scratch(w, 1)
        g = self._grad_with_weight_decay(w, g, group["weight_decay"])
        if momentum == 0:
            xp.multiply(g, lr, out=tmp)
            w -= tmp
        elif group["momentum_style"] == "nnfs":
            v = state.get("momentum_buffer")
            if v is None:
                v = state["momentum_buffer"] = xp.zeros_like(w)
            v *= momentum
            xp.multiply(g, lr, out=tmp)
            v -= tmp
            w += v
        else:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = xp.array(g, dtype=w.dtype, copy=True)
            else:
                b *= momentum
                if group["dampening"]:
                    xp.multiply(g, 1 - group["dampening"], out=tmp)
                    b += tmp
                else:
                    b += g
            if group["nesterov"]:
                xp.multiply(b, momentum, out=tmp)
                tmp += g
                tmp *= lr
            else:
                xp.multiply(b, lr, out=tmp)
            w -= tmp
