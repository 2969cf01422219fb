"""Adam and AdamW: momentum plus per-weight scaling, with bias-corrected running averages."""

from __future__ import annotations

from typing import Any

from tinygrad_np.backend import array_module
from tinygrad_np.optim.optimizer import Optimizer, ParamsLike, decay_squares_, lerp_


class Adam(Optimizer):
    """Adam, PyTorch's formula, which is also the book's ``Optimizer_Adam`` (use ``eps=1e-7``).

    With ``g = grad + weight_decay * w``, ``t`` this parameter's step count and
    ``lr_t = lr / (1 + decay * iterations)``::

        m = beta1 * m + (1 - beta1) * g           m_hat = m / (1 - beta1 ** t)
        v = beta2 * v + (1 - beta2) * g * g       v_hat = v / (1 - beta2 ** t)
        w -= lr_t * m_hat / (sqrt(v_hat) + eps)   (eps outside the square root)

    ``amsgrad=True`` uses the running maximum of ``v`` in place of ``v``.

    >>> import tinygrad_np as tg
    >>> w = tg.Tensor([0.0, 0.0], requires_grad=True)
    >>> opt = tg.optim.Adam([w], lr=0.1)
    >>> w.grad = tg.Tensor([5.0, -0.5]); opt.step()
    >>> w.numpy().round(4)  # the first step is lr * sign(g)
    array([-0.1,  0.1], dtype=float32)
    """

    _decoupled = False  # AdamW applies weight decay to w directly instead of to g

    def __init__(
        self,
        params: ParamsLike,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        decay: float = 0.0,
    ) -> None:
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
            decay=decay,
        )  # fmt: skip
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        betas = group["betas"]
        self._check(group, "betas", len(betas) == 2, "must be a pair (beta1, beta2)")
        self._check(group, "betas", all(0 <= b < 1 for b in betas), "each must be in [0, 1)")

    def _update(self, w, g, state, group, lr) -> None:
        xp = array_module(w)
        weight_decay = group["weight_decay"]
        if self._decoupled:
            w *= 1 - lr * weight_decay
        else:
            g = self._grad_with_weight_decay(w, g, weight_decay)
        beta1, beta2 = group["betas"]
        if "exp_avg" not in state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(w)
            state["exp_avg_sq"] = xp.zeros_like(w)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(w)
        state["step"] += 1
        t = state["step"]
        m, v, tmp = state["exp_avg"], state["exp_avg_sq"], self._scratch(w, 1)
        lerp_(m, g, 1 - beta1, tmp)
        decay_squares_(v, g, beta2, tmp)
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"]
            xp.maximum(v, state["exp_avg_sq"], out=v)
        # Bias corrections fold into two scalars, so no corrected copy of m or v is made.
        step_size = lr / (1 - beta1**t)
        xp.sqrt(v, out=tmp)
        tmp /= (1 - beta2**t) ** 0.5
        tmp += group["eps"]
        xp.divide(m, tmp, out=tmp)
        tmp *= step_size
        w -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay: ``w *= 1 - lr_t * weight_decay`` before the Adam step.

    >>> import tinygrad_np as tg
    >>> w = tg.Tensor([1.0], requires_grad=True)
    >>> opt = tg.optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> w.grad = tg.Tensor([0.0]); opt.step()
    >>> w.numpy()  # a zero gradient still shrinks w by lr * weight_decay
    array([0.95], dtype=float32)
    """

    _decoupled = True

    def __init__(
        self,
        params: ParamsLike,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        amsgrad: bool = False,
        decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, decay)
