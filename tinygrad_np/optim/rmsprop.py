"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

from typing import Any

from tinygrad_np.backend import array_module
from tinygrad_np.optim.optimizer import Optimizer, ParamsLike, decay_squares_, lerp_


class RMSprop(Optimizer):
    """RMSprop, PyTorch's rule; the book's ``Optimizer_RMSprop`` is ``alpha=rho``, ``eps=1e-7``.

    With ``g = grad + weight_decay * w`` and ``lr_t = lr / (1 + decay * iterations)``::

        v = alpha * v + (1 - alpha) * g * g
        d = sqrt(v) + eps                      (centered: sqrt(v - m * m) + eps, where
                                                m = alpha * m + (1 - alpha) * g)
        w -= lr_t * g / d                      (momentum: b = momentum * b + g / d; w -= lr_t * b)

    >>> import tinygrad_np as tg
    >>> w = tg.Tensor([0.0], requires_grad=True)
    >>> opt = tg.optim.RMSprop([w], lr=0.01, alpha=0.99)
    >>> w.grad = tg.Tensor([3.0]); opt.step()
    >>> round(float(w.item()), 4)  # -lr / sqrt(1 - alpha)
    -0.1
    """

    def __init__(
        self,
        params: ParamsLike,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        decay: float = 0.0,
    ) -> None:
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            decay=decay,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        self._check(group, "alpha", 0 <= group["alpha"] <= 1, "must be in [0, 1]")
        self._check(group, "momentum", group["momentum"] >= 0, "must be >= 0")

    def _update(self, w, g, state, group, lr) -> None:
        xp = array_module(w)
        g = self._grad_with_weight_decay(w, g, group["weight_decay"])
        alpha, momentum = group["alpha"], group["momentum"]
        if "square_avg" not in state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(w)
            if momentum > 0:
                state["momentum_buffer"] = xp.zeros_like(w)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(w)
        state["step"] += 1
        square_avg, tmp = state["square_avg"], self._scratch(w, 1)
        decay_squares_(square_avg, g, alpha, tmp)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            lerp_(grad_avg, g, 1 - alpha, tmp)
            xp.multiply(grad_avg, grad_avg, out=tmp)
            xp.subtract(square_avg, tmp, out=tmp)
            xp.sqrt(tmp, out=tmp)
        else:
            xp.sqrt(square_avg, out=tmp)
        tmp += group["eps"]
        xp.divide(g, tmp, out=tmp)
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += tmp
            xp.multiply(buf, lr, out=tmp)
        else:
            tmp *= lr
        w -= tmp
